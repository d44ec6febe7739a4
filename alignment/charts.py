"""Server-rendered SVG for the drift pages: score sparklines, progress against pace, effort by week, and the
timeline that puts findings, goal edits, check-ins and KPI readings on one week axis.

As in ``goals.charts``: plain SVG, geometry in attributes and colour in classes (the Content-Security-Policy
allows no style attribute and no script), and every chart carries an accessible name that says in words
what it draws. The pages print the same numbers in text beside each chart.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

from goals.charts import percent

# A drift score (0 healthy to 100) at or above these reads as high, moderate or mild; below, healthy.
HIGH_SCORE = 60
MODERATE_SCORE = 30
MILD_SCORE = 10


def score_tone(score: int | None) -> str:
    """``bad``, ``warn``, ``mild`` or ``good`` for a drift score; ``idle`` when there is none yet."""
    if score is None:
        return "idle"
    if score >= HIGH_SCORE:
        return "bad"
    if score >= MODERATE_SCORE:
        return "warn"
    return "mild" if score >= MILD_SCORE else "good"


def _join(parts: Sequence[SafeString]) -> SafeString:
    return mark_safe("".join(parts))  # noqa: S308 - every part is built with format_html


def score_sparkline(points: Sequence[tuple[int, int]], *, weeks: int, label: str) -> SafeString:
    """A goal's weekly drift score on a fixed 0-100 scale across ``weeks`` cycle weeks, latest point marked.

    ``points`` are ``(week, score)`` pairs; weeks without a score leave the line to start later.
    """
    width, height, pad = 120, 32, 3
    weeks = max(weeks, 2)

    def x(week: int) -> float:
        return pad + (week - 1) / (weeks - 1) * (width - 2 * pad)

    def y(score: float) -> float:
        return height - pad - max(0.0, min(100.0, score)) / 100 * (height - 2 * pad)

    if not points:
        return format_html(
            '<svg class="drift-spark empty" viewBox="0 0 {w} {h}" width="{w}" height="{h}" role="img"'
            ' aria-label="{label}: no scores yet" focusable="false">'
            '<line class="spark-none" x1="{p}" x2="{end}" y1="{mid}" y2="{mid}"/></svg>',
            w=width,
            h=height,
            p=pad,
            end=width - pad,
            mid=height / 2,
            label=label,
        )
    ordered = sorted(points)
    coordinates = [(x(week), y(score)) for week, score in ordered]
    line = " ".join(f"{px:.1f},{py:.1f}" for px, py in coordinates)
    area = f"{coordinates[0][0]:.1f},{y(0):.1f} {line} {coordinates[-1][0]:.1f},{y(0):.1f}"
    last_x, last_y = coordinates[-1]
    return format_html(
        '<svg class="drift-spark tone-{tone}" viewBox="0 0 {w} {h}" width="{w}" height="{h}" role="img"'
        ' aria-label="{label}" focusable="false">'
        '<line class="drift-spark-base" x1="{p}" x2="{end}" y1="{base}" y2="{base}"/>'
        '<polygon class="drift-spark-area" points="{area}"/>'
        '<polyline class="drift-spark-line" points="{line}" fill="none"/>'
        '<circle class="drift-spark-last" cx="{lx}" cy="{ly}" r="2.75"/></svg>',
        tone=score_tone(ordered[-1][1]),
        w=width,
        h=height,
        label=label,
        p=pad,
        end=width - pad,
        base=f"{y(0):.1f}",
        area=area,
        line=line,
        lx=f"{last_x:.1f}",
        ly=f"{last_y:.1f}",
    )


def _week_ticks(weeks: int) -> list[int]:
    """Week numbers to label on an axis: all of them up to 13, else every other one."""
    step = 1 if weeks <= 13 else 2
    return [week for week in range(1, weeks + 1) if (week - 1) % step == 0 or week == weeks]


def pace_chart(
    progress: Sequence[tuple[float, float]],
    *,
    weeks: int,
    now: float,
    onset_week: int | None,
    label: str,
) -> SafeString:
    """Progress (0 to 100%) against the expected pace of the calendar, over the cycle's weeks.

    ``progress`` holds ``(x, share)`` points where ``x`` counts weeks from the cycle's start (0 is its first
    day, ``weeks`` its end); the expected pace runs straight from 0% at the start to 100% at the end.
    ``now`` marks the present on the same scale; ``onset_week`` draws where the drift began.
    """
    width, height = 640, 250
    left, right, top, bottom = 46, 20, 18, 40
    plot_w, plot_h = width - left - right, height - top - bottom
    span = max(weeks, 1)

    def x(position: float) -> float:
        return left + max(0.0, min(float(span), position)) / span * plot_w

    def y(share: float) -> float:
        return top + plot_h - max(0.0, min(1.0, share)) * plot_h

    parts: list[SafeString] = []
    for tick in (0.0, 0.25, 0.5, 0.75, 1.0):
        parts.append(
            format_html(
                '<line class="series-grid" x1="{l}" x2="{r}" y1="{y}" y2="{y}"/>'
                '<text class="series-tick" x="{tx}" y="{ty}" text-anchor="end">{text}</text>',
                l=left,
                r=left + plot_w,
                y=f"{y(tick):.1f}",
                tx=left - 6,
                ty=f"{y(tick) + 4:.1f}",
                text=percent(tick),
            )
        )
    for week in _week_ticks(weeks):
        parts.append(
            format_html(
                '<text class="series-tick" x="{}" y="{}" text-anchor="middle">{}</text>',
                f"{x(week - 0.5):.1f}",
                height - bottom + 18,
                week,
            )
        )
    parts.append(
        format_html(
            '<text class="series-tick axis-title" x="{}" y="{}" text-anchor="middle">'
            "Week of the cycle</text>",
            f"{left + plot_w / 2:.1f}",
            height - 4,
        )
    )
    if onset_week is not None:
        onset_x = x(onset_week - 1)
        parts.append(
            format_html(
                '<rect class="pace-drift-zone" x="{x}" y="{t}" width="{w}" height="{h}"/>'
                '<line class="onset-line" x1="{x}" x2="{x}" y1="{t}" y2="{b}"/>'
                '<text class="onset-label" x="{tx}" y="{ty}">Drift from week {week}</text>',
                x=f"{onset_x:.1f}",
                w=f"{max(0.0, x(now) - onset_x):.1f}",
                t=top,
                h=plot_h,
                b=top + plot_h,
                tx=f"{onset_x + 5:.1f}",
                ty=top + 12,
                week=onset_week,
            )
        )
    parts.append(
        format_html(
            '<line class="pace-expected" x1="{}" y1="{}" x2="{}" y2="{}"/>',
            f"{x(0):.1f}",
            f"{y(0):.1f}",
            f"{x(span):.1f}",
            f"{y(1):.1f}",
        )
    )
    if progress:
        coordinates = [(x(position), y(share)) for position, share in progress]
        parts.append(
            format_html(
                '<polyline class="pace-actual" fill="none" points="{}"/>',
                " ".join(f"{px:.1f},{py:.1f}" for px, py in coordinates),
            )
        )
        parts.extend(
            format_html(
                '<circle class="pace-point" cx="{}" cy="{}" r="3.5"><title>{}</title></circle>',
                f"{px:.1f}",
                f"{py:.1f}",
                f"{'Now' if position >= now else f'End of week {round(position)}'}: {percent(share)} done",
            )
            for (position, share), (px, py) in zip(progress, coordinates, strict=True)
        )
    parts.append(
        format_html(
            '<line class="now-line" x1="{x}" x2="{x}" y1="{t}" y2="{b}"/>'
            '<line class="series-axis" x1="{l}" x2="{l}" y1="{t}" y2="{b}"/>'
            '<line class="series-axis" x1="{l}" x2="{r}" y1="{b}" y2="{b}"/>',
            x=f"{x(now):.1f}",
            l=left,
            r=left + plot_w,
            t=top,
            b=top + plot_h,
        )
    )
    return format_html(
        '<svg class="series pace-chart" viewBox="0 0 {w} {h}" width="100%" role="img" aria-label="{label}"'
        ' focusable="false">{body}</svg>',
        w=width,
        h=height,
        label=label,
        body=_join(parts),
    )


@dataclass(frozen=True)
class EffortSeries:
    """One band of the effort chart: where a share of the people's effort went."""

    key: str
    label: str
    tone: str  # a CSS class suffix: goal, other-goals, theme-1 ... theme-4, theme-other


