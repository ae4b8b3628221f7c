"""A Faust table's partitions as the batch actors write them: the changelog first, then RocksDB.

A batch's writes go to the table's changelog, one record per key written, and are
held in memory until Kafka has acknowledged them; only then do they reach the local
RocksDB, in one write batch, with the changelog offset Faust restores from. So the local
store never holds a write the changelog lacks: a worker killed at any moment restarts
from a store that the changelog, and every other worker's mirror, agree with, and the
inputs whose offsets were not committed are applied to it again.

Reads see the writes still in flight first. Applied-id rows past the dedupe period are
swept a few keys per batch, with tombstones in the changelog like any other delete.
"""

import asyncio
import itertools
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Protocol, cast

import rocksdict
from faust.types import TP, TableT

from agents.runtime.record_buffer import RecordBuffer

Stale = Callable[[bytes, bytes], bool]
"""Whether a stored row (key, value) may be deleted by the sweep."""

SWEEP_KEYS = 64  # keys the sweep reads per batch: a few microseconds
SWEEP_PAUSE_S = 3600.0  # between two passes over a partition


class Store(Protocol):
    """What of Faust's RocksDB store this needs."""

    def _db_for_partition(self, partition: int) -> rocksdict.Rdict: ...

    def set_persisted_offset(self, tp: TP, offset: int) -> None: ...


@dataclass
class _InFlight:
    writes: dict[bytes, bytes | None]
    acked: "asyncio.Future[Any]"  # the last record's; a partition's records are acked in order


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
        self._queue.append(_InFlight(writes, acked))
        acked.add_done_callback(lambda _: self._settle())

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
        found: dict[bytes, bytes | None] = {}
        rows = cast(Iterable[tuple[bytes, bytes]], self._db.items(from_key=prefix))
        for key, value in rows:
            if not key.startswith(prefix):
                break
            found[key] = value
        for layer in (self._in_flight, self._staged):
            found.update((key, value) for key, value in layer.items() if key.startswith(prefix))
        return sorted((key, value) for key, value in found.items() if value is not None)

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

    def partition(self, partition: int) -> PartitionRows:
        """The rows of one partition."""
        rows = self._partitions.get(partition)
        if rows is None:
            changelog = TP(self._table.changelog_topic.get_topic_name(), partition)
            rows = PartitionRows(self._table.data, changelog, self._records)  # type: ignore[arg-type]
            self._partitions[partition] = rows
        return rows
