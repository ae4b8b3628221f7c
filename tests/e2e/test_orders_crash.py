"""kill -9 a worker while orders stream in; after a restart every order and stock figure adds up."""

import asyncio
import datetime as dt
import random
from collections import defaultdict

import pytest

from app.settings import Settings
from protocols.http import OrderLineRequest
from protocols.order_commands import SubmitOrder
from protocols.topics import Topics
from tests.conftest import SpawnWorker
from tests.support.kafka import produce, unique
from tests.support.polling import eventually
from tests.support.shop import call, receive

pytestmark = pytest.mark.brokers

SKUS, STOCK_EACH, ORDERS = 12, 6, 160


def orders_for(skus: list[str], seed: int) -> list[SubmitOrder]:
    """A seeded stream of 1-3 line orders over a few SKUs: far more demand than stock."""
    rng = random.Random(seed)
    orders = []
    for n in range(ORDERS):
        chosen = rng.sample(skus, rng.randint(1, 3))
        lines = tuple(
            OrderLineRequest(i + 1, sku, rng.randint(1, 2)) for i, sku in enumerate(chosen)
        )
        order_id = unique(f"crash{n}")
        orders.append(
            SubmitOrder(
                event_id=f"{order_id}:submit",
                order_id=order_id,
                at=dt.datetime.now(dt.UTC),
                correlation_id=order_id,
                customer_id="C-1",
                channel="web",
                lines=lines,
                backorder="reject",
                digest=order_id,
            )
        )
    return orders


async def test_orders_survive_a_kill_mid_stream(
    spawn_worker: SpawnWorker, brokers: Settings
) -> None:
    # Given a worker and 12 SKUs with 6 units each
    worker = spawn_worker()
    await worker.wait_ready()
    skus = [unique(f"K{i}") for i in range(SKUS)]
    for sku in skus:
        await receive(brokers.kafka_bootstrap, sku, "DC-EAST", STOCK_EACH)
    for sku in skus:
        await eventually(
            lambda s=sku: call(worker.url, "GET", f"/v1/atp/{s}"), lambda r: r[0] == 200
        )
    orders = orders_for(skus, seed=7)

    async def stream() -> None:
        for order in orders:
            await produce(
                brokers.kafka_bootstrap, Topics.ORDER_INBOX.name, [(order.order_id.encode(), order)]
            )
            await asyncio.sleep(0.01)

    # When the worker is killed with -9 while the orders stream in, and started again
    feeding = asyncio.create_task(stream())
    await asyncio.sleep(0.8)
    worker.kill()
    await feeding
    worker.start()
    await worker.wait_ready()
    # Then every order reached a final answer: all lines reserved, or rejected
    views = {}
    for order in orders:
        _, view = await eventually(
            lambda o=order: call(
                worker.url, "GET", f"/v1/orders/{o.order_id}?wait_for=RESERVED&timeout=20"
            ),
            lambda r: r[0] == 200 and r[1]["status"] in ("RESERVED", "REJECTED"),
            within=60,
        )
        views[order.order_id] = view
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
