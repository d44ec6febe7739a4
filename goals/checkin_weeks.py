"""Check-in weeks in an organisation's time zone, pure functions over dates, times and zone names.

A check-in week starts on Monday at local midnight and ends at the next Monday's local midnight, so it
lasts 167, 168 or 169 hours when the clocks change within it. A week is named by its Monday (a ``date``);
instants are compared in UTC.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo


def _zone(time_zone: str) -> ZoneInfo:
    return ZoneInfo(time_zone)


def week_monday(day: date) -> date:
    """The Monday of the week ``day`` falls in."""
    return day - timedelta(days=day.weekday())


def checkin_week(at: datetime, time_zone: str) -> date:
    """The week an instant belongs to: the Monday of its local date in ``time_zone``."""
    if at.tzinfo is None:
        raise ValueError("checkin_week needs an aware datetime.")
    return week_monday(at.astimezone(_zone(time_zone)).date())


def _local_midnight(day: date, zone: ZoneInfo) -> datetime:
    # Where midnight does not exist (clocks jump forward at midnight) the earlier offset is used, which
    # lands on the first instant of the day; where it happens twice, the first one is taken.
    return datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)


def week_bounds(week: date, time_zone: str) -> tuple[datetime, datetime]:
    """The week's first instant and the first instant of the next week, both in UTC."""
    if week.weekday() != 0:
        raise ValueError(f"A check-in week is named by its Monday; {week} is not one.")
    zone = _zone(time_zone)
    return _local_midnight(week, zone), _local_midnight(week + timedelta(days=7), zone)


def checkin_due_at(week: date, weekday: int, at_time: time, time_zone: str) -> datetime:
    """When the week's check-in is due: ``weekday`` (0 is Monday) at ``at_time`` local, in UTC.

    A local time skipped by a clock change (02:30 on the night clocks jump from 02:00 to 03:00) is read
    with the offset before the change, i.e. an hour later on the wall clock.
    """
    if not 0 <= weekday <= 6:
        raise ValueError(f"A weekday is 0 (Monday) to 6 (Sunday), not {weekday}.")
    if week.weekday() != 0:
        raise ValueError(f"A check-in week is named by its Monday; {week} is not one.")
    day = week + timedelta(days=weekday)
    return datetime.combine(day, at_time.replace(tzinfo=None), tzinfo=_zone(time_zone)).astimezone(UTC)
