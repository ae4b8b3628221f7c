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
        },
        bindings=((WMS_EVENTS_EXCHANGE, "#"),),
    ),
    QueueSpec(
        WMS_EVENTS_DEAD_QUEUE,
        arguments={"x-queue-type": "quorum"},
        bindings=((DEAD_LETTER_EXCHANGE, "#"),),
    ),
)
