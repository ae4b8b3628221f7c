"""The trace index: a flow's messages by correlation id, in time order, bounded in bytes."""

import datetime as dt

import orjson
from aiokafka import ConsumerRecord

from app.read.trace_index import MAX_PER_FLOW, TraceIndex, traced_topics
from protocols.topics import Topics
from protocols.trace_headers import trace_id_of

TOPICS = Topics.for_app("distgate")
T0_MS = int(dt.datetime(2026, 12, 2, 9, 0, tzinfo=dt.UTC).timestamp() * 1000)


def record(
    topic: str,
    value: dict[str, str],
    *,
    at_s: float,
    correlation_id: str | None = None,
    key: str = "SO-1",
    offset: int = 0,
) -> ConsumerRecord:
    headers = [] if correlation_id is None else [("correlation_id", correlation_id.encode())]
    return ConsumerRecord(
        topic, 0, offset, T0_MS + int(at_s * 1000), 0, key.encode(), orjson.dumps(value),
        None, 0, 0, headers,
    )  # fmt: skip


def submit(order_id: str, correlation_id: str, at_s: float = 0) -> ConsumerRecord:
    value = {"type": "SubmitOrder", "event_id": f"{order_id}:submit", "order_id": order_id}
    return record(
        TOPICS.order_inbox.name, value, at_s=at_s, correlation_id=correlation_id, key=order_id
    )


def test_a_flow_lists_its_messages_in_time_order_whatever_order_they_were_read_in() -> None:
    # Given an order's records on several topics, read topic after topic
    index = TraceIndex(traced_topics(TOPICS, "distgate"))
    event = {"type": "OrderReserved", "event_id": "e-2", "order_id": "SO-1"}
    release = {"type": "ReleaseToWarehouse", "event_id": "e-4", "order_id": "SO-1"}
    change = {"type": "StockChanged", "event_id": "e-3"}
    for rec in (
        record(TOPICS.wms_commands.name, release, at_s=3, correlation_id="c-1"),
        record(TOPICS.orders_events.name, event, at_s=1, correlation_id="c-1"),
        submit("SO-1", "c-1"),
        record(TOPICS.inventory_events.name, change, at_s=2, correlation_id="c-1", key="SKU-1"),
        submit("SO-2", "c-2", at_s=1.5),  # another flow
    ):
        index.add_record(rec)
    # When its trace is asked for
    trace = index.trace("c-1")
    # Then it holds that flow's messages only, oldest first, each saying what it is
    assert trace is not None
    assert trace.trace_id == trace_id_of("c-1")
    assert [(m.kind, m.type) for m in trace.messages] == [
        ("http_command", "SubmitOrder"),
        ("order_event", "OrderReserved"),
        ("stock_change", "StockChanged"),
        ("wms_command", "ReleaseToWarehouse"),
    ]
    assert index.trace("unknown") is None


def test_an_erp_decision_and_a_wms_confirmation_join_their_orders_flow() -> None:
    # Given an order submitted in flow c-1
    index = TraceIndex(traced_topics(TOPICS, "distgate"))
    index.add_record(submit("SO-1", "c-1"))
    # When ERP's decision comes with the relay's own correlation id, and a WMS pick with none
    decision = {"type": "OrderConfirmed", "event_id": "erp-9", "order_id": "SO-1"}
    pick = {"type": "PickConfirmed", "event_id": "wms:W1:T1", "order_id": "SO-1"}
    inbox = TOPICS.order_inbox.name
    index.add_record(record(inbox, decision, at_s=1, correlation_id="erp-9", offset=1))
    index.add_record(record(inbox, pick, at_s=2, correlation_id="wms-abc", offset=2))
    # Then both are in the order's flow, and no flow of their own was made
    trace = index.trace("c-1")
    assert trace is not None
    assert [m.kind for m in trace.messages] == ["http_command", "erp_decision", "wms_confirmation"]
    assert index.trace("erp-9") is None
    assert index.trace("wms-abc") is None


def test_internal_traffic_and_records_without_a_flow_are_not_indexed() -> None:
    index = TraceIndex(traced_topics(TOPICS, "distgate"))
    answer = {"type": "LineReserved", "event_id": "e-1", "order_id": "SO-1"}
    event = {"type": "OrderReserved", "event_id": "e-2", "order_id": "SO-1"}
    index.add_record(record(TOPICS.order_inbox.name, answer, at_s=0, correlation_id="c-1"))
    index.add_record(record(TOPICS.orders_events.name, event, at_s=0))  # no header
    index.add_record(record(TOPICS.stock_inbox.name, event, at_s=0, correlation_id="c-1"))
    assert len(index) == 0


def test_memory_is_bounded_and_the_least_recently_active_flows_go_first() -> None:
    # Given an index with room for a few flows
    index = TraceIndex(traced_topics(TOPICS, "distgate"), budget_bytes=6_000)
    # When many flows arrive, the first one staying active
    for n in range(20):
        index.add_record(submit(f"SO-{n}", f"c-{n}", at_s=n))
        event = {"type": "OrderReserved", "event_id": f"e-{n}", "order_id": "SO-0"}
        index.add_record(record(TOPICS.orders_events.name, event, at_s=n, correlation_id="c-0"))
    # Then it never holds more than its budget, the old idle flows are gone, the active one kept
    assert index.held_bytes <= index.budget_bytes
    assert 1 < len(index) < 20
    assert index.trace("c-1") is None
    assert index.trace("c-19") is not None
    assert index.trace("c-0") is not None


def test_one_flow_keeps_at_most_its_share_and_says_it_was_cut() -> None:
    index = TraceIndex(traced_topics(TOPICS, "distgate"))
    for n in range(MAX_PER_FLOW + 5):
        change = {"type": "StockChanged", "event_id": f"e-{n}"}
        rec = record(TOPICS.inventory_events.name, change, at_s=n, correlation_id="hot", offset=n)
        index.add_record(rec)
    trace = index.trace("hot")
    assert trace is not None
    assert len(trace.messages) == MAX_PER_FLOW
    assert trace.truncated


def test_another_deployments_records_on_the_shared_topics_are_not_indexed() -> None:
    # Given two deployments' StockChanged records on inventory.events, with CloudEvents headers
    index = TraceIndex(traced_topics(TOPICS, "distgate"))
    change = {"type": "StockChanged", "event_id": "e-1"}
    for app_id, flow_id in (("shop-b", "theirs"), ("distgate", "ours")):
        rec = record(TOPICS.inventory_events.name, change, at_s=0, correlation_id=flow_id)
        rec.headers.extend(
            [("ce_source", f"/distgate/{app_id}/stock".encode()), ("ce_type", b"StockChanged")]
        )
        index.add_record(rec)
    # Then only this deployment's flow is known, typed from its headers
    assert index.trace("theirs") is None
    ours = index.trace("ours")
    assert ours is not None
    assert [(m.kind, m.type) for m in ours.messages] == [("stock_change", "StockChanged")]
