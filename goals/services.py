"""Every write to the goal system. Each change is checked by ``goals.validation`` and kept in history.

All functions take ``by`` (the membership acting) and an optional ``at`` (when it happened; defaults to
now), so history records who changed what and when — and replayed quarters get their history at the
time the events happened.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from alignment import triggers as drift_triggers
from goals import guardrails, relevance, validation
from goals.models import (
    KPI,
    Cycle,
    Direction,
    Initiative,
    KeyResult,
    KeyResultContributor,
    KPIObjectiveTag,
    KPIReading,
    Level,
    Objective,
    ObjectiveState,
    ObjectiveType,
)
from okrsignal.models import Membership, Team
from okrsignal.tenancy import (
    require_organization_id,
    require_relations_in_organization,
    require_same_organization,
)

OBJECTIVE_FIELDS = {"title", "description", "parent", "owner", "team", "type", "weight"}
# A change to any of these on a parent means its children must be re-confirmed by their owners.
REALIGNING_OBJECTIVE_FIELDS = {"title", "description", "parent"}
# The history reason of an owner's re-confirmation: the drift engine reads re-confirmations by it.
ALIGNMENT_CONFIRMED_REASON = "Alignment confirmed"
KEY_RESULT_FIELDS = {
    "title",
    "unit",
    "baseline",
    "target",
    "direction",
    "owner",
    "parent_key_result",
    "weight",
}


def _save_with_history(
    instance: Any, *, by: Membership | None, at: datetime, reason: str = "", **save: Any
) -> None:
    require_same_organization(by)
    require_relations_in_organization(instance)
    instance._history_user = by.user if by is not None else None
    instance._history_date = at
    instance._change_reason = reason
    instance.save(**save)
    drift_triggers.goal_changed(instance)


@transaction.atomic
def _refuse_if_closed(cycle: Cycle) -> None:
    """A closed cycle's goals, values and scores are frozen."""
    if cycle.closed_at is not None:
        raise validation.GoalValidationError(
            [validation.Problem("cycle", "cycle_closed", f"{cycle.name} is closed: its goals are frozen.")]
        )


def _refuse(problems: list[validation.Problem]) -> None:
    if problems:
        raise validation.GoalValidationError(problems)


TITLE_LENGTHS = {"title": 200, "name": 200, "unit": 30}
LONGEST_CYCLE_DAYS = 400


def cycle_create(*, name: str, start: date, end: date) -> Cycle:
    _refuse(validation.text_problems(max_lengths={"name": 60}, name=name))
    if start.year < 2000 or end.year > 2100 or (end - start).days > LONGEST_CYCLE_DAYS:
        raise validation.GoalValidationError(
            [
                validation.Problem(
                    "end", "cycle_span", "A cycle runs for at most a year, between 2000 and 2100."
                )
            ]
        )
    if end <= start:
        raise validation.GoalValidationError(
            [validation.Problem("end", "cycle_end", "The cycle must end after it starts.")]
        )
    if Cycle.objects.filter(name=name).exists():
        raise validation.GoalValidationError(
            [validation.Problem("name", "cycle_name", f"A cycle called {name} exists already.")]
        )
    return Cycle.objects.create(name=name, start=start, end=end)


def _objective_problems(
    *,
    objective: Objective | None,
    cycle: Cycle,
    level: str,
    parent: Objective | None,
    owner: Membership | None,
    at: datetime,
) -> list[validation.Problem]:
    problems = validation.objective_parent_problems(
        objective=objective, level=level, cycle_id=cycle.pk, parent=parent
    )
    if owner is not None:
        owned = Objective.objects.filter(cycle=cycle, owner=owner).exclude(
            state__in=[ObjectiveState.CANCELLED]
        )
        if objective is not None and objective.pk is not None:
            owned = owned.exclude(pk=objective.pk)
        problems += validation.start_simple_problems(
            owner_objective_count=owned.count() + 1, owner_name=str(owner)
        )
    if objective is None and level != Level.COMPANY:
        problems += validation.mid_cycle_problems(
            cycle_start=cycle.start, at=at, has_parent=parent is not None, what="objective"
        )
    return problems


def _relevance_problems(
    *, cycle: Cycle, title: str, description: str, parent: Objective | None
) -> list[validation.Problem]:
    if parent is None:
        return []
    parent_text = " ".join(
        [parent.title, parent.description, *parent.key_results.values_list("title", flat=True)]
    )
    corpus = [
        f"{t} {d}" for t, d in Objective.objects.filter(cycle=cycle).values_list("title", "description")
    ]
    return relevance.relevance_problems(
        child_text=f"{title} {description}", parent_title=parent.title, parent_text=parent_text, corpus=corpus
    )


