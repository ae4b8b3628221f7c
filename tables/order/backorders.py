"""Backordered units of an order line being filled: asked for, filled, and promised.

Units picked short go back to `backordered` and the stock side is asked to hold what ATP
there is for them (`FillBackorder`): in the asked warehouse if the line named one, and
in the warehouse that just did not find them only what no other has. What it cannot
hold, and what a line allowing backorders could not reserve, waits in the SKU's
backorder queue.
What the stock side holds comes back as `BackorderFilled` (event OrderBackorderFilled):
on an order ERP already confirmed it is released to its warehouse at once, before that
it waits for ERP like the rest, and on an order with nothing open it is given straight
back. `BackorderPromised` says by when expected receipts cover what still waits.
"""

from msgspec.structs import replace

from protocols.orders import LineStatus, OrderReserved, OrderStatus
from protocols.reservations import (
    BackorderFilled,
    BackorderPromised,
    FillBackorder,
    ReleaseReservation,
)
from tables.order.change import Change, emit, to_stock, with_lines
from tables.order.progress import FULFILLING, settle
from tables.order.release import release_reserved
from tables.order.steps import backorder_filled
from tables.order.value import FINAL, Fill, InvalidOrderTransition, OrderLine, confirmed_line

S = OrderStatus
_NOTHING_OPEN = (S.CANCELLED, S.REJECTED, S.SHIPPED, S.INVOICED)


def refill(
    change: Change, line: OrderLine, qty: int, short_at: str, *, step: str | None = None
) -> Change:
    """`qty` of `line` just went missing at `short_at`: ask another warehouse first for them.

    Picked short (`step` numbered by the line's short picks) or taken back from the
    shelf (`tables.order.takeback`, its own `step`): both backorder the units and come here.
    """
    return to_stock(
        change, FillBackorder, line, step or f"refill@{line.shorts}", qty=qty,
        warehouse=line.warehouse, short_at=short_at, submitted_at=change.order.submitted_at,
    )  # fmt: skip


def filled(change: Change, message: BackorderFilled) -> Change | None:
    """Backordered units the stock side now holds: kept, released at once, or given back."""
    order = change.order
    line = confirmed_line(order, message.line_no, message.sku)
    qty = sum(fill.qty for fill in message.fills)
    if not qty:
        return None  # nothing was free: the units stay backordered
    if order.status in _NOTHING_OPEN:  # closed, or its remainder cancelled meanwhile
        return to_stock(change, ReleaseReservation, line, f"release@{message.event_id}")
    if qty > line.backordered:
        raise InvalidOrderTransition(
            "overfilled", f"{message.event_id}: {qty} filled, {line.backordered} backordered"
        )
    for fill in message.fills:
        line = _with_reserved(line, fill.warehouse, fill.qty)
    waiting = line.status is LineStatus.BACKORDERED
    line = replace(
        line,
        backordered=line.backordered - qty,
        status=LineStatus.RESERVED if waiting else line.status,
    )
    change = with_lines(change, [line])
    if order.status is S.BACKORDERED:  # something is held now: a status of its own
        change = emit(change, OrderReserved)
    if order.status not in FULFILLING:
        # ERP has not confirmed yet: the fill waits with the rest
        return backorder_filled(change, line, message.fills)
    change, warehouses = release_reserved(change)
    change = backorder_filled(change, line, message.fills)  # shown released
    return settle(change, warehouses[0], released=warehouses)


def promised(change: Change, message: BackorderPromised) -> Change | None:
    """The stock side's latest date for the line's backordered units (an older one: nothing)."""
    order = change.order
    line = confirmed_line(order, message.line_no, message.sku)
    if order.status in FINAL or message.as_of <= line.promise_as_of:
        return None
    dated = replace(line, promise_date=message.promise_date, promise_as_of=message.as_of)
    return with_lines(change, [dated])


def _with_reserved(line: OrderLine, warehouse: str, qty: int) -> OrderLine:
    """The line with `qty` more reserved at `warehouse`, in its part not yet released there."""
    for n, fill in enumerate(line.fills):
        if fill.warehouse == warehouse and not fill.released:
            return line.with_fill(n, replace(fill, reserved=fill.reserved + qty))
    return replace(line, fills=(*line.fills, Fill(warehouse=warehouse, reserved=qty)))
