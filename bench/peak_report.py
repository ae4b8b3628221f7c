"""The peak bench's report: every path's figures, each as a ratio to its raw baseline.

Ratios compare like with like, measured in the same run: ATP capacity (closed loop)
against a bare aiohttp handler serving the same bytes; the bridge draining a backlog in
a whole worker against a raw aio-pika consume-and-ack loop over the same backlog; the
stock projection against a raw aiokafka consume-and-decode loop over the same records.
Orders have no raw equivalent: their figures stand alone.
"""

import datetime as dt
import math
from typing import Any

from bench.machine import describe
from bench.peak_params import PeakParams
from bench.stats import ratio


def assemble(
    params: PeakParams, seed: dict[str, Any], capacity: dict[str, Any], peak: dict[str, Any]
) -> dict[str, Any]:
    """The whole report; `correct` is true only when every check passed."""
    shop, wms, monitor = peak["shop"], peak["wms"], peak["monitor"]
    seconds = int(params.duration)
    recorders = {
        "atp_get": shop.atp_get,
        "atp_check": shop.atp_check,
        "order_reserved": shop.orders,
        "amqp_to_atp": wms.probes,
    }
    paths = {name: recorder.summary(params.duration) for name, recorder in recorders.items()}
    _add_ratios(paths, seed, capacity)
    paths["projection"] = _projection(seed)
    for name, dropped in peak["dropped"].items():
        paths[name]["dropped"] = dropped
    checks = peak["checks"]
    return {
        "correct": bool(checks) and all(check["ok"] for check in checks),
        "started_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "duration_s": params.duration,
        "config": params.report_config(),
        "machine": describe(),
        "paths": paths,
        "baselines": _baselines(seed, capacity),
        "capacity": capacity,
        "seed": seed,
        "workers": monitor.summary(),
        "timeline": {
            "t": list(range(1, seconds + 1)),
            "paths": {name: r.timeline(seconds) for name, r in recorders.items()},
            "workers": monitor.timeline(),
        },
        "histograms": {name: r.histogram() for name, r in recorders.items()},
        "checks": checks,
    }


def _add_ratios(paths: dict[str, Any], seed: dict[str, Any], capacity: dict[str, Any]) -> None:
    for name, kind in (("atp_get", "get"), ("atp_check", "check")):
        worker, base = capacity[kind]["worker"]["rps"], capacity[kind]["baseline"]["rps"]
        paths[name] |= {
            "baseline": f"aiohttp_handler_{kind}",
            "capacity_per_s": worker,
            "baseline_per_s": base,
            "ratio": _share(worker, base),
        }
    bridged, raw = seed["drain"]["bridge_messages_per_s"], seed["raw_amqp"]["per_s"]
    paths["amqp_to_atp"] |= {
        "baseline": "aiopika_consume_ack",
        "capacity_per_s": bridged,
        "baseline_per_s": raw,
        "ratio": _share(bridged, raw),
    }
    paths["order_reserved"] |= {"baseline": None, "ratio": None}


def _projection(seed: dict[str, Any]) -> dict[str, Any]:
    projected, raw = seed["drain"]["projection_events_per_s"], seed["raw_kafka"]["events_per_s"]
    return {
        "label": "stock projection of the seed backlog",
        "count": seed["events"],
        "errors": 0,
        "throughput_per_s": projected,
        "latency_ms": None,
        "baseline": "aiokafka_consume",
        "capacity_per_s": projected,
        "baseline_per_s": raw,
        "ratio": _share(projected, raw),
    }


def _baselines(seed: dict[str, Any], capacity: dict[str, Any]) -> dict[str, Any]:
    return {
        "aiohttp_handler_get": {
            "label": "bare aiohttp handler, GET (closed loop)",
            "throughput_per_s": capacity["get"]["baseline"]["rps"],
            "latency_ms": capacity["get"]["baseline"]["latency_ms"],
        },
        "aiohttp_handler_check": {
            "label": "bare aiohttp handler, check (closed loop)",
            "throughput_per_s": capacity["check"]["baseline"]["rps"],
            "latency_ms": capacity["check"]["baseline"]["latency_ms"],
        },
        "aiokafka_consume": {
            "label": "raw aiokafka consume+decode loop",
            "throughput_per_s": seed["raw_kafka"]["events_per_s"],
            "latency_ms": None,
        },
        "aiopika_consume_ack": {
            "label": "raw aio-pika consume+ack loop",
            "throughput_per_s": seed["raw_amqp"]["per_s"],
            "latency_ms": None,
        },
    }


def _share(measured: float | None, baseline: float | None) -> float | None:
    """measured / baseline, None when either is missing or the baseline is zero."""
    if measured is None or baseline is None:
        return None
    value = ratio(measured, baseline)
    return value if math.isfinite(value) else None


def headline(report: dict[str, Any]) -> list[str]:
    """The terminal's summary: per path throughput, latency, capacity ratio; the checks."""
    lines = [
        "",
        f"== distgate bench: {report['duration_s']:.0f} s of peak load ==",
        f"{'path':<16}{'done/s':>9}{'p50 ms':>10}{'p90':>10}{'p99':>10}{'p99.9':>10}"
        f"{'errors':>8}{'capacity/s':>12}{'baseline/s':>12}{'ratio':>7}",
    ]
    for name, path in report["paths"].items():
        lines.append(_path_line(name, path))
    for worker in report["workers"]:
        lines.append(
            f"{worker['name']}: CPU mean {number(worker['cpu_percent_mean'])} %,"
            f" max {number(worker['cpu_percent_max'])} %;"
            f" RSS max {number(worker['rss_mib_max'])} MiB"
        )
    for check in report["checks"]:
        lines.append(f"[{'ok' if check['ok'] else 'FAIL'}] {check['name']}: {check['detail']}")
    lines.append("correct" if report["correct"] else "NOT CORRECT: see the failed checks above")
    return lines


def _path_line(name: str, path: dict[str, Any]) -> str:
    latency = path.get("latency_ms") or {}
    return (
        f"{name:<16}{number(path.get('throughput_per_s')):>9}"
        + "".join(f"{number(latency.get(q), 1):>{w}}" for q, w in _MARKS)
        + f"{path.get('errors', 0):>8}{number(path.get('capacity_per_s')):>12}"
        f"{number(path.get('baseline_per_s')):>12}{number(path.get('ratio'), 2):>7}"
    )


_MARKS = (("p50", 10), ("p90", 10), ("p99", 10), ("p999", 10))


def number(value: float | None, digits: int = 0) -> str:
    """A figure for the terminal: thousands separated, '-' when not measured."""
    return "-" if value is None else f"{value:,.{digits}f}"
