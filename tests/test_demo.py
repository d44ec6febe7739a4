"""``manage.py create_demo``: Northwind Analytics seven weeks into its quarter, loaded from the demo scenario
through the real services and ingestion pipeline and evaluated by the drift engine week by week."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db.models import Max
from django.test import Client, override_settings

from alignment.models import ContributionCredit, DriftScore, Finding
from goals.models import (
    KPI,
    CheckIn,
    CheckInKeyResultUpdate,
    CheckInPriority,
    CheckInReply,
    CheckInState,
    Cycle,
    KeyResult,
    Objective,
    PulseAnswer,
)
from okrsignal.management.commands.create_demo import DEMO_PASSWORD, DEMO_SLUG
from okrsignal.models import Membership, Organization, User
from okrsignal.services import organization_delete
from okrsignal.tenancy import cross_organization, tenant_context
from signals_ingest.models import ExecutionSignal, RawEvent, SignalKeyResult, WorkItem
from tests.demo_support import create_demo, start_of_this_week

ADMIN = "amara@northwind.test"
PEOPLE = 18
# The story's drifting goals, and goals it keeps healthy (demo-quarter in alignment/scenarios/stories.py).
DRIFTING = {
    ("priority_shift", "Enterprise workspaces activated within 14 days from 40% to 55%"),
    ("status_contradiction", "Enterprise workspaces activated within 14 days from 40% to 55%"),
    ("priority_shift", "Enterprise new ARR from EUR 0 to EUR 1.2M"),
    ("dependency_friction", "Data import success rate from 85% to 98%"),
    ("kpi_conflict", "Grow enterprise revenue by 30%"),
    ("cascade_break", "Pass the ISO 27001 surveillance audit"),
}
HEALTHY_KEY_RESULTS = {
    "Onboarding checklist completion from 20% to 70%",
    "p95 dashboard load from 3.2 s to 1.5 s",
    "Workspace provisioning time from 20 min to 2 min",
    "Enterprise MQLs from 0 to 150",
    "Net revenue retention from 104% to 112%",
    "Enterprise tenants with a p95 under 2 s from 3 to 12",
    "Enterprise admins interviewed about their first week from 0 to 12",
    "Expansion proposals accepted from 0 to 8",
}
HEALTHY_OBJECTIVES = {
    "Make enterprise onboarding effortless",
    "Ship guided onboarding for enterprise workspaces",
    "Provision enterprise workspaces in minutes",
    "Fill the enterprise funnel",
}


@dataclass
class Demo:
    output: str
    as_of: datetime
    organization: Organization


@pytest.fixture(scope="module")
def demo(django_db_setup: None, django_db_blocker: Any) -> Iterator[Demo]:
    """The demo, built once for the module (it takes a few seconds) and deleted afterwards."""
    with django_db_blocker.unblock():
        as_of = start_of_this_week()
        with override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]):
            output = create_demo()
        organization = Organization.objects.get(slug=DEMO_SLUG)
        try:
            yield Demo(output=output, as_of=as_of, organization=organization)
        finally:
            organization_delete(organization=organization)


def test_it_prints_every_login_with_the_password_the_quick_start_gives(demo: Demo, db: None) -> None:
    line = re.search(r"^Sign in at (\S+) with any of these \(password: (.*)\):$", demo.output, re.MULTILINE)

    assert line is not None, demo.output
    assert line.group(2) == DEMO_PASSWORD == "northwind-demo-2026"
    assert ADMIN in demo.output
    with tenant_context(demo.organization):
        emails = set(Membership.objects.values_list("user__email", flat=True))
    assert len(emails) == PEOPLE
    assert all(f"  {email} " in demo.output for email in emails)


def test_the_printed_login_opens_northwind(demo: Demo, db: None) -> None:
    client = Client()
    response = client.post(
        "/accounts/login/", {"username": ADMIN, "password": DEMO_PASSWORD}, REMOTE_ADDR="203.0.113.41"
    )
    assert response.status_code == 302

    home = client.get(f"/o/{DEMO_SLUG}/")

    assert home.status_code == 200
    assert "Northwind Analytics" in home.content.decode()


def test_the_quarter_is_in_its_seventh_week_and_nothing_is_dated_later(demo: Demo, db: None) -> None:
    with tenant_context(demo.organization):
        (cycle,) = Cycle.objects.all()
        assert cycle.start <= demo.as_of.date() <= cycle.end
        assert (demo.as_of.date() - cycle.start).days // 7 + 1 == 7
        assert ExecutionSignal.objects.aggregate(last=Max("occurred_at"))["last"] <= demo.as_of
        assert CheckIn.objects.aggregate(last=Max("submitted_at"))["last"] <= demo.as_of
        assert CheckInReply.objects.aggregate(last=Max("created_at"))["last"] <= demo.as_of
    assert re.search(r"week 7 of \d{4}-Q\d", demo.output)


def test_its_signals_came_in_as_vendor_payloads_through_the_pipeline(demo: Demo, db: None) -> None:
    with tenant_context(demo.organization):
        raw = RawEvent.objects.all()
        assert raw.count() > 500
        assert set(raw.values_list("provider", flat=True)) == {"jira", "slack", "hubspot"}
        assert not raw.filter(processed_at__isnull=True).exists()
        signals = ExecutionSignal.objects.all()
        assert signals.count() >= raw.count() * 0.9
        assert not signals.filter(raw_event__isnull=True).exists(), "every signal comes from a raw event"
        assert set(signals.values_list("provider", flat=True)) == {"jira", "slack", "hubspot"}
        assert WorkItem.objects.count() > 100
        linked = set(SignalKeyResult.objects.values_list("key_result__title", flat=True))
        assert "Onboarding checklist completion from 20% to 70%" in linked
        assert "Enterprise new ARR from EUR 0 to EUR 1.2M" in linked


def test_a_three_level_cascade_with_kpis(demo: Demo, db: None) -> None:
    with tenant_context(demo.organization):
        levels = set(Objective.objects.values_list("level", flat=True))
        assert levels == {"company", "team", "individual"}
        assert not Objective.objects.filter(level="individual", parent__isnull=True).exists()
        assert KeyResult.objects.count() >= 12
        assert KPI.objects.count() == 3


def test_weeks_of_check_ins_with_replies_discussions_and_pulse_answers(demo: Demo, db: None) -> None:
    with tenant_context(demo.organization):
        submitted = CheckIn.objects.filter(state=CheckInState.SUBMITTED)
        assert submitted.values("week").distinct().count() >= 6
        assert submitted.values("membership").distinct().count() == PEOPLE
        assert CheckInPriority.objects.filter(unlinked=True).exists()
        assert CheckInPriority.objects.filter(key_result__isnull=False).exists()
        statuses = set(CheckInKeyResultUpdate.objects.values_list("status", flat=True))
        assert statuses == {"on_track", "at_risk", "blocked"}
        assert submitted.exclude(blockers="").exists()
        # Managers answer the check-ins that raise something, not every one.
        replies = CheckInReply.objects.select_related("check_in")
        assert 10 <= replies.count() < submitted.count()
        assert all(reply.author_id == reply.check_in.manager_id for reply in replies)
        assert submitted.filter(discussed_at__isnull=False).count() >= 10
        assert PulseAnswer.objects.values("week").distinct().count() >= 6
        assert PulseAnswer.objects.filter(check_in__isnull=False).count() >= 20


def test_open_findings_of_several_kinds_beside_healthy_goals(demo: Demo, db: None) -> None:
    with tenant_context(demo.organization):
        open_findings = Finding.objects.filter(state=Finding.State.OPEN, active=True).select_related(
            "key_result", "objective"
        )
        found = {(f.kind, (f.key_result or f.objective).title) for f in open_findings}  # type: ignore[union-attr]
        assert found >= DRIFTING
        assert len({kind for kind, _subject in found}) >= 5
        assert all(finding.explanation for finding in open_findings)
        # The signals, check-ins and readings behind a finding about effort are linked from it.
        about_effort = {"priority_shift", "status_contradiction", "dependency_friction", "kpi_conflict"}
        assert all(finding.evidence for finding in open_findings if finding.kind in about_effort)

        flagged = {subject for _kind, subject in found}
        assert not (HEALTHY_KEY_RESULTS | HEALTHY_OBJECTIVES) & flagged
        assert set(KeyResult.objects.values_list("title", flat=True)) >= HEALTHY_KEY_RESULTS

        # Scored after each of the six weeks that have ended; healthy goals score low, drifting ones high.
        assert set(DriftScore.objects.values_list("week", flat=True)) == set(range(1, 7))
        latest = {
            (score.key_result or score.objective).title: score.score  # type: ignore[union-attr]
            for score in DriftScore.objects.filter(week=6).select_related("key_result", "objective")
        }
        assert all(latest[title] < 25 for title in HEALTHY_KEY_RESULTS)
        assert latest["Enterprise workspaces activated within 14 days from 40% to 55%"] >= 40

        # Ravi's share of the guided onboarding work is credited to him.
        credit = ContributionCredit.objects.select_related("person__user", "key_result").get()
        assert credit.person.user.full_name == "Ravi Shah"
        assert credit.key_result.title == "Onboarding checklist completion from 20% to 70%"


def test_running_it_again_replaces_the_demo_organisation(demo: Demo, db: None) -> None:
    output = create_demo("--password", "another-demo-password")

    assert output.startswith("Replaced the demo organisation Northwind Analytics")
    assert "(password: another-demo-password):" in output
    with cross_organization():
        assert Organization.objects.filter(slug=DEMO_SLUG).count() == 1
        assert User.objects.filter(email__endswith="@northwind.test").count() == PEOPLE
    replaced = Organization.objects.get(slug=DEMO_SLUG)
    assert replaced.pk != demo.organization.pk
    with tenant_context(replaced):
        assert Membership.objects.count() == PEOPLE
        assert Finding.objects.exists()


def test_a_moment_in_the_future_is_refused() -> None:
    later = (datetime.now(tz=UTC) + timedelta(days=1)).isoformat()

    with pytest.raises(CommandError, match="must not be in the future"):
        call_command("create_demo", "--as-of", later)
