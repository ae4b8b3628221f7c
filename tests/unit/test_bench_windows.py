"""Read-burst isolation: latency before the burst against latency in it, per path."""

import pytest

from bench.load.recorder import Recorder
from bench.load.windows import burst_windows


def _recorder(done: list[tuple[float, float]]) -> Recorder:
    """A recorder of successes given as (scheduled s into the run, latency s)."""
    recorder = Recorder("order_reserved", "orders", started=0.0)
    for scheduled, latency in done:
        recorder.latencies.append(latency)
        recorder.finished_at.append(scheduled + latency)
    return recorder


def test_requests_count_in_the_window_they_were_scheduled_in() -> None:
    # Given steady requests at 50 ms, burst requests at 200 ms, one finishing after the burst
    steady = [(second / 2, 0.050) for second in range(20)]
    burst = [(10.0 + n / 10, 0.200) for n in range(9)] + [(10.95, 0.200)]
    after = [(13.0, 0.050)]
    windows = burst_windows(_recorder(steady + burst + after), (10.0, 11.0))
    assert windows is not None
    # Then each window has its own requests and the ratio says how much the burst moved them
    assert (windows["steady"]["count"], windows["burst"]["count"]) == (20, 10)
    assert windows["steady"]["p50"] == pytest.approx(50.0)
    assert windows["burst"]["p99"] == pytest.approx(200.0)
    assert windows["burst_over_steady"] == pytest.approx({"p50": 4.0, "p99": 4.0})


def test_a_run_without_a_burst_has_no_windows() -> None:
    assert burst_windows(_recorder([(1.0, 0.1)]), (5.0, 5.0)) is None


def test_a_window_without_answers_has_no_ratio() -> None:
    windows = burst_windows(_recorder([(1.0, 0.1)]), (5.0, 6.0))
    assert windows is not None
    assert windows["burst"]["count"] == 0
    assert windows["burst_over_steady"] == {"p50": None, "p99": None}
