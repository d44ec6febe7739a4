"""API tokens: stored as a digest, revocable, scoped read or write, bound to their organisation, and
managed by admins on their own page."""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from playwright.sync_api import Page, expect
from pytest_django.live_server_helper import LiveServer
from rest_framework.test import APIClient

from goals.models import Objective
from okrsignal import api_tokens
from okrsignal.models import ApiToken, ApiTokenScope, Membership, Role
from okrsignal.tenancy import cross_organization, tenant_context
from tests.browser import assert_accessible, screenshot
from tests.conftest import client_for
from tests.factories import PASSWORD, OrgWorld, make_organization
from tests.goal_factories import make_cycle


def new_token(world: OrgWorld, scope: str = ApiTokenScope.READ, by: Membership | None = None) -> str:
    with tenant_context(world.organization):
        _token, raw_token = api_tokens.api_token_create(
            created_by=by or world.admin, name="Board report", scope=scope
        )
    return raw_token


def bearer(raw_token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw_token}")
    return client


def stored_token(world: OrgWorld) -> ApiToken:
    with tenant_context(world.organization):
        return ApiToken.objects.get()


def objective_body(world: OrgWorld) -> dict[str, Any]:
    with tenant_context(world.organization):
        cycle = make_cycle()
    return {
        "cycle": cycle.pk,
        "title": "Grow revenue",
        "level": "team",
        "owner": world.manager.pk,
        "warning_reasons": {"added_mid_cycle_without_parent": "A new team, set up this week"},
    }


# --- The token at rest --------------------------------------------------------------------------------


def test_only_a_digest_of_the_token_is_stored(acme: OrgWorld) -> None:
    raw_token = new_token(acme)

    with tenant_context(acme.organization):
        row = ApiToken.objects.values().get()
    assert row["hashed_secret"] == hashlib.sha256(raw_token.encode()).hexdigest()
    assert all(raw_token not in str(value) for value in row.values())
    assert raw_token.startswith(row["prefix"])
    assert len(row["prefix"]) < len(raw_token) // 3


def test_each_token_is_different(acme: OrgWorld) -> None:
    assert new_token(acme) != new_token(acme)


# --- Using a token -----------------------------------------------------------------------------------


def test_a_token_reads_its_organisations_api(acme: OrgWorld) -> None:
    response = bearer(new_token(acme)).get(f"/api/v1/o/{acme.slug}/objectives/")

    assert response.status_code == 200


def test_using_a_token_records_when_it_was_last_used(acme: OrgWorld) -> None:
    raw_token = new_token(acme)
    assert stored_token(acme).last_used_at is None

    bearer(raw_token).get(f"/api/v1/o/{acme.slug}/cycles/")

    assert stored_token(acme).last_used_at is not None


def test_a_revoked_token_is_a_401(acme: OrgWorld) -> None:
    raw_token = new_token(acme)
    with tenant_context(acme.organization):
        api_tokens.api_token_revoke(token=ApiToken.objects.get())

    response = bearer(raw_token).get(f"/api/v1/o/{acme.slug}/cycles/")

    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_an_unknown_token_is_a_401(acme: OrgWorld) -> None:
    raw_token = new_token(acme)

    response = bearer(raw_token[:-2] + "xx").get(f"/api/v1/o/{acme.slug}/cycles/")

    assert response.status_code == 401


def test_a_read_token_cannot_write(acme: OrgWorld) -> None:
    body = objective_body(acme)

    response = bearer(new_token(acme, ApiTokenScope.READ)).post(
        f"/api/v1/o/{acme.slug}/objectives/", body, format="json"
    )

    assert response.status_code == 403
    assert "read scope" in response.json()["detail"]
    with tenant_context(acme.organization):
        assert not Objective.objects.exists()


def test_a_write_token_writes_as_the_member_who_created_it(acme: OrgWorld) -> None:
    body = objective_body(acme)

    response = bearer(new_token(acme, ApiTokenScope.WRITE, by=acme.manager)).post(
        f"/api/v1/o/{acme.slug}/objectives/", body, format="json"
    )

    assert response.status_code == 201, response.json()
    with tenant_context(acme.organization):
        assert Objective.history.get(id=response.json()["id"]).history_user == acme.manager.user


def test_a_token_has_its_creators_current_role(acme: OrgWorld) -> None:
    raw_token = new_token(acme, ApiTokenScope.WRITE, by=acme.manager)
    with tenant_context(acme.organization):
        Membership.objects.filter(pk=acme.manager.pk).update(role=Role.EMPLOYEE)

    response = bearer(raw_token).post(
        f"/api/v1/o/{acme.slug}/objectives/", objective_body(acme), format="json"
    )

    assert response.status_code == 403


def test_a_token_stops_working_when_its_creator_is_deactivated(acme: OrgWorld) -> None:
    raw_token = new_token(acme, by=acme.manager)
    with tenant_context(acme.organization):
        Membership.objects.filter(pk=acme.manager.pk).update(is_active=False)

    response = bearer(raw_token).get(f"/api/v1/o/{acme.slug}/cycles/")

    assert response.status_code == 404


@pytest.fixture
def admin_of_both(acme: OrgWorld, globex: OrgWorld) -> Membership:
    """Acme's admin also administers Globex: only the token, not the person, is bound to Acme."""
    with tenant_context(globex.organization):
        return Membership.objects.create(user=acme.admin.user, role=Role.ADMIN)


