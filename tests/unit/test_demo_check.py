"""The demo's final check and summary: every disagreement is named, and the verdict follows."""

from typing import Any

from app.demo.check import Finding, check_closings, check_orders, check_stock, overdrawn
from app.demo.summary import PASSED, DayReport, summary
from app.sim.truth import Expected, LineEnd, StockFigures


def order(status: str) -> dict[str, object]:
    return {"status": status, "lines": []}


def position(warehouse: str, on_hand: int, **figures: int) -> dict[str, object]:
    values = {"blocked": 0, "reserved": 0, "allocated": 0} | figures
    atp = max(0, on_hand - sum(values.values()))
    return {"warehouse": warehouse, "on_hand": on_hand, "atp": atp, **values}


def test_orders_that_agree_and_rest_are_not_findings() -> None:
    seen = {"SO-1": order("INVOICED"), "SO-2": order("CANCELLED")}
    expected = {"SO-1": Expected("INVOICED", "shipped"), "SO-2": Expected("CANCELLED", "202")}
    assert check_orders(seen, expected) == []


def test_a_resting_order_in_the_wrong_status_is_a_mismatch() -> None:
    # Given the gateway cancelled an order the warehouse shipped
    seen = {"SO-1": order("CANCELLED")}
    expected = {"SO-1": Expected("INVOICED", "the WMS shipped it")}
    # When checked, Then it is a mismatch that says both sides
    assert check_orders(seen, expected) == [
        Finding(
            "order SO-1", "is CANCELLED; the simulators say INVOICED: the WMS shipped it", False
        )
    ]


def test_an_order_still_moving_is_not_settled_and_an_unknown_one_is_a_mismatch() -> None:
    seen = {"SO-1": order("RELEASED"), "SO-2": None, "SO-3": order("CREDIT_HOLD")}
    expected = {
        "SO-1": Expected("INVOICED", "shipped", final=False),
        "SO-2": Expected("REJECTED", "no stock"),
        "SO-3": Expected("CREDIT_HOLD", "held", final=False),
    }
    findings = check_orders(seen, expected)
    assert [(f.subject, f.moving) for f in findings] == [
        ("order SO-1", True),
        ("order SO-2", False),
        ("order SO-3", True),
    ]


def test_stock_must_equal_the_warehouse_s_figures_with_nothing_reserved() -> None:
    # Given the WMS's truth for two positions and a third the gateway should not have
    truth = {("A", "DC-EAST"): StockFigures(7, 2), ("A", "DC-WEST"): StockFigures(4)}
    seen = {
        "A": {
            "warehouses": [
                position("DC-EAST", 8, blocked=2),
                position("DC-WEST", 4, allocated=1),
                position("DC-SOUTH", 0),
            ]
        },
        "B": None,
    }
    # When checked
    findings = check_stock(seen, truth)
    # Then the wrong figure is a mismatch and the allocation is still moving
    assert [str(f) for f in findings] == [
        "A in DC-EAST: on_hand 8 (WMS: 7), atp 6 (WMS: 5)",
        "A in DC-WEST: atp 3 (WMS: 4), still allocated 1",
    ]
    assert [f.moving for f in findings] == [False, True]


def test_a_position_the_gateway_never_saw_is_a_mismatch() -> None:
    findings = check_stock({"B": None}, {("B", "DC-EAST"): StockFigures(3)})
    assert [str(f) for f in findings] == [
        "B in DC-EAST: the gateway has no position; the WMS says on_hand 3, blocked 0, atp 3"
    ]


TIMED_OUT = Expected(
    "CANCELLED",
    "ERP never decided it",
    True,
    "OrderCancelled",
    "decision_timeout",
    (LineEnd(1, 0, 4),),
)
REMAINDER = Expected(
    "INVOICED", "shipped in part", True, "OrderRemainderCancelled", None, (LineEnd(1, 3, 5),)
)


def closed(status: str, *lines: dict[str, Any]) -> dict[str, Any]:
    return {"status": status, "lines": list(lines)}


def line(qty: int, **figures: Any) -> dict[str, Any]:
    zero = dict.fromkeys(("reserved", "allocated", "shipped", "backordered", "cancelled"), 0)
    return {"line_no": 1, "qty": qty, "fills": [], **zero, **figures}


def test_closed_orders_whose_lines_and_cancel_events_agree_are_not_findings() -> None:
    seen = {
        "SO-1": closed("CANCELLED", line(4, cancelled=4)),
        "SO-2": closed("INVOICED", line(8, shipped=3, cancelled=5)),
        "SO-3": closed("CANCELLED", line(1, cancelled=1)),
    }
    closings = {
        "SO-1": ("OrderCancelled", "decision_timeout"),
        "SO-2": ("OrderRemainderCancelled", "cancelled by customer"),
        "SO-3": ("OrderCancelled", "cancelled by customer"),
    }
    expected = {"SO-1": TIMED_OUT, "SO-2": REMAINDER, "SO-3": Expected("CANCELLED", "202")}
    assert check_closings(seen, closings, expected) == []


