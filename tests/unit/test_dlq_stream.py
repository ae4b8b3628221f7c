"""`dlq replay --all` reads the whole dead-letter topic: oldest first, each letter once, up to
the end it had when the run began."""

import datetime as dt
from typing import Any

from aiokafka import ConsumerRecord, TopicPartition

from app.dlq_select import Listing
from app.dlq_stream import CHUNK_RECORDS, FoundLetter, LetterStream, _Partition
from protocols.deadletters import DeadLetter

T0 = dt.datetime(2026, 11, 27, 9, 0, tzinfo=dt.UTC)
TOPIC = "distgate.dead-letters"


def record(
    partition: int, offset: int, letter_id: str, minute: int, reason: str = "malformed"
) -> ConsumerRecord:
    letter = DeadLetter(
        id=letter_id, source="kafka", origin="distgate.stock-inbox", reason=reason,
        error="bad", at=T0 + dt.timedelta(minutes=minute), payload=b"{", key=b"SKU-1",
    )  # fmt: skip
    return ConsumerRecord(
        TOPIC, partition, offset, 0, 0, b"SKU-1", b"{", None, 5, 1, letter.to_headers()
    )  # fmt: skip


class Records:
    """One partition's records, handed out in offset order as `_Partition` does."""

    def __init__(self, *records: ConsumerRecord) -> None:
        self.records = list(records)

    async def next_record(self) -> ConsumerRecord | None:
        return self.records.pop(0) if self.records else None


async def merged(listing: Listing, *partitions: Records) -> tuple[list[FoundLetter], Any]:
    stream = LetterStream(None, TOPIC, len(partitions), listing.selects)  # type: ignore[arg-type]
    found = [each async for each in stream._merged(list(partitions))]  # type: ignore[arg-type]
    return found, stream


async def test_letters_come_oldest_first_across_partitions_and_each_id_once() -> None:
    # Given two partitions, in each the letters in the order they failed, and letter "b"
    # dead-lettered again later (the same message failing again keeps its id)
    first = Records(record(0, 0, "a", 1), record(0, 1, "c", 5), record(0, 2, "b", 7))
    second = Records(record(1, 0, "b", 2), record(1, 1, "d", 6))
    # When the topic is streamed
    found, stream = await merged(Listing(reason="malformed"), first, second)
    # Then the letters come in the order they failed, "b" once (where it first failed)
    assert [(f.letter.id, str(f.ref)) for f in found] == [
        ("a", "a@0:0"),
        ("b", "b@1:0"),
        ("c", "c@0:1"),
        ("d", "d@1:1"),
    ]
    assert stream.read == 5


async def test_only_the_letters_asked_for_are_handed_out_and_non_letters_counted() -> None:
    # Given letters of two reasons and a record that is no dead letter
    stray = ConsumerRecord(TOPIC, 0, 1, 0, 0, None, b"?", None, 0, 1, [])
    partition = Records(record(0, 0, "a", 1), stray, record(0, 2, "b", 2, reason="late"))
    # When only "malformed" letters since minute 0 are asked for
    found, stream = await merged(Listing(reason="malformed", since=T0), partition)
    # Then only "a" comes, and the stray record is counted as skipped
    assert [f.letter.id for f in found] == ["a"]
    assert (stream.read, stream.skipped) == (3, 1)


class Consumer:
    """Kafka as `_Partition` sees it: a partition that grows while it is read."""

    def __init__(self, records: list[ConsumerRecord]) -> None:
        self.records = records
        self.at = 0

    async def position(self, _tp: TopicPartition) -> int:
        return self.at

    async def getmany(
        self, tp: TopicPartition, timeout_ms: int, max_records: int
    ) -> dict[TopicPartition, list[ConsumerRecord]]:
        taken = self.records[self.at : self.at + max_records]
        self.at += len(taken)
        return {tp: taken}


async def test_a_partition_is_read_in_chunks_up_to_its_end_at_the_start() -> None:
    # Given a partition of 450 records when the run began, 50 more added while it runs
    records = [record(0, n, f"l{n}", n) for n in range(500)]
    consumer = Consumer(records)
    partition = _Partition(consumer, TopicPartition(TOPIC, 0), end=450)  # type: ignore[arg-type]
    # When it is read to its end
    offsets = []
    while (taken := await partition.next_record()) is not None:
        offsets.append(taken.offset)
        assert len(partition.chunk) < CHUNK_RECORDS  # never more than a chunk in hand
    # Then every record up to the end came once, in order, and none added after it
    assert offsets == list(range(450))
