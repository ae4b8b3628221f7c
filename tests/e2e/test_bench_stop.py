"""`distgate bench` told to stop (SIGTERM, as a CI timeout sends it) leaves no worker behind."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from app.dev.process import children, command_line, is_alive
from app.settings import Settings

pytestmark = pytest.mark.brokers

LONG = ["--duration", "600", "--skus", "300", "--settle-timeout", "30"]


def workers_of(bench: int) -> list[int]:
    """The bench's worker supervisors and all their processes."""
    found = [pid for pid in children(bench) if "app worker" in command_line(pid)]
    return found + [child for pid in found for child in children(pid)]


@pytest.mark.timeout(300)
def test_a_bench_sent_sigterm_stops_every_worker_it_started(
    brokers: Settings, tmp_path: Path
) -> None:
    # Given a bench run whose workers are up
    bench = subprocess.Popen(
        [sys.executable, "-m", "app", "bench", *LONG, "--out", str(tmp_path / "report")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=os.environ | {"DISTGATE_KAFKA_URL": brokers.kafka_url},
    )
    deadline = time.monotonic() + 180
    while len(workers := workers_of(bench.pid)) < 2 and time.monotonic() < deadline:
        time.sleep(0.5)
    assert workers, "the bench started no worker"
    # When it is sent SIGTERM
    bench.send_signal(signal.SIGTERM)
    # Then it ends as an interrupted run, having stopped every worker process it started
    assert bench.wait(timeout=120) == 130
    assert [pid for pid in workers if is_alive(pid)] == []
