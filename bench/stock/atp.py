"""Phase 1: ATP GET throughput (closed loop) and latency at half load (open loop) vs a baseline."""

import asyncio
import time
from dataclasses import dataclass
from typing import Any, Literal

import aiohttp
import msgspec

from app.dev.workers import WorkerProcess
from bench.common.params import Context, Params
from bench.common.procs import counter_total, pid_of, stop_child
from bench.common.stats import spread
from bench.common.workload import Catalogue, catalogue
from bench.load.loadgen import Plan
from bench.stock.atp_setup import answer_bodies, inflow, loaded_worker, start_baseline
from bench.stock.atp_summary import run_line, summarise

APPLIED = "distgate_events_applied_total"


@dataclass(frozen=True)
class Target:
    """A server under load: the worker (optionally with inventory inflow) or the baseline."""

    name: str
    url: str
    pid: int
    inflow: str | None = None  # the stock inbox receipts flow into while it is loaded


async def measure_atp(ctx: Context, params: Params) -> dict[str, Any]:
    """Load the catalogue, then measure every target, repetitions interleaved."""
    cat = catalogue(f"{ctx.tag}a", params.skus)
    worker = await loaded_worker(ctx, params, cat)
    try:
        return await _measure_against_baseline(ctx, params, cat, worker)
    finally:
        worker.terminate()
        worker.wipe_state()


async def _measure_against_baseline(
    ctx: Context, params: Params, cat: Catalogue, worker: WorkerProcess
) -> dict[str, Any]:
    """Closed loop on each target, then open loop at half of each one's max."""
    started = time.perf_counter()
    bodies = await answer_bodies(worker.url, cat, within=params.drain_timeout_s)
    ctx.say(
        f"atp: all {len(bodies):,} SKUs answer as loaded ({time.perf_counter() - started:.1f} s)"
    )
    baseline, baseline_url = start_baseline(ctx, bodies)
    skus_file = ctx.procs.workdir / "atp-skus.json"
    skus_file.write_bytes(msgspec.json.encode(cat.skus))
    targets = [
        Target("baseline", baseline_url, baseline.pid),
        Target("worker", worker.url, pid_of(worker, "api")),
        Target(
            "worker+inflow",
            worker.url,
            pid_of(worker, "api"),
            inflow=worker.settings.topics.stock_inbox.name,
        ),
    ]
    try:
        closed = await _rounds(ctx, params, cat, targets, str(skus_file), {})
        half = {t.name: spread([r["rps"] for r in closed[t.name]]).median / 2 for t in targets}
        opened = await _rounds(ctx, params, cat, targets, str(skus_file), half)
    finally:
        stop_child(baseline)
    return summarise([t.name for t in targets], closed, opened, len(bodies))


async def _rounds(
    ctx: Context,
    params: Params,
    cat: Catalogue,
    targets: list[Target],
    skus_file: str,
    rates: dict[str, float],
) -> dict[str, list[dict[str, Any]]]:
    """Every repetition runs every target once (interleaved, so drift hits all alike)."""
    mode: Literal["closed", "open"] = "open" if rates else "closed"
    results: dict[str, list[dict[str, Any]]] = {t.name: [] for t in targets}
    for rep in range(params.repetitions):
        for target in targets:
            plan = Plan(
                url=target.url,
                skus_file=skus_file,
                mode=mode,
                connections=params.connections,
                warmup_s=params.warmup_s,
                duration_s=params.closed_s if mode == "closed" else params.open_s,
                rate=rates.get(target.name, 0.0),
                seed=rep + 1,
                server_pid=target.pid,
            )
            figures = await _one_run(
                ctx, params, cat, target, plan, run=rep + (100 if rates else 0)
            )
            results[target.name].append(figures)
            ctx.say(run_line(mode, rep, target.name, figures))
    return results


async def _one_run(
    ctx: Context, params: Params, cat: Catalogue, target: Target, plan: Plan, run: int
) -> dict[str, Any]:
    """One load generator run, with the inflow beside it if the target asks for it."""
    seconds = plan.warmup_s + plan.duration_s
    async with aiohttp.ClientSession() as http:
        applied = await counter_total(http, target.url, APPLIED) if target.inflow else 0.0
        started = time.perf_counter()
        child = ctx.procs.module(
            "bench.load.loadgen", [msgspec.json.encode(plan).decode()], ctx.load_cpus, "loadgen.log"
        )
        flow = (
            asyncio.create_task(
                inflow(ctx.bootstrap, target.inflow, cat, params.inflow_rate, seconds, run)
            )
            if target.inflow
            else None
        )
        out, _ = await asyncio.to_thread(child.communicate, timeout=seconds + 60)
        elapsed = time.perf_counter() - started
        figures: dict[str, Any] = msgspec.json.decode(out.splitlines()[-1])
        if flow is not None:
            produced = await flow
            done = await counter_total(http, target.url, APPLIED) - applied
            catch_up = await _catch_up(http, target.url, applied + produced, params.drain_timeout_s)
            figures["inflow"] = {
                "produced": produced,
                "applied_per_s": done / elapsed,
                "catch_up_s": catch_up,
            }
    return figures


async def _catch_up(http: aiohttp.ClientSession, url: str, target: float, within: float) -> float:
    """Seconds until the worker applied the inflow's backlog, so the next run starts idle."""
    started = time.perf_counter()
    while await counter_total(http, url, APPLIED) < target:
        if time.perf_counter() - started > within:
            break
        await asyncio.sleep(0.25)
    return time.perf_counter() - started
