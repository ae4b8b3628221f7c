"""The bench's HTML report and its SVG charts, as a reader of the report sees them."""

import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from bench.report.html import charts, render_html, write_html, write_plots
from bench.report.svg import histogram_chart, line_chart, log_ticks, nice_ticks

SVG = "{http://www.w3.org/2000/svg}"
HOSTILE = "<script>alert('x')</script> & \x00"
NOT_MEASURED = '<p><span class="na">not measured</span></p>'
MISSING = object()


def _latency(p50: float, p90: float, p99: float, p999: float) -> dict[str, float]:
    return {"p50": p50, "p90": p90, "p99": p99, "p999": p999, "max": p999 * 2}


def _report() -> dict[str, Any]:
    """A small but complete report, shaped like the bench's."""
    return {
        "correct": True,
        "started_at": "2026-11-27T09:00:00+00:00",
        "duration_s": 3.0,
        "config": {"skus": 20000, "concurrency": 32, "workers": 1},
        "paths": {
            "atp_get": {
                "label": "ATP GET /v1/atp/{sku}",
                "count": 7200,
                "errors": 0,
                "throughput_per_s": 2400.0,
                "latency_ms": _latency(1.2, 2.0, 5.1, 9.0),
                "baseline": "aiohttp_handler",
                "ratio": 0.71,
            },
            "order_reserved": {
                "label": "order reserved",
                "count": 150,
                "errors": 3,
                "throughput_per_s": 50.0,
                "latency_ms": _latency(12.5, 20.0, 41.7, 80.0),
                "baseline": None,
                "ratio": None,
            },
        },
        "baselines": {
            "aiohttp_handler": {
                "label": "bare aiohttp handler",
                "throughput_per_s": 4800.0,
                "latency_ms": _latency(0.4, 0.6, 1.1, 2.0),
            },
            "aiokafka_consume": {
                "label": "raw aiokafka consume loop",
                "throughput_per_s": 120000.0,
                "latency_ms": None,
            },
        },
        "workers": [
            {
                "name": "worker-1",
                "cpu_percent_mean": 85.0,
                "cpu_percent_max": 99.0,
                "rss_mib_max": 310.0,
            }
        ],
        "timeline": {
            "t": [1, 2, 3],
            "paths": {
                "atp_get": {
                    "throughput": [2300.0, None, 2500.0],
                    "p50_ms": [1.1, 1.2, 1.3],
                    "p99_ms": [5.0, 5.2, None],
                },
            },
            "workers": {
                "worker-1": {"cpu_percent": [80.0, 90.0, 85.0], "rss_mib": [300, 305, 310]}
            },
        },
        "histograms": {
            "atp_get": {"bounds_ms": [0.5, 1.0, 2.0, 5.0], "counts": [10, 500, 300, 20]}
        },
        "checks": [
            {"name": "every order's status matches the oracle", "ok": True, "detail": "400"}
        ],
    }


def _without(section: str, absent: object) -> dict[str, Any]:
    """The report with one section left out, or set to None."""
    report = _report()
    if absent is MISSING:
        del report[section]
    else:
        report[section] = absent
    return report


def _svg_root(svg: str) -> ET.Element:
    root = ET.fromstring(svg)
    assert root.tag == f"{SVG}svg"
    return root


def _vertices(root: ET.Element) -> list[tuple[float, float]]:
    """Every plotted point of a line chart: polyline vertices and single dots."""
    points = [
        tuple(float(v) for v in pair.split(","))
        for line in root.iter(f"{SVG}polyline")
        for pair in line.get("points", "").split()
    ]
    dots = [(float(c.get("cx", "")), float(c.get("cy", ""))) for c in root.iter(f"{SVG}circle")]
    return [(x, y) for x, y in points] + dots


def _text_of(root: ET.Element) -> list[str]:
    return [text.text or "" for text in root.iter(f"{SVG}text")]


