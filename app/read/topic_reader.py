"""Reads partitions of Kafka topics into the API process, handing each record to a callback.

The read side's in-process indexes (dead letters, traces) are fed this way: a consumer of
no group, placed where the index wants to begin, reading on as records come. It is ready
once every partition was read up to its end as of the start.
"""

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from typing import Literal

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from mode import Service

from app.broker_access import KafkaAccess

Place = Callable[[AIOKafkaConsumer], Awaitable[list[TopicPartition]]]
"""Assigns the consumer its partitions and seeks each to where reading begins; returns them."""

OnRecord = Callable[[ConsumerRecord], None]
"""Takes one record, in offset order within its partition."""


Span = tuple[int, int]
"""A partition's part to read: its first offset and its end."""


def from_newest(topic: str, partitions: int, max_records: int) -> Place:
    """Every partition of `topic`, each from where the newest `max_records` of the records
    still held begin, over all partitions (`newest_share`)."""

    async def place(consumer: AIOKafkaConsumer) -> list[TopicPartition]:
        tps = [TopicPartition(topic, p) for p in range(partitions)]
        consumer.assign(tps)
        firsts = await consumer.beginning_offsets(tps)
        ends = await consumer.end_offsets(tps)
        held = {tp: (firsts[tp], ends[tp]) for tp in tps}
        for tp, offset in newest_share(held, max_records).items():
            consumer.seek(tp, offset)
        return tps

    return place


def newest_share(
    window: Mapping[TopicPartition, Span], max_records: int
) -> dict[TopicPartition, int]:
    """Where each partition starts, given its window (first offset, end), so that at most
    `max_records` are read in all: the newest of each, in proportion to its part."""
    total = sum(end - first for first, end in window.values())
    if total <= max_records:
        return {tp: first for tp, (first, _end) in window.items()}
    return {tp: end - (end - first) * max_records // total for tp, (first, end) in window.items()}


class TopicReader(Service):
    """Hands every record of the partitions `place` chose to `on_record`, from there onwards.

    `offset_reset` is where a partition goes on when its place is no longer held
    (retention deleted it): its first record still held, or its end.
    """

    def __init__(
        self,
        kafka: KafkaAccess,
        place: Place,
        on_record: OnRecord,
        *,
        offset_reset: Literal["earliest", "latest"],
    ) -> None:
        super().__init__()
        self.kafka = kafka
        self.place = place
        self.on_record = on_record
        self.offset_reset = offset_reset
        self._targets: dict[TopicPartition, int] = {}
        self._caught_up = asyncio.Event()
        self._consumer: AIOKafkaConsumer | None = None

    async def on_start(self) -> None:
        """Read in the background."""
        self.add_future(self._read())

    async def on_stop(self) -> None:
        """Close the consumer."""
        if self._consumer is not None:
            await self._consumer.stop()

    @property
    def ready(self) -> bool:
        """True once every partition was read up to its end at start."""
        return self._caught_up.is_set()

    async def wait_caught_up(self) -> None:
        """Return once every partition was read up to its end at start."""
        await self._caught_up.wait()

    async def _read(self) -> None:
        self._consumer = consumer = AIOKafkaConsumer(
            **self.kafka.client_options(),
            enable_auto_commit=False,
            auto_offset_reset=self.offset_reset,
            fetch_max_wait_ms=100,
        )
        await consumer.start()
        tps = await self.place(consumer)
        ends = await consumer.end_offsets(tps)
        self._targets = {tp: end for tp, end in ends.items() if end > await consumer.position(tp)}
        while not self.should_stop:
            if not self._targets:
                self._caught_up.set()
            for tp, records in (await consumer.getmany(timeout_ms=200, max_records=2000)).items():
                for record in records:
                    self.on_record(record)
                if records and records[-1].offset + 1 >= self._targets.get(tp, 0):
                    self._targets.pop(tp, None)
