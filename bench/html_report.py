"""The bench's self-contained report.html (inline SVG plots, no scripts) and its plots as .svg."""

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from bench.svg import Histogram, Point, escape, histogram_chart, line_chart

NOT_MEASURED = '<span class="na">not measured</span>'
PERCENTILES = (("p50", "p50"), ("p90", "p90"), ("p99", "p99"), ("p999", "p99.9"))
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
        _section("Configuration", _config(_dict(report.get("config")))),
        _section("Paths", _paths(_dict(report.get("paths")), _dict(report.get("baselines")))),
        _section("Baselines", _baselines(_dict(report.get("baselines")))),
        _section("Workers", _workers(_list(report.get("workers")))),
        _section("Correctness checks", _checks(_list(report.get("checks")))),
        _section("Plots", "\n".join(f"<figure>{svg}</figure>" for svg in charts(report).values())),
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
    timeline = _dict(report.get("timeline"))
    seconds = _list(timeline.get("t"))
    paths, workers = _dict(timeline.get("paths")), _dict(timeline.get("workers"))
    latency = _over_time(seconds, paths, ("p50_ms", " p50"), ("p99_ms", " p99"))
    return {
        "throughput": line_chart(
            "Throughput over time",
            _over_time(seconds, paths, ("throughput", "")),
            y_label="per second",
        ),
        "latency": line_chart("Latency over time", latency, y_label="ms", log_y=True),
        "latency_distribution": histogram_chart(
            "Latency distribution", _histograms(_dict(report.get("histograms")))
        ),
        "worker_cpu": line_chart(
            "Worker CPU", _over_time(seconds, workers, ("cpu_percent", "")), y_label="CPU %"
        ),
        "worker_rss": line_chart(
            "Worker memory", _over_time(seconds, workers, ("rss_mib", "")), y_label="RSS MiB"
        ),
    }


def _over_time(
    seconds: Sequence[Any], sources: Mapping[str, Any], *fields: tuple[str, str]
) -> dict[str, list[Point]]:
    """One (second, value) series per source and field, named by the source and a suffix."""
    return {
        f"{name}{suffix}": list(zip(seconds, _list(_dict(values).get(field)), strict=False))
        for name, values in sources.items()
        for field, suffix in fields
    }


def _histograms(histograms: Mapping[str, Any]) -> dict[str, Histogram]:
    """(bounds, counts) of every path's latency histogram."""
    return {
        name: (_list(_dict(h).get("bounds_ms")), _list(_dict(h).get("counts")))
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
        f"<p>Started {_cell(report.get('started_at'))}, "
        f"ran for {_figure(report.get('duration_s'), 1)} s.</p>"
    )


def _config(config: Mapping[str, Any]) -> str:
    """The run's parameters, one per row."""
    rows = [_row([escape(str(key)), _cell(value)]) for key, value in config.items()]
    return _table(["parameter", "value"], rows)


def _paths(paths: Mapping[str, Any], baselines: Mapping[str, Any]) -> str:
    """The headline figures of every path, next to its baseline."""
    rows = [_path_row(key, _dict(path), baselines) for key, path in paths.items()]
    headers = ["path", "requests", "throughput/s", *(f"{label} ms" for _, label in PERCENTILES)]
    return _table([*headers, "errors", "baseline", "baseline/s", "ratio to baseline"], rows)


def _path_row(key: str, path: Mapping[str, Any], baselines: Mapping[str, Any]) -> str:
    """One path's row: label, count, throughput, latency percentiles, errors, baseline, ratio."""
    name = path.get("baseline")
    baseline = _dict(baselines.get(name)) if isinstance(name, str) else None
    compared = (
        [_cell(baseline.get("label", name)), _figure(baseline.get("throughput_per_s"), 0)]
        if baseline is not None
        else ["no baseline", "n/a"]
    )
    return _row(
        [
            f"{_cell(path.get('label', key))} <code>{escape(str(key))}</code>",
            _figure(path.get("count"), 0),
            _figure(path.get("throughput_per_s"), 0),
            *_latencies(path.get("latency_ms")),
            _figure(path.get("errors"), 0),
            *compared,
            _figure(path.get("ratio")) if baseline is not None else "n/a",
        ]
    )


def _baselines(baselines: Mapping[str, Any]) -> str:
    """The raw baselines' throughput and latency."""
    rows = [
        _row(
            [
                f"{_cell(_dict(b).get('label', key))} <code>{escape(str(key))}</code>",
                _figure(_dict(b).get("throughput_per_s"), 0),
                *_latencies(_dict(b).get("latency_ms")),
            ]
        )
        for key, b in baselines.items()
    ]
    return _table(["baseline", "throughput/s", *(f"{p} ms" for _, p in PERCENTILES)], rows)


def _workers(workers: Sequence[Any]) -> str:
    """Each worker's CPU and peak memory."""
    rows = [
        _row(
            [
                _cell(_dict(w).get("name")),
                _figure(_dict(w).get("cpu_percent_mean"), 1),
                _figure(_dict(w).get("cpu_percent_max"), 1),
                _figure(_dict(w).get("rss_mib_max"), 1),
            ]
        )
        for w in workers
    ]
    return _table(["worker", "CPU % mean", "CPU % max", "RSS MiB max"], rows)


def _checks(checks: Sequence[Any]) -> str:
    """The correctness checks; any not known to pass is highlighted."""
    rows = []
    for check in map(_dict, checks):
        ok = check.get("ok")
        outcome = "pass" if ok is True else "FAIL" if ok is False else NOT_MEASURED
        cells = [_cell(check.get("name")), outcome, _cell(check.get("detail"))]
        rows.append(_row(cells, "pass" if ok is True else "fail"))
    return _table(["check", "outcome", "detail"], rows, "text")


def _latencies(latency_ms: Any) -> list[str]:
    """The percentile cells of a latency summary (all not measured when there is none)."""
    latency = _dict(latency_ms)
    return [_figure(latency.get(key)) for key, _ in PERCENTILES]


def _section(heading: str, body: str) -> str:
    """A headed part of the page."""
    return f"<section>\n<h2>{escape(heading)}</h2>\n{body}\n</section>"


def _table(headers: Sequence[str], rows: Sequence[str], css_class: str = "") -> str:
    """A table of rendered rows, or "not measured" when there are none."""
    if not rows:
        return f"<p>{NOT_MEASURED}</p>"
    head = "".join(f"<th>{escape(header)}</th>" for header in headers)
    opening = f'<table class="{css_class}">' if css_class else "<table>"
    return "\n".join([opening, f"<tr>{head}</tr>", *rows, "</table>"])


def _row(cells: Sequence[str], css_class: str = "") -> str:
    """A table row of already rendered cells."""
    tds = "".join(f"<td>{cell}</td>" for cell in cells)
    return f'<tr class="{css_class}">{tds}</tr>' if css_class else f"<tr>{tds}</tr>"


def _figure(value: Any, digits: int = 2) -> str:
    """A measured number with separators and a fixed number of decimals; None is not measured."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return f"{value:,.{digits}f}"
    return _cell(value)


def _cell(value: Any) -> str:
    """A value as shown in a table: escaped, integers with separators, None not measured."""
    if value is None:
        return NOT_MEASURED
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    return escape(str(value))


def _dict(value: Any) -> Mapping[str, Any]:
    """The value if it is a mapping, else an empty one (a section that was not measured)."""
    return value if isinstance(value, Mapping) else {}


def _list(value: Any) -> list[Any]:
    """The value if it is a list, else an empty one (a section that was not measured)."""
    return list(value) if isinstance(value, list | tuple) else []
