"""Pure statistics for the bench: percentiles, medians of repetitions, ratios, Zipf skew."""

import math
import statistics
from collections.abc import Sequence

import msgspec


class Spread(msgspec.Struct, frozen=True):
    """The median of repeated measurements, with their range and every run kept."""

    median: float
    low: float
    high: float
    runs: tuple[float, ...]

    @property
    def relative_range(self) -> float:
        """(high - low) / median: how noisy the repetitions were."""
        return (self.high - self.low) / self.median if self.median else math.inf


def spread(values: Sequence[float]) -> Spread:
    """Summarise repetitions by their median (robust to one outlier run)."""
    if not values:
        raise ValueError("no measurements to summarise")
    return Spread(
        median=statistics.median(values), low=min(values), high=max(values), runs=tuple(values)
    )


def percentile(sorted_values: Sequence[float], fraction: float) -> float:
    """Linear-interpolated percentile of already sorted values (fraction in 0..1)."""
    if not sorted_values:
        return math.nan
    if not 0.0 <= fraction <= 1.0:
        raise ValueError(f"fraction {fraction} is outside 0..1")
    position = fraction * (len(sorted_values) - 1)
    lower = math.floor(position)
    upper = min(lower + 1, len(sorted_values) - 1)
    weight = position - lower
    return sorted_values[lower] * (1.0 - weight) + sorted_values[upper] * weight


def latency_summary(latencies: Sequence[float]) -> dict[str, float]:
    """p50/p90/p99/p99.9/max of latencies given in seconds, reported in milliseconds."""
    ordered = sorted(latencies)
    marks = {"p50": 0.50, "p90": 0.90, "p99": 0.99, "p999": 0.999}
    summary = {name: 1000.0 * percentile(ordered, q) for name, q in marks.items()}
    summary["max"] = 1000.0 * ordered[-1] if ordered else math.nan
    return summary


def ratio(measured: float, baseline: float) -> float:
    """measured / baseline, NaN when the baseline is zero."""
    return measured / baseline if baseline else math.nan


def zipf_weights(count: int, exponent: float) -> list[float]:
    """Unnormalised Zipf weights 1 / rank**exponent for ranks 1..count."""
    return [1.0 / (rank**exponent) for rank in range(1, count + 1)]


def head_share(weights: Sequence[float], head_fraction: float) -> float:
    """Share of the total weight held by the first `head_fraction` of the items."""
    head = max(1, round(len(weights) * head_fraction))
    return sum(weights[:head]) / sum(weights)


def zipf_exponent_for(count: int, head_fraction: float = 0.2, share: float = 0.8) -> float:
    """The Zipf exponent whose top `head_fraction` of `count` items takes `share` of draws."""
    low, high = 0.0, 4.0
    for _ in range(50):
        middle = (low + high) / 2
        if head_share(zipf_weights(count, middle), head_fraction) < share:
            low = middle
        else:
            high = middle
    return (low + high) / 2


def probe_pause(waited: float, floor: float = 0.005, share: float = 0.05) -> float:
    """Seconds until a probe polls again: `floor`, or `share` of what it waited so far.

    A fixed fast poll makes the probes the load: when the gateway falls behind, the
    polls of every probe in flight grow with the backlog and feed it. Polling at 5 % of
    the wait keeps each reading within about 5 % and the polls few.
    """
    return max(floor, share * waited)
