"""The integration pages: connecting the three tools (against local fakes of their APIs), testing the
connection, the Slack channels read, mapping rules with their preview, identities matched by hand, and
what was collected about a person, exported and erased.

Admin pages answer 404 to everyone else; a person's own collected-data page is every member's.
Secrets typed into a connection form never appear in any page.
"""

from __future__ import annotations

import html
import json
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import resolve, reverse

from goals.models import KeyResult
from okrsignal.models import Membership, Role
from okrsignal.tenancy import tenant_context
from signals_ingest import services
from signals_ingest.models import (
    ExecutionSignal,
    ExternalIdentity,
    Integration,
    MappingRule,
    SignalKeyResult,
    WorkItem,
)
from tests.conftest import client_for
from tests.factories import OrgWorld, make_organization, make_user
from tests.goal_factories import make_goal_data
from tests.ingest_factories import (
    EINAR,
    SITE,
    T0,
    connect,
    ingest,
    jira_comment,
    jira_created,
    jira_issue,
    jira_user,
)
from tests.vendor_fakes import FakeHubSpot, FakeJira, FakeSlack

pytest_plugins = ["tests.vendor_fakes.fixtures"]

JIRA_TOKEN_TYPED = "ATATT-typed-into-the-form-7c1f0e"
WEBHOOK_SECRET_TYPED = "jira-webhook-secret-5d2a"


def url(name: str, world: OrgWorld, **kwargs: Any) -> str:
    return reverse(f"integrations:{name}", kwargs={"org_slug": world.slug, **kwargs})


def text(response: Any) -> str:
    return response.content.decode()


def flashed(response: Any) -> list[str]:
    return [str(message) for message in response.context["messages"]] if response.context else []


@pytest.fixture
def admin(acme: OrgWorld) -> Client:
    return client_for(acme.admin)


@pytest.fixture
def key_result(acme: OrgWorld) -> KeyResult:
    with tenant_context(acme.organization):
        return make_goal_data(acme)["key_result"]


@pytest.fixture
def vendor_addresses(settings: Any, slack_fake: FakeSlack, hubspot_fake: FakeHubSpot) -> None:
    settings.SLACK_API_URL = f"{slack_fake.base_url}/api/"
    settings.HUBSPOT_API_URL = hubspot_fake.base_url


def connect_jira_to(fake: FakeJira, world: OrgWorld, **overrides: str) -> Any:
    data = {
        "site_url": fake.base_url,
        "account_email": fake.email,
        "api_token": fake.api_token,
        "webhook_secret": "",
        "story_points_field": "customfield_10016",
        **overrides,
    }
    return client_for(world.admin).post(url("connect_jira", world), data, follow=True)


def stored(world: OrgWorld, provider: str) -> Integration:
    with tenant_context(world.organization):
        return Integration.objects.get(provider=provider)


# --- Who may see the pages --------------------------------------------------------------------------


def admin_urls(world: OrgWorld, integration: Integration, rule: MappingRule) -> list[str]:
    return [
        url("overview", world),
        url("connect_jira", world),
        url("connect_slack", world),
        url("connect_hubspot", world),
        url("slack_installed", world),
        url("disconnect", world, integration_id=integration.pk),
        url("rules", world, integration_id=integration.pk),
        url("rule_edit", world, integration_id=integration.pk, rule_id=rule.pk),
        url("identities", world),
        url("person_privacy", world, membership_id=world.peer.pk),
        url("person_export", world, membership_id=world.peer.pk),
        url("person_erase", world, membership_id=world.peer.pk),
    ]


@pytest.fixture
def jira_with_rule(acme: OrgWorld, key_result: KeyResult) -> tuple[Integration, MappingRule]:
    with tenant_context(acme.organization):
        integration = connect("jira")
        rule = services.mapping_rule_create(
            integration=integration, match={"project": "ONB"}, key_result=key_result
        )
        ingest(integration, jira_created(jira_issue("18001", "ONB-7", assignee=EINAR)))
    return integration, rule


def test_every_admin_page_renders_for_an_admin(
    acme: OrgWorld, admin: Client, jira_with_rule: tuple[Integration, MappingRule]
) -> None:
    integration, rule = jira_with_rule
    for address in admin_urls(acme, integration, rule):
        response = admin.get(address)
        assert response.status_code == 200, address


@pytest.mark.parametrize("who", ["manager", "report"])
def test_admin_pages_are_404_for_managers_and_employees(
    acme: OrgWorld, who: str, jira_with_rule: tuple[Integration, MappingRule]
) -> None:
    integration, rule = jira_with_rule
    client = client_for(getattr(acme, who))
    for address in admin_urls(acme, integration, rule):
        assert client.get(address).status_code == 404, address
    for name, kwargs in [
        ("test", {"integration_id": integration.pk}),
        ("sync", {"integration_id": integration.pk}),
        ("disconnect", {"integration_id": integration.pk}),
        ("rules", {"integration_id": integration.pk}),
        ("rule_delete", {"integration_id": integration.pk, "rule_id": rule.pk}),
        ("identities_match_by_email", {}),
        ("person_erase", {"membership_id": acme.peer.pk}),
    ]:
        assert client.post(url(name, acme, **kwargs), {"confirm": "on"}).status_code == 404, name
    assert stored(acme, "jira").is_connected


def test_the_nav_offers_integrations_to_admins_and_my_data_to_everyone(acme: OrgWorld, admin: Client) -> None:
    home = reverse("organization_home", kwargs={"org_slug": acme.slug})
    assert f'href="{url("overview", acme)}"' in text(admin.get(home))
    employee_page = text(client_for(acme.report).get(home))
    assert f'href="{url("overview", acme)}"' not in employee_page
    assert f'href="{url("my_privacy", acme)}"' in employee_page


