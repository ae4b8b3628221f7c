"""The terminal's summary of a peak report: what a reader checks first, one line each."""

from typing import Any

_MARKS = (("p50", 10), ("p90", 10), ("p99", 10), ("p999", 10))


def headline(report: dict[str, Any]) -> list[str]:
    """Per path figures and ratios; capacities; burst against steady; the load generator; checks."""
    paths = report["paths"]
    lines = [
        "",
        f"== distgate bench: {report['duration_s']:.0f} s of peak load ==",
        f"{'path':<16}{'done/s':>9}{'p50 ms':>10}{'p90':>10}{'p99':>10}{'p99.9':>10}"
        f"{'errors':>8}{'capacity/s':>12}{'baseline/s':>12}{'ratio':>7}",
        *(_path_line(name, path) for name, path in paths.items()),
        *_capacity_lines(paths),
        *_burst_lines(paths),
        _loadgen_line(report["loadgen"]),
    ]
    for worker in report["workers"]:
        lines.append(
            f"{worker['name']}: CPU mean {number(worker['cpu_percent_mean'])} %,"
            f" max {number(worker['cpu_percent_max'])} %;"
            f" RSS max {number(worker['rss_mib_max'])} MiB"
        )
    for check in report["checks"]:
        lines.append(f"[{'ok' if check['ok'] else 'FAIL'}] {check['name']}: {check['detail']}")
    lines.append(backorder_line(report["backorders"]))
    lines.append("correct" if report["correct"] else "NOT CORRECT: see the failed checks above")
    return lines


def _path_line(name: str, path: dict[str, Any]) -> str:
    latency = path.get("latency_ms") or {}
    return (
        f"{name:<16}{number(path.get('throughput_per_s')):>9}"
        + "".join(f"{number(latency.get(q), 1):>{w}}" for q, w in _MARKS)
        + f"{path.get('errors', 0):>8}{number(path.get('capacity_per_s')):>12}"
        f"{number(path.get('baseline_per_s')):>12}{number(path.get('ratio'), 2):>7}"
    )


def _capacity_lines(paths: dict[str, Any]) -> list[str]:
    """The figures beside the table: projection baselines, order capacity, ATP with wrk."""
    projection, orders = paths["projection"], paths["order_reserved"]
    consume = projection["consume_only"]
    wrk = paths["atp_get"]["wrk"]
    wrk_line = (
        f"ATP GET with wrk: worker {number(wrk['capacity_per_s'])} req/s, bare aiohttp"
        f" {number(wrk['baseline_per_s'])} req/s, ratio {number(wrk['ratio'], 2)}"
        if wrk["available"]
        else f"ATP GET with wrk: {wrk['note']}"
    )
    return [
        f"projection: {number(projection['capacity_per_s'])} events/s; raw aiokafka"
        f" project+produce {number(projection['baseline_per_s'])}/s (ratio"
        f" {number(projection['ratio'], 3)}), consume+decode only"
        f" {number(consume['baseline_per_s'])}/s (ratio {number(consume['ratio'], 4)})",
        f"order capacity: {number(orders['capacity_per_s'])} orders/s POST to decided,"
        f" {orders['capacity_in_flight']} in flight",
        wrk_line,
    ]


def _burst_lines(paths: dict[str, Any]) -> list[str]:
    """Each path's p50/p99 before the burst and in it, and burst over steady."""
    lines = []
    for name, path in paths.items():
        windows = path.get("windows")
        if not windows:
            continue
        steady, burst, over = windows["steady"], windows["burst"], windows["burst_over_steady"]
        lines.append(
            f"burst/steady {name:<16} steady p50 {number(steady['p50'], 1)} p99"
            f" {number(steady['p99'], 1)} ms; burst p50 {number(burst['p50'], 1)} p99"
            f" {number(burst['p99'], 1)} ms; x{number(over['p50'], 1)} / x{number(over['p99'], 1)}"
        )
    return lines


def _loadgen_line(loadgen: dict[str, Any]) -> str:
    """Whether the bench itself kept up: late and dropped requests, its own CPU."""
    verdict = "LIMITED the run: " + "; ".join(loadgen["why"]) if loadgen["limited"] else "kept up"
    return (
        f"load generator: {loadgen['sent']:,} sent, {loadgen['late']:,} late"
        f" (> {loadgen['late_threshold_ms']:g} ms), {loadgen['dropped']:,} dropped;"
        f" CPU mean {number(loadgen['cpu_percent'])} %, max {number(loadgen['cpu_percent_max'])}"
        f" % of a core, waited for a CPU {number(loadgen['cpu_wait_percent'])} %: {verdict}"
    )


def number(value: float | None, digits: int = 0) -> str:
    """A figure for the terminal: thousands separated, '-' when not measured."""
    return "-" if value is None else f"{value:,.{digits}f}"


def backorder_line(section: dict[str, Any]) -> str:
    """The backorder oracle in one line: what waited and was filled, and its zero counts."""
    verdict = "ok" if section["correct"] else "FAIL"
    return (
        f"[{verdict}] backorders: {section['lines_backordered']} lines waited,"
        f" {section['lines_filled']} filled ({section['units_filled']} units),"
        f" {section['lines_waiting']} still waiting; stuck {section['stuck']},"
        f" out of order {section['out_of_order']}, equation broken {section['equation_broken']},"
        f" unplaced {section['unplaced']}"
    )
