"""Phase 4: stock events on a hot SKU holding thousands of open order lines, against cold SKUs.

One worker (fresh app id, starting at the inbox's end). The hot SKU is stocked with a
unit for every line to come, then `hot_lines` ReserveLine commands (one order line each)
are published on it, keyed by SKU as the order side sends them. Then, in the same run,
`hot_events` receipts on the hot SKU are timed against as many receipts on as many cold
SKUs, and as many new reservations likewise, in alternating batches, each from the stock
agent's first applied event to its last (its applied counter, polled); each kind's figure
is its median batch. Between batches the worker commits what it read, untimed.
`hot_over_cold` is the hot SKU's time per receipt over a cold SKU's: the goal is at most 2.
The replica's decoding of the larger changelog values runs in the same process: it
slows the agent as far as it runs meanwhile, and its tail after the last event is not
counted.

The reservation answers go to orders that do not exist: the order agent dead-letters
them. The timing starts once it has done so for the 5,000 lines; the timed reservations'
answers are dead-lettered during the timing, hot and cold alike.
"""

import asyncio
import contextlib
import statistics
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any

import aiohttp
import msgspec
from aiokafka import AIOKafkaProducer

from app.dev.workers import WorkerProcess
from bench.common.kafka_io import bulk_producer, committed_lag, send_all
from bench.common.params import Context, Params
from bench.common.procs import counter_total
from bench.common.stats import ratio
from bench.common.workload import KeyedValue, received, sku_name
from protocols.reservations import ReserveLine

WAREHOUSE = "DC-EAST"
APPLIED = 'distgate_events_applied_total{outcome="applied",table="stock"}'
DEAD_LETTERS = "distgate_dead_letters_total"
GOAL = 2.0
ROUNDS = 4
POLL_S = 0.02
SETTLE_POLL_S = 0.2
KINDS = ("cold_receipt", "hot_receipt", "cold_reserve", "hot_reserve")

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
    worker = ctx.procs.worker("hotsku-worker", app_id, ctx.server_cpus)
    try:
        await worker.wait_ready()
        async with aiohttp.ClientSession() as http, _started(bulk_producer(ctx.bootstrap)) as out:
            agent = StockAgent(
                worker, http, out, params.hot_timeout_s, ctx.bootstrap, ctx.partitions
            )
            return await _measure(ctx, params, agent)
    finally:
        worker.terminate()
        worker.wipe_state()


@contextlib.asynccontextmanager
async def _started(producer: AIOKafkaProducer) -> AsyncIterator[AIOKafkaProducer]:
    """The producer, started, and stopped on the way out."""
    await producer.start()
    try:
        yield producer
    finally:
        await producer.stop()


@dataclass
class StockAgent:
    """The worker's stock agent as the phase drives it: messages in, its applied counter out."""

    worker: WorkerProcess
    http: aiohttp.ClientSession
    producer: AIOKafkaProducer
    within: float
    bootstrap: str
    partitions: int

    async def counted(self, metric: str) -> float:
        """A counter of the worker's metrics, now."""
        return await counter_total(self.http, self.worker.url, metric)

    async def until(self, metric: str, wanted: float) -> float:
        """Poll a counter until it reaches `wanted` or time is up; its last value."""
        deadline = time.perf_counter() + self.within
        while (total := await self.counted(metric)) < wanted:
            if time.perf_counter() > deadline:
                break
            await asyncio.sleep(POLL_S)
        return total

    async def apply(self, messages: list[KeyedValue]) -> tuple[float, float]:
        """Produce `messages`; (events, seconds) from the first applied one seen to the last."""
        before = await self.counted(APPLIED)
        watching = asyncio.create_task(self._watch(before, before + len(messages)))
        await send_all(self.producer, self.worker.settings.topics.stock_inbox.name, messages)
        return await watching

    async def settle(self) -> float:
        """Wait until the worker committed all it read (its writes acknowledged); the seconds."""
        started, deployment = time.perf_counter(), self.worker.settings
        group, inbox = deployment.app_id, deployment.topics.stock_inbox.name
        while await committed_lag(self.bootstrap, group, inbox, self.partitions) != 0:
            if time.perf_counter() - started > self.within:
                raise TimeoutError(f"{self.worker.name} did not commit within {self.within} s")
            await asyncio.sleep(SETTLE_POLL_S)
        return time.perf_counter() - started

    async def _watch(self, before: float, wanted: float) -> tuple[float, float]:
        began = time.perf_counter()
        deadline = began + self.within
        first: tuple[float, float] | None = None
        while (total := await self.counted(APPLIED)) < wanted:
            if first is None and total > before:
                first = (time.perf_counter(), total)
            if time.perf_counter() > deadline:
                raise TimeoutError(f"{self.worker.name} applied too little within {self.within} s")
            await asyncio.sleep(POLL_S)
        first = first or (began, before)  # all of it came between two polls
        return total - first[1], time.perf_counter() - first[0]


