"""The backorder oracle's facts, gathered after the run from what any client can read.

Orders and ATP come over HTTP, as for the stock checks. Each fill comes from the
`OrderBackorderFilled` events on `orders.events` (from where the run began), and its
place from the deployment's stock inbox: the stock side applies one SKU's messages in
their order there, and a fill's causation id names the inbox message that caused it
(`<cause>:fill:<order>:<line>`, the cause hashed when that would be too long).
"""

import asyncio
import datetime as dt
import hashlib
import time
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from typing import Any

import aiohttp
import orjson
from aiokafka import AIOKafkaConsumer, ConsumerRecord

from app.kafka_admin import topic_partitions
from bench.common.kafka_io import Offsets
from bench.peak.backorder_check import Facts, Fill, Line, LineKey, backorder_section
from bench.peak.oracle import fetch_all, positions
from protocols.topics import ORDERS_EVENTS

FILLED = "OrderBackorderFilled"
JOINS = ("ReserveLine", "FillBackorder")  # a line's units join the SKU's queue at these
HASHED = 40  # hex digits of a hashed cause in a fill's id


class Places:
    """Where each stock inbox message stands in its SKU's order, by event id."""

    def __init__(self) -> None:
        self.of: dict[str, int] = {}
        self.joined_at: dict[LineKey, int] = {}

    def add(self, message: Mapping[str, Any], offset: int) -> None:
        """One inbox record: its place, and the line it is the first join of."""
        event_id = str(message.get("event_id", ""))
        # a message delivered again takes effect where it first stood
        self.of.setdefault(event_id, offset)
        self.of.setdefault(hashlib.sha256(event_id.encode()).hexdigest()[:HASHED], offset)
        if message.get("type") in JOINS:
            line = (str(message["order_id"]), int(message["line_no"]))
            self.joined_at.setdefault(line, offset)

    def cause_of(self, causation_id: str, line: LineKey) -> int | None:
        """The place of the message a fill of `line` with `causation_id` answered."""
        suffix = f":fill:{line[0]}:{line[1]}"
        if not causation_id.endswith(suffix):
            return None
        return self.of.get(causation_id[: -len(suffix)])


async def inbox_places(bootstrap: str, topic: str) -> Places:
    """Every message of the stock inbox `topic`, placed."""
    places = Places()
    async for record in records(bootstrap, topic, None):
        if record.value is not None:
            places.add(orjson.loads(record.value), record.offset)
    return places


async def fills_since(
    bootstrap: str, since: Offsets, prefix: str, places: Places
) -> tuple[list[Fill], int]:
    """The run's backorder fills on orders.events after `since`, once each, placed; and how
    many could not be placed."""
    fills: list[Fill] = []
    unplaced = 0
    seen: set[str] = set()  # a worker killed after publishing publishes it again
    async for record in records(bootstrap, ORDERS_EVENTS.name, since):
        if record.value is None or not record.value.startswith(b"{"):
            continue
        event = orjson.loads(record.value)
        if event.get("type") != FILLED or not str(event.get("order_id")).startswith(prefix):
            continue
        if event["event_id"] in seen:
            continue
        seen.add(event["event_id"])
        line = (str(event["order_id"]), int(event["line_no"]))
        at = places.cause_of(str(event["causation_id"]), line)
        if at is None:
            unplaced += 1
            continue
        fills.extend(
            Fill(*line, part["warehouse"], int(part["qty"]), at) for part in event["filled"]
        )
    return fills, unplaced


async def end_offsets(bootstrap: str, topic: str) -> Offsets:
    """The end of every partition of `topic`: where a later read starts."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap)
    await consumer.start()
    try:
        partitions = await topic_partitions(topic, bootstrap_servers=bootstrap)
        ends: Offsets = await consumer.end_offsets(partitions)
        return ends
    finally:
        await consumer.stop()


async def records(
    bootstrap: str, topic: str, since: Offsets | None
) -> AsyncIterator[ConsumerRecord[bytes, bytes]]:
    """The records of `topic` from `since` (None: its beginning) to its end as of now."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        partitions = await topic_partitions(topic, bootstrap_servers=bootstrap)
        consumer.assign(partitions)
        start = since or await consumer.beginning_offsets(partitions)
        end = await consumer.end_offsets(partitions)
        for tp in partitions:
            consumer.seek(tp, start.get(tp, 0))
        left = {tp for tp in partitions if end[tp] > start.get(tp, 0)}
        while left:
            batches = await consumer.getmany(*left, timeout_ms=1000)
            for tp, batch in batches.items():
                for record in batch:
                    if record.offset < end[tp]:
                        yield record
                if await consumer.position(tp) >= end[tp]:
                    left.discard(tp)
    finally:
        await consumer.stop()


async def order_lines(
    http: aiohttp.ClientSession, urls: Sequence[str], order_ids: Sequence[str]
) -> list[Line]:
    """Every line of the orders, as `GET /v1/orders/{id}` shows it."""
    answers = await fetch_all(http, urls, [f"/v1/orders/{o}" for o in order_ids])
    return [line for order in answers.values() if isinstance(order, dict) for line in _lines(order)]


def _lines(order: Mapping[str, Any]) -> Iterable[Line]:
    """The order's lines; the bench's orders never name a warehouse."""
    submitted = dt.datetime.fromisoformat(order["history"][0]["at"])
    for line in order["lines"]:
        yield Line(
            order_id=order["order_id"],
            line_no=line["line_no"],
            sku=line["sku"],
            qty=line["qty"],
            submitted_at=submitted,
            reserved=line.get("reserved", 0),
            allocated=line.get("allocated", 0),
            shipped=line.get("shipped", 0),
            backordered=line.get("backordered", 0),
            cancelled=line.get("cancelled", 0),
            held={
                fill["warehouse"]: fill.get("reserved", 0)
                + fill.get("allocated", 0)
                + fill.get("shipped", 0)
                for fill in line.get("fills", ())
            },
        )


async def atp_left(
    http: aiohttp.ClientSession, urls: Sequence[str], skus: Iterable[str]
) -> dict[tuple[str, str], int]:
    """ATP per SKU and warehouse now."""
    answers = await fetch_all(http, urls, [f"/v1/atp/{sku}" for sku in sorted(set(skus))])
    return {
        position: figures.get("atp", 0) for position, figures in positions(answers.values()).items()
    }


async def gather_facts(
    http: aiohttp.ClientSession,
    urls: Sequence[str],
    order_ids: Sequence[str],
    kafka: tuple[str, str, Offsets],
    prefix: str,
) -> Facts:
    """The facts as they stand now; `kafka` is (bootstrap, stock inbox topic, orders.events
    offsets when the run began)."""
    bootstrap, inbox, since = kafka
    lines = await order_lines(http, urls, order_ids)
    places = await inbox_places(bootstrap, inbox)
    fills, unplaced = await fills_since(bootstrap, since, prefix, places)
    waiting = {line.sku for line in lines if line.backordered}
    atp = await atp_left(http, urls, waiting)
    return Facts(lines, fills, places.joined_at, atp, unplaced)


async def backorders_settled(
    urls: Sequence[str],
    order_ids: Sequence[str],
    kafka: tuple[str, str, Offsets],
    prefix: str,
    within: float,
) -> dict[str, Any]:
    """The backorders section, judged again until it holds or `within` seconds passed
    (the last fills of the run may still be on their way)."""
    deadline = time.monotonic() + within
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=32)) as http:
        while True:
            section = backorder_section(await gather_facts(http, urls, order_ids, kafka, prefix))
            if section["correct"] or time.monotonic() > deadline:
                return section
            await asyncio.sleep(1.0)
