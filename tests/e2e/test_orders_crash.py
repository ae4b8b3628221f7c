"""kill -9 a worker, or one of its processes, mid-stream: every order and stock figure adds up.

The shop submits over HTTP as a real client would: a request that fails (connection lost,
503 while a process restarts) is sent again with the same order id until it is 202'd.
"""

import asyncio
import random
from collections import Counter, defaultdict
from typing import Any

import aiohttp
import pytest

from app.dev.workers import WorkerProcess
from app.settings import Settings
from tests.conftest import SpawnWorker
from tests.support.kafka import unique
from tests.support.polling import eventually
from tests.support.shop import call, receive

pytestmark = pytest.mark.brokers

SKUS, STOCK_EACH, ORDERS, CLIENTS = 12, 6, 160, 4
RETRY_FOR = 120.0  # seconds a client keeps re-sending one order


def orders_for(skus: list[str], seed: int) -> list[dict[str, Any]]:
    """A seeded stream of 1-3 line order bodies over a few SKUs: far more demand than stock."""
    rng = random.Random(seed)
    orders = []
    for n in range(ORDERS):
        chosen = rng.sample(skus, rng.randint(1, 3))
        lines = [
            {"line_no": i + 1, "sku": sku, "qty": rng.randint(1, 2)} for i, sku in enumerate(chosen)
        ]
        orders.append(
            {"order_id": unique(f"crash{n}"), "customer_id": "C-1", "channel": "web",
             "lines": lines, "backorder": "reject"}
        )  # fmt: skip
    return orders


async def submit_until_accepted(http: aiohttp.ClientSession, url: str, order: Any) -> None:
    """POST one order, again and again while the gateway is down or restarting, until 202."""
    deadline = asyncio.get_running_loop().time() + RETRY_FOR
    while True:
        try:
            async with http.post(f"{url}/v1/orders", json=order) as response:
                if response.status == 202:
                    return
                assert response.status in (502, 503, 504), await response.text()
        except aiohttp.ClientError:
            pass
        assert asyncio.get_running_loop().time() < deadline, f"{order['order_id']} never 202'd"
        await asyncio.sleep(0.2)


async def submit_all(url: str, orders: list[dict[str, Any]]) -> None:
    """A few clients submit the orders in order, each until 202."""
    queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    for order in orders:
        queue.put_nowait(order)
    timeout = aiohttp.ClientTimeout(total=30)
    async with aiohttp.ClientSession(timeout=timeout) as http:

        async def client() -> None:
            while not queue.empty():
                await submit_until_accepted(http, url, queue.get_nowait())

        await asyncio.gather(*(client() for _ in range(CLIENTS)))


async def crash(worker: WorkerProcess, victim: str) -> None:
    """kill -9 the whole worker (then start it again) or one of its processes (it restarts)."""
    if victim == "worker":
        worker.kill()
        worker.start()
        return
    killed = worker.kill_child(victim)
    await eventually(
        lambda: asyncio.sleep(0, worker.children().get(victim)),
        lambda pid: pid not in (None, killed),
    )


@pytest.mark.parametrize("victim", ["worker", "agents-0", "api"])
async def test_orders_survive_a_kill_mid_stream(
    victim: str, spawn_worker: SpawnWorker, brokers: Settings
) -> None:
    # Given a worker and 12 SKUs with 6 units each
    worker = spawn_worker()
    await worker.wait_ready()
    skus = [unique(f"K{i}") for i in range(SKUS)]
    for sku in skus:
        await receive(worker, sku, "DC-EAST", STOCK_EACH)
    for sku in skus:
        await eventually(
            lambda s=sku: call(worker.url, "GET", f"/v1/atp/{s}"), lambda r: r[0] == 200
        )
    orders = orders_for(skus, seed=7)
    # When the shop submits orders and the victim is killed with -9 mid-stream (mid-saga)
    submitting = asyncio.create_task(submit_all(worker.url, orders))
    await asyncio.sleep(0.8)
    assert not submitting.done(), "the orders were all in before the kill"
    await crash(worker, victim)
    await submitting
    await worker.wait_ready()
    # Then every order, each 202'd, reached one final answer: all lines reserved, or rejected
    views = {}
    for order in orders:
        _, view = await eventually(
            lambda o=order: call(
                worker.url, "GET", f"/v1/orders/{o['order_id']}?wait_for=RESERVED&timeout=20"
            ),
            lambda r: r[0] == 200 and r[1]["status"] in ("RESERVED", "REJECTED"),
            within=60,
        )
        views[order["order_id"]] = view
    for view in views.values():
        moves = Counter(entry["status"] for entry in view["history"])
        assert moves["SUBMITTED"] == 1, view
        assert moves[view["status"]] == 1, view
    # And the independent oracle holds: per SKU, reserved == what the reserved orders hold
    held: dict[str, int] = defaultdict(int)
    for view in views.values():
        if view["status"] == "RESERVED":
            assert all(line["reserved"] == line["qty"] for line in view["lines"]), view
            for line in view["lines"]:
                held[line["sku"]] += line["qty"]
        else:
            assert all(line["reserved"] == 0 for line in view["lines"]), view
    for sku in skus:
        _, atp = await eventually(
            lambda s=sku: call(worker.url, "GET", f"/v1/atp/{s}"),
            lambda r, s=sku: r[1]["warehouses"][0]["reserved"] == held[s],
        )
        east = atp["warehouses"][0]
        assert east["on_hand"] == STOCK_EACH
        assert 0 <= east["reserved"] <= STOCK_EACH
    # And demand far above stock was met as far as stock allowed, never beyond
    assert sum(held.values()) <= SKUS * STOCK_EACH
    assert any(view["status"] == "REJECTED" for view in views.values())
