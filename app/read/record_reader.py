"""Single records of a changelog read back by their place: a retired value, read on demand."""

import asyncio

from aiokafka import AIOKafkaConsumer, TopicPartition

from app.broker_access import KafkaAccess


class ChangelogRecords:
    """Reads one record at a time by partition and offset; the consumer opens at the first read."""

    def __init__(self, topic: str, kafka: KafkaAccess) -> None:
        self.topic = topic
        self.kafka = kafka
        self._consumer: AIOKafkaConsumer | None = None
        self._lock = asyncio.Lock()  # one consumer, one position: reads take turns

    async def read(self, partition: int, offset: int, key: bytes, within: float) -> bytes | None:
        """The value of `key` at that place; None when the record is gone (compacted away).

        Raises Kafka's error, or TimeoutError after `within` seconds.
        """
        async with self._lock:
            consumer = await self._started()
            tp = TopicPartition(self.topic, partition)
            consumer.assign([tp])
            consumer.seek(tp, offset)
            async with asyncio.timeout(within):
                while True:
                    batch = await consumer.getmany(tp, timeout_ms=500, max_records=1)
                    for record in batch.get(tp, ()):
                        found = record.offset == offset and record.key == key
                        return record.value if found else None

    async def stop(self) -> None:
        """Close the consumer, if one was opened."""
        if self._consumer is not None:
            await self._consumer.stop()
            self._consumer = None

    async def _started(self) -> AIOKafkaConsumer:
        if self._consumer is None:
            consumer = AIOKafkaConsumer(
                **self.kafka.client_options(), enable_auto_commit=False, fetch_max_wait_ms=50
            )
            await consumer.start()
            self._consumer = consumer
        return self._consumer
