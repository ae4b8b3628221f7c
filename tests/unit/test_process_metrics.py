"""What /metrics tells about the process: its release, its resources, its readiness."""

from importlib.metadata import version
from pathlib import Path
from typing import Any

import pytest

from app.api.keys import READINESS
from app.cli import main
from app.readiness import Progress
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


async def test_readiness_on_metrics_is_current_without_anyone_asking_readyz(
    aiohttp_client: Any, tmp_path: Path
) -> None:
    # Given an API whose one table is restoring, then ready
    state = {"ready": False}
    app = api(tmp_path)
    readiness = app[READINESS]
    readiness.add_source(lambda: [Progress("stock", ready=state["ready"])])
    readiness.mark_started()
    client = await aiohttp_client(app)
    # Then /metrics alone follows it
    assert "distgate_ready 0.0" in await (await client.get("/metrics")).text()
    state["ready"] = True
    assert "distgate_ready 1.0" in await (await client.get("/metrics")).text()
