"""The peak bench's pure parts: pacing shape, recorder figures, seed receipts, the oracle."""

import argparse
from collections import Counter

import pytest

from bench.common.workload import catalogue, expected_qty, order_prefix, warehouse_names
from bench.load.openloop import Shape
from bench.load.recorder import BOUNDS_MS, Recorder
from bench.peak import seed as peak_seed
from bench.peak.oracle import positions, reservations, stock_checks
from bench.peak.params import PeakParams, add_arguments, from_args
from bench.peak.shop import Shop


def test_the_burst_multiplies_the_rate_only_inside_its_window() -> None:
    shape = Shape(base=100.0, factor=5.0, burst_from=20.0, burst_to=30.0)
    assert [shape.rate_at(t) for t in (0.0, 19.9, 20.0, 29.9, 30.0)] == [100, 100, 500, 500, 100]


def test_the_burst_is_centred_and_at_most_a_third_of_the_run() -> None:
    assert PeakParams(duration=60, burst_seconds=10).burst_window == (25.0, 35.0)
    assert PeakParams(duration=15, burst_seconds=10).burst_window == (5.0, 10.0)
    assert PeakParams(duration=60, burst_factor=1).burst_window == (30.0, 30.0)


def test_every_flag_parses_back_into_the_parameters() -> None:
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    params = from_args(parser.parse_args(["--duration", "30", "--order-rate", "7.5"]))
    assert (params.duration, params.order_rate, params.skus) == (30.0, 7.5, 20_000)


def test_a_rate_of_zero_is_refused_with_a_message(capsys: pytest.CaptureFixture[str]) -> None:
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    with pytest.raises(SystemExit):
        parser.parse_args(["--atp-rate", "0"])
    assert "must be positive" in capsys.readouterr().err


def test_the_recorder_buckets_completions_by_second_and_latency() -> None:
    recorder = Recorder("atp_get", "ATP GET", started=100.0)
    for at, latency in ((100.5, 0.001), (100.7, 0.003), (101.2, 0.2)):
        recorder.latencies.append(latency)
        recorder.finished_at.append(at - recorder.started)
    recorder.failed("503")
    timeline = recorder.timeline(3)
    assert timeline["throughput"] == [2.0, 1.0, 0.0]
    assert timeline["p50_ms"][0] == pytest.approx(2.0)
    assert timeline["p99_ms"][2] is None
    histogram = recorder.histogram()
    assert sum(histogram["counts"]) == 3
    assert histogram["counts"][BOUNDS_MS.index(200.0)] == 1
    summary = recorder.summary(seconds=3.0)
    assert (summary["count"], summary["errors"], summary["error_kinds"]) == (3, 1, {"503": 1})


def test_seed_receipts_cover_every_position_once_with_its_expected_quantity() -> None:
    cat = catalogue("t1", 50, warehouses=warehouse_names(3))
    receipts = peak_seed.seed_receipts(cat, "t1", lines_per_receipt=4)
    lines = [line for _, _, chunk in receipts for line in chunk]
    assert len(lines) == cat.positions == len(set((sku, wh) for sku, wh, _ in lines))
    index = {sku: n for n, sku in enumerate(cat.skus)}
    assert all(qty == expected_qty(index[sku]) for sku, _, qty in lines)
    assert all(key == f"{chunk[0][1]}.receipt" and len(chunk) <= 4 for key, _, chunk in receipts)


def test_more_than_three_warehouses_get_their_own_codes() -> None:
    assert warehouse_names(5) == ("DC-EAST", "DC-WEST", "DC-SOUTH", "DC-04", "DC-05")
    with pytest.raises(ValueError, match="at least one"):
        warehouse_names(0)


def test_drain_rates_come_from_the_first_movement_to_the_end() -> None:
    depth = [(0.0, 100), (1.0, 100), (2.0, 80), (4.0, 40), (6.0, 0)]
    assert peak_seed._rate_down(depth) == pytest.approx(80 / 4.0)
    assert peak_seed._rate_down([(0.0, 100), (1.0, 100)]) is None
    # a queue that emptied between two looks: its depth over the time between them
    assert peak_seed._rate_down([(0.0, 100), (0.5, 100), (0.55, 0)]) == pytest.approx(2000.0)
    assert peak_seed._rate_up([(1.0, 10.0), (3.0, 110.0)]) == pytest.approx(50.0)


def test_the_oracle_sums_what_the_orders_hold_per_position() -> None:
    orders = [
        {"lines": [{"sku": "A", "fills": [{"warehouse": "DC-EAST", "reserved": 2}]}]},
        {"lines": [{"sku": "A", "fills": [{"warehouse": "DC-EAST", "reserved": 3}]}]},
        {"lines": [{"sku": "A", "fills": []}]},
        # one line filled from two warehouses holds in both
        {
            "lines": [
                {
                    "sku": "A",
                    "fills": [
                        {"warehouse": "DC-WEST", "reserved": 4},
                        {"warehouse": "DC-EAST", "reserved": 1},
                    ],
                }
            ]
        },
        404,
    ]
    assert reservations(orders) == Counter({("A", "DC-EAST"): 6, ("A", "DC-WEST"): 4})


def test_the_oracle_names_every_kind_of_disagreement() -> None:
    answers = [
        {"sku": "A", "warehouses": [_position("DC-EAST", on_hand=10, reserved=5)]},
        {"sku": "B", "warehouses": [_position("DC-EAST", on_hand=3, reserved=4, atp=-1)]},
    ]
    checks = stock_checks(
        positions(answers),
        on_hand={("A", "DC-EAST"): 9, ("B", "DC-EAST"): 3},
        held=Counter({("A", "DC-EAST"): 5, ("B", "DC-EAST"): 4}),
    )
    verdicts = {check["name"].split()[0]: check for check in checks}
    assert not verdicts["on"]["ok"]
    assert "A@DC-EAST: 10 != 9" in verdicts["on"]["detail"]
    assert verdicts["reserved"]["ok"]
    assert not verdicts["nothing"]["ok"]
    assert "B@DC-EAST" in verdicts["nothing"]["detail"]


def _position(warehouse: str, on_hand: int, reserved: int, atp: int = 0) -> dict[str, int | str]:
    return {
        "warehouse": warehouse,
        "on_hand": on_hand,
        "reserved": reserved,
        "allocated": 0,
        "blocked": 0,
        "atp": atp,
    }


def test_the_shops_orders_carry_the_runs_prefix_and_never_repeat_an_id() -> None:
    # Given the two shops of one run (the load's and the capacity loop's), sharing a prefix
    prefix = order_prefix("a1b2c3")
    shops = [
        Shop(["http://x"], ["S-1", "S-2", "S-3"], [1.0, 1.0, 1.0], None, None, seed, prefix)
        for seed in (1, 2)
    ]  # type: ignore[arg-type]
    # When each builds orders, some with the same schedule number
    ids = [shop._order_body(number)["order_id"] for shop in shops for number in (0, 0, 1)]
    # Then every id is the run's, valid as an order id, and none repeats
    assert all(i.startswith(prefix) and len(i) <= 64 for i in ids)
    assert len(set(ids)) == len(ids)
