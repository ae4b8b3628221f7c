"""The demo's final check and summary: every disagreement is named, and the verdict follows."""

from app.demo.check import Finding, check_orders, check_stock, overdrawn
from app.demo.summary import PASSED, DayReport, summary
from app.sim.truth import Expected, StockFigures


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
        findings=findings,
        errors=errors,
    )


def test_the_summary_passes_when_nothing_disagrees() -> None:
    lines = summary(report())
    assert report().passed
    assert "Summary of run R1: played and checked in 1:23" in lines
    assert "  orders      3 placed: INVOICED 2, CANCELLED 1" in lines
    assert "  cancels     2 asked: 1 accepted (202), 1 refused (409)" in lines
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
