"""Single records of a changelog read back by their place: a retired value, read on demand.

A record's place (partition, offset) names one record forever, so what was read is kept
in a small cache by place, newest use last, within a byte budget: a customer polling an
old order reads Kafka once. Distinct places are read by a few consumers side by side, so a
burst of reads of old orders waits for Kafka's round trips in parallel, not in one line.
"""

import asyncio
from collections import OrderedDict

from aiokafka import AIOKafkaConsumer, TopicPartition

from app.broker_access import KafkaAccess

READERS = 4
"""Consumers reading places side by side (each opened on first need)."""
CACHE_BYTES = 8 * 1024 * 1024
"""Bytes of records read back kept by place (keys and values)."""

FETCH_BYTES = 1
"""Asked per fetch: Kafka still sends the whole record batch holding the offset, and no more
(its default of 1 MiB decoded a megabyte of neighbours to answer one record)."""

Place = tuple[int, int]


class PlaceCache:
    """Records read back, by place, the least recently used dropped beyond `budget` bytes."""

    def __init__(self, budget: int) -> None:
        self.budget = budget
        self.size = 0
        self._records: OrderedDict[Place, tuple[bytes, bytes]] = OrderedDict()

    def get(self, place: Place, key: bytes) -> bytes | None:
        """The value at `place` if it was read and is `key`'s; None otherwise."""
        found = self._records.get(place)
        if found is None or found[0] != key:
            return None
        self._records.move_to_end(place)
        return found[1]

    def put(self, place: Place, key: bytes, value: bytes) -> None:
        """Keep `key`'s value at `place`; a record larger than the budget is not kept."""
        if place in self._records or len(key) + len(value) > self.budget:
            return
        self._records[place] = (key, value)
        self.size += len(key) + len(value)
        while self.size > self.budget:
            _, (old_key, old_value) = self._records.popitem(last=False)
            self.size -= len(old_key) + len(old_value)


class ChangelogRecords:
    """Reads records by partition and offset: from the cache, or by one of `readers` consumers."""

    def __init__(
        self,
        topic: str,
        kafka: KafkaAccess,
        readers: int = READERS,
        cache_bytes: int = CACHE_BYTES,
        fetch_bytes: int = FETCH_BYTES,
    ) -> None:
        self.topic = topic
        self.kafka = kafka
        self.cache = PlaceCache(cache_bytes)
        self.fetch_bytes = fetch_bytes
        self._idle: asyncio.Queue[AIOKafkaConsumer | None] = asyncio.Queue()
        for _ in range(readers):
            self._idle.put_nowait(None)  # a free turn; its consumer opens on first use
        self._opened: list[AIOKafkaConsumer] = []
        self.fetched = 0  # records read from Kafka (not from the cache)

    async def read(self, partition: int, offset: int, key: bytes, within: float) -> bytes | None:
        """The value of `key` at that place; None when the record is gone (compacted away).

        Raises Kafka's error, or TimeoutError after `within` seconds.
        """
        cached = self.cache.get((partition, offset), key)
        if cached is not None:
            return cached
        async with asyncio.timeout(within):
            consumer = await self._idle.get()
            try:
                if consumer not in self._opened:  # a free turn, or closed by `stop`
                    consumer = await self._open()
                value = await self._fetch(consumer, partition, offset, key)
                self.fetched += 1
            finally:
                self._idle.put_nowait(consumer)
        if value is not None:
            self.cache.put((partition, offset), key, value)
        return value

    async def stop(self) -> None:
        """Close every consumer opened; a later read opens new ones."""
        opened, self._opened = self._opened, []
        for consumer in opened:
            await consumer.stop()

    async def _fetch(
        self, consumer: AIOKafkaConsumer, partition: int, offset: int, key: bytes
    ) -> bytes | None:
        """The record at that place through `consumer`, None when it is not `key`'s."""
        tp = TopicPartition(self.topic, partition)
        consumer.assign([tp])
        consumer.seek(tp, offset)
        while True:
            batch = await consumer.getmany(tp, timeout_ms=500, max_records=1)
            for record in batch.get(tp, ()):
                found = record.offset == offset and record.key == key
                return record.value if found else None

    async def _open(self) -> AIOKafkaConsumer:
        consumer = AIOKafkaConsumer(
            **self.kafka.client_options(),
            enable_auto_commit=False,
            fetch_max_wait_ms=50,
            max_partition_fetch_bytes=self.fetch_bytes,
        )
        await consumer.start()
        self._opened.append(consumer)
        return consumer
