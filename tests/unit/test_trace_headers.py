"""The flow headers: W3C traceparent, correlation ids, CloudEvents binary mode."""

import datetime as dt
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agents.runtime.cloud_events import CloudEvents
from agents.runtime.correlated import correlated, incoming
from protocols.inventory import StockChanged
from protocols.trace_headers import (
    TraceParent,
    new_span_id,
    parse_traceparent,
    trace_id_of,
)

# W3C Trace Context, version 00: version-traceid-parentid-flags, lowercase hex
W3C = re.compile(r"00-[0-9a-f]{32}-[0-9a-f]{16}-0[01]")


def test_a_minted_correlation_id_is_its_own_trace_id() -> None:
    # Given the kind of id the API mints (uuid4 hex)
    minted = "4bf92f3577b34da6a3ce929d0e0e4736"
    # Then the flow's trace id is the id itself
    assert trace_id_of(minted) == minted


@given(st.text(min_size=1, max_size=128))
def test_any_correlation_id_names_one_valid_trace(correlation_id: str) -> None:
    # Given any correlation id, When its trace id is derived twice
    trace_id = trace_id_of(correlation_id)
    # Then it is the same, 32 lowercase hex digits, and not all zero
    assert trace_id == trace_id_of(correlation_id)
    assert re.fullmatch(r"[0-9a-f]{32}", trace_id)
    assert trace_id != "0" * 32


def test_different_correlation_ids_are_different_traces() -> None:
    assert trace_id_of("order-flow-1") != trace_id_of("order-flow-2")
    # an upper-case hex id is not a trace id as it stands: W3C wants lower case
    assert trace_id_of("4BF92F3577B34DA6A3CE929D0E0E4736") != "4BF92F3577B34DA6A3CE929D0E0E4736"


def test_a_flow_carries_its_correlation_id_and_a_w3c_traceparent() -> None:
    # Given a flow
    sent = correlated("corr-7")
    # Then its headers are the correlation id and a version-00 traceparent of its trace
    assert sent.headers[0] == ("correlation_id", b"corr-7")
    name, value = sent.headers[1]
    assert name == "traceparent"
    assert W3C.fullmatch(value.decode())
    assert value.decode().split("-")[1:3] == [trace_id_of("corr-7"), sent.span_id]


def test_span_ids_are_fresh_and_never_zero() -> None:
    ids = {new_span_id() for _ in range(1000)}
    assert len(ids) == 1000
    assert all(re.fullmatch(r"[0-9a-f]{16}", i) and i != "0" * 16 for i in ids)


def test_a_traceparent_round_trips() -> None:
    parent = TraceParent("4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7")
    assert parse_traceparent(parent.header()) == parent
    assert parse_traceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00") == (
        TraceParent("4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7", sampled=False)
    )


@pytest.mark.parametrize(
    "value",
    [
        pytest.param("00-abc-def-01", id="short ids"),
        pytest.param("ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", id="version ff"),
        pytest.param("00-" + "0" * 32 + "-00f067aa0ba902b7-01", id="zero trace id"),
        pytest.param("00-4bf92f3577b34da6a3ce929d0e0e4736-" + "0" * 16 + "-01", id="zero span"),
        pytest.param("00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01", id="upper case"),
        pytest.param("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-x", id="00 extra"),
        pytest.param("00_4bf92f3577b34da6a3ce929d0e0e4736_00f067aa0ba902b7_01", id="separator"),
        pytest.param(b"\xff\xfe", id="not text"),
        pytest.param("", id="empty"),
    ],
)
def test_an_invalid_traceparent_is_ignored(value: str | bytes) -> None:
    assert parse_traceparent(value) is None


def test_a_later_version_may_add_fields() -> None:
    header = "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-what-comes-next"
    assert parse_traceparent(header) == TraceParent(
        "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"
    )


def test_a_record_says_its_flow_in_its_headers() -> None:
    # Given a record's headers, other ones among them, a dict or a list
    sent = correlated("corr-9")
    pairs = [("other", b"x"), *sent.headers]
    # Then its correlation id and sender are read back from either
    for headers in (pairs, dict(pairs)):
        said = incoming(headers)
        assert said.correlation_id == "corr-9"
        assert said.parent == TraceParent(trace_id_of("corr-9"), sent.span_id)
    assert incoming(None).correlation_id is None


def test_an_event_gets_cloud_event_headers_after_its_flow() -> None:
    # Given a StockChanged sent in a flow
    at = dt.datetime(2026, 12, 2, 11, 0, tzinfo=dt.UTC)
    change = StockChanged(
        event_id="ev-1", sku="SKU-1", warehouse="DC-EAST", on_hand=5, blocked=0,
        reserved=1, allocated=0, safety_stock=0, atp=4, cause="ReserveLine", occurred_at=at,
    )  # fmt: skip
    sent = correlated("corr-1")
    # When its headers are built
    headers = CloudEvents("distgate", "stock").headers(sent, change)
    # Then they are the flow's, then CloudEvents 1.0 binary mode's
    assert headers[:2] == sent.headers
    assert dict(headers[2:]) == {
        "ce_specversion": b"1.0",
        "ce_type": b"StockChanged",
        "ce_id": b"ev-1",
        "ce_source": b"/distgate/distgate/stock",
        "ce_time": b"2026-12-02T11:00:00+00:00",
    }
    # And the flow's own headers, shared by every record of the message, are untouched
    assert len(sent.headers) == 2
