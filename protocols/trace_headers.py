"""The headers that let one flow be followed: correlation id, W3C `traceparent`, CloudEvents.

Every Kafka record and AMQP message distgate produces carries `correlation_id` and a
`traceparent` (W3C Trace Context, version 00). A flow's trace id is a function of its
correlation id alone (`trace_id_of`): the id itself when it is 32 lowercase hex digits
(as the ids distgate mints are), else the first 16 bytes of its BLAKE2b digest. So
every hop, including one that only knows the order (an ERP decision, a WMS
confirmation without headers), names the same trace without storing it. Kafka outputs
also carry CloudEvents' Kafka binary-mode headers (`ce_specversion`, `ce_type`, `ce_id`,
`ce_source`, `ce_time`); the value stays the event's JSON.
"""

import hashlib
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final

Header = tuple[str, bytes]

CORRELATION_ID: Final = "correlation_id"
TRACEPARENT: Final = "traceparent"
CE_SPECVERSION: Final = "ce_specversion"
CE_TYPE: Final = "ce_type"
CE_ID: Final = "ce_id"
CE_SOURCE: Final = "ce_source"
CE_TIME: Final = "ce_time"
SPECVERSION: Final = b"1.0"
FLOW_HEADERS: Final = frozenset({CORRELATION_ID, TRACEPARENT})

_HEX32 = re.compile(r"[0-9a-f]{32}")
_TRACEPARENT = re.compile(r"([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?")
_ZERO_TRACE = "0" * 32
_ZERO_SPAN = "0" * 16
_SPAN_POOL_BYTES = 8 * 4096


class _SpanIds:
    """Random span ids cut from a pool of random hex: a slice costs less than a draw each."""

    def __init__(self) -> None:
        self._pool = ""
        self._at = 0

    def next(self) -> str:
        if self._at >= len(self._pool):
            self._pool, self._at = os.urandom(_SPAN_POOL_BYTES).hex(), 0
        at = self._at
        self._at = at + 16
        span_id = self._pool[at : at + 16]
        return span_id if span_id != _ZERO_SPAN else "0000000000000001"


_span_ids = _SpanIds()  # per process; ids need to be unique, not secret


@dataclass(frozen=True, slots=True)
class TraceParent:
    """A parsed `traceparent`: the trace, and the span that sent the message."""

    trace_id: str
    span_id: str
    sampled: bool = True

    def header(self) -> bytes:
        """The header value: version 00, this trace and span, sampled or not."""
        return f"00-{self.trace_id}-{self.span_id}-{'01' if self.sampled else '00'}".encode()


def trace_id_of(correlation_id: str) -> str:
    """The trace id of a flow: its correlation id if that is one, else derived from it."""
    is_trace_id = len(correlation_id) == 32 and _HEX32.fullmatch(correlation_id)
    if is_trace_id and correlation_id != _ZERO_TRACE:
        return correlation_id
    return hashlib.blake2b(correlation_id.encode(), digest_size=16).hexdigest()


def new_span_id() -> str:
    """A fresh, non-zero 64-bit span id as 16 lowercase hex digits."""
    return _span_ids.next()


def parse_traceparent(value: bytes | str | None) -> TraceParent | None:
    """The `traceparent` as W3C Trace Context reads it, or None when it is not valid.

    Version ff and all-zero ids are invalid; version 00 has exactly four fields; a later
    version may append fields, which are ignored.
    """
    if value is None:
        return None
    text = value.decode("ascii", "replace") if isinstance(value, bytes) else value
    match = _TRACEPARENT.fullmatch(text.strip())
    if match is None:
        return None
    version, trace_id, span_id, flags, rest = match.groups()
    if version == "ff" or (version == "00" and rest is not None):
        return None
    if trace_id == _ZERO_TRACE or span_id == _ZERO_SPAN:
        return None
    return TraceParent(trace_id, span_id, bool(int(flags, 16) & 1))


def flow_headers(correlation_id: str, span_id: str) -> list[Header]:
    """The correlation id and the `traceparent` of a message sent by span `span_id`."""
    parent = f"00-{trace_id_of(correlation_id)}-{span_id}-01".encode()  # as TraceParent.header
    return [(CORRELATION_ID, correlation_id.encode()), (TRACEPARENT, parent)]


def cloud_event_source(app_id: str, part: str) -> bytes:
    """The `ce_source` of what one part of a deployment publishes: `/distgate/<app_id>/<part>`."""
    return f"/distgate/{app_id}/{part}".encode()


def header_value(headers: Iterable[tuple[str, bytes]] | None, name: str) -> str | None:
    """The first header of that name as text (bad UTF-8 replaced), or None."""
    for key, value in headers or ():
        if key == name:
            return value.decode("utf-8", "replace") if value is not None else None
    return None


def correlation_of(headers: Iterable[tuple[str, bytes]] | None) -> str | None:
    """The correlation id a record or message carries, or None."""
    return header_value(headers, CORRELATION_ID)
