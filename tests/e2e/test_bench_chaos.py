"""`distgate bench --chaos`, short: every fault kind once under load, and nothing lost.

Kafka and RabbitMQ are crashed only on a stack of their own (not the default ports) or
in CI: on a shared development machine the default brokers serve other people's runs.
"""

import json
import os
from pathlib import Path

import pytest

from app.cli import main
from app.dev import stack
from app.settings import Settings
from bench.chaos.kinds import KINDS

pytestmark = pytest.mark.brokers

SHORT = [
    "--skus", "300", "--order-rate", "4", "--atp-rate", "40", "--atp-check-rate", "6",
    "--wms-rate", "8", "--probe-every", "5", "--burst-seconds", "2", "--capacity-seconds", "1",
    "--order-capacity-seconds", "2", "--settle-timeout", "90", "--chaos-every", "15",
    "--wms-outage-s", "5",
]  # fmt: skip
BROKER_KINDS = {"restart-kafka", "restart-rabbitmq"}


def _kinds(settings: Settings) -> list[str]:
    """Every kind; the broker crashes only where no one else's work runs on those brokers."""
    ports = stack.ports_for(settings.kafka_bootstrap, settings.amqp_url)
    if ports != stack.DEFAULT_PORTS or os.environ.get("CI"):
        return list(KINDS)
    return [kind for kind in KINDS if kind not in BROKER_KINDS]


@pytest.mark.timeout(1200)
def test_every_fault_under_load_recovers_and_loses_nothing(
    brokers: Settings, tmp_path: Path
) -> None:
    # When a short peak run takes every kind of fault, one after the other
    kinds = _kinds(brokers)
    out = tmp_path / "report"
    exit_code = main(["bench", "--chaos", ",".join(kinds), *SHORT, "--out", str(out)])
    # Then every fault was injected and the gateway recovered from each
    report = json.loads((out / "report.json").read_text())
    chaos = report["chaos"]
    assert [fault["kind"] for fault in chaos["faults"]] == kinds
    for fault in chaos["faults"]:
        assert fault["recovered_s"] is not None, fault
        assert "error" not in fault, fault
    # And nothing was oversold, every 5xx was a 503 to retry, all poison dead-lettered
    assert chaos["oversold"] == 0, chaos
    errors = chaos["http_errors"]
    assert errors["5xx"] == errors["503"] == errors["503_retry_after"], errors
    assert chaos["poison"]["dead_lettered"] == chaos["poison"]["sent"] > 0
    # And the latency plot marks each fault that began while the load ran (recoveries
    # slower than the schedule's slots push the last ones past it; the report says so)
    latency = (out / "latency.svg").read_text()
    assert chaos["faults"][0]["under_load"] is True
    for fault in chaos["faults"]:
        if fault["under_load"]:
            assert fault["kind"] in latency, fault
    # And nothing was lost or applied twice, and the oracle agreed: the run is correct
    failed = [check for check in report["checks"] if not check["ok"]]
    assert (chaos["lost"], chaos["duplicated"]) == (0, 0), chaos
    assert exit_code == 0, failed
    assert report["correct"] is True