@transaction.atomic
def objective_create(
    *,
    by: Membership | None,
    cycle: Cycle,
    title: str,
    level: str,
    owner: Membership | None,
    description: str = "",
    team: Team | None = None,
    parent: Objective | None = None,
    type: str = ObjectiveType.COMMITTED,
    state: str = ObjectiveState.ACTIVE,
    weight: float = 1.0,
    warning_reasons: Mapping[str, str] | None = None,
    as_given: bool = False,
    at: datetime | None = None,
) -> Objective:
    require_same_organization(cycle, owner, team, parent)
    _refuse_if_closed(cycle)
    _refuse(
        validation.text_problems(max_lengths=TITLE_LENGTHS, title=title) + validation.weight_problems(weight)
    )
    at = at or timezone.now()
    problems = _objective_problems(
        objective=None, cycle=cycle, level=level, parent=parent, owner=owner, at=at
    )
    problems += _relevance_problems(cycle=cycle, title=title, description=description, parent=parent)
    warnings = validation.settle_problems(problems, warning_reasons=warning_reasons, as_given=as_given)
    objective = Objective(
        cycle=cycle,
        title=title.strip(),
        description=description.strip(),
        level=level,
        owner=owner,
        team=team,
        parent=parent,
        type=type,
        state=state,
        weight=weight,
        warnings=warnings,
        created_at=at,
    )
    objective.organization_id = cycle.organization_id
    _save_with_history(objective, by=by, at=at)
    return objective


def _mark_children_for_realignment(
    *, objective: Objective, by: Membership | None, at: datetime, why: str
) -> None:
    for child in Objective.objects.filter(parent=objective, needs_realignment=False):
        child.needs_realignment = True
        _save_with_history(
            child, by=by, at=at, reason=f"Parent changed: {why}", update_fields=["needs_realignment"]
        )


@transaction.atomic
def objective_update(
    *,
    objective: Objective,
    by: Membership | None,
    changes: Mapping[str, Any],
    warning_reasons: Mapping[str, str] | None = None,
    as_given: bool = False,
    at: datetime | None = None,
) -> Objective:
    unknown = set(changes) - OBJECTIVE_FIELDS
    if unknown:
        raise ValueError(f"Objectives have no editable fields {sorted(unknown)}.")
    require_same_organization(objective, *changes.values())
    _refuse_if_closed(objective.cycle)
    if "title" in changes:
        _refuse(validation.text_problems(max_lengths=TITLE_LENGTHS, title=changes["title"]))
    if "weight" in changes:
        _refuse(validation.weight_problems(changes["weight"]))
    at = at or timezone.now()
    changed = {field for field, value in changes.items() if getattr(objective, field) != value}
    if not changed:
        return objective
    parent = changes.get("parent", objective.parent)
    owner = changes.get("owner", objective.owner)
    problems: list[validation.Problem] = []
    if "parent" in changed:
        problems += validation.objective_parent_problems(
            objective=objective, level=objective.level, cycle_id=objective.cycle_id, parent=parent
        )
    if "owner" in changed and owner is not None:
        problems += _objective_problems(
            objective=objective,
            cycle=objective.cycle,
            level=objective.level,
            parent=parent,
            owner=owner,
            at=at,
        )
    if changed & {"title", "description", "parent"}:
        problems += _relevance_problems(
            cycle=objective.cycle,
            title=changes.get("title", objective.title),
            description=changes.get("description", objective.description),
            parent=parent,
        )
    warnings = validation.settle_problems(problems, warning_reasons=warning_reasons, as_given=as_given)
    for field in changed:
        setattr(objective, field, changes[field])
    if warnings:
        objective.warnings = [*objective.warnings, *warnings]
    _save_with_history(objective, by=by, at=at)
    realigning = sorted(changed & REALIGNING_OBJECTIVE_FIELDS)
    if realigning:
        _mark_children_for_realignment(objective=objective, by=by, at=at, why=", ".join(realigning))
    return objective


@transaction.atomic
def objective_set_state(
    *, objective: Objective, by: Membership | None, state: str, reason: str = "", at: datetime | None = None
) -> Objective:
    """Pausing or cancelling asks for a reason; a paused or cancelled goal is never reported as drifting."""
    _refuse_if_closed(objective.cycle)
    if state in (ObjectiveState.PAUSED, ObjectiveState.CANCELLED) and not reason.strip():
        raise validation.GoalValidationError(
            [
                validation.Problem(
                    "state_reason",
                    "state_reason_missing",
                    f"Say why the objective is {ObjectiveState(state).label.lower()}.",
                )
            ]
        )
    objective.state = state
    objective.state_reason = reason.strip()
    _save_with_history(objective, by=by, at=at or timezone.now(), reason=reason.strip())
    return objective


