"""Phase 1: stock the catalogue through the warehouses' AMQP and time the workers draining it.

Multi-line receipts for every SKU-warehouse position are published into the queue of the
bench's own deployment while no worker of it runs;
then the workers start, the bridge drains the queue into Kafka and the stock agent
projects it. Against the same backlog, in the same run: a raw aio-pika consume-and-ack
loop over a queue of the bridge's type and prefetch (the bridge's baseline), a raw
aiokafka loop projecting the inbox records the bridge produced by the agent's own rule
(the projection's baseline), and a consume-and-decode loop over them (its floor).
"""

import asyncio
import time
from collections.abc import Iterator, Sequence
from typing import Any

import aio_pika
import aiohttp
import msgspec
from aiokafka import TopicPartition

from agents.wms_bridge import PREFETCH
from app.dev.workers import WorkerProcess
from bench.bridge import load as bridge_load
from bench.common.kafka_io import create_topic, offsets
from bench.common.params import Context
from bench.common.procs import counter_total
from bench.common.workload import Catalogue, expected_qty
from bench.peak.wms import SeedReceipt
from bench.stock.projection import fresh_worker_drain

APPLIED = 'distgate_events_applied_total{outcome="applied",table="stock"}'


def seed_receipts(cat: Catalogue, tag: str, lines_per_receipt: int) -> list[SeedReceipt]:
    """Receipts of `expected_qty(index)` for every position, grouped per warehouse."""
    per_warehouse: dict[str, list[tuple[str, int]]] = {}
    for index, (sku, warehouses) in enumerate(zip(cat.skus, cat.stocked_in, strict=True)):
        for warehouse in warehouses:
            per_warehouse.setdefault(warehouse, []).append((sku, expected_qty(index)))
    return [
        _receipt(f"{tag}-seed-{warehouse}-{number}", warehouse, chunk)
        for warehouse, lines in per_warehouse.items()
        for number, chunk in enumerate(_chunks(lines, lines_per_receipt))
    ]


def _chunks(lines: list[tuple[str, int]], size: int) -> Iterator[list[tuple[str, int]]]:
    for start in range(0, len(lines), size):
        yield lines[start : start + size]


def _receipt(txn: str, warehouse: str, lines: list[tuple[str, int]]) -> SeedReceipt:
    key, xml = bridge_load.receipt_of(warehouse, txn, lines)
    return key, xml, [(sku, warehouse, qty) for sku, qty in lines]


async def raw_amqp_baseline(ctx: Context, amqp_url: str, receipts: Sequence[SeedReceipt]) -> Any:
    """A raw aio-pika consume-and-ack loop draining the same backlog; its figures."""
    queue = f"distgate-bench-raw-{ctx.tag}"
    await bridge_load.declare_raw_queue(amqp_url, queue)
    try:
        await bridge_load.publish_all(amqp_url, [(k, b) for k, b, _ in receipts], queue=queue)
        return await ctx.procs.figures(
            "bench.bridge.raw",
            [amqp_url, queue, str(len(receipts)), str(PREFETCH)],
            ctx.load_cpus,
            "bridge-raw.log",
            within=600,
        )
    finally:
        await bridge_load.delete_queue(amqp_url, queue)


async def raw_kafka_baseline(ctx: Context, inbox: str, start: dict[int, int]) -> Any:
    """A raw aiokafka consume-and-decode loop over the inbox records from `start` to the end."""
    args = [ctx.bootstrap, inbox, msgspec.json.encode(start).decode()]
    return await ctx.procs.figures("bench.stock.rawloop", args, ctx.load_cpus, "rawloop.log", 600)


async def raw_project_baseline(ctx: Context, inbox: str, start: dict[int, int]) -> Any:
    """A raw aiokafka loop projecting the same records by the agent's rule into its own topic."""
    out_topic = f"{ctx.procs.new_app_id('project')}.inventory-events"
    await create_topic(ctx.bootstrap, out_topic, ctx.partitions, compacted=False)
    args = [ctx.bootstrap, inbox, out_topic, msgspec.json.encode(start).decode()]
    return await ctx.procs.figures(
        "bench.stock.rawproject", args, ctx.load_cpus, "rawproject.log", 600
    )


async def worker_project(ctx: Context, inbox: str, start: dict[int, int], events: int) -> Any:
    """A fresh worker projecting the same inbox records as the raw loops, from Kafka.

    The seed's own drain runs through the bridge, which sets its pace; this one shows
    the agents' projection against `raw_project_baseline` over the very same backlog.
    """
    offsets = {TopicPartition(inbox, p): o for p, o in start.items()}
    return await fresh_worker_drain(ctx, offsets, events, "projection", 600.0)


async def inbox_ends(ctx: Context, inbox: str) -> dict[int, int]:
    """The stock inbox's end offset per partition, right now."""
    _, end = await offsets(ctx.bootstrap, inbox, ctx.partitions)
    return {tp.partition: offset for tp, offset in end.items()}


async def drain_rates(
    amqp_url: str, queue: str, workers: Sequence[WorkerProcess], events: int, within: float
) -> dict[str, float | None]:
    """Messages/s bridged and events/s applied, each from when it was first seen moving.

    Call it right after starting the workers. The bridge is timed by the queue's depth
    (it starts before the worker's HTTP server), the projection by the applied counter.
    """
    connection = await aio_pika.connect(amqp_url)
    async with connection, aiohttp.ClientSession() as http:
        channel = await connection.channel()
        depth: list[tuple[float, int]] = []
        applied: list[tuple[float, float]] = []
        deadline = time.perf_counter() + within
        while not applied or applied[-1][1] < events:
            if time.perf_counter() > deadline:
                raise TimeoutError(f"the seed backlog was not applied within {within:.0f} s")
            state = await channel.declare_queue(queue, passive=True)
            depth.append((time.perf_counter(), int(state.declaration_result.message_count or 0)))
            total = await _sum(http, workers, APPLIED)
            if total is not None:
                applied.append((time.perf_counter(), total))
            await asyncio.sleep(0.05)
    return {
        "bridge_messages_per_s": _rate_down(depth),
        "projection_events_per_s": _rate_up(applied),
    }


def _rate_down(samples: list[tuple[float, int]]) -> float | None:
    """Rate a queue emptied: from the first sample below the starting depth to the first 0.

    A queue that emptied between two looks drained at least as fast as its whole depth
    over the time between the last full look and the first empty one.
    """
    full = samples[0][1]
    end = next(((t, n) for t, n in samples if n == 0), None)
    if end is None or not full:
        return None
    moving = next(((t, n) for t, n in samples if 0 < n < full), None)
    if moving is not None:
        return moving[1] / (end[0] - moving[0])
    last_full = max(t for t, n in samples if n == full and t < end[0])
    return full / (end[0] - last_full)


def _rate_up(samples: list[tuple[float, float]]) -> float | None:
    """Rate a counter rose: from the first sample the worker answered to the last."""
    (t0, n0), (t1, n1) = samples[0], samples[-1]
    return (n1 - n0) / (t1 - t0) if t1 > t0 and n1 > n0 else None


async def _sum(
    http: aiohttp.ClientSession, workers: Sequence[WorkerProcess], sample: str
) -> float | None:
    """A counter summed over the workers; None while one of them does not answer yet."""
    totals = await asyncio.gather(
        *(counter_total(http, w.url, sample) for w in workers), return_exceptions=True
    )
    if not all(isinstance(total, float) for total in totals):
        return None
    return sum(total for total in totals if isinstance(total, float))
