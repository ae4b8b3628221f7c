"""The RabbitMQ topology of CONTRACT 3: names and arguments, declared idempotently at start."""

from dataclasses import dataclass, field
from typing import Any

WMS_EVENTS_EXCHANGE = "wms.events"
WMS_COMMANDS_EXCHANGE = "wms.commands"
DEAD_LETTER_EXCHANGE = "distgate.dlx"
WMS_EVENTS_QUEUE = "distgate.wms-events"
WMS_EVENTS_DEAD_QUEUE = "distgate.wms-events.dead"

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


EXCHANGES = (
    ExchangeSpec(WMS_EVENTS_EXCHANGE, "topic"),
    ExchangeSpec(WMS_COMMANDS_EXCHANGE, "topic"),
    ExchangeSpec(DEAD_LETTER_EXCHANGE, "topic"),
)

QUEUES = (
    QueueSpec(
        WMS_EVENTS_QUEUE,
        arguments={
            "x-queue-type": "quorum",
            "x-dead-letter-exchange": DEAD_LETTER_EXCHANGE,
            "x-delivery-limit": DELIVERY_LIMIT,
            # One bridge consumes, the others stand by: a warehouse's messages stay in order.
            "x-single-active-consumer": True,
        },
        bindings=((WMS_EVENTS_EXCHANGE, "#"),),
    ),
    QueueSpec(
        WMS_EVENTS_DEAD_QUEUE,
        arguments={"x-queue-type": "quorum"},
        bindings=((DEAD_LETTER_EXCHANGE, "#"),),
    ),
)
