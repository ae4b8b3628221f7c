"""The simulators' truth: stock folded from the WMS's messages, and where each order must end
(for the orders ERP never decided and the cancelled remainders, down to each line)."""

from dataclasses import replace

import pytest

from app.sim.truth import (
    Expected,
    LineEnd,
    OrderFacts,
    StockFigures,
    WarehouseFacts,
    closed_lines,
    expected_status,
    picked_wholly_short,
    rests_partly_shipped,
    shipped_by_line,
    stock_ledger,
    stock_truth,
    warehouse_facts,
    wholly_backordered,
)
from protocols.wms import (
    CountLine,
    DeltaLine,
    NumberedLine,
    PickLine,
    ReceiptLine,
    WmsAdjust,
    WmsCount,
    WmsHold,
    WmsMessage,
    WmsPickConfirm,
    WmsReceipt,
    WmsShipConfirm,
)
from protocols.wms_xml_peer import WarehouseCancel, WarehouseRelease

EAST, WEST = "DC-EAST", "DC-WEST"


def test_stock_follows_receipts_short_picks_and_shipments() -> None:
    # Given 10 received in the east and 4 in the west
    messages: list[WmsMessage] = [
        WmsReceipt(txn="R1", warehouse=EAST, lines=(ReceiptLine("A", 10),)),
        WmsReceipt(txn="R2", warehouse=WEST, lines=(ReceiptLine("A", 4),)),
        # When 3 are released in the east, 2 picked (1 short) and those 2 shipped
        WmsPickConfirm(txn="P1", warehouse=EAST, order="SO-1", lines=(PickLine(1, "A", 3, 2),)),
        WmsShipConfirm(txn="S1", warehouse=EAST, order="SO-1", lines=(NumberedLine(1, "A", 2),)),
    ]
    # Then the east has 7 left, the west is untouched
    assert stock_truth(messages) == {("A", EAST): StockFigures(7), ("A", WEST): StockFigures(4)}


def test_holds_block_and_counts_and_adjustments_keep_blocked_within_on_hand() -> None:
    # Given 10 received and 6 held for QC
    messages: list[WmsMessage] = [
        WmsReceipt(txn="R1", warehouse=EAST, lines=(ReceiptLine("A", 10),)),
        WmsHold(txn="H1", warehouse=EAST, lines=(DeltaLine("A", 6),), reason="QC"),
    ]
    assert stock_truth(messages)[("A", EAST)] == StockFigures(10, 6)
    # When a count finds 5 and one more is damaged
    messages += [
        WmsCount(txn="C1", warehouse=EAST, lines=(CountLine("A", 5),)),
        WmsAdjust(txn="A1", warehouse=EAST, lines=(DeltaLine("A", -1),), reason="DAMAGED"),
    ]
    # Then blocked can be no more than what is there, and nothing is promisable
    figures = stock_truth(messages)[("A", EAST)]
    assert figures == StockFigures(4, 4)
    assert figures.atp == 0


def test_a_shipment_of_stock_that_was_not_there_is_overdrawn() -> None:
    # Given 2 received
    messages: list[WmsMessage] = [
        WmsReceipt(txn="R1", warehouse=EAST, lines=(ReceiptLine("A", 2),)),
        # When the warehouse ships 3 (the gateway promised more than there was)
        WmsShipConfirm(txn="S1", warehouse=EAST, order="SO-1", lines=(NumberedLine(1, "A", 3),)),
    ]
    # Then the ledger names it
    assert stock_ledger(messages).overdrawn == ["A in DC-EAST: S1 takes on_hand to -1"]


def test_warehouse_facts_collect_releases_cancels_picks_and_shipments_per_order() -> None:
    # Given a release to two warehouses, a cancel in one, a pick and a shipment in the other
    releases = [WarehouseRelease("T1", EAST, "SO-1", ()), WarehouseRelease("T2", WEST, "SO-1", ())]
    cancels = [WarehouseCancel("T3", WEST, "SO-1")]
    messages: list[WmsMessage] = [
        WmsPickConfirm(txn="P1", warehouse=EAST, order="SO-1", lines=(PickLine(1, "A", 1, 1),)),
        WmsShipConfirm(txn="S1", warehouse=EAST, order="SO-1", lines=(NumberedLine(1, "A", 1),)),
    ]
    # When the facts are collected
    facts = warehouse_facts(releases, cancels, messages)["SO-1"]
    # Then each warehouse's part is there, and every release was answered
    assert facts == WarehouseFacts(
        released=frozenset({EAST, WEST}),
        withdrawn=frozenset({WEST}),
        picked=frozenset({EAST}),
        shipped=frozenset({EAST}),
        releases=2,
        picks=1,
        units_shipped=1,
    )
    assert facts.answered


