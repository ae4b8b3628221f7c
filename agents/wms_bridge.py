"""The inbound WMS bridge: RabbitMQ XML in, canonical Kafka records out, nothing lost.

Deliveries are handled in queue order and their records sent to Kafka in that order
without waiting for each acknowledgement (pipelined); a delivery is acked to RabbitMQ
(or rejected into the dead-letter queue, for poison) only once Kafka acknowledged every
record it produced. When Kafka fails, the session ends: closing the channel hands every
unacked delivery back to RabbitMQ, which redelivers it, and the ids make the re-send
apply once.
"""

import asyncio
import datetime as dt
import logging

import aio_pika
from aio_pika.abc import AbstractIncomingMessage, AbstractQueue
from aiokafka import AIOKafkaProducer
from mode import Service

from agents.deadletters import note_dead_letter
from agents.wms_canonical import Delivery, KafkaRecord, delivery_digest
from agents.wms_translate import translate
from app.failpoints import Failpoints
from app.metrics import Metrics
from app.settings import Settings
from protocols.amqp import QUEUES, WMS_EVENTS_QUEUE
from protocols.deadletters import DeadLetter
from tables.stock import DEDUPE_WINDOW

log = logging.getLogger(__name__)

# Deliveries in flight. A crash redelivers at most these, so a duplicate reaches the stock
# inbox within this many events of its original on a SKU: well inside the table's dedupe
# window, with room left for the other writers of the SKU (ERP, reservations).
PREFETCH = DEDUPE_WINDOW // 2
DRAIN_SECONDS = 10.0
RETRY_SECONDS = (0.5, 5.0)  # first and longest pause before resuming after a failure
_QUEUE = next(spec for spec in QUEUES if spec.name == WMS_EVENTS_QUEUE)


class WmsBridge(Service):
    """Consumes `distgate.wms-events` for the worker's lifetime, resuming after failures."""

    def __init__(self, settings: Settings, metrics: Metrics, failpoints: Failpoints) -> None:
        super().__init__()
        self.settings = settings
        self.metrics = metrics
        self.failpoints = failpoints

    async def on_start(self) -> None:
        """Bridge in the background; a broker outage delays it, never stops the worker."""
        self.add_future(self._run())

    async def _run(self) -> None:
        pause = RETRY_SECONDS[0]
        while not self.should_stop:
            try:
                await self._session()
                pause = RETRY_SECONDS[0]
            except Exception as exc:
                self.metrics.bridge_interruptions.inc()
                log.warning("WMS bridge interrupted (%r); resuming in %.1fs", exc, pause)
                await self.sleep(pause)
                pause = min(pause * 2, RETRY_SECONDS[1])

    async def _session(self) -> None:
        """One producer and one connection, until a failure or the worker stops."""
        producer = AIOKafkaProducer(
            bootstrap_servers=self.settings.kafka_bootstrap,
            acks="all",
            enable_idempotence=True,
            linger_ms=2,
        )
        await producer.start()
        try:
            connection = await aio_pika.connect_robust(
                self.settings.amqp_url, timeout=30, reconnect_interval=1
            )
            async with connection:
                channel = await connection.channel()
                await channel.set_qos(prefetch_count=PREFETCH)
                queue = await channel.declare_queue(
                    _QUEUE.name, durable=True, arguments=_QUEUE.arguments
                )
                await Pipeline(producer, self.metrics, self.failpoints).run(queue)
        finally:
            await asyncio.wait_for(producer.stop(), DRAIN_SECONDS)


class Pipeline:
    """Sends each delivery's records in order; settles (acks) each once Kafka has them all."""

    def __init__(self, producer: AIOKafkaProducer, metrics: Metrics, failpoints: Failpoints):
        self.producer = producer
        self.metrics = metrics
        self.failpoints = failpoints
        self.last: asyncio.Task[None] | None = None  # the newest delivery's settlement
        self.broken: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    async def run(self, queue: AbstractQueue) -> None:
        """Consume until Kafka fails (raise) or the task is cancelled; settle what was sent."""
        consuming = asyncio.ensure_future(self._consume(queue))
        try:
            await asyncio.wait((consuming, self.broken), return_when=asyncio.FIRST_COMPLETED)
        finally:
            consuming.cancel()
            await asyncio.gather(consuming, return_exceptions=True)
            if not self.broken.done() and self.last is not None:
                await asyncio.wait((self.last,), timeout=DRAIN_SECONDS)
        if self.broken.done():
            self.broken.result()  # raises Kafka's error: the channel closes, RabbitMQ requeues
        consuming.result()

    async def _consume(self, queue: AbstractQueue) -> None:
        async with queue.iterator() as deliveries:
            async for message in deliveries:
                await self._forward(message)

    async def _forward(self, message: AbstractIncomingMessage) -> None:
        """Send the delivery's records now, in order; acknowledge it in the background."""
        self.failpoints.hit("bridge.before_kafka_send")
        records, letter = translate(message.body, _delivery(message), dt.datetime.now(dt.UTC))
        futures = [await self._send(record) for record in records]
        self.last = asyncio.create_task(self._settle(message, futures, letter, self.last))

    async def _send(self, record: KafkaRecord) -> "asyncio.Future[object]":
        future: asyncio.Future[object] = await self.producer.send(
            record.topic, record.value, key=record.key, headers=list(record.headers)
        )
        return future

    async def _settle(
        self,
        message: AbstractIncomingMessage,
        futures: list["asyncio.Future[object]"],
        letter: DeadLetter | None,
        previous: asyncio.Task[None] | None,
    ) -> None:
        """Ack (or reject) once Kafka has every record, and after every earlier delivery.

        In order, and never after a failure: what RabbitMQ redelivers is then always a
        suffix of the queue, and re-sent events reach Kafka in their original order.
        """
        try:
            await asyncio.gather(*futures)
        except Exception as exc:
            if not self.broken.done():
                self.broken.set_exception(exc)
            return
        if previous is not None:
            await asyncio.wait((previous,))
        if self.broken.done():
            return
        self.failpoints.hit("bridge.after_kafka_ack")
        try:
            if letter is None:
                await message.ack()
            else:
                await message.reject(requeue=False)  # to distgate.dlx, dead queue
        except Exception as exc:
            # The channel is gone: RabbitMQ redelivers the message and its ids dedupe it.
            log.info("could not settle delivery %s (%r)", message.delivery_tag, exc)
            return
        if letter is not None:
            note_dead_letter(self.metrics, letter)
        self.metrics.bridge_messages.labels("forwarded" if letter is None else "dead_letter").inc()


def _delivery(message: AbstractIncomingMessage) -> Delivery:
    timestamp = message.timestamp
    if timestamp is not None and timestamp.tzinfo is None:
        timestamp = timestamp.replace(tzinfo=dt.UTC)  # AMQP timestamps are seconds since epoch
    routing_key = message.routing_key or ""
    return Delivery(
        routing_key=routing_key,
        message_id=message.message_id,
        correlation_id=message.correlation_id,
        content_type=message.content_type,
        timestamp=timestamp,
        digest=delivery_digest(routing_key, message.body),
    )
