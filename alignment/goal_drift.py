"""A goal's drift page: when did the work and this goal part, and why?

For one key result or objective: its progress against the calendar week by week, where its people's effort
went week by week (this goal, their other goals, unlinked work by theme), one timeline that puts the
findings, the goal's edits, the check-in statuses and the KPI readings on the same week axis, and the
findings with their evidence. Reads run inside the organisation's tenant context in a fixed number of
queries.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from django.db.models import Exists, OuterRef, Sum
from django.db.models.fields.json import KT
from django.db.models.functions import TruncDate
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import SafeString

from alignment import charts
from alignment.cycles import cycle_of
from alignment.dashboard import (
    KEY_RESULT,
    KIND_LABELS,
    OBJECTIVE,
    OPEN_STATES,
    Goal,
    reference_week,
    scoring_state,
    week_start_date,
)
from alignment.engine.inputs import Theme
from alignment.engine.outputs import KEY_RESULT_POINTS, OBJECTIVE_POINTS, SEVERITY_HIGH, SEVERITY_MEDIUM
from alignment.evidence import EvidenceGroup, EvidenceLink, finding_evidence, short_date
from alignment.models import DriftScore, Finding, FindingEvent
from alignment.themes import ThemeNamer
from goals import selectors as goal_selectors
from goals.charts import percent
from goals.guardrails import kpi_status
from goals.models import (
    CheckInKeyResultUpdate,
    CheckInState,
    Cycle,
    KeyResult,
    KeyResultContributor,
    KPIObjectiveTag,
    KPIReading,
    Objective,
)
from goals.permissions import may_manage_objective
from goals.progress import (
    KeyResultFigures,
    expected_progress,
    key_result_progress_map,
    weighted_mean_progress,
)
from okrsignal.models import Membership
from okrsignal.permissions import report_ids
from signals_ingest.models import ExecutionSignal, SignalKeyResult

# An engine event is stamped with the end of the week it evaluated; this moves it back into that week.
ENGINE_EVENT_OFFSET = timedelta(seconds=1)
# Unlinked themes drawn separately in the effort chart; the rest share one band.
THEMES_SHOWN = 4
SOURCE_NAMES = {"jira": "Jira", "slack": "Slack", "hubspot": "HubSpot"}
STATUS_TONES = {"on_track": "good", "at_risk": "warn", "blocked": "bad"}
KPI_TONES = {"green": "good", "amber": "warn", "red": "bad"}
TONE_RANK = {"bad": 3, "warn": 2, "good": 1}
COMPONENT_LABELS = {
    "effort": "Effort moved elsewhere",
    "pace": "Behind the calendar",
    "momentum": "Nothing moving it",
    "reporting": "Check-ins contradict the work",
    "ownership": "Ownership",
    "dependencies": "Blocked by other teams",
    "key_results": "Its key results drift",
    "cascade": "Link to its parent unconfirmed",
    "kpi": "Green KPIs hide it",
}


def goal_of_key_result(key_result: KeyResult) -> Goal:
    return Goal(
        kind=KEY_RESULT,
        id=key_result.pk,
        title=key_result.title,
        objective=key_result.objective,
        key_result=key_result,
    )


def goal_of_objective(objective: Objective) -> Goal:
    return Goal(kind=OBJECTIVE, id=objective.pk, title=objective.title, objective=objective)


def may_act_on_findings(viewer: Membership, goal: Goal) -> bool:
    """Who may acknowledge or resolve a goal's findings: admins, the goal's owner (or its key result's),
    and whoever may manage its objective."""
    if viewer.is_admin or (goal.owner is not None and goal.owner.pk == viewer.pk):
        return True
    return may_manage_objective(viewer, goal.objective)


def severity_label(severity: float) -> str:
    if severity >= SEVERITY_HIGH:
        return "High"
    return "Medium" if severity >= SEVERITY_MEDIUM else "Low"


# --- Page parts -------------------------------------------------------------------------------------


@dataclass
class FindingView:
    finding: Finding
    evidence: list[EvidenceGroup] = field(default_factory=list)
    events: list[FindingEvent] = field(default_factory=list)
    error: str = ""
    note: str = ""

    @property
    def kind_label(self) -> str:
        return KIND_LABELS.get(self.finding.kind, self.finding.kind)

    @property
    def severity_label(self) -> str:
        return severity_label(self.finding.severity)

    @property
    def is_open(self) -> bool:
        return self.finding.state == Finding.State.OPEN

    @property
    def is_current(self) -> bool:
        return self.finding.state in OPEN_STATES

    @property
    def has_evidence(self) -> bool:
        return any(group.entries or group.hidden_people for group in self.evidence)


@dataclass(frozen=True)
class ScorePart:
    label: str
    points: float
    most: float  # the most this part can add to the score
    detail: str

    @property
    def points_display(self) -> str:
        return f"{self.points:.0f}" if self.points >= 1 else "<1"

    @property
    def most_display(self) -> str:
        return f"{self.most:g}"


@dataclass
class ProgressView:
    chart: SafeString
    current: float | None
    expected: float
    has_key_results: bool

    @property
    def current_percent(self) -> str:
        return percent(self.current)

    @property
    def expected_percent(self) -> str:
        return percent(self.expected)

    @property
    def tone(self) -> str:
        if self.current is None:
            return "idle"
        gap = self.expected - self.current
        return "good" if gap <= 0.10 else "warn" if gap <= 0.25 else "bad"


@dataclass
class EffortRow:
    week: int
    cells: list[str]
    total: str


@dataclass
class EffortView:
    chart: SafeString
    series: list[charts.EffortSeries]
    rows: list[EffortRow]
    people: int
    summary: str

    @property
    def has_activity(self) -> bool:
        return bool(self.summary)


@dataclass
class TimelineItem:
    lane: str
    at: datetime | date
    text: str
    detail: str = ""
    changes: list[goal_selectors.FieldChange] = field(default_factory=list)
    link: EvidenceLink | None = None
    tone: str = ""

    @property
    def lane_label(self) -> str:
        return LANES[self.lane]


@dataclass
class TimelineWeek:
    week: int
    starts: date
    items: list[TimelineItem]


@dataclass
class TimelineView:
    chart: SafeString
    weeks: list[TimelineWeek]


@dataclass
class KeyResultLine:
    goal: Goal
    score: int | None
    open_findings: int

    @property
    def tone(self) -> str:
        return charts.score_tone(self.score)


@dataclass
class GoalDriftPage:
    goal: Goal
    cycle: Cycle
    week: int
    week_count: int
    score: int | None
    previous_score: int | None
    score_parts: list[ScorePart]
    score_chart: SafeString
    findings: list[FindingView]
    progress: ProgressView
    effort: EffortView
    timeline: TimelineView
    key_results: list[KeyResultLine]
    may_act: bool

    @property
    def current_findings(self) -> list[FindingView]:
        return [view for view in self.findings if view.is_current]

    @property
    def past_findings(self) -> list[FindingView]:
        return [view for view in self.findings if not view.is_current]

    @property
    def lead(self) -> FindingView | None:
        current = self.current_findings
        return max(current, key=lambda view: view.finding.severity) if current else None

    @property
    def onset_week(self) -> int | None:
        current = self.current_findings
        return min(view.finding.onset_week for view in current) if current else None

    @property
    def onset_date(self) -> date | None:
        current = self.current_findings
        return min(view.finding.onset_date for view in current) if current else None

    @property
    def score_tone(self) -> str:
        return charts.score_tone(self.score)

    @property
    def score_change(self) -> int | None:
        if self.score is None or self.previous_score is None:
            return None
        return self.score - self.previous_score

    @property
    def score_change_size(self) -> int | None:
        change = self.score_change
        return abs(change) if change is not None else None

    @property
    def week_date(self) -> date | None:
        return week_start_date(self.cycle, self.week) if self.week >= 1 else None


LANES = {
    "findings": "Drift findings",
    "edits": "Goal edits",
    "check_ins": "Check-ins",
    "kpis": "KPI readings",
}


# --- Loading ----------------------------------------------------------------------------------------


def _goal_key_result_ids(goal: Goal) -> list[int]:
    if goal.is_key_result:
        return [goal.id]
    return list(KeyResult.objects.filter(objective_id=goal.id).values_list("id", flat=True))


def goal_drift_page(
    viewer: Membership,
    goal: Goal,
    *,
    slug: str,
    now: datetime | None = None,
    errors: Mapping[int, str] | None = None,
    notes: Mapping[int, str] | None = None,
) -> GoalDriftPage:
    """Everything the goal's drift page shows, for ``viewer`` (a fixed number of queries)."""
    now = now or timezone.now()
    cycle = goal.objective.cycle
    engine_cycle = cycle_of(cycle)
    week = reference_week(cycle, scoring_state(cycle), now=now)
    key_result_ids = _goal_key_result_ids(goal)

    findings = list(
        Finding.objects.filter(
            cycle=cycle, **({"key_result_id": goal.id} if goal.is_key_result else {"objective_id": goal.id})
        )
        .select_related("acknowledged_by__user", "resolved_by__user")
        .order_by("-severity", "kind")
    )
    events: dict[int, list[FindingEvent]] = defaultdict(list)
    for event in (
        FindingEvent.objects.filter(finding__in=findings).select_related("by__user").order_by("at", "id")
    ):
        events[event.finding_id].append(event)
    evidence = finding_evidence(findings, viewer=viewer, cycle=cycle, slug=slug)
    errors, notes = errors or {}, notes or {}
    views = [
        FindingView(
            finding=finding,
            evidence=evidence.get(finding.pk, []),
            events=events.get(finding.pk, []),
            error=errors.get(finding.pk, ""),
            note=notes.get(finding.pk, ""),
        )
        for finding in findings
    ]
    views.sort(key=lambda view: (not view.is_current, -view.finding.severity, view.finding.kind))

    scores = _score_series(cycle, goal)
    current_score = scores.get(week)
    latest = (
        DriftScore.objects.filter(cycle=cycle, week=week, **_subject_filter(goal))
        .values_list("components", flat=True)
        .first()
        if week >= 1
        else None
    )
    onset = min((view.finding.onset_week for view in views if view.is_current), default=None)
    key_results = _key_result_lines(goal, cycle, week) if not goal.is_key_result else []
    return GoalDriftPage(
        goal=goal,
        cycle=cycle,
        week=week,
        week_count=engine_cycle.week_count,
        score=current_score,
        previous_score=scores.get(week - 1),
        score_parts=_score_parts(latest or [], is_key_result=goal.is_key_result),
        score_chart=charts.score_sparkline(
            sorted((score_week, score) for score_week, score in scores.items() if score_week <= max(week, 1)),
            weeks=max(week, 1),
            label=f"Drift score of '{goal.title}' by week, 0 to 100",
        ),
        findings=views,
        progress=_progress(goal, cycle, key_result_ids, week=week, onset=onset),
        effort=_effort(goal, cycle, key_result_ids, week=week),
        timeline=_timeline(
            viewer, goal, cycle, key_result_ids, findings=views, week=week, onset=onset, slug=slug
        ),
        key_results=key_results,
        may_act=may_act_on_findings(viewer, goal),
    )


def _subject_filter(goal: Goal) -> dict[str, int]:
    return {"key_result_id": goal.id} if goal.is_key_result else {"objective_id": goal.id}


def _score_series(cycle: Cycle, goal: Goal) -> dict[int, int]:
    return dict(DriftScore.objects.filter(cycle=cycle, **_subject_filter(goal)).values_list("week", "score"))


def _score_parts(components: Iterable[Mapping[str, Any]], *, is_key_result: bool) -> list[ScorePart]:
    most = KEY_RESULT_POINTS if is_key_result else OBJECTIVE_POINTS
    parts = [
        ScorePart(
            label=COMPONENT_LABELS.get(name, name.replace("_", " ").capitalize()),
            points=float(component.get("points") or 0),
            most=most.get(name, 0.0),
            detail=str(component.get("detail") or ""),
        )
        for component in components
        if isinstance(component, Mapping)
        for name in [str(component.get("name", ""))]
    ]
    return sorted((part for part in parts if part.points > 0.05), key=lambda part: -part.points)


def _key_result_lines(goal: Goal, cycle: Cycle, week: int) -> list[KeyResultLine]:
    """The objective's key results with their score this week and their open findings (three queries)."""
    key_results = list(
        KeyResult.objects.filter(objective_id=goal.id)
        .select_related("owner__user")
        .order_by("created_at", "id")
    )
    scores = dict(
        DriftScore.objects.filter(cycle=cycle, week=week, key_result__in=key_results).values_list(
            "key_result_id", "score"
        )
    )
    counts: dict[int, int] = defaultdict(int)
    for key_result_id in Finding.objects.filter(
        cycle=cycle, key_result__in=key_results, state__in=OPEN_STATES
    ).values_list("key_result_id", flat=True):
        counts[key_result_id] += 1
    lines = []
    for key_result in key_results:
        key_result.objective = goal.objective
        lines.append(
            KeyResultLine(
                goal=goal_of_key_result(key_result),
                score=scores.get(key_result.pk),
                open_findings=counts[key_result.pk],
            )
        )
    return lines


# --- Progress against pace --------------------------------------------------------------------------


def _descendants(roots: Iterable[int], parents: Mapping[int, int | None]) -> set[int]:
    children: dict[int, list[int]] = defaultdict(list)
    for child, parent in parents.items():
        if parent is not None:
            children[parent].append(child)
    found = set(roots)
    frontier = list(found)
    while frontier:
        node = frontier.pop()
        for child in children.get(node, []):
            if child not in found:
                found.add(child)
                frontier.append(child)
    return found


def _progress(
    goal: Goal, cycle: Cycle, key_result_ids: list[int], *, week: int, onset: int | None
) -> ProgressView:
    """Progress at the end of each week so far, rebuilt from the key results' history (two queries): a key
    result that others roll up into takes their mean, as the goal pages compute it."""
    engine_cycle = cycle_of(cycle)
    weeks = engine_cycle.week_count
    last = min(max(week, 0), weeks)
    expected = expected_progress(start=cycle.start, end=cycle.end, at=engine_cycle.week_start(last + 1))
    label_base = f"Progress of '{goal.title}' against the expected pace"
    if not key_result_ids:
        return ProgressView(
            chart=charts.pace_chart(
                [], weeks=weeks, now=last, onset_week=onset, label=f"{label_base}: no key results"
            ),
            current=None,
            expected=expected,
            has_key_results=False,
        )
    parents = dict(KeyResult.objects.filter(objective__cycle=cycle).values_list("id", "parent_key_result_id"))
    involved = _descendants(key_result_ids, parents)
    history: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for row in (
        KeyResult.history.filter(id__in=involved)
        .order_by("history_date", "history_id")
        .values(
            "id",
            "history_date",
            "history_type",
            "objective_id",
            "parent_key_result_id",
            "baseline",
            "target",
            "current_value",
            "weight",
        )
    ):
        history[row["id"]].append(row)

    def progress_at(moment: datetime) -> float | None:
        figures = []
        for rows in history.values():
            state = None
            for row in rows:
                if row["history_date"] >= moment:
                    break
                state = row
            if state is None or state["history_type"] == "-":
                continue
            figures.append(
                KeyResultFigures(
                    id=state["id"],
                    objective_id=state["objective_id"],
                    parent_key_result_id=state["parent_key_result_id"],
                    baseline=state["baseline"],
                    target=state["target"],
                    current=state["current_value"],
                    weight=state["weight"],
                )
            )
        by_id = key_result_progress_map(figures)
        if goal.is_key_result:
            return by_id.get(goal.id)
        return weighted_mean_progress(
            (by_id[figure.id], figure.weight) for figure in figures if figure.objective_id == goal.id
        )

    points = []
    for position in range(0, last + 1):
        value = progress_at(engine_cycle.week_start(position + 1))
        if value is not None:
            points.append((float(position), value))
    current = points[-1][1] if points else None
    description = (
        f"{label_base}: {percent(current)} done at the end of week {last}, "
        f"{percent(expected)} expected by then"
        if current is not None
        else f"{label_base}: no progress recorded yet"
    )
    return ProgressView(
        chart=charts.pace_chart(points, weeks=weeks, now=last, onset_week=onset, label=description),
        current=current,
        expected=expected,
        has_key_results=True,
    )


# --- Effort by week ---------------------------------------------------------------------------------


def theme_name(theme: Theme) -> str:
    """``Jira epic SEC-90 'SSO and SOC 2 evidence'``, ``Slack #renewals``, ``HubSpot pipeline renewals``."""
    source = SOURCE_NAMES.get(theme.source, theme.source)
    key = theme.key
    if theme.kind == "channel" and key and not key.startswith("#"):
        key = f"#{key}"
    name = f"{source} {theme.kind} {key}".strip()
    if theme.title and theme.title != theme.key:
        name += f" '{theme.title}'"
    return name


def _effort_people(goal: Goal, cycle: Cycle, key_result_ids: list[int]) -> set[int]:
    """Who works on the goal: its owners and contributors, and anyone whose work counted toward it."""
    people = {person for person in (goal.objective.owner_id,) if person is not None}
    if goal.key_result is not None and goal.key_result.owner_id is not None:
        people.add(goal.key_result.owner_id)
    if not goal.is_key_result:
        people |= set(
            KeyResult.objects.filter(pk__in=key_result_ids, owner__isnull=False).values_list(
                "owner_id", flat=True
            )
        )
    people |= set(
        KeyResultContributor.objects.filter(key_result_id__in=key_result_ids).values_list(
            "membership_id", flat=True
        )
    )
    engine_cycle = cycle_of(cycle)
    people |= set(
        SignalKeyResult.objects.filter(
            key_result_id__in=key_result_ids,
            actor_membership__isnull=False,
            occurred_at__gte=engine_cycle.starts_at,
            occurred_at__lt=engine_cycle.ends_at,
        )
        .values_list("actor_membership_id", flat=True)
        .distinct()
    )
    return people


def _effort(goal: Goal, cycle: Cycle, key_result_ids: list[int], *, week: int) -> EffortView:
    """Week by week, where the effort of the goal's people went: this goal, their other goals, and the
    unlinked work, by theme (four or five queries)."""
    engine_cycle = cycle_of(cycle)
    last = min(max(week, 1), engine_cycle.week_count)
    people = _effort_people(goal, cycle, key_result_ids)
    weeks = [charts.EffortWeek(week=number) for number in range(1, last + 1)]
    namer = ThemeNamer()
    on_goal = Exists(
        SignalKeyResult.objects.filter(signal_id=OuterRef("pk"), key_result_id__in=key_result_ids)
    )
    linked = Exists(SignalKeyResult.objects.filter(signal_id=OuterRef("pk")))
    theme_totals: dict[str, float] = defaultdict(float)
    raw: list[tuple[int, str, float]] = []
    if people:
        for row in (
            ExecutionSignal.objects.filter(
                occurred_at__gte=engine_cycle.starts_at,
                occurred_at__lt=engine_cycle.week_start(last + 1),
                actor__membership_id__in=people,
            )
            .annotate(
                day=TruncDate("occurred_at", tzinfo=UTC),
                on_goal=on_goal,
                linked=linked,
                epic=KT("match_context__0__epic__0"),
                project=KT("match_context__0__project__0"),
                channel=KT("match_context__0__channel__0"),
                pipeline=KT("match_context__0__pipeline__0"),
            )
            .values("day", "on_goal", "linked", "provider", "epic", "project", "channel", "pipeline")
            .annotate(weight=Sum("weight"))
            .order_by()
        ):
            week_number = (row["day"] - cycle.start).days // 7 + 1
            if not 1 <= week_number <= last:
                continue
            if row["on_goal"]:
                band = "goal"
            elif row["linked"]:
                band = "other-goals"
            else:
                band = namer.theme_id(row)
                theme_totals[band] += row["weight"]
            raw.append((week_number, band, row["weight"]))
    themes = {theme.id: theme for theme in namer.themes()} if theme_totals else {}
    top = sorted(theme_totals, key=lambda theme_id: -theme_totals[theme_id])[:THEMES_SHOWN]
    goal_noun = "this key result" if goal.is_key_result else "this objective"
    series = [
        charts.EffortSeries("goal", goal_noun[0].upper() + goal_noun[1:], "goal"),
        charts.EffortSeries("other-goals", "Their other goals", "other-goals"),
    ]
    series += [
        charts.EffortSeries(
            theme_id, theme_name(themes[theme_id]) if theme_id in themes else theme_id, f"theme-{index}"
        )
        for index, theme_id in enumerate(top, start=1)
    ]
    if len(theme_totals) > len(top):
        series.append(charts.EffortSeries("unlinked-other", "Other unlinked work", "theme-other"))
    for week_number, band, weight in raw:
        key = band if band in ("goal", "other-goals") or band in top else "unlinked-other"
        bucket = weeks[week_number - 1].weights
        bucket[key] = bucket.get(key, 0.0) + weight
    used = {key for effort_week in weeks for key in effort_week.weights}
    series = [band for band in series if band.key in used or band.key == "goal"]
    rows = [
        EffortRow(
            week=effort_week.week,
            cells=[
                percent(effort_week.weights.get(band.key, 0.0) / effort_week.total)
                if effort_week.total
                else "-"
                for band in series
            ],
            total=f"{effort_week.total:g}",
        )
        for effort_week in weeks
    ]
    summary = _effort_summary(weeks, series, goal_noun)
    label = f"Where the effort of the {len(people)} people on '{goal.title}' went, week by week"
    if summary:
        label += f". {summary}"
    return EffortView(
        chart=charts.effort_chart(weeks, series, label=label),
        series=series,
        rows=rows,
        people=len(people),
        summary=summary,
    )


def _effort_summary(
    weeks: Sequence[charts.EffortWeek], series: Sequence[charts.EffortSeries], goal_noun: str
) -> str:
    active = [effort_week for effort_week in weeks if effort_week.total > 0]
    if not active:
        return ""
    latest = active[-1]
    share = latest.weights.get("goal", 0.0) / latest.total
    sentence = f"In week {latest.week}, {percent(share)} of their effort went to {goal_noun}"
    elsewhere = [band for band in series if band.key != "goal" and latest.weights.get(band.key, 0.0) > 0]
    if elsewhere:
        biggest = max(elsewhere, key=lambda band: latest.weights[band.key])
        biggest_label = biggest.label if biggest.key != "other-goals" else "their other goals"
        biggest_share = percent(latest.weights[biggest.key] / latest.total)
        sentence += f"; the largest share, {biggest_share}, went to {biggest_label}"
    first = active[0]
    if first.week != latest.week:
        first_share = first.weights.get("goal", 0.0) / first.total
        sentence += f" (week {first.week}: {percent(first_share)} on {goal_noun})"
    return sentence + "."


# --- One timeline -----------------------------------------------------------------------------------


def _timeline(
    viewer: Membership,
    goal: Goal,
    cycle: Cycle,
    key_result_ids: list[int],
    *,
    findings: Sequence[FindingView],
    week: int,
    onset: int | None,
    slug: str,
) -> TimelineView:
    engine_cycle = cycle_of(cycle)
    weeks = engine_cycle.week_count

    def week_of(moment: datetime | date) -> int:
        if isinstance(moment, datetime):
            number = engine_cycle.week_of(moment)
        else:
            number = (moment - cycle.start).days // 7 + 1
        return min(max(number, 1), weeks)

    items: list[tuple[int, TimelineItem]] = []
    for view in findings:
        finding = view.finding
        items.append(
            (
                finding.onset_week,
                TimelineItem(
                    lane="findings",
                    at=finding.onset_date,
                    text=f"{view.kind_label} begins",
                    detail=finding.explanation,
                    tone="bad" if view.is_current else "",
                ),
            )
        )
        for event in view.events:
            action = event.get_action_display().lower()
            if event.by is None:
                # The engine acts as of the end of the week it evaluated: the event belongs to that week.
                number = week_of(event.at - ENGINE_EVENT_OFFSET)
                text = f"{view.kind_label} {action} by the drift engine after week {number}"
                detail = event.note
            else:
                number = week_of(event.at)
                text = f"{view.kind_label} {action} by {event.by.user.full_name}"
                detail = event.note
            items.append(
                (
                    number,
                    TimelineItem(
                        lane="findings",
                        at=event.at,
                        text=text,
                        detail=detail,
                        tone="warn"
                        if event.action in (FindingEvent.Action.DETECTED, FindingEvent.Action.REOPENED)
                        else "good",
                    ),
                )
            )
    entries = (
        goal_selectors.key_result_timeline(goal.key_result)
        if goal.key_result is not None
        else goal_selectors.objective_timeline(goal.objective)
    )
    goal_url = (
        reverse("goals:key_result_detail", kwargs={"org_slug": slug, "key_result_id": goal.id})
        if goal.is_key_result
        else reverse("goals:objective_detail", kwargs={"org_slug": slug, "objective_id": goal.id})
    )
    for entry in entries:
        if entry.kind == "changed" and not entry.changes:
            continue  # saved again with nothing the timeline would show
        progress_only = entry.kind == "changed" and all(
            change.label in ("Current value", "Confidence") for change in entry.changes
        )
        text = {"created": "Goal created", "deleted": "Goal deleted"}.get(
            entry.kind, "Progress recorded" if progress_only else "Goal edited"
        )
        items.append(
            (
                week_of(entry.when),
                TimelineItem(
                    lane="edits",
                    at=entry.when,
                    text=text,
                    detail=entry.who + (f": {entry.reason}" if entry.reason else ""),
                    changes=entry.changes,
                    link=EvidenceLink("See the goal's history", goal_url),
                    tone="" if progress_only or entry.kind == "created" else "warn",
                ),
            )
        )
    reports = report_ids(viewer)
    for update in (
        CheckInKeyResultUpdate.objects.filter(
            key_result_id__in=key_result_ids, check_in__state=CheckInState.SUBMITTED
        )
        .exclude(status="")
        .select_related("check_in__membership__user", "key_result")
        .order_by("check_in__week", "id")
    ):
        check_in = update.check_in
        author = check_in.membership
        may_read = author.pk == viewer.pk or author.pk in reports
        subject = "" if goal.is_key_result else f" on '{update.key_result.title}'"
        items.append(
            (
                week_of(check_in.week),
                TimelineItem(
                    lane="check_ins",
                    at=check_in.week,
                    text=f"{author.user.full_name}: {update.get_status_display().lower()}{subject}",
                    detail=update.note,
                    link=EvidenceLink(
                        "Open the check-in",
                        reverse(
                            "goals:check_in_detail", kwargs={"org_slug": slug, "check_in_id": check_in.pk}
                        ),
                    )
                    if may_read
                    else None,
                    tone=STATUS_TONES.get(update.status, ""),
                ),
            )
        )
    kpis = {
        tag.kpi_id: tag.kpi
        for tag in KPIObjectiveTag.objects.filter(objective=goal.objective).select_related("kpi")
    }
    if kpis:
        for reading in KPIReading.objects.filter(
            kpi_id__in=list(kpis),
            recorded_at__gte=engine_cycle.starts_at,
            recorded_at__lt=engine_cycle.ends_at,
        ).order_by("recorded_at", "id"):
            kpi = kpis[reading.kpi_id]
            status = kpi_status(
                direction=kpi.direction, green=kpi.green, red=kpi.red, value=reading.value
            ).value
            items.append(
                (
                    week_of(reading.recorded_at),
                    TimelineItem(
                        lane="kpis",
                        at=reading.recorded_at,
                        text=f"{kpi.name}: {reading.value:g} {kpi.unit}".strip(),
                        detail=f"{status.capitalize()}" + (f" · {reading.note}" if reading.note else ""),
                        link=EvidenceLink(
                            "Open the KPI",
                            reverse("goals:kpi_detail", kwargs={"org_slug": slug, "kpi_id": kpi.pk}),
                        ),
                        tone=KPI_TONES.get(status, ""),
                    ),
                )
            )

    by_lane_week: dict[tuple[str, int], list[TimelineItem]] = defaultdict(list)
    for number, item in items:
        by_lane_week[(item.lane, number)].append(item)
    lanes = [
        charts.TimelineLane(
            key=lane,
            label=label,
            marks=[
                charts.TimelineMark(
                    week=number,
                    count=len(group),
                    tone=max((item.tone for item in group), key=lambda tone: TONE_RANK.get(tone, 0))
                    or "neutral",
                    title=f"Week {number}: "
                    + "; ".join(item.text for item in group[:6])
                    + (f"; and {len(group) - 6} more" if len(group) > 6 else ""),
                )
                for (lane_key, number), group in sorted(by_lane_week.items(), key=lambda pair: pair[0][1])
                if lane_key == lane
            ],
        )
        for lane, label in LANES.items()
    ]
    by_week: dict[int, list[TimelineItem]] = defaultdict(list)
    for number, item in items:
        by_week[number].append(item)
    lane_order = list(LANES)
    timeline_weeks = [
        TimelineWeek(
            week=number,
            starts=week_start_date(cycle, number),
            items=sorted(by_week[number], key=lambda item: (lane_order.index(item.lane), _moment(item.at))),
        )
        for number in sorted(by_week, reverse=True)
    ]
    counted = ", ".join(
        f"{sum(mark.count for mark in lane.marks)} {lane.label.lower()}" for lane in lanes if lane.marks
    )
    onset_text = f"; drift from week {onset}" if onset is not None else ""
    return TimelineView(
        chart=charts.timeline_chart(
            lanes,
            weeks=weeks,
            now=float(min(max(week, 0), weeks)),
            onset_week=onset,
            label=f"Timeline of '{goal.title}' by week of the cycle: {counted or 'nothing yet'}{onset_text}",
        ),
        weeks=timeline_weeks,
    )


def _moment(value: datetime | date) -> datetime:
    if isinstance(value, datetime):
        return value
    return datetime.combine(value, datetime.min.time(), tzinfo=UTC)


def finding_subject_goal(finding: Finding) -> Goal:
    """The goal a finding is about, with what the drift pages show of it (call with relations loaded)."""
    if finding.key_result is not None:
        return goal_of_key_result(finding.key_result)
    assert finding.objective is not None
    return goal_of_objective(finding.objective)


__all__ = [
    "GoalDriftPage",
    "finding_subject_goal",
    "goal_drift_page",
    "goal_of_key_result",
    "goal_of_objective",
    "may_act_on_findings",
    "short_date",
]
