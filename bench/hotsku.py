"""Phase 4: stock events on a hot SKU holding thousands of open order lines, against cold SKUs.

One worker (fresh app id, starting at the inbox's end). The hot SKU is stocked with one
unit per line to come, then `hot_lines` ReserveLine commands (one order line each) are
published on it, keyed by SKU as the order side sends them. Then, in the same run,
`hot_events` receipts on the hot SKU are timed against as many receipts on as many cold
SKUs, each batch from its first produce to the stock agent having applied its last event.
`hot_over_cold` is the hot SKU's time per event over a cold SKU's: the goal is at most 2.
The time is the stock agent's: the replica's decoding of the larger changelog values
runs after it, in the same process, and is not counted.

The reservation answers go to orders that do not exist: the order agent dead-letters
them, and the timing starts only once it has, so it does not share the worker's CPU.
"""

import asyncio
import time
from collections.abc import Iterator
from typing import Any

import aiohttp
import msgspec

from app.dev.workers import WorkerProcess
from bench.kafka_io import offsets, produce_all, start_group_at
from bench.params import Context, Params
from bench.procs import counter_total
from bench.stats import ratio
from bench.workload import KeyedValue, received, sku_name
from protocols.reservations import ReserveLine
from protocols.topics import Topics

INBOX = Topics.STOCK_INBOX.name
WAREHOUSE = "DC-EAST"
APPLIED = 'distgate_events_applied_total{outcome="applied",table="stock"}'
DEAD_LETTERS = "distgate_dead_letters_total"
GOAL = 2.0

_encoder = msgspec.json.Encoder()


class _Position(msgspec.Struct):
    """The part of an ATP answer's warehouse the phase checks."""

    reserved: int


class _Answer(msgspec.Struct):
    """The part of an ATP answer the phase checks."""

    warehouses: list[_Position]


async def measure_hot_sku(ctx: Context, params: Params) -> dict[str, Any]:
    """Build the hot SKU's lines, then time hot against cold events on one worker."""
    app_id = ctx.procs.new_app_id("hotsku")
    _, end = await offsets(ctx.bootstrap, INBOX, ctx.partitions)
    await start_group_at(ctx.bootstrap, app_id, end)
    worker = ctx.procs.worker("hotsku-worker", app_id, ctx.server_cpus)
    try:
        await worker.wait_ready()
        async with aiohttp.ClientSession() as http:
            return await _measure(ctx, params, worker, http)
    finally:
        worker.terminate()
        worker.wipe_state()


async def _measure(
    ctx: Context, params: Params, worker: WorkerProcess, http: aiohttp.ClientSession
) -> dict[str, Any]:
    tag = f"{ctx.tag}h"
    hot, cold = sku_name(tag, 0), [sku_name(tag, n) for n in range(1, params.hot_events + 1)]
    stock = [received(f"{tag}-stock-{sku}", sku, WAREHOUSE, params.hot_lines) for sku in [hot]]
    stock += [received(f"{tag}-stock-{sku}", sku, WAREHOUSE, 10) for sku in cold]
    await _applied_all(ctx, params, worker, http, stock)
    started = time.perf_counter()
    lines = list(reserve_lines(tag, hot, params.hot_lines))
    await _applied_all(ctx, params, worker, http, lines)
    build_s = time.perf_counter() - started
    reserved = await _until_reserved(http, worker.url, hot, params.hot_lines, params.hot_timeout_s)
    ctx.say(f"hot sku: {reserved:,} lines reserved on {hot} in {build_s:.1f} s")
    dead = await _until_counted(http, worker, DEAD_LETTERS, params.hot_lines, params.hot_timeout_s)
    receipts = [received(f"{tag}-cold-{sku}", sku, WAREHOUSE, 1) for sku in cold]
    cold_s = await _applied_all(ctx, params, worker, http, receipts)
    receipts = [received(f"{tag}-hot-{n}", hot, WAREHOUSE, 1) for n in range(params.hot_events)]
    hot_s = await _applied_all(ctx, params, worker, http, receipts)
    figures = {
        "lines": params.hot_lines,
        "lines_reserved": reserved,
        "build_s": build_s,
        "answers_dead_lettered": dead,
        "events": params.hot_events,
        "cold_ms_per_event": 1000.0 * cold_s / params.hot_events,
        "hot_ms_per_event": 1000.0 * hot_s / params.hot_events,
        "hot_over_cold": ratio(hot_s, cold_s),
        "goal_hot_over_cold": GOAL,
    }
    ctx.say(
        f"hot sku: {figures['hot_ms_per_event']:.2f} ms/event hot, "
        f"{figures['cold_ms_per_event']:.2f} ms/event cold: hot/cold {figures['hot_over_cold']:.1f}"
    )
    return figures


def reserve_lines(tag: str, sku: str, count: int) -> Iterator[KeyedValue]:
    """`count` one-unit ReserveLine commands on `sku`, one order line each, keyed by SKU."""
    for number in range(count):
        command = ReserveLine(
            event_id=f"{tag}-reserve-{number}",
            sku=sku,
            order_id=f"HOT-{tag}-{number:05d}",
            line_no=1,
            qty=1,
            warehouse=WAREHOUSE,
        )
        yield sku.encode(), _encoder.encode(command)


async def _applied_all(
    ctx: Context,
    params: Params,
    worker: WorkerProcess,
    http: aiohttp.ClientSession,
    messages: list[KeyedValue],
) -> float:
    """Produce `messages` and wait until the stock agent applied them all; the seconds taken."""
    before = await counter_total(http, worker.url, APPLIED)
    started = time.perf_counter()
    await produce_all(ctx.bootstrap, INBOX, messages)
    wanted = before + len(messages)
    if await _until_counted(http, worker, APPLIED, wanted, params.hot_timeout_s) < wanted:
        raise TimeoutError(f"{worker.name} applied too little within {params.hot_timeout_s} s")
    return time.perf_counter() - started


async def _until_counted(
    http: aiohttp.ClientSession, worker: WorkerProcess, metric: str, wanted: float, within: float
) -> float:
    """Poll a counter until it reaches `wanted` or `within` seconds passed; its last value."""
    deadline = time.perf_counter() + within
    while (total := await counter_total(http, worker.url, metric)) < wanted:
        if time.perf_counter() > deadline:
            break
        await asyncio.sleep(0.02)
    return total


async def _until_reserved(
    http: aiohttp.ClientSession, url: str, sku: str, wanted: int, within: float
) -> int:
    """Units reserved on `sku` once the worker's ATP answer shows `wanted` (or time is up)."""
    deadline = time.perf_counter() + within
    while True:
        async with http.get(f"{url}/v1/atp/{sku}") as response:
            answer = msgspec.json.decode(await response.read(), type=_Answer)
        reserved = sum(position.reserved for position in answer.warehouses)
        if reserved >= wanted or time.perf_counter() > deadline:
            return reserved
        await asyncio.sleep(0.1)
