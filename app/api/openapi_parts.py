"""Building blocks of the OpenAPI document: operations, JSON bodies, problem+json."""

from typing import Any

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


def operation(summary: str, responses: dict[str, str], **extra: Any) -> dict[str, Any]:
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


def identifier(name: str, where: str, pattern: str) -> dict[str, Any]:
    """A path or query identifier with the pattern its handler checks (else 422)."""
    required = {"required": True} if where == "path" else {}
    return {"name": name, "in": where, **required, "schema": {"type": "string", "pattern": pattern}}


def json_content(ref: str) -> dict[str, Any]:
    return {"application/json": {"schema": {"$ref": f"#/components/schemas/{ref}"}}}
