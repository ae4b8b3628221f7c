"""Read-burst isolation: each path's latency in the steady window before the burst and in it.

A request belongs to the window it was scheduled in, so a burst's backlog that drains
after the burst still counts against the burst. The ratio burst/steady per percentile is
what the goal bounds (a 2,500 req/s ATP read burst may move order and AMQP->ATP latency
by at most 2x).
"""

from typing import Any

from bench.common.stats import latency_summary
from bench.load.recorder import Recorder

MARKS = ("p50", "p99")


def burst_windows(recorder: Recorder, burst: tuple[float, float]) -> dict[str, Any] | None:
    """{"steady", "burst", "burst_over_steady"} for a run whose burst spans `burst` seconds."""
    begin, end = burst
    if end <= begin:
        return None
    steady = _window(recorder.scheduled_within(0.0, begin), 0.0, begin)
    bursting = _window(recorder.scheduled_within(begin, end), begin, end)
    return {
        "steady": steady,
        "burst": bursting,
        "burst_over_steady": {mark: _over(bursting[mark], steady[mark]) for mark in MARKS},
    }


def _window(latencies: list[float], start: float, end: float) -> dict[str, Any]:
    """Count and p50/p99 in ms of the requests scheduled from `start` to `end` s."""
    summary = latency_summary(latencies) if latencies else {}
    return {
        "from_s": start,
        "to_s": end,
        "count": len(latencies),
        **{mark: summary.get(mark) for mark in MARKS},
    }


def _over(burst: float | None, steady: float | None) -> float | None:
    """burst / steady, None when either is missing or steady is zero."""
    if burst is None or not steady:
        return None
    return burst / steady
