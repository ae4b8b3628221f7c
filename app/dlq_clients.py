"""The clients a dead-letter replay uses: opened for one replay, or held for many."""

import contextlib
from collections.abc import AsyncIterator, Sequence
from typing import TypeVar

import aio_pika
from aio_pika.abc import AbstractConnection, AbstractExchange
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition

from app.broker_access import KafkaAccess
from protocols.amqp import WMS_EVENTS_EXCHANGE
from protocols.deadletters import Header

READ_TIMEOUT_MS = 5_000

C = TypeVar("C", AIOKafkaConsumer, AIOKafkaProducer)


class ReplayClients:
    """A consumer that reads one record at a place, an idempotent producer and a confirming
    AMQP channel to `wms.events`; each opened when first used."""

    def __init__(self, kafka: KafkaAccess, amqp_url: str) -> None:
        self.kafka = kafka
        self.amqp_url = amqp_url
        self._consumer: AIOKafkaConsumer | None = None
        self._producer: AIOKafkaProducer | None = None
        self._amqp: AbstractConnection | None = None
        self._wms_events: AbstractExchange | None = None

    async def read_one(self, topic: str, partition: int, offset: int) -> ConsumerRecord | None:
        """The record at `offset` of the partition, or None when Kafka gives none back."""
        if self._consumer is None:
            consumer = AIOKafkaConsumer(**self.kafka.client_options(), enable_auto_commit=False)
            self._consumer = await _started(consumer)
        tp = TopicPartition(topic, partition)
        self._consumer.assign([tp])
        self._consumer.seek(tp, offset)
        batch = await self._consumer.getmany(tp, timeout_ms=READ_TIMEOUT_MS, max_records=1)
        return next((r for r in batch.get(tp, []) if r.offset == offset), None)

    async def send(
        self, topic: str, value: bytes, key: bytes | None, headers: Sequence[Header]
    ) -> None:
        """Send one record; return once every in-sync replica has it."""
        if self._producer is None:
            producer = AIOKafkaProducer(
                **self.kafka.client_options(), acks="all", enable_idempotence=True
            )
            self._producer = await _started(producer)
        await self._producer.send_and_wait(topic, value, key=key, headers=list(headers))

    async def publish_wms_event(self, message: aio_pika.Message, routing_key: str) -> None:
        """Publish to `wms.events`, mandatory; return once RabbitMQ confirmed it."""
        if self._wms_events is None:
            self._amqp = await aio_pika.connect(self.amqp_url, timeout=10)
            channel = await self._amqp.channel(publisher_confirms=True, on_return_raises=True)
            self._wms_events = await channel.get_exchange(WMS_EVENTS_EXCHANGE, ensure=False)
        try:
            await self._wms_events.publish(message, routing_key, mandatory=True, timeout=10)
        except Exception:
            await self._close_amqp()  # the next replay opens a fresh channel
            raise

    async def _close_amqp(self) -> None:
        connection, self._amqp, self._wms_events = self._amqp, None, None
        if connection is not None:
            with contextlib.suppress(Exception):
                await connection.close()

    async def close(self) -> None:
        """Stop whichever client was started."""
        for client in (self._consumer, self._producer):
            if client is not None:
                await client.stop()
        await self._close_amqp()
        self._consumer = self._producer = None


async def _started(client: C) -> C:
    """The client once started; stopped again (nothing left open) when it cannot start."""
    try:
        await client.start()
    except BaseException:
        await client.stop()
        raise
    return client


@contextlib.asynccontextmanager
async def opened(kafka: KafkaAccess, amqp_url: str) -> AsyncIterator[ReplayClients]:
    """Clients for the block, closed after it."""
    clients = ReplayClients(kafka, amqp_url)
    try:
        yield clients
    finally:
        await clients.close()
