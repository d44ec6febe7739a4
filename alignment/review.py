"""Reads for the drift review pages: the cascade coloured by drift, a manager's team, the KPI guardrail board
and the quarter review.

Each page speaks of one cycle and of its *reference week*, as the leader dashboard does
(``alignment.dashboard.reference_week``): the latest week the drift engine has scored. Scores shown are that
week's; findings are those stored for the cycle. Every read runs inside the organisation's tenant context in
a fixed number of queries, however many goals, findings, people and signals there are
(``tests/test_review_pages.py`` pins the budgets).

Who sees what follows the rules of the rest of the product: goals, their drift and KPIs are read by every
member; a person's activity (their share of effort) and their check-ins by the people they report to and,
for the effort, by admins; credited contributions name only the people the viewer may see the work of.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from django.db.models import Exists, OuterRef, Q, Sum
from django.utils import timezone
from django.utils.safestring import SafeString

from alignment import charts
from alignment.cycles import cycle_of
from alignment.dashboard import (
    KIND_LABELS,
    OPEN_STATES,
    Goal,
    SubjectKey,
    cycle_goals,
    reference_week,
    scoring_state,
    subject_key,
    week_start_date,
)
from alignment.goal_drift import ENGINE_EVENT_OFFSET, goal_of_key_result, goal_of_objective, severity_label
from alignment.models import ContributionCredit, DriftScore, Finding, FindingEvent
from alignment.review_charts import effort_bars
from goals import selectors as goal_selectors
from goals.charts import percent
from goals.checkin_selectors import organization_week
from goals.checkin_weeks import week_monday
from goals.models import (
    KPI,
    CheckIn,
    CheckInKeyResultUpdate,
    CheckInState,
    Cycle,
    KeyResultStatus,
    KPIReading,
    Level,
    Objective,
    ObjectiveState,
)
from goals.selectors import KeyResultRow, KPIRow, ObjectiveRow, TaggedObjective
from okrsignal.models import Membership, Team
from okrsignal.permissions import report_ids, visible_membership_ids
from signals_ingest.models import ExecutionSignal, SignalKeyResult

CASCADE_BREAK = "cascade_break"
KPI_CONFLICT = "kpi_conflict"

# --- The reference week -----------------------------------------------------------------------------


@dataclass(frozen=True)
class ReviewWeek:
    """The cycle a page speaks of, and how far scoring has come in it."""

    cycle: Cycle
    week: int
    week_count: int

    @property
    def week_date(self) -> date | None:
        return week_start_date(self.cycle, self.week) if self.week >= 1 else None

    @property
    def is_scored(self) -> bool:
        return self.week >= 1


def review_week(cycle: Cycle, *, now: datetime | None = None) -> ReviewWeek:
    """Two aggregate queries (``scoring_state``)."""
    week = reference_week(cycle, scoring_state(cycle), now=now or timezone.now())
    return ReviewWeek(cycle=cycle, week=week, week_count=cycle_of(cycle).week_count)


# --- Drift as a mark that never relies on colour alone ---------------------------------------------

DRIFT_BANDS: list[tuple[str, str, str]] = [
    ("bad", "High drift", f"{charts.HIGH_SCORE} to 100"),
    ("warn", "Moderate drift", f"{charts.MODERATE_SCORE} to {charts.HIGH_SCORE - 1}"),
    ("mild", "Mild drift", f"{charts.MILD_SCORE} to {charts.MODERATE_SCORE - 1}"),
    ("good", "Healthy", f"0 to {charts.MILD_SCORE - 1}"),
    ("idle", "Not scored", "paused, cancelled, or not scored yet"),
]
DRIFT_LABELS = {tone: label for tone, label, _ in DRIFT_BANDS}


@dataclass(frozen=True)
class DriftMark:
    """A goal's drift score in the reference week with its band in words. A goal that is not active (paused,
    cancelled, draft, done) is not drifting, whatever its score: it carries its state instead."""

    score: int | None
    state_label: str = ""

    @property
    def tone(self) -> str:
        return "idle" if self.state_label else charts.score_tone(self.score)

    @property
    def label(self) -> str:
        if self.state_label:
            return self.state_label
        return DRIFT_LABELS[self.tone] if self.score is not None else "Not scored yet"

    @property
    def display(self) -> str:
        """The score, or nothing to show (the page prints a dash) when there is none or it does not count."""
        return str(self.score) if self.score is not None and not self.state_label else ""


def objective_mark(score: int | None, state: str) -> DriftMark:
    if state == ObjectiveState.ACTIVE:
        return DriftMark(score)
    return DriftMark(score, state_label=ObjectiveState(state).label)


def scores_in_week(cycle: Cycle, week: int) -> dict[SubjectKey, int]:
    """Every goal's drift score in ``week`` (one query; none before the first week is scored)."""
    if week < 1:
        return {}
    return {
        subject_key(key_result_id, objective_id): score
        for key_result_id, objective_id, score in DriftScore.objects.filter(
            cycle=cycle, week=week
        ).values_list("key_result_id", "objective_id", "score")
    }


