"""The integration pages in headless Chromium: an admin connects Jira against a local fake of its API,
tests the connection, pulls the work in, and adds a mapping rule while its preview follows the typing;
every integration page, and a member's collected-data page, passes axe-core's serious and critical rules.

The ``page`` fixture also fails a test on any console error or Content-Security-Policy violation, so the
htmx swaps and the copy buttons are checked to need no inline script or style.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect
from pytest_django.live_server_helper import LiveServer

from okrsignal.tenancy import tenant_context
from signals_ingest import services
from signals_ingest.models import ExternalIdentity
from tests.browser import allow_console_error, assert_accessible, screenshot
from tests.factories import PASSWORD, OrgWorld, make_organization
from tests.goal_factories import make_goal_data
from tests.ingest_factories import connect, ingest, jira_comment, jira_created, jira_issue, jira_user
from tests.vendor_fakes import FakeJira, FakeSlack

pytest_plugins = ["tests.vendor_fakes.fixtures"]
pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("transactional_db")]


@pytest.fixture
def world(transactional_db: None) -> tuple[OrgWorld, Any]:
    world = make_organization("Orbit", slug="orbit")
    with tenant_context(world.organization):
        goals = make_goal_data(world)
    return world, goals["key_result"]


def sign_in(page: Page, live_server: LiveServer, world: OrgWorld, email: str) -> None:
    page.goto(live_server.url + "/accounts/login/")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(f"{live_server.url}/o/{world.slug}/")


def check(page: Page, name: str) -> None:
    assert_accessible(page)
    screenshot(page, name)


def test_an_admin_connects_jira_tests_it_and_maps_a_project_with_a_live_preview(
    world: tuple[OrgWorld, Any], live_server: LiveServer, page: Page, jira_fake: FakeJira
) -> None:
    organization, key_result = world
    recently = timezone.now() - timedelta(days=2)
    jira_fake.add_issue(
        key="ONB-7", summary="Self-serve SSO setup wizard", updated=recently, status="In Progress"
    )
    jira_fake.add_issue(key="ONB-8", summary="Import users from a CSV file", updated=recently)
    jira_fake.add_issue(key="PAY-3", summary="Monthly invoice run", updated=recently)

    sign_in(page, live_server, organization, organization.admin.user.email)
    page.get_by_role("navigation", name="Organisation").get_by_role("link", name="Integrations").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Integrations")
    expect(page.get_by_text("Connect the first tool")).to_be_visible()
    check(page, "integrations-empty")

    # A form sent back with its errors is answered 400, which Chromium notes in the console.
    allow_console_error(page, r"status of 400 \(Bad Request\) \(.*/integrations/jira/\)")
    page.get_by_role("link", name="Connect Jira").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Connect Jira")
    page.get_by_label("Jira site address").fill("http://jira.example.com")
    page.get_by_label("Account e-mail").fill(jira_fake.email)
    page.get_by_role("button", name="Connect Jira").click()
    expect(page.get_by_text("Use the site's https:// address")).to_be_visible()
    expect(page.get_by_label("API token")).to_have_value("")
    check(page, "integrations-jira-form-errors")

    page.get_by_label("Jira site address").fill(jira_fake.base_url)
    page.get_by_label("API token").fill(jira_fake.api_token)
    page.get_by_label("Story points field (optional)").fill("customfield_10016")
    page.get_by_role("button", name="Connect Jira").click()
    expect(page.get_by_role("status")).to_contain_text("Jira is connected. Connection test: Connected to")
    expect(page.get_by_role("status")).to_contain_text("as Priya Nair")
    jira_card = page.locator(".integration-card", has=page.get_by_role("heading", name="Jira"))
    expect(jira_card.get_by_text("Connected", exact=True)).to_be_visible()
    expect(jira_card.get_by_label("Webhook address")).to_have_value(
        f"http://127.0.0.1:8000/webhooks/jira/{_webhook_token(organization)}/"
    )

    jira_card.get_by_role("button", name="Test connection").click()
    expect(page.locator("#test-result-jira")).to_contain_text("It works.")
    expect(page.locator("#test-result-jira")).to_contain_text("as Priya Nair")

    jira_card.get_by_role("button", name="Sync now").click()
    expect(page.get_by_role("status")).to_contain_text("A Jira sync has started.")
    jira_card = page.locator(".integration-card", has=page.get_by_role("heading", name="Jira"))
    expect(jira_card.locator(".sync-figure", has_text="Items taken")).to_contain_text("3 work items")
    check(page, "integrations-jira-connected")

    jira_card.get_by_role("link", name="Mapping rules").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Jira mapping rules")
    expect(page.get_by_text("No rules yet")).to_be_visible()
    page.get_by_label("Project key").press_sequentially("ONB", delay=40)
    preview = page.locator("#rule-preview")
    expect(preview).to_contain_text("2 stored work items match")
    expect(preview).to_contain_text("ONB-7")
    expect(preview).not_to_contain_text("PAY-3")
    page.get_by_label("Label").press_sequentially("nothing-has-this", delay=10)
    expect(preview).to_contain_text("0 stored work items match")
    page.get_by_label("Label").fill("")
    page.get_by_label("Label").dispatch_event("input")
    expect(preview).to_contain_text("2 stored work items match")
    page.get_by_label("Counts toward key result").select_option(label=key_result.title)
    check(page, "integrations-rule-preview")

    page.get_by_role("button", name="Add rule").click()
    expect(page.get_by_role("status")).to_contain_text("Rule added: work matching project ONB counts toward")
    rules = page.locator(".rule-table")
    expect(rules).to_contain_text("ONB")
    expect(rules).to_contain_text(key_result.title)
    check(page, "integrations-rules")


def _webhook_token(world: OrgWorld) -> str:
    with tenant_context(world.organization):
        from signals_ingest.models import Integration

        return Integration.objects.get(provider="jira").webhook_token


def test_every_integration_page_reads_well_and_passes_axe(
    world: tuple[OrgWorld, Any],
    live_server: LiveServer,
    new_page: Any,
    slack_fake: FakeSlack,
    settings: Any,
) -> None:
    organization, key_result = world
    # OKRSignal's own Slack app, installed with "Add to Slack" against the fake (which approves at once).
    settings.SITE_URL = live_server.url
    settings.SLACK_API_URL = f"{slack_fake.base_url}/api/"
    settings.SLACK_OAUTH_AUTHORIZE_URL = f"{slack_fake.base_url}/oauth/v2/authorize"
    settings.SLACK_CLIENT_ID = slack_fake.client_id
    settings.SLACK_CLIENT_SECRET = slack_fake.client_secret
    settings.SLACK_SIGNING_SECRET = "app-signing-secret-0f3c9a"
    slack_fake.add_channel("activation", channel_id="C0ACTIVATE")
    slack_fake.add_channel("random", channel_id="C0RANDOM01", bot_is_member=False)
    slack_fake.add_channel("deal-desk", channel_id="G0DEALDESK", is_private=True)
    with tenant_context(organization.organization):
        jira = connect("jira")
        services.integration_record_sync(integration=jira)
        report_account = jira_user("acc-report", "Orbit Report", "someone-else@jira.test")
        issue = jira_issue("18001", "ONB-7", summary="Self-serve SSO setup wizard")
        at = timezone.now() - timedelta(days=3)
        ingest(
            jira,
            jira_created(issue, at=at),
            jira_comment(
                issue, comment_id="71", author=report_account, at=at, body="Pairing on the SSO upload."
            ),
            jira_comment(
                issue,
                comment_id="72",
                author=report_account,
                at=at - timedelta(days=7),
                body="Drafted the spec.",
            ),
        )
        services.mapping_rule_create(
            integration=jira, match={"project": "ONB", "label": "sso"}, key_result=key_result
        )
        services.identity_assign(
            identity=ExternalIdentity.objects.get(external_id="acc-report"), membership=organization.report
        )

    admin = new_page()
    sign_in(admin, live_server, organization, organization.admin.user.email)
    admin.goto(f"{live_server.url}/o/{organization.slug}/integrations/")
    admin.get_by_role("link", name="Connect Slack").click()
    expect(admin.get_by_role("heading", level=1)).to_have_text("Connect Slack")
    check(admin, "integrations-slack-connect")
    admin.get_by_role("link", name="Add to Slack").click()
    expect(admin.get_by_role("heading", level=1)).to_have_text("Slack channels to read")
    expect(admin.get_by_role("status")).to_contain_text(
        "Slack is installed. Connection test: Connected to the Acme"
    )
    admin.get_by_label("#activation").check()
    admin.get_by_label("#deal-desk").check()
    admin.get_by_role("button", name="Save channels").click()
    expect(admin.get_by_role("status")).to_contain_text("Reading 2 channels: #activation, #deal-desk.")
    check(admin, "integrations-slack-channels")

    admin.get_by_role("navigation", name="Organisation").get_by_role("link", name="Integrations").click()
    slack_card = admin.locator(".integration-card", has=admin.get_by_role("heading", name="Slack"))
    expect(slack_card.get_by_text("Connected", exact=True)).to_be_visible()
    check(admin, "integrations-overview")

    admin.goto(f"{live_server.url}/o/{organization.slug}/integrations/identities/")
    expect(admin.locator(".identity-table tbody tr").first).to_contain_text("Einar Solberg")
    check(admin, "integrations-identities")
    row = admin.locator(".identity-table tbody tr", has_text="Einar Solberg")
    row.get_by_label("Who is Einar Solberg").select_option(label=organization.peer.user.full_name)
    row.get_by_role("button", name="Match").click()
    expect(admin.locator(".identity-table")).to_contain_text(
        f"Einar Solberg is now {organization.peer.user.full_name}."
    )

    admin.goto(f"{live_server.url}/o/{organization.slug}/integrations/{jira.pk}/disconnect/")
    expect(admin.get_by_role("heading", level=1)).to_have_text("Disconnect Jira?")
    check(admin, "integrations-disconnect")

    admin.goto(
        f"{live_server.url}/o/{organization.slug}/integrations/privacy/{organization.report.pk}/erase/"
    )
    check(admin, "integrations-erase")

    member = new_page()
    sign_in(member, live_server, organization, organization.report.user.email)
    member.get_by_role("link", name="My data").click()
    expect(member.get_by_role("heading", level=1)).to_have_text("What OKRSignal collected about you")
    expect(member.get_by_text("Pairing on the SSO upload.")).to_be_visible()
    check(member, "integrations-my-data")
