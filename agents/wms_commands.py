"""The outbound WMS bridge: Release and Cancel commands from Kafka to each warehouse over AMQP.

A command is published persistent and `mandatory` on a channel with publisher confirms;
the agent's handler returns only once RabbitMQ confirmed it, either into a WMS's queue
through `wms.commands` or into the deployment's parked queue for its warehouse (no WMS
queue bound for it: `agents.wms_parking`), so Faust commits the command's offset only
after that, and one warehouse without a WMS holds up no other. A nack or a lost
connection is retried with a capped backoff, and counted in
`distgate_wms_commands_retried`: never skipped.
"""

import asyncio
import contextlib
import datetime as dt
import logging
import time

import aio_pika
import faust
import msgspec
from aio_pika.abc import AbstractChannel, AbstractConnection, AbstractExchange
from aio_pika.exceptions import DeliveryError, PublishError
from mode import Service

from agents.deadletters import DeadLetters
from agents.each_message import handle_each
from agents.runtime import spans
from agents.runtime.correlated import Correlated, incoming
from agents.runtime.flows import Flow, FlowTimer
from agents.runtime.log_context import Subject
from agents.runtime.metrics import AgentMetrics
from agents.runtime.output import raw_topic
from agents.wms_parking import Delivered, Router, index_entry
from protocols.amqp import WMS_COMMANDS_EXCHANGE, WmsQueues
from protocols.topics import TopicSpec
from protocols.trace_headers import TraceParent
from protocols.wms import routing_key
from protocols.wms_events import ReleaseToWarehouse, WmsCommandMessage
from protocols.wms_xml import encode_cancel, encode_release

log = logging.getLogger(__name__)

PUBLISH_TIMEOUT = 15.0
RETRY_SECONDS = (0.1, 5.0)  # first and longest pause between attempts

_decoder = msgspec.json.Decoder(WmsCommandMessage)


def command_xml(command: WmsCommandMessage) -> tuple[str, bytes]:
    """The routing key and XML body of a command (CONTRACT 3)."""
    if isinstance(command, ReleaseToWarehouse):
        body = encode_release(command.txn, command.warehouse, command.order_id, command.lines)
        return routing_key(command.warehouse, "release"), body
    body = encode_cancel(command.txn, command.warehouse, command.order_id)
    return routing_key(command.warehouse, "cancel"), body


class CommandPublisher(Service):
    """A confirm-mode channel to `wms.commands` and the parked queues, reopened on loss."""

    def __init__(self, amqp_url: str, queues: WmsQueues, metrics: AgentMetrics) -> None:
        super().__init__()
        self.amqp_url = amqp_url
        self.queues = queues
        self.metrics = metrics
        self.router = Router(self)
        self._connection: AbstractConnection | None = None
        self._channel: AbstractChannel | None = None
        self._exchange: AbstractExchange | None = None

    async def on_stop(self) -> None:
        """Close the connection."""
        await self._drop_connection()

    async def forget_parking(self, *_args: object, **_kwargs: object) -> None:
        """Partitions were assigned: what this process knew of parked warehouses may be stale."""
        self.router.forget()

    async def publish(
        self, command: WmsCommandMessage, sender: TraceParent | None = None
    ) -> Delivered:
        """Deliver or park one command and return once RabbitMQ confirmed it; retry until then.

        `sender` is the span that asked for it (the order agent's), the parent of this send.
        """
        kind = "release" if isinstance(command, ReleaseToWarehouse) else "cancel"
        correlation_id = command_flow_id(command)
        attributes = {
            "distgate.order_id": command.order_id,
            "distgate.warehouse": command.warehouse,
        }
        with spans.traced(
            f"wms {kind}", correlation_id, sender, kind="producer", attributes=attributes
        ) as flow:
            return await self._publish(command, kind, flow)

    async def _publish(self, command: WmsCommandMessage, kind: str, flow: Correlated) -> Delivered:
        key, body = command_xml(command)
        message = command_message(command, body, flow)
        pause = RETRY_SECONDS[0]
        while True:
            try:
                delivery = self.router.deliver(command.warehouse, message, key)
                delivered = await asyncio.wait_for(delivery, PUBLISH_TIMEOUT)
                break
            except Exception as exc:
                reason = "nacked" if isinstance(exc, DeliveryError) else "connection"
                self.metrics.wms_commands_retried.labels(reason).inc()
                log.warning(
                    "%s %s to %r not confirmed (%s: %r); retrying in %.1fs",
                    kind, command.event_id, key, reason, exc, pause,
                )  # fmt: skip
                if reason == "connection":
                    await self._drop_connection()
                await asyncio.sleep(pause)
                pause = next_pause(pause)
        if delivered is Delivered.SENT:
            self.metrics.wms_commands_sent.labels(kind).inc()
        else:
            self.metrics.wms_commands_parked.labels(kind).inc()
        return delivered

    async def send(self, message: aio_pika.Message, key: str) -> bool:
        """Publish to `wms.commands`; False when no queue is bound for `key`."""
        _, exchange = await self._open()
        return await _confirmed(exchange, message, key)

    async def park(self, warehouse: str, message: aio_pika.Message) -> bool:
        """Publish to the warehouse's parked queue; False when it has none."""
        channel, _ = await self._open()
        return await _confirmed(
            channel.default_exchange, message, self.queues.parked(warehouse).name
        )

    async def open_parking(self, warehouse: str) -> None:
        """Declare the warehouse's parked queue."""
        channel, _ = await self._open()
        spec = self.queues.parked(warehouse)
        await channel.declare_queue(spec.name, durable=True, arguments=spec.arguments)

    async def announce(self, warehouse: str) -> None:
        """Name the warehouse in the index, for the redeliverer."""
        channel, _ = await self._open()
        entry = index_entry(warehouse)
        await channel.default_exchange.publish(entry, self.queues.parked_index.name, mandatory=True)

    async def _open(self) -> tuple[AbstractChannel, AbstractExchange]:
        # Not a robust connection: on reconnecting it would declare again a parked queue
        # the redeliverer deleted meanwhile, one that no index entry names.
        if self._connection is None or self._connection.is_closed:
            self._connection = await aio_pika.connect(self.amqp_url, timeout=10)
        if self._channel is None or self._exchange is None or self._channel.is_closed:
            channel = await self._connection.channel(publisher_confirms=True, on_return_raises=True)
            self._exchange = await channel.get_exchange(WMS_COMMANDS_EXCHANGE, ensure=False)
            self._channel = channel
        return self._channel, self._exchange

    async def _drop_connection(self) -> None:
        """Forget a connection that may be broken; the next attempt opens a fresh one."""
        connection, self._connection, self._channel, self._exchange = (
            self._connection, None, None, None,
        )  # fmt: skip
        if connection is not None:
            with contextlib.suppress(Exception):
                await connection.close()


