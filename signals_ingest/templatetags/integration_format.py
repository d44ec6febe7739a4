"""Numbers and durations as the integration pages show them."""

from __future__ import annotations

from datetime import timedelta

from django import template

from signals_ingest.models import SignalKind

register = template.Library()


@register.filter
def thousands(value: object) -> str:
    """``12345`` → ``12,345``; anything that is not a number is shown as it is."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    return f"{value:,.0f}"


@register.filter
def duration(value: timedelta | None) -> str:
    """A span in the largest units that say it: ``under a minute``, ``12 min``, ``3 h 20 min``, ``4 days``."""
    if value is None:
        return ""
    seconds = max(int(value.total_seconds()), 0)
    if seconds < 60:
        return "under a minute"
    minutes = seconds // 60
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    return f"{hours // 24} days"


@register.filter
def signal_kind(value: str) -> str:
    """A signal kind's name for people: ``transition`` → ``Status transition``."""
    try:
        return str(SignalKind(value).label)
    except ValueError:
        return value
