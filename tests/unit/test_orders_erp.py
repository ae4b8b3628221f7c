"""ERP's decisions on an order: confirm and release, credit hold, rejection, invoice."""

import re

import pytest

from protocols.ids import ENTITY_ID_PATTERN
from protocols.orders import (
    LineStatus,
    OrderConfirmed,
    OrderCreditHold,
    OrderInvoiced,
    OrderRejected,
    OrderReleased,
    OrderReserved,
    OrderStatus,
)
from protocols.reservations import AllocateLine, ReleaseReservation
from protocols.topics import OrderInboxMessage
from protocols.wms import NumberedLine
from protocols.wms_events import ReleaseToWarehouse
from tables.order.change import txn_id
from tests.unit.test_orders_support import (
    BACKORDERED,
    CORRELATION,
    EAST,
    HELD,
    LINES,
    ORDER,
    PICKED,
    RELEASED,
    RESERVED,
    SHIPPED,
    SUBMITTED,
    WEST,
    confirmed,
    credit_hold,
    credit_released,
    erp_rejected,
    invoiced,
    refused,
    reserved,
    run,
    step,
    submit,
    unreservable,
)

S = OrderStatus


# --- confirm and release -----------------------------------------------------------------


def test_confirm_allocates_each_reserved_line_and_releases_per_warehouse() -> None:
    # Given an order reserved at two warehouses: lines 3 and 1 at DC-EAST, line 2 at DC-WEST
    order = run(submit((3, "SKU-3", 1, None), *LINES), *RESERVED[1:], reserved(3, "SKU-3", 1, EAST))
    # When ERP confirms it
    result = step(order, confirmed())
    # Then CONFIRMED and RELEASED follow, versions 3 and 4, caused by ERP's message
    assert [(type(e), e.version, e.causation_id) for e in result.events] == [
        (OrderConfirmed, 3, "erp-confirm"),
        (OrderReleased, 4, "erp-confirm"),
    ]
    released = result.events[1]
    assert isinstance(released, OrderReleased)
    assert released.warehouses == (EAST, WEST)
    # And every reservation becomes an allocation
    assert [(type(c), c.event_id) for c in result.stock_commands] == [
        (AllocateLine, f"{ORDER}:3:allocate"),
        (AllocateLine, f"{ORDER}:1:allocate"),
        (AllocateLine, f"{ORDER}:2:allocate"),
    ]
    assert [(ln.status, ln.reserved, ln.allocated) for ln in result.order.lines] == [
        (LineStatus.RELEASED, 0, 1),
        (LineStatus.RELEASED, 0, 2),
        (LineStatus.RELEASED, 0, 3),
    ]
    # And one Release goes to each warehouse with its lines
    assert result.wms_commands == (
        ReleaseToWarehouse(
            event_id=f"{ORDER}:release:{EAST}",
            order_id=ORDER,
            warehouse=EAST,
            txn="DG-release-SO-1",
            correlation_id=CORRELATION,
            causation_id="erp-confirm",
            lines=(NumberedLine(3, "SKU-3", 1), NumberedLine(1, "SKU-1", 2)),
        ),
        ReleaseToWarehouse(
            event_id=f"{ORDER}:release:{WEST}",
            order_id=ORDER,
            warehouse=WEST,
            txn="DG-release-SO-1",
            correlation_id=CORRELATION,
            causation_id="erp-confirm",
            lines=(NumberedLine(2, "SKU-2", 3),),
        ),
    )
    assert result.order.status is S.RELEASED


def test_confirming_a_wholly_backordered_order_releases_nothing() -> None:
    result = step(run(*BACKORDERED), confirmed())
    assert [type(e) for e in result.events] == [OrderConfirmed]
    assert (result.stock_commands, result.wms_commands) == ((), ())
    assert result.order.status is S.CONFIRMED


def test_a_confirm_before_the_answers_is_taken_once_they_are_in() -> None:
    # Given ERP confirmed while the stock side had answered one line of two
    order = run(submit(), reserved(1, "SKU-1", 2, EAST), confirmed())
    assert order.status is S.SUBMITTED
    assert order.pending_decision is not None
    # When the last line is answered
    result = step(order, reserved(2, "SKU-2", 3, WEST, eid="a-2"))
    # Then the order is reserved, then confirmed and released as ERP asked
    assert [(type(e), e.causation_id) for e in result.events] == [
        (OrderReserved, "a-2"),
        (OrderConfirmed, "erp-confirm"),
        (OrderReleased, "erp-confirm"),
    ]
    assert result.order.pending_decision is None
    assert len(result.wms_commands) == 2


def test_a_parked_confirm_is_dropped_when_stock_rejects_the_order() -> None:
    order = run(submit(), confirmed(), reserved(1, "SKU-1", 2, EAST))
    result = step(order, unreservable(2, "SKU-2", 3))
    assert [type(e) for e in result.events] == [OrderRejected]
    assert result.order.pending_decision is None


@pytest.mark.parametrize("state", [RELEASED, PICKED, SHIPPED, (*BACKORDERED, confirmed())])
def test_a_second_confirmation_is_refused(state: tuple[OrderInboxMessage, ...]) -> None:
    assert refused(run(*state), confirmed("erp-2")) == "status_not_allowed"


def test_a_second_decision_while_one_is_parked_is_refused() -> None:
    order = run(submit(), confirmed())
    assert refused(order, credit_hold()) == "decision_pending"
    assert refused(order, confirmed("erp-2")) == "decision_pending"
    assert refused(order, credit_released()) == "status_not_allowed"


# --- credit hold -------------------------------------------------------------------------


