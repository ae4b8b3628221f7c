"""Caps on requests that wait (long polls, read-your-writes syncs): refuse, never queue.

Each waiting request holds a connection, a task and a watcher; the caps keep what a
careless or hostile caller can pile up on one worker bounded.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from app.errors import Overloaded
from app.settings import Settings


class Gate:
    """Lets at most `limit` requests through at once; the next one gets 503 at once."""

    def __init__(self, what: str, limit: int) -> None:
        self.what = what
        self.limit = limit
        self.held = 0

    def count(self) -> float:
        """How many hold a place now (the gauge `distgate_http_waiting` reads it)."""
        return self.held

    @contextmanager
    def enter(self) -> Iterator[None]:
        """Hold a place for the block, or raise Overloaded (503, Retry-After)."""
        if self.held >= self.limit:
            raise Overloaded(f"this worker already holds {self.limit} {self.what}; retry shortly")
        self.held += 1
        try:
            yield
        finally:
            self.held -= 1


@dataclass(frozen=True)
class ApiLimits:
    """What bounds one API process's cost: waiting requests and slow bodies."""

    long_polls: Gate
    syncs: Gate
    body_timeout_s: float

    @classmethod
    def of(cls, settings: Settings) -> "ApiLimits":
        """The limits the settings name, with fresh gates."""
        return cls(
            Gate("long polls", settings.max_long_polls),
            Gate("read-your-writes syncs", settings.max_syncs),
            settings.http_body_timeout_s,
        )
