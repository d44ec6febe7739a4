"""The cadence pages: the report for admins (whole organisation) and managers (their reporting line), 404 for
everyone else; the remediation panel below 40% only; the check-in schedule form; the 90-day plan started on
demand and edited by admins; and the report in a browser."""

from __future__ import annotations

from datetime import date, time, timedelta
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from playwright.sync_api import Page, expect
from pytest_django.live_server_helper import LiveServer

from goals import cadence
from goals.checkin_reports import report_week
from goals.models import RemediationPlan, RemediationStep, RemediationStepKind
from goals.validation import GoalValidationError
from okrsignal.models import Membership, Organization
from okrsignal.tenancy import tenant_context
from tests.browser import assert_accessible, screenshot
from tests.cadence_factories import (
    HIGH_PULSE,
    LOW_PULSE,
    CadenceWorld,
    add_member,
    make_cadence_world,
    make_recent_history,
)
from tests.conftest import client_for
from tests.factories import PASSWORD


def url(world: CadenceWorld, name: str) -> str:
    return reverse(f"goals:{name}", kwargs={"org_slug": world.world.slug})


def text_of(response: Any) -> str:
    return response.content.decode()


@pytest.fixture
def acme(db: None) -> CadenceWorld:
    return make_cadence_world("Acme")


@pytest.fixture
def low_pulse(acme: CadenceWorld) -> CadenceWorld:
    make_recent_history(acme, pulse=LOW_PULSE)
    return acme


@pytest.fixture
def high_pulse(acme: CadenceWorld) -> CadenceWorld:
    make_recent_history(acme, pulse=HIGH_PULSE)
    return acme


# --- Who sees the report ----------------------------------------------------------------------------


def test_an_admin_sees_the_whole_organisation(low_pulse: CadenceWorld) -> None:
    response = client_for(low_pulse.world.admin).get(url(low_pulse, "cadence_report"))

    assert response.status_code == 200
    page = text_of(response)
    assert "the whole organisation" in page
    assert "Completion by team" in page
    assert "Acme Sales" in page
    assert "Acme Platform team" in page
    assert low_pulse.world.admin.user.full_name in page  # a manager row: the admin has direct reports
    assert "Check-ins are due <strong>Fridays at 10:00 (Europe/Berlin)</strong>" in page
    assert 'class="series share-chart"' in page


def test_a_manager_sees_the_people_who_report_to_them(low_pulse: CadenceWorld) -> None:
    world = low_pulse.world

    response = client_for(world.manager).get(url(low_pulse, "cadence_report"))

    assert response.status_code == 200
    page = text_of(response)
    assert "the 8 people who report to you" in page  # the report, the indirect report, six sellers
    assert world.peer.user.full_name not in page
    assert "Change the schedule" not in page


@pytest.mark.parametrize("who", ["peer", "report", "indirect_report"])
def test_employees_get_404_on_every_cadence_page(acme: CadenceWorld, who: str) -> None:
    client = client_for(getattr(acme.world, who))

    for name in ("cadence_report", "check_in_schedule", "remediation_plan"):
        assert client.get(url(acme, name)).status_code == 404
    assert client.post(url(acme, "remediation_plan"), {"action": "start"}).status_code == 404
    with tenant_context(acme.organization):
        assert not RemediationPlan.objects.exists()


def test_a_manager_gets_404_on_the_schedule_and_the_plan(acme: CadenceWorld) -> None:
    client = client_for(acme.world.manager)

    assert client.get(url(acme, "check_in_schedule")).status_code == 404
    assert client.get(url(acme, "remediation_plan")).status_code == 404
    assert client.post(url(acme, "check_in_schedule"), {"weekday": "0"}).status_code == 404


def test_an_empty_organisation_says_what_to_do_next(db: None) -> None:
    lonely = make_cadence_world("Lonely")
    with tenant_context(lonely.organization):
        Membership.objects.exclude(pk=lonely.world.admin.pk).update(is_active=False, deactivated_at=None)
        Membership.objects.filter(pk=lonely.world.admin.pk).update(joined_at=lonely.organization.created_at)

    page = text_of(client_for(lonely.world.admin).get(url(lonely, "cadence_report")))

    assert "Nobody to report on for this week" in page
    assert "invite your colleagues" in page


