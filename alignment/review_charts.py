"""Server-rendered SVG for the drift review pages: one person's weekly share of effort on goal-linked work.

As in ``alignment.charts`` and ``goals.charts``: plain SVG with geometry in attributes and colour in
classes (the Content-Security-Policy allows no style attribute), an accessible name that says in words
what is drawn, and the same numbers printed beside the chart.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

from goals.charts import percent

# The weeks drawn at the width of the cycle, however few have passed, so small multiples line up.
EFFORT_CHART_WIDTH = 130
EFFORT_CHART_HEIGHT = 40


def effort_bars(weeks: Sequence[tuple[int, float | None]], *, week_count: int, label: str) -> SafeString:
    """A bar per cycle week for the share (0 to 1) of someone's activity that went to goal-linked work.

    ``weeks`` holds ``(week, share)`` pairs; ``None`` is a week without any activity, drawn as a dashed
    outline so that "nothing recorded" never reads as "nothing linked". Weeks not given stay empty.
    """
    width, height, pad, top = EFFORT_CHART_WIDTH, EFFORT_CHART_HEIGHT, 2, 4
    count = max(week_count, 1)
    slot = (width - 2 * pad) / count
    bar = max(2.0, slot * 0.7)
    plot_h = height - top - 2
    parts: list[SafeString] = [
        format_html(
            '<line class="effort-bars-half" x1="{l}" x2="{r}" y1="{y}" y2="{y}"/>',
            l=pad,
            r=width - pad,
            y=f"{top + plot_h / 2:.1f}",
        )
    ]
    for week, share in weeks:
        if not 1 <= week <= count:
            continue
        x = pad + (week - 1) * slot + (slot - bar) / 2
        if share is None:
            parts.append(
                format_html(
                    '<rect class="effort-bars-none" x="{}" y="{}" width="{}" height="{}" rx="1">'
                    "<title>Week {}: no activity recorded</title></rect>",
                    f"{x:.1f}",
                    top + plot_h - 6,
                    f"{bar:.1f}",
                    6,
                    week,
                )
            )
            continue
        bar_h = max(1.0, share * plot_h)
        parts.append(
            format_html(
                '<rect class="effort-bars-linked" x="{}" y="{}" width="{}" height="{}" rx="1">'
                "<title>Week {}: {} on goal-linked work</title></rect>",
                f"{x:.1f}",
                f"{top + plot_h - bar_h:.1f}",
                f"{bar:.1f}",
                f"{bar_h:.1f}",
                week,
                percent(share),
            )
        )
    parts.append(
        format_html(
            '<line class="effort-bars-base" x1="{l}" x2="{r}" y1="{y}" y2="{y}"/>',
            l=pad,
            r=width - pad,
            y=top + plot_h,
        )
    )
    return format_html(
        '<svg class="effort-bars" viewBox="0 0 {w} {h}" width="{w}" height="{h}" role="img"'
        ' aria-label="{label}" focusable="false">{body}</svg>',
        w=width,
        h=height,
        label=label,
        body=mark_safe("".join(parts)),  # noqa: S308 - every part is built with format_html
    )