@transaction.atomic
def objective_confirm_alignment(
    *, objective: Objective, by: Membership | None, at: datetime | None = None
) -> Objective:
    """The owner re-confirms that the objective still serves its parent. Recorded in its history."""
    _refuse_if_closed(objective.cycle)
    objective.needs_realignment = False
    _save_with_history(objective, by=by, at=at or timezone.now(), reason=ALIGNMENT_CONFIRMED_REASON)
    return objective


def _delete_with_history(instance: Any, *, by: Membership | None, at: datetime) -> None:
    instance._history_user = by.user if by is not None else None
    instance._history_date = at
    instance.delete()
    drift_triggers.goal_changed(instance)


def _contributors_set(
    key_result: KeyResult, contributors: Iterable[Membership], *, by: Membership | None, at: datetime
) -> None:
    """Make ``contributors`` the key result's contributors; each one added or removed is kept in history."""
    contributors = list(contributors)
    require_same_organization(*contributors)
    wanted = {membership.pk for membership in contributors if membership.pk != key_result.owner_id}
    for link in KeyResultContributor.objects.filter(key_result=key_result).exclude(membership_id__in=wanted):
        _delete_with_history(link, by=by, at=at)
    existing = set(
        KeyResultContributor.objects.filter(key_result=key_result).values_list("membership_id", flat=True)
    )
    for membership_id in sorted(wanted - existing):
        link = KeyResultContributor(key_result=key_result, membership_id=membership_id)
        link.organization_id = key_result.organization_id
        _save_with_history(link, by=by, at=at)


@transaction.atomic
def key_result_create(
    *,
    by: Membership | None,
    objective: Objective,
    title: str,
    unit: str,
    baseline: float,
    target: float,
    direction: str | None = None,
    owner: Membership | None = None,
    contributors: Iterable[Membership] = (),
    parent_key_result: KeyResult | None = None,
    current_value: float | None = None,
    confidence: float | None = None,
    weight: float = 1.0,
    warning_reasons: Mapping[str, str] | None = None,
    as_given: bool = False,
    at: datetime | None = None,
) -> KeyResult:
    contributors = list(contributors)
    require_same_organization(objective, owner, parent_key_result, *contributors)
    _refuse_if_closed(objective.cycle)
    _refuse(
        validation.text_problems(max_lengths=TITLE_LENGTHS, title=title, unit=unit)
        + validation.figure_problems(baseline=baseline, target=target, current_value=current_value)
        + validation.weight_problems(weight)
    )
    at = at or timezone.now()
    direction = direction or (Direction.INCREASE if target >= baseline else Direction.DECREASE)
    problems = validation.key_result_measurability_problems(
        unit=unit, baseline=baseline, target=target, direction=direction
    )
    problems += validation.parent_key_result_problems(
        key_result_id=None, objective=objective, parent=parent_key_result
    )
    problems += validation.key_result_count_problems(
        key_result_count=objective.key_results.count() + 1, objective_title=objective.title
    )
    if objective.level != Level.COMPANY:
        problems += validation.mid_cycle_problems(
            cycle_start=objective.cycle.start,
            at=at,
            # A key result serves its parent through its own objective's parent, or by rolling up directly.
            has_parent=parent_key_result is not None or objective.parent_id is not None,
            what="key result",
        )
    warnings = validation.settle_problems(problems, warning_reasons=warning_reasons, as_given=as_given)
    key_result = KeyResult(
        objective=objective,
        title=title.strip(),
        unit=unit.strip(),
        baseline=baseline,
        target=target,
        direction=direction,
        owner=owner,
        parent_key_result=parent_key_result,
        current_value=current_value,
        confidence=confidence,
        weight=weight,
        warnings=warnings,
        created_at=at,
    )
    key_result.organization_id = objective.organization_id
    _save_with_history(key_result, by=by, at=at)
    _contributors_set(key_result, contributors, by=by, at=at)
    return key_result


