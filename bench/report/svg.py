"""Inline SVG charts for the bench report: series over time and latency distributions."""

import html
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TypeGuard

SVG_NS = "http://www.w3.org/2000/svg"
WIDTH = 720
HEIGHT = 300
PALETTE = (
    "#1f77b4",
    "#d62728",
    "#2ca02c",
    "#ff7f0e",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#17becf",
    "#bcbd22",
    "#7f7f7f",
)
CHAR_WIDTH = 6.5  # rough width of an 11px sans-serif character: the legend is laid out by it
LEGEND_ROW = 16
_XML_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")

Point = tuple[float | None, float | None]
Histogram = tuple[Sequence[float], Sequence[int | None]]
Bucket = tuple[float, float, float]


@dataclass(frozen=True)
class Scale:
    """One axis: its tick values (the first and last bound it) and the pixels it spans."""

    ticks: tuple[float, ...]
    start: float
    end: float
    log: bool = False

    def __call__(self, value: float) -> float:
        """The pixel position of a value."""
        low, high = self.ticks[0], self.ticks[-1]
        if self.log:
            low, high, value = math.log10(low), math.log10(high), math.log10(value)
        return self.start + (value - low) / (high - low) * (self.end - self.start)


@dataclass(frozen=True)
class Frame:
    """The chart's size, where its plot area sits, and its legend's entries."""

    width: int
    height: int
    left: float
    top: float
    right: float
    bottom: float
    legend: tuple[tuple[str, float, int], ...]  # name, x, row


def line_chart(
    title: str,
    series: Mapping[str, Sequence[Point]],
    *,
    y_label: str,
    x_label: str = "seconds since start",
    log_y: bool = False,
    marks: Sequence[tuple[float, str]] = (),
    width: int = WIDTH,
    height: int = HEIGHT,
) -> str:
    """Named series of (x, y) as lines; unplottable points (None, NaN) are skipped, breaking it.

    `marks` are events at an x (a fault injected): a dashed vertical line and its label.
    """
    runs = [_runs(points, positive_y=log_y) for points in series.values()]
    plotted = [point for name_runs in runs for run in name_runs for point in run]
    frame = _frame(width, height, list(series))
    if not plotted:
        return _svg(title, frame, [_no_data(frame)])
    x = _scale([px for px, _ in plotted], frame.left, frame.right, log=False, from_zero=False)
    y = _scale([py for _, py in plotted], frame.bottom, frame.top, log=log_y, from_zero=True)
    lines = [
        _line(run, _colour(index), x, y)
        for index, name_runs in enumerate(runs)
        for run in name_runs
    ]
    shown = [_mark(frame, x(at), label) for at, label in marks if x.ticks[0] <= at <= x.ticks[-1]]
    return _svg(
        title, frame, [*_axes(frame, x, y, x_label, y_label), *lines, *shown, *_legend(frame)]
    )


def _mark(frame: Frame, at: float, label: str) -> str:
    """A dashed vertical line across the plot at `at` pixels, labelled at its top."""
    return (
        f'<line x1="{at:.1f}" y1="{frame.top:.1f}" x2="{at:.1f}" y2="{frame.bottom:.1f}" '
        'stroke="#c00" stroke-width="1" stroke-dasharray="4 3"/>'
        + _text(at + 3, frame.top + 10, label, fill="#c00")
    )


def histogram_chart(
    title: str,
    series: Mapping[str, Histogram],
    *,
    x_label: str = "latency (ms)",
    width: int = WIDTH,
    height: int = HEIGHT,
) -> str:
    """Named distributions (bucket upper bounds, counts) as steps in % of samples, log-scaled x."""
    shapes = [_shares(bounds, counts) for bounds, counts in series.values()]
    buckets = [bucket for shape in shapes for bucket in shape]
    frame = _frame(width, height, list(series))
    if not buckets:
        return _svg(title, frame, [_no_data(frame)])
    edges = [edge for low, high, _ in buckets for edge in (low, high)]
    x = _scale(edges, frame.left, frame.right, log=True, from_zero=False)
    y = _scale([share for *_, share in buckets], frame.bottom, frame.top, log=False, from_zero=True)
    steps = [_steps(shape, _colour(index), x, y) for index, shape in enumerate(shapes) if shape]
    return _svg(
        title, frame, [*_axes(frame, x, y, x_label, "% of samples"), *steps, *_legend(frame)]
    )


def nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    """About `count` round ticks (1, 2, 2.5 or 5 times a power of ten) covering low..high."""
    if high - low <= abs(high) * 1e-9:
        spread = abs(low) / 2
        low, high = (low - spread, high + spread) if spread else (0.0, 1.0)
    raw = (high - low) / count
    power = 10.0 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw)
    first = math.floor(low / step + 1e-9)  # the epsilons keep float noise from adding a tick
    last = math.ceil(high / step - 1e-9)
    return [_clean(index * step) for index in range(first, last + 1)]


def log_ticks(low: float, high: float) -> list[float]:
    """Ticks covering low..high (both > 0) in whole decades: 1-2-5 over up to two, else 1."""
    first = math.floor(math.log10(low) + 1e-9)
    last = max(math.ceil(math.log10(high) - 1e-9), first + 1)
    mantissas = (1, 2, 5) if last - first <= 2 else (1,)
    ticks = [m * 10.0**exponent for exponent in range(first, last) for m in mantissas]
    return [_clean(tick) for tick in [*ticks, 10.0**last]]


def escape(text: str) -> str:
    """Text safe inside SVG (XML) and HTML: markup escaped, characters XML forbids dropped."""
    return html.escape(_XML_FORBIDDEN.sub("", text))


def _clean(value: float) -> float:
    """The value without float noise (0.30000000000000004 -> 0.3)."""
    return float(f"{value:.15g}")


def _plottable(value: object, positive: bool) -> TypeGuard[float]:
    """Whether a value can be drawn: a finite number (and > 0 on a log axis)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    return math.isfinite(value) and (value > 0 or not positive)


def _runs(points: Sequence[Point], *, positive_y: bool) -> list[list[tuple[float, float]]]:
    """The stretches of consecutive plottable points."""
    runs: list[list[tuple[float, float]]] = [[]]
    for x, y in points:
        if _plottable(x, False) and _plottable(y, positive_y):
            runs[-1].append((x, y))
        elif runs[-1]:
            runs.append([])
    return [run for run in runs if run]


def _shares(bounds: Sequence[float], counts: Sequence[int | None]) -> list[Bucket]:
    """(low edge, high edge, % of samples) per bucket, empty buckets at either end dropped."""
    sizes = [count if _plottable(count, False) else 0.0 for count in counts]
    total = sum(sizes)
    edges = _edges(bounds, len(sizes))
    buckets = [
        (low, high, 100.0 * size / total)
        for low, high, size in zip(edges, edges[1:], sizes, strict=False)
        if total > 0 and _plottable(low, True) and high > low
    ]
    filled = [index for index, (*_, share) in enumerate(buckets) if share > 0]
    return buckets[filled[0] : filled[-1] + 1] if filled else []


def _edges(bounds: Sequence[float], buckets: int) -> list[float]:
    """Bucket edges: the first bucket (from 0) and any overflow bucket drawn one step wide."""
    if not bounds or not all(_plottable(bound, False) for bound in bounds):
        return []
    edges = [bounds[0] / _step(bounds[:2]), *bounds]
    if buckets > len(bounds):
        edges.append(bounds[-1] * _step(bounds[-2:]))
    return edges


def _step(pair: Sequence[float]) -> float:
    """The ratio between two neighbouring bounds, 2 when there is no sensible one."""
    return pair[1] / pair[0] if len(pair) == 2 and 0 < pair[0] < pair[1] else 2.0


def _scale(
    values: Sequence[float], start: float, end: float, *, log: bool, from_zero: bool
) -> Scale:
    """An axis spanning the values with round ticks (from zero when asked, on a linear axis)."""
    low, high = min(values), max(values)
    if log:
        return Scale(tuple(log_ticks(low, high)), start, end, log=True)
    if from_zero:
        low, high = min(low, 0.0), max(high, 0.0)
    return Scale(tuple(nice_ticks(low, high)), start, end)


def _frame(width: int, height: int, names: Sequence[str]) -> Frame:
    """Margins for the title, tick labels, axis labels and as many legend rows as needed."""
    left, right = 64.0, width - 24.0
    legend, x, row = [], left, 0
    for name in names:
        item = 30 + CHAR_WIDTH * len(name)
        if x + item > right and x > left:
            x, row = left, row + 1
        legend.append((name, x, row))
        x += item
    rows = row + 1 if names else 0
    bottom = height - 40.0 - LEGEND_ROW * rows
    return Frame(width, height, left, 34.0, right, bottom, tuple(legend))


def _axes(frame: Frame, x: Scale, y: Scale, x_label: str, y_label: str) -> list[str]:
    """Grid lines, tick labels, the plot's border and both axis labels."""
    parts = []
    for tick in y.ticks:
        at = y(tick)
        parts.append(_segment((frame.left, at), (frame.right, at), "#e4e4e4"))
        parts.append(_text(frame.left - 6, at + 4, _number(tick), anchor="end"))
    for tick in x.ticks:
        at = x(tick)
        parts.append(_segment((at, frame.top), (at, frame.bottom), "#f0f0f0"))
        parts.append(_text(at, frame.bottom + 14, _number(tick), anchor="middle"))
    middle = (frame.top + frame.bottom) / 2
    return [
        *parts,
        f'<rect x="{frame.left:.1f}" y="{frame.top:.1f}" width="{frame.right - frame.left:.1f}" '
        f'height="{frame.bottom - frame.top:.1f}" fill="none" stroke="#888"/>',
        _text((frame.left + frame.right) / 2, frame.bottom + 30, x_label, anchor="middle"),
        f'<text transform="translate(14,{middle:.1f}) rotate(-90)" text-anchor="middle">'
        f"{escape(y_label)}</text>",
    ]


