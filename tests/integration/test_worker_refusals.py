"""`distgate worker` refuses a setup it cannot run with: one clear line and exit code 2."""

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from app.settings import Settings

pytestmark = pytest.mark.brokers


def start_worker(
    deployment: Settings, data_dir: Path, **env: str
) -> subprocess.CompletedProcess[str]:
    """Run `distgate worker` on the deployment until it exits (it should, at once)."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("DISTGATE_")}
    base |= {
        "DISTGATE_KAFKA_URL": deployment.kafka_url,
        "DISTGATE_AMQP_URL": deployment.amqp_url,
        "DISTGATE_APP_ID": deployment.app_id,
        "DISTGATE_DATA_DIR": str(data_dir),
    }
    command = [sys.executable, "-m", "app", "worker"]
    return subprocess.run(command, env=base | env, capture_output=True, text=True, timeout=120)


def the_one_line(stderr: str) -> str:
    """What the worker said: exactly one line, no traceback."""
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert "Traceback" not in stderr
    return lines[0]


def test_a_port_another_program_listens_on_stops_the_worker_at_once(
    deployment: Settings, tmp_path: Path
) -> None:
    # Given something listening on the worker's HTTP port
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        # When the worker starts there
        result = start_worker(deployment, tmp_path, DISTGATE_HTTP_PORT=str(port))
    # Then it refuses with one line naming the port, and exit code 2
    assert result.returncode == 2
    line = the_one_line(result.stderr)
    assert line.startswith(f"distgate: error: cannot listen on 127.0.0.1:{port}: "), line
    assert "DISTGATE_HTTP_PORT" in line


async def test_an_inbox_with_another_partition_count_stops_the_worker_at_once(
    deployment: Settings, tmp_path: Path
) -> None:
    # Given the deployment's stock inbox made with 3 partitions
    inbox = deployment.topics.stock_inbox.name
    admin = AIOKafkaAdminClient(bootstrap_servers=deployment.kafka_bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(inbox, 3, 1)])
    finally:
        await admin.close()
    # When a worker configured for 8 starts
    result = start_worker(deployment, tmp_path, DISTGATE_PARTITIONS="8")
    # Then it refuses with one line naming the topic and both counts, and exit code 2
    assert result.returncode == 2
    line = the_one_line(result.stderr)
    assert line == (
        f"distgate: error: Kafka topic {inbox!r} has 3 partitions but distgate runs with 8 "
        "(DISTGATE_PARTITIONS); recreate the topic or change it"
    )
