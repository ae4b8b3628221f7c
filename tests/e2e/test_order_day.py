"""A compressed day with simulated ERP and WMS: every order and stock figure matches their truth."""

import asyncio
import random
from collections import Counter
from functools import partial
from typing import Any

import pytest

from app.settings import Settings
from app.sim.erp import ErpSimulator
from app.sim.truth import RESTING, stock_truth
from app.sim.wms import WmsSimulator
from tests.conftest import SpawnWorker
from tests.support.kafka import unique
from tests.support.polling import eventually
from tests.support.shop import call

pytestmark = pytest.mark.brokers


async def test_a_day_of_orders_matches_the_simulators_truth(
    spawn_worker: SpawnWorker, brokers: Settings
) -> None:
    # Given a worker, an ERP that holds 20% and rejects 10%, and two warehouses that short 10%
    worker = spawn_worker()
    await worker.wait_ready()
    east, west = unique("E").upper().replace("-", ""), unique("W").upper().replace("-", "")
    wms = WmsSimulator(brokers.amqp_url, [east, west], short_pick_rate=0.1, seed=3)
    erp = ErpSimulator(brokers.kafka_bootstrap, hold_rate=0.2, reject_rate=0.1, hold_for=0.3)
    await wms.start()
    await erp.start()
    try:
        # And stock received over AMQP through the bridge
        skus = [unique("DAY") for _ in range(5)]
        await wms.receipt(east, {sku: 6 for sku in skus})
        await wms.receipt(west, {sku: 3 for sku in skus[:3]})
        for sku in skus:
            await eventually(partial(call, worker.url, "GET", f"/v1/atp/{sku}"), _found)
        # When 30 customers order 1-3 lines each, some allowing backorders
        rng = random.Random(5)
        bodies = [
            {
                "customer_id": f"C-{n}",
                "channel": "web",
                "backorder": "allow" if n % 5 == 0 else "reject",
                "lines": [
                    {"line_no": i + 1, "sku": sku, "qty": rng.randint(1, 3)}
                    for i, sku in enumerate(rng.sample(skus, rng.randint(1, 3)))
                ],
            }
            for n in range(30)
        ]
        answers = await asyncio.gather(
            *(call(worker.url, "POST", "/v1/orders", json=b) for b in bodies)
        )
        ids = [answer["order_id"] for _, answer in answers]
        # Then every order comes to rest
        orders = {}
        for order_id in ids:
            _, orders[order_id] = await eventually(
                partial(call, worker.url, "GET", f"/v1/orders/{order_id}"), _at_rest, within=90
            )
        # And each follows ERP's decision for it
        for order_id, order in orders.items():
            reserved = any(h["status"] == "RESERVED" for h in order["history"])
            if reserved and erp.fate(order_id) == "reject":
                assert order["status"] == "REJECTED", order
            elif reserved:
                # shipped, or waiting for stock for what was picked short or never filled
                assert order["status"] in ("INVOICED", "PARTIALLY_SHIPPED", "CONFIRMED"), order
        # And every stock figure equals what the WMS truth says happened
        expected = stock_truth(sent.message for sent in wms.sent)
        for (sku, warehouse), figures in expected.items():
            await eventually(
                partial(call, worker.url, "GET", f"/v1/atp/{sku}"),
                partial(_settled_at, warehouse, figures.on_hand),
                within=30,
            )
        assert Counter(o["status"] for o in orders.values())["INVOICED"] > 0
    finally:
        await erp.stop()
        await wms.stop()


def _found(answer: tuple[int, Any]) -> bool:
    return answer[0] == 200


def _at_rest(answer: tuple[int, Any]) -> bool:
    order = answer[1]
    if order["status"] in ("CONFIRMED", "PARTIALLY_SHIPPED"):  # at rest once all open is owed
        return not any(line["reserved"] or line["allocated"] for line in order["lines"])
    return order["status"] in RESTING


def _settled_at(warehouse: str, on_hand: int, answer: tuple[int, Any]) -> bool:
    return _figures(answer[1], warehouse) == (on_hand, 0, 0)


def _figures(atp: Any, warehouse: str) -> tuple[int, int, int]:
    position = next(w for w in atp["warehouses"] if w["warehouse"] == warehouse)
    return position["on_hand"], position["reserved"], position["allocated"]
