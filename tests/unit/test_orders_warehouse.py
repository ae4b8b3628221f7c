"""An order in the warehouse: pick and ship confirmations."""

import pytest

from protocols.orders import (
    LineStatus,
    OrderAwaitingStock,
    OrderPartiallyShipped,
    OrderPicked,
    OrderPickedShort,
    OrderShipmentDispatched,
    OrderShipped,
    OrderStatus,
    ShipmentLine,
)
from protocols.reservations import FillBackorder, RecordShipment, RecordShortPick
from protocols.topics import OrderInboxMessage
from protocols.wms_events import PickConfirmed
from tables.order.apply import OrderApplied
from tests.support.tables import OrderTable
from tests.unit.test_orders_support import (
    BACKORDERED,
    CORRELATION,
    EAST,
    MIXED,
    ORDER,
    PICKED,
    RELEASED,
    RESERVED,
    SHIPPED,
    WEST,
    cancel,
    confirmed,
    picked,
    refused,
    run,
    run_on,
    shipped,
    step,
)

S = OrderStatus


# --- pick --------------------------------------------------------------------------------


def test_a_pick_at_one_warehouse_waits_for_the_others() -> None:
    result = step(run(*RELEASED), picked(EAST, (1, "SKU-1", 2, 2)))
    line = result.order.lines[0]
    assert (line.status, line.picked, line.allocated, line.backordered) == (
        LineStatus.PICKED,
        2,
        2,
        0,
    )
    assert result.order.status is S.RELEASED
    assert (result.events, result.stock_commands) == ((), ())


def test_the_last_warehouse_to_pick_makes_the_order_picked() -> None:
    order = run(*RELEASED, picked(EAST, (1, "SKU-1", 2, 2)))
    result = step(order, picked(WEST, (2, "SKU-2", 3, 3), txn="P-2"))
    (event,) = result.events
    assert isinstance(event, OrderPicked)
    assert (event.warehouse, event.version, event.causation_id) == (WEST, 5, "wms:DC-WEST:P-2")
    assert result.order.status is S.PICKED


def test_a_short_pick_is_backordered_and_leaves_the_allocation() -> None:
    result = step(run(*RELEASED), picked(WEST, (2, "SKU-2", 3, 1)))
    line = result.order.lines[1]
    assert (line.picked, line.allocated, line.backordered, line.status) == (
        1,
        1,
        2,
        LineStatus.PICKED,
    )
    # the short units leave on hand, and are to be filled again (the line asked for DC-WEST)
    assert result.stock_commands == (
        RecordShortPick(
            event_id=f"{ORDER}:2:short@1",
            sku="SKU-2",
            order_id=ORDER,
            line_no=2,
            correlation_id=CORRELATION,
            warehouse=WEST,
            short=2,
            wms_id="wms:DC-WEST:P-1:2",
        ),
        FillBackorder(
            event_id=f"{ORDER}:2:refill@1",
            sku="SKU-2",
            order_id=ORDER,
            line_no=2,
            correlation_id=CORRELATION,
            qty=2,
            warehouse=WEST,
            short_at=WEST,
            submitted_at=result.order.submitted_at,
        ),
    )


def test_an_order_picked_wholly_short_waits_for_stock() -> None:
    result = step(run(*MIXED, confirmed()), picked(EAST, (1, "SKU-1", 2, 0)))
    assert [type(e) for e in result.events] == [OrderPickedShort, OrderAwaitingStock]
    assert result.order.status is S.CONFIRMED
    assert [(line.backordered, line.open) for line in result.order.lines] == [(2, 2), (3, 3)]
    assert step(result.order, cancel()).order.status is S.CANCELLED


def test_a_pick_delivered_again_is_a_duplicate() -> None:
    # Given a released order whose pick at DC-EAST was applied
    table = OrderTable(ORDER)
    table.send(*RELEASED, picked(EAST, (1, "SKU-1", 2, 2)))
    before = table.order
    # When the WMS sends the same confirmation again, at a new offset
    again = table.deliver(picked(EAST, (1, "SKU-1", 2, 2)), table.next_offset)
    # Then it is a duplicate (not refused as already picked), and the order is as it was
    assert isinstance(again, OrderApplied)
    assert again.duplicate
    assert table.order == before


@pytest.mark.parametrize(
    ("message", "reason"),
    [
        (picked(EAST, (1, "SKU-1", 2, 2), txn="P-9"), "already_picked"),
        (picked(EAST, (3, "SKU-1", 2, 2), txn="P-9"), "unknown_line"),
        (picked(WEST, (2, "SKU-9", 3, 3), txn="P-9"), "line_mismatch"),
        (picked(EAST, (2, "SKU-2", 3, 3), txn="P-9"), "wrong_warehouse"),
        (picked(WEST, (2, "SKU-2", 2, 2), txn="P-9"), "requested_mismatch"),
        (picked(WEST, (2, "SKU-2", 3, 4), txn="P-9"), "picked_out_of_range"),
        (picked(WEST, txn="P-9"), "no_lines"),
        (picked(WEST, (2, "SKU-2", 3, 3), (2, "SKU-2", 3, 3), txn="P-9"), "duplicate_line_no"),
    ],
)
def test_a_pick_that_does_not_fit_is_refused(message: PickConfirmed, reason: str) -> None:
    order = run(*RELEASED, picked(EAST, (1, "SKU-1", 2, 2)))
    assert refused(order, message) == reason