@transaction.atomic
def key_result_update(
    *,
    key_result: KeyResult,
    by: Membership | None,
    changes: Mapping[str, Any],
    contributors: Iterable[Membership] | None = None,
    warning_reasons: Mapping[str, str] | None = None,
    as_given: bool = False,
    at: datetime | None = None,
) -> KeyResult:
    unknown = set(changes) - KEY_RESULT_FIELDS
    if unknown:
        raise ValueError(f"Key results have no editable fields {sorted(unknown)}.")
    require_same_organization(key_result, *changes.values())
    _refuse_if_closed(key_result.objective.cycle)
    texts = {field: changes[field] for field in ("title", "unit") if field in changes}
    figures = {field: changes[field] for field in ("baseline", "target") if field in changes}
    _refuse(
        validation.text_problems(max_lengths=TITLE_LENGTHS, **texts)
        + validation.figure_problems(**figures)
        + (validation.weight_problems(changes["weight"]) if "weight" in changes else [])
    )
    at = at or timezone.now()
    changed = {field for field, value in changes.items() if getattr(key_result, field) != value}
    merged = {
        field: changes.get(field, getattr(key_result, field))
        for field in ("unit", "baseline", "target", "direction")
    }
    problems: list[validation.Problem] = []
    if changed & {"unit", "baseline", "target", "direction"}:
        problems += validation.key_result_measurability_problems(**merged)
    if "parent_key_result" in changed:
        problems += validation.parent_key_result_problems(
            key_result_id=key_result.pk, objective=key_result.objective, parent=changes["parent_key_result"]
        )
    warnings = validation.settle_problems(problems, warning_reasons=warning_reasons, as_given=as_given)
    for field in changed:
        setattr(key_result, field, changes[field])
    if warnings:
        key_result.warnings = [*key_result.warnings, *warnings]
    if changed:
        _save_with_history(key_result, by=by, at=at)
    if contributors is not None:
        _contributors_set(key_result, contributors, by=by, at=at)
    if changed & {"target", "baseline"}:
        # The objective's meaning moved: the goals under it must be re-confirmed by their owners.
        _mark_children_for_realignment(
            objective=key_result.objective, by=by, at=at, why=f"target of '{key_result.title}'"
        )
    return key_result


@transaction.atomic
def key_result_record_progress(
    *,
    key_result: KeyResult,
    by: Membership | None,
    value: float,
    confidence: float | None = None,
    note: str = "",
    at: datetime | None = None,
) -> KeyResult:
    """Record a new current value (the only way progress moves). History keeps every value and its note."""
    _refuse_if_closed(key_result.objective.cycle)
    _refuse(validation.figure_problems(value=value))
    if confidence is not None and not 0 <= confidence <= 1:
        raise validation.GoalValidationError(
            [validation.Problem("confidence", "confidence_range", "Confidence is between 0 and 1.")]
        )
    key_result.current_value = value
    if confidence is not None:
        key_result.confidence = confidence
    _save_with_history(key_result, by=by, at=at or timezone.now(), reason=note.strip())
    return key_result


def _refuse_kpi_problems(*, name: str, unit: str, direction: str, green: float, red: float) -> None:
    _refuse(
        validation.text_problems(max_lengths=TITLE_LENGTHS, name=name, unit=unit)
        + validation.figure_problems(green=green, red=red)
    )
    if not guardrails.thresholds_are_consistent(direction=direction, green=green, red=red):
        better = "below" if direction == Direction.DECREASE else "above"
        message = f"For a KPI that should {direction}, green must be {better} red."
        _refuse([validation.Problem("green", "thresholds_inconsistent", message)])


KPI_FIELDS = {"name", "unit", "direction", "green", "red", "owner", "team"}
INITIATIVE_FIELDS = {"title", "owner", "jira_epic_key"}


def _apply_changes(instance: Any, changes: Mapping[str, Any], editable: set[str]) -> set[str]:
    unknown = set(changes) - editable
    if unknown:
        raise ValueError(f"{type(instance).__name__} has no editable fields {sorted(unknown)}.")
    changed = {field for field, value in changes.items() if getattr(instance, field) != value}
    for field in changed:
        setattr(instance, field, changes[field])
    return changed


@transaction.atomic
def kpi_update(
    *, kpi: KPI, by: Membership | None, changes: Mapping[str, Any], at: datetime | None = None
) -> KPI:
    """Change a KPI's name, unit, direction, thresholds, owner or team; kept in its history."""
    require_same_organization(kpi, *changes.values())
    merged = {
        field: changes.get(field, getattr(kpi, field))
        for field in ("name", "unit", "direction", "green", "red")
    }
    _refuse_kpi_problems(**merged)
    if _apply_changes(kpi, changes, KPI_FIELDS):
        _save_with_history(kpi, by=by, at=at or timezone.now())
    return kpi


