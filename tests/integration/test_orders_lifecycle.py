"""An order's whole life over the real protocols: HTTP in, ERP over Kafka, WMS over AMQP."""

from typing import Any

import orjson
import pytest

from app.settings import Settings
from protocols.erp import (
    ErpOrderConfirmed,
    ErpOrderCreditHold,
    ErpOrderCreditReleased,
    ErpOrderInvoiced,
)
from tests.conftest import SpawnWorker
from tests.support.kafka import read_until, unique
from tests.support.polling import eventually
from tests.support.shop import Warehouse, call, erp_decides, receive, submit, wait_status
from tests.support.wms import unique_warehouse

pytestmark = pytest.mark.brokers


async def position(url: str, sku: str, warehouse: str = "DC-EAST") -> dict[str, Any]:
    _, body = await call(url, "GET", f"/v1/atp/{sku}")
    return next(w for w in body["warehouses"] if w["warehouse"] == warehouse)


async def test_an_order_goes_from_submit_to_invoice_with_a_short_pick_and_a_cancelled_rest(
    spawn_worker: SpawnWorker, deployment: Settings
) -> None:
    # Given 3 of SKU A and 5 of SKU B in a warehouse, and its WMS listening there
    worker = spawn_worker()
    await worker.wait_ready()
    sku_a, sku_b, customer = unique("A"), unique("B"), unique("C")
    where = unique_warehouse()  # its own: a demo or bench may run DC-EAST on this broker
    await receive(worker, sku_a, where, 3)
    await receive(worker, sku_b, where, 5)
    await eventually(lambda: call(worker.url, "GET", f"/v1/atp/{sku_b}"), lambda r: r[0] == 200)
    async with Warehouse(deployment.amqp_url, where) as wms:
        # When a shop orders 3 A and 1 B
        order_id = await submit(worker.url, customer, [(sku_a, 3), (sku_b, 1)])
        # Then both lines are reserved
        order = await wait_status(worker.url, order_id, "RESERVED")
        assert [line["reserved"] for line in order["lines"]] == [3, 1]
        await eventually(lambda: position(worker.url, sku_a, where), lambda p: p["reserved"] == 3)
        # When ERP confirms, Then the order is released and the WMS gets one Release
        await erp_decides(
            deployment.kafka_bootstrap, ErpOrderConfirmed(event_id=unique("e"), order_id=order_id)
        )
        await wait_status(worker.url, order_id, "RELEASED")
        key, xml = await wms.next_command()
        assert key == f"{where}.release"
        assert f'order="{order_id}"' in xml.decode()
        await eventually(lambda: position(worker.url, sku_a, where), lambda p: p["allocated"] == 3)
        # When the WMS picks A short by one, Then the line backorders 1 (no warehouse has
        # another A to fill it from) and stock drops by 1
        await wms.pick(order_id, [(1, sku_a, 3, 2), (2, sku_b, 1, 1)])
        order = await wait_status(worker.url, order_id, "PICKED")
        assert order["lines"][0]["backordered"] == 1
        await eventually(
            lambda: position(worker.url, sku_a, where),
            lambda east: (east["on_hand"], east["allocated"], east["atp"]) == (2, 2, 0),
        )
        # When it ships what it picked in two parcels, sending the first one twice, Then the
        # order is PARTIALLY_SHIPPED (the short unit is still owed: no other warehouse has
        # it), stock leaves the books and the order keeps each parcel's tracking number
        first = unique("S")
        await wms.ship(order_id, [(1, sku_a, 2)], txn=first, tracking="1Z-A")
        await wms.ship(order_id, [(1, sku_a, 2)], txn=first, tracking="1Z-A")
        await wms.ship(order_id, [(2, sku_b, 1)], tracking="1Z-B")
        await wait_status(worker.url, order_id, "PARTIALLY_SHIPPED")
        await eventually(
            lambda: position(worker.url, sku_a, where),
            lambda east: (
                (east["on_hand"], east["reserved"], east["allocated"], east["atp"]) == (0, 0, 0, 0)
            ),
        )
    order = await eventually(
        lambda: wait_status(worker.url, order_id, "PARTIALLY_SHIPPED"),
        lambda o: len(o["shipments"]) == 2,
    )
    assert [(ln["shipped"], ln["backordered"]) for ln in order["lines"]] == [(2, 1), (1, 0)]
    assert [
        (
            s["warehouse"],
            s["carrier"],
            s["tracking"],
            [(ln["line_no"], ln["qty"]) for ln in s["lines"]],
        )
        for s in order["shipments"]
    ] == [(where, "UPS", "1Z-A", [(1, 2)]), (where, "UPS", "1Z-B", [(2, 1)])]
    assert "cancel_reason" not in order
    # When the customer cancels the rest, Then the order is SHIPPED with that unit cancelled,
    # by the customer
    status, _ = await call(worker.url, "POST", f"/v1/orders/{order_id}/cancel")
    assert status == 202
    order = await wait_status(worker.url, order_id, "SHIPPED")
    assert [(ln["shipped"], ln["backordered"], ln["cancelled"]) for ln in order["lines"]] == [
        (2, 0, 1),
        (1, 0, 0),
    ]
    assert order["cancel_reason"] == "customer"
    # When ERP invoices, Then the order is INVOICED with its whole history
    await erp_decides(
        deployment.kafka_bootstrap,
        ErpOrderInvoiced(event_id=unique("e"), order_id=order_id, invoice_id="INV-1"),
    )
    order = await wait_status(worker.url, order_id, "INVOICED")
    assert order["cancel_reason"] == "customer"
    assert [h["status"] for h in order["history"]] == [
        "SUBMITTED",
        "RESERVED",
        "CONFIRMED",
        "RELEASED",
        "PICKED",
        "PARTIALLY_SHIPPED",
        "SHIPPED",
        "INVOICED",
    ]
    # And ERP and CRM read the lifecycle from Kafka, versions strictly increasing
    records = await read_until(
        deployment.kafka_bootstrap,
        deployment.topics.orders_events.name,
        lambda rs: any(order_id.encode() == r.key and b"OrderInvoiced" in r.value for r in rs),
    )
    events = [orjson.loads(r.value) for r in records if r.key == order_id.encode()]
    assert events[0]["type"] == "OrderSubmitted"
    assert [e["version"] for e in events] == list(range(1, len(events) + 1))
    # with each step once: the short pick, each parcel (the one sent twice too), the cancel
    told = {"OrderPickedShort", "OrderShipmentDispatched", "OrderRemainderCancelled"}
    steps = [e for e in events if e["type"] in told]
    assert [(e["type"], e.get("status")) for e in steps] == [
        ("OrderPickedShort", "RELEASED"),
        ("OrderShipmentDispatched", "PICKED"),
        ("OrderShipmentDispatched", "PARTIALLY_SHIPPED"),
        ("OrderRemainderCancelled", None),
    ]
    assert steps[0]["short"] == [
        {"line_no": 1, "sku": sku_a, "requested": 3, "picked": 2, "short": 1}
    ]
    assert [e["shipment"]["tracking"] for e in steps[1:3]] == ["1Z-A", "1Z-B"]
    assert steps[3]["cancelled"] == [{"line_no": 1, "sku": sku_a, "qty": 1}]
    crm = await read_until(
        deployment.kafka_bootstrap,
        deployment.topics.crm_order_status.name,
        lambda rs: sum(r.key == customer.encode() for r in rs) >= len(events),
    )
    views = [orjson.loads(r.value) for r in crm if r.key == customer.encode()]
    assert [v["event_type"] for v in views] == [e["type"] for e in events]
    assert {v["type"] for v in views} == {"OrderStatusChanged"}


