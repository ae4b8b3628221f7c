"""The API process of `distgate worker`: HTTP API, changelog mirrors, command producer; no Faust."""

from collections.abc import Callable
from typing import Any, TypeVar

from mode import ServiceT, Worker

from agents.runtime.flows import register_objectives
from app.agents_view import AgentsView
from app.api.auth import TokenRegistry, load_tokens
from app.api.factory import ApiState, create_api
from app.api.gates import ApiLimits
from app.commands import CommandProducer
from app.dlq import DeadLetterAdmin
from app.errors import ConfigurationError
from app.metrics import Metrics
from app.read.deadletter_index import DeadLetterMirror
from app.read.replica import ChangelogReplica
from app.read.retirement import Retirement, RetirementPolicy
from app.read.trace_index import TraceIndex, traced_topics
from app.read.trace_mirror import TraceMirror
from app.readiness import Readiness
from app.services import HttpServer
from app.settings import Settings
from protocols.topics import TopicSpec
from tables.order.table import decode_order, is_closed_order, order_changelog
from tables.order.value import Order
from tables.stock.table import decode_stock, stock_changelog
from tables.stock.value import SkuStock

T = TypeVar("T")


class ApiWorker(Worker):
    """Runs the API's services; readiness starts reporting once they all are up."""

    def __init__(self, *services: ServiceT, readiness: Readiness, **logging: Any) -> None:
        super().__init__(*services, **logging)
        self.readiness = readiness

    async def on_started(self) -> None:
        """Every service runs: readiness may now report their progress."""
        self.readiness.mark_started()
        await super().on_started()  # runs until the worker stops


def build_api_worker(settings: Settings) -> ApiWorker:
    """Assemble the API process; no I/O happens until it runs."""
    tokens = api_tokens(settings)
    metrics = Metrics()
    register_objectives(metrics.registry, settings.flow_slas)
    agents = AgentsView(settings.data_dir, settings.agent_processes)
    metrics.registry.register(agents)
    stock = _stock_replica(settings)
    orders = _order_replica(settings)
    readiness = Readiness()
    for source in (agents.progress, stock.progress, orders.progress):
        readiness.add_source(source)
    readiness.add_waiting(agents.pending_commands)
    commands = CommandProducer(settings.kafka, settings.topics.order_inbox)
    letters = settings.topics.dead_letters.name
    mirror = DeadLetterMirror(
        settings.kafka, letters, settings.partitions, settings.dead_letter_index_kib * 1024
    )
    dead_letters = DeadLetterAdmin(settings, mirror)
    traces = TraceMirror(
        settings.kafka, TraceIndex(traced_topics(settings.topics, settings.app_id))
    )
    state = ApiState(
        tokens, metrics, readiness, stock, orders, commands, dead_letters,
        app_id=settings.app_id, limits=ApiLimits.of(settings), zone=settings.zone,
        traces=traces,
    )  # fmt: skip
    api = create_api(state)
    return ApiWorker(
        stock,
        orders,
        commands,
        mirror,
        traces,
        HttpServer(api, settings.http_host, settings.http_port, settings.http_idle_timeout_s),
        readiness=readiness,
        **settings.worker_logging("api"),
    )


def api_tokens(settings: Settings) -> TokenRegistry:
    """The API tokens; an open API is only allowed on loopback."""
    tokens = load_tokens(settings.api_tokens_file)
    if tokens.is_open and not settings.http_host_is_loopback:
        raise ConfigurationError(
            f"refusing to serve an open API on {settings.http_host}: set "
            "DISTGATE_API_TOKENS_FILE, or bind DISTGATE_HTTP_HOST to a loopback address"
        )
    return tokens


def _stock_replica(settings: Settings) -> ChangelogReplica[SkuStock]:
    """The replica of the stock table the API answers ATP from."""
    return _replica("stock", stock_changelog(settings.app_id), settings, decode_stock)


def _order_replica(settings: Settings) -> ChangelogReplica[Order]:
    """The replica of the order table the API answers orders from; closed ones retire."""
    keep_ms = settings.closed_order_days * 86_400_000
    retirement = Retirement(RetirementPolicy(keep_ms, is_closed_order))
    changelog = order_changelog(settings.app_id)
    return _replica("orders", changelog, settings, decode_order, retirement)


def _replica(
    name: str,
    changelog: TopicSpec,
    settings: Settings,
    decode: Callable[[bytes], T],
    retirement: Retirement | None = None,
) -> ChangelogReplica[T]:
    return ChangelogReplica(
        name, changelog.name, settings.partitions, settings.kafka, decode, retirement
    )
