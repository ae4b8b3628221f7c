"""A warehouse that picked or shipped before it read the Cancel: the goods still left."""

import datetime as dt

import pytest

from protocols.orders import OrderShipmentDispatched, OrderStatus, ShipmentLine
from protocols.reservations import RecordShipment, RecordShortPick
from protocols.topics import OrderInboxMessage
from tables.errors import InvalidStockChange
from tables.stock.apply import Applied, apply
from tables.stock.value import Position, SkuStock
from tests.unit.test_orders_support import (
    EAST,
    ORDER,
    PICKED,
    RELEASED,
    RESERVED,
    WEST,
    cancel,
    picked,
    refused,
    run,
    shipped,
    step,
)

CANCELLED_AFTER_RELEASE = (*RELEASED, cancel())
PICKED_SHORT_LATE = (*CANCELLED_AFTER_RELEASE, picked(EAST, (1, "SKU-1", 2, 1)))
NOW = dt.datetime(2026, 3, 2, 9, 30, tzinfo=dt.UTC)


def test_a_shipment_after_the_cancel_takes_the_goods_off_on_hand() -> None:
    result = step(run(*CANCELLED_AFTER_RELEASE), shipped(WEST, (2, "SKU-2", 3), txn="S-9"))
    # The order stays cancelled, the line shows what left, and the stock side is told
    assert result.order.status is OrderStatus.CANCELLED
    line = result.order.lines[1]
    assert (line.shipped, line.allocated, line.released) == (3, 0, 3)
    # and the shipment is published, its tracking kept, the status unchanged
    (event,) = result.events
    assert isinstance(event, OrderShipmentDispatched)
    assert event.status is OrderStatus.CANCELLED
    assert event.shipment.lines == (ShipmentLine(line_no=2, sku="SKU-2", qty=3),)
    assert [r.tracking for r in result.order.shipments] == [event.shipment.tracking]
    assert result.stock_commands == (
        RecordShipment(
            event_id=f"{ORDER}:2:ship@3",
            sku="SKU-2",
            order_id=ORDER,
            line_no=2,
            correlation_id=result.order.correlation_id,
            qty=3,
            after_cancel=True,
            warehouse=WEST,
            wms_id="wms:DC-WEST:S-9:2",
        ),
    )


def test_a_short_pick_after_the_cancel_takes_the_missing_units_off_on_hand() -> None:
    result = step(run(*CANCELLED_AFTER_RELEASE), picked(EAST, (1, "SKU-1", 2, 0)))
    assert result.order.status is OrderStatus.CANCELLED
    (command,) = result.stock_commands
    assert isinstance(command, RecordShortPick)
    assert (command.short, command.after_cancel, command.warehouse) == (2, True, EAST)


def test_a_full_pick_after_the_cancel_changes_no_stock() -> None:
    result = step(run(*CANCELLED_AFTER_RELEASE), picked(EAST, (1, "SKU-1", 2, 2)))
    assert result.order.lines[0].picked == 2
    assert result.stock_commands == ()


@pytest.mark.parametrize(
    ("state", "message", "reason"),
    [
        ((*RESERVED, cancel()), shipped(WEST, (2, "SKU-2", 3)), "line_not_released"),
        (CANCELLED_AFTER_RELEASE, shipped(EAST, (2, "SKU-2", 3)), "line_not_released"),
        (CANCELLED_AFTER_RELEASE, shipped(WEST, (2, "SKU-2", 4)), "overshipped"),
        (CANCELLED_AFTER_RELEASE, picked(EAST, (1, "SKU-1", 3, 3)), "picked_out_of_range"),
        (CANCELLED_AFTER_RELEASE, shipped(WEST, (2, "SKU-9", 3)), "line_mismatch"),
        (PICKED_SHORT_LATE, picked(EAST, (1, "SKU-1", 2, 2), txn="P-2"), "already_picked"),
        (PICKED_SHORT_LATE, shipped(EAST, (1, "SKU-1", 2)), "overshipped"),
    ],
)
def test_a_late_confirmation_the_release_cannot_explain_is_refused(
    state: tuple[OrderInboxMessage, ...], message: OrderInboxMessage, reason: str
) -> None:
    assert refused(run(*state), message) == reason


def test_the_stock_side_takes_a_late_shipment_off_on_hand_only() -> None:
    stock = SkuStock(
        sku="SKU-2",
        positions=(Position(warehouse=WEST, on_hand=10, reserved=4),),
        last_offset=9,
        version=3,
    )
    result = _late(stock, qty=3)
    (position,) = result.stock.positions
    assert (position.on_hand, position.reserved, position.allocated) == (7, 4, 0)


def test_the_stock_side_refuses_a_late_shipment_beyond_on_hand() -> None:
    stock = SkuStock(
        sku="SKU-2", positions=(Position(warehouse=WEST, on_hand=2),), last_offset=9, version=3
    )
    with pytest.raises(InvalidStockChange, match="out of on_hand"):
        _late(stock, qty=3)


def _late(stock: SkuStock, qty: int) -> Applied:
    command = RecordShipment(
        event_id=f"{ORDER}:2:ship@{qty}",
        sku="SKU-2",
        order_id=ORDER,
        line_no=2,
        qty=qty,
        after_cancel=True,
        warehouse=WEST,
    )
    return apply(stock, command, stock.last_offset + 1, NOW)


def test_a_late_shipment_sent_again_after_the_dedupe_period_takes_nothing_twice() -> None:
    # Given a cancelled order whose warehouse shipped line 1 before reading the Cancel
    late = shipped(EAST, (1, "SKU-1", 2))
    order = run(*RELEASED, cancel(), late)
    # When the WMS re-sends that ShipConfirm after the order forgot its id (a new offset)
    result = step(order, late)
    # Then the line remembers it: no unit leaves on hand twice
    assert result.stock_commands == ()
    assert result.order.lines == order.lines


def test_a_shipment_sent_again_after_the_dedupe_period_ships_nothing_twice() -> None:
    ship = shipped(EAST, (1, "SKU-1", 1))
    order = run(*PICKED, ship)
    result = step(order, ship)
    assert result.stock_commands == ()
    assert result.order.lines == order.lines
