"""Cancel in every state the contract names, and one order from submit to invoice."""

import pytest

from protocols.orders import (
    CancelledLine,
    LineStatus,
    OrderCancelled,
    OrderInvoiced,
    OrderRemainderCancelled,
    OrderStatus,
)
from protocols.reservations import Deallocate, RecordShipment
from protocols.topics import OrderInboxMessage
from protocols.wms_events import CancelAtWarehouse
from tables.order.value import Order
from tests.unit.test_orders_support import (
    BACKORDERED,
    EAST,
    MIXED,
    ORDER,
    PICKED,
    RELEASED,
    RESERVED,
    SHIPPED,
    SUBMITTED,
    WEST,
    backorder_filled,
    cancel,
    confirmed,
    credit_hold,
    effects,
    erp_rejected,
    invoiced,
    picked,
    refused,
    reserved,
    run,
    shipped,
    step,
    submit,
)

S = OrderStatus


# --- cancel ------------------------------------------------------------------------------


def _release(no: int) -> tuple[str, str]:
    return ("ReleaseReservation", f"{ORDER}:{no}:release")


@pytest.mark.parametrize(
    ("state", "expected"),
    [
        (SUBMITTED, []),
        ((submit(), reserved(2, "SKU-2", 3, WEST)), [_release(2)]),
        (RESERVED, [_release(1), _release(2)]),
        (MIXED, [_release(1), _release(2)]),
        (BACKORDERED, [_release(1), _release(2)]),
        ((*RESERVED, credit_hold()), [_release(1), _release(2)]),
        ((*BACKORDERED, confirmed()), [_release(1), _release(2)]),
    ],
    ids=["submitted", "half-answered", "reserved", "mixed", "backordered", "held", "confirmed"],
)
def test_cancel_before_release_gives_back_the_reservations(
    state: tuple[OrderInboxMessage, ...], expected: list[tuple[str, str]]
) -> None:
    order = run(*state)
    result = step(order, cancel())
    (event,) = result.events
    assert isinstance(event, OrderCancelled)
    assert (event.reason, event.version) == ("customer changed mind", order.version + 1)
    assert effects(result) == expected
    assert {(ln.status, ln.reserved) for ln in result.order.lines} == {(LineStatus.CANCELLED, 0)}
    assert result.order.status is S.CANCELLED


@pytest.mark.parametrize(
    ("state", "deallocated"),
    [
        (RELEASED, [1, 2]),
        (PICKED, [1, 2]),
        ((*RELEASED, picked(WEST, (2, "SKU-2", 3, 0))), [1, 2]),
    ],
    ids=["released", "picked", "picked-short"],
)
def test_cancel_after_release_tells_each_warehouse_and_frees_the_allocations(
    state: tuple[OrderInboxMessage, ...], deallocated: list[int]
) -> None:
    result = step(run(*state), cancel())
    assert [type(e) for e in result.events] == [OrderCancelled]
    assert [(type(c), c.event_id, c.warehouse, c.txn) for c in result.wms_commands] == [
        (CancelAtWarehouse, f"{ORDER}:cancel:{EAST}", EAST, "DG-cancel-SO-1"),
        (CancelAtWarehouse, f"{ORDER}:cancel:{WEST}", WEST, "DG-cancel-SO-1"),
    ]
    assert [(type(c), c.line_no) for c in result.stock_commands] == [
        (Deallocate, no) for no in deallocated
    ]
    assert {(ln.status, ln.allocated) for ln in result.order.lines} == {(LineStatus.CANCELLED, 0)}


def test_cancel_after_release_skips_warehouses_without_released_lines() -> None:
    result = step(run(*MIXED, confirmed()), cancel())
    assert [c.warehouse for c in result.wms_commands] == [EAST]


@pytest.mark.parametrize(
    ("state", "reason"),
    [
        (SHIPPED, "already_shipped"),
        ((*SHIPPED, invoiced()), "already_shipped"),
        ((*RESERVED, erp_rejected()), "status_not_allowed"),
    ],
    ids=["shipped", "invoiced", "rejected"],
)
def test_cancel_is_refused_once_nothing_is_left_or_the_order_was_rejected(
    state: tuple[OrderInboxMessage, ...], reason: str
) -> None:
    assert refused(run(*state), cancel()) == reason


