"""OpenTelemetry spans, when the standard `OTEL_*` variables ask for them; else nothing.

Off by default and free when off: nothing of OpenTelemetry is imported, and the code
that handles a message asks `enabled()` once before it builds a span. Each span joins
its flow's trace (the trace id `trace_id_of` derives from the correlation id): its
parent is the sender named by the message's `traceparent` when that is in the same
trace, else a span id derived from the correlation id, the flow's root, which is not
recorded itself. A sender of another trace (a caller's own trace id) becomes a link.
The tracer is process-wide, as OpenTelemetry's own provider is: set once at start.
"""

import hashlib
import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from agents.runtime.correlated import Correlated, correlated
from protocols.trace_headers import TraceParent, trace_id_of

if TYPE_CHECKING:
    from opentelemetry.trace import Span, Tracer

_tracer: "Tracer | None" = None


def enabled() -> bool:
    """True when spans are exported."""
    return _tracer is not None


def use_tracer(tracer: "Tracer | None") -> None:
    """Export spans through `tracer` from now on (None: stop)."""
    global _tracer
    _tracer = tracer


def configure_from_env(service_name: str, process: str) -> bool:
    """Export spans if `OTEL_TRACES_EXPORTER` (or an OTLP endpoint) asks; True if it does.

    `OTEL_TRACES_EXPORTER=otlp` (the default once `OTEL_EXPORTER_OTLP_ENDPOINT` or
    `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` is set) needs the OTLP exporter package;
    `console` prints spans; `none`, or nothing set, exports nothing. `OTEL_SERVICE_NAME`
    names the service (else `service_name`); `OTEL_SDK_DISABLED=true` turns it all off.
    `process` (agents-0, api, bridge) is the resource attribute `distgate.process`.
    """
    exporter_name = _exporter_name()
    if exporter_name is None:
        return False
    from opentelemetry.sdk.resources import SERVICE_NAME, Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    name = os.environ.get("OTEL_SERVICE_NAME") or service_name
    resource = Resource.create({SERVICE_NAME: name, "distgate.process": process})
    provider = TracerProvider(resource=resource)
    provider.add_span_processor(BatchSpanProcessor(_exporter(exporter_name)))
    use_tracer(provider.get_tracer("distgate"))
    return True


def _exporter_name() -> str | None:
    if os.environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return None
    named = os.environ.get("OTEL_TRACES_EXPORTER", "").strip().lower()
    if not named:
        endpoint = os.environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") or os.environ.get(
            "OTEL_EXPORTER_OTLP_ENDPOINT"
        )
        return "otlp" if endpoint else None
    first = named.split(",")[0].strip()
    return None if first == "none" else first


def _exporter(name: str) -> Any:
    if name == "console":
        from opentelemetry.sdk.trace.export import ConsoleSpanExporter

        return ConsoleSpanExporter()
    if name == "otlp":
        try:
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        except ImportError:
            raise ValueError(
                "OTEL_TRACES_EXPORTER=otlp needs the OTLP exporter: pip install 'distgate[otlp]'"
            ) from None
        return OTLPSpanExporter()
    raise ValueError(f"OTEL_TRACES_EXPORTER={name!r} is not supported; use otlp, console or none")


def start_span(
    name: str,
    correlation_id: str,
    parent: TraceParent | None,
    *,
    kind: str = "internal",
    start_ns: int | None = None,
    attributes: dict[str, str] | None = None,
) -> "Span":
    """Start a span of the flow `correlation_id`, sent on by `parent`; the caller ends it.

    `kind` is OpenTelemetry's span kind by name (`server`, `consumer`, `producer`, ...).
    """
    from opentelemetry import trace
    from opentelemetry.trace import Link, NonRecordingSpan, SpanKind

    assert _tracer is not None, "start_span is only called when enabled()"
    trace_id = trace_id_of(correlation_id)
    links: list[Link] = []
    if parent is not None and parent.trace_id == trace_id:
        span_id = parent.span_id
    else:
        span_id = root_span_id(correlation_id)
        if parent is not None:
            links.append(Link(_context(parent.trace_id, parent.span_id)))
    context = trace.set_span_in_context(NonRecordingSpan(_context(trace_id, span_id)))
    return _tracer.start_span(
        name,
        context=context,
        kind=SpanKind[kind.upper()],
        attributes={"messaging.correlation_id": correlation_id, **(attributes or {})},
        links=links,
        start_time=start_ns,
    )


@contextmanager
def traced(
    name: str,
    correlation_id: str,
    parent: TraceParent | None,
    *,
    kind: str = "internal",
    attributes: dict[str, str] | None = None,
) -> Iterator[Correlated]:
    """The flow what the block sends carries; a span around the block if spans are on."""
    if _tracer is None:
        yield correlated(correlation_id)
        return
    span = start_span(name, correlation_id, parent, kind=kind, attributes=attributes)
    try:
        yield correlated(correlation_id, span_id_of(span))
    except BaseException as exc:
        span.record_exception(exc)
        from opentelemetry.trace import Status, StatusCode

        span.set_status(Status(StatusCode.ERROR, repr(exc)))
        raise
    finally:
        span.end()


def span_id_of(span: "Span") -> str:
    """The span's id as 16 hex digits, as a `traceparent` names it."""
    return f"{span.get_span_context().span_id:016x}"


def root_span_id(correlation_id: str) -> str:
    """The id of a flow's unrecorded root span: spans with no sender in the trace hang on it."""
    digest = hashlib.blake2b(correlation_id.encode(), digest_size=8, person=b"root").digest()
    return digest.hex() if any(digest) else "0000000000000001"


def _context(trace_id: str, span_id: str) -> Any:
    from opentelemetry.trace import SpanContext, TraceFlags

    return SpanContext(
        int(trace_id, 16), int(span_id, 16), is_remote=True, trace_flags=TraceFlags(1)
    )