def test_every_path_is_shown_with_its_figures_and_baseline() -> None:
    # Given a measured report
    html = render_html(_report())
    # Then each path's row carries its label, throughput, percentiles, errors and baseline
    atp_row = _row_containing(html, "ATP GET /v1/atp/{sku}")
    for figure in ("7,200", "2,400", "1.20", "2.00", "5.10", "9.00", "bare aiohttp handler"):
        assert figure in atp_row
    assert "4,800" in atp_row
    assert "0.71" in atp_row
    order_row = _row_containing(html, "order reserved")
    for figure in ("12.50", "41.70", "80.00", "no baseline"):
        assert figure in order_row
    assert re.search(r"<td>3</td>", order_row)


def test_baselines_workers_and_config_are_tabled() -> None:
    html = render_html(_report())
    assert "120,000" in _row_containing(html, "raw aiokafka consume loop")
    worker_row = _row_containing(html, "worker-1")
    assert all(figure in worker_row for figure in ("85.0", "99.0", "310.0"))
    assert "20,000" in _row_containing(html, "skus")


def test_a_correct_run_says_so() -> None:
    html = render_html(_report())
    assert _verdict(html) == "correct"


def test_a_failed_check_is_highlighted_and_the_verdict_is_not_correct() -> None:
    # Given a run whose stock check failed
    report = _report()
    report["correct"] = False
    report["checks"].append({"name": "ATP matches the oracle", "ok": False, "detail": "3 SKUs"})
    # When rendered
    html = render_html(report)
    # Then the verdict says so and the failing check's row is marked as a failure
    assert _verdict(html) == "not correct"
    failed = _row_containing(html, "ATP matches the oracle")
    assert 'class="fail"' in failed
    assert "FAIL" in failed
    assert "3 SKUs" in failed
    assert 'class="fail"' not in _row_containing(html, "matches the oracle</td><td>pass")


def test_hostile_text_is_escaped_everywhere() -> None:
    # Given markup in a check's detail, a path's label, a config key and a series name
    report = _report()
    report["checks"][0]["detail"] = HOSTILE
    report["paths"]["atp_get"]["label"] = HOSTILE
    report["config"][HOSTILE] = HOSTILE
    report["timeline"]["paths"][HOSTILE] = report["timeline"]["paths"]["atp_get"]
    # When rendered
    html = render_html(report)
    # Then no tag is injected, the text is still readable, and every chart still parses
    assert "<script" not in html
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; " in html
    assert "\x00" not in html
    for svg in charts(report).values():
        _svg_root(svg)


def test_the_page_needs_nothing_from_outside() -> None:
    html = render_html(_report())
    assert not re.search(r"<script|<link|<img|<iframe|\bsrc=|\bhref=", html)


@pytest.mark.parametrize(
    ("section", "heading"),
    [
        ("config", "Configuration"),
        ("paths", "Paths"),
        ("baselines", "Baselines"),
        ("workers", "Workers"),
        ("checks", "Correctness checks"),
    ],
)
@pytest.mark.parametrize("absent", [MISSING, None])
def test_a_missing_table_is_not_measured(section: str, heading: str, absent: object) -> None:
    # Given a report without one of its tables
    html = render_html(_without(section, absent))
    # Then that table's place says so, and the rest of the page is still there
    assert _section_body(html, heading) == NOT_MEASURED
    assert html.rstrip().endswith("</html>")


@pytest.mark.parametrize("absent", [MISSING, None])
def test_a_missing_verdict_is_not_measured(absent: object) -> None:
    assert _verdict(render_html(_without("correct", absent))) == "correctness not measured"


@pytest.mark.parametrize(("section", "empty_charts"), [("timeline", 4), ("histograms", 1)])
@pytest.mark.parametrize("absent", [MISSING, None])
def test_missing_plot_data_leaves_empty_charts(
    section: str, empty_charts: int, absent: object
) -> None:
    html = render_html(_without(section, absent))
    assert html.count(">no data<") == empty_charts


def test_unmeasured_figures_inside_sections_are_not_measured() -> None:
    # Given a path without latencies and with a baseline that was not run
    report = _report()
    path = report["paths"]["atp_get"]
    path["latency_ms"] = None
    path["throughput_per_s"] = None
    path["baseline"] = "aiopika_consume_ack"
    report["timeline"]["paths"]["atp_get"] = None
    report["histograms"]["atp_get"] = {"bounds_ms": None, "counts": [None]}
    # When rendered
    html = render_html(report)
    # Then the row says not measured rather than a number or a crash
    row = _row_containing(html, "ATP GET")
    assert row.count("not measured") >= 6
    assert "aiopika_consume_ack" in row