def test_a_closed_line_that_still_holds_stock_or_miscounts_is_a_mismatch() -> None:
    # Given a timed-out order whose line is still reserved in a warehouse
    fill = {"warehouse": "DC-EAST", "reserved": 4, "allocated": 0}
    seen = {
        "SO-1": closed("CANCELLED", line(4, reserved=4, fills=[fill])),
        "SO-2": closed("INVOICED", line(8, shipped=3, cancelled=4, backordered=1)),
    }
    closings = {
        "SO-1": ("OrderCancelled", "decision_timeout"),
        "SO-2": ("OrderRemainderCancelled", "cancelled by customer"),
    }
    # When checked, Then each wrong figure is named against the simulators'
    findings = check_closings(seen, closings, {"SO-1": TIMED_OUT, "SO-2": REMAINDER})
    assert [str(f) for f in findings] == [
        "order SO-1: line 1: cancelled 0 (simulators: 4), still reserved 4, "
        "still reserved 4 in DC-EAST",
        "order SO-2: line 1: cancelled 4 (simulators: 5), still backordered 1",
    ]
    assert not any(f.moving for f in findings)


def test_the_cancel_event_must_carry_the_reason_and_not_yet_seen_is_still_moving() -> None:
    seen = {
        "SO-1": closed("CANCELLED", line(4, cancelled=4)),
        "SO-2": closed("INVOICED", line(8, shipped=3, cancelled=5)),
    }
    closings = {"SO-1": ("OrderCancelled", "cancelled by customer")}
    findings = check_closings(seen, closings, {"SO-1": TIMED_OUT, "SO-2": REMAINDER})
    assert [(str(f), f.moving) for f in findings] == [
        (
            "order SO-1: orders.events carried OrderCancelled (cancelled by customer); "
            "the simulators say OrderCancelled (decision_timeout)",
            False,
        ),
        ("order SO-2: orders.events has not carried its OrderRemainderCancelled yet", True),
    ]


def test_an_order_erp_decided_must_not_be_cancelled_for_want_of_a_decision() -> None:
    # Given an order the shop cancelled (202) that the gateway says timed out instead
    seen = {"SO-1": closed("CANCELLED", line(4, cancelled=4))}
    closings = {"SO-1": ("OrderCancelled", "decision_timeout")}
    expected = {"SO-1": Expected("CANCELLED", "the cancel was accepted")}
    # Then the reason is a mismatch
    assert [str(f) for f in check_closings(seen, closings, expected)] == [
        "order SO-1: cancelled for decision_timeout; the simulators say the cancel was accepted"
    ]


def test_lines_are_not_judged_before_the_status_agrees() -> None:
    # Given a timed-out order the gateway still shows reserved (check_orders names that)
    seen = {"SO-1": closed("RESERVED", line(4, reserved=4))}
    assert check_closings(seen, {}, {"SO-1": TIMED_OUT}) == []


def report(findings: tuple[Finding, ...] = (), errors: tuple[str, ...] = ()) -> DayReport:
    return DayReport(
        run="R1",
        seconds=83,
        statuses={"INVOICED": 2, "CANCELLED": 1},
        cancels={"SO-3": 202, "SO-4": 409},
        skipped=0,
        wms={"receipt": 3, "pick": 2, "ship": 2, "short": 1},
        erp={"OrderConfirmed": 2, "OrderInvoiced": 2},
        looks=9,
        checks=3,
        positions=4,
        undecided=2,
        timeout_s=15,
        remainders=1,
        closed=3,
        findings=findings,
        errors=errors,
    )


def test_the_summary_passes_when_nothing_disagrees() -> None:
    lines = summary(report())
    assert report().passed
    assert "Summary of run R1: played and checked in 1:23" in lines
    assert "  orders      3 placed: INVOICED 2, CANCELLED 1" in lines
    assert "  cancels     2 asked: 1 accepted (202), 1 refused (409)" in lines
    assert (
        "  fates       2 orders ERP never decided (decision timeout 15 s), "
        "1 unshipped remainder cancelled after a partial shipment"
    ) in lines
    assert any(
        line.startswith("  checked     3 order statuses (3 with their lines and cancel event), ")
        for line in lines
    )
    assert lines[-1] == f"  result      {PASSED}"


def test_a_disagreeing_truth_fails_the_summary_and_prints_each_finding() -> None:
    # Given a gateway that disagrees with the simulators
    findings = (
        *check_orders({"SO-1": order("CANCELLED")}, {"SO-1": Expected("INVOICED", "shipped")}),
        *check_orders({"SO-2": order("RELEASED")}, {"SO-2": Expected("INVOICED", "x", False)}),
        *overdrawn(["A in DC-EAST: S1 takes on_hand to -1"]),
    )
    # When summarised
    failed = report(findings)
    lines = summary(failed)
    # Then it does not pass, each finding has its line, and the verdict counts them
    assert not failed.passed
    assert "  MISMATCH    order SO-1: is CANCELLED; the simulators say INVOICED: shipped" in lines
    assert "  NOT SETTLED order SO-2: is RELEASED; the simulators say INVOICED: x" in lines
    assert any(line.startswith("  MISMATCH    A in DC-EAST: S1") for line in lines)
    assert lines[-1] == "  result      FAIL: 2 mismatches, 1 not settled by the deadline"


def test_errors_fail_the_summary_too() -> None:
    lines = summary(report(errors=("ShopError: POST /v1/orders answered 422",)))
    assert "  ERROR       ShopError: POST /v1/orders answered 422" in lines
    assert lines[-1] == "  result      FAIL: 1 error"