@dataclass
class EffortWeek:
    week: int
    weights: dict[str, float] = field(default_factory=dict)

    @property
    def total(self) -> float:
        return sum(self.weights.values())


def effort_chart(weeks: Sequence[EffortWeek], series: Sequence[EffortSeries], *, label: str) -> SafeString:
    """One bar per week, stacked by where the people's effort went, as shares of that week's effort (100%
    tall when anything happened; a dashed outline marks a week with no activity at all)."""
    width, height = 960, 260
    left, right, top, bottom = 46, 12, 14, 40
    plot_w, plot_h = width - left - right, height - top - bottom
    count = max(len(weeks), 1)
    slot = plot_w / count
    bar = min(44.0, slot * 0.62)

    def y(share: float) -> float:
        return top + plot_h - share * plot_h

    parts: list[SafeString] = []
    for tick in (0.0, 0.25, 0.5, 0.75, 1.0):
        parts.append(
            format_html(
                '<line class="series-grid" x1="{l}" x2="{r}" y1="{y}" y2="{y}"/>'
                '<text class="series-tick" x="{tx}" y="{ty}" text-anchor="end">{text}</text>',
                l=left,
                r=left + plot_w,
                y=f"{y(tick):.1f}",
                tx=left - 6,
                ty=f"{y(tick) + 4:.1f}",
                text=percent(tick),
            )
        )
    labelled = set(_week_ticks(len(weeks)))
    for index, week in enumerate(weeks):
        bar_x = left + index * slot + (slot - bar) / 2
        total = week.total
        if total <= 0:
            parts.append(
                format_html(
                    '<rect class="effort-none" x="{}" y="{}" width="{}" height="{}" rx="2">'
                    "<title>Week {}: no activity recorded</title></rect>",
                    f"{bar_x:.1f}",
                    top,
                    f"{bar:.1f}",
                    plot_h,
                    week.week,
                )
            )
        else:
            base = 0.0
            for band in series:
                weight = week.weights.get(band.key, 0.0)
                if weight <= 0:
                    continue
                share = weight / total
                parts.append(
                    format_html(
                        '<rect class="effort-{}" x="{}" y="{}" width="{}" height="{}">'
                        "<title>Week {}, {}: {} of the effort</title></rect>",
                        band.tone,
                        f"{bar_x:.1f}",
                        f"{y(base + share):.1f}",
                        f"{bar:.1f}",
                        f"{share * plot_h:.1f}",
                        week.week,
                        band.label,
                        percent(share),
                    )
                )
                base += share
        if index + 1 in labelled:
            parts.append(
                format_html(
                    '<text class="series-tick" x="{}" y="{}" text-anchor="middle">{}</text>',
                    f"{bar_x + bar / 2:.1f}",
                    height - bottom + 18,
                    week.week,
                )
            )
    parts.append(
        format_html(
            '<line class="series-axis" x1="{l}" x2="{r}" y1="{b}" y2="{b}"/>'
            '<text class="series-tick axis-title" x="{cx}" y="{ty}" text-anchor="middle">Week of the cycle'
            "</text>",
            l=left,
            r=left + plot_w,
            b=top + plot_h,
            cx=f"{left + plot_w / 2:.1f}",
            ty=height - 4,
        )
    )
    return format_html(
        '<svg class="series effort-chart" viewBox="0 0 {w} {h}" width="100%" role="img" aria-label="{label}"'
        ' focusable="false">{body}</svg>',
        w=width,
        h=height,
        label=label,
        body=_join(parts),
    )