def test_an_empty_report_renders_a_page() -> None:
    html = render_html({})
    assert "distgate bench" in html
    assert "correctness not measured" in html
    assert html.count("no data") == 5


def test_every_chart_is_well_formed_titled_svg() -> None:
    for name, svg in charts(_report()).items():
        root = _svg_root(svg)
        title = root.find(f"{SVG}title")
        assert title is not None
        assert title.text, name


def test_the_line_chart_skips_missing_points_and_breaks_the_line() -> None:
    # Given a series with a gap, a NaN, and a lone point between them
    points = [(1.0, 1.0), (2.0, 2.0), (3.0, None), (4.0, 4.0), (5.0, float("nan")), (6, 6.0)]
    # When drawn
    root = _svg_root(line_chart("gaps", {"s": points}, y_label="v"))
    # Then only the four real points are plotted: one line of two, and two dots
    assert len(list(root.iter(f"{SVG}polyline"))) == 1
    assert len(list(root.iter(f"{SVG}circle"))) == 2
    assert len(_vertices(root)) == 4


def test_the_line_chart_places_points_by_value() -> None:
    # Given rising points
    root = _svg_root(line_chart("rise", {"s": [(0, 0.0), (10, 50.0), (20, 100.0)]}, y_label="v"))
    # Then x grows to the right and y grows upwards (SVG y points down), evenly
    (x0, y0), (x1, y1), (x2, y2) = _vertices(root)
    assert x0 < x1 < x2
    assert y0 > y1 > y2
    assert x1 - x0 == pytest.approx(x2 - x1, abs=0.2)


def test_a_log_chart_skips_values_it_cannot_place() -> None:
    root = _svg_root(
        line_chart(
            "log", {"s": [(1, 0.0), (2, 1.0), (3, 100.0), (4, -1.0)]}, y_label="ms", log_y=True
        )
    )
    assert len(_vertices(root)) == 2
    assert {"1", "10", "100"} <= set(_text_of(root))


def test_charts_with_nothing_to_draw_say_so() -> None:
    for svg in (
        line_chart("empty", {}, y_label="v"),
        line_chart("all missing", {"s": [(1, None), (None, 2.0)]}, y_label="v"),
        histogram_chart("empty", {"s": ([0.1, 1.0], [0, 0])}),
    ):
        assert "no data" in _text_of(_svg_root(svg))


def test_a_single_point_is_drawn_as_a_dot() -> None:
    root = _svg_root(line_chart("one", {"s": [(5, 7.0)]}, y_label="v"))
    assert len(list(root.iter(f"{SVG}circle"))) == 1


def test_the_legend_names_every_series() -> None:
    root = _svg_root(line_chart("two", {"alpha": [(1, 1.0)], "beta": [(2, 2.0)]}, y_label="v"))
    assert {"alpha", "beta"} <= set(_text_of(root))


def test_the_histogram_shows_each_series_as_a_share_of_its_samples() -> None:
    # Given two paths with the same shape but ten times the samples
    bounds = [1.0, 2.0, 4.0, 8.0]
    svg = histogram_chart(
        "dist", {"few": (bounds, [1, 2, 1, 0]), "many": (bounds, [10, 20, 10, 0])}
    )
    # Then both are drawn identically (only their colours differ)
    shapes = [shape.get("points") for shape in _svg_root(svg).iter(f"{SVG}polygon")]
    assert len(shapes) == 2
    assert shapes[0] == shapes[1]


def test_the_histogram_draws_an_overflow_bucket() -> None:
    # Given a count beyond the last bound
    only_overflow = histogram_chart("dist", {"s": ([1.0, 2.0], [0, 0, 5])})
    # Then it is drawn, on a log axis reaching past the last bound
    root = _svg_root(only_overflow)
    assert len(list(root.iter(f"{SVG}polygon"))) == 1
    assert "10" in _text_of(root)