@pytest.mark.usefixtures("admin_of_both")
@pytest.mark.parametrize("scope", [ApiTokenScope.READ, ApiTokenScope.WRITE])
def test_a_token_is_a_404_under_another_organisation(acme: OrgWorld, globex: OrgWorld, scope: str) -> None:
    client = bearer(new_token(acme, scope))
    body = objective_body(globex)

    read = client.get(f"/api/v1/o/{globex.slug}/cycles/")
    write = client.post(f"/api/v1/o/{globex.slug}/objectives/", body, format="json")

    assert (read.status_code, write.status_code) == (404, 404)
    assert client_for(acme.admin).get(f"/api/v1/o/{globex.slug}/cycles/").status_code == 200


def test_a_request_without_credentials_is_refused(acme: OrgWorld) -> None:
    assert APIClient().get(f"/api/v1/o/{acme.slug}/cycles/").status_code == 403


# --- The admin pages ---------------------------------------------------------------------------------


def tokens_page(world: OrgWorld) -> str:
    return f"/o/{world.slug}/settings/api-tokens/"


def test_admin_creates_a_token_and_sees_it_once(acme: OrgWorld) -> None:
    client = client_for(acme.admin)

    created = client.post(tokens_page(acme), {"name": "Weekly board report", "scope": "write"})

    assert created.status_code == 200
    assert created["Cache-Control"] == "no-store"
    raw_token = created.context["raw_token"]
    assert raw_token in created.content.decode()
    token = stored_token(acme)
    assert (token.name, token.scope, token.created_by_id) == ("Weekly board report", "write", acme.admin.pk)
    listed = client.get(tokens_page(acme)).content.decode()
    assert token.prefix in listed
    assert raw_token not in listed
    assert bearer(raw_token).get(f"/api/v1/o/{acme.slug}/cycles/").status_code == 200


def test_the_token_list_shows_scope_and_last_use(acme: OrgWorld) -> None:
    raw_token = new_token(acme)
    bearer(raw_token).get(f"/api/v1/o/{acme.slug}/cycles/")

    page = client_for(acme.admin).get(tokens_page(acme))

    assert page.status_code == 200
    body = page.content.decode()
    assert "Board report" in body
    assert "Read" in body
    assert "Never" not in body


def test_a_token_needs_a_name(acme: OrgWorld) -> None:
    response = client_for(acme.admin).post(tokens_page(acme), {"name": "", "scope": "read"})

    assert response.status_code == 200
    assert "name" in response.context["form"].errors
    with tenant_context(acme.organization):
        assert not ApiToken.objects.exists()


def test_admin_revokes_a_token(acme: OrgWorld) -> None:
    raw_token = new_token(acme)
    token = stored_token(acme)

    response = client_for(acme.admin).post(f"{tokens_page(acme)}{token.pk}/revoke/")

    assert response.status_code == 302
    assert stored_token(acme).revoked_at is not None
    assert bearer(raw_token).get(f"/api/v1/o/{acme.slug}/cycles/").status_code == 401


@pytest.mark.parametrize("role", ["manager", "report"])
def test_only_admins_reach_the_token_pages(acme: OrgWorld, role: str) -> None:
    new_token(acme)
    token = stored_token(acme)
    client = client_for(getattr(acme, role))

    listed = client.get(tokens_page(acme))
    created = client.post(tokens_page(acme), {"name": "Mine", "scope": "write"})
    revoked = client.post(f"{tokens_page(acme)}{token.pk}/revoke/")

    assert (listed.status_code, created.status_code, revoked.status_code) == (404, 404, 404)
    assert stored_token(acme).revoked_at is None


def test_another_organisations_admin_cannot_revoke_a_token(acme: OrgWorld, globex: OrgWorld) -> None:
    new_token(acme)
    token = stored_token(acme)

    response = client_for(globex.admin).post(f"{tokens_page(globex)}{token.pk}/revoke/")

    assert response.status_code == 404
    assert stored_token(acme).revoked_at is None


def test_tokens_are_found_across_organisations_only_by_digest(acme: OrgWorld, globex: OrgWorld) -> None:
    acme_token, globex_token = new_token(acme), new_token(globex)

    found = [api_tokens.api_token_for(acme_token), api_tokens.api_token_for(globex_token)]

    assert [token.organization_id for token in found if token] == [
        acme.organization.pk,
        globex.organization.pk,
    ]
    assert api_tokens.api_token_for("oks_" + "x" * 43) is None
    assert api_tokens.api_token_for(hashlib.sha256(acme_token.encode()).hexdigest()) is None


def test_last_use_is_recorded_at_most_once_a_minute(acme: OrgWorld) -> None:
    raw_token = new_token(acme)
    api_tokens.api_token_for(raw_token)
    first = stored_token(acme).last_used_at
    assert first is not None

    api_tokens.api_token_for(raw_token)
    assert stored_token(acme).last_used_at == first

    with cross_organization():
        ApiToken.objects.update(last_used_at=first - timedelta(minutes=2))
    api_tokens.api_token_for(raw_token)
    assert stored_token(acme).last_used_at > first  # type: ignore[operator]


def test_anonymous_visitors_are_sent_to_sign_in(acme: OrgWorld) -> None:
    response = Client().get(tokens_page(acme))

    assert response.status_code == 302


@pytest.mark.browser
@pytest.mark.usefixtures("transactional_db")
def test_admin_creates_a_token_in_the_browser(page: Page, live_server: LiveServer) -> None:
    world = make_organization("Acme")
    page.goto(live_server.url + "/accounts/login/")
    page.get_by_label("E-mail").fill(world.admin.user.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.goto(live_server.url + tokens_page(world))

    page.get_by_label("Name").fill("Weekly board report")
    page.get_by_label("Read and write").check()
    page.get_by_role("button", name="Create token").click()

    expect(page.get_by_role("textbox", name=re.compile("^Token"))).to_have_value(re.compile("^oks_"))
    expect(page.get_by_role("button", name="Revoke Weekly board report")).to_be_visible()
    assert_accessible(page)
    screenshot(page, "api-tokens")
