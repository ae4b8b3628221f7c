"""The reconcile report: a table for people, `--json` for programs, `--out` CSV for Excel."""

import csv
from pathlib import Path
from typing import Literal, TextIO

import msgspec

from protocols.book_stock import BadRow, BookStock, Encoding
from tables.stock.reconcile import Discrepancy

ON_HAND_COLUMNS = ("sku", "warehouse", "erp_qty", "distgate_on_hand", "difference")
BLOCKED_COLUMNS = ("erp_blocked", "distgate_blocked", "blocked_difference")
Figure = Literal["on_hand", "blocked"]


class BookSummary(msgspec.Struct, frozen=True):
    """How the file was read."""

    rows: int  # rows compared
    bad_rows: int
    encoding: Encoding
    separator: str


class Report(msgspec.Struct, frozen=True):
    """The `--json` document (version 1): fields are only ever added, never changed."""

    version: int
    in_step: bool
    compared: tuple[Figure, ...]
    book: BookSummary
    differences: tuple[Discrepancy, ...]
    bad_rows: tuple[BadRow, ...]


def build_report(book: BookStock, encoding: Encoding, found: list[Discrepancy]) -> Report:
    """In step only when nothing differs and every row could be compared."""
    return Report(
        version=1,
        in_step=not found and not book.bad_rows,
        compared=("on_hand", "blocked") if book.states_blocked else ("on_hand",),
        book=BookSummary(len(book.lines), len(book.bad_rows), encoding, book.separator),
        differences=tuple(found),
        bad_rows=book.bad_rows,
    )


def write_json(report: Report, stream: TextIO) -> None:
    """One JSON document on one line."""
    stream.write(msgspec.json.encode(report).decode() + "\n")


def write_text(report: Report, stream: TextIO) -> None:
    """The differences as aligned columns, then the bad rows, then one summary line."""
    if report.differences:
        _write_table(_table(report), stream)
    if report.bad_rows:
        print("bad rows, not compared:", file=stream)
        for bad in report.bad_rows:
            print(f"  line {bad.line}: {bad.reason}", file=stream)
    print(_summary(report), file=stream)


def write_csv(report: Report, out: Path) -> None:
    """The same columns as the table, for Excel."""
    with out.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows(_table(report))


def _table(report: Report) -> list[tuple[str, ...]]:
    blocked = "blocked" in report.compared
    header = (*ON_HAND_COLUMNS, *(BLOCKED_COLUMNS if blocked else ()), "finding")
    return [header, *(_cells(d, blocked=blocked) for d in report.differences)]


def _write_table(rows: list[tuple[str, ...]], stream: TextIO) -> None:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        cells = (cell.ljust(width) for cell, width in zip(row, widths, strict=True))
        print("  ".join(cells).rstrip(), file=stream)


def _cells(d: Discrepancy, *, blocked: bool) -> tuple[str, ...]:
    on_hand = (d.sku, d.warehouse, _shown(d.erp_qty), _shown(d.distgate_on_hand))
    if not blocked:
        return (*on_hand, _signed(d.difference), d.finding)
    by_blocked = (_shown(d.erp_blocked), _shown(d.distgate_blocked), _signed(d.blocked_difference))
    return (*on_hand, _signed(d.difference), *by_blocked, d.finding)


def _summary(report: Report) -> str:
    figures = " and ".join(report.compared)
    rows = _count(report.book.rows, "book row")
    if report.in_step:
        line = f"in step: {rows}, no differences in {figures}"
    else:
        found = _count(len(report.differences), "difference")
        line = (
            f"{found} and {_count(len(report.bad_rows), 'bad row')}; {rows} compared on {figures}"
        )
    if "blocked" not in report.compared:
        line += " (no blocked column: blocked not compared)"
    return line


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"


def _shown(value: int | None) -> str:
    return "-" if value is None else str(value)


def _signed(value: int | None) -> str:
    return "-" if value is None else f"{value:+d}" if value else "0"
