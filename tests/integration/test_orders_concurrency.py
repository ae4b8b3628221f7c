"""No oversell under concurrency, idempotent submits, and cancel in every state."""

import asyncio

import pytest

from app.settings import Settings
from protocols.erp import ErpOrderConfirmed, ErpOrderCreditHold
from tests.conftest import SpawnWorker
from tests.support.kafka import unique
from tests.support.polling import eventually
from tests.support.shop import Warehouse, call, erp_decides, receive, submit, wait_status
from tests.support.wms import unique_warehouse

pytestmark = pytest.mark.brokers


async def test_fifty_orders_for_the_last_ten_units_over_two_workers(
    spawn_worker: SpawnWorker, brokers: Settings
) -> None:
    # Given 10 units of a SKU and two workers
    first, second = spawn_worker("w1"), spawn_worker("w2")
    await asyncio.gather(first.wait_ready(), second.wait_ready())
    sku = unique("LAST")
    await receive(first, sku, "DC-EAST", 10)
    for worker in (first, second):
        await eventually(
            lambda w=worker: call(w.url, "GET", f"/v1/atp/{sku}"),
            lambda r: r[0] == 200 and r[1]["atp"] == 10,
        )
    # When 50 customers each order one unit at once, half through each worker
    urls = [(first if n % 2 else second).url for n in range(50)]
    ids = await asyncio.gather(*(submit(url, unique("C"), [(sku, 1)]) for url in urls))
    # Then exactly 10 orders are reserved and 40 rejected, whichever worker is asked
    finals = await asyncio.gather(
        *(
            call(url, "GET", f"/v1/orders/{order_id}?wait_for=RESERVED&timeout=30")
            for url, order_id in zip(reversed(urls), ids, strict=True)
        )
    )
    statuses = [order["status"] for _, order in finals]
    assert statuses.count("RESERVED") == 10, statuses
    assert statuses.count("REJECTED") == 40, statuses
    # And stock shows 10 reserved, nothing left to promise, nothing negative
    _, atp = await eventually(
        lambda: call(first.url, "GET", f"/v1/atp/{sku}"),
        lambda r: r[1]["warehouses"][0]["reserved"] == 10,
    )
    east = atp["warehouses"][0]
    assert (east["on_hand"], east["reserved"], east["atp"]) == (10, 10, 0)


async def test_retried_posts_with_one_key_make_one_order(
    spawn_worker: SpawnWorker, brokers: Settings
) -> None:
    # Given stock and a shop that retries its POST three times at once with one key
    worker = spawn_worker()
    await worker.wait_ready()
    sku, customer = unique("R"), unique("C")
    await receive(worker, sku, "DC-EAST", 5)
    body = {
        "customer_id": customer,
        "channel": "web",
        "lines": [{"line_no": 1, "sku": sku, "qty": 2}],
    }
    headers = {"Idempotency-Key": unique("key")}
    answers = await asyncio.gather(
        *(call(worker.url, "POST", "/v1/orders", json=body, headers=headers) for _ in range(3))
    )
    # Then every answer is the same 202 for one order
    assert {status for status, _ in answers} == {202}
    assert len({(a["order_id"], a["correlation_id"]) for _, a in answers}) == 1
    order_id = answers[0][1]["order_id"]
    await wait_status(worker.url, order_id, "RESERVED")
    # And only one order's worth is reserved
    _, atp = await eventually(
        lambda: call(worker.url, "GET", f"/v1/atp/{sku}"),
        lambda r: r[0] == 200 and r[1]["warehouses"][0]["reserved"] > 0,
    )
    assert atp["warehouses"][0]["reserved"] == 2
    # When the key is reused with a different body, Then 422
    body["lines"][0]["qty"] = 3  # type: ignore[index]
    status, problem = await call(worker.url, "POST", "/v1/orders", json=body, headers=headers)
    assert status == 422, problem
    # And the same order_id in the body behaves the same way
    same = {**body, "order_id": order_id}
    status, _ = await call(worker.url, "POST", "/v1/orders", json=same)
    assert status == 422


