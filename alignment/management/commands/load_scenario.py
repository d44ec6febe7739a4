"""Build a new organisation from a scenario file, through the product's services and ingestion pipeline."""

from __future__ import annotations

import secrets
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from alignment.loading import LoadedScenario, load_scenario
from alignment.scenario import ScenarioError, read_scenario, relative_shift_weeks
from alignment.services import evaluate_quarter, last_complete_week_end
from goals.models import Cycle
from okrsignal.celery import app as celery_app
from okrsignal.tenancy import tenant_context

EMAILS_SHOWN = 6


class Command(BaseCommand):
    help = (
        "Load a scenario file (format okrsignal-scenario/1) into a new organisation people can sign in to. "
        "The whole load is one transaction: an invalid file leaves nothing behind."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="The scenario file (JSON).")
        parser.add_argument(
            "--password", help="Password for the accounts this load creates (default: a random one, printed)."
        )
        parser.add_argument(
            "--relative",
            action="store_true",
            help="Move every time by whole weeks so that the last event falls in the current week.",
        )
        parser.add_argument(
            "--replace",
            action="store_true",
            help="Delete the organisation at the same address, and everything in it, before loading.",
        )
        parser.add_argument("--slug", help="Load at this address instead of the file's organisation slug.")

    def handle(self, *args: Any, **options: Any) -> None:
        started = time.monotonic()
        password = options["password"] or secrets.token_urlsafe(12)
        try:
            scenario = read_scenario(options["file"])
            weeks = relative_shift_weeks(scenario, timezone.now()) if options["relative"] else 0
            # Everything runs here, in this process and this transaction, whatever broker is configured:
            # tasks queued on commit (re-mapping work after new rules) run before the command returns.
            previous = celery_app.conf.task_always_eager
            celery_app.conf.task_always_eager = True
            try:
                loaded = load_scenario(
                    scenario,
                    password=password,
                    slug=options["slug"],
                    shift_weeks=weeks,
                    replace=options["replace"],
                )
            finally:
                celery_app.conf.task_always_eager = previous
        except ScenarioError as error:
            raise CommandError(str(error)) from error
        seconds = time.monotonic() - started

        scenario = loaded.scenario
        organization = loaded.organization
        vendor_events = sum(
            loaded.events_applied[kind] for kind in ("jira_webhook", "slack_event", "hubspot_object")
        )
        self.stdout.write(
            self.style.SUCCESS(
                f"Loaded scenario {scenario.name} into {organization.name} in {seconds:.1f} s: "
                f"{len(loaded.people)} people, {len(loaded.objectives)} objectives, "
                f"{len(loaded.key_results)} key results, {len(loaded.kpis)} KPIs, "
                f"{sum(loaded.events_applied.values())} events "
                f"({vendor_events} vendor payloads, {loaded.raw_events_stored} raw events stored)."
            )
        )
        self.stdout.write(f"  Organisation: {organization.name}, at {loaded.path}")
        if loaded.replaced_organization:
            self.stdout.write(f"  The organisation that was at {loaded.path} was deleted first.")
        if loaded.shift_weeks:
            self.stdout.write(
                f"  Moved {loaded.shift_weeks} weeks in time: the cycle {scenario.cycle.name} now runs "
                f"{scenario.cycle.start} to {scenario.cycle.end}."
            )
        for note in loaded.notes:
            self.stdout.write(f"  {note}")
        self.stdout.write(f"  {self._evaluate(loaded)}")
        if loaded.created_emails:
            source = "given" if options["password"] else "generated"
            self.stdout.write(f"  Sign in with any of these; password ({source}): {password}")
            self._emails(loaded.created_emails)
        if loaded.reused_emails:
            self.stdout.write("  These people already had an account; their password is unchanged:")
            self._emails(loaded.reused_emails)

    def _evaluate(self, loaded: LoadedScenario) -> str:
        """Run the drift engine after each week of the quarter that has ended (all of them once the cycle
        is past), as it would have run week by week, so findings, credits and score trends are there."""
        started = time.monotonic()
        with tenant_context(loaded.organization):
            cycle = Cycle.objects.get(pk=loaded.cycle_id)
        until = last_complete_week_end(cycle, timezone.now())
        results = evaluate_quarter(loaded.organization, cycle, until=until)
        if not results:
            return "Drift engine: no week of the cycle has ended yet; it runs once the first one has."
        last = results[-1]
        return (
            f"Drift engine: evaluated weeks 1 to {last.week} in {time.monotonic() - started:.1f} s; "
            f"{last.reported} finding(s) and {last.credits} uncredited contribution(s) "
            f"as of {until:%Y-%m-%d}."
        )

    def _emails(self, emails: list[str]) -> None:
        for email in emails[:EMAILS_SHOWN]:
            self.stdout.write(f"    {email}")
        if len(emails) > EMAILS_SHOWN:
            self.stdout.write(f"    ... and {len(emails) - EMAILS_SHOWN} more")
