"""From confirmation to shipment: release to the warehouses, pick and ship confirmations."""

from collections.abc import Iterable, Sequence

from msgspec.structs import replace

from protocols.orders import (
    LineStatus,
    OrderConfirmed,
    OrderPicked,
    OrderReleased,
    OrderShipped,
    OrderStatus,
)
from protocols.reservations import AllocateLine, RecordShipment, RecordShortPick
from protocols.wms import NumberedLine, PickLine
from protocols.wms_events import PickConfirmed, ReleaseToWarehouse, ShipConfirmed
from tables.order_after_cancel import late_pick, late_ship
from tables.order_change import Change, emit, to_stock, to_warehouse, with_lines
from tables.order_state import (
    Fill,
    InvalidOrderTransition,
    Order,
    OrderLine,
    check_named_once,
    confirmed_line,
    line_where,
    not_allowed,
)

_IN_WAREHOUSE = (OrderStatus.RELEASED, OrderStatus.PICKED)


def confirm(change: Change) -> Change:
    """CONFIRMED, then every reserved fill allocated and released to its warehouse: RELEASED."""
    change = emit(change, OrderConfirmed)
    released = [_allocated(line) for line in change.order.lines if line.reserved > 0]
    if not released:
        return change  # wholly backordered: nothing to release, it stays CONFIRMED
    change = with_lines(change, released)
    for line in released:
        change = to_stock(change, AllocateLine, line, "allocate")
    warehouses = sorted({fill.warehouse for line in released for fill in line.fills})
    for warehouse in warehouses:
        lines = tuple(
            NumberedLine(no=line.line_no, sku=line.sku, qty=fill.allocated)
            for line in released
            if (fill := line.fill_at(warehouse)) is not None
        )
        change = to_warehouse(change, ReleaseToWarehouse, warehouse, "release", lines=lines)
    return emit(change, OrderReleased, warehouses=tuple(warehouses))


def _allocated(line: OrderLine) -> OrderLine:
    """The line with every fill's reservation allocated and released to its warehouse."""
    fills = tuple(
        replace(fill, allocated=fill.reserved, reserved=0, released=fill.reserved)
        for fill in line.fills
    )
    return replace(line, fills=fills, status=LineStatus.RELEASED)


def pick(change: Change, message: PickConfirmed) -> Change:
    """Record picked (and short) quantities; PICKED once no released line waits for its pick."""
    if change.order.status is OrderStatus.CANCELLED:
        return late_pick(change, message)
    _check_in_warehouse(change.order, message.lines, message.event_id)
    where = message.warehouse
    picked = [_picked(change.order, where, line) for line in message.lines]
    change = with_lines(change, picked)
    for line, confirmed in zip(picked, message.lines, strict=True):
        if short := confirmed.requested - confirmed.picked:
            change = to_stock(
                change, RecordShortPick, line, f"short@{where}", short=short, warehouse=where
            )
    return _settle(change, where)


def ship(change: Change, message: ShipConfirmed) -> Change:
    """Record shipped quantities; SHIPPED once every line is shipped or backordered."""
    if change.order.status is OrderStatus.CANCELLED:
        return late_ship(change, message)
    _check_in_warehouse(change.order, message.lines, message.event_id)
    where = message.warehouse
    for confirmed in message.lines:
        line = _shipped(change.order, where, confirmed)
        change = with_lines(change, [line])
        # the line's running total makes each shipment's id unique and stable across replays
        step = f"ship@{line.shipped}"
        change = to_stock(change, RecordShipment, line, step, qty=confirmed.qty, warehouse=where)
    return _settle(change, where, message.carrier, message.tracking)


def _check_in_warehouse(order: Order, lines: Sequence[PickLine | NumberedLine], cause: str) -> None:
    """A confirmation needs a released order and names each of its lines once."""
    if order.status not in _IN_WAREHOUSE:
        raise not_allowed(order, cause)
    check_named_once([line.no for line in lines], cause)


