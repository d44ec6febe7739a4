"""Reads of the goal system: the cascade with progress, now or as it stood at any past moment."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from django.utils import timezone

from goals.models import Cycle, KeyResult, Objective
from goals.progress import (
    KeyResultFigures,
    expected_progress,
    key_result_progress_map,
    objective_progress_map,
)


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
