"""Steps an order takes without a status of their own, each published as its own event.

A short pick, a shipment, a backorder fill: one event on `orders.events` and one CRM view
each, sent for the inbox message that caused it and only then (the order applies each
message once, and a line takes each WMS confirmation once).
"""

from collections.abc import Iterable, Sequence

from msgspec.structs import replace

from protocols.orders import (
    CancelledLine,
    FilledUnits,
    OrderBackorderFilled,
    OrderPickedShort,
    OrderShipmentDispatched,
    ShortPickLine,
)
from protocols.reservations import Fill as HeldFill
from protocols.wms import PickLine
from protocols.wms_events import ShipConfirmed
from tables.order.change import Change, note
from tables.order.value import OrderLine, ShipmentRecord


def shipment_taken(
    change: Change, message: ShipConfirmed, carried: Sequence[tuple[int, int]]
) -> Change:
    """Keep the shipment (its lines' `(line_no, qty)` applied) on the order, and publish it."""
    if not carried:
        return change  # every line took this confirmation before: no new shipment
    record = ShipmentRecord(
        warehouse=message.warehouse,
        carrier=message.carrier,
        tracking=message.tracking,
        lines=tuple(carried),
        at=message.occurred_at,
    )
    order = replace(change.order, shipments=(*change.order.shipments, record))
    return note(
        replace(change, order=order), OrderShipmentDispatched, shipment=order.shipment(record)
    )


def picked_short(change: Change, warehouse: str, short: Sequence[ShortPickLine]) -> Change:
    """Publish the lines one pick confirmation found short at `warehouse`."""
    if not short:
        return change
    return note(change, OrderPickedShort, warehouse=warehouse, short=tuple(short))


def short_line(confirmed: PickLine) -> ShortPickLine:
    """How a short pick event names one line the warehouse found short."""
    return ShortPickLine(
        line_no=confirmed.no,
        sku=confirmed.sku,
        requested=confirmed.requested,
        picked=confirmed.picked,
        short=confirmed.requested - confirmed.picked,
    )


def backorder_filled(change: Change, line: OrderLine, fills: Iterable[HeldFill]) -> Change:
    """Publish the backordered units of `line` the stock side now holds, per warehouse."""
    filled = tuple(FilledUnits(fill.warehouse, fill.qty) for fill in fills)
    if not filled:
        return change
    return note(change, OrderBackorderFilled, line_no=line.line_no, sku=line.sku, filled=filled)


def cancelled_since(
    before: Sequence[OrderLine], after: Sequence[OrderLine]
) -> tuple[CancelledLine, ...]:
    """What each line gave up between two states of the order's lines (same order)."""
    return tuple(
        CancelledLine(line_no=new.line_no, sku=new.sku, qty=new.cancelled - old.cancelled)
        for old, new in zip(before, after, strict=True)
        if new.cancelled > old.cancelled
    )
