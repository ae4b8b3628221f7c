"""The stock actor: applies every stock message for a SKU to its rows, exactly once, in batches."""

import datetime as dt

import faust
import msgspec

from agents.actor import Observer, TableActor
from agents.deadletters import DeadLetters
from agents.runtime.batch_agent import register_batch_agent
from agents.runtime.metrics import AgentMetrics
from agents.runtime.output import Output
from agents.runtime.rows import TableRows
from protocols.topics import Topics, TopicSpec
from tables.batch import BatchRunner
from tables.stock import Applied
from tables.stock_batch import stock_batches

_encoder = msgspec.json.Encoder()


class StockOutputs:
    """The topics a stock change fans out to."""

    def __init__(self, app: faust.App, topics: Topics) -> None:
        self.changes = Output(app, topics.inventory_events)
        self.answers = Output(app, topics.order_inbox)

    def add(self, applied: Applied) -> None:
        """StockChanged for ERP and CRM; reservation answers back to each order."""
        for change in applied.changes:
            self.changes.add(key=change.sku.encode(), value=_encoder.encode(change))
        for answer in applied.answers:
            self.answers.add(key=answer.order_id.encode(), value=_encoder.encode(answer))


class StockActor(TableActor[Applied]):
    """Applies a batch of the stock inbox; publishes StockChanged and reservation answers."""

    table_name = "stock"

    def __init__(
        self,
        rows: TableRows,
        outputs: StockOutputs,
        dead_letters: DeadLetters,
        metrics: AgentMetrics,
        dedupe_days: int,
        observe: Observer[Applied] | None = None,
    ) -> None:
        super().__init__(rows, dead_letters, metrics, dedupe_days, observe=observe)
        self.outputs = outputs

    def runner(self, now: dt.datetime) -> BatchRunner[Applied]:
        """The stock table's batch session at `now`."""
        return stock_batches(now)

    def publish(self, outcome: Applied) -> str:
        """Publish one message's effects; a repeated ReserveLine repeats its answer.

        The first answer may have been lost in the crash that caused the repeat; the order
        side ignores answers it has.
        """
        self.outputs.add(outcome)
        return "duplicate" if outcome.duplicate else "applied"


def register_stock_agent(app: faust.App, inbox: TopicSpec, actor: StockActor) -> None:
    """Subscribe the actor to the stock inbox, one partition's fetch at a time."""
    register_batch_agent(app, inbox, actor.handle)
