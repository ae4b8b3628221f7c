"""Backorders fill themselves, oldest order first, and receipts are promised once (issue 12.2)."""

import datetime as dt

from protocols.erp import ExpectedReceipt
from protocols.inventory import StockAdjusted, StockHoldChanged, StockReceived
from protocols.reservations import (
    BackorderFilled,
    BackorderPromised,
    Deallocate,
    Fill,
    FillBackorder,
    LineReserved,
    LineUnreservable,
    ReleaseReservation,
    ReserveLine,
)
from tables.keys import queue_key
from tables.stock.apply import Applied
from tables.stock.atp import check_line
from tables.stock.batch import stock_batches
from tables.stock.value import Position, SkuStock
from tests.support.tables import NOW, StockTable, delivery

SKU = "SKU-1"
EAST, WEST = "DC-EAST", "DC-WEST"
TODAY = NOW.date()
PO_DATE = dt.date(2026, 3, 20)


def submitted(minutes: int) -> dt.datetime:
    """An order's submission, `minutes` after 9:00 on the test day."""
    return NOW.replace(hour=9, minute=0) + dt.timedelta(minutes=minutes)


def reserve(order: str, qty: int, at: int, wh: str | None = None) -> ReserveLine:
    """Order `order`'s line 1 asks for `qty`, allowing backorders; submitted at minute `at`."""
    return ReserveLine(
        event_id=f"{order}:1:reserve",
        sku=SKU,
        order_id=order,
        line_no=1,
        qty=qty,
        warehouse=wh,
        partial=True,
        submitted_at=submitted(at),
        correlation_id=f"corr-{order}",
    )


def received(qty: int, wh: str = EAST, eid: str = "r-1", po: str | None = None) -> StockReceived:
    return StockReceived(event_id=eid, sku=SKU, warehouse=wh, occurred_at=NOW, qty=qty, po_id=po)


def expected(qty: int, eta: dt.date = PO_DATE, po: str = "PO-1", wh: str = EAST) -> ExpectedReceipt:
    return ExpectedReceipt(event_id=f"erp-{po}", po_id=po, sku=SKU, warehouse=wh, qty=qty, eta=eta)


def release(order: str) -> ReleaseReservation:
    return ReleaseReservation(event_id=f"{order}:1:release", sku=SKU, order_id=order, line_no=1)


def fills(answers: tuple[object, ...]) -> list[tuple[str, tuple[Fill, ...]]]:
    """Each BackorderFilled as (order, fills)."""
    return [(a.order_id, a.fills) for a in answers if isinstance(a, BackorderFilled)]


def promises(answers: tuple[object, ...]) -> dict[str, dt.date | None]:
    """Each BackorderPromised as order -> date."""
    return {a.order_id: a.promise_date for a in answers if isinstance(a, BackorderPromised)}


def empty_warehouse() -> StockTable:
    return StockTable.holding(SkuStock(sku=SKU, positions=(Position(EAST),), last_offset=0))


def test_a_receipt_fills_the_oldest_backorder_first() -> None:
    # Given nothing on hand, and two orders backordered: O-NEW reserved before O-OLD, but
    # O-OLD was submitted first
    table = empty_warehouse()
    table.send(reserve("O-NEW", 5, at=10))
    table.send(reserve("O-OLD", 5, at=1))
    assert table.stock.queued == 10
    # When 7 arrive
    applied = table.send(received(7))
    # Then the older order takes 5, the newer the 2 left, and the 7 are reserved for them
    assert fills(applied.answers) == [("O-OLD", (Fill(EAST, 5),)), ("O-NEW", (Fill(EAST, 2),))]
    assert [(h.order_id, h.reserved) for h in table.lines] == [("O-NEW", 2), ("O-OLD", 5)]
    position = table.stock.positions[0]
    assert (position.on_hand, position.reserved, position.atp) == (7, 7, 0)
    assert table.stock.queued == 3
    # And the stock change published says so
    (change,) = applied.changes
    assert (change.reserved, change.atp) == (7, 0)


