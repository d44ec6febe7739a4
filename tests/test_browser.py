"""The pages as people use them, in headless Chromium: signing in, signing up, joining by invitation.

Every page visited must run without console errors or Content-Security-Policy violations (checked by the
``page`` fixture) and pass axe-core's serious and critical rules where the test says so.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable

import pytest
from django.core import mail
from playwright.sync_api import Page, expect
from pytest_django.fixtures import Settings
from pytest_django.live_server_helper import LiveServer

from okrsignal.management.commands.create_demo import DEMO_PASSWORD
from tests.browser import allow_console_error, assert_accessible, screenshot
from tests.demo_support import create_demo

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("transactional_db")]

DEMO_ADMIN = "amara@northwind.test"
INVITATION_LINK = re.compile(r"https?://\S+/join/\S+/")


@pytest.fixture
def demo(transactional_db: None) -> None:
    create_demo()


@pytest.fixture
def invitation_links_to_live_server(live_server: LiveServer, settings: Settings) -> None:
    settings.SITE_URL = live_server.url


def sign_in(page: Page, live_server: LiveServer, email: str, password: str) -> None:
    page.goto(live_server.url + "/accounts/login/")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def invitation_link_for(email: str, timeout: float = 10.0) -> str:
    """The link in the newest invitation e-mail to ``email``, waiting for it to be sent."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for message in reversed(mail.outbox):
            if email in message.to:
                match = INVITATION_LINK.search(message.body)
                assert match, f"No invitation link in:\n{message.body}"
                return match.group(0)
        time.sleep(0.05)
    raise AssertionError(f"No invitation e-mail reached {email} within {timeout} seconds.")


def invite_through_the_invite_page(page: Page, live_server: LiveServer, email: str) -> str:
    sign_in(page, live_server, DEMO_ADMIN, DEMO_PASSWORD)
    page.get_by_role("link", name="Invite people").click()
    expect(page.get_by_role("heading", name="Invite someone")).to_be_visible()
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Team").select_option(label="Product")
    page.get_by_role("button", name="Send invitation").click()
    expect(page.get_by_role("status")).to_contain_text(f"Invitation sent to {email}.")
    return invitation_link_for(email)


def test_visitor_is_sent_to_sign_in_and_lands_in_the_demo_organisation(
    demo: None, live_server: LiveServer, page: Page
) -> None:
    page.goto(live_server.url + "/")
    expect(page).to_have_url(re.compile(r"/accounts/login/"))
    assert_accessible(page)
    screenshot(page, "sign-in")

    page.get_by_label("E-mail").fill(DEMO_ADMIN)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()

    expect(page).to_have_url(live_server.url + "/o/northwind/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Northwind Analytics")
    expect(page.locator(".figure", has_text="active people")).to_contain_text("18")
    screenshot(page, "northwind-overview")
    assert_accessible(page)


def test_navigation_reaches_people_teams_and_my_team(demo: None, live_server: LiveServer, page: Page) -> None:
    sign_in(page, live_server, DEMO_ADMIN, DEMO_PASSWORD)
    expect(page).to_have_url(live_server.url + "/o/northwind/")
    navigation = page.get_by_role("navigation", name="Organisation")

    navigation.get_by_role("link", name="People").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("People")
    expect(page.get_by_role("link", name="Priya Nair", exact=True)).to_be_visible()
    screenshot(page, "northwind-people")
    assert_accessible(page)

    # By keyboard alone: Tab from the top of the page to the Teams link, then Enter.
    for _ in range(15):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.textContent.trim()") == "Teams":
            break
    else:
        pytest.fail("Tab never reached the Teams link.")
    page.keyboard.press("Enter")
    expect(page).to_have_url(live_server.url + "/o/northwind/teams/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Teams")
    expect(page.get_by_role("cell", name="Activation squad", exact=True)).to_be_visible()
    screenshot(page, "northwind-teams")
    assert_accessible(page)

    navigation.get_by_role("link", name="My team").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("My team")
    expect(page.get_by_role("link", name="Kwame Mensah", exact=True)).to_be_visible()
    expect(navigation.get_by_role("link", name="My team")).to_have_attribute("aria-current", "page")
    screenshot(page, "northwind-my-team")
    assert_accessible(page)


