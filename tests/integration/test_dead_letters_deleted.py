"""Dead letters an operator deleted from Kafka (`kafka-delete-records`): the rest are listed."""

import asyncio
import json

import pytest
from aiokafka import AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, RecordsToDelete

from agents.deadletters import new_dead_letter
from app.settings import Settings
from app.topology import declare_kafka_topics
from protocols.deadletters import DeadLetter
from tests.integration.test_dead_letter_admin import dlq

pytestmark = pytest.mark.brokers


def letter(n: int) -> DeadLetter:
    """A letter of a record some agent could not decode."""
    return new_dead_letter(
        source="kafka", origin="erp.supply", position=f"0:{n}", reason="malformed",
        error="not JSON", payload=b"not json %d" % n, key=b"SKU-1",
    )  # fmt: skip


async def send(settings: Settings, topic: str, letters: dict[int, DeadLetter]) -> None:
    """Write each letter to its partition, as an agent writes it."""
    producer = AIOKafkaProducer(**settings.kafka.client_options(), acks="all")
    await producer.start()
    try:
        for partition, each in letters.items():
            headers = each.to_headers()
            await producer.send_and_wait(topic, each.payload, each.key, partition, headers=headers)
    finally:
        await producer.stop()


async def delete_before(settings: Settings, tp: TopicPartition, offset: int) -> None:
    """Delete a partition's records before `offset`, as an operator's tool does."""
    admin = AIOKafkaAdminClient(**settings.kafka.client_options())
    await admin.start()
    try:
        await admin.delete_records({tp: RecordsToDelete(offset)})
    finally:
        await admin.close()


async def test_a_partition_whose_letters_were_all_deleted_does_not_hold_the_listing_back(
    deployment: Settings,
) -> None:
    # Given the deployment's dead-letter topic, with a letter on each of two partitions
    topic = deployment.topics.dead_letters.name
    await declare_kafka_topics(deployment, (deployment.topics.dead_letters,))
    deleted, kept = letter(1), letter(2)
    await send(deployment, topic, {0: deleted, 1: kept})
    # When an operator deletes every record of the first partition
    await delete_before(deployment, TopicPartition(topic, 0), 1)
    # Then `distgate dlq list` answers, with the letter that is left
    listed = await asyncio.to_thread(dlq, deployment, "list", "--json")
    assert listed.returncode == 0, listed.stderr
    assert [json.loads(line)["id"] for line in listed.stdout.splitlines()] == [kept.id]
