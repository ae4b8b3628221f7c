"""Phase 1's figures: a progress line per run, and medians and ratios over the repetitions."""

from typing import Any

import msgspec

from bench.common.stats import ratio, spread

Runs = dict[str, list[dict[str, Any]]]


def run_line(mode: str, rep: int, name: str, figures: dict[str, Any]) -> str:
    """One progress line of the table printed while running."""
    latency = figures["latency_ms"]
    extra = ""
    if "inflow" in figures:
        extra = f"  inflow applied {figures['inflow']['applied_per_s']:,.0f}/s"
    return (
        f"  {mode:<6} #{rep + 1} {name:<14} {figures['rps']:>8,.0f} req/s"
        f"  p50 {latency['p50']:6.2f} ms  p99 {latency['p99']:7.2f} ms"
        f"  server {figures['server_cpu_us_per_request']:5.0f} us CPU/req"
        f"  busy: server {figures['server_cpu_share']:.2f} client {figures['client_cpu_share']:.2f}"
        f"  waiting for a CPU: server {figures['server_runqueue_wait_share']:.2f}"
        f" client {figures['client_runqueue_wait_share']:.2f}"
        f"  errors {figures['errors']}{extra}"
    )


def _median(runs: list[dict[str, Any]], *path: str) -> float:
    """Median of one figure (found by its key path) over the runs."""
    values = []
    for run in runs:
        value: Any = run
        for key in path:
            value = value[key]
        values.append(float(value))
    return spread(values).median


def summarise(names: list[str], closed: Runs, opened: Runs, skus_served: int) -> dict[str, Any]:
    """Medians per target, the ratios to the baseline, and every run kept."""
    per_target: dict[str, Any] = {}
    for name in names:
        per_target[name] = {
            "max_rps": msgspec.structs.asdict(spread([r["rps"] for r in closed[name]])),
            "cpu_us_per_request": _median(closed[name], "server_cpu_us_per_request"),
            "half_load_rps": _median(opened[name], "planned_rate"),
            "p50_ms": _median(opened[name], "latency_ms", "p50"),
            "p99_ms": _median(opened[name], "latency_ms", "p99"),
            "closed_runs": closed[name],
            "open_runs": opened[name],
        }
    base = per_target["baseline"]
    return {
        "skus": skus_served,
        "targets": per_target,
        "ratio_worker": ratio(per_target["worker"]["max_rps"]["median"], base["max_rps"]["median"]),
        "ratio_worker_inflow": ratio(
            per_target["worker+inflow"]["max_rps"]["median"], base["max_rps"]["median"]
        ),
        "cpu_ratio_worker": ratio(
            base["cpu_us_per_request"], per_target["worker"]["cpu_us_per_request"]
        ),
        "goal_ratio": 0.7,
        "goal_p99_ms": 10.0,
    }
