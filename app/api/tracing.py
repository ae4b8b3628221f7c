"""Each request's flow: what the commands it sends carry, and its span when spans are on."""

from aiohttp import web
from aiohttp.typedefs import Handler

from agents.runtime import spans
from agents.runtime.correlated import Correlated, correlated
from app.api.middlewares import CORRELATION_ID
from protocols.trace_headers import TRACEPARENT, parse_traceparent

FLOW = web.RequestKey("flow", Correlated)
UNTRACED = frozenset({"/healthz", "/readyz", "/metrics"})
"""Probes and scrapes: polled every few seconds, they would bury the flows in spans."""


@web.middleware
async def trace_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """The request's flow under its correlation id, sent on by the caller's `traceparent`."""
    parent = parse_traceparent(request.headers.get(TRACEPARENT))
    route = request.match_info.route.resource
    canonical = route.canonical if route is not None else "unmatched"
    if canonical in UNTRACED:
        request[FLOW] = correlated(request[CORRELATION_ID])
        return await handler(request)
    name = f"{request.method} {canonical}"
    with spans.traced(name, request[CORRELATION_ID], parent, kind="server") as sent:
        request[FLOW] = sent
        return await handler(request)
