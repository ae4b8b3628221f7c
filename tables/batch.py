"""Applying a batch of one partition's inputs: each key's events in order, each key written once.

A table actor receives whatever its partition has fetched. The events are grouped by
key; each key's state is read once, every event of that key is applied to it in input
order, and the rows it changed are written once at the end. Outcomes come back in input
order. One event's failure (malformed, refused by a rule, or a bug) is that event's
outcome only: the key's state is as if it had never arrived.

Pure: `Rows` is whatever holds the rows (the agents' RocksDB partition with its
changelog; a dict in tests), read and written by key.
"""

import bisect
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Generic, NamedTuple, Protocol, TypeVar

import msgspec

from tables.errors import DomainError

R = TypeVar("R")
R_co = TypeVar("R_co", covariant=True)


class Rows(Protocol):
    """A table partition's rows, by key; a write of None deletes."""

    def get(self, key: bytes) -> bytes | None:
        """The row's current bytes, or None."""

    def put(self, key: bytes, value: bytes | None) -> None:
        """Write (or, with None, delete) the row."""

    def with_prefix(self, prefix: bytes) -> list[tuple[bytes, bytes]]:
        """Every current row whose key starts with `prefix`, in key order."""

    def iter_prefix(self, prefix: bytes) -> Iterator[tuple[bytes, bytes]]:
        """The same rows, read only as far as the caller goes (nothing is written meanwhile)."""


class MemoryRows(dict[bytes, bytes]):
    """A table partition in memory, as `Rows`: for tests and benches of the pure rules.

    Its keys are also kept in order, so a prefix is read from its first key on, as RocksDB
    reads it, not by sorting every row. Write it by `put`, item assignment or `del`.
    """

    def __init__(self, rows: Mapping[bytes, bytes] | None = None) -> None:
        super().__init__(rows or {})
        self._order = sorted(self)

    def __setitem__(self, key: bytes, value: bytes) -> None:
        if key not in self:
            bisect.insort(self._order, key)
        super().__setitem__(key, value)

    def __delitem__(self, key: bytes) -> None:
        super().__delitem__(key)
        del self._order[bisect.bisect_left(self._order, key)]

    def put(self, key: bytes, value: bytes | None) -> None:
        """Write (or, with None, delete) the row."""
        if value is not None:
            self[key] = value
        elif key in self:
            del self[key]

    def with_prefix(self, prefix: bytes) -> list[tuple[bytes, bytes]]:
        """Every row whose key starts with `prefix`, in key order."""
        return list(self.iter_prefix(prefix))

    def iter_prefix(self, prefix: bytes) -> Iterator[tuple[bytes, bytes]]:
        """Every row whose key starts with `prefix`, in key order, read as the caller goes."""
        index = bisect.bisect_left(self._order, prefix)
        while index < len(self._order) and (key := self._order[index]).startswith(prefix):
            yield key, self[key]
            index += 1


def overlaid(
    stored: Iterable[tuple[bytes, bytes]], pending: Mapping[bytes, bytes | None]
) -> Iterator[tuple[bytes, bytes]]:
    """`stored` rows (in key order) as the `pending` writes change them, deletes left out."""
    writes = iter(sorted(pending.items()))
    write = next(writes, None)
    for key, value in stored:
        while write is not None and write[0] <= key:
            written, new = write
            if new is not None:
                yield written, new
            write = next(writes, None)
            if written == key:
                break
        else:
            yield key, value
    while write is not None:
        if write[1] is not None:
            yield write[0], write[1]
        write = next(writes, None)


class Delivery(NamedTuple):
    """One input record: where it sits in its partition, its key and its bytes."""

    offset: int | None  # None: a replay from outside the input topic
    key: bytes
    value: bytes


@dataclass(frozen=True, slots=True)
class Failed:
    """An input that could not be applied: it goes to the dead letters with its reason."""

    reason: str
    error: str


class Session(Protocol[R_co]):
    """One key's state during a batch."""

    def apply(self, delivery: Delivery) -> R_co:
        """Apply one delivery to the state in memory; raise to refuse it, changing nothing."""

    def write(self) -> None:
        """Write every row the applied deliveries changed."""


@dataclass(frozen=True, slots=True)
class BatchRunner(Generic[R]):
    """Runs batches through sessions opened by `open_session(rows, key)`."""

    open_session: Callable[[Rows, bytes], Session[R]]

    def run(self, rows: Rows, deliveries: Sequence[Delivery]) -> list[R | Failed]:
        """Apply `deliveries` key by key; the outcome of each, in input order."""
        outcomes: list[R | Failed] = [Failed("unexpected_error", "not applied")] * len(deliveries)
        for key, indexes in _by_key(deliveries).items():
            session = self.open_session(rows, key)
            for index in indexes:
                outcomes[index] = _attempt(session, deliveries[index])
            session.write()
        return outcomes


def _by_key(deliveries: Sequence[Delivery]) -> dict[bytes, list[int]]:
    """Input positions grouped by key, in order of first appearance and input order."""
    groups: dict[bytes, list[int]] = {}
    for index, delivery in enumerate(deliveries):
        groups.setdefault(delivery.key, []).append(index)
    return groups


def _attempt(session: Session[R], delivery: Delivery) -> R | Failed:
    """Apply one delivery; whatever stops it becomes its failure, never the batch's."""
    try:
        return session.apply(delivery)
    except (msgspec.DecodeError, UnicodeDecodeError) as exc:
        return Failed("malformed", str(exc))
    except DomainError as exc:
        return Failed(exc.reason, str(exc))
    except Exception as exc:  # a bug must not lose the event: it is dead-lettered for replay
        return Failed("unexpected_error", repr(exc))
