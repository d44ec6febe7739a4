"""The rules a goal is checked against at the moment it is created or changed.

Each rule yields ``Problem``s: errors stop the change; warnings let it through only with a written
reason (or, for imports, are recorded on the goal as given). Messages name the field they are about, so
forms and the API can show them where the person is looking.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError

from goals.models import LEVEL_RANK, Direction, KeyResult, Level, Objective, ObjectiveState

MAX_OBJECTIVES_PER_OWNER = 5
MAX_KEY_RESULTS_PER_OBJECTIVE = 4


@dataclass(frozen=True)
class Problem:
    field: str
    code: str
    message: str
    is_warning: bool = False

    def as_record(self, reason: str) -> dict[str, str]:
        return {"code": self.code, "field": self.field, "message": self.message, "reason": reason}


class GoalValidationError(ValidationError):
    """A change that breaks a rule, or carries warnings without reasons. ``problems`` lists them all."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems = list(problems)
        by_field: dict[str, list[str]] = {}
        for problem in self.problems:
            text = problem.message
            if problem.is_warning:
                text = f"{text} Give a reason to go ahead anyway (warning '{problem.code}')."
            by_field.setdefault(problem.field, []).append(text)
        super().__init__(by_field)

    @property
    def warnings(self) -> list[Problem]:
        return [problem for problem in self.problems if problem.is_warning]


def settle_problems(
    problems: Iterable[Problem], *, warning_reasons: Mapping[str, str] | None, as_given: bool
) -> list[dict[str, str]]:
    """Raise for errors and for warnings without a reason; return the warnings to keep on the goal.

    ``as_given`` is for imports: they record what they bring, keeping each warning visible on the goal
    without stopping (errors that would make the data meaningless still stop them).
    """
    problems = list(problems)
    errors = [problem for problem in problems if not problem.is_warning]
    if errors:
        raise GoalValidationError(errors)
    reasons = {code: reason.strip() for code, reason in (warning_reasons or {}).items()}
    warnings = [problem for problem in problems if problem.is_warning]
    if as_given:
        return [
            warning.as_record(reasons.get(warning.code, "") or "Recorded as imported.")
            for warning in warnings
        ]
    unexplained = [warning for warning in warnings if not reasons.get(warning.code)]
    if unexplained:
        raise GoalValidationError(unexplained)
    return [warning.as_record(reasons[warning.code]) for warning in warnings]


# Figures beyond this are typing mistakes, and would break the arithmetic and the charts.
LARGEST_FIGURE = 1e12
MAX_WEIGHT = 1000


def figure_problems(**figures: float | None) -> list[Problem]:
    """Each named figure must be a finite number no larger than ``LARGEST_FIGURE``."""
    problems = []
    for field, value in figures.items():
        if value is None:
            continue
        if not math.isfinite(value) or abs(value) > LARGEST_FIGURE:
            problems.append(
                Problem(
                    field,
                    "figure_out_of_range",
                    f"{value:g} is not a figure OKRSignal can work with; "
                    "use a number between -1,000,000,000,000 and 1,000,000,000,000.",
                )
            )
    return problems


def weight_problems(weight: float) -> list[Problem]:
    if not math.isfinite(weight) or not 0 <= weight <= MAX_WEIGHT:
        return [Problem("weight", "weight_out_of_range", f"A weight is between 0 and {MAX_WEIGHT}.")]
    return []


def text_problems(*, max_lengths: dict[str, int], **texts: str) -> list[Problem]:
    problems = []
    for field, text in texts.items():
        if len(text.strip()) > max_lengths[field]:
            problems.append(
                Problem(
                    field,
                    "text_too_long",
                    f"Keep it to {max_lengths[field]} characters ({len(text.strip())} now).",
                )
            )
        elif field == "title" and not text.strip():
            problems.append(Problem(field, "title_missing", "Give it a title."))
    return problems


def key_result_measurability_problems(
    *, unit: str, baseline: float, target: float, direction: str
) -> list[Problem]:
    problems = []
    if not unit.strip():
        problems.append(
            Problem(
                "unit", "unit_missing", "Say what is measured: a key result needs a unit (%, €, tickets…)."
            )
        )
    if baseline == target:
        problems.append(
            Problem(
                "target", "target_equals_baseline", "The target equals the baseline, so nothing would change."
            )
        )
    elif direction == Direction.INCREASE and target < baseline:
        problems.append(
            Problem(
                "direction",
                "direction_inconsistent",
                f"The target {target:g} is below the baseline {baseline:g}, so this is a decrease.",
            )
        )
    elif direction == Direction.DECREASE and target > baseline:
        problems.append(
            Problem(
                "direction",
                "direction_inconsistent",
                f"The target {target:g} is above the baseline {baseline:g}, so this is an increase.",
            )
        )
    return problems


