"""A table partition's rows: the changelog first, RocksDB only once Kafka acknowledged."""

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import rocksdict
from faust.types import TP

from agents.runtime.record_buffer import RecordBuffer
from agents.runtime.rows import NOTHING_RESTORED, SWEEP_KEYS, PartitionRows, restore_from

CHANGELOG = TP("app-stock-changelog", 3)


class Metadata:
    """What aiokafka tells of an acknowledged record batch (its base offset)."""

    def __init__(self, offset: int) -> None:
        self.offset = offset


class Store:
    """Faust's RocksDB store as the rows use it: one real RocksDB, persisted offsets."""

    def __init__(self, path: Path) -> None:
        self.db = rocksdict.Rdict(str(path), options=rocksdict.Options(raw_mode=True))
        self.persisted: dict[TP, int] = {}

    def _db_for_partition(self, partition: int) -> rocksdict.Rdict:
        assert partition == CHANGELOG.partition
        return self.db

    def set_persisted_offset(self, tp: TP, offset: int) -> None:
        self.persisted[tp] = offset

    def persisted_offset(self, tp: TP) -> int | None:
        return self.persisted.get(tp)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    opened = Store(tmp_path / "db")
    yield opened
    opened.db.close()


def sent(buffer: RecordBuffer) -> "asyncio.Future[Any]":
    """Take what the buffer holds as the producer would; the future of its acknowledgement."""
    acked: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
    for group in buffer.take().values():
        for callback in group.on_sent:
            callback(acked)
    return acked


async def test_a_write_reaches_rocksdb_only_once_kafka_acknowledged_it(store: Store) -> None:
    # Given a partition's rows with a value written and flushed to the changelog
    buffer = RecordBuffer()
    rows = PartitionRows(store, CHANGELOG, buffer)
    rows.put(b"SKU-1", b"v1")
    rows.flush()
    acked = sent(buffer)
    # Then the rows read it, but RocksDB does not have it yet
    assert rows.get(b"SKU-1") == b"v1"
    assert store.db.get(b"SKU-1") is None
    # When Kafka acknowledges the changelog record
    acked.set_result(Metadata(41))
    await asyncio.sleep(0)
    # Then RocksDB has it, with the changelog offset Faust restores from
    assert store.db.get(b"SKU-1") == b"v1"
    assert store.persisted[CHANGELOG] == 41


async def test_a_write_kafka_refused_never_reaches_rocksdb(store: Store) -> None:
    # Given a write whose changelog record Kafka refuses
    buffer = RecordBuffer()
    rows = PartitionRows(store, CHANGELOG, buffer)
    rows.put(b"SKU-1", b"v1")
    rows.flush()
    acked = sent(buffer)
    # When the send fails
    acked.set_exception(RuntimeError("broker gone"))
    await asyncio.sleep(0)
    # Then the local store never holds what the changelog lacks
    assert store.db.get(b"SKU-1") is None
    assert CHANGELOG not in store.persisted


async def test_a_newer_write_in_flight_is_not_shadowed_by_an_older_acknowledgement(
    store: Store,
) -> None:
    # Given two batches writing the same key, the second still in flight
    buffer = RecordBuffer()
    rows = PartitionRows(store, CHANGELOG, buffer)
    rows.put(b"SKU-1", b"v1")
    rows.flush()
    first = sent(buffer)
    rows.put(b"SKU-1", b"v2")
    rows.flush()
    second = sent(buffer)
    # When only the first is acknowledged
    first.set_result(Metadata(1))
    await asyncio.sleep(0)
    # Then reads still see the newer value, RocksDB the acknowledged one
    assert rows.get(b"SKU-1") == b"v2"
    assert store.db.get(b"SKU-1") == b"v1"
    second.set_result(Metadata(2))
    await asyncio.sleep(0)
    assert store.db.get(b"SKU-1") == b"v2"


async def test_the_sweep_deletes_stale_rows_with_a_tombstone_and_keeps_the_rest(
    store: Store,
) -> None:
    # Given a partition with more rows than one sweep step reads, some of them stale
    buffer = RecordBuffer()
    rows = PartitionRows(store, CHANGELOG, buffer)
    keys = [f"k{n:04d}".encode() for n in range(SWEEP_KEYS * 2 + 5)]
    for n, key in enumerate(keys):
        store.db[key] = b"old" if n % 2 else b"new"
    # When the sweep runs until it has been through every key
    for _ in range(3):
        rows.sweep(lambda _key, value: value == b"old", now=0.0)
    rows.flush()
    records = {key: value for group in buffer.take().values() for key, value, _ in group.records}
    # Then every stale row, and only those, goes to the changelog as a tombstone
    assert records == {key: None for n, key in enumerate(keys) if n % 2}
    assert all(rows.get(key) is None for n, key in enumerate(keys) if n % 2)
    assert all(rows.get(key) == b"new" for n, key in enumerate(keys) if not n % 2)


async def write(rows: PartitionRows, buffer: RecordBuffer, key: bytes, value: bytes) -> Any:
    """One batch writing `key`, flushed; the future Kafka acknowledges it with."""
    rows.put(key, value)
    rows.flush()
    return sent(buffer)