def test_a_pick_of_a_line_never_released_is_refused() -> None:
    order = run(*MIXED, confirmed())
    assert refused(order, picked(WEST, (2, "SKU-2", 3, 3))) == "line_not_released"


@pytest.mark.parametrize("state", [RESERVED, SHIPPED])
def test_a_pick_outside_the_warehouse_stages_is_refused(
    state: tuple[OrderInboxMessage, ...],
) -> None:
    assert refused(run(*state), picked(EAST, (1, "SKU-1", 2, 2), txn="P-9")) == (
        "status_not_allowed"
    )


# --- ship --------------------------------------------------------------------------------


def test_a_partial_shipment_draws_on_the_allocation() -> None:
    result = step(run(*PICKED), shipped(WEST, (2, "SKU-2", 1)))
    line = result.order.lines[1]
    assert (line.shipped, line.allocated, line.status) == (1, 2, LineStatus.PICKED)
    assert result.stock_commands == (
        RecordShipment(
            event_id=f"{ORDER}:2:ship@1",
            sku="SKU-2",
            order_id=ORDER,
            line_no=2,
            correlation_id=CORRELATION,
            qty=1,
            warehouse=WEST,
            wms_id="wms:DC-WEST:S-1:2",
        ),
    )
    assert [type(e) for e in result.events] == [OrderShipmentDispatched, OrderPartiallyShipped]
    assert result.order.status is S.PARTIALLY_SHIPPED


def test_the_last_shipment_makes_the_order_shipped() -> None:
    order = run(*PICKED, shipped(WEST, (2, "SKU-2", 1)), shipped(EAST, (1, "SKU-1", 2), txn="S-2"))
    result = step(order, shipped(WEST, (2, "SKU-2", 2), txn="S-3", tracking="1Z10"))
    dispatched, event = result.events
    assert isinstance(dispatched, OrderShipmentDispatched)
    assert dispatched.shipment.lines == (ShipmentLine(line_no=2, sku="SKU-2", qty=2),)
    assert isinstance(event, OrderShipped)
    assert (event.warehouse, event.carrier, event.tracking, event.version) == (
        WEST,
        "UPS",
        "1Z10",
        dispatched.version + 1,
    )
    assert [c.event_id for c in result.stock_commands] == [f"{ORDER}:2:ship@3"]
    assert {line.status for line in result.order.lines} == {LineStatus.SHIPPED}


def test_shipping_what_was_picked_after_a_short_pick_leaves_the_backorder_open() -> None:
    order = run(*RELEASED, picked(EAST, (1, "SKU-1", 2, 2)), picked(WEST, (2, "SKU-2", 3, 1)))
    order = run_on(order, shipped(EAST, (1, "SKU-1", 2)))
    result = step(order, shipped(WEST, (2, "SKU-2", 1), txn="S-2"))
    assert [type(e) for e in result.events] == [OrderShipmentDispatched]
    assert result.order.status is S.PARTIALLY_SHIPPED
    line = result.order.lines[1]
    assert (line.shipped, line.backordered, line.allocated, line.open) == (1, 2, 0, 2)


def test_a_warehouse_may_ship_before_it_confirms_the_pick() -> None:
    # Given line 2 partly shipped from DC-WEST before any pick confirmation
    order = run(*RELEASED, shipped(WEST, (2, "SKU-2", 1)))
    assert (order.lines[1].status, order.lines[1].allocated) == (LineStatus.RELEASED, 2)
    # Then its pick must request what was released and cover what shipped
    late = picked(WEST, (2, "SKU-2", 3, 0))
    assert refused(order, late) == "picked_out_of_range"
    result = step(order, picked(WEST, (2, "SKU-2", 3, 2)))
    line = result.order.lines[1]
    assert (line.picked, line.shipped, line.allocated, line.backordered) == (2, 1, 1, 1)


def test_shipping_every_line_unpicked_goes_through_partially_shipped() -> None:
    first = step(run(*RELEASED), shipped(EAST, (1, "SKU-1", 2)))
    assert [(type(e), e.version) for e in first.events] == [
        (OrderShipmentDispatched, 5),
        (OrderPartiallyShipped, 6),
    ]
    result = step(first.order, shipped(WEST, (2, "SKU-2", 3), txn="S-2"))
    assert [(type(e), e.version) for e in result.events] == [
        (OrderShipmentDispatched, 7),
        (OrderShipped, 8),
    ]


@pytest.mark.parametrize(
    ("message", "reason"),
    [
        (shipped(WEST, (2, "SKU-2", 4), txn="S-9"), "overshipped"),
        (shipped(EAST, (1, "SKU-1", 1), txn="S-9"), "already_shipped"),
        (shipped(EAST, (2, "SKU-2", 1), txn="S-9"), "wrong_warehouse"),
        (shipped(WEST, (2, "SKU-1", 1), txn="S-9"), "line_mismatch"),
        (shipped(WEST, (5, "SKU-2", 1), txn="S-9"), "unknown_line"),
    ],
)
def test_a_shipment_that_does_not_fit_is_refused(message: OrderInboxMessage, reason: str) -> None:
    order = run(*PICKED, shipped(EAST, (1, "SKU-1", 2)))
    assert refused(order, message) == reason


@pytest.mark.parametrize("state", [RESERVED, SHIPPED, (*BACKORDERED, confirmed())])
def test_a_shipment_outside_the_warehouse_stages_is_refused(
    state: tuple[OrderInboxMessage, ...],
) -> None:
    assert refused(run(*state), shipped(EAST, (1, "SKU-1", 1), txn="S-9")) == "status_not_allowed"
