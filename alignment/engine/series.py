"""Change-point detection on short weekly series: when did the new regime begin, and is it still on?

The method is a two-segment mean split: every week that leaves enough weeks on both sides is tried as
the first week of a new regime, and the one that best explains the series as "one level before, another
level after" (least squared error) wins. It is simple enough to explain to a manager ("before week 5
this goal had 62% of the team's effort, since then 6%") and needs no distribution assumptions.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Split:
    """The best two-level reading of a series: ``weeks[:at]`` before, ``weeks[at:]`` after."""

    weeks: tuple[int, ...]
    values: tuple[float, ...]
    at: int
    before_mean: float
    after_mean: float

    @property
    def onset_week(self) -> int:
        return self.weeks[self.at]

    @property
    def before_weeks(self) -> tuple[int, ...]:
        return self.weeks[: self.at]

    @property
    def after_weeks(self) -> tuple[int, ...]:
        return self.weeks[self.at :]

    @property
    def after_values(self) -> tuple[float, ...]:
        return self.values[self.at :]

    @property
    def relative_drop(self) -> float:
        if self.before_mean <= 0:
            return 0.0
        return max(0.0, (self.before_mean - self.after_mean) / self.before_mean)


def best_split(points: Sequence[tuple[int, float]], *, min_before: int, min_after: int) -> Split | None:
    """The least-squares two-segment split of ``(week, value)`` points, or None when too short.

    The segment after the split always runs to the last point, so a split describes the regime the
    series is in now.
    """
    count = len(points)
    if count < min_before + min_after or min_before < 1 or min_after < 1:
        return None
    weeks = tuple(week for week, _ in points)
    values = tuple(value for _, value in points)
    prefix_sum = [0.0]
    prefix_squares = [0.0]
    for value in values:
        prefix_sum.append(prefix_sum[-1] + value)
        prefix_squares.append(prefix_squares[-1] + value * value)
    total_sum, total_squares = prefix_sum[-1], prefix_squares[-1]
    best: tuple[float, int] | None = None
    for at in range(min_before, count - min_after + 1):
        left_n, right_n = at, count - at
        left_sum, right_sum = prefix_sum[at], total_sum - prefix_sum[at]
        left_error = prefix_squares[at] - left_sum * left_sum / left_n
        right_error = (total_squares - prefix_squares[at]) - right_sum * right_sum / right_n
        error = left_error + right_error
        # Ties go to the earlier split: the regime began at the first week that fits it.
        if best is None or error < best[0] - 1e-12:
            best = (error, at)
    assert best is not None
    at = best[1]
    return Split(
        weeks=weeks,
        values=values,
        at=at,
        before_mean=prefix_sum[at] / at,
        after_mean=(total_sum - prefix_sum[at]) / (count - at),
    )


def sustained_drop(
    points: Sequence[tuple[int, float]],
    *,
    min_before: int,
    min_after: int,
    min_relative_drop: float,
    noise_band: float,
    min_before_level: float = 0.0,
) -> Split | None:
    """A drop the series is still in: the split's later level is at most ``1 - min_relative_drop`` of
    the earlier one, and each of the last ``min_after`` points sits below ``1 - noise_band`` of it.

    None when the series is level, rising, too short, recovering, or started too low to judge.
    """
    split = best_split(points, min_before=min_before, min_after=min_after)
    if split is None or split.before_mean <= 0 or split.before_mean < min_before_level:
        return None
    if split.relative_drop < min_relative_drop:
        return None
    ceiling = split.before_mean * (1.0 - noise_band)
    if any(value > ceiling for value in split.values[-min_after:]):
        return None
    return split


def trailing_run(flags: Sequence[bool]) -> int:
    """How many of the last items are True, counted back from the end."""
    run = 0
    for flag in reversed(flags):
        if not flag:
            break
        run += 1
    return run
