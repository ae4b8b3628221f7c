"""The stock actor: applies every stock message for a SKU to its rows, exactly once, in batches."""

import datetime as dt

import faust
import msgspec

from agents.actor import Observer, Sender, TableActor
from agents.deadletters import DeadLetters
from agents.runtime.batch_agent import register_batch_agent
from agents.runtime.cloud_events import CloudEvents
from agents.runtime.correlated import Correlated
from agents.runtime.correlated import correlated as flow_of
from agents.runtime.metrics import AgentMetrics
from agents.runtime.output import Output
from agents.runtime.rows import TableRows
from protocols.topics import Topics, TopicSpec
from tables.batch import BatchRunner
from tables.stock.apply import Applied
from tables.stock.batch import stock_batches

_encoder = msgspec.json.Encoder()


class StockOutputs:
    """The topics a stock change fans out to."""

    def __init__(self, app: faust.App, topics: Topics) -> None:
        self.changes = Output(app, topics.inventory_events)
        self.answers = Output(app, topics.order_inbox)
        self.cloud_events = CloudEvents(app.conf.id, "stock")

    def add(self, applied: Applied, flow: Correlated) -> None:
        """StockChanged for ERP and CRM; reservation answers back to each order.

        An answer to another flow's order (a receipt filling backorders, a count taking
        reservations back) carries that order's correlation id, sent by this same span.
        """
        for change in applied.changes:
            key, value = change.sku.encode(), _encoder.encode(change)
            self.changes.add(key=key, value=value, headers=self.cloud_events.headers(flow, change))
        for answer in applied.answers:
            key, value = answer.order_id.encode(), _encoder.encode(answer)
            theirs = answer.correlation_id
            same = not theirs or theirs == flow.correlation_id
            headers = flow.headers if same else flow_of(theirs, flow.span_id).headers
            self.answers.add(key=key, value=value, headers=headers)


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
        zone: dt.tzinfo = dt.UTC,
    ) -> None:
        super().__init__(rows, dead_letters, metrics, dedupe_days, observe=observe)
        self.outputs = outputs
        self.zone = zone  # the business day's (DISTGATE_TIMEZONE): "today" for promise dates

    def runner(self, now: dt.datetime) -> BatchRunner[Applied]:
        """The stock table's batch session at `now`."""
        return stock_batches(now, self.zone)

    def publish(self, outcome: Applied, sender: Sender) -> str:
        """Publish one message's effects; a repeated ReserveLine repeats its answer.

        The first answer may have been lost in the crash that caused the repeat; the order
        side ignores answers it has. The outputs carry the message's correlation id.
        """
        if outcome.changes or outcome.answers:
            self.outputs.add(outcome, self.flow(_correlation_id(outcome, sender), sender))
        return "duplicate" if outcome.duplicate else "applied"


def _correlation_id(outcome: Applied, sender: Sender) -> str:
    """The message's correlation id: its header, else its answers', else its first change's id."""
    if sender.incoming.correlation_id:
        return sender.incoming.correlation_id
    for answer in outcome.answers:
        if answer.correlation_id:
            return answer.correlation_id
    return outcome.changes[0].event_id if outcome.changes else ""


def register_stock_agent(app: faust.App, inbox: TopicSpec, actor: StockActor) -> None:
    """Subscribe the actor to the stock inbox, one partition's fetch at a time."""
    register_batch_agent(app, inbox, actor.handle)
