"""Cadence and pulse figures: is the weekly check-in happening, is it answered, can people see the why?

Per week (a week is named by its Monday in the organisation's time zone, ``goals.checkin_weeks``):

- **Completion**: submitted / expected, per team and per manager. Expected are the people active when
  the week's check-in was due (and who had joined by then), grouped by their team or their manager;
  submitted are those of them with a submitted check-in for the week, whenever it came in.
- **Replies**: the share of submitted check-ins that got a reply from someone other than their author
  by the end of the third working day after the day they were submitted (Monday to Friday, in the
  organisation's time zone). A check-in still inside that window without a reply counts as "waiting",
  in neither part of the share.
- **Pulse**: the share of answers of 4 or 5 to "I can explain how my work supports company goals".
  A group with fewer than ``PULSE_MIN_ANSWERS`` answers is never shown, to protect anonymity. Answers are
  grouped by the team the person was in when they answered.

Who sees what: admins see the whole organisation; anyone else sees the people who report to them,
directly or indirectly (the pages let managers in; employees get a 404 before this is reached).

The arithmetic is pure functions over plain values; ``cadence_report`` loads what they need in a fixed
number of queries.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.db.models import Count, F, Min, Q
from django.utils import timezone

from goals.checkin_reminders import CheckInSchedule
from goals.checkin_weeks import checkin_week
from goals.models import (
    CheckIn,
    CheckInReminder,
    CheckInState,
    PulseAnswer,
    RemediationPlan,
    RemediationStep,
)
from okrsignal.models import Membership, Organization, Team
from okrsignal.permissions import report_ids

PULSE_MIN_ANSWERS = 5
HIGH_PULSE_SCORES = frozenset({4, 5})
# Below this share of answers of 4 or 5 across the organisation, the 90-day remediation plan is laid out.
REMEDIATION_THRESHOLD = 0.40
REPLY_WORKING_DAYS = 3
TREND_WEEKS = 12
WEEK = timedelta(days=7)
NO_TEAM = "No team"


# --- Pure arithmetic --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Completion:
    submitted: int
    expected: int

    @property
    def share(self) -> float | None:
        return self.submitted / self.expected if self.expected else None


def completion(expected: Iterable[int], submitted: Iterable[int]) -> Completion:
    """How many of ``expected`` (membership ids) are among ``submitted``."""
    expected_ids = set(expected)
    return Completion(submitted=len(expected_ids & set(submitted)), expected=len(expected_ids))


def working_day_after(day: date, working_days: int) -> date:
    """The ``working_days``-th working day (Monday to Friday) after ``day``."""
    found = 0
    while found < working_days:
        day += timedelta(days=1)
        if day.weekday() < 5:
            found += 1
    return day


def reply_deadline(
    submitted_at: datetime, time_zone: str, working_days: int = REPLY_WORKING_DAYS
) -> datetime:
    """The end of the ``working_days``-th working day after the local day of submission, in UTC.

    A check-in submitted on Friday (or over the weekend) has until the end of Wednesday; on Monday,
    until the end of Thursday.
    """
    zone = ZoneInfo(time_zone)
    last_day = working_day_after(submitted_at.astimezone(zone).date(), working_days)
    return datetime.combine(last_day + timedelta(days=1), time(0), tzinfo=zone).astimezone(UTC)


IN_TIME, LATE, WAITING = "in_time", "late", "waiting"


def reply_timeliness(
    submitted_at: datetime, first_reply_at: datetime | None, *, time_zone: str, now: datetime
) -> str:
    """``in_time`` (a reply came before the deadline), ``late`` (the deadline passed without one) or
    ``waiting`` (no reply yet, and the deadline is still ahead), as it stood at ``now``."""
    deadline = reply_deadline(submitted_at, time_zone)
    if first_reply_at is not None and first_reply_at < deadline and first_reply_at <= now:
        return IN_TIME
    return WAITING if now < deadline else LATE


@dataclass(frozen=True)
class ReplyFigures:
    in_time: int = 0
    late: int = 0
    waiting: int = 0

    @property
    def decided(self) -> int:
        return self.in_time + self.late

    @property
    def share(self) -> float | None:
        return self.in_time / self.decided if self.decided else None


def reply_figures(outcomes: Iterable[str]) -> ReplyFigures:
    counted = list(outcomes)
    return ReplyFigures(
        in_time=counted.count(IN_TIME), late=counted.count(LATE), waiting=counted.count(WAITING)
    )


@dataclass(frozen=True)
class PulseFigure:
    """A group's pulse in a week: how many answered and how many said 4 or 5; hidden below five answers."""

    answers: int
    high: int

    @property
    def hidden(self) -> bool:
        return 0 < self.answers < PULSE_MIN_ANSWERS

    @property
    def share(self) -> float | None:
        """The share answering 4 or 5; None when nobody answered or too few did to show it."""
        if self.answers < PULSE_MIN_ANSWERS:
            return None
        return self.high / self.answers


