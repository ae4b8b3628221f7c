"""From confirmation to shipment: release to the warehouses, pick and ship confirmations.

A line's fills are picked and shipped where they were released. Units picked short go
back to `backordered` and are filled again like any backorder (`tables.order.backorders`).
"""

from collections.abc import Sequence

from msgspec.structs import replace

from protocols.inventory import shelf_line_id
from protocols.orders import (
    LineStatus,
    OrderConfirmed,
    OrderReleased,
    OrderStatus,
    ShortPickLine,
)
from protocols.reservations import RecordShipment, RecordShortPick
from protocols.wms import NumberedLine, PickLine
from protocols.wms_events import PickConfirmed, ShipConfirmed
from tables.order.after_cancel import late_pick, late_ship
from tables.order.backorders import refill
from tables.order.change import Change, emit, to_stock, with_lines
from tables.order.progress import settle
from tables.order.release import release_reserved
from tables.order.steps import picked_short, shipment_taken, short_line
from tables.order.value import (
    InvalidOrderTransition,
    Order,
    OrderLine,
    check_named_once,
    confirmed_line,
    line_where,
    not_allowed,
)

S = OrderStatus
_IN_WAREHOUSE = (S.CONFIRMED, S.RELEASED, S.PICKED, S.PARTIALLY_SHIPPED)


def confirm(change: Change) -> Change:
    """CONFIRMED, then every reserved fill allocated and released to its warehouse: RELEASED."""
    change = emit(change, OrderConfirmed)
    change, warehouses = release_reserved(change)
    if not warehouses:
        return change  # wholly backordered: nothing to release, it waits for stock
    return emit(change, OrderReleased, warehouses=warehouses)


def pick(change: Change, message: PickConfirmed) -> Change:
    """Record picked quantities; units picked short are backordered and filled again."""
    if _withdrawn(change.order):
        return late_pick(change, message)
    _check_in_warehouse(change.order, message.lines, message.event_id)
    where = message.warehouse
    found_short: list[ShortPickLine] = []
    for confirmed in message.lines:
        if _applied_before(change.order, confirmed.no, message.event_id):
            continue
        line, short = _picked(change.order, where, confirmed)
        line = line.confirmed_by(message.event_id)
        if short:
            line = line.picked_short()
        change = with_lines(change, [line])
        if short:
            step = f"short@{line.shorts}"
            change = to_stock(
                change, RecordShortPick, line, step, short=short, warehouse=where,
                wms_id=shelf_line_id(message.event_id, confirmed.no),
            )  # fmt: skip
            change = refill(change, line, short, where)
            found_short.append(short_line(confirmed))
    return settle(picked_short(change, where, found_short), where)


def ship(change: Change, message: ShipConfirmed) -> Change:
    """Record shipped quantities; SHIPPED once nothing is open."""
    if _withdrawn(change.order):
        return late_ship(change, message)
    _check_in_warehouse(change.order, message.lines, message.event_id)
    where = message.warehouse
    carried: list[tuple[int, int]] = []
    for confirmed in message.lines:
        if _applied_before(change.order, confirmed.no, message.event_id):
            continue
        line = _shipped(change.order, where, confirmed).confirmed_by(message.event_id)
        change = with_lines(change, [line])
        # the line's running total makes each shipment's id unique and stable across replays
        step = f"ship@{line.shipped}"
        change = to_stock(
            change, RecordShipment, line, step, qty=confirmed.qty, warehouse=where,
            wms_id=shelf_line_id(message.event_id, confirmed.no),
        )  # fmt: skip
        carried.append((confirmed.no, confirmed.qty))
    change = shipment_taken(change, message, carried)
    return settle(change, where, carrier=message.carrier, tracking=message.tracking)


def _applied_before(order: Order, line_no: int, event_id: str) -> bool:
    """Whether the line already took this WMS confirmation (a re-send past the dedupe period)."""
    line = order.line(line_no)
    return line is not None and event_id in line.confirmations


