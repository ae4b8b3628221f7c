"""The one Kafka topic registry: no topic name is typed anywhere else."""

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

import msgspec

from protocols.erp import OrderDecision, SupplyMessage
from protocols.inventory import StockChanged, WmsStockEvent
from protocols.order_commands import CancelOrder, SubmitOrder
from protocols.orders import OrderEvent, OrderStatusChanged
from protocols.reservations import ReservationAnswerMessage, StockCommandMessage
from protocols.wms_events import PickConfirmed, ShipConfirmed, WmsCommandMessage

# Every stock-affecting message, on one topic keyed by SKU, so the stock table has one input.
StockInboxMessage = WmsStockEvent | SupplyMessage | StockCommandMessage
OrderInboxMessage = (
    SubmitOrder
    | CancelOrder
    | ReservationAnswerMessage
    | OrderDecision
    | PickConfirmed
    | ShipConfirmed
)


@dataclass(frozen=True)
class TopicSpec:
    """A topic: its name, what its key is, the type of its values, and who owns it."""

    name: str
    key: str
    value: object
    external: bool
    compacted: bool
    doc: str


class Topics:
    """Every topic distgate reads or writes; ERP's topics are external (ERP creates them)."""

    ERP_SUPPLY = TopicSpec(
        name="erp.supply",
        key="sku",
        value=SupplyMessage,
        external=True,
        compacted=False,
        doc="ERP supply planning: safety stock and expected receipts (CONTRACT 4).",
    )
    ERP_ORDER_DECISIONS = TopicSpec(
        name="erp.order-decisions",
        key="order_id",
        value=OrderDecision,
        external=True,
        compacted=False,
        doc="ERP's confirmations, credit holds, rejections and invoices of orders.",
    )
    ORDERS_EVENTS = TopicSpec(
        name="orders.events",
        key="order_id",
        value=OrderEvent,
        external=False,
        compacted=False,
        doc="The canonical order lifecycle, one event per change.",
    )
    INVENTORY_EVENTS = TopicSpec(
        name="inventory.events",
        key="sku",
        value=StockChanged,
        external=False,
        compacted=False,
        doc="A SKU-warehouse stock position after every change, for ERP and CRM.",
    )
    CRM_ORDER_STATUS = TopicSpec(
        name="crm.order-status",
        key="customer_id",
        value=OrderStatusChanged,
        external=False,
        compacted=False,
        doc="The customer-facing order status for account teams.",
    )
    DEAD_LETTERS = TopicSpec(
        name="distgate.dead-letters",
        key="the original key",
        value=bytes,
        external=False,
        compacted=False,
        doc="Messages that could not be applied: original bytes, `dl.*` headers say why.",
    )
    STOCK_INBOX = TopicSpec(
        name="distgate.stock-inbox",
        key="sku",
        value=StockInboxMessage,
        external=False,
        compacted=False,
        doc="Every stock-affecting message re-keyed by SKU: the stock table's single input.",
    )

    ORDER_INBOX = TopicSpec(
        name="distgate.order-inbox",
        key="order_id",
        value=OrderInboxMessage,
        external=False,
        compacted=False,
        doc="Everything that changes an order, keyed by order id: the order table's input.",
    )
    WMS_COMMANDS = TopicSpec(
        name="distgate.wms-commands",
        key="order_id",
        value=WmsCommandMessage,
        external=False,
        compacted=False,
        doc="Release and Cancel instructions the bridge sends to each warehouse over AMQP.",
    )

    @classmethod
    def all(cls) -> tuple[TopicSpec, ...]:
        """Every registered topic, in declaration order."""
        return tuple(spec for spec in vars(cls).values() if isinstance(spec, TopicSpec))


_DECODERS: Mapping[str, msgspec.json.Decoder[Any]] = MappingProxyType(
    {
        spec.name: msgspec.json.Decoder(spec.value)
        for spec in Topics.all()
        if spec.value is not bytes
    }
)


def decoder_for(spec: TopicSpec) -> msgspec.json.Decoder[Any]:
    """The JSON decoder of a topic's value type, built once at import."""
    try:
        return _DECODERS[spec.name]
    except KeyError:
        raise ValueError(f"{spec.name} carries raw bytes, not JSON") from None
