"""Replaying a scenario into a throwaway organisation and scoring the drift engine on it.

The organisation gets its own address and its own people: every e-mail address of the file gets a
suffix unique to the run (in the people list and wherever a vendor payload repeats it), so no account
that exists already is reused and nothing made by ``load_scenario`` from the same file is touched. The
quarter is loaded through the product's services and ingestion pipeline, evaluated after each week as of
the week's end, scored against ``expect``, and the organisation is deleted afterwards (with the accounts
made for it) whatever happens in between.
"""

from __future__ import annotations

import dataclasses
import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from alignment.loading import load_scenario
from alignment.scenario import HubspotObject, JiraWebhook, Scenario, SlackEvent, evaluation_instants
from alignment.scoring import Reported, ScenarioScore, WeekReport, score_scenario, subject_keys
from alignment.services import evaluate_quarter
from goals.models import Cycle
from okrsignal.celery import app as celery_app
from okrsignal.models import Organization
from okrsignal.services import organization_delete
from okrsignal.tenancy import tenant_context

SLUG_MAX_LENGTH = 50


@dataclass
class Replay:
    score: ScenarioScore
    weeks: list[WeekReport]
    slug: str
    load_seconds: float
    evaluate_seconds: float


def new_run_id() -> str:
    return secrets.token_hex(4)


def throwaway_copy(scenario: Scenario, run_id: str) -> tuple[Scenario, str]:
    """``scenario`` with every e-mail address made unique to the run, and the address to load it at."""
    emails: dict[str, str] = {}
    people = []
    for person in scenario.people:
        local, _, domain = person.email.partition("@")
        unique = f"{local}+eval-{run_id}@{domain}"
        emails[person.email.casefold()] = unique
        people.append(dataclasses.replace(person, email=unique))
    events = tuple(
        dataclasses.replace(event, payload=_with_emails(event.payload, emails))
        if isinstance(event, JiraWebhook | SlackEvent | HubspotObject)
        else event
        for event in scenario.events
    )
    suffix = f"-eval-{run_id}"
    slug = scenario.organization.slug[: SLUG_MAX_LENGTH - len(suffix)].rstrip("-") + suffix
    return dataclasses.replace(scenario, people=tuple(people), events=events), slug


def _with_emails(value: Any, emails: Mapping[str, str]) -> Any:
    if isinstance(value, str):
        return emails.get(value.casefold(), value) if "@" in value else value
    if isinstance(value, dict):
        return {key: _with_emails(item, emails) for key, item in value.items()}
    if isinstance(value, list):
        return [_with_emails(item, emails) for item in value]
    return value


def replay_scenario(
    scenario: Scenario, *, run_id: str, log: Callable[[str], None] = lambda line: None
) -> Replay:
    """Load ``scenario`` into a throwaway organisation, evaluate it week by week, score it, delete it.

    Tasks run in this process whatever broker is configured. A file the services refuse raises
    ``ScenarioError`` (the load is one transaction: nothing of it remains).
    """
    copy, slug = throwaway_copy(scenario, run_id)
    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    organization: Organization | None = None
    try:
        started = time.monotonic()
        loaded = load_scenario(copy, password=secrets.token_urlsafe(18), slug=slug)
        organization = loaded.organization
        loaded_at = time.monotonic()
        log(f"{scenario.name}: loaded into /o/{slug}/ in {loaded_at - started:.1f} s")
        with tenant_context(organization):
            cycle = Cycle.objects.get(pk=loaded.cycle_id)
        results = evaluate_quarter(organization, cycle, until=evaluation_instants(copy.cycle)[-1])
        evaluated_at = time.monotonic()
        log(f"{scenario.name}: evaluated {len(results)} weeks in {evaluated_at - loaded_at:.1f} s")
        subjects = subject_keys(loaded.objectives, loaded.key_results)
        people = {pk: key for key, pk in loaded.people.items()}
        key_results = {pk: key for key, pk in loaded.key_results.items()}
        weeks = [
            WeekReport(
                week=result.week,
                findings=tuple(
                    Reported(
                        kind=finding.kind.value,
                        subject=subjects.get(
                            (finding.subject.kind.value, finding.subject.id),
                            f"{finding.subject.kind.value}:{finding.subject.id}",
                        ),
                        onset_week=finding.onset_week,
                    )
                    for finding in result.evaluation.findings
                ),
                contributions=tuple(
                    (
                        people.get(credit.person_id, f"person:{credit.person_id}"),
                        key_results.get(credit.key_result_id, f"key_result:{credit.key_result_id}"),
                    )
                    for credit in result.evaluation.contributions
                ),
            )
            for result in results
        ]
        score = score_scenario(scenario.name, scenario.expect, weeks)
        return Replay(
            score=score,
            weeks=weeks,
            slug=slug,
            load_seconds=loaded_at - started,
            evaluate_seconds=evaluated_at - loaded_at,
        )
    finally:
        celery_app.conf.task_always_eager = previous
        if organization is not None:
            deleted = organization_delete(organization=organization)
            log(f"{scenario.name}: deleted /o/{slug}/ and its {len(deleted.deleted_user_emails)} accounts")
