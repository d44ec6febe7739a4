"""Services refuse to link an organisation's objects to another organisation's (foreign keys bypass RLS)."""

import pytest

from goals import services as goal_services
from goals.models import Level
from goals.validation import GoalValidationError
from okrsignal import services
from okrsignal.models import Role
from okrsignal.tenancy import TenantMismatch, tenant_context
from tests.factories import OrgWorld
from tests.goal_factories import make_cycle, make_goal_data, make_key_result, make_objective


def test_a_team_cannot_be_led_by_another_organisations_member(acme: OrgWorld, globex: OrgWorld) -> None:
    with tenant_context(acme.organization), pytest.raises(TenantMismatch):
        services.team_create(name="Borrowed lead", lead=globex.admin)


def test_nobody_can_report_to_another_organisations_member(acme: OrgWorld, globex: OrgWorld) -> None:
    with tenant_context(acme.organization), pytest.raises(TenantMismatch):
        services.membership_update(
            membership=acme.peer, role=Role.EMPLOYEE, team=None, manager=globex.manager
        )


def test_an_invitation_cannot_name_another_organisations_team(acme: OrgWorld, globex: OrgWorld) -> None:
    with tenant_context(acme.organization), pytest.raises(TenantMismatch):
        services.invitation_create(
            email="x@example.test", role=Role.EMPLOYEE, invited_by=acme.admin, team=globex.team
        )


def test_an_objective_cannot_sit_under_another_organisations_objective(
    acme: OrgWorld, globex: OrgWorld
) -> None:
    with tenant_context(globex.organization):
        foreign = make_goal_data(globex)["objective"]
    with tenant_context(acme.organization):
        cycle = make_cycle()
        with pytest.raises(TenantMismatch):
            make_objective(cycle, acme.manager, title="Grows revenue too", level=Level.TEAM, parent=foreign)


def test_a_key_result_cannot_credit_another_organisations_people(acme: OrgWorld, globex: OrgWorld) -> None:
    with tenant_context(acme.organization):
        objective = make_objective(make_cycle(), acme.admin, title="Grow revenue")
        with pytest.raises(TenantMismatch):
            make_key_result(
                objective, acme.admin, title="Revenue", baseline=1, target=2, contributors=[globex.report]
            )


def test_a_key_result_cannot_roll_up_into_a_key_result_of_its_own_objective(acme: OrgWorld) -> None:
    with tenant_context(acme.organization):
        objective = make_objective(make_cycle(), acme.admin, title="Grow revenue")
        first = make_key_result(objective, acme.admin, title="Revenue", baseline=1, target=2)
        with pytest.raises(GoalValidationError) as error:
            make_key_result(
                objective, acme.admin, title="More revenue", baseline=1, target=3, parent_key_result=first
            )
    assert {problem.code for problem in error.value.problems} == {"parent_key_result_same_objective"}


def test_key_result_roll_ups_cannot_loop(acme: OrgWorld) -> None:
    with tenant_context(acme.organization):
        cycle = make_cycle()
        company = make_objective(cycle, acme.admin, title="Grow revenue")
        team = make_objective(
            cycle, acme.manager, title="Grow revenue in the north", level=Level.TEAM, parent=company
        )
        company_kr = make_key_result(company, acme.admin, title="Revenue", baseline=1, target=2)
        team_kr = make_key_result(
            team, acme.manager, title="North revenue", baseline=1, target=2, parent_key_result=company_kr
        )
        with pytest.raises(GoalValidationError) as error:
            goal_services.key_result_update(
                key_result=company_kr, by=acme.admin, changes={"parent_key_result": team_kr}
            )
    assert "key_result_loop" in {problem.code for problem in error.value.problems}
