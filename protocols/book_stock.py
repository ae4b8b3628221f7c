"""ERP book stock as Excel saves it to CSV: the input of `distgate reconcile`."""

import codecs
import csv
import io
import re
from collections.abc import Callable, Iterator
from typing import Literal

import msgspec

from protocols.errors import ProtocolError
from protocols.ids import MAX_QTY, SKU_PATTERN, WAREHOUSE_PATTERN

_SKU = re.compile(SKU_PATTERN)
_WAREHOUSE = re.compile(WAREHOUSE_PATTERN)
# Excel writes a whole number as "5", or "5.0" when the cell is formatted with decimals.
_WHOLE = re.compile(r"([0-9]+)(?:\.(0+))?")
REQUIRED = ("sku", "warehouse", "qty")
SEPARATORS = (",", ";", "\t")  # tab: Excel's "Unicode Text"
MAX_FIGURE = MAX_QTY * 1000
PROGRESS_EVERY = 1000
Encoding = Literal["utf-8", "utf-16", "windows-1252"]


class BookLine(msgspec.Struct, frozen=True):
    """ERP's figures for one SKU in one warehouse."""

    sku: str
    warehouse: str
    qty: int
    blocked: int = 0


class BadRow(msgspec.Struct, frozen=True):
    """A row that is not compared, and why: listed in the report, never fatal."""

    line: int
    reason: str


class BookStock(msgspec.Struct, frozen=True):
    """A parsed book: the rows to compare, the rows that could not be, and what it states."""

    lines: tuple[BookLine, ...]
    bad_rows: tuple[BadRow, ...]
    separator: str
    states_blocked: bool  # the file has a blocked column


class BookStockError(ProtocolError):
    """The file cannot be read as a book at all (no header): a usage error, not a bad row."""


class _Columns(msgspec.Struct, frozen=True):
    """Where the header put each column we read; the others are ignored."""

    sku: int
    warehouse: int
    qty: int
    blocked: int | None


def decode_book(data: bytes) -> tuple[str, Encoding]:
    """UTF-8 with or without Excel's BOM, UTF-16 with its BOM; otherwise Windows-1252.

    Windows-1252 is what Excel's plain CSV writes on Western Windows. The fallback cannot
    change a figure: the compared columns are ASCII by their patterns, so a wrong guess
    only shows a cell of a bad row, or an ignored column, differently.
    """
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16", errors="replace"), "utf-16"
    try:
        return data.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError:
        # A UTF-8 BOM on a file that is not UTF-8 after all must not spoil the header.
        fallback = data.removeprefix(codecs.BOM_UTF8).decode("windows-1252", errors="replace")
        return fallback, "windows-1252"


def parse_book_stock(text: str, on_progress: Callable[[int], None] | None = None) -> BookStock:
    """Rows by the header's column names; each bad row is listed with its line, not fatal."""
    source = io.StringIO(text)
    header_line, separator, columns = _header(source)
    lines: list[BookLine] = []
    bad: list[BadRow] = []
    seen: dict[tuple[str, str], int] = {}
    for number, cells in _records(source, separator, header_line):
        if on_progress is not None and number % PROGRESS_EVERY == 0:
            on_progress(number)
        line = _book_line(cells, columns)
        if isinstance(line, str):
            bad.append(BadRow(number, line))
        elif (first := seen.setdefault((line.sku, line.warehouse), number)) != number:
            reason = f"{line.sku} in {line.warehouse} already given on line {first}"
            bad.append(BadRow(number, reason))
        else:
            lines.append(line)
    return BookStock(tuple(lines), tuple(bad), separator, columns.blocked is not None)


def shown(cell: str) -> str:
    """A cell quoted for a message: control and invisible characters escaped, length capped."""
    return repr(cell if len(cell) <= 40 else cell[:40] + "…")


def _header(source: io.StringIO) -> tuple[int, str, _Columns]:
    """The first non-blank line names the columns; Excel's `sep=;` line may precede it."""
    separators: tuple[str, ...] = SEPARATORS
    for number, raw in enumerate(iter(source.readline, ""), start=1):
        line = raw.strip()
        hint = raw.rstrip("\r\n")  # the hint may name a tab
        if hint.casefold().startswith("sep=") and len(hint) == 5:
            separators = (hint[4],)
        elif line.strip("".join(SEPARATORS) + "\t "):
            return number, *_columns(number, line, separators)
    raise BookStockError("no header: the file has no rows")


def _columns(number: int, line: str, separators: tuple[str, ...]) -> tuple[str, _Columns]:
    """The first separator whose split names sku, warehouse and qty, in any case and order."""
    for separator in separators:
        names = [cell.strip().casefold() for cell in next(csv.reader([line], delimiter=separator))]
        if not set(REQUIRED) <= set(names):
            continue
        for name in (*REQUIRED, "blocked"):
            if names.count(name) > 1:
                raise BookStockError(f"line {number}: the header names {name} twice")
        blocked = names.index("blocked") if "blocked" in names else None
        sku, warehouse, qty = (names.index(name) for name in REQUIRED)
        return separator, _Columns(sku, warehouse, qty, blocked)
    raise BookStockError(
        f"line {number}: no header naming sku, warehouse and qty (found {shown(line)})"
    )


def _records(source: io.StringIO, separator: str, before: int) -> Iterator[tuple[int, list[str]]]:
    """Each non-blank record with the line it starts on; a quoted cell may span lines."""
    reader = csv.reader(source, delimiter=separator)
    ended = 0
    for row in reader:
        start, ended = before + ended + 1, reader.line_num
        cells = [cell.strip() for cell in row]
        if any(cells):  # Excel writes an empty row as ";;;"
            yield start, cells


def _book_line(cells: list[str], columns: _Columns) -> BookLine | str:
    """The row's BookLine, or the reason it is bad; a missing or empty blocked cell is 0."""
    width = max(columns.sku, columns.warehouse, columns.qty) + 1
    if len(cells) < width:
        return f"expected at least {width} fields, got {len(cells)}"
    sku, warehouse = cells[columns.sku], cells[columns.warehouse]
    if not _SKU.match(sku):
        return f"{shown(sku)} is not a valid SKU"
    if not _WAREHOUSE.match(warehouse):
        return f"{shown(warehouse)} is not a valid warehouse code"
    qty = _figure("qty", cells[columns.qty])
    if isinstance(qty, str):
        return qty
    blocked = _figure("blocked", _cell(cells, columns.blocked) or "0")
    if isinstance(blocked, str):
        return blocked
    return BookLine(sku, warehouse, qty, blocked)


def _cell(cells: list[str], index: int | None) -> str:
    return cells[index] if index is not None and index < len(cells) else ""


def _figure(name: str, cell: str) -> int | str:
    """A whole number >= 0 ("5" or "5.0"), or the reason the cell is not one."""
    whole = _WHOLE.fullmatch(cell)
    if whole is None:
        return f"{name} {shown(cell)} is not a whole number >= 0"
    digits, zeros = whole.groups()
    if zeros is not None and len(zeros) == 3 and int(digits) > 0:
        # "1.000" is 1 to an English Excel and 1000 to a German one: neither is guessed.
        return f"{name} {shown(cell)} is ambiguous (thousands separator or decimals?)"
    if int(digits) > MAX_FIGURE:
        return f"{name} {shown(cell)} is over {MAX_FIGURE}"
    return int(digits)