def test_a_second_release_to_a_warehouse_waits_for_its_own_pick() -> None:
    # Given a backorder filled later: a second Release to the warehouse that picked the first
    releases = [WarehouseRelease("T1", EAST, "SO-1", ()), WarehouseRelease("T2", EAST, "SO-1", ())]
    pick = WmsPickConfirm(txn="P1", warehouse=EAST, order="SO-1", lines=(PickLine(1, "A", 1, 1),))
    # Then the order is not answered until that one is picked too
    assert not warehouse_facts(releases, [], [pick])["SO-1"].answered
    second = WmsPickConfirm(txn="P2", warehouse=EAST, order="SO-1", lines=(PickLine(1, "A", 1, 1),))
    assert warehouse_facts(releases, [], [pick, second])["SO-1"].answered


SHIPPED = WarehouseFacts(
    released=frozenset({EAST}),
    picked=frozenset({EAST}),
    shipped=frozenset({EAST}),
    releases=1,
    picks=1,
    units_shipped=3,
)
SHORT = WarehouseFacts(released=frozenset({EAST}), picked=frozenset({EAST}), releases=1, picks=1)
WAITING = WarehouseFacts(released=frozenset({EAST}), releases=1)
CONFIRMED = ("OrderConfirmed",)


@pytest.mark.parametrize(
    ("facts", "status", "final"),
    [
        (OrderFacts(CONFIRMED, None, SHIPPED, ordered=3), "INVOICED", True),
        (OrderFacts(CONFIRMED, None, SHIPPED, ordered=5), "PARTIALLY_SHIPPED", True),
        (OrderFacts(CONFIRMED, 202, SHIPPED), "INVOICED", True),  # the cancel lost to the ship
        (OrderFacts(CONFIRMED, 202, SHIPPED, ordered=5), "INVOICED", True),  # took the rest
        (OrderFacts(CONFIRMED, 202, WAITING), "CANCELLED", True),
        (OrderFacts(CONFIRMED, 409, SHORT), "CONFIRMED", True),  # picked short, awaits stock
        (OrderFacts((), None), "REJECTED", True),  # never reserved: out of stock
        (OrderFacts(("OrderRejected",), 409), "REJECTED", True),
        (OrderFacts(("OrderCreditHold",)), "CREDIT_HOLD", False),
        (OrderFacts(("OrderCreditHold", "OrderCreditReleased"), None, SHORT), "CONFIRMED", True),
        (OrderFacts(CONFIRMED, None, WAITING), "RELEASED", False),
        (OrderFacts(CONFIRMED), "CONFIRMED", True),  # wholly backordered
    ],
)
def test_where_an_order_must_end(facts: OrderFacts, status: str, final: bool) -> None:
    # Given what ERP, the shop and the warehouses did; When judged; Then the order ends here
    expected = expected_status(facts)
    assert (expected.status, expected.final) == (status, final)
    assert isinstance(expected, Expected)
    assert expected.why


def test_wholly_backordered_is_confirmed_with_every_line_backordered() -> None:
    lines = [{"qty": 2, "backordered": 2}, {"qty": 1, "backordered": 1}]
    assert wholly_backordered({"status": "CONFIRMED", "lines": lines})
    assert not wholly_backordered({"status": "RELEASED", "lines": lines})
    assert not wholly_backordered({"status": "CONFIRMED", "lines": [{"qty": 2, "backordered": 1}]})


def test_units_shipped_are_added_up_per_order_and_line() -> None:
    # Given two shipments of one order (line 1 in both) and one of another
    messages: list[WmsMessage] = [
        WmsReceipt(txn="R1", warehouse=EAST, lines=(ReceiptLine("A", 10),)),
        WmsShipConfirm(
            txn="S1",
            warehouse=EAST,
            order="SO-1",
            lines=(NumberedLine(1, "A", 2), NumberedLine(2, "B", 1)),
        ),
        WmsShipConfirm(txn="S2", warehouse=WEST, order="SO-1", lines=(NumberedLine(1, "A", 3),)),
        WmsShipConfirm(txn="S3", warehouse=EAST, order="SO-2", lines=(NumberedLine(1, "A", 1),)),
    ]
    # Then each line's units are the sum of its shipments
    assert shipped_by_line(messages) == {"SO-1": {1: 5, 2: 1}, "SO-2": {1: 1}}


