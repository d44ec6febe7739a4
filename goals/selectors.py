"""Reads of the goal system: the cascade with progress, now or as it stood at any past moment."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from django.db import models
from django.db.models import F, Q, Window
from django.db.models.functions import RowNumber
from django.utils import timezone
from django.utils.safestring import SafeString

from goals import charts, guardrails
from goals.line_of_sight import line_of_sight_sentence, objective_chain
from goals.models import (
    KPI,
    Cycle,
    Direction,
    KeyResult,
    KeyResultContributor,
    KPIObjectiveTag,
    KPIReading,
    Level,
    Objective,
    ObjectiveState,
)
from goals.progress import (
    KeyResultFigures,
    expected_progress,
    key_result_progress_map,
    objective_progress_map,
)
from okrsignal.models import Membership, Team


@dataclass
class CascadeNode:
    objective: Objective
    progress: float
    key_results: list[tuple[KeyResult, float]]
    children: list[CascadeNode] = field(default_factory=list)


@dataclass
class Cascade:
    cycle: Cycle
    moment: datetime | None
    expected: float
    roots: list[CascadeNode]

    def walk(self) -> list[tuple[CascadeNode, int]]:
        ordered: list[tuple[CascadeNode, int]] = []

        def visit(node: CascadeNode, depth: int) -> None:
            ordered.append((node, depth))
            for child in node.children:
                visit(child, depth + 1)

        for root in self.roots:
            visit(root, 0)
        return ordered


def _figures(key_result: KeyResult) -> KeyResultFigures:
    return KeyResultFigures(
        id=key_result.pk,
        objective_id=key_result.objective_id,
        parent_key_result_id=key_result.parent_key_result_id,
        baseline=key_result.baseline,
        target=key_result.target,
        current=key_result.current_value,
        weight=key_result.weight,
    )


def cascade_for_cycle(cycle: Cycle, *, as_of: datetime | None = None) -> Cascade:
    """The company → team → individual tree with progress, live or rebuilt from history as of ``as_of``.

    As of a moment, objectives and key results are taken as their history records them at that instant
    (titles, parents, targets and values then), so nothing after the moment is used. Two queries.
    """
    if as_of is None:
        objectives = list(Objective.objects.filter(cycle=cycle).select_related("owner__user", "team"))
        key_results = list(KeyResult.objects.filter(objective__cycle=cycle).select_related("owner__user"))
    else:
        objectives = list(Objective.history.as_of(as_of).filter(cycle_id=cycle.pk))
        objective_ids = {objective.pk for objective in objectives}
        key_results = [kr for kr in KeyResult.history.as_of(as_of) if kr.objective_id in objective_ids]
    figures = [_figures(kr) for kr in key_results]
    kr_progress = key_result_progress_map(figures)
    objective_progress = objective_progress_map(figures)
    nodes = {
        objective.pk: CascadeNode(
            objective=objective,
            progress=objective_progress.get(objective.pk, 0.0),
            key_results=[(kr, kr_progress[kr.pk]) for kr in key_results if kr.objective_id == objective.pk],
        )
        for objective in objectives
    }
    roots: list[CascadeNode] = []
    for node in sorted(
        nodes.values(), key=lambda n: (n.objective.level != "company", n.objective.title.lower())
    ):
        parent = nodes.get(node.objective.parent_id) if node.objective.parent_id else None
        (parent.children if parent is not None else roots).append(node)
    moment_day = as_of or timezone.now()
    return Cascade(
        cycle=cycle,
        moment=as_of,
        expected=expected_progress(start=cycle.start, end=cycle.end, at=moment_day),
        roots=roots,
    )


# --- Pages ------------------------------------------------------------------------------------------
# Reads shaped for the goal pages. Each runs a fixed number of queries, however many goals there are.


def cycles_newest_first() -> list[Cycle]:
    return list(Cycle.objects.order_by("-start", "-pk"))


def current_cycle(cycles: Sequence[Cycle], *, today: date | None = None) -> Cycle | None:
    """The cycle whose dates include today; else the most recent one that has started; else the next one."""
    today = today or timezone.localdate()
    containing = [cycle for cycle in cycles if cycle.start <= today <= cycle.end]
    if containing:
        return max(containing, key=lambda cycle: cycle.start)
    started = [cycle for cycle in cycles if cycle.start <= today]
    if started:
        return max(started, key=lambda cycle: cycle.start)
    return min(cycles, key=lambda cycle: cycle.start) if cycles else None


def cycle_timing(cycle: Cycle, *, today: date | None = None) -> str:
    """Where today falls in the cycle, in words: "41 days left", "starts in 3 days", "ended"."""
    today = today or timezone.localdate()
    if today < cycle.start:
        days = (cycle.start - today).days
        return f"starts in {days} day{'s' if days != 1 else ''}"
    if today > cycle.end:
        return "ended"
    days = (cycle.end - today).days
    if days == 0:
        return "last day"
    return f"{days} day{'s' if days != 1 else ''} left"


@dataclass
class KeyResultRow:
    key_result: KeyResult
    progress: float
    tone: str
    bar: SafeString
    line_of_sight: str = ""
    rolled_up_from: int = 0  # how many key results roll up into this one (its progress is their mean)

    @property
    def percent(self) -> str:
        return charts.percent(self.progress)

    @property
    def pace_label(self) -> str:
        return charts.PACE_LABELS[self.tone]

    @property
    def current(self) -> str:
        return charts.number(self.key_result.current_value)

    @property
    def target(self) -> str:
        return charts.number(self.key_result.target)

    @property
    def baseline(self) -> str:
        return charts.number(self.key_result.baseline)

    @property
    def confidence(self) -> str | None:
        confidence = self.key_result.confidence
        return charts.percent(confidence) if confidence is not None else None


@dataclass
class ObjectiveRow:
    objective: Objective
    progress: float
    expected: float
    tone: str
    bar: SafeString
    key_results: list[KeyResultRow]
    children: list[ObjectiveRow] = field(default_factory=list)

    @property
    def percent(self) -> str:
        return charts.percent(self.progress)

    @property
    def pace_label(self) -> str:
        return charts.PACE_LABELS[self.tone]

    @property
    def expected_percent(self) -> str:
        return charts.percent(self.expected)

    @property
    def warning_count(self) -> int:
        return len(self.objective.warnings) + sum(len(row.key_result.warnings) for row in self.key_results)

    @property
    def has_content(self) -> bool:
        return bool(self.key_results or self.children)


@dataclass
class CycleFigures:
    objectives: int
    active: int
    key_results: int
    average_progress: float | None
    expected: float
    needs_realignment: int
    behind: int
    with_warnings: int
    days_left: int
    timing: str

    @property
    def average_percent(self) -> str:
        return charts.percent(self.average_progress)

    @property
    def expected_percent(self) -> str:
        return charts.percent(self.expected)

    @property
    def tone(self) -> str:
        if self.average_progress is None:
            return "idle"
        return charts.pace_tone(progress=self.average_progress, expected=self.expected)


@dataclass
class GoalTree:
    """A cycle's cascade shaped for pages: rows with progress bars, and every objective by id.

    Objectives and key results point at each other through Django's relation caches (a key result's
    objective, an objective's parent), so line-of-sight sentences are written without further queries.
    """

    cycle: Cycle
    expected: float
    roots: list[ObjectiveRow]
    rows: dict[int, ObjectiveRow]

    def walk(self) -> list[tuple[ObjectiveRow, int]]:
        ordered: list[tuple[ObjectiveRow, int]] = []

        def visit(row: ObjectiveRow, depth: int) -> None:
            ordered.append((row, depth))
            for child in row.children:
                visit(child, depth + 1)

        for root in self.roots:
            visit(root, 0)
        return ordered

    def key_result_rows(self) -> list[KeyResultRow]:
        return [kr_row for row, _ in self.walk() for kr_row in row.key_results]

    def figures(self) -> CycleFigures:
        counted = [
            row
            for row in self.rows.values()
            if row.objective.state in (ObjectiveState.ACTIVE, ObjectiveState.DONE)
        ]
        active = [row for row in counted if row.objective.state == ObjectiveState.ACTIVE]
        progresses = [row.progress for row in counted if row.key_results]
        return CycleFigures(
            objectives=sum(
                1 for row in self.rows.values() if row.objective.state != ObjectiveState.CANCELLED
            ),
            active=len(active),
            key_results=sum(len(row.key_results) for row in self.rows.values()),
            average_progress=sum(progresses) / len(progresses) if progresses else None,
            expected=self.expected,
            needs_realignment=sum(1 for row in active if row.objective.needs_realignment),
            behind=sum(1 for row in active if row.key_results and row.tone in ("warn", "bad")),
            with_warnings=sum(1 for row in self.rows.values() if row.warning_count),
            days_left=max(0, (self.cycle.end - timezone.localdate()).days),
            timing=cycle_timing(self.cycle),
        )


def _key_result_row(key_result: KeyResult, progress: float, expected: float, state: str) -> KeyResultRow:
    tone = charts.pace_tone(progress=progress, expected=expected, state=state)
    return KeyResultRow(
        key_result=key_result,
        progress=progress,
        tone=tone,
        bar=charts.progress_bar(progress=progress, expected=expected, tone=tone, label=key_result.title),
    )


def goal_tree(cycle: Cycle) -> GoalTree:
    """The cycle's cascade as page rows (two queries, from ``cascade_for_cycle``)."""
    cascade = cascade_for_cycle(cycle)
    expected = cascade.expected
    objectives = {node.objective.pk: node.objective for node, _ in cascade.walk()}
    for objective in objectives.values():
        objective.cycle = cycle
        if objective.parent_id in objectives:
            objective.parent = objectives[objective.parent_id]
    parent_key_results: dict[int, KeyResult] = {}
    for node, _ in cascade.walk():
        for key_result, _progress in node.key_results:
            key_result.objective = node.objective
            parent_key_results[key_result.pk] = key_result
    rolled_up_from: dict[int, int] = {}
    for key_result in parent_key_results.values():
        if key_result.parent_key_result_id in parent_key_results:
            key_result.parent_key_result = parent_key_results[key_result.parent_key_result_id]
            rolled_up_from[key_result.parent_key_result_id] = (
                rolled_up_from.get(key_result.parent_key_result_id, 0) + 1
            )

    rows: dict[int, ObjectiveRow] = {}

    def build(node: CascadeNode) -> ObjectiveRow:
        objective = node.objective
        tone = charts.pace_tone(progress=node.progress, expected=expected, state=objective.state)
        row = ObjectiveRow(
            objective=objective,
            progress=node.progress,
            expected=expected,
            tone=tone,
            bar=charts.progress_bar(
                progress=node.progress, expected=expected, tone=tone, label=objective.title
            ),
            key_results=[
                _key_result_row(key_result, progress, expected, objective.state)
                for key_result, progress in node.key_results
            ],
        )
        for kr_row in row.key_results:
            kr_row.rolled_up_from = rolled_up_from.get(kr_row.key_result.pk, 0)
        row.children = [build(child) for child in node.children]
        rows[objective.pk] = row
        return row

    roots = [build(node) for node in cascade.roots]
    return GoalTree(cycle=cycle, expected=expected, roots=roots, rows=rows)


