"""Talk to the real Kafka from tests: produce canonical messages, read what the gateway wrote."""

import asyncio
import time
import uuid
from collections.abc import Callable, Iterable
from typing import Any

import msgspec
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

_encoder = msgspec.json.Encoder()


def unique(prefix: str) -> str:
    """An identifier no earlier test run used (topics outlive test runs)."""
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


async def produce(
    bootstrap: str,
    topic: str,
    messages: Iterable[tuple[bytes | None, Any]],
    headers: list[tuple[str, bytes]] | None = None,
) -> None:
    """Send (key, value) pairs, values as msgspec Structs, raw bytes or None (a tombstone),
    each with `headers`."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True)
    await producer.start()
    try:
        futures = [
            await producer.send(
                topic,
                key=key,
                value=value if _raw(value) else _encoder.encode(value),
                headers=headers,
            )
            for key, value in messages
        ]
        await asyncio.gather(*futures)
    finally:
        await producer.stop()


def _raw(value: Any) -> bool:
    return value is None or isinstance(value, bytes)


async def read_until(
    bootstrap: str,
    topic: str,
    done: Callable[[list[ConsumerRecord]], bool],
    within: float = 30.0,
) -> list[ConsumerRecord]:
    """Read a topic from the beginning until `done(records)` holds; fail after `within` s."""
    # No group: the consumer is given every partition and starts at the earliest offset.
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest")
    await consumer.start()
    try:
        records: list[ConsumerRecord] = []
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            batch = await consumer.getmany(timeout_ms=200)
            records.extend(r for rs in batch.values() for r in rs)
            if done(records):
                return records
        raise AssertionError(f"{topic}: condition not met within {within}s ({len(records)} read)")
    finally:
        await consumer.stop()


async def create_topic(bootstrap: str, name: str, partitions: int, compacted: bool) -> None:
    """Create a topic as distgate declares its own (the broker does not auto-create)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        configs = {"cleanup.policy": "compact"} if compacted else {}
        await admin.create_topics([NewTopic(name, partitions, 1, topic_configs=configs)])
    finally:
        await admin.close()


async def topic_names(bootstrap: str) -> set[str]:
    """Every topic the cluster has."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        return set(await admin.list_topics())
    finally:
        await admin.close()