def test_sign_up_creates_an_organisation_and_welcomes_its_admin(live_server: LiveServer, page: Page) -> None:
    page.goto(live_server.url + "/signup/")
    assert_accessible(page)
    page.get_by_label("Your name").fill("Ingrid Solberg")
    page.get_by_label("Work e-mail").fill("ingrid@fjord.test")
    page.get_by_label("Password").fill("fjord-goals-2026")
    page.get_by_label("Organisation name").fill("Fjord Logistics")
    screenshot(page, "sign-up")
    page.get_by_role("button", name="Create organisation").click()

    expect(page).to_have_url(live_server.url + "/o/fjord-logistics/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Fjord Logistics")
    expect(page.get_by_role("status")).to_contain_text(
        "Welcome to OKRSignal. Fjord Logistics is ready: invite your team next."
    )
    screenshot(page, "sign-up-welcome")
    assert_accessible(page)


def test_invited_person_joins_through_the_emailed_link(
    demo: None, live_server: LiveServer, invitation_links_to_live_server: None, new_page: Callable[[], Page]
) -> None:
    admin_page = new_page()
    link = invite_through_the_invite_page(admin_page, live_server, "noor@northwind.test")

    invitee = new_page()
    invitee.goto(link)
    expect(invitee.get_by_role("heading", level=1)).to_have_text("Join Northwind Analytics")
    expect(invitee.get_by_text("Set up your account for noor@northwind.test.")).to_be_visible()
    assert_accessible(invitee)
    screenshot(invitee, "invitation-accept")
    invitee.get_by_label("Your name").fill("Noor Haddad")
    invitee.get_by_label("Password").fill("northwind-noor-2026")
    invitee.get_by_role("button", name="Join Northwind Analytics").click()

    expect(invitee).to_have_url(live_server.url + "/o/northwind/")
    expect(invitee.get_by_role("status")).to_contain_text("You have joined Northwind Analytics.")
    expect(invitee.locator(".user-name")).to_have_text("Noor Haddad")
    screenshot(invitee, "invitation-joined")


def test_used_invitation_link_says_it_has_already_been_used(
    demo: None, live_server: LiveServer, invitation_links_to_live_server: None, new_page: Callable[[], Page]
) -> None:
    link = invite_through_the_invite_page(new_page(), live_server, "omar@northwind.test")
    invitee = new_page()
    invitee.goto(link)
    invitee.get_by_label("Your name").fill("Omar Farouk")
    invitee.get_by_label("Password").fill("northwind-omar-2026")
    invitee.get_by_role("button", name="Join Northwind Analytics").click()
    expect(invitee).to_have_url(live_server.url + "/o/northwind/")

    again = new_page()
    allow_console_error(again, r"status of 404")
    response = again.goto(link)

    assert response is not None
    assert response.status == 404
    expect(again.get_by_role("alert")).to_have_text("This invitation has already been used. Sign in instead.")
    expect(again.get_by_role("button", name="Join Northwind Analytics")).to_have_count(0)
    screenshot(again, "invitation-already-used")
    assert_accessible(again)


def test_wrong_password_shows_a_form_error(demo: None, live_server: LiveServer, page: Page) -> None:
    sign_in(page, live_server, DEMO_ADMIN, "not-the-password")

    expect(page).to_have_url(re.compile(r"/accounts/login/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in")
    expect(page.locator(".errorlist")).to_contain_text("Please enter a correct")
    expect(page.get_by_label("E-mail")).to_have_value(DEMO_ADMIN)
    screenshot(page, "sign-in-wrong-password")
    assert_accessible(page)