def company_objectives_served(row: ObjectiveRow, tree: GoalTree) -> ObjectiveRow | None:
    """The company objective at the top of ``row``'s chain, if the chain reaches one."""
    seen: set[int] = set()
    objective: Objective | None = row.objective
    while objective is not None and objective.pk not in seen:
        seen.add(objective.pk)
        if objective.level == Level.COMPANY:
            return tree.rows.get(objective.pk)
        parent_id = objective.parent_id
        objective = tree.rows[parent_id].objective if parent_id in tree.rows else None
    return None


def _objective_phrase(objective: Objective) -> str:
    if objective.level == Level.COMPANY:
        return f"the company objective '{objective.title}'"
    if objective.level == Level.TEAM and objective.team is not None:
        return f"{objective.team.name}'s '{objective.title}'"
    if objective.level == Level.TEAM:
        return f"the team objective '{objective.title}'"
    owner = objective.owner.user.full_name if objective.owner else "someone"
    return f"{owner}'s objective '{objective.title}'"


def objective_line_of_sight(objective: Objective, *, viewer: Membership | None = None) -> str:
    """Like a key result's line of sight, for an objective: up its chain to the company objective."""
    if objective.level == Level.COMPANY:
        return f"'{objective.title}' is a company objective."
    if viewer is not None and objective.owner_id == viewer.pk:
        subject = f"Your objective '{objective.title}'"
    else:
        subject = _objective_phrase(objective)
        subject = subject[0].upper() + subject[1:]
    chain = objective_chain(objective)
    if len(chain) == 1:
        return f"{subject} connects to no company objective."
    sentence = f"{subject} serves " + ", which serves ".join(_objective_phrase(o) for o in chain[1:])
    if chain[-1].level != Level.COMPANY:
        sentence += ", which connects to no company objective"
    return sentence + "."


