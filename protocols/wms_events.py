"""Canonical events the WMS bridge derives from legacy messages, and the commands it sends back.

Stock facts (receipt, adjust, hold, count) become `protocols.inventory` events keyed by
SKU on the stock inbox; pick and ship confirmations concern an order and go, whole, to
the order inbox keyed by order id; Release and Cancel come from the order side on
the deployment's `<app_id>.wms-commands` and leave as XML on `wms.commands`.
"""

import datetime as dt

import msgspec

from protocols.ids import EventId, OrderId, Warehouse
from protocols.wms import Label, NumberedLine, PickLine, TxnId


class WarehouseConfirmation(msgspec.Struct, frozen=True, kw_only=True, tag_field="type"):
    """Base of a WMS confirmation about one order; `event_id` is `wms:<WAREHOUSE>:<txn>`."""

    event_id: EventId
    order_id: OrderId
    warehouse: Warehouse
    txn: TxnId
    occurred_at: dt.datetime
    correlation_id: str = ""


class PickConfirmed(WarehouseConfirmation, frozen=True, tag="PickConfirmed"):
    """Released lines were picked, some possibly short."""

    lines: tuple[PickLine, ...]


class ShipConfirmed(WarehouseConfirmation, frozen=True, tag="ShipConfirmed"):
    """Picked lines left the warehouse."""

    lines: tuple[NumberedLine, ...]
    carrier: Label | None = None
    tracking: Label | None = None


class WmsCommand(msgspec.Struct, frozen=True, kw_only=True, tag_field="type"):
    """Base of an instruction for one warehouse about one order; `txn` is distgate's own."""

    event_id: EventId
    order_id: OrderId
    warehouse: Warehouse
    txn: TxnId
    correlation_id: str = ""
    causation_id: str = ""


class ReleaseToWarehouse(WmsCommand, frozen=True, tag="ReleaseToWarehouse"):
    """Pick, pack and ship these lines."""

    lines: tuple[NumberedLine, ...]


class CancelAtWarehouse(WmsCommand, frozen=True, tag="CancelAtWarehouse"):
    """Stop work on the order."""


WmsCommandMessage = ReleaseToWarehouse | CancelAtWarehouse