async def test_credit_hold_keeps_the_reservation_until_released(
    spawn_worker: SpawnWorker, deployment: Settings
) -> None:
    # Given a reserved order
    worker = spawn_worker()
    await worker.wait_ready()
    sku = unique("H")
    await receive(worker, sku, "DC-WEST", 4)
    await eventually(lambda: call(worker.url, "GET", f"/v1/atp/{sku}"), lambda r: r[0] == 200)
    order_id = await submit(worker.url, unique("C"), [(sku, 4)])
    await wait_status(worker.url, order_id, "RESERVED")
    # When ERP holds it for credit, Then the reservation is kept
    await erp_decides(
        deployment.kafka_bootstrap,
        ErpOrderCreditHold(event_id=unique("e"), order_id=order_id, reason="limit"),
    )
    await wait_status(worker.url, order_id, "CREDIT_HOLD")
    await eventually(lambda: position(worker.url, sku, "DC-WEST"), lambda p: p["reserved"] == 4)
    # When ERP releases the hold, Then the order is confirmed and released
    await erp_decides(
        deployment.kafka_bootstrap, ErpOrderCreditReleased(event_id=unique("e"), order_id=order_id)
    )
    await wait_status(worker.url, order_id, "RELEASED")
    await eventually(lambda: position(worker.url, sku, "DC-WEST"), lambda p: p["allocated"] == 4)


