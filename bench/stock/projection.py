"""Phase 2: stock projection events/s of a worker vs a raw consume-and-decode loop."""

import asyncio
import time
from typing import Any

import aiohttp
import msgspec

from app.dev.workers import WorkerProcess
from bench.common.deployment import copy_records, declare_deployment
from bench.common.kafka_io import Offsets, committed_lag, offsets, produce_all
from bench.common.params import Context, Params
from bench.common.procs import counter_total, cpu_seconds, pid_of, runqueue_wait_seconds
from bench.common.stats import ratio, spread
from bench.common.workload import catalogue, random_receipts

APPLIED = "distgate_events_applied_total"


async def measure_projection(ctx: Context, params: Params) -> dict[str, Any]:
    """Pre-produce the backlog, then alternate raw-loop and worker drains of all of it."""
    cat = catalogue(f"{ctx.tag}p", params.skus, seed=11)
    ctx.say(f"projection: producing a backlog of {params.backlog:,} receipts")
    deployment = await declare_deployment(ctx.procs.new_app_id("backlog"))
    inbox = deployment.topics.stock_inbox.name
    _, start = await offsets(ctx.bootstrap, inbox, ctx.partitions)
    started = time.perf_counter()
    await produce_all(ctx.bootstrap, inbox, random_receipts(cat, params.backlog, 13, "backlog"))
    produce_s = time.perf_counter() - started
    _, end = await offsets(ctx.bootstrap, inbox, ctx.partitions)
    total = sum(end[tp] - start[tp] for tp in end)
    raw_runs: list[dict[str, float]] = []
    worker_runs: list[dict[str, Any]] = []
    for rep in range(params.repetitions):
        raw_runs.append(await _raw_loop(ctx, inbox, start))
        ctx.say(_line("raw loop", rep, raw_runs[-1]))
        worker_runs.append(await _worker_drain(ctx, params, start, total, rep))
        ctx.say(_line("worker", rep, worker_runs[-1]))
    raw = spread([r["events_per_s"] for r in raw_runs])
    worker = spread([r["events_per_s"] for r in worker_runs])
    return {
        "backlog_produced": params.backlog,
        "backlog_produce_s": produce_s,
        "topic_records": total,
        "read_from": "the inbox end offsets just before the backlog (both loops)",
        "raw_events_per_s": msgspec.structs.asdict(raw),
        "worker_events_per_s": msgspec.structs.asdict(worker),
        "ratio": ratio(worker.median, raw.median),
        "goal_ratio": 0.5,
        "raw_cpu_us_per_event": _median_cpu(raw_runs),
        "worker_cpu_us_per_event": _median_cpu(worker_runs),
        "cpu_ratio": ratio(_median_cpu(raw_runs), _median_cpu(worker_runs)),
        "raw_runs": raw_runs,
        "worker_runs": worker_runs,
    }


def _line(name: str, rep: int, figures: dict[str, Any]) -> str:
    """One progress line: rate, CPU per event and, for the worker, the wait for a CPU."""
    per_event = 1e6 * figures["cpu_seconds"] / max(1, figures["records"])
    waited = figures.get("runqueue_wait_share")
    extra = "" if waited is None else f"  waited for a CPU {waited:.2f} of the time"
    return (
        f"  {name:<9} #{rep + 1}: {figures['events_per_s']:>9,.0f} events/s"
        f"  {per_event:7.1f} us CPU/event{extra}"
    )


def _median_cpu(runs: list[dict[str, Any]]) -> float:
    """Median CPU microseconds per record over the runs."""
    return spread([1e6 * r["cpu_seconds"] / max(1, r["records"]) for r in runs]).median


async def _raw_loop(ctx: Context, inbox: str, start: Offsets) -> dict[str, float]:
    """One raw consume-and-decode pass in its own process, on the server's CPU."""
    positions = {tp.partition: offset for tp, offset in start.items()}
    args = [ctx.bootstrap, inbox, msgspec.json.encode(positions).decode()]
    figures: dict[str, float] = await ctx.procs.figures(
        "bench.stock.rawloop", args, ctx.server_cpus, "rawloop.log", 300
    )
    return figures


async def _worker_drain(
    ctx: Context, params: Params, start: Offsets, total: int, rep: int
) -> dict[str, Any]:
    """A worker with a fresh app id reads the backlog from its start; time until it applied all."""
    return await fresh_worker_drain(ctx, start, total, f"projection-{rep}", params.drain_timeout_s)


async def fresh_worker_drain(
    ctx: Context, start: Offsets, total: int, name: str, within: float
) -> dict[str, Any]:
    """A worker of a new app id drains a copy of the inbox records from `start` in its own
    inbox: events/s from its first applied event to its `total`-th, and its CPU per event."""
    app_id = ctx.procs.new_app_id("projection")
    inbox = (await declare_deployment(app_id)).topics.stock_inbox.name
    source = next(iter(start)).topic
    _, end = await offsets(ctx.bootstrap, source, ctx.partitions)
    await copy_records(ctx.bootstrap, start, inbox, end)
    worker = ctx.procs.worker(name, app_id, ctx.server_cpus)
    try:
        await worker.wait_ready()
        figures = await _poll_until_applied(worker, total, within)
        figures["commit_lag_zero_after_s"] = await _committed(ctx, app_id, inbox, within=15.0)
    finally:
        worker.terminate()
        worker.wipe_state()
    return figures


async def _committed(ctx: Context, app_id: str, inbox: str, within: float) -> float | None:
    """Seconds until the group's committed offsets reach the inbox's end (None: not in time)."""
    started = time.monotonic()
    while time.monotonic() - started < within:
        if await committed_lag(ctx.bootstrap, app_id, inbox, ctx.partitions) == 0:
            return time.monotonic() - started
        await asyncio.sleep(0.5)
    return None


async def _poll_until_applied(worker: WorkerProcess, total: int, within: float) -> dict[str, Any]:
    """Poll the applied counter; events/s counts from the first applied event to the last.

    A backlog applied whole between two polls counts from the last poll that saw nothing.
    """
    pid = pid_of(worker, "agents-0")  # the agents process: where the projection runs
    deadline = time.monotonic() + within
    first: tuple[float, float, float, float] | None = None
    idle = (time.monotonic(), 0.0, cpu_seconds(pid), runqueue_wait_seconds(pid))
    async with aiohttp.ClientSession() as session:
        while True:
            applied = await counter_total(session, worker.url, APPLIED)
            now = time.monotonic()
            if first is None and applied > 0:
                sample = (now, applied, cpu_seconds(pid), runqueue_wait_seconds(pid))
                first = idle if applied >= total else sample
            elif first is None:
                idle = (now, 0.0, cpu_seconds(pid), runqueue_wait_seconds(pid))
            if applied >= total or now > deadline:
                break
            await asyncio.sleep(0.25)
    if first is None:
        raise RuntimeError(f"{worker.name} applied nothing within {within}s:\n{worker.log_tail()}")
    seconds = max(1e-9, now - first[0])
    records = applied - first[1]
    return {
        "app_id": worker.env["DISTGATE_APP_ID"],
        "records": records,
        "applied_total": applied,
        "drained": applied >= total,
        "seconds": seconds,
        "events_per_s": records / seconds,
        "cpu_seconds": cpu_seconds(pid) - first[2],
        "runqueue_wait_share": (runqueue_wait_seconds(pid) - first[3]) / seconds,
    }
