"""Cadence and pulse figures: completion per team and per manager, replies within three working days (the
weekend and the organisation's time zone decide), the pulse shown only for five answers or more, and the
remediation threshold."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from goals import checkins
from goals.checkin_reports import (
    IN_TIME,
    LATE,
    WAITING,
    CadenceReport,
    Completion,
    PulseFigure,
    cadence_report,
    completion,
    needs_remediation,
    pulse_figure,
    reply_deadline,
    reply_figures,
    reply_timeliness,
    report_week,
    working_day_after,
)
from okrsignal import services
from okrsignal.models import Membership
from okrsignal.tenancy import tenant_context
from tests.cadence_factories import BERLIN, CadenceWorld, add_member, make_cadence_world, submit

WEEK = date(2025, 5, 12)  # a Monday; the check-in is due on Friday 16 May at 10:00 in Berlin
BERLIN_ZONE = ZoneInfo(BERLIN)
LATER = datetime(2025, 6, 30, tzinfo=UTC)  # every reply window of the week has closed


def berlin(day: int, hour: int, minute: int = 0, month: int = 5) -> datetime:
    return datetime(2025, month, day, hour, minute, tzinfo=BERLIN_ZONE)


# --- Pure arithmetic --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "third_working_day"),
    [
        (date(2025, 5, 16), date(2025, 5, 21)),  # Friday → Wednesday, over the weekend
        (date(2025, 5, 17), date(2025, 5, 21)),  # Saturday → Wednesday
        (date(2025, 5, 18), date(2025, 5, 21)),  # Sunday → Wednesday
        (date(2025, 5, 12), date(2025, 5, 15)),  # Monday → Thursday
        (date(2025, 5, 14), date(2025, 5, 19)),  # Wednesday → Monday
    ],
)
def test_three_working_days_skip_the_weekend(day: date, third_working_day: date) -> None:
    assert working_day_after(day, 3) == third_working_day


def test_a_friday_check_in_may_be_answered_until_the_end_of_wednesday_local_time() -> None:
    submitted = berlin(16, 15)

    assert reply_deadline(submitted, BERLIN) == berlin(22, 0)
    assert reply_timeliness(submitted, berlin(21, 23, 59), time_zone=BERLIN, now=LATER) == IN_TIME
    assert reply_timeliness(submitted, berlin(22, 0, 1), time_zone=BERLIN, now=LATER) == LATE


def test_the_organisations_time_zone_decides_the_day_of_submission() -> None:
    # Sunday 23:30 UTC is already Monday in Berlin (three working days: until Thursday's end), but still
    # Sunday in New York (until Wednesday's end).
    submitted = datetime(2025, 5, 18, 23, 30, tzinfo=UTC)
    thursday_noon = datetime(2025, 5, 22, 10, 0, tzinfo=UTC)

    assert reply_timeliness(submitted, thursday_noon, time_zone=BERLIN, now=LATER) == IN_TIME
    assert reply_timeliness(submitted, thursday_noon, time_zone="America/New_York", now=LATER) == LATE


def test_a_check_in_without_a_reply_is_waiting_until_its_window_closes() -> None:
    submitted = berlin(16, 15)

    assert reply_timeliness(submitted, None, time_zone=BERLIN, now=berlin(21, 12)) == WAITING
    assert reply_timeliness(submitted, None, time_zone=BERLIN, now=berlin(22, 0)) == LATE


def test_waiting_check_ins_count_in_neither_part_of_the_reply_share() -> None:
    figures = reply_figures([IN_TIME, IN_TIME, LATE, WAITING, WAITING])

    assert (figures.in_time, figures.late, figures.waiting) == (2, 1, 2)
    assert figures.share == pytest.approx(2 / 3)
    assert reply_figures([WAITING]).share is None


def test_completion_counts_only_the_expected() -> None:
    assert completion([1, 2, 3, 4], [2, 4, 9]) == Completion(submitted=2, expected=4)
    assert Completion(submitted=2, expected=4).share == 0.5
    assert Completion(submitted=0, expected=0).share is None


def test_four_answers_are_hidden_and_five_are_shown() -> None:
    four = pulse_figure([5, 4, 4, 2])
    five = pulse_figure([5, 4, 4, 2, 1])

    assert four.hidden
    assert four.share is None
    assert not five.hidden
    assert five.share == pytest.approx(3 / 5)
    assert not pulse_figure([]).hidden
    assert pulse_figure([]).share is None


@pytest.mark.parametrize(
    ("scores", "needed"),
    [
        ([5, 1, 1, 2, 3], True),  # 20%
        ([5, 4, 1, 2, 3], False),  # 40% exactly is not below 40%
        ([5, 4, 4, 2, 3], False),  # 60%
        ([1, 1, 1, 1], False),  # too few answers to say anything
    ],
)
def test_remediation_is_needed_only_below_forty_percent(scores: list[int], needed: bool) -> None:
    assert needs_remediation(pulse_figure(scores)) is needed


# --- Figures from the database ----------------------------------------------------------------------


@pytest.fixture
def acme(db: None) -> CadenceWorld:
    return make_cadence_world("Acme")


def report_for(viewer: Membership, week: date = WEEK, now: datetime = LATER) -> CadenceReport:
    with tenant_context(viewer.organization_id):
        viewer = Membership.objects.select_related("organization", "user").get(pk=viewer.pk)
        return cadence_report(viewer, week, now=now)


def reply(check_in_author: Membership, by: Membership, at: datetime) -> None:
    check_in = checkins.CheckIn.objects.get(membership=check_in_author, week=WEEK)
    checkins.check_in_reply(check_in=check_in, by=by, text="Thanks, noted.", at=at)


@pytest.fixture
def week_of_check_ins(acme: CadenceWorld) -> CadenceWorld:
    """In the week of 12 May: Platform (manager, report, indirect, peer): the manager, the report and the
    indirect report check in; the admin, in no team, does not; Sales (six sellers, all reporting to the
    manager): four do. All on Friday at 08:00 Berlin; replies as noted."""
    world = acme.world
    s0, s1, s2, s3 = acme.sellers[:4]
    friday = berlin(16, 8)
    with tenant_context(acme.organization):
        for person in (world.manager, world.report, world.indirect_report, s0, s1, s2, s3):
            submit(person, WEEK, friday)
        reply(world.report, world.manager, berlin(21, 18))  # Wednesday evening: in time
        reply(s0, world.manager, berlin(22, 9))  # Thursday morning: late
        reply(s1, s1, berlin(16, 9))  # the author's own answer is not a manager's reply: late
        reply(s2, world.manager, berlin(19, 11))  # Monday: in time
        reply(world.indirect_report, world.report, berlin(20, 8))  # Tuesday, by the report: in time
        reply(world.manager, world.admin, berlin(16, 12))  # the same day: in time
        # s3 gets no reply at all: late
    return acme


def test_completion_per_team_is_submitted_over_the_active_members(week_of_check_ins: CadenceWorld) -> None:
    report = report_for(week_of_check_ins.world.admin)

    rows = {row.name: row.week for row in report.by_team}
    assert rows == {
        "Acme Platform team": Completion(submitted=3, expected=4),
        "Acme Sales": Completion(submitted=4, expected=6),
        "No team": Completion(submitted=0, expected=1),
    }
    assert [row.name for row in report.by_team][-1] == "No team"
    assert report.completion == Completion(submitted=7, expected=11)


def test_completion_per_manager_is_over_their_direct_reports(week_of_check_ins: CadenceWorld) -> None:
    world = week_of_check_ins.world

    report = report_for(world.admin)

    rows = {row.manager.pk: row.week for row in report.by_manager if row.manager is not None}
    assert rows == {
        world.admin.pk: Completion(submitted=1, expected=2),  # the manager and the peer
        world.manager.pk: Completion(submitted=5, expected=7),  # the report and six sellers
        world.report.pk: Completion(submitted=1, expected=1),  # the indirect report
    }


def test_replies_within_three_working_days_per_manager_and_overall(week_of_check_ins: CadenceWorld) -> None:
    world = week_of_check_ins.world

    report = report_for(world.admin)

    by_manager = {row.manager.pk: row.replies for row in report.by_manager if row.manager is not None}
    assert (by_manager[world.manager.pk].in_time, by_manager[world.manager.pk].late) == (2, 3)
    assert by_manager[world.report.pk].share == 1.0
    assert by_manager[world.admin.pk].share == 1.0
    assert (report.replies.in_time, report.replies.late, report.replies.waiting) == (4, 3, 0)


def test_on_the_monday_after_unanswered_check_ins_are_still_waiting(week_of_check_ins: CadenceWorld) -> None:
    report = report_for(week_of_check_ins.world.admin, now=berlin(19, 12))

    # Answered in time by Monday noon: the manager's (Friday) and the Monday one; the rest are waiting.
    assert (report.replies.in_time, report.replies.late, report.replies.waiting) == (2, 0, 5)


def test_someone_who_joined_after_the_check_in_was_due_is_not_expected(acme: CadenceWorld) -> None:
    with tenant_context(acme.organization):
        newcomer = add_member(acme.world, "Newcomer", team=acme.sales, manager=acme.world.manager)
        Membership.objects.filter(pk=newcomer.pk).update(joined_at=berlin(17, 9))

    report = report_for(acme.world.admin)

    assert {row.name: row.week.expected for row in report.by_team}["Acme Sales"] == 6


def test_someone_deactivated_after_the_week_is_still_counted_for_it(acme: CadenceWorld) -> None:
    with tenant_context(acme.organization):
        leaver = services.membership_deactivate(membership=acme.sellers[5])
        Membership.objects.filter(pk=leaver.pk).update(deactivated_at=berlin(20, 9))
        early_leaver = services.membership_deactivate(membership=acme.sellers[4])
        Membership.objects.filter(pk=early_leaver.pk).update(deactivated_at=berlin(14, 9))

    report = report_for(acme.world.admin)

    assert {row.name: row.week.expected for row in report.by_team}["Acme Sales"] == 5


def test_a_manager_sees_only_the_people_who_report_to_them(week_of_check_ins: CadenceWorld) -> None:
    world = week_of_check_ins.world

    report = report_for(world.manager)

    assert not report.whole_organization
    # Not the admin, the peer or the manager themself: the report and the indirect report, and the sellers.
    assert {row.name: row.week for row in report.by_team} == {
        "Acme Platform team": Completion(submitted=2, expected=2),
        "Acme Sales": Completion(submitted=4, expected=6),
    }
    assert {row.manager.pk for row in report.by_manager if row.manager is not None} == {
        world.manager.pk,
        world.report.pk,
    }


def pulse(member: Membership, score: int, week: date = WEEK) -> None:
    checkins.pulse_answer_record(membership=member, score=score, week=week, at=berlin(16, 9))


def test_a_team_with_four_answers_is_hidden_and_with_five_is_shown(acme: CadenceWorld) -> None:
    world = acme.world
    with tenant_context(acme.organization):
        for seller, score in zip(acme.sellers[:4], (5, 4, 2, 1), strict=True):
            pulse(seller, score)
        for person, score in ((world.report, 5), (world.indirect_report, 4)):
            pulse(person, score)

    hidden = {row.name: row.week for row in report_for(world.admin).pulse_by_team}
    assert hidden["Acme Sales"] == PulseFigure(answers=4, high=2)
    assert hidden["Acme Sales"].hidden
    assert hidden["Acme Sales"].share is None
    assert hidden["Acme Platform team"].hidden

    with tenant_context(acme.organization):
        pulse(acme.sellers[4], 4)
    shown = {row.name: row.week for row in report_for(world.admin).pulse_by_team}["Acme Sales"]
    assert not shown.hidden
    assert shown.share == pytest.approx(3 / 5)


def test_pulse_answers_stay_with_the_team_the_person_was_in(acme: CadenceWorld) -> None:
    world = acme.world
    with tenant_context(acme.organization):
        for seller in acme.sellers[:5]:
            pulse(seller, 5)
        services.membership_update(
            membership=acme.sellers[0], role=acme.sellers[0].role, team=world.team, manager=world.manager
        )

    rows = {row.name: row.week for row in report_for(world.admin).pulse_by_team}
    assert rows["Acme Sales"].answers == 5


def test_the_organisation_below_forty_percent_needs_remediation(acme: CadenceWorld) -> None:
    with tenant_context(acme.organization):
        for seller, score in zip(acme.sellers, (5, 2, 2, 3, 1, 1), strict=True):
            pulse(seller, score)

    report = report_for(acme.world.admin)

    assert report.pulse == PulseFigure(answers=6, high=1)
    assert report.remediation_needed


def test_the_organisation_at_or_above_forty_percent_needs_none(acme: CadenceWorld) -> None:
    with tenant_context(acme.organization):
        for seller, score in zip(acme.sellers[:5], (5, 4, 2, 3, 1), strict=True):
            pulse(seller, score)

    assert not report_for(acme.world.admin).remediation_needed


def test_a_managers_report_never_lays_out_the_organisations_plan(acme: CadenceWorld) -> None:
    with tenant_context(acme.organization):
        for seller in acme.sellers:
            pulse(seller, 1)

    report = report_for(acme.world.manager)

    assert report.pulse.share == 0.0
    assert not report.remediation_needed


def test_the_trend_covers_twelve_weeks_ending_with_the_chosen_one(week_of_check_ins: CadenceWorld) -> None:
    world = week_of_check_ins.world
    with tenant_context(week_of_check_ins.organization):
        submit(world.peer, WEEK - timedelta(days=7), berlin(9, 8))

    report = report_for(world.admin, week=WEEK + timedelta(days=7))

    assert len(report.trend_weeks) == 12
    assert report.trend_weeks[-1] == WEEK + timedelta(days=7)
    assert report.completion_trend[-1] == 0
    assert report.completion_trend[-2] == pytest.approx(7 / 11)
    assert report.completion_trend[-3] == pytest.approx(1 / 11)


def test_a_report_opens_on_the_last_week_whose_check_in_is_due(acme: CadenceWorld) -> None:
    organization = acme.organization

    assert report_week(organization, berlin(16, 9, 59)) == WEEK - timedelta(days=7)
    assert report_week(organization, berlin(16, 10)) == WEEK


def test_the_report_takes_the_same_queries_however_much_there_is(acme: CadenceWorld) -> None:
    def count() -> int:
        with tenant_context(acme.organization):
            viewer = Membership.objects.select_related("organization", "user").get(pk=acme.world.admin.pk)
            with CaptureQueriesContext(connection) as queries:
                cadence_report(viewer, WEEK, now=LATER)
        return len(queries)

    before = count()
    with tenant_context(acme.organization):
        for seller in acme.sellers:
            submit(seller, WEEK, berlin(16, 8))
            pulse(seller, 4)
        for number in range(5):
            add_member(acme.world, f"Extra {number}", team=acme.sales, manager=acme.sellers[0])
    assert count() == before <= 6
