"""Legacy WMS messages (CONTRACT 3) as typed values; the XML codec is in `protocols.wms_xml`."""

import re
from types import MappingProxyType
from typing import Annotated, Literal, cast

import msgspec
from msgspec import Meta

from protocols.errors import WmsDecodeError
from protocols.ids import (
    ENTITY_ID_PATTERN,
    WAREHOUSE_PATTERN,
    Delta,
    OrderId,
    PoId,
    Qty,
    SafetyQty,
    Sku,
    StockLevel,
    Warehouse,
)
from protocols.orders import LineNo

# Printable text without control characters: carrier names and tracking numbers.
LABEL_PATTERN = r"^[^\x00-\x1f\x7f]{1,100}$(?!\n)"

TxnId = Annotated[str, Meta(pattern=ENTITY_ID_PATTERN, description="A WMS transaction number")]
Label = Annotated[str, Meta(pattern=LABEL_PATTERN, description="A carrier or tracking number")]

WmsKind = Literal["receipt", "adjust", "hold", "count", "pick", "ship"]
CommandKind = Literal["release", "cancel"]
AdjustReason = Literal["CYCLE_COUNT", "DAMAGED", "FOUND", "LOST", "QC", "OTHER"]

WMS_KINDS: MappingProxyType[str, str] = MappingProxyType(
    {
        "receipt": "Receipt",
        "adjust": "Adjust",
        "hold": "Hold",
        "count": "Count",
        "pick": "PickConfirm",
        "ship": "ShipConfirm",
    }
)
"""Routing-key kind of a message a WMS publishes on `wms.events` -> its XML root element."""
_WAREHOUSE = re.compile(WAREHOUSE_PATTERN)


def routing_key(warehouse: Warehouse, kind: WmsKind | CommandKind) -> str:
    """The AMQP routing key `<WAREHOUSE>.<kind>`."""
    return f"{warehouse}.{kind}"


def warehouse_named(key: str) -> Warehouse | None:
    """The warehouse a routing key `<WAREHOUSE>.<kind>` names, whatever its kind; else None."""
    warehouse, dot, _ = key.partition(".")
    return warehouse if dot and _WAREHOUSE.fullmatch(warehouse) else None


def parse_routing_key(key: str) -> tuple[Warehouse, WmsKind]:
    """Split the routing key of a message on `wms.events`; raise WmsDecodeError if it is not one."""
    warehouse = warehouse_named(key)
    if warehouse is None:
        raise WmsDecodeError("bad_routing_key", f"{key!r} is not <WAREHOUSE>.<kind>")
    kind = key.partition(".")[2]
    if kind not in WMS_KINDS:
        raise WmsDecodeError("unknown_kind", f"{kind!r} is not one of {', '.join(WMS_KINDS)}")
    return warehouse, cast(WmsKind, kind)


class ReceiptLine(msgspec.Struct, frozen=True):
    """Goods of one SKU received."""

    sku: Sku
    qty: Qty


class DeltaLine(msgspec.Struct, frozen=True):
    """A signed, non-zero change for one SKU: on-hand (Adjust) or blocked (Hold)."""

    sku: Sku
    delta: Delta


class CountLine(msgspec.Struct, frozen=True):
    """The counted on-hand stock of one SKU."""

    sku: Sku
    on_hand: StockLevel


class PickLine(msgspec.Struct, frozen=True):
    """A released order line as picked: `picked` may fall short of `requested`."""

    no: LineNo
    sku: Sku
    requested: Qty
    picked: SafetyQty


class NumberedLine(msgspec.Struct, frozen=True):
    """An order line number with a SKU and quantity: a ShipConfirm or Release line."""

    no: LineNo
    sku: Sku
    qty: Qty


class WmsTransaction(msgspec.Struct, frozen=True, kw_only=True, tag_field="type"):
    """Base of a message a WMS sends: its own `txn`, unique within `warehouse`."""

    txn: TxnId
    warehouse: Warehouse


class WmsReceipt(WmsTransaction, frozen=True, tag="WmsReceipt"):
    """Goods arrived, against purchase order `po` when given."""

    lines: tuple[ReceiptLine, ...]
    po: PoId | None = None


class WmsAdjust(WmsTransaction, frozen=True, tag="WmsAdjust"):
    """On-hand stock corrected by signed deltas."""

    lines: tuple[DeltaLine, ...]
    reason: AdjustReason | None = None


class WmsHold(WmsTransaction, frozen=True, tag="WmsHold"):
    """Stock blocked (positive delta) or unblocked (negative)."""

    lines: tuple[DeltaLine, ...]
    reason: AdjustReason | None = None


class WmsCount(WmsTransaction, frozen=True, tag="WmsCount"):
    """A count fixed on-hand stock to absolute figures."""

    lines: tuple[CountLine, ...]


class WmsPickConfirm(WmsTransaction, frozen=True, tag="WmsPickConfirm"):
    """Released lines of `order` were picked, possibly short."""

    order: OrderId
    lines: tuple[PickLine, ...]


class WmsShipConfirm(WmsTransaction, frozen=True, tag="WmsShipConfirm"):
    """Picked lines of `order` left the warehouse."""

    order: OrderId
    lines: tuple[NumberedLine, ...]
    carrier: Label | None = None
    tracking: Label | None = None


WmsMessage = WmsReceipt | WmsAdjust | WmsHold | WmsCount | WmsPickConfirm | WmsShipConfirm
