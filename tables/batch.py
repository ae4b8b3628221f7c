"""Applying a batch of one partition's inputs: each key's events in order, each key written once.

A table actor receives whatever its partition has fetched. The events are grouped by
key; each key's state is read once, every event of that key is applied to it in input
order, and the rows it changed are written once at the end. Outcomes come back in input
order. One event's failure (malformed, refused by a rule, or a bug) is that event's
outcome only: the key's state is as if it had never arrived.

Pure: `Rows` is whatever holds the rows (the agents' RocksDB partition with its
changelog; a dict in tests), read and written by key.
"""

from collections.abc import Callable, Sequence
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


class MemoryRows(dict[bytes, bytes]):
    """A table partition in memory, as `Rows`: for tests and benches of the pure rules."""

    def put(self, key: bytes, value: bytes | None) -> None:
        """Write (or, with None, delete) the row."""
        if value is None:
            self.pop(key, None)
        else:
            self[key] = value

    def with_prefix(self, prefix: bytes) -> list[tuple[bytes, bytes]]:
        """Every row whose key starts with `prefix`, in key order."""
        return sorted((key, value) for key, value in self.items() if key.startswith(prefix))


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
