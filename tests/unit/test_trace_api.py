"""The HTTP side of a flow: what commands carry, and `GET /v1/admin/trace/{correlation_id}`."""

import datetime as dt
from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestClient

from agents.runtime.correlated import incoming
from app.read.trace_index import TraceIndex, traced_topics
from protocols.topics import Topics
from protocols.trace_headers import trace_id_of
from protocols.traces import Trace, TracedMessage
from tests.support.api import ApplyingKafka, MemoryOrders, api

ORDER = b'{"customer_id":"C-42","channel":"web","lines":[{"line_no":1,"sku":"SKU-1","qty":2}]}'
JSON = {"Content-Type": "application/json"}
ADMIN, SHOP = "admin-token-0123456789", "shop-token-0123456789"
TOKENS = [
    {"token": ADMIN, "scopes": ["admin"]},
    {"token": SHOP, "scopes": ["orders:write", "orders:read"]},
]


class Traces:
    """An index already caught up, as the API process's trace mirror is once it has read."""

    def __init__(self) -> None:
        self.index = TraceIndex(traced_topics(Topics.for_app("distgate"), "distgate"))
        self.ready = True

    def trace(self, correlation_id: str) -> Trace | None:
        return self.index.trace(correlation_id)


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_a_submitted_order_carries_the_callers_correlation_id_and_its_trace(
    aiohttp_client: Any, tmp_path: Path
) -> None:
    # Given the API
    kafka = ApplyingKafka(MemoryOrders())
    client: TestClient = await aiohttp_client(api(tmp_path, kafka=kafka))
    # When an order is posted with a correlation id
    headers = {**JSON, "X-Correlation-ID": "shop-req-17"}
    response = await client.post("/v1/orders", data=ORDER, headers=headers)
    assert response.status == 202
    # Then the command in Kafka carries it, and a traceparent of that flow's trace
    sent = incoming(kafka.headers[0])
    assert sent.correlation_id == "shop-req-17"
    assert sent.parent is not None
    assert sent.parent.trace_id == trace_id_of("shop-req-17")


async def test_a_callers_traceparent_alone_makes_its_trace_the_flow(
    aiohttp_client: Any, tmp_path: Path
) -> None:
    # Given the API, and a caller with a trace of its own but no correlation id
    kafka = ApplyingKafka(MemoryOrders())
    client: TestClient = await aiohttp_client(api(tmp_path, kafka=kafka))
    trace_id = "4bf92f3577b34da6a3ce929d0e0e4736"
    headers = {**JSON, "traceparent": f"00-{trace_id}-00f067aa0ba902b7-01"}
    # When it posts an order
    response = await client.post("/v1/orders", data=ORDER, headers=headers)
    # Then the flow is named by the caller's trace id, and the command is in that trace
    assert response.headers["X-Correlation-ID"] == trace_id
    sent = incoming(kafka.headers[0])
    assert sent.parent is not None
    assert sent.parent.trace_id == trace_id


async def test_the_trace_of_a_known_flow_is_listed_and_an_unknown_one_is_404(
    aiohttp_client: Any, tmp_path: Path
) -> None:
    # Given a worker that has seen one message of flow c-1
    traces = Traces()
    at = dt.datetime(2026, 12, 2, 9, 0, tzinfo=dt.UTC)
    traces.index.add(
        "c-1",
        TracedMessage(
            at=at, kind="order_event", topic="orders.events", partition=0, offset=4,
            key="SO-1", type="OrderSubmitted", event_id="e-1", order_id="SO-1",
        ),
    )  # fmt: skip
    client: TestClient = await aiohttp_client(api(tmp_path, TOKENS, traces=traces))
    # When an admin asks for it, Then it is listed
    found = await client.get("/v1/admin/trace/c-1", headers=_bearer(ADMIN))
    assert found.status == 200
    body = await found.json()
    assert body["correlation_id"] == "c-1"
    assert body["trace_id"] == trace_id_of("c-1")
    assert [(m["kind"], m["type"], m["offset"]) for m in body["messages"]] == [
        ("order_event", "OrderSubmitted", 4)
    ]
    # And a flow it never saw is a 404 problem saying so
    missing = await client.get("/v1/admin/trace/c-2", headers=_bearer(ADMIN))
    assert missing.status == 404
    assert missing.content_type == "application/problem+json"
    assert "c-2" in (await missing.json(content_type=None))["detail"]
    # And a token without the admin scope may not look
    assert (await client.get("/v1/admin/trace/c-1", headers=_bearer(SHOP))).status == 403
