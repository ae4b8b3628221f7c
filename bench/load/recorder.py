"""Latencies of one load path: summary, per-second timeline and histogram for the report.

Open-loop latency is measured from each request's scheduled time, so a server falling
behind shows as latency instead of as fewer requests (no coordinated omission).
"""

import bisect
import math
import time
from dataclasses import dataclass, field
from typing import Any

from bench.common.stats import latency_summary, percentile

# Histogram bucket upper bounds in ms: 1-2-5 steps from 0.1 ms to 60 s.
BOUNDS_MS = (
    *(round(mantissa * 10.0**exponent, 6) for exponent in range(-1, 5) for mantissa in (1, 2, 5)),
    60_000.0,
)


@dataclass
class Recorder:
    """Every completion of one path: (seconds since the run's start, latency s, ok)."""

    name: str
    label: str
    started: float = field(default_factory=time.perf_counter)
    latencies: list[float] = field(default_factory=list)
    finished_at: list[float] = field(default_factory=list)
    errors: int = 0
    error_kinds: dict[str, int] = field(default_factory=dict)

    def ok(self, scheduled: float) -> None:
        """A success for a request scheduled at `scheduled` (perf_counter time)."""
        now = time.perf_counter()
        self.latencies.append(now - scheduled)
        self.finished_at.append(now - self.started)

    def failed(self, kind: str) -> None:
        """A failure, counted by kind ("503", "timeout", "ClientConnectorError"...)."""
        self.errors += 1
        self.error_kinds[kind] = self.error_kinds.get(kind, 0) + 1

    def summary(self, seconds: float) -> dict[str, Any]:
        """Count, errors, throughput over `seconds` and latency percentiles in ms."""
        return {
            "label": self.label,
            "count": len(self.latencies),
            "errors": self.errors,
            "error_kinds": dict(self.error_kinds),
            "throughput_per_s": len(self.latencies) / seconds if seconds else None,
            "latency_ms": latency_summary(self.latencies) if self.latencies else None,
        }

    def timeline(self, seconds: int) -> dict[str, list[float | None]]:
        """Per whole second: completions, p50 and p99 in ms of what completed in it."""
        buckets: list[list[float]] = [[] for _ in range(seconds)]
        for at, latency in zip(self.finished_at, self.latencies, strict=True):
            second = int(at)
            if 0 <= second < seconds:
                buckets[second].append(latency)
        return {
            "throughput": [float(len(bucket)) for bucket in buckets],
            "p50_ms": [_quantile_ms(bucket, 0.50) for bucket in buckets],
            "p99_ms": [_quantile_ms(bucket, 0.99) for bucket in buckets],
        }

    def scheduled_within(self, start: float, end: float) -> list[float]:
        """Latencies of the successes scheduled from `start` to `end` s into the run."""
        return [
            latency
            for at, latency in zip(self.finished_at, self.latencies, strict=True)
            if start <= at - latency < end
        ]

    def histogram(self) -> dict[str, list[float]]:
        """Counts per bucket of BOUNDS_MS (a last, extra count for anything slower)."""
        counts = [0.0] * (len(BOUNDS_MS) + 1)
        for latency in self.latencies:
            counts[bisect.bisect_left(BOUNDS_MS, 1000.0 * latency)] += 1
        return {"bounds_ms": list(BOUNDS_MS), "counts": counts}


def _quantile_ms(values: list[float], fraction: float) -> float | None:
    if not values:
        return None
    result = 1000.0 * percentile(sorted(values), fraction)
    return result if math.isfinite(result) else None
