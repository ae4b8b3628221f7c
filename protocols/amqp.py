"""The RabbitMQ topology of CONTRACT 3: names and arguments, declared idempotently at start.

The exchanges `wms.events` and `wms.commands` are shared by every deployment; each
deployment has its own queue bound to `wms.events`, its dead queue and its dead-letter
exchange, named from its app id, so every deployment sees every WMS event. A
deployment also owns the queues where it parks commands for a warehouse no WMS queue
is bound for: one per warehouse, and an index naming the warehouses that have one.
"""

from dataclasses import dataclass, field
from functools import cache
from typing import Any

WMS_EVENTS_EXCHANGE = "wms.events"
WMS_COMMANDS_EXCHANGE = "wms.commands"

# A message redelivered this often (e.g. it crashes the bridge every time) is dead-lettered.
DELIVERY_LIMIT = 10

# Kafka headers that carry an AMQP message's identity (bridge output, AMQP dead letters).
HEADER_ROUTING_KEY = "amqp.routing_key"
HEADER_MESSAGE_ID = "amqp.message_id"
HEADER_CORRELATION_ID = "amqp.correlation_id"
HEADER_CONTENT_TYPE = "amqp.content_type"
HEADER_BODY_SIZE = "amqp.body_size"
"""On a dead letter whose payload was cut short: the original body's size in bytes."""
HEADER_WMS_TXN = "wms.txn"
HEADER_WMS_WAREHOUSE = "wms.warehouse"
HEADER_PARKED_ROUTING_KEY = "distgate.routing_key"
"""On a parked command: its routing key on `wms.commands` (parking publishes it elsewhere)."""


@dataclass(frozen=True)
class ExchangeSpec:
    """A durable exchange."""

    name: str
    type: str


@dataclass(frozen=True)
class QueueSpec:
    """A durable queue, its arguments and its bindings (exchange, routing key)."""

    name: str
    arguments: dict[str, Any] = field(default_factory=dict)
    bindings: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class WmsQueues:
    """One deployment's side of the AMQP topology: its queues, dead-letter exchange, parking."""

    events: QueueSpec
    dead: QueueSpec
    dead_letter_exchange: ExchangeSpec
    parked_index: QueueSpec

    @staticmethod
    @cache
    def for_app(app_id: str) -> "WmsQueues":
        """The queues of the deployment `app_id`: `<app_id>.wms-events`, its dead queue, index."""
        exchange = ExchangeSpec(f"{app_id}.dlx", "topic")
        events = QueueSpec(
            f"{app_id}.wms-events",
            arguments={
                "x-queue-type": "quorum",
                "x-dead-letter-exchange": exchange.name,
                "x-delivery-limit": DELIVERY_LIMIT,
                # One bridge consumes, the others stand by: a warehouse's messages stay in order.
                "x-single-active-consumer": True,
            },
            bindings=((WMS_EVENTS_EXCHANGE, "#"),),
        )
        dead = QueueSpec(
            f"{app_id}.wms-events.dead",
            arguments={"x-queue-type": "quorum"},
            bindings=((exchange.name, "#"),),
        )
        # One redeliverer at a time per deployment takes the index's warehouse names.
        index = QueueSpec(
            f"{app_id}.wms-commands.parked",
            arguments={"x-queue-type": "classic", "x-single-active-consumer": True},
        )
        return WmsQueues(events, dead, exchange, index)

    def parked(self, warehouse: str) -> QueueSpec:
        """The queue where `warehouse`'s commands wait, in order, until its WMS binds."""
        # Classic: a requeued message goes back to its place, so the order holds.
        return QueueSpec(f"{self.parked_index.name}.{warehouse}", {"x-queue-type": "classic"})

    def exchanges(self) -> tuple[ExchangeSpec, ...]:
        """The shared WMS exchanges and this deployment's dead-letter exchange."""
        return (*SHARED_EXCHANGES, self.dead_letter_exchange)

    def queues(self) -> tuple[QueueSpec, ...]:
        """This deployment's queues, in the order they are declared."""
        return (self.events, self.dead, self.parked_index)


SHARED_EXCHANGES = (
    ExchangeSpec(WMS_EVENTS_EXCHANGE, "topic"),
    ExchangeSpec(WMS_COMMANDS_EXCHANGE, "topic"),
)
