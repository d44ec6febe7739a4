"""Progress arithmetic: pure functions over numbers and dates, never over typed-in percentages.

A key result's progress is where its current value sits between baseline and target, clamped to [0, 1].
Objectives, and key results that others roll up into, take the (optionally weighted) mean of their
children's progress: progress is unit-free, so unlike units are never added together.
"""

from __future__ import annotations

from collections.abc import Iterable
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
