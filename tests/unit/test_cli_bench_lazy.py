"""`distgate` loads the bench harness only when `distgate bench` runs."""

import subprocess
import sys

import pytest

from app.cli import main


def test_the_cli_and_the_worker_import_nothing_from_bench() -> None:
    # When the CLI, the supervisor and an agents process's wiring are imported
    code = (
        "import sys, app.cli, app.supervisor, app.worker, app.api_process, app.bridge_process; "
        "print(sorted(m for m in sys.modules if m == 'bench' or m.startswith('bench.')))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    # Then no bench module came with them
    assert loaded.strip() == "[]"


def test_bench_flags_are_parsed_by_the_bench(capsys: pytest.CaptureFixture[str]) -> None:
    # When a bench flag is misspelt
    with pytest.raises(SystemExit) as exited:
        main(["bench", "--durration", "5"])
    # Then the bench's own parser refuses it, naming the command
    assert exited.value.code == 2
    assert "distgate bench: error: unrecognized arguments: --durration" in capsys.readouterr().err


def test_other_commands_still_refuse_unknown_flags(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["dev", "status", "--verbose"])
    assert exited.value.code == 2
    assert "unrecognized arguments: --verbose" in capsys.readouterr().err