def test_nice_ticks_are_round_and_cover_the_range() -> None:
    assert nice_ticks(0, 97) == [0, 20, 40, 60, 80, 100]
    assert nice_ticks(0, 0.3) == [0, 0.1, 0.2, 0.3]
    assert nice_ticks(0, 0) == [0, 0.2, 0.4, 0.6, 0.8, 1.0]
    ticks = nice_ticks(5, 5)
    assert ticks[0] < 5 < ticks[-1]


def test_log_ticks_cover_whole_decades() -> None:
    assert log_ticks(1.2, 5.1) == [1, 2, 5, 10]
    assert log_ticks(0.3, 40) == [0.1, 1, 10, 100]
    assert log_ticks(10, 10) == [10, 20, 50, 100]


def test_the_report_and_plots_are_written(tmp_path: Path) -> None:
    # Given an output folder that does not exist yet
    out_dir = tmp_path / "run"
    report = _report()
    # When the report and plots are written
    page = write_html(out_dir, report)
    plots = write_plots(out_dir, report)
    # Then the page and one parseable .svg per chart are there
    assert page == out_dir / "report.html"
    assert "distgate bench" in page.read_text(encoding="utf-8")
    assert {plot.name for plot in plots} == {
        "throughput.svg",
        "latency.svg",
        "latency_distribution.svg",
        "worker_cpu.svg",
        "worker_rss.svg",
    }
    for plot in plots:
        assert plot.parent == out_dir
        _svg_root(plot.read_text(encoding="utf-8"))


def _row_containing(html: str, text: str) -> str:
    """The one table row of the page containing the text."""
    rows: list[str] = [row for row in re.findall(r"<tr[^>]*>.*?</tr>", html) if text in row]
    assert len(rows) == 1, rows
    return rows[0]


def _section_body(html: str, heading: str) -> str:
    """What the page shows under a heading."""
    found = re.search(rf"<h2>{heading}</h2>\n(.*?)\n</section>", html, re.S)
    assert found is not None
    return found.group(1)


def _verdict(html: str) -> str:
    """The page's big verdict line."""
    found = re.search(r'<p class="verdict [a-z]+">([^<]*)</p>', html)
    assert found is not None
    return found.group(1)


def test_a_chaos_run_marks_each_fault_on_the_latency_plot_and_lists_its_cost() -> None:
    # Given a report with two faults, the second never recovered from
    report = {
        "timeline": {"t": [1, 2, 3, 4], "paths": {"atp_get": {"p99_ms": [5.0, 9.0, 50.0, 6.0]}}},
        "chaos": {
            "faults": [
                {"kind": "kill-worker", "at_s": 2.0, "target": "worker-2", "recovered_s": 1.5},
                {"kind": "restart-kafka", "at_s": 3.0, "target": HOSTILE, "recovered_s": None},
            ],
            "lost": 0,
            "duplicated": 0,
            "oversold": 0,
            "http_errors": {"5xx": 1, "503": 1, "503_retry_after": 1},
        },
    }
    # Then the latency plot has a dashed line and a label per fault, and stays well-formed
    latency = charts(report)["latency"]
    assert latency.count("stroke-dasharray") == 2
    assert "kill-worker" in latency
    ET.fromstring(latency)
    # And the page lists the faults, the unrecovered one flagged, with the target escaped
    page = render_html(report)
    assert "<h2>Chaos</h2>" in page
    assert 'class="fail"' in page
    assert "<script>" not in page


def test_a_stuck_backorder_is_shown_highlighted_with_its_problem() -> None:
    # Given a run whose backorder oracle found a line waiting beside free stock
    report = _report()
    report["backorders"] = {
        "lines_backordered": 4,
        "lines_filled": 3,
        "stuck": 1,
        "out_of_order": 0,
        "equation_broken": 0,
        "unplaced": 0,
        "problems": ["stuck O-1/1: 2 of SKU-1 waiting, ATP DC-EAST 5"],
        "correct": False,
    }
    # When rendered
    html = render_html(report)
    # Then the section shows what waited, marks the stuck count and names the line
    assert "<h2>Backorders</h2>" in html
    assert 'class="fail"' in _row_containing(html, "stuck: waiting")
    assert 'class="fail"' not in _row_containing(html, "out of order:")
    assert "stuck O-1/1: 2 of SKU-1 waiting, ATP DC-EAST 5" in html
