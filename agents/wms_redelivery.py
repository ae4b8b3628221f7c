"""The redeliverer: each warehouse's parked commands to `wms.commands`, in order, once it binds.

One redeliverer of a deployment works at a time: the index queue has a single active
consumer, the other agents processes stand by. Per warehouse named in the index it
moves the parked queue's head to `wms.commands`, one command at a time: get it, publish
it mandatory, ack it after the confirm. A return (still no queue bound) puts it back at
the head, and that warehouse is tried again after a pause doubling up to 5 s; the other
warehouses go on meanwhile. An empty parked queue is deleted, which ends the
warehouse's parking: its next commands go straight to `wms.commands` again.

An index entry is acked once its warehouse's queue is gone, or, while commands still
wait, after the entry was published anew: RabbitMQ closes a channel that holds a
delivery for 30 minutes. A crash between a command's confirm and its ack sends it
again (at least once, as everywhere): the WMS drops the copy by its message id, the
command's event id. Log lines about a parked command carry its correlation id and warehouse.
"""

import asyncio
import contextlib
import datetime as dt
import enum
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TypeVar

import aio_pika
from aio_pika.abc import (
    AbstractChannel,
    AbstractConnection,
    AbstractExchange,
    AbstractIncomingMessage,
)
from aio_pika.exceptions import (
    ChannelNotFoundEntity,
    ChannelPreconditionFailed,
    DeliveryError,
    PublishError,
)
from mode import Service

from agents.runtime.flows import Flow, FlowTimer
from agents.runtime.log_context import Subject, about
from agents.runtime.metrics import AgentMetrics
from agents.wms_commands import PUBLISH_TIMEOUT, RETRY_SECONDS, next_pause
from agents.wms_parking import index_entry, indexed_warehouse, unparked
from protocols.amqp import WMS_COMMANDS_EXCHANGE, WmsQueues
from protocols.trace_headers import CORRELATION_ID

log = logging.getLogger(__name__)

ATTEMPT_COMMANDS = 500  # commands moved before the warehouse's index entry is renewed
INDEX_PREFETCH = 100  # index entries held at once: warehouses worked on side by side
RESUME_SECONDS = 1.0  # pause before a lost session starts again

T = TypeVar("T")


class Outcome(enum.Enum):
    """How one pass over a warehouse's parked queue ended."""

    DRAINED = "drained"  # nothing parked any more; the queue is gone
    WAITING = "waiting"  # its WMS still has no queue bound (or RabbitMQ refused)
    MORE = "more"  # a pass's worth moved; more may wait


@dataclass
class _Warehouse:
    """One parked warehouse: the index entries held for it, and its pause when unbound."""

    entries: list[AbstractIncomingMessage] = field(default_factory=list)
    busy: bool = False
    pause: float = RETRY_SECONDS[0]


class Redeliverer(Service):
    """Keeps a redelivery session open, resuming it after any loss of RabbitMQ."""

    def __init__(
        self, amqp_url: str, queues: WmsQueues, metrics: AgentMetrics, flows: FlowTimer
    ) -> None:
        super().__init__()
        self.amqp_url = amqp_url
        self.queues = queues
        self.metrics = metrics
        self.flows = flows

    async def on_start(self) -> None:
        """Run the sessions beside the agents."""
        self.add_future(self._keep_running())

    async def _keep_running(self) -> None:
        while not self.should_stop:
            try:
                connection = await aio_pika.connect(self.amqp_url, timeout=10)
                async with connection:
                    await _Session(connection, self.queues, self.metrics, self.flows).run()
            except Exception as exc:
                log.warning("redelivery of parked commands interrupted: %r", exc)
            # The next session (here or in another process) counts afresh.
            self.metrics.pending_commands.clear()
            await self.sleep(RESUME_SECONDS)