def test_a_cancel_after_a_partial_shipment_cancels_the_unshipped_remainder() -> None:
    # Given a picked order of which DC-EAST shipped 1 of line 1's 2
    order = run(*PICKED, shipped(EAST, (1, "SKU-1", 1)))
    assert order.status is S.PARTIALLY_SHIPPED
    # When the customer cancels
    result = step(order, cancel())
    # Then the rest is cancelled at both warehouses and given back, and nothing is open
    (event,) = result.events
    assert isinstance(event, OrderRemainderCancelled)
    assert result.order.status is S.SHIPPED
    # saying what each line gave up, on both topics
    given_up = (
        CancelledLine(line_no=1, sku="SKU-1", qty=1),
        CancelledLine(line_no=2, sku="SKU-2", qty=3),
    )
    assert event.cancelled == result.status_changes[0].cancelled == given_up
    assert effects(result) == [
        ("Deallocate", f"{ORDER}:1:deallocate"),
        ("Deallocate", f"{ORDER}:2:deallocate"),
        ("CancelAtWarehouse", f"{ORDER}:cancel:{EAST}"),
        ("CancelAtWarehouse", f"{ORDER}:cancel:{WEST}"),
    ]
    assert [(ln.shipped, ln.cancelled, ln.allocated, ln.status) for ln in result.order.lines] == [
        (1, 1, 0, LineStatus.SHIPPED),
        (0, 3, 0, LineStatus.CANCELLED),
    ]
    # And ERP's invoice of what shipped makes it INVOICED
    assert step(result.order, invoiced()).order.status is S.INVOICED


def test_a_remainder_cancelled_after_the_shipment_was_invoiced_is_invoiced_at_once() -> None:
    order = run(*PICKED, shipped(EAST, (1, "SKU-1", 1)), invoiced())
    assert order.status is S.PARTIALLY_SHIPPED
    result = step(order, cancel())
    assert [type(e) for e in result.events] == [OrderRemainderCancelled, OrderInvoiced]
    assert result.order.status is S.INVOICED


def test_a_shipment_after_the_remainder_was_cancelled_is_recorded_as_a_fact() -> None:
    # Given the remainder cancelled while DC-WEST was already shipping its picked line
    order = run(*PICKED, shipped(EAST, (1, "SKU-1", 1)), cancel())
    # When DC-WEST's shipment arrives
    result = step(order, shipped(WEST, (2, "SKU-2", 3), txn="S-2"))
    # Then the units left on hand, out of the cancelled ones
    line = result.order.lines[1]
    assert (line.shipped, line.cancelled) == (3, 0)
    (command,) = result.stock_commands
    assert isinstance(command, RecordShipment)
    assert command.after_cancel


def test_erp_may_reject_a_confirmed_order_waiting_for_backorders() -> None:
    # Given a confirmed order, line 1 released to DC-EAST, line 2 backordered
    order = run(*MIXED, confirmed())
    # When ERP rejects it
    result = step(order, erp_rejected())
    # Then DC-EAST is told, line 1's allocation given back, line 2 leaves the backorder
    # queue, and everything is cancelled
    assert result.order.status is S.REJECTED
    assert effects(result) == [
        ("Deallocate", f"{ORDER}:1:deallocate"),
        ("Deallocate", f"{ORDER}:2:deallocate"),
        ("CancelAtWarehouse", f"{ORDER}:cancel:{EAST}"),
    ]
    assert [ln.cancelled for ln in result.order.lines] == [2, 3]


def test_erp_may_not_reject_a_released_order_with_nothing_backordered() -> None:
    assert refused(run(*RELEASED), erp_rejected()) == "status_not_allowed"


def test_cancelling_a_cancelled_order_changes_nothing() -> None:
    order = run(*RESERVED, cancel())
    result = step(order, cancel(eid="http-cancel-2"))
    assert result.duplicate
    assert result.order is order


# --- end to end --------------------------------------------------------------------------


