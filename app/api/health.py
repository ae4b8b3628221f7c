"""Operational endpoints: liveness, readiness, metrics, the interface documents."""

from importlib import resources
from typing import Any

import orjson
from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from app.api.asyncapi import asyncapi_document
from app.api.keys import APP_ID, METRICS, READINESS
from app.api.openapi import openapi_document


async def healthz(request: web.Request) -> web.Response:
    """Alive: the process answers."""
    return web.json_response({"status": "alive"})


async def readyz(request: web.Request) -> web.Response:
    """200 when every assigned partition is restored and consuming, else 503 with progress."""
    report = request.app[READINESS].report()
    ready = bool(report) and all(p.ready for p in report)
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


async def asyncapi(request: web.Request) -> web.Response:
    """The AsyncAPI 3 document of the Kafka topics and WMS exchanges, in this deployment's names."""
    return web.Response(
        body=asyncapi_document(request.app[APP_ID]), content_type="application/json"
    )


async def wms_schema(request: web.Request) -> web.Response:
    """The XML Schema of the WMS messages and commands."""
    return web.Response(body=_WMS_XSD, content_type="application/xml")


_WMS_XSD = resources.files("protocols").joinpath("wms.xsd").read_bytes()


def add_routes(app: web.Application) -> None:
    """Mount the operational endpoints (no token needed)."""
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/metrics", metrics)
    app.router.add_get("/openapi.json", openapi)
    app.router.add_get("/asyncapi.json", asyncapi)
    app.router.add_get("/wms.xsd", wms_schema)