# --- Connecting and testing -------------------------------------------------------------------------


def test_an_admin_connects_jira_and_the_connection_is_tested_at_once(
    acme: OrgWorld, jira_fake: FakeJira
) -> None:
    response = connect_jira_to(jira_fake, acme)

    assert response.redirect_chain[-1][0] == url("overview", acme)
    site = jira_fake.base_url.removeprefix("http://")
    assert f"Jira is connected. Connection test: Connected to {site} as Priya Nair." in flashed(response)
    integration = stored(acme, "jira")
    assert integration.settings["site"] == jira_fake.base_url
    assert integration.settings["story_points_field"] == "customfield_10016"
    with tenant_context(acme.organization):
        assert integration.credentials == {"email": jira_fake.email, "api_token": jira_fake.api_token}
    assert jira_fake.calls_to("/rest/api/3/myself")


def test_a_refused_jira_token_is_said_plainly(acme: OrgWorld, jira_fake: FakeJira) -> None:
    response = connect_jira_to(jira_fake, acme, api_token="not-the-token")

    assert response.redirect_chain[-1][0] == url("connect_jira", acme)
    assert flashed(response) == [
        "Jira is connected. But the connection test failed: The API token was refused (401). Check the"
        " account e-mail and the API token. Check the values below."
    ]


def test_test_connection_answers_in_place_for_htmx(acme: OrgWorld, jira_fake: FakeJira) -> None:
    connect_jira_to(jira_fake, acme)
    integration = stored(acme, "jira")
    admin = client_for(acme.admin)

    works = admin.post(url("test", acme, integration_id=integration.pk), HTTP_HX_REQUEST="true")
    assert works.status_code == 200
    assert "It works." in text(works)
    assert "as Priya Nair" in text(works)
    assert "<html" not in text(works)

    jira_fake.fail_next(status=401)
    refused = admin.post(url("test", acme, integration_id=integration.pk), HTTP_HX_REQUEST="true")
    assert "It does not work." in text(refused)
    assert "The API token was refused (401)" in text(refused)


def test_test_connection_without_htmx_says_it_in_a_message(acme: OrgWorld, jira_fake: FakeJira) -> None:
    connect_jira_to(jira_fake, acme)
    integration = stored(acme, "jira")
    response = client_for(acme.admin).post(url("test", acme, integration_id=integration.pk), follow=True)
    assert any("Connected to" in message for message in flashed(response))


@pytest.mark.usefixtures("vendor_addresses")
def test_slack_and_hubspot_connect_and_test_against_their_fakes(
    acme: OrgWorld, admin: Client, slack_fake: FakeSlack, hubspot_fake: FakeHubSpot
) -> None:
    slack = admin.post(
        url("connect_slack", acme),
        {"bot_token": slack_fake.bot_token, "signing_secret": "8f14e45fceea167a5a36dedd4bea2543"},
        follow=True,
    )
    assert slack.redirect_chain[-1][0] == url(
        "slack_channels", acme, slack_integration_id=stored(acme, "slack").pk
    )
    assert (
        "Slack is connected. Connection test: Connected to the Acme workspace (acme.slack.com) as okrsignal."
        in (flashed(slack))
    )
    # The workspace is remembered, so that events from any other workspace are never stored.
    assert stored(acme, "slack").settings["team_id"] == "T0ACME0001"

    hubspot = admin.post(
        url("connect_hubspot", acme),
        {"access_token": hubspot_fake.access_token, "client_secret": "hubspot-client-secret"},
        follow=True,
    )
    assert any(
        message.startswith("HubSpot is connected. Connection test: Connected to HubSpot")
        for message in flashed(hubspot)
    )

    for provider, fake, answer in (
        ("slack", slack_fake, "Slack refused the bot token (invalid_auth)"),
        ("hubspot", hubspot_fake, "HubSpot refused the access token (401)"),
    ):
        test_url = url("test", acme, integration_id=stored(acme, provider).pk)
        assert "It works." in text(admin.post(test_url, HTTP_HX_REQUEST="true")), provider
        fake.fail_next(status=401)
        refused = text(admin.post(test_url, HTTP_HX_REQUEST="true"))
        assert "It does not work." in refused, provider
        assert answer in refused, provider


@pytest.mark.usefixtures("vendor_addresses")
def test_refused_slack_and_hubspot_tokens_get_clear_answers(
    acme: OrgWorld, admin: Client, slack_fake: FakeSlack, hubspot_fake: FakeHubSpot
) -> None:
    slack = admin.post(
        url("connect_slack", acme),
        {"bot_token": "xoxb-not-the-token", "signing_secret": "8f14e45fceea167a5a36dedd4bea2543"},
        follow=True,
    )
    assert any("Slack refused the bot token (invalid_auth)" in message for message in flashed(slack))
    hubspot = admin.post(
        url("connect_hubspot", acme),
        {"access_token": "pat-na1-wrong", "client_secret": "secret"},
        follow=True,
    )
    assert any("HubSpot refused the access token (401)" in message for message in flashed(hubspot))


