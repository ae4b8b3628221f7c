"""The HTML report's chaos section: each fault and its recovery, then what the faults cost."""

from collections.abc import Mapping
from typing import Any

from bench.report.html_table import as_dict, as_list, cell, figure, row, table


def chaos(report: Mapping[str, Any]) -> str:
    """The faults table and the cost table of a --chaos run ("" for a plain run)."""
    found = as_dict(report.get("chaos"))
    if not found:
        return ""
    faults = [
        row(
            [
                cell(fault.get("kind")),
                figure(fault.get("at_s")),
                cell(fault.get("target")),
                figure(fault.get("recovered_s")),
                cell(fault.get("error", "")),
            ],
            "" if fault.get("recovered_s") is not None else "fail",
        )
        for fault in map(as_dict, as_list(found.get("faults")))
    ]
    errors = as_dict(found.get("http_errors"))
    cost = [
        row([cell(name), figure(found.get(name))])
        for name in ("lost", "duplicated", "oversold", "uncertain_units")
    ] + [row([cell(f"HTTP {name}"), figure(value)]) for name, value in errors.items()]
    return "\n".join(
        [
            table(["fault", "at s", "target", "recovered after s", "error"], faults),
            table(["cost", "count"], cost),
        ]
    )
