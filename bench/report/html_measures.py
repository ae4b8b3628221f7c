"""The report page's sections beyond the paths table: capacities, burst isolation, the loadgen."""

from collections.abc import Mapping
from typing import Any

from bench.report.html_table import NOT_MEASURED, as_dict, as_list, cell, figure, row, table


def capacities(paths: Mapping[str, Any]) -> str:
    """Projection against both raw loops, order capacity, and ATP GET as wrk measured it."""
    projection, orders = as_dict(paths.get("projection")), as_dict(paths.get("order_reserved"))
    consume = as_dict(projection.get("consume_only"))
    wrk = as_dict(as_dict(paths.get("atp_get")).get("wrk"))
    wrk_row = (
        [figure(wrk.get("capacity_per_s"), 0), figure(wrk.get("baseline_per_s"), 0)]
        if wrk.get("available")
        else [cell(wrk.get("note")), "n/a"]
    )
    rows = [
        row(
            [
                "stock projection vs raw aiokafka project+produce",
                figure(projection.get("capacity_per_s"), 0),
                figure(projection.get("baseline_per_s"), 0),
                figure(projection.get("ratio"), 3),
            ]
        ),
        row(
            [
                "stock projection vs raw aiokafka consume+decode only",
                figure(projection.get("capacity_per_s"), 0),
                figure(consume.get("baseline_per_s"), 0),
                figure(consume.get("ratio"), 4),
            ]
        ),
        row(
            [
                f"orders POST to decided, {cell(orders.get('capacity_in_flight'))} in flight",
                figure(orders.get("capacity_per_s"), 0),
                "no baseline",
                "n/a",
            ]
        ),
        row(
            ["wrk on GET /v1/atp/{sku}: worker vs bare aiohttp", *wrk_row, figure(wrk.get("ratio"))]
        ),
    ]
    return table(["what", "per second", "baseline per second", "ratio"], rows)


def isolation(paths: Mapping[str, Any]) -> str:
    """Each path's latency in the steady window before the burst and in the burst."""
    rows = []
    for name, path in paths.items():
        windows = as_dict(as_dict(path).get("windows"))
        if not windows:
            continue
        steady, burst = as_dict(windows.get("steady")), as_dict(windows.get("burst"))
        over = as_dict(windows.get("burst_over_steady"))
        rows.append(
            row(
                [
                    f"<code>{cell(name)}</code>",
                    *_window(steady),
                    *_window(burst),
                    figure(over.get("p50")),
                    figure(over.get("p99")),
                ]
            )
        )
    headers = ["path", "steady n", "p50 ms", "p99 ms", "burst n", "p50 ms", "p99 ms"]
    return table([*headers, "burst/steady p50", "burst/steady p99"], rows)


def _window(window: Mapping[str, Any]) -> list[str]:
    """Count, p50 and p99 of one window's requests."""
    return [figure(window.get("count"), 0), figure(window.get("p50")), figure(window.get("p99"))]


def loadgen(figures: Mapping[str, Any]) -> str:
    """Whether the bench itself kept its schedule, and its own CPU."""
    if not figures:
        return f"<p>{NOT_MEASURED}</p>"
    limited = figures.get("limited")
    verdict = "; ".join(str(why) for why in as_list(figures.get("why"))) or "kept up"
    rows = [
        row(
            [
                figure(figures.get("sent"), 0),
                f"{figure(figures.get('late'), 0)} (&gt; {cell(figures.get('late_threshold_ms'))}"
                " ms)",
                figure(figures.get("dropped"), 0),
                figure(figures.get("cpu_percent"), 1),
                figure(figures.get("cpu_percent_max"), 1),
                figure(figures.get("cpu_wait_percent"), 1),
                ("LIMITED: " if limited else "") + cell(verdict),
            ],
            "fail" if limited else "pass",
        )
    ]
    headers = ["sent", "late", "dropped", "CPU % mean", "CPU % max", "waited for a CPU %"]
    headers.append("verdict")
    return table(headers, rows, "text")