def _withdrawn(order: Order) -> bool:
    """Whether the warehouses were told to stop: the order or its unshipped remainder closed."""
    remainder = order.status in (S.SHIPPED, S.INVOICED) and any(ln.cancelled for ln in order.lines)
    return order.status in (S.CANCELLED, S.REJECTED) or remainder


def _check_in_warehouse(order: Order, lines: Sequence[PickLine | NumberedLine], cause: str) -> None:
    """A confirmation needs an order with something released and names each line once."""
    if order.status not in _IN_WAREHOUSE or order.releases == 0:
        raise not_allowed(order, cause)
    check_named_once([line.no for line in lines], cause)


def _released_line(order: Order, warehouse: str, line_no: int, sku: str) -> OrderLine:
    """The order line a warehouse confirms: it must exist, match, and be released there."""
    line = confirmed_line(order, line_no, sku)
    where = line_where(order, line_no)
    if not line.released:
        raise InvalidOrderTransition("line_not_released", f"{where} is {line.status}")
    if not line.released_at(warehouse):
        raise InvalidOrderTransition("wrong_warehouse", f"{where} was not released to {warehouse}")
    return line


def _picked(order: Order, warehouse: str, confirmed: PickLine) -> tuple[OrderLine, int]:
    """The line after one pick of a Release it got there, and the units picked short."""
    line = _released_line(order, warehouse, confirmed.no, confirmed.sku)
    where = line_where(order, line.line_no)
    waiting = [n for n in line.released_at(warehouse) if not line.fills[n].pick_confirmed]
    if not waiting:
        reason = "already_shipped" if line.status is LineStatus.SHIPPED else "already_picked"
        raise InvalidOrderTransition(reason, f"{where} is {line.status}")
    asked = [
        n for n in waiting if line.fills[n].allocated + line.fills[n].shipped == confirmed.requested
    ]
    if not asked:
        released = line.fills[waiting[0]].allocated + line.fills[waiting[0]].shipped
        raise InvalidOrderTransition(
            "requested_mismatch", f"{where}: requested {confirmed.requested}, released {released}"
        )
    fill = line.fills[asked[0]]
    if not fill.shipped <= confirmed.picked <= confirmed.requested:
        raise InvalidOrderTransition(
            "picked_out_of_range",
            f"{where}: picked {confirmed.picked} outside {fill.shipped}..{confirmed.requested}",
        )
    short = confirmed.requested - confirmed.picked
    done = replace(
        fill, picked=confirmed.picked, allocated=fill.allocated - short, pick_confirmed=True
    )
    line = replace(line.with_fill(asked[0], done), backordered=line.backordered + short)
    return _line_status(line), short


def _shipped(order: Order, warehouse: str, confirmed: NumberedLine) -> OrderLine:
    """The line after a shipment out of its allocation there, picked parts first."""
    line = _released_line(order, warehouse, confirmed.no, confirmed.sku)
    where = line_where(order, line.line_no)
    if line.status is LineStatus.SHIPPED:
        raise InvalidOrderTransition("already_shipped", f"{where} is {line.status}")
    here = sorted(line.released_at(warehouse), key=lambda n: not line.fills[n].pick_confirmed)
    left = sum(line.fills[n].allocated for n in here)
    if confirmed.qty > left:
        raise InvalidOrderTransition(
            "overshipped", f"{where}: shipped {confirmed.qty}, {left} left to ship"
        )
    qty = confirmed.qty
    for n in here:
        fill = line.fills[n]
        taken = min(qty, fill.allocated)
        shipped = replace(fill, shipped=fill.shipped + taken, allocated=fill.allocated - taken)
        line, qty = line.with_fill(n, shipped), qty - taken
    return _line_status(line)


def _line_status(line: OrderLine) -> OrderLine:
    """SHIPPED with nothing open, PICKED once no Release of it waits for its pick."""
    if line.shipped and not line.open:
        return replace(line, status=LineStatus.SHIPPED)
    waiting = any(f.released and not f.pick_confirmed for f in line.fills)
    return replace(line, status=LineStatus.RELEASED if waiting else LineStatus.PICKED)
