"""The bridge's pipeline for one channel: send in queue order, settle in queue order.

Each delivery's records are handed to the producer at once, without waiting for Kafka's
acknowledgement of the ones before (pipelined). One settler then walks the deliveries
in the order they came: it waits until Kafka acknowledged every record of the oldest,
and acks it to RabbitMQ, together (`multiple`) with the following ones Kafka already
has; a poison delivery, whose only record is its dead letter, is rejected into the
dead-letter queue instead. If Kafka fails, nothing more is acked: what RabbitMQ
redelivers is always a suffix of the queue, and re-sent events reach Kafka in order.
Log lines about a delivery carry its correlation id and the warehouse its routing key names.

A body over INLINE_BODY_BYTES is decoded on the bridge's parser thread, one at a time and
still in queue order, so a large or hostile message does not stall the event loop (acks,
heartbeats, the settler); the many small ones keep the direct path.
"""

import asyncio
import contextvars
import datetime as dt
import logging
from collections import deque
from concurrent.futures import Executor
from dataclasses import dataclass

from aio_pika.abc import AbstractIncomingMessage, AbstractQueue
from aiokafka import AIOKafkaProducer

from agents.deadletters import note_dead_letter
from agents.runtime import spans
from agents.runtime.failpoints import Failpoints
from agents.runtime.log_context import Subject, about
from agents.runtime.metrics import AgentMetrics
from agents.wms_canonical import Delivery, KafkaRecord, delivery_digest
from agents.wms_translate import translate
from protocols.deadletters import DeadLetter
from protocols.topics import Topics
from protocols.trace_headers import CORRELATION_ID, TRACEPARENT, parse_traceparent
from protocols.wms import warehouse_named

log = logging.getLogger(__name__)

DRAIN_SECONDS = 10.0
INLINE_BODY_BYTES = 16 * 1024  # decoded on the event loop up to here (about 0.1 ms of XML)


@dataclass(frozen=True)
class Sent:
    """A delivery whose records are with the producer."""

    message: AbstractIncomingMessage
    futures: list["asyncio.Future[object]"]
    letter: DeadLetter | None  # set when the delivery was poison
    subject: Subject  # what its log lines are about

    @property
    def in_kafka(self) -> bool:
        """Kafka acknowledged every record."""
        return all(f.done() and not f.cancelled() and f.exception() is None for f in self.futures)


