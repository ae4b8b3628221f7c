"""The headers every message distgate produces carries, as AsyncAPI 3 describes headers."""

from typing import Any

from protocols.trace_headers import (
    CE_ID,
    CE_SOURCE,
    CE_SPECVERSION,
    CE_TIME,
    CE_TYPE,
    CORRELATION_ID,
    TRACEPARENT,
)

FLOW_HEADERS = "FlowHeaders"
CLOUD_EVENT_HEADERS = "CloudEventHeaders"
CLOUD_EVENT_ROLES = frozenset({"orders_events", "inventory_events", "crm_order_status"})
"""The external outputs, which also carry CloudEvents binary-mode headers."""
TRACEPARENT_PATTERN = r"^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}"

_FLOW_PROPERTIES: dict[str, Any] = {
    CORRELATION_ID: {
        "type": "string",
        "description": "The flow: the X-Correlation-ID of the HTTP request that began it, "
        "the WMS's correlation id, or ERP's event id; an order's records carry the order's.",
    },
    TRACEPARENT: {
        "type": "string",
        "pattern": TRACEPARENT_PATTERN,
        "description": "W3C Trace Context; its trace id is the correlation id when that is "
        "32 lowercase hex digits, else the first 16 bytes of its BLAKE2b digest.",
    },
}


def header_schemas() -> dict[str, Any]:
    """The schemas of the flow headers and of those plus CloudEvents', for components."""
    cloud_events = {
        CE_SPECVERSION: {"type": "string", "const": "1.0"},
        CE_TYPE: {"type": "string", "description": "The value's type tag, e.g. OrderReserved"},
        CE_ID: {"type": "string", "description": "The value's event_id"},
        CE_SOURCE: {"type": "string", "description": "/distgate/<app_id>/<orders|stock>"},
        CE_TIME: {"type": "string", "format": "date-time"},
    }
    return {
        FLOW_HEADERS: {
            "type": "object",
            "required": [CORRELATION_ID, TRACEPARENT],
            "properties": _FLOW_PROPERTIES,
        },
        CLOUD_EVENT_HEADERS: {
            "type": "object",
            "required": [CORRELATION_ID, TRACEPARENT, *cloud_events],
            "properties": {**_FLOW_PROPERTIES, **cloud_events},
        },
    }


def written_headers(role: str) -> dict[str, Any]:
    """What a message distgate writes on the topic of `role` adds: its headers, its flow."""
    name = CLOUD_EVENT_HEADERS if role in CLOUD_EVENT_ROLES else FLOW_HEADERS
    return {
        "headers": {"$ref": f"#/components/schemas/{name}"},
        "correlationId": {"location": f"$message.header#/{CORRELATION_ID}"},
    }
