"""The dead-letter index: one entry per id, newest first, bounded, payloads cut to a preview."""

import datetime as dt

from aiokafka import ConsumerRecord

from app.read.deadletter_index import PREVIEW_BYTES, DeadLetterIndex
from protocols.deadletters import DeadLetter

T0 = dt.datetime(2026, 11, 27, 9, 0, tzinfo=dt.UTC)


def record(
    letter_id: str, minute: int, payload: bytes = b"<x/>", offset: int = 0
) -> ConsumerRecord:
    letter = DeadLetter(
        id=letter_id, source="amqp", origin="distgate.wms-events", reason="malformed_xml",
        error="bad", at=T0 + dt.timedelta(minutes=minute), payload=payload,
        headers=(("amqp.routing_key", b"W1.receipt"),),
    )  # fmt: skip
    return ConsumerRecord(
        "distgate.dead-letters", 3, offset, 0, 0, None, payload, None, len(payload), 0,
        letter.to_headers(),
    )  # fmt: skip


def test_the_newest_come_first_and_a_repeat_replaces_its_older_record() -> None:
    # Given three letters, the first dead-lettered again later (a replay that failed again)
    index = DeadLetterIndex()
    for rec in (record("a", 1), record("b", 2), record("c", 3), record("a", 4, offset=9)):
        index.add_record(rec)
    # When listed, Then each id appears once, newest first, at its latest record
    assert [e.letter.id for e in index.newest(10)] == ["a", "c", "b"]
    assert [e.letter.id for e in index.newest(2)] == ["a", "c"]
    found = index.get("a")
    assert found is not None
    assert (found.partition, found.offset) == (3, 9)


def test_memory_is_bounded_by_capacity_and_payload_preview() -> None:
    # Given a small index
    index = DeadLetterIndex(capacity=2)
    # When three letters arrive, one with a large payload
    index.add_record(record("a", 1))
    index.add_record(record("b", 2, payload=b"x" * (PREVIEW_BYTES + 10)))
    index.add_record(record("c", 3))
    # Then the oldest is forgotten and the large payload is kept only as a preview
    assert len(index) == 2
    assert index.get("a") is None
    big = index.get("b")
    assert big is not None
    assert len(big.letter.payload) == PREVIEW_BYTES
    assert big.payload_size == PREVIEW_BYTES + 10
    assert big.view().payload_truncated
    assert not index.newest(1)[0].view().payload_truncated


def test_a_record_that_is_not_a_dead_letter_is_skipped() -> None:
    # Given a record without dl.* headers, When indexed, Then nothing is added
    index = DeadLetterIndex()
    index.add_record(ConsumerRecord("t", 0, 0, 0, 0, None, b"x", None, 1, 0, []))
    assert len(index) == 0