def test_a_new_order_does_not_jump_ahead_of_older_backorders() -> None:
    # Given an order backordered for 5
    table = empty_warehouse()
    table.send(reserve("O-1", 5, at=1))
    # When 3 arrive, and then a new order asks for 3
    table.send(received(3))
    (answer,) = table.send(reserve("O-2", 3, at=2)).answers
    # Then the 3 went to the older order and the new one is backordered behind it
    assert isinstance(answer, LineUnreservable)
    assert table.stock.queued == 2 + 3
    # And the next 4 units serve O-1's last 2 before O-2 gets its first 2
    applied = table.send(received(4, eid="r-2"))
    assert fills(applied.answers) == [("O-1", (Fill(EAST, 2),)), ("O-2", (Fill(EAST, 2),))]


def test_every_way_atp_rises_serves_the_queue() -> None:
    # Given 10 on hand, 4 blocked, 6 reserved by O-1, and O-2 waiting for 3
    table = StockTable.holding(
        SkuStock(sku=SKU, positions=(Position(EAST, on_hand=10, blocked=4),), last_offset=0)
    )
    table.send(reserve("O-1", 6, at=1))
    table.send(reserve("O-2", 3, at=2))
    # When the hold is lifted by 1, stock is adjusted up by 1, and O-1 is released
    lifted = table.send(
        StockHoldChanged(event_id="h", sku=SKU, warehouse=EAST, occurred_at=NOW, delta=-1)
    )
    adjusted = table.send(
        StockAdjusted(event_id="a", sku=SKU, warehouse=EAST, occurred_at=NOW, delta=1)
    )
    released = table.send(release("O-1"))
    # Then each time O-2 takes what rose, until it is whole
    assert fills(lifted.answers) == [("O-2", (Fill(EAST, 1),))]
    assert fills(adjusted.answers) == [("O-2", (Fill(EAST, 1),))]
    assert fills(released.answers) == [("O-2", (Fill(EAST, 1),))]
    assert table.stock.queued == 0
    assert table.holds("O-2", 1)[0].reserved == 3


def test_a_fill_comes_from_the_warehouse_whose_atp_rose() -> None:
    # Given O-1 asked anywhere and waits for 4; DC-WEST has 2 the line did not take
    # (it asked for DC-EAST only), and O-2 asked for DC-WEST
    table = StockTable.holding(
        SkuStock(sku=SKU, positions=(Position(EAST), Position(WEST)), last_offset=0)
    )
    table.send(reserve("O-1", 4, at=1, wh=EAST))
    table.send(reserve("O-2", 4, at=2))
    # When DC-WEST receives 3
    applied = table.send(received(3, wh=WEST))
    # Then O-2, the oldest that may take from DC-WEST, gets them there
    assert fills(applied.answers) == [("O-2", (Fill(WEST, 3),))]


def test_cancelled_and_rejected_lines_leave_the_queue_once() -> None:
    # Given two backorders
    table = empty_warehouse()
    table.send(reserve("O-1", 5, at=1))
    table.send(reserve("O-2", 5, at=2))
    # When O-1 is cancelled before release (twice over: a re-send) and O-2 after release
    table.send(release("O-1"))
    table.send(release("O-1"))
    table.send(Deallocate(event_id="O-2:1:deallocate", sku=SKU, order_id="O-2", line_no=1))
    # Then nothing waits any more, and a receipt fills nobody
    assert table.stock.queued == 0
    assert fills(table.send(received(5)).answers) == []
    assert table.stock.positions[0].atp == 5


def test_units_picked_short_wait_in_their_orders_place() -> None:
    # Given O-2 waiting for 3; O-1, submitted earlier, has 2 units picked short
    table = empty_warehouse()
    table.send(reserve("O-2", 3, at=2))
    table.send(
        FillBackorder(
            event_id="O-1:1:refill@1",
            sku=SKU,
            order_id="O-1",
            line_no=1,
            qty=2,
            short_at=EAST,
            submitted_at=submitted(1),
        )
    )
    # When 2 arrive, O-1's short units go first
    applied = table.send(received(2))
    assert fills(applied.answers) == [("O-1", (Fill(EAST, 2),))]


