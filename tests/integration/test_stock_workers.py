"""Several workers answer alike, and a worker that lost its disk comes back with the same state."""

import asyncio
import datetime as dt
import time
from typing import Any

import aiohttp
import pytest

from app.settings import Settings
from protocols.inventory import StockReceived
from tests.conftest import SpawnWorker
from tests.support.kafka import produce, unique
from tests.support.polling import eventually

pytestmark = pytest.mark.brokers

NOW = dt.datetime(2026, 11, 27, 9, 0, tzinfo=dt.UTC)
WAREHOUSES = ("DC-EAST", "DC-WEST", "DC-SOUTH")


def catalogue(count: int) -> dict[str, dict[str, int]]:
    """An oracle: per SKU, per warehouse, the quantity received (SKUs spread over partitions)."""
    run = unique("CAT")
    return {
        f"{run}-{i}": {w: 1 + (i * 7 + n) % 40 for n, w in enumerate(WAREHOUSES[: 1 + i % 3])}
        for i in range(count)
    }


async def feed(settings: Settings, oracle: dict[str, dict[str, int]]) -> None:
    """Receive every oracle quantity through the stock inbox."""
    await produce(
        settings.kafka_bootstrap,
        settings.topics.stock_inbox.name,
        [
            (
                sku.encode(),
                StockReceived(event_id=unique("r"), sku=sku, warehouse=w, occurred_at=NOW, qty=qty),
            )
            for sku, per_warehouse in oracle.items()
            for w, qty in per_warehouse.items()
        ],
    )


async def answers(url: str, skus: list[str]) -> dict[str, Any]:
    """Every SKU's ATP per warehouse as one worker answers it (status code when not 200)."""
    async with aiohttp.ClientSession() as http:

        async def one(sku: str) -> Any:
            async with http.get(f"{url}/v1/atp/{sku}") as response:
                if response.status != 200:
                    return response.status
                body = await response.json()
                return {w["warehouse"]: w["atp"] for w in body["warehouses"]}

        return dict(zip(skus, await asyncio.gather(*(one(s) for s in skus)), strict=True))


async def test_two_workers_answer_every_sku_alike(
    spawn_worker: SpawnWorker, deployment: Settings
) -> None:
    # Given two workers of one app sharing the partitions
    first, second = spawn_worker("w1"), spawn_worker("w2")
    await asyncio.gather(first.wait_ready(), second.wait_ready())
    # When stock for 60 SKUs (spread over every partition) arrives
    oracle = catalogue(60)
    await feed(deployment, oracle)
    # Then each worker answers every SKU exactly as the oracle says
    skus = list(oracle)
    for worker in (first, second):
        await eventually(lambda w=worker: answers(w.url, skus), lambda got: got == oracle)


async def test_a_worker_that_lost_its_state_answers_the_same_after_restart(
    spawn_worker: SpawnWorker, deployment: Settings
) -> None:
    # Given a worker that projected 300 SKUs
    worker = spawn_worker("w1")
    await worker.wait_ready()
    oracle = catalogue(300)
    await feed(deployment, oracle)
    skus = list(oracle)
    before = await eventually(lambda: answers(worker.url, skus), lambda got: got == oracle)
    # When it is killed, its RocksDB directory deleted, and it is started again
    worker.kill()
    worker.wipe_state()
    worker.start()
    # Then while it restores, every answer is either 503 with Retry-After or the right one
    seen_restoring = await watch_restore(worker.url, skus[:5], before)
    # And once ready, every SKU answers as before
    await worker.wait_ready()
    assert await answers(worker.url, skus) == before
    # And /readyz said it was restoring, table by table, before it was ready
    assert seen_restoring is not None
    assert seen_restoring["status"] == "restoring"
    assert {"name", "ready", "remaining", "partitions"} <= set(seen_restoring["tables"][0])


async def watch_restore(url: str, skus: list[str], before: dict[str, Any]) -> Any:
    """Poll ATP and /readyz until ready; fail on any wrong answer; return a restoring report."""
    restoring = None
    deadline = time.monotonic() + 120
    async with aiohttp.ClientSession() as http:
        while time.monotonic() < deadline:
            try:
                async with http.get(f"{url}/readyz") as response:
                    report = await response.json()
                    if response.status == 503:
                        assert "Retry-After" in response.headers
                        restoring = report
                for sku in skus:
                    async with http.get(f"{url}/v1/atp/{sku}") as response:
                        if response.status == 503:
                            assert response.headers["Retry-After"]
                        else:
                            body = await response.json()
                            got = {w["warehouse"]: w["atp"] for w in body["warehouses"]}
                            assert got == before[sku], f"wrong answer while restoring: {sku}"
                if report["status"] == "ready":
                    return restoring
            except aiohttp.ClientConnectionError:
                pass  # not listening yet
            await asyncio.sleep(0.05)
    raise AssertionError("worker did not become ready")