def test_a_week_without_check_ins_explains_itself(acme: CadenceWorld) -> None:
    page = text_of(client_for(acme.world.admin).get(url(acme, "cadence_report")))

    assert "No check-ins in the last 12 weeks yet" in page
    assert "No pulse answers yet" in page


def test_a_team_of_four_is_hidden_to_protect_anonymity(low_pulse: CadenceWorld) -> None:
    page = text_of(client_for(low_pulse.world.admin).get(url(low_pulse, "cadence_report")))

    assert "fewer than 5 answers — hidden to protect anonymity" in page
    # Sales has six answers: its share is shown (2 of 6 answer 4 or 5).
    assert "33%" in page


def test_a_bad_week_falls_back_to_the_latest_with_a_message(acme: CadenceWorld) -> None:
    client = client_for(acme.world.admin)
    latest = report_week(acme.organization)

    page = text_of(client.get(url(acme, "cadence_report") + "?week=last-tuesday"))

    assert "“last-tuesday” is not a date (YYYY-MM-DD)" in page
    assert f"Week of {latest.day} {latest:%B %Y}" in page


def test_any_day_names_its_week_and_a_future_week_shows_this_one(acme: CadenceWorld) -> None:
    client = client_for(acme.world.admin)
    latest = report_week(acme.organization)
    wednesday = latest - timedelta(days=14) + timedelta(days=2)

    earlier = text_of(client.get(url(acme, "cadence_report") + f"?week={wednesday.isoformat()}"))
    future = text_of(client.get(url(acme, "cadence_report") + "?week=2999-01-01"))

    week = latest - timedelta(days=14)
    assert f"Week of {week.day} {week:%B %Y}" in earlier
    assert "?week=2999" not in future
    assert "Week of " in future


def test_the_report_page_reads_a_fixed_number_of_queries(acme: CadenceWorld) -> None:
    client = client_for(acme.world.admin)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url(acme, "cadence_report")).status_code == 200
        return len(captured)

    before = queries()
    make_recent_history(acme, pulse=LOW_PULSE)
    with tenant_context(acme.organization):
        for number in range(4):
            add_member(acme.world, f"Extra {number}", team=acme.sales, manager=acme.sellers[1])
    assert queries() == before


# --- The remediation panel --------------------------------------------------------------------------


def test_below_forty_percent_the_admin_sees_the_90_day_plan(low_pulse: CadenceWorld) -> None:
    page = text_of(client_for(low_pulse.world.admin).get(url(low_pulse, "cadence_report")))

    assert "Line of sight is low: a 90-day plan" in page
    assert "Only <strong>30%</strong> of this week's 10 pulse answers" in page
    for kind in RemediationStepKind:
        assert kind.label in page
    assert "Start the 90-day plan" in page


def test_at_a_healthy_pulse_there_is_no_panel(high_pulse: CadenceWorld) -> None:
    page = text_of(client_for(high_pulse.world.admin).get(url(high_pulse, "cadence_report")))

    assert "80%" in page
    assert 'id="remediation-heading"' not in page
    assert "Start the 90-day plan" not in page


def test_a_manager_never_sees_the_organisations_plan(low_pulse: CadenceWorld) -> None:
    page = text_of(client_for(low_pulse.world.manager).get(url(low_pulse, "cadence_report")))

    assert 'id="remediation-heading"' not in page
    assert "90-day" not in page


def test_starting_the_plan_lays_out_four_steps_over_ninety_days(low_pulse: CadenceWorld) -> None:
    admin = low_pulse.world.admin
    client = client_for(admin)

    response = client.post(url(low_pulse, "remediation_plan"), {"action": "start"})
    client.post(url(low_pulse, "remediation_plan"), {"action": "start"})  # a second click starts nothing new

    assert response.status_code == 302
    with tenant_context(low_pulse.organization):
        plan = RemediationPlan.objects.get()
        steps = list(RemediationStep.objects.filter(plan=plan).order_by("position"))
    assert plan.trigger_share == pytest.approx(0.3)
    assert [step.kind for step in steps] == ["audit", "manager_training", "cadence", "recalibration"]
    assert [(step.due_on - plan.started_on).days for step in steps] == [14, 42, 63, 90]
    assert {step.owner_id for step in steps} == {admin.pk}
    page = text_of(client.get(url(low_pulse, "cadence_report")))
    assert "The 90-day line-of-sight plan" in page
    assert "Update owners and progress" in page


