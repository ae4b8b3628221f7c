"""Applying a partition's inputs in batches: the same rows and outcomes as one at a time,
exact dedupe at any distance, failures that stay their own, and seen rows that expire."""

import datetime as dt
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import msgspec
from hypothesis import given, settings
from hypothesis import strategies as st
from msgspec.structs import replace

from protocols.erp import (
    ErpOrderConfirmed,
    ErpOrderCreditHold,
    ErpOrderCreditReleased,
    ErpOrderRejected,
)
from protocols.http import OrderLineRequest
from protocols.inventory import StockAdjusted, StockCounted, StockHoldChanged, StockReceived
from protocols.order_commands import CancelOrder, SubmitOrder
from protocols.reservations import (
    AllocateLine,
    Deallocate,
    LineReserved,
    LineUnreservable,
    RecordShipment,
    RecordShortPick,
    ReleaseReservation,
    ReserveLine,
)
from tables.batch import BatchRunner, Delivery, Failed
from tables.keys import seen_key, value_key
from tables.order.batch import order_batches
from tables.seen import day_number, is_expired
from tables.stock.apply import Applied
from tables.stock.batch import decode_stock, stock_batches
from tables.stock.value import Position, Reservation
from tests.support.tables import NOW, DictRows, StockTable, delivery

SKUS = ("SKU-1", "SKU-2")
WAREHOUSES = ("DC-A", "DC-B")
STOCK_ORDERS = ("O-1", "O-2")
ORDERS = ("SO-1", "SO-2")
BATCHES = settings(max_examples=100, deadline=None)

T = TypeVar("T")


# --- the partition as a consumer sees it -------------------------------------------------

skus = st.sampled_from(SKUS)
warehouses = st.sampled_from(WAREHOUSES)
_fact = {"event_id": st.just("-"), "sku": skus, "warehouse": warehouses}
_wms = {**_fact, "occurred_at": st.just(NOW)}
_line = {
    "event_id": st.just("-"),
    "sku": skus,
    "order_id": st.sampled_from(STOCK_ORDERS),
    "line_no": st.integers(1, 2),
}
_reserve = st.builds(ReserveLine, **_line, qty=st.integers(1, 6), warehouse=st.none() | warehouses)
_allocate = st.builds(AllocateLine, **_line)

_receive = st.builds(StockReceived, **_wms, qty=st.integers(1, 9))


def weighted(*options: st.SearchStrategy[T]) -> st.SearchStrategy[T]:
    """One of `options`, each as often as it is listed (`one_of` would count it once)."""
    return st.sampled_from(options).flatmap(lambda option: option)


stock_messages: st.SearchStrategy[msgspec.Struct] = weighted(
    _receive,
    _receive,
    _receive,
    st.builds(StockAdjusted, **_wms, delta=st.integers(-6, 6)),
    st.builds(StockCounted, **_wms, on_hand=st.integers(0, 12)),
    st.builds(StockHoldChanged, **_wms, delta=st.integers(-3, 5)),
    _reserve,
    _reserve,
    st.builds(ReleaseReservation, **_line),
    _allocate,
    _allocate,
    st.builds(RecordShortPick, **_line, short=st.integers(1, 3)),
    st.builds(RecordShipment, **_line, qty=st.integers(1, 3)),
    st.builds(Deallocate, **_line),
)
"""Stock facts and order lines' commands on a few SKUs, many of them refused by a rule."""

LINES = (OrderLineRequest(1, "SKU-1", 2), OrderLineRequest(2, "SKU-2", 1, "DC-A"))
_order = {"event_id": st.just("-"), "order_id": st.sampled_from(ORDERS)}
_request = {**_order, "at": st.just(NOW), "correlation_id": st.just("c")}
_answer = {**_order, "line_no": st.just(1), "sku": st.just("SKU-1"), "qty": st.just(2)}

_submit = st.builds(
    SubmitOrder,
    **_request,
    customer_id=st.just("C-1"),
    channel=st.just("web"),
    lines=st.just(LINES),
    backorder=st.sampled_from(("allow", "reject")),
    digest=st.sampled_from(("d-1", "d-2")),
)
_reserved = st.builds(LineReserved, **_answer, warehouse=warehouses)

order_messages: st.SearchStrategy[msgspec.Struct] = weighted(
    _submit,
    _submit,
    _reserved,
    _reserved,
    st.builds(LineUnreservable, **_answer, atp=st.just(0)),
    st.builds(
        LineReserved,
        **_order,
        line_no=st.just(2),
        sku=st.just("SKU-2"),
        qty=st.just(1),
        warehouse=st.just("DC-A"),
    ),
    st.builds(ErpOrderConfirmed, **_order),
    st.builds(ErpOrderCreditHold, **_order, reason=st.just("limit")),
    st.builds(ErpOrderCreditReleased, **_order),
    st.builds(ErpOrderRejected, **_order, reason=st.just("no")),
    st.builds(CancelOrder, **_request),
)
"""Submits, reservation answers, ERP's decisions and cancels for a few orders."""