def test_the_same_po_units_are_never_promised_twice() -> None:
    # Given ATP 2 and a PO of 10 due on the 20th
    table = StockTable.holding(
        SkuStock(sku=SKU, positions=(Position(EAST, on_hand=2),), last_offset=0)
    )
    table.send(expected(10))
    # When three orders ask for 8 each
    answers = [table.send(reserve(f"O-{n}", 8, at=n)).answers for n in (1, 2, 3)]
    # Then the first takes the 2 and is promised the PO's date for its 6; the 4 left of the
    # PO do not cover the second, and nothing covers the third
    first, second, third = answers
    assert isinstance(first[0], LineReserved)
    assert promises(first) == {"O-1": PO_DATE}
    assert promises(second) == {}  # no date: nothing to tell
    assert promises(third) == {}
    (supply,) = table.stock.positions[0].incoming
    assert (supply.qty, supply.promised) == (10, 10)
    # And an ATP check for 1 more is not promised the PO's date either
    assert check_line(table.stock, SKU, 1, None, TODAY).promise_date is None


def test_promises_move_as_the_queue_and_the_receipts_change() -> None:
    # Given a PO of 10 on the 20th, and orders waiting for 6 and 5: the second is not covered
    table = empty_warehouse()
    table.send(expected(10))
    assert promises(table.send(reserve("O-1", 6, at=1)).answers) == {"O-1": PO_DATE}
    assert promises(table.send(reserve("O-2", 5, at=2)).answers) == {}
    # When a PO of 5 comes in for the 10th, O-1 takes it first (and 1 of the later PO, so
    # its date stays), and O-2 is now covered by the later PO: only O-2 is told
    earlier = dt.date(2026, 3, 10)
    applied = table.send(expected(5, eta=earlier, po="PO-2"))
    assert promises(applied.answers) == {"O-2": PO_DATE}
    # When O-1 leaves, the earlier PO covers O-2: it is told the earlier date
    applied = table.send(release("O-1"))
    assert promises(applied.answers) == {"O-2": earlier}
    # And a check sees only what the queue leaves: the later PO's 10
    assert check_line(table.stock, SKU, 10, EAST, TODAY).promise_date == PO_DATE
    assert check_line(table.stock, SKU, 11, EAST, TODAY).promise_date is None


def test_a_redelivered_receipt_sends_its_fills_again_and_changes_nothing() -> None:
    # Given a receipt that filled a backorder
    table = empty_warehouse()
    table.send(reserve("O-1", 5, at=1))
    first = table.send(received(5))
    rows = dict(table.rows)
    # When Kafka delivers it again (the first answers may have been lost in a crash),
    # and the WMS re-sends it at a new offset
    again = table.deliver(received(5), offset=table.stock.last_offset)
    resent = table.send(received(5))
    # Then the same fill is answered again, under the same id, and nothing else changes
    for applied in (again, resent):
        assert isinstance(applied, Applied)
        assert (applied.duplicate, applied.answers) == (True, first.answers)
    assert table.rows == rows


def test_a_sku_nobody_backordered_writes_no_queue() -> None:
    table = empty_warehouse()
    table.send(received(5))
    table.send(reserve("O-1", 5, at=1))
    assert queue_key(SKU) not in table.rows


def test_one_batch_applies_a_backorder_and_the_receipt_that_fills_it() -> None:
    # Given a reserve and a receipt in one fetch of the partition
    table = empty_warehouse()
    runner = stock_batches(NOW)
    outcomes = runner.run(
        table.rows,
        [delivery(SKU, reserve("O-1", 5, at=1), 1), delivery(SKU, received(5), 2)],
    )
    # Then the receipt fills the line the same batch queued
    filled = outcomes[1]
    assert isinstance(filled, Applied)
    assert fills(filled.answers) == [("O-1", (Fill(EAST, 5),))]
    assert table.holds("O-1", 1)[0].reserved == 5


def test_an_overdue_receipt_is_promised_for_today_where_the_business_runs() -> None:
    # Given 23:30 UTC, already tomorrow at UTC+9, and a PO for 5 overdue since last week
    late = NOW.replace(hour=23, minute=30)
    overdue = late.date() - dt.timedelta(days=7)
    east_asia = dt.timezone(dt.timedelta(hours=9))
    for zone, today in ((dt.UTC, late.date()), (east_asia, late.date() + dt.timedelta(days=1))):
        table = StockTable(SKU, now=late, zone=zone)
        table.send(expected(5, eta=overdue))
        # When an order backorders 3
        applied = table.send(reserve("O-1", 3, at=1))
        # Then they are promised for today as DISTGATE_TIMEZONE counts it, not as UTC does
        assert promises(applied.answers) == {"O-1": today}, zone
