"""The order from submit to RESERVED, BACKORDERED or REJECTED, and late answers."""

import pytest
from msgspec.structs import replace

from protocols.order_commands import SubmitOrder
from protocols.orders import (
    LineStatus,
    OrderBackordered,
    OrderConfirmed,
    OrderLineState,
    OrderRejected,
    OrderReleased,
    OrderReserved,
    OrderStatus,
    OrderStatusChanged,
    OrderSubmitted,
)
from protocols.reservations import (
    AllocateLine,
    LineReserved,
    LineUnreservable,
    ReleaseReservation,
    ReserveLine,
)
from protocols.wms import NumberedLine
from protocols.wms_events import ReleaseToWarehouse
from tables.errors import DomainError
from tables.order.apply import apply
from tables.order.value import InvalidOrderTransition, StatusEntry
from tests.unit.test_orders_support import (
    CORRELATION,
    CUSTOMER,
    EAST,
    NOW,
    ORDER,
    WEST,
    cancel,
    confirmed,
    erp_rejected,
    reserved,
    run,
    step,
    submit,
    unreservable,
)

S = OrderStatus


def test_submit_opens_the_order_at_version_1_and_asks_to_reserve_each_line() -> None:
    # When a new order is submitted
    result = apply(None, submit(), 7, NOW, False)
    # Then it is SUBMITTED at version 1, its lines unanswered, the delivery remembered
    order = result.order
    assert (order.status, order.version, order.last_offset) == (S.SUBMITTED, 1, 7)
    assert [(line.line_no, line.warehouse, line.resolved) for line in order.lines] == [
        (1, None, False),
        (2, WEST, False),
    ]
    # And one OrderSubmitted and one CRM status change go out
    (event,) = result.events
    assert event == OrderSubmitted(
        event_id=f"{ORDER}:v1",
        order_id=ORDER,
        customer_id=CUSTOMER,
        occurred_at=NOW,
        correlation_id=CORRELATION,
        causation_id="http-1",
        version=1,
        lines=(
            OrderLineState(line_no=1, sku="SKU-1", qty=2, status=LineStatus.SUBMITTED),
            OrderLineState(
                line_no=2, sku="SKU-2", qty=3, warehouse=WEST, status=LineStatus.SUBMITTED
            ),
        ),
        channel="web",
        backorder="reject",
    )
    assert result.status_changes == (
        OrderStatusChanged(
            f"{ORDER}:v1:crm",
            ORDER,
            CUSTOMER,
            S.SUBMITTED,
            NOW,
            event.lines,
            event_type="OrderSubmitted",
        ),
    )
    assert order.history == (StatusEntry(S.SUBMITTED, NOW, f"{ORDER}:v1"),)
    # And each line is to be reserved, at the asked warehouse or wherever sourcing finds it,
    # in the order's place (its submission) in any backorder queue
    assert result.stock_commands == (
        ReserveLine(
            event_id=f"{ORDER}:1:reserve",
            sku="SKU-1",
            order_id=ORDER,
            line_no=1,
            correlation_id=CORRELATION,
            qty=2,
            warehouse=None,
            submitted_at=NOW,
        ),
        ReserveLine(
            event_id=f"{ORDER}:2:reserve",
            sku="SKU-2",
            order_id=ORDER,
            line_no=2,
            correlation_id=CORRELATION,
            qty=3,
            warehouse=WEST,
            submitted_at=NOW,
        ),
    )
    assert (result.wms_commands, result.duplicate) == ((), False)


def test_the_same_submit_again_is_a_duplicate() -> None:
    # Given a submitted order
    order = run(submit())
    # When the same request is submitted again (a retry: new event id, new offset)
    result = step(order, submit(eid="http-2"))
    # Then nothing changes and nothing is sent
    assert result.duplicate
    assert result.order is order
    assert (result.events, result.stock_commands) == ((), ())


