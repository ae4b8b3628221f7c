"""Pick and ship confirmations that arrive after the order was cancelled at the warehouse.

A Cancel races the warehouse: it may have picked short or shipped before it read it.
Those are physical facts: the order stays CANCELLED (its allocation was freed when it
was cancelled) but the line records what was picked and shipped, and the stock side
takes the units off on hand. A line that was never released to that warehouse cannot
have been picked there: such a confirmation is refused (and dead-lettered).
"""

from msgspec.structs import replace

from protocols.reservations import RecordShipment, RecordShortPick
from protocols.wms_events import PickConfirmed, ShipConfirmed
from tables.order_change import Change, to_stock, with_lines
from tables.order_state import (
    InvalidOrderTransition,
    Order,
    OrderLine,
    check_named_once,
    confirmed_line,
    line_where,
)


def late_pick(change: Change, message: PickConfirmed) -> Change:
    """Record each line's pick; what was picked short leaves on hand."""
    check_named_once([line.no for line in message.lines], message.event_id)
    for confirmed in message.lines:
        line = _released_here(change.order, message.warehouse, confirmed.no, confirmed.sku)
        where = line_where(change.order, line.line_no)
        if line.picked or line.backordered:
            raise InvalidOrderTransition("already_picked", where)
        if not line.shipped <= confirmed.picked <= confirmed.requested <= line.released:
            raise InvalidOrderTransition(
                "picked_out_of_range",
                f"{where}: picked {confirmed.picked} of "
                f"{confirmed.requested}, released {line.released}, shipped {line.shipped}",
            )
        short = confirmed.requested - confirmed.picked
        picked = replace(line, picked=confirmed.picked, backordered=line.backordered + short)
        change = with_lines(change, [picked])
        if short:
            change = to_stock(
                change, RecordShortPick, picked, "short", short=short,
                after_cancel=True, warehouse=line.warehouse,
            )  # fmt: skip
    return change


def late_ship(change: Change, message: ShipConfirmed) -> Change:
    """Record each line's shipment; the shipped units leave on hand."""
    check_named_once([line.no for line in message.lines], message.event_id)
    for confirmed in message.lines:
        line = _released_here(change.order, message.warehouse, confirmed.no, confirmed.sku)
        left = min(line.released - line.shipped, line.outstanding)  # less what was short
        if confirmed.qty > left:
            raise InvalidOrderTransition(
                "overshipped",
                f"{line_where(change.order, line.line_no)}: shipped {confirmed.qty}, "
                f"{left} left to ship",
            )
        shipped = replace(line, shipped=line.shipped + confirmed.qty)
        change = with_lines(change, [shipped])
        change = to_stock(
            change, RecordShipment, shipped, f"ship@{shipped.shipped}", qty=confirmed.qty,
            after_cancel=True, warehouse=line.warehouse,
        )  # fmt: skip
    return change


def _released_here(order: Order, warehouse: str, line_no: int, sku: str) -> OrderLine:
    line = confirmed_line(order, line_no, sku)
    if not line.released or line.warehouse != warehouse:
        where = line_where(order, line.line_no)
        raise InvalidOrderTransition(
            "line_not_released", f"{where} was cancelled unreleased at {warehouse}"
        )
    return line