def _ancestors(objective: Objective) -> Iterable[Objective]:
    seen: set[int] = set()
    node: Objective | None = objective
    while node is not None and node.pk not in seen:
        seen.add(node.pk)
        yield node
        node = node.parent


def objective_parent_problems(
    *, objective: Objective | None, level: str, cycle_id: int, parent: Objective | None
) -> list[Problem]:
    if parent is None:
        return []
    problems = []
    if parent.state != ObjectiveState.ACTIVE:
        problems.append(
            Problem(
                "parent",
                "parent_inactive",
                f"The parent '{parent.title}' is {parent.get_state_display().lower()}, not active.",
            )
        )
    if parent.cycle_id != cycle_id:
        problems.append(
            Problem("parent", "parent_other_cycle", f"The parent '{parent.title}' belongs to another cycle.")
        )
    if LEVEL_RANK[Level(parent.level)] >= LEVEL_RANK[Level(level)]:
        problems.append(
            Problem(
                "parent",
                "parent_level",
                f"A {Level(level).label.lower()} objective cannot sit under the "
                f"{parent.get_level_display().lower()} objective '{parent.title}': "
                "the parent must be at a higher level.",
            )
        )
    if (
        objective is not None
        and objective.pk is not None
        and any(node.pk == objective.pk for node in _ancestors(parent))
    ):
        problems.append(
            Problem(
                "parent",
                "cascade_loop",
                f"'{parent.title}' already sits under this objective; the cascade cannot loop.",
            )
        )
    return problems


def start_simple_problems(*, owner_objective_count: int, owner_name: str) -> list[Problem]:
    if owner_objective_count > MAX_OBJECTIVES_PER_OWNER:
        return [
            Problem(
                "owner",
                "too_many_objectives",
                f"{owner_name} would own {owner_objective_count} objectives this cycle; "
                f"start simple with at most {MAX_OBJECTIVES_PER_OWNER}.",
                is_warning=True,
            )
        ]
    return []


def key_result_count_problems(*, key_result_count: int, objective_title: str) -> list[Problem]:
    if key_result_count > MAX_KEY_RESULTS_PER_OBJECTIVE:
        return [
            Problem(
                "objective",
                "too_many_key_results",
                f"'{objective_title}' would have {key_result_count} key results; start simple with at most "
                f"{MAX_KEY_RESULTS_PER_OBJECTIVE}.",
                is_warning=True,
            )
        ]
    return []


def mid_cycle_problems(*, cycle_start: Any, at: datetime, has_parent: bool, what: str) -> list[Problem]:
    """Something added after the cycle started must name what it serves, or say why it does not."""
    if has_parent or at.date() <= cycle_start:
        return []
    return [
        Problem(
            "parent",
            "added_mid_cycle_without_parent",
            f"This {what} is added after the cycle started and names no parent it serves.",
            is_warning=True,
        )
    ]


def parent_key_result_problems(
    *, key_result_id: int | None, objective: Objective, parent: KeyResult | None
) -> list[Problem]:
    """A key result rolls up into a key result of another objective in the same cycle, without loops."""
    if parent is None:
        return []
    problems = []
    if parent.objective.cycle_id != objective.cycle_id:
        problems.append(
            Problem(
                "parent_key_result",
                "parent_key_result_other_cycle",
                f"'{parent.title}' belongs to another cycle.",
            )
        )
    if parent.objective_id == objective.pk:
        problems.append(
            Problem(
                "parent_key_result",
                "parent_key_result_same_objective",
                f"'{parent.title}' belongs to the same objective; its progress would be counted twice.",
            )
        )
    seen: set[int] = set()
    node: KeyResult | None = parent
    while node is not None and node.pk not in seen:
        if key_result_id is not None and node.pk == key_result_id:
            problems.append(
                Problem(
                    "parent_key_result",
                    "key_result_loop",
                    f"'{parent.title}' already rolls up into this key result; roll-ups cannot loop.",
                )
            )
            break
        seen.add(node.pk)
        node = node.parent_key_result
    return problems