@transaction.atomic
def initiative_update(
    *, initiative: Initiative, by: Membership | None, changes: Mapping[str, Any], at: datetime | None = None
) -> Initiative:
    """Rename an initiative, change its owner or the Jira epic that carries it; kept in its history."""
    require_same_organization(initiative, *changes.values())
    _refuse_if_closed(initiative.key_result.objective.cycle)
    if "title" in changes:
        _refuse(validation.text_problems(max_lengths=TITLE_LENGTHS, title=changes["title"]))
    if "jira_epic_key" in changes:
        changes = {**changes, "jira_epic_key": changes["jira_epic_key"].strip().upper()}
    if _apply_changes(initiative, changes, INITIATIVE_FIELDS):
        _save_with_history(initiative, by=by, at=at or timezone.now())
    return initiative


@transaction.atomic
def kpi_create(
    *,
    by: Membership | None,
    name: str,
    unit: str,
    direction: str,
    green: float,
    red: float,
    owner: Membership | None = None,
    team: Team | None = None,
    objectives: Iterable[Objective] = (),
    at: datetime | None = None,
) -> KPI:
    _refuse_kpi_problems(name=name, unit=unit, direction=direction, green=green, red=red)
    kpi = KPI(
        name=name.strip(),
        unit=unit.strip(),
        direction=direction,
        green=green,
        red=red,
        owner=owner,
        team=team,
    )
    kpi.organization_id = require_organization_id()
    at = at or timezone.now()
    _save_with_history(kpi, by=by, at=at)
    kpi_tag_objectives(kpi=kpi, objectives=objectives, by=by, at=at)
    return kpi


@transaction.atomic
def kpi_tag_objectives(
    *, kpi: KPI, objectives: Iterable[Objective], by: Membership | None, at: datetime | None = None
) -> None:
    """Tag a KPI to more objectives it guards; tags it has already are kept. Each new tag is in history."""
    objectives = list(objectives)
    require_same_organization(kpi, *objectives)
    at = at or timezone.now()
    tagged = set(KPIObjectiveTag.objects.filter(kpi=kpi).values_list("objective_id", flat=True))
    for objective in objectives:
        if objective.pk in tagged:
            continue
        tagged.add(objective.pk)
        tag = KPIObjectiveTag(kpi=kpi, objective=objective)
        tag.organization_id = kpi.organization_id
        _save_with_history(tag, by=by, at=at)


@transaction.atomic
def kpi_record_reading(
    *,
    kpi: KPI,
    by: Membership | None,
    value: float,
    note: str = "",
    objective: Objective | None = None,
    as_given: bool = False,
    at: datetime | None = None,
) -> KPIReading:
    """Record a KPI reading. One that crosses a threshold, or moves more than the configured share, asks for
    a comment tagged to the objective it concerns (imports record readings as given)."""
    require_same_organization(kpi, by, objective)
    _refuse(validation.figure_problems(value=value))
    at = at or timezone.now()
    previous = KPIReading.objects.filter(kpi=kpi, recorded_at__lt=at).order_by("-recorded_at").first()
    why = guardrails.reading_needs_comment(
        direction=kpi.direction,
        green=kpi.green,
        red=kpi.red,
        previous=previous.value if previous else None,
        value=value,
        large_move_share=settings.KPI_LARGE_MOVE_SHARE,
    )
    if why and not as_given:
        problems = []
        if not note.strip():
            problems.append(validation.Problem("note", "kpi_comment_missing", f"{why} Say what happened."))
        if objective is None:
            problems.append(
                validation.Problem(
                    "objective", "kpi_objective_missing", f"{why} Tag the objective it concerns."
                )
            )
        if problems:
            raise validation.GoalValidationError(problems)
    drift_triggers.goal_changed(kpi)
    return KPIReading.objects.create(
        organization_id=kpi.organization_id,
        kpi=kpi,
        value=value,
        recorded_at=at,
        recorded_by=by,
        note=note.strip(),
        objective=objective,
    )


@transaction.atomic
def initiative_create(
    *,
    by: Membership | None,
    key_result: KeyResult,
    title: str,
    owner: Membership | None = None,
    jira_epic_key: str = "",
    at: datetime | None = None,
) -> Initiative:
    """Work planned to move a key result (its parent, always named), optionally carried by a Jira epic."""
    _refuse_if_closed(key_result.objective.cycle)
    _refuse(validation.text_problems(max_lengths=TITLE_LENGTHS, title=title))
    if not title.strip():
        raise validation.GoalValidationError([validation.Problem("title", "title_missing", "Name the work.")])
    at = at or timezone.now()
    initiative = Initiative(
        key_result=key_result,
        title=title.strip(),
        owner=owner,
        jira_epic_key=jira_epic_key.strip().upper(),
        created_at=at,
    )
    initiative.organization_id = key_result.organization_id
    _save_with_history(initiative, by=by, at=at)
    return initiative
