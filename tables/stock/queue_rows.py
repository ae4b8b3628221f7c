"""A SKU's backorder queue as rows: a small head, and one row per waiting line.

The head (`tables.keys.queue_key`) holds the units waiting and what the promise dates
were last computed from; each waiting line is a row of its own (`backorder_key`, whose
keys sort as the queue), found from its order line through `waiting_key`; the queue's
answers to the last messages are a row of their own (`answers_key`), read only to send
them again or to add to them. So a message reads lines only when it joins or leaves the
queue, raises ATP a waiting line may take, or changes what the dates depend on, and then
only as far as it needs (`tables.stock.backorder_queue`). A head stored by the release
before, with every entry and the answers inside, is split into rows on first touch.
"""

from collections.abc import Iterable, Iterator
from typing import Protocol

import msgspec

from protocols.reservations import BackorderFilled, BackorderPromised
from tables.batch import Rows
from tables.keys import answers_key, backorder_key, backorders_prefix, queue_key, waiting_key
from tables.stock.backorder_queue import (
    Backorder,
    Changed,
    PromiseInputs,
    Queue,
    Rank,
    Waiting,
)
from tables.stock.value import LineKey

QueueAnswer = BackorderFilled | BackorderPromised

RECENT_DEPTH = 32
"""How many messages' queue answers are kept, to send them again on a redelivery."""

Recent = tuple[msgspec.Raw, ...]
"""The answers of the last messages that had any, oldest first, each a `Sent` left encoded."""


class Sent(msgspec.Struct, frozen=True, array_like=True):
    """What the queue answered for one applied message."""

    event_id: str
    answers: tuple[QueueAnswer, ...]


class QueueHead(msgspec.Struct, frozen=True):
    """The stored head of a SKU's backorder queue: small, read by every message of a SKU
    with a queue."""

    promised_from: PromiseInputs | None = None  # None: dates never computed from rows
    dated_through: Rank | None = None  # the last entry with a date: no later one has any
    # units waiting by the warehouse their lines asked for (None: any), sorted; in all,
    # the SKU value's `queued`
    waiting_for: tuple[tuple[str | None, int], ...] = ()

    def waiting(self) -> Waiting:
        """Units waiting, by the warehouse their lines asked for."""
        return dict(self.waiting_for)


class StoredQueueHead(QueueHead, frozen=True):
    """A head as the release before stored it too: the whole queue and its answers inside."""

    entries: Queue = ()  # oldest first
    recent: Recent = ()


class QueueChange(msgspec.Struct, frozen=True):
    """What one message did to the queue's rows."""

    head: QueueHead | None  # None: unchanged
    entries: Changed
    answered: Sent | None = None  # its answers, kept among the recent ones


class QueueEntries(Protocol):
    """A SKU's waiting lines, each read when asked for."""

    def entry(self, line: LineKey) -> Backorder | None:
        """The entry of the order line, None when it is not waiting."""

    def entries(self) -> Iterator[Backorder]:
        """The entries, oldest first, read as the caller goes."""


class QueueReader(QueueEntries, Protocol):
    """A SKU's backorder queue: its head and its waiting lines."""

    def head(self) -> QueueHead:
        """The queue's head."""

    def sent_for(self, event_id: str) -> tuple[QueueAnswer, ...]:
        """What the queue answered for `event_id`, if it is among the recent ones."""


class NoQueue:
    """The queue of a SKU nobody ever backordered."""

    def head(self) -> QueueHead:
        """An empty head."""
        return QueueHead()

    def sent_for(self, event_id: str) -> tuple[QueueAnswer, ...]:
        """Nothing answered."""
        return ()

    def entry(self, line: LineKey) -> Backorder | None:
        """Nobody waits."""
        return None

    def entries(self) -> Iterator[Backorder]:
        """No entries."""
        return iter(())


class Overlay:
    """Waiting lines as another reader has them, with the entries changed since in memory."""

    def __init__(self, under: QueueEntries) -> None:
        self._under = under
        self.changed: dict[LineKey, Backorder | None] = {}

    def entry(self, line: LineKey) -> Backorder | None:
        """The line's entry as changed here, else as underneath."""
        return self.changed[line] if line in self.changed else self._under.entry(line)

    def entries(self) -> Iterator[Backorder]:
        """Both merged by rank: the entries changed here replace (or drop) those underneath."""
        if not self.changed:
            return self._under.entries()
        return self._merged()

    def _merged(self) -> Iterator[Backorder]:
        mine = sorted((e for e in self.changed.values() if e is not None), key=_rank)
        at = 0
        for entry in self._under.entries():
            if entry.key in self.changed:
                continue
            while at < len(mine) and mine[at].rank < entry.rank:
                yield mine[at]
                at += 1
            yield entry
        yield from mine[at:]

    def update(self, changed: Iterable[tuple[LineKey, Backorder | None]]) -> None:
        """Take entries as a rule left them."""
        self.changed.update(changed)


