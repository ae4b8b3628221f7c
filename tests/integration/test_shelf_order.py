"""Stock follows the shelf: a warehouse's counts and its picks and ships in the WMS's order.

Real brokers and a real worker; the WMS is played over AMQP with the contract's XML.
"""

from typing import Any

import pytest

from app.settings import Settings
from protocols.erp import ErpOrderConfirmed
from tests.conftest import SpawnWorker
from tests.support.kafka import read_until, unique
from tests.support.polling import eventually
from tests.support.shop import Warehouse, call, erp_decides, receive, submit, wait_status
from tests.support.wms import positions, publish_xml, unique_warehouse

pytestmark = pytest.mark.brokers


async def figures(url: str, sku: str, where: str) -> tuple[int, int, int]:
    """(on_hand, reserved, allocated) of the SKU in `where`, once the API shows it."""
    shown = await eventually(lambda: positions(url, sku), lambda p: p is not None and where in p)
    assert shown is not None
    here = shown[where]
    return here["on_hand"], here["reserved"], here["allocated"]


async def settles_at(url: str, sku: str, where: str, want: tuple[int, int, int]) -> None:
    """Wait until the position shows `want`."""

    async def now() -> tuple[int, int, int] | None:
        shown = await positions(url, sku)
        if shown is None or where not in shown:
            return None
        here = shown[where]
        return here["on_hand"], here["reserved"], here["allocated"]

    assert await eventually(now, lambda got: got == want) == want


async def released(worker: Any, deployment: Settings, wms: Warehouse, order_id: str) -> None:
    """ERP confirms the order and its Release reaches the warehouse."""
    confirm = ErpOrderConfirmed(event_id=unique("e"), order_id=order_id)
    await erp_decides(deployment.kafka_bootstrap, confirm)
    await wait_status(worker.url, order_id, "RELEASED")
    key, xml = await wms.next_command()
    assert key == f"{wms.code}.release"
    assert f'order="{order_id}"' in xml.decode()


async def dead_letters_of(url: str, sku: str) -> list[dict[str, Any]]:
    """The dead letters whose payload names the SKU (negative on hand or otherwise)."""
    status, listing = await call(url, "GET", "/v1/admin/dead-letters?limit=100")
    assert status == 200
    return [d for d in listing["dead_letters"] if sku in d["payload"]]


async def test_a_count_sent_after_a_shipconfirm_leaves_what_was_counted(
    spawn_worker: SpawnWorker, deployment: Settings
) -> None:
    # Given 10 of a SKU on the shelf and an order of 5 released to the warehouse
    worker = spawn_worker()
    await worker.wait_ready()
    sku, where = unique("SKU"), unique_warehouse()
    await receive(worker, sku, where, 10)
    async with Warehouse(deployment.amqp_url, where) as wms:
        order_id = await submit(worker.url, unique("C"), [(sku, 5)])
        await wait_status(worker.url, order_id, "RESERVED")
        await released(worker, deployment, wms, order_id)
        # When the WMS ships the 5 and then counts the 5 left, one message after the other,
        # while the worker restarts: its bridge then takes both from the queue at once, and
        # the count reaches the stock side before the order side has read the shipment
        assert worker.terminate() == 0
        ship = (
            f'<ShipConfirm txn="S-1" warehouse="{where}" order="{order_id}">'
            f'<Line no="1" sku="{sku}" qty="5"/></ShipConfirm>'
        ).encode()
        count = f'<Count txn="C-1" warehouse="{where}"><Line sku="{sku}" on_hand="5"/></Count>'
        messages = [(f"{where}.ship", ship), (f"{where}.count", count.encode())]
        await publish_xml(deployment.amqp_url, messages)
        worker.start()
        await worker.wait_ready()
        # Then the order ships and on hand is what was counted, nothing allocated
        await wait_status(worker.url, order_id, "SHIPPED")
        await settles_at(worker.url, sku, where, (5, 0, 0))
        # When the WMS sends both again (a re-send after a crash), and then receives 1 more
        await publish_xml(deployment.amqp_url, messages)
        receipt = f'<Receipt txn="R-2" warehouse="{where}"><Line sku="{sku}" qty="1"/></Receipt>'
        await publish_xml(deployment.amqp_url, [(f"{where}.receipt", receipt.encode())])
        # Then the re-sends changed nothing: the shelf holds 6 (the order side's own
        # shipment command, applied long since, took nothing off either)
        await settles_at(worker.url, sku, where, (6, 0, 0))
    assert await dead_letters_of(worker.url, sku) == []


