"""The leader dashboard: which goals are diverging, since when, why, and who to talk to.

Everything is read for one cycle and one *reference week*: the latest week the drift engine has scored
(or, before it has scored any, the last week that has ended). "This week" on the dashboard is that week
and "last week" the one before it, so the figures, the scores and "what changed" always speak of the same
weeks, whether the organisation is live or a replayed quarter.

Reads run inside the organisation's tenant context, in a fixed number of queries however many goals,
findings, scores, people and signals there are (``tests/test_dashboard.py`` pins the budget).
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.db.models import Count, Exists, Max, OuterRef, Q, QuerySet, Subquery, Sum
from django.http import QueryDict
from django.utils import timezone
from django.utils.safestring import SafeString

from alignment import charts
from alignment.cycles import cycle_of
from alignment.models import FINDING_KIND_CHOICES, DriftScore, EffortWeek, Finding, FindingEvent
from goals import selectors as goal_selectors
from goals.charts import percent
from goals.checkin_reminders import CheckInSchedule
from goals.checkin_reports import Completion, PulseFigure, pulse_figure
from goals.checkin_weeks import week_monday
from goals.models import (
    CheckIn,
    CheckInState,
    Cycle,
    KeyResult,
    Level,
    Objective,
    ObjectiveState,
    PulseAnswer,
)
from okrsignal.models import Membership, Organization, Team
from okrsignal.permissions import report_ids
from signals_ingest.models import Integration, Provider

# The kinds as people read them (the stored choices capitalise only the first word: "Kpi conflict").
KIND_LABELS: dict[str, str] = {
    **dict(FINDING_KIND_CHOICES),
    "kpi_conflict": "KPI conflict",
}
OPEN_STATES = (Finding.State.OPEN, Finding.State.ACKNOWLEDGED)
KEY_RESULT = "key_result"
OBJECTIVE = "objective"
# How many of the week's largest score changes "what changed" lists.
SCORE_MOVES_SHOWN = 5
# How many new and resolved findings "what changed" names (the rest are counted; the list has them all).
CHANGES_SHOWN = 8
# A score change smaller than this is noise, not news.
SCORE_MOVE_MIN = 3

SubjectKey = tuple[str, int]


def subject_key(key_result_id: int | None, objective_id: int | None) -> SubjectKey:
    if key_result_id is not None:
        return (KEY_RESULT, key_result_id)
    assert objective_id is not None  # a finding and a score name exactly one subject
    return (OBJECTIVE, objective_id)


# --- Cycle, reference week and the change stamp -----------------------------------------------------


def dashboard_cycle(
    cycles: Sequence[Cycle], chosen: str | None, *, today: date | None = None
) -> Cycle | None:
    """The cycle named by ``chosen`` (an id from the query string), else the current one, else the most
    recent. ``LookupError`` when ``chosen`` names no cycle of the organisation."""
    if chosen:
        for cycle in cycles:
            if str(cycle.pk) == chosen:
                return cycle
        raise LookupError(chosen)
    return goal_selectors.current_cycle(cycles, today=today)


@dataclass(frozen=True)
class ScoringState:
    """How far scoring has come in a cycle, and a stamp that changes whenever new scoring or a change of a
    finding's state lands (the dashboard polls it to refresh itself)."""

    latest_week: int | None
    stamp: str


def scoring_state(cycle: Cycle) -> ScoringState:
    """Two aggregate queries. Scoring stores the scores of the week it evaluated, so the latest week's
    rows say when scoring last landed: the thousands of earlier rows of a large cycle are not read."""
    latest_week = DriftScore.objects.filter(cycle=cycle).order_by("-week").values("week")[:1]
    scores = DriftScore.objects.filter(cycle=cycle, week=Subquery(latest_week)).aggregate(
        week=Max("week"), computed=Max("computed_at"), count=Count("id")
    )
    findings = Finding.objects.filter(cycle=cycle).aggregate(updated=Max("updated_at"), count=Count("id"))
    parts = [
        cycle.pk,
        scores["week"],
        scores["computed"].isoformat() if scores["computed"] else "",
        scores["count"],
        findings["updated"].isoformat() if findings["updated"] else "",
        findings["count"],
    ]
    digest = hashlib.sha256("|".join(str(part) for part in parts).encode()).hexdigest()[:16]
    return ScoringState(latest_week=scores["week"], stamp=digest)