class QueueRows:
    """A SKU's queue rows during a batch: each read on first use, each changed one written once."""

    def __init__(self, rows: Rows, sku: str) -> None:
        self._sku = sku
        self._stored = _StoredEntries(rows, sku)
        self._rows = rows
        self._pending = Overlay(self._stored)
        self._head: QueueHead | None = None
        self._head_changed = False
        self._recent: Recent | None = None
        self._recent_changed = False

    def head(self) -> QueueHead:
        """The head, read on first use; a head of the release before gives its rows up."""
        if self._head is None:
            raw = self._rows.get(queue_key(self._sku))
            stored = StoredQueueHead() if raw is None else _head_decoder.decode(raw)
            self._head = QueueHead(stored.promised_from, stored.dated_through, stored.waiting_for)
            if stored.entries or stored.recent:
                self._head = self._upgraded(stored)
        return self._head

    def sent_for(self, event_id: str) -> tuple[QueueAnswer, ...]:
        """What the queue answered for `event_id`, if it is among the recent ones."""
        sent = (_sent_decoder.decode(raw) for raw in self._recent_answers())
        return next((each.answers for each in sent if each.event_id == event_id), ())

    def entry(self, line: LineKey) -> Backorder | None:
        """The line's entry, as this batch left it."""
        self.head()
        return self._pending.entry(line)

    def entries(self) -> Iterator[Backorder]:
        """The entries as this batch left them, oldest first, read as the caller goes."""
        self.head()
        return self._pending.entries()

    def record(self, change: QueueChange) -> None:
        """Take what one applied message did."""
        if change.head is not None:
            self._head, self._head_changed = change.head, True
        self._pending.update(change.entries)
        if change.answered is not None:
            answered = msgspec.Raw(_encoder.encode(change.answered))
            self._recent = (*self._recent_answers(), answered)[-RECENT_DEPTH:]
            self._recent_changed = True

    def write(self) -> None:
        """The head if it changed; each changed line's row and where it waits."""
        if self._head is not None and self._head_changed:
            self._rows.put(queue_key(self._sku), _encoder.encode(self._head))
        if self._recent is not None and self._recent_changed:
            self._rows.put(answers_key(self._sku), _encoder.encode(self._recent))
        for line, entry in self._pending.changed.items():
            where = waiting_key(self._sku, line)
            old = self._rows.get(where)
            new = None if entry is None else backorder_key(self._sku, entry.submitted_at, line)
            if old is not None and old != new:
                self._rows.put(old, None)
            if entry is not None and new is not None:
                self._rows.put(new, _encoder.encode(entry))
            if old != new:
                self._rows.put(where, new)

    def _recent_answers(self) -> Recent:
        """The recent answers, read on first use."""
        self.head()
        if self._recent is None:
            raw = self._rows.get(answers_key(self._sku))
            self._recent = () if raw is None else _recent_decoder.decode(raw)
        return self._recent

    def _upgraded(self, stored: StoredQueueHead) -> QueueHead:
        """A whole queue of the release before: its entries and answers become rows of their
        own, its head is rewritten."""
        self._pending.update((entry.key, entry) for entry in stored.entries)
        self._recent, self._recent_changed = stored.recent, True
        self._head_changed = True
        dated = [entry.rank for entry in stored.entries if entry.promise_date is not None]
        waiting: Waiting = {}
        for entry in stored.entries:
            waiting[entry.warehouse] = waiting.get(entry.warehouse, 0) + entry.qty
        last_dated = dated[-1] if dated else None
        return QueueHead(dated_through=last_dated, waiting_for=waiting_for(waiting))


class _StoredEntries:
    """The entries as the rows hold them."""

    def __init__(self, rows: Rows, sku: str) -> None:
        self._rows = rows
        self._sku = sku

    def entry(self, line: LineKey) -> Backorder | None:
        """The line's row, through the row naming where it waits."""
        where = self._rows.get(waiting_key(self._sku, line))
        raw = None if where is None else self._rows.get(where)
        return None if raw is None else _entry_decoder.decode(raw)

    def entries(self) -> Iterator[Backorder]:
        """Every line's row, in key order: oldest first."""
        for _, raw in self._rows.iter_prefix(backorders_prefix(self._sku)):
            yield _entry_decoder.decode(raw)


def waiting_for(waiting: Waiting) -> tuple[tuple[str | None, int], ...]:
    """Units waiting as the head stores them: sorted (any warehouse first), none left out."""
    return tuple(sorted(((w, n) for w, n in waiting.items() if n), key=lambda e: e[0] or ""))


def stored_queue(rows: Rows, sku: str) -> Queue:
    """A SKU's whole backorder queue as stored, oldest first (a head of the release before too)."""
    return tuple(QueueRows(rows, sku).entries())


def _rank(entry: Backorder) -> Rank:
    return entry.rank


_encoder = msgspec.msgpack.Encoder()
_sent_decoder = msgspec.msgpack.Decoder(Sent)
_recent_decoder = msgspec.msgpack.Decoder(Recent)
_head_decoder = msgspec.msgpack.Decoder(StoredQueueHead)
_entry_decoder = msgspec.msgpack.Decoder(Backorder)
