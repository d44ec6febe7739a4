"""Five deliveries of one event at the same moment, from real threads with their own database connections.

Vendors retry when an answer is slow, and a retry can arrive while the first delivery is still being
stored: the endpoint must leave exactly one raw event and one signal however the deliveries interleave.
Tasks run in-process here, so each delivery also processes what it stored, concurrently with the others.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone

from okrsignal.tenancy import cross_organization, tenant_context
from signals_ingest.models import ExecutionSignal, RawEvent, WorkItem
from tests.factories import OrgWorld, make_organization
from tests.ingest_factories import FATIMA, jira_issue, jira_transition, slack_envelope
from tests.vendor_fakes.hubspot import FakeHubSpot
from tests.webhook_calls import (
    SITE_URL,
    Call,
    connect_hubspot,
    connect_jira,
    connect_slack,
    hubspot_call,
    hubspot_event,
    jira_call,
    slack_call,
)

pytest_plugins = ["tests.vendor_fakes.fixtures"]

pytestmark = pytest.mark.django_db(transaction=True)

DELIVERIES = 5


def _deliver_concurrently(calls: list[Call]) -> list[int]:
    """Send each call from its own thread, all released at once; the status codes, in order."""
    barrier = threading.Barrier(len(calls))
    statuses: list[int] = [0] * len(calls)
    errors: list[BaseException] = []

    def deliver(index: int) -> None:
        try:
            client = Client()
            barrier.wait(timeout=10)
            statuses[index] = calls[index].send(client).status_code
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=deliver, args=(index,)) for index in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads), "a delivery did not finish"
    assert not errors, errors
    return statuses


def _rows(world: OrgWorld) -> tuple[int, int, int]:
    with tenant_context(world.organization):
        return RawEvent.objects.count(), WorkItem.objects.count(), ExecutionSignal.objects.count()


def test_five_concurrent_jira_deliveries_store_one_raw_event_and_one_signal() -> None:
    world = make_organization("Concurrent Jira")
    with tenant_context(world.organization):
        integration = connect_jira()
    call = jira_call(
        integration, jira_transition(jira_issue(assignee=FATIMA), history_id="57001"), delivery="c-1"
    )

    statuses = _deliver_concurrently([call] * DELIVERIES)

    assert statuses == [200] * DELIVERIES
    assert _rows(world) == (1, 1, 1)
    with tenant_context(world.organization):
        assert RawEvent.objects.get().processed_at is not None


def test_five_concurrent_slack_retries_store_one_raw_event_and_one_signal() -> None:
    world = make_organization("Concurrent Slack")
    with tenant_context(world.organization):
        integration = connect_slack()
    event = slack_envelope(event_id="Ev0CONCUR01")
    calls = [
        slack_call(integration, event).with_headers(**({"X-Slack-Retry-Num": str(number)} if number else {}))
        for number in range(DELIVERIES)
    ]

    statuses = _deliver_concurrently(calls)

    assert statuses == [200] * DELIVERIES
    assert _rows(world) == (1, 1, 1)


def test_five_concurrent_hubspot_deliveries_fetch_and_store_one_object_and_one_signal(
    hubspot_fake: FakeHubSpot, settings: Any
) -> None:
    settings.SITE_URL = SITE_URL
    settings.HUBSPOT_API_URL = hubspot_fake.base_url
    world = make_organization("Concurrent HubSpot")
    with tenant_context(world.organization):
        integration = connect_hubspot(access_token=hubspot_fake.access_token)
    deal = hubspot_fake.add_deal("Nordlys Energi renewal", modified=timezone.now(), stage="qualifiedtobuy")
    call = hubspot_call(integration, [hubspot_event(deal["id"], event_id=970001)])

    statuses = _deliver_concurrently([call] * DELIVERIES)

    assert statuses == [200] * DELIVERIES
    # The notification and the deal it named: one raw event each, one deal, one stage change.
    assert _rows(world) == (2, 1, 1)
    with tenant_context(world.organization):
        assert not RawEvent.objects.filter(processed_at__isnull=True).exists()


def test_concurrent_deliveries_to_two_organisations_stay_in_their_own() -> None:
    acme, globex = make_organization("Concurrent Acme"), make_organization("Concurrent Globex")
    with tenant_context(acme.organization):
        acme_jira = connect_jira(webhook_secret="acme-secret")
    with tenant_context(globex.organization):
        globex_jira = connect_jira(webhook_secret="globex-secret")
    payload = jira_transition(jira_issue(), history_id="58001")
    make: dict[str, Callable[[], Call]] = {
        "acme": lambda: jira_call(acme_jira, payload, secret="acme-secret", delivery="same-id"),
        "globex": lambda: jira_call(globex_jira, payload, secret="globex-secret", delivery="same-id"),
    }
    # The same delivery id and payload in both: each organisation keeps its own copy.
    calls = [make["acme" if index % 2 else "globex"]() for index in range(6)]

    statuses = _deliver_concurrently(calls)

    assert statuses == [200] * 6
    assert _rows(acme) == (1, 1, 1)
    assert _rows(globex) == (1, 1, 1)
    with cross_organization():
        owners = dict(ExecutionSignal.objects.values_list("raw_event__organization_id", "organization_id"))
    assert owners == {
        acme.organization.pk: acme.organization.pk,
        globex.organization.pk: globex.organization.pk,
    }
