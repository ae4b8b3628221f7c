"""The peak bench's report: every path's figures, each as a ratio to its raw baseline.

Ratios compare like with like, measured in the same run: ATP capacity (closed loop)
against a bare aiohttp handler serving the same bytes, with the Python client and with
wrk; the bridge draining a backlog in a whole worker against a raw aio-pika
consume-and-ack loop over the same backlog; the stock projection against a raw aiokafka
loop applying the agent's rule to the same records and producing its outputs (and,
as a floor, a consume-and-decode loop). Orders have no raw equivalent: their latency
and closed-loop capacity stand alone. Each open-loop path also shows its latency in the
steady window before the burst and in the burst, and the report says whether the load
generator kept its schedule.
"""

import datetime as dt
import math
from typing import Any

from bench.common.machine import describe
from bench.common.stats import ratio
from bench.load.honesty import loadgen_figures
from bench.load.windows import burst_windows
from bench.peak.params import PeakParams


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
    _add_ratios(paths, seed, capacity, peak["order_capacity"])
    paths["projection"] = _projection(seed)
    for name, pacing in peak["pacings"].items():
        paths[name] |= {"dropped": pacing.dropped, "late": pacing.late}
    for name, recorder in recorders.items():
        paths[name]["windows"] = burst_windows(recorder, params.burst_window)
    checks = peak["checks"]
    chaos = peak.get("chaos")  # only a --chaos run has one
    backorders = peak["backorders"]
    return {
        "correct": bool(checks)
        and all(check["ok"] for check in checks)
        and backorders["correct"]
        and (chaos is None or chaos["correct"]),
        "started_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "duration_s": params.duration,
        "config": params.report_config(),
        "machine": describe(),
        "paths": paths,
        "baselines": _baselines(seed, capacity),
        "capacity": capacity | {"orders": peak["order_capacity"]},
        "loadgen": loadgen_figures(
            peak["pacings"], peak["loadgen_cpu"], peak["loadgen_cpu_wait_share"]
        ),
        "seed": seed,
        "workers": monitor.summary(),
        "timeline": {
            "t": list(range(1, seconds + 1)),
            "paths": {name: r.timeline(seconds) for name, r in recorders.items()},
            "workers": monitor.timeline(),
        },
        "histograms": {name: r.histogram() for name, r in recorders.items()},
        "checks": checks,
        "backorders": backorders,
        **({"chaos": chaos} if chaos is not None else {}),
    }


def _add_ratios(
    paths: dict[str, Any], seed: dict[str, Any], capacity: dict[str, Any], orders: dict[str, Any]
) -> None:
    for name, kind in (("atp_get", "get"), ("atp_check", "check")):
        worker, base = capacity[kind]["worker"]["rps"], capacity[kind]["baseline"]["rps"]
        paths[name] |= {
            "baseline": f"aiohttp_handler_{kind}",
            "capacity_per_s": worker,
            "baseline_per_s": base,
            "ratio": _share(worker, base),
        }
    paths["atp_get"]["wrk"] = _wrk(capacity["wrk"])
    bridged, raw = seed["drain"]["bridge_messages_per_s"], seed["raw_amqp"]["per_s"]
    paths["amqp_to_atp"] |= {
        "baseline": "aiopika_consume_ack",
        "capacity_per_s": bridged,
        "baseline_per_s": raw,
        "ratio": _share(bridged, raw),
    }
    paths["order_reserved"] |= {
        "baseline": None,
        "ratio": None,
        "capacity_per_s": orders["capacity_per_s"],
        "capacity_in_flight": orders["in_flight"],
    }


def _wrk(wrk: dict[str, Any]) -> dict[str, Any]:
    """ATP GET capacity as wrk measured it, or why it was not."""
    if not wrk["available"]:
        return {"available": False, "note": wrk["note"]}
    worker, base = wrk["worker"]["rps"], wrk["baseline"]["rps"]
    return {
        "available": True,
        "capacity_per_s": worker,
        "baseline_per_s": base,
        "ratio": _share(worker, base),
    }


def _projection(seed: dict[str, Any]) -> dict[str, Any]:
    projected = seed["projection"]["events_per_s"]
    project, consume = seed["raw_project"]["events_per_s"], seed["raw_kafka"]["events_per_s"]
    return {
        "label": "stock projection of the seed backlog from Kafka (a fresh worker)",
        "through_bridge_per_s": seed["drain"]["projection_events_per_s"],
        "worker_cpu_us_per_event": 1e6
        * seed["projection"]["cpu_seconds"]
        / max(1, seed["projection"]["records"]),
        "count": seed["events"],
        "errors": 0,
        "throughput_per_s": projected,
        "latency_ms": None,
        "baseline": "aiokafka_project",
        "capacity_per_s": projected,
        "baseline_per_s": project,
        "ratio": _share(projected, project),
        "consume_only": {
            "baseline": "aiokafka_consume",
            "baseline_per_s": consume,
            "ratio": _share(projected, consume),
        },
    }


def _baselines(seed: dict[str, Any], capacity: dict[str, Any]) -> dict[str, Any]:
    found = {
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
        "aiokafka_project": {
            "label": "raw aiokafka loop: decode, the agent's rule, produce, acked",
            "throughput_per_s": seed["raw_project"]["events_per_s"],
            "latency_ms": None,
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
    if capacity["wrk"]["available"]:
        found["aiohttp_handler_get_wrk"] = {
            "label": "bare aiohttp handler, GET (wrk)",
            "throughput_per_s": capacity["wrk"]["baseline"]["rps"],
            "latency_ms": capacity["wrk"]["baseline"]["latency_ms"],
        }
    return found


def _share(measured: float | None, baseline: float | None) -> float | None:
    """measured / baseline, None when either is missing or the baseline is zero."""
    if measured is None or baseline is None:
        return None
    value = ratio(measured, baseline)
    return value if math.isfinite(value) else None