async def test_a_worker_that_lapsed_restores_from_the_last_commit_not_its_own_late_write(
    store: Store,
) -> None:
    # Given a worker whose write at changelog offset 10 a successful commit vouched for
    buffer = RecordBuffer()
    rows = PartitionRows(store, CHANGELOG, buffer)
    (await write(rows, buffer, b"SKU-1", b"v1")).set_result(Metadata(10))
    await asyncio.sleep(0)
    rows.trust(rows.persisted())
    # When it froze past its session timeout, another owner wrote offsets 11-19, and the
    # batch it had in hand reached the changelog at offset 20 when it woke
    (await write(rows, buffer, b"SKU-2", b"stale")).set_result(Metadata(20))
    await asyncio.sleep(0)
    assert store.persisted[CHANGELOG] == 20
    # And the partition is assigned to it again
    rows.reassigned()
    # Then its restore starts after offset 10: the other owner's records are read
    assert store.persisted[CHANGELOG] == 10


async def test_a_write_in_flight_across_a_reassignment_never_reaches_rocksdb(
    store: Store,
) -> None:
    # Given a write still in flight when the partition is assigned again
    buffer = RecordBuffer()
    rows = PartitionRows(store, CHANGELOG, buffer)
    late = await write(rows, buffer, b"SKU-1", b"stale")
    rows.reassigned()
    # Then reads no longer see it: the restore decides what the partition holds
    assert rows.get(b"SKU-1") is None
    # When Kafka acknowledges it after the restore began
    late.set_result(Metadata(7))
    await asyncio.sleep(0)
    # Then neither the row nor the restore's offset are touched by it
    assert store.db.get(b"SKU-1") is None
    assert CHANGELOG not in store.persisted


async def test_a_reassignment_after_a_commit_restores_from_where_it_was(store: Store) -> None:
    # Given writes every one of which a successful commit vouched for
    buffer = RecordBuffer()
    rows = PartitionRows(store, CHANGELOG, buffer)
    (await write(rows, buffer, b"SKU-1", b"v1")).set_result(Metadata(3))
    await asyncio.sleep(0)
    rows.trust(rows.persisted())
    # When the partition is assigned again (a cooperative rebalance)
    rows.reassigned()
    # Then nothing is replayed and nothing written is forgotten
    assert store.persisted[CHANGELOG] == 3
    assert rows.get(b"SKU-1") == b"v1"


@pytest.mark.parametrize(
    ("persisted", "vouched", "start"),
    [
        (None, None, None),  # nothing stored: Faust restores from the beginning anyway
        (5, None, NOTHING_RESTORED),  # written, never vouched for: the whole changelog
        (5, 5, 5),
        (4, 5, 4),  # a restore since the commit moved it: nothing to distrust
        (9, 5, 5),
    ],
)
def test_a_restore_never_starts_past_the_last_vouched_offset(
    persisted: int | None, vouched: int | None, start: int | None
) -> None:
    assert restore_from(persisted, vouched) == start


async def test_a_prefix_read_sees_rocksdb_the_writes_in_flight_and_the_batch(store: Store) -> None:
    # Given lines of SKU-1 in RocksDB, one changed and one deleted by a write in flight, a
    # new one staged in this batch, and rows of other keys around them
    store.db[b"SKU-0|r|O-9|1"] = b"other sku"
    store.db[b"SKU-1|r|O-1|1"] = b"stored"
    store.db[b"SKU-1|r|O-2|1"] = b"old"
    store.db[b"SKU-1|r|O-3|1"] = b"deleted soon"
    store.db[b"SKU-2|r|O-1|1"] = b"other sku"
    buffer = RecordBuffer()
    rows = PartitionRows(store, CHANGELOG, buffer)
    rows.put(b"SKU-1|r|O-2|1", b"new")
    rows.put(b"SKU-1|r|O-3|1", None)
    rows.flush()
    sent(buffer)
    rows.put(b"SKU-1|r|O-4|1", b"staged")
    # When the lines of SKU-1 are read by prefix
    found = rows.with_prefix(b"SKU-1|r|")
    # Then each is as `get` would read it, in key order, and nothing else
    assert found == [
        (b"SKU-1|r|O-1|1", b"stored"),
        (b"SKU-1|r|O-2|1", b"new"),
        (b"SKU-1|r|O-4|1", b"staged"),
    ]


async def test_a_prefix_read_as_the_caller_goes_sees_deletes_and_new_rows_in_order(
    store: Store,
) -> None:
    # Given a queue's lines in RocksDB: the oldest deleted by a write in flight, one
    # staged before every stored one, one staged between two stored ones, one deleted staged
    store.db[b"SKU-1|b|002"] = b"gone in flight"
    store.db[b"SKU-1|b|004"] = b"stored 4"
    store.db[b"SKU-1|b|006"] = b"deleted staged"
    store.db[b"SKU-1|b|008"] = b"stored 8"
    store.db[b"SKU-1|q"] = b"not a line"
    buffer = RecordBuffer()
    rows = PartitionRows(store, CHANGELOG, buffer)
    rows.put(b"SKU-1|b|002", None)
    rows.flush()
    sent(buffer)
    rows.put(b"SKU-1|b|001", b"staged 1")
    rows.put(b"SKU-1|b|005", b"staged 5")
    rows.put(b"SKU-1|b|006", None)
    # When the lines are read one at a time
    lines = rows.iter_prefix(b"SKU-1|b|")
    first = [next(lines), next(lines)]
    # Then they come oldest first, as `get` sees them, and so does the rest
    assert first == [(b"SKU-1|b|001", b"staged 1"), (b"SKU-1|b|004", b"stored 4")]
    assert list(lines) == [(b"SKU-1|b|005", b"staged 5"), (b"SKU-1|b|008", b"stored 8")]
    assert [key for key, _ in rows.with_prefix(b"SKU-1|b|")] == [
        b"SKU-1|b|001",
        b"SKU-1|b|004",
        b"SKU-1|b|005",
        b"SKU-1|b|008",
    ]