def step_data(plan_steps: list[RemediationStep], **overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {"action": "save"}
    for step in plan_steps:
        data[f"{step.kind}-owner"] = step.owner_id
        data[f"{step.kind}-due_on"] = step.due_on.isoformat()
        data[f"{step.kind}-progress"] = step.progress
        data[f"{step.kind}-note"] = step.note
    data.update(overrides)
    return data


def start_plan(world: CadenceWorld) -> tuple[RemediationPlan, list[RemediationStep]]:
    with tenant_context(world.organization):
        plan = cadence.remediation_plan_start(by=world.world.admin)
        return plan, list(RemediationStep.objects.filter(plan=plan).order_by("position"))


def test_an_admin_gives_each_step_its_owner_due_date_and_progress(acme: CadenceWorld) -> None:
    plan, steps = start_plan(acme)
    client = client_for(acme.world.admin)
    assert "Save the plan" in text_of(client.get(url(acme, "remediation_plan")))

    response = client.post(
        url(acme, "remediation_plan"),
        step_data(
            steps,
            **{
                "audit-owner": acme.world.manager.pk,
                "audit-progress": 60,
                "audit-note": "Half the teams done",
                "cadence-due_on": (plan.started_on + timedelta(days=70)).isoformat(),
            },
        ),
    )

    assert response.status_code == 302
    with tenant_context(acme.organization):
        audit = RemediationStep.objects.get(plan=plan, kind="audit")
        cadence_step = RemediationStep.objects.get(plan=plan, kind="cadence")
    assert (audit.owner_id, audit.progress, audit.note) == (acme.world.manager.pk, 60, "Half the teams done")
    assert audit.updated_by_id == acme.world.admin.pk
    assert cadence_step.due_on == plan.started_on + timedelta(days=70)


def test_bad_step_values_are_shown_on_their_fields(acme: CadenceWorld) -> None:
    plan, steps = start_plan(acme)
    client = client_for(acme.world.admin)

    response = client.post(
        url(acme, "remediation_plan"),
        step_data(
            steps,
            **{
                "audit-progress": 140,
                "recalibration-due_on": (plan.started_on + timedelta(days=400)).isoformat(),
            },
        ),
    )

    assert response.status_code == 400
    page = text_of(response)
    assert "Ensure this value is less than or equal to 100." in page
    with tenant_context(acme.organization):
        assert RemediationStep.objects.get(plan=plan, kind="audit").progress == 0
    response = client.post(
        url(acme, "remediation_plan"),
        step_data(steps, **{"recalibration-due_on": (plan.started_on + timedelta(days=400)).isoformat()}),
    )
    assert response.status_code == 400
    assert "Choose a date between the plan&#x27;s start" in text_of(response)


def test_when_every_step_is_done_the_plan_is_complete(acme: CadenceWorld) -> None:
    plan, steps = start_plan(acme)

    response = client_for(acme.world.admin).post(
        url(acme, "remediation_plan"), step_data(steps, **{f"{step.kind}-progress": 100 for step in steps})
    )

    assert response.status_code == 302
    with tenant_context(acme.organization):
        plan.refresh_from_db()
        assert plan.completed_at is not None
        with pytest.raises(GoalValidationError):
            cadence.remediation_plan_update(plan=plan, by=acme.world.admin, changes=[])


def test_only_admins_start_or_change_the_plan(acme: CadenceWorld) -> None:
    with tenant_context(acme.organization), pytest.raises(PermissionDenied):
        cadence.remediation_plan_start(by=acme.world.manager)


def test_an_owner_from_another_organisation_is_refused(acme: CadenceWorld) -> None:
    globex = make_cadence_world("Globex")
    plan, steps = start_plan(acme)
    client = client_for(acme.world.admin)

    response = client.post(
        url(acme, "remediation_plan"), step_data(steps, **{"audit-owner": globex.world.manager.pk})
    )

    assert response.status_code == 400
    assert "Select a valid choice" in text_of(response)
    with tenant_context(acme.organization):
        assert RemediationStep.objects.get(plan=plan, kind="audit").owner_id == acme.world.admin.pk


# --- The check-in schedule --------------------------------------------------------------------------


def test_an_admin_sets_the_check_in_day_time_and_time_zone(acme: CadenceWorld) -> None:
    client = client_for(acme.world.admin)
    assert "Save the schedule" in text_of(client.get(url(acme, "check_in_schedule")))

    response = client.post(
        url(acme, "check_in_schedule"), {"weekday": "0", "at_time": "09:30", "time_zone": "Asia/Tokyo"}
    )

    assert response.status_code == 302
    organization = Organization.objects.get(pk=acme.organization.pk)
    assert (organization.checkin_weekday, organization.checkin_time, organization.time_zone) == (
        0,
        time(9, 30),
        "Asia/Tokyo",
    )
    page = text_of(client.get(url(acme, "cadence_report")))
    assert "Check-ins are now due Mondays at 09:30 (Asia/Tokyo)" in page
    assert "reminders go out Sunday at 09:30 and Tuesday at 09:00" in page


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"weekday": "7", "at_time": "10:00", "time_zone": "UTC"}, "Select a valid choice"),
        ({"weekday": "4", "at_time": "25:00", "time_zone": "UTC"}, "Enter a valid time"),
        ({"weekday": "4", "at_time": "10:00", "time_zone": "Mars/Olympus"}, "Select a valid choice"),
        ({"weekday": "4", "time_zone": "UTC"}, "This field is required"),
    ],
)
def test_a_bad_schedule_is_refused_naming_the_field(
    acme: CadenceWorld, data: dict[str, str], message: str
) -> None:
    response = client_for(acme.world.admin).post(url(acme, "check_in_schedule"), data)

    assert response.status_code == 400
    assert message in text_of(response)
    organization = Organization.objects.get(pk=acme.organization.pk)
    assert (organization.checkin_weekday, organization.time_zone) == (4, "Europe/Berlin")


