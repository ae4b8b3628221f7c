"""The demo's scripted day: deterministic, valid names, cancels aimed where the truth is clear."""

import re
from collections import Counter

import pytest

from app.demo.day import Day, DaySpec, decision_timeout_s, plan_day
from app.sim.shop import BACKORDERED, REMAINDER
from app.sim.truth import stock_ledger
from protocols.ids import ENTITY_ID_PATTERN, SKU_PATTERN, WAREHOUSE_PATTERN
from protocols.wms import (
    CountLine,
    DeltaLine,
    ReceiptLine,
    WmsAdjust,
    WmsCount,
    WmsHold,
    WmsMessage,
    WmsReceipt,
)


def fate(order_id: str) -> str:
    """A stand-in for ERP's rule: every 7th order held, every 11th rejected."""
    number = int(order_id.rsplit("-", 1)[1])
    return "reject" if number % 11 == 0 else "hold" if number % 7 == 0 else "confirm"


@pytest.fixture(scope="module")
def day() -> Day:
    return plan_day(DaySpec(run="T1"), fate)


def test_the_same_spec_gives_the_same_day(day: Day) -> None:
    # Given the same spec and seed, When planned again, Then the day is the same
    assert plan_day(DaySpec(run="T1"), fate) == day
    # And another seed gives another day
    assert plan_day(DaySpec(run="T1", seed=8), fate).arrivals != day.arrivals


def test_the_day_has_the_spec_s_size_in_time_order(day: Day) -> None:
    times = [arrival.at for arrival in day.arrivals]
    assert len(times) == 200
    assert times == sorted(times)
    assert times[0] >= 0
    assert times[-1] < day.spec.duration
    assert all(0 < move.at < day.spec.duration for move in day.moves)


def test_names_are_valid_and_carry_the_run(day: Day) -> None:
    visits = [arrival.visit for arrival in day.arrivals]
    assert all(re.match(SKU_PATTERN, sku) and "-T1-" in sku for sku in day.catalogue.skus)
    assert all(re.match(ENTITY_ID_PATTERN, v.order_id) and "-T1-" in v.order_id for v in visits)
    assert len({v.order_id for v in visits}) == len(visits)
    assert all(re.match(WAREHOUSE_PATTERN, m.warehouse) for m in day.opening + day.moves)


def test_orders_are_web_or_b2b_and_skewed_to_a_few_hot_skus(day: Day) -> None:
    # (bulk orders of a limited item are below)
    visits = [arrival.visit for arrival in day.arrivals if arrival.visit.cancel_at != REMAINDER]
    assert {v.channel for v in visits} == {"web", "b2b"}
    assert all(1 <= len(v.lines) <= 3 for v in visits if v.channel == "web")
    assert all(5 <= len(v.lines) <= 20 for v in visits if v.channel == "b2b")
    assert 0.05 < sum(v.backorder == "allow" for v in visits) / len(visits) < 0.2
    demand = Counter(sku for v in visits for sku, _ in v.lines)
    hot = sum(demand[sku] for sku in day.catalogue.hot)
    assert hot / sum(demand.values()) > 0.5
    assert not set(demand) & set(day.catalogue.slow)  # slow movers are never ordered
    assert not set(demand) & set(day.catalogue.limited)  # limited items only in bulk orders


def test_bulk_orders_ask_more_of_a_limited_item_than_there_is_and_cancel_the_rest(
    day: Day,
) -> None:
    # Given the day's bulk orders: each cancels its unshipped remainder
    bulk = [a for a in day.arrivals if a.visit.cancel_at == REMAINDER]
    assert len(bulk) == 200 // 60
    opening = {sku: (m.warehouse, qty) for m in day.opening for sku, qty in m.lines}
    ordered = Counter(sku for a in day.arrivals for sku, _ in a.visit.lines)
    for arrival in bulk:
        # Then each is one line of its own limited item, backorders allowed, ERP confirms it
        ((sku, qty),) = arrival.visit.lines
        assert sku in day.catalogue.limited
        assert ordered[sku] == 1
        assert arrival.visit.backorder == "allow"
        assert fate(arrival.visit.order_id) == "confirm"
        # And its one warehouse has some of it, not all: part ships, the rest is backordered
        warehouse, stocked = opening[sku]
        assert day.catalogue.stocked_in[sku] == (warehouse,)
        assert 0 < stocked < qty
        # And nothing else moves that stock: no restock, count, hold or adjustment
        assert all(sku not in dict(move.lines) for move in day.moves)
        # And it comes before the last fifth of the day, so the part in stock ships within it
        assert arrival.at < day.spec.duration * 0.8