@pytest.mark.parametrize(
    ("form", "data", "field", "message"),
    [
        ("connect_jira", {}, "site_url", "This field is required."),
        ("connect_jira", {}, "api_token", "This field is required."),
        (
            "connect_jira",
            {"site_url": "http://orbit.atlassian.net"},
            "site_url",
            "Use the site's https:// address: the API token must not travel unencrypted.",
        ),
        (
            "connect_jira",
            {"site_url": "https://orbit.atlassian.net/jira/projects"},
            "site_url",
            "Enter the site's address alone, like https://orbit.atlassian.net, without a page.",
        ),
        ("connect_jira", {"account_email": "bot"}, "account_email", "Enter a valid email address."),
        (
            "connect_jira",
            {"story_points_field": "Story Points"},
            "story_points_field",
            "Give the field's id, like customfield_10016 (Jira > Settings > Issues > Custom fields).",
        ),
        (
            "connect_slack",
            {"bot_token": "xoxp-user-token"},
            "bot_token",
            "That is not a bot token: bot tokens start with xoxb- (a user token, xoxp-, would read as you).",
        ),
        ("connect_slack", {}, "signing_secret", "This field is required."),
        (
            "connect_hubspot",
            {"access_token": "pat na1"},
            "access_token",
            "An access token has no spaces in it",
        ),
        ("connect_hubspot", {}, "client_secret", "This field is required."),
    ],
)
def test_connection_forms_say_what_is_wrong(
    acme: OrgWorld, admin: Client, form: str, data: dict[str, str], field: str, message: str
) -> None:
    response = admin.post(url(form, acme), data)

    assert response.status_code == 400
    errors = response.context["form"].errors[field]
    assert any(error.startswith(message) for error in errors), errors
    with tenant_context(acme.organization):
        assert not Integration.objects.exists()


def test_saved_secrets_are_kept_when_left_empty_and_replaced_when_typed(
    acme: OrgWorld, jira_fake: FakeJira
) -> None:
    connect_jira_to(jira_fake, acme, webhook_secret=WEBHOOK_SECRET_TYPED)
    admin = client_for(acme.admin)
    settings_page = text(admin.get(url("connect_jira", acme)))
    assert settings_page.count(">set</span>") == 2

    base = {"site_url": jira_fake.base_url, "account_email": jira_fake.email, "story_points_field": ""}
    admin.post(url("connect_jira", acme), {**base, "api_token": "", "webhook_secret": ""})
    with tenant_context(acme.organization):
        integration = Integration.objects.get()
        assert integration.credentials["api_token"] == jira_fake.api_token
        assert integration.credentials["webhook_secret"] == WEBHOOK_SECRET_TYPED
        assert "story_points_field" not in integration.settings

    admin.post(url("connect_jira", acme), {**base, "api_token": "a-new-token", "remove_webhook_secret": "on"})
    with tenant_context(acme.organization):
        credentials = Integration.objects.get().credentials
    assert credentials == {"email": jira_fake.email, "api_token": "a-new-token"}


def test_secrets_never_appear_in_any_page(acme: OrgWorld, jira_fake: FakeJira, key_result: KeyResult) -> None:
    jira_fake.api_token = JIRA_TOKEN_TYPED
    connect_jira_to(jira_fake, acme, webhook_secret=WEBHOOK_SECRET_TYPED)
    integration = stored(acme, "jira")
    admin = client_for(acme.admin)
    with tenant_context(acme.organization):
        rule = services.mapping_rule_create(
            integration=integration, match={"project": "ONB"}, key_result=key_result
        )
    pages = [admin.get(address) for address in admin_urls(acme, integration, rule)]
    pages.append(admin.post(url("test", acme, integration_id=integration.pk), HTTP_HX_REQUEST="true"))
    # A form sent back with an error on another field does not echo the secrets typed into it either.
    pages.append(
        admin.post(
            url("connect_jira", acme),
            {
                "site_url": "not an address",
                "account_email": jira_fake.email,
                "api_token": "typed-" + JIRA_TOKEN_TYPED,
            },
        )
    )
    pages.append(
        admin.post(
            url("connect_slack", acme),
            {
                "bot_token": "xoxp-typed-" + JIRA_TOKEN_TYPED,
                "signing_secret": "typed-" + WEBHOOK_SECRET_TYPED,
            },
        )
    )
    for page in pages:
        body = text(page)
        assert JIRA_TOKEN_TYPED not in body, page.wsgi_request.path
        assert WEBHOOK_SECRET_TYPED not in body, page.wsgi_request.path


def test_the_overview_shows_state_and_the_full_webhook_address(acme: OrgWorld, admin: Client) -> None:
    with tenant_context(acme.organization):
        integration = connect("jira")
        services.integration_record_sync(
            integration=integration, error="Jira answered 503. Gave up after 5 attempts."
        )
        Integration.objects.filter(pk=integration.pk).update(items_taken=12345)
        integration.refresh_from_db()

    page = text(admin.get(url("overview", acme)))

    address = f"{settings.SITE_URL}/webhooks/jira/{integration.webhook_token}/"
    assert f'value="{address}"' in page
    assert resolve(address.removeprefix(settings.SITE_URL)).url_name == "webhook_jira"
    assert "12,345" in page
    assert "Jira answered 503. Gave up after 5 attempts." in page
    assert "Failing" in page
    assert "Connect Slack" in page
    assert "Connect HubSpot" in page


def test_an_empty_overview_says_what_to_do_first(acme: OrgWorld, admin: Client) -> None:
    page = text(admin.get(url("overview", acme)))
    assert "Connect the first tool" in page
    assert page.count("Not connected") == 3