def findings_by_goal(cycle: Cycle, *, states: Sequence[str] = OPEN_STATES) -> dict[SubjectKey, list[Finding]]:
    """The cycle's findings in ``states`` by goal, most severe first (one query)."""
    grouped: dict[SubjectKey, list[Finding]] = defaultdict(list)
    for finding in Finding.objects.filter(cycle=cycle, state__in=list(states)).order_by(
        "-severity", "kind", "id"
    ):
        grouped[subject_key(finding.key_result_id, finding.objective_id)].append(finding)
    return grouped


def kind_labels(findings: Iterable[Finding]) -> list[tuple[str, str]]:
    """The kinds of ``findings`` as people read them, each once, the most severe first."""
    seen: dict[str, str] = {}
    for finding in sorted(findings, key=lambda finding: -finding.severity):
        seen.setdefault(finding.kind, KIND_LABELS.get(finding.kind, finding.kind))
    return list(seen.items())


# --- 3. The cascade coloured by drift ---------------------------------------------------------------


@dataclass
class KeyResultDrift:
    row: KeyResultRow
    mark: DriftMark
    findings: list[Finding]

    @property
    def kinds(self) -> list[tuple[str, str]]:
        return kind_labels(self.findings)


@dataclass
class ObjectiveDrift:
    """An objective of the cascade with its progress (``row``), its drift and its key results'."""

    row: ObjectiveRow
    mark: DriftMark
    findings: list[Finding]
    key_results: list[KeyResultDrift]
    children: list[ObjectiveDrift] = field(default_factory=list)

    @property
    def objective(self) -> Objective:
        return self.row.objective

    @property
    def is_active(self) -> bool:
        return self.row.objective.state == ObjectiveState.ACTIVE

    @property
    def needs_realignment(self) -> bool:
        """Its parent changed since its owner last confirmed it, or the engine sees a break in its link."""
        if not self.is_active:
            return False
        return self.row.objective.needs_realignment or any(f.kind == CASCADE_BREAK for f in self.findings)

    @property
    def all_findings(self) -> list[Finding]:
        return [*self.findings, *(finding for line in self.key_results for finding in line.findings)]

    @property
    def open_findings(self) -> int:
        return len(self.all_findings)

    @property
    def kinds(self) -> list[tuple[str, str]]:
        return kind_labels(self.all_findings)

    @property
    def has_content(self) -> bool:
        return bool(self.key_results or self.children)


@dataclass
class PersonSight:
    person: Membership
    sentences: list[str]
    open_findings: int


@dataclass
class TeamMap:
    """A team's alignment map (``goals.selectors.team_alignment``) with the drift of each objective."""

    team: Team
    company_objectives: list[tuple[ObjectiveDrift, list[ObjectiveDrift]]]
    unconnected: list[ObjectiveDrift]
    kpis: list[KPIRow]
    people: list[PersonSight]

    @property
    def has_objectives(self) -> bool:
        return bool(self.company_objectives or self.unconnected)


@dataclass(frozen=True)
class ToneCount:
    tone: str
    label: str
    count: int


@dataclass
class CascadePage:
    week: ReviewWeek
    roots: list[ObjectiveDrift]
    tones: list[ToneCount]
    needs_realignment: int
    objectives: int
    key_results: int
    expected_percent: str
    teams: list[Team]
    team_map: TeamMap | None

    @property
    def cycle(self) -> Cycle:
        return self.week.cycle

    @property
    def drifting(self) -> int:
        return sum(count.count for count in self.tones if count.tone in ("bad", "warn"))


def _drift_tree(
    tree: goal_selectors.GoalTree,
    scores: Mapping[SubjectKey, int],
    findings: Mapping[SubjectKey, list[Finding]],
) -> tuple[list[ObjectiveDrift], dict[int, ObjectiveDrift]]:
    by_id: dict[int, ObjectiveDrift] = {}

    def build(row: ObjectiveRow) -> ObjectiveDrift:
        objective = row.objective
        live = objective.state == ObjectiveState.ACTIVE
        node = ObjectiveDrift(
            row=row,
            mark=objective_mark(scores.get(("objective", objective.pk)), objective.state),
            findings=list(findings.get(("objective", objective.pk), [])) if live else [],
            key_results=[
                KeyResultDrift(
                    row=kr_row,
                    mark=objective_mark(scores.get(("key_result", kr_row.key_result.pk)), objective.state),
                    findings=list(findings.get(("key_result", kr_row.key_result.pk), [])) if live else [],
                )
                for kr_row in row.key_results
            ],
        )
        node.children = [build(child) for child in row.children]
        by_id[objective.pk] = node
        return node

    return [build(root) for root in tree.roots], by_id


def _people_sights(
    lines: Sequence[goal_selectors.PersonLineOfSight], nodes: Iterable[ObjectiveDrift]
) -> list[PersonSight]:
    open_by_owner: dict[int, int] = defaultdict(int)
    for node in nodes:
        if node.row.objective.owner_id is not None:
            open_by_owner[node.row.objective.owner_id] += len(node.findings)
        for line in node.key_results:
            if line.row.key_result.owner_id is not None:
                open_by_owner[line.row.key_result.owner_id] += len(line.findings)
    return [
        PersonSight(
            person=line.person, sentences=line.sentences, open_findings=open_by_owner.get(line.person.pk, 0)
        )
        for line in lines
    ]