async def test_reject_is_all_or_nothing_and_allow_backorders(
    spawn_worker: SpawnWorker, deployment: Settings
) -> None:
    # Given 5 of X and none of Y
    worker = spawn_worker()
    await worker.wait_ready()
    x, y = unique("X"), unique("Y")
    await receive(worker, x, "DC-EAST", 5)
    await eventually(lambda: call(worker.url, "GET", f"/v1/atp/{x}"), lambda r: r[0] == 200)
    # When an order wants 2 X and 1 Y and rejects backorders
    rejected = await submit(worker.url, unique("C"), [(x, 2), (y, 1)])
    # Then it is rejected and X's reservation is given back
    order = await wait_status(worker.url, rejected, "REJECTED")
    assert order["history"][-1]["status"] == "REJECTED"
    await eventually(lambda: position(worker.url, x), lambda p: p["reserved"] == 0)
    # When the same order allows backorders
    allowed = await submit(worker.url, unique("C"), [(x, 2), (y, 1)], backorder="allow")
    # Then X is reserved and Y backordered
    order = await wait_status(worker.url, allowed, "RESERVED")
    assert [line["status"] for line in order["lines"]] == ["RESERVED", "BACKORDERED"]
    assert order["lines"][1]["backordered"] == 1


async def test_an_order_erp_never_decides_is_cancelled_and_gives_its_stock_back(
    spawn_worker: SpawnWorker,
) -> None:
    # Given a worker whose decision timeout is 2 s, and a reserved order ERP never decides
    worker = spawn_worker("w1", DISTGATE_DECISION_TIMEOUT_S="2")
    await worker.wait_ready()
    sku = unique("T")
    await receive(worker, sku, "DC-WEST", 4)
    await eventually(lambda: call(worker.url, "GET", f"/v1/atp/{sku}"), lambda r: r[0] == 200)
    order_id = await submit(worker.url, unique("C"), [(sku, 3)])
    await wait_status(worker.url, order_id, "RESERVED")
    # When the timeout passes (the deadline clock ticks every few seconds)
    order = await wait_status(worker.url, order_id, "CANCELLED", within=30)
    # Then it is cancelled for want of a decision, GET says so, and its reservation is given back
    assert [line["cancelled"] for line in order["lines"]] == [3]
    assert order["cancel_reason"] == "decision_timeout"
    await eventually(
        lambda: position(worker.url, sku, "DC-WEST"), lambda p: (p["reserved"], p["atp"]) == (0, 4)
    )
    # When the worker restarts, Then it still says why
    worker.terminate()
    worker.start()
    await worker.wait_ready()
    _, order = await call(worker.url, "GET", f"/v1/orders/{order_id}")
    assert (order["status"], order["cancel_reason"]) == ("CANCELLED", "decision_timeout")
