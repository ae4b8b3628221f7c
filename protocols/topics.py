"""The one Kafka topic registry: no topic name is typed anywhere else.

A deployment owns its internal topics and its dead-letter topic: they are named from
its app id (`<app_id>.stock-inbox`, Kafka Streams' `application.id` convention), so two
deployments on one Kafka never read each other's. The external topics keep their names.
"""

from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from functools import cache
from types import MappingProxyType
from typing import Any

import msgspec

from protocols.erp import OrderDecision, SupplyMessage
from protocols.inventory import StockChanged, WmsStockEvent
from protocols.order_commands import CancelOrder, DecisionOverdue, SubmitOrder
from protocols.orders import OrderEvent, OrderStatusChanged
from protocols.reservations import ReservationAnswerMessage, StockCommandMessage
from protocols.wms_events import PickConfirmed, ShipConfirmed, WmsCommandMessage

# Kafka's default message.max.bytes, set on every topic distgate creates: a broker with a
# smaller default would refuse records the producers (max request 1 MiB) were told fit.
TOPIC_MAX_MESSAGE_BYTES = 1024 * 1024 + 12

# Every stock-affecting message, on one topic keyed by SKU, so the stock table has one input.
StockInboxMessage = WmsStockEvent | SupplyMessage | StockCommandMessage
OrderInboxMessage = (
    SubmitOrder
    | CancelOrder
    | DecisionOverdue
    | ReservationAnswerMessage
    | OrderDecision
    | PickConfirmed
    | ShipConfirmed
)


@dataclass(frozen=True)
class TopicSpec:
    """A topic: its role, its name, what its key is, the type of its values, and who owns it."""

    role: str  # what the topic is for: codecs are keyed by it, never by a deployment's names
    name: str
    key: str
    value: object
    external: bool
    compacted: bool
    doc: str
    keep_forever: bool = False  # retention.ms=-1: what an operator must act on never expires


# The value type of each role in the registry.
_VALUES: Mapping[str, object] = MappingProxyType(
    {
        "erp_supply": SupplyMessage,
        "erp_order_decisions": OrderDecision,
        "orders_events": OrderEvent,
        "inventory_events": StockChanged,
        "crm_order_status": OrderStatusChanged,
        "dead_letters": bytes,
        "stock_inbox": StockInboxMessage,
        "order_inbox": OrderInboxMessage,
        "wms_commands": WmsCommandMessage,
    }
)


def _spec(role: str, name: str, key: str, doc: str, external: bool = False) -> TopicSpec:
    return TopicSpec(role, name, key, _VALUES[role], external, compacted=False, doc=doc)


# The external topics: the same names for every deployment (ERP, CRM and the gateway's outputs).
ERP_SUPPLY = _spec(
    "erp_supply", "erp.supply", "sku",
    "ERP supply planning: safety stock and expected receipts (CONTRACT 4).",
    external=True,
)  # fmt: skip
ERP_ORDER_DECISIONS = _spec(
    "erp_order_decisions", "erp.order-decisions", "order_id",
    "ERP's confirmations, credit holds, rejections and invoices of orders.",
    external=True,
)  # fmt: skip
ORDERS_EVENTS = _spec(
    "orders_events", "orders.events", "order_id",
    "The canonical order lifecycle, one event per change.",
)  # fmt: skip
INVENTORY_EVENTS = _spec(
    "inventory_events", "inventory.events", "sku",
    "A SKU-warehouse stock position after every change, for ERP and CRM.",
)  # fmt: skip
CRM_ORDER_STATUS = _spec(
    "crm_order_status", "crm.order-status", "customer_id",
    "The customer-facing order status for account teams.",
)  # fmt: skip


@dataclass(frozen=True)
class Topics:
    """Every topic one deployment reads or writes; ERP's topics are external (ERP creates them)."""

    erp_supply: TopicSpec
    erp_order_decisions: TopicSpec
    orders_events: TopicSpec
    inventory_events: TopicSpec
    crm_order_status: TopicSpec
    dead_letters: TopicSpec
    stock_inbox: TopicSpec
    order_inbox: TopicSpec
    wms_commands: TopicSpec

    @staticmethod
    @cache
    def for_app(app_id: str) -> "Topics":
        """The topics of the deployment `app_id`: its own are named `<app_id>.<topic>`."""
        return Topics(
            erp_supply=ERP_SUPPLY,
            erp_order_decisions=ERP_ORDER_DECISIONS,
            orders_events=ORDERS_EVENTS,
            inventory_events=INVENTORY_EVENTS,
            crm_order_status=CRM_ORDER_STATUS,
            dead_letters=replace(
                _spec(
                    "dead_letters", f"{app_id}.dead-letters", "the original key",
                    "Messages that could not be applied: original bytes, `dl.*` headers say why.",
                ),
                keep_forever=True,
            ),
            stock_inbox=_spec(
                "stock_inbox", f"{app_id}.stock-inbox", "sku",
                "Every stock-affecting message re-keyed by SKU: the stock table's single input.",
            ),
            order_inbox=_spec(
                "order_inbox", f"{app_id}.order-inbox", "order_id",
                "Everything that changes an order, keyed by order id: the order table's input.",
            ),
            wms_commands=_spec(
                "wms_commands", f"{app_id}.wms-commands", "order_id",
                "Release and Cancel instructions the bridge sends to each warehouse over AMQP.",
            ),
        )  # fmt: skip

    def all(self) -> tuple[TopicSpec, ...]:
        """Every topic of the deployment, in declaration order."""
        return tuple(getattr(self, field.name) for field in fields(self))


_DECODERS: Mapping[str, msgspec.json.Decoder[Any]] = MappingProxyType(
    {role: msgspec.json.Decoder(value) for role, value in _VALUES.items() if value is not bytes}
)


def decoder_for(spec: TopicSpec) -> msgspec.json.Decoder[Any]:
    """The JSON decoder of a topic's value type (by its role), built once at import."""
    try:
        return _DECODERS[spec.role]
    except KeyError:
        raise ValueError(f"{spec.name} carries no JSON (raw bytes or msgpack)") from None
