"""The end of a cycle: freezing each objective's score, and carrying unfinished goals into the next cycle.

Closing computes every objective's progress once more, stores it as the objective's ``final_score``
(recorded in history like any change) and marks the cycle closed; a cycle closes once. Carrying over
copies the chosen unfinished objectives into the next cycle through ``goals.services`` — as given, so
warnings are kept on the copies rather than stopping them — and links each copy to its original with
``carried_from``, so the history of a goal can be followed across quarters.

Every function here runs inside the organisation in context and refuses objects of another one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

from django.db import transaction
from django.utils import timezone

from goals import services, validation
from goals.models import Cycle, KeyResult, KeyResultContributor, Objective, ObjectiveState
from goals.progress import score_is_good
from goals.selectors import cascade_for_cycle
from okrsignal.models import Membership
from okrsignal.tenancy import require_same_organization

_Goal = TypeVar("_Goal", Objective, KeyResult)

# States in which an objective is over, whatever its score: it is never carried over.
FINISHED_STATES = frozenset({ObjectiveState.DONE, ObjectiveState.CANCELLED})
# Scores are kept to three decimals, so that 0.7 stays 0.7 and not 0.69999….
SCORE_DECIMALS = 3


@dataclass(frozen=True)
class ObjectiveScore:
    """One objective's frozen score at close. ``depth`` is its place in the cascade (0 for a root)."""

    objective: Objective
    score: float
    is_good: bool
    is_unfinished: bool
    depth: int = 0


@dataclass(frozen=True)
class CloseReport:
    cycle: Cycle
    closed_at: datetime
    scores: list[ObjectiveScore]

    @property
    def unfinished(self) -> list[Objective]:
        """The objectives that may be carried into the next cycle."""
        return [entry.objective for entry in self.scores if entry.is_unfinished]


def objective_is_unfinished(*, objective: Objective, score: float) -> bool:
    return score < 1.0 and objective.state not in FINISHED_STATES


def _score_entry(objective: Objective, score: float, depth: int) -> ObjectiveScore:
    return ObjectiveScore(
        objective=objective,
        score=score,
        is_good=score_is_good(score=score, aspirational=objective.is_aspirational),
        is_unfinished=objective_is_unfinished(objective=objective, score=score),
        depth=depth,
    )


def _refuse(field: str, code: str, message: str) -> validation.GoalValidationError:
    return validation.GoalValidationError([validation.Problem(field, code, message)])


@transaction.atomic
def cycle_close(*, cycle: Cycle, by: Membership | None, at: datetime | None = None) -> CloseReport:
    """Freeze every objective's score (its progress now, from 0 to 1) and mark the cycle closed. Once only."""
    require_same_organization(cycle, by)
    at = at or timezone.now()
    # Compare-and-set: of two people closing at once, exactly one succeeds.
    if not Cycle.objects.filter(pk=cycle.pk, closed_at__isnull=True).update(closed_at=at):
        raise _refuse("cycle", "cycle_closed", f"The cycle {cycle.name} is closed already.")
    cycle.closed_at = at
    scores = []
    for node, depth in cascade_for_cycle(cycle).walk():
        objective = node.objective
        objective.final_score = round(node.progress, SCORE_DECIMALS)
        services._save_with_history(
            objective, by=by, at=at, reason=f"Cycle {cycle.name} closed", update_fields=["final_score"]
        )
        scores.append(_score_entry(objective, objective.final_score, depth))
    return CloseReport(cycle=cycle, closed_at=at, scores=scores)


def close_report_for_cycle(cycle: Cycle) -> CloseReport:
    """The report of a closed cycle, rebuilt from the scores frozen when it closed."""
    if cycle.closed_at is None:
        raise _refuse("cycle", "cycle_open", f"The cycle {cycle.name} is not closed yet.")
    scores = [
        _score_entry(node.objective, node.objective.final_score or 0.0, depth)
        for node, depth in cascade_for_cycle(cycle).walk()
    ]
    return CloseReport(cycle=cycle, closed_at=cycle.closed_at, scores=scores)


def _parents_first(items: list[_Goal], parent_id: Callable[[_Goal], int | None]) -> list[_Goal]:
    """Order ``items`` so that each comes after its parent when the parent is among them."""
    by_id = {item.pk: item for item in items}

    def depth(item: _Goal) -> int:
        steps, seen, above = 0, {item.pk}, parent_id(item)
        while above in by_id and above not in seen:
            seen.add(above)
            above = parent_id(by_id[above])
            steps += 1
        return steps

    return sorted(items, key=lambda item: (depth(item), item.pk))