def test_another_body_under_the_same_order_id_is_refused() -> None:
    order = run(submit())
    with pytest.raises(InvalidOrderTransition) as raised:
        step(order, submit(digest="d-2", eid="http-2"))
    assert raised.value.reason == "order_id_conflict"
    assert isinstance(raised.value, DomainError)
    assert str(raised.value).startswith("order_id_conflict: ")


@pytest.mark.parametrize(
    ("message", "reason"),
    [
        (submit((1, "SKU-1", 2, None), (1, "SKU-2", 1, None)), "duplicate_line_no"),
        (replace(submit(), lines=()), "no_lines"),
    ],
)
def test_a_malformed_submit_is_refused(message: SubmitOrder, reason: str) -> None:
    with pytest.raises(InvalidOrderTransition) as raised:
        apply(None, message, 0, NOW, False)
    assert raised.value.reason == reason


def test_a_message_for_an_unknown_order_is_refused() -> None:
    with pytest.raises(InvalidOrderTransition) as raised:
        apply(None, confirmed(), 0, NOW, False)
    assert raised.value.reason == "unknown_order"


def test_a_message_for_another_order_is_refused() -> None:
    order = run(submit())
    with pytest.raises(InvalidOrderTransition) as raised:
        step(replace(order, order_id="SO-2"), confirmed())
    assert raised.value.reason == "order_mismatch"


# --- reservation answers -----------------------------------------------------------------


def test_a_first_answer_is_recorded_and_the_order_waits_for_the_rest() -> None:
    result = step(run(submit()), reserved(1, "SKU-1", 2, EAST))
    line = result.order.lines[0]
    assert (line.state().warehouse, line.reserved, line.status, line.resolved) == (
        EAST,
        2,
        LineStatus.RESERVED,
        True,
    )
    assert result.order.status is S.SUBMITTED
    assert (result.events, result.stock_commands, result.duplicate) == ((), (), False)


def test_every_line_reserved_makes_the_order_reserved() -> None:
    order = run(submit(), reserved(2, "SKU-2", 3, WEST))
    result = step(order, reserved(1, "SKU-1", 2, EAST, eid="a-1"))
    (event,) = result.events
    assert isinstance(event, OrderReserved)
    assert (event.event_id, event.version, event.causation_id) == (f"{ORDER}:v2", 2, "a-1")
    assert [(ls.status, ls.reserved) for ls in event.lines] == [
        (LineStatus.RESERVED, 2),
        (LineStatus.RESERVED, 3),
    ]
    assert result.order.status is S.RESERVED
    assert [h.status for h in result.order.history] == [S.SUBMITTED, S.RESERVED]
    assert [c.status for c in result.status_changes] == [S.RESERVED]


def test_with_backorders_allowed_an_unreservable_line_is_backordered() -> None:
    order = run(submit(backorder="allow"), unreservable(2, "SKU-2", 3))
    result = step(order, reserved(1, "SKU-1", 2, EAST))
    assert result.order.status is S.RESERVED
    line = result.order.lines[1]
    assert (line.status, line.backordered, line.reserved, line.warehouse) == (
        LineStatus.BACKORDERED,
        3,
        0,
        WEST,
    )
    assert result.stock_commands == ()


def test_with_backorders_allowed_nothing_reservable_makes_the_order_backordered() -> None:
    order = run(submit(backorder="allow"), unreservable(2, "SKU-2", 3))
    result = step(order, unreservable(1, "SKU-1", 2))
    (event,) = result.events
    assert isinstance(event, OrderBackordered)
    assert result.order.status is S.BACKORDERED
    assert [line.backordered for line in result.order.lines] == [2, 3]


