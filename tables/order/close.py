"""Closing an order, or what is left of it: rejected or cancelled, everything it holds given back.

Before anything went to a warehouse, reservations are released. After, each warehouse
with released lines gets a Cancel and every hold is deallocated. Either way a line's
backordered units leave the SKU's backorder queue. Once something shipped,
only the unshipped remainder can go: it is cancelled and the order is SHIPPED (INVOICED
if ERP invoiced everything that shipped). The order keeps why its units were cancelled
(`cancel_reason`); a rejection of the whole order says it by its status.
"""

from msgspec.structs import replace

from protocols.order_commands import CancelOrder
from protocols.orders import (
    CancelReason,
    LineStatus,
    OrderCancelled,
    OrderInvoiced,
    OrderRejected,
    OrderRemainderCancelled,
    OrderStatus,
)
from protocols.reservations import Deallocate, ReleaseReservation
from protocols.wms_events import CancelAtWarehouse
from tables.order.change import Change, emit, to_stock, to_warehouse, with_lines
from tables.order.progress import progress
from tables.order.steps import cancelled_since
from tables.order.value import InvalidOrderTransition, OrderLine, cancel_refusal


def reject(change: Change, reason: str) -> Change:
    """REJECTED: everything held given back (the warehouses told); a shipped part stays."""
    if any(line.shipped for line in change.order.lines):
        return cancel_remainder(because(change, CancelReason.REJECTED), reason)
    change = give_back(change, LineStatus.REJECTED)
    return emit(change, OrderRejected, reason=reason)


def cancel(change: Change, message: CancelOrder) -> Change | None:
    """CANCELLED, or once something shipped the unshipped remainder cancelled."""
    order = change.order
    if order.status is OrderStatus.CANCELLED:
        return None
    if refusal := cancel_refusal(order):
        raise InvalidOrderTransition(
            refusal, f"{message.event_id} for order {order.order_id} in {order.status}"
        )
    change = because(change, CancelReason.CUSTOMER)
    if any(line.shipped for line in order.lines):
        return cancel_remainder(change, message.reason)
    change = give_back(change, LineStatus.CANCELLED)
    return emit(change, OrderCancelled, reason=message.reason)


def because(change: Change, reason: CancelReason) -> Change:
    """The order remembering why its open units are being cancelled, for `GET /v1/orders`."""
    return replace(change, order=replace(change.order, cancel_reason=reason))


def give_back(change: Change, status: LineStatus) -> Change:
    """Every line to `status` with nothing held; any parked ERP decision dropped."""
    if change.order.releases:
        change = _withdraw(change, every=True)
    else:
        for line in change.order.lines:
            if line.reserved or line.backordered:  # backordered: it leaves the SKU's queue
                change = to_stock(change, ReleaseReservation, line, "release")
    change = with_lines(change, [closed_line(line, status) for line in change.order.lines])
    return replace(change, order=replace(change.order, pending_decision=None))


def cancel_remainder(change: Change, reason: str) -> Change:
    """What did not ship is cancelled: the order is SHIPPED, or INVOICED if all was invoiced."""
    change = _withdraw(change, every=False)
    before = change.order.lines
    change = with_lines(change, [_remainder_cancelled(line) for line in before])
    cancelled = cancelled_since(before, change.order.lines)
    change = emit(change, OrderRemainderCancelled, reason=reason, cancelled=cancelled)
    if progress(change.order) is OrderRemainderCancelled.status:
        return change
    return emit(change, OrderInvoiced, invoice_id=change.order.invoice_id)


def _withdraw(change: Change, *, every: bool) -> Change:
    """A Cancel to each warehouse with released lines (`every`) or work still open, holds freed."""
    lines = change.order.lines
    warehouses = sorted(
        {
            fill.warehouse
            for line in lines
            for fill in line.fills
            if fill.released and (every or fill.allocated or not fill.pick_confirmed)
        }
    )
    for warehouse in warehouses:
        change = to_warehouse(change, CancelAtWarehouse, warehouse, "cancel")
    for line in lines:
        if line.allocated or line.reserved or line.backordered:
            change = to_stock(change, Deallocate, line, "deallocate")
    return change


def closed_line(line: OrderLine, status: LineStatus) -> OrderLine:
    """The line of a closed order: nothing held or backordered, every unshipped unit cancelled.

    Fills that went to a warehouse stay, to say what was released, picked and shipped there.
    """
    fills = tuple(replace(fill, reserved=0, allocated=0) for fill in line.fills if fill.released)
    shipped = sum(fill.shipped for fill in fills)
    return replace(line, fills=fills, backordered=0, cancelled=line.qty - shipped, status=status)


def _remainder_cancelled(line: OrderLine) -> OrderLine:
    """The line with its unshipped units cancelled: SHIPPED if any shipped, else CANCELLED."""
    return closed_line(line, LineStatus.SHIPPED if line.shipped else LineStatus.CANCELLED)
