"""KPI guardrail arithmetic: pure functions over thresholds and readings."""

from __future__ import annotations

from enum import StrEnum


class KPIStatus(StrEnum):
    GREEN = "green"
    AMBER = "amber"
    RED = "red"


def kpi_status(*, direction: str, green: float, red: float, value: float) -> KPIStatus:
    """``direction`` says which way is better. For "decrease", at or below green is green and at or above
    red is red; for "increase" the reverse. In between is amber."""
    if direction == "decrease":
        if value <= green:
            return KPIStatus.GREEN
        return KPIStatus.RED if value >= red else KPIStatus.AMBER
    if value >= green:
        return KPIStatus.GREEN
    return KPIStatus.RED if value <= red else KPIStatus.AMBER


def thresholds_are_consistent(*, direction: str, green: float, red: float) -> bool:
    return green < red if direction == "decrease" else green > red


def reading_needs_comment(
    *, direction: str, green: float, red: float, previous: float | None, value: float, large_move_share: float
) -> str | None:
    """Why a new reading needs a comment tagged to an objective, or None when it does not."""
    if previous is None:
        return None
    before = kpi_status(direction=direction, green=green, red=red, value=previous)
    after = kpi_status(direction=direction, green=green, red=red, value=value)
    if before != after:
        return f"The reading moves the KPI from {before.value} to {after.value}."
    if previous != 0 and abs(value - previous) / abs(previous) > large_move_share:
        return (
            f"The reading moves {abs(value - previous) / abs(previous):.0%} from the last one ({previous:g})."
        )
    return None
