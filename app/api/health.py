"""Operational endpoints: liveness, readiness, metrics, the OpenAPI document."""

from typing import Any

import orjson
from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from app.api.keys import METRICS, READINESS
from app.api.openapi import openapi_document


async def healthz(request: web.Request) -> web.Response:
    """Alive: the process answers."""
    return web.json_response({"status": "alive"})


async def readyz(request: web.Request) -> web.Response:
    """200 when every assigned partition is restored and consuming, else 503 with progress."""
    report = request.app[READINESS].report()
    ready = bool(report) and all(p.ready for p in report)
    request.app[METRICS].ready.set(1 if ready else 0)
    body: dict[str, Any] = {
        "status": "ready" if ready else "restoring",
        "tables": [
            {
                "name": p.name,
                "ready": p.ready,
                "remaining": p.remaining,
                "partitions": p.partitions,
                "detail": p.detail,
            }
            for p in report
        ],
    }
    headers = {} if ready else {"Retry-After": "2"}
    return web.Response(
        status=200 if ready else 503,
        body=orjson.dumps(body),
        content_type="application/json",
        headers=headers,
    )


async def metrics(request: web.Request) -> web.Response:
    """Prometheus text exposition."""
    body = generate_latest(request.app[METRICS].registry)
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})


async def openapi(request: web.Request) -> web.Response:
    """The OpenAPI 3.1 description of this API."""
    return web.Response(body=openapi_document(), content_type="application/json")


def add_routes(app: web.Application) -> None:
    """Mount the operational endpoints (no token needed)."""
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/metrics", metrics)
    app.router.add_get("/openapi.json", openapi)
