"""OpenTelemetry spans: one trace across the hops of an order, and nothing when not asked for."""

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aio_pika
import pytest
from aiohttp.test_utils import TestClient
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind
from prometheus_client import CollectorRegistry

from agents.actor import Sender
from agents.orders import OrderActor
from agents.runtime import spans
from agents.runtime.correlated import Correlated, incoming
from agents.runtime.metrics import AgentMetrics
from agents.stock import StockActor
from agents.wms_commands import CommandPublisher
from agents.wms_parking import Delivered
from protocols.amqp import WmsQueues
from protocols.trace_headers import parse_traceparent, trace_id_of
from protocols.wms_events import ReleaseToWarehouse
from tests.support.api import ApplyingKafka, MemoryOrders, api

ORDER = b'{"customer_id":"C-42","channel":"web","lines":[{"line_no":1,"sku":"SKU-1","qty":2}]}'


@pytest.fixture
def exported() -> Iterator[InMemorySpanExporter]:
    """Spans on, into memory, for the test; off again after."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    spans.use_tracer(provider.get_tracer("test"))
    yield exporter
    spans.use_tracer(None)


class Router:
    """Where the publisher delivers: records the AMQP message instead of publishing it."""

    def __init__(self) -> None:
        self.messages: list[aio_pika.Message] = []

    async def deliver(self, warehouse: str, message: aio_pika.Message, key: str) -> Delivered:
        self.messages.append(message)
        return Delivered.SENT


def _sender(headers: Any) -> Sender:
    return Sender(incoming(headers), time.time_ns())


def _parent_id(span: ReadableSpan) -> int | None:
    return span.parent.span_id if span.parent is not None else None


async def test_one_order_is_one_trace_from_the_request_to_the_release(
    exported: InMemorySpanExporter, aiohttp_client: Any, tmp_path: Path
) -> None:
    # Given the API, the order and stock actors and the WMS command publisher, in process
    kafka = ApplyingKafka(MemoryOrders())
    client: TestClient = await aiohttp_client(api(tmp_path, kafka=kafka))
    metrics: Any = AgentMetrics(CollectorRegistry())
    unused: Any = None
    orders = OrderActor(unused, unused, unused, metrics, 7, False)
    stock = StockActor(unused, unused, unused, metrics, 7)
    publisher = CommandPublisher("amqp://unused", WmsQueues.for_app("distgate"), metrics)
    router = Router()
    publisher.router = router  # type: ignore[assignment]
    # When an order is posted, and each hop handles what the one before sent
    posted = await client.post(
        "/v1/orders", data=ORDER, headers={"Content-Type": "application/json"}
    )
    correlation_id = posted.headers["X-Correlation-ID"]
    command = kafka.headers[0]
    applied: Correlated = orders.flow(correlation_id, _sender(command))
    stock.flow(correlation_id, _sender(applied.headers))
    release = ReleaseToWarehouse(
        event_id="SO-1:release", order_id="SO-1", warehouse="DC-EAST", txn="REL-1",
        correlation_id=correlation_id, lines=(),
    )  # fmt: skip
    await publisher.publish(release, incoming(applied.headers).parent)
    # And ERP's decision, which carries no header of ours, is applied
    decided = orders.flow(correlation_id, _sender([]))

    # Then every span is in the one trace the correlation id names
    names = [span.name for span in exported.get_finished_spans()]
    assert names == [
        "POST /v1/orders",
        "orders apply",
        "stock apply",
        "wms release",
        "orders apply",
    ]
    finished = {span.name: span for span in reversed(exported.get_finished_spans())}  # firsts
    trace_id = int(trace_id_of(correlation_id), 16)
    assert {span.context.trace_id for span in exported.get_finished_spans()} == {trace_id}
    # And each hop's parent is the span that sent it what it handled
    http, apply = finished["POST /v1/orders"], finished["orders apply"]
    assert http.kind == SpanKind.SERVER
    assert _parent_id(apply) == http.context.span_id
    assert _parent_id(finished["stock apply"]) == apply.context.span_id
    assert _parent_id(finished["wms release"]) == apply.context.span_id
    # And what each hop sent names its own span as the sender
    sent = parse_traceparent(router.messages[0].headers["traceparent"])  # type: ignore[arg-type]
    assert sent is not None
    assert int(sent.span_id, 16) == finished["wms release"].context.span_id
    assert int(incoming(command).parent.span_id, 16) == http.context.span_id  # type: ignore[union-attr]
    # And the decision's span, with no sender in the trace, hangs on the flow's root
    last = exported.get_finished_spans()[-1]
    assert int(decided.span_id, 16) == last.context.span_id
    assert _parent_id(last) == int(spans.root_span_id(correlation_id), 16)


def test_spans_are_off_and_opentelemetry_not_even_loaded_without_otel_variables() -> None:
    # Given a process without OTEL_* variables, When it configures spans from them
    code = (
        "import sys\n"
        "from agents.runtime import spans\n"
        "assert spans.configure_from_env('distgate', 'api') is False\n"
        "assert not spans.enabled()\n"
        "assert not [m for m in sys.modules if m.startswith('opentelemetry')], 'loaded'\n"
    )
    env = {"PATH": "/usr/bin:/bin"}
    # Then nothing of OpenTelemetry was imported, and no span is ever started
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_the_console_exporter_is_configured_from_the_standard_variables(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("OTEL_TRACES_EXPORTER", "console")
    monkeypatch.setenv("OTEL_SERVICE_NAME", "gateway-east")
    try:
        assert spans.configure_from_env("distgate", "api")
        assert spans.enabled()
    finally:
        spans.use_tracer(None)


def test_an_unknown_exporter_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OTEL_TRACES_EXPORTER", "zipkin")
    with pytest.raises(ValueError, match="zipkin"):
        spans.configure_from_env("distgate", "api")
    assert not spans.enabled()


async def test_probes_and_scrapes_make_no_spans(
    exported: InMemorySpanExporter, aiohttp_client: Any, tmp_path: Path
) -> None:
    client: TestClient = await aiohttp_client(api(tmp_path))
    for path in ("/healthz", "/readyz", "/metrics"):
        await client.get(path)
    assert exported.get_finished_spans() == ()