def pulse_figure(scores: Iterable[int]) -> PulseFigure:
    listed = list(scores)
    return PulseFigure(answers=len(listed), high=sum(1 for score in listed if score in HIGH_PULSE_SCORES))


def needs_remediation(organization_pulse: PulseFigure) -> bool:
    share = organization_pulse.share
    return share is not None and share < REMEDIATION_THRESHOLD


# --- What a report holds ----------------------------------------------------------------------------


@dataclass
class CompletionRow:
    """A team or a manager: this week's completion, and each week's share for the trend (oldest first)."""

    name: str
    week: Completion
    trend: list[float | None]
    team: Team | None = None
    manager: Membership | None = None
    replies: ReplyFigures = field(default_factory=ReplyFigures)


@dataclass
class PulseRow:
    name: str
    week: PulseFigure
    trend: list[PulseFigure]  # one per week of ``CadenceReport.trend_weeks``, oldest first


@dataclass
class CadenceReport:
    organization: Organization
    viewer: Membership
    whole_organization: bool
    week: date
    due_at: datetime
    trend_weeks: list[date]  # oldest first, ending with ``week``
    people_in_scope: int
    completion: Completion
    completion_trend: list[float | None]
    replies: ReplyFigures
    by_team: list[CompletionRow]
    by_manager: list[CompletionRow]
    pulse: PulseFigure
    pulse_trend: list[PulseFigure]
    pulse_by_team: list[PulseRow]
    reminders_sent: dict[str, int]  # by channel, this week's reminders that went out

    @property
    def schedule(self) -> CheckInSchedule:
        return CheckInSchedule.of(self.organization)

    @property
    def remediation_needed(self) -> bool:
        """Below the threshold across the whole organisation (only an organisation-wide report knows)."""
        return self.whole_organization and needs_remediation(self.pulse)

    @property
    def has_check_ins(self) -> bool:
        return any(share is not None and share > 0 for share in self.completion_trend)


# --- Loading ----------------------------------------------------------------------------------------


def report_week(organization: Organization, now: datetime | None = None) -> date:
    """The week a report opens on: this week once its check-in is due, otherwise the week before."""
    now = now or timezone.now()
    schedule = CheckInSchedule.of(organization)
    week = checkin_week(now, schedule.time_zone)
    return week if now >= schedule.due_at(week) else week - WEEK


def _expected_in_week(person: Membership, due_at: datetime) -> bool:
    if person.joined_at >= due_at:
        return False
    if person.is_active:
        return True
    return person.deactivated_at is not None and person.deactivated_at > due_at


