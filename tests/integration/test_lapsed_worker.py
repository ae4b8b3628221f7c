"""A worker frozen past its session timeout with a batch in hand, then woken: nothing lost.

While it is frozen its partitions go to another worker, which applies the same inputs and
more. When it wakes, the batch it held still reaches the changelog, after the other
worker's records. Assigned its partitions again, it must restore what the other worker
wrote, not start after its own late write (`agents.runtime.rows`).
"""

import asyncio
import os
import signal
from pathlib import Path

import aiohttp
import pytest

from app.settings import Settings
from tests.conftest import SpawnWorker
from tests.integration.test_stock_workers import answers, catalogue, feed
from tests.support.polling import eventually

pytestmark = pytest.mark.brokers


async def stopped(pid: int) -> bool:
    """Whether the process is stopped by a signal (state T in /proc)."""
    stat = await asyncio.to_thread(Path(f"/proc/{pid}/stat").read_text)
    return stat.rsplit(")", 1)[1].split()[0] == "T"


async def lag(url: str) -> float | None:
    """Records behind on every input, summed from /metrics (None before any is reported)."""
    async with aiohttp.ClientSession() as http, http.get(f"{url}/metrics") as response:
        text = await response.text()
    lines = [line for line in text.splitlines() if line.startswith("distgate_consumer_lag{")]
    return sum(float(line.rpartition(" ")[2]) for line in lines) if lines else None


def times(oracle: dict[str, dict[str, int]], rounds: int) -> dict[str, dict[str, int]]:
    """What `rounds` receipts of every oracle quantity add up to."""
    return {sku: {w: qty * rounds for w, qty in per.items()} for sku, per in oracle.items()}


@pytest.mark.timeout(300)
async def test_a_worker_woken_after_its_partitions_moved_restores_its_successors_writes(
    spawn_worker: SpawnWorker, deployment: Settings
) -> None:
    # Given a deployment that already read ERP's supply history (shared, kept: replayed to
    # every new deployment, it would otherwise be the first batch the worker freezes on)
    first = spawn_worker("w0")
    await first.wait_ready()
    await eventually(lambda: lag(first.url), lambda behind: behind == 0.0, within=120)
    assert first.terminate() == 0
    # And a worker that freezes with its first stock batch applied but not yet sent
    lapsing = spawn_worker("w1", DISTGATE_FAILPOINTS="batch.before_send=stop@1")
    await lapsing.wait_ready()
    oracle = catalogue(60)
    skus = list(oracle)
    await feed(deployment, oracle)
    agents = lapsing.children()["agents-0"]
    await eventually(lambda: stopped(agents), bool)
    # And a second worker that takes every partition once the first one's session expired,
    # then applies those receipts and a second round of them
    successor = spawn_worker("w2")
    await successor.wait_ready()
    await feed(deployment, oracle)
    await eventually(lambda: answers(successor.url, skus), lambda got: got == times(oracle, 2))
    # When the frozen worker wakes (its held batch reaches the changelog late), rejoins,
    # and is left alone with every partition
    os.kill(agents, signal.SIGCONT)
    assert successor.terminate() == 0
    await lapsing.wait_ready()
    # And a third round of receipts arrives
    await feed(deployment, oracle)
    # Then it applied them to what the second worker wrote: three rounds, nothing lost
    await eventually(
        lambda: answers(lapsing.url, skus), lambda got: got == times(oracle, 3), within=120
    )