def test_the_schedule_service_checks_the_time_zone_itself(acme: CadenceWorld) -> None:
    with tenant_context(acme.organization), pytest.raises(GoalValidationError) as refused:
        cadence.organization_set_check_in_schedule(
            organization=acme.organization,
            by=acme.world.admin,
            weekday=2,
            at_time=time(9),
            time_zone="Nowhere/At_All",
        )

    assert [problem.field for problem in refused.value.problems] == ["time_zone"]


def test_an_admin_of_another_organisation_cannot_set_this_schedule(acme: CadenceWorld) -> None:
    globex = make_cadence_world("Globex")
    with tenant_context(globex.organization), pytest.raises(PermissionDenied):
        cadence.organization_set_check_in_schedule(
            organization=acme.organization, by=globex.world.admin, weekday=2, at_time=time(9), time_zone="UTC"
        )


# --- In the browser ---------------------------------------------------------------------------------


@pytest.mark.browser
@pytest.mark.usefixtures("transactional_db")
def test_the_report_in_a_browser_is_accessible_and_leads_to_the_plan(
    live_server: LiveServer, page: Page
) -> None:
    acme = make_cadence_world("Northwind")
    make_recent_history(acme, pulse=LOW_PULSE)
    page.goto(live_server.url + "/accounts/login/")
    page.get_by_label("E-mail").fill(acme.world.admin.user.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{live_server.url}/o/{acme.world.slug}/")

    page.goto(live_server.url + url(acme, "cadence_report"))

    expect(page.get_by_role("heading", level=1)).to_have_text("Cadence and pulse")
    expect(page.get_by_role("heading", name="Line of sight is low: a 90-day plan")).to_be_visible()
    expect(page.get_by_role("img", name="Share of people who checked in", exact=False)).to_be_visible()
    assert_accessible(page)
    screenshot(page, "cadence-report")

    page.get_by_role("button", name="Start the 90-day plan").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("90-day line-of-sight plan")
    page.locator("#id_audit-progress").fill("40")
    assert_accessible(page)
    screenshot(page, "cadence-remediation-plan")
    page.get_by_role("button", name="Save the plan").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Cadence and pulse")
    expect(page.get_by_text("Saved the 90-day plan.")).to_be_visible()

    page.get_by_role("link", name="Change the schedule").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Check-in schedule")
    assert_accessible(page)
    screenshot(page, "cadence-schedule")


def test_the_report_week_is_a_monday(acme: CadenceWorld) -> None:
    assert report_week(acme.organization).weekday() == 0
    assert isinstance(report_week(acme.organization), date)
