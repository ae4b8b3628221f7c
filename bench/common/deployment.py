"""A bench deployment: its own topics and queue, declared before the bench sends to them."""

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from app.settings import Settings
from app.topology import declare_topology


async def declare_deployment(app_id: str) -> Settings:
    """Create the deployment's topics and bind its queue to `wms.events`; its settings."""
    settings = Settings.from_env().with_overrides(app_id=app_id)
    await declare_topology(settings, settings.topics.all())
    return settings


async def copy_records(
    bootstrap: str, source: dict[TopicPartition, int], target: str, upto: dict[TopicPartition, int]
) -> int:
    """Copy the records from `source` up to `upto` into the same partitions of `target`."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=5)
    await consumer.start()
    await producer.start()
    try:
        left = {tp: end for tp, end in upto.items() if end > source[tp]}
        consumer.assign(list(left))
        for tp in left:
            consumer.seek(tp, source[tp])
        copied = 0
        while left:
            for tp, records in (await consumer.getmany(timeout_ms=500)).items():
                for r in records:
                    if r.offset < left.get(tp, 0):
                        await producer.send(
                            target, r.value, key=r.key, partition=tp.partition,
                            headers=list(r.headers),
                        )  # fmt: skip
                        copied += 1
                if records and records[-1].offset + 1 >= left.get(tp, 0):
                    left.pop(tp, None)
        await producer.flush()
        return copied
    finally:
        await producer.stop()
        await consumer.stop()
