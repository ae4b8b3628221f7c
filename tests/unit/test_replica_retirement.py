"""Closed orders leave the mirror's memory once old, and are still read by id, from Kafka."""

from pathlib import Path
from typing import Any

import msgspec
import pytest
from aiokafka import ConsumerRecord, TopicPartition
from aiokafka.errors import KafkaConnectionError
from msgspec.structs import replace

from app.broker_access import KafkaAccess
from app.read.replica import ChangelogReplica
from app.read.retirement import Retirement, RetirementPolicy, pack, unpack
from tables.order.batch import _leading_status
from tables.order.table import decode_order, encode_order, is_closed_order
from tables.order.value import FINAL, Order
from tests.support.api import MemoryOrders, api
from tests.unit.test_orders_support import RESERVED as RESERVED_STEPS
from tests.unit.test_orders_support import SHIPPED, cancel, invoiced, run

DAY_MS = 86_400_000
TOPIC = "orders-changelog"


class Clock:
    """A clock the test moves (seconds since the epoch)."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


class Changelog:
    """The changelog's records by place: what a retired value is read back from."""

    def __init__(self) -> None:
        self.records: dict[tuple[int, int], tuple[bytes, bytes]] = {}
        self.reads = 0

    async def read(self, partition: int, offset: int, key: bytes, within: float) -> bytes | None:
        self.reads += 1
        found = self.records.get((partition, offset))
        return found[1] if found is not None and found[0] == key else None

    async def stop(self) -> None:
        pass


def closed(value: bytes) -> bool:
    return value.startswith(b"CLOSED")


def _record(
    partition: int, offset: int, key: bytes, value: bytes | None, ms: int
) -> ConsumerRecord:
    return ConsumerRecord(
        topic=TOPIC, partition=partition, offset=offset, timestamp=ms, timestamp_type=0,
        key=key, value=value, checksum=None, serialized_key_size=len(key),
        serialized_value_size=0 if value is None else len(value), headers=(),
    )  # fmt: skip


class Mirror:
    """A replica fed by hand, its changelog in memory, its clock in the test's hands."""

    def __init__(self, keep_days: int, start_ms: int = 100 * DAY_MS) -> None:
        self.clock = Clock(start_ms / 1000)
        self.changelog = Changelog()
        retirement = Retirement(RetirementPolicy(keep_days * DAY_MS, closed), self.clock)
        self.replica: ChangelogReplica[bytes] = ChangelogReplica(
            "orders", TOPIC, 2, KafkaAccess("127.0.0.1:1"), bytes, retirement
        )
        self.replica._records = self.changelog  # type: ignore[assignment]
        self.offsets = [0, 0]

    def write(
        self, key: bytes, value: bytes | None, partition: int = 0, ms: int | None = None
    ) -> None:
        offset = self.offsets[partition]
        self.offsets[partition] += 1
        if value is not None:
            self.changelog.records[(partition, offset)] = (key, value)
        ms = int(self.clock.now * 1000) if ms is None else ms
        tp = TopicPartition(TOPIC, partition)
        self.replica._apply({tp: [_record(partition, offset, key, value, ms)]})

    def days_pass(self, days: float) -> None:
        self.clock.now += days * 86_400
        self.replica._apply({})


def test_a_place_is_packed_into_one_int_and_back() -> None:
    assert unpack(pack(255, 10**12)) == (255, 10**12)
    assert unpack(pack(0, 0)) == (0, 0)


async def test_a_closed_value_leaves_memory_after_the_days_and_reads_back_the_same() -> None:
    # Given a mirror that keeps closed values 30 days, an open and a closed order
    mirror = Mirror(keep_days=30)
    mirror.write(b"o-open", b"OPEN v1")
    mirror.write(b"o-closed", b"CLOSED v9", partition=1)
    # When 29 days pass, Then both are still in memory
    mirror.days_pass(29)
    assert (len(mirror.replica), mirror.replica.retired) == (2, 0)
    # When the 30th day passes, Then the closed one left memory, the open one stayed
    mirror.days_pass(1.01)
    assert (len(mirror.replica), mirror.replica.retired) == (1, 1)
    assert mirror.replica.get(b"o-closed") is None
    # And reading it by id gives the same value, read back from the changelog
    assert await mirror.replica.read(b"o-closed", 1) == b"CLOSED v9"
    assert await mirror.replica.read(b"o-open", 1) == b"OPEN v1"
    assert await mirror.replica.read(b"o-never", 1) is None
    assert mirror.changelog.reads == 1


async def test_a_closed_value_written_again_stays_until_its_new_write_is_old() -> None:
    # Given a closed order 20 days old, then changed again (a late shipment after a cancel)
    mirror = Mirror(keep_days=30)
    mirror.write(b"o-1", b"CLOSED v5")
    mirror.days_pass(20)
    mirror.write(b"o-1", b"CLOSED v6")
    # When the first write's 30 days are over, Then the order stays in memory
    mirror.days_pass(10.5)
    assert mirror.replica.get(b"o-1") == (b"CLOSED v6", int((100 + 20) * DAY_MS))
    # When the second write's are over too, Then it leaves, and reads back as its last value
    mirror.days_pass(20)
    assert mirror.replica.get(b"o-1") is None
    assert await mirror.replica.read(b"o-1", 1) == b"CLOSED v6"


