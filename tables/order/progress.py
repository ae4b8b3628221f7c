"""Where a confirmed order stands, read from its lines, and the event that says so.

A status says what the order waits for: RELEASED (a warehouse to pick), PICKED (to
ship what was picked), CONFIRMED (stock for its backordered units), PARTIALLY_SHIPPED
(something shipped, something still open), SHIPPED (nothing open; ERP to invoice) and
INVOICED (everything shipped is invoiced and nothing is open).
"""

from protocols.orders import (
    OrderAwaitingStock,
    OrderInvoiced,
    OrderPartiallyShipped,
    OrderPicked,
    OrderReleased,
    OrderShipped,
    OrderStatus,
)
from tables.order.change import Change, emit
from tables.order.value import Order

S = OrderStatus
FULFILLING = frozenset({S.CONFIRMED, S.RELEASED, S.PICKED, S.PARTIALLY_SHIPPED, S.SHIPPED})
"""Statuses of a confirmed order that has not closed: its lines decide where it stands."""


def progress(order: Order) -> OrderStatus:
    """The status a confirmed order's lines put it in."""
    lines = order.lines
    shipped = sum(line.shipped for line in lines)
    still_open = any(line.open for line in lines)
    if shipped and not still_open:
        return S.INVOICED if order.invoiced >= shipped else S.SHIPPED
    if shipped:
        return S.PARTIALLY_SHIPPED
    if any(f.released and not f.pick_confirmed for line in lines for f in line.fills):
        return S.RELEASED
    if any(line.allocated for line in lines):
        return S.PICKED
    return S.CONFIRMED


def settle(
    change: Change,
    warehouse: str,
    *,
    carrier: str | None = None,
    tracking: str | None = None,
    invoice_id: str = "",
    released: tuple[str, ...] = (),
) -> Change:
    """Move the order to where its lines put it, with the event of that status."""
    status = progress(change.order)
    if status is change.order.status:
        return change
    match status:
        case S.RELEASED:
            return emit(change, OrderReleased, warehouses=released or (warehouse,))
        case S.PICKED:
            return emit(change, OrderPicked, warehouse=warehouse)
        case S.CONFIRMED:
            return emit(change, OrderAwaitingStock, warehouse=warehouse)
        case S.PARTIALLY_SHIPPED:
            return emit(
                change,
                OrderPartiallyShipped,
                warehouse=warehouse,
                carrier=carrier,
                tracking=tracking,
            )
        case S.SHIPPED:
            return emit(
                change, OrderShipped, warehouse=warehouse, carrier=carrier, tracking=tracking
            )
        case _:
            return emit(change, OrderInvoiced, invoice_id=invoice_id)
