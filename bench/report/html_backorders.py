"""The HTML report's backorders section: what waited, what was filled, and what went wrong."""

from collections.abc import Mapping
from typing import Any

from bench.report.html_table import as_dict, as_list, cell, figure, row, table

LOAD = (
    ("skus", "scarce SKUs (a few units a warehouse at the start)"),
    ("orders_accepted", "their orders, backorders allowed"),
    ("receipts_confirmed", "their receipts: first units, refills, the last delivery"),
)
COUNTS = (
    ("orders_backordered", "orders that had backordered units"),
    ("lines_backordered", "lines that had backordered units"),
    ("lines_filled", "lines filled (some or all units)"),
    ("lines_filled_completely", "lines filled completely"),
    ("units_filled", "units filled"),
    ("lines_waiting", "lines still waiting (no ATP they may take)"),
    ("units_waiting", "units still waiting"),
)
MUST_BE_ZERO = (
    ("stuck", "stuck: waiting while their SKU has ATP they may take"),
    ("out_of_order", "out of order: a newer order took units while an older one waited"),
    (
        "equation_broken",
        "lines where reserved + allocated + shipped + backordered + cancelled != qty",
    ),
    ("unplaced", "lines or fills the stock inbox did not place (not judged)"),
)


def backorders(report: Mapping[str, Any]) -> str:
    """The scarce load and what waited and was filled; the counts that must be zero
    (highlighted when not); the first problems."""
    found = as_dict(report.get("backorders"))
    load = as_dict(found.get("load"))
    counts = [row([cell(label), figure(load.get(key), 0)]) for key, label in LOAD] + [
        row([cell(label), figure(found.get(key), 0)]) for key, label in COUNTS
    ]
    checks = [
        row([cell(label), figure(found.get(key), 0)], "" if found.get(key) == 0 else "fail")
        for key, label in MUST_BE_ZERO
    ]
    problems = [row([cell(problem)]) for problem in as_list(found.get("problems"))]
    return "\n".join(
        [
            table(["backorders", "count"], counts, "text"),
            table(["must be 0", "count"], checks, "text"),
            *([table(["first problems"], problems, "text")] if problems else []),
        ]
    )
