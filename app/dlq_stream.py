"""The whole dead-letter topic, letter by letter, oldest first, in bounded memory.

`distgate dlq replay --all` must see every letter, also when the topic holds more than the
dead-letter index keeps. One consumer of no group reads every partition from its first
record up to its end as of the start: letters dead-lettered meanwhile (a replay's own
among them) wait for the next run, so a run ends and sends each letter once. Each
partition is read a chunk at a time, and the partitions are merged by the time each
letter was dead-lettered, so a key's letters, and one warehouse's, come in the order
they failed. Memory holds a chunk per partition and the ids already handed out (a
message dead-lettered again has the same id: it is one letter, handed out once).
"""

import contextlib
import heapq
from collections import deque
from collections.abc import AsyncIterator, Callable
from typing import NamedTuple

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition

from app.broker_access import KafkaAccess
from app.dlq_select import LetterRef
from app.errors import BrokerUnavailable
from protocols.deadletters import DeadLetter
from protocols.errors import InvalidDeadLetter

CHUNK_RECORDS = 200  # records taken from one partition at a time
PARTITION_FETCH_BYTES = 2 * 1024 * 1024  # what the consumer fetches ahead per partition
FETCH_WAIT_MS = 1_000
STALL_FETCHES = 30  # empty fetches in a row before the run gives up on Kafka


class FoundLetter(NamedTuple):
    """A letter read whole from the topic, and where its record is."""

    letter: DeadLetter
    ref: LetterRef


class _Partition:
    """One partition's records from its first up to `end`, a chunk at a time."""

    def __init__(self, consumer: AIOKafkaConsumer, tp: TopicPartition, end: int) -> None:
        self.consumer = consumer
        self.tp = tp
        self.end = end
        self.chunk: deque[ConsumerRecord] = deque()

    async def next_record(self) -> ConsumerRecord | None:
        """The next record before `end`, or None once there is none."""
        waited = 0
        while not self.chunk:
            position = await self.consumer.position(self.tp)
            if position >= self.end:
                return None
            if waited >= STALL_FETCHES:
                raise BrokerUnavailable(
                    f"Kafka gave no record of {self.tp.topic} partition {self.tp.partition} "
                    f"from offset {position} within {waited * FETCH_WAIT_MS // 1000} s"
                )
            fetched = await self.consumer.getmany(
                self.tp, timeout_ms=FETCH_WAIT_MS, max_records=CHUNK_RECORDS
            )
            self.chunk.extend(r for r in fetched.get(self.tp, ()) if r.offset < self.end)
            waited = 0 if fetched else waited + 1
        return self.chunk.popleft()


class LetterStream:
    """Every letter `wanted` selects, oldest first, once each; `read` of `records` so far.

    Used as `async with stream.opened(): async for found in stream.letters(): ...`.
    """

    def __init__(
        self, kafka: KafkaAccess, topic: str, partitions: int, wanted: Callable[[DeadLetter], bool]
    ) -> None:
        self.kafka = kafka
        self.topics = [TopicPartition(topic, p) for p in range(partitions)]
        self.wanted = wanted
        self.records = 0  # in the topic at the start, over every partition
        self.read = 0
        self.skipped = 0  # records that are no dead letter
        self._seen: set[str] = set()
        self._partitions: list[_Partition] = []  # set once opened

    @contextlib.asynccontextmanager
    async def opened(self) -> AsyncIterator["LetterStream"]:
        """The stream placed at the start of every partition, its end taken as of now."""
        consumer = AIOKafkaConsumer(
            **self.kafka.client_options(),
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            max_partition_fetch_bytes=PARTITION_FETCH_BYTES,
        )
        await consumer.start()
        try:
            consumer.assign(self.topics)
            await consumer.seek_to_beginning(*self.topics)
            ends = await consumer.end_offsets(self.topics)
            self._partitions = [_Partition(consumer, tp, ends[tp]) for tp in self.topics]
            for each in self._partitions:
                self.records += each.end - await consumer.position(each.tp)
            yield self
        finally:
            await consumer.stop()

    async def letters(self) -> AsyncIterator[FoundLetter]:
        """Each selected letter up to the ends taken when the stream was opened."""
        async for found in self._merged(self._partitions):
            yield found

    async def _merged(self, partitions: list[_Partition]) -> AsyncIterator[FoundLetter]:
        """The partitions' selected letters, the one dead-lettered first first."""
        heads: list[tuple[float, int, FoundLetter]] = []
        for number, partition in enumerate(partitions):
            await self._push_next(heads, number, partition)
        while heads:
            _, number, found = heapq.heappop(heads)
            if found.letter.id not in self._seen:
                self._seen.add(found.letter.id)
                yield found
            await self._push_next(heads, number, partitions[number])

    async def _push_next(
        self, heads: list[tuple[float, int, FoundLetter]], number: int, partition: _Partition
    ) -> None:
        """Put the partition's next selected letter among the heads, if it has one."""
        while (record := await partition.next_record()) is not None:
            self.read += 1
            letter = self._letter(record)
            if letter is not None and self.wanted(letter):
                ref = LetterRef(letter.id, record.partition, record.offset)
                heapq.heappush(heads, (letter.at.timestamp(), number, FoundLetter(letter, ref)))
                return

    def _letter(self, record: ConsumerRecord) -> DeadLetter | None:
        """The dead letter a record holds, or None (counted) when it holds none."""
        try:
            return DeadLetter.from_headers(record.headers, record.value or b"", record.key)
        except InvalidDeadLetter:
            self.skipped += 1
            return None