def default_team(teams: Sequence[Team], viewer: Membership, *, with_objectives: set[int]) -> Team | None:
    """The team a map opens on: the viewer's own if it has team objectives in the cycle, else the first that
    has, else the viewer's, else the first."""
    ranked = sorted(
        teams, key=lambda team: (team.pk not in with_objectives, team.pk != viewer.team_id, team.name.lower())
    )
    return ranked[0] if ranked else None


def cascade_page(
    viewer: Membership, cycle: Cycle, *, team_id: int | None = None, now: datetime | None = None
) -> CascadePage:
    """The cycle's company → team → individual tree coloured by drift, and one team's alignment map with
    each member's line of sight. ``LookupError`` when ``team_id`` names no team of the organisation."""
    week = review_week(cycle, now=now)
    tree = goal_selectors.goal_tree(cycle)
    scores = scores_in_week(cycle, week.week)
    findings = findings_by_goal(cycle)
    roots, by_id = _drift_tree(tree, scores, findings)
    teams = list(Team.objects.select_related("lead__user").order_by("name"))
    if team_id is not None:
        team = next((each for each in teams if each.pk == team_id), None)
        if team is None:
            raise LookupError(team_id)
    else:
        team = default_team(
            teams,
            viewer,
            with_objectives={
                node.row.objective.team_id
                for node in by_id.values()
                if node.row.objective.level == Level.TEAM and node.row.objective.team_id is not None
            },
        )
    team_map = None
    if team is not None:
        alignment = goal_selectors.team_alignment(team, cycle, viewer=viewer)
        team_map = TeamMap(
            team=team,
            company_objectives=[
                (by_id[company.objective.pk], [by_id[row.objective.pk] for row in rows])
                for company, rows in alignment.company_objectives
            ],
            unconnected=[by_id[row.objective.pk] for row in alignment.unconnected],
            kpis=alignment.kpis,
            people=_people_sights(alignment.people, by_id.values()),
        )
    live = [node for node in by_id.values() if node.is_active]
    marks = [
        mark for node in by_id.values() for mark in (node.mark, *(line.mark for line in node.key_results))
    ]
    tones = [
        ToneCount(tone=tone, label=label, count=sum(1 for mark in marks if mark.tone == tone))
        for tone, label, _ in DRIFT_BANDS
    ]
    return CascadePage(
        week=week,
        roots=roots,
        tones=tones,
        needs_realignment=sum(1 for node in live if node.needs_realignment),
        objectives=len(by_id),
        key_results=sum(len(node.key_results) for node in by_id.values()),
        expected_percent=percent(tree.expected),
        teams=teams,
        team_map=team_map,
    )


# --- 4. A manager's team ----------------------------------------------------------------------------

DIRECT = "direct"
INDIRECT = "indirect"
OUTSIDE = "outside"
# Check-in weeks shown behind "this week", the oldest first.
CHECK_IN_WEEKS_SHOWN = 4
STATUS_RANK: dict[str, int] = {
    KeyResultStatus.BLOCKED.value: 3,
    KeyResultStatus.AT_RISK.value: 2,
    KeyResultStatus.ON_TRACK.value: 1,
}


@dataclass(frozen=True)
class WeeklyEffort:
    """One week of someone's activity: its weight on goal-linked work against all of it."""

    week: int
    linked: float
    total: float

    @property
    def share(self) -> float | None:
        return self.linked / self.total if self.total > 0 else None


@dataclass
class CheckInMark:
    """Whether someone checked in for the status week and, for the viewer who may read it, what it said."""

    week: date
    submitted: bool
    recent: list[tuple[date, bool]]  # the weeks before and including ``week``, oldest first
    check_in_id: int | None = None  # set only when the viewer may read the check-in
    worst_status: str | None = None

    @property
    def recent_submitted(self) -> int:
        return sum(1 for _, submitted in self.recent if submitted)

    @property
    def status_label(self) -> str:
        return KeyResultStatus(self.worst_status).label if self.worst_status else ""


@dataclass(frozen=True)
class PersonFinding:
    goal: Goal
    finding: Finding

    @property
    def kind_label(self) -> str:
        return KIND_LABELS.get(self.finding.kind, self.finding.kind)


@dataclass
class TeamMember:
    person: Membership
    relation: str
    effort: list[WeeklyEffort]
    chart: SafeString
    check_in: CheckInMark
    findings: list[PersonFinding]
    may_open_agenda: bool

    @property
    def active_weeks(self) -> list[WeeklyEffort]:
        return [week for week in self.effort if week.total > 0]

    @property
    def latest(self) -> WeeklyEffort | None:
        return self.effort[-1] if self.effort else None

    @property
    def latest_percent(self) -> str:
        latest = self.latest
        return percent(latest.share) if latest is not None else percent(None)

    @property
    def cycle_share(self) -> float | None:
        """The share over every week so far, each week weighed by its activity."""
        total = sum(week.total for week in self.effort)
        return sum(week.linked for week in self.effort) / total if total > 0 else None

    @property
    def cycle_percent(self) -> str:
        return percent(self.cycle_share)

    @property
    def change_points(self) -> int | None:
        """The latest week's share against the cycle so far, in percentage points."""
        latest, overall = self.latest, self.cycle_share
        if latest is None or latest.share is None or overall is None:
            return None
        return round(latest.share * 100) - round(overall * 100)

    @property
    def change_size(self) -> int | None:
        change = self.change_points
        return abs(change) if change is not None else None


