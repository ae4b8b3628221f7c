"""Phase 2: ATP capacity, the worker against a bare aiohttp handler serving the same bytes.

A closed loop (each connection sends its next request when the answer came) finds the
most requests per second each server gives, GET and check alike, the baseline and the
first worker taking turns, so machine noise falls on both. Then wrk, when installed, finds
each one's GET capacity again with a client written in C: the Python client may be the limit.
"""

from typing import Any, Literal

import msgspec

from app.dev.workers import WorkerProcess
from bench.common.params import Context
from bench.common.procs import pid_of, stop_child
from bench.common.stats import ratio
from bench.common.workload import Catalogue, skewed_indices
from bench.load import wrk
from bench.load.loadgen import Plan
from bench.stock.atp_setup import answer_bodies, start_baseline

WRK_PATHS = 10_000  # the Lua script's list of skewed SKU paths

Kind = Literal["get", "check"]


async def measure_capacity(
    ctx: Context, cat: Catalogue, worker: WorkerProcess, connections: int, seconds: float
) -> dict[str, Any]:
    """{get|check: {baseline|worker: loadgen figures}, wrk: its GET figures} over `seconds`."""
    bodies = await answer_bodies(worker.url, cat, within=300)
    baseline, baseline_url = start_baseline(ctx, bodies)
    skus_file = ctx.procs.workdir / "capacity-skus.json"
    skus_file.write_bytes(msgspec.json.encode(cat.skus))
    targets = {
        "baseline": (baseline_url, baseline.pid),
        "worker": (worker.url, pid_of(worker, "api")),
    }
    figures: dict[str, Any] = {"get": {}, "check": {}}
    try:
        for kind in ("get", "check"):
            for name, (url, pid) in targets.items():
                plan = Plan(
                    url=url,
                    skus_file=str(skus_file),
                    mode="closed",
                    connections=connections,
                    warmup_s=1.0,
                    duration_s=seconds,
                    server_pid=pid,
                    kind=kind,
                )
                figures[kind][name] = await _run(ctx, plan)
                ctx.say(_line(kind, name, figures[kind][name]))
        figures["wrk"] = await _with_wrk(ctx, cat, targets, connections, seconds)
    finally:
        stop_child(baseline)
    return figures


async def _with_wrk(
    ctx: Context,
    cat: Catalogue,
    targets: dict[str, tuple[str, int]],
    connections: int,
    seconds: float,
) -> dict[str, Any]:
    """ATP GET with wrk against each target, same connections and length; or why not."""
    if not wrk.installed():
        ctx.say(f"capacity: ATP GET with wrk: {wrk.NOT_INSTALLED}")
        return {"available": False, "note": wrk.NOT_INSTALLED}
    script = ctx.procs.workdir / "capacity-get.lua"
    paths = [f"/v1/atp/{cat.skus[i]}" for i in skewed_indices(len(cat.skus), WRK_PATHS, 1)]
    script.write_text(wrk.lua_script(paths))
    found: dict[str, Any] = {"available": True, "threads": wrk.THREADS, "connections": connections}
    for name, (url, _pid) in targets.items():
        found[name] = await wrk.run(url, script, connections, seconds, within=seconds + 60)
        ctx.say(_line("GET", f"{name} (wrk)", found[name]))
    found["ratio"] = ratio(found["worker"]["rps"], found["baseline"]["rps"])
    return found


async def _run(ctx: Context, plan: Plan) -> Any:
    args = [msgspec.json.encode(plan).decode()]
    return await ctx.procs.figures(
        "bench.load.loadgen", args, ctx.load_cpus, "loadgen.log", plan.duration_s + 120
    )


def _line(kind: str, name: str, figures: dict[str, Any]) -> str:
    latency = figures["latency_ms"]
    return (
        f"capacity: ATP {kind:<5} {name:<14} {figures['rps']:>8,.0f} req/s"
        f"  p50 {latency['p50']:.1f} ms  p99 {latency['p99']:.1f} ms  errors {figures['errors']}"
    )
