"""Backorders fill themselves when stock arrives, oldest order first (issue 12.2), on the real
brokers: HTTP in, the receipt from the WMS over AMQP, ERP over Kafka, the Release back to the WMS.
"""

import datetime as dt
from typing import Any

import msgspec
import pytest

from app.settings import Settings
from protocols.erp import ErpOrderConfirmed, ExpectedReceipt
from protocols.topics import ERP_SUPPLY
from tests.conftest import SpawnWorker
from tests.support.kafka import produce, read_until, unique
from tests.support.polling import eventually
from tests.support.shop import Warehouse, call, erp_decides, submit, wait_status
from tests.support.wms import unique_warehouse

pytestmark = pytest.mark.brokers


async def order_line(url: str, order_id: str) -> dict[str, Any]:
    _, body = await call(url, "GET", f"/v1/orders/{order_id}")
    return dict(body["lines"][0])


async def test_a_receipt_fills_the_older_backorder_first_and_releases_it_at_once(
    spawn_worker: SpawnWorker, deployment: Settings
) -> None:
    # Given a SKU with nothing on hand in a warehouse of its own, and a PO of 4 expected
    worker = spawn_worker()
    await worker.wait_ready()
    sku, where = unique("FIFO"), unique_warehouse()
    eta = dt.date.today() + dt.timedelta(days=5)
    supply = ExpectedReceipt(
        event_id=unique("po"), po_id=unique("PO"), sku=sku, warehouse=where, qty=4, eta=eta
    )
    await produce(deployment.kafka_bootstrap, ERP_SUPPLY.name, [(sku.encode(), supply)])
    await eventually(lambda: call(worker.url, "GET", f"/v1/atp/{sku}"), lambda r: r[0] == 200)
    async with Warehouse(deployment.amqp_url, where) as wms:
        # And two orders of 3 allowing backorders: the first is promised the PO's date, the
        # second is not (only 1 of the PO is left for it)
        older = await submit(worker.url, unique("C"), [(sku, 3)], backorder="allow")
        await wait_status(worker.url, older, "BACKORDERED")
        newer = await submit(worker.url, unique("C"), [(sku, 3)], backorder="allow")
        await wait_status(worker.url, newer, "BACKORDERED")
        line = await eventually(
            lambda: order_line(worker.url, older), lambda ln: ln["promise_date"] is not None
        )
        assert (line["backordered"], line["promise_date"]) == (3, eta.isoformat())
        assert (await order_line(worker.url, newer))["promise_date"] is None
        # And the older one is confirmed by ERP: it waits for stock
        await erp_decides(
            deployment.kafka_bootstrap, ErpOrderConfirmed(event_id=unique("e"), order_id=older)
        )
        await wait_status(worker.url, older, "CONFIRMED")
        # When the WMS receives 4
        await wms.send(
            "receipt",
            f'<Receipt txn="{unique("R")}" warehouse="{where}">'
            f'<Line sku="{sku}" qty="4"/></Receipt>',
        )
        # Then the older order takes 3 and is released to the warehouse at once
        order = await wait_status(worker.url, older, "RELEASED")
        (line,) = order["lines"]
        assert (line["allocated"], line["backordered"], line["promise_date"]) == (3, 0, None)
        key, xml = await wms.next_command()
        assert key == f"{where}.release"
        assert f'order="{older}"' in xml.decode()
        assert f'sku="{sku}" qty="3"' in xml.decode()
        # And the newer one got the 1 left, reserved, waiting for ERP like the rest
        order = await wait_status(worker.url, newer, "RESERVED")
        (line,) = order["lines"]
        assert (line["reserved"], line["backordered"], line["fills"][0]["warehouse"]) == (
            1,
            2,
            where,
        )
    # And stock is wholly committed: nothing is left for a later order
    _, atp = await call(worker.url, "GET", f"/v1/atp/{sku}")
    (position,) = atp["warehouses"]
    assert (position["on_hand"], position["reserved"], position["allocated"], position["atp"]) == (
        4,
        1,
        3,
        0,
    )
    # And ERP and CRM read each fill as an event
    keys = {older.encode(), newer.encode()}
    records = await read_until(
        deployment.kafka_bootstrap,
        deployment.topics.orders_events.name,
        lambda rs: sum(b'"OrderBackorderFilled"' in r.value for r in rs if r.key in keys) >= 2,
    )
    events = [
        msgspec.json.decode(r.value)
        for r in records
        if r.key in keys and b'"OrderBackorderFilled"' in r.value
    ]
    filled = {e["order_id"]: (e["status"], e["filled"]) for e in events}
    assert filled == {
        older: ("CONFIRMED", [{"warehouse": where, "qty": 3}]),
        newer: ("RESERVED", [{"warehouse": where, "qty": 1}]),
    }