@dataclass
class ReportGroup:
    """The people who report to one manager."""

    manager: Membership | None
    is_viewer: bool
    members: list[TeamMember]


@dataclass
class TeamPage:
    week: ReviewWeek | None
    has_reports: bool
    sees_everyone: bool
    check_in_week: date | None
    is_current_week: bool
    groups: list[ReportGroup]

    @property
    def cycle(self) -> Cycle | None:
        return self.week.cycle if self.week is not None else None

    @property
    def members(self) -> list[TeamMember]:
        return [member for group in self.groups for member in group.members]

    @property
    def people(self) -> int:
        return len(self.members)

    @property
    def checked_in(self) -> int:
        return sum(1 for member in self.members if member.check_in.submitted)

    @property
    def with_findings(self) -> int:
        return sum(1 for member in self.members if member.findings)

    @property
    def open_findings(self) -> int:
        return sum(len(member.findings) for member in self.members)

    @property
    def linked_share(self) -> float | None:
        """The latest week's share of everyone's activity on goal-linked work."""
        latest = [member.latest for member in self.members if member.latest is not None]
        total = sum(week.total for week in latest)
        return sum(week.linked for week in latest) / total if total > 0 else None

    @property
    def linked_percent(self) -> str:
        return percent(self.linked_share)


def weekly_effort(cycle: Cycle, people: Sequence[int], *, weeks: int) -> dict[int, list[WeeklyEffort]]:
    """For each person, each cycle week up to ``weeks``: the weight of their signals that count toward a key
    result, against the weight of all their signals (one aggregate query)."""
    if not people or weeks < 1:
        return {}
    engine_cycle = cycle_of(cycle)
    linked = Exists(SignalKeyResult.objects.filter(signal_id=OuterRef("pk")))
    sums: dict[str, Sum] = {}
    for week in range(1, weeks + 1):
        in_week = Q(
            occurred_at__gte=engine_cycle.week_start(week), occurred_at__lt=engine_cycle.week_start(week + 1)
        )
        sums[f"all_{week}"] = Sum("weight", filter=in_week)
        sums[f"linked_{week}"] = Sum("weight", filter=in_week & Q(is_linked=True))
    rows = (
        ExecutionSignal.objects.filter(
            occurred_at__gte=engine_cycle.starts_at,
            occurred_at__lt=engine_cycle.week_start(weeks + 1),
            actor__membership_id__in=list(people),
        )
        .alias(is_linked=linked)
        .values("actor__membership_id")
        .annotate(**sums)
        .order_by()
    )
    found: dict[int, list[WeeklyEffort]] = {}
    for row in rows:
        sums_of: Mapping[str, Any] = row
        found[sums_of["actor__membership_id"]] = [
            WeeklyEffort(
                week=week, linked=sums_of[f"linked_{week}"] or 0.0, total=sums_of[f"all_{week}"] or 0.0
            )
            for week in range(1, weeks + 1)
        ]
    empty = [WeeklyEffort(week=week, linked=0.0, total=0.0) for week in range(1, weeks + 1)]
    return {person: found.get(person, empty) for person in people}


def status_week(viewer: Membership, cycle: Cycle, *, now: datetime | None = None) -> date:
    """The check-in week a page about ``cycle`` reports on: this week while the cycle runs, else the cycle's
    nearest week (its last once it is over, its first before it starts)."""
    this_week = organization_week(viewer, now)
    first, last = week_monday(cycle.start), week_monday(cycle.end)
    return min(max(this_week, first), last)


def _check_in_marks(people: Sequence[int], readable: set[int], week: date) -> dict[int, CheckInMark]:
    """Submitted check-ins of the last few weeks (one query) and the key result statuses of the week's, for
    the check-ins the viewer may read (one more)."""
    weeks = [week - timedelta(weeks=back) for back in range(CHECK_IN_WEEKS_SHOWN - 1, -1, -1)]
    submitted: dict[int, dict[date, int]] = defaultdict(dict)
    for membership_id, check_in_week, check_in_id in CheckIn.objects.filter(
        membership_id__in=list(people), week__in=weeks, state=CheckInState.SUBMITTED
    ).values_list("membership_id", "week", "id"):
        submitted[membership_id][check_in_week] = check_in_id
    readable_ids = {
        submitted[person][week]: person
        for person in people
        if person in readable and week in submitted[person]
    }
    worst: dict[int, str] = {}
    if readable_ids:
        for check_in_id, status in CheckInKeyResultUpdate.objects.filter(
            check_in_id__in=list(readable_ids)
        ).values_list("check_in_id", "status"):
            person = readable_ids[check_in_id]
            if STATUS_RANK.get(status, 0) > STATUS_RANK.get(worst.get(person, ""), 0):
                worst[person] = status
    marks = {}
    for person in people:
        mine = submitted.get(person, {})
        this_week = mine.get(week)
        marks[person] = CheckInMark(
            week=week,
            submitted=this_week is not None,
            recent=[(each, each in mine) for each in weeks],
            check_in_id=this_week if person in readable else None,
            worst_status=worst.get(person),
        )
    return marks


