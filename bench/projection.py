"""Phase 2: stock projection events/s of a worker vs a raw consume-and-decode loop."""

import asyncio
import time
from typing import Any

import aiohttp
import msgspec

from app.dev.workers import WorkerProcess
from bench.kafka_io import produce_all, record_count
from bench.params import Context, Params
from bench.procs import counter_total, cpu_seconds, pid_of
from bench.stats import ratio, spread
from bench.workload import catalogue, random_receipts
from protocols.topics import Topics

INBOX = Topics.STOCK_INBOX.name
APPLIED = "distgate_events_applied_total"


async def measure_projection(ctx: Context, params: Params) -> dict[str, Any]:
    """Pre-produce the backlog, then alternate raw-loop and worker drains of the whole inbox."""
    cat = catalogue(f"{ctx.tag}p", params.skus, seed=11)
    ctx.say(f"projection: producing a backlog of {params.backlog:,} receipts")
    started = time.perf_counter()
    await produce_all(ctx.bootstrap, INBOX, random_receipts(cat, params.backlog, 13, "backlog"))
    produce_s = time.perf_counter() - started
    total = await record_count(ctx.bootstrap, INBOX, ctx.partitions)
    raw_runs: list[dict[str, float]] = []
    worker_runs: list[dict[str, Any]] = []
    for rep in range(params.repetitions):
        raw_runs.append(await _raw_loop(ctx))
        ctx.say(f"  raw loop   #{rep + 1}: {raw_runs[-1]['events_per_s']:>9,.0f} events/s")
        worker_runs.append(await _worker_drain(ctx, params, total, rep))
        ctx.say(f"  worker     #{rep + 1}: {worker_runs[-1]['events_per_s']:>9,.0f} events/s")
    raw = spread([r["events_per_s"] for r in raw_runs])
    worker = spread([r["events_per_s"] for r in worker_runs])
    return {
        "backlog_produced": params.backlog,
        "backlog_produce_s": produce_s,
        "topic_records": total,
        "raw_events_per_s": msgspec.structs.asdict(raw),
        "worker_events_per_s": msgspec.structs.asdict(worker),
        "ratio": ratio(worker.median, raw.median),
        "goal_ratio": 0.5,
        "raw_cpu_us_per_event": _median_cpu(raw_runs),
        "worker_cpu_us_per_event": _median_cpu(worker_runs),
        "raw_runs": raw_runs,
        "worker_runs": worker_runs,
    }


def _median_cpu(runs: list[dict[str, Any]]) -> float:
    """Median CPU microseconds per record over the runs."""
    return spread([1e6 * r["cpu_seconds"] / max(1, r["records"]) for r in runs]).median


async def _raw_loop(ctx: Context) -> dict[str, float]:
    """One raw consume-and-decode pass in its own process, on the server's CPU."""
    args = [ctx.bootstrap, INBOX, str(ctx.partitions)]
    child = ctx.procs.module("bench.rawloop", args, ctx.server_cpus, "rawloop.log")
    out, _ = await asyncio.to_thread(child.communicate, timeout=300)
    if child.returncode != 0:
        raise RuntimeError(f"raw loop failed with exit code {child.returncode}")
    figures: dict[str, float] = msgspec.json.decode(out.splitlines()[-1])
    return figures


async def _worker_drain(ctx: Context, params: Params, total: int, rep: int) -> dict[str, Any]:
    """A worker with a fresh app id reads the inbox from the start; time until it applied all."""
    app_id = ctx.procs.new_app_id("projection")
    worker = ctx.procs.worker(f"projection-{rep}", app_id, ctx.server_cpus)
    try:
        await worker.wait_ready()
        figures = await _poll_until_applied(worker, total, params.drain_timeout_s)
    finally:
        worker.terminate()
        worker.wipe_state()
    return figures


async def _poll_until_applied(worker: WorkerProcess, total: int, within: float) -> dict[str, Any]:
    """Poll the applied counter; events/s counts from the first applied event to the last."""
    pid = pid_of(worker)
    deadline = time.monotonic() + within
    first: tuple[float, float, float] | None = None
    async with aiohttp.ClientSession() as session:
        while True:
            applied = await counter_total(session, worker.url, APPLIED)
            now = time.monotonic()
            if first is None and applied > 0:
                first = (now, applied, cpu_seconds(pid))
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
    }
