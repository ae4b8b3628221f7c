"""A Faust table's partitions as the batch actors write them: the changelog first, then RocksDB.

A batch's writes go to the table's changelog, one record per key written, and are
held in memory until Kafka has acknowledged them; only then do they reach the local
RocksDB, in one write batch, with the changelog offset Faust restores from. So the local
store never holds a write the changelog lacks: a worker killed at any moment restarts
from a store that the changelog, and every other worker's mirror, agree with, and the
inputs whose offsets were not committed are applied to it again.

Reads see the writes still in flight first. Applied-id rows past the dedupe period are
swept a few keys per batch, with tombstones in the changelog like any other delete.

**A lapsed owner.** A worker frozen past its session timeout (SIGSTOP, a stalled VM)
loses its partitions without knowing it. It stops before sending the batch in hand
(`agents.runtime.membership`), but what it had already handed to the producer still
lands in the changelog when it wakes, after records the next owner wrote. The offset of
that late write is no promise that the store holds everything below it: restored from
there on its next assignment, the worker would skip the other owner's records and apply
inputs to stale values. So a restore starts at most from the offset a successful commit
vouched for (`trust`; a worker the group may have dropped commits nothing), when every
write before it was made as the partition's one owner. On every assignment
(`reassigned`) the persisted offset goes back to the last one vouched for, writes still
in flight are forgotten (the restore reads whatever of them landed), and the restore
replays the changelog from there: the other owner's records included, in their order.
"""

import asyncio
import itertools
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any, Protocol, cast

import rocksdict
from faust.types import TP, TableT

from agents.runtime.record_buffer import RecordBuffer
from tables.batch import overlaid

Stale = Callable[[bytes, bytes], bool]
"""Whether a stored row (key, value) may be deleted by the sweep."""

SWEEP_KEYS = 64  # keys the sweep reads per batch: a few microseconds
SWEEP_PAUSE_S = 3600.0  # between two passes over a partition


class Store(Protocol):
    """What of Faust's RocksDB store this needs."""

    def _db_for_partition(self, partition: int) -> rocksdict.Rdict: ...

    def set_persisted_offset(self, tp: TP, offset: int) -> None: ...

    def persisted_offset(self, tp: TP) -> int | None: ...


NOTHING_RESTORED = -1  # a persisted offset a restore starts from the changelog's beginning with


def restore_from(persisted: int | None, vouched: int | None) -> int | None:
    """Where a restore must start: never past the last offset a commit vouched for."""
    if persisted is None or (vouched is not None and persisted <= vouched):
        return persisted
    return NOTHING_RESTORED if vouched is None else vouched


@dataclass
class _InFlight:
    writes: dict[bytes, bytes | None]
    acked: "asyncio.Future[Any]"  # the last record's; a partition's records are acked in order
    ownership: int  # the assignment it was written in: a later one never applies it


