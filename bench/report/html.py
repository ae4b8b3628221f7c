"""The bench's self-contained report.html (inline SVG plots, no scripts) and its plots as .svg."""

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from bench.report.html_backorders import backorders
from bench.report.html_chaos import chaos
from bench.report.html_measures import capacities, isolation, loadgen
from bench.report.html_table import (
    NOT_MEASURED,
    PERCENTILES,
    as_dict,
    as_list,
    cell,
    figure,
    latencies,
    row,
    section,
    table,
)
from bench.report.svg import Histogram, Point, escape, histogram_chart, line_chart

STYLE = """
body { font-family: system-ui, sans-serif; color: #222; max-width: 1000px; margin: 2rem auto; }
table { border-collapse: collapse; margin: 0.5rem 0 1.5rem; }
th, td { border: 1px solid #ccc; padding: 0.25rem 0.6rem; text-align: right; }
th { background: #f4f4f4; }
th:first-child, td:first-child, table.text td { text-align: left; }
.verdict { display: inline-block; font-size: 2.5rem; font-weight: bold; padding: 0.3rem 1rem; }
.pass { background: #dcf3df; color: #14591f; }
.fail { background: #fbdcdc; color: #8a1717; }
.na { color: #888; }
figure { margin: 1rem 0; }
"""


def write_html(out_dir: Path, report: Mapping[str, Any]) -> Path:
    """Write report.html into out_dir and return its path."""
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / "report.html"
    path.write_text(render_html(report), encoding="utf-8")
    return path


def write_plots(out_dir: Path, report: Mapping[str, Any]) -> list[Path]:
    """Write every chart as a standalone .svg file into out_dir and return their paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, svg in charts(report).items():
        path = out_dir / f"{name}.svg"
        path.write_text(svg, encoding="utf-8")
        paths.append(path)
    return paths


def render_html(report: Mapping[str, Any]) -> str:
    """The whole report page: verdict, tables, checks and plots."""
    sections = [
        _verdict(report.get("correct")),
        _run(report),
        section("Configuration", _config(as_dict(report.get("config")))),
        section("Paths", _paths(as_dict(report.get("paths")), as_dict(report.get("baselines")))),
        section("Capacity", capacities(as_dict(report.get("paths")))),
        section("Burst against steady", isolation(as_dict(report.get("paths")))),
        section("Load generator", loadgen(as_dict(report.get("loadgen")))),
        section("Baselines", _baselines(as_dict(report.get("baselines")))),
        section("Workers", _workers(as_list(report.get("workers")))),
        section("Correctness checks", _checks(as_list(report.get("checks")))),
        *([section("Backorders", backorders(report))] if report.get("backorders") else []),
        *([section("Chaos", chaos(report))] if report.get("chaos") else []),
        section("Plots", "\n".join(f"<figure>{svg}</figure>" for svg in charts(report).values())),
    ]
    return "\n".join(
        [
            '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">',
            f"<title>distgate bench</title>\n<style>{STYLE}</style>\n</head>\n<body>",
            "<h1>distgate bench</h1>",
            *sections,
            "</body>\n</html>\n",
        ]
    )


def charts(report: Mapping[str, Any]) -> dict[str, str]:
    """Every chart of the report as SVG, by file stem."""
    timeline = as_dict(report.get("timeline"))
    seconds = as_list(timeline.get("t"))
    paths, workers = as_dict(timeline.get("paths")), as_dict(timeline.get("workers"))
    latency = _over_time(seconds, paths, ("p50_ms", " p50"), ("p99_ms", " p99"))
    return {
        "throughput": line_chart(
            "Throughput over time",
            _over_time(seconds, paths, ("throughput", "")),
            y_label="per second",
        ),
        "latency": line_chart(
            "Latency over time", latency, y_label="ms", log_y=True, marks=_fault_marks(report)
        ),
        "latency_distribution": histogram_chart(
            "Latency distribution", _histograms(as_dict(report.get("histograms")))
        ),
        "worker_cpu": line_chart(
            "Worker CPU", _over_time(seconds, workers, ("cpu_percent", "")), y_label="CPU %"
        ),
        "worker_rss": line_chart(
            "Worker memory", _over_time(seconds, workers, ("rss_mib", "")), y_label="RSS MiB"
        ),
    }


def _fault_marks(report: Mapping[str, Any]) -> list[tuple[float, str]]:
    """Each injected fault of a --chaos run: when, and which kind."""
    faults = as_list(as_dict(report.get("chaos")).get("faults"))
    return [
        (float(fault["at_s"]), str(fault["kind"]))
        for fault in map(as_dict, faults)
        if isinstance(fault.get("at_s"), int | float)
    ]


def _over_time(
    seconds: Sequence[Any], sources: Mapping[str, Any], *fields: tuple[str, str]
) -> dict[str, list[Point]]:
    """One (second, value) series per source and field, named by the source and a suffix."""
    return {
        f"{name}{suffix}": list(zip(seconds, as_list(as_dict(values).get(field)), strict=False))
        for name, values in sources.items()
        for field, suffix in fields
    }


def _histograms(histograms: Mapping[str, Any]) -> dict[str, Histogram]:
    """(bounds, counts) of every path's latency histogram."""
    return {
        name: (as_list(as_dict(h).get("bounds_ms")), as_list(as_dict(h).get("counts")))
        for name, h in histograms.items()
    }


