"""Canonical stock events: what the WMS bridge publishes, and `StockChanged` for ERP/CRM."""

import datetime as dt

import msgspec

from protocols.ids import Delta, EventId, OrderId, PoId, Qty, Sku, StockLevel, Warehouse
from protocols.orders import LineNo


class StockEvent(msgspec.Struct, frozen=True, kw_only=True, tag_field="type"):
    """Base of a canonical WMS stock fact about one SKU in one warehouse."""

    event_id: EventId
    sku: Sku
    warehouse: Warehouse
    occurred_at: dt.datetime
    correlation_id: str = ""


class StockReceived(StockEvent, frozen=True, tag="StockReceived"):
    """Goods arrived: `on_hand += qty`, and the PO's expected receipt shrinks."""

    qty: Qty
    po_id: PoId | None = None


class StockAdjusted(StockEvent, frozen=True, tag="StockAdjusted"):
    """The WMS corrected on-hand stock by a signed delta."""

    delta: Delta
    reason: str | None = None


class StockHoldChanged(StockEvent, frozen=True, tag="StockHoldChanged"):
    """Stock was blocked (positive delta) or unblocked (negative) for QC and the like."""

    delta: Delta
    reason: str | None = None


class StockCounted(StockEvent, frozen=True, tag="StockCounted"):
    """A cycle count fixed on-hand stock to an absolute figure."""

    on_hand: StockLevel


class StockShipped(StockEvent, frozen=True, tag="StockShipped"):
    """`qty` of an order line left the shelf (a ShipConfirm line), in the WMS's own order.

    Its id, `wms:<WAREHOUSE>:<txn>:<line no>`, is also the `wms_id` of the order side's
    RecordShipment for that line: whichever arrives first takes the units out, once.
    """

    order_id: OrderId
    line_no: LineNo
    qty: Qty


class StockPickedShort(StockEvent, frozen=True, tag="StockPickedShort"):
    """`short` units of an order line were not on the shelf (a PickConfirm line picked short)."""

    order_id: OrderId
    line_no: LineNo
    short: Qty


def shelf_line_id(confirmation_id: str, line_no: int) -> str:
    """The id of one line's shelf effect: its pick or ship confirmation's id and line number."""
    return f"{confirmation_id}:{line_no}"


ShelfLineEvent = StockShipped | StockPickedShort
"""A WMS pick or ship effect on one order line's stock, sent straight from the bridge."""

WmsStockEvent = (
    StockReceived
    | StockAdjusted
    | StockHoldChanged
    | StockCounted
    | StockShipped
    | StockPickedShort
)


class StockChanged(msgspec.Struct, frozen=True, tag_field="type", tag="StockChanged"):
    """Published on `inventory.events` after every change of a SKU-warehouse position."""

    event_id: EventId
    sku: Sku
    warehouse: Warehouse
    on_hand: int
    blocked: int
    reserved: int
    allocated: int
    safety_stock: int
    atp: int
    cause: str
    occurred_at: dt.datetime