def _reporting_order(viewer: Membership, people: Sequence[Membership]) -> list[int | None]:
    """Managers in the order their groups are shown: the viewer, then down the reporting line breadth
    first, then everyone else's managers from the top of the organisation; ``None`` for people with no
    manager at all."""
    reports_of: dict[int | None, list[Membership]] = defaultdict(list)
    for person in people:
        reports_of[person.manager_id].append(person)
    order: list[int | None] = []
    seen: set[int] = set()

    def walk(start: int) -> None:
        frontier = [start]
        while frontier:
            following = []
            for manager_id in frontier:
                if manager_id in seen:
                    continue
                seen.add(manager_id)
                if reports_of.get(manager_id):
                    order.append(manager_id)
                following += [person.pk for person in reports_of.get(manager_id, [])]
            frontier = following

    walk(viewer.pk)
    known = {person.pk for person in people} | {viewer.pk}
    tops = sorted(
        {person.manager_id for person in people if person.manager_id not in known and person.manager_id}
    )
    for manager_id in tops:
        walk(manager_id)
    for person in sorted(people, key=lambda each: each.user.full_name.lower()):
        if person.manager_id is None:
            walk(person.pk)
    if reports_of.get(None):
        order.append(None)
    return order


def team_page(viewer: Membership, cycle: Cycle | None, *, now: datetime | None = None) -> TeamPage:
    """Everyone who reports to ``viewer``, directly or through others (admins: everyone), with their weekly
    share of effort on goal-linked work in ``cycle``, their check-in for the status week, the open findings
    on the goals they own, and whether the viewer may open their 1:1 agenda. Fixed number of queries."""
    reports = report_ids(viewer)
    sees_everyone = viewer.is_admin
    if cycle is None or not (reports or sees_everyone):
        return TeamPage(
            week=None,
            has_reports=bool(reports),
            sees_everyone=sees_everyone,
            check_in_week=None,
            is_current_week=False,
            groups=[],
        )
    week = review_week(cycle, now=now)
    people_query = Membership.objects.filter(is_active=True).exclude(pk=viewer.pk)
    if not sees_everyone:
        people_query = people_query.filter(pk__in=reports)
    people = list(people_query.select_related("user", "team", "manager__user"))
    ids = [person.pk for person in people]
    effort_weeks = min(max(week.week, 1), week.week_count)
    effort = weekly_effort(cycle, ids, weeks=effort_weeks)
    check_in_week = status_week(viewer, cycle, now=now)
    marks = _check_in_marks(ids, reports, check_in_week)
    goals = cycle_goals(cycle)
    owned: dict[int, list[PersonFinding]] = defaultdict(list)
    for key, findings in findings_by_goal(cycle).items():
        goal = goals.get(key)
        if goal is None or not goal.is_live or goal.owner_id is None:
            continue
        owned[goal.owner_id] += [PersonFinding(goal=goal, finding=finding) for finding in findings]

    def member(person: Membership) -> TeamMember:
        weeks = effort.get(person.pk, [])
        shares = [(each.week, each.share) for each in weeks]
        latest = weeks[-1].share if weeks else None
        described = "; ".join(f"week {each.week} {percent(each.share)}" for each in weeks) or "no weeks yet"
        latest_text = f", latest {percent(latest)}" if latest is not None else ""
        if person.pk in reports:
            relation = DIRECT if person.manager_id == viewer.pk else INDIRECT
        else:
            relation = OUTSIDE
        return TeamMember(
            person=person,
            relation=relation,
            effort=weeks,
            chart=effort_bars(
                shares,
                week_count=week.week_count,
                label=(
                    f"Share of {person.user.full_name}'s activity on goal-linked work by week"
                    f"{latest_text}: {described}"
                ),
            ),
            check_in=marks[person.pk],
            findings=sorted(owned.get(person.pk, []), key=lambda line: -line.finding.severity),
            may_open_agenda=person.pk in reports,
        )

    by_manager: dict[int | None, list[TeamMember]] = defaultdict(list)
    for person in sorted(people, key=lambda each: (each.user.full_name.lower(), each.pk)):
        by_manager[person.manager_id].append(member(person))
    managers = {person.pk: person for person in people}
    managers[viewer.pk] = viewer
    groups = [
        ReportGroup(
            manager=managers.get(manager_id) if manager_id is not None else None,
            is_viewer=manager_id == viewer.pk,
            members=by_manager[manager_id],
        )
        for manager_id in _reporting_order(viewer, people)
        if by_manager.get(manager_id)
    ]
    return TeamPage(
        week=week,
        has_reports=bool(reports),
        sees_everyone=sees_everyone,
        check_in_week=check_in_week,
        is_current_week=check_in_week == organization_week(viewer, now),
        groups=groups,
    )


# --- 5. The KPI guardrail board ---------------------------------------------------------------------

STATUS_ORDER = {"red": 0, "amber": 1, "green": 2, None: 3}


@dataclass
class GuardedObjective:
    """An objective a KPI guards, in the page's cycle: its progress, its drift and its open findings."""

    tagged: TaggedObjective
    mark: DriftMark
    findings: list[Finding]
    conflict: Finding | None

    @property
    def kinds(self) -> list[tuple[str, str]]:
        return kind_labels(self.findings)


@dataclass
class GuardrailRow:
    kpi_row: KPIRow
    objectives: list[GuardedObjective]
    elsewhere: int  # objectives of other cycles it guards
    conflicts: list[Finding]

    @property
    def kpi(self) -> KPI:
        return self.kpi_row.kpi

    @property
    def in_conflict(self) -> bool:
        return bool(self.conflicts)

    @property
    def status_label(self) -> str:
        status = self.kpi_row.status
        return status.capitalize() if status else "No readings"


