"""Bad input gets a clear answer on the field, never a server error, and saves nothing."""

from datetime import date

import pytest

from goals import services
from goals.csv_io import goals_import_csv
from goals.models import Objective
from goals.validation import GoalValidationError
from okrsignal.tenancy import tenant_context
from tests.conftest import client_for
from tests.factories import OrgWorld
from tests.goal_factories import make_goal_data


@pytest.fixture
def goals(acme: OrgWorld) -> dict:
    with tenant_context(acme.organization):
        return make_goal_data(acme)


def test_a_cycle_of_years_is_refused(acme: OrgWorld) -> None:
    with tenant_context(acme.organization), pytest.raises(GoalValidationError) as error:
        services.cycle_create(name="Forever", start=date(9999, 10, 1), end=date(9999, 12, 30))
    assert "at most a year" in error.value.message_dict["end"][0]


def test_figures_beyond_reason_are_refused_on_their_field(acme: OrgWorld, goals: dict) -> None:
    with tenant_context(acme.organization), pytest.raises(GoalValidationError) as error:
        services.key_result_create(
            by=acme.admin, objective=goals["objective"], title="Huge", unit="€", baseline=-1e308, target=1e308
        )
    assert set(error.value.message_dict) == {"baseline", "target"}


def test_an_over_long_title_in_a_csv_is_a_row_problem(acme: OrgWorld, goals: dict) -> None:
    text = f"kind,ref,title,level,owner_email\nobjective,O1,{'x' * 250},company,{acme.admin.user.email}\n"
    with tenant_context(acme.organization):
        report = goals_import_csv(text=text, cycle=goals["cycle"], by=acme.admin, dry_run=True)
        assert not Objective.objects.filter(title__startswith="xxx").exists()
    assert [(problem.row, problem.column) for problem in report.errors] == [(2, "title")]


def test_a_kpi_tagged_twice_to_one_objective_is_tagged_once(acme: OrgWorld, goals: dict) -> None:
    response = client_for(acme.admin).post(
        f"/api/v1/o/{acme.slug}/kpis/",
        {
            "name": "Churn again",
            "unit": "%",
            "direction": "decrease",
            "green": 1,
            "red": 2,
            "objectives": [goals["objective"].pk, goals["objective"].pk],
        },
        content_type="application/json",
    )
    assert response.status_code == 201


@pytest.mark.parametrize("value", ["²", "99999999999999999999999"])
def test_odd_ids_in_a_page_request_are_ignored(acme: OrgWorld, goals: dict, value: str) -> None:
    client = client_for(acme.admin)
    assert (
        client.get(
            f"/o/{acme.slug}/goals/cycles/{goals['cycle'].pk}/objectives/new/?parent={value}"
        ).status_code
        == 200
    )
