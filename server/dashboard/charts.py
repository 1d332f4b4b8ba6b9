"""The overview's trend chart, drawn on the server as SVG geometry.

No chart library and no script: the page stays within its CSP (``script-src
'self'``) and works with scripts off. This module turns numbers into shapes
(rectangles, a polyline, axis ticks); ``templates/_trend.html`` writes them out as
SVG elements, so every label goes through autoescaping like the rest of the page.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class CrawlPoint:
    """One crawl on the chart: its label, open problems after it, and its scans."""

    label: str
    open_problems: int
    scans_ok: int
    scans_failed: int


@dataclass(frozen=True, slots=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    kind: str
    title: str


@dataclass(frozen=True, slots=True)
class Tick:
    y: float
    value: int


@dataclass(frozen=True, slots=True)
class Dot:
    x: float
    y: float
    title: str


@dataclass(slots=True)
class TrendChart:
    width: int
    height: int
    left: int
    top: int
    plot_height: int
    bars: list[Bar] = field(default_factory=list)
    line: str = ""
    dots: list[Dot] = field(default_factory=list)
    ticks: list[Tick] = field(default_factory=list)
    problem_ticks: list[Tick] = field(default_factory=list)
    labels: list[tuple[float, str]] = field(default_factory=list)


def _nice_max(value: int) -> int:
    """An axis top at or above ``value``: 1, 2 or 5 times a power of ten."""
    if value <= 4:
        return max(value, 1)
    power = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 5, 10):
        if value <= step * power:
            return step * power
    return 10 * power


def trend_chart(points: list[CrawlPoint], *, width: int = 760, height: int = 220) -> TrendChart:
    """Stacked bars of ok and failed scans per crawl, and a line of open problems.

    Bars read against the left axis (scans), the line against the right (problems);
    oldest crawl on the left.
    """
    left, right, top, bottom = 44, 44, 12, 30
    plot_w, plot_h = width - left - right, height - top - bottom
    chart = TrendChart(width=width, height=height, left=left, top=top, plot_height=plot_h)
    if not points:
        return chart
    scan_max = _nice_max(max(p.scans_ok + p.scans_failed for p in points))
    problem_max = _nice_max(max(p.open_problems for p in points))
    slot = plot_w / len(points)
    bar_w = max(min(slot * 0.6, 36), 2)
    line: list[str] = []
    label_every = max(1, math.ceil(len(points) / 12))
    for i, point in enumerate(points):
        centre = left + slot * (i + 0.5)
        x = centre - bar_w / 2
        base = top + plot_h
        ok_h = plot_h * point.scans_ok / scan_max
        failed_h = plot_h * point.scans_failed / scan_max
        chart.bars.append(
            Bar(
                round(x, 1),
                round(base - ok_h, 1),
                round(bar_w, 1),
                round(ok_h, 1),
                "ok",
                f"{point.label}: {point.scans_ok} orgs read",
            )
        )
        chart.bars.append(
            Bar(
                round(x, 1),
                round(base - ok_h - failed_h, 1),
                round(bar_w, 1),
                round(failed_h, 1),
                "failed",
                f"{point.label}: {point.scans_failed} scans failed",
            )
        )
        y = base - plot_h * point.open_problems / problem_max
        line.append(f"{centre:.1f},{y:.1f}")
        chart.dots.append(
            Dot(
                round(centre, 1), round(y, 1), f"{point.label}: {point.open_problems} open problems"
            )
        )
        if i % label_every == 0 or i == len(points) - 1:
            chart.labels.append((round(centre, 1), point.label))
    chart.line = " ".join(line)
    chart.ticks = [Tick(round(top + plot_h * (1 - f), 1), round(scan_max * f)) for f in (0, 0.5, 1)]
    chart.problem_ticks = [
        Tick(round(top + plot_h * (1 - f), 1), round(problem_max * f)) for f in (0, 0.5, 1)
    ]
    return chart
