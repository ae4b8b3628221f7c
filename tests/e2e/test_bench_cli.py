"""`distgate bench` end to end, short: both reports written, every path measured, oracles passed."""

import json
from pathlib import Path
from xml.etree import ElementTree

import pytest

from app.cli import main
from app.settings import Settings

pytestmark = pytest.mark.brokers

SHORT = [
    "--duration", "6", "--skus", "300", "--order-rate", "4", "--atp-rate", "60",
    "--atp-check-rate", "8", "--wms-rate", "10", "--probe-every", "5", "--burst-seconds", "2",
    "--capacity-seconds", "1", "--settle-timeout", "60",
]  # fmt: skip


def test_a_short_bench_run_reports_every_path_and_passes_its_oracle(
    brokers: Settings, tmp_path: Path
) -> None:
    # When a short bench runs on the local stack
    out = tmp_path / "report"
    exit_code = main(["bench", *SHORT, "--out", str(out)])
    # Then it passed its own oracle, and report.json says so
    report = json.loads((out / "report.json").read_text())
    failed = [check for check in report["checks"] if not check["ok"]]
    assert exit_code == 0, failed
    assert report["correct"] is True
    assert len(report["checks"]) == 4
    # And every path was measured, with its ratio to a raw baseline where one exists
    paths = report["paths"]
    for name in ("atp_get", "atp_check", "order_reserved", "amqp_to_atp"):
        assert paths[name]["count"] > 0, name
        assert paths[name]["latency_ms"]["p99"] >= paths[name]["latency_ms"]["p50"] > 0, name
    for name in ("atp_get", "atp_check", "amqp_to_atp", "projection"):
        assert paths[name]["ratio"] > 0, name
    assert report["workers"][0]["rss_mib_max"] > 0
    # And backorders happened on the scarce SKUs, the receipts filled some of them oldest
    # first, and none was left waiting beside free stock
    backorders = report["backorders"]
    assert backorders["load"]["orders_accepted"] > 0
    assert backorders["lines_backordered"] > 0
    assert backorders["lines_filled"] > 0
    assert backorders["units_filled"] > 0
    zeros = ("stuck", "out_of_order", "equation_broken", "unplaced")
    assert {name: backorders[name] for name in zeros} == dict.fromkeys(zeros, 0), backorders
    assert backorders["correct"] is True
    assert len(report["timeline"]["t"]) == 6
    # And the HTML report and its plots are there, the plots well-formed SVG
    assert "correct" in (out / "report.html").read_text()
    for plot in ("throughput", "latency", "latency_distribution"):
        ElementTree.parse(out / f"{plot}.svg")
