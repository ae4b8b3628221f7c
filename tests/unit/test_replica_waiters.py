"""Long polls on the replica: woken by their own key's changes only, answered on time."""

import asyncio

from aiokafka import ConsumerRecord, TopicPartition

from app.broker_access import KafkaAccess
from app.read.replica import ChangelogReplica

TP = TopicPartition("orders-changelog", 0)


def _record(offset: int, key: bytes, value: bytes) -> ConsumerRecord[bytes, bytes]:
    return ConsumerRecord(
        topic=TP.topic, partition=0, offset=offset, timestamp=0, timestamp_type=0,
        key=key, value=value, checksum=None, serialized_key_size=len(key),
        serialized_value_size=len(value), headers=(),
    )  # fmt: skip


async def test_a_waiter_wakes_for_its_key_and_not_for_others() -> None:
    replica: ChangelogReplica[bytes] = ChangelogReplica(
        "orders", TP.topic, 1, KafkaAccess(""), bytes
    )
    looked_at: list[bytes | None] = []

    def accept(value: bytes | None) -> bool:
        looked_at.append(value)
        return value == b"RESERVED"

    waiting = asyncio.create_task(replica.wait_until(b"o-1", accept, within=5))
    await asyncio.sleep(0.01)
    # When a hundred other orders change, then this one twice
    replica._apply({TP: [_record(n, f"o-{n + 2}".encode(), b"SUBMITTED") for n in range(100)]})
    await asyncio.sleep(0.01)
    replica._apply({TP: [_record(100, b"o-1", b"SUBMITTED")]})
    await asyncio.sleep(0.01)
    replica._apply({TP: [_record(101, b"o-1", b"RESERVED")]})
    # Then it answers with the value it waited for, having looked only at its own changes
    assert await asyncio.wait_for(waiting, 1) == b"RESERVED"
    assert looked_at == [None, b"SUBMITTED", b"RESERVED"]
    assert replica._watchers == {}


async def test_a_waiter_answers_its_last_value_when_time_is_up() -> None:
    replica: ChangelogReplica[bytes] = ChangelogReplica(
        "orders", TP.topic, 1, KafkaAccess(""), bytes
    )
    replica._apply({TP: [_record(0, b"o-1", b"SUBMITTED")]})
    value = await replica.wait_until(b"o-1", lambda v: v == b"RESERVED", within=0.05)
    assert value == b"SUBMITTED"


def _replica() -> ChangelogReplica[bytes]:
    """A replica that is fed by hand: it never connects to Kafka."""
    return ChangelogReplica("orders", TP.topic, 1, KafkaAccess("127.0.0.1:1"), bytes)


def _decoding_replica(decoded: list[bytes]) -> ChangelogReplica[bytes]:
    """A replica fed by hand that notes every value it decodes."""

    def decode(raw: bytes) -> bytes:
        decoded.append(raw)
        return raw

    return ChangelogReplica("orders", TP.topic, 1, KafkaAccess(""), decode)


async def test_a_waiter_decodes_only_the_versions_its_bytes_do_not_rule_out() -> None:
    decoded: list[bytes] = []
    replica = _decoding_replica(decoded)
    replica._apply({TP: [_record(0, b"o-1", b"SUBMITTED")]})
    waiting = asyncio.create_task(
        replica.wait_until(
            b"o-1", lambda v: v == b"RESERVED", within=5, pending=lambda raw: raw == b"SUBMITTED"
        )
    )
    await asyncio.sleep(0.01)
    # When the order changes twice while still pending, then reaches what is waited for
    replica._apply({TP: [_record(1, b"o-1", b"SUBMITTED")]})
    await asyncio.sleep(0.01)
    replica._apply({TP: [_record(2, b"o-1", b"SUBMITTED")]})
    await asyncio.sleep(0.01)
    replica._apply({TP: [_record(3, b"o-1", b"RESERVED")]})
    # Then it answers that value, having decoded it alone
    assert await asyncio.wait_for(waiting, 1) == b"RESERVED"
    assert decoded == [b"RESERVED"]


async def test_a_pending_waiter_still_answers_its_last_value_when_time_is_up() -> None:
    decoded: list[bytes] = []
    replica = _decoding_replica(decoded)
    replica._apply({TP: [_record(0, b"o-1", b"SUBMITTED")]})
    value = await replica.wait_until(
        b"o-1", lambda v: v == b"RESERVED", within=0.05, pending=lambda raw: True
    )
    assert value == b"SUBMITTED"
