"""The drift review pages in headless Chromium, on a quarter of our own.

Northwind's demo quarter (``alignment/scenarios/demo-quarter.json``) is loaded once for the module with the
``load_scenario`` command, moved in time so that its last events fall in the current week (``--relative``):
the command then scores every week that has ended, weeks 1 to 6 of the story, whatever the date. A leader
walks the cascade by keyboard, opens a team's alignment map, the KPI guardrails and the quarter review; a
manager opens their team and a report's 1:1 agenda, which now carries the drift on the report's goals; an
employee is told what the team page is for. Every page passes axe-core's serious and critical rules, and the
``new_page`` fixture fails on any console error or Content-Security-Policy violation.

Browser tests flush the database after each test, so only the first test that uses the loaded quarter can
rely on it: the whole story is one test.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.test import override_settings
from playwright.sync_api import Page, expect
from pytest_django.live_server_helper import LiveServer

from alignment import scenarios
from alignment.models import Finding
from alignment.services import finding_resolve
from okrsignal.models import Membership, Organization
from okrsignal.services import organization_delete
from okrsignal.tenancy import tenant_context
from tests.browser import assert_accessible, screenshot

pytestmark = [pytest.mark.browser]

DEMO = Path(scenarios.__file__).resolve().parent / "demo-quarter.json"
SLUG = "northwind-review"
PASSWORD = "northwind-drift-2026"
ADMIN = "amara@northwind.test"  # Amara Okafor, the chief executive
MANAGER = "jonas@northwind.test"  # Jonas Weber, product; Priya Nair reports to him
EMPLOYEE = "mei@northwind.test"  # Mei Chen, of Priya's activation squad
ACTIVATION_KEY_RESULT = "Enterprise workspaces activated within 14 days from 40% to 55%"
AUDIT_OBJECTIVE = "Pass the ISO 27001 surveillance audit"
REVENUE_OBJECTIVE = "Grow enterprise revenue by 30%"
FAST_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(scope="module")
def northwind(django_db_setup: None, django_db_blocker: Any) -> Iterator[str]:
    """The demo quarter as ``load_scenario`` builds and scores it."""
    with django_db_blocker.unblock(), override_settings(PASSWORD_HASHERS=FAST_HASHERS):
        call_command("load_scenario", str(DEMO), "--password", PASSWORD, "--relative", "--slug", SLUG)
    yield SLUG
    with django_db_blocker.unblock():
        # A browser test empties the database when it ends; if none ran, the quarter goes here.
        leftover = Organization.objects.filter(slug=SLUG).first()
        if leftover is not None:
            organization_delete(organization=leftover)


def sign_in(page: Page, live_server: LiveServer, email: str) -> None:
    page.goto(live_server.url + "/accounts/login/")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(f"{live_server.url}/o/{SLUG}/")


def check(page: Page, name: str) -> None:
    assert_accessible(page)
    screenshot(page, name)


def resolve_audit_finding(note: str) -> None:
    """The security lead links the audit objective to a company objective and the admin closes the finding."""
    organization = Organization.objects.get(slug=SLUG)
    with tenant_context(organization):
        admin = Membership.objects.get(user__email=ADMIN)
        for finding in Finding.objects.filter(objective__title=AUDIT_OBJECTIVE, kind="cascade_break"):
            finding_resolve(finding=finding, by=admin, note=note)


def test_leaders_managers_and_employees_review_the_drift_of_the_quarter(
    northwind: str, live_server: LiveServer, new_page: Callable[[], Page]
) -> None:
    drift = f"{live_server.url}/o/{northwind}/drift"
    leader = new_page()
    sign_in(leader, live_server, ADMIN)

    # The "Drift" group of the top bar opens and is walked by keyboard alone.
    navigation = leader.get_by_role("navigation", name="Organisation")
    navigation.locator("summary", has_text="Drift").focus()
    leader.keyboard.press("Enter")
    expect(navigation.get_by_role("link", name="Quarter review")).to_be_visible()
    leader.keyboard.press("Tab")
    expect(navigation.get_by_role("link", name="Leader dashboard")).to_be_focused()
    leader.keyboard.press("Tab")
    expect(navigation.get_by_role("link", name="Cascade")).to_be_focused()
    leader.keyboard.press("Enter")

    # 3. The cascade coloured by drift: the score and its band in words, badges, a legend.
    expect(leader).to_have_url(f"{drift}/cascade/")
    expect(leader.get_by_role("heading", level=1)).to_have_text("Cascade")
    expect(leader.locator(".page-header")).to_contain_text("week 6 of 13")
    expect(leader.locator(".drift-legend")).to_contain_text("High drift 60 to 100")
    activation = leader.locator(".drift-kr", has=leader.get_by_role("link", name=ACTIVATION_KEY_RESULT))
    expect(activation.locator(".drift-mark")).to_contain_text(re.compile(r"\d+\s*(Moderate|High) drift"))
    expect(activation).to_contain_text("Priority shift")
    audit = leader.locator(".tree-node", has=leader.get_by_role("link", name=AUDIT_OBJECTIVE)).last
    expect(audit.locator(".badge.realign")).to_have_text("Needs re-alignment")
    check(leader, "review-cascade")

    # A team's alignment map, swapped in place, with each member's line of sight.
    leader.evaluate("window.stillTheSamePage = true")
    expect(leader.locator("#team-map h2")).to_have_text(
        "Alignment map of Activation squad"
    )  # first with goals
    teams = leader.get_by_role("navigation", name="Teams")
    teams.get_by_role("link", name="Data").focus()
    leader.keyboard.press("Enter")
    expect(leader.locator("#team-map h2")).to_have_text("Alignment map of Data")
    expect(teams.get_by_role("link", name="Data")).to_be_focused()  # focus survives the swap
    expect(leader).to_have_url(re.compile(r"team=\d+"))
    assert leader.evaluate("window.stillTheSamePage") is True
    expect(leader.locator("#team-map .map-card")).to_contain_text("Make enterprise data import reliable")
    sight = leader.locator("#team-map .sight-list")
    expect(sight).to_contain_text("Lena Fischer")
    expect(sight.locator("li", has_text="Olu Adeyemi")).to_contain_text(
        "rolls up to Data's 'Make enterprise data import reliable', which serves the company objective"
    )
    leader.locator("#team-map").scroll_into_view_if_needed()
    check(leader, "review-cascade-team-map")

    # 5. The KPI guardrails: the conflict flagged on the board and on the KPI beside its objective.
    views = leader.get_by_role("navigation", name="Drift views")
    views.get_by_role("link", name="KPI guardrails").click()
    expect(leader.get_by_role("heading", level=1)).to_have_text("KPI guardrails")
    conflicts = leader.locator(".conflicts-card")
    expect(conflicts).to_contain_text(REVENUE_OBJECTIVE)
    expect(conflicts).to_contain_text("Guarded by Gross margin")
    margin = leader.locator(".guardrail-row", has=leader.get_by_role("link", name="Gross margin"))
    expect(margin).to_contain_text("In conflict")
    expect(margin.locator(".guarded.in-conflict")).to_contain_text(REVENUE_OBJECTIVE)
    expect(leader.locator(".guardrail-row").first).to_have_class(re.compile("in-conflict"))
    check(leader, "review-kpi-guardrails")

    # 6. The quarter review, after someone resolved the audit's cascade break with a note.
    resolve_audit_finding("Linked to 'Keep every enterprise customer we win' with Marco.")
    views.get_by_role("link", name="Quarter review").click()
    expect(leader.get_by_role("heading", level=1)).to_have_text(re.compile("What happened in"))
    expect(leader.locator(".review-framing")).to_contain_text("not verdicts")
    audit_story = leader.locator(".review-objective", has=leader.get_by_role("link", name=AUDIT_OBJECTIVE))
    expect(audit_story).to_contain_text("Cascade break")
    expect(audit_story).to_contain_text("Resolved by Amara Okafor")
    expect(audit_story).to_contain_text("Linked to 'Keep every enterprise customer we win' with Marco.")
    revenue_story = leader.locator(
        ".review-objective", has=leader.get_by_role("link", name=REVENUE_OBJECTIVE)
    )
    expect(revenue_story).to_contain_text("first drift in week 3")
    expect(revenue_story).to_contain_text("To talk about")
    credits = leader.locator(
        "section", has=leader.get_by_role("heading", name="Invisible contributions, by person")
    )
    expect(credits).to_contain_text("Ravi Shah")
    expect(credits).to_contain_text("Onboarding checklist completion from 20% to 70%")
    check(leader, "review-quarter")

    # 4. The team page of an admin: everyone, by who they report to.
    views.get_by_role("link", name="Team").click()
    expect(leader.get_by_role("heading", name="Reporting to you")).to_be_visible()
    expect(leader.get_by_role("heading", name="Reporting to Priya Nair")).to_be_visible()
    expect(leader.locator(".member-card svg.effort-bars").first).to_be_visible()
    check(leader, "review-team-admin")

    leader.set_viewport_size({"width": 390, "height": 844})
    expect(leader.locator(".member-card").first).to_be_visible()
    check(leader, "review-team-mobile")
    leader.goto(f"{drift}/cascade/")
    expect(activation.locator(".drift-mark")).to_be_visible()
    check(leader, "review-cascade-mobile")

    # A manager sees their reports, direct and through Priya, and opens Priya's 1:1 agenda with the drift.
    manager = new_page()
    sign_in(manager, live_server, MANAGER)
    manager.goto(f"{drift}/team/")
    expect(manager.get_by_role("heading", level=1)).to_have_text("Your team")
    priya = manager.locator(".member-card", has=manager.get_by_role("heading", name="Priya Nair"))
    expect(priya).to_contain_text("reports to you")
    expect(priya.locator(".member-finding-list")).to_contain_text(ACTIVATION_KEY_RESULT)
    mei = manager.locator(".member-card", has=manager.get_by_role("heading", name="Mei Chen"))
    expect(mei).to_contain_text("in your reporting line")
    expect(
        manager.locator(".member-card", has=manager.get_by_role("heading", name="Lucía Romero"))
    ).to_have_count(0)
    check(manager, "review-team-manager")

    priya.get_by_role("link", name="1:1 agenda").click()
    expect(manager.get_by_role("heading", level=1)).to_have_text("Priya Nair")
    drift_section = manager.locator(
        ".agenda-card", has=manager.get_by_role("heading", name=re.compile("Drift on their goals"))
    )
    expect(drift_section).to_contain_text("Priority shift")
    expect(drift_section).to_contain_text("Status contradiction")
    drift_section.get_by_role("link", name=ACTIVATION_KEY_RESULT).first.click()
    expect(manager.get_by_role("heading", level=1)).to_have_text(ACTIVATION_KEY_RESULT)
    manager.go_back()
    check(manager, "review-agenda-with-drift")

    # Someone with nobody reporting to them is told what the page is for and where to go instead.
    employee = new_page()
    sign_in(employee, live_server, EMPLOYEE)
    employee.goto(f"{drift}/team/")
    expect(employee.get_by_text("Nobody reports to you")).to_be_visible()
    expect(employee.get_by_role("link", name="See your own goals")).to_be_visible()
    check(employee, "review-team-employee")
