"""Every worker's index of `<app_id>.dead-letters`, for the admin API and `distgate dlq`.

Memory is bounded by bytes, not by count: letters come from outside and one may be a
megabyte. The index keeps the newest letters (by arrival) within a byte budget, one per
dead-letter id (a message dead-lettered again replaces its older record), each cut to a
preview; a replay or a look at one letter reads its whole record back from Kafka.
"""

import datetime as dt
import heapq
import logging
from collections import OrderedDict
from dataclasses import dataclass

from aiokafka import ConsumerRecord
from msgspec.structs import replace

from app.broker_access import KafkaAccess
from app.read.topic_reader import TopicReader, from_newest
from protocols.deadletters import DeadLetter, DeadLetterView, Header
from protocols.errors import InvalidDeadLetter
from protocols.printable import printable

log = logging.getLogger(__name__)

BUDGET_BYTES = 32 * 1024 * 1024
PREVIEW_BYTES = 2 * 1024  # of the payload, of the error text, and of the headers together
ENTRY_OVERHEAD = 800  # bytes of the Python objects around an entry (tracemalloc: about 740)


@dataclass(frozen=True)
class IndexedLetter:
    """A dead letter cut to a preview, where its full record is, and what was cut."""

    letter: DeadLetter
    partition: int
    offset: int
    payload_size: int
    cut: bool = False  # the error or the headers were cut too

    def view(self) -> DeadLetterView:
        """The admin JSON view, saying whether what is shown is only a preview."""
        payload_cut = self.payload_size > len(self.letter.payload)
        return replace(
            self.letter.view(), payload_truncated=payload_cut, preview=payload_cut or self.cut
        )

    @property
    def cost(self) -> int:
        """Roughly the bytes this entry holds in memory."""
        letter = self.letter
        headers = sum(len(name) + len(value) for name, value in letter.headers)
        texts = len(letter.id) + len(letter.origin) + len(letter.reason) + len(letter.error)
        return ENTRY_OVERHEAD + len(letter.payload) + len(letter.key or b"") + headers + texts


def preview_of(letter: DeadLetter, partition: int, offset: int) -> IndexedLetter:
    """The index entry of a letter: payload, error and headers cut to about PREVIEW_BYTES each."""
    headers = _first_headers(letter.headers)
    small = replace(
        letter,
        payload=_utf8_prefix(letter.payload, PREVIEW_BYTES),
        error=letter.error[:PREVIEW_BYTES],
        key=None if letter.key is None else letter.key[:PREVIEW_BYTES],
        origin=letter.origin[:PREVIEW_BYTES],
        reason=letter.reason[:PREVIEW_BYTES],
        headers=headers,
    )
    cut = (small.error, small.key, small.origin, small.reason, headers) != (
        letter.error,
        letter.key,
        letter.origin,
        letter.reason,
        letter.headers,
    )
    return IndexedLetter(small, partition, offset, len(letter.payload), cut)


def _first_headers(headers: tuple[Header, ...]) -> tuple[Header, ...]:
    """The leading headers that fit in PREVIEW_BYTES together."""
    kept: list[Header] = []
    size = 0
    for name, value in headers:
        size += len(name) + len(value)
        if size > PREVIEW_BYTES:
            break
        kept.append((name, value))
    return tuple(kept)


def _utf8_prefix(data: bytes, limit: int) -> bytes:
    """At most `limit` bytes of `data`, not ending inside a UTF-8 character if it is text."""
    cut = data[:limit]
    for back in range(4):
        try:
            (cut[: len(cut) - back]).decode()
        except UnicodeDecodeError:
            continue
        return cut[: len(cut) - back]
    return cut  # not text: shown as base64 anyway


class DeadLetterIndex:
    """The newest dead letters by id, holding at most `budget_bytes` between them."""

    def __init__(self, budget_bytes: int = BUDGET_BYTES) -> None:
        self.budget_bytes = budget_bytes
        self._letters: OrderedDict[str, IndexedLetter] = OrderedDict()
        self._bytes = 0

    @property
    def capacity(self) -> int:
        """The most letters the budget could hold: each costs at least ENTRY_OVERHEAD."""
        return max(1, self.budget_bytes // ENTRY_OVERHEAD)

    def add_record(self, record: ConsumerRecord) -> None:
        """Index one record of the dead-letter topic; skip (and log) one that is not a letter."""
        try:
            letter = DeadLetter.from_headers(record.headers, record.value or b"", record.key)
        except InvalidDeadLetter as exc:
            log.warning(
                "skipping dead-letter record %s:%s: %s",
                record.partition,
                record.offset,
                printable(str(exc)[:PREVIEW_BYTES]),
            )
            return
        self.add(preview_of(letter, record.partition, record.offset))

    def add(self, entry: IndexedLetter) -> None:
        """Remember `entry`, replacing an older one of the same id; forget the oldest if over."""
        self._forget(entry.letter.id)
        self._letters[entry.letter.id] = entry
        self._bytes += entry.cost
        while self._bytes > self.budget_bytes and len(self._letters) > 1:
            self._forget(next(iter(self._letters)))

    def _forget(self, letter_id: str) -> None:
        gone = self._letters.pop(letter_id, None)
        if gone is not None:
            self._bytes -= gone.cost

    def get(self, letter_id: str) -> IndexedLetter | None:
        """The entry of that id, or None."""
        return self._letters.get(letter_id)

    def newest(
        self,
        limit: int,
        source: str | None = None,
        reason: str | None = None,
        since: dt.datetime | None = None,
    ) -> list[IndexedLetter]:
        """Up to `limit` entries, newest first by the time they were dead-lettered.

        `source` and `reason` keep only the letters that have them; `since`, those
        dead-lettered at that time or later.
        """
        letters = (
            entry
            for entry in self._letters.values()
            if (source is None or entry.letter.source == source)
            and (reason is None or entry.letter.reason == reason)
            and (since is None or entry.letter.at >= since)
        )
        return heapq.nlargest(limit, letters, key=lambda e: e.letter.at)

    @property
    def held_bytes(self) -> int:
        """Roughly the bytes the index holds now (at most the budget, or one entry)."""
        return self._bytes

    def __len__(self) -> int:
        return len(self._letters)


class DeadLetterMirror(TopicReader):
    """Reads the dead-letter topic's newest records into an index, and all that come after.

    The index keeps the newest letters within `budget_bytes`, so at start only as many of
    the newest records as it could hold are read, not the whole topic: letters are kept
    until deleted, and reading years of them delayed every start. `distgate dlq replay
    --all` reads the topic itself (`app.dlq_stream`) and sees every letter.
    """

    def __init__(
        self, kafka: KafkaAccess, topic: str, partitions: int, budget_bytes: int = BUDGET_BYTES
    ) -> None:
        index = DeadLetterIndex(budget_bytes)
        place = from_newest(topic, partitions, index.capacity)
        super().__init__(kafka, place, index.add_record, offset_reset="earliest")
        self.index = index
