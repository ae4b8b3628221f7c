"""Reservations a warehouse's shelf could not keep: backordered, and looked for elsewhere.

The stock side takes reservations back, newest orders first, when a count, an
adjustment or a hold leaves a warehouse with less than is committed
(`tables.stock.takeback`). The order moves those units from the fill to `backordered`,
says why in an event (`OrderStockTakenBack...`) and asks for them again like any
backorder (`tables.order.backorders.refill`, at the warehouse that lost them last).

Only a fill not yet released can lose its reservation on the order side: once released,
the WMS has it and reports what it cannot find as a short pick. A reservation taken back
while its release was on its way (the stock side had not allocated it yet) is therefore
left to that short pick: the release's AllocateLine names the units, and the stock side
allocates them all the same. So is one of an order that closed meanwhile.
"""

import hashlib

from msgspec.structs import replace

from protocols.orders import (
    OrderStatus,
    OrderStockTakenBack,
    OrderStockTakenBackOnHold,
    OrderStockTakenBackWholly,
)
from protocols.reservations import LineTakenBack
from tables.order.backorders import refill
from tables.order.change import Change, emit, with_lines
from tables.order.value import OrderLine, confirmed_line

S = OrderStatus
_HELD = (S.SUBMITTED, S.RESERVED, S.BACKORDERED, S.CREDIT_HOLD)
"""Statuses whose fills may still be reserved and unreleased."""

_REASONS = {
    "StockCounted": "count",
    "StockAdjusted": "adjust",
    "StockHoldChanged": "hold",
    "StockShipped": "shipment",
    "RecordShipment": "shipment",
    "StockPickedShort": "short_pick",
    "RecordShortPick": "short_pick",
}


def taken_back(change: Change, message: LineTakenBack) -> Change | None:
    """Backorder what the shelf took back from an unreleased fill, say so, and refill it."""
    order = change.order
    line = confirmed_line(order, message.line_no, message.sku)
    at = next(
        (
            n
            for n, fill in enumerate(line.fills)
            if fill.warehouse == message.warehouse and fill.reserved and not fill.released
        ),
        None,
    )
    if order.status not in _HELD or at is None:
        return None  # released, or closed: see the module's docstring
    fill = line.fills[at]
    qty = min(message.qty, fill.reserved)
    line = line.with_fill(at, replace(fill, reserved=fill.reserved - qty))
    line = _without_empty_fills(replace(line, backordered=line.backordered + qty))
    change = _told(with_lines(change, [line]), line, qty, message)
    step = "back@" + hashlib.blake2b(message.event_id.encode(), digest_size=8).hexdigest()
    return refill(change, line, qty, message.warehouse, step=step)


def _without_empty_fills(line: OrderLine) -> OrderLine:
    """A fill left with nothing reserved that never went to its warehouse is no fill."""
    kept = tuple(f for f in line.fills if f.released or f.reserved or f.allocated or f.shipped)
    return replace(line, fills=kept)


def _told(change: Change, line: OrderLine, qty: int, message: LineTakenBack) -> Change:
    """The event saying why; a SUBMITTED order says it with its reservation decision."""
    status = change.order.status
    if status is S.SUBMITTED:
        return change
    fields = {
        "line_no": line.line_no,
        "warehouse": message.warehouse,
        "qty": qty,
        "reason": _REASONS.get(message.cause, "stock"),
    }
    if status is S.CREDIT_HOLD:
        return emit(change, OrderStockTakenBackOnHold, **fields)
    if any(other.reserved for other in change.order.lines):
        return emit(change, OrderStockTakenBack, **fields)
    return emit(change, OrderStockTakenBackWholly, **fields)