def reference_week(cycle: Cycle, state: ScoringState, *, now: datetime) -> int:
    """The latest scored week, else the last week that has ended (0 during the first week)."""
    if state.latest_week:
        return int(state.latest_week)
    return cycle_of(cycle).complete_weeks(now)


def week_start_date(cycle: Cycle, week: int) -> date:
    return cycle.start + timedelta(days=7 * (week - 1))


# --- The goals of a cycle ---------------------------------------------------------------------------


@dataclass
class Goal:
    """A key result or an objective, as the drift pages name it: full title, owner, team and level (a key
    result takes its objective's team and level)."""

    kind: str
    id: int
    title: str
    objective: Objective
    key_result: KeyResult | None = None

    @property
    def key(self) -> SubjectKey:
        return (self.kind, self.id)

    @property
    def is_key_result(self) -> bool:
        return self.kind == KEY_RESULT

    @property
    def owner_id(self) -> int | None:
        return self.key_result.owner_id if self.key_result is not None else self.objective.owner_id

    @property
    def owner(self) -> Membership | None:
        """The owner, with their user: read in one query for many goals by ``attach_owners`` first."""
        return self.key_result.owner if self.key_result is not None else self.objective.owner

    @property
    def team(self) -> Team | None:
        return self.objective.team

    @property
    def level(self) -> str:
        return self.objective.level

    @property
    def level_label(self) -> str:
        return Level(self.objective.level).label

    @property
    def kind_label(self) -> str:
        return "Key result" if self.is_key_result else "Objective"

    @property
    def is_live(self) -> bool:
        """Paused, cancelled, draft and finished goals are not drifting, whatever was found before."""
        return self.objective.state == ObjectiveState.ACTIVE

    @property
    def url_name(self) -> str:
        return "alignment:key_result_drift" if self.is_key_result else "alignment:objective_drift"


# Only the fields a goal is named, filtered and ranked by: a large cycle has thousands of goals.
_OBJECTIVE_FIELDS = ("organization", "cycle", "title", "level", "state", "owner", "team")
_KEY_RESULT_FIELDS = ("organization", "objective", "title", "owner")


def cycle_goals(cycle: Cycle, subjects: Iterable[SubjectKey] | None = None) -> dict[SubjectKey, Goal]:
    """The cycle's objectives and key results (two queries): all of them, or those ``subjects`` names and
    the objectives of its key results. Owners are not read: a page names the owners of the few goals it
    shows, through ``attach_owners``."""
    objective_query = (
        Objective.objects.filter(cycle=cycle).select_related("team").only(*_OBJECTIVE_FIELDS).order_by()
    )
    if subjects is None:
        objectives = {objective.pk: objective for objective in objective_query}
        key_results = list(
            KeyResult.objects.filter(objective_id__in=list(objectives)).only(*_KEY_RESULT_FIELDS).order_by()
        )
    else:
        wanted = set(subjects)
        named = KeyResult.objects.filter(pk__in=[pk for kind, pk in wanted if kind == KEY_RESULT])
        key_results = list(named.only(*_KEY_RESULT_FIELDS).order_by())
        objective_ids = {pk for kind, pk in wanted if kind == OBJECTIVE}
        objective_ids |= {key_result.objective_id for key_result in key_results}
        objectives = {objective.pk: objective for objective in objective_query.filter(pk__in=objective_ids)}
        # Key results of objectives of other cycles are not this cycle's goals.
        key_results = [key_result for key_result in key_results if key_result.objective_id in objectives]
    goals: dict[SubjectKey, Goal] = {
        (OBJECTIVE, pk): Goal(kind=OBJECTIVE, id=pk, title=objective.title, objective=objective)
        for pk, objective in objectives.items()
    }
    for key_result in key_results:
        objective = objectives[key_result.objective_id]
        key_result.objective = objective
        goals[(KEY_RESULT, key_result.pk)] = Goal(
            kind=KEY_RESULT,
            id=key_result.pk,
            title=key_result.title,
            objective=objective,
            key_result=key_result,
        )
    return goals


