"""Every worker's index of `<app_id>.dead-letters`, for the admin API and `distgate dlq`.

Memory is bounded: the newest letters (by arrival) up to a capacity, one per dead-letter
id (a message dead-lettered again replaces its older record), with payloads cut to a
preview; a replay reads the full record back from Kafka by partition and offset.
"""

import asyncio
import heapq
import logging
from collections import OrderedDict
from dataclasses import dataclass

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from mode import Service
from msgspec.structs import replace

from app.broker_access import KafkaAccess
from protocols.deadletters import DeadLetter, DeadLetterView
from protocols.errors import InvalidDeadLetter

log = logging.getLogger(__name__)

CAPACITY = 10_000
PREVIEW_BYTES = 64 * 1024


@dataclass(frozen=True)
class IndexedLetter:
    """A dead letter (payload cut to a preview) and where its full record is."""

    letter: DeadLetter
    partition: int
    offset: int
    payload_size: int

    def view(self) -> DeadLetterView:
        """The admin JSON view, saying whether the payload shown is only a preview."""
        return replace(self.letter.view(), payload_truncated=self.payload_size > PREVIEW_BYTES)


class DeadLetterIndex:
    """The newest dead letters by id, at most `capacity` of them."""

    def __init__(self, capacity: int = CAPACITY) -> None:
        self.capacity = capacity
        self._letters: OrderedDict[str, IndexedLetter] = OrderedDict()

    def add_record(self, record: ConsumerRecord) -> None:
        """Index one record of the dead-letter topic; skip (and log) one that is not a letter."""
        try:
            letter = DeadLetter.from_headers(record.headers, record.value or b"", record.key)
        except InvalidDeadLetter as exc:
            log.warning(
                "skipping dead-letter record %s:%s: %s", record.partition, record.offset, exc
            )
            return
        preview = replace(letter, payload=letter.payload[:PREVIEW_BYTES])
        self.add(IndexedLetter(preview, record.partition, record.offset, len(letter.payload)))

    def add(self, entry: IndexedLetter) -> None:
        """Remember `entry`, replacing an older one of the same id; forget the oldest if full."""
        self._letters.pop(entry.letter.id, None)
        self._letters[entry.letter.id] = entry
        while len(self._letters) > self.capacity:
            self._letters.popitem(last=False)

    def get(self, letter_id: str) -> IndexedLetter | None:
        """The entry of that id, or None."""
        return self._letters.get(letter_id)

    def newest(
        self, limit: int, source: str | None = None, reason: str | None = None
    ) -> list[IndexedLetter]:
        """Up to `limit` entries, newest first by the time they were dead-lettered.

        `source` and `reason` keep only the letters that have them.
        """
        letters = (
            entry
            for entry in self._letters.values()
            if (source is None or entry.letter.source == source)
            and (reason is None or entry.letter.reason == reason)
        )
        return heapq.nlargest(limit, letters, key=lambda e: e.letter.at)

    def __len__(self) -> int:
        return len(self._letters)


class DeadLetterMirror(Service):
    """Reads every partition of the dead-letter topic from its beginning into an index."""

    def __init__(
        self, kafka: KafkaAccess, topic: str, partitions: int, index: DeadLetterIndex | None = None
    ) -> None:
        super().__init__()
        self.kafka = kafka
        self.topic = topic
        self.partitions = partitions
        self.index = index if index is not None else DeadLetterIndex()
        self._targets: dict[TopicPartition, int] = {}
        self._caught_up = asyncio.Event()
        self._consumer: AIOKafkaConsumer | None = None

    async def on_start(self) -> None:
        """Mirror in the background."""
        self.add_future(self._mirror())

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

    async def _mirror(self) -> None:
        self._consumer = consumer = AIOKafkaConsumer(
            **self.kafka.client_options(),
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            fetch_max_wait_ms=100,
        )
        await consumer.start()
        tps = [TopicPartition(self.topic, p) for p in range(self.partitions)]
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        ends = await consumer.end_offsets(tps)
        self._targets = {tp: end for tp, end in ends.items() if end > 0}
        while not self.should_stop:
            if not self._targets:
                self._caught_up.set()
            for tp, records in (await consumer.getmany(timeout_ms=200, max_records=2000)).items():
                for record in records:
                    self.index.add_record(record)
                if records and records[-1].offset + 1 >= self._targets.get(tp, 0):
                    self._targets.pop(tp, None)