def test_orders_erp_never_decides_come_early_enough_to_time_out_in_the_day(day: Day) -> None:
    # Given the orders ERP never decides
    visits = {a.visit.order_id: a for a in day.arrivals}
    assert len(day.undecided) == 2
    for order_id in day.undecided:
        arrival = visits[order_id]
        # Then they would otherwise be confirmed, and cancel nothing themselves
        assert fate(order_id) == "confirm"
        assert arrival.visit.cancel_at is None
        # And they allow backorders: ERP always sees them wait (none is rejected for stock)
        assert arrival.visit.backorder == "allow"
        # And they come in the first third of the day, the decision timeout being a third
        assert arrival.at < day.spec.duration / 3
    assert decision_timeout_s(day.spec) == 15


def test_the_decision_timeout_is_a_third_of_the_day_and_never_under_10_s() -> None:
    assert decision_timeout_s(DaySpec(run="T1", duration=90)) == 30
    assert decision_timeout_s(DaySpec(run="T1", duration=8)) == 10


def test_cancels_are_aimed_where_their_outcome_is_clear(day: Day) -> None:
    visits = [arrival.visit for arrival in day.arrivals]
    cancelling = [v for v in visits if v.cancel_at is not None]
    assert {v.cancel_at for v in cancelling} >= {"CREDIT_HOLD", "RELEASED", "SHIPPED"}
    # ERP's rejection never races a cancel
    assert all(fate(v.order_id) != "reject" for v in cancelling)
    # On credit hold: only orders ERP holds
    assert all(fate(v.order_id) == "hold" for v in cancelling if v.cancel_at == "CREDIT_HOLD")
    # Before reservation is known, or wholly backordered: only when backorders are allowed
    early = [v for v in cancelling if v.cancel_at in ("SUBMITTED", BACKORDERED)]
    assert all(v.backorder == "allow" for v in early)


def test_the_warehouses_never_move_stock_they_do_not_have(day: Day) -> None:
    # Given the opening receipts and the day's stock moves as the WMS would send them
    ledger = stock_ledger(_messages(day))
    # Then nothing goes below zero and no hold exceeds what is there
    assert ledger.overdrawn == []
    assert all(0 <= f.blocked <= f.on_hand for f in ledger.positions.values())
    # And every SKU was received somewhere
    assert {sku for sku, _ in ledger.positions} == set(day.catalogue.skus)


def _messages(day: Day) -> list[WmsMessage]:
    messages: list[WmsMessage] = []
    for n, move in enumerate(day.opening + day.moves):
        txn, where = f"T{n}", move.warehouse
        if move.kind == "receipt":
            lines = tuple(ReceiptLine(s, q) for s, q in move.lines)
            messages.append(WmsReceipt(txn=txn, warehouse=where, lines=lines))
        elif move.kind == "count":
            counted = tuple(CountLine(s, q) for s, q in move.lines)
            messages.append(WmsCount(txn=txn, warehouse=where, lines=counted))
        elif move.kind == "recount":  # found units on top of the shelf: as an adjustment
            found = tuple(DeltaLine(s, q) for s, q in move.lines if q)
            messages.append(WmsAdjust(txn=txn, warehouse=where, lines=found))
        elif move.kind == "hold":
            deltas = tuple(DeltaLine(s, q) for s, q in move.lines)
            messages.append(WmsHold(txn=txn, warehouse=where, lines=deltas))
        else:
            deltas = tuple(DeltaLine(s, q) for s, q in move.lines)
            messages.append(WmsAdjust(txn=txn, warehouse=where, lines=deltas))
    return messages


@pytest.mark.parametrize("skus", [4, 5, 12, 48])
@pytest.mark.parametrize("orders", [1, 30, 300])
@pytest.mark.parametrize("seed", [1, 2])
def test_days_of_any_size_stay_within_the_rules(skus: int, orders: int, seed: int) -> None:
    # Given a day of this size, When planned, Then its stock moves are possible
    day = plan_day(DaySpec(run="T2", orders=orders, skus=skus, seed=seed, duration=10), fate)
    assert len(day.arrivals) == orders
    assert stock_ledger(_messages(day)).overdrawn == []
    # And a day of a few dozen orders plays both fates that close orders early
    remainders = {a.visit.order_id for a in day.arrivals if a.visit.cancel_at == REMAINDER}
    assert not remainders & day.undecided
    if orders >= 30:
        assert len(remainders) >= 2
        assert day.undecided
    assert all(line[1] > 0 for a in day.arrivals for line in a.visit.lines)