Step = tuple[str, Any]
"""What happens next on the partition, and with what: a message, a count or an index."""


def steps(messages: st.SearchStrategy[msgspec.Struct]) -> st.SearchStrategy[list[Step]]:
    """What happens next on the partition: a new message mostly, else a repeat or a bad record."""
    return st.lists(
        weighted(
            *[st.tuples(st.just("new"), messages)] * 12,
            st.tuples(st.just("rewind"), st.integers(1, 8)),  # Kafka redelivers the last n
            st.tuples(st.just("resend"), st.integers(0, 10**6)),  # same id, new offset
            st.tuples(st.just("replay"), st.integers(0, 10**6)),  # a dead letter, no offset
            st.tuples(st.just("bad"), st.sampled_from(("malformed", "wrong_key"))),
        ),
        min_size=10,
        max_size=80,
    )


def consumed(
    drawn: list[Step], entity: Callable[[Any], str], others: Sequence[str]
) -> list[Delivery]:
    """Every delivery a consumer gets, in order: the topic's records, rewinds and repeats."""
    topic: list[Delivery] = []
    stream: list[Delivery] = []

    def publish(key: bytes, value: bytes) -> None:
        topic.append(Delivery(len(topic), key, value))
        stream.append(topic[-1])

    for n, (kind, arg) in enumerate(drawn):
        if kind == "new":
            message = replace(arg, event_id=f"e-{n}")
            publish(value_key(entity(message)), msgspec.json.encode(message))
        elif kind == "bad" and arg == "malformed":
            publish(value_key(others[0]), b'{"type": "StockReceived", "sku": ')
        elif kind == "bad":  # a record whose key names another entity than its message
            message = next((d for d in reversed(topic) if d.key != value_key(others[1])), None)
            if message is not None:
                publish(value_key(others[1]), message.value)
        elif topic and kind == "rewind":
            stream.extend(topic[-arg:])
        elif topic and kind == "resend":
            publish(topic[arg % len(topic)].key, topic[arg % len(topic)].value)
        elif topic and kind == "replay":
            earlier = topic[arg % len(topic)]
            stream.append(Delivery(None, earlier.key, earlier.value))
    return stream


def in_batches(data: st.DataObject, stream: list[Delivery]) -> list[list[Delivery]]:
    """`stream` cut into batches of random sizes, as fetches would hand them over."""
    batches, start = [], 0
    while start < len(stream):
        size = data.draw(st.integers(1, 16), label="batch size")
        batches.append(stream[start : start + size])
        start += size
    return batches


def assert_batches_change_nothing(
    runner: BatchRunner[Any], stream: list[Delivery], data: st.DataObject
) -> None:
    """Batched, `stream` leaves the same rows and the same outcome for each delivery."""
    one_by_one, singly = DictRows(), []
    for item in stream:
        singly.extend(runner.run(one_by_one, [item]))
    batched_rows, batched = DictRows(), []
    for batch in in_batches(data, stream):
        batched.extend(runner.run(batched_rows, batch))
    assert batched_rows == one_by_one
    assert batched == singly
    assert not any(isinstance(o, Failed) and o.reason == "unexpected_error" for o in singly)


@BATCHES
@given(steps(stock_messages), st.data())
def test_stock_batches_apply_as_one_delivery_at_a_time(
    drawn: list[Step], data: st.DataObject
) -> None:
    stream = consumed(drawn, lambda m: m.sku, SKUS)
    assert_batches_change_nothing(stock_batches(NOW), stream, data)


@BATCHES
@given(steps(order_messages), st.data())
def test_order_batches_apply_as_one_delivery_at_a_time(
    drawn: list[Step], data: st.DataObject
) -> None:
    stream = consumed(drawn, lambda m: m.order_id, ORDERS)
    runner = order_batches(NOW, auto_confirm=False)
    assert_batches_change_nothing(runner, stream, data)


# --- exact dedupe, at any distance -------------------------------------------------------


def received(qty: int, wh: str, eid: str, sku: str = "SKU-1") -> StockReceived:
    return StockReceived(event_id=eid, sku=sku, warehouse=wh, occurred_at=NOW, qty=qty)


def adjusted(delta: int, wh: str, eid: str, sku: str = "SKU-1") -> StockAdjusted:
    return StockAdjusted(event_id=eid, sku=sku, warehouse=wh, occurred_at=NOW, delta=delta)


