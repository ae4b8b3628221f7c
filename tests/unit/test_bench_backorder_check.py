"""The backorder oracle's rules on hand-made runs: it passes a clean one and names each fault."""

import datetime as dt

from bench.peak.backorder_check import Facts, Fill, Line, backorder_section

T0 = dt.datetime(2026, 11, 27, 9, 0, tzinfo=dt.UTC)
SKU = "SKU-1"


def _line(order: str, minute: int, qty: int, **figures: object) -> Line:
    held = figures.pop("held", {})
    submitted = T0 + dt.timedelta(minutes=minute)
    return Line(order, 1, SKU, qty, submitted, held=held, **figures)  # type: ignore[arg-type]


def _clean_run() -> Facts:
    """A (older) waited for 4 from place 10, filled at 20 and 30; B (newer) waited from 12,
    filled at 30 once A was whole; C still waits for 2, with no ATP left anywhere; D took
    its unit at once, before anyone waited."""
    lines = [
        _line("A", 0, 4, reserved=4, held={"DC-EAST": 4}),
        _line("B", 1, 3, reserved=3, held={"DC-EAST": 3}),
        _line("C", 2, 2, backordered=2),
        _line("D", 3, 1, reserved=1, held={"DC-WEST": 1}),  # reserved before C waited
    ]
    fills = [
        Fill("A", 1, "DC-EAST", 1, at=20),
        Fill("A", 1, "DC-EAST", 3, at=30),
        Fill("B", 1, "DC-EAST", 3, at=30),
    ]
    joined = {("A", 1): 10, ("B", 1): 12, ("C", 1): 14, ("D", 1): 9}
    return Facts(lines, fills, joined, {(SKU, "DC-EAST"): 0, (SKU, "DC-WEST"): 0})


def test_a_run_whose_backorders_were_filled_oldest_first_is_correct() -> None:
    section = backorder_section(_clean_run())
    assert section["correct"] is True
    assert (section["stuck"], section["out_of_order"], section["equation_broken"]) == (0, 0, 0)
    assert section["orders_backordered"] == 3
    assert section["lines_filled"] == 2
    assert section["lines_filled_completely"] == 2
    assert section["units_filled"] == 7
    assert (section["lines_waiting"], section["units_waiting"]) == (1, 2)
    assert section["unplaced"] == 0


def test_a_line_left_backordered_while_its_sku_has_atp_is_stuck() -> None:
    facts = _clean_run()
    facts = Facts(facts.lines, facts.fills, facts.joined_at, {(SKU, "DC-WEST"): 5})
    section = backorder_section(facts)
    assert section["stuck"] == 1
    assert section["correct"] is False
    assert "stuck C/1" in section["problems"][0]


def test_atp_where_the_line_may_not_take_from_does_not_make_it_stuck() -> None:
    facts = _clean_run()
    only_east = Line("C", 1, SKU, 2, T0, backordered=2, warehouse="DC-EAST")
    lines = [*facts.lines[:2], only_east, facts.lines[3]]
    section = backorder_section(Facts(lines, facts.fills, facts.joined_at, {(SKU, "DC-WEST"): 5}))
    assert section["stuck"] == 0


def test_a_fill_to_a_newer_order_while_an_older_one_waited_is_out_of_order() -> None:
    # B (newer) was filled at 20, while A (older, waiting since 10) got its units only at 30
    facts = _clean_run()
    fills = [
        Fill("B", 1, "DC-EAST", 3, at=20),
        Fill("A", 1, "DC-EAST", 4, at=30),
    ]
    section = backorder_section(Facts(facts.lines, fills, facts.joined_at, facts.atp))
    assert section["out_of_order"] == 1
    assert section["correct"] is False
    assert "to B/1 at 20 while A/1 waited" in section["problems"][0]


def test_a_newer_order_reserving_at_once_while_an_older_one_waits_is_out_of_order() -> None:
    # E came after C and reserved 1 at its own ReserveLine (place 18) while C still waits
    facts = _clean_run()
    newcomer = _line("E", 4, 1, reserved=1, held={"DC-WEST": 1})
    joined = {**facts.joined_at, ("E", 1): 18}
    section = backorder_section(Facts([*facts.lines, newcomer], facts.fills, joined, facts.atp))
    assert section["out_of_order"] == 1
    assert "1 to E/1 at 18 while A/1 waited" in section["problems"][0]


def test_a_waiting_line_the_inbox_did_not_show_is_not_judged_and_fails() -> None:
    facts = _clean_run()
    joined = {key: at for key, at in facts.joined_at.items() if key != ("C", 1)}
    section = backorder_section(Facts(facts.lines, facts.fills, joined, facts.atp))
    assert section["unplaced"] == 1
    assert section["correct"] is False


def test_a_line_whose_figures_do_not_add_up_to_its_qty_breaks_the_equation() -> None:
    facts = _clean_run()
    lost = _line("F", 5, 5, reserved=2, backordered=2)
    section = backorder_section(
        Facts([*facts.lines, lost], facts.fills, facts.joined_at, facts.atp)
    )
    assert section["equation_broken"] == 1
    assert section["correct"] is False
    assert "F/1: 2+0+0+2+0 != 5" in section["problems"][0]