class Pipeline:
    """Consumes one queue through one producer until Kafka fails or the task is cancelled."""

    def __init__(
        self,
        producer: AIOKafkaProducer,
        topics: Topics,
        metrics: AgentMetrics,
        failpoints: Failpoints,
        parser: Executor,
    ) -> None:
        self.producer = producer
        self.topics = topics
        self.metrics = metrics
        self.failpoints = failpoints
        self.parser = parser
        self._sent: deque[Sent | None] = deque()
        self._more = asyncio.Event()

    async def run(self, queue: AbstractQueue) -> None:
        """Raise Kafka's error if a send fails; on cancel, settle what Kafka already took."""
        consuming = asyncio.ensure_future(self._consume(queue))
        settling = asyncio.ensure_future(self._settle())
        try:
            await asyncio.wait((consuming, settling), return_when=asyncio.FIRST_COMPLETED)
        finally:
            consuming.cancel()
            await asyncio.gather(consuming, return_exceptions=True)
            self._push(None)  # the settler stops there
            await asyncio.wait((settling,), timeout=DRAIN_SECONDS)
            settling.cancel()
        settling.result()  # Kafka's error, if any: the channel closes, RabbitMQ requeues
        consuming.result()

    async def _consume(self, queue: AbstractQueue) -> None:
        async with queue.iterator() as deliveries:
            async for message in deliveries:
                self.failpoints.hit("bridge.before_kafka_send")
                delivery = _delivery(message)
                subject = Subject(
                    delivery.effective_correlation_id,
                    warehouse=warehouse_named(delivery.routing_key),
                )
                with about(subject):
                    records, letter = await self._translate(message, delivery, queue.name)
                correlation_id = delivery.effective_correlation_id
                parent = parse_traceparent(_amqp_header(message, TRACEPARENT))
                with spans.traced("wms bridge", correlation_id, parent, kind="consumer") as flow:
                    futures: list[asyncio.Future[object]] = [
                        await self.producer.send(
                            r.topic, r.value, key=r.key, headers=[*r.headers, *flow.headers]
                        )
                        for r in records
                    ]
                self._push(Sent(message, futures, letter, subject))

    async def _translate(
        self, message: AbstractIncomingMessage, delivery: Delivery, queue: str
    ) -> tuple[list[KafkaRecord], DeadLetter | None]:
        now = dt.datetime.now(dt.UTC)
        if len(message.body) <= INLINE_BODY_BYTES:
            return _translated(message, delivery, now, self.topics, queue)
        loop = asyncio.get_running_loop()
        in_context = contextvars.copy_context().run  # its log lines keep the delivery's subject
        return await loop.run_in_executor(
            self.parser, in_context, _translated, message, delivery, now, self.topics, queue
        )

    def _push(self, sent: Sent | None) -> None:
        self._sent.append(sent)
        self._more.set()

    async def _next(self) -> Sent | None:
        while not self._sent:
            self._more.clear()
            await self._more.wait()
        return self._sent.popleft()

    async def _settle(self) -> None:
        """Ack or reject deliveries in order, each once Kafka has all its records."""
        while (oldest := await self._next()) is not None:
            await asyncio.gather(*oldest.futures)  # raises when Kafka failed
            batch = [oldest]
            while oldest.letter is None and self._sent:
                following = self._sent[0]
                if following is None or following.letter is not None or not following.in_kafka:
                    break  # the end, poison (settled alone), or not in Kafka yet
                self._sent.popleft()
                batch.append(following)
            for _ in batch:
                self.failpoints.hit("bridge.after_kafka_ack")
            await self._acknowledge(batch)

    async def _acknowledge(self, batch: list[Sent]) -> None:
        last = batch[-1]
        with about(last.subject):
            await self._settle_up_to(last, len(batch))

    async def _settle_up_to(self, last: Sent, count: int) -> None:
        """Ack the deliveries up to `last` (`count` of them), or reject `last`, the poison one."""
        try:
            if last.letter is not None:
                await last.message.reject(requeue=False)  # to <app_id>.dlx, the dead queue
            else:
                await last.message.ack(multiple=count > 1)
        except Exception as exc:
            # The channel is gone: RabbitMQ redelivers these, and their ids dedupe them.
            log.info("could not settle delivery %s (%r)", last.message.delivery_tag, exc)
            return
        if last.letter is not None:
            note_dead_letter(self.metrics, last.letter)
            self.metrics.bridge_messages.labels("dead_letter").inc()
        else:
            self.metrics.bridge_messages.labels("forwarded").inc(count)


def _translated(
    message: AbstractIncomingMessage,
    delivery: Delivery,
    now: dt.datetime,
    topics: Topics,
    queue: str,
) -> tuple[list[KafkaRecord], DeadLetter | None]:
    """What `translate` makes of a delivery; pure, so it may run on the parser thread."""
    return translate(message.body, delivery, now, topics, queue)


def _text(value: bytes | str | None) -> str | None:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else value


def _amqp_header(message: AbstractIncomingMessage, name: str) -> bytes | str | None:
    """A header of the message as text or bytes; None when absent or of another type."""
    value = (message.headers or {}).get(name)
    return value if isinstance(value, bytes | str) else None


def _delivery(message: AbstractIncomingMessage) -> Delivery:
    timestamp = message.timestamp
    if timestamp is not None and timestamp.tzinfo is None:
        timestamp = timestamp.replace(tzinfo=dt.UTC)  # AMQP timestamps are seconds since epoch
    routing_key = message.routing_key or ""
    return Delivery(
        routing_key=routing_key,
        message_id=message.message_id,
        # the property, else a `correlation_id` header: a WMS may echo either
        correlation_id=message.correlation_id or _text(_amqp_header(message, CORRELATION_ID)),
        content_type=message.content_type,
        timestamp=timestamp,
        digest=delivery_digest(routing_key, message.body),
    )
