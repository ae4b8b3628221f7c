"""A read replica of a table: every worker mirrors the whole changelog, so any worker answers.

With a `Retirement`, closed values leave memory once old and are read back from the
changelog when asked for (`read`): memory grows with the open values, not with history.
"""

import asyncio
import contextlib
import logging
from collections.abc import Callable, Iterator
from typing import Generic, TypeVar

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from mode import Service

from app.broker_access import KafkaAccess
from app.read.record_reader import ChangelogRecords
from app.read.retirement import Retirement, pack
from app.readiness import Progress
from tables.keys import is_value_key

log = logging.getLogger(__name__)

T = TypeVar("T")
READ_WAIT = 5.0  # seconds to read a retired value back from Kafka


class ChangelogReplica(Service, Generic[T]):
    """Consumes every partition of a compacted changelog into memory (raw bytes per key)."""

    def __init__(
        self,
        name: str,
        topic: str,
        partitions: int,
        kafka: KafkaAccess,
        decode: Callable[[bytes], T],
        retirement: Retirement | None = None,
    ) -> None:
        super().__init__()
        self.name = name
        self.topic = topic
        self.partitions = partitions
        self.kafka = kafka
        self.decode = decode
        self._values: dict[bytes, tuple[bytes, int]] = {}
        self._retirement = retirement
        self._records = ChangelogRecords(topic, kafka)  # opens a consumer only when read
        self._targets: dict[TopicPartition, int] = {}
        self._positions: dict[TopicPartition, int] = {}
        self._consumer: AIOKafkaConsumer | None = None
        self._caught_up = asyncio.Event()
        self._failure: Exception | None = None
        self._tick = asyncio.Event()  # set (and replaced) after every batch applied
        # Who waits for which key: only they wake when it changes. Waking every waiter on
        # every batch made a backlog of long polls eat the CPU the agents needed to clear it.
        self._watchers: dict[bytes, set[asyncio.Event]] = {}

    async def on_start(self) -> None:
        """Start mirroring in the background; catching up is what readiness waits for."""
        self.add_future(self._run())

    async def on_stop(self) -> None:
        """Close the consumers."""
        if self._consumer is not None:
            await self._consumer.stop()
        await self._records.stop()

    async def _run(self) -> None:
        try:
            await self._mirror()
        except Exception as exc:
            self._failure = exc
            self._caught_up.set()  # wake waiters; they see the failure
            for watchers in self._watchers.values():
                for watcher in watchers:
                    watcher.set()
            raise

    async def _mirror(self) -> None:
        consumer = AIOKafkaConsumer(
            **self.kafka.client_options(),
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            fetch_max_wait_ms=50,
        )
        await consumer.start()
        self._consumer = consumer
        tps = [TopicPartition(self.topic, p) for p in range(self.partitions)]
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        ends = await consumer.end_offsets(tps)
        self._targets = {tp: end for tp, end in ends.items() if end > 0}
        self._positions = dict.fromkeys(tps, 0)
        while not self.should_stop:
            self._apply(await consumer.getmany(timeout_ms=200, max_records=5000))

    def _apply(self, batches: dict[TopicPartition, list[ConsumerRecord]]) -> None:
        for tp, records in batches.items():
            for record in records:
                if record.key is None or not is_value_key(record.key):
                    continue  # a table's other rows (lines, seen ids) are not served
                self._store(tp.partition, record)
                for watcher in self._watchers.get(record.key, ()):
                    watcher.set()
            self._positions[tp] = records[-1].offset + 1
            if self._positions[tp] >= self._targets.get(tp, 0):
                self._targets.pop(tp, None)
        if not self._targets and self._positions:
            self._caught_up.set()
        if self._retirement is not None:
            self._retirement.sweep(self._values)
        if batches:
            self._tick.set()
            self._tick = asyncio.Event()

    def _store(self, partition: int, record: ConsumerRecord) -> None:
        """Keep a record's value in memory, unless it is a closed one old enough to retire."""
        key, value = record.key, record.value
        retirement = self._retirement
        if value is None:
            self._values.pop(key, None)
            if retirement is not None:
                retirement.deleted(key)
            return
        place = pack(partition, record.offset)
        if retirement is None or retirement.written(key, value, record.timestamp, place):
            self._values[key] = (value, record.timestamp)
        else:
            self._values.pop(key, None)

    @property
    def ready(self) -> bool:
        """True once every partition has been read up to its end at start."""
        return self._caught_up.is_set() and self._failure is None

    def get(self, key: bytes) -> tuple[T, int] | None:
        """The decoded value and its write time (ms since epoch), or None when never seen."""
        found = self._values.get(key)
        if found is None:
            return None
        return self.decode(found[0]), found[1]

    async def read(self, key: bytes, within: float) -> T | None:
        """The key's value, from memory or, once retired, from the changelog; None if never seen.

        Raises Kafka's error, or TimeoutError, when a retired value cannot be read in time.
        """
        for _ in range(2):
            found = self.get(key)
            if found is not None:
                return found[0]
            place = None if self._retirement is None else self._retirement.place(key)
            if place is None:
                return None
            raw = await self._records.read(*place, key, within)
            if raw is not None:
                return self.decode(raw)
            # compacted away: a newer record of the key exists, which the mirror reads next
            await self.sync(within)
        raise TimeoutError(f"{self.name}: {key!r} moved on the changelog while it was read")

    def values(self) -> Iterator[T]:
        """Every value held in memory, decoded."""
        for raw, _written in self._values.values():
            yield self.decode(raw)

    async def wait_caught_up(self) -> None:
        """Return once every partition has been read up to its end at start."""
        await self._caught_up.wait()
        if self._failure is not None:
            raise self._failure

    async def wait_until(
        self,
        key: bytes,
        accept: Callable[[T | None], bool],
        within: float,
        pending: Callable[[bytes], bool] | None = None,
    ) -> T | None:
        """The key's value once `accept` holds, or its last value after `within` seconds.

        `pending`, if given, tells from a stored value's bytes that `accept` would not hold
        yet: that value is not decoded (a long poll sees every version of its order).
        """
        deadline = asyncio.get_running_loop().time() + within
        changed = asyncio.Event()
        watchers = self._watchers.setdefault(key, set())
        watchers.add(changed)
        try:
            while True:
                left = deadline - asyncio.get_running_loop().time()
                held = self._values.get(key)
                skip = held is not None and pending is not None and pending(held[0])
                if not skip or left <= 0 or self._failure is not None:
                    value = await self.read(key, READ_WAIT)
                    left = deadline - asyncio.get_running_loop().time()
                    if accept(value) or left <= 0 or self._failure is not None:
                        return value
                changed.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(changed.wait(), left)
        finally:
            watchers.discard(changed)
            if not watchers:
                self._watchers.pop(key, None)

    async def sync(self, within: float) -> bool:
        """Read-your-writes barrier: wait until everything written before this call is read.

        False when the mirror did not get there within `within` seconds; Kafka's error (or
        TimeoutError) when Kafka could not be asked where the changelog ends.
        """
        consumer = self._consumer
        if consumer is None:
            return False
        deadline = asyncio.get_running_loop().time() + within
        # Raises Kafka's error, or TimeoutError, when Kafka cannot say where the ends are.
        ends = await asyncio.wait_for(consumer.end_offsets(list(self._positions)), within)
        while any(self._positions[tp] < end for tp, end in ends.items()):
            left = deadline - asyncio.get_running_loop().time()
            if left <= 0:
                return False
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._tick.wait(), left)
        return True

    def __len__(self) -> int:
        return len(self._values)

    @property
    def retired(self) -> int:
        """How many values left memory (still readable by key)."""
        return 0 if self._retirement is None else len(self._retirement)

    def progress(self) -> list[Progress]:
        """Readiness report: records left to read per partition."""
        remaining = {
            f"{tp.topic}/{tp.partition}": max(0, end - self._positions.get(tp, 0))
            for tp, end in self._targets.items()
        }
        detail = "consuming" if self.ready else "restoring"
        if self._failure is not None:
            detail = f"failed: {self._failure!r}"
        return [
            Progress(
                f"{self.name}-replica",
                ready=self.ready,
                remaining=sum(remaining.values()),
                partitions=remaining,
                detail=f"{detail}; {len(self._values)} keys in memory, {self.retired} retired",
            )
        ]
