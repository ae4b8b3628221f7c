"""Kafka plumbing for the bench: fast bulk produce, offsets, topic set-up and clean-up."""

import asyncio
import time
from collections.abc import Iterable

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic, RecordsToDelete

from bench.common.workload import KeyedValue

Offsets = dict[TopicPartition, int]


def bulk_producer(bootstrap: str) -> AIOKafkaProducer:
    """A producer tuned for backlog loading: acks=all, idempotent, large batches."""
    return AIOKafkaProducer(
        bootstrap_servers=bootstrap,
        acks="all",
        enable_idempotence=True,
        linger_ms=20,
        max_batch_size=512 * 1024,
        max_request_size=4 * 1024 * 1024,
    )


async def produce_all(bootstrap: str, topic: str, messages: Iterable[KeyedValue]) -> int:
    """Send every (key, value) keyed (default partitioner) and wait for all acks."""
    producer = bulk_producer(bootstrap)
    await producer.start()
    try:
        return await send_all(producer, topic, messages)
    finally:
        await producer.stop()


async def send_all(producer: AIOKafkaProducer, topic: str, messages: Iterable[KeyedValue]) -> int:
    """Send through a started producer; acks are awaited in chunks to bound memory."""
    pending: list[asyncio.Future[object]] = []
    sent = 0
    for key, value in messages:
        pending.append(await producer.send(topic, key=key, value=value))
        sent += 1
        if len(pending) >= 20_000:
            await asyncio.gather(*pending)
            pending.clear()
    await asyncio.gather(*pending)
    return sent


async def offsets(bootstrap: str, topic: str, partitions: int) -> tuple[Offsets, Offsets]:
    """(beginning, end) offsets of every partition of `topic`."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap)
    await consumer.start()
    try:
        tps = [TopicPartition(topic, p) for p in range(partitions)]
        return await consumer.beginning_offsets(tps), await consumer.end_offsets(tps)
    finally:
        await consumer.stop()


async def record_count(bootstrap: str, topic: str, partitions: int) -> int:
    """Records currently held by `topic` (end minus beginning, summed over partitions)."""
    begin, end = await offsets(bootstrap, topic, partitions)
    return sum(end[tp] - begin[tp] for tp in end)


async def committed_lag(bootstrap: str, group: str, topic: str, partitions: int) -> int | None:
    """Records of `topic` the consumer group has not committed yet (None: nothing committed)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        committed = await admin.list_consumer_group_offsets(group)
    finally:
        await admin.close()
    mine: dict[TopicPartition, int] = {
        tp: meta.offset for tp, meta in committed.items() if tp.topic == topic
    }
    if not mine:
        return None
    _, end = await offsets(bootstrap, topic, partitions)
    return sum(max(0, end[tp] - mine.get(tp, 0)) for tp in end)


async def create_topic(bootstrap: str, name: str, partitions: int, *, compacted: bool) -> None:
    """Create a topic (RF 1) the way the worker's Topology would."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        topic = NewTopic(
            name=name,
            num_partitions=partitions,
            replication_factor=1,
            topic_configs={"cleanup.policy": "compact" if compacted else "delete"},
        )
        await admin.create_topics([topic])
    finally:
        await admin.close()


async def trim(bootstrap: str, upto: Offsets) -> int:
    """Delete the records below `upto` (what the bench appended to a shared topic and older)."""
    begin, _ = await offsets(bootstrap, next(iter(upto)).topic, len(upto))
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.delete_records({tp: RecordsToDelete(before_offset=o) for tp, o in upto.items()})
    finally:
        await admin.close()
    return sum(max(0, o - begin[tp]) for tp, o in upto.items())


async def wait_for_topic(bootstrap: str, name: str, within: float = 30.0) -> None:
    """Wait until `name` shows in the cluster metadata."""
    deadline = time.monotonic() + within
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        while name not in await admin.list_topics():
            if time.monotonic() > deadline:
                raise TimeoutError(f"topic {name} did not appear within {within}s")
            await asyncio.sleep(0.2)
    finally:
        await admin.close()


async def start_group_at(bootstrap: str, group: str, positions: Offsets) -> None:
    """Commit `positions` for a consumer group that has not started, so it begins there."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False
    )
    await consumer.start()
    try:
        consumer.assign(list(positions))
        await consumer.commit(dict(positions))
    finally:
        await consumer.stop()
