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
    Fill,
    InvalidOrderTransition,
    Order,
    OrderLine,
    check_named_once,
    confirmed_line,
    line_where,
)


def late_pick(change: Change, message: PickConfirmed) -> Change:
    """Record each line's pick; what was picked short leaves on hand (it is cancelled already)."""
    check_named_once([line.no for line in message.lines], message.event_id)
    where = message.warehouse
    for confirmed in message.lines:
        line, fill = _released_here(change.order, where, confirmed.no, confirmed.sku)
        named = line_where(change.order, line.line_no)
        if fill.pick_confirmed:
            raise InvalidOrderTransition("already_picked", named)
        if not fill.shipped <= confirmed.picked <= confirmed.requested <= fill.released:
            raise InvalidOrderTransition(
                "picked_out_of_range",
                f"{named}: picked {confirmed.picked} of "
                f"{confirmed.requested}, released {fill.released}, shipped {fill.shipped}",
            )
        short = confirmed.requested - confirmed.picked
        done = replace(fill, picked=confirmed.picked, pick_confirmed=True)
        change = with_lines(change, [line.with_fill(done)])
        if short:
            change = to_stock(
                change, RecordShortPick, line, f"short@{where}", short=short,
                after_cancel=True, warehouse=where,
            )  # fmt: skip
    return change


def late_ship(change: Change, message: ShipConfirmed) -> Change:
    """Record each line's shipment; the shipped units leave on hand and are no longer cancelled."""
    check_named_once([line.no for line in message.lines], message.event_id)
    where = message.warehouse
    for confirmed in message.lines:
        line, fill = _released_here(change.order, where, confirmed.no, confirmed.sku)
        there = fill.picked if fill.pick_confirmed else fill.released  # less what was short
        left = min(there - fill.shipped, line.cancelled)
        if confirmed.qty > left:
            raise InvalidOrderTransition(
                "overshipped",
                f"{line_where(change.order, line.line_no)}: shipped {confirmed.qty}, "
                f"{left} left to ship",
            )
        done = replace(fill, shipped=fill.shipped + confirmed.qty)
        shipped = replace(line.with_fill(done), cancelled=line.cancelled - confirmed.qty)
        change = with_lines(change, [shipped])
        change = to_stock(
            change, RecordShipment, shipped, f"ship@{shipped.shipped}", qty=confirmed.qty,
            after_cancel=True, warehouse=where,
        )  # fmt: skip
    return change


def _released_here(order: Order, warehouse: str, line_no: int, sku: str) -> tuple[OrderLine, Fill]:
    """The cancelled line a warehouse confirms, and its part released there."""
    line = confirmed_line(order, line_no, sku)
    fill = line.fill_at(warehouse)
    if fill is None or not fill.released:
        where = line_where(order, line.line_no)
        raise InvalidOrderTransition(
            "line_not_released", f"{where} was cancelled unreleased at {warehouse}"
        )
    return line, fill