def attach_owners(goals: Iterable[Goal]) -> None:
    """Read the owners of ``goals``, with their users, in one query, so that ``goal.owner`` asks no more."""
    goals = list(goals)
    owner_ids = {goal.owner_id for goal in goals if goal.owner_id is not None}
    owners = {
        person.pk: person for person in Membership.objects.filter(pk__in=owner_ids).select_related("user")
    }
    for goal in goals:
        holder = goal.key_result if goal.key_result is not None else goal.objective
        holder.owner = owners.get(goal.owner_id) if goal.owner_id is not None else None


# --- Filters ----------------------------------------------------------------------------------------

# The diverging goals listed before "Show all": the ones to talk about on Monday, ranked first.
TOP_DIVERGING = 25


@dataclass(frozen=True)
class DashboardFilters:
    """Narrowing the list of diverging goals: by the goal's team, its level and the kind of finding; and
    whether the whole list is shown or only its top. Read from the query string so a filtered view is a
    link; a value that names nothing is ignored."""

    team_id: int | None = None
    level: str | None = None
    kind: str | None = None
    show_all: bool = False

    @classmethod
    def from_query(cls, query: QueryDict | Mapping[str, str], *, team_ids: Iterable[int]) -> DashboardFilters:
        team = str(query.get("team") or "")
        level = str(query.get("level") or "")
        kind = str(query.get("kind") or "")
        return cls(
            team_id=int(team) if team.isdigit() and int(team) in set(team_ids) else None,
            level=level if level in Level.values else None,
            kind=kind if kind in KIND_LABELS else None,
            show_all=query.get("show") == "all",
        )

    @property
    def active(self) -> bool:
        return any(value is not None for value in (self.team_id, self.level, self.kind))

    def params(self) -> dict[str, str]:
        params = {}
        if self.team_id is not None:
            params["team"] = str(self.team_id)
        if self.level is not None:
            params["level"] = self.level
        if self.kind is not None:
            params["kind"] = self.kind
        if self.show_all:
            params["show"] = "all"
        return params

    def admits(self, goal: Goal, kinds: Iterable[str]) -> bool:
        if self.team_id is not None and goal.objective.team_id != self.team_id:
            return False
        if self.level is not None and goal.level != self.level:
            return False
        return self.kind is None or self.kind in set(kinds)


# --- The dashboard ----------------------------------------------------------------------------------


@dataclass
class DivergingGoal:
    """A goal with open or acknowledged findings: how far it has drifted, since when, and why."""

    goal: Goal
    findings: list[Finding]
    score: int | None
    previous_score: int | None
    sparkline: SafeString = field(default_factory=lambda: SafeString(""))
    is_new: bool = False

    @property
    def lead(self) -> Finding:
        """The finding that explains the goal best: the most severe."""
        return max(self.findings, key=lambda finding: (finding.severity, -finding.onset_week))

    @property
    def why(self) -> str:
        return self.lead.explanation

    @property
    def onset_week(self) -> int:
        return min(finding.onset_week for finding in self.findings)

    @property
    def onset_date(self) -> date:
        return min(finding.onset_date for finding in self.findings)

    @property
    def kinds(self) -> list[tuple[str, str]]:
        ordered = sorted(self.findings, key=lambda finding: -finding.severity)
        seen: dict[str, str] = {}
        for finding in ordered:
            seen.setdefault(finding.kind, KIND_LABELS.get(finding.kind, finding.kind))
        return list(seen.items())

    @property
    def all_acknowledged(self) -> bool:
        return all(finding.state == Finding.State.ACKNOWLEDGED for finding in self.findings)

    @property
    def tone(self) -> str:
        return charts.score_tone(self.score)

    @property
    def change(self) -> int | None:
        if self.score is None or self.previous_score is None:
            return None
        return self.score - self.previous_score

    @property
    def change_size(self) -> int | None:
        change = self.change
        return abs(change) if change is not None else None


@dataclass(frozen=True)
class WeekShare:
    """A share of a week's whole (``None`` when the week had nothing to share)."""

    part: float
    whole: float

    @property
    def share(self) -> float | None:
        return self.part / self.whole if self.whole > 0 else None

    @property
    def percent(self) -> str:
        return percent(self.share)


