"""`distgate dev status` as a script or a probe uses it: its exit code and `--json`."""

import json
import os
import subprocess
import sys
from typing import Any

import pytest

from app.dev.workers import free_port
from app.settings import Settings

pytestmark = pytest.mark.brokers


def dev_status(brokers: Settings, **env: str) -> tuple[int, Any]:
    """Run `distgate dev status --json` against the stack; its exit code and document."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("DISTGATE_")}
    base |= {
        "DISTGATE_KAFKA_URL": brokers.kafka_url,
        "DISTGATE_AMQP_URL": brokers.amqp_url,
        "DISTGATE_DATA_DIR": str(brokers.data_dir),
    }
    command = [sys.executable, "-m", "app", "dev", "status", "--json"]
    result = subprocess.run(command, env=base | env, capture_output=True, text=True, timeout=60)
    return result.returncode, json.loads(result.stdout)


def test_status_is_zero_with_both_services_up_and_non_zero_with_one_down(
    brokers: Settings,
) -> None:
    # Given the stack running
    # When its status is asked
    code, document = dev_status(brokers)
    # Then it exits 0 and says so, service by service
    assert code == 0
    assert document["up"] is True
    assert [(s["name"], s["running"]) for s in document["services"]] == [
        ("kafka", True),
        ("rabbitmq", True),
    ]
    # When Kafka is looked for where nothing listens
    nobody = free_port()
    code, document = dev_status(brokers, DISTGATE_KAFKA_URL=f"kafka://127.0.0.1:{nobody}")
    # Then it exits non-zero, naming what is down
    assert code == 1
    assert document["up"] is False
    services = {s["name"]: s for s in document["services"]}
    assert (services["kafka"]["running"], services["kafka"]["address"]) == (
        False,
        f"127.0.0.1:{nobody}",
    )
    assert services["rabbitmq"]["running"] is True
