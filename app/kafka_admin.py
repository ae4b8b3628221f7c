"""What the Kafka cluster says about a topic, asked through a short-lived admin client."""

from typing import Any

from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.structs import TopicPartition


async def topic_partitions(topic: str, **client_options: Any) -> list[TopicPartition]:
    """Every partition of `topic`, as the cluster describes it now."""
    admin = AIOKafkaAdminClient(**client_options)
    await admin.start()
    try:
        (described,) = await admin.describe_topics([topic])
    finally:
        await admin.close()
    return [TopicPartition(topic, p["partition"]) for p in described["partitions"]]