@dataclass
class Headline:
    goals_live: int
    goals_drifting: int
    effort_this_week: WeekShare
    effort_last_week: WeekShare
    check_in_week: date | None
    check_ins: Completion
    pulse: PulseFigure

    @property
    def drifting_share(self) -> float | None:
        return self.goals_drifting / self.goals_live if self.goals_live else None

    @property
    def drifting_percent(self) -> str:
        return percent(self.drifting_share)

    @property
    def drifting_tone(self) -> str:
        share = self.drifting_share
        if share is None:
            return "idle"
        return "bad" if share >= 0.25 else "warn" if share > 0 else "good"

    @property
    def effort_change_points(self) -> int | None:
        """The change in the linked share from last week to this week, in percentage points."""
        this, last = self.effort_this_week.share, self.effort_last_week.share
        if this is None or last is None:
            return None
        return round(this * 100) - round(last * 100)

    @property
    def effort_change_size(self) -> int | None:
        change = self.effort_change_points
        return abs(change) if change is not None else None

    @property
    def effort_tone(self) -> str:
        change = self.effort_change_points
        if change is None:
            return "idle"
        return "bad" if change <= -10 else "warn" if change < 0 else "good"

    @property
    def check_in_percent(self) -> str:
        return percent(self.check_ins.share)

    @property
    def check_in_tone(self) -> str:
        share = self.check_ins.share
        if share is None:
            return "idle"
        return "good" if share >= 0.8 else "warn" if share >= 0.5 else "bad"

    @property
    def pulse_percent(self) -> str:
        return percent(self.pulse.share)

    @property
    def pulse_tone(self) -> str:
        share = self.pulse.share
        if share is None:
            return "idle"
        return "good" if share >= 0.6 else "warn" if share >= 0.4 else "bad"


@dataclass
class ChangeLine:
    """Something that happened to a finding since last week's scoring."""

    goal: Goal
    kind_label: str
    action: str
    at: datetime
    by: Membership | None
    note: str


@dataclass
class ScoreMove:
    goal: Goal
    before: int
    after: int

    @property
    def change(self) -> int:
        return self.after - self.before

    @property
    def change_size(self) -> int:
        return abs(self.change)

    @property
    def tone(self) -> str:
        return "bad" if self.change > 0 else "good"


@dataclass
class WeekChanges:
    """What the week brought, newest first; each list cut to its first ``CHANGES_SHOWN`` lines."""

    since_week: int
    new: list[ChangeLine]
    resolved: list[ChangeLine]
    moves: list[ScoreMove]
    new_total: int = 0
    resolved_total: int = 0

    @property
    def new_hidden(self) -> int:
        return self.new_total - len(self.new)

    @property
    def resolved_hidden(self) -> int:
        return self.resolved_total - len(self.resolved)

    @property
    def anything(self) -> bool:
        return bool(self.new or self.resolved or self.moves)


@dataclass
class Setup:
    """What an organisation still lacks before the dashboard can say much: the next steps to show."""

    has_cycle: bool
    has_goals: bool
    connected: list[str]
    active_people: int
    teams: int

    @property
    def has_integrations(self) -> bool:
        return bool(self.connected)

    @property
    def complete(self) -> bool:
        return self.has_cycle and self.has_goals and self.has_integrations and self.active_people > 1


@dataclass
class LeaderDashboard:
    organization: Organization
    cycle: Cycle | None
    cycles: list[Cycle]
    week: int
    week_count: int
    filters: DashboardFilters
    teams: list[Team]
    stamp: str
    setup: Setup
    report_count: int
    diverging: list[DivergingGoal] = field(default_factory=list)
    diverging_total: int = 0  # live goals drifting, whatever the filters
    diverging_matching: int = 0  # of those, the ones the filters admit (``diverging`` may show fewer)

    @property
    def diverging_hidden(self) -> int:
        """Matching diverging goals below the top of the list, shown on asking for all."""
        return self.diverging_matching - len(self.diverging)

    headline: Headline | None = None
    changes: WeekChanges | None = None

    @property
    def week_date(self) -> date | None:
        if self.cycle is None or self.week < 1:
            return None
        return week_start_date(self.cycle, self.week)

    @property
    def levels(self) -> list[tuple[str, str]]:
        return list(Level.choices)

    @property
    def kinds(self) -> list[tuple[str, str]]:
        return list(KIND_LABELS.items())