def cadence_report(
    viewer: Membership, week: date, *, now: datetime | None = None, trend_weeks: int = TREND_WEEKS
) -> CadenceReport:
    """The cadence and pulse figures ``viewer`` may see for ``week`` and the weeks before it.

    Call inside the organisation's context. Seven queries, however many people and weeks.
    """
    now = now or timezone.now()
    organization = viewer.organization
    schedule = CheckInSchedule.of(organization)
    weeks = [week - WEEK * offset for offset in range(trend_weeks - 1, -1, -1)]
    due = {each: schedule.due_at(each) for each in weeks}
    whole = viewer.is_admin
    scope = None if whole else report_ids(viewer)

    people_query = Membership.objects.select_related("user", "team").filter(
        Q(is_active=True) | Q(deactivated_at__gt=due[weeks[0]])
    )
    if scope is not None:
        people_query = people_query.filter(pk__in=scope)
    people = {person.pk: person for person in people_query}
    managers = dict(people)
    managers.setdefault(viewer.pk, viewer)

    check_ins = CheckIn.objects.filter(state=CheckInState.SUBMITTED, week__in=weeks)
    pulse_answers = PulseAnswer.objects.filter(week__in=weeks)
    reminders = CheckInReminder.objects.filter(week=week, delivered_at__isnull=False)
    if scope is not None:
        check_ins = check_ins.filter(membership_id__in=scope)
        pulse_answers = pulse_answers.filter(membership_id__in=scope)
        reminders = reminders.filter(membership_id__in=scope)
    submitted: dict[date, dict[int, tuple[datetime, datetime | None]]] = defaultdict(dict)
    for membership_id, check_in_week, submitted_at, first_reply_at in check_ins.annotate(
        first_reply_at=Min("replies__created_at", filter=~Q(replies__author_id=F("membership_id")))
    ).values_list("membership_id", "week", "submitted_at", "first_reply_at"):
        if submitted_at is not None:  # always set on a submitted check-in (a check constraint says so)
            submitted[check_in_week][membership_id] = (submitted_at, first_reply_at)
    scores: dict[date, dict[int | None, list[int]]] = defaultdict(lambda: defaultdict(list))
    for answer_week, team_id, score in pulse_answers.values_list("week", "team_id", "score"):
        scores[answer_week][team_id].append(score)
    teams = {team.pk: team for team in Team.objects.order_by("name")}
    reminders_sent = dict(
        reminders.values("channel").annotate(count=Count("id")).values_list("channel", "count")
    )

    expected = {
        each: {pk for pk, person in people.items() if _expected_in_week(person, due[each])} for each in weeks
    }

    def outcomes(each: date, membership_ids: set[int]) -> list[str]:
        return [
            reply_timeliness(submitted_at, first_reply_at, time_zone=schedule.time_zone, now=now)
            for membership_id, (submitted_at, first_reply_at) in submitted[each].items()
            if membership_id in membership_ids
        ]

    def group_rows(key_of: Mapping[int, int | None]) -> dict[int | None, list[Completion]]:
        """Per group of this week (a team, a manager), the completion of each week, oldest first."""
        keys = {key_of[pk] for pk in expected[week] if pk in key_of}
        per_group: dict[int | None, list[Completion]] = {key: [] for key in keys}
        for each in weeks:
            counts: dict[int | None, list[int]] = defaultdict(lambda: [0, 0])
            done = submitted[each]
            for pk in expected[each]:
                if pk in key_of and key_of[pk] in per_group:
                    tally = counts[key_of[pk]]
                    tally[0] += pk in done
                    tally[1] += 1
            for key in keys:
                submitted_count, expected_count = counts.get(key, (0, 0))
                per_group[key].append(Completion(submitted=submitted_count, expected=expected_count))
        return per_group

    team_of = {pk: person.team_id for pk, person in people.items()}
    by_team = [
        CompletionRow(
            name=teams[team_id].name if team_id in teams else NO_TEAM,
            team=teams.get(team_id) if team_id is not None else None,
            week=series[-1],
            trend=[each.share for each in series],
        )
        for team_id, series in group_rows(team_of).items()
    ]
    by_team.sort(key=lambda row: (row.team is None, row.name.lower()))

    manager_of = {pk: person.manager_id for pk, person in people.items() if person.manager_id in managers}
    by_manager = []
    for manager_id, series in group_rows(manager_of).items():
        manager = managers[manager_id]  # type: ignore[index]  # people without a manager are not grouped
        direct_reports = {pk for pk in expected[week] if manager_of.get(pk) == manager_id}
        by_manager.append(
            CompletionRow(
                name=manager.user.full_name,
                manager=manager,
                week=series[-1],
                trend=[each.share for each in series],
                replies=reply_figures(outcomes(week, direct_reports)),
            )
        )
    by_manager.sort(key=lambda row: row.name.lower())

    overall = [completion(expected[each], submitted[each].keys()) for each in weeks]
    pulse_trend = [
        pulse_figure(score for group in scores[each].values() for score in group) for each in weeks
    ]
    pulse_teams = {team_id for each in weeks for team_id in scores[each]}
    pulse_by_team = [
        PulseRow(
            name=teams[team_id].name if team_id in teams else NO_TEAM,
            week=pulse_figure(scores[week].get(team_id, [])),
            trend=[pulse_figure(scores[each].get(team_id, [])) for each in weeks],
        )
        for team_id in pulse_teams
    ]
    pulse_by_team.sort(key=lambda row: (row.name == NO_TEAM, row.name.lower()))
    return CadenceReport(
        organization=organization,
        viewer=viewer,
        whole_organization=whole,
        week=week,
        due_at=due[week],
        trend_weeks=weeks,
        people_in_scope=len(expected[week]),
        completion=overall[-1],
        completion_trend=[each.share for each in overall],
        replies=reply_figures(outcomes(week, expected[week])),
        by_team=by_team,
        by_manager=by_manager,
        pulse=pulse_trend[-1],
        pulse_trend=pulse_trend,
        pulse_by_team=pulse_by_team,
        reminders_sent=reminders_sent,
    )


# --- The remediation plan ---------------------------------------------------------------------------


def open_remediation_plan() -> RemediationPlan | None:
    """The organisation's open 90-day plan with its steps and their owners, if one is under way."""
    plan = (
        RemediationPlan.objects.filter(completed_at__isnull=True).select_related("started_by__user").first()
    )
    if plan is not None:
        plan.step_list = list(  # type: ignore[attr-defined]
            RemediationStep.objects.filter(plan=plan).select_related("owner__user").order_by("position")
        )
    return plan


def latest_remediation_plan() -> RemediationPlan | None:
    return RemediationPlan.objects.order_by("-started_on", "-pk").first()