async def _measure(ctx: Context, params: Params, stock: StockAgent) -> dict[str, Any]:
    tag = f"{ctx.tag}h"
    hot, cold = sku_name(tag, 0), [sku_name(tag, n) for n in range(1, params.hot_events + 1)]
    units = params.hot_lines + params.hot_events  # every line, and the timed reservations
    opening = [received(f"{tag}-stock-{sku}", sku, WAREHOUSE, units) for sku in [hot]]
    await stock.apply(opening + [received(f"{tag}-stock-{s}", s, WAREHOUSE, 10) for s in cold])
    started = time.perf_counter()
    await stock.apply(list(reserve_lines(f"{tag}-b", [hot] * params.hot_lines)))
    reserved = await _until_reserved(stock, hot, params.hot_lines)
    build_s = time.perf_counter() - started
    ctx.say(f"hot sku: {reserved:,} lines reserved on {hot} in {build_s:.1f} s")
    dead = await stock.until(DEAD_LETTERS, params.hot_lines)
    await stock.settle()
    timed = await _timed(stock, tag, hot, cold, params.hot_events)
    per_event = {kind: figures["ms_per_event"] for kind, figures in timed.items()}
    figures = {
        "lines": params.hot_lines,
        "lines_reserved": reserved,
        "build_s": build_s,
        "answers_dead_lettered": dead,
        "events": params.hot_events,
        "batches": ROUNDS,
        "ms_per_event": per_event,
        "timed": timed,
        "hot_over_cold": ratio(per_event["hot_receipt"], per_event["cold_receipt"]),
        "reserve_hot_over_cold": ratio(per_event["hot_reserve"], per_event["cold_reserve"]),
        "goal_hot_over_cold": GOAL,
    }
    ctx.say(
        f"hot sku: ms/event {', '.join(f'{k} {v:.2f}' for k, v in per_event.items())}:"
        f" hot/cold receipts {figures['hot_over_cold']:.1f},"
        f" reservations {figures['reserve_hot_over_cold']:.1f}"
    )
    return figures


async def _timed(
    stock: StockAgent, tag: str, hot: str, cold: list[str], count: int
) -> dict[str, dict[str, Any]]:
    """Per kind of event, on the hot SKU and on cold ones: the median batch's ms per event.

    After each batch the worker commits what it read, untimed, so a batch's slow flush
    of large changelog values stalls no other batch; how long that took is kept.
    """
    batches: dict[str, list[tuple[float, float]]] = {kind: [] for kind in KINDS}
    for batch in range(ROUNDS):  # interleaved, so a change in the machine's load hits all alike
        chosen = range(batch, count, ROUNDS)
        runs = {
            "cold_receipt": [received(f"{tag}-cr-{n}", cold[n], WAREHOUSE, 1) for n in chosen],
            "hot_receipt": [received(f"{tag}-hr-{n}", hot, WAREHOUSE, 1) for n in chosen],
            "cold_reserve": list(reserve_lines(f"{tag}-c{batch}", [cold[n] for n in chosen])),
            "hot_reserve": list(reserve_lines(f"{tag}-h{batch}", [hot for _ in chosen])),
        }
        for kind, messages in runs.items():
            events, seconds = await stock.apply(messages)
            batches[kind].append((1000.0 * seconds / max(1.0, events), await stock.settle()))
    return {
        kind: {
            "ms_per_event": statistics.median(ms for ms, _ in found),
            "batches_ms_per_event": [ms for ms, _ in found],
            "commit_after_s": [settled for _, settled in found],
        }
        for kind, found in batches.items()
    }


def reserve_lines(prefix: str, skus: list[str]) -> Iterator[KeyedValue]:
    """A one-unit ReserveLine per SKU given, each for a new order's line 1, keyed by SKU."""
    for number, sku in enumerate(skus):
        command = ReserveLine(
            event_id=f"{prefix}-reserve-{number}",
            sku=sku,
            order_id=f"HOT-{prefix}-{number:05d}",
            line_no=1,
            qty=1,
            warehouse=WAREHOUSE,
        )
        yield sku.encode(), _encoder.encode(command)


async def _until_reserved(stock: StockAgent, sku: str, wanted: int) -> int:
    """Units reserved on `sku` once the worker's ATP answer shows `wanted` (or time is up)."""
    deadline = time.perf_counter() + stock.within
    while True:
        async with stock.http.get(f"{stock.worker.url}/v1/atp/{sku}") as response:
            answer = msgspec.json.decode(await response.read(), type=_Answer)
        reserved = sum(position.reserved for position in answer.warehouses)
        if reserved >= wanted or time.perf_counter() > deadline:
            return reserved
        await asyncio.sleep(0.1)
