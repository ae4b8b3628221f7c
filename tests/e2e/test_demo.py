"""`distgate demo` end to end: a small day on the real brokers, checked against the simulators."""

import re
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
    # And it played both fates that close orders early, each checked line by line against
    # the simulators (statuses, shipped and cancelled units, the cancel event and its reason)
    fates = re.search(
        r"  fates       (\d+) orders? ERP never decided \(decision timeout 10 s\), "
        r"(\d+) unshipped remainders? cancelled after a partial shipment",
        out,
    )
    assert fates is not None, out
    undecided, remainders = int(fates[1]), int(fates[2])
    assert undecided >= 1
    assert remainders >= 1
    closed = f"{undecided + remainders} with their lines and cancel event"
    assert f"  checked     30 order statuses ({closed}), " in out
    # And the worker's state is gone once it stopped; its log stays
    (run,) = (tmp_path / "demo").iterdir()
    assert [path.name for path in run.iterdir()] == ["worker.log"]
