"""`python -m bench.headers`: what the flow headers cost per record, against the same path without.

In one process, alternating: the stock agent's produce path for N StockChanged events
(encode the value, append it to a record batch as `DurableProducer` does) without
headers, then with the flow and CloudEvents headers as `StockOutputs` builds them (one
flow per event, the worst case: an order's flow is shared by several outputs). Then
the trace index's cost of one such record in the API process. Medians of the runs.
No brokers: this is the CPU the headers add, which the end-to-end benches cannot
resolve on a busy machine.
"""

import argparse
import datetime as dt
import statistics
import time
from collections.abc import Sequence

import msgspec
from aiokafka import ConsumerRecord
from aiokafka.producer.message_accumulator import BatchBuilder

from agents.runtime.cloud_events import CloudEvents
from agents.runtime.correlated import correlated
from app.read.trace_index import TraceIndex, traced_topics
from protocols.inventory import StockChanged
from protocols.topics import INVENTORY_EVENTS, Topics

_encoder = msgspec.json.Encoder()


def _events(count: int) -> list[StockChanged]:
    now = dt.datetime.now(dt.UTC)  # one batch: one time, as the agent's
    return [_change(f"ev-{n}", f"SKU-{n % 500}", now) for n in range(count)]


def _change(event_id: str, sku: str, now: dt.datetime) -> StockChanged:
    return StockChanged(
        event_id=event_id, sku=sku, warehouse="DC-EAST", on_hand=5, blocked=0, reserved=1,
        allocated=0, safety_stock=0, atp=4, cause="StockReceived", occurred_at=now,
    )  # fmt: skip


def _plain(events: list[StockChanged]) -> float:
    batch, started = BatchBuilder(1 << 30, 0), time.perf_counter()
    for event in events:
        batch.append(key=event.sku.encode(), value=_encoder.encode(event), timestamp=None)
    return time.perf_counter() - started


def _with_headers(events: list[StockChanged], cloud_events: CloudEvents) -> float:
    batch, started = BatchBuilder(1 << 30, 0), time.perf_counter()
    for n, event in enumerate(events):
        headers = cloud_events.headers(correlated(f"wms:DC-EAST:T{n}"), event)
        value = _encoder.encode(event)
        batch.append(key=event.sku.encode(), value=value, timestamp=None, headers=headers)
    return time.perf_counter() - started


def _index_seconds(events: list[StockChanged], cloud_events: CloudEvents) -> float:
    records = [_record(n, event, cloud_events) for n, event in enumerate(events)]
    index = TraceIndex(traced_topics(Topics.for_app("distgate"), "distgate"))
    started = time.perf_counter()
    for record in records:
        index.add_record(record)
    return time.perf_counter() - started


def _record(offset: int, event: StockChanged, cloud_events: CloudEvents) -> ConsumerRecord:
    """The record as the API process's trace mirror reads it."""
    headers = cloud_events.headers(correlated(f"wms:DC-EAST:T{offset}"), event)
    value, at_ms = _encoder.encode(event), 1_764_666_000_000 + offset
    key = event.sku.encode()
    return ConsumerRecord(
        INVENTORY_EVENTS.name, 0, offset, at_ms, 0, key, value, None, 0, 0, headers
    )  # fmt: skip


def main(argv: Sequence[str] | None = None) -> int:
    """Print the per-record figures and their ratio."""
    parser = argparse.ArgumentParser(prog="python -m bench.headers", description=__doc__)
    parser.add_argument("--events", type=int, default=5_000)
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args(argv)
    events, cloud_events = _events(args.events), CloudEvents("distgate", "stock")
    plain, headed, index = [], [], []
    for _ in range(args.runs):
        plain.append(_plain(events) / len(events) * 1e6)
        headed.append(_with_headers(events, cloud_events) / len(events) * 1e6)
        index.append(_index_seconds(events, cloud_events) / len(events) * 1e6)
    base, with_headers = statistics.median(plain), statistics.median(headed)
    ratios = statistics.median(h / p for h, p in zip(headed, plain, strict=True))
    print(f"produce path, per record: {base:.2f} us without headers, {with_headers:.2f} us with")
    print(
        f"  headers add {with_headers - base:.2f} us; median ratio {ratios:.2f} ({args.runs} runs)"
    )
    print(f"trace index, per record: {statistics.median(index):.2f} us")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