def _verdict(correct: Any) -> str:
    """The big pass/fail line."""
    if correct is None:
        return '<p class="verdict na">correctness not measured</p>'
    return (
        '<p class="verdict pass">correct</p>'
        if correct is True
        else '<p class="verdict fail">not correct</p>'
    )


def _run(report: Mapping[str, Any]) -> str:
    """When the run started and how long it ran."""
    return (
        f"<p>Started {cell(report.get('started_at'))}, "
        f"ran for {figure(report.get('duration_s'), 1)} s.</p>"
    )


def _config(config: Mapping[str, Any]) -> str:
    """The run's parameters, one per row."""
    rows = [row([escape(str(key)), cell(value)]) for key, value in config.items()]
    return table(["parameter", "value"], rows)


def _paths(paths: Mapping[str, Any], baselines: Mapping[str, Any]) -> str:
    """The headline figures of every path, next to its baseline."""
    rows = [_path_row(key, as_dict(path), baselines) for key, path in paths.items()]
    headers = ["path", "requests", "throughput/s", *(f"{label} ms" for _, label in PERCENTILES)]
    return table([*headers, "errors", "baseline", "baseline/s", "ratio to baseline"], rows)


def _path_row(key: str, path: Mapping[str, Any], baselines: Mapping[str, Any]) -> str:
    """One path's row: label, count, throughput, latency percentiles, errors, baseline, ratio."""
    name = path.get("baseline")
    baseline = as_dict(baselines.get(name)) if isinstance(name, str) else None
    compared = (
        [cell(baseline.get("label", name)), figure(baseline.get("throughput_per_s"), 0)]
        if baseline is not None
        else ["no baseline", "n/a"]
    )
    return row(
        [
            f"{cell(path.get('label', key))} <code>{escape(str(key))}</code>",
            figure(path.get("count"), 0),
            figure(path.get("throughput_per_s"), 0),
            *latencies(path.get("latency_ms")),
            figure(path.get("errors"), 0),
            *compared,
            figure(path.get("ratio")) if baseline is not None else "n/a",
        ]
    )


def _baselines(baselines: Mapping[str, Any]) -> str:
    """The raw baselines' throughput and latency."""
    rows = [
        row(
            [
                f"{cell(as_dict(b).get('label', key))} <code>{escape(str(key))}</code>",
                figure(as_dict(b).get("throughput_per_s"), 0),
                *latencies(as_dict(b).get("latency_ms")),
            ]
        )
        for key, b in baselines.items()
    ]
    return table(["baseline", "throughput/s", *(f"{p} ms" for _, p in PERCENTILES)], rows)


def _workers(workers: Sequence[Any]) -> str:
    """Each worker's CPU and peak memory."""
    rows = [
        row(
            [
                cell(as_dict(w).get("name")),
                figure(as_dict(w).get("cpu_percent_mean"), 1),
                figure(as_dict(w).get("cpu_percent_max"), 1),
                figure(as_dict(w).get("rss_mib_max"), 1),
            ]
        )
        for w in workers
    ]
    return table(["worker", "CPU % mean", "CPU % max", "RSS MiB max"], rows)


def _checks(checks: Sequence[Any]) -> str:
    """The correctness checks; any not known to pass is highlighted."""
    rows = []
    for check in map(as_dict, checks):
        ok = check.get("ok")
        outcome = "pass" if ok is True else "FAIL" if ok is False else NOT_MEASURED
        cells = [cell(check.get("name")), outcome, cell(check.get("detail"))]
        rows.append(row(cells, "pass" if ok is True else "fail"))
    return table(["check", "outcome", "detail"], rows, "text")
