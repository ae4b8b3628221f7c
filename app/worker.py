"""An agents process of `distgate worker`: the Faust app, every agent, the AMQP bridge both ways."""

import datetime as dt
from typing import Any

import faust
from mode import ServiceT
from prometheus_client import CollectorRegistry

from agents.deadletters import DeadLetters
from agents.deadlines import DecisionDeadlines, register_deadlines
from agents.flow_timing import OrderFlows, StockFlows
from agents.orders import OrderActor, OrderOutputs, register_order_agent
from agents.relay import register_erp_relays
from agents.runtime.durable_app import DurableApp
from agents.runtime.failpoints import Failpoints
from agents.runtime.flows import FlowTimer
from agents.runtime.metrics import AgentMetrics
from agents.runtime.output import raw_topic
from agents.stock import StockActor, StockOutputs, register_stock_agent
from app.agents_status import agents_dir, status_path
from app.consumer_lag import record_lag
from app.faust_app import create_faust_app, faust_progress
from app.readiness import Readiness
from app.settings import Settings
from app.status_reporter import StatusReporter
from app.wms_wiring import register_wms
from tables.order.table import declare_order_table
from tables.stock.table import declare_stock_table


class GatewayWorker(faust.Worker):
    """A Faust worker that tells readiness when the app has fully started."""

    def __init__(
        self, app: faust.App, *services: ServiceT, readiness: Readiness, **logging: Any
    ) -> None:
        super().__init__(app, *services, **logging)
        # No terminal spinner: at warn and above Faust keeps one, and sets the root logger
        # to DEBUG for it, so every library's debug call builds a record (5% of the CPU).
        self.spinner = None
        self.readiness = readiness

    async def on_startup_finished(self) -> None:
        """Recovery is over and every service runs: readiness may now say so."""
        await super().on_startup_finished()
        self.readiness.mark_started()


def build_worker(settings: Settings, index: int) -> GatewayWorker:
    """Assemble agents process `index` (own data dir, shared consumer group); no I/O yet."""
    own = settings.with_overrides(data_dir=agents_dir(settings.data_dir, index))
    own.data_dir.mkdir(parents=True, exist_ok=True)
    app = create_faust_app(own)
    app.failpoints = Failpoints(own.failpoints)
    metrics = AgentMetrics(CollectorRegistry())
    flows = FlowTimer(metrics.registry, own.flow_slas)
    dead_letters = DeadLetters(raw_topic(app, own.topics.dead_letters), metrics)
    _register_stock(app, own, metrics, dead_letters, StockFlows(flows))
    _register_orders(app, own, metrics, dead_letters, OrderFlows(flows))
    register_erp_relays(app, own.topics, dead_letters)
    readiness = Readiness()
    readiness.add_source(lambda: faust_progress(app))
    reporter = StatusReporter(
        status_path(settings.data_dir, index),
        readiness,
        metrics.registry,
        lambda: _assigned(app),
        lambda: record_lag(app, metrics.consumer_lag),
    )
    return GatewayWorker(
        app,
        reporter,
        *register_wms(app, own, metrics, dead_letters, flows),
        readiness=readiness,
        **own.worker_logging(f"agents-{index}"),
    )


def _register_stock(
    app: DurableApp,
    settings: Settings,
    metrics: AgentMetrics,
    dead_letters: DeadLetters,
    flows: StockFlows,
) -> None:
    """The stock table and its agent (the API process mirrors the table's changelog)."""
    rows = app.rows(declare_stock_table(app))
    outputs = StockOutputs(app, settings.topics)
    actor = StockActor(
        rows, outputs, dead_letters, metrics, settings.dedupe_days, flows, zone=settings.zone
    )
    register_stock_agent(app, settings.topics.stock_inbox, actor)


def _register_orders(
    app: DurableApp,
    settings: Settings,
    metrics: AgentMetrics,
    dead_letters: DeadLetters,
    flows: OrderFlows,
) -> None:
    """The order table and its agent (the API process mirrors the table's changelog)."""
    rows = app.rows(declare_order_table(app))
    auto_confirm = settings.erp_confirmation == "auto"
    outputs = OrderOutputs(app, settings.topics)
    actor = OrderActor(
        rows, outputs, dead_letters, metrics, settings.dedupe_days, auto_confirm, flows
    )
    register_order_agent(app, settings.topics.order_inbox, actor)
    timeout = dt.timedelta(seconds=settings.decision_timeout_s)
    inbox = raw_topic(app, settings.topics.order_inbox)
    register_deadlines(app, DecisionDeadlines(rows, inbox, timeout))


def _assigned(app: faust.App) -> list[str]:
    """The partitions this process consumes now."""
    return sorted(f"{tp.topic}/{tp.partition}" for tp in app.consumer.assignment())