def test_a_receipt_resent_after_1000_other_events_on_its_sku_is_applied_once() -> None:
    # Given a receipt of 5 in DC-A, then 1,000 other events on SKU-1, in batches of 100
    runner, rows = stock_batches(NOW), DictRows()
    first = received(5, "DC-A", "r-first")
    others = [
        adjusted(-1, "DC-B", f"o-{n}") if n % 2 else received(2, "DC-B", f"o-{n}")
        for n in range(1_000)
    ]
    topic = [delivery("SKU-1", m, offset) for offset, m in enumerate([first, *others])]
    for start in range(0, len(topic), 100):
        runner.run(rows, topic[start : start + 100])
    # When the WMS publishes the receipt again, in a batch with one new receipt
    resent = delivery("SKU-1", first, 1_001)
    outcomes = runner.run(rows, [resent, delivery("SKU-1", received(1, "DC-A", "r-new"), 1_002)])
    # Then DC-A counts the 5 once, and the new receipt on top
    stock = decode_stock(rows[value_key("SKU-1")])
    assert [o.duplicate for o in outcomes if isinstance(o, Applied)] == [True, False]
    assert stock.position("DC-A") == Position("DC-A", on_hand=6)
    assert stock.position("DC-B") == Position("DC-B", on_hand=500)


# --- one failure fails one delivery ------------------------------------------------------


def test_failures_in_a_batch_fail_only_themselves() -> None:
    # Given line 1 of O-1 holds 4 of SKU-1's 10 in DC-A
    table = StockTable("SKU-1")
    table.send(received(10, "DC-A", "r-1"))
    table.send(ReserveLine(event_id="res", sku="SKU-1", order_id="O-1", line_no=1, qty=4))
    ship = RecordShipment(event_id="ship", sku="SKU-1", order_id="O-1", line_no=1, qty=1)
    allocate = AllocateLine(event_id="alloc", sku="SKU-1", order_id="O-1", line_no=1)
    # When one batch carries good events for SKU-1 and, between them, three that cannot apply
    key = value_key("SKU-1")
    batch = [
        delivery("SKU-1", received(3, "DC-A", "r-2"), 2),
        Delivery(3, key, b'{"type": "StockReceived", "sku": '),  # cut off
        delivery("SKU-1", received(7, "DC-A", "r-other", sku="SKU-2"), 4),  # keyed to SKU-1
        delivery("SKU-1", ship, 5),  # line 1 holds nothing allocated yet
        delivery("SKU-1", allocate, 6),
        delivery("SKU-1", adjusted(-2, "DC-A", "a-1"), 7),
    ]
    outcomes = stock_batches(NOW).run(table.rows, batch)
    # Then each of the three fails with its own reason
    assert [o.reason for o in outcomes if isinstance(o, Failed)] == [
        "malformed",
        "key_mismatch",
        "shipment_exceeds_allocation",
    ]
    assert [isinstance(o, Applied) for o in outcomes] == [True, False, False, False, True, True]
    # And the others applied as if the three had never arrived
    assert table.stock.position("DC-A") == Position("DC-A", on_hand=11, allocated=4)
    assert table.lines == (Reservation("O-1", 1, "DC-A", reserved=0, allocated=4),)
    assert (table.stock.last_offset, table.stock.version) == (7, 5)
    assert [table.has_seen(eid) for eid in ("r-2", "alloc", "a-1")] == [True] * 3
    assert not table.has_seen("ship")
    assert not table.has_seen("r-other")
    assert value_key("SKU-2") not in table.rows


# --- seen rows: the day they were written, swept once the dedupe period is over ---------


def test_day_number_counts_utc_days_since_1970() -> None:
    assert day_number(dt.datetime(1970, 1, 1, tzinfo=dt.UTC)) == 0
    assert day_number(NOW) == 20_514  # 2026-03-02
    # a local time past midnight is still the UTC day before
    late = dt.datetime(2026, 3, 3, 1, 0, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    assert day_number(late) == day_number(NOW)


def test_a_seen_row_expires_after_the_dedupe_period() -> None:
    # Given a receipt applied today, with 7 days of dedupe
    table = StockTable("SKU-1")
    table.send(received(1, "DC-A", "r-1"))
    row = table.rows[seen_key("SKU-1", "r-1")]
    today = day_number(NOW)
    # Then its row is kept for 7 days and swept on the 8th
    assert not is_expired(row, today, keep_days=7)
    assert not is_expired(row, today + 7, keep_days=7)
    assert is_expired(row, today + 8, keep_days=7)


def test_a_row_that_is_not_a_day_is_expired() -> None:
    assert is_expired(b"yesterday", day_number(NOW), keep_days=7)
