"""The peak report's assembly: every figure a reader checks, each against its baseline."""

from types import SimpleNamespace
from typing import Any

import pytest

from bench.common.monitor import Monitor
from bench.load.openloop import Pacing
from bench.load.recorder import Recorder
from bench.peak.headline import headline
from bench.peak.orders import steady_rate
from bench.peak.params import PeakParams
from bench.peak.report import assemble

PARAMS = PeakParams(duration=20, burst_seconds=4)  # burst from 8 to 12 s


def _recorder(name: str, steady_s: float, burst_s: float) -> Recorder:
    recorder = Recorder(name, name, started=0.0)
    for tenth in range(200):
        scheduled = tenth / 10
        latency = burst_s if 8.0 <= scheduled < 12.0 else steady_s
        recorder.latencies.append(latency)
        recorder.finished_at.append(scheduled + latency)
    return recorder


def _seed() -> dict[str, Any]:
    return {
        "events": 1000,
        "drain": {"bridge_messages_per_s": 300.0, "projection_events_per_s": 250.0},
        "projection": {"events_per_s": 500.0, "cpu_seconds": 0.05, "records": 1000},
        "raw_amqp": {"per_s": 600.0},
        "raw_project": {"events_per_s": 2000.0},
        "raw_kafka": {"events_per_s": 100_000.0},
    }


def _capacity(wrk: dict[str, Any]) -> dict[str, Any]:
    def side(rps: float) -> dict[str, Any]:
        return {"rps": rps, "latency_ms": {"p50": 1.0}}

    return {
        "get": {"worker": side(2000.0), "baseline": side(2500.0)},
        "check": {"worker": side(1500.0), "baseline": side(2000.0)},
        "wrk": wrk,
    }


CLEAN_BACKORDERS = {
    "lines_backordered": 4,
    "lines_filled": 3,
    "units_filled": 9,
    "lines_waiting": 1,
    "stuck": 0,
    "out_of_order": 0,
    "equation_broken": 0,
    "unplaced": 0,
    "correct": True,
}


def _peak() -> dict[str, Any]:
    shop = SimpleNamespace(
        atp_get=_recorder("atp_get", 0.002, 0.004),
        atp_check=_recorder("atp_check", 0.003, 0.003),
        orders=_recorder("order_reserved", 0.050, 0.150),
    )
    pacing = Pacing(late_s=0.010)
    pacing.fired(0.001)
    return {
        "shop": shop,
        "wms": SimpleNamespace(probes=_recorder("amqp_to_atp", 0.020, 0.020)),
        "monitor": Monitor({"worker-1": 1}, 0.0),
        "checks": [{"name": "all fine", "ok": True, "detail": "1 checked"}],
        "backorders": dict(CLEAN_BACKORDERS),
        "pacings": {"atp_get": pacing},
        "loadgen_cpu": [40.0, 50.0],
        "loadgen_cpu_wait_share": 0.05,
        "order_capacity": {"in_flight": 64, "capacity_per_s": 180.0},
    }


WRK = {
    "available": True,
    "worker": {"rps": 6000.0, "latency_ms": {"p50": 2.0}},
    "baseline": {"rps": 8000.0, "latency_ms": {"p50": 1.0}},
}


def test_the_projection_is_measured_against_the_raw_projecting_loop() -> None:
    report = assemble(PARAMS, _seed(), _capacity(WRK), _peak())
    projection = report["paths"]["projection"]
    assert projection["baseline"] == "aiokafka_project"
    assert projection["ratio"] == pytest.approx(500 / 2000)
    assert projection["consume_only"]["ratio"] == pytest.approx(500 / 100_000)
    # the seed's own drain through the bridge stands beside it, not in its place
    assert projection["through_bridge_per_s"] == 250.0
    assert projection["worker_cpu_us_per_event"] == pytest.approx(50.0)
    assert report["baselines"]["aiokafka_project"]["throughput_per_s"] == 2000.0


def test_order_capacity_and_atp_with_wrk_stand_beside_the_open_loop_figures() -> None:
    paths = assemble(PARAMS, _seed(), _capacity(WRK), _peak())["paths"]
    assert paths["order_reserved"]["capacity_per_s"] == 180.0
    assert paths["order_reserved"]["capacity_in_flight"] == 64
    assert paths["atp_get"]["wrk"] == {
        "available": True,
        "capacity_per_s": 6000.0,
        "baseline_per_s": 8000.0,
        "ratio": pytest.approx(0.75),
    }


def test_without_wrk_the_report_and_the_headline_say_so() -> None:
    missing = {"available": False, "note": "wrk not installed"}
    report = assemble(PARAMS, _seed(), _capacity(missing), _peak())
    assert report["paths"]["atp_get"]["wrk"] == missing
    assert "aiohttp_handler_get_wrk" not in report["baselines"]
    assert "ATP GET with wrk: wrk not installed" in headline(report)


def test_each_path_shows_its_latency_before_and_in_the_burst() -> None:
    paths = assemble(PARAMS, _seed(), _capacity(WRK), _peak())["paths"]
    orders = paths["order_reserved"]["windows"]
    assert (orders["steady"]["from_s"], orders["steady"]["to_s"]) == (0.0, 8.0)
    assert orders["burst_over_steady"]["p99"] == pytest.approx(3.0)
    assert paths["amqp_to_atp"]["windows"]["burst_over_steady"]["p50"] == pytest.approx(1.0)


def test_the_load_generator_figures_and_the_pacers_tallies_are_reported() -> None:
    report = assemble(PARAMS, _seed(), _capacity(WRK), _peak())
    assert report["loadgen"]["limited"] is False
    assert report["loadgen"]["cpu_percent"] == 45.0
    assert (report["paths"]["atp_get"]["late"], report["paths"]["atp_get"]["dropped"]) == (0, 0)
    lines = "\n".join(headline(report))
    assert "load generator: 1 sent, 0 late (> 10 ms), 0 dropped" in lines
    assert "order capacity: 180 orders/s POST to decided, 64 in flight" in lines
    assert "burst/steady order_reserved" in lines


def test_order_capacity_counts_from_the_first_decision_to_the_end_of_the_loop() -> None:
    # Given the first decision at 1 s and then one every 0.1 s, and a tail after the 5 s
    finished = [1.0 + n / 10 for n in range(40)] + [5.2, 5.9]
    # Then the rate is 39 decisions over 4 s: neither the filling nor the draining counts
    assert steady_rate(finished, 5.0) == pytest.approx(39 / 4.0)
    assert steady_rate([6.0], 5.0) is None


def test_a_backorder_section_that_failed_makes_the_whole_report_incorrect() -> None:
    assert assemble(PARAMS, _seed(), _capacity(WRK), _peak())["correct"] is True
    peak = _peak()
    peak["backorders"] = CLEAN_BACKORDERS | {"correct": False, "stuck": 1}
    report = assemble(PARAMS, _seed(), _capacity(WRK), peak)
    assert report["correct"] is False
    assert report["backorders"]["stuck"] == 1
    assert "[FAIL] backorders: 4 lines waited, 3 filled (9 units)" in "\n".join(headline(report))
