"""The demo organisation's goals: a quarter in progress, built through the goal services week by week.

Everything is written through ``goals.services`` with the time it happened, so the history, the
"needs re-alignment" badges and the progress series are what real use would have produced.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from goals import services
from goals.checkin_demo import build_demo_check_ins
from goals.models import KPI, Cycle, Direction, KeyResult, Level, Objective, ObjectiveState, ObjectiveType
from okrsignal.models import Membership, Team

WEEK = timedelta(days=7)


def demo_cycle_dates(today: date) -> tuple[date, date]:
    """A 13-week quarter that started on the Monday seven weeks before ``today``'s week."""
    start = today - timedelta(days=today.weekday()) - 7 * WEEK
    return start, start + timedelta(days=13 * 7 - 1)


def _moment(day: date, hour: int = 10) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=UTC)


def build_demo_goals(*, people: dict[str, Membership], teams: dict[str, Team], today: date) -> Cycle:
    """Company → team → individual objectives with key results, KPIs and seven weeks of history, and the
    weekly check-ins of the last four weeks."""
    start, end = demo_cycle_dates(today)
    cycle = services.cycle_create(name=f"{start.year}-Q{(start.month - 1) // 3 + 1}", start=start, end=end)
    at = _moment(start, 9)

    def objective(
        owner: str, title: str, level: str, parent: Objective | None = None, **kwargs: Any
    ) -> Objective:
        return services.objective_create(
            by=people[owner],
            cycle=cycle,
            title=title,
            level=level,
            owner=people[owner],
            parent=parent,
            at=at,
            **kwargs,
        )

    def key_result(
        objective: Objective,
        owner: str,
        title: str,
        unit: str,
        baseline: float,
        target: float,
        **kwargs: Any,
    ) -> KeyResult:
        return services.key_result_create(
            by=people[owner],
            objective=objective,
            title=title,
            unit=unit,
            baseline=baseline,
            target=target,
            owner=people[owner],
            at=at,
            **kwargs,
        )

    revenue = objective(
        "ceo",
        "Grow enterprise revenue by 30%",
        Level.COMPANY,
        description="Land and expand enterprise accounts in Europe.",
    )
    arr = key_result(revenue, "cro", "Enterprise ARR from €4.0M to €5.2M", "€M", 4.0, 5.2)
    win_rate = key_result(revenue, "cro", "Enterprise win rate from 18% to 25%", "%", 18, 25)
    onboarding = objective(
        "ceo",
        "Make enterprise onboarding effortless",
        Level.COMPANY,
        description="New enterprise workspaces reach value in days, not weeks.",
    )
    activation = key_result(onboarding, "cpo", "Enterprise activation rate from 40% to 55%", "%", 40, 55)
    time_to_value = key_result(
        onboarding, "cpo", "Median days to first shared dashboard from 9 to 3", "days", 9, 3
    )
    retention = objective(
        "ceo",
        "Keep every enterprise customer we win",
        Level.COMPANY,
        type=ObjectiveType.ASPIRATIONAL,
        description="Customers renew and expand because the product keeps paying off.",
    )
    key_result(
        retention,
        "ceo",
        "Net revenue retention from 104% to 112%",
        "%",
        104,
        112,
        contributors=[people["cs1"]],
    )

    guided = objective(
        "cpo",
        "Ship guided onboarding for enterprise workspaces",
        Level.TEAM,
        onboarding,
        team=teams["Product"],
    )
    key_result(guided, "pm1", "Onboarding checklist completion from 20% to 70%", "%", 20, 70)
    activated = key_result(
        guided,
        "cpo",
        "Activated enterprise workspaces per month from 12 to 30",
        "workspaces",
        12,
        30,
        parent_key_result=activation,
    )
    setup = objective(
        "eng_lead",
        "Cut enterprise setup time with SSO and data import",
        Level.TEAM,
        onboarding,
        team=teams["Activation squad"],
    )
    sso_share = key_result(
        setup,
        "eng1",
        "New workspaces set up with self-serve SSO from 0% to 80%",
        "%",
        0,
        80,
        contributors=[people["eng3"]],
        parent_key_result=time_to_value,
    )
    import_rate = key_result(setup, "eng2", "Data import success rate from 85% to 98%", "%", 85, 98)
    dach = objective("cro", "Win more enterprise deals in DACH", Level.TEAM, revenue, team=teams["Sales"])
    pipeline = key_result(dach, "ae1", "Qualified enterprise pipeline from €2M to €5M", "€M", 2, 5)
    deals = key_result(
        dach, "ae2", "Enterprise deals closed from 6 to 12", "deals", 6, 12, parent_key_result=arr
    )

    sso = objective("eng1", "Deliver SAML SSO for enterprise workspaces", Level.INDIVIDUAL, setup)
    sso_steps = key_result(
        sso, "eng1", "SSO setup steps from 14 to 4", "steps", 14, 4, direction=Direction.DECREASE
    )
    imports = objective("eng2", "Make enterprise data import reliable", Level.INDIVIDUAL, setup)
    import_failures = key_result(imports, "eng2", "Import failures per week from 40 to 5", "failures", 40, 5)
    speed = objective("eng3", "Keep dashboards fast for enterprise tenants", Level.INDIVIDUAL, setup)
    key_result(speed, "eng3", "p95 dashboard load from 3.2 s to 1.5 s", "s", 3.2, 1.5)
    calls = objective("ae1", "Build enterprise pipeline in DACH", Level.INDIVIDUAL, dach)
    discovery = key_result(calls, "ae1", "Enterprise discovery calls per week from 3 to 8", "calls", 3, 8)
    board = objective("pm1", "Run an enterprise onboarding advisory board", Level.INDIVIDUAL, guided)
    key_result(board, "pm1", "Advisory sessions held from 0 to 4", "sessions", 0, 4)

    # Seven weeks of progress as it was recorded, week by week; some key results are falling behind.
    weekly_values: list[tuple[KeyResult, str, list[float]]] = [
        (arr, "cro", [4.05, 4.1, 4.2, 4.3, 4.35, 4.45, 4.5]),
        (win_rate, "cro", [18, 19, 19, 20, 20, 21, 21]),
        (activated, "cpo", [13, 14, 16, 17, 17, 17, 18]),
        (sso_share, "eng1", [0, 5, 10, 12, 12, 12, 13]),
        (import_rate, "eng2", [86, 88, 90, 91, 93, 94, 95]),
        (pipeline, "ae1", [2.2, 2.6, 3.0, 3.1, 3.5, 3.8, 4.0]),
        (deals, "ae2", [6, 7, 7, 8, 8, 9, 9]),
        (sso_steps, "eng1", [14, 12, 11, 11, 11, 11, 10]),
        (import_failures, "eng2", [36, 30, 24, 20, 15, 12, 10]),
        (discovery, "ae1", [3, 4, 5, 5, 6, 6, 7]),
    ]
    for week in range(7):
        moment = _moment(start + week * WEEK + timedelta(days=4), 16)
        for kr, who, values in weekly_values:
            services.key_result_record_progress(key_result=kr, by=people[who], value=values[week], at=moment)

    # Week 5: the company sharpens what "effortless" means; the team objectives under it must re-confirm.
    week5 = _moment(start + 4 * WEEK + timedelta(days=1))
    services.objective_update(
        objective=onboarding,
        by=people["ceo"],
        changes={"description": "New enterprise workspaces share their first dashboard within three days."},
        at=week5,
    )
    services.objective_confirm_alignment(objective=guided, by=people["cpo"], at=week5 + timedelta(days=2))
    services.objective_set_state(
        objective=board,
        by=people["pm1"],
        state=ObjectiveState.PAUSED,
        reason="Paused until the guided onboarding beta ships; customers asked to wait.",
        at=week5 + timedelta(days=3),
    )

    churn = services.kpi_create(
        by=people["cro"],
        name="Monthly logo churn",
        unit="%",
        direction=Direction.DECREASE,
        green=1.0,
        red=2.0,
        owner=people["cs1"],
        team=teams["Sales"],
        objectives=[retention],
        at=at,
    )
    response = services.kpi_create(
        by=people["cpo"],
        name="Support first response time",
        unit="h",
        direction=Direction.DECREASE,
        green=4,
        red=8,
        owner=people["pm1"],
        team=teams["Product"],
        objectives=[onboarding],
        at=at,
    )
    margin = services.kpi_create(
        by=people["ceo"],
        name="Gross margin",
        unit="%",
        direction=Direction.INCREASE,
        green=75,
        red=65,
        owner=people["ceo"],
        team=teams["Leadership"],
        objectives=[revenue],
        at=at,
    )
    readings: list[tuple[KPI, list[float], Objective, str]] = [
        (
            churn,
            [0.8, 0.9, 0.7, 0.9, 1.3, 1.2, 1.1],
            retention,
            "Two mid-market logos left after the price change.",
        ),
        (
            response,
            [3.5, 3.8, 3.6, 4.1, 4.4, 3.9, 3.7],
            onboarding,
            "Onboarding questions piled up during the beta.",
        ),
        (margin, [76, 76, 77, 76, 77, 78, 78], revenue, ""),
    ]
    for kpi, values, tagged, note in readings:
        for week, value in enumerate(values):
            services.kpi_record_reading(
                kpi=kpi,
                by=kpi.owner,
                value=value,
                note=note if week == 4 else "",
                objective=tagged if week == 4 else None,
                as_given=True,
                at=_moment(start + week * WEEK + timedelta(days=6), 8),
            )
    build_demo_check_ins(people=people, cycle=cycle)
    return cycle
