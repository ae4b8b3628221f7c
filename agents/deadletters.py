"""Sends what could not be applied to `<app_id>.dead-letters`, with the contract's headers."""

import datetime as dt
import hashlib
import logging
from collections.abc import Mapping, Sequence

import faust
from faust.types import EventT, Message

from agents.runtime import log_context
from agents.runtime.correlated import incoming
from agents.runtime.metrics import AgentMetrics
from protocols.amqp import HEADER_CORRELATION_ID
from protocols.deadletters import DeadLetter, Header, Source
from protocols.printable import printable
from protocols.trace_headers import (
    CORRELATION_ID,
    TRACEPARENT,
    TraceParent,
    correlation_of,
    header_value,
    new_span_id,
    trace_id_of,
)

log = logging.getLogger(__name__)

MAX_ERROR_CHARS = 2000


def dead_letter_id(source: Source, origin: str, position: str) -> str:
    """A stable id: the same message dead-lettered again (a replay) gets the same id."""
    digest = hashlib.blake2b(f"{source}\0{origin}\0{position}".encode(), digest_size=10)
    return digest.hexdigest()


def new_dead_letter(
    *,
    source: Source,
    origin: str,
    position: str,
    reason: str,
    error: str,
    payload: bytes,
    key: bytes | None,
    headers: Sequence[Header] = (),
) -> DeadLetter:
    """The record for one message that could not be applied (not yet sent anywhere).

    Its payload is cut when the whole record would not fit Kafka's limit.
    """
    letter = DeadLetter(
        id=dead_letter_id(source, origin, position),
        source=source,
        origin=origin,
        reason=reason,
        error=error[:MAX_ERROR_CHARS],
        at=dt.datetime.now(dt.UTC),
        payload=payload,
        key=key,
        headers=tuple(headers),
    )
    return letter.fitted()


def note_dead_letter(metrics: AgentMetrics, letter: DeadLetter) -> None:
    """Count and log a dead letter once Kafka has it.

    The line carries the letter's correlation id, else the one of the message being handled.
    """
    metrics.dead_letters.labels(letter.source, letter.reason).inc()
    log.warning(
        "dead-lettered %s from %s: %s (%s)",
        letter.id,
        printable(letter.origin),
        printable(letter.reason),
        printable(letter.error[:200]),
        extra={"correlation_id": correlation_of(letter.headers)},
    )


class DeadLetters:
    """Publishes dead letters through the Faust producer (flushed before offsets commit)."""

    def __init__(self, topic: faust.TopicT, metrics: AgentMetrics) -> None:
        self.topic = topic
        self.metrics = metrics

    async def publish(
        self,
        *,
        source: Source,
        origin: str,
        position: str,
        reason: str,
        error: str,
        payload: bytes,
        key: bytes | None,
        headers: Sequence[Header] = (),
    ) -> DeadLetter:
        """Record one message as dead, with why; processing then continues."""
        letter = new_dead_letter(
            source=source,
            origin=origin,
            position=position,
            reason=reason,
            error=error,
            payload=payload,
            key=key,
            headers=with_flow(headers, dead_letter_id(source, origin, position)),
        )
        # The original key and value, so a replay sends exactly what came in; dl.id is a header.
        await self.topic.send(key=key, value=letter.payload, headers=letter.to_headers())
        note_dead_letter(self.metrics, letter)
        return letter

    async def publish_event(self, event: EventT[bytes], reason: str, error: str) -> DeadLetter:
        """Dead-letter a Kafka record a Faust agent could not apply."""
        return await self.publish_record(event.message, reason, error)

    async def publish_record(self, record: Message, reason: str, error: str) -> DeadLetter:
        """Dead-letter a Kafka record as it was fetched: its key, bytes and headers."""
        return await self.publish(
            source="kafka",
            origin=record.topic,
            position=f"{record.partition}:{record.offset}",
            reason=reason,
            error=error,
            payload=record.value if isinstance(record.value, bytes) else b"",
            key=record.key if isinstance(record.key, bytes) else None,
            headers=_header_pairs(record.headers),
        )


def with_flow(headers: Sequence[Header], letter_id: str) -> list[Header]:
    """The headers as they came, plus a correlation id and `traceparent` if they lack them.

    A letter without a correlation id (an ERP record, a WMS message without one) gets
    the AMQP one, else the one of the request being handled, else its own id.
    """
    known = incoming(headers)
    added: list[Header] = []
    if known.correlation_id is None:
        correlation_id = (
            header_value(headers, HEADER_CORRELATION_ID)
            or log_context.correlation_id.get()
            or f"dl-{letter_id}"
        )
        added.append((CORRELATION_ID, correlation_id.encode()))
    else:
        correlation_id = known.correlation_id
    if all(name != TRACEPARENT for name, _ in headers):  # one that came is kept as it was
        parent = TraceParent(trace_id_of(correlation_id), new_span_id())
        added.append((TRACEPARENT, parent.header()))
    return [*headers, *added]


def _header_pairs(headers: Sequence[Header] | Mapping[str, bytes] | None) -> list[Header]:
    if headers is None:
        return []
    if isinstance(headers, Mapping):
        return list(headers.items())
    return list(headers)
