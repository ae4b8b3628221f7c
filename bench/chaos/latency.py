"""Latency while faults were on against the steady warm-up before the first one.

A request counts as "during faults" when it was scheduled between a fault's start and
its recovery: what a user of the gateway felt while it was hurt, failures aside.
"""

from collections.abc import Mapping, Sequence
from typing import Any

from bench.chaos.schedule import Fault
from bench.common.stats import latency_summary
from bench.load.recorder import Recorder


def faults_vs_steady(
    recorders: Mapping[str, Recorder], faults: Sequence[Fault]
) -> dict[str, dict[str, Any]]:
    """Per path: p50/p99 of the steady warm-up and of the fault windows, and their counts."""
    windows = [(f.at_s, f.at_s + (f.recovered_s or 0.0)) for f in faults if f.at_s is not None]
    first = min((start for start, _ in windows), default=0.0)
    return {
        name: {
            "steady": _summary(recorder.scheduled_within(0.0, first)),
            "faults": _summary(
                [lat for start, end in windows for lat in recorder.scheduled_within(start, end)]
            ),
        }
        for name, recorder in recorders.items()
    }


def _summary(latencies: Sequence[float]) -> dict[str, Any]:
    if not latencies:
        return {"count": 0}
    summary = latency_summary(latencies)
    return {"count": len(latencies), "p50_ms": summary["p50"], "p99_ms": summary["p99"]}