# --- My goals ---------------------------------------------------------------------------------------


@dataclass
class MyGoals:
    tree: GoalTree
    objectives: list[ObjectiveRow]
    key_results: list[KeyResultRow]
    contributing: list[KeyResultRow]

    @property
    def expected_percent(self) -> str:
        return charts.percent(self.tree.expected)


def my_goals(membership: Membership, cycle: Cycle) -> MyGoals:
    """The caller's objectives, the key results they own and those they contribute to (three queries)."""
    tree = goal_tree(cycle)
    contributing_ids = set(
        KeyResultContributor.objects.filter(
            membership=membership, key_result__objective__cycle=cycle
        ).values_list("key_result_id", flat=True)
    )
    owned: list[KeyResultRow] = []
    contributing: list[KeyResultRow] = []
    for kr_row in tree.key_result_rows():
        key_result = kr_row.key_result
        if key_result.owner_id == membership.pk:
            owned.append(kr_row)
        elif key_result.pk in contributing_ids:
            contributing.append(kr_row)
        else:
            continue
        kr_row.line_of_sight = line_of_sight_sentence(key_result, viewer=membership)
    return MyGoals(
        tree=tree,
        objectives=[row for row, _ in tree.walk() if row.objective.owner_id == membership.pk],
        key_results=owned,
        contributing=contributing,
    )


