"""The discrepancy rules of `distgate reconcile`, and the parser and comparer against an oracle."""

from itertools import groupby
from typing import NamedTuple

from hypothesis import given
from hypothesis import strategies as st

from protocols.book_stock import BookLine, decode_book, parse_book_stock
from tables.stock.reconcile import Discrepancy, reconcile
from tables.stock.value import Position, SkuStock


def test_reconcile_reports_each_kind_of_difference_and_no_zero_noise() -> None:
    # Given ERP's book and distgate's projection
    book = [
        BookLine("A", "DC-EAST", 10),  # matches
        BookLine("B", "DC-EAST", 10),  # distgate has 7
        BookLine("C", "DC-EAST", 4),  # never seen by distgate
        BookLine("D", "DC-EAST", 0),  # zero on both sides
        BookLine("F", "DC-EAST", 0),  # zero, and never seen by distgate
    ]
    projected = [
        SkuStock("A", (Position("DC-EAST", on_hand=10, blocked=2),)),
        SkuStock("B", (Position("DC-EAST", on_hand=7), Position("DC-WEST", on_hand=5))),
        SkuStock("D", (Position("DC-EAST"),)),
        SkuStock("E", (Position("DC-EAST"),)),  # zero and absent from ERP
    ]
    # When reconciled on on_hand only (the book states no blocked figures)
    found = reconcile(book, projected, blocked=False)
    # Then exactly the three differences are reported, sorted, with signed differences
    assert found == [
        Discrepancy("B", "DC-EAST", 10, 7, -3, "mismatch"),
        Discrepancy("B", "DC-WEST", None, 5, 5, "missing_in_erp"),
        Discrepancy("C", "DC-EAST", 4, None, -4, "missing_in_distgate"),
    ]
    # And a book that matches gives no findings
    assert reconcile(book[:1], projected[:1], blocked=False) == []


def test_blocked_is_compared_when_the_book_states_it() -> None:
    # Given a book whose on_hand figures all agree, with blocked figures
    book = [BookLine("A", "DC-EAST", 10, blocked=1), BookLine("B", "DC-EAST", 3, blocked=3)]
    projected = [
        SkuStock("A", (Position("DC-EAST", on_hand=10, blocked=2),)),
        SkuStock("B", (Position("DC-EAST", on_hand=3, blocked=3),)),
        SkuStock("C", (Position("DC-EAST", blocked=4),)),  # only blocked, absent from ERP
    ]
    # When reconciled on blocked as well
    found = reconcile(book, projected, blocked=True)
    # Then the blocked differences are the findings
    assert found == [
        Discrepancy("A", "DC-EAST", 10, 10, 0, "mismatch", 1, 2, 1),
        Discrepancy("C", "DC-EAST", None, 0, 0, "missing_in_erp", None, 4, 4),
    ]


SKUS = st.sampled_from(["SKU-1", "SKU-2", "a.b/3", "X"])
WAREHOUSES = st.sampled_from(["DC-EAST", "DC-WEST", "W1"])
FIGURES = st.tuples(st.integers(0, 12), st.integers(0, 3))
Figures = dict[tuple[str, str], tuple[int, int]]


class ExcelFile(NamedTuple):
    """A file as some Excel saved it, with what a correct reader must find in it."""

    raw: bytes
    with_blocked: bool
    bad_lines: list[int]  # where the rows with a bad quantity start


@st.composite
def excel_csv(draw: st.DrawFn, rows: Figures) -> ExcelFile:
    """The rows, with bad rows, empty rows and multi-line notes between them."""
    separator = draw(st.sampled_from([",", ";", "\t"]))
    newline = draw(st.sampled_from(["\n", "\r\n"]))
    with_blocked = draw(st.booleans())
    names = ["sku", "warehouse", "qty", "note"] + (["blocked"] if with_blocked else [])
    order = draw(st.permutations(names))
    lines = [separator.join(draw(st.sampled_from([n, n.upper(), n.title()])) for n in order)]
    bad_lines = []
    for number, ((sku, warehouse), (qty, blocked)) in enumerate(rows.items()):
        if draw(st.booleans()):
            lines.append(separator * (len(order) - 1))  # an empty row
        if draw(st.booleans()):
            bad_lines.append(sum(line.count(newline) + 1 for line in lines) + 1)
            lines.append(_row(order, separator, newline, f"BAD-{number}", "DC-EAST", "5.5", "0"))
        quantity = f"{qty}{draw(st.sampled_from(['', '.0', '.00']))}"
        shown_blocked = "" if blocked == 0 and draw(st.booleans()) else str(blocked)
        lines.append(_row(order, separator, newline, sku, warehouse, quantity, shown_blocked))
    bom = draw(st.sampled_from(["", "\ufeff"]))
    return ExcelFile((bom + newline.join(lines) + newline).encode(), with_blocked, bad_lines)


def _row(
    order: list[str], separator: str, newline: str, sku: str, warehouse: str, qty: str, blocked: str
) -> str:
    note = f'"a{separator}{newline}b"'  # the separator and a line break, quoted
    cells = {"sku": sku, "warehouse": warehouse, "qty": qty, "note": note, "blocked": blocked}
    return separator.join(cells[name] for name in order)


def oracle(erp: Figures, ours: Figures, with_blocked: bool) -> set[tuple[str, str, int, int]]:
    """Independently: every SKU-warehouse whose figures differ, absent counting as zeros."""
    differing = set()
    for key in set(erp) | set(ours):
        erp_qty, erp_blocked = erp.get(key, (0, 0))
        on_hand, blocked = ours.get(key, (0, 0))
        blocked_difference = blocked - erp_blocked if with_blocked else 0
        if on_hand != erp_qty or blocked_difference:
            differing.add((*key, on_hand - erp_qty, blocked_difference))
    return differing


def projection(ours: Figures) -> list[SkuStock]:
    by_sku = groupby(sorted(ours.items()), key=lambda item: item[0][0])
    return [
        SkuStock(sku, tuple(Position(w, on_hand=q, blocked=b) for (_, w), (q, b) in items))
        for sku, items in by_sku
    ]


@given(
    erp=st.dictionaries(st.tuples(SKUS, WAREHOUSES), FIGURES, max_size=8),
    ours=st.dictionaries(st.tuples(SKUS, WAREHOUSES), FIGURES, max_size=8),
    data=st.data(),
)
def test_the_report_of_any_excel_file_equals_the_oracle(
    erp: Figures, ours: Figures, data: st.DataObject
) -> None:
    # Given ERP's figures saved as some Excel CSV, and distgate's projection
    excel = data.draw(excel_csv(erp))
    # When the file is parsed and reconciled
    book = parse_book_stock(decode_book(excel.raw)[0])
    found = reconcile(book.lines, projection(ours), blocked=book.states_blocked)
    # Then every good row was read and every bad one named by its first line
    assert (len(book.lines), book.states_blocked) == (len(erp), excel.with_blocked)
    assert [bad.line for bad in book.bad_rows] == excel.bad_lines
    # And the differences are the oracle's
    reported = {(d.sku, d.warehouse, d.difference, d.blocked_difference or 0) for d in found}
    assert reported == oracle(erp, ours, excel.with_blocked)
    assert len(found) == len(reported)
