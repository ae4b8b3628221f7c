"""ERP book stock as CSV (`sku,warehouse,qty`), the input of `distgate reconcile`."""

import csv
import io
import re

import msgspec

from protocols.errors import ProtocolError
from protocols.ids import MAX_QTY, SKU_PATTERN, WAREHOUSE_PATTERN

_SKU = re.compile(SKU_PATTERN)
_WAREHOUSE = re.compile(WAREHOUSE_PATTERN)
HEADER = ("sku", "warehouse", "qty")


class BookLine(msgspec.Struct, frozen=True):
    """ERP's on-hand figure for one SKU in one warehouse."""

    sku: str
    warehouse: str
    qty: int


class BookStockError(ProtocolError):
    """The book stock file cannot be read; the message names the line."""


def parse_book_stock(text: str) -> list[BookLine]:
    """Parse the CSV (header optional); raise BookStockError naming the first bad line."""
    lines: list[BookLine] = []
    seen: dict[tuple[str, str], int] = {}
    for number, row in enumerate(csv.reader(io.StringIO(text)), start=1):
        cells = tuple(cell.strip() for cell in row)
        if not cells or cells == ("",) or (number == 1 and cells == HEADER):
            continue
        line = _book_line(number, cells)
        if (first := seen.setdefault((line.sku, line.warehouse), number)) != number:
            raise BookStockError(
                f"line {number}: {line.sku} in {line.warehouse} already given on line {first}"
            )
        lines.append(line)
    return lines


def _book_line(number: int, cells: tuple[str, ...]) -> BookLine:
    if len(cells) != 3:
        raise BookStockError(
            f"line {number}: expected 3 fields sku,warehouse,qty, got {len(cells)}"
        )
    sku, warehouse, qty = cells
    if not _SKU.match(sku):
        raise BookStockError(f"line {number}: {sku!r} is not a valid SKU")
    if not _WAREHOUSE.match(warehouse):
        raise BookStockError(f"line {number}: {warehouse!r} is not a valid warehouse code")
    if not qty.isdecimal() or not qty.isascii() or int(qty) > MAX_QTY * 1000:
        raise BookStockError(f"line {number}: qty {qty!r} is not a whole number >= 0")
    return BookLine(sku, warehouse, int(qty))
