"""Send the poison: AMQP and Kafka messages published, HTTP bodies posted and their answers kept."""

import asyncio
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

import aio_pika
import aiohttp
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from bench.chaos.poison import Poison
from protocols.amqp import WMS_EVENTS_EXCHANGE
from protocols.wms import routing_key


@dataclass
class PoisonSent:
    """What went out: messages that must be dead-lettered, and how HTTP answered the rest."""

    to_dead_letter: list[Poison] = field(default_factory=list)
    http_statuses: Counter[int] = field(default_factory=Counter)


async def send(
    poisons: Sequence[Poison], amqp_url: str, bootstrap: str, api: str, warehouse: str
) -> PoisonSent:
    """Every poison to its input; raises if a broker refused one (the fault is then a finding)."""
    sent = PoisonSent()
    await _publish_amqp([p for p in poisons if p.input.startswith("amqp:")], amqp_url, warehouse)
    await _produce_kafka([p for p in poisons if p.input.startswith("kafka:")], bootstrap)
    sent.to_dead_letter = [p for p in poisons if not p.input.startswith("http:")]
    async with aiohttp.ClientSession() as http:
        for poison in (p for p in poisons if p.input.startswith("http:")):
            path = poison.input.removeprefix("http:")
            headers = {"Content-Type": "application/json"}
            async with http.post(api + path, data=poison.body, headers=headers) as response:
                await response.read()
                sent.http_statuses[response.status] += 1
    return sent


async def _publish_amqp(poisons: Sequence[Poison], amqp_url: str, warehouse: str) -> None:
    connection = await aio_pika.connect(amqp_url, timeout=30)
    async with connection:
        channel = await connection.channel(publisher_confirms=True)
        exchange = await channel.get_exchange(WMS_EVENTS_EXCHANGE)
        for poison in poisons:
            message = aio_pika.Message(
                poison.body,
                content_type="application/xml",
                delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
                message_id=poison.marker,
            )
            await exchange.publish(message, routing_key(warehouse, "receipt"), mandatory=True)


async def _produce_kafka(poisons: Sequence[Poison], bootstrap: str) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    try:
        for poison in poisons:
            topic = poison.input.removeprefix("kafka:")
            await producer.send_and_wait(topic, poison.body, key=poison.marker.encode())
    finally:
        await producer.stop()


async def dead_lettered(bootstrap: str, topic: str, partitions: int, markers: set[str]) -> set[str]:
    """The markers found in the dead-letter topic, read from its start to its end now."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        parts = [TopicPartition(topic, p) for p in range(partitions)]
        consumer.assign(parts)
        await consumer.seek_to_beginning(*parts)
        ends = await consumer.end_offsets(parts)
        found: set[str] = set()
        while await _behind(consumer, ends):
            batches = await asyncio.wait_for(consumer.getmany(timeout_ms=1000), 30)
            for records in batches.values():
                found |= {m for r in records for m in markers if m.encode() in (r.value or b"")}
        return found
    finally:
        await consumer.stop()


async def _behind(consumer: AIOKafkaConsumer, ends: dict[TopicPartition, int]) -> bool:
    """Whether any partition is still short of its end offset."""
    for partition, end in ends.items():
        if await consumer.position(partition) < end:
            return True
    return False
