"""The shape every table actor shares: apply a partition's batch, dead-letter what cannot apply."""

import datetime as dt
import logging
import time
from abc import ABC, abstractmethod
from collections import Counter
from collections.abc import Callable
from typing import Generic, NamedTuple, TypeVar

from faust.types import TP, Message

from agents.deadletters import DeadLetters
from agents.runtime import log_context, spans
from agents.runtime.correlated import Correlated, Incoming, correlated, incoming
from agents.runtime.metrics import AgentMetrics
from agents.runtime.rows import TableRows
from protocols.printable import printable
from tables.batch import BatchRunner, Delivery, Failed
from tables.keys import is_seen_key
from tables.seen import day_number, is_expired

log = logging.getLogger(__name__)

R = TypeVar("R")

Observer = Callable[[Message, R, dt.datetime], None]
"""Told of each applied record, its outcome and when its batch was written (flow timing)."""


class Sender(NamedTuple):
    """What a record said of its flow, and when the batch that applied it began."""

    incoming: Incoming
    started_ns: int


class TableActor(ABC, Generic[R]):
    """Applies batches to one table; never lets an event vanish or stop the partition."""

    table_name: str

    def __init__(
        self,
        rows: TableRows,
        dead_letters: DeadLetters,
        metrics: AgentMetrics,
        dedupe_days: int,
        clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
        observe: Observer[R] | None = None,
    ) -> None:
        self.rows = rows
        self.dead_letters = dead_letters
        self.applied = metrics.events_applied
        self.dedupe_days = dedupe_days
        self.clock = clock
        self.observe = observe

    async def handle(self, tp: TP, records: list[Message]) -> None:
        """Apply one partition's records, write each key once, then send what followed."""
        rows = self.rows.partition(tp.partition)
        started_ns = time.time_ns()
        now = self.clock()
        deliveries = [Delivery(r.offset, r.key or b"", r.value or b"") for r in records]
        outcomes = self.runner(now).run(rows, deliveries)
        today = day_number(now)
        rows.sweep(
            lambda key, row: is_seen_key(key) and is_expired(row, today, self.dedupe_days),
            now.timestamp(),
        )
        rows.flush()
        written = self.clock()
        counts: Counter[str] = Counter()
        outside = log_context.correlation_id.set("")
        try:
            for record, outcome in zip(records, outcomes, strict=True):
                said = incoming(record.headers)
                log_context.correlation_id.set(said.correlation_id or "")  # for its log lines
                counts[await self._settle(record, outcome, Sender(said, started_ns), written)] += 1
        finally:
            log_context.correlation_id.reset(outside)
        for outcome_name, count in counts.items():
            self.applied.labels(self.table_name, outcome_name).inc(count)

    async def _settle(
        self, record: Message, outcome: R | Failed, sender: "Sender", written: dt.datetime
    ) -> str:
        """Publish what one record caused, or dead-letter it; the name its count goes under."""
        if isinstance(outcome, Failed):
            await self._dead_letter(record, outcome)
            return "dead_letter"
        named = self.publish(outcome, sender)
        if self.observe is not None:
            self.observe(record, outcome, written)
        return named

    @abstractmethod
    def runner(self, now: dt.datetime) -> BatchRunner[R]:
        """How a batch of this table's input is applied at `now`."""

    @abstractmethod
    def publish(self, outcome: R, sender: "Sender") -> str:
        """Buffer what one applied message caused; return "applied" or "duplicate"."""

    def flow(self, correlation_id: str, sender: "Sender") -> Correlated:
        """The flow one applied message's outputs carry (a span of it, if spans are on)."""
        if not spans.enabled():
            return correlated(correlation_id)
        span = spans.start_span(
            f"{self.table_name} apply",
            correlation_id,
            sender.incoming.parent,
            kind="consumer",
            start_ns=sender.started_ns,
        )
        span.end()
        return correlated(correlation_id, spans.span_id_of(span))

    async def _dead_letter(self, record: Message, failed: Failed) -> None:
        if failed.reason == "unexpected_error":
            log.error("unexpected error applying %s: %s", record.tp, printable(failed.error))
        await self.dead_letters.publish_record(record, failed.reason, failed.error)