async def test_a_long_poll_on_a_retired_value_sees_it() -> None:
    mirror = Mirror(keep_days=0)
    mirror.write(b"o-1", b"CLOSED")
    value = await mirror.replica.wait_until(b"o-1", lambda v: v is not None, within=0)
    assert value == b"CLOSED"


async def test_a_retired_value_written_again_comes_back_into_memory() -> None:
    mirror = Mirror(keep_days=0)
    mirror.write(b"o-1", b"CLOSED v5")
    assert mirror.replica.retired == 1
    mirror.write(b"o-1", b"OPEN again")  # never so for an order; the mirror does not care
    assert (mirror.replica.get(b"o-1") or (None,))[0] == b"OPEN again"
    assert mirror.replica.retired == 0
    mirror.write(b"o-1", None)  # a tombstone
    assert await mirror.replica.read(b"o-1", 1) is None


async def test_zero_days_keeps_no_closed_value_in_memory() -> None:
    mirror = Mirror(keep_days=0)
    for n in range(100):
        mirror.write(f"o-{n}".encode(), b"CLOSED" if n % 2 else b"OPEN")
    assert (len(mirror.replica), mirror.replica.retired) == (50, 50)
    assert await mirror.replica.read(b"o-1", 1) == b"CLOSED"


async def test_a_value_that_closed_long_ago_is_never_held_when_restored() -> None:
    # Given a mirror restoring at day 100 a record written at day 10
    mirror = Mirror(keep_days=30, start_ms=100 * DAY_MS)
    mirror.write(b"o-1", b"CLOSED", ms=10 * DAY_MS)
    assert (len(mirror.replica), mirror.replica.retired) == (0, 1)


async def test_a_record_compacted_away_is_looked_for_again_after_a_sync() -> None:
    # Given a retired value whose record Kafka no longer has at its place
    mirror = Mirror(keep_days=0)
    mirror.write(b"o-1", b"CLOSED")
    mirror.changelog.records.clear()
    synced: list[float] = []

    async def sync(within: float) -> bool:
        synced.append(within)
        return True

    mirror.replica.sync = sync  # type: ignore[method-assign]
    # Then a read gives up after a sync and one more try, with an error the API maps to 503
    with pytest.raises(TimeoutError, match="moved on the changelog"):
        await mirror.replica.read(b"o-1", 1)
    assert len(synced) == 2


@pytest.mark.parametrize(
    ("steps", "is_closed"),
    [
        (RESERVED_STEPS, False),
        (SHIPPED, False),
        ((*SHIPPED, invoiced()), True),
        ((*RESERVED_STEPS, cancel()), True),
    ],
    ids=["reserved", "shipped", "invoiced", "cancelled"],
)
def test_an_order_is_closed_in_the_statuses_it_never_leaves(steps: tuple, is_closed: bool) -> None:
    assert is_closed_order(encode_order(run(*steps))) is is_closed


@pytest.mark.parametrize(
    ("order_id", "customer_id"),
    [("status", "status"), ("o" * 64, "c" * 64), ("SO-1", "INVOICED")],
    ids=["named-status", "longest-ids", "customer-named-like-a-status"],
)
@pytest.mark.parametrize("steps", [RESERVED_STEPS, (*SHIPPED, invoiced())], ids=["open", "closed"])
def test_the_status_read_from_the_head_is_the_stored_status(
    order_id: str, customer_id: str, steps: tuple
) -> None:
    # Given an order whose ids could be mistaken for the status field or its value
    order = replace(run(*steps), order_id=order_id, customer_id=customer_id)
    raw = encode_order(order)
    # Then the fast read of its head agrees with decoding it whole
    assert _leading_status(raw) == decode_order(raw).status
    assert is_closed_order(raw) is (order.status in FINAL)


def test_a_stored_form_laid_out_otherwise_is_decoded_properly() -> None:
    order = run(*SHIPPED, invoiced())
    fields = msgspec.to_builtins(order)
    raw = msgspec.msgpack.encode({"version": fields.pop("version"), **fields})
    assert _leading_status(raw) is None
    assert is_closed_order(raw)


class UnreachableKafka(MemoryOrders):
    """Orders that left memory while Kafka cannot be reached to read them back."""

    async def read(self, key: bytes, within: float) -> Order | None:
        raise KafkaConnectionError("the changelog's leader is unreachable")


async def test_a_retired_order_kafka_cannot_give_back_is_a_503_with_retry_after(
    aiohttp_client: Any, tmp_path: Path
) -> None:
    client = await aiohttp_client(api(tmp_path, orders=UnreachableKafka()))
    response = await client.get("/v1/orders/SO-1")
    assert response.status == 503
    assert response.headers["Retry-After"] == "5"
    problem = await response.json()
    assert "cannot read order SO-1 back from Kafka" in problem["detail"]