class _Session:
    """One connection's work: take warehouses from the index and empty their parked queues."""

    def __init__(
        self,
        connection: AbstractConnection,
        queues: WmsQueues,
        metrics: AgentMetrics,
        flows: FlowTimer,
    ) -> None:
        self.connection = connection
        self.queues = queues
        self.metrics = metrics
        self.flows = flows
        self.warehouses: dict[str, _Warehouse] = {}
        self.group = asyncio.TaskGroup()

    async def run(self) -> None:
        """Consume the index until the channel closes or a warehouse's pass fails."""
        channel = await self.connection.channel(publisher_confirms=True, on_return_raises=True)
        await channel.set_qos(prefetch_count=INDEX_PREFETCH)
        self.channel = channel
        self.exchange: AbstractExchange = await channel.get_exchange(
            WMS_COMMANDS_EXCHANGE, ensure=False
        )
        index = await channel.get_queue(self.queues.parked_index.name, ensure=False)
        async with self.group:
            await index.consume(self._take_entry)
            await channel.closed()
            raise ConnectionError("the redelivery channel closed")

    async def _take_entry(self, entry: AbstractIncomingMessage) -> None:
        warehouse = indexed_warehouse(entry.body)
        if warehouse is None:
            log.error("index entry %r names no warehouse; dropped", entry.body[:64])
            await entry.ack()
            return
        state = self.warehouses.setdefault(warehouse, _Warehouse())
        state.entries.append(entry)
        if not state.busy:
            state.busy = True
            self.group.create_task(self._drain(warehouse, state))

    async def _drain(self, warehouse: str, state: _Warehouse) -> None:
        """Pass over the warehouse's queue until no index entry for it is left."""
        while state.entries:
            outcome = await self._pass(warehouse, state)
            if outcome is Outcome.DRAINED:
                state.pause = RETRY_SECONDS[0]
                continue
            if outcome is Outcome.WAITING:
                await asyncio.sleep(state.pause)
                state.pause = next_pause(state.pause)
            await self._renew(warehouse, state)
        state.busy = False

    async def _pass(self, warehouse: str, state: _Warehouse) -> Outcome:
        held = len(state.entries)  # entries taken later may name a queue declared since
        name = self.queues.parked(warehouse).name
        waiting = await self._count(name)
        if waiting is None:
            return await self._settle(warehouse, state, held)
        pending = self.metrics.pending_commands.labels(warehouse)
        pending.set(waiting)
        queue = await self.channel.get_queue(name, ensure=False)
        for _ in range(ATTEMPT_COMMANDS):
            parked = await queue.get(no_ack=False, fail=False)
            if parked is None:
                if await self._delete_if_empty(name):
                    return await self._settle(warehouse, state, held)
                continue  # a command was parked just now
            with about(Subject(_flow_of(parked), warehouse=warehouse)):
                forwarded = await self._forward(parked)
            if not forwarded:
                return Outcome.WAITING
            pending.dec()
        return Outcome.MORE

    async def _forward(self, parked: AbstractIncomingMessage) -> bool:
        """Send the parked command on; False (and back at the head) when it cannot go yet."""
        unpacked = unparked(parked)
        if unpacked is None:
            log.error("parked message %s has no routing key; dropped", parked.message_id)
            await parked.reject(requeue=False)
            return True
        key, message = unpacked
        try:
            await self.exchange.publish(message, key, mandatory=True, timeout=PUBLISH_TIMEOUT)
        except DeliveryError as exc:
            reason = "unroutable" if isinstance(exc, PublishError) else "nacked"
            self.metrics.wms_commands_retried.labels(reason).inc()
            await parked.nack(requeue=True)  # a classic queue puts it back at its place
            return False
        await parked.ack()
        kind = key.rpartition(".")[2]
        self.metrics.wms_commands_sent.labels(kind).inc()
        if kind == "release" and message.timestamp is not None:
            self._released(message.timestamp)
        return True

    def _released(self, first_sent: dt.datetime) -> None:
        """A parked Release reached its WMS: order -> released, from its first attempt.

        AMQP timestamps are whole seconds: parking is what made this one late anyway.
        """
        if first_sent.tzinfo is None:
            first_sent = first_sent.replace(tzinfo=dt.UTC)
        waited = (dt.datetime.now(dt.UTC) - first_sent).total_seconds()
        self.flows.observe(Flow.ORDER_TO_RELEASED, waited)

    async def _settle(self, warehouse: str, state: _Warehouse, held: int) -> Outcome:
        """Nothing is parked for the warehouse: the entries held before the pass are done."""
        done, state.entries = state.entries[:held], state.entries[held:]
        self.metrics.pending_commands.labels(warehouse).set(0)
        for entry in done:
            await entry.ack()
        return Outcome.DRAINED

    async def _renew(self, warehouse: str, state: _Warehouse) -> None:
        """Publish a fresh entry for the warehouse, then ack the ones held."""
        held, state.entries = state.entries, []
        await self.channel.default_exchange.publish(
            index_entry(warehouse), self.queues.parked_index.name, mandatory=True
        )
        for entry in held:
            await entry.ack()

    async def _count(self, name: str) -> int | None:
        """Commands ready in a parked queue; None when there is no such queue."""

        async def count(channel: AbstractChannel) -> int | None:
            try:
                queue = await channel.declare_queue(name, passive=True)
            except ChannelNotFoundEntity:
                return None
            return queue.declaration_result.message_count or 0

        return await self._on_own_channel(count)

    async def _delete_if_empty(self, name: str) -> bool:
        """Delete a parked queue unless a command was parked into it meanwhile."""

        async def delete(channel: AbstractChannel) -> bool:
            try:
                await channel.queue_delete(name, if_empty=True)
            except ChannelPreconditionFailed:
                return False
            return True

        return await self._on_own_channel(delete)

    async def _on_own_channel(self, operation: Callable[[AbstractChannel], Awaitable[T]]) -> T:
        """Run an operation whose refusal closes its channel on a channel of its own."""
        channel = await self.connection.channel(publisher_confirms=False)
        try:
            return await operation(channel)
        finally:
            with contextlib.suppress(Exception):
                await channel.close()


def _flow_of(parked: AbstractIncomingMessage) -> str:
    """A parked command's correlation id: its AMQP property, else its `correlation_id` header."""
    header = (parked.headers or {}).get(CORRELATION_ID)
    if isinstance(header, bytes):
        header = header.decode("utf-8", "replace")
    return parked.correlation_id or (header if isinstance(header, str) else "")
