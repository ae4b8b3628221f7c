"""The aiohttp application factory."""

from aiohttp import web

from app.api import atp, health
from app.api.atp import StockReader
from app.api.auth import TokenRegistry
from app.api.keys import METRICS, READINESS, TOKENS
from app.api.middlewares import correlation_middleware, metrics_middleware, problem_middleware
from app.metrics import Metrics
from app.readiness import Readiness

MAX_BODY_BYTES = 256 * 1024


def create_api(
    tokens: TokenRegistry, metrics: Metrics, readiness: Readiness, stock: StockReader
) -> web.Application:
    """Build the API with its state, middlewares and routes."""
    app = web.Application(
        client_max_size=MAX_BODY_BYTES,
        middlewares=[correlation_middleware, metrics_middleware, problem_middleware],
    )
    app[TOKENS] = tokens
    app[METRICS] = metrics
    app[READINESS] = readiness
    health.add_routes(app)
    atp.add_routes(app, stock)
    return app