@dataclass
class ConflictLine:
    """A KPI conflict: the KPIs guarding an objective read green while the objective is off track."""

    finding: Finding
    goal: Goal
    mark: DriftMark
    kpis: list[KPIRow]

    @property
    def is_acknowledged(self) -> bool:
        return self.finding.state == Finding.State.ACKNOWLEDGED


@dataclass
class GuardrailPage:
    week: ReviewWeek
    rows: list[GuardrailRow]
    conflicts: list[ConflictLine]

    @property
    def cycle(self) -> Cycle:
        return self.week.cycle

    def count(self, status: str | None) -> int:
        return sum(1 for row in self.rows if row.kpi_row.status == status)

    @property
    def green(self) -> int:
        return self.count("green")

    @property
    def amber(self) -> int:
        return self.count("amber")

    @property
    def red(self) -> int:
        return self.count("red")

    @property
    def unread(self) -> int:
        return self.count(None)

    @property
    def untagged(self) -> int:
        return sum(1 for row in self.rows if not row.objectives and not row.elsewhere)


def kpi_guardrails(cycle: Cycle, *, now: datetime | None = None) -> GuardrailPage:
    """Every KPI with its thresholds, latest status and readings, beside the objectives of ``cycle`` it
    guards with their progress and drift; KPI conflicts flagged on both sides (a fixed number of queries)."""
    week = review_week(cycle, now=now)
    kpi_rows = goal_selectors.kpi_board()
    scores = scores_in_week(cycle, week.week)
    findings = findings_by_goal(cycle)
    conflicts = [
        finding
        for findings_of in findings.values()
        for finding in findings_of
        if finding.kind == KPI_CONFLICT
    ]
    readings = [
        ref["ref"]
        for finding in conflicts
        for ref in finding.evidence
        if isinstance(ref, dict) and ref.get("kind") == "kpi_reading" and isinstance(ref.get("ref"), int)
    ]
    kpi_of_reading = (
        dict(KPIReading.objects.filter(pk__in=readings).values_list("pk", "kpi_id")) if readings else {}
    )
    rows_by_kpi = {row.kpi.pk: row for row in kpi_rows}
    conflict_kpis: dict[int, list[int]] = {}
    for finding in conflicts:
        named = {
            kpi_of_reading[ref["ref"]]
            for ref in finding.evidence
            if isinstance(ref, dict) and ref.get("ref") in kpi_of_reading and ref.get("kind") == "kpi_reading"
        }
        if not named:  # readings since deleted: every KPI that guards the objective
            named = {
                row.kpi.pk
                for row in kpi_rows
                if any(tagged.objective.pk == finding.objective_id for tagged in row.objectives)
            }
        conflict_kpis[finding.pk] = sorted(
            named, key=lambda pk: rows_by_kpi[pk].kpi.name if pk in rows_by_kpi else ""
        )
    rows = []
    for kpi_row in kpi_rows:
        guarded = []
        for tagged in kpi_row.objectives:
            if tagged.objective.cycle_id != cycle.pk:
                continue
            objective = tagged.objective
            live = objective.state == ObjectiveState.ACTIVE
            own = list(findings.get(("objective", objective.pk), [])) if live else []
            conflict = next(
                (f for f in own if f.kind == KPI_CONFLICT and kpi_row.kpi.pk in conflict_kpis.get(f.pk, [])),
                None,
            )
            guarded.append(
                GuardedObjective(
                    tagged=tagged,
                    mark=objective_mark(scores.get(("objective", objective.pk)), objective.state),
                    findings=own,
                    conflict=conflict,
                )
            )
        rows.append(
            GuardrailRow(
                kpi_row=kpi_row,
                objectives=guarded,
                elsewhere=sum(1 for tagged in kpi_row.objectives if tagged.objective.cycle_id != cycle.pk),
                conflicts=[line.conflict for line in guarded if line.conflict is not None],
            )
        )
    rows.sort(
        key=lambda row: (not row.in_conflict, STATUS_ORDER.get(row.kpi_row.status, 3), row.kpi.name.lower())
    )
    objectives = {
        tagged.tagged.objective.pk: tagged.tagged.objective for row in rows for tagged in row.objectives
    }
    lines = []
    for finding in sorted(conflicts, key=lambda finding: (finding.onset_week, finding.pk)):
        conflicted = objectives.get(finding.objective_id or 0)
        if conflicted is None or conflicted.state != ObjectiveState.ACTIVE:
            continue
        lines.append(
            ConflictLine(
                finding=finding,
                goal=goal_of_objective(conflicted),
                mark=objective_mark(scores.get(("objective", conflicted.pk)), conflicted.state),
                kpis=[rows_by_kpi[pk] for pk in conflict_kpis.get(finding.pk, []) if pk in rows_by_kpi],
            )
        )
    return GuardrailPage(week=week, rows=rows, conflicts=lines)


# --- 6. The quarter review --------------------------------------------------------------------------

