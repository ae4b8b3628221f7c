"""The reconcile report's text, JSON and CSV, and its progress on stderr."""

import io
import json
from pathlib import Path

from app.reconcile.progress import Progress
from app.reconcile.report import build_report, write_csv, write_json, write_text
from protocols.book_stock import BadRow, BookLine, BookStock
from tables.stock.reconcile import Discrepancy

BOOK = BookStock(
    (BookLine("SKU-1", "DC-EAST", 5, 1), BookLine("SKU-2", "DC-EAST", 3)),
    (BadRow(4, "qty '5.5' is not a whole number >= 0"),),
    separator=";",
    states_blocked=True,
)
FOUND = [Discrepancy("SKU-1", "DC-EAST", 5, 4, -1, "mismatch", 1, 1, 0)]


def test_the_json_report_has_the_documented_shape() -> None:
    # Given a book with one bad row and one difference
    report = build_report(BOOK, "utf-8", FOUND)
    # When written as JSON
    out = io.StringIO()
    write_json(report, out)
    # Then it is one document in the shape the README documents
    assert json.loads(out.getvalue()) == {
        "version": 1,
        "in_step": False,
        "compared": ["on_hand", "blocked"],
        "book": {"rows": 2, "bad_rows": 1, "encoding": "utf-8", "separator": ";"},
        "differences": [
            {
                "sku": "SKU-1",
                "warehouse": "DC-EAST",
                "erp_qty": 5,
                "distgate_on_hand": 4,
                "difference": -1,
                "finding": "mismatch",
                "erp_blocked": 1,
                "distgate_blocked": 1,
                "blocked_difference": 0,
            }
        ],
        "bad_rows": [{"line": 4, "reason": "qty '5.5' is not a whole number >= 0"}],
    }


def test_the_text_report_lists_differences_bad_rows_and_a_summary() -> None:
    # Given the same report
    report = build_report(BOOK, "utf-8", FOUND)
    # When written as text
    out = io.StringIO()
    write_text(report, out)
    # Then the differences, the bad rows and the summary are printed
    assert out.getvalue().splitlines() == [
        "sku    warehouse  erp_qty  distgate_on_hand  difference  erp_blocked  distgate_blocked"
        "  blocked_difference  finding",
        "SKU-1  DC-EAST    5        4                 -1          1            1"
        "                 0                   mismatch",
        "bad rows, not compared:",
        "  line 4: qty '5.5' is not a whole number >= 0",
        "1 difference and 1 bad row; 2 book rows compared on on_hand and blocked",
    ]


def test_a_book_in_step_without_blocked_says_what_was_not_compared(tmp_path: Path) -> None:
    # Given a book with no blocked column and nothing different
    book = BookStock((BookLine("SKU-1", "DC-EAST", 5),), (), ",", states_blocked=False)
    report = build_report(book, "windows-1252", [])
    # When written as text and CSV
    out = io.StringIO()
    write_text(report, out)
    write_csv(report, tmp_path / "report.csv")
    # Then it is in step, says blocked was not compared, and the CSV has only the header
    assert report.in_step
    assert out.getvalue() == (
        "in step: 1 book row, no differences in on_hand (no blocked column: blocked not compared)\n"
    )
    assert (tmp_path / "report.csv").read_text().splitlines() == [
        "sku,warehouse,erp_qty,distgate_on_hand,difference,finding"
    ]


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_on_a_log_is_a_line_every_period() -> None:
    # Given progress written to a file, not a terminal
    clock, log = Clock(), io.StringIO()
    progress = Progress(log, clock, period=10.0)
    # When the work reports often over 25 seconds
    for tick in range(250):
        clock.now = tick / 10
        progress.show(f"line {tick}")
    progress.done()
    # Then one plain line was written per 10 seconds
    assert log.getvalue() == "reconcile: line 100\nreconcile: line 200\n"


def test_progress_on_a_terminal_rewrites_one_line_after_a_delay() -> None:
    # Given progress on a terminal
    clock, terminal = Clock(), Terminal()
    progress = Progress(terminal, clock, delay=1.0)
    # When the work is quick, Then nothing shows
    progress.show("line 1")
    assert terminal.getvalue() == ""
    # When it takes longer, Then one line is rewritten in place, and cleared at the end
    clock.now = 1.0
    progress.show("line 9")
    clock.now = 1.05
    progress.show("line 10")  # too soon after the last
    clock.now = 1.2
    progress.show("line 11")
    progress.done()
    assert terminal.getvalue() == ("\r\x1b[2Kreconcile: line 9\r\x1b[2Kreconcile: line 11\r\x1b[2K")