def test_disconnecting_asks_first_and_keeps_the_history(
    acme: OrgWorld, admin: Client, jira_with_rule: tuple[Integration, MappingRule]
) -> None:
    integration, _rule = jira_with_rule
    confirm = text(admin.get(url("disconnect", acme, integration_id=integration.pk)))
    assert "Disconnect Jira?" in confirm
    assert "taken so far, still counting toward key results" in confirm

    assert admin.post(url("disconnect", acme, integration_id=integration.pk)).status_code == 400
    assert stored(acme, "jira").is_connected

    response = admin.post(
        url("disconnect", acme, integration_id=integration.pk), {"confirm": "disconnect"}, follow=True
    )

    assert any("Everything taken from it so far" in message for message in flashed(response))
    integration = stored(acme, "jira")
    assert not integration.is_connected
    assert integration.credentials_token == ""
    with tenant_context(acme.organization):
        assert WorkItem.objects.count() == 1
        assert ExecutionSignal.objects.count() == 1
        assert MappingRule.objects.count() == 1
    assert "Reconnect Jira" in text(response)
    reconnect = text(admin.get(url("connect_jira", acme)))
    assert "Connect Jira" in reconnect
    assert f'value="{SITE}"' in reconnect


def test_rotating_the_webhook_address_replaces_the_token(acme: OrgWorld, admin: Client) -> None:
    with tenant_context(acme.organization):
        integration = connect("jira")
    old = integration.webhook_token
    response = admin.post(url("rotate_webhook_token", acme, integration_id=integration.pk), follow=True)
    new = stored(acme, "jira").webhook_token
    assert new != old
    assert new in text(response)
    assert old not in text(response)


def test_sync_now_runs_a_pull_sync(
    acme: OrgWorld, jira_fake: FakeJira, django_capture_on_commit_callbacks: Any
) -> None:
    connect_jira_to(jira_fake, acme)
    jira_fake.add_issue(key="ONB-1", summary="Self-serve SSO", updated=T0)
    integration = stored(acme, "jira")

    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(acme.admin).post(url("sync", acme, integration_id=integration.pk), follow=True)

    assert any("A Jira sync has started" in message for message in flashed(response))
    assert jira_fake.calls_to("/rest/api/3/search/jql")
    with tenant_context(acme.organization):
        assert WorkItem.objects.filter(key="ONB-1").exists()


# --- Slack channels ---------------------------------------------------------------------------------


@pytest.fixture
def slack_with_channels(acme: OrgWorld, slack_fake: FakeSlack, vendor_addresses: None) -> Integration:
    slack_fake.add_channel("activation", channel_id="C0ACTIVATE")
    slack_fake.add_channel("random", channel_id="C0RANDOM01", bot_is_member=False)
    slack_fake.add_channel("deal-desk", channel_id="G0DEALDESK", is_private=True)
    slack_fake.add_channel("leadership", channel_id="G0LEADERS1", is_private=True, bot_is_member=False)
    # Whatever Slack might return, a direct message is never offered.
    slack_fake.channels["D0DIRECT01"] = {
        **slack_fake.channels["C0ACTIVATE"],
        "id": "D0DIRECT01",
        "is_im": True,
        "name": "priya",
    }
    with tenant_context(acme.organization):
        return services.integration_connect(
            provider="slack",
            credentials={
                "bot_token": slack_fake.bot_token,
                "signing_secret": "8f14e45fceea167a5a36dedd4bea2543",
            },
            settings={},
        )


def test_channels_offered_are_public_and_private_ones_the_bot_is_in_never_dms(
    acme: OrgWorld, admin: Client, slack_with_channels: Integration
) -> None:
    response = admin.get(url("slack_channels", acme, slack_integration_id=slack_with_channels.pk))

    listing = response.context["listing"]
    offered = {channel.id: channel for channel in listing.channels}
    assert set(offered) == {"C0ACTIVATE", "C0RANDOM01", "G0DEALDESK"}
    assert offered["G0DEALDESK"].is_private
    assert not offered["C0ACTIVATE"].is_private
    assert not offered["C0RANDOM01"].bot_is_member
    page = text(response)
    assert "#deal-desk" in page
    assert "Private" in page
    assert "D0DIRECT01" not in page
    assert "leadership" not in page


def test_only_ticked_channels_are_read(
    acme: OrgWorld, admin: Client, slack_with_channels: Integration
) -> None:
    address = url("slack_channels", acme, slack_integration_id=slack_with_channels.pk)

    response = admin.post(address, {"channels": ["C0ACTIVATE", "G0DEALDESK"]}, follow=True)

    assert "Reading 2 channels: #activation, #deal-desk." in flashed(response)
    assert stored(acme, "slack").settings["channels"] == [
        {"id": "C0ACTIVATE", "name": "activation", "is_private": False},
        {"id": "G0DEALDESK", "name": "deal-desk", "is_private": True},
    ]

    refused = admin.post(address, {"channels": ["C0ACTIVATE", "D0DIRECT01"]})
    assert refused.status_code == 400
    assert "D0DIRECT01 is not a channel the bot can read" in text(refused)
    assert len(stored(acme, "slack").settings["channels"]) == 2

    admin.post(address, {})
    assert stored(acme, "slack").settings["channels"] == []


def test_channels_page_says_when_slack_cannot_be_asked(
    acme: OrgWorld, admin: Client, slack_fake: FakeSlack, slack_with_channels: Integration
) -> None:
    with tenant_context(acme.organization):
        services.integration_update_settings(
            integration=slack_with_channels,
            settings={"channels": [{"id": "C0ACTIVATE", "name": "activation", "is_private": False}]},
        )
    slack_fake.fail_next(status=401)
    page = text(admin.get(url("slack_channels", acme, slack_integration_id=slack_with_channels.pk)))
    assert "Slack could not be asked which channels the bot sees" in page
    assert "Slack refused the bot token (invalid_auth)" in page
    assert "#activation" in page  # still listed, so it can be unticked


