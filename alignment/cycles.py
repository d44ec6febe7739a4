"""A cycle of the goal system as the drift engine counts its weeks."""

from __future__ import annotations

from alignment.engine import Cycle as EngineCycle
from goals.models import Cycle


def cycle_of(cycle: Cycle) -> EngineCycle:
    """``cycle``'s dates as the engine's ``Cycle``: week ``n`` starts ``7(n-1)`` days after its start."""
    return EngineCycle(start=cycle.start, end=cycle.end)
