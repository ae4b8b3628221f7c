"""The chaos bench's pure parts: the schedule, the kinds, the poison, and the cost accounting."""

import argparse
from collections import Counter

import pytest

from bench.chaos import accounting, poison, schedule
from bench.chaos.latency import faults_vs_steady
from bench.chaos.poison_send import PoisonSent
from bench.load.recorder import Recorder
from bench.peak.params import parse_kinds


def test_kinds_parse_in_order_with_repeats_and_unknown_ones_are_refused() -> None:
    # Given a list with a repeated kind, Then it keeps order and repeats
    assert parse_kinds("kill-worker, poison,kill-worker") == (
        "kill-worker",
        "poison",
        "kill-worker",
    )
    # And an unknown kind is refused with the known ones named
    with pytest.raises(argparse.ArgumentTypeError, match="known: kill-worker"):
        parse_kinds("kill-worker,meteor")


def test_the_schedule_spaces_faults_after_a_warm_up_and_asks_for_enough_load() -> None:
    # When three faults are planned every 30 s
    faults = schedule.plan(("scale", "poison", "scale"), 30.0)
    # Then they come one at a time after the warm-up, and the load outlasts the last
    assert [f.planned_s for f in faults] == [10.0, 40.0, 70.0]
    assert schedule.needed_duration(("scale", "poison", "scale"), 30.0) > 70.0 + 20.0


def test_every_poison_carries_its_own_marker_and_hits_every_input() -> None:
    poisons = list(poison.generate("t", 2, "DC-NORTH"))
    markers = [p.marker for p in poisons]
    assert len(set(markers)) == len(markers)
    assert all(p.marker.encode() in p.body for p in poisons)
    assert {p.input.split(":")[0] for p in poisons} == {"amqp", "kafka", "http"}
    assert any(b"\xff" in p.body for p in poisons)  # invalid UTF-8 somewhere


def test_stock_errors_tell_lost_from_duplicated_and_excuse_only_uncertain_units() -> None:
    # Given the warehouses reported 5 of A, 5 of B, 5 of C, and 2 units of C are uncertain
    on_hand = {("A", "W"): 5, ("B", "W"): 5, ("C", "W"): 5}
    figures = {("A", "W"): {"on_hand": 4}, ("B", "W"): {"on_hand": 6}, ("C", "W"): {"on_hand": 7}}
    # Then A lost a unit, B has one twice, C's excess is what an unconfirmed receipt may have
    assert accounting.stock_errors(figures, on_hand, {("C", "W"): 2}) == (1, 1)
    # And the report names them, for whoever looks into it
    shown = accounting.stock_mismatches(figures, on_hand, {("C", "W"): 2})
    assert shown == [
        "A@W: 4 != 5 (uncertain 0)",
        "B@W: 6 != 5 (uncertain 0)",
        "C@W: 7 != 5 (uncertain 2)",
    ]


def test_holdings_count_reserved_and_allocated_against_the_orders_lines() -> None:
    orders = {
        "o1": {"status": "RESERVED", "lines": [{"sku": "A", "fills": [_fill("W", reserved=2)]}]},
        "o2": {"status": "SUBMITTED", "lines": [{"sku": "A", "fills": [_fill("W", allocated=1)]}]},
        "o3": 503,
        # a line filled from two warehouses holds in each
        "o4": {
            "status": "RESERVED",
            "lines": [{"sku": "B", "fills": [_fill("W", reserved=1), _fill("V", reserved=4)]}],
        },
    }
    figures = {
        ("A", "W"): {"on_hand": 2, "reserved": 3, "allocated": 1, "blocked": 0},
        ("B", "W"): {"on_hand": 9, "reserved": 1, "allocated": 0, "blocked": 0},
        ("B", "V"): {"on_hand": 9, "reserved": 4, "allocated": 0, "blocked": 0},
    }
    assert accounting.holding_errors(figures, orders) == (0, 1)  # A's reserved applied twice
    assert accounting.undecided(orders) == 2
    assert accounting.oversold(figures) == 1


def test_a_run_is_correct_only_when_nothing_was_lost_and_every_5xx_said_retry_after() -> None:
    clean = {
        "faults": [{"recovered_s": 3.0}],
        "lost": 0,
        "duplicated": 0,
        "oversold": 0,
        "http_errors": {"5xx": 2, "503": 2, "503_retry_after": 2},
    }
    assert accounting.correct(clean)
    assert not accounting.correct(
        clean | {"http_errors": {"5xx": 3, "503": 2, "503_retry_after": 2}}
    )
    assert not accounting.correct(clean | {"faults": [{"recovered_s": None}]})
    assert not accounting.correct(clean | {"lost": 1})
    failed = {"recovered_s": 3.0, "error": "DevStackError: the broker did not come back"}
    assert not accounting.correct(clean | {"faults": [failed]})


def test_poison_is_lost_unless_dead_lettered_or_refused() -> None:
    poisons = list(poison.generate("t", 1, "DC-NORTH"))
    sent = PoisonSent([p for p in poisons if not p.input.startswith("http:")], Counter({422: 3}))
    dead = {p.marker for p in sent.to_dead_letter[1:]}
    assert accounting.poison_lost([sent], dead) == 1
    assert accounting.poison_lost([PoisonSent([], Counter({202: 1}))], set()) == 1


def test_latency_during_faults_is_told_apart_from_the_steady_warm_up() -> None:
    # Given requests finishing steadily fast, then slowly while a fault was on
    recorder = Recorder("atp_get", "ATP")
    recorder.latencies = [0.01, 0.01, 2.0]
    recorder.finished_at = [1.0, 5.0, 13.0]  # scheduled at 0.99, 4.99 and 11.0 s
    fault = schedule.Fault("kill-worker", 10.0, at_s=10.0, recovered_s=5.0)
    # Then the steady window and the fault's window are summarised apart
    figures = faults_vs_steady({"atp_get": recorder}, [fault])["atp_get"]
    assert figures["steady"]["count"] == 2
    assert figures["faults"]["count"] == 1
    assert figures["faults"]["p99_ms"] == pytest.approx(2000.0)


def _fill(warehouse: str, reserved: int = 0, allocated: int = 0) -> dict[str, object]:
    return {"warehouse": warehouse, "reserved": reserved, "allocated": allocated}
