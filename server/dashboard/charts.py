"""The overview's trend, drawn on the server as SVG geometry: one scale per chart.

Open problems and orgs read are different quantities, so they get a chart each,
one above the other on the same crawls, each with its one axis: a line of 55 open
problems is never drawn beside a bar of 11 orgs read as if they compared. A single
crawl draws no chart at all (a point is not a trend); the overview says its numbers
in a sentence instead.

No chart library and no script: the page stays within its CSP (``script-src
'self'``) and works with scripts off. This module turns numbers into shapes
(rectangles, a polyline, axis ticks); ``templates/_trend.html`` writes them out as
SVG elements, so every label goes through autoescaping like the rest of the page.
Dates are written as everywhere else (``agent.reports.words``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime

from agent.reports.words import day, moment, plural

#: at most this many dates under a chart, so they never run into each other
MAX_DATE_LABELS = 6
LEFT, RIGHT, TOP, BOTTOM = 52, 16, 12, 26
#: room a date under the axis takes either side of its crawl, in the chart's units
DATE_HALF_WIDTH = 36


@dataclass(frozen=True, slots=True)
class CrawlPoint:
    """One crawl on the charts: when it started, open problems after it, and its scans."""

    at: datetime
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
class Chart:
    """One chart with one vertical scale: bars, or a line with a dot per crawl."""

    width: int
    height: int
    left: int
    top: int
    plot_height: int
    axis_label: str
    bars: list[Bar] = field(default_factory=list)
    line: str = ""
    dots: list[Dot] = field(default_factory=list)
    dot_radius: float = 3.5
    ticks: list[Tick] = field(default_factory=list)
    #: dates under the axis: x, text, and the anchor that keeps them inside the chart
    labels: list[tuple[float, str, str]] = field(default_factory=list)

    @property
    def right(self) -> int:
        return self.width - RIGHT


@dataclass(frozen=True, slots=True)
class Trend:
    """The two charts over the same crawls, oldest on the left."""

    problems: Chart
    scans: Chart


def _nice_max(value: int) -> int:
    """An axis top at or above ``value`` and near it: 1 to 4 as is, else a round number
    (62 is drawn against 80, not 100, so the line uses the height it has)."""
    if value <= 4:
        return max(value, 1)
    power = 10 ** math.floor(math.log10(value))
    for tenths in (10, 15, 20, 30, 40, 50, 60, 80, 100):
        top = tenths * power // 10
        if value <= top:
            return top
    return 10 * power


def _ticks(top: int, plot_height: int, maximum: int) -> list[Tick]:
    """Zero, the top, and the middle when it is a whole number (no "2" drawn at 2.5)."""
    values = [0, maximum // 2, maximum] if maximum % 2 == 0 and maximum > 2 else [0, maximum]
    return [Tick(round(top + plot_height * (1 - v / maximum), 1), v) for v in values]


def _labelled(count: int) -> set[int]:
    """Which crawls get a date under the axis: evenly spaced, always the latest."""
    every = max(1, math.ceil(count / MAX_DATE_LABELS))
    return {i for i in range(count) if (count - 1 - i) % every == 0}


def _frame(points: list[CrawlPoint], width: int, height: int, axis_label: str) -> Chart:
    chart = Chart(
        width=width,
        height=height,
        left=LEFT,
        top=TOP,
        plot_height=height - TOP - BOTTOM,
        axis_label=axis_label,
    )
    slot = (width - LEFT - RIGHT) / len(points)
    for i in sorted(_labelled(len(points))):
        x = LEFT + slot * (i + 0.5)
        anchor = "end" if x + DATE_HALF_WIDTH > width else "middle"
        chart.labels.append((round(min(x, width - 2.0), 1), day(points[i].at), anchor))
    return chart


def problems_chart(points: list[CrawlPoint], *, width: int = 1000, height: int = 170) -> Chart:
    """A line of the problems open after each crawl, on its own scale."""
    chart = _frame(points, width, height, "open problems")
    top_value = _nice_max(max(p.open_problems for p in points))
    slot = (width - LEFT - RIGHT) / len(points)
    base = TOP + chart.plot_height
    chart.dot_radius = 3.5 if len(points) <= 30 else 2.5
    line = []
    for i, point in enumerate(points):
        x = LEFT + slot * (i + 0.5)
        y = base - chart.plot_height * point.open_problems / top_value
        line.append(f"{x:.1f},{y:.1f}")
        title = f"{moment(point.at)}: {plural(point.open_problems, 'open problem')}"
        chart.dots.append(Dot(round(x, 1), round(y, 1), title))
    chart.line = " ".join(line)
    chart.ticks = _ticks(TOP, chart.plot_height, top_value)
    return chart


def scans_chart(points: list[CrawlPoint], *, width: int = 1000, height: int = 130) -> Chart:
    """Stacked bars of the orgs each crawl read and the scans that failed, on their own scale."""
    chart = _frame(points, width, height, "orgs scanned")
    top_value = _nice_max(max(p.scans_ok + p.scans_failed for p in points))
    slot = (width - LEFT - RIGHT) / len(points)
    bar_w = max(min(slot * 0.6, 36), 2)
    base = TOP + chart.plot_height
    for i, point in enumerate(points):
        x = round(LEFT + slot * (i + 0.5) - bar_w / 2, 1)
        ok_h = chart.plot_height * point.scans_ok / top_value
        failed_h = chart.plot_height * point.scans_failed / top_value
        when = moment(point.at)
        chart.bars.append(
            Bar(
                x,
                round(base - ok_h, 1),
                round(bar_w, 1),
                round(ok_h, 1),
                "ok",
                f"{when}: {plural(point.scans_ok, 'org')} read",
            )
        )
        chart.bars.append(
            Bar(
                x,
                round(base - ok_h - failed_h, 1),
                round(bar_w, 1),
                round(failed_h, 1),
                "failed",
                f"{when}: {plural(point.scans_failed, 'scan')} failed",
            )
        )
    chart.ticks = _ticks(TOP, chart.plot_height, top_value)
    return chart


def trend(points: list[CrawlPoint]) -> Trend | None:
    """Both charts, oldest crawl first; ``None`` for fewer than two crawls (no trend yet)."""
    if len(points) < 2:
        return None
    return Trend(problems=problems_chart(points), scans=scans_chart(points))
