"""The Kafka clients a dead-letter replay uses: opened for one replay, or held for many."""

import contextlib
from collections.abc import AsyncIterator, Sequence
from typing import TypeVar

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition

from app.broker_access import KafkaAccess
from protocols.deadletters import Header

READ_TIMEOUT_MS = 5_000

C = TypeVar("C", AIOKafkaConsumer, AIOKafkaProducer)


class ReplayClients:
    """A consumer that reads one record at a place, and an idempotent producer; both lazy."""

    def __init__(self, kafka: KafkaAccess) -> None:
        self.kafka = kafka
        self._consumer: AIOKafkaConsumer | None = None
        self._producer: AIOKafkaProducer | None = None

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

    async def close(self) -> None:
        """Stop whichever client was started."""
        for client in (self._consumer, self._producer):
            if client is not None:
                await client.stop()
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
async def opened(kafka: KafkaAccess) -> AsyncIterator[ReplayClients]:
    """Clients for the block, closed after it."""
    clients = ReplayClients(kafka)
    try:
        yield clients
    finally:
        await clients.close()
