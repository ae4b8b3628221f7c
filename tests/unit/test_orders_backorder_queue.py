"""The order side of the backorder queue: fills from it, promise dates, leaving it (issue 12.2)."""

import datetime as dt

from protocols.orders import (
    LineStatus,
    OrderBackorderFilled,
    OrderReleased,
    OrderReserved,
    OrderStatus,
)
from protocols.reservations import BackorderFilled, BackorderPromised, ReleaseReservation
from protocols.wms_events import ReleaseToWarehouse
from tests.unit.test_orders_support import (
    BACKORDERED,
    EAST,
    MIXED,
    ORDER,
    WEST,
    backorder_filled,
    cancel,
    confirmed,
    run,
    step,
    submit,
    unreservable,
)

S = OrderStatus
DUE = dt.date(2026, 3, 20)


def promised(no: int, date: dt.date | None, as_of: int, eid: str = "r-1") -> BackorderPromised:
    sku, qty = ("SKU-1", 2) if no == 1 else ("SKU-2", 3)
    return BackorderPromised(
        event_id=f"{eid}:promise:{ORDER}:{no}",
        order_id=ORDER,
        line_no=no,
        sku=sku,
        qty=qty,
        promise_date=date,
        as_of=as_of,
    )


def queue_fill(no: int, sku: str, waiting: int, wh: str, qty: int) -> BackorderFilled:
    return backorder_filled(no, sku, waiting, (wh, qty), eid=f"r-9:fill:{ORDER}:{no}")


def test_a_fill_before_erp_decides_reserves_and_waits_for_erp() -> None:
    # Given a wholly backordered order ERP has not decided
    result = step(run(*BACKORDERED), queue_fill(2, "SKU-2", 3, WEST, 3))
    # Then the line is reserved, the order RESERVED, and nothing goes to a warehouse
    reserved, event = result.events
    assert isinstance(reserved, OrderReserved)
    assert isinstance(event, OrderBackorderFilled)
    assert (event.status, event.line_no, [(f.warehouse, f.qty) for f in event.filled]) == (
        S.RESERVED,
        2,
        [(WEST, 3)],
    )
    line = result.order.lines[1]
    assert (line.status, line.reserved, line.backordered) == (LineStatus.RESERVED, 3, 0)
    assert (result.order.status, result.wms_commands) == (S.RESERVED, ())


def test_a_fill_of_a_confirmed_order_goes_to_its_warehouse_at_once() -> None:
    # Given a confirmed order whose line 2 waits for stock
    order = run(*MIXED, confirmed())
    # When the queue fills 2 of its 3 at DC-WEST
    result = step(order, queue_fill(2, "SKU-2", 3, WEST, 2))
    # Then they are released to DC-WEST with a Release of their own; 1 still waits
    assert [type(e) for e in result.events] == [OrderBackorderFilled]  # it stays RELEASED
    (release,) = result.wms_commands
    assert isinstance(release, ReleaseToWarehouse)
    assert (release.warehouse, [(n.no, n.qty) for n in release.lines]) == (WEST, [(2, 2)])
    line = result.order.lines[1]
    assert (line.allocated, line.backordered) == (2, 1)


def test_a_wholly_backordered_confirmed_order_is_released_by_its_fill() -> None:
    order = run(*BACKORDERED, confirmed())
    assert order.status is S.CONFIRMED
    result = step(order, queue_fill(1, "SKU-1", 2, EAST, 2))
    assert [type(e) for e in result.events] == [OrderBackorderFilled, OrderReleased]
    assert result.order.status is S.RELEASED


def test_a_fill_after_the_order_closed_is_given_back() -> None:
    result = step(run(*MIXED, cancel()), queue_fill(2, "SKU-2", 3, WEST, 3))
    assert [type(c) for c in result.stock_commands] == [ReleaseReservation]
    assert result.events == ()


def test_an_unreservable_answer_after_a_cancel_takes_the_line_out_of_the_queue() -> None:
    order = run(submit(backorder="allow"), cancel())
    result = step(order, unreservable(1, "SKU-1", 2))
    assert [(type(c), c.line_no) for c in result.stock_commands] == [(ReleaseReservation, 1)]


def test_the_latest_promise_wins_and_shows_while_units_wait() -> None:
    # Given a backordered line promised for the 20th, then (later) for none
    order = run(*BACKORDERED, promised(2, DUE, as_of=5), promised(2, None, as_of=7, eid="r-2"))
    assert order.lines[1].state().promise_date is None
    # When an older promise arrives late, it changes nothing
    result = step(order, promised(2, DUE, as_of=6, eid="r-3"))
    assert result.duplicate
    # And a newer one shows on the line
    order = run(*BACKORDERED, promised(2, DUE, as_of=5))
    assert order.lines[1].state().promise_date == DUE
    # And once the line no longer waits, no date shows
    order = step(order, queue_fill(2, "SKU-2", 3, WEST, 3)).order
    assert order.lines[1].state().promise_date is None
