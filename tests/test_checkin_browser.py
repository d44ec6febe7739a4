"""The weekly check-in in headless Chromium, in the demo organisation: Ravi checks in (a priority linked to a
key result he finds by typing, a key result blocked, a blocker), his manager Priya finds it at the top of
her team inbox, replies inline, marks it discussed from the 1:1 agenda, and Ravi reads her reply. Every
page passes axe-core's serious and critical rules; the ``new_page`` fixture fails the test on any console
error or Content-Security-Policy violation.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect
from pytest_django.live_server_helper import LiveServer

from okrsignal.management.commands.create_demo import DEMO_PASSWORD
from tests.browser import assert_accessible, screenshot
from tests.demo_support import create_demo

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("transactional_db")]

EMPLOYEE = "ravi@northwind.test"  # Ravi Shah, Site Reliability Engineer in the Activation squad
MANAGER = "priya@northwind.test"  # Priya Nair, who leads the Activation squad
OWN_KEY_RESULT = "p95 dashboard load from 3.2 s to 1.5 s"
FOUND_KEY_RESULT = "Data import success rate from 85% to 98%"
OUTCOME = "Pair with Mei on the import retry queue"
BLOCKER = "The read replica fails over every night; we need an hour of DBA time from Platform."
REPLY = "I'll ask Platform for a DBA slot on Tuesday. Can you write up the failover pattern?"


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


def test_an_employee_checks_in_and_their_manager_answers_from_the_inbox(
    demo: None, live_server: LiveServer, new_page: Callable[[], Page]
) -> None:
    ravi = new_page()
    sign_in(ravi, live_server, EMPLOYEE)
    ravi.get_by_role("navigation", name="Organisation").get_by_role(
        "link", name="Check-in", exact=True
    ).click()
    expect(ravi.get_by_role("heading", level=1)).to_have_text(re.compile(r"^Week of "))
    # Pre-filled from last week, which is shown beside the form.
    expect(ravi.get_by_label("Outcome 1", exact=True)).not_to_have_value("")
    expect(ravi.locator(".previous-card")).to_contain_text("Last check-in")
    check(ravi, "checkin-form-prefilled")

    # Ravi's own key result is blocked; its new value and note go with it.
    own = ravi.locator(".kr-update", has_text=OWN_KEY_RESULT)
    own.get_by_role("radio", name="Blocked").check()
    own.get_by_label(re.compile(r"^New value")).fill("2.5")
    own.get_by_label(re.compile(r"^Note")).fill("Replica failover undoes the caching gains.")
    for other in ravi.locator(".kr-update", has_not_text=OWN_KEY_RESULT).all():
        other.get_by_role("radio", name="On track").check()
    ravi.get_by_role("textbox", name="Blockers").fill(BLOCKER)
    success = ravi.get_by_role("textbox", name="What success looks like by next week")
    success.fill("p95 under 2.5 s with failover fixed.")
    ravi.get_by_role("radio", name=re.compile(r"^4")).check()
    # The draft has saved itself on the way.
    expect(ravi.locator("#autosave-status")).to_contain_text(re.compile(r"Saved \d\d:\d\d"))

    # Last week's three outcomes are carried over. A fourth, not linked yet: the submission is refused, with
    # the message on it, and nothing lost.
    ravi.get_by_text("Add a fourth or fifth outcome").click()
    ravi.get_by_label("Outcome 4", exact=True).fill(OUTCOME)
    ravi.get_by_role("button", name="Submit check-in").click()
    summary = ravi.get_by_role("alert")
    expect(summary).to_contain_text("1 thing to fix before it can be submitted")
    expect(summary).to_contain_text("Outcome 4: Link it to a key result, or mark it unlinked.")
    expect(ravi.get_by_label("Outcome 4", exact=True)).to_have_value(OUTCOME)
    expect(ravi.get_by_role("textbox", name="Blockers")).to_have_value(BLOCKER)
    expect(own.get_by_role("radio", name="Blocked")).to_be_checked()
    check(ravi, "checkin-form-refused")

    # Linked to a key result found by typing part of its title, with its line of sight.
    summary.get_by_role("link").click()
    ravi.get_by_label("Search key results for outcome 4").press_sequentially("import succ", delay=40)
    # Both words must match: only the import success rate is left.
    expect(ravi.locator("#priority-4-options .kr-option")).to_have_count(1)
    found = ravi.locator("#priority-4-options").get_by_label(re.compile(re.escape(FOUND_KEY_RESULT)))
    found.check()
    expect(ravi.locator("#priority-4-options")).to_contain_text(
        "rolls up to Data's 'Make enterprise data import reliable', "
        "which serves the company objective 'Make enterprise onboarding effortless'."
    )
    expect(ravi.locator("#autosave-status")).to_contain_text(re.compile(r"Saved \d\d:\d\d"))
    check(ravi, "checkin-form-filled")

    ravi.get_by_role("button", name="Submit check-in").click()
    expect(ravi.get_by_role("heading", level=1)).to_have_text("Your check-in")
    expect(ravi.get_by_role("status").first).to_contain_text("Priya Nair sees it in their team inbox")
    expect(ravi.locator(".blockers-part")).to_contain_text(BLOCKER)
    expect(ravi.get_by_role("link", name=FOUND_KEY_RESULT)).to_be_visible()
    check(ravi, "checkin-submitted")

    priya = new_page()
    sign_in(priya, live_server, MANAGER)
    navigation = priya.get_by_role("navigation", name="Organisation")
    navigation.get_by_role("link", name="Team check-ins").click()
    expect(priya.get_by_role("heading", level=2, name="Needs your attention")).to_be_visible()
    first = priya.locator(".inbox-card").first
    expect(first.get_by_role("heading", level=3)).to_have_text("Ravi Shah")
    expect(first.locator(".blockers-part")).to_contain_text(BLOCKER)
    expect(first.locator(".attention-tags")).to_contain_text("Blocked")
    check(priya, "checkin-team-inbox")

    first.get_by_label("Reply to Ravi Shah").fill(REPLY)
    first.get_by_role("button", name="Send reply").click()
    expect(first.locator(".sent-note")).to_have_text("Reply sent.")
    expect(first.locator(".replies")).to_contain_text(REPLY)
    check(priya, "checkin-team-inbox-replied")

    # The 1:1 agenda gathers the blocker and the blocked key result; talked through, it is marked discussed.
    first.get_by_role("link", name="1:1 agenda with Ravi Shah").click()
    expect(priya.get_by_role("heading", level=1)).to_have_text("Ravi Shah")
    blockers = priya.locator(".agenda-card", has_text="Blockers")
    expect(blockers).to_contain_text(BLOCKER)
    expect(priya.locator(".agenda-card", has_text="Key results at risk or blocked")).to_contain_text(
        OWN_KEY_RESULT
    )
    check(priya, "checkin-one-on-one-agenda")
    blockers.get_by_role("button", name=re.compile("^Mark discussed")).click()
    expect(blockers.locator(".discussed-badge")).to_contain_text("Discussed")

    ravi.reload()
    expect(ravi.locator(".replies")).to_contain_text(REPLY)
    expect(ravi.locator(".replies")).to_contain_text("Priya Nair")
    expect(ravi.locator(".discussed-badge")).to_contain_text("Discussed")
    check(ravi, "checkin-reply-seen")