def _active(membership: Membership | None) -> Membership | None:
    return membership if membership is not None and membership.is_active else None


@transaction.atomic
def cycle_carry_over(
    *,
    from_cycle: Cycle,
    to_cycle: Cycle,
    objectives: Iterable[Objective],
    by: Membership | None,
    at: datetime | None = None,
) -> list[Objective]:
    """Copy the chosen unfinished objectives of a closed cycle into the next one; return the copies.

    Each copy is active, points at its original through ``carried_from`` and keeps its parent when the
    parent was carried too (otherwise it has none). Key results come along with their current values as
    the new baselines and their contributors; key results already at their target stay behind. Owners
    and contributors who have left the organisation are not carried.
    """
    objectives = list(objectives)
    require_same_organization(from_cycle, to_cycle, by, *objectives)
    # Judge and copy the objectives as they are stored (their frozen scores), not as the caller holds them.
    stored = Objective.objects.select_related("owner", "team").in_bulk([o.pk for o in objectives])
    objectives = [stored[pk] for pk in dict.fromkeys(objective.pk for objective in objectives)]
    at = at or timezone.now()
    if from_cycle.closed_at is None:
        raise _refuse("cycle", "cycle_open", f"Close {from_cycle.name} before carrying goals out of it.")
    if to_cycle.pk == from_cycle.pk or to_cycle.closed_at is not None:
        raise _refuse("to_cycle", "to_cycle_closed", f"{to_cycle.name} takes no new goals: it is closed.")
    problems = []
    for objective in objectives:
        if objective.cycle_id != from_cycle.pk:
            problems.append(
                validation.Problem(
                    "objectives", "objective_other_cycle", f"'{objective.title}' is not in {from_cycle.name}."
                )
            )
        elif not objective_is_unfinished(objective=objective, score=objective.final_score or 0.0):
            problems.append(
                validation.Problem(
                    "objectives",
                    "objective_finished",
                    f"'{objective.title}' is finished; only unfinished objectives are carried over.",
                )
            )
    already = Objective.objects.filter(cycle=to_cycle, carried_from__in=objectives).values_list(
        "carried_from__title", flat=True
    )
    problems += [
        validation.Problem(
            "objectives", "objective_carried", f"'{title}' is carried into {to_cycle.name} already."
        )
        for title in already
    ]
    if problems:
        raise validation.GoalValidationError(problems)

    copies: dict[int, Objective] = {}
    for original in _parents_first(objectives, lambda objective: objective.parent_id):
        copy = services.objective_create(
            by=by,
            cycle=to_cycle,
            title=original.title,
            description=original.description,
            level=original.level,
            owner=_active(original.owner),
            team=original.team,
            parent=copies.get(original.parent_id) if original.parent_id else None,
            type=original.type,
            state=ObjectiveState.ACTIVE,
            weight=original.weight,
            as_given=True,
            at=at,
        )
        copy.carried_from = original
        services._save_with_history(
            copy, by=by, at=at, reason=f"Carried over from {from_cycle.name}", update_fields=["carried_from"]
        )
        copies[original.pk] = copy

    key_results = [
        kr
        for kr in KeyResult.objects.filter(objective_id__in=list(copies)).select_related("owner")
        if kr.progress < 1.0
    ]
    contributors: dict[int, list[Membership]] = {}
    for link in KeyResultContributor.objects.filter(key_result__in=key_results).select_related("membership"):
        if link.membership.is_active:
            contributors.setdefault(link.key_result_id, []).append(link.membership)
    carried_key_results: dict[int, KeyResult] = {}
    for original_kr in _parents_first(key_results, lambda kr: kr.parent_key_result_id):
        parent_key_result = (
            carried_key_results.get(original_kr.parent_key_result_id)
            if original_kr.parent_key_result_id
            else None
        )
        carried_key_results[original_kr.pk] = services.key_result_create(
            by=by,
            objective=copies[original_kr.objective_id],
            title=original_kr.title,
            unit=original_kr.unit,
            baseline=(
                original_kr.current_value if original_kr.current_value is not None else original_kr.baseline
            ),
            target=original_kr.target,
            direction=original_kr.direction,
            owner=_active(original_kr.owner),
            contributors=contributors.get(original_kr.pk, []),
            parent_key_result=parent_key_result,
            weight=original_kr.weight,
            as_given=True,
            at=at,
        )
    return [copies[objective.pk] for objective in objectives]
