"""The webhook endpoints: signed calls from Jira, Slack and HubSpot, against the real database.

A good call stores its raw event and (tasks run in-process here) produces its signal; a call that is not
proven to come from the vendor, or that names no connected integration, gets an error and changes
nothing. HubSpot's objects are fetched from the local HubSpot fake.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.db.models import Model
from django.test import Client
from django.urls import resolve
from django.utils import timezone

from okrsignal.celery import app as celery_app
from okrsignal.tenancy import cross_organization, tenant_context
from signals_ingest import services
from signals_ingest.hubspot_notifications import objects_named
from signals_ingest.models import ExecutionSignal, Integration, RawEvent, SignalKeyResult, WorkItem
from signals_ingest.tasks import process_pending_raw_events_everywhere
from tests.factories import OrgWorld
from tests.goal_factories import make_cycle, make_key_result, make_objective
from tests.ingest_factories import FATIMA, jira_created, jira_issue, jira_transition, slack_envelope
from tests.vendor_fakes.hubspot import FakeHubSpot
from tests.webhook_calls import (
    HUBSPOT_SECRET,
    JIRA_SECRET,
    SITE_URL,
    SLACK_SECRET,
    Call,
    connect_hubspot,
    connect_jira,
    connect_slack,
    hubspot_call,
    hubspot_event,
    jira_call,
    slack_call,
    webhook_path,
)

pytest_plugins = ["tests.vendor_fakes.fixtures"]

TENANT_ROWS: tuple[type[Model], ...] = (RawEvent, WorkItem, ExecutionSignal, SignalKeyResult)


@pytest.fixture(autouse=True)
def _public_address(settings: Any) -> None:
    settings.SITE_URL = SITE_URL


@pytest.fixture
def run_on_commit(django_capture_on_commit_callbacks: Any) -> Callable[[Call], Any]:
    """Send a call and run what it queued once its transaction committed (the test's own transaction
    never commits, so this stands in for the commit)."""

    def send(call: Call) -> Any:
        with django_capture_on_commit_callbacks(execute=True):
            return call.send()

    return send


def _count(model: type[Model], world: OrgWorld) -> int:
    with tenant_context(world.organization):
        return model.objects.count()  # type: ignore[attr-defined,no-any-return]


def _counts(world: OrgWorld) -> dict[str, int]:
    return {model.__name__: _count(model, world) for model in TENANT_ROWS}


def _nothing_stored(world: OrgWorld) -> None:
    assert _counts(world) == dict.fromkeys([model.__name__ for model in TENANT_ROWS], 0)


# --- Routing, method, token ---------------------------------------------------------------------------


def test_each_provider_has_one_url_per_integration() -> None:
    for provider in ("jira", "slack", "hubspot"):
        match = resolve(f"/webhooks/{provider}/some-token/")
        assert match.url_name == f"webhook_{provider}"
        assert match.kwargs == {"webhook_token": "some-token"}


@pytest.mark.parametrize("method", ["get", "put", "patch", "delete"])
def test_only_post_is_accepted(acme: OrgWorld, method: str) -> None:
    with tenant_context(acme.organization):
        integration = connect_jira()

    response = getattr(Client(), method)(webhook_path("jira", integration))

    assert response.status_code == 405
    assert response["Allow"] == "POST"
    _nothing_stored(acme)


def test_an_unknown_token_is_a_404_and_stores_nothing(acme: OrgWorld, caplog: Any) -> None:
    with tenant_context(acme.organization):
        integration = connect_jira()
    call = jira_call(integration, jira_created(jira_issue()))
    forged = Call("/webhooks/jira/not-a-token-anyone-was-given/", call.body, call.headers)

    with caplog.at_level(logging.WARNING):
        response = forged.send()

    assert response.status_code == 404
    assert response.json() == {"error": "Not found."}
    _nothing_stored(acme)
    assert "not-a-token-anyone-was-given" not in caplog.text


def test_a_token_of_another_providers_integration_is_a_404(acme: OrgWorld) -> None:
    with tenant_context(acme.organization):
        slack = connect_slack()
    call = jira_call(slack, jira_created(jira_issue()))
    assert call.path.startswith("/webhooks/jira/")

    assert call.send().status_code == 404
    _nothing_stored(acme)


def test_a_disconnected_integration_takes_no_more_calls(acme: OrgWorld) -> None:
    with tenant_context(acme.organization):
        integration = connect_jira()
        services.integration_disconnect(integration=integration)

    assert jira_call(integration, jira_created(jira_issue()), secret=None).send().status_code == 404
    _nothing_stored(acme)


def test_a_rotated_token_no_longer_finds_the_organisation(acme: OrgWorld) -> None:
    with tenant_context(acme.organization):
        integration = connect_jira()
        old_path = webhook_path("jira", integration)
        services.integration_rotate_webhook_token(integration=integration)
    call = jira_call(integration, jira_created(jira_issue()))

    assert Call(old_path, call.body, call.headers).send().status_code == 404
    _nothing_stored(acme)


# --- Jira ---------------------------------------------------------------------------------------------


def test_a_signed_jira_call_stores_one_raw_event_and_gives_one_signal(
    acme: OrgWorld, run_on_commit: Callable[[Call], Any]
) -> None:
    with tenant_context(acme.organization):
        integration = connect_jira()
        key_result = make_key_result(
            make_objective(make_cycle("2026-Q4"), acme.admin, title="Onboarding without a call"),
            acme.admin,
            title="Self-serve SSO setups from 10 to 40",
            baseline=10,
            target=40,
        )
        services.mapping_rule_create(integration=integration, match={"project": "ONB"}, key_result=key_result)

    response = run_on_commit(
        jira_call(integration, jira_transition(jira_issue(assignee=FATIMA)), delivery="7001")
    )

    assert response.status_code == 200
    assert response.json() == {"ok": True}
    with tenant_context(acme.organization):
        raw = RawEvent.objects.get()
        assert (raw.provider, raw.origin, raw.dedupe_key) == ("jira", "webhook", "7001")
        assert raw.processed_at is not None
        signal = ExecutionSignal.objects.get()
        assert signal.kind == "transition"
        assert signal.raw_event_id == raw.pk
        assert list(SignalKeyResult.objects.values_list("key_result_id", flat=True)) == [key_result.pk]


def test_processing_is_queued_after_commit_and_not_done_in_the_request(
    acme: OrgWorld, django_capture_on_commit_callbacks: Any
) -> None:
    with tenant_context(acme.organization):
        integration = connect_jira()
    call = jira_call(integration, jira_created(jira_issue()))

    with django_capture_on_commit_callbacks(execute=False) as queued:
        response = call.send()

    assert response.status_code == 200
    assert len(queued) == 1  # the processing task, handed over once the raw event is committed
    with tenant_context(acme.organization):
        assert RawEvent.objects.filter(processed_at__isnull=True).count() == 1
        assert not ExecutionSignal.objects.exists()


def test_the_processing_task_goes_to_the_webhooks_queue() -> None:
    router = celery_app.amqp.router
    for task in (
        "signals_ingest.tasks.process_raw_event_task",
        "signals_ingest.tasks.process_raw_events_task",
        "signals_ingest.tasks.resolve_hubspot_notifications_task",
    ):
        assert router.route({}, task)["queue"].name == "webhooks"


def test_jira_without_a_webhook_secret_is_authenticated_by_the_token_alone(
    acme: OrgWorld, run_on_commit: Callable[[Call], Any]
) -> None:
    with tenant_context(acme.organization):
        integration = connect_jira(webhook_secret=None)

    response = run_on_commit(jira_call(integration, jira_created(jira_issue()), secret=None))

    assert response.status_code == 200
    assert _count(ExecutionSignal, acme) == 1


def test_jira_without_a_delivery_id_is_deduplicated_on_its_content(
    acme: OrgWorld, run_on_commit: Callable[[Call], Any]
) -> None:
    with tenant_context(acme.organization):
        integration = connect_jira()
    call = jira_call(integration, jira_transition(jira_issue()), delivery=None)

    for _ in range(3):
        assert run_on_commit(call).status_code == 200

    with tenant_context(acme.organization):
        assert RawEvent.objects.get().dedupe_key.startswith("jira:issue_updated:18001:")
        assert ExecutionSignal.objects.count() == 1


def test_an_accepted_event_that_cannot_be_processed_is_kept_with_its_error(
    acme: OrgWorld, run_on_commit: Callable[[Call], Any], caplog: Any
) -> None:
    with tenant_context(acme.organization):
        integration = connect_jira()
    payload = {"timestamp": 1793610000000, "webhookEvent": "jira:issue_updated", "user": FATIMA}

    with caplog.at_level(logging.ERROR):
        response = run_on_commit(jira_call(integration, payload, delivery="7101"))

    assert response.status_code == 200
    with tenant_context(acme.organization):
        raw = RawEvent.objects.get(dedupe_key="7101")
        assert raw.processed_at is None
        assert "issue" in raw.error
        assert not ExecutionSignal.objects.exists()
    assert f"Raw event {raw.pk} (jira) could not be processed" in caplog.text


# --- Slack --------------------------------------------------------------------------------------------


def test_a_signed_slack_event_stores_one_raw_event_and_gives_one_signal(
    acme: OrgWorld, run_on_commit: Callable[[Call], Any]
) -> None:
    with tenant_context(acme.organization):
        integration = connect_slack()

    response = run_on_commit(slack_call(integration, slack_envelope(event_id="Ev0WEBHOOK1")))

    assert response.status_code == 200
    with tenant_context(acme.organization):
        raw = RawEvent.objects.get()
        assert (raw.provider, raw.origin, raw.dedupe_key) == ("slack", "webhook", "Ev0WEBHOOK1")
        assert ExecutionSignal.objects.get().kind == "message"


def test_slack_url_verification_is_answered_with_the_challenge_after_the_signature(acme: OrgWorld) -> None:
    with tenant_context(acme.organization):
        integration = connect_slack()
    challenge = {
        "token": "Jhj5dZrVaK7ZwHHjRyZWjbDl",
        "challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P",
        "type": "url_verification",
    }

    response = slack_call(integration, challenge).send()
    forged = slack_call(integration, challenge, secret="not-the-signing-secret").send()

    assert response.status_code == 200
    assert response.json() == {"challenge": challenge["challenge"]}
    assert forged.status_code == 401
    assert "challenge" not in forged.json()
    _nothing_stored(acme)


@pytest.mark.parametrize(
    "event",
    [
        slack_envelope(event_id="Ev0DM00001", channel="D0FATIMA01", channel_type="im"),
        slack_envelope(event_id="Ev0GROUPDM", channel="G0GROUPDM1", channel_type="mpim"),
        slack_envelope(event_id="Ev0OTHER01", channel="C0NOTCHOSEN"),
    ],
    ids=["direct message", "group direct message", "channel not selected"],
)
def test_slack_events_outside_the_selected_channels_are_acknowledged_and_never_stored(
    acme: OrgWorld, run_on_commit: Callable[[Call], Any], event: dict[str, Any]
) -> None:
    with tenant_context(acme.organization):
        integration = connect_slack()

    response = run_on_commit(slack_call(integration, event))

    assert response.status_code == 200
    _nothing_stored(acme)


def test_slack_retries_are_deduplicated_by_event_id(
    acme: OrgWorld, run_on_commit: Callable[[Call], Any]
) -> None:
    with tenant_context(acme.organization):
        integration = connect_slack()
    event = slack_envelope(event_id="Ev0RETRY01")

    first = run_on_commit(slack_call(integration, event))
    retries = [
        run_on_commit(
            slack_call(integration, event).with_headers(
                **{"X-Slack-Retry-Num": str(number), "X-Slack-Retry-Reason": "http_timeout"}
            )
        )
        for number in (1, 2, 3)
    ]

    assert [response.status_code for response in [first, *retries]] == [200] * 4
    assert _count(RawEvent, acme) == 1
    assert _count(ExecutionSignal, acme) == 1


def test_a_slack_event_from_another_workspace_is_not_stored(
    acme: OrgWorld, run_on_commit: Callable[[Call], Any]
) -> None:
    with tenant_context(acme.organization):
        integration = connect_slack()
    event = {**slack_envelope(event_id="Ev0ELSEWHR"), "team_id": "T0SOMEONEELSE"}

    assert run_on_commit(slack_call(integration, event)).status_code == 200
    _nothing_stored(acme)


def test_slack_notices_without_an_event_are_acknowledged(acme: OrgWorld) -> None:
    with tenant_context(acme.organization):
        integration = connect_slack()
    notice = {
        "token": "x",
        "team_id": "T0ORBIT001",
        "minute_rate_limited": 1518467820,
        "type": "app_rate_limited",
    }

    response = slack_call(integration, notice).send()

    assert response.status_code == 200
    _nothing_stored(acme)


def test_a_slack_event_callback_without_an_event_id_is_a_400(acme: OrgWorld) -> None:
    with tenant_context(acme.organization):
        integration = connect_slack()
    event = slack_envelope()
    del event["event_id"]

    response = slack_call(integration, event).send()

    assert response.status_code == 400
    assert "event_id" in response.json()["error"]
    _nothing_stored(acme)


# --- HubSpot ------------------------------------------------------------------------------------------


@pytest.fixture
def hubspot(acme: OrgWorld, hubspot_fake: FakeHubSpot, settings: Any) -> Integration:
    settings.HUBSPOT_API_URL = hubspot_fake.base_url
    with tenant_context(acme.organization):
        return connect_hubspot(access_token=hubspot_fake.access_token)


@pytest.mark.parametrize(
    ("notification", "named"),
    [
        ({"subscriptionType": "deal.creation", "objectId": 11}, [("deals", "11")]),
        (
            {"subscriptionType": "deal.propertyChange", "objectId": 12, "propertyName": "amount"},
            [("deals", "12")],
        ),
        ({"subscriptionType": "deal.deletion", "objectId": 13}, []),
        ({"subscriptionType": "contact.creation", "objectId": 14}, []),
        ({"subscriptionType": "object.creation", "objectTypeId": "0-46", "objectId": 15}, [("notes", "15")]),
        ({"subscriptionType": "object.propertyChange", "objectTypeId": "0-1", "objectId": 16}, []),
        (
            {
                "subscriptionType": "object.associationChange",
                "fromObjectTypeId": "0-48",
                "fromObjectId": 17,
                "toObjectTypeId": "0-3",
                "toObjectId": 18,
            },
            [("calls", "17"), ("deals", "18")],
        ),
        (
            {
                "subscriptionType": "deal.associationChange",
                "associationType": "DEAL_TO_MEETING_EVENT",
                "fromObjectId": 19,
                "toObjectId": 20,
            },
            [("deals", "19"), ("meetings", "20")],
        ),
        (
            {
                "subscriptionType": "deal.associationChange",
                "associationType": "DEAL_TO_CONTACT",
                "fromObjectId": 21,
                "toObjectId": 22,
            },
            [("deals", "21")],
        ),
    ],
)
def test_a_hubspot_notification_names_the_objects_to_read(
    notification: dict[str, Any], named: list[tuple[str, str]]
) -> None:
    assert objects_named({"eventId": 1, **notification}) == named


def test_a_signed_hubspot_event_is_stored_then_its_deal_fetched_and_processed(
    acme: OrgWorld, hubspot: Integration, hubspot_fake: FakeHubSpot, run_on_commit: Callable[[Call], Any]
) -> None:
    deal = hubspot_fake.add_deal("Nordlys Energi renewal", modified=timezone.now(), stage="qualifiedtobuy")

    response = run_on_commit(hubspot_call(hubspot, [hubspot_event(deal["id"], event_id=880001)]))

    assert response.status_code == 200
    assert response.json() == {"ok": True, "events": 1}
    with tenant_context(acme.organization):
        notification = RawEvent.objects.get(dedupe_key="880001")
        assert notification.origin == "webhook"
        assert notification.processed_at is not None
        fetched = RawEvent.objects.exclude(pk=notification.pk).get()
        assert fetched.payload["object"]["id"] == deal["id"]
        assert fetched.processed_at is not None
        signal = ExecutionSignal.objects.get()
        assert (signal.kind, signal.work_item.title) == ("stage_change", "Nordlys Energi renewal")
        # The owner came with an e-mail address, for matching the identity to a person.
        assert signal.actor is not None
        assert signal.actor.email == "priya.nair@acme.test"
    assert hubspot_fake.calls_to("/crm/v3/objects/deals/batch/read")


def test_a_hubspot_batch_of_100_events_is_fetched_in_batches_and_processed(
    acme: OrgWorld, hubspot: Integration, hubspot_fake: FakeHubSpot, run_on_commit: Callable[[Call], Any]
) -> None:
    now = timezone.now()
    deals = hubspot_fake.generate_deals(60, start=now - timedelta(hours=12))
    calls = hubspot_fake.generate_engagements(
        "calls", 40, start=now - timedelta(hours=6), deal_ids=[deal["id"] for deal in deals[:5]]
    )
    events = [hubspot_event(deal["id"], event_id=900000 + index) for index, deal in enumerate(deals)] + [
        hubspot_event(
            call["id"], event_id=910000 + index, subscription="object.creation", object_type_id="0-48"
        )
        for index, call in enumerate(calls)
    ]
    assert len(events) == 100

    response = run_on_commit(hubspot_call(hubspot, events))

    assert response.status_code == 200
    assert response.json()["events"] == 100
    with tenant_context(acme.organization):
        notifications = RawEvent.objects.filter(payload__has_key="subscriptionType")
        assert notifications.count() == 100
        assert not notifications.filter(processed_at__isnull=True).exists()
        assert RawEvent.objects.filter(payload__has_key="object_type").count() == 100
        assert ExecutionSignal.objects.filter(kind="stage_change").count() == 60
        assert ExecutionSignal.objects.filter(kind="call").count() == 40
        # Calls attach to the deals they are associated with.
        assert set(
            ExecutionSignal.objects.filter(kind="call").values_list("work_item__external_id", flat=True)
        ) == {deal["id"] for deal in deals[:5]}
    # One batch read per object type, not one request per event.
    assert len(hubspot_fake.calls_to("/crm/v3/objects/deals/batch/read")) == 1
    assert len(hubspot_fake.calls_to("/crm/v3/objects/calls/batch/read")) == 1


def test_a_hubspot_batch_of_101_events_is_refused_whole(acme: OrgWorld, hubspot: Integration) -> None:
    events = [hubspot_event(str(15_000_000_001 + index), event_id=920000 + index) for index in range(101)]

    response = hubspot_call(hubspot, events).send()

    assert response.status_code == 400
    assert response.json()["error"] == "A HubSpot webhook batch holds at most 100 events; this one holds 101."
    _nothing_stored(acme)


def test_the_same_hubspot_batch_delivered_again_stores_and_fetches_nothing_new(
    acme: OrgWorld, hubspot: Integration, hubspot_fake: FakeHubSpot, run_on_commit: Callable[[Call], Any]
) -> None:
    deal = hubspot_fake.add_deal("Fjordkraft pilot", modified=timezone.now())
    events = [hubspot_event(deal["id"], event_id=930001)]

    for _ in range(5):
        assert run_on_commit(hubspot_call(hubspot, events)).status_code == 200

    with tenant_context(acme.organization):
        assert RawEvent.objects.filter(dedupe_key="930001").count() == 1
        assert ExecutionSignal.objects.count() == 1
    assert len(hubspot_fake.calls_to("/batch/read")) == 1


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ({"eventId": 1}, "A HubSpot webhook body must be a JSON array of events."),
        ([{"eventId": 1}, "not an event"], "Event 1 is not a JSON object."),
        ([{"objectId": 1, "subscriptionType": "deal.creation"}], "Event 0 has no eventId."),
    ],
    ids=["not an array", "not an object", "no eventId"],
)
def test_a_hubspot_body_of_the_wrong_shape_is_a_400_naming_the_problem(
    acme: OrgWorld, hubspot: Integration, body: Any, error: str
) -> None:
    response = hubspot_call(hubspot, body).send()

    assert response.status_code == 400
    assert response.json() == {"error": error}
    _nothing_stored(acme)


def test_hubspot_events_of_another_portal_are_not_stored(
    acme: OrgWorld, hubspot: Integration, hubspot_fake: FakeHubSpot, run_on_commit: Callable[[Call], Any]
) -> None:
    deal = hubspot_fake.add_deal("Elsewhere", modified=timezone.now())

    response = run_on_commit(
        hubspot_call(hubspot, [{**hubspot_event(deal["id"], event_id=1), "portalId": 99}])
    )

    assert response.status_code == 200
    assert response.json()["events"] == 0
    _nothing_stored(acme)


def test_hubspot_events_wait_while_hubspot_is_unavailable_and_the_sweep_resolves_them(
    acme: OrgWorld,
    hubspot: Integration,
    hubspot_fake: FakeHubSpot,
    run_on_commit: Callable[[Call], Any],
    settings: Any,
) -> None:
    settings.VENDOR_REQUEST_MAX_ATTEMPTS = 1
    deal = hubspot_fake.add_deal("Statkraft expansion", modified=timezone.now())
    hubspot_fake.fail_next(status=503, path_contains="/batch/read")

    response = run_on_commit(hubspot_call(hubspot, [hubspot_event(deal["id"], event_id=940001)]))

    assert response.status_code == 200  # accepted: stored, and never lost
    with tenant_context(acme.organization):
        waiting = RawEvent.objects.get()
        assert waiting.processed_at is None
        assert "HubSpot answered 503" in waiting.error
        assert waiting.attempts == 1
        assert not ExecutionSignal.objects.exists()
        RawEvent.objects.update(received_at=timezone.now() - timedelta(minutes=10))

    process_pending_raw_events_everywhere()

    with tenant_context(acme.organization):
        assert RawEvent.objects.get(dedupe_key="940001").processed_at is not None
        assert ExecutionSignal.objects.count() == 1


def test_hubspot_deletions_are_stored_but_not_fetched(
    acme: OrgWorld, hubspot: Integration, hubspot_fake: FakeHubSpot, run_on_commit: Callable[[Call], Any]
) -> None:
    response = run_on_commit(
        hubspot_call(hubspot, [hubspot_event("15000000077", event_id=950001, subscription="deal.deletion")])
    )

    assert response.status_code == 200
    with tenant_context(acme.organization):
        assert RawEvent.objects.get().processed_at is not None
    assert not hubspot_fake.calls_to("/batch/read")


# --- Refused calls: the mutations of a signed call ----------------------------------------------------


def _jira_setup(world: OrgWorld, hubspot_fake: FakeHubSpot) -> tuple[Call, Callable[..., Call], str]:
    with tenant_context(world.organization):
        integration = connect_jira()
    payload = jira_created(jira_issue(summary="Faster checkout"))
    return (
        jira_call(integration, payload),
        lambda **kw: jira_call(integration, payload, **kw),
        "X-Hub-Signature",
    )


def _slack_setup(world: OrgWorld, hubspot_fake: FakeHubSpot) -> tuple[Call, Callable[..., Call], str]:
    with tenant_context(world.organization):
        integration = connect_slack()
    payload = slack_envelope(text="Faster checkout is in review")
    return (
        slack_call(integration, payload),
        lambda **kw: slack_call(integration, payload, **kw),
        "X-Slack-Signature",
    )


def _hubspot_setup(world: OrgWorld, hubspot_fake: FakeHubSpot) -> tuple[Call, Callable[..., Call], str]:
    with tenant_context(world.organization):
        integration = connect_hubspot(access_token=hubspot_fake.access_token)
    deal = hubspot_fake.add_deal("Faster checkout", modified=timezone.now())
    events = [
        hubspot_event(deal["id"], event_id=960001, propertyName="dealname", propertyValue="Faster checkout")
    ]
    return (
        hubspot_call(integration, events),
        lambda **kw: hubspot_call(integration, events, **kw),
        "X-HubSpot-Signature-v3",
    )


LABELS = {"jira": "Jira", "slack": "Slack", "hubspot": "HubSpot"}
SETUPS = {"jira": _jira_setup, "slack": _slack_setup, "hubspot": _hubspot_setup}
OTHER_SECRET = "a-secret-that-is-not-this-integrations"


def _one_byte_changed(call: Call, *_: Any) -> Call:
    index = call.body.index(b"Faster")
    return call.with_body(call.body[:index] + b"f" + call.body[index + 1 :])


def _reserialised(call: Call, *_: Any) -> Call:
    body = json.dumps(json.loads(call.body)).encode()
    assert body != call.body
    assert json.loads(body) == json.loads(call.body)
    return call.with_body(body)


def _signature_missing(call: Call, _sign: Callable[..., Call], header: str) -> Call:
    return call.without(header)


def _wrong_secret(call: Call, sign: Callable[..., Call], _header: str) -> Call:
    return sign(secret=OTHER_SECRET)


def _timestamp_301_s_old(call: Call, sign: Callable[..., Call], _header: str) -> Call:
    return sign(age_seconds=301)


MUTATIONS: dict[str, Callable[[Call, Callable[..., Call], str], Call]] = {
    "one changed byte": _one_byte_changed,
    "re-serialised JSON": _reserialised,
    "signature header missing": _signature_missing,
    "wrong secret": _wrong_secret,
    "timestamp 301 s old": _timestamp_301_s_old,
}
CASES = [
    (provider, mutation)
    for provider in SETUPS
    for mutation in MUTATIONS
    # Jira signs the body alone: there is no timestamp to age.
    if not (provider == "jira" and mutation == "timestamp 301 s old")
]


@pytest.mark.parametrize(("provider", "mutation"), CASES, ids=[f"{p}-{m}" for p, m in CASES])
def test_a_mutated_call_is_a_401_and_stores_nothing(
    acme: OrgWorld,
    hubspot_fake: FakeHubSpot,
    settings: Any,
    run_on_commit: Callable[[Call], Any],
    caplog: Any,
    provider: str,
    mutation: str,
) -> None:
    settings.HUBSPOT_API_URL = hubspot_fake.base_url
    valid, sign, header = SETUPS[provider](acme, hubspot_fake)
    mutated = MUTATIONS[mutation](valid, sign, header)

    with caplog.at_level(logging.WARNING, logger="signals_ingest.webhooks"):
        response = run_on_commit(mutated)

    assert response.status_code == 401
    assert set(response.json()) == {"error"}
    _nothing_stored(acme)
    assert not hubspot_fake.calls
    (record,) = [r for r in caplog.records if r.name == "signals_ingest.webhooks"]
    line = record.getMessage()
    assert f"{LABELS[provider]} webhook for integration" in line
    assert "signature refused" in line
    for secret in (JIRA_SECRET, SLACK_SECRET, HUBSPOT_SECRET, OTHER_SECRET, "Faster checkout"):
        assert secret not in caplog.text
    assert mutated.path.split("/")[3] not in caplog.text  # the token

    # The control: the unmutated call is accepted.
    assert run_on_commit(valid).status_code == 200
    assert _count(ExecutionSignal, acme) == 1


@pytest.mark.parametrize("provider", SETUPS)
def test_a_signed_body_that_is_not_json_is_a_400_and_logged_by_payload(
    acme: OrgWorld, hubspot_fake: FakeHubSpot, caplog: Any, provider: str
) -> None:
    with tenant_context(acme.organization):
        integration = {
            "jira": connect_jira,
            "slack": connect_slack,
            "hubspot": lambda: connect_hubspot(access_token=hubspot_fake.access_token),
        }[provider]()
    body = b'{"webhookEvent": "jira:issue_created", "issue": '
    signed = {
        "jira": lambda: jira_call(integration, {}, delivery="7777"),
        "slack": lambda: slack_call(integration, {}),
        "hubspot": lambda: hubspot_call(integration, []),
    }[provider]()
    # Sign the broken body itself, so only its parsing can fail.
    call = {
        "jira": lambda: _resign_jira(signed, body),
        "slack": lambda: _resign_slack(signed, body),
        "hubspot": lambda: _resign_hubspot(signed, body),
    }[provider]()

    with caplog.at_level(logging.WARNING, logger="signals_ingest.webhooks"):
        response = call.send()

    assert response.status_code == 400
    assert response.json() == {"error": "The body is not valid JSON."}
    _nothing_stored(acme)
    assert f"integration {integration.pk}" in caplog.text
    assert "is not JSON" in caplog.text
    if provider == "jira":
        assert "delivery 7777" in caplog.text
    assert "jira:issue_created" not in caplog.text  # the body itself is never logged


def _resign_jira(call: Call, body: bytes) -> Call:
    from signals_ingest.signatures import jira_signature

    return call.with_body(body).with_headers(**{"X-Hub-Signature": jira_signature(JIRA_SECRET, body)})


def _resign_slack(call: Call, body: bytes) -> Call:
    from signals_ingest.signatures import slack_signature

    timestamp = call.headers["X-Slack-Request-Timestamp"]
    return call.with_body(body).with_headers(
        **{"X-Slack-Signature": slack_signature(SLACK_SECRET, timestamp, body)}
    )


def _resign_hubspot(call: Call, body: bytes) -> Call:
    from signals_ingest.signatures import hubspot_signature

    timestamp = call.headers["X-HubSpot-Request-Timestamp"]
    signature = hubspot_signature(HUBSPOT_SECRET, "POST", SITE_URL + call.path, body, timestamp)
    return call.with_body(body).with_headers(**{"X-HubSpot-Signature-v3": signature})


def test_hubspot_signs_the_public_address_not_the_one_this_process_sees(
    acme: OrgWorld, hubspot: Integration, settings: Any
) -> None:
    call = hubspot_call(hubspot, [])
    settings.SITE_URL = "http://10.0.0.7:8000"  # what the application server would see behind a proxy

    assert call.send().status_code == 401


# --- The same event five times ------------------------------------------------------------------------


@pytest.mark.parametrize("provider", ["jira", "slack"])
def test_the_same_event_delivered_five_times_gives_one_signal(
    acme: OrgWorld, run_on_commit: Callable[[Call], Any], provider: str
) -> None:
    with tenant_context(acme.organization):
        if provider == "jira":
            integration = connect_jira()
            call = jira_call(integration, jira_transition(jira_issue()), delivery="8001")
        else:
            integration = connect_slack()
            call = slack_call(integration, slack_envelope(event_id="Ev0FIVE001"))

    responses = [run_on_commit(call) for _ in range(5)]

    assert [response.status_code for response in responses] == [200] * 5
    assert _count(RawEvent, acme) == 1
    assert _count(ExecutionSignal, acme) == 1


# --- Isolation ----------------------------------------------------------------------------------------


def test_a_webhook_for_one_organisation_never_writes_into_another(
    acme: OrgWorld, globex: OrgWorld, run_on_commit: Callable[[Call], Any]
) -> None:
    with tenant_context(acme.organization):
        acme_jira = connect_jira(webhook_secret="acme-secret")
        acme_slack = connect_slack(signing_secret="acme-slack-secret")
    with tenant_context(globex.organization):
        globex_jira = connect_jira(webhook_secret="globex-secret")
        globex_slack = connect_slack(signing_secret="globex-slack-secret")
    jira_payload = jira_transition(jira_issue())
    slack_payload = slack_envelope(event_id="Ev0ISOLATE")

    # Signed with Acme's secrets, sent to Globex's URLs.
    crossed = [
        Call(
            webhook_path("jira", globex_jira),
            *_parts(jira_call(acme_jira, jira_payload, secret="acme-secret")),
        ),
        Call(
            webhook_path("slack", globex_slack),
            *_parts(slack_call(acme_slack, slack_payload, secret="acme-slack-secret")),
        ),
    ]
    assert [run_on_commit(call).status_code for call in crossed] == [401, 401]
    _nothing_stored(acme)
    _nothing_stored(globex)

    valid = [
        jira_call(acme_jira, jira_payload, secret="acme-secret"),
        slack_call(acme_slack, slack_payload, secret="acme-slack-secret"),
    ]
    assert [run_on_commit(call).status_code for call in valid] == [200, 200]

    assert _counts(acme) == {"RawEvent": 2, "WorkItem": 2, "ExecutionSignal": 2, "SignalKeyResult": 0}
    _nothing_stored(globex)
    with cross_organization():
        assert set(RawEvent.objects.values_list("organization_id", flat=True)) == {acme.organization.pk}
        assert set(ExecutionSignal.objects.values_list("organization_id", flat=True)) == {
            acme.organization.pk
        }
        assert Integration.objects.get(pk=globex_jira.pk).items_taken == 0


def _parts(call: Call) -> tuple[bytes, dict[str, str]]:
    return call.body, call.headers


# --- Speed --------------------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_the_view_answers_fast_p95_over_200_calls(capsys: Any) -> None:
    """Each call is stored, committed and (tasks in-process) processed before its answer goes out."""
    from tests.factories import make_organization

    world = make_organization("Speed")
    with tenant_context(world.organization):
        integration = connect_jira()
    client = Client()
    issue = jira_issue()
    calls = [
        jira_call(
            integration, jira_transition(issue, history_id=str(60000 + index)), delivery=f"speed-{index}"
        )
        for index in range(200)
    ]
    durations = []
    for call in calls:
        started = time.perf_counter()
        response = call.send(client)
        durations.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200
    durations.sort()
    p95 = durations[int(len(durations) * 0.95) - 1]
    with capsys.disabled():
        print(f"\nwebhook view over 200 Jira calls: p50 {durations[99]:.1f} ms, p95 {p95:.1f} ms")
    assert _count(ExecutionSignal, world) == 200
    assert p95 < 1000
