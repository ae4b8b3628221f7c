"""Closed orders leave a worker's memory and are still read by id, the same, from Kafka."""

import re

import pytest

from app.settings import Settings
from protocols.erp import ErpOrderConfirmed, ErpOrderInvoiced
from tests.conftest import SpawnWorker
from tests.support.kafka import unique
from tests.support.polling import eventually
from tests.support.shop import Warehouse, call, erp_decides, receive, submit, wait_status
from tests.support.wms import unique_warehouse

pytestmark = pytest.mark.brokers


async def retired_orders(url: str) -> int:
    """How many orders this worker's mirror holds only as a place on the changelog."""
    _, body = await call(url, "GET", "/readyz")
    (orders,) = [t for t in body["tables"] if t["name"] == "orders-replica"]
    found = re.search(r"(\d+) retired", orders["detail"])
    assert found, orders
    return int(found[1])


async def test_a_closed_order_read_back_from_kafka_is_the_order_kept_in_memory(
    spawn_worker: SpawnWorker, deployment: Settings
) -> None:
    # Given two workers of one deployment: one keeps closed orders 30 days (the default),
    # the other lets them leave memory as soon as they close
    keeping = spawn_worker("keeping")
    retiring = spawn_worker("retiring", DISTGATE_CLOSED_ORDER_DAYS="0")
    await keeping.wait_ready()
    await retiring.wait_ready()
    sku, customer, where = unique("SKU"), unique("C"), unique_warehouse()
    await receive(keeping, sku, where, 10)
    await eventually(lambda: call(keeping.url, "GET", f"/v1/atp/{sku}"), lambda r: r[0] == 200)
    # When one order goes to INVOICED over two parcels and another is cancelled
    invoiced = await submit(keeping.url, customer, [(sku, 3)])
    cancelled = await submit(retiring.url, customer, [(sku, 2)])
    await wait_status(retiring.url, cancelled, "RESERVED")
    assert (await call(retiring.url, "POST", f"/v1/orders/{cancelled}/cancel"))[0] == 202
    await wait_status(keeping.url, invoiced, "RESERVED")
    async with Warehouse(deployment.amqp_url, where) as wms:
        await erp_decides(
            deployment.kafka_bootstrap, ErpOrderConfirmed(event_id=unique("e"), order_id=invoiced)
        )
        await wms.next_command()
        await wms.pick(invoiced, [(1, sku, 3, 3)])
        await wms.ship(invoiced, [(1, sku, 1)], tracking="1Z-1")
        await wms.ship(invoiced, [(1, sku, 2)], tracking="1Z-2")
        await wait_status(retiring.url, invoiced, "SHIPPED")
    await erp_decides(
        deployment.kafka_bootstrap,
        ErpOrderInvoiced(event_id=unique("e"), order_id=invoiced, invoice_id="INV-1"),
    )
    await wait_status(keeping.url, invoiced, "INVOICED")
    await wait_status(keeping.url, cancelled, "CANCELLED")
    # Then the retiring worker holds both only as places on the changelog, the other in memory
    await eventually(lambda: retired_orders(retiring.url), lambda n: n == 2)
    assert await retired_orders(keeping.url) == 0
    # And each reads by id exactly as the worker that kept it in memory answers
    for order_id in (invoiced, cancelled):
        kept = await call(keeping.url, "GET", f"/v1/orders/{order_id}")
        read_back = await call(retiring.url, "GET", f"/v1/orders/{order_id}")
        assert read_back == kept
        assert read_back[0] == 200
    _, order = await call(retiring.url, "GET", f"/v1/orders/{invoiced}")
    assert (order["status"], [s["tracking"] for s in order["shipments"]]) == (
        "INVOICED",
        ["1Z-1", "1Z-2"],
    )
    assert "cancel_reason" not in order
    # with why the cancelled one was cancelled
    _, order = await call(retiring.url, "GET", f"/v1/orders/{cancelled}")
    assert (order["status"], order["cancel_reason"]) == ("CANCELLED", "customer")
    # And cancelling a retired order is refused as for any closed one
    assert (await call(retiring.url, "POST", f"/v1/orders/{invoiced}/cancel"))[0] == 409