def test_channels_page_is_404_for_other_tools(acme: OrgWorld, admin: Client) -> None:
    with tenant_context(acme.organization):
        integration = connect("jira")
    assert admin.get(url("slack_channels", acme, slack_integration_id=integration.pk)).status_code == 404


# --- Mapping rules ----------------------------------------------------------------------------------


@pytest.fixture
def jira_work(acme: OrgWorld) -> Integration:
    """Three stored Jira issues: two in ONB (one labelled sso), one in PAY."""
    with tenant_context(acme.organization):
        integration = connect("jira")
        ingest(
            integration,
            jira_created(jira_issue("18001", "ONB-7", summary="SSO setup wizard", labels=["sso"])),
            jira_created(jira_issue("18002", "ONB-8", summary="Import users from CSV", labels=["import"])),
            jira_created(jira_issue("18003", "PAY-3", project="PAY", epic=None, summary="Invoice run")),
        )
    return integration


def test_the_preview_shows_what_a_rule_would_match_as_it_is_typed(
    acme: OrgWorld, admin: Client, jira_work: Integration, key_result: KeyResult
) -> None:
    address = url("rules", acme, integration_id=jira_work.pk)

    onb = admin.get(address, {"preview": "1", "match_project": "onb"}, HTTP_HX_REQUEST="true")
    assert "<html" not in text(onb)
    assert '<strong class="numbers">2</strong> stored work items match' in text(onb)
    assert "ONB-7" in text(onb)
    assert "ONB-8" in text(onb)
    assert "PAY-3" not in text(onb)

    narrower = admin.get(
        address, {"preview": "1", "match_project": "ONB", "match_label": "sso"}, HTTP_HX_REQUEST="true"
    )
    assert '<strong class="numbers">1</strong> stored work item matches' in text(narrower)

    nothing = admin.get(address, {"preview": "1", "match_label": "no-such-label"}, HTTP_HX_REQUEST="true")
    assert "0</strong> stored work items match" in text(nothing)
    assert "Nothing stored matches yet" in text(nothing)

    empty = admin.get(address, {"preview": "1"}, HTTP_HX_REQUEST="true")
    assert "Type a condition" in text(empty)
    with tenant_context(acme.organization):
        assert not MappingRule.objects.exists()


def test_adding_a_rule_maps_the_stored_work(
    acme: OrgWorld,
    admin: Client,
    jira_work: Integration,
    key_result: KeyResult,
    django_capture_on_commit_callbacks: Any,
) -> None:
    address = url("rules", acme, integration_id=jira_work.pk)
    page = text(admin.get(address))
    assert "No rules yet" in page
    assert '<option value="ONB">' in page  # suggested from the stored work

    with django_capture_on_commit_callbacks(execute=True):
        response = admin.post(address, {"match_project": "ONB", "key_result": key_result.pk}, follow=True)

    assert any(
        message.startswith("Rule added: work matching project ONB counts toward")
        for message in flashed(response)
    )
    with tenant_context(acme.organization):
        rule = MappingRule.objects.get()
        assert rule.match == {"project": "ONB"}
        assert SignalKeyResult.objects.filter(key_result=key_result).count() == 2
    assert "project</span> ONB" in text(response)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"key_result": "KR"}, "Give at least one condition: project key, epic key, label or component."),
        ({"match_project": "ONB"}, "Choose the key result this work counts toward."),
        ({"match_project": "ONB", "key_result": "999999"}, "Select a valid choice."),
    ],
)
def test_a_rule_form_says_what_is_missing(
    acme: OrgWorld,
    admin: Client,
    jira_work: Integration,
    key_result: KeyResult,
    data: dict[str, str],
    message: str,
) -> None:
    data = {key: str(key_result.pk) if value == "KR" else value for key, value in data.items()}
    response = admin.post(url("rules", acme, integration_id=jira_work.pk), data)
    assert response.status_code == 400
    assert message in text(response)
    with tenant_context(acme.organization):
        assert not MappingRule.objects.exists()


def test_a_duplicate_rule_is_refused_with_the_reason(
    acme: OrgWorld, admin: Client, jira_work: Integration, key_result: KeyResult
) -> None:
    address = url("rules", acme, integration_id=jira_work.pk)
    admin.post(address, {"match_project": "ONB", "key_result": key_result.pk})
    response = admin.post(address, {"match_project": " ONB ", "key_result": key_result.pk})
    assert response.status_code == 400
    assert "This rule exists already for that key result." in text(response)


def test_editing_and_deleting_a_rule_re_map_the_stored_work(
    acme: OrgWorld,
    admin: Client,
    jira_work: Integration,
    key_result: KeyResult,
    django_capture_on_commit_callbacks: Any,
) -> None:
    with tenant_context(acme.organization):
        rule = services.mapping_rule_create(
            integration=jira_work, match={"project": "ONB"}, key_result=key_result
        )
    edit = url("rule_edit", acme, integration_id=jira_work.pk, rule_id=rule.pk)
    page = admin.get(edit)
    assert page.context["preview"].work_item_count == 2
    assert 'value="ONB"' in text(page)

    with django_capture_on_commit_callbacks(execute=True):
        admin.post(edit, {"match_project": "ONB", "match_label": "sso", "key_result": key_result.pk})
    with tenant_context(acme.organization):
        assert MappingRule.objects.get().match == {"label": "sso", "project": "ONB"}
        assert SignalKeyResult.objects.count() == 1

    with django_capture_on_commit_callbacks(execute=True):
        response = admin.post(
            url("rule_delete", acme, integration_id=jira_work.pk, rule_id=rule.pk), follow=True
        )
    assert any(message.startswith("Rule deleted") for message in flashed(response))
    with tenant_context(acme.organization):
        assert not MappingRule.objects.exists()
        assert not SignalKeyResult.objects.exists()
        assert WorkItem.objects.count() == 3


