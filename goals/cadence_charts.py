"""Server-rendered SVG for the cadence page: weekly shares (0 to 100%) over time.

Like ``goals.charts``: plain SVG, geometry in attributes and colour in classes (the Content-Security-Policy
allows no style attribute), and an accessible name that says in words what the chart shows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

from goals.charts import percent


@dataclass(frozen=True)
class WeeklySeries:
    """One line: a share per week (None where there is nothing to show, which leaves a gap)."""

    label: str
    values: Sequence[float | None]
    tone: str  # a CSS class suffix


def _week_label(week: date) -> str:
    return f"{week.day} {week:%b}"


def weekly_share_chart(
    weeks: Sequence[date],
    series: Sequence[WeeklySeries],
    *,
    label: str,
    reference: float | None = None,
    reference_label: str = "",
) -> SafeString:
    """Weekly shares on a fixed 0-100% axis, one line per series, broken where a week has no value, with
    an optional dashed reference line (e.g. a threshold). Each point has a tooltip with its week."""
    width, height = 560, 240
    left, right, top, bottom = 44, 16, 16, 34
    plot_w, plot_h = width - left - right, height - top - bottom

    def x(index: int) -> float:
        if len(weeks) == 1:
            return left + plot_w / 2
        return left + index / (len(weeks) - 1) * plot_w

    def y(share: float) -> float:
        return top + plot_h - max(0.0, min(1.0, share)) * plot_h

    parts: list[SafeString] = []
    for tick in (0.0, 0.25, 0.5, 0.75, 1.0):
        parts.append(
            format_html(
                '<line class="series-grid" x1="{l}" x2="{r}" y1="{y}" y2="{y}"/>'
                '<text class="series-tick" x="{tx}" y="{ty}" text-anchor="end">{label}</text>',
                l=left,
                r=left + plot_w,
                y=f"{y(tick):.1f}",
                tx=left - 6,
                ty=f"{y(tick) + 4:.1f}",
                label=percent(tick),
            )
        )
    # Week labels: the first, the last, and every fourth in between, so they never overlap.
    for index, week in enumerate(weeks):
        if index in (0, len(weeks) - 1) or (index % 4 == 0 and len(weeks) - 1 - index >= 2):
            anchor = "start" if index == 0 else "end" if index == len(weeks) - 1 else "middle"
            parts.append(
                format_html(
                    '<text class="series-tick" x="{}" y="{}" text-anchor="{}">{}</text>',
                    f"{x(index):.1f}",
                    height - 10,
                    anchor,
                    _week_label(week),
                )
            )
    parts.append(
        format_html(
            '<line class="series-axis" x1="{l}" x2="{r}" y1="{b}" y2="{b}"/>',
            l=left,
            r=left + plot_w,
            b=top + plot_h,
        )
    )
    if reference is not None:
        parts.append(
            format_html(
                '<line class="series-ref series-ref-red" x1="{l}" x2="{r}" y1="{y}" y2="{y}"/>'
                '<text class="series-ref-label series-ref-label-red" x="{r}" y="{ty}" text-anchor="end">'
                "{label}</text>",
                l=left,
                r=left + plot_w,
                y=f"{y(reference):.1f}",
                ty=f"{y(reference) - 5:.1f}",
                label=reference_label or percent(reference),
            )
        )
    for line in series:
        runs: list[list[tuple[float, float]]] = [[]]
        for index, value in enumerate(line.values):
            if value is None:
                if runs[-1]:
                    runs.append([])
                continue
            runs[-1].append((x(index), y(value)))
        for run in runs:
            if len(run) > 1:
                parts.append(
                    format_html(
                        '<polyline class="share-line share-{}" fill="none" points="{}"/>',
                        line.tone,
                        " ".join(f"{px:.1f},{py:.1f}" for px, py in run),
                    )
                )
        for index, value in enumerate(line.values):
            if value is None:
                continue
            parts.append(
                format_html(
                    '<circle class="share-point share-{}" cx="{}" cy="{}" r="3.5">'
                    "<title>{}, week of {}: {}</title></circle>",
                    line.tone,
                    f"{x(index):.1f}",
                    f"{y(value):.1f}",
                    line.label,
                    _week_label(weeks[index]),
                    percent(value),
                )
            )
    return format_html(
        '<svg class="series share-chart" viewBox="0 0 {w} {h}" width="100%" role="img" aria-label="{label}"'
        ' focusable="false">{body}</svg>',
        w=width,
        h=height,
        label=label,
        body=mark_safe("".join(parts)),  # noqa: S308 - every part above is built with format_html
    )


def describe_trend(name: str, weeks: Sequence[date], values: Sequence[float | None]) -> str:
    """A chart's accessible name: what it shows, where it started and where it is, and the gaps."""
    shown = [(week, value) for week, value in zip(weeks, values, strict=True) if value is not None]
    if not shown:
        return f"{name}: nothing to show for the last {len(weeks)} weeks."
    (first_week, first), (last_week, last) = shown[0], shown[-1]
    text = f"{name} over the last {len(weeks)} weeks"
    if len(shown) == 1:
        text += f": {percent(last)} in the week of {_week_label(last_week)}"
    else:
        text += (
            f": {percent(first)} in the week of {_week_label(first_week)},"
            f" {percent(last)} in the week of {_week_label(last_week)}"
        )
    gaps = len(weeks) - len(shown)
    if gaps:
        text += f"; {gaps} week{'s' if gaps != 1 else ''} without figures"
    return text + "."


def share_sparkline(values: Sequence[float | None], *, label: str) -> SafeString:
    """A small weekly line on a fixed 0-100% scale, the latest point marked; gaps where there is no value."""
    width, height, pad = 104, 28, 3

    def x(index: int) -> float:
        return pad + index * (width - 2 * pad) / max(len(values) - 1, 1)

    def y(share: float) -> float:
        return height - pad - max(0.0, min(1.0, share)) * (height - 2 * pad)

    runs: list[list[str]] = [[]]
    for index, value in enumerate(values):
        if value is None:
            if runs[-1]:
                runs.append([])
            continue
        runs[-1].append(f"{x(index):.1f},{y(value):.1f}")
    lines = "".join(
        str(format_html('<polyline class="spark-series" points="{}" fill="none"/>', " ".join(run)))
        for run in runs
        if len(run) > 1
    )
    last = next(
        ((index, value) for index, value in reversed(list(enumerate(values))) if value is not None), None
    )
    marker = (
        format_html(
            '<circle class="spark-last" cx="{}" cy="{}" r="2.5"/>', f"{x(last[0]):.1f}", f"{y(last[1]):.1f}"
        )
        if last is not None
        else ""
    )
    return format_html(
        '<svg class="sparkline" viewBox="0 0 {w} {h}" width="{w}" height="{h}" role="img"'
        ' aria-label="{label}" focusable="false">'
        '<line class="spark-base" x1="{p}" x2="{end}" y1="{base}" y2="{base}"/>{lines}{marker}</svg>',
        w=width,
        h=height,
        label=label,
        p=pad,
        end=width - pad,
        base=f"{y(0):.1f}",
        lines=mark_safe(lines),  # noqa: S308 - built with format_html above
        marker=marker,
    )
