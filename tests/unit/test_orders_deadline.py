"""An order ERP never decides is cancelled after the decision timeout (issue 12.4)."""

import asyncio
import datetime as dt
from typing import Any, cast

import msgspec

from agents.deadlines import SCAN_KEYS, DecisionDeadlines
from agents.runtime.rows import TableRows
from protocols.order_commands import DecisionOverdue
from protocols.orders import OrderCancelled, OrderStatus
from protocols.reservations import ReleaseReservation
from tables.keys import seen_key, value_key
from tables.order.batch import encode_order
from tables.order.deadline import decision_overdue, overdue_notice
from tables.order.value import Order
from tests.unit.test_orders_support import (
    BACKORDERED,
    HELD,
    NOW,
    ORDER,
    RELEASED,
    RESERVED,
    effects,
    run,
    step,
)

S = OrderStatus
DAY = dt.timedelta(days=1)


def test_an_order_waiting_for_erp_is_overdue_after_the_timeout() -> None:
    for state in (RESERVED, BACKORDERED, HELD):
        order = run(*state)
        assert not decision_overdue(order, NOW + DAY - dt.timedelta(seconds=1), DAY)
        assert decision_overdue(order, NOW + DAY, DAY)


def test_an_order_erp_decided_is_never_overdue() -> None:
    assert not decision_overdue(run(*RELEASED), NOW + 10 * DAY, DAY)


def test_the_notice_cancels_the_order_and_gives_its_stock_back() -> None:
    result = step(run(*RESERVED), overdue_notice(run(*RESERVED), NOW + DAY))
    (event,) = result.events
    assert isinstance(event, OrderCancelled)
    assert event.reason == "decision_timeout"
    assert result.order.status is S.CANCELLED
    assert effects(result) == [
        ("ReleaseReservation", f"{ORDER}:1:release"),
        ("ReleaseReservation", f"{ORDER}:2:release"),
    ]
    assert all(isinstance(c, ReleaseReservation) for c in result.stock_commands)


def test_a_notice_that_arrives_after_erp_decided_changes_nothing() -> None:
    notice = overdue_notice(run(*RESERVED), NOW + DAY)
    order = run(*RELEASED)
    result = step(order, notice)
    assert result.duplicate
    assert result.order == order


class _Rows:
    """One order partition's stored rows, as the deadline scan reads them."""

    def __init__(self, rows: dict[bytes, bytes]) -> None:
        self.rows = rows

    def partition(self, partition: int) -> "_Rows":
        return self

    def scan(self, from_key: bytes, limit: int) -> list[tuple[bytes, bytes]]:
        return [(k, v) for k, v in sorted(self.rows.items()) if k >= from_key][:limit]


class _Inbox:
    def __init__(self) -> None:
        self.sent: list[tuple[bytes, bytes]] = []

    async def send(self, *, key: bytes, value: bytes, headers: list[tuple[str, bytes]]) -> None:
        self.sent.append((key, value))


def stored(order: Order, order_id: str) -> dict[bytes, bytes]:
    """The order's value row under `order_id`, and a seen row beside it."""
    renamed = msgspec.structs.replace(order, order_id=order_id)
    return {value_key(order_id): encode_order(renamed), seen_key(order_id, "x"): b"1"}


def test_the_clock_sends_each_overdue_order_of_its_partitions_a_notice() -> None:
    # Given a partition with an order waiting for ERP and one ERP decided, both 2 days old
    rows = {**stored(run(*RESERVED), "SO-A"), **stored(run(*RELEASED), "SO-B")}
    rows[b"__offset__"] = msgspec.msgpack.encode(42)  # the store's own bookkeeping
    inbox = _Inbox()
    deadlines = DecisionDeadlines(
        cast(TableRows, _Rows(rows)), cast(Any, inbox), DAY, clock=lambda: NOW + 2 * DAY
    )
    # When the clock ticks
    sent = asyncio.run(deadlines.tick([0]))
    # Then only the waiting one is sent its notice, on its own key
    assert sent == 1
    ((key, value),) = inbox.sent
    notice = msgspec.json.decode(value, type=DecisionOverdue)
    assert (key, notice.order_id, notice.event_id) == (b"SO-A", "SO-A", "SO-A:decision_timeout")


def test_the_clock_reads_a_large_partition_a_slice_at_a_time() -> None:
    rows: dict[bytes, bytes] = {}
    for n in range(SCAN_KEYS):  # two rows per order: twice the slice
        rows |= stored(run(*RESERVED), f"SO-{n:05d}")
    deadlines = DecisionDeadlines(cast(TableRows, _Rows(rows)), cast(Any, _Inbox()), DAY)
    first = deadlines.overdue(0, NOW + 2 * DAY)
    second = deadlines.overdue(0, NOW + 2 * DAY)
    assert len(first) + len(second) == SCAN_KEYS
    assert {n.order_id for n in first}.isdisjoint(n.order_id for n in second)
    # the slice after the last finds the end, and the next round starts again
    assert deadlines.overdue(0, NOW + 2 * DAY) == []
    assert deadlines.overdue(0, NOW + 2 * DAY) == first
