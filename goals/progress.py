"""Progress arithmetic: pure functions over numbers and dates, never over typed-in percentages.

A key result's progress is where its current value sits between baseline and target, clamped to [0, 1].
Objectives, and key results that others roll up into, take the (optionally weighted) mean of their
children's progress: progress is unit-free, so unlike units are never added together.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime


def key_result_progress(*, baseline: float, target: float, current: float | None) -> float:
    """``(current - baseline) / (target - baseline)`` clamped to [0, 1]; no value yet is no progress."""
    if current is None or target == baseline:
        return 0.0
    return min(1.0, max(0.0, (current - baseline) / (target - baseline)))


def expected_progress(*, start: date, end: date, at: date | datetime) -> float:
    """The share of the cycle's calendar that has passed at ``at``: 0 before it starts, 1 once it has ended.

    The cycle runs from the start of ``start`` to the end of ``end`` (both days included).
    """
    day = at.date() if isinstance(at, datetime) else at
    total_days = (end - start).days + 1
    elapsed_days = (day - start).days
    return min(1.0, max(0.0, elapsed_days / total_days))


def weighted_mean_progress(children: Iterable[tuple[float, float]]) -> float | None:
    """Mean of ``(progress, weight)`` pairs; ``None`` when there is nothing to roll up."""
    total_weight = 0.0
    weighted_sum = 0.0
    for progress, weight in children:
        if weight < 0:
            raise ValueError("Weights cannot be negative.")
        total_weight += weight
        weighted_sum += progress * weight
    if total_weight == 0:
        return None
    return weighted_sum / total_weight


GOOD_ASPIRATIONAL_SCORE = 0.7
GOOD_COMMITTED_SCORE = 1.0


def score_is_good(*, score: float, aspirational: bool) -> bool:
    """Committed objectives are expected to land at 1.0; for aspirational ones 0.7 is a good result."""
    return score >= (GOOD_ASPIRATIONAL_SCORE if aspirational else GOOD_COMMITTED_SCORE)


@dataclass(frozen=True)
class KeyResultFigures:
    id: int
    objective_id: int
    parent_key_result_id: int | None
    baseline: float
    target: float
    current: float | None
    weight: float = 1.0


def key_result_progress_map(key_results: Iterable[KeyResultFigures]) -> dict[int, float]:
    """Progress of every key result: from its values, or, when others roll up into it, their mean."""
    by_id = {kr.id: kr for kr in key_results}
    children: dict[int, list[KeyResultFigures]] = {}
    for kr in by_id.values():
        if kr.parent_key_result_id in by_id:
            children.setdefault(kr.parent_key_result_id, []).append(kr)
    progress: dict[int, float] = {}

    def resolve(kr: KeyResultFigures, visiting: frozenset[int]) -> float:
        if kr.id in progress:
            return progress[kr.id]
        rolled = None
        if kr.id in children and kr.id not in visiting:
            rolled = weighted_mean_progress(
                (resolve(child, visiting | {kr.id}), child.weight) for child in children[kr.id]
            )
        value = (
            rolled
            if rolled is not None
            else key_result_progress(baseline=kr.baseline, target=kr.target, current=kr.current)
        )
        progress[kr.id] = value
        return value

    for kr in by_id.values():
        resolve(kr, frozenset())
    return progress


def objective_progress_map(key_results: Iterable[KeyResultFigures]) -> dict[int, float]:
    """Each objective's progress: the weighted mean of its key results' progress."""
    key_results = list(key_results)
    kr_progress = key_result_progress_map(key_results)
    grouped: dict[int, list[tuple[float, float]]] = {}
    for kr in key_results:
        grouped.setdefault(kr.objective_id, []).append((kr_progress[kr.id], kr.weight))
    return {objective_id: weighted_mean_progress(pairs) or 0.0 for objective_id, pairs in grouped.items()}