def test_a_closed_order_s_lines_keep_what_shipped_and_cancel_the_rest() -> None:
    assert closed_lines([8, 2, 3], {1: 5, 3: 3}) == (
        LineEnd(1, shipped=5, cancelled=3),
        LineEnd(2, shipped=0, cancelled=2),
        LineEnd(3, shipped=3, cancelled=0),
    )
    assert closed_lines([], {}) == ()


def test_an_order_erp_never_decided_ends_cancelled_for_the_decision_timeout() -> None:
    # Given an order of 4 and 2 units that ERP saw waiting and never decided
    facts = OrderFacts(undecided=True, quantities=(4, 2), ordered=6)
    # Then it ends CANCELLED by the timeout, every unit cancelled, nothing shipped
    expected = expected_status(facts)
    assert (expected.status, expected.final) == ("CANCELLED", True)
    assert (expected.event, expected.reason) == ("OrderCancelled", "decision_timeout")
    assert expected.lines == (LineEnd(1, 0, 4), LineEnd(2, 0, 2))
    # And an order ERP decided has no such end (nor any line end to check)
    decided = expected_status(OrderFacts(CONFIRMED, quantities=(4, 2)))
    assert (decided.status, decided.event, decided.reason, decided.lines) == (
        "CONFIRMED",
        None,
        None,
        None,
    )


def test_a_cancelled_remainder_keeps_what_shipped_per_line_and_cancels_the_rest() -> None:
    # Given 3 of a line of 8 shipped, and the shop's cancel of the rest accepted
    partly = WarehouseFacts(
        released=frozenset({EAST}),
        picked=frozenset({EAST}),
        shipped=frozenset({EAST}),
        releases=1,
        picks=1,
        units_shipped=3,
    )
    facts = OrderFacts(
        CONFIRMED, 202, partly, ordered=8, remainder=True, quantities=(8,), shipped={1: 3}
    )
    # Then the order ends invoiced for the 3, and the line has 5 cancelled, nothing open
    expected = expected_status(facts)
    assert (expected.status, expected.final) == ("INVOICED", True)
    assert (expected.event, expected.reason) == ("OrderRemainderCancelled", None)
    assert expected.lines == (LineEnd(1, shipped=3, cancelled=5),)
    # And a refusal (409) of that cancel does not change where it must end: units were open
    refused = expected_status(replace(facts, cancel=409))
    assert (refused.status, refused.lines) == ("INVOICED", expected.lines)
    assert "answered 409" in refused.why
    # And a cancel that only raced a shipment (not a remainder the shop saw) says no more
    raced = expected_status(OrderFacts(CONFIRMED, 202, partly, ordered=8, quantities=(8,)))
    assert (raced.status, raced.event, raced.lines) == ("INVOICED", None, None)


def test_an_order_rests_partly_shipped_when_all_it_waits_for_is_backordered() -> None:
    resting = {"status": "PARTIALLY_SHIPPED", "lines": [_line(8, shipped=3, backordered=5)]}
    assert rests_partly_shipped(resting)
    in_flight = {"status": "PARTIALLY_SHIPPED", "lines": [_line(8, shipped=3, allocated=5)]}
    assert not rests_partly_shipped(in_flight)
    assert not rests_partly_shipped({**resting, "status": "SHIPPED"})


def test_an_order_picked_wholly_short_went_to_a_warehouse_and_came_back_backordered() -> None:
    history = [{"status": "CONFIRMED"}, {"status": "RELEASED"}, {"status": "CONFIRMED"}]
    lines = [_line(8, backordered=8)]
    assert picked_wholly_short({"status": "CONFIRMED", "lines": lines, "history": history})
    never_released = {"status": "CONFIRMED", "lines": lines, "history": history[:1]}
    assert not picked_wholly_short(never_released)


def _line(qty: int, **figures: int) -> dict[str, int]:
    zero = dict.fromkeys(("reserved", "allocated", "shipped", "backordered", "cancelled"), 0)
    return {"qty": qty, **zero, **figures}