def test_submit_to_invoice_with_a_short_pick_filled_elsewhere() -> None:
    # Given the usual order, with every message the outside world would send, in turn:
    # DC-WEST picks line 2 one short, and DC-EAST has the unit
    journey: list[OrderInboxMessage] = [
        submit(),
        reserved(2, "SKU-2", 3, WEST),
        reserved(1, "SKU-1", 2, EAST),
        confirmed(),
        picked(EAST, (1, "SKU-1", 2, 2)),
        picked(WEST, (2, "SKU-2", 3, 2), txn="P-2"),
        backorder_filled(2, "SKU-2", 1, (EAST, 1)),
        shipped(WEST, (2, "SKU-2", 2)),
        picked(EAST, (2, "SKU-2", 1, 1), txn="P-3"),
        shipped(EAST, (1, "SKU-1", 2), (2, "SKU-2", 1), txn="S-2"),
        invoiced(),
    ]
    order: Order | None = None
    events, commands = [], []
    for message in journey:
        result = step(order, message)
        order = result.order
        events += [(type(e).__name__, e.version, e.causation_id) for e in result.events]
        commands += effects(result)
    # Then each change and each step is one event, each caused by the message that made it
    assert events == [
        ("OrderSubmitted", 1, "http-1"),
        ("OrderReserved", 2, f"{ORDER}:1:reserve:answer"),
        ("OrderConfirmed", 3, "erp-confirm"),
        ("OrderReleased", 4, "erp-confirm"),
        ("OrderPickedShort", 5, "wms:DC-WEST:P-2"),
        ("OrderPicked", 6, "wms:DC-WEST:P-2"),
        ("OrderBackorderFilled", 7, f"{ORDER}:2:refill@1:answer"),
        ("OrderReleased", 8, f"{ORDER}:2:refill@1:answer"),
        ("OrderShipmentDispatched", 9, "wms:DC-WEST:S-1"),
        ("OrderPartiallyShipped", 10, "wms:DC-WEST:S-1"),
        ("OrderShipmentDispatched", 11, "wms:DC-EAST:S-2"),
        ("OrderShipped", 12, "wms:DC-EAST:S-2"),
        ("OrderInvoiced", 13, "erp-invoice"),
    ]
    # And the stock and the warehouses were told exactly this: the short unit is filled
    # again and released to DC-EAST with a Release of its own
    assert commands == [
        ("ReserveLine", f"{ORDER}:1:reserve"),
        ("ReserveLine", f"{ORDER}:2:reserve"),
        ("AllocateLine", f"{ORDER}:1:allocate"),
        ("AllocateLine", f"{ORDER}:2:allocate"),
        ("ReleaseToWarehouse", f"{ORDER}:release:{EAST}"),
        ("ReleaseToWarehouse", f"{ORDER}:release:{WEST}"),
        ("RecordShortPick", f"{ORDER}:2:short@1"),
        ("FillBackorder", f"{ORDER}:2:refill@1"),
        ("AllocateLine", f"{ORDER}:2:allocate@2"),
        ("ReleaseToWarehouse", f"{ORDER}:release2:{EAST}"),
        ("RecordShipment", f"{ORDER}:2:ship@2"),
        ("RecordShipment", f"{ORDER}:1:ship@2"),
        ("RecordShipment", f"{ORDER}:2:ship@3"),
    ]
    assert order is not None
    assert order.status is S.INVOICED
    # the history holds the statuses, the order keeps each shipment
    statuses = (1, 2, 3, 4, 6, 8, 10, 12, 13)
    assert [h.event_id for h in order.history] == [f"{ORDER}:v{n}" for n in statuses]
    assert [(s.warehouse, s.tracking, s.lines) for s in order.shipments] == [
        (WEST, "1Z9", ((2, 2),)),
        (EAST, "1Z9", ((1, 2), (2, 1))),
    ]
    assert [
        (ln.status, ln.reserved, ln.allocated, ln.picked, ln.shipped, ln.backordered)
        for ln in order.lines
    ] == [(LineStatus.SHIPPED, 0, 0, 2, 2, 0), (LineStatus.SHIPPED, 0, 0, 3, 3, 0)]
    assert order.last_offset == len(journey) - 1
