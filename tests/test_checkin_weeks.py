"""Check-in weeks in the organisation's time zone: Monday local midnight to Monday local midnight, across
daylight-saving changes, in zones east and west of UTC, with and without daylight saving."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest

from goals.checkin_selectors import check_in_due_at
from goals.checkin_weeks import checkin_due_at, checkin_week, week_bounds
from okrsignal.models import Organization


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)  # type: ignore[misc]


HOUR = timedelta(hours=1)
SECOND = timedelta(seconds=1)

# (zone, week, its first instant in UTC, the next week's first instant in UTC, hours in the week)
WEEKS = [
    # Berlin: clocks go forward on Sunday 29 March and back on Sunday 25 October 2026.
    ("Europe/Berlin", date(2026, 3, 16), utc(2026, 3, 15, 23), utc(2026, 3, 22, 23), 168),
    ("Europe/Berlin", date(2026, 3, 23), utc(2026, 3, 22, 23), utc(2026, 3, 29, 22), 167),
    ("Europe/Berlin", date(2026, 3, 30), utc(2026, 3, 29, 22), utc(2026, 4, 5, 22), 168),
    ("Europe/Berlin", date(2026, 10, 19), utc(2026, 10, 18, 22), utc(2026, 10, 25, 23), 169),
    # Los Angeles: forward on Sunday 8 March, back on Sunday 1 November 2026.
    ("America/Los_Angeles", date(2026, 3, 2), utc(2026, 3, 2, 8), utc(2026, 3, 9, 7), 167),
    ("America/Los_Angeles", date(2026, 3, 9), utc(2026, 3, 9, 7), utc(2026, 3, 16, 7), 168),
    ("America/Los_Angeles", date(2026, 10, 26), utc(2026, 10, 26, 7), utc(2026, 11, 2, 8), 169),
    # Auckland (southern hemisphere): back on Sunday 5 April, forward on Sunday 27 September 2026.
    ("Pacific/Auckland", date(2026, 3, 30), utc(2026, 3, 29, 11), utc(2026, 4, 5, 12), 169),
    ("Pacific/Auckland", date(2026, 9, 21), utc(2026, 9, 20, 12), utc(2026, 9, 27, 11), 167),
    # Kolkata: half an hour off the hour, no daylight saving.
    (
        "Asia/Kolkata",
        date(2026, 3, 23),
        datetime(2026, 3, 22, 18, 30, tzinfo=UTC),
        datetime(2026, 3, 29, 18, 30, tzinfo=UTC),
        168,
    ),
]


@pytest.mark.parametrize(("zone", "week", "start", "end", "hours"), WEEKS)
def test_a_week_runs_from_local_monday_midnight_to_the_next(
    zone: str, week: date, start: datetime, end: datetime, hours: int
) -> None:
    assert week_bounds(week, zone) == (start, end)
    assert end - start == timedelta(hours=hours)


@pytest.mark.parametrize(("zone", "week", "start", "end", "hours"), WEEKS)
def test_every_instant_of_the_week_belongs_to_it(
    zone: str, week: date, start: datetime, end: datetime, hours: int
) -> None:
    moment = start
    while moment < end:
        assert checkin_week(moment, zone) == week, moment
        moment += HOUR
    assert checkin_week(end - SECOND, zone) == week
    assert checkin_week(start - SECOND, zone) == week - timedelta(days=7)
    assert checkin_week(end, zone) == week + timedelta(days=7)


@pytest.mark.parametrize(
    ("zone", "just_before", "monday"),
    [
        # Sunday 23:59:59 local, a second before Monday: still the previous week.
        ("Europe/Berlin", utc(2026, 3, 29, 21, 59, 59), date(2026, 3, 30)),
        ("America/Los_Angeles", utc(2026, 3, 9, 6, 59, 59), date(2026, 3, 9)),
        ("Pacific/Auckland", utc(2026, 4, 5, 11, 59, 59), date(2026, 4, 6)),
        ("Asia/Kolkata", utc(2026, 3, 22, 18, 29, 59), date(2026, 3, 23)),
    ],
)
def test_local_midnight_on_monday_starts_the_week(zone: str, just_before: datetime, monday: date) -> None:
    assert checkin_week(just_before, zone) == monday - timedelta(days=7)
    assert checkin_week(just_before + SECOND, zone) == monday


def test_auckland_is_in_the_new_week_while_utc_is_still_sunday() -> None:
    sunday_noon_utc = utc(2026, 4, 5, 12)  # Monday 00:00 in Auckland
    assert checkin_week(sunday_noon_utc, "UTC") == date(2026, 3, 30)
    assert checkin_week(sunday_noon_utc, "Pacific/Auckland") == date(2026, 4, 6)


def test_los_angeles_is_still_in_the_old_week_while_utc_is_monday() -> None:
    monday_small_hours_utc = utc(2026, 3, 9, 3)  # Sunday 20:00 in Los Angeles
    assert checkin_week(monday_small_hours_utc, "UTC") == date(2026, 3, 9)
    assert checkin_week(monday_small_hours_utc, "America/Los_Angeles") == date(2026, 3, 2)


@pytest.mark.parametrize(
    ("zone", "week", "weekday", "at_time", "due"),
    [
        # Friday 10:00 local, before and after the clocks change: the UTC hour moves with them.
        ("Europe/Berlin", date(2026, 3, 23), 4, time(10), utc(2026, 3, 27, 9)),
        ("Europe/Berlin", date(2026, 3, 30), 4, time(10), utc(2026, 4, 3, 8)),
        ("America/Los_Angeles", date(2026, 3, 2), 4, time(10), utc(2026, 3, 6, 18)),
        ("America/Los_Angeles", date(2026, 3, 9), 4, time(10), utc(2026, 3, 13, 17)),
        ("Pacific/Auckland", date(2026, 4, 6), 0, time(9), utc(2026, 4, 5, 21)),
        ("Pacific/Auckland", date(2026, 3, 30), 0, time(9), utc(2026, 3, 29, 20)),
        ("Asia/Kolkata", date(2026, 3, 23), 4, time(10), datetime(2026, 3, 27, 4, 30, tzinfo=UTC)),
        # Sunday 02:30 in Berlin does not exist on 29 March: read with the winter offset (03:30 summer time).
        ("Europe/Berlin", date(2026, 3, 23), 6, time(2, 30), datetime(2026, 3, 29, 1, 30, tzinfo=UTC)),
    ],
)
def test_the_due_moment_is_the_local_day_and_time(
    zone: str, week: date, weekday: int, at_time: time, due: datetime
) -> None:
    assert checkin_due_at(week, weekday, at_time, zone) == due
    assert checkin_week(due, zone) == week


def test_a_week_is_named_by_its_monday() -> None:
    with pytest.raises(ValueError, match="not one"):
        week_bounds(date(2026, 3, 25), "Europe/Berlin")
    with pytest.raises(ValueError, match="not one"):
        checkin_due_at(date(2026, 3, 25), 4, time(10), "Europe/Berlin")


def test_a_weekday_is_zero_to_six() -> None:
    with pytest.raises(ValueError, match="0 \\(Monday\\) to 6"):
        checkin_due_at(date(2026, 3, 23), 7, time(10), "Europe/Berlin")


def test_a_naive_moment_is_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        checkin_week(datetime(2026, 3, 23, 10), "Europe/Berlin")


def test_an_organisation_checks_in_on_friday_at_ten_unless_it_says_otherwise() -> None:
    berlin = Organization(name="Berlin", slug="berlin", time_zone="Europe/Berlin")
    assert check_in_due_at(berlin, date(2026, 3, 30)) == utc(2026, 4, 3, 8)
    kolkata = Organization(
        name="Kolkata", slug="kolkata", time_zone="Asia/Kolkata", checkin_weekday=0, checkin_time=time(9, 30)
    )
    assert check_in_due_at(kolkata, date(2026, 3, 23)) == utc(2026, 3, 23, 4)
