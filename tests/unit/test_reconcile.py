"""ERP book stock parsing and the discrepancy rules of `distgate reconcile`."""

import pytest

from protocols.book_stock import BookLine, BookStockError, parse_book_stock
from tables.reconcile import Discrepancy, reconcile
from tables.stock import Position, SkuStock


def test_book_stock_parses_with_or_without_header() -> None:
    # Given the same lines with and without a header, and a blank line
    body = "SKU-1,DC-EAST,47\n\nSKU-2,DC-WEST,0\n"
    # When parsed
    # Then both give the same lines
    expected = [BookLine("SKU-1", "DC-EAST", 47), BookLine("SKU-2", "DC-WEST", 0)]
    assert parse_book_stock(body) == expected
    assert parse_book_stock("sku,warehouse,qty\n" + body) == expected


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("SKU-1,DC-EAST\n", "line 1: expected 3 fields"),
        ("SKU 1,DC-EAST,3\n", "line 1: 'SKU 1' is not a valid SKU"),
        ("SKU-1,dc-east,3\n", "line 1: 'dc-east' is not a valid warehouse code"),
        ("SKU-1,DC-EAST,-3\n", "line 1: qty '-3' is not a whole number"),
        ("SKU-1,DC-EAST,2.5\n", "line 1: qty '2.5' is not a whole number"),
        ("SKU-1,DC-EAST,1\nSKU-1,DC-EAST,2\n", "line 2: SKU-1 in DC-EAST already given on line 1"),
    ],
)
def test_bad_book_stock_names_the_line(body: str, message: str) -> None:
    # Given a file with one bad line
    # When parsed, Then the error names the line and what is wrong
    with pytest.raises(BookStockError, match=message):
        parse_book_stock(body)


def test_reconcile_reports_each_kind_of_disagreement() -> None:
    # Given ERP's book and distgate's projection
    book = [
        BookLine("A", "DC-EAST", 10),  # matches
        BookLine("B", "DC-EAST", 10),  # distgate has 7
        BookLine("C", "DC-EAST", 4),  # never seen by distgate
        BookLine("D", "DC-EAST", 0),  # zero on both sides
    ]
    projected = [
        SkuStock("A", (Position("DC-EAST", on_hand=10),)),
        SkuStock("B", (Position("DC-EAST", on_hand=7), Position("DC-WEST", on_hand=5))),
        SkuStock("D", (Position("DC-EAST"),)),
        SkuStock("E", (Position("DC-EAST"),)),  # zero and absent from ERP: not a finding
    ]
    # When reconciled
    found = reconcile(book, projected)
    # Then exactly the three disagreements are reported, sorted, with signed differences
    assert found == [
        Discrepancy("B", "DC-EAST", 10, 7, -3, "mismatch"),
        Discrepancy("B", "DC-WEST", None, 5, 5, "missing_in_erp"),
        Discrepancy("C", "DC-EAST", 4, None, -4, "missing_in_distgate"),
    ]
    # And a book that matches gives no findings
    assert reconcile(book[:1], projected[:1]) == []
