"""The order actor: applies everything that changes an order, and sends what follows from it."""

import datetime as dt

import faust
import msgspec

from agents.actor import Observer, Sender, TableActor
from agents.deadletters import DeadLetters
from agents.runtime.batch_agent import register_batch_agent
from agents.runtime.cloud_events import CloudEvents
from agents.runtime.correlated import Correlated
from agents.runtime.metrics import AgentMetrics
from agents.runtime.output import Output
from agents.runtime.rows import TableRows
from protocols.topics import Topics, TopicSpec
from tables.batch import BatchRunner
from tables.order.apply import OrderApplied
from tables.order.batch import order_batches

_encoder = msgspec.json.Encoder()


class OrderOutputs:
    """The topics an order change fans out to."""

    def __init__(self, app: faust.App, topics: Topics) -> None:
        self.events = Output(app, topics.orders_events)
        self.crm = Output(app, topics.crm_order_status)
        self.stock = Output(app, topics.stock_inbox)
        self.wms = Output(app, topics.wms_commands)
        self.cloud_events = CloudEvents(app.conf.id, "orders")

    def add(self, applied: OrderApplied, flow: Correlated) -> None:
        """Publish the canonical events, the CRM view, and the commands, in that order.

        Every record carries the order's flow; the external ones also CloudEvents headers.
        """
        ce = self.cloud_events
        for event in applied.events:
            key, value = event.order_id.encode(), _encoder.encode(event)
            self.events.add(key=key, value=value, headers=ce.headers(flow, event))
        for change in applied.status_changes:
            key, value = change.customer_id.encode(), _encoder.encode(change)
            self.crm.add(key=key, value=value, headers=ce.headers(flow, change))
        for command in applied.stock_commands:
            key, value = command.sku.encode(), _encoder.encode(command)
            self.stock.add(key=key, value=value, headers=flow.headers)
        for wms in applied.wms_commands:
            key, value = wms.order_id.encode(), _encoder.encode(wms)
            self.wms.add(key=key, value=value, headers=flow.headers)


class OrderActor(TableActor[OrderApplied]):
    """Applies a batch of the order inbox; publishes what follows from each change."""

    table_name = "orders"

    def __init__(
        self,
        rows: TableRows,
        outputs: OrderOutputs,
        dead_letters: DeadLetters,
        metrics: AgentMetrics,
        dedupe_days: int,
        auto_confirm: bool,
        observe: Observer[OrderApplied] | None = None,
    ) -> None:
        super().__init__(rows, dead_letters, metrics, dedupe_days, observe=observe)
        self.outputs = outputs
        self.auto_confirm = auto_confirm

    def runner(self, now: dt.datetime) -> BatchRunner[OrderApplied]:
        """The order table's batch session at `now`."""
        return order_batches(now, self.auto_confirm)

    def publish(self, outcome: OrderApplied, sender: Sender) -> str:
        """Publish one message's effects; a repeat re-sends what its first delivery sent.

        A crash may have lost those sends; every one of them is idempotent downstream.
        They carry the order's correlation id, whatever the message carried.
        """
        self.outputs.add(outcome, self.flow(outcome.order.correlation_id, sender))
        return "duplicate" if outcome.duplicate else "applied"


def register_order_agent(app: faust.App, inbox: TopicSpec, actor: OrderActor) -> None:
    """Subscribe the actor to the order inbox, one partition's fetch at a time."""
    register_batch_agent(app, inbox, actor.handle)
