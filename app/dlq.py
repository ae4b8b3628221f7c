"""Looking at dead letters and sending them again: shared by the admin API and `distgate dlq`.

A replay sends the original message back where it came from: a Kafka dead letter to its
origin topic with its original key, value and headers; an AMQP one to `wms.events` with
its original routing key and properties, so it passes through the bridge again. Event
ids make a replay of something already applied change nothing.
"""

import asyncio
import contextlib
import datetime as dt
from collections.abc import AsyncIterator

import aio_pika
from aiokafka.errors import KafkaError
from aiormq.exceptions import AMQPError

from app.dlq_clients import ReplayClients, opened
from app.dlq_select import LetterRef
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
from protocols.errors import InvalidDeadLetter
from protocols.trace_headers import FLOW_HEADERS

REPLAY_WAIT = 10.0  # seconds for the whole replay: read back, then send


class DeadLetterAdmin:
    """Lists the mirrored dead letters and replays one by id."""

    def __init__(self, settings: Settings, mirror: DeadLetterMirror) -> None:
        self.settings = settings
        self.mirror = mirror
        self._held: ReplayClients | None = None  # kept open across replays by `holding_clients`

    @contextlib.asynccontextmanager
    async def holding_clients(self) -> AsyncIterator[None]:
        """Within the block, every replay reuses one consumer, one producer, one AMQP channel."""
        async with opened(self.settings.kafka, self.settings.amqp_url) as clients:
            self._held = clients
            try:
                yield
            finally:
                self._held = None

    @contextlib.asynccontextmanager
    async def _clients(self) -> AsyncIterator[ReplayClients]:
        """The held clients, or fresh ones for this one step."""
        if self._held is not None:
            yield self._held
            return
        async with opened(self.settings.kafka, self.settings.amqp_url) as clients:
            yield clients

    @property
    def ready(self) -> bool:
        """True once the mirror has read the topic up to its end at start."""
        return self.mirror.ready

    def newest(
        self,
        limit: int,
        source: str | None = None,
        reason: str | None = None,
        since: dt.datetime | None = None,
    ) -> list[DeadLetterView]:
        """Up to `limit` dead letters, newest first; only those of `source` and `reason`.

        With `since`, only those dead-lettered then or later.
        """
        return [entry.view() for entry in self.entries(limit, source, reason, since)]

    def entries(
        self,
        limit: int,
        source: str | None = None,
        reason: str | None = None,
        since: dt.datetime | None = None,
    ) -> list[IndexedLetter]:
        """As `newest`, with where each letter is."""
        return self.mirror.index.newest(limit, source, reason, since)

    async def whole(self, letter_id: str) -> DeadLetterView:
        """Dead letter `letter_id` with its whole payload, error and headers, read from Kafka."""
        return await self.whole_at(self.ref(letter_id))

    async def whole_at(self, ref: LetterRef) -> DeadLetterView:
        """The dead letter at `ref`, whole, read from that one record."""
        try:
            async with asyncio.timeout(REPLAY_WAIT):
                letter = await self._read(ref)
        except (KafkaError, OSError, TimeoutError) as exc:
            raise BrokerUnavailable(
                f"Kafka did not give the dead letter back within {REPLAY_WAIT:.0f} s: {exc!r}"
            ) from exc
        return letter.view()

    def ref(self, letter_id: str) -> LetterRef:
        """Where the mirrored dead letter `letter_id` is; NotFound if it is not mirrored."""
        entry = self.mirror.index.get(letter_id)
        if entry is None:
            raise NotFound(f"no dead letter {letter_id!r}")
        return LetterRef(entry.letter.id, entry.partition, entry.offset)

    async def replay(self, letter_id: str) -> ReplayAccepted:
        """Send the original message of dead letter `letter_id` again; return where to."""
        return await self.replay_at(self.ref(letter_id))

    async def replay_at(self, ref: LetterRef) -> ReplayAccepted:
        """Send the original message of the dead letter at `ref` again; return where to."""
        async with _broker_takes_replay():
            letter = await self._read(ref)
            target = await self._send_again(letter)
        return ReplayAccepted(id=letter.id, source=letter.source, target=target)

    async def replay_letter(self, letter: DeadLetter) -> ReplayAccepted:
        """Send the original message of `letter`, already read whole, again; return where to."""
        async with _broker_takes_replay():
            target = await self._send_again(letter)
        return ReplayAccepted(id=letter.id, source=letter.source, target=target)

    async def _send_again(self, letter: DeadLetter) -> str:
        """Send the letter's message where it came from; where that is."""
        if letter.source == "kafka":
            return await self._to_kafka(letter)
        if letter.source == "amqp":
            return await self._to_amqp(letter)
        raise Conflict(f"a dead letter from {letter.source} cannot be replayed")

    async def _read(self, ref: LetterRef) -> DeadLetter:
        """The full record at `ref`, read back from Kafka; NotFound unless it is that letter."""
        if not 0 <= ref.partition < self.settings.partitions:
            partitions = self.settings.partitions
            raise NotFound(f"no dead letter {ref}: the topic has {partitions} partitions")
        topic = self.settings.topics.dead_letters.name
        async with self._clients() as clients:
            record = await clients.read_one(topic, ref.partition, ref.offset)
        if record is None:
            raise NotReady(f"could not read dead letter {ref} back from Kafka")
        try:
            letter = DeadLetter.from_headers(record.headers, record.value or b"", record.key)
        except InvalidDeadLetter as exc:
            raise NotFound(f"no dead letter {ref}: that record is none ({exc})") from exc
        if letter.id != ref.letter_id:
            raise NotFound(f"no dead letter {ref}: the record there is {letter.id}")
        return letter

    async def _to_kafka(self, letter: DeadLetter) -> str:
        if letter.payload_size is not None:
            raise Conflict(
                f"only the first {len(letter.payload)} of {letter.payload_size} bytes were kept"
            )
        if letter.origin not in {spec.name for spec in self.settings.topics.all()}:
            raise Conflict(f"{letter.origin!r} is not a topic distgate reads")
        async with self._clients() as clients:
            await clients.send(letter.origin, letter.payload, letter.key, letter.headers)
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
        async with self._clients() as clients:
            await clients.publish_wms_event(message, routing_key)
        return f"{WMS_EVENTS_EXCHANGE}/{routing_key}"


@contextlib.asynccontextmanager
async def _broker_takes_replay() -> AsyncIterator[None]:
    """The block's replay within REPLAY_WAIT; a broker that fails or stalls is BrokerUnavailable."""
    try:
        async with asyncio.timeout(REPLAY_WAIT):
            yield
    except (KafkaError, AMQPError, OSError, TimeoutError) as exc:
        raise BrokerUnavailable(
            f"the broker did not take the replay within {REPLAY_WAIT:.0f} s: {exc!r}"
        ) from exc