def test_a_rule_of_another_integration_is_404(
    acme: OrgWorld, admin: Client, jira_work: Integration, key_result: KeyResult
) -> None:
    with tenant_context(acme.organization):
        rule = services.mapping_rule_create(
            integration=jira_work, match={"project": "ONB"}, key_result=key_result
        )
        hubspot = connect("hubspot")
    assert admin.get(url("rule_edit", acme, integration_id=hubspot.pk, rule_id=rule.pk)).status_code == 404


def test_slack_rules_choose_among_the_channels_read(
    acme: OrgWorld, admin: Client, key_result: KeyResult
) -> None:
    with tenant_context(acme.organization):
        slack = connect("slack")
    page = admin.get(url("rules", acme, integration_id=slack.pk))
    assert '<option value="C0ORBITSSO">#sso</option>' in text(page)
    response = admin.post(
        url("rules", acme, integration_id=slack.pk),
        {"match_channel": "C0ORBITSSO", "key_result": key_result.pk},
        follow=True,
    )
    assert "channel</span> #sso" in text(response)
    refused = admin.post(
        url("rules", acme, integration_id=slack.pk),
        {"match_channel": "D0DIRECT01", "key_result": key_result.pk},
    )
    assert refused.status_code == 400


# --- Identities -------------------------------------------------------------------------------------


@pytest.fixture
def identities(acme: OrgWorld) -> dict[str, ExternalIdentity]:
    """Einar (no e-mail from Jira: unmatched) and Fatima, whose e-mail is a member's sign-in address."""
    fatima_user = make_user(name="Fatima Diallo", email="fatima@orbit.test")
    with tenant_context(acme.organization):
        Membership.objects.create(user=fatima_user, role=Role.EMPLOYEE)
        integration = connect("jira")
        ingest(
            integration,
            jira_created(jira_issue("18001", "ONB-7"), user=EINAR),
            jira_comment(
                jira_issue("18001", "ONB-7"), author=jira_user("fa-1", "Fatima Diallo", "fatima@orbit.test")
            ),
        )
        return {identity.display_name: identity for identity in ExternalIdentity.objects.all()}


def test_unmatched_identities_come_first_with_a_select(
    acme: OrgWorld, admin: Client, identities: dict[str, ExternalIdentity]
) -> None:
    response = admin.get(url("identities", acme))
    rows = response.context["rows"]
    assert next(row.display_name for row in rows) == "Einar Solberg"
    assert rows[0].membership_id is None
    page = text(response)
    assert "Unmatched" in page
    assert "by e-mail" in page
    assert f'id="person-{identities["Einar Solberg"].pk}"' in page


def test_an_admin_matches_an_identity_by_hand(
    acme: OrgWorld, admin: Client, identities: dict[str, ExternalIdentity]
) -> None:
    einar = identities["Einar Solberg"]
    address = url("identity_assign", acme, identity_id=einar.pk)

    row = admin.post(address, {"person": acme.peer.pk}, HTTP_HX_REQUEST="true")

    assert row.status_code == 200
    assert text(row).lstrip().startswith("<tr")
    assert "Einar Solberg is now Acme Peer." in text(row)
    with tenant_context(acme.organization):
        einar.refresh_from_db()
        assert einar.membership_id == acme.peer.pk
        assert einar.matched_by == "manual"

    missing = admin.post(address, {"person": ""}, HTTP_HX_REQUEST="true")
    assert "Choose who this account is, or Nobody in OKRSignal." in text(missing)

    admin.post(address, {"person": "nobody"})
    with tenant_context(acme.organization):
        einar.refresh_from_db()
        assert einar.membership_id is None
        assert einar.matched_by == "manual"
        assert ExternalIdentity.objects.filter(pk=einar.pk).exists()  # never dropped


def test_a_person_of_another_organisation_cannot_be_chosen(
    acme: OrgWorld, admin: Client, identities: dict[str, ExternalIdentity]
) -> None:
    other = make_organization("Globex")
    response = admin.post(
        url("identity_assign", acme, identity_id=identities["Einar Solberg"].pk),
        {"person": other.peer.pk},
        follow=True,
    )
    assert any("Select a valid choice" in message for message in flashed(response))
    with tenant_context(acme.organization):
        assert ExternalIdentity.objects.get(display_name="Einar Solberg").membership_id is None


def test_match_by_email_matches_what_it_can(
    acme: OrgWorld, admin: Client, identities: dict[str, ExternalIdentity]
) -> None:
    with tenant_context(acme.organization):
        ExternalIdentity.objects.filter(email="fatima@orbit.test").update(membership=None, matched_by="none")
    response = admin.post(url("identities_match_by_email", acme), follow=True)
    assert "Matched 1 account to people by e-mail address." in flashed(response)


