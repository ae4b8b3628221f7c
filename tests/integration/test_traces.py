"""One order followed across HTTP, Kafka and AMQP by its correlation id, on the real brokers."""

import datetime as dt
from typing import Any

import pytest
from aiokafka import ConsumerRecord

from app.settings import Settings
from protocols.erp import ErpOrderConfirmed
from protocols.topics import CRM_ORDER_STATUS, ORDERS_EVENTS
from protocols.trace_headers import parse_traceparent, trace_id_of
from tests.conftest import SpawnWorker
from tests.support.kafka import read_until, unique
from tests.support.polling import eventually
from tests.support.shop import Warehouse, call, erp_decides, receive, wait_status
from tests.support.wms import unique_warehouse

pytestmark = pytest.mark.brokers

CLOUD_EVENT_HEADERS = {"ce_specversion", "ce_type", "ce_id", "ce_source", "ce_time"}


def _headers(record: ConsumerRecord) -> dict[str, str]:
    return {name: value.decode() for name, value in record.headers}


def _value(record: ConsumerRecord) -> dict[str, Any]:
    import orjson

    parsed: dict[str, Any] = orjson.loads(record.value)
    return parsed


def _assert_in_flow(headers: dict[str, str | bytes], correlation_id: str) -> None:
    """The message names the flow, and a valid traceparent of the flow's trace."""
    assert headers["correlation_id"] == correlation_id, headers
    parent = parse_traceparent(headers["traceparent"])
    assert parent is not None, headers
    assert parent.trace_id == trace_id_of(correlation_id)


async def test_every_message_of_an_order_carries_its_flow_and_the_trace_lists_them(
    spawn_worker: SpawnWorker, deployment: Settings
) -> None:
    # Given stock in a warehouse whose WMS listens, and a worker
    worker = spawn_worker()
    await worker.wait_ready()
    sku, customer, where = unique("SKU"), unique("C"), unique_warehouse()
    await receive(worker, sku, where, 10)
    await eventually(lambda: call(worker.url, "GET", f"/v1/atp/{sku}"), lambda r: r[0] == 200)
    correlation_id = unique("shop-req")
    async with Warehouse(deployment.amqp_url, where) as wms:
        # When a shop posts an order with its correlation id, ERP confirms it,
        # and the WMS picks and ships it (without echoing any header)
        body = {
            "customer_id": customer,
            "channel": "web",
            "lines": [{"line_no": 1, "sku": sku, "qty": 2}],
        }
        status, accepted = await call(
            worker.url, "POST", "/v1/orders", json=body,
            headers={"X-Correlation-ID": correlation_id},
        )  # fmt: skip
        assert status == 202, accepted
        order_id = accepted["order_id"]
        await wait_status(worker.url, order_id, "RESERVED")
        confirmed = ErpOrderConfirmed(event_id=unique("e"), order_id=order_id)
        await erp_decides(deployment.kafka_bootstrap, confirmed)
        await wait_status(worker.url, order_id, "RELEASED")
        release = await wms.inbox.get()
        await wms.pick(order_id, [(1, sku, 2, 2)])
        await wait_status(worker.url, order_id, "PICKED")
        await wms.ship(order_id, [(1, sku, 2)])
        await wait_status(worker.url, order_id, "SHIPPED")

    # Then the Release on the WMS queue carries the flow, as headers and as its property
    assert release.correlation_id == correlation_id
    _assert_in_flow(dict(release.headers), correlation_id)

    # And every orders.events record of the order carries it, and CloudEvents headers
    def shipped(records: list[ConsumerRecord]) -> bool:
        return any(_value(r).get("type") == "OrderShipped" for r in mine(records))

    def mine(records: list[ConsumerRecord]) -> list[ConsumerRecord]:
        return [r for r in records if r.key == order_id.encode()]

    events = mine(await read_until(deployment.kafka_bootstrap, ORDERS_EVENTS.name, shipped))
    assert [_value(r)["type"] for r in events][:1] == ["OrderSubmitted"]
    for record in events:
        headers = _headers(record)
        _assert_in_flow(dict(headers), correlation_id)
        assert headers.keys() >= CLOUD_EVENT_HEADERS
        assert headers["ce_specversion"] == "1.0"
        assert headers["ce_id"] == _value(record)["event_id"]
        assert headers["ce_type"] == _value(record)["type"]
        assert dt.datetime.fromisoformat(headers["ce_time"]).tzinfo is not None

    # And so does every crm.order-status record of the customer
    def all_statuses(records: list[ConsumerRecord]) -> bool:
        return any(_value(r)["status"] == "SHIPPED" for r in records if r.key == customer.encode())

    statuses = [
        r
        for r in await read_until(deployment.kafka_bootstrap, CRM_ORDER_STATUS.name, all_statuses)
        if r.key == customer.encode()
    ]
    assert statuses
    for record in statuses:
        headers = _headers(record)
        _assert_in_flow(dict(headers), correlation_id)
        assert headers["ce_type"] == "OrderStatusChanged"
        assert headers["ce_id"] == _value(record)["event_id"]

    # And the trace lists the whole flow in time order: the command, ERP's decision, the
    # Release, the WMS confirmations (joined by order id), the events and stock changes
    wanted = {
        "http_command", "erp_decision", "wms_command", "wms_confirmation",
        "order_event", "status_change", "stock_change",
    }  # fmt: skip

    async def trace() -> tuple[int, Any]:
        return await call(worker.url, "GET", f"/v1/admin/trace/{correlation_id}")

    def complete(answer: tuple[int, Any]) -> bool:
        status, body = answer
        if status != 200:
            return False
        kinds = {m["kind"] for m in body["messages"]}
        types = {m["type"] for m in body["messages"]}
        return wanted <= kinds and "ShipConfirmed" in types

    _, found = await eventually(trace, complete)
    messages = found["messages"]
    assert found["trace_id"] == trace_id_of(correlation_id)
    assert [m["at"] for m in messages] == sorted(m["at"] for m in messages)
    assert messages[0]["kind"] == "http_command"
    assert messages[0]["type"] == "SubmitOrder"
    decisions = [(m["type"], m["event_id"]) for m in messages if m["kind"] == "erp_decision"]
    assert decisions == [("OrderConfirmed", confirmed.event_id)]
    commands = [(m["type"], m["order_id"]) for m in messages if m["kind"] == "wms_command"]
    assert commands == [("ReleaseToWarehouse", order_id)]
    assert {m["event_id"] for m in messages} >= {_value(r)["event_id"] for r in events}
    # And an unknown flow is a 404 problem
    status, problem = await call(worker.url, "GET", f"/v1/admin/trace/{unique('nobody')}")
    assert status == 404
    assert problem["status"] == 404
