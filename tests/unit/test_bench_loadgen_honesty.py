"""The load generator's own account: late and dropped requests, its CPU, and the verdict."""

from bench.load.honesty import loadgen_figures
from bench.load.openloop import Pacing


def _pacing(on_time: int, late: int = 0, dropped: int = 0) -> Pacing:
    pacing = Pacing(late_s=0.010)
    for _ in range(on_time):
        pacing.fired(0.002)
    for _ in range(late):
        pacing.fired(0.050)
    pacing.dropped = dropped
    return pacing


def test_a_request_sent_past_the_threshold_is_late_and_the_worst_lag_is_kept() -> None:
    pacing = _pacing(on_time=3, late=1)
    assert pacing.figures() == {"sent": 4, "late": 1, "dropped": 0, "worst_lag_ms": 50.0}


def test_a_generator_on_schedule_with_spare_cpu_kept_up() -> None:
    figures = loadgen_figures(
        {"atp_get": _pacing(1000), "order_reserved": _pacing(500, late=2)},
        [20.0, 35.0, None],
        cpu_wait_share=0.3,
    )
    assert (figures["sent"], figures["late"], figures["dropped"]) == (1502, 2, 0)
    assert figures["cpu_percent"] == 27.5
    assert figures["cpu_percent_max"] == 35.0
    assert figures["limited"] is False
    assert figures["why"] == []  # waiting for a CPU is only a reason beside another one


def test_drops_lateness_and_a_pinned_core_each_say_the_generator_was_the_limit() -> None:
    figures = loadgen_figures(
        {"atp_get": _pacing(900, late=100, dropped=7)},
        [60.0, 99.0, 100.0, 80.0],
        cpu_wait_share=0.25,
    )
    assert figures["limited"] is True
    assert figures["why"] == [
        "7 requests dropped: too many in flight",
        "100 of 1,000 requests sent more than 10 ms late",
        "the bench process was at ~100 % of a core for 2 s",
        "it waited for a CPU 25 % of the time: a busy machine",
    ]
    assert figures["paths"]["atp_get"]["dropped"] == 7
