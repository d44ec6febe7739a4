"""Roles, reporting lines and member administration."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from okrsignal import services
from okrsignal.models import Membership, Role
from okrsignal.permissions import report_ids
from okrsignal.tenancy import tenant_context
from tests.conftest import client_for
from tests.factories import OrgWorld


def _detail(world: OrgWorld, person: Membership) -> str:
    return reverse("membership_detail", kwargs={"org_slug": world.slug, "membership_id": person.pk})


def test_reports_are_direct_and_indirect(acme: OrgWorld) -> None:
    with tenant_context(acme.organization):
        assert report_ids(acme.manager) == {acme.report.pk, acme.indirect_report.pk}
        assert report_ids(acme.indirect_report) == set()


def test_a_manager_sees_direct_and_indirect_reports(acme: OrgWorld) -> None:
    client = client_for(acme.manager)
    assert client.get(_detail(acme, acme.report)).status_code == 200
    assert client.get(_detail(acme, acme.indirect_report)).status_code == 200


def test_an_employee_asking_for_a_peer_gets_404(acme: OrgWorld) -> None:
    assert client_for(acme.report).get(_detail(acme, acme.peer)).status_code == 404


def test_everyone_sees_their_own_page(acme: OrgWorld) -> None:
    assert client_for(acme.peer).get(_detail(acme, acme.peer)).status_code == 200


@pytest.mark.parametrize(
    "route",
    ["invite", "team_create"],
)
def test_admin_pages_are_404_for_managers_and_employees(acme: OrgWorld, route: str) -> None:
    url = reverse(route, kwargs={"org_slug": acme.slug})
    assert client_for(acme.manager).get(url).status_code == 404
    assert client_for(acme.report).get(url).status_code == 404
    assert client_for(acme.admin).get(url).status_code == 200


def test_reporting_lines_cannot_loop(acme: OrgWorld) -> None:
    with tenant_context(acme.organization), pytest.raises(ValidationError) as error:
        services.membership_update(
            membership=acme.manager, role=Role.MANAGER, team=acme.team, manager=acme.indirect_report
        )
    assert "cannot loop" in error.value.message_dict["manager"][0]


def test_the_last_admin_cannot_step_down_or_leave(acme: OrgWorld) -> None:
    with tenant_context(acme.organization):
        with pytest.raises(ValidationError):
            services.membership_update(membership=acme.admin, role=Role.EMPLOYEE, team=None, manager=None)
        with pytest.raises(ValidationError):
            services.membership_deactivate(membership=acme.admin)


def test_deactivating_keeps_the_person_and_moves_their_reports_up(acme: OrgWorld) -> None:
    response = client_for(acme.admin).post(
        reverse("membership_deactivate", kwargs={"org_slug": acme.slug, "membership_id": acme.report.pk})
    )
    assert response.status_code == 302
    with tenant_context(acme.organization):
        report = Membership.objects.get(pk=acme.report.pk)
        indirect = Membership.objects.get(pk=acme.indirect_report.pk)
    assert not report.is_active
    assert report.deactivated_at is not None
    assert indirect.manager_id == acme.manager.pk
    people_page = (
        client_for(acme.admin).get(reverse("people", kwargs={"org_slug": acme.slug})).content.decode()
    )
    assert report.user.full_name in people_page
    assert "Deactivated" in people_page


def test_an_admin_changes_role_team_and_manager_through_the_form(acme: OrgWorld) -> None:
    url = reverse("membership_edit", kwargs={"org_slug": acme.slug, "membership_id": acme.peer.pk})
    response = client_for(acme.admin).post(
        url, {"role": Role.MANAGER, "team": acme.team.pk, "manager": acme.manager.pk, "title": "Lead"}
    )
    assert response.status_code == 302
    with tenant_context(acme.organization):
        peer = Membership.objects.get(pk=acme.peer.pk)
    assert (peer.role, peer.manager_id, peer.title) == (Role.MANAGER, acme.manager.pk, "Lead")


def test_a_loop_entered_in_the_form_is_shown_on_the_manager_field(acme: OrgWorld) -> None:
    url = reverse("membership_edit", kwargs={"org_slug": acme.slug, "membership_id": acme.manager.pk})
    response = client_for(acme.admin).post(url, {"role": Role.MANAGER, "manager": acme.indirect_report.pk})
    assert response.status_code == 200
    assert "cannot loop" in response.context["form"].errors["manager"][0]


def test_team_tree_refuses_a_team_under_its_own_subteam(acme: OrgWorld) -> None:
    with tenant_context(acme.organization):
        child = services.team_create(name="Child", parent=acme.team)
        with pytest.raises(ValidationError):
            services.team_update(team=acme.team, name=acme.team.name, parent=child, lead=None)


def test_the_api_lists_only_the_people_the_caller_may_see(acme: OrgWorld) -> None:
    url = f"/api/v1/o/{acme.slug}/members/"
    employee = client_for(acme.indirect_report).get(url).json()
    manager = client_for(acme.manager).get(url).json()
    admin = client_for(acme.admin).get(url).json()
    assert {row["id"] for row in employee["results"]} == {acme.indirect_report.pk}
    assert {row["id"] for row in manager["results"]} == {
        acme.manager.pk,
        acme.report.pk,
        acme.indirect_report.pk,
    }
    assert admin["count"] == 5


def test_the_api_refuses_anonymous_callers(acme: OrgWorld) -> None:
    from django.test import Client

    assert Client().get(f"/api/v1/o/{acme.slug}/teams/").status_code == 403
