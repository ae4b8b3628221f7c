"""The OpenAPI 3.1 document, generated from the same msgspec types the handlers decode."""

import functools
from typing import Any

import orjson

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


@functools.cache
def openapi_document() -> bytes:
    """Render the document once per process."""
    document = {
        "openapi": "3.1.0",
        "info": {"title": "distgate", "version": "1"},
        "paths": _operational_paths(),
        "components": {
            "schemas": {"Problem": PROBLEM_SCHEMA},
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
        "security": [{"bearer": []}],
    }
    return orjson.dumps(document)
