"""The OpenAPI 3.1 document, generated from the same msgspec types the handlers decode."""

import functools
from typing import Any

import msgspec
import orjson

from protocols.http import AtpCheckRequest, AtpCheckResponse, AtpResponse

PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "loc": {"type": "array", "items": {"type": ["string", "integer"]}},
                    "msg": {"type": "string"},
                },
            },
        },
    },
}


def _operation(summary: str, responses: dict[str, str], **extra: Any) -> dict[str, Any]:
    return {
        "summary": summary,
        "responses": {
            code: {"description": text, **_problem_content(code)}
            for code, text in responses.items()
        },
        **extra,
    }


def _problem_content(code: str) -> dict[str, Any]:
    if int(code) < 400:
        return {}
    return {
        "content": {
            "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}
        }
    }


def _operational_paths() -> dict[str, Any]:
    open_access: dict[str, Any] = {"security": []}
    return {
        "/healthz": {"get": _operation("Liveness", {"200": "alive"}, **open_access)},
        "/readyz": {
            "get": _operation(
                "Readiness with per-table restore progress",
                {"200": "ready", "503": "restoring"},
                **open_access,
            )
        },
        "/metrics": {"get": _operation("Prometheus metrics", {"200": "text"}, **open_access)},
        "/openapi.json": {"get": _operation("This document", {"200": "JSON"}, **open_access)},
    }


def _json(ref: str) -> dict[str, Any]:
    return {"application/json": {"schema": {"$ref": f"#/components/schemas/{ref}"}}}


def _atp_paths() -> dict[str, Any]:
    errors = {
        "401": "no or unknown token",
        "403": "missing scope atp:read",
        "422": "invalid identifier",
        "503": "stock still restoring",
    }
    get = _operation(
        "A SKU's available-to-promise per warehouse",
        {"200": "ATP", "404": "SKU never seen", **errors},
        parameters=[
            {"name": "sku", "in": "path", "required": True, "schema": {"type": "string"}},
            {"name": "warehouse", "in": "query", "schema": {"type": "string"}},
        ],
    )
    get["responses"]["200"]["content"] = _json("AtpResponse")
    check = _operation(
        "Can these lines be promised, from where, by when?",
        {"200": "answers", "413": "body over 256 KiB", "415": "not JSON", **errors},
        requestBody={"required": True, "content": _json("AtpCheckRequest")},
    )
    check["responses"]["200"]["content"] = _json("AtpCheckResponse")
    return {"/v1/atp/{sku}": {"get": get}, "/v1/atp/check": {"post": check}}


@functools.cache
def openapi_document() -> bytes:
    """Render the document once per process."""
    _, schemas = msgspec.json.schema_components(
        [AtpResponse, AtpCheckRequest, AtpCheckResponse],
        ref_template="#/components/schemas/{name}",
    )
    document = {
        "openapi": "3.1.0",
        "info": {"title": "distgate", "version": "1"},
        "paths": {**_operational_paths(), **_atp_paths()},
        "components": {
            "schemas": {**schemas, "Problem": PROBLEM_SCHEMA},
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
        "security": [{"bearer": []}],
    }
    return orjson.dumps(document)
