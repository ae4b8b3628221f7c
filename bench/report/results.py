"""The bench's final table and its report.json."""

import datetime as dt
import math
from pathlib import Path
from typing import Any

import msgspec

MIB = 2**20


def default_out_dir() -> Path:
    """A new `bench-report-<timestamp>` folder in the current directory."""
    return Path.cwd() / f"bench-report-{dt.datetime.now().strftime('%Y%m%d-%H%M%S')}"


def write_report(out_dir: Path, report: dict[str, Any]) -> Path:
    """Write report.json (NaN written as null) and return its path."""
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / "report.json"
    path.write_bytes(msgspec.json.format(msgspec.json.encode(_finite(report)), indent=2))
    return path


def _finite(value: Any) -> Any:
    """The value with NaN and infinities replaced by None (JSON has neither)."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(item) for item in value]
    return value


def _verdict(ok: bool) -> str:
    return "ok" if ok else "MISS"


def summary_lines(report: dict[str, Any]) -> list[str]:
    """The final table: medians, baselines, ratios and goals."""
    lines = ["", "== distgate bench: stock (medians of the repetitions) =="]
    if "atp" in report:
        lines += _atp_lines(report["atp"])
    if "projection" in report:
        lines += _projection_lines(report["projection"])
    if "restore" in report:
        lines += _restore_lines(report["restore"])
    if "hot_sku" in report:
        lines += _hot_sku_lines(report["hot_sku"])
    for phase, error in report.get("errors", {}).items():
        last = error.strip().splitlines()[-1] if error.strip() else "?"
        lines.append(f"{phase}: FAILED: {last}")
    return lines


def _atp_lines(atp: dict[str, Any]) -> list[str]:
    targets = atp["targets"]
    base = targets["baseline"]
    lines = [
        f"ATP GET /v1/atp/{{sku}} over {atp['skus']:,} SKUs",
        f"  {'':<16}{'req/s':>9}{'ratio':>7}{'us CPU/req':>12}{'half-load':>11}"
        f"{'p50 ms':>8}{'p99 ms':>8}",
    ]
    for name in ("baseline", "worker", "worker+inflow"):
        target = targets[name]
        share = target["max_rps"]["median"] / base["max_rps"]["median"]
        lines.append(
            f"  {name:<16}{target['max_rps']['median']:>9,.0f}{share:>7.2f}"
            f"{target['cpu_us_per_request']:>12,.0f}{target['half_load_rps']:>11,.0f}"
            f"{target['p50_ms']:>8.2f}{target['p99_ms']:>8.2f}"
        )
    lines.append(
        f"  CPU-normalised ratio (baseline us/req / worker us/req): {atp['cpu_ratio_worker']:.2f}"
    )
    worst_p99 = max(targets["worker"]["p99_ms"], targets["worker+inflow"]["p99_ms"])
    goal = atp["goal_ratio"]
    lines.append(
        f"  goals: ratio >= {goal} -> {_verdict(atp['ratio_worker'] >= goal)}"
        f" (with inflow {_verdict(atp['ratio_worker_inflow'] >= goal)});"
        f" p99 <= {atp['goal_p99_ms']} ms -> {_verdict(worst_p99 <= atp['goal_p99_ms'])}"
    )
    return lines


def _projection_lines(projection: dict[str, Any]) -> list[str]:
    raw, worker = projection["raw_events_per_s"], projection["worker_events_per_s"]
    return [
        f"Projection over {projection['topic_records']:,} inbox records",
        f"  raw aiokafka + msgspec loop {raw['median']:>10,.0f} events/s"
        f"  ({projection['raw_cpu_us_per_event']:.1f} us CPU/event)",
        f"  worker (fresh app id)       {worker['median']:>10,.0f} events/s"
        f"  ({projection['worker_cpu_us_per_event']:.1f} us CPU/event)",
        f"  ratio {projection['ratio']:.4f} (CPU-normalised {projection['cpu_ratio']:.4f});"
        f" goal >= {projection['goal_ratio']}"
        f" -> {_verdict(projection['ratio'] >= projection['goal_ratio'])}",
    ]


def _restore_lines(restore: dict[str, Any]) -> list[str]:
    lines = [f"Restore of {restore['positions']:,} positions ({restore['skus']:,} SKUs)"]
    for run in ("cold", "warm"):
        if run not in restore:
            continue
        figures = restore[run]
        rss = figures["rss_bytes_after_ready"] / MIB
        ok = figures["ready_s"] < 60 and figures["rss_bytes_after_ready"] < 1024 * MIB
        lines.append(
            f"  {run:<5} ready {figures['ready_s']:6.1f} s  RSS {rss:,.0f} MiB"
            f"  peak {figures['peak_rss_bytes'] / MIB:,.0f} MiB"
            f"  (goals < 60 s, < 1 GiB -> {_verdict(ok)})"
        )
    return lines


def _hot_sku_lines(hot: dict[str, Any]) -> list[str]:
    goal, per_event = hot["goal_hot_over_cold"], hot["ms_per_event"]
    return [
        f"Hot SKU with {hot['lines_reserved']:,} open order lines"
        f" (built in {hot['build_s']:.1f} s); {hot['events']:,} events of each kind,"
        f" median of {hot['batches']} batches",
        f"  receipts:     hot {per_event['hot_receipt']:.2f} ms/event,"
        f" cold {per_event['cold_receipt']:.2f}; hot/cold {hot['hot_over_cold']:.1f}"
        f" (goal <= {goal:g} -> {_verdict(hot['hot_over_cold'] <= goal)})",
        f"  reservations: hot {per_event['hot_reserve']:.2f} ms/event,"
        f" cold {per_event['cold_reserve']:.2f}; hot/cold {hot['reserve_hot_over_cold']:.1f}",
    ]