def test_with_backorders_rejected_one_unreservable_line_rejects_all_and_releases() -> None:
    # Given line 1 reserved and line 2 not yet answered, backorders refused
    order = run(submit(), reserved(1, "SKU-1", 2, EAST))
    # When line 2 is unreservable
    result = step(order, unreservable(2, "SKU-2", 3))
    # Then the order is REJECTED for insufficient stock and line 1's reservation goes back
    (event,) = result.events
    assert isinstance(event, OrderRejected)
    assert (event.reason, event.version) == ("insufficient_stock", 2)
    assert result.order.status is S.REJECTED
    assert [(line.status, line.reserved) for line in result.order.lines] == [
        (LineStatus.REJECTED, 0),
        (LineStatus.REJECTED, 0),
    ]
    assert result.stock_commands == (
        ReleaseReservation(
            event_id=f"{ORDER}:1:release",
            sku="SKU-1",
            order_id=ORDER,
            line_no=1,
            correlation_id=CORRELATION,
        ),
    )


def test_a_second_answer_for_an_answered_line_changes_nothing() -> None:
    order = run(submit(), unreservable(1, "SKU-1", 2))
    result = step(order, reserved(1, "SKU-1", 2, EAST, eid="another"))
    assert result.duplicate
    assert result.order is order


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        (reserved(3, "SKU-1", 2, EAST), "unknown_line"),
        (reserved(1, "SKU-9", 2, EAST), "line_mismatch"),
        (reserved(1, "SKU-1", 5, EAST), "line_mismatch"),
        (unreservable(2, "SKU-1", 3), "line_mismatch"),
    ],
)
def test_an_answer_that_does_not_fit_its_line_is_refused(
    answer: LineReserved | LineUnreservable, reason: str
) -> None:
    with pytest.raises(InvalidOrderTransition) as raised:
        step(run(submit()), answer)
    assert raised.value.reason == reason


def test_auto_confirmation_confirms_and_releases_right_after_reservation() -> None:
    # Given DISTGATE_ERP_CONFIRMATION=auto and one line still unanswered
    order = run(submit(backorder="allow"), unreservable(2, "SKU-2", 3), auto=True)
    # When the last line is reserved
    result = step(order, reserved(1, "SKU-1", 2, EAST, eid="a-1"), auto=True)
    # Then RESERVED, CONFIRMED and RELEASED follow, each its own version, all caused by the answer
    assert [(type(e), e.version, e.causation_id) for e in result.events] == [
        (OrderReserved, 2, "a-1"),
        (OrderConfirmed, 3, "a-1"),
        (OrderReleased, 4, "a-1"),
    ]
    assert [c.event_id for c in result.status_changes] == [f"{ORDER}:v{n}:crm" for n in (2, 3, 4)]
    assert [type(c) for c in result.stock_commands] == [AllocateLine]
    (release,) = result.wms_commands
    assert isinstance(release, ReleaseToWarehouse)
    assert release.lines == (NumberedLine(1, "SKU-1", 2),)
    assert result.order.status is S.RELEASED


# --- answers after the order closed: compensation ----------------------------------------


def test_a_reservation_answered_after_cancel_is_given_back() -> None:
    order = run(submit(), reserved(1, "SKU-1", 2, EAST), cancel())
    result = step(order, reserved(2, "SKU-2", 3, WEST))
    assert result.order.status is S.CANCELLED
    assert result.events == ()
    assert result.stock_commands == (
        ReleaseReservation(
            event_id=f"{ORDER}:2:release",
            sku="SKU-2",
            order_id=ORDER,
            line_no=2,
            correlation_id=CORRELATION,
        ),
    )
    line = result.order.lines[1]
    assert (line.resolved, line.reserved, line.warehouse, line.status) == (
        True,
        0,
        WEST,
        LineStatus.CANCELLED,
    )


def test_an_unreservable_answer_after_cancel_needs_no_compensation() -> None:
    order = run(submit(), cancel())
    result = step(order, unreservable(1, "SKU-1", 2))
    assert (result.events, result.stock_commands, result.duplicate) == ((), (), False)
    assert result.order.lines[0].resolved


def test_a_reservation_answered_after_an_erp_rejection_is_given_back() -> None:
    order = run(submit(), erp_rejected())
    result = step(order, reserved(1, "SKU-1", 2, EAST))
    assert [c.event_id for c in result.stock_commands] == [f"{ORDER}:1:release"]
