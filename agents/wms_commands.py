"""The outbound WMS bridge: Release and Cancel commands from Kafka to each warehouse over AMQP.

A command is published persistent and `mandatory` on a channel with publisher confirms;
the agent's handler returns only once RabbitMQ confirmed it, so Faust commits the
command's offset only after that. A nack, an unroutable return (no WMS queue bound for
that warehouse yet) or a lost connection is retried with a capped backoff, and counted
in `distgate_wms_commands_retried`: never skipped.
"""

import asyncio
import contextlib
import datetime as dt
import logging

import aio_pika
import faust
import msgspec
from aio_pika.abc import AbstractChannel, AbstractExchange, AbstractRobustConnection
from aio_pika.exceptions import DeliveryError, PublishError
from mode import Service

from agents.deadletters import DeadLetters
from agents.each_message import handle_each
from agents.runtime.metrics import AgentMetrics
from agents.runtime.output import raw_topic
from protocols.amqp import WMS_COMMANDS_EXCHANGE
from protocols.topics import TopicSpec
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
    """A confirm-mode channel to `wms.commands`, opened on first use and reopened on loss."""

    def __init__(self, amqp_url: str, metrics: AgentMetrics) -> None:
        super().__init__()
        self.amqp_url = amqp_url
        self.metrics = metrics
        self._connection: AbstractRobustConnection | None = None
        self._channel: AbstractChannel | None = None
        self._exchange: AbstractExchange | None = None

    async def on_stop(self) -> None:
        """Close the connection."""
        if self._connection is not None:
            await self._connection.close()

    async def publish(self, command: WmsCommandMessage) -> None:
        """Publish one command and return once RabbitMQ confirmed it; retry until then."""
        key, body = command_xml(command)
        kind = "release" if isinstance(command, ReleaseToWarehouse) else "cancel"
        pause = RETRY_SECONDS[0]
        while True:
            try:
                await asyncio.wait_for(self._publish(command, key, body), PUBLISH_TIMEOUT)
                self.metrics.wms_commands_sent.labels(kind).inc()
                return
            except Exception as exc:
                reason = _retry_reason(exc)
                self.metrics.wms_commands_retried.labels(reason).inc()
                log.warning(
                    "%s %s to %r not confirmed (%s: %r); retrying in %.1fs",
                    kind, command.event_id, key, reason, exc, pause,
                )  # fmt: skip
                if reason == "connection":
                    await self._drop_channel()
                await asyncio.sleep(pause)
                pause = min(pause * 2, RETRY_SECONDS[1])

    async def _publish(self, command: WmsCommandMessage, key: str, body: bytes) -> None:
        exchange = await self._open()
        message = aio_pika.Message(
            body,
            content_type="application/xml",
            content_encoding="utf-8",
            delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
            message_id=command.event_id,
            correlation_id=command.correlation_id or None,
            timestamp=dt.datetime.now(dt.UTC),
        )
        await exchange.publish(message, key, mandatory=True)

    async def _open(self) -> AbstractExchange:
        if self._connection is None:
            self._connection = await aio_pika.connect_robust(self.amqp_url, timeout=10)
        if self._channel is None or self._exchange is None or self._channel.is_closed:
            channel = await self._connection.channel(publisher_confirms=True, on_return_raises=True)
            self._exchange = await channel.get_exchange(WMS_COMMANDS_EXCHANGE, ensure=False)
            self._channel = channel
        return self._exchange

    async def _drop_channel(self) -> None:
        """Forget a channel that may be broken; the next attempt opens a fresh one."""
        channel, self._channel, self._exchange = self._channel, None, None
        if channel is not None:
            with contextlib.suppress(Exception):
                await channel.close()


def _retry_reason(exc: Exception) -> str:
    if isinstance(exc, PublishError):
        return "unroutable"
    if isinstance(exc, DeliveryError):
        return "nacked"
    return "connection"


def register_wms_command_agent(
    app: faust.App, commands: TopicSpec, publisher: CommandPublisher, dead_letters: DeadLetters
) -> None:
    """Publish every command of the deployment's `wms-commands` topic, in order per partition."""

    async def publish(_event: faust.EventT[bytes], command: WmsCommandMessage) -> None:
        await publisher.publish(command)

    @app.agent(raw_topic(app, commands), name="wms-commands", concurrency=1)
    async def wms_commands(stream: faust.StreamT[bytes]) -> None:
        await handle_each(stream.events(), _decoder.decode, publish, dead_letters)
