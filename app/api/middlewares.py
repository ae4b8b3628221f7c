"""Correlation ids, problem+json for every error, and request metrics."""

import logging
import re
import time
import uuid

from aiohttp import web
from aiohttp.typedefs import Handler

from agents.runtime import log_context
from app.api.keys import METRICS
from app.api.problems import problem_response
from app.errors import ApiError, Unprocessable
from protocols.printable import printable
from protocols.trace_headers import TRACEPARENT, parse_traceparent

log = logging.getLogger(__name__)
access_log = logging.getLogger("distgate.access")

CORRELATION_HEADER = "X-Correlation-ID"
CORRELATION_PATTERN = re.compile(r"^[A-Za-z0-9._:/-]{1,128}$")
CORRELATION_ID = web.RequestKey("correlation_id", str)


@web.middleware
async def correlation_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Echo a sane X-Correlation-ID, or mint one, on every response; log the request with it.

    Minted, it is the trace id of the caller's `traceparent`, if any, so the caller's
    trace and the flow's are one.
    """
    given = request.headers.get(CORRELATION_HEADER, "")
    correlation_id = given if CORRELATION_PATTERN.match(given) else _minted(request)
    request[CORRELATION_ID] = correlation_id
    context = log_context.correlation_id.set(correlation_id)
    started = time.perf_counter()
    status = 500
    try:
        response = await handler(request)
        status = response.status
    except web.HTTPException as exc:
        status = exc.status
        exc.headers[CORRELATION_HEADER] = correlation_id
        raise
    finally:
        _access(request, status, started)
        log_context.correlation_id.reset(context)
    response.headers[CORRELATION_HEADER] = correlation_id
    return response


def _minted(request: web.Request) -> str:
    parent = parse_traceparent(request.headers.get(TRACEPARENT))
    return parent.trace_id if parent is not None else uuid.uuid4().hex


def _access(request: web.Request, status: int, started: float) -> None:
    """One access line per request (JSON logs, or the debug level), with its correlation id."""
    if access_log.isEnabledFor(logging.INFO):
        duration_ms = round((time.perf_counter() - started) * 1000, 2)
        fields = {"method": request.method, "path": request.path, "status": status}
        access_log.info(
            "%s %s %d %.2f ms", request.method, request.path, status, duration_ms,
            extra=fields | {"duration_ms": duration_ms},
        )  # fmt: skip


@web.middleware
async def problem_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Turn every error into application/problem+json."""
    try:
        return await handler(request)
    except Unprocessable as exc:
        errors = [{"loc": list(error.loc), "msg": error.msg} for error in exc.errors]
        return problem_response(exc.status, exc.title, exc.detail, errors=errors)
    except ApiError as exc:
        response = problem_response(
            exc.status, exc.title, exc.detail, type_uri=exc.type_uri, headers=exc.headers
        )
        if exc.close_connection:
            response.force_close()
        return response
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        allow = {"Allow": exc.headers["Allow"]} if "Allow" in exc.headers else None
        return problem_response(exc.status, exc.reason, _http_detail(exc), headers=allow)
    except Exception:
        log.exception(
            "unhandled error serving %s %s", printable(request.method), printable(request.path)
        )
        return problem_response(500, "Internal Server Error", "an unexpected error occurred")


def _http_detail(exc: web.HTTPException) -> str:
    if exc.status == 413:
        return "the request body exceeds 256 KiB"
    if exc.status == 404:
        return "no such resource"
    if exc.status == 405:
        return "method not allowed on this resource"
    return exc.text or exc.reason


@web.middleware
async def metrics_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Count and time requests by route template (never by raw path)."""
    metrics = request.app[METRICS]
    started = time.perf_counter()
    response = await handler(request)
    resource = request.match_info.route.resource
    route = resource.canonical if resource is not None else "unmatched"
    metrics.http_latency.labels(route).observe(time.perf_counter() - started)
    metrics.http_requests.labels(request.method, route, str(response.status)).inc()
    return response
