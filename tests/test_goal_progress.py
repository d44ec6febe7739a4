"""Progress is computed from values and the calendar, never typed in."""

from datetime import UTC, date, datetime

import pytest

from goals.progress import expected_progress, key_result_progress, score_is_good, weighted_mean_progress


@pytest.mark.parametrize(
    ("baseline", "target", "current", "expected"),
    [
        (40, 46, 43, 0.5),  # an increase half-way there
        (40, 46, 50, 1.0),  # overshooting is clamped
        (40, 46, 38, 0.0),  # going backwards is clamped
        (24, 12, 18, 0.5),  # a decrease (hours to resolve) half-way there
        (24, 12, 30, 0.0),
        (0, 10, None, 0.0),  # no value recorded yet
    ],
)
def test_key_result_progress(baseline: float, target: float, current: float | None, expected: float) -> None:
    assert key_result_progress(baseline=baseline, target=target, current=current) == pytest.approx(expected)


def test_expected_progress_follows_the_calendar() -> None:
    start, end = date(2026, 7, 1), date(2026, 9, 29)  # 91 days
    assert expected_progress(start=start, end=end, at=date(2026, 6, 1)) == 0.0
    assert expected_progress(start=start, end=end, at=start) == 0.0
    assert expected_progress(start=start, end=end, at=date(2026, 8, 15)) == pytest.approx(45 / 91)
    assert expected_progress(start=start, end=end, at=datetime(2026, 12, 1, tzinfo=UTC)) == 1.0


def test_rollup_is_a_weighted_mean_of_progress_not_a_sum_of_units() -> None:
    assert weighted_mean_progress([(1.0, 1), (0.0, 1)]) == pytest.approx(0.5)
    assert weighted_mean_progress([(1.0, 3), (0.0, 1)]) == pytest.approx(0.75)
    assert weighted_mean_progress([]) is None


def test_aspirational_objectives_count_seventy_percent_as_good() -> None:
    assert score_is_good(score=0.7, aspirational=True)
    assert not score_is_good(score=0.7, aspirational=False)
    assert score_is_good(score=1.0, aspirational=False)