def command_message(command: WmsCommandMessage, body: bytes, flow: Correlated) -> aio_pika.Message:
    """The AMQP message of a command: persistent, its event id as message id for dedupe.

    Its flow travels as the `correlation_id` property and as headers `correlation_id` and
    `traceparent`; a WMS that echoes either on its confirmations keeps them in the flow.
    """
    return aio_pika.Message(
        body,
        headers={name: value.decode() for name, value in flow.headers},
        content_type="application/xml",
        content_encoding="utf-8",
        delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
        message_id=command.event_id,
        correlation_id=command.correlation_id or None,
        timestamp=dt.datetime.now(dt.UTC),
    )


def command_flow_id(command: WmsCommandMessage) -> str:
    """The flow a command belongs to: its correlation id, else its order's id."""
    return command.correlation_id or command.order_id


def command_subject(_event: faust.EventT[bytes], command: WmsCommandMessage) -> Subject:
    """What a command's log lines are about: its flow, order and warehouse."""
    return Subject(command_flow_id(command), order_id=command.order_id, warehouse=command.warehouse)


def next_pause(pause: float) -> float:
    """The pause after `pause` between two attempts: doubling, capped."""
    return min(pause * 2, RETRY_SECONDS[1])


async def _confirmed(exchange: AbstractExchange, message: aio_pika.Message, key: str) -> bool:
    """Publish mandatory; True once confirmed, False when returned unroutable."""
    try:
        await exchange.publish(message, key, mandatory=True)
    except PublishError:
        return False
    return True


def register_wms_command_agent(
    app: faust.App,
    commands: TopicSpec,
    publisher: CommandPublisher,
    dead_letters: DeadLetters,
    flows: FlowTimer,
) -> None:
    """Publish every command of the deployment's `wms-commands` topic, in order per partition.

    A Release sent to its WMS ends the order -> released flow, which began when the order
    agent produced it (the record's timestamp).
    """

    async def publish(event: faust.EventT[bytes], command: WmsCommandMessage) -> None:
        delivered = await publisher.publish(command, incoming(event.message.headers).parent)
        if delivered is Delivered.SENT and isinstance(command, ReleaseToWarehouse):
            flows.observe(Flow.ORDER_TO_RELEASED, time.time() - event.message.timestamp)

    @app.agent(raw_topic(app, commands), name="wms-commands", concurrency=1)
    async def wms_commands(stream: faust.StreamT[bytes]) -> None:
        await handle_each(stream.events(), _decoder.decode, publish, dead_letters, command_subject)