# What each kind of drift invites a team to talk about: questions, not verdicts.
CONVERSATION_PROMPTS = {
    "priority_shift": "What drew the effort elsewhere, and was it the right call at the time?",
    "stale_progress": "What got in the way of moving it, and does the goal still matter as written?",
    "status_contradiction": "What did the people reporting see that the activity did not show, or the other "
    "way round?",
    "cascade_break": "Which company objective does it serve, and who needed to know when it changed?",
    "kpi_conflict": "Do these KPIs guard what the objective is about, or does it need another measure?",
    "ownership_gap": "Who was answerable for it, and what made that hard?",
    "dependency_friction": "What would have unblocked it sooner, and who needed to be in the room?",
}


@dataclass
class FindingStory:
    """One finding over the quarter: when it began, what the engine saw, and how it ended (so far)."""

    finding: Finding
    goal: Goal
    events: list[FindingEvent]
    detected_week: int
    ended_week: int | None
    # An objective's review asks each kind's question once, beside the first finding of that kind.
    asks: bool = True

    @property
    def kind_label(self) -> str:
        return KIND_LABELS.get(self.finding.kind, self.finding.kind)

    @property
    def severity_label(self) -> str:
        return severity_label(self.finding.severity)

    @property
    def prompt(self) -> str:
        return CONVERSATION_PROMPTS.get(self.finding.kind, "What happened here, and what would we do again?")

    @property
    def is_resolved(self) -> bool:
        return self.finding.state == Finding.State.RESOLVED

    @property
    def span(self) -> str:
        onset = self.finding.onset_week
        if self.ended_week is None:
            return f"From week {onset}, still open"
        if self.ended_week <= onset:
            return f"Week {onset}"
        return f"Weeks {onset} to {self.ended_week}"

    @property
    def outcome(self) -> str:
        """How it ended, in neutral words."""
        finding = self.finding
        if finding.state == Finding.State.RESOLVED:
            if finding.resolved_by is None:
                return f"Eased in week {self.ended_week}: the engine no longer saw its cause."
            return f"Resolved by {finding.resolved_by.user.full_name} in week {self.ended_week}."
        if finding.state == Finding.State.ACKNOWLEDGED:
            who = f" by {finding.acknowledged_by.user.full_name}" if finding.acknowledged_by else ""
            return f"Acknowledged{who}; the engine still sees it."
        return "Still open; not acknowledged yet."

    @property
    def history(self) -> list[tuple[int, str]]:
        """Each change of the finding's state, by cycle week: "detected", "acknowledged by ...", etc."""
        lines = []
        for event in self.events:
            week = _event_week(self.finding.cycle, event, event.at) or 1
            action = event.get_action_display().lower()
            lines.append((week, f"{action} by {event.by.user.full_name}" if event.by is not None else action))
        return lines

    @property
    def outcome_tone(self) -> str:
        return {"resolved": "good", "acknowledged": "warn"}.get(self.finding.state, "bad")

    @property
    def note(self) -> str:
        return (
            self.finding.state_note if self.finding.resolved_by_id or self.finding.acknowledged_by_id else ""
        )


@dataclass(frozen=True)
class CreditLine:
    credit: ContributionCredit
    goal: Goal

    @property
    def share_percent(self) -> str:
        return percent(self.credit.share)

    @property
    def weeks(self) -> str:
        weeks = sorted(int(week) for week in self.credit.weeks)
        if not weeks:
            return ""
        if weeks == list(range(weeks[0], weeks[-1] + 1)):
            return f"week {weeks[0]}" if len(weeks) == 1 else f"weeks {weeks[0]} to {weeks[-1]}"
        return "weeks " + ", ".join(str(week) for week in weeks)


@dataclass
class PersonCredits:
    person: Membership
    lines: list[CreditLine]


@dataclass
class ObjectiveStory:
    node: ObjectiveRow
    depth: int
    mark: DriftMark
    peak: tuple[int, int] | None  # (score, week)
    sparkline: SafeString
    stories: list[FindingStory]
    credits: list[PersonCredits]
    hidden_credits: int  # credited people whose work the viewer may not see

    @property
    def goal(self) -> Goal:
        return goal_of_objective(self.node.objective)

    @property
    def drifted(self) -> bool:
        return bool(self.stories)

    @property
    def first_onset(self) -> FindingStory | None:
        return min(self.stories, key=lambda story: (story.finding.onset_week, story.finding.pk), default=None)

    @property
    def open_stories(self) -> list[FindingStory]:
        return [story for story in self.stories if not story.is_resolved]


@dataclass
class QuarterReview:
    week: ReviewWeek
    objectives: list[ObjectiveStory]
    people: list[PersonCredits]
    hidden_people: int
    is_over: bool

    @property
    def cycle(self) -> Cycle:
        return self.week.cycle

    @property
    def drifted(self) -> list[ObjectiveStory]:
        return [story for story in self.objectives if story.drifted]

    @property
    def steady(self) -> list[ObjectiveStory]:
        return [story for story in self.objectives if not story.drifted]

    @property
    def findings(self) -> int:
        return sum(len(story.stories) for story in self.objectives)

    @property
    def resolved(self) -> int:
        return sum(1 for story in self.objectives for line in story.stories if line.is_resolved)

    @property
    def still_open(self) -> int:
        return self.findings - self.resolved