class PartitionRows:
    """One table partition: reads through the writes in flight, writes staged per batch."""

    def __init__(self, store: Store, changelog: TP, records: RecordBuffer) -> None:
        self._store = store
        self._changelog = changelog
        self._records = records
        self._staged: dict[bytes, bytes | None] = {}
        self._in_flight: dict[bytes, bytes | None] = {}
        self._queue: deque[_InFlight] = deque()
        self._sweep_from: bytes | None = b""
        self._sweep_again_at = 0.0
        self._ownership = 0
        self._vouched = store.persisted_offset(changelog)  # what the store held before us

    @property
    def _db(self) -> rocksdict.Rdict:
        return self._store._db_for_partition(self._changelog.partition)

    def get(self, key: bytes) -> bytes | None:
        """The row as this batch, the writes in flight, or RocksDB has it."""
        for layer in (self._staged, self._in_flight):
            if key in layer:
                return layer[key]
        value: bytes | None = self._db.get(key)
        return value

    def put(self, key: bytes, value: bytes | None) -> None:
        """Stage a write (None: a delete) for `flush`."""
        self._staged[key] = value

    def flush(self) -> None:
        """The batch's writes to the changelog; RocksDB gets them once Kafka has them."""
        writes, self._staged = self._staged, {}
        if not writes:
            return
        self._in_flight.update(writes)
        topic, partition = self._changelog.topic, self._changelog.partition
        for key, value in writes.items():
            self._records.add(topic, key, value, partition)
        self._records.on_sent(topic, partition, lambda acked: self._sent(writes, acked))

    def _sent(self, writes: dict[bytes, bytes | None], acked: "asyncio.Future[Any]") -> None:
        self._queue.append(_InFlight(writes, acked, self._ownership))
        acked.add_done_callback(lambda _: self._settle())

    def persisted(self) -> int | None:
        """The changelog offset a restore of this partition would start after."""
        return self._store.persisted_offset(self._changelog)

    def trust(self, offset: int | None) -> None:
        """A commit succeeded after the store held `offset`: a restore may start there."""
        self._vouched = offset

    def reassigned(self) -> None:
        """A new assignment: forget what is in flight, restore from the last vouched offset."""
        self._ownership += 1
        self._staged, self._in_flight = {}, {}
        persisted = self.persisted()
        rewound = restore_from(persisted, self._vouched)
        if rewound is not None and rewound != persisted:
            self._store.set_persisted_offset(self._changelog, rewound)
        self._vouched = rewound

    def sweep(self, stale: Stale, now: float) -> None:
        """Stage deletes of stale rows among the next few keys of the partition."""
        if self._sweep_from is None:
            if now < self._sweep_again_at:
                return
            self._sweep_from = b""
        rows = cast(Iterable[tuple[bytes, bytes]], self._db.items(from_key=self._sweep_from))
        for read, (key, value) in enumerate(rows):
            if read == SWEEP_KEYS:
                self._sweep_from = key
                return
            current = self.get(key) if stale(key, value) else None
            if current is not None and stale(key, current):
                self.put(key, None)
        self._sweep_from, self._sweep_again_at = None, now + SWEEP_PAUSE_S

    def with_prefix(self, prefix: bytes) -> list[tuple[bytes, bytes]]:
        """Every row whose key starts with `prefix`, as `get` sees them, in key order."""
        return list(self.iter_prefix(prefix))

    def iter_prefix(self, prefix: bytes) -> Iterator[tuple[bytes, bytes]]:
        """The same rows, read from RocksDB only as far as the caller goes."""
        pending = {
            key: value
            for layer in (self._in_flight, self._staged)
            for key, value in layer.items()
            if key.startswith(prefix)
        }
        rows = cast(Iterable[tuple[bytes, bytes]], self._db.items(from_key=prefix))
        return overlaid(itertools.takewhile(lambda row: row[0].startswith(prefix), rows), pending)

    def scan(self, from_key: bytes, limit: int) -> list[tuple[bytes, bytes]]:
        """Up to `limit` stored rows from `from_key` on, in key order (what RocksDB has)."""
        rows = cast(Iterable[tuple[bytes, bytes]], self._db.items(from_key=from_key))
        return list(itertools.islice(rows, limit))

    def _settle(self) -> None:
        """Write every acknowledged batch to RocksDB, oldest first, and drop it from memory."""
        while self._queue and self._queue[0].acked.done():
            head = self._queue[0]
            if head.acked.cancelled() or head.acked.exception() is not None:
                return  # the producer fails every later commit: the worker stops, redoes it
            self._queue.popleft()
            if head.ownership == self._ownership:
                self._write(head.writes, head.acked.result().offset)

    def _write(self, writes: dict[bytes, bytes | None], offset: int) -> None:
        batch = rocksdict.WriteBatch(raw_mode=True)
        for key, value in writes.items():
            if value is None:
                batch.delete(key)
            else:
                batch.put(key, value)
            if key in self._in_flight and self._in_flight[key] is value:
                del self._in_flight[key]
        self._db.write(batch)
        self._store.set_persisted_offset(self._changelog, offset)


class TableRows:
    """Every partition of one Faust table this worker writes, created on first use."""

    def __init__(self, table: TableT[bytes, bytes], records: RecordBuffer) -> None:
        self._table = table
        self._records = records
        self._partitions: dict[int, PartitionRows] = {}

    @property
    def changelog_topic(self) -> str:
        """The table's changelog topic."""
        return self._table.changelog_topic.get_topic_name()

    def persisted(self, assigned: Iterable[int]) -> dict[int, int | None]:
        """The persisted offset of each assigned partition written here, before a commit."""
        return {
            number: self._partitions[number].persisted()
            for number in assigned
            if number in self._partitions
        }

    def trust(self, persisted: dict[int, int | None]) -> None:
        """The commit taken after `persisted` succeeded: restores may start there."""
        for number, offset in persisted.items():
            self._partitions[number].trust(offset)

    def reassigned(self, partitions: Iterable[int]) -> None:
        """The partitions assigned again by a rebalance (see `PartitionRows.reassigned`)."""
        for number in partitions:
            if number in self._partitions:
                self._partitions[number].reassigned()

    def partition(self, partition: int) -> PartitionRows:
        """The rows of one partition."""
        rows = self._partitions.get(partition)
        if rows is None:
            changelog = TP(self.changelog_topic, partition)
            rows = PartitionRows(self._table.data, changelog, self._records)  # type: ignore[arg-type]
            self._partitions[partition] = rows
        return rows
