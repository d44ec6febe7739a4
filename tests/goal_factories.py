"""Goal data built through the goal services."""

from __future__ import annotations

from datetime import UTC, date, datetime

from goals import services
from goals.models import Cycle, KeyResult, Level, Objective
from okrsignal.models import Membership

CYCLE_START = date(2026, 7, 6)
CYCLE_END = date(2026, 10, 4)
BEFORE_START = datetime(2026, 7, 1, 9, 0, tzinfo=UTC)


def make_cycle(name: str = "2026-Q3") -> Cycle:
    return services.cycle_create(name=name, start=CYCLE_START, end=CYCLE_END)


def make_objective(
    cycle: Cycle,
    owner: Membership,
    *,
    title: str,
    level: str = Level.COMPANY,
    parent: Objective | None = None,
    **kwargs,
) -> Objective:
    return services.objective_create(
        by=owner, cycle=cycle, title=title, level=level, owner=owner, parent=parent, at=BEFORE_START, **kwargs
    )


def make_key_result(
    objective: Objective, owner: Membership, *, title: str, baseline: float, target: float, **kwargs
) -> KeyResult:
    kwargs.setdefault("unit", "%")
    return services.key_result_create(
        by=owner,
        objective=objective,
        title=title,
        baseline=baseline,
        target=target,
        owner=owner,
        at=BEFORE_START,
        **kwargs,
    )


def make_goal_data(world) -> dict:  # type: ignore[no-untyped-def]
    """One row in every goal table (and its history) for ``world``'s organisation; call inside its context."""
    cycle = make_cycle(f"{world.organization.name} 2026-Q3")
    company = make_objective(cycle, world.admin, title=f"{world.organization.name} grows revenue")
    key_result = make_key_result(
        company,
        world.admin,
        title=f"{world.organization.name} revenue from 10 to 12",
        baseline=10,
        target=12,
        contributors=[world.report],
    )
    initiative = services.initiative_create(
        by=world.admin, key_result=key_result, title=f"{world.organization.name} annual plan"
    )
    kpi = services.kpi_create(
        by=world.admin,
        name=f"{world.organization.name} churn",
        unit="%",
        direction="decrease",
        green=2,
        red=3,
        owner=world.admin,
        objectives=[company],
    )
    reading = services.kpi_record_reading(
        kpi=kpi, by=world.admin, value=1.5, note=f"{world.organization.name} churn is low", at=BEFORE_START
    )
    return {
        "cycle": cycle,
        "objective": company,
        "key_result": key_result,
        "initiative": initiative,
        "kpi": kpi,
        "reading": reading,
    }
