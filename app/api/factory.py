"""The aiohttp application factory."""

import datetime as dt
from dataclasses import dataclass, field

from aiohttp import web

from app.api import atp, deadletters, health, ops, orders, trace
from app.api.auth import TokenRegistry
from app.api.gates import ApiLimits
from app.api.keys import (
    APP_ID,
    COMMANDS,
    LIMITS,
    METRICS,
    ORDERS,
    READINESS,
    STOCK,
    TOKENS,
    ZONE,
)
from app.api.middlewares import correlation_middleware, metrics_middleware, problem_middleware
from app.api.readers import OrderReader, StockReader
from app.api.tracing import trace_middleware
from app.commands import CommandProducer
from app.dlq import DeadLetterAdmin
from app.metrics import Metrics
from app.readiness import Readiness
from app.settings import Settings

MAX_BODY_BYTES = 256 * 1024


@dataclass(frozen=True)
class ApiState:
    """Everything the handlers use, built by the worker."""

    tokens: TokenRegistry
    metrics: Metrics
    readiness: Readiness
    stock: StockReader
    orders: OrderReader
    commands: CommandProducer
    dead_letters: DeadLetterAdmin
    app_id: str = "distgate"  # names the topics and queues /asyncapi.json describes
    limits: ApiLimits = field(default_factory=lambda: ApiLimits.of(Settings()))
    zone: dt.tzinfo = dt.UTC  # the business day's time zone (DISTGATE_TIMEZONE)
    traces: trace.TraceReader | None = None  # GET /v1/admin/trace/{id} is mounted with it


def create_api(state: ApiState) -> web.Application:
    """Build the API with its state, middlewares and routes."""
    app = web.Application(
        client_max_size=MAX_BODY_BYTES,
        middlewares=[
            correlation_middleware,
            trace_middleware,
            metrics_middleware,
            problem_middleware,
        ],
    )
    state.metrics.ready.set_function(lambda: float(state.readiness.ready))  # at every scrape
    app[TOKENS] = state.tokens
    app[METRICS] = state.metrics
    app[READINESS] = state.readiness
    app[STOCK] = state.stock
    app[ORDERS] = state.orders
    app[COMMANDS] = state.commands
    app[LIMITS] = state.limits
    app[ZONE] = state.zone
    for kind, gate in (("long_poll", state.limits.long_polls), ("sync", state.limits.syncs)):
        state.metrics.http_waiting.labels(kind).set_function(gate.count)
    app[deadletters.DEAD_LETTERS] = state.dead_letters
    app[APP_ID] = state.app_id
    health.add_routes(app)
    atp.add_routes(app)
    orders.add_routes(app)
    deadletters.add_routes(app)
    ops.add_routes(app)
    if state.traces is not None:
        app[trace.TRACES] = state.traces
        trace.add_routes(app)
    return app
