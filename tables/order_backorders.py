"""Backordered units of an order line being filled again: asked for, and filled.

Units picked short go back to `backordered` and the stock side is asked to hold what ATP
there is for them (`FillBackorder`): in the asked warehouse if the line named one, and
never in the warehouse that just did not find them.
What it holds comes back as `BackorderFilled`: on an order ERP already confirmed it is
released to its warehouse at once, before that it waits for ERP like the rest, and on a
closed order it is given straight back.
"""

from msgspec.structs import replace

from protocols.orders import OrderStatus
from protocols.reservations import BackorderFilled, FillBackorder, ReleaseReservation
from tables.order_change import Change, to_stock, with_lines
from tables.order_progress import FULFILLING, settle
from tables.order_release import release_reserved
from tables.order_state import Fill, InvalidOrderTransition, OrderLine, confirmed_line

_CLOSED = (OrderStatus.CANCELLED, OrderStatus.REJECTED)


def refill(
    change: Change, line: OrderLine, qty: int, short_at: str, *, step: str | None = None
) -> Change:
    """`qty` of `line` just went missing at `short_at`: ask another warehouse for them.

    Picked short (`step` numbered by the line's short picks) or taken back from the
    shelf (`order_takeback`, its own `step`): both backorder the units and come here.
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
    if order.status in _CLOSED:
        return to_stock(change, ReleaseReservation, line, f"release@{message.event_id}")
    if qty > line.backordered:
        raise InvalidOrderTransition(
            "overfilled", f"{message.event_id}: {qty} filled, {line.backordered} backordered"
        )
    for fill in message.fills:
        line = _with_reserved(line, fill.warehouse, fill.qty)
    change = with_lines(change, [replace(line, backordered=line.backordered - qty)])
    if order.status not in FULFILLING:
        return change  # ERP has not confirmed yet: the fill waits with the rest
    change, warehouses = release_reserved(change)
    return settle(change, warehouses[0], released=warehouses)


def _with_reserved(line: OrderLine, warehouse: str, qty: int) -> OrderLine:
    """The line with `qty` more reserved at `warehouse`, in its part not yet released there."""
    for n, fill in enumerate(line.fills):
        if fill.warehouse == warehouse and not fill.released:
            return line.with_fill(n, replace(fill, reserved=fill.reserved + qty))
    return replace(line, fills=(*line.fills, Fill(warehouse=warehouse, reserved=qty)))