def queries_for(client: Client, address: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(address).status_code == 200
    return len(captured.captured_queries)


def test_the_overview_and_identities_pages_take_as_many_queries_whatever_the_data(
    acme: OrgWorld, admin: Client, key_result: KeyResult
) -> None:
    with tenant_context(acme.organization):
        jira = connect("jira")
        services.mapping_rule_create(integration=jira, match={"project": "ONB"}, key_result=key_result)
        ingest(jira, jira_created(jira_issue("18001", "ONB-7")))
    overview, identities = (
        queries_for(admin, url("overview", acme)),
        queries_for(admin, url("identities", acme)),
    )

    with tenant_context(acme.organization):
        connect("slack")
        connect("hubspot")
        services.mapping_rule_create(integration=jira, match={"label": "sso"}, key_result=key_result)
        for number in range(5):
            author = jira_user(f"acc-{number}", f"Person {number}", f"person{number}@jira.test")
            ingest(jira, jira_comment(jira_issue("18001", "ONB-7"), comment_id=f"9{number}", author=author))

    assert queries_for(admin, url("overview", acme)) == overview
    assert queries_for(admin, url("identities", acme)) == identities


# --- What was collected about a person --------------------------------------------------------------


@dataclass
class Collected:
    world: OrgWorld
    mine: str
    theirs: str


@pytest.fixture
def collected(acme: OrgWorld) -> Iterator[Collected]:
    """A comment by the report and one by the peer, each through their own Jira account."""
    with tenant_context(acme.organization):
        integration = connect("jira")
        report_account = jira_user("acc-report", "Report in Jira", "report@jira.test")
        peer_account = jira_user("acc-peer", "Peer in Jira", "peer@jira.test")
        issue = jira_issue("18001", "ONB-7")
        ingest(
            integration,
            jira_comment(
                issue, comment_id="71", author=report_account, body="Pairing on the metadata upload."
            ),
            jira_comment(issue, comment_id="72", author=peer_account, body="Peer's private remark."),
        )
        for external_id, person in (("acc-report", acme.report), ("acc-peer", acme.peer)):
            services.identity_assign(
                identity=ExternalIdentity.objects.get(external_id=external_id), membership=person
            )
    return Collected(acme, "Pairing on the metadata upload.", "Peer's private remark.")


def test_a_member_sees_what_was_collected_about_them(collected: Collected) -> None:
    world = collected.world
    response = client_for(world.report).get(url("my_privacy", world))

    page = text(response)
    assert "What OKRSignal collected about you" in page
    assert "Report in Jira" in page
    assert "acc-report" in page
    assert collected.mine in page
    assert collected.theirs not in page
    assert response.context["weeks"].total == 1
    assert "blanked on" in page
    assert "Export as JSON" not in page


@pytest.mark.parametrize("who", ["report", "manager"])
def test_only_admins_open_someone_elses_page(collected: Collected, who: str) -> None:
    world = collected.world
    assert (
        client_for(getattr(world, who))
        .get(url("person_privacy", world, membership_id=world.peer.pk))
        .status_code
        == 404
    )


def test_an_admin_opens_anyones_page(collected: Collected) -> None:
    world = collected.world
    page = text(client_for(world.admin).get(url("person_privacy", world, membership_id=world.peer.pk)))
    assert f"What OKRSignal collected about {world.peer.user.full_name}" in page
    assert collected.theirs.replace("'", "&#x27;") in page
    assert "Export as JSON" in page
    picked = client_for(world.admin).get(url("my_privacy", world), {"person": world.report.pk})
    assert picked.url == url("person_privacy", world, membership_id=world.report.pk)


def test_an_empty_collected_data_page_says_so(acme: OrgWorld) -> None:
    page = text(client_for(acme.report).get(url("my_privacy", acme)))
    assert "No account is linked to you" in page
    assert "No signals" in page
    assert "No text is kept" in page


def test_the_export_holds_the_persons_data_only(collected: Collected) -> None:
    world = collected.world
    response = client_for(world.admin).get(url("person_export", world, membership_id=world.report.pk))

    assert response["Content-Disposition"].startswith('attachment; filename="okrsignal-collected-data-')
    data = json.loads(response.content)
    assert data["person"]["email"] == world.report.user.email
    assert [identity["external_id"] for identity in data["identities"]] == ["acc-report"]
    assert [signal["text"] for signal in data["signals"]] == [collected.mine]
    dumped = response.content.decode()
    assert collected.theirs not in dumped
    assert "acc-peer" not in dumped
    assert world.peer.user.email not in dumped


def test_erasing_asks_for_a_tick_then_keeps_the_counts(collected: Collected) -> None:
    world = collected.world
    admin = client_for(world.admin)
    address = url("person_erase", world, membership_id=world.report.pk)
    confirm = text(admin.get(address))
    assert "Figures per key result and week do not change." in confirm

    refused = admin.post(address, {})
    assert refused.status_code == 400
    assert "Tick the box to confirm" in text(refused)
    with tenant_context(world.organization):
        assert ExternalIdentity.objects.filter(external_id="acc-report").exists()

    response = admin.post(address, {"confirm": "on"}, follow=True)

    assert any(
        message.startswith(
            f"Erased what was collected about {world.report.user.full_name}: 1 vendor account and 1 stored"
            " text"
        )
        for message in flashed(response)
    )
    with tenant_context(world.organization):
        assert not ExternalIdentity.objects.filter(external_id="acc-report").exists()
        assert ExecutionSignal.objects.count() == 2
        assert ExecutionSignal.objects.filter(text=collected.theirs).exists()
        assert not ExecutionSignal.objects.filter(text=collected.mine).exists()
    assert "No account is linked to" in text(response)


# --- "Add to Slack" (OAuth v2) ----------------------------------------------------------------------

APP_SIGNING_SECRET = "app-signing-secret-0f3c9a"


@pytest.fixture
def slack_app(settings: Any, slack_fake: FakeSlack) -> FakeSlack:
    """OKRSignal's own Slack app configured, with Slack (its authorize page and its API) faked."""
    settings.SLACK_API_URL = f"{slack_fake.base_url}/api/"
    settings.SLACK_CLIENT_ID = slack_fake.client_id
    settings.SLACK_CLIENT_SECRET = slack_fake.client_secret
    settings.SLACK_SIGNING_SECRET = APP_SIGNING_SECRET
    settings.SLACK_OAUTH_AUTHORIZE_URL = f"{slack_fake.base_url}/oauth/v2/authorize"
    return slack_fake


def add_to_slack_link(client: Client, world: OrgWorld) -> str:
    page = text(client.get(url("connect_slack", world)))
    match = re.search(r'<a class="button" href="([^"]+)">Add to Slack</a>', page)
    assert match, "The Slack page offers no Add to Slack link"
    return html.unescape(match.group(1))


def local(address: str) -> str:
    """The path and query of an address on this site, as the test client requests them."""
    return address.removeprefix(settings.SITE_URL)


def test_add_to_slack_installs_the_workspace_end_to_end(
    acme: OrgWorld, admin: Client, slack_app: FakeSlack
) -> None:
    link = add_to_slack_link(admin, acme)
    query = parse_qs(urlsplit(link).query)
    assert link.startswith(settings.SLACK_OAUTH_AUTHORIZE_URL)
    assert query["redirect_uri"] == [f"{settings.SITE_URL}{url('slack_installed', acme)}"]
    assert "channels:history" in query["scope"][0]
    assert "im:history" not in query["scope"][0]

    response = admin.get(local(slack_app.approve_install(link)), follow=True)

    integration = stored(acme, "slack")
    assert response.redirect_chain[-1][0] == url("slack_channels", acme, slack_integration_id=integration.pk)
    assert any(
        message.startswith("Slack is installed. Connection test: Connected to the Acme")
        for message in flashed(response)
    )
    with tenant_context(acme.organization):
        assert integration.credentials == {
            "bot_token": slack_app.bot_token,
            "signing_secret": APP_SIGNING_SECRET,
        }
    assert integration.settings["team_id"] == "T0ACME0001"
    assert "Installed with Add to Slack" in text(admin.get(url("overview", acme)))
    exchange = slack_app.calls_to("/api/oauth.v2.access")
    assert len(exchange) == 1
    assert (exchange[0].header("Authorization") or "").startswith("Basic ")
    assert APP_SIGNING_SECRET not in text(response)


def test_a_callback_not_started_in_this_browser_is_refused(
    acme: OrgWorld, admin: Client, slack_app: FakeSlack
) -> None:
    callback = local(slack_app.approve_install(add_to_slack_link(admin, acme)))

    # The same callback in another admin's browser: the state is not in that session.
    other_admin = client_for(acme.admin)
    refused = other_admin.get(callback)
    assert refused.status_code == 200
    assert "was not started from this page in this browser" in text(refused)

    forged = admin.get(callback.replace("state=", "state=x"))
    assert "was not started from this page in this browser" in text(forged)
    with tenant_context(acme.organization):
        assert not Integration.objects.exists()
    assert not slack_app.calls_to("/api/oauth.v2.access")


def test_a_state_is_used_once_and_expires(acme: OrgWorld, admin: Client, slack_app: FakeSlack) -> None:
    callback = local(slack_app.approve_install(add_to_slack_link(admin, acme)))
    admin.get(callback)
    replayed = admin.get(callback)
    assert "was not started from this page in this browser" in text(replayed)

    late = local(slack_app.approve_install(add_to_slack_link(admin, acme)))
    session = admin.session
    session["slack_install"] = {**session["slack_install"], "started_at": time.time() - 601}
    session.save()
    assert "took more than 10 minutes" in text(admin.get(late))


def test_a_declined_install_says_so(acme: OrgWorld, admin: Client, slack_app: FakeSlack) -> None:
    state = parse_qs(urlsplit(add_to_slack_link(admin, acme)).query)["state"][0]
    response = admin.get(url("slack_installed", acme), {"error": "access_denied", "state": state})
    assert "Slack says the installation did not go ahead (access_denied). Nothing was connected." in text(
        response
    )
    assert "Add to Slack</a>" in text(response)  # a new start, right there


def test_a_code_slack_refuses_is_said_plainly(acme: OrgWorld, admin: Client, slack_app: FakeSlack) -> None:
    link = add_to_slack_link(admin, acme)
    state = parse_qs(urlsplit(link).query)["state"][0]
    response = admin.get(url("slack_installed", acme), {"code": "made-up", "state": state})
    assert "Slack did not accept the installation (invalid_code)." in text(response)
    with tenant_context(acme.organization):
        assert not Integration.objects.exists()


def test_installing_another_workspace_over_a_connected_one_is_refused(
    acme: OrgWorld, admin: Client, slack_app: FakeSlack
) -> None:
    with tenant_context(acme.organization):
        connect("slack")  # workspace T0ORBIT001
    callback = local(slack_app.approve_install(add_to_slack_link(admin, acme)))
    response = admin.get(callback)
    assert "Slack is connected to another workspace (T0ORBIT001)" in text(response)
    with tenant_context(acme.organization):
        assert Integration.objects.get().credentials["bot_token"] != slack_app.bot_token


def test_add_to_slack_is_offered_only_when_the_app_is_set_up(acme: OrgWorld, admin: Client) -> None:
    assert "Add to Slack" not in text(admin.get(url("connect_slack", acme)))
    response = admin.get(url("slack_installed", acme), {"code": "x", "state": "y"})
    assert "Add to Slack is not set up on this server." in text(response)


def test_a_bot_token_typed_after_an_install_is_an_app_of_ones_own(
    acme: OrgWorld, admin: Client, slack_app: FakeSlack
) -> None:
    admin.get(local(slack_app.approve_install(add_to_slack_link(admin, acme))))
    admin.post(
        url("connect_slack", acme), {"bot_token": slack_app.bot_token, "signing_secret": "own-app-secret"}
    )
    assert "installed_with" not in stored(acme, "slack").settings
