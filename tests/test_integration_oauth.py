"""Connecting HubSpot and Jira Cloud through the vendors' OAuth 2.0 consent, and keeping the access current.

The admin's browser is the Django test client; HubSpot and Atlassian (consent page, token endpoint, the
sites a grant reaches, and the APIs that accept the tokens issued) are local fakes at the HTTP boundary.
The database and Redis are real.
"""

from __future__ import annotations

import html
import logging
import re
import threading
import time
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from okrsignal.tenancy import tenant_context
from signals_ingest import oauth, services
from signals_ingest.clients import RetryPolicy
from signals_ingest.connections import integration_test_connection
from signals_ingest.models import Integration
from signals_ingest.sync import SyncReport, run_sync
from tests.conftest import client_for
from tests.factories import OrgWorld, make_organization
from tests.vendor_fakes import FakeHubSpot, FakeJira

pytest_plugins = ["tests.vendor_fakes.fixtures"]

TOKEN_PATH_HUBSPOT = "/oauth/v1/token"
TOKEN_PATH_ATLASSIAN = "/oauth/token"


def url(name: str, world: OrgWorld, **kwargs: Any) -> str:
    return reverse(f"integrations:{name}", kwargs={"org_slug": world.slug, **kwargs})


def text(response: Any) -> str:
    return response.content.decode()


def flashed(response: Any) -> list[str]:
    return [str(message) for message in response.context["messages"]] if response.context else []


def local(address: str) -> str:
    """The path and query of an address on this site, as the test client requests them."""
    return address.removeprefix(settings.SITE_URL)


def stored(world: OrgWorld, provider: str) -> Integration:
    with tenant_context(world.organization):
        return Integration.objects.get(provider=provider)


def nothing_stored(world: OrgWorld) -> bool:
    with tenant_context(world.organization):
        return not Integration.objects.exists()


def connect_link(client: Client, world: OrgWorld, provider: str, button: str) -> str:
    page = text(client.get(url(f"connect_{provider}", world)))
    match = re.search(rf'<a class="button" href="([^"]+)">{button}</a>', page)
    assert match, f"The {provider} page offers no {button} link"
    return html.unescape(match.group(1))


def sync(integration: Integration) -> SyncReport:
    return run_sync(
        organization_id=integration.organization_id,
        integration_id=integration.pk,
        retry=RetryPolicy(max_attempts=2, sleep=lambda seconds: None),
    )


def token_grants(fake: FakeHubSpot | FakeJira, path: str, grant_type: str) -> int:
    return sum(
        1
        for call in fake.calls_to(path)
        if path.endswith(call.path) and (call.form or call.json or {}).get("grant_type") == grant_type
    )


def age_access_token(world: OrgWorld, provider: str) -> None:
    """The stored access token is past its expiry, as it would be some time after the last renewal."""
    integration = stored(world, provider)
    with tenant_context(world.organization):
        services.integration_update_credentials(
            integration=integration, changes={"expires_at": int(time.time()) - 60}
        )


@pytest.fixture(autouse=True)
def _generous_rate_limits(settings: Any) -> None:
    settings.VENDOR_REQUESTS_PER_MINUTE = {"jira": 60_000, "slack": 60_000, "hubspot": 60_000}


@pytest.fixture
def admin(acme: OrgWorld) -> Client:
    return client_for(acme.admin)


# --- HubSpot ----------------------------------------------------------------------------------------


@pytest.fixture
def hubspot_app(settings: Any, hubspot_fake: FakeHubSpot) -> FakeHubSpot:
    """OKRSignal's own HubSpot app configured, with HubSpot (consent page, token endpoint, API) faked."""
    settings.HUBSPOT_API_URL = hubspot_fake.base_url
    settings.HUBSPOT_OAUTH_CLIENT_ID = hubspot_fake.client_id
    settings.HUBSPOT_OAUTH_CLIENT_SECRET = hubspot_fake.client_secret
    settings.HUBSPOT_OAUTH_AUTHORIZE_URL = f"{hubspot_fake.base_url}/oauth/authorize"
    return hubspot_fake


