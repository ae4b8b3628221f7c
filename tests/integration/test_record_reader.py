"""Retired values read back from a real changelog: by place, side by side, and once from Kafka."""

import asyncio

import pytest

from app.read.record_reader import ChangelogRecords
from app.settings import Settings
from tests.support.kafka import create_topic, produce, read_until, unique

pytestmark = pytest.mark.brokers


async def test_a_burst_of_reads_by_place_gets_each_record_and_a_repeat_is_not_read_again(
    brokers: Settings,
) -> None:
    # Given a changelog of 60 records over 3 partitions, and where each landed
    topic = unique("changelog")
    await create_topic(brokers.kafka_bootstrap, topic, partitions=3, compacted=True)
    await produce(
        brokers.kafka_bootstrap, topic, [(f"k{i}".encode(), f"v{i}".encode()) for i in range(60)]
    )
    landed = await read_until(brokers.kafka_bootstrap, topic, lambda rs: len(rs) == 60)
    places = {(r.partition, r.offset): (r.key, r.value) for r in landed}
    records = ChangelogRecords(topic, brokers.kafka, readers=3)
    try:
        # When every place is asked for at once, and one place under another key
        values = await asyncio.gather(
            *(records.read(p, o, key, within=30) for (p, o), (key, _) in places.items())
        )
        (partition, offset), _ = next(iter(places.items()))
        stranger = await records.read(partition, offset, b"not-its-key", within=30)
    finally:
        await records.stop()
    # Then each read answers its own record, and a key not at that place reads as gone
    assert values == [value for _, value in places.values()]
    assert stranger is None
    # And a place read once answers again without Kafka being asked
    assert records.fetched == 61
    for (p, o), (key, value) in places.items():
        assert await records.read(p, o, key, within=1) == value
    assert records.fetched == 61
