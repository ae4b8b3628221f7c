"""`distgate worker`: every agent, the AMQP bridge and the HTTP API in one process."""

from collections.abc import Callable
from typing import TypeVar

import faust
from mode import ServiceT

from agents.deadletters import DeadLetters
from agents.orders import OrderActor, OrderOutputs, register_order_agent
from agents.relay import register_erp_relays
from agents.runtime.durable_app import DurableApp
from agents.runtime.output import raw_topic
from agents.runtime.rows import TableRows
from agents.stock import StockActor, StockOutputs, register_stock_agent
from app.api.auth import TokenRegistry, load_tokens
from app.api.factory import ApiState, create_api
from app.commands import CommandProducer
from app.errors import ConfigurationError
from app.faust_app import create_faust_app, faust_progress
from app.metrics import Metrics
from app.read.replica import ChangelogReplica
from app.readiness import Readiness
from app.services import HttpServer, Topology
from app.settings import Settings
from app.wms_wiring import register_wms
from protocols.topics import Topics, TopicSpec
from tables.order_table import declare_order_table, decode_order, order_changelog
from tables.orders import Order
from tables.stock import SkuStock
from tables.stock_table import declare_stock_table, decode_stock, stock_changelog

T = TypeVar("T")


class GatewayWorker(faust.Worker):
    """A Faust worker that tells readiness when the app has fully started."""

    def __init__(
        self, app: faust.App, *services: ServiceT, readiness: Readiness, loglevel: str
    ) -> None:
        super().__init__(app, *services, loglevel=loglevel)
        # No terminal spinner: at warn and above Faust keeps one, and sets the root logger
        # to DEBUG for it, so every library's debug call builds a record (5% of the CPU).
        self.spinner = None
        self.readiness = readiness

    async def on_startup_finished(self) -> None:
        """Recovery is over and every service runs: readiness may now say so."""
        await super().on_startup_finished()
        self.readiness.mark_started()


def build_worker(settings: Settings) -> GatewayWorker:
    """Assemble the Faust worker with our services; no I/O happens until it runs."""
    tokens = _tokens(settings)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    app = create_faust_app(settings)
    metrics = Metrics()
    dead_letters = DeadLetters(raw_topic(app, Topics.DEAD_LETTERS), metrics)
    stock = _register_stock(app, settings, metrics, dead_letters)
    orders = _register_orders(app, settings, metrics, dead_letters)
    register_erp_relays(app, dead_letters)
    wms = register_wms(app, settings, metrics, dead_letters)
    commands = CommandProducer(settings.kafka_bootstrap)
    readiness = Readiness()
    for source in (lambda: faust_progress(app), stock.progress, orders.progress):
        readiness.add_source(source)
    api = create_api(
        ApiState(tokens, metrics, readiness, stock, orders, commands, wms.dead_letters)
    )
    changelogs = (stock_changelog(settings.app_id), order_changelog(settings.app_id))
    return GatewayWorker(
        app,
        Topology(settings, (*Topics.all(), *changelogs)),
        stock,
        orders,
        commands,
        *wms.services,
        HttpServer(api, settings.http_host, settings.http_port),
        readiness=readiness,
        loglevel=settings.log_level,
    )


def _tokens(settings: Settings) -> TokenRegistry:
    """The API tokens; an open API is only allowed on loopback."""
    tokens = load_tokens(settings.api_tokens_file)
    if tokens.is_open and not settings.http_host_is_loopback:
        raise ConfigurationError(
            f"refusing to serve an open API on {settings.http_host}: set "
            "DISTGATE_API_TOKENS_FILE, or bind DISTGATE_HTTP_HOST to a loopback address"
        )
    return tokens


def _register_stock(
    app: DurableApp, settings: Settings, metrics: Metrics, dead_letters: DeadLetters
) -> ChangelogReplica[SkuStock]:
    """The stock table, its agent, and the replica every worker answers ATP from."""
    rows = TableRows(declare_stock_table(app), app.records)
    actor = StockActor(rows, StockOutputs(app), dead_letters, metrics, settings.dedupe_days)
    register_stock_agent(app, actor)
    return _replica("stock", stock_changelog(settings.app_id), settings, decode_stock)


def _register_orders(
    app: DurableApp, settings: Settings, metrics: Metrics, dead_letters: DeadLetters
) -> ChangelogReplica[Order]:
    """The order table, its agent, and the replica every worker answers orders from."""
    rows = TableRows(declare_order_table(app), app.records)
    auto_confirm = settings.erp_confirmation == "auto"
    actor = OrderActor(
        rows, OrderOutputs(app), dead_letters, metrics, settings.dedupe_days, auto_confirm
    )
    register_order_agent(app, actor)
    return _replica("orders", order_changelog(settings.app_id), settings, decode_order)


def _replica(
    name: str, changelog: TopicSpec, settings: Settings, decode: Callable[[bytes], T]
) -> ChangelogReplica[T]:
    return ChangelogReplica(
        name, changelog.name, settings.partitions, settings.kafka_bootstrap, decode
    )