def _event_week(cycle: Cycle, event: FindingEvent | None, at: datetime | None) -> int | None:
    """The cycle week something happened in. The engine stamps what it does with the end of the week it
    evaluated, which belongs to that week."""
    if at is None:
        return None
    engine_cycle = cycle_of(cycle)
    if event is not None and event.by_id is None:
        at = at - ENGINE_EVENT_OFFSET
    return min(max(engine_cycle.week_of(at), 1), engine_cycle.week_count)


def quarter_review(viewer: Membership, cycle: Cycle, *, now: datetime | None = None) -> QuarterReview:
    """Per objective of ``cycle``, in cascade order: every finding on it or its key results over the quarter
    (resolved ones too) with its onset, explanation and how it ended, its drift score by week, and the
    contributions credited to people outside its key results, grouped by person. Fixed number of queries."""
    week = review_week(cycle, now=now)
    tree = goal_selectors.goal_tree(cycle)
    objective_of_key_result = {
        kr_row.key_result.pk: row.objective.pk for row in tree.rows.values() for kr_row in row.key_results
    }
    key_results = {
        kr_row.key_result.pk: kr_row.key_result for row in tree.rows.values() for kr_row in row.key_results
    }
    findings = list(
        Finding.objects.filter(cycle=cycle)
        .select_related("acknowledged_by__user", "resolved_by__user")
        .order_by("onset_week", "-severity", "id")
    )
    events: dict[int, list[FindingEvent]] = defaultdict(list)
    for event in (
        FindingEvent.objects.filter(finding__cycle=cycle).select_related("by__user").order_by("at", "id")
    ):
        events[event.finding_id].append(event)
    stories: dict[int, list[FindingStory]] = defaultdict(list)
    for finding in findings:
        finding.cycle = cycle  # read by each story's weeks, without a query per finding
        if finding.key_result_id is not None:
            objective_id = objective_of_key_result.get(finding.key_result_id)
            goal = (
                goal_of_key_result(key_results[finding.key_result_id]) if objective_id is not None else None
            )
        else:
            objective_id = finding.objective_id
            row = tree.rows.get(objective_id or 0)
            goal = goal_of_objective(row.objective) if row is not None else None
        if objective_id is None or goal is None:
            continue
        history = events.get(finding.pk, [])
        detected = next((event for event in history if event.action == FindingEvent.Action.DETECTED), None)
        resolved = next(
            (event for event in reversed(history) if event.action == FindingEvent.Action.RESOLVED), None
        )
        stories[objective_id].append(
            FindingStory(
                finding=finding,
                goal=goal,
                events=history,
                detected_week=finding.first_detected_week,
                ended_week=_event_week(cycle, resolved or detected, finding.resolved_at)
                if finding.state == Finding.State.RESOLVED
                else None,
            )
        )

    series: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for objective_id, score_week, score in (
        DriftScore.objects.filter(cycle=cycle, objective__isnull=False, week__lte=max(week.week, 1))
        .order_by("week")
        .values_list("objective_id", "week", "score")
    ):
        series[objective_id].append((score_week, score))

    visible = visible_membership_ids(viewer)
    credits: dict[int, dict[int, PersonCredits]] = defaultdict(dict)
    people: dict[int, PersonCredits] = {}
    hidden: dict[int, set[int]] = defaultdict(set)
    hidden_people: set[int] = set()
    for credit in (
        ContributionCredit.objects.filter(cycle=cycle)
        .select_related("person__user", "person__team")
        .order_by("-share", "id")
    ):
        objective_id = objective_of_key_result.get(credit.key_result_id)
        if objective_id is None:
            continue
        if visible is not None and credit.person_id not in visible:
            hidden[objective_id].add(credit.person_id)
            hidden_people.add(credit.person_id)
            continue
        line = CreditLine(credit=credit, goal=goal_of_key_result(key_results[credit.key_result_id]))
        credits[objective_id].setdefault(
            credit.person_id, PersonCredits(person=credit.person, lines=[])
        ).lines.append(line)
        people.setdefault(credit.person_id, PersonCredits(person=credit.person, lines=[])).lines.append(line)

    for told in stories.values():
        asked: set[str] = set()
        for story in told:
            story.asks = story.finding.kind not in asked
            asked.add(story.finding.kind)

    scores_now = scores_in_week(cycle, week.week)
    objectives = []
    for row, depth in tree.walk():
        objective = row.objective
        points = [point for point in series.get(objective.pk, []) if point[0] <= max(week.week, 1)]
        peak = max(((score, score_week) for score_week, score in points), default=None)
        objectives.append(
            ObjectiveStory(
                node=row,
                depth=depth,
                mark=objective_mark(scores_now.get(("objective", objective.pk)), objective.state),
                peak=peak,
                sparkline=charts.score_sparkline(
                    points,
                    weeks=max(week.week, 1),
                    label=f"Drift score of '{objective.title}' by week, 0 to 100"
                    + (f"; highest {peak[0]} in week {peak[1]}" if peak else ""),
                ),
                stories=stories.get(objective.pk, []),
                credits=sorted(
                    credits.get(objective.pk, {}).values(), key=lambda each: each.person.user.full_name
                ),
                hidden_credits=len(hidden.get(objective.pk, set())),
            )
        )
    return QuarterReview(
        week=week,
        objectives=objectives,
        people=sorted(people.values(), key=lambda each: each.person.user.full_name.lower()),
        hidden_people=len(hidden_people),
        is_over=timezone.localdate() > cycle.end if now is None else now.date() > cycle.end,
    )