def _released_line(order: Order, warehouse: str, line_no: int, sku: str) -> tuple[OrderLine, Fill]:
    """The order line a warehouse confirms and its part there: released to that warehouse."""
    line = confirmed_line(order, line_no, sku)
    where = line_where(order, line_no)
    if not line.was_released:
        raise InvalidOrderTransition("line_not_released", f"{where} is {line.status}")
    fill = line.fill_at(warehouse)
    if fill is None or not fill.released:
        raise InvalidOrderTransition("wrong_warehouse", f"{where} was not released to {warehouse}")
    return line, fill


def _picked(order: Order, warehouse: str, confirmed: PickLine) -> OrderLine:
    """The line after its fill's one pick: the shortfall is backordered, leaving the allocation."""
    line, fill = _released_line(order, warehouse, confirmed.no, confirmed.sku)
    where = line_where(order, line.line_no)
    if line.status is LineStatus.SHIPPED or fill.pick_confirmed:
        reason = "already_shipped" if line.status is LineStatus.SHIPPED else "already_picked"
        raise InvalidOrderTransition(reason, f"{where} is {line.status}")
    released = fill.allocated + fill.shipped  # what its Release asked for
    if confirmed.requested != released:
        raise InvalidOrderTransition(
            "requested_mismatch", f"{where}: requested {confirmed.requested}, released {released}"
        )
    if not fill.shipped <= confirmed.picked <= confirmed.requested:
        raise InvalidOrderTransition(
            "picked_out_of_range",
            f"{where}: picked {confirmed.picked} outside {fill.shipped}..{confirmed.requested}",
        )
    short = confirmed.requested - confirmed.picked
    done = replace(
        fill, picked=confirmed.picked, allocated=fill.allocated - short, pick_confirmed=True
    )
    line = replace(line.with_fill(done), backordered=line.backordered + short)
    waiting = any(f.released and not f.pick_confirmed for f in line.fills)
    return _done_if_out(replace(line, status=LineStatus.RELEASED if waiting else LineStatus.PICKED))


def _shipped(order: Order, warehouse: str, confirmed: NumberedLine) -> OrderLine:
    """The line after a shipment out of its fill's allocation (picked or not yet confirmed)."""
    line, fill = _released_line(order, warehouse, confirmed.no, confirmed.sku)
    where = line_where(order, line.line_no)
    if line.status is LineStatus.SHIPPED:
        raise InvalidOrderTransition("already_shipped", f"{where} is {line.status}")
    if confirmed.qty > fill.allocated:
        raise InvalidOrderTransition(
            "overshipped", f"{where}: shipped {confirmed.qty}, {fill.allocated} left to ship"
        )
    shipped = replace(
        fill, shipped=fill.shipped + confirmed.qty, allocated=fill.allocated - confirmed.qty
    )
    return _done_if_out(line.with_fill(shipped))


def _done_if_out(line: OrderLine) -> OrderLine:
    """A line with something shipped and nothing outstanding is SHIPPED."""
    if line.shipped and not line.outstanding:
        return replace(line, status=LineStatus.SHIPPED)
    return line


def _settle(
    change: Change, warehouse: str, carrier: str | None = None, tracking: str | None = None
) -> Change:
    """Move the order as far as its lines allow: PICKED, then SHIPPED."""
    lines = change.order.lines
    if change.order.status is OrderStatus.RELEASED and not _any(lines, LineStatus.RELEASED):
        change = emit(change, OrderPicked, warehouse=warehouse)
    if all(line.outstanding == 0 for line in lines) and any(line.shipped for line in lines):
        change = emit(change, OrderShipped, warehouse=warehouse, carrier=carrier, tracking=tracking)
    return change


def _any(lines: Iterable[OrderLine], status: LineStatus) -> bool:
    """Whether some line is in `status`."""
    return any(line.status is status for line in lines)
