"""`distgate worker`: every agent, the AMQP bridge and the HTTP API in one process."""

import faust
from mode import ServiceT

from agents.deadletters import DeadLetters
from agents.erp_supply import register_erp_supply_relay
from agents.replica import ChangelogReplica
from agents.stock import StockActor, register_stock_agent
from app.api.auth import load_tokens
from app.api.factory import create_api
from app.errors import ConfigurationError
from app.faust_app import create_faust_app, faust_progress, raw_topic
from app.metrics import Metrics
from app.readiness import Readiness
from app.services import HttpServer, Topology
from app.settings import Settings
from protocols.topics import Topics
from tables.stock import SkuStock
from tables.stock_table import changelog_spec, declare_stock_table, decode_stock


class GatewayWorker(faust.Worker):
    """A Faust worker that tells readiness when the app has fully started."""

    def __init__(
        self, app: faust.App, *services: ServiceT, readiness: Readiness, loglevel: str
    ) -> None:
        super().__init__(app, *services, loglevel=loglevel)
        self.readiness = readiness

    async def on_startup_finished(self) -> None:
        """Recovery is over and every service runs: readiness may now say so."""
        await super().on_startup_finished()
        self.readiness.mark_started()


def build_worker(settings: Settings) -> GatewayWorker:
    """Assemble the Faust worker with our services; no I/O happens until it runs."""
    tokens = load_tokens(settings.api_tokens_file)
    if tokens.is_open and not settings.http_host_is_loopback:
        raise ConfigurationError(
            f"refusing to serve an open API on {settings.http_host}: set "
            "DISTGATE_API_TOKENS_FILE, or bind DISTGATE_HTTP_HOST to a loopback address"
        )
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    app = create_faust_app(settings)
    metrics = Metrics()
    stock_replica = _register_stock(app, settings, metrics)
    readiness = Readiness()
    readiness.add_source(lambda: faust_progress(app))
    readiness.add_source(stock_replica.progress)
    api = create_api(tokens, metrics, readiness, stock_replica)
    topics = (*Topics.all(), changelog_spec(settings.app_id))
    return GatewayWorker(
        app,
        Topology(settings, topics),
        stock_replica,
        HttpServer(api, settings.http_host, settings.http_port),
        readiness=readiness,
        loglevel=settings.log_level,
    )


def _register_stock(
    app: faust.App, settings: Settings, metrics: Metrics
) -> ChangelogReplica[SkuStock]:
    """The stock table, its agents, and the replica every worker answers ATP from."""
    dead_letters = DeadLetters(raw_topic(app, Topics.DEAD_LETTERS), metrics)
    table = declare_stock_table(app)
    changes = raw_topic(app, Topics.INVENTORY_EVENTS)
    register_stock_agent(app, StockActor(table, changes, dead_letters, metrics))
    register_erp_supply_relay(app, dead_letters)
    changelog = changelog_spec(settings.app_id).name
    return ChangelogReplica(
        "stock", changelog, settings.partitions, settings.kafka_bootstrap, decode_stock
    )
