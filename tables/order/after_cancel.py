"""Pick and ship confirmations that arrive after the order was cancelled at the warehouse.

A Cancel races the warehouse: it may have picked short or shipped before it read it.
Those are physical facts: the order stays CANCELLED (its allocation was freed when it
was cancelled) but the line records what was picked and shipped, the stock side takes
the units off on hand, and each is published as a step (a shipment keeps its tracking).
A line that was never released to that warehouse cannot have been picked there: such a
confirmation is refused (and dead-lettered).
"""

from msgspec.structs import replace

from protocols.inventory import shelf_line_id
from protocols.reservations import RecordShipment, RecordShortPick
from protocols.wms_events import PickConfirmed, ShipConfirmed
from tables.order.change import Change, to_stock, with_lines
from tables.order.steps import picked_short, shipment_taken, short_line
from tables.order.value import (
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
    found_short = []
    for confirmed in message.lines:
        line, here = _released_here(change.order, where, confirmed.no, confirmed.sku)
        if message.event_id in line.confirmations:
            continue  # a re-send: the line took it already
        line = line.confirmed_by(message.event_id)
        named = line_where(change.order, line.line_no)
        waiting = [n for n in here if not line.fills[n].pick_confirmed]
        if not waiting:
            raise InvalidOrderTransition("already_picked", named)
        at, fill = waiting[0], line.fills[waiting[0]]
        if not fill.shipped <= confirmed.picked <= confirmed.requested <= fill.released:
            raise InvalidOrderTransition(
                "picked_out_of_range",
                f"{named}: picked {confirmed.picked} of "
                f"{confirmed.requested}, released {fill.released}, shipped {fill.shipped}",
            )
        short = confirmed.requested - confirmed.picked
        line = line.with_fill(at, replace(fill, picked=confirmed.picked, pick_confirmed=True))
        if short:
            line = line.picked_short()
        change = with_lines(change, [line])
        if short:
            change = to_stock(
                change, RecordShortPick, line, f"short@{line.shorts}", short=short,
                after_cancel=True, warehouse=where,
                wms_id=shelf_line_id(message.event_id, confirmed.no),
            )  # fmt: skip
            found_short.append(short_line(confirmed))
    return picked_short(change, where, found_short)


def late_ship(change: Change, message: ShipConfirmed) -> Change:
    """Record each line's shipment; the shipped units leave on hand and are no longer cancelled."""
    check_named_once([line.no for line in message.lines], message.event_id)
    where = message.warehouse
    carried = []
    for confirmed in message.lines:
        line, here = _released_here(change.order, where, confirmed.no, confirmed.sku)
        if message.event_id in line.confirmations:
            continue  # a re-send: the line took it already
        line = line.confirmed_by(message.event_id)
        room = {n: _unshipped(line.fills[n]) for n in here}
        left = min(sum(room.values()), line.cancelled)
        if confirmed.qty > left:
            raise InvalidOrderTransition(
                "overshipped",
                f"{line_where(change.order, line.line_no)}: shipped {confirmed.qty}, "
                f"{left} left to ship",
            )
        qty = confirmed.qty
        for n, free in room.items():
            taken = min(qty, free)
            fill = line.fills[n]
            line, qty = line.with_fill(n, replace(fill, shipped=fill.shipped + taken)), qty - taken
        shipped = replace(line, cancelled=line.cancelled - confirmed.qty)
        change = with_lines(change, [shipped])
        change = to_stock(
            change, RecordShipment, shipped, f"ship@{shipped.shipped}", qty=confirmed.qty,
            after_cancel=True, warehouse=where,
            wms_id=shelf_line_id(message.event_id, confirmed.no),
        )  # fmt: skip
        carried.append((confirmed.no, confirmed.qty))
    return shipment_taken(change, message, carried)


def _unshipped(fill: Fill) -> int:
    """Units of a cancelled Release the warehouse may still have shipped: less what was short."""
    there = fill.picked if fill.pick_confirmed else fill.released
    return there - fill.shipped


def _released_here(
    order: Order, warehouse: str, line_no: int, sku: str
) -> tuple[OrderLine, list[int]]:
    """The cancelled line a warehouse confirms, and the positions of its Releases there."""
    line = confirmed_line(order, line_no, sku)
    here = line.released_at(warehouse)
    if not here:
        where = line_where(order, line.line_no)
        raise InvalidOrderTransition(
            "line_not_released", f"{where} was cancelled unreleased at {warehouse}"
        )
    return line, here