async def test_cancel_in_every_state(spawn_worker: SpawnWorker, brokers: Settings) -> None:
    # Given stock of 20 and a WMS
    worker = spawn_worker()
    await worker.wait_ready()
    sku, where = unique("K"), unique_warehouse()  # its own: a demo may run DC-EAST here
    await receive(worker, sku, where, 20)
    await eventually(lambda: call(worker.url, "GET", f"/v1/atp/{sku}"), lambda r: r[0] == 200)

    async def order_in(status: str) -> str:
        order_id = await submit(worker.url, unique("C"), [(sku, 2)])
        await wait_status(worker.url, order_id, "RESERVED")
        if status == "CREDIT_HOLD":
            await erp_decides(
                brokers.kafka_bootstrap,
                ErpOrderCreditHold(event_id=unique("e"), order_id=order_id, reason="limit"),
            )
        elif status in ("RELEASED", "SHIPPED"):
            await erp_decides(
                brokers.kafka_bootstrap, ErpOrderConfirmed(event_id=unique("e"), order_id=order_id)
            )
        await wait_status(worker.url, order_id, "RELEASED" if status == "SHIPPED" else status)
        return order_id

    async with Warehouse(brokers.amqp_url, where) as wms:
        for status in ("RESERVED", "CREDIT_HOLD", "RELEASED"):
            # When an order in this state is cancelled
            order_id = await order_in(status)
            code, _ = await call(worker.url, "POST", f"/v1/orders/{order_id}/cancel")
            # Then 202, it ends CANCELLED, and nothing stays reserved or allocated for it
            assert code == 202, status
            await wait_status(worker.url, order_id, "CANCELLED")
            if status == "RELEASED":
                assert (await wms.next_command())[0] == f"{where}.release"
                key, xml = await wms.next_command()
                assert key == f"{where}.cancel"
                assert f'order="{order_id}"' in xml.decode()
        _, atp = await eventually(
            lambda: call(worker.url, "GET", f"/v1/atp/{sku}"),
            lambda r: r[1]["warehouses"][0]["reserved"] + r[1]["warehouses"][0]["allocated"] == 0,
        )
        assert atp["warehouses"][0]["atp"] == 20
        # When a shipped order is cancelled, Then 409
        order_id = await order_in("SHIPPED")
        await wms.next_command()
        await wms.pick(order_id, [(1, sku, 2, 2)])
        await wms.ship(order_id, [(1, sku, 2)])
        await wait_status(worker.url, order_id, "SHIPPED")
        code, problem = await call(worker.url, "POST", f"/v1/orders/{order_id}/cancel")
        assert code == 409, problem


async def test_auto_confirmation_releases_right_after_reservation(
    spawn_worker: SpawnWorker, brokers: Settings
) -> None:
    # Given a worker that confirms without ERP
    worker = spawn_worker("auto", DISTGATE_ERP_CONFIRMATION="auto")
    await worker.wait_ready()
    sku = unique("AUTO")
    await receive(worker, sku, "DC-SOUTH", 3)
    await eventually(lambda: call(worker.url, "GET", f"/v1/atp/{sku}"), lambda r: r[0] == 200)
    # When an order comes in, Then it is released without any ERP decision
    order_id = await submit(worker.url, unique("C"), [(sku, 3)])
    order = await wait_status(worker.url, order_id, "RELEASED")
    assert [h["status"] for h in order["history"]] == [
        "SUBMITTED",
        "RESERVED",
        "CONFIRMED",
        "RELEASED",
    ]


async def test_goods_shipped_before_the_warehouse_read_the_cancel_still_leave_stock(
    spawn_worker: SpawnWorker, brokers: Settings
) -> None:
    # Given an order of 3 released to a warehouse that holds 10
    worker = spawn_worker()
    await worker.wait_ready()
    code, sku = unique("LATE").upper().replace("-", ""), unique("K")
    await receive(worker, sku, code, 10)
    await eventually(lambda: call(worker.url, "GET", f"/v1/atp/{sku}"), lambda r: r[0] == 200)
    async with Warehouse(brokers.amqp_url, code) as wms:
        order_id = await submit(worker.url, unique("C"), [(sku, 3)])
        await wait_status(worker.url, order_id, "RESERVED")
        await erp_decides(
            brokers.kafka_bootstrap, ErpOrderConfirmed(event_id=unique("e"), order_id=order_id)
        )
        await wait_status(worker.url, order_id, "RELEASED")
        assert (await wms.next_command())[0] == f"{code}.release"
        # When it is cancelled, but the warehouse had shipped it before reading the Cancel
        status, _ = await call(worker.url, "POST", f"/v1/orders/{order_id}/cancel")
        assert status == 202
        await wait_status(worker.url, order_id, "CANCELLED")
        await wms.ship(order_id, [(1, sku, 3)])
        # Then the goods are off on hand and nothing stays held for the order
        _, atp = await eventually(
            lambda: call(worker.url, "GET", f"/v1/atp/{sku}"),
            lambda r: r[1]["warehouses"][0]["on_hand"] == 7,
        )
        position = atp["warehouses"][0]
        assert (position["reserved"], position["allocated"], position["atp"]) == (0, 0, 7)
        # And the order stays cancelled, showing what left the warehouse
        _, order = await call(worker.url, "GET", f"/v1/orders/{order_id}")
        assert order["status"] == "CANCELLED"
        assert order["lines"][0]["shipped"] == 3
