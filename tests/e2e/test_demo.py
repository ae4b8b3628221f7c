"""`distgate demo` end to end: a small day on the real brokers, checked against the simulators."""

import uuid
from pathlib import Path

import pytest

from app.cli import main
from app.demo.summary import PASSED
from app.settings import Settings

pytestmark = pytest.mark.brokers


def test_a_small_demo_day_matches_the_simulators_truth(
    brokers: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given warehouses no other run binds (a WMS simulator answers every release it is sent)
    tag = uuid.uuid4().hex[:6].upper()
    warehouses = ",".join(f"{name}{tag}" for name in ("E", "W", "S"))
    # When the demo plays a small day through the command line
    code = main(
        [
            "demo",
            "--orders", "30", "--skus", "12", "--duration", "8", "--looks", "1",
            "--warehouses", warehouses, "--data-dir", str(tmp_path), "--plain",
        ]
    )  # fmt: skip
    out = capsys.readouterr().out
    # Then it exits 0 and its summary says every order and stock figure matched
    assert code == 0, out
    assert f"  result      {PASSED}" in out
    assert "  orders      30 placed: " in out
    assert "  checked     30 order statuses" in out
    # And the worker's state is gone once it stopped; its log stays
    (run,) = (tmp_path / "demo").iterdir()
    assert [path.name for path in run.iterdir()] == ["worker.log"]
