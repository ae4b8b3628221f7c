"""The flow a message belongs to, as the code handling it passes it on to what it sends.

A `Correlated` is built once per message handled (an HTTP command, a record of a batch, a
WMS delivery) and shared, headers included, by every record or message that handling
produces: the hot path pays one span id and one `traceparent` per input, not per output.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import NamedTuple

from protocols.trace_headers import (
    CORRELATION_ID,
    TRACEPARENT,
    Header,
    TraceParent,
    flow_headers,
    new_span_id,
    parse_traceparent,
)


class Correlated(NamedTuple):
    """A correlation id and the span handling it; `headers` is what its outputs carry.

    A tuple: built once per message handled, on the batch agents' hot path.
    """

    correlation_id: str
    span_id: str
    headers: list[Header]  # shared by every output: never changed


def correlated(correlation_id: str, span_id: str | None = None) -> Correlated:
    """The flow `correlation_id` as sent by span `span_id` (a fresh one if not given)."""
    span = span_id or new_span_id()
    return Correlated(correlation_id, span, flow_headers(correlation_id, span))


@dataclass(frozen=True, slots=True)
class Incoming:
    """What a received message says of its flow: its correlation id and sender, if anything.

    The `traceparent` headers are kept as received and parsed only when asked for: only
    spans need the sender, and the agents read one of these for every record.
    """

    correlation_id: str | None
    traceparents: tuple[bytes, ...] = ()

    @property
    def parent(self) -> TraceParent | None:
        """The first valid `traceparent`, or None."""
        for value in self.traceparents:
            if (parent := parse_traceparent(value)) is not None:
                return parent
        return None


def incoming(
    headers: Iterable[tuple[str, bytes | None]] | Mapping[str, bytes] | None,
) -> Incoming:
    """The correlation id and `traceparent` among a record's headers."""
    correlation_id: str | None = None
    traceparents: tuple[bytes, ...] = ()
    pairs = headers.items() if isinstance(headers, Mapping) else headers or ()
    for name, value in pairs:
        if value is None:
            continue
        if name == CORRELATION_ID and correlation_id is None:
            correlation_id = value.decode("utf-8", "replace")
        elif name == TRACEPARENT:
            traceparents += (value,)
    return Incoming(correlation_id, traceparents)
