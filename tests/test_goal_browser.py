"""The goal pages in headless Chromium: a manager builds on the cascade, sees a relevance warning appear as
they type, gives a reason and saves; every goal page passes axe-core's serious and critical rules.

The ``page`` fixture also fails a test on any console error or Content-Security-Policy violation, so htmx
swaps and the server-rendered charts are checked to need no inline script or style.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect
from pytest_django.live_server_helper import LiveServer

from okrsignal.management.commands.create_demo import DEMO_PASSWORD
from tests.browser import assert_accessible, screenshot
from tests.demo_support import create_demo
from tests.factories import PASSWORD, make_organization

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("transactional_db")]

MANAGER = "priya@northwind.test"  # Priya Nair, who leads the Activation squad
ADMIN = "amara@northwind.test"
PARENT = "Cut enterprise setup time"
NEW_OBJECTIVE = "Move invoicing to a different billing provider"
NEW_KEY_RESULT = "Invoices sent through the billing provider from 0% to 100%"


@pytest.fixture
def demo(transactional_db: None) -> None:
    create_demo()


def sign_in(page: Page, live_server: LiveServer, email: str) -> None:
    page.goto(live_server.url + "/accounts/login/")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(live_server.url + "/o/northwind/")


def check(page: Page, name: str) -> None:
    assert_accessible(page)
    screenshot(page, name)


def test_a_manager_adds_an_objective_through_a_relevance_warning_and_sees_it_in_the_tree(
    demo: None, live_server: LiveServer, page: Page
) -> None:
    sign_in(page, live_server, MANAGER)
    page.get_by_role("navigation", name="Organisation").get_by_role("link", name="Goals", exact=True).click()
    page.get_by_role("link", name="Open the objective tree").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Objective tree")
    page.get_by_role("link", name=PARENT).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(PARENT)
    page.get_by_role("link", name="Add one under it").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("New objective")
    expect(page.locator("#id_parent")).to_have_value(re.compile(r"\d+"))
    expect(page.locator("#id_level")).to_have_value("individual")

    # Typing, key by key: the form is checked by the services while the manager types.
    page.locator("#id_title").press_sequentially(NEW_OBJECTIVE, delay=15)
    warning = page.locator("#feedback-title .warning-box")
    expect(warning).to_contain_text(f"shares no wording with its parent '{PARENT}'")
    expect(page.locator("#form-status")).to_contain_text("1 warning needs a reason")
    check(page, "goal-form-relevance-warning")

    warning.get_by_label("Your reason to go ahead anyway").fill(
        "Enterprise customers cannot finish setup until their invoices are in order."
    )
    page.locator("#id_kr-title").press_sequentially(NEW_KEY_RESULT, delay=5)
    page.locator("#id_kr-unit").fill("%")
    page.locator("#id_kr-baseline").fill("0")
    page.locator("#id_kr-target").fill("0")
    page.locator("#id_kr-target").press("Tab")
    expect(page.locator("#feedback-kr-target")).to_contain_text("The target equals the baseline")
    page.locator("#id_kr-target").fill("100")
    page.locator("#id_kr-parent_key_result").select_option(
        label="Enterprise workspaces activated within 14 days from 40% to 55%"
    )
    expect(page.locator("#feedback-kr-target")).to_be_empty()
    expect(page.locator("#form-status")).to_contain_text("Reasons given: ready to save")
    # The reason typed before the key result was checked is still there.
    expect(warning.get_by_label("Your reason to go ahead anyway")).to_have_value(
        "Enterprise customers cannot finish setup until their invoices are in order."
    )
    check(page, "goal-form-ready")

    page.get_by_role("button", name="Save objective").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(NEW_OBJECTIVE)
    expect(page.get_by_role("status")).to_contain_text(f"Saved “{NEW_OBJECTIVE}”.")
    expect(
        page.get_by_text("Enterprise customers cannot finish setup until their invoices are in order.")
    ).to_have_count(2)
    check(page, "goal-objective-created")

    page.get_by_role("link", name=re.compile(r"^\d{4}-Q\d$")).first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Objective tree")
    new_node = page.locator(".tree-node", has=page.get_by_role("link", name=NEW_OBJECTIVE, exact=True)).last
    expect(new_node).to_contain_text("Priya Nair")
    expect(new_node).to_contain_text("1 warning")
    expect(new_node.get_by_role("link", name=NEW_KEY_RESULT)).to_be_visible()
    check(page, "goal-tree-with-new-objective")


def test_every_goal_page_reads_well_and_passes_axe(demo: None, live_server: LiveServer, page: Page) -> None:
    sign_in(page, live_server, ADMIN)
    navigation = page.get_by_role("navigation", name="Organisation")

    navigation.get_by_role("link", name="Goals", exact=True).click()
    expect(page.locator(".figure", has_text="average progress")).to_be_visible()
    check(page, "goals-overview")

    page.get_by_role("link", name="Open the objective tree").click()
    expect(page.locator(".tree-node").first).to_be_visible()
    check(page, "goals-tree")

    page.get_by_role("link", name="Make enterprise onboarding effortless").first.click()
    expect(page.get_by_role("heading", name="History")).to_be_visible()
    check(page, "goals-objective-detail")

    page.get_by_role("link", name="Add a key result").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("New key result")
    check(page, "goals-key-result-form")
    page.go_back()

    page.get_by_role("navigation", name="Breadcrumbs").get_by_role("link").first.click()
    page.get_by_role("link", name="Enterprise new ARR from EUR 0 to EUR 1.2M").click()
    expect(page.get_by_role("heading", name="Line of sight")).to_be_visible()
    check(page, "goals-key-result-detail")

    navigation.get_by_role("link", name="My goals").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("My goals")
    check(page, "goals-my-goals")

    navigation.get_by_role("link", name="KPIs").click()
    expect(page.locator(".kpi-card")).to_have_count(3)
    check(page, "goals-kpi-board")

    page.get_by_role("link", name="Add a KPI").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("New KPI")
    check(page, "goals-kpi-form")
    page.go_back()

    page.get_by_role("link", name="Monthly logo churn").click()
    expect(page.get_by_role("heading", name="Objectives it guards")).to_be_visible()
    check(page, "goals-kpi-detail")

    # A reading that crosses into red asks, as it is typed, for a comment and the objective it concerns.
    page.get_by_label("Reading (%)").fill("2.6")
    page.get_by_label("Reading (%)").press("Tab")
    expect(page.locator("#reading-needs")).to_contain_text("This reading needs a word of explanation")
    page.get_by_label("Comment").fill("A large customer left after the merger.")
    check(page, "goals-kpi-reading-asks")
    page.get_by_label("Objective it concerns").select_option(label="Keep every enterprise customer we win")
    page.get_by_role("button", name="Record reading").click()
    expect(page.get_by_role("status")).to_contain_text("Recorded 2.6 % for Monthly logo churn.")
    expect(page.locator(".kpi-headline")).to_contain_text("Red")

    page.goto(live_server.url + "/o/northwind/goals/")
    page.get_by_role("link", name="Activation squad").click()
    expect(page.get_by_role("heading", name="Line of sight, person by person")).to_be_visible()
    check(page, "goals-team-alignment")


def test_a_new_organisation_starts_its_first_cycle_from_the_empty_overview(
    live_server: LiveServer, page: Page
) -> None:
    world = make_organization("Fjord")
    page.goto(live_server.url + "/accounts/login/")
    page.get_by_label("E-mail").fill(world.admin.user.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.goto(f"{live_server.url}/o/{world.slug}/goals/")
    expect(page.get_by_text("No cycle yet")).to_be_visible()
    check(page, "goals-empty-overview")

    page.get_by_label("Name").fill("2027-Q1")
    page.get_by_label("Start").fill("2027-01-01")
    page.get_by_label("End").fill("2026-12-01")
    page.get_by_label("End").press("Tab")
    expect(page.locator("#feedback-end")).to_contain_text("The cycle must end after it starts.")
    page.get_by_label("End").fill("2027-03-31")
    page.get_by_role("button", name="Start the cycle").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("2027-Q1")
    expect(page.get_by_text("No objectives in 2027-Q1 yet")).to_be_visible()
    check(page, "goals-empty-cycle")
    page.get_by_role("link", name="Add a company objective").click()
    expect(page.locator("#id_level")).to_have_value("company")
    check(page, "goals-first-objective-form")