def _teams() -> list[Team]:
    """The teams to filter by (their names only)."""
    return list(Team.objects.order_by("name").only("id", "name"))


@dataclass(frozen=True)
class GoalCounts:
    """How many goals a cycle has, and how many of them are live (their objective active)."""

    goals: int = 0
    live: int = 0


def goal_counts(cycle: Cycle) -> GoalCounts:
    """Counted in the database (two queries): a large cycle has thousands of goals."""
    active = ObjectiveState.ACTIVE
    objectives = Objective.objects.filter(cycle=cycle).aggregate(
        goals=Count("id"), live=Count("id", filter=Q(state=active))
    )
    key_results = KeyResult.objects.filter(objective__cycle=cycle).aggregate(
        goals=Count("id"), live=Count("id", filter=Q(objective__state=active))
    )
    return GoalCounts(
        goals=objectives["goals"] + key_results["goals"], live=objectives["live"] + key_results["live"]
    )


def _setup(cycle: Cycle | None, counts: GoalCounts, teams: int) -> Setup:
    connected = [
        Provider(provider).label
        for provider in Integration.objects.filter(state=Integration.State.CONNECTED)
        .order_by("provider")
        .values_list("provider", flat=True)
    ]
    return Setup(
        has_cycle=cycle is not None,
        has_goals=counts.goals > 0,
        connected=connected,
        active_people=Membership.objects.filter(is_active=True).count(),
        teams=teams,
    )


def leader_dashboard(
    viewer: Membership,
    cycle: Cycle | None,
    *,
    cycles: list[Cycle],
    query: QueryDict | Mapping[str, str],
    now: datetime | None = None,
    state: ScoringState | None = None,
) -> LeaderDashboard:
    """The dashboard of ``cycle`` for ``viewer``, filtered by ``query`` (team, level, kind).

    Every member of the organisation sees it: goals are visible to all of them, and the figures are
    organisation-wide aggregates (the pulse hides below five answers). Fixed number of queries.
    """
    now = now or timezone.now()
    organization = viewer.organization
    teams = _teams()
    filters = DashboardFilters.from_query(query, team_ids=[team.pk for team in teams])
    report_count = len(report_ids(viewer))
    if cycle is None:
        return LeaderDashboard(
            organization=organization,
            cycle=None,
            cycles=cycles,
            week=0,
            week_count=0,
            filters=filters,
            teams=teams,
            stamp="",
            setup=_setup(None, GoalCounts(), len(teams)),
            report_count=report_count,
        )
    state = state or scoring_state(cycle)
    week = reference_week(cycle, state, now=now)
    counts = goal_counts(cycle)
    dashboard = LeaderDashboard(
        organization=organization,
        cycle=cycle,
        cycles=cycles,
        week=week,
        week_count=cycle_of(cycle).week_count,
        filters=filters,
        teams=teams,
        stamp=state.stamp,
        setup=_setup(cycle, counts, len(teams)),
        report_count=report_count,
    )
    if not counts.goals:
        return dashboard
    # Without their evidence and figures: the page shows neither, and a large cycle's are megabytes.
    findings = list(
        Finding.objects.filter(cycle=cycle, state__in=OPEN_STATES).defer("evidence", "figures", "state_note")
    )
    current, previous = _scores_at(cycle, week)
    events = _change_events(cycle, week)
    moves = _score_moves(current, previous)
    # The goals this page names, and only those.
    goals = cycle_goals(
        cycle,
        subjects={subject_key(finding.key_result_id, finding.objective_id) for finding in findings}
        | {subject_key(event.finding.key_result_id, event.finding.objective_id) for event in events}
        | {key for key, _before, _after in moves},
    )
    open_findings = [
        finding for finding in findings if subject_key(finding.key_result_id, finding.objective_id) in goals
    ]
    by_goal: dict[SubjectKey, list[Finding]] = defaultdict(list)
    for finding in open_findings:
        by_goal[subject_key(finding.key_result_id, finding.objective_id)].append(finding)
    diverging = [
        DivergingGoal(
            goal=goals[key],
            findings=findings,
            score=current.get(key),
            previous_score=previous.get(key),
            is_new=any(finding.first_detected_week >= week for finding in findings),
        )
        for key, findings in by_goal.items()
        if goals[key].is_live
    ]
    dashboard.diverging_total = len(diverging)
    shown = [row for row in diverging if filters.admits(row.goal, (finding.kind for finding in row.findings))]
    dashboard.diverging_matching = len(shown)
    shown.sort(
        key=lambda row: (
            -(row.score if row.score is not None else -1),
            -row.lead.severity,
            row.goal.title.lower(),
        )
    )
    if not filters.show_all:
        shown = shown[:TOP_DIVERGING]
    _draw_sparklines(cycle, shown, weeks=max(week, 1))
    attach_owners(row.goal for row in shown)
    dashboard.diverging = shown
    dashboard.headline = _headline(organization, cycle, week, counts=counts, diverging=diverging, now=now)
    dashboard.changes = _changes(week, events=events, moves=moves, goals=goals)
    return dashboard


