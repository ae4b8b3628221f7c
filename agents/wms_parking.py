"""Parking: a command waits, in order and durably, while its warehouse has no WMS queue bound.

`wms.commands` returns a command no WMS queue is bound for. Blocking on it would stop
every later command of its Kafka partition, for every warehouse; instead the command
goes into the deployment's parked queue for its warehouse (declared on that first
return) and the partition moves on. While that queue exists, the warehouse's next
commands are parked behind it, so its order holds; the redeliverer
(`agents.wms_redelivery`) empties it into `wms.commands` once the WMS binds, and deletes
it when empty. A process that cannot know whether a warehouse has parked commands (it
just started, or took over partitions) parks first whenever that queue exists.

The redeliverer finds parked warehouses in the deployment's index queue. A process
names a warehouse there each time it parks into a queue it did not know of, after the
command is in: a crash in between leaves the command uncommitted in Kafka, and its
redelivery parks and names it again.
"""

import enum
import re
from typing import Protocol

import aio_pika
from aio_pika.abc import AbstractMessage, HeadersType

from protocols.amqp import HEADER_PARKED_ROUTING_KEY
from protocols.ids import WAREHOUSE_PATTERN

_WAREHOUSE = re.compile(WAREHOUSE_PATTERN)


class Delivered(enum.Enum):
    """Where a command went: to its WMS's queue, or parked behind its warehouse's others."""

    SENT = "sent"
    PARKED = "parked"


class CommandRoute(Protocol):
    """The AMQP steps a delivery is made of; each returns once RabbitMQ confirmed it."""

    async def send(self, message: aio_pika.Message, key: str) -> bool:
        """Publish to `wms.commands`; False when no queue is bound for `key`."""

    async def park(self, warehouse: str, message: aio_pika.Message) -> bool:
        """Publish to the warehouse's parked queue; False when it has none."""

    async def open_parking(self, warehouse: str) -> None:
        """Declare the warehouse's parked queue."""

    async def announce(self, warehouse: str) -> None:
        """Name the warehouse in the index, for the redeliverer."""


class Router:
    """Delivers each command to `wms.commands` or parks it, keeping every warehouse's order."""

    def __init__(self, route: CommandRoute) -> None:
        self.route = route
        self._parks: dict[str, bool] = {}  # what this process knows; absent: not known

    def forget(self) -> None:
        """Partitions moved: another process may have parked their commands meanwhile."""
        self._parks.clear()

    async def deliver(self, warehouse: str, message: aio_pika.Message, key: str) -> Delivered:
        """Send the command, or park it when its warehouse has parked commands or no queue."""
        while True:
            parks = self._parks.get(warehouse)
            if parks is not False:
                if await self.route.park(warehouse, parked_message(message, key)):
                    if parks is None:
                        await self.route.announce(warehouse)
                    self._parks[warehouse] = True
                    return Delivered.PARKED
                self._parks[warehouse] = False
            if await self.route.send(message, key):
                return Delivered.SENT
            await self.route.open_parking(warehouse)
            self._parks.pop(warehouse, None)


def parked_message(message: aio_pika.Message, key: str) -> aio_pika.Message:
    """The command as parked: the same message, carrying its routing key in a header."""
    return _copy(message, {**message.headers, HEADER_PARKED_ROUTING_KEY: key})


def unparked(message: AbstractMessage) -> tuple[str, aio_pika.Message] | None:
    """The routing key and message to send for a parked command; None if it is not one."""
    headers = dict(message.headers)
    key = headers.pop(HEADER_PARKED_ROUTING_KEY, None)
    if isinstance(key, bytes):
        key = key.decode("utf-8", "replace")
    if not isinstance(key, str):
        return None
    return key, _copy(message, headers)


def _copy(message: AbstractMessage, headers: HeadersType) -> aio_pika.Message:
    return aio_pika.Message(
        message.body,
        headers=headers,
        content_type=message.content_type,
        content_encoding=message.content_encoding,
        delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
        message_id=message.message_id,
        correlation_id=message.correlation_id,
        timestamp=message.timestamp,
    )


def index_entry(warehouse: str) -> aio_pika.Message:
    """The index's note that `warehouse` has commands parked."""
    return aio_pika.Message(warehouse.encode(), delivery_mode=aio_pika.DeliveryMode.PERSISTENT)


def indexed_warehouse(body: bytes) -> str | None:
    """The warehouse an index entry names, or None when it names none."""
    warehouse = body.decode("utf-8", "replace")
    return warehouse if _WAREHOUSE.fullmatch(warehouse) else None