@dataclass(frozen=True)
class TimelineMark:
    """What happened in one lane in one week: how many things, the tone of the most telling one, and a
    tooltip that lists them."""

    week: int
    count: int
    tone: str
    title: str


@dataclass(frozen=True)
class TimelineLane:
    key: str
    label: str
    marks: Sequence[TimelineMark]


def timeline_chart(
    lanes: Sequence[TimelineLane], *, weeks: int, now: float, onset_week: int | None, label: str
) -> SafeString:
    """Lanes (findings, goal edits, check-ins, KPI readings) across the cycle's weeks, one mark per lane and
    week with a count; a band from the drift's onset to now shows where the goal and the work parted."""
    gutter, right, top, lane_h, axis_h = 130, 14, 10, 36, 30
    width = 960
    plot_w = width - gutter - right
    height = top + lane_h * len(lanes) + axis_h
    span = max(weeks, 1)

    def x(position: float) -> float:
        return gutter + max(0.0, min(float(span), position)) / span * plot_w

    parts: list[SafeString] = []
    bottom = top + lane_h * len(lanes)
    if onset_week is not None:
        parts.append(
            format_html(
                '<rect class="timeline-drift-zone" x="{x}" y="{t}" width="{w}" height="{h}"/>'
                '<line class="onset-line" x1="{x}" x2="{x}" y1="{t}" y2="{b}"/>',
                x=f"{x(onset_week - 1):.1f}",
                w=f"{max(0.0, x(now) - x(onset_week - 1)):.1f}",
                t=top,
                h=bottom - top,
                b=bottom,
            )
        )
    for index, lane in enumerate(lanes):
        lane_top = top + index * lane_h
        middle = lane_top + lane_h / 2
        parts.append(
            format_html(
                '<line class="timeline-lane-rule" x1="{l}" x2="{r}" y1="{y}" y2="{y}"/>'
                '<text class="timeline-lane-label" x="{tx}" y="{ty}" text-anchor="end">{text}</text>',
                l=gutter,
                r=gutter + plot_w,
                y=f"{middle:.1f}",
                tx=gutter - 10,
                ty=f"{middle + 4:.1f}",
                text=lane.label,
            )
        )
        for mark in lane.marks:
            cx = x(mark.week - 0.5)
            radius = 9 if mark.count > 1 else 6.5
            parts.append(
                format_html(
                    '<g class="timeline-mark lane-{lane} tone-{tone}"><title>{title}</title>'
                    '<circle cx="{cx}" cy="{cy}" r="{r}"/>{count}</g>',
                    lane=lane.key,
                    tone=mark.tone,
                    title=mark.title,
                    cx=f"{cx:.1f}",
                    cy=f"{middle:.1f}",
                    r=radius,
                    count=format_html(
                        '<text class="timeline-count" x="{}" y="{}" text-anchor="middle">{}</text>',
                        f"{cx:.1f}",
                        f"{middle + 3.5:.1f}",
                        mark.count,
                    )
                    if mark.count > 1
                    else "",
                )
            )
    parts.append(
        format_html(
            '<line class="series-axis" x1="{l}" x2="{r}" y1="{b}" y2="{b}"/>'
            '<line class="now-line" x1="{nx}" x2="{nx}" y1="{t}" y2="{b}"/>',
            l=gutter,
            r=gutter + plot_w,
            b=bottom,
            nx=f"{x(now):.1f}",
            t=top,
        )
    )
    parts.append(
        format_html_join(
            "",
            '<text class="series-tick" x="{}" y="{}" text-anchor="middle">{}</text>',
            ((f"{x(week - 0.5):.1f}", bottom + 18, week) for week in _week_ticks(weeks)),
        )
    )
    return format_html(
        '<svg class="series timeline-chart" viewBox="0 0 {w} {h}" width="100%" role="img"'
        ' aria-label="{label}" focusable="false">{body}</svg>',
        w=width,
        h=height,
        label=label,
        body=_join(parts),
    )
