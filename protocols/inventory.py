"""Canonical stock events: what the WMS bridge publishes, and `StockChanged` for ERP/CRM."""

import datetime as dt

import msgspec

from protocols.ids import Delta, EventId, PoId, Qty, Sku, StockLevel, Warehouse


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


WmsStockEvent = StockReceived | StockAdjusted | StockHoldChanged | StockCounted


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
