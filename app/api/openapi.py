"""The OpenAPI 3.1 document, generated from the same msgspec types the handlers decode."""

import functools
from typing import Any

import msgspec
import orjson

from app.api.openapi_orders import order_paths
from app.api.openapi_parts import PROBLEM_SCHEMA, identifier, json_content, operation
from app.api.openapi_trace import trace_paths
from protocols.deadletters import DeadLetterList, DeadLetterView, ReplayAccepted
from protocols.http import (
    AtpCheckRequest,
    AtpCheckResponse,
    AtpResponse,
    OrderAccepted,
    OrderView,
    SubmitOrderRequest,
)
from protocols.ids import SKU_PATTERN, WAREHOUSE_PATTERN
from protocols.traces import Trace


def _operational_paths() -> dict[str, Any]:
    open_access: dict[str, Any] = {"security": []}
    return {
        "/healthz": {"get": operation("Liveness", {"200": "alive"}, **open_access)},
        "/readyz": {
            "get": operation(
                "Readiness with per-table restore progress, and commands waiting per warehouse",
                {"200": "ready", "503": "restoring"},
                **open_access,
            )
        },
        "/metrics": {"get": operation("Prometheus metrics", {"200": "text"}, **open_access)},
        "/openapi.json": {"get": operation("This document", {"200": "JSON"}, **open_access)},
        "/asyncapi.json": {
            "get": operation("The Kafka and AMQP side (AsyncAPI 3)", {"200": "JSON"}, **open_access)
        },
        "/wms.xsd": {
            "get": operation("The XML Schema of the WMS messages", {"200": "XML"}, **open_access)
        },
    }


def _atp_paths() -> dict[str, Any]:
    errors = {
        "401": "no or unknown token",
        "403": "missing scope atp:read",
        "429": "the token's rate limit is spent (Retry-After)",
        "422": "invalid identifier",
        "503": "stock still restoring",
    }
    get = operation(
        "A SKU's available-to-promise per warehouse",
        {"200": "ATP", "404": "SKU never seen", **errors},
        parameters=[
            identifier("sku", "path", SKU_PATTERN),
            identifier("warehouse", "query", WAREHOUSE_PATTERN),
        ],
    )
    get["responses"]["200"]["content"] = json_content("AtpResponse")
    check = operation(
        "Can these lines be promised, from where, by when?",
        {"200": "answers", "413": "body over 256 KiB", "415": "not JSON", **errors},
        requestBody={"required": True, "content": json_content("AtpCheckRequest")},
    )
    check["responses"]["200"]["content"] = json_content("AtpCheckResponse")
    return {"/v1/atp/{sku}": {"get": get}, "/v1/atp/check": {"post": check}}


def _admin_paths() -> dict[str, Any]:
    errors = {
        "401": "no or unknown token",
        "403": "missing scope admin",
        "429": "the token's rate limit is spent (Retry-After)",
    }
    listing = operation(
        "The newest dead letters first",
        {"200": "dead letters", "422": "invalid limit", "503": "still reading", **errors},
        parameters=[
            {
                "name": "limit",
                "in": "query",
                "schema": {"type": "integer", "minimum": 1, "maximum": 100, "default": 100},
            }
        ],
    )
    listing["responses"]["200"]["content"] = json_content("DeadLetterList")
    replay = operation(
        "Send a dead letter's original message again, where it came from",
        {
            "202": "sent again",
            "404": "no such dead letter",
            "409": "cannot be replayed",
            "503": "still reading, or a broker did not take it",
            **errors,
        },
        parameters=[{"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}],
    )
    replay["responses"]["202"]["content"] = json_content("ReplayAccepted")
    console = {
        "get": operation(
            "The operations console (HTML; HTTP Basic with the token as password works too)",
            {"200": "the page or one of its files", **errors},
        )
    }
    return {
        "/ops": console,
        "/ops/ops.js": console,
        "/ops/ops.css": console,
        "/v1/admin/dead-letters": {"get": listing},
        "/v1/admin/dead-letters/{id}": {"get": _show_operation(errors)},
        "/v1/admin/dead-letters/{id}/replay": {"post": replay},
    }


def _show_operation(errors: dict[str, str]) -> dict[str, Any]:
    show = operation(
        "One dead letter whole (the listing shows previews), read back from Kafka",
        {
            "200": "the dead letter",
            "404": "no such dead letter",
            "503": "still reading, or Kafka did not answer",
            **errors,
        },
        parameters=[{"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}],
    )
    show["responses"]["200"]["content"] = json_content("DeadLetterView")
    return show


@functools.cache
def openapi_document() -> bytes:
    """Render the document once per process."""
    _, schemas = msgspec.json.schema_components(
        [
            AtpResponse,
            AtpCheckRequest,
            AtpCheckResponse,
            DeadLetterList,
            DeadLetterView,
            ReplayAccepted,
            SubmitOrderRequest,
            OrderAccepted,
            OrderView,
            Trace,
        ],
        ref_template="#/components/schemas/{name}",
    )
    document = {
        "openapi": "3.1.0",
        "info": {"title": "distgate", "version": "1"},
        "paths": {
            **_operational_paths(),
            **_atp_paths(),
            **_admin_paths(),
            **order_paths(),
            **trace_paths(),
        },
        "components": {
            "schemas": {**schemas, "Problem": PROBLEM_SCHEMA},
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
        "security": [{"bearer": []}],
    }
    return orjson.dumps(document)
