"""Check-in data built through the check-in services."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from goals import cadence, checkins, services
from goals.checkins import KeyResultUpdateEntry, PriorityEntry
from goals.models import Cycle, KeyResultStatus, Level, ReminderChannel, ReminderKind
from tests.goal_factories import CYCLE_START, make_cycle, make_key_result, make_objective

# The second week of the test cycle (tests.goal_factories), and a moment on its Friday.
WEEK = CYCLE_START + timedelta(days=7)
FRIDAY = datetime(WEEK.year, WEEK.month, WEEK.day, 10, 0, tzinfo=UTC) + timedelta(days=4)


def friday_of(week: date, hour: int = 10) -> datetime:
    return datetime(week.year, week.month, week.day, hour, 0, tzinfo=UTC) + timedelta(days=4)


def make_check_in_goals(world, cycle: Cycle | None = None) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """Goals to check in against; call inside the organisation's context.

    In the cycle (the test cycle by default): a company objective with ``revenue`` (owned by the report,
    the indirect report contributes) and ``churn`` (the admin's), and under it the manager's team
    objective with ``north`` (the report contributes). A second, later cycle holds ``next_year``.
    """
    cycle = cycle or make_cycle()
    company = make_objective(cycle, world.admin, title="Grow recurring revenue")
    revenue = make_key_result(
        company,
        world.report,
        title="Revenue from 10 to 12",
        baseline=10,
        target=12,
        contributors=[world.indirect_report],
    )
    churn = make_key_result(company, world.admin, title="Churn from 5 to 3", baseline=5, target=3)
    team_objective = make_objective(
        cycle,
        world.manager,
        title="Grow recurring revenue in the north",
        level=Level.TEAM,
        parent=company,
        team=world.team,
    )
    north = make_key_result(
        team_objective,
        world.manager,
        title="Northern recurring revenue from 2 to 6",
        baseline=2,
        target=6,
        contributors=[world.report],
    )
    later = services.cycle_create(
        name=f"{cycle.name} next", start=cycle.end + timedelta(days=1), end=cycle.end + timedelta(days=90)
    )
    later_objective = make_objective(later, world.admin, title="Grow next year")
    next_year = make_key_result(
        later_objective, world.report, title="Revenue from 12 to 15", baseline=12, target=15
    )
    return {
        "cycle": cycle,
        "company": company,
        "revenue": revenue,
        "churn": churn,
        "team_objective": team_objective,
        "north": north,
        "later_cycle": later,
        "next_year": next_year,
    }


def make_check_in_data(world, goals: dict[str, Any]) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """One row in every check-in table (and its history) for ``world``'s organisation, from the goal data of
    ``tests.goal_factories.make_goal_data``; call inside the organisation's context.

    ``world.report`` (who contributes to the key result) submits a check-in with a linked and an unlinked
    priority, a blocked key result with a new value, blockers and feedback; their manager replies; the
    admin and the report answer the pulse; a reminder is recorded; the admin starts the 90-day remediation
    plan.
    """
    name = world.organization.name
    check_in = checkins.check_in_submit(
        author=world.report,
        week=WEEK,
        priorities=[
            PriorityEntry(text=f"{name} ships the renewal campaign", key_result=goals["key_result"]),
            PriorityEntry(text=f"{name} interviews for the open role", unlinked=True),
        ],
        key_result_updates=[
            KeyResultUpdateEntry(
                key_result=goals["key_result"],
                status=KeyResultStatus.BLOCKED,
                value=10.5,
                note=f"{name} waits on legal",
            )
        ],
        blockers=f"{name} contract review is stuck with legal",
        upward_feedback=f"{name} would like fewer status meetings",
        next_week_success=f"{name} has the campaign live",
        at=FRIDAY,
    )
    reply = checkins.check_in_reply(
        check_in=check_in,
        by=world.manager,
        text=f"{name}: I will call legal today",
        at=FRIDAY + timedelta(hours=2),
    )
    pulse = checkins.pulse_answer_record(membership=world.report, score=4, week=WEEK, at=FRIDAY)
    admin_pulse = checkins.pulse_answer_record(membership=world.admin, score=5, week=WEEK, at=FRIDAY)
    reminder = checkins.check_in_reminder_record(
        membership=world.peer, week=WEEK, kind=ReminderKind.AFTER, channel=ReminderChannel.EMAIL, at=FRIDAY
    )
    remediation_plan = cadence.remediation_plan_start(
        by=world.admin, trigger_week=WEEK, trigger_share=0.3, at=FRIDAY
    )
    return {
        "check_in": check_in,
        "reply": reply,
        "pulse_answer": pulse,
        "admin_pulse_answer": admin_pulse,
        "reminder": reminder,
        "remediation_plan": remediation_plan,
    }
