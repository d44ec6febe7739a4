"""The leader dashboard and a goal's drift page in headless Chromium, on a quarter of our own.

Northwind's demo quarter (``alignment/scenarios/demo-quarter.json``) is loaded once for the module through
``load_scenario`` and scored week by week up to week 7, where its story stands. Its admin opens the
dashboard, sees the diverging goals, narrows them, opens the most drifted one, reads when and why it
diverged on the one timeline and in the evidence, and acknowledges a finding; the open dashboard then
refreshes itself when a finding changes, without reloading. Every page passes axe-core's serious and
critical rules, and the ``page`` fixture fails on any console error or Content-Security-Policy violation.

Browser tests flush the database after each test, so only the first test that uses the loaded quarter
can rely on it: the whole story is one test.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from django.test import override_settings
from playwright.sync_api import Page, expect
from pytest_django.live_server_helper import LiveServer

from alignment import scenarios
from alignment.cycles import cycle_of
from alignment.loading import load_scenario
from alignment.models import Finding
from alignment.scenario import read_scenario
from alignment.services import evaluate_quarter, finding_resolve
from goals.models import Cycle
from okrsignal.celery import app as celery_app
from okrsignal.models import Membership, Organization, User
from okrsignal.services import organization_delete
from okrsignal.tenancy import tenant_context
from tests.browser import assert_accessible, screenshot
from tests.factories import PASSWORD, make_organization

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("transactional_db")]

DEMO = Path(scenarios.__file__).resolve().parent / "demo-quarter.json"
DEMO_PASSWORD = "northwind-drift-2026"
ADMIN = "amara@northwind.test"
# Where the demo's story stands: the last week with events.
SCORED_WEEKS = 7
# The Activation squad's key result, whose people moved to the security epic SEC-90 in week 4.
ACTIVATION_KEY_RESULT = "Enterprise workspaces activated within 14 days from 40% to 55%"
CASCADE_BREAK = "Pass the ISO 27001 surveillance audit"
FAST_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(scope="module")
def northwind(django_db_setup: None, django_db_blocker: Any) -> Iterator[str]:
    """The demo quarter as ``load_scenario`` builds it, scored after each of its first seven weeks (the
    command would score up to today's date; the story is pinned to week 7 here, whatever the date)."""
    with django_db_blocker.unblock(), override_settings(PASSWORD_HASHERS=FAST_HASHERS):
        previous = celery_app.conf.task_always_eager
        celery_app.conf.task_always_eager = True
        try:
            loaded = load_scenario(read_scenario(DEMO), password=DEMO_PASSWORD)
        finally:
            celery_app.conf.task_always_eager = previous
        with tenant_context(loaded.organization):
            cycle = Cycle.objects.get(pk=loaded.cycle_id)
        evaluate_quarter(loaded.organization, cycle, until=cycle_of(cycle).week_start(SCORED_WEEKS + 1))
        # Once Playwright's event loop runs in this thread, Django hands the thread another connection:
        # each one used here is closed, or it would keep the test database from being dropped at the end.
        connection.close()
    yield loaded.organization.slug
    with django_db_blocker.unblock():
        # A browser test empties the database when it ends; if none ran, the quarter goes here.
        leftover = Organization.objects.filter(slug=loaded.organization.slug).first()
        if leftover is not None:
            organization_delete(organization=leftover)
        connection.close()


def sign_in(page: Page, live_server: LiveServer, email: str, password: str) -> None:
    page.goto(live_server.url + "/accounts/login/")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def check(page: Page, name: str) -> None:
    assert_accessible(page)
    screenshot(page, name)


def resolve_all_findings_of(slug: str, title: str) -> None:
    """What a recompute or a colleague elsewhere does meanwhile: the goal's findings are resolved."""
    organization = Organization.objects.get(slug=slug)
    with tenant_context(organization):
        admin = Membership.objects.get(user__email=ADMIN)
        for finding in Finding.objects.filter(objective__title=title).exclude(state=Finding.State.RESOLVED):
            finding_resolve(finding=finding, by=admin, note="The audit objective now has its parent.")


def test_a_leader_sees_what_diverges_opens_a_goal_reads_when_and_why_and_acknowledges_it(
    northwind: str, live_server: LiveServer, page: Page
) -> None:
    dashboard = f"{live_server.url}/o/{northwind}/"
    sign_in(page, live_server, ADMIN, DEMO_PASSWORD)
    expect(page).to_have_url(dashboard)
    expect(page.get_by_role("heading", level=1)).to_have_text("Northwind Analytics")
    expect(page.locator(".page-header")).to_contain_text(f"Week {SCORED_WEEKS} of 13")

    # The diverging goals, most drifted first, each with why, since when, who and a sparkline.
    rows = page.locator(".drift-row")
    expect(rows.first.locator("svg.drift-spark")).to_be_visible()
    scores = [int(value) for value in rows.locator(".score-value").all_inner_texts()]
    assert scores == sorted(scores, reverse=True)
    assert len(scores) >= 5
    activation = rows.filter(has=page.get_by_role("link", name=ACTIVATION_KEY_RESULT, exact=True))
    expect(activation).to_contain_text("Priority shift")
    expect(activation).to_contain_text("Since week 4")
    expect(activation).to_contain_text("Priya Nair")
    expect(activation).to_contain_text("Activation squad")
    expect(page.locator(".headline .figure").first).to_contain_text("of goals drifting")
    expect(page.locator(".week-changes")).to_contain_text("Biggest score moves")
    expect(page.locator(".figure", has_text="active people")).to_contain_text("18")
    check(page, "dashboard-leader")

    # Narrowed to one kind of drift: the list changes in place and the address says how.
    page.get_by_label("Kind of drift").select_option(label="Cascade break")
    expect(page).to_have_url(re.compile(r"kind=cascade_break"))
    expect(rows).to_have_count(1)
    expect(rows.first.locator(".drift-title")).to_have_text(CASCADE_BREAK)
    check(page, "dashboard-filtered")
    page.get_by_role("link", name="Clear filters").click()
    expect(rows).to_have_count(len(scores))

    # The goal's drift page: when and why it diverged, on one timeline, with the evidence.
    activation.get_by_role("link", name=ACTIVATION_KEY_RESULT).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(ACTIVATION_KEY_RESULT)
    why = page.locator(".drift-callout")
    expect(why).to_contain_text("Drifting since week 4")
    expect(why).to_contain_text("the unlinked Jira epic SEC-90")
    expect(page.locator(".pace-chart")).to_be_visible()
    expect(page.locator(".effort-legend")).to_contain_text("Jira epic SEC-90")
    onset = page.locator(".drift-week.onset")
    expect(onset.locator(".drift-week-heading")).to_contain_text("Week 4")
    expect(onset).to_contain_text("Priority shift begins")
    expect(page.locator(".timeline-chart")).to_be_visible()
    shift = page.locator(".finding-card", has=page.get_by_role("heading", name="Priority shift", exact=True))
    jira_link = shift.locator(".evidence-elsewhere").get_by_role("link").first
    expect(jira_link).to_have_attribute(
        "href", re.compile(r"^https://northwind\.atlassian\.net/browse/SEC-\d+$")
    )
    check(page, "goal-drift-key-result")

    shift.get_by_label("Note").fill("Talking to the Activation squad on Monday about SEC-90.")
    shift.get_by_role("button", name="Acknowledge").click()
    expect(page.get_by_role("status")).to_contain_text(
        f"Acknowledged “Priority shift” on “{ACTIVATION_KEY_RESULT}”."
    )
    expect(shift.locator(".finding-state")).to_have_text("Acknowledged")
    expect(shift).to_contain_text("Acknowledged by Amara Okafor")
    expect(shift).to_contain_text("Talking to the Activation squad on Monday about SEC-90.")
    check(page, "goal-drift-acknowledged")

    page.get_by_role("navigation", name="Breadcrumbs").get_by_role(
        "link", name="Cut enterprise setup time"
    ).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Cut enterprise setup time")
    expect(page.locator(".kr-drift-list")).to_contain_text(ACTIVATION_KEY_RESULT)
    check(page, "goal-drift-objective")

    # Live: the open dashboard refreshes its list when a finding changes, without reloading the page.
    page.goto(dashboard)
    expect(page.locator(".drift-title", has_text=CASCADE_BREAK)).to_have_count(1)
    page.evaluate("window.stillTheSamePage = true")
    resolve_all_findings_of(northwind, CASCADE_BREAK)
    page.locator("#drift-live").dispatch_event("drift-poll")  # what its 30-second timer does
    expect(page.locator(".drift-title", has_text=CASCADE_BREAK)).to_have_count(0)
    expect(page.locator(".week-changes")).to_contain_text(CASCADE_BREAK)
    assert page.evaluate("window.stillTheSamePage") is True

    page.set_viewport_size({"width": 390, "height": 844})
    expect(rows.first.locator(".drift-title")).to_be_visible()
    check(page, "dashboard-leader-mobile")


def test_a_new_organisation_is_shown_its_next_steps(live_server: LiveServer, page: Page) -> None:
    world = make_organization("Fresh Start")
    user = User.objects.get(pk=world.admin.user_id)
    sign_in(page, live_server, user.email, PASSWORD)

    expect(page.get_by_role("heading", level=1)).to_have_text("Fresh Start")
    expect(page.get_by_text("No cycle yet")).to_be_visible()
    steps = page.locator(".next-steps")
    expect(steps.get_by_role("link", name="Connect the tools where the work happens")).to_be_visible()
    expect(steps.get_by_role("link", name="Start the quarter")).to_be_visible()
    check(page, "dashboard-empty")
