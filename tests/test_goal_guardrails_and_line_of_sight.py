"""KPI guardrails and the line-of-sight sentence."""

from datetime import timedelta

import pytest

from goals import services
from goals.guardrails import KPIStatus, kpi_status
from goals.line_of_sight import line_of_sight_sentence
from goals.models import Level
from goals.validation import GoalValidationError
from okrsignal.tenancy import tenant_context
from tests.factories import OrgWorld
from tests.goal_factories import BEFORE_START, make_cycle, make_key_result, make_objective


@pytest.mark.parametrize(
    ("direction", "value", "expected"),
    [
        ("decrease", 1.5, KPIStatus.GREEN),
        ("decrease", 2.0, KPIStatus.GREEN),
        ("decrease", 2.5, KPIStatus.AMBER),
        ("decrease", 3.0, KPIStatus.RED),
        ("increase", 3.0, KPIStatus.GREEN),
        ("increase", 2.5, KPIStatus.AMBER),
        ("increase", 2.0, KPIStatus.RED),
    ],
)
def test_kpi_status_follows_thresholds_and_direction(
    direction: str, value: float, expected: KPIStatus
) -> None:
    green, red = (2.0, 3.0) if direction == "decrease" else (3.0, 2.0)
    assert kpi_status(direction=direction, green=green, red=red, value=value) == expected


@pytest.fixture
def churn_kpi(acme: OrgWorld):
    with tenant_context(acme.organization):
        cycle = make_cycle()
        objective = make_objective(cycle, acme.admin, title="Keep customers")
        kpi = services.kpi_create(
            by=acme.admin,
            name="Logo churn",
            unit="%",
            direction="decrease",
            green=2.0,
            red=3.0,
            objectives=[objective],
        )
        services.kpi_record_reading(kpi=kpi, by=acme.admin, value=1.8, at=BEFORE_START)
        yield kpi, objective


def test_thresholds_must_agree_with_the_direction(acme: OrgWorld) -> None:
    with tenant_context(acme.organization), pytest.raises(GoalValidationError) as error:
        services.kpi_create(by=acme.admin, name="Churn", unit="%", direction="decrease", green=3.0, red=2.0)
    assert "green must be below red" in error.value.message_dict["green"][0]


def test_a_reading_that_crosses_a_threshold_asks_for_a_comment_tagged_to_an_objective(
    acme: OrgWorld, churn_kpi
) -> None:
    kpi, objective = churn_kpi
    with tenant_context(acme.organization):
        with pytest.raises(GoalValidationError) as error:
            services.kpi_record_reading(
                kpi=kpi, by=acme.admin, value=2.1, at=BEFORE_START + timedelta(days=7)
            )
        assert set(error.value.message_dict) == {"note", "objective"}
        assert "from green to amber" in error.value.message_dict["note"][0]
        reading = services.kpi_record_reading(
            kpi=kpi,
            by=acme.admin,
            value=2.1,
            note="Two logos left",
            objective=objective,
            at=BEFORE_START + timedelta(days=7),
        )
    assert reading.objective_id == objective.pk


def test_a_large_move_within_the_same_colour_also_asks_for_a_comment(acme: OrgWorld, churn_kpi) -> None:
    kpi, _objective = churn_kpi
    with tenant_context(acme.organization), pytest.raises(GoalValidationError):
        services.kpi_record_reading(kpi=kpi, by=acme.admin, value=1.0, at=BEFORE_START + timedelta(days=7))


def test_a_small_move_needs_no_comment(acme: OrgWorld, churn_kpi) -> None:
    kpi, _objective = churn_kpi
    with tenant_context(acme.organization):
        reading = services.kpi_record_reading(
            kpi=kpi, by=acme.admin, value=1.7, at=BEFORE_START + timedelta(days=7)
        )
    assert reading.note == ""


def test_line_of_sight_runs_from_a_key_result_to_the_company_objective(acme: OrgWorld) -> None:
    with tenant_context(acme.organization):
        cycle = make_cycle()
        company = make_objective(cycle, acme.admin, title="Improve net revenue retention by 10%")
        team = make_objective(
            cycle,
            acme.manager,
            title="Resolve 90% of tickets within 24 hours",
            level=Level.TEAM,
            parent=company,
            team=acme.team,
            warning_reasons={"no_shared_wording": "Fast support is what keeps customers renewing"},
        )
        key_result = make_key_result(
            team,
            acme.report,
            title="Resolve 40 tickets a week at 95% CSAT",
            baseline=20,
            target=40,
            unit="tickets",
        )
        sentence = line_of_sight_sentence(key_result, viewer=acme.report)
    assert sentence == (
        f"Your key result 'Resolve 40 tickets a week at 95% CSAT' rolls up to {acme.team.name}'s "
        "'Resolve 90% of tickets within 24 hours', which serves the company objective "
        "'Improve net revenue retention by 10%'."
    )


def test_line_of_sight_says_honestly_when_a_goal_connects_to_nothing(acme: OrgWorld) -> None:
    with tenant_context(acme.organization):
        cycle = make_cycle()
        lonely = make_objective(cycle, acme.peer, title="Tidy the wiki", level=Level.INDIVIDUAL)
        key_result = make_key_result(
            lonely, acme.peer, title="Pages reviewed", baseline=0, target=30, unit="pages"
        )
        sentence = line_of_sight_sentence(key_result, viewer=acme.peer)
    assert sentence == (
        "Your key result 'Pages reviewed' rolls up to your objective 'Tidy the wiki', "
        "which connects to no company objective."
    )