def _line(run: Sequence[tuple[float, float]], colour: str, x: Scale, y: Scale) -> str:
    """One stretch of a series: a polyline, or a dot when it is a single point."""
    if len(run) == 1:
        ((px, py),) = run
        return f'<circle cx="{x(px):.1f}" cy="{y(py):.1f}" r="2.5" fill="{colour}"/>'
    points = " ".join(f"{x(px):.1f},{y(py):.1f}" for px, py in run)
    return (
        f'<polyline points="{points}" fill="none" stroke="{colour}" '
        'stroke-width="1.5" stroke-linejoin="round"/>'
    )


def _steps(buckets: Sequence[Bucket], colour: str, x: Scale, y: Scale) -> str:
    """One distribution as a filled outline of steps, one flat step per bucket."""
    corners = [(buckets[0][0], 0.0)]
    for low, high, share in buckets:
        corners += [(low, share), (high, share)]
    corners.append((buckets[-1][1], 0.0))
    points = " ".join(f"{x(edge):.1f},{y(share):.1f}" for edge, share in corners)
    return (
        f'<polygon points="{points}" fill="{colour}" fill-opacity="0.12" '
        f'stroke="{colour}" stroke-width="1.5"/>'
    )


def _legend(frame: Frame) -> list[str]:
    """A swatch and the name of every series, in rows under the x axis label."""
    parts = []
    for index, (name, x, row) in enumerate(frame.legend):
        at = frame.bottom + 46 + LEGEND_ROW * row
        parts.append(_segment((x, at - 4), (x + 18, at - 4), _colour(index), width=3))
        parts.append(_text(x + 22, at, name))
    return parts


def _no_data(frame: Frame) -> str:
    """The message standing in for a chart with nothing to draw."""
    middle = (frame.top + frame.bottom) / 2
    return _text(frame.width / 2, middle, "no data", anchor="middle", fill="#888")


def _svg(title: str, frame: Frame, parts: Sequence[str]) -> str:
    """The whole chart: a titled, white SVG document around the parts."""
    width, height = frame.width, frame.height
    return "\n".join(
        [
            f'<svg xmlns="{SVG_NS}" width="{width}" height="{height}" '
            f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="11" role="img">',
            f"<title>{escape(title)}</title>",
            f'<rect width="{width}" height="{height}" fill="#fff"/>',
            f'<text x="{width / 2:.1f}" y="20" text-anchor="middle" font-size="14" '
            f'font-weight="bold">{escape(title)}</text>',
            *parts,
            "</svg>",
        ]
    )


def _text(x: float, y: float, text: str, *, anchor: str = "start", fill: str = "#333") -> str:
    """A text element (escaped) at a point."""
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" fill="{fill}">{escape(text)}</text>'
    )


def _segment(
    start: tuple[float, float], end: tuple[float, float], colour: str, width: float = 1
) -> str:
    """A straight line between two points."""
    (x1, y1), (x2, y2) = start, end
    return (
        f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" '
        f'stroke="{colour}" stroke-width="{width}"/>'
    )


def _number(value: float) -> str:
    """A tick label: thousands separated from 1,000 up, short otherwise."""
    return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.4g}"


def _colour(index: int) -> str:
    """The palette's colour for the n-th series (the palette repeats past its end)."""
    return PALETTE[index % len(PALETTE)]
