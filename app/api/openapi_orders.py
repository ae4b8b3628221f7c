"""OpenAPI description of the order endpoints."""

from typing import Any

from app.api.openapi_parts import identifier, json_content, operation
from protocols.ids import ENTITY_ID_PATTERN

_ERRORS = {
    "401": "no or unknown token",
    "403": "missing scope, or another customer's order",
    "429": "the token's rate limit is spent (Retry-After)",
}
_ORDER_ID = identifier("order_id", "path", ENTITY_ID_PATTERN)


def order_paths() -> dict[str, Any]:
    """POST /v1/orders, GET /v1/orders/{order_id}, POST /v1/orders/{order_id}/cancel."""
    submit = operation(
        "Submit an order; answered once the command is durable in Kafka",
        {
            "202": "accepted",
            "408": "the body did not arrive in time",
            "413": "body over 256 KiB",
            "415": "not JSON",
            "422": "breaks the contract, or the id was used with another body",
            "503": "orders still restoring",
            **_ERRORS,
        },
        parameters=[{"name": "Idempotency-Key", "in": "header", "schema": {"type": "string"}}],
        requestBody={"required": True, "content": json_content("SubmitOrderRequest")},
    )
    submit["responses"]["202"]["content"] = json_content("OrderAccepted")
    read = operation(
        "An order's state and history; wait_for holds until that status (or timeout)",
        {
            "200": "the order",
            "404": "no such order",
            "422": "invalid order id, bad wait_for or timeout",
            "503": "orders still restoring, or this worker holds its most long polls (Retry-After)",
            **_ERRORS,
        },
        parameters=[
            _ORDER_ID,
            {"name": "wait_for", "in": "query", "schema": {"type": "string"}},
            {
                "name": "timeout",
                "in": "query",
                "schema": {"type": "number", "minimum": 0, "maximum": 30},
            },
        ],
    )
    read["responses"]["200"]["content"] = json_content("OrderView")
    cancel = operation(
        "Cancel an order that has not shipped",
        {
            "202": "cancellation requested",
            "404": "no such order",
            "409": "already shipped",
            "422": "invalid order id",
            "503": "orders still restoring",
            **_ERRORS,
        },
        parameters=[_ORDER_ID],
    )
    cancel["responses"]["202"]["content"] = json_content("OrderView")
    return {
        "/v1/orders": {"post": submit},
        "/v1/orders/{order_id}": {"get": read},
        "/v1/orders/{order_id}/cancel": {"post": cancel},
    }
