"""Server-rendered SVG for the goal pages: progress bars against the expected pace, sparklines, series.

Charts are plain SVG built here, so pages need no script and no style attribute (the Content-Security-Policy
allows neither): geometry goes in SVG attributes, colour in classes that ``static/css/app.css`` styles.
Every chart carries an accessible name that says in words what it draws.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from django.utils.formats import date_format
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

# How far behind the calendar a goal may be before it is "behind" and "well behind" (shares of the whole).
BEHIND = 0.10
WELL_BEHIND = 0.25

PACE_LABELS = {
    "good": "On pace",
    "warn": "Behind pace",
    "bad": "Well behind pace",
    "idle": "Not moving",
    "done": "Done",
}


def percent(share: float | None) -> str:
    """A share as people read it: ``0.624`` → ``"62%"``."""
    if share is None:
        return "—"
    return f"{round(share * 100)}%"


def number(value: float | None) -> str:
    """A value without noise: ``4.5`` → ``"4.5"``, ``12.0`` → ``"12"``, thousands grouped."""
    if value is None:
        return "—"
    if float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:,.2f}".rstrip("0").rstrip(".")


def pace_tone(*, progress: float, expected: float, state: str = "active") -> str:
    """``good``, ``warn`` or ``bad`` by how far progress trails the calendar; ``idle``/``done`` otherwise."""
    if state in ("paused", "cancelled", "draft"):
        return "idle"
    if state == "done":
        return "done"
    gap = expected - progress
    if gap <= BEHIND:
        return "good"
    return "warn" if gap <= WELL_BEHIND else "bad"


def _x(share: float) -> str:
    return f"{max(0.0, min(1.0, share)) * 100:.1f}"


def progress_bar(*, progress: float, expected: float | None, tone: str, label: str) -> SafeString:
    """A bar filled to ``progress`` with a marker where the calendar says it should be by now.

    It stretches to its container (the container's class sets the width); ``label`` names the goal.
    """
    description = f"{label}: {percent(progress)} done"
    if expected is not None:
        description += f", {percent(expected)} expected by now"
    marker = (
        format_html(
            '<line class="bar-pace" x1="{x}" x2="{x}" y1="0" y2="12" vector-effect="non-scaling-stroke"/>',
            x=_x(expected),
        )
        if expected is not None
        else ""
    )
    return format_html(
        '<svg class="bar bar-{tone}" viewBox="0 0 100 12" preserveAspectRatio="none" width="100%" height="12"'
        ' role="img" aria-label="{description}" focusable="false">'
        '<rect class="bar-track" x="0" y="2" width="100" height="8" rx="4"/>'
        '<rect class="bar-fill" x="0" y="2" width="{width}" height="8" rx="4"/>{marker}</svg>',
        tone=tone,
        description=description,
        width=_x(progress),
        marker=marker,
    )


@dataclass(frozen=True)
class ReferenceLine:
    """A horizontal line across a chart, e.g. a threshold or a target."""

    value: float
    label: str
    tone: str  # a CSS class suffix: green, red, target, baseline


@dataclass(frozen=True)
class Band:
    """A shaded horizontal zone between two values, e.g. where a KPI is green."""

    low: float
    high: float
    tone: str


def nice_ticks(low: float, high: float, count: int = 4) -> list[float]:
    """Round values to label an axis between ``low`` and ``high`` (1, 2, 2.5 or 5 times a power of ten)."""
    span = high - low
    if span <= 0 or not math.isfinite(span):
        return [low]
    raw = span / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    first = math.ceil(low / step) * step
    ticks = []
    value = first
    while value <= high + step * 1e-9:
        ticks.append(round(value, 10))
        value += step
    return ticks


def _scale(values: Sequence[float], lines: Sequence[ReferenceLine]) -> tuple[float, float]:
    every = [*values, *(line.value for line in lines)]
    low, high = min(every), max(every)
    if low == high:
        low, high = low - 1, high + 1
    pad = (high - low) * 0.12
    return low - pad, high + pad


def sparkline(
    values: Sequence[float], *, lines: Sequence[ReferenceLine] = (), tone: str = "", label: str
) -> SafeString:
    """A small line of the last readings with its thresholds, the latest point marked."""
    width, height = 120, 32
    if not values:
        return format_html(
            '<svg class="sparkline empty" viewBox="0 0 {w} {h}" width="{w}" height="{h}" role="img"'
            ' aria-label="{label}: no readings yet" focusable="false">'
            '<line class="spark-none" x1="4" x2="{end}" y1="{mid}" y2="{mid}"/></svg>',
            w=width,
            h=height,
            end=width - 4,
            mid=height / 2,
            label=label,
        )
    low, high = _scale(values, lines)

    def y(value: float) -> str:
        return f"{(height - 3) - (value - low) / (high - low) * (height - 6):.1f}"

    step = (width - 8) / max(len(values) - 1, 1)
    points = [(4 + index * step, y(value)) for index, value in enumerate(values)]
    threshold_lines = format_html_join(
        "",
        '<line class="spark-line-{}" x1="0" x2="{}" y1="{}" y2="{}"/>',
        ((line.tone, width, y(line.value), y(line.value)) for line in lines),
    )
    last_x, last_y = points[-1]
    return format_html(
        '<svg class="sparkline spark-{tone}" viewBox="0 0 {w} {h}" width="{w}" height="{h}" role="img"'
        ' aria-label="{label}" focusable="false">{thresholds}'
        '<polyline class="spark-series" points="{points}" fill="none"/>'
        '<circle class="spark-last" cx="{lx}" cy="{ly}" r="3"/></svg>',
        tone=tone,
        w=width,
        h=height,
        label=label,
        thresholds=threshold_lines,
        points=" ".join(f"{x:.1f},{py}" for x, py in points),
        lx=f"{last_x:.1f}",
        ly=last_y,
    )


def series_chart(
    points: Sequence[tuple[datetime, float]],
    *,
    unit: str,
    label: str,
    lines: Sequence[ReferenceLine] = (),
    bands: Sequence[Band] = (),
) -> SafeString:
    """A readable time series: points joined by a line, reference lines named at the right, the value axis
    labelled at its ends and the first and last dates below. Each point has a tooltip with its value."""
    width, height = 560, 250
    left, right, top, bottom = 48, 104, 20, 30
    plot_w, plot_h = width - left - right, height - top - bottom
    if not points:
        return format_html(
            '<svg class="series empty" viewBox="0 0 {w} {h}" width="100%" role="img" aria-label="{label}:'
            ' nothing recorded yet" focusable="false"><text class="series-empty" x="{cx}" y="{cy}"'
            ' text-anchor="middle">Nothing recorded yet</text></svg>',
            w=width,
            h=height,
            cx=width / 2,
            cy=height / 2,
            label=label,
        )
    values = [value for _, value in points]
    low, high = _scale(values, lines)

    def y(value: float) -> float:
        return top + plot_h - (value - low) / (high - low) * plot_h

    first, last = points[0][0], points[-1][0]
    span = (last - first).total_seconds() or 1.0

    def x(moment: datetime) -> float:
        if len(points) == 1:
            return left + plot_w / 2
        return left + (moment - first).total_seconds() / span * plot_w

    parts: list[SafeString] = []
    for band in bands:
        band_top, band_bottom = y(min(max(band.high, low), high)), y(max(min(band.low, high), low))
        if band_bottom > band_top:
            parts.append(
                format_html(
                    '<rect class="series-band-{}" x="{}" y="{}" width="{}" height="{}"/>',
                    band.tone,
                    left,
                    f"{band_top:.1f}",
                    plot_w,
                    f"{band_bottom - band_top:.1f}",
                )
            )
    for tick in nice_ticks(low, high):
        tick_y = f"{y(tick):.1f}"
        parts.append(
            format_html(
                '<line class="series-grid" x1="{l}" x2="{r}" y1="{y}" y2="{y}"/>'
                '<text class="series-tick" x="{tx}" y="{ty}" text-anchor="end">{label}</text>',
                l=left,
                r=left + plot_w,
                y=tick_y,
                tx=left - 8,
                ty=f"{y(tick) + 4:.1f}",
                label=number(tick),
            )
        )
    parts.append(
        format_html(
            '<line class="series-axis" x1="{l}" x2="{l}" y1="{t}" y2="{b}"/>'
            '<line class="series-axis" x1="{l}" x2="{r}" y1="{b}" y2="{b}"/>'
            '<text class="series-tick" x="{tx}" y="{unit_y}" text-anchor="end">{unit}</text>'
            '<text class="series-tick" x="{l}" y="{dy}" text-anchor="start">{first}</text>'
            '<text class="series-tick" x="{r}" y="{dy}" text-anchor="end">{last}</text>',
            l=left,
            r=left + plot_w,
            t=top,
            b=top + plot_h,
            tx=left - 8,
            unit_y=top - 4,
            unit=unit,
            dy=height - 8,
            first=date_format(first, "j M"),
            last=date_format(last, "j M"),
        )
    )
    for line in lines:
        line_y = y(line.value)
        parts.append(
            format_html(
                '<line class="series-ref series-ref-{tone}" x1="{l}" x2="{r}" y1="{y}" y2="{y}"/>'
                '<text class="series-ref-label series-ref-label-{tone}" x="{lx}" y="{ty}">'
                "{label} {value}</text>",
                tone=line.tone,
                l=left,
                r=left + plot_w,
                y=f"{line_y:.1f}",
                lx=left + plot_w + 8,
                ty=f"{line_y + 4:.1f}",
                label=line.label,
                value=f"{number(line.value)} {unit}".strip(),
            )
        )
    coordinates = [(x(moment), y(value)) for moment, value in points]
    if len(coordinates) > 1:
        parts.append(
            format_html(
                '<polyline class="series-line" fill="none" points="{}"/>',
                " ".join(f"{px:.1f},{py:.1f}" for px, py in coordinates),
            )
        )
    for (moment, value), (px, py) in zip(points, coordinates, strict=True):
        parts.append(
            format_html(
                '<circle class="series-point" cx="{}" cy="{}" r="4"><title>{}: {}</title></circle>',
                f"{px:.1f}",
                f"{py:.1f}",
                date_format(moment, "j M Y"),
                f"{number(value)} {unit}".strip(),
            )
        )
    return format_html(
        '<svg class="series" viewBox="0 0 {w} {h}" width="100%" role="img" aria-label="{label}"'
        ' focusable="false">{body}</svg>',
        w=width,
        h=height,
        label=label,
        body=mark_safe("".join(parts)),  # noqa: S308 - every part above is built with format_html
    )