async def test_a_count_below_what_is_reserved_backorders_the_newest_order(
    spawn_worker: SpawnWorker, deployment: Settings
) -> None:
    # Given 10 on the shelf at one warehouse, reserved 5 each by an older and a newer order
    worker = spawn_worker()
    await worker.wait_ready()
    sku, where, other = unique("SKU"), unique_warehouse(), unique_warehouse()
    await receive(worker, sku, where, 10)
    async with Warehouse(deployment.amqp_url, where) as wms:
        older = await submit(worker.url, unique("C"), [(sku, 5)], backorder="allow")
        await wait_status(worker.url, older, "RESERVED")
        newer = await submit(worker.url, unique("C"), [(sku, 5)], backorder="allow")
        await wait_status(worker.url, newer, "RESERVED")
        # And 4 at another warehouse
        await receive(worker, sku, other, 4)
        await settles_at(worker.url, sku, other, (4, 0, 0))
        # When a count at the first finds 5
        count = f'<Count txn="C-1" warehouse="{where}"><Line sku="{sku}" on_hand="5"/></Count>'
        await publish_xml(deployment.amqp_url, [(f"{where}.count", count.encode())])
        # Then the newer order gave its 5 back, was told why, and took the other's 4 at once
        await settles_at(worker.url, sku, other, (4, 4, 0))
        _, order = await call(worker.url, "GET", f"/v1/orders/{newer}")
        (line,) = order["lines"]
        assert (line["reserved"], line["backordered"]) == (4, 1)
        assert [(f["warehouse"], f["reserved"]) for f in line["fills"]] == [(other, 4)]
        events = await read_until(
            deployment.kafka_bootstrap,
            "orders.events",
            lambda records: any(
                newer.encode() == r.key and b"TakenBack" in r.value for r in records
            ),
        )
        told = [r.value for r in events if r.key == newer.encode() and b"TakenBack" in r.value]
        assert b'"reason":"count"' in told[0]
        # And the older order keeps its 5
        await settles_at(worker.url, sku, where, (5, 5, 0))
        # When the older one is confirmed, picked and shipped in full
        await released(worker, deployment, wms, older)
        await wms.pick(older, [(1, sku, 5, 5)])
        await wms.ship(older, [(1, sku, 5)])
        # Then it ships, nothing stays allocated, and nothing was dead-lettered
        await wait_status(worker.url, older, "SHIPPED")
        await settles_at(worker.url, sku, where, (0, 0, 0))
    assert await dead_letters_of(worker.url, sku) == []


async def test_a_count_below_what_was_released_is_settled_by_the_warehouses_short_pick(
    spawn_worker: SpawnWorker, deployment: Settings
) -> None:
    # Given 10 on the shelf, two orders of 5 released to the warehouse
    worker = spawn_worker()
    await worker.wait_ready()
    sku, where = unique("SKU"), unique_warehouse()
    await receive(worker, sku, where, 10)
    async with Warehouse(deployment.amqp_url, where) as wms:
        first = await submit(worker.url, unique("C"), [(sku, 5)], backorder="allow")
        second = await submit(worker.url, unique("C"), [(sku, 5)], backorder="allow")
        for order_id in (first, second):
            await wait_status(worker.url, order_id, "RESERVED")
            await released(worker, deployment, wms, order_id)
        # When a count finds 5: the WMS has them, it picks short what it does not find
        count = f'<Count txn="C-1" warehouse="{where}"><Line sku="{sku}" on_hand="5"/></Count>'
        await publish_xml(deployment.amqp_url, [(f"{where}.count", count.encode())])
        await settles_at(worker.url, sku, where, (5, 0, 10))
        await wms.pick(second, [(1, sku, 5, 5)])
        await wms.ship(second, [(1, sku, 5)])
        await wms.pick(first, [(1, sku, 5, 0)])
        # Then one ships, the other waits for stock with its 5 backordered, the shelf is empty
        # and nothing is stuck or dead-lettered
        await wait_status(worker.url, second, "SHIPPED")
        # (CONFIRMED comes before RELEASED: `wait_for` would not wait for it)
        _, order = await eventually(
            lambda: call(worker.url, "GET", f"/v1/orders/{first}"),
            lambda got: got[1]["status"] == "CONFIRMED",
        )
        assert order["lines"][0]["backordered"] == 5
        await settles_at(worker.url, sku, where, (0, 0, 0))
    assert await dead_letters_of(worker.url, sku) == []
