"""Each request's flow: what the commands it sends carry, and its span when spans are on."""

from aiohttp import web
from aiohttp.typedefs import Handler

from agents.runtime import spans
from agents.runtime.flows import Flow
from app.api.middlewares import CORRELATION_ID
from protocols.trace_headers import TRACEPARENT, parse_traceparent

FLOW = web.RequestKey("flow", Flow)


@web.middleware
async def trace_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """The request's flow under its correlation id, sent on by the caller's `traceparent`."""
    parent = parse_traceparent(request.headers.get(TRACEPARENT))
    route = request.match_info.route.resource
    name = f"{request.method} {route.canonical if route is not None else 'unmatched'}"
    with spans.traced(name, request[CORRELATION_ID], parent, kind="server") as flow:
        request[FLOW] = flow
        return await handler(request)
