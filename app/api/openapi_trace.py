"""OpenAPI description of the trace endpoint."""

from typing import Any

from app.api.openapi_parts import identifier, json_content, operation

CORRELATION_ID_PATTERN = r"^[A-Za-z0-9._:/-]{1,128}$"


def trace_paths() -> dict[str, Any]:
    """GET /v1/admin/trace/{correlation_id}."""
    show = operation(
        "Every message of one flow in time order: HTTP commands, orders.events, "
        "inventory.events, crm.order-status, Releases and Cancels, WMS confirmations, "
        "ERP decisions, dead letters (flows of the last hour before the worker started, "
        "and since, within a memory budget)",
        {
            "200": "the flow",
            "401": "no or unknown token",
            "403": "missing scope admin",
            "404": "no message of that flow is known",
            "429": "the token's rate limit is spent (Retry-After)",
            "503": "the recent flows are still being read",
        },
        parameters=[identifier("correlation_id", "path", CORRELATION_ID_PATTERN)],
    )
    show["responses"]["200"]["content"] = json_content("Trace")
    return {"/v1/admin/trace/{correlation_id}": {"get": show}}
