"""The HTML report's building blocks: tables, rows and cells that show "not measured" for gaps."""

from collections.abc import Mapping, Sequence
from typing import Any

from bench.report.svg import escape

NOT_MEASURED = '<span class="na">not measured</span>'
PERCENTILES = (("p50", "p50"), ("p90", "p90"), ("p99", "p99"), ("p999", "p99.9"))


def latencies(latency_ms: Any) -> list[str]:
    """The percentile cells of a latency summary (all not measured when there is none)."""
    latency = as_dict(latency_ms)
    return [figure(latency.get(key)) for key, _ in PERCENTILES]


def section(heading: str, body: str) -> str:
    """A headed part of the page."""
    return f"<section>\n<h2>{escape(heading)}</h2>\n{body}\n</section>"


def table(headers: Sequence[str], rows: Sequence[str], css_class: str = "") -> str:
    """A table of rendered rows, or "not measured" when there are none."""
    if not rows:
        return f"<p>{NOT_MEASURED}</p>"
    head = "".join(f"<th>{escape(header)}</th>" for header in headers)
    opening = f'<table class="{css_class}">' if css_class else "<table>"
    return "\n".join([opening, f"<tr>{head}</tr>", *rows, "</table>"])


def row(cells: Sequence[str], css_class: str = "") -> str:
    """A table row of already rendered cells."""
    tds = "".join(f"<td>{rendered}</td>" for rendered in cells)
    return f'<tr class="{css_class}">{tds}</tr>' if css_class else f"<tr>{tds}</tr>"


def figure(value: Any, digits: int = 2) -> str:
    """A measured number with separators and a fixed number of decimals; None is not measured."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return f"{value:,.{digits}f}"
    return cell(value)


def cell(value: Any) -> str:
    """A value as shown in a table: escaped, integers with separators, None not measured."""
    if value is None:
        return NOT_MEASURED
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    return escape(str(value))


def as_dict(value: Any) -> Mapping[str, Any]:
    """The value if it is a mapping, else an empty one (a section that was not measured)."""
    return value if isinstance(value, Mapping) else {}


def as_list(value: Any) -> list[Any]:
    """The value if it is a list, else an empty one (a section that was not measured)."""
    return list(value) if isinstance(value, list | tuple) else []
