"""`GET /v1/admin/trace/{correlation_id}` (scope `admin`): every message of one flow."""

from typing import Protocol

from aiohttp import web

from app.api.bodies import json_response
from app.api.keys import TOKENS
from app.api.middlewares import CORRELATION_PATTERN
from app.errors import NotFound, NotReady
from app.read.trace_mirror import TRACE_WINDOW_S
from protocols.http import ENCODER
from protocols.traces import Trace


class TraceReader(Protocol):
    """The index of recent flows (`app.read.trace_mirror.TraceMirror`)."""

    @property
    def ready(self) -> bool: ...

    def trace(self, correlation_id: str) -> Trace | None: ...


TRACES = web.AppKey("traces", TraceReader)


async def show_trace(request: web.Request) -> web.Response:
    """The flow's messages in time order, as far as this worker's index holds them."""
    request.app[TOKENS].authorize(request.headers.get("Authorization"), "admin")
    traces = request.app[TRACES]
    if not traces.ready:
        raise NotReady("the recent flows are still being read on this worker; retry shortly")
    correlation_id = request.match_info["correlation_id"]
    found = traces.trace(correlation_id) if CORRELATION_PATTERN.match(correlation_id) else None
    if found is None:
        raise NotFound(
            f"no message of flow {correlation_id!r} is known here: flows are kept from "
            f"{TRACE_WINDOW_S // 60} minutes before this worker started, the most recent first"
        )
    return json_response(found, ENCODER)


def add_routes(app: web.Application) -> None:
    """Mount the trace endpoint (a correlation id may hold '/')."""
    app.router.add_get("/v1/admin/trace/{correlation_id:.+}", show_trace)