def _scores_at(cycle: Cycle, week: int) -> tuple[dict[SubjectKey, int], dict[SubjectKey, int]]:
    """Every goal's score in ``week`` and in the week before (one query)."""
    current: dict[SubjectKey, int] = {}
    previous: dict[SubjectKey, int] = {}
    for score_week, key_result_id, objective_id, score in (
        DriftScore.objects.filter(cycle=cycle, week__in=[week - 1, week])
        .order_by()
        .values_list("week", "key_result_id", "objective_id", "score")
    ):
        target = current if score_week == week else previous
        target[subject_key(key_result_id, objective_id)] = score
    return current, previous


def _draw_sparklines(cycle: Cycle, rows: list[DivergingGoal], *, weeks: int) -> None:
    """Each row's weekly scores up to the reference week, drawn (one query for all of them)."""
    if not rows:
        return
    key_result_ids = [row.goal.id for row in rows if row.goal.is_key_result]
    objective_ids = [row.goal.id for row in rows if not row.goal.is_key_result]
    series: dict[SubjectKey, list[tuple[int, int]]] = defaultdict(list)
    for week, key_result_id, objective_id, score in (
        DriftScore.objects.filter(cycle=cycle, week__lte=weeks)
        .filter(Q(key_result_id__in=key_result_ids) | Q(objective_id__in=objective_ids))
        .order_by("week")
        .values_list("week", "key_result_id", "objective_id", "score")
    ):
        series[subject_key(key_result_id, objective_id)].append((week, score))
    for row in rows:
        points = series.get(row.goal.key, [])
        latest = f"; {row.score} in week {weeks}" if row.score is not None else ""
        row.sparkline = charts.score_sparkline(
            points, weeks=weeks, label=f"Drift score of '{row.goal.title}' by week, 0 to 100{latest}"
        )


def linked_effort(cycle: Cycle, weeks: Sequence[int]) -> dict[int, WeekShare]:
    """For each cycle week, the weight of known people's signals that count toward a key result, against
    the weight of all their signals, as the latest scoring read them (one query over the stored weekly
    effort; weeks not yet scored are missing)."""
    wanted = [week for week in weeks if week >= 1]
    if not wanted:
        return {}
    return {
        row["week"]: WeekShare(part=row["part"] or 0.0, whole=row["whole"] or 0.0)
        for row in EffortWeek.objects.filter(cycle=cycle, week__in=wanted)
        .values("week")
        .annotate(part=Sum("linked_weight"), whole=Sum("total_weight"))
        .order_by("week")
    }


def _expected_at(due_at: datetime) -> QuerySet[Membership]:
    """Who was expected to check in by ``due_at``: members by then, and not yet gone."""
    return Membership.objects.filter(joined_at__lt=due_at).filter(
        Q(is_active=True) | Q(deactivated_at__gt=due_at)
    )