def test_credit_hold_keeps_the_reservations() -> None:
    result = step(run(*RESERVED), credit_hold())
    (event,) = result.events
    assert isinstance(event, OrderCreditHold)
    assert (event.reason, event.version) == ("over limit", 3)
    assert result.order.status is S.CREDIT_HOLD
    assert [line.reserved for line in result.order.lines] == [2, 3]
    assert result.stock_commands == ()


def test_credit_release_confirms_and_releases() -> None:
    result = step(run(*HELD), credit_released())
    assert [(type(e), e.version) for e in result.events] == [
        (OrderConfirmed, 4),
        (OrderReleased, 5),
    ]
    assert [h.status for h in result.order.history] == [
        S.SUBMITTED,
        S.RESERVED,
        S.CREDIT_HOLD,
        S.CONFIRMED,
        S.RELEASED,
    ]
    assert [type(c) for c in result.stock_commands] == [AllocateLine, AllocateLine]


def test_a_hold_before_the_answers_is_taken_once_they_are_in() -> None:
    order = run(submit(), credit_hold(), reserved(1, "SKU-1", 2, EAST))
    result = step(order, reserved(2, "SKU-2", 3, WEST), auto=True)
    # a parked decision beats auto confirmation
    assert [(type(e), e.causation_id) for e in result.events] == [
        (OrderReserved, f"{ORDER}:2:reserve:answer"),
        (OrderCreditHold, "erp-hold"),
    ]


def test_a_hold_lifted_before_the_answers_becomes_a_confirm() -> None:
    order = run(submit(), credit_hold(), credit_released(), reserved(1, "SKU-1", 2, EAST))
    result = step(order, reserved(2, "SKU-2", 3, WEST))
    assert [(type(e), e.causation_id) for e in result.events] == [
        (OrderReserved, f"{ORDER}:2:reserve:answer"),
        (OrderConfirmed, "erp-unhold"),
        (OrderReleased, "erp-unhold"),
    ]


@pytest.mark.parametrize(
    ("state", "message"),
    [
        (HELD, confirmed()),
        (HELD, credit_hold("erp-hold-2")),
        (RESERVED, credit_released()),
        (RELEASED, credit_hold()),
        (SUBMITTED, credit_released()),
    ],
)
def test_credit_decisions_out_of_turn_are_refused(
    state: tuple[OrderInboxMessage, ...], message: OrderInboxMessage
) -> None:
    assert refused(run(*state), message) == "status_not_allowed"


# --- rejection by ERP --------------------------------------------------------------------


@pytest.mark.parametrize("state", [RESERVED, HELD], ids=["reserved", "credit_hold"])
def test_erp_rejection_releases_every_reservation(state: tuple[OrderInboxMessage, ...]) -> None:
    order = run(*state)
    result = step(order, erp_rejected())
    (event,) = result.events
    assert isinstance(event, OrderRejected)
    assert (event.reason, event.version) == ("blocked", order.version + 1)
    assert result.stock_commands == tuple(
        ReleaseReservation(
            event_id=f"{ORDER}:{no}:release",
            sku=sku,
            order_id=ORDER,
            line_no=no,
            correlation_id=CORRELATION,
        )
        for no, sku in ((1, "SKU-1"), (2, "SKU-2"))
    )
    assert {line.status for line in result.order.lines} == {LineStatus.REJECTED}
    assert result.order.status is S.REJECTED


def test_erp_rejection_while_answers_are_missing_releases_what_is_held() -> None:
    result = step(run(submit(), reserved(2, "SKU-2", 3, WEST)), erp_rejected(reason=""))
    (event,) = result.events
    assert isinstance(event, OrderRejected)
    assert event.reason == "rejected_by_erp"
    assert [c.line_no for c in result.stock_commands] == [2]


def test_erp_rejection_of_a_backordered_order_takes_its_lines_out_of_the_queue() -> None:
    result = step(run(*BACKORDERED), erp_rejected())
    assert result.order.status is S.REJECTED
    assert [(type(c), c.line_no) for c in result.stock_commands] == [
        (ReleaseReservation, 1),
        (ReleaseReservation, 2),
    ]


@pytest.mark.parametrize("state", [RELEASED, PICKED, SHIPPED])
def test_erp_rejection_after_confirmation_is_refused_without_backorders(
    state: tuple[OrderInboxMessage, ...],
) -> None:
    assert refused(run(*state), erp_rejected()) == "status_not_allowed"


def test_erp_rejection_of_a_confirmed_wholly_backordered_order_closes_it() -> None:
    result = step(run(*BACKORDERED, confirmed()), erp_rejected())
    assert result.order.status is S.REJECTED
    assert [line.cancelled for line in result.order.lines] == [2, 3]


# --- invoice -----------------------------------------------------------------------------


def test_a_shipped_order_is_invoiced() -> None:
    result = step(run(*SHIPPED), invoiced())
    (event,) = result.events
    assert isinstance(event, OrderInvoiced)
    assert event.invoice_id == "INV-1"
    assert result.order.status is S.INVOICED


@pytest.mark.parametrize("state", [RESERVED, RELEASED, PICKED, (*SHIPPED, invoiced())])
def test_invoicing_an_unshipped_or_invoiced_order_is_refused(
    state: tuple[OrderInboxMessage, ...],
) -> None:
    assert refused(run(*state), invoiced("erp-invoice-2")) == "status_not_allowed"


# --- identifiers -------------------------------------------------------------------------


def test_txn_ids_fit_the_entity_id_pattern_and_stay_deterministic() -> None:
    pattern = re.compile(ENTITY_ID_PATTERN)
    long_id = "O" * 64
    assert txn_id("release", "SO-1") == "DG-release-SO-1"
    hashed = txn_id("release", long_id)
    assert pattern.fullmatch(hashed)
    assert hashed == txn_id("release", long_id) != txn_id("cancel", long_id)
    assert hashed != txn_id("release", "O" * 63)
