"""The shape every table actor shares: apply one event, dead-letter what cannot be applied."""

import logging
from abc import ABC, abstractmethod

import msgspec
from faust.types import EventT, TableT

from agents.deadletters import DeadLetters
from agents.runtime.metrics import AgentMetrics
from tables.errors import DomainError

log = logging.getLogger(__name__)


class TableActor(ABC):
    """Applies events to one table; never lets an event vanish or stop the partition."""

    table_name: str

    def __init__(self, dead_letters: DeadLetters, metrics: AgentMetrics) -> None:
        self.dead_letters = dead_letters
        self.applied = metrics.events_applied

    async def handle(self, event: EventT[bytes]) -> None:
        """Apply one event; whatever cannot be applied is dead-lettered with its reason."""
        try:
            outcome = await self.apply(event)
        except msgspec.DecodeError as exc:
            await self._dead_letter(event, "malformed", str(exc))
        except DomainError as exc:
            await self._dead_letter(event, exc.reason, str(exc))
        except Exception as exc:
            # Faust acks an event whose handler raised: dead-letter it so it can be replayed.
            log.exception("unexpected error applying %s", event.message.tp)
            await self._dead_letter(event, "unexpected_error", repr(exc))
        else:
            self.applied.labels(self.table_name, outcome).inc()

    @abstractmethod
    async def apply(self, event: EventT[bytes]) -> str:
        """Apply the event; return the outcome label ("applied" or "duplicate")."""

    async def _dead_letter(self, event: EventT[bytes], reason: str, error: str) -> None:
        await self.dead_letters.publish_event(event, reason, error)
        self.applied.labels(self.table_name, "dead_letter").inc()


def write_again(table: TableT[bytes, bytes], key: bytes, current: bytes | None) -> None:
    """A duplicate's value, written again: after a kill -9 the local store can hold a write
    whose changelog send was lost, and this brings the changelog, and every replica, up to it.
    """
    if current is not None:
        table[key] = current
