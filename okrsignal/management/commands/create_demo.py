"""Create the demo organisation: Northwind Analytics seven weeks into its quarter, as of today.

The organisation is loaded from the demo scenario (``alignment/scenarios/demo-quarter.json``) through the
product's own services and ingestion pipeline, exactly as ``load_scenario --relative --replace`` would:
its Jira, Slack and HubSpot activity arrives as the vendors' raw payloads, stored as raw events and
normalised into work items and signals; goals, check-ins and KPI readings go through the goal services, so
their history is real. Every time is moved by whole weeks so that the scenario's last week is the current
one; what the file tells of that week after this moment is left out, so nothing is dated in the future and
this week's check-ins are still open. The drift engine then evaluates the quarter after each week that has
ended, so findings, score trends and uncredited contributions are there when someone signs in.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from argparse import ArgumentTypeError
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.utils import timezone

from alignment import scenarios
from alignment.loading import LoadedScenario, load_scenario
from alignment.scenario import Scenario, ScenarioError, read_scenario, relative_shift_weeks, week_of
from alignment.services import RecomputeResult, evaluate_quarter, last_complete_week_end
from alignment.triggers import replaying
from goals.checkin_demo import Answered, answer_check_ins
from goals.models import Cycle
from okrsignal.celery import app as celery_app
from okrsignal.models import Membership
from okrsignal.tenancy import tenant_context

DEMO_SCENARIO = Path(scenarios.__file__).resolve().parent / "demo-quarter.json"
DEMO_SLUG = "northwind"
DEMO_PASSWORD = "northwind-demo-2026"  # noqa: S105 - printed for anyone running the demo
SIGN_IN_URL = "http://127.0.0.1:8000/"


def demo_scenario_as_of(now: datetime) -> tuple[Scenario, int]:
    """The demo scenario to load at ``now`` and the whole weeks to move it by: its last week becomes the
    one ``now`` falls in, and the events the file places after ``now`` in that week are left out."""
    scenario = read_scenario(DEMO_SCENARIO)
    weeks = relative_shift_weeks(scenario, now)
    latest = now - timedelta(weeks=weeks)
    return dataclasses.replace(scenario, events=tuple(e for e in scenario.events if e.at <= latest)), weeks


@contextmanager
def tasks_in_process() -> Iterator[None]:
    """Run queued tasks here, whatever broker is configured: the demo is complete when the command ends.

    The line each task logs on success is left out: they are steps of this command, and a screenful of
    them would bury the logins it prints. Failures are still logged.
    """
    previous = celery_app.conf.task_always_eager
    task_log = logging.getLogger("celery.app.trace")
    previous_level = task_log.level
    celery_app.conf.task_always_eager = True
    task_log.setLevel(logging.WARNING)
    try:
        yield
    finally:
        celery_app.conf.task_always_eager = previous
        task_log.setLevel(previous_level)


def moment_given(text: str) -> datetime:
    """An ISO 8601 date or timestamp from the command line, in UTC when it names no zone."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as error:
        raise ArgumentTypeError(f"not an ISO 8601 date or timestamp: {text!r}") from error
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class Command(BaseCommand):
    help = (
        "Create the Northwind demo organisation, seven weeks into its quarter as of today, from the demo "
        "scenario (replacing the one there), evaluate its drift, and print its logins."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--password", default=DEMO_PASSWORD, help="Password for every demo person.")
        parser.add_argument(
            "--as-of",
            type=moment_given,
            help=(
                "Build the demo as it stood at this past moment (ISO 8601, UTC unless a zone is given) "
                "instead of now: its seventh week is the one this moment falls in."
            ),
        )

    def handle(self, *args: Any, **options: Any) -> None:
        password = options["password"]
        started = time.monotonic()
        now = options["as_of"] or timezone.now()
        if now > timezone.now():
            raise CommandError("--as-of must not be in the future: the demo would hold work not done yet.")
        try:
            scenario, weeks = demo_scenario_as_of(now)
            # One transaction: a failure leaves the demo organisation that was there before. Nothing
            # written here is news to anyone, so it asks for no scoring and sends no alerts; the quarter
            # is evaluated below, week by week.
            with tasks_in_process(), replaying(), transaction.atomic():
                loaded = load_scenario(
                    scenario, password=password, slug=DEMO_SLUG, shift_weeks=weeks, replace=True
                )
                with tenant_context(loaded.organization):
                    answered = answer_check_ins(now=now)
                    cycle = Cycle.objects.get(pk=loaded.cycle_id)
                results = evaluate_quarter(
                    loaded.organization, cycle, until=last_complete_week_end(cycle, now)
                )
        except ScenarioError as error:
            raise CommandError(str(error)) from error
        self._report(loaded, answered, results, now=now, seconds=time.monotonic() - started)
        self._logins(loaded, password)

    def _report(
        self,
        loaded: LoadedScenario,
        answered: Answered,
        results: list[RecomputeResult],
        *,
        now: datetime,
        seconds: float,
    ) -> None:
        organization = loaded.organization
        vendor_payloads = sum(
            loaded.events_applied[kind] for kind in ("jira_webhook", "slack_event", "hubspot_object")
        )
        done = "Replaced" if loaded.replaced_organization else "Created"
        cycle = loaded.scenario.cycle
        self.stdout.write(
            self.style.SUCCESS(
                f"{done} the demo organisation {organization.name} in {seconds:.1f} s: week "
                f"{week_of(cycle, now)} of {cycle.name} ({cycle.start} to {cycle.end})."
            )
        )
        self.stdout.write(
            f"  {len(loaded.people)} people, {len(loaded.objectives)} objectives, "
            f"{len(loaded.key_results)} key results, {len(loaded.kpis)} KPIs; {vendor_payloads} Jira, Slack "
            f"and HubSpot payloads taken in through the ingestion pipeline."
        )
        self.stdout.write(
            f"  {loaded.events_applied['checkin']} check-ins, {answered.replies} replies from managers, "
            f"{answered.discussed} discussed in 1:1s."
        )
        if results:
            last = results[-1]
            self.stdout.write(
                f"  Drift engine: evaluated weeks 1 to {last.week}; {last.reported} finding(s) and "
                f"{last.credits} uncredited contribution(s)."
            )
        else:
            self.stdout.write("  Drift engine: no week of the cycle has ended yet.")

    def _logins(self, loaded: LoadedScenario, password: str) -> None:
        self.stdout.write("")
        self.stdout.write(f"Sign in at {SIGN_IN_URL} with any of these (password: {password}):")
        with tenant_context(loaded.organization):
            memberships = (
                Membership.objects.select_related("user", "team")
                .filter(pk__in=loaded.people.values())
                .order_by("pk")
            )
            for membership in memberships:
                team = membership.team.name if membership.team else ""
                self.stdout.write(
                    f"  {membership.user.email:<26} {membership.get_role_display():<9} {team:<17} "
                    f"{membership.user.full_name}"
                )
        if loaded.reused_emails:
            self.stdout.write("These people already had an account and kept their password:")
            for email in loaded.reused_emails:
                self.stdout.write(f"  {email}")
