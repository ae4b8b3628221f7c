"""The dead-letter index: one entry per id, newest first, bounded in bytes, each a preview."""

import datetime as dt

from aiokafka import ConsumerRecord

from app.read.deadletter_index import BUDGET_BYTES, PREVIEW_BYTES, DeadLetterIndex, preview_of
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


def test_memory_is_bounded_by_bytes_and_payloads_are_previews() -> None:
    # Given an index with room for about three small letters
    small = preview_of(DeadLetter.from_headers(record("x", 0).headers, b"<x/>", None), 0, 0)
    index = DeadLetterIndex(budget_bytes=3 * small.cost + 100)
    # When a letter with a large payload arrives, then three small ones
    index.add_record(record("big", 1, payload=b"x" * (PREVIEW_BYTES * 50)))
    big = index.get("big")
    assert big is not None
    # Then the large one is held only as a preview, which says so
    assert len(big.letter.payload) == PREVIEW_BYTES
    assert big.payload_size == PREVIEW_BYTES * 50
    assert big.view().payload_truncated
    assert big.view().preview
    for name, minute in (("a", 2), ("b", 3), ("c", 4)):
        index.add_record(record(name, minute))
    # And the oldest are forgotten once the budget is spent: never more bytes than it allows
    assert index.held_bytes <= index.budget_bytes
    assert index.get("big") is None
    assert [e.letter.id for e in index.newest(10)] == ["c", "b", "a"]
    assert not index.newest(1)[0].view().preview


def test_ten_thousand_large_letters_stay_within_the_default_budget() -> None:
    # Given the default index, When 10,000 letters of 64 KiB each arrive
    index = DeadLetterIndex()
    payload = b"y" * (64 * 1024)
    for n in range(10_000):
        index.add_record(record(f"{n:020x}", n % 1000, payload=payload, offset=n))
    # Then the index holds them all as previews, within its 32 MiB
    assert len(index) == 10_000
    assert index.held_bytes <= BUDGET_BYTES


def test_a_preview_does_not_end_inside_a_utf8_character() -> None:
    # Given a text payload whose cut would fall inside a two-byte character
    payload = b"a" + "é".encode() * PREVIEW_BYTES
    index = DeadLetterIndex()
    # When indexed
    index.add_record(record("e", 1, payload=payload))
    entry = index.get("e")
    assert entry is not None
    # Then the preview is still text, one byte short of the limit
    view = entry.view()
    assert (view.payload_base64, len(entry.letter.payload)) == (False, PREVIEW_BYTES - 1)


def test_long_errors_and_many_headers_are_cut_too() -> None:
    # Given a letter with a long error and large headers, When indexed
    letter = DeadLetter(
        id="h", source="kafka", origin="erp.supply", reason="malformed", error="e" * 10_000,
        at=T0, payload=b"{}", headers=tuple((f"h{n}", b"v" * 500) for n in range(40)),
    )  # fmt: skip
    entry = preview_of(letter, 0, 0)
    # Then the entry holds at most a preview of each, and says it is one
    assert len(entry.letter.error) == PREVIEW_BYTES
    assert sum(len(n) + len(v) for n, v in entry.letter.headers) <= PREVIEW_BYTES
    assert entry.view().preview
    assert not entry.view().payload_truncated


def test_a_record_that_is_not_a_dead_letter_is_skipped() -> None:
    # Given a record without dl.* headers, When indexed, Then nothing is added
    index = DeadLetterIndex()
    index.add_record(ConsumerRecord("t", 0, 0, 0, 0, None, b"x", None, 1, 0, []))
    assert len(index) == 0


def test_the_newest_records_up_to_its_capacity_hold_every_letter_the_index_keeps() -> None:
    # Given 3,000 small letters, more than a 1 MiB index can hold
    records = [record(f"l{n}", n, payload=b"", offset=n) for n in range(3_000)]
    whole = DeadLetterIndex(budget_bytes=1024 * 1024)
    for rec in records:
        whole.add_record(rec)
    # When another index of that budget reads only the newest `capacity` records, as a
    # worker does at start
    newest = DeadLetterIndex(budget_bytes=1024 * 1024)
    for rec in records[-newest.capacity :]:
        newest.add_record(rec)
    # Then it keeps the very letters reading them all kept
    assert len(whole) < len(records)
    assert [e.letter.id for e in newest.newest(3_000)] == [e.letter.id for e in whole.newest(3_000)]
