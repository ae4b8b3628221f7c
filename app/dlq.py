"""Looking at dead letters and sending them again: shared by the admin API and `distgate dlq`.

A replay sends the original message back where it came from: a Kafka dead letter to its
origin topic with its original key, value and headers; an AMQP one to `wms.events` with
its original routing key and properties, so it passes through the bridge again. Event
ids make a replay of something already applied change nothing.
"""

import asyncio

import aio_pika
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.errors import KafkaError
from aiormq.exceptions import AMQPError

from app.errors import BrokerUnavailable, Conflict, NotFound, NotReady
from app.read.deadletter_index import DeadLetterMirror, IndexedLetter
from app.settings import Settings
from protocols.amqp import (
    HEADER_BODY_SIZE,
    HEADER_CONTENT_TYPE,
    HEADER_CORRELATION_ID,
    HEADER_MESSAGE_ID,
    HEADER_ROUTING_KEY,
    WMS_EVENTS_EXCHANGE,
)
from protocols.deadletters import DeadLetter, DeadLetterView, ReplayAccepted
from protocols.trace_headers import FLOW_HEADERS

READ_TIMEOUT_MS = 5_000
REPLAY_WAIT = 10.0  # seconds for the whole replay: read back, then send


class DeadLetterAdmin:
    """Lists the mirrored dead letters and replays one by id."""

    def __init__(self, settings: Settings, mirror: DeadLetterMirror) -> None:
        self.settings = settings
        self.mirror = mirror

    @property
    def ready(self) -> bool:
        """True once the mirror has read the topic up to its end at start."""
        return self.mirror.ready

    def newest(
        self, limit: int, source: str | None = None, reason: str | None = None
    ) -> list[DeadLetterView]:
        """Up to `limit` dead letters, newest first; only those of `source` and `reason`."""
        return [entry.view() for entry in self.mirror.index.newest(limit, source, reason)]

    async def whole(self, letter_id: str) -> DeadLetterView:
        """Dead letter `letter_id` with its whole payload, error and headers, read from Kafka."""
        entry = self._entry(letter_id)
        try:
            async with asyncio.timeout(REPLAY_WAIT):
                letter = await self._read(entry)
        except (KafkaError, OSError, TimeoutError) as exc:
            raise BrokerUnavailable(
                f"Kafka did not give the dead letter back within {REPLAY_WAIT:.0f} s: {exc!r}"
            ) from exc
        return letter.view()

    def _entry(self, letter_id: str) -> IndexedLetter:
        entry = self.mirror.index.get(letter_id)
        if entry is None:
            raise NotFound(f"no dead letter {letter_id!r}")
        return entry

    async def replay(self, letter_id: str) -> ReplayAccepted:
        """Send the original message of dead letter `letter_id` again; return where to."""
        entry = self._entry(letter_id)
        try:
            async with asyncio.timeout(REPLAY_WAIT):
                letter = await self._read(entry)
                if letter.source == "kafka":
                    target = await self._to_kafka(letter)
                elif letter.source == "amqp":
                    target = await self._to_amqp(letter)
                else:
                    raise Conflict(f"a dead letter from {letter.source} cannot be replayed")
        except (KafkaError, AMQPError, OSError, TimeoutError) as exc:
            raise BrokerUnavailable(
                f"the broker did not take the replay within {REPLAY_WAIT:.0f} s: {exc!r}"
            ) from exc
        return ReplayAccepted(id=letter.id, source=letter.source, target=target)

    async def _read(self, entry: IndexedLetter) -> DeadLetter:
        """The full record of an index entry, read back from Kafka."""
        consumer = AIOKafkaConsumer(
            **self.settings.kafka.client_options(), enable_auto_commit=False
        )
        try:
            await consumer.start()
            tp = TopicPartition(self.settings.topics.dead_letters.name, entry.partition)
            consumer.assign([tp])
            consumer.seek(tp, entry.offset)
            batch = await consumer.getmany(tp, timeout_ms=READ_TIMEOUT_MS, max_records=1)
        finally:
            await consumer.stop()
        records = [r for r in batch.get(tp, []) if r.offset == entry.offset]
        if not records:
            raise NotReady(f"could not read dead letter {entry.letter.id} back from Kafka")
        record = records[0]
        return DeadLetter.from_headers(record.headers, record.value or b"", record.key)

    async def _to_kafka(self, letter: DeadLetter) -> str:
        if letter.payload_size is not None:
            raise Conflict(
                f"only the first {len(letter.payload)} of {letter.payload_size} bytes were kept"
            )
        if letter.origin not in {spec.name for spec in self.settings.topics.all()}:
            raise Conflict(f"{letter.origin!r} is not a topic distgate reads")
        producer = AIOKafkaProducer(
            **self.settings.kafka.client_options(), acks="all", enable_idempotence=True
        )
        try:
            await producer.start()
            await producer.send_and_wait(
                letter.origin, letter.payload, key=letter.key, headers=list(letter.headers)
            )
        finally:
            await producer.stop()
        return letter.origin

    async def _to_amqp(self, letter: DeadLetter) -> str:
        properties = {name: raw.decode(errors="replace") for name, raw in letter.headers}
        if HEADER_BODY_SIZE in properties:
            dead = self.settings.wms_queues.dead.name
            raise Conflict(f"only part of the body was kept; the whole message is in {dead}")
        routing_key = properties.get(HEADER_ROUTING_KEY)
        if routing_key is None:
            raise Conflict(f"the dead letter lacks the {HEADER_ROUTING_KEY} header")
        message = aio_pika.Message(
            letter.payload,
            content_type=properties.get(HEADER_CONTENT_TYPE),
            delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
            message_id=properties.get(HEADER_MESSAGE_ID),
            correlation_id=properties.get(HEADER_CORRELATION_ID),
            # the letter's flow: its correlation id and traceparent, as the bridge reads them
            headers={name: properties[name] for name in FLOW_HEADERS if name in properties},
        )
        connection = await aio_pika.connect(self.settings.amqp_url, timeout=10)
        async with connection:
            channel = await connection.channel(publisher_confirms=True, on_return_raises=True)
            exchange = await channel.get_exchange(WMS_EVENTS_EXCHANGE, ensure=False)
            await exchange.publish(message, routing_key, mandatory=True, timeout=10)
        return f"{WMS_EVENTS_EXCHANGE}/{routing_key}"
