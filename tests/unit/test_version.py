"""The release is visible: `distgate --version` and `distgate_build_info` on /metrics."""

from importlib.metadata import version
from pathlib import Path
from typing import Any

import pytest

from app.cli import main
from tests.support.api import api


def test_the_cli_says_its_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--version"])
    assert exited.value.code == 0
    assert capsys.readouterr().out.strip() == f"distgate {version('distgate')}"


async def test_metrics_carry_the_build_and_the_process(aiohttp_client: Any, tmp_path: Path) -> None:
    client = await aiohttp_client(api(tmp_path))
    text = await (await client.get("/metrics")).text()
    assert f'distgate_build_info{{version="{version("distgate")}"}} 1.0' in text
    assert "process_resident_memory_bytes" in text
    assert "python_info{" in text