def hubspot_link(client: Client, world: OrgWorld) -> str:
    return connect_link(client, world, "hubspot", "Connect with HubSpot")


def connect_hubspot_with_oauth(client: Client, world: OrgWorld, fake: FakeHubSpot) -> Any:
    return client.get(local(fake.approve_install(hubspot_link(client, world))), follow=True)


def test_connect_with_hubspot_stores_the_grant_encrypted_end_to_end(
    acme: OrgWorld, admin: Client, hubspot_app: FakeHubSpot, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    link = hubspot_link(admin, acme)
    query = parse_qs(urlsplit(link).query)
    assert link.startswith(settings.HUBSPOT_OAUTH_AUTHORIZE_URL)
    assert query["client_id"] == [hubspot_app.client_id]
    assert query["redirect_uri"] == [f"{settings.SITE_URL}/oauth/hubspot/callback/"]
    assert "crm.objects.deals.read" in query["scope"][0].split()
    assert len(query["state"][0]) >= 40

    callback = hubspot_app.approve_install(link)
    assert callback.startswith(f"{settings.SITE_URL}/oauth/hubspot/callback/?")
    response = admin.get(local(callback), follow=True)

    assert response.redirect_chain[0][0].startswith(url("hubspot_oauth_connected", acme))
    assert response.redirect_chain[-1][0] == url("overview", acme)
    assert any(
        message.startswith("HubSpot is connected with OAuth. Connection test: Connected to HubSpot")
        for message in flashed(response)
    )
    integration = stored(acme, "hubspot")
    assert integration.auth_method == Integration.AuthMethod.OAUTH
    assert integration.settings["portal_id"] == str(hubspot_app.portal_id)
    with tenant_context(acme.organization):
        credentials = integration.credentials
    assert credentials["access_token"] in hubspot_app.oauth_access_tokens
    assert credentials["refresh_token"] in hubspot_app.refresh_tokens
    assert credentials["client_secret"] == hubspot_app.client_secret
    assert 1700 < credentials["expires_at"] - time.time() <= 1800
    exchange = [call for call in hubspot_app.calls_to(TOKEN_PATH_HUBSPOT) if call.method == "POST"]
    assert len(exchange) == 1
    assert exchange[0].form["grant_type"] == "authorization_code"
    assert exchange[0].form["redirect_uri"] == f"{settings.SITE_URL}/oauth/hubspot/callback/"
    assert "application/x-www-form-urlencoded" in (exchange[0].header("Content-Type") or "")

    secrets = [credentials["access_token"], credentials["refresh_token"], hubspot_app.client_secret]
    assert not any(secret in integration.credentials_token for secret in secrets)
    overview = text(admin.get(url("overview", acme)))
    settings_page = text(admin.get(url("connect_hubspot", acme)))
    for page in (text(response), overview, settings_page):
        assert not any(secret in page for secret in secrets)
    assert not any(secret in caplog.text for secret in secrets)
    assert "Connected with OAuth" in overview
    assert "last renewed" in overview
    # Nothing of a private app's token is asked for any more.
    assert 'name="access_token"' not in settings_page
    assert 'name="client_secret"' not in settings_page


def test_a_forged_hubspot_callback_is_refused_and_nothing_stored(
    acme: OrgWorld, admin: Client, hubspot_app: FakeHubSpot
) -> None:
    callback = local(hubspot_app.approve_install(hubspot_link(admin, acme)))
    forged = admin.get(callback.replace("state=", "state=x"), follow=True)
    assert "was not started from this page in this browser" in text(forged)
    assert "Connect with HubSpot</a>" in text(forged)  # a new start, right there
    assert nothing_stored(acme)
    assert not hubspot_app.calls_to(TOKEN_PATH_HUBSPOT)


def test_a_hubspot_state_is_used_once_and_expires(
    acme: OrgWorld, admin: Client, hubspot_app: FakeHubSpot
) -> None:
    callback = local(hubspot_app.approve_install(hubspot_link(admin, acme)))
    admin.get(callback, follow=True)
    replayed = admin.get(callback, follow=True)
    assert any(
        "No HubSpot connection was started in this browser" in message for message in flashed(replayed)
    )
    replayed_here = admin.get(f"{url('hubspot_oauth_connected', acme)}?{urlsplit(callback).query}")
    assert "was not started from this page in this browser" in text(replayed_here)
    assert token_grants(hubspot_app, TOKEN_PATH_HUBSPOT, "authorization_code") == 1

    late = local(hubspot_app.approve_install(hubspot_link(admin, acme)))
    session = admin.session
    session["oauth_connect_hubspot"] = {**session["oauth_connect_hubspot"], "started_at": time.time() - 601}
    session.save()
    assert "took more than 10 minutes" in text(admin.get(late, follow=True))


def test_a_declined_hubspot_consent_says_so(acme: OrgWorld, admin: Client, hubspot_app: FakeHubSpot) -> None:
    state = parse_qs(urlsplit(hubspot_link(admin, acme)).query)["state"][0]
    response = admin.get("/oauth/hubspot/callback/", {"error": "access_denied", "state": state}, follow=True)
    assert "HubSpot says the connection did not go ahead (access_denied). Nothing was connected." in text(
        response
    )
    assert nothing_stored(acme)


def test_a_code_hubspot_refuses_is_said_plainly(
    acme: OrgWorld, admin: Client, hubspot_app: FakeHubSpot
) -> None:
    state = parse_qs(urlsplit(hubspot_link(admin, acme)).query)["state"][0]
    response = admin.get("/oauth/hubspot/callback/", {"code": "made-up", "state": state}, follow=True)
    assert "HubSpot did not accept the connection: HubSpot refused the grant (BAD_AUTH_CODE)" in text(
        response
    )
    assert nothing_stored(acme)


def test_a_callback_without_a_connection_started_in_this_browser_goes_nowhere(
    acme: OrgWorld, admin: Client, hubspot_app: FakeHubSpot
) -> None:
    response = admin.get("/oauth/hubspot/callback/", {"code": "x", "state": "y"}, follow=True)
    assert any(
        "No HubSpot connection was started in this browser" in message for message in flashed(response)
    )
    assert nothing_stored(acme)


def test_another_organisations_admin_cannot_complete_a_callback_into_this_one(
    acme: OrgWorld, admin: Client, hubspot_app: FakeHubSpot
) -> None:
    globex = make_organization("Globex")
    intruder = client_for(globex.admin)
    callback = local(hubspot_app.approve_install(hubspot_link(admin, acme)))
    query = urlsplit(callback).query

    assert intruder.get(f"{url('hubspot_oauth_connected', acme)}?{query}").status_code == 404
    # Through the shared callback address: the intruder's session started nothing for Acme.
    intruder.get(callback, follow=True)
    # Nor with a connection of their own under way: the state is not theirs.
    hubspot_link(intruder, globex)
    refused = intruder.get(callback, follow=True)
    assert "was not started from this page in this browser" in text(refused)

    assert nothing_stored(acme)
    assert nothing_stored(globex)
    assert not hubspot_app.calls_to(TOKEN_PATH_HUBSPOT)


def test_the_same_admins_callback_for_another_organisation_is_refused(
    acme: OrgWorld, hubspot_app: FakeHubSpot
) -> None:
    """An admin of two organisations: a consent started for one cannot land in the other."""
    globex = make_organization("Globex")
    with tenant_context(globex.organization):
        from okrsignal.models import Membership, Role

        Membership.objects.create(user=acme.admin.user, role=Role.ADMIN)
    client = client_for(acme.admin)
    callback = local(hubspot_app.approve_install(hubspot_link(client, acme)))
    query = urlsplit(callback).query
    refused = client.get(f"{url('hubspot_oauth_connected', globex)}?{query}")
    assert "was not started from this page in this browser" in text(refused)
    assert nothing_stored(globex)
    assert nothing_stored(acme)


def test_an_expired_hubspot_token_is_renewed_before_a_pull_and_the_new_one_kept(
    acme: OrgWorld, admin: Client, hubspot_app: FakeHubSpot
) -> None:
    connect_hubspot_with_oauth(admin, acme, hubspot_app)
    hubspot_app.add_deal("Acme renewal", modified=timezone.now() - timezone.timedelta(days=1))
    first = stored(acme, "hubspot")
    with tenant_context(acme.organization):
        old_token = first.credentials["access_token"]
    hubspot_app.expire_access_tokens()
    age_access_token(acme, "hubspot")
    calls_before = len(hubspot_app.calls)

    report = sync(first)

    assert report.error is None, report.error
    assert report.taken >= 1
    assert token_grants(hubspot_app, TOKEN_PATH_HUBSPOT, "refresh_token") == 1
    renewed = stored(acme, "hubspot")
    with tenant_context(acme.organization):
        credentials = renewed.credentials
    assert credentials["access_token"] != old_token
    assert hubspot_app.oauth_access_tokens[credentials["access_token"]] > time.time()
    assert credentials["expires_at"] > time.time() + 1700
    assert renewed.token_refreshed_at is not None
    assert first.token_refreshed_at is not None
    assert renewed.token_refreshed_at > first.token_refreshed_at
    # Every API call of the pull went with the renewed token.
    api_calls = [call for call in hubspot_app.calls[calls_before:] if call.path.startswith("/crm/")]
    assert api_calls
    assert {call.header("Authorization") for call in api_calls} == {f"Bearer {credentials['access_token']}"}


def test_a_token_that_lapses_during_a_pull_is_renewed_once_and_the_pull_carries_on(
    acme: OrgWorld, admin: Client, hubspot_app: FakeHubSpot
) -> None:
    connect_hubspot_with_oauth(admin, acme, hubspot_app)
    hubspot_app.add_deal("Acme renewal", modified=timezone.now() - timezone.timedelta(days=1))
    # HubSpot says the token expired although the stored expiry is still ahead (a clock apart).
    hubspot_app.expire_access_tokens()

    report = sync(stored(acme, "hubspot"))

    assert report.error is None, report.error
    assert report.taken >= 1
    assert token_grants(hubspot_app, TOKEN_PATH_HUBSPOT, "refresh_token") == 1


def test_a_refused_hubspot_renewal_asks_for_a_new_connection_without_retrying(
    acme: OrgWorld, admin: Client, hubspot_app: FakeHubSpot
) -> None:
    connect_hubspot_with_oauth(admin, acme, hubspot_app)
    hubspot_app.revoke_refresh_tokens()
    hubspot_app.expire_access_tokens()
    age_access_token(acme, "hubspot")

    report = sync(stored(acme, "hubspot"))

    assert "connect HubSpot again" in str(report.error)
    integration = stored(acme, "hubspot")
    assert integration.needs_reconnection
    assert integration.is_connected
    assert "BAD_REFRESH_TOKEN" in integration.last_error
    # Nothing asks HubSpot again until an admin connects once more.
    sync(integration)
    check = integration_test_connection(integration=stored(acme, "hubspot"))
    assert not check.ok
    assert "connect HubSpot again" in check.message
    assert token_grants(hubspot_app, TOKEN_PATH_HUBSPOT, "refresh_token") == 1

    overview = text(admin.get(url("overview", acme)))
    assert "Connect again" in overview
    settings_page = text(admin.get(url("connect_hubspot", acme)))
    assert "HubSpot needs to be connected again" in settings_page
    assert "Connect with HubSpot</a>" in settings_page

    # Connecting again clears it, and the tools work again.
    connect_hubspot_with_oauth(admin, acme, hubspot_app)
    integration = stored(acme, "hubspot")
    assert not integration.needs_reconnection
    assert sync(integration).error is None


def test_a_private_app_token_is_never_renewed(
    acme: OrgWorld, admin: Client, hubspot_app: FakeHubSpot
) -> None:
    admin.post(
        url("connect_hubspot", acme),
        {"access_token": hubspot_app.access_token, "client_secret": "private-app-client-secret"},
    )
    integration = stored(acme, "hubspot")
    assert integration.auth_method == Integration.AuthMethod.TOKEN
    with tenant_context(acme.organization):
        assert oauth.usable_credentials(integration)["access_token"] == hubspot_app.access_token
    assert sync(integration).error is None
    assert not hubspot_app.calls_to(TOKEN_PATH_HUBSPOT)
    assert "Connected with a private app" in text(admin.get(url("overview", acme)))


def test_connect_with_hubspot_replaces_a_private_app_token(
    acme: OrgWorld, admin: Client, hubspot_app: FakeHubSpot
) -> None:
    admin.post(
        url("connect_hubspot", acme),
        {"access_token": hubspot_app.access_token, "client_secret": "private-app-client-secret"},
    )
    connect_hubspot_with_oauth(admin, acme, hubspot_app)
    integration = stored(acme, "hubspot")
    assert integration.auth_method == Integration.AuthMethod.OAUTH
    with tenant_context(acme.organization):
        assert integration.credentials["access_token"] != hubspot_app.access_token


def test_connect_with_hubspot_is_offered_only_when_the_app_is_set_up(acme: OrgWorld, admin: Client) -> None:
    assert "Connect with HubSpot" not in text(admin.get(url("connect_hubspot", acme)))
    response = admin.get(url("hubspot_oauth_connected", acme), {"code": "x", "state": "y"})
    assert "Connect with HubSpot is not set up on this server." in text(response)


# --- Jira Cloud -------------------------------------------------------------------------------------


@pytest.fixture
def atlassian_app(settings: Any, jira_fake: FakeJira) -> FakeJira:
    """OKRSignal's own Atlassian app configured, with Atlassian (auth and API hosts) and the site faked."""
    settings.JIRA_OAUTH_CLIENT_ID = jira_fake.client_id
    settings.JIRA_OAUTH_CLIENT_SECRET = jira_fake.client_secret
    settings.JIRA_OAUTH_AUTHORIZE_URL = f"{jira_fake.base_url}/authorize"
    settings.JIRA_OAUTH_TOKEN_URL = f"{jira_fake.base_url}/oauth/token"
    settings.JIRA_OAUTH_API_URL = jira_fake.base_url
    return jira_fake


def atlassian_link(client: Client, world: OrgWorld) -> str:
    return connect_link(client, world, "jira", "Connect with Atlassian")


def connect_jira_with_oauth(client: Client, world: OrgWorld, fake: FakeJira) -> Any:
    return client.get(local(fake.approve_install(atlassian_link(client, world))), follow=True)


def test_connect_with_atlassian_stores_the_grant_for_the_one_site_end_to_end(
    acme: OrgWorld, admin: Client, atlassian_app: FakeJira, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    link = atlassian_link(admin, acme)
    query = {key: values[0] for key, values in parse_qs(urlsplit(link).query).items()}
    assert link.startswith(settings.JIRA_OAUTH_AUTHORIZE_URL)
    assert query["audience"] == "api.atlassian.com"
    assert query["scope"] == "read:jira-work read:jira-user offline_access"
    assert query["response_type"] == "code"
    assert query["prompt"] == "consent"
    assert query["redirect_uri"] == f"{settings.SITE_URL}/oauth/jira/callback/"

    response = admin.get(local(atlassian_app.approve_install(link)), follow=True)

    assert response.redirect_chain[-1][0] == url("overview", acme)
    assert any(
        message.startswith(
            "Jira is connected with OAuth. Connection test: Connected to"
            f" {urlsplit(atlassian_app.base_url).netloc} as Priya Nair."
        )
        for message in flashed(response)
    )
    integration = stored(acme, "jira")
    assert integration.auth_method == Integration.AuthMethod.OAUTH
    assert integration.settings["site"] == atlassian_app.base_url
    assert integration.settings["cloud_id"] == atlassian_app.cloud_id
    with tenant_context(acme.organization):
        credentials = integration.credentials
    assert credentials["refresh_token"] in atlassian_app.refresh_tokens
    exchange = atlassian_app.calls_to(TOKEN_PATH_ATLASSIAN)[0]
    assert exchange.json["grant_type"] == "authorization_code"
    # The connection test went through the API gateway address of the site, with the Bearer token.
    myself = atlassian_app.calls_to(f"/ex/jira/{atlassian_app.cloud_id}/rest/api/3/myself")
    assert myself
    assert myself[-1].header("Authorization") == f"Bearer {credentials['access_token']}"

    secrets = [credentials["access_token"], credentials["refresh_token"], atlassian_app.client_secret]
    settings_page = text(admin.get(url("connect_jira", acme)))
    for page in (text(response), text(admin.get(url("overview", acme))), settings_page):
        assert not any(secret in page for secret in secrets)
    assert not any(secret in caplog.text for secret in secrets)
    assert 'name="api_token"' not in settings_page
    assert 'name="story_points_field"' in settings_page


def test_a_grant_reaching_several_sites_lets_the_admin_choose(
    acme: OrgWorld, admin: Client, atlassian_app: FakeJira
) -> None:
    other = atlassian_app.add_site("globex-labs")
    response = connect_jira_with_oauth(admin, acme, atlassian_app)
    assert response.redirect_chain[-1][0] == url("jira_oauth_site", acme)
    page = text(response)
    assert "globex-labs" in page
    assert atlassian_app.base_url in page
    assert nothing_stored(acme)

    # Another admin of the same organisation has no such grant waiting.
    other_admin = client_for(acme.admin)
    assert "No Atlassian connection is waiting" in text(other_admin.get(url("jira_oauth_site", acme)))
    refused = other_admin.post(url("jira_oauth_site", acme), {"cloud_id": atlassian_app.cloud_id})
    assert "No Atlassian connection is waiting" in text(refused)
    assert nothing_stored(acme)

    chosen = admin.post(url("jira_oauth_site", acme), {"cloud_id": atlassian_app.cloud_id}, follow=True)

    assert chosen.redirect_chain[-1][0] == url("overview", acme)
    integration = stored(acme, "jira")
    assert integration.settings["cloud_id"] == atlassian_app.cloud_id
    assert integration.settings["cloud_id"] != other["id"]
    # The grant waited encrypted, and is gone once used.
    assert "oauth_jira_sites" not in admin.session


def test_a_declined_atlassian_consent_says_so(acme: OrgWorld, admin: Client, atlassian_app: FakeJira) -> None:
    state = parse_qs(urlsplit(atlassian_link(admin, acme)).query)["state"][0]
    response = admin.get("/oauth/jira/callback/", {"error": "access_denied", "state": state}, follow=True)
    assert "Jira says the connection did not go ahead (access_denied). Nothing was connected." in text(
        response
    )
    assert nothing_stored(acme)


def test_an_expired_jira_token_is_renewed_and_the_rotated_refresh_token_kept(
    acme: OrgWorld, admin: Client, atlassian_app: FakeJira
) -> None:
    connect_jira_with_oauth(admin, acme, atlassian_app)
    atlassian_app.generate_issues(3, start=timezone.now() - timezone.timedelta(days=2))
    with tenant_context(acme.organization):
        first_refresh_token = stored(acme, "jira").credentials["refresh_token"]
    atlassian_app.expire_access_tokens()
    age_access_token(acme, "jira")

    report = sync(stored(acme, "jira"))

    assert report.error is None, report.error
    assert report.taken >= 3
    with tenant_context(acme.organization):
        credentials = stored(acme, "jira").credentials
    assert credentials["refresh_token"] != first_refresh_token
    assert credentials["refresh_token"] in atlassian_app.refresh_tokens
    assert first_refresh_token not in atlassian_app.refresh_tokens

    # The next renewal spends the new refresh token: the connection lives on.
    atlassian_app.expire_access_tokens()
    age_access_token(acme, "jira")
    assert sync(stored(acme, "jira")).error is None
    assert token_grants(atlassian_app, TOKEN_PATH_ATLASSIAN, "refresh_token") == 2


def test_a_refused_jira_renewal_asks_for_a_new_connection(
    acme: OrgWorld, admin: Client, atlassian_app: FakeJira
) -> None:
    connect_jira_with_oauth(admin, acme, atlassian_app)
    atlassian_app.revoke_refresh_tokens()
    age_access_token(acme, "jira")

    report = sync(stored(acme, "jira"))

    assert "connect Jira again with Connect with Atlassian" in str(report.error)
    integration = stored(acme, "jira")
    assert integration.needs_reconnection
    assert "invalid_grant" in integration.last_error
    assert "Jira needs to be connected again" in text(admin.get(url("connect_jira", acme)))


@pytest.mark.django_db(transaction=True)
def test_concurrent_renewals_spend_the_refresh_token_once(
    acme: OrgWorld, admin: Client, atlassian_app: FakeJira
) -> None:
    """Atlassian rotates refresh tokens: two workers renewing at once with the same one would end the
    connection. The row lock makes the second wait and use the token the first obtained."""
    connect_jira_with_oauth(admin, acme, atlassian_app)
    age_access_token(acme, "jira")
    integration = stored(acme, "jira")
    barrier = threading.Barrier(3)
    tokens: list[str] = []
    errors: list[BaseException] = []

    def renew() -> None:
        try:
            with tenant_context(acme.organization):
                mine = Integration.objects.get(pk=integration.pk)
            barrier.wait(timeout=10)
            tokens.append(str(oauth.usable_credentials(mine)["access_token"]))
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=renew) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert not errors, errors
    assert token_grants(atlassian_app, TOKEN_PATH_ATLASSIAN, "refresh_token") == 1
    assert len(set(tokens)) == 1
    assert not stored(acme, "jira").needs_reconnection


def test_saving_settings_of_an_oauth_jira_keeps_the_renewed_tokens(
    acme: OrgWorld, admin: Client, atlassian_app: FakeJira
) -> None:
    connect_jira_with_oauth(admin, acme, atlassian_app)
    page = admin.get(url("connect_jira", acme))
    assert page.status_code == 200
    # A worker renews the tokens while the admin has the page open.
    age_access_token(acme, "jira")
    with tenant_context(acme.organization):
        renewed = oauth.usable_credentials(stored(acme, "jira"))

    response = admin.post(
        url("connect_jira", acme),
        {"story_points_field": "customfield_10026", "webhook_secret": "hook-secret-1"},
    )

    assert response.status_code == 302
    integration = stored(acme, "jira")
    assert integration.settings["story_points_field"] == "customfield_10026"
    assert integration.settings["cloud_id"] == atlassian_app.cloud_id
    with tenant_context(acme.organization):
        credentials = integration.credentials
    assert credentials["refresh_token"] == renewed["refresh_token"]
    assert credentials["webhook_secret"] == "hook-secret-1"
    assert integration.auth_method == Integration.AuthMethod.OAUTH