def _headline(
    organization: Organization,
    cycle: Cycle,
    week: int,
    *,
    counts: GoalCounts,
    diverging: Sequence[DivergingGoal],
    now: datetime,
) -> Headline:
    effort = linked_effort(cycle, [week - 1, week])
    check_in_week: date | None = None
    check_ins = Completion(submitted=0, expected=0)
    pulse = pulse_figure([])
    if week >= 1:
        check_in_week = week_monday(week_start_date(cycle, week))
        due_at = CheckInSchedule.of(organization).due_at(check_in_week)
        # Counted in the database: a large organisation has thousands of people.
        submitted = CheckIn.objects.filter(
            membership_id=OuterRef("pk"), week=check_in_week, state=CheckInState.SUBMITTED
        )
        due = (
            _expected_at(due_at)
            .order_by()
            .aggregate(expected=Count("id"), submitted=Count("id", filter=Exists(submitted)))
        )
        check_ins = Completion(submitted=due["submitted"], expected=due["expected"])
        pulse = pulse_figure(
            PulseAnswer.objects.filter(week=check_in_week).order_by().values_list("score", flat=True)
        )
    empty = WeekShare(part=0.0, whole=0.0)
    return Headline(
        goals_live=counts.live,
        goals_drifting=len(diverging),
        effort_this_week=effort.get(week, empty),
        effort_last_week=effort.get(week - 1, empty),
        check_in_week=check_in_week,
        check_ins=check_ins,
        pulse=pulse,
    )


def _change_events(cycle: Cycle, week: int) -> list[FindingEvent]:
    """Findings opened (or opened again) and resolved since last week's scoring, newest first (one query).

    Last week's scoring happened as of the end of last week, the start of this one: what the engine did
    then is last week's news; what it did as this week ended, and what people did since, is this week's.
    """
    since = cycle_of(cycle).week_start(max(week, 1))
    return list(
        FindingEvent.objects.filter(
            finding__cycle=cycle,
            at__gt=since,
            action__in=[
                FindingEvent.Action.DETECTED,
                FindingEvent.Action.REOPENED,
                FindingEvent.Action.RESOLVED,
            ],
        )
        .select_related("finding", "by__user")
        .defer("finding__evidence", "finding__figures", "finding__explanation", "finding__state_note")
        .order_by("-at", "-id")
    )


def _score_moves(
    current: Mapping[SubjectKey, int], previous: Mapping[SubjectKey, int]
) -> list[tuple[SubjectKey, int, int]]:
    """The goals whose score moved most from last week to this one, by more than noise: (goal, before,
    after). Enough of them to show ``SCORE_MOVES_SHOWN`` once ties of size are ordered by title: every
    move at least as large as the last one shown."""
    moves = [
        (key, previous[key], score)
        for key, score in current.items()
        if key in previous and abs(score - previous[key]) >= SCORE_MOVE_MIN
    ]
    sizes = sorted((abs(after - before) for _key, before, after in moves), reverse=True)
    if len(sizes) <= SCORE_MOVES_SHOWN:
        return moves
    smallest_shown = sizes[SCORE_MOVES_SHOWN - 1]
    return [move for move in moves if abs(move[2] - move[1]) >= smallest_shown]


def _changes(
    week: int,
    *,
    events: Sequence[FindingEvent],
    moves: Sequence[tuple[SubjectKey, int, int]],
    goals: Mapping[SubjectKey, Goal],
) -> WeekChanges:
    """What changed since last week: the findings ``events`` opened and resolved, and the largest score
    ``moves``, of the ``goals`` given."""
    new: list[ChangeLine] = []
    resolved: list[ChangeLine] = []
    for event in events:
        finding = event.finding
        goal = goals.get(subject_key(finding.key_result_id, finding.objective_id))
        if goal is None:
            continue
        line = ChangeLine(
            goal=goal,
            kind_label=KIND_LABELS.get(finding.kind, finding.kind),
            action=event.get_action_display(),
            at=event.at,
            by=event.by,
            note=event.note,
        )
        (resolved if event.action == FindingEvent.Action.RESOLVED else new).append(line)
    score_moves = [
        ScoreMove(goal=goals[key], before=before, after=after) for key, before, after in moves if key in goals
    ]
    score_moves.sort(key=lambda move: (-abs(move.change), move.goal.title.lower()))
    return WeekChanges(
        since_week=week - 1,
        new=new[:CHANGES_SHOWN],
        resolved=resolved[:CHANGES_SHOWN],
        moves=score_moves[:SCORE_MOVES_SHOWN],
        new_total=len(new),
        resolved_total=len(resolved),
    )
