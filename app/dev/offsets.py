"""Start a fresh consumer group at the end of every topic (tests, demo and bench use new app ids).

A new app id on a shared dev Kafka would otherwise read those topics from their
beginning: every Release and Cancel ever sent by an earlier run would go to RabbitMQ
again (and one for a warehouse nobody binds any more is retried forever).
"""

from aiokafka import AIOKafkaConsumer, TopicPartition

from protocols.topics import Topics


async def skip_history(bootstrap: str, group: str, partitions: int) -> None:
    """Commit `group`'s offsets at the current end of every existing registry topic."""
    topics = [spec.name for spec in Topics.all()]
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False
    )
    await consumer.start()
    try:
        existing = await consumer.topics()
        tps = [
            TopicPartition(topic, partition)
            for topic in topics
            if topic in existing
            for partition in range(partitions)
        ]
        if not tps:
            return
        consumer.assign(tps)
        ends = await consumer.end_offsets(tps)
        await consumer.commit({tp: end for tp, end in ends.items()})
    finally:
        await consumer.stop()