# --- History ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FieldChange:
    label: str
    before: str
    after: str


@dataclass
class TimelineEntry:
    when: datetime
    who: str
    kind: str  # created, changed or deleted
    reason: str
    changes: list[FieldChange]
    accepted_warnings: list[dict[str, str]]


# Fields that history keeps but a timeline need not show.
_QUIET_FIELDS = {"created_at", "warnings", "carried_from"}


def _describe_value(
    model: type[models.Model], name: str, value: Any, names: dict[str, dict[Any, str]]
) -> str:
    if value is None or value == "":
        return "—"
    model_field = model._meta.get_field(name)
    if name in names:
        return names[name].get(value, "(removed)")
    choices = getattr(model_field, "choices", None)
    if choices:
        return str(dict(choices).get(value, value))
    if name == "confidence":
        return charts.percent(value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return charts.number(value)
    return str(value)


def _field_label(model: type[models.Model], name: str) -> str:
    return str(getattr(model._meta.get_field(name), "verbose_name", name)).capitalize()


def history_timeline(
    records: Iterable[Any], *, model: type[models.Model], names: dict[str, dict[Any, str]]
) -> list[TimelineEntry]:
    """Who changed what and when, newest first: each record diffed against the one before it.

    ``records`` are one object's historical records, oldest first; ``names`` maps a foreign-key field to
    the labels of the ids it may hold (so the timeline shows people and goals, not numbers).
    """
    entries: list[TimelineEntry] = []
    previous = None
    for record in records:
        user = record.history_user
        who = (user.full_name or user.email) if user is not None else "OKRSignal"
        accepted: list[dict[str, str]] = []
        changes: list[FieldChange] = []
        if previous is None or record.history_type == "+":
            kind = "created"
            accepted = list(record.warnings or [])
        else:
            delta = record.diff_against(previous, excluded_fields=_QUIET_FIELDS)
            changes = [
                FieldChange(
                    label=_field_label(model, change.field),
                    before=_describe_value(model, change.field, change.old, names),
                    after=_describe_value(model, change.field, change.new, names),
                )
                for change in delta.changes
            ]
            known = {(w.get("code"), w.get("reason")) for w in previous.warnings or []}
            accepted = [w for w in record.warnings or [] if (w.get("code"), w.get("reason")) not in known]
            kind = "deleted" if record.history_type == "-" else "changed"
        entries.append(
            TimelineEntry(
                when=record.history_date,
                who=who,
                kind=kind,
                reason=record.history_change_reason or "",
                changes=changes,
                accepted_warnings=accepted,
            )
        )
        previous = record
    entries.reverse()
    return entries


def _membership_names() -> dict[Any, str]:
    return dict(Membership.objects.values_list("pk", "user__full_name"))


def objective_timeline(objective: Objective) -> list[TimelineEntry]:
    """The objective's history (three queries: its records, people's names, team names, goal titles)."""
    records = list(objective.history.select_related("history_user").order_by("history_date", "history_id"))
    parent_ids = {record.parent_id for record in records if record.parent_id}
    names = {
        "owner": _membership_names(),
        "team": dict(Team.objects.values_list("pk", "name")),
        "parent": dict(Objective.objects.filter(pk__in=parent_ids).values_list("pk", "title")),
    }
    return history_timeline(records, model=Objective, names=names)


def key_result_timeline(key_result: KeyResult) -> list[TimelineEntry]:
    records = list(key_result.history.select_related("history_user").order_by("history_date", "history_id"))
    parent_ids = {record.parent_key_result_id for record in records if record.parent_key_result_id}
    objective_ids = {record.objective_id for record in records}
    names = {
        "owner": _membership_names(),
        "objective": dict(Objective.objects.filter(pk__in=objective_ids).values_list("pk", "title")),
        "parent_key_result": dict(KeyResult.objects.filter(pk__in=parent_ids).values_list("pk", "title")),
    }
    return history_timeline(records, model=KeyResult, names=names)


def key_result_value_series(key_result: KeyResult) -> list[tuple[datetime, float]]:
    """Every recorded value of the key result, oldest first, from its history (one query)."""
    series: list[tuple[datetime, float]] = []
    for moment, value in key_result.history.order_by("history_date", "history_id").values_list(
        "history_date", "current_value"
    ):
        if value is not None and (not series or series[-1][1] != value or series[-1][0] != moment):
            series.append((moment, value))
    return series


# --- KPIs -------------------------------------------------------------------------------------------

SPARKLINE_READINGS = 12


@dataclass
class TaggedObjective:
    objective: Objective
    progress: float
    expected: float
    tone: str
    bar: SafeString

    @property
    def percent(self) -> str:
        return charts.percent(self.progress)


@dataclass
class KPIRow:
    kpi: KPI
    readings: list[KPIReading]  # oldest first
    objectives: list[TaggedObjective]
    chart: SafeString = field(default_factory=lambda: SafeString(""))

    @property
    def latest(self) -> KPIReading | None:
        return self.readings[-1] if self.readings else None

    @property
    def latest_display(self) -> str:
        return charts.number(self.latest.value) if self.latest else "—"

    @property
    def green_display(self) -> str:
        return charts.number(self.kpi.green)

    @property
    def red_display(self) -> str:
        return charts.number(self.kpi.red)

    @property
    def status(self) -> str | None:
        latest = self.latest
        if latest is None:
            return None
        return guardrails.kpi_status(
            direction=self.kpi.direction, green=self.kpi.green, red=self.kpi.red, value=latest.value
        ).value

    @property
    def thresholds(self) -> list[charts.ReferenceLine]:
        return [
            charts.ReferenceLine(self.kpi.green, "Green", "green"),
            charts.ReferenceLine(self.kpi.red, "Red", "red"),
        ]

    @property
    def better(self) -> str:
        return "lower is better" if self.kpi.direction == Direction.DECREASE else "higher is better"


def objective_progress(objectives: Iterable[Objective]) -> dict[int, float]:
    """Progress of the given objectives, rolled up as in their cycles' cascades (one query)."""
    objectives = list(objectives)
    cycle_ids = {objective.cycle_id for objective in objectives}
    if not cycle_ids:
        return {}
    figures = [
        KeyResultFigures(
            id=pk,
            objective_id=objective_id,
            parent_key_result_id=parent_id,
            baseline=baseline,
            target=target,
            current=current,
            weight=weight,
        )
        for pk, objective_id, parent_id, baseline, target, current, weight in KeyResult.objects.filter(
            objective__cycle_id__in=cycle_ids
        ).values_list(
            "pk", "objective_id", "parent_key_result_id", "baseline", "target", "current_value", "weight"
        )
    ]
    return objective_progress_map(figures)


def _tagged_objectives(kpis: Sequence[KPI]) -> dict[int, list[TaggedObjective]]:
    tags = list(
        KPIObjectiveTag.objects.filter(kpi__in=kpis)
        .select_related("objective__cycle", "objective__owner__user", "objective__team")
        .order_by("-objective__cycle__start", "objective__level", "objective__title")
    )
    progress = objective_progress(tag.objective for tag in tags)
    now = timezone.now()
    tagged: dict[int, list[TaggedObjective]] = {}
    for tag in tags:
        objective = tag.objective
        value = progress.get(objective.pk, 0.0)
        expected = expected_progress(start=objective.cycle.start, end=objective.cycle.end, at=now)
        tone = charts.pace_tone(progress=value, expected=expected, state=objective.state)
        tagged.setdefault(tag.kpi_id, []).append(
            TaggedObjective(
                objective=objective,
                progress=value,
                expected=expected,
                tone=tone,
                bar=charts.progress_bar(progress=value, expected=expected, tone=tone, label=objective.title),
            )
        )
    return tagged


def kpi_board(*, team: Team | None = None, objective: Objective | None = None) -> list[KPIRow]:
    """Every KPI (or a team's, or those guarding one objective) with its latest readings, status and
    tagged objectives (four queries)."""
    kpis = KPI.objects.select_related("owner__user", "team").order_by("name")
    if objective is not None:
        kpis = kpis.filter(objective_tags__objective=objective)
    if team is not None:
        # A team is measured by its own KPIs and by those guarding its objectives.
        kpis = kpis.filter(Q(team=team) | Q(objective_tags__objective__team=team)).distinct()
    kpi_list = list(kpis)
    recent = (
        KPIReading.objects.filter(kpi__in=kpi_list)
        .annotate(newness=Window(RowNumber(), partition_by=[F("kpi_id")], order_by=[F("recorded_at").desc()]))
        .filter(newness__lte=SPARKLINE_READINGS)
        .order_by("kpi_id", "recorded_at")
    )
    readings: dict[int, list[KPIReading]] = {}
    for reading in recent:
        readings.setdefault(reading.kpi_id, []).append(reading)
    tagged = _tagged_objectives(kpi_list)
    rows = []
    for kpi in kpi_list:
        row = KPIRow(kpi=kpi, readings=readings.get(kpi.pk, []), objectives=tagged.get(kpi.pk, []))
        latest = row.latest
        row.chart = charts.sparkline(
            [reading.value for reading in row.readings],
            lines=row.thresholds,
            tone=row.status or "",
            label=(
                f"{kpi.name}, last {len(row.readings)} readings; "
                f"latest {charts.number(latest.value)} {kpi.unit}"
                if latest
                else kpi.name
            ),
        )
        rows.append(row)
    return rows


def kpi_detail(kpi: KPI) -> KPIRow:
    """A KPI with its whole series, drawn with its thresholds and zones (three queries)."""
    readings = list(
        KPIReading.objects.filter(kpi=kpi)
        .select_related("recorded_by__user", "objective")
        .order_by("recorded_at", "pk")
    )
    row = KPIRow(kpi=kpi, readings=readings, objectives=_tagged_objectives([kpi]).get(kpi.pk, []))
    low, high = sorted((kpi.green, kpi.red))
    far = 1e12
    if kpi.direction == Direction.DECREASE:
        bands = [charts.Band(-far, kpi.green, "green"), charts.Band(kpi.red, far, "red")]
    else:
        bands = [charts.Band(kpi.green, far, "green"), charts.Band(-far, kpi.red, "red")]
    bands.append(charts.Band(low, high, "amber"))
    row.chart = charts.series_chart(
        [(reading.recorded_at, reading.value) for reading in readings],
        unit=kpi.unit,
        label=f"{kpi.name} over time, {len(readings)} readings, with the green and red thresholds",
        lines=row.thresholds,
        bands=bands,
    )
    return row


# --- Team alignment ---------------------------------------------------------------------------------


@dataclass
class PersonLineOfSight:
    person: Membership
    sentences: list[str]


@dataclass
class TeamAlignment:
    team: Team
    tree: GoalTree
    team_objectives: list[ObjectiveRow]
    company_objectives: list[tuple[ObjectiveRow, list[ObjectiveRow]]]
    unconnected: list[ObjectiveRow]
    individual_objectives: list[tuple[ObjectiveRow, ObjectiveRow]]
    kpis: list[KPIRow]
    people: list[PersonLineOfSight]


def team_alignment(team: Team, cycle: Cycle, *, viewer: Membership | None = None) -> TeamAlignment:
    """What a team serves, what rolls into it, what it is measured by, and each member's line of sight."""
    tree = goal_tree(cycle)
    team_rows = [
        row
        for row, _ in tree.walk()
        if row.objective.team_id == team.pk and row.objective.level == Level.TEAM
    ]
    served: dict[int, tuple[ObjectiveRow, list[ObjectiveRow]]] = {}
    unconnected = []
    for row in team_rows:
        company = company_objectives_served(row, tree)
        if company is None:
            unconnected.append(row)
        else:
            served.setdefault(company.objective.pk, (company, []))[1].append(row)
    individual = [
        (child, row)
        for row in team_rows
        for child in row.children
        if child.objective.level == Level.INDIVIDUAL
    ]
    people = list(
        Membership.objects.filter(team=team, is_active=True)
        .select_related("user")
        .order_by("user__full_name")
    )
    key_results_by_owner: dict[int, list[KeyResultRow]] = {}
    objectives_by_owner: dict[int, list[ObjectiveRow]] = {}
    for row, _ in tree.walk():
        if row.objective.owner_id is not None:
            objectives_by_owner.setdefault(row.objective.owner_id, []).append(row)
        for kr_row in row.key_results:
            if kr_row.key_result.owner_id is not None:
                key_results_by_owner.setdefault(kr_row.key_result.owner_id, []).append(kr_row)
    lines = []
    for person in people:
        sentences = [
            line_of_sight_sentence(kr_row.key_result, viewer=viewer)
            for kr_row in key_results_by_owner.get(person.pk, [])
        ]
        if not sentences:
            sentences = [
                objective_line_of_sight(row.objective, viewer=viewer)
                for row in objectives_by_owner.get(person.pk, [])
            ]
        if not sentences:
            sentences = [f"{person.user.full_name} has no goals in {cycle.name} yet."]
        lines.append(PersonLineOfSight(person=person, sentences=sentences))
    return TeamAlignment(
        team=team,
        tree=tree,
        team_objectives=team_rows,
        company_objectives=list(served.values()),
        unconnected=unconnected,
        individual_objectives=individual,
        kpis=kpi_board(team=team),
        people=lines,
    )
