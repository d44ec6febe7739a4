"""Pull syncs of Jira, Slack and HubSpot against local fakes of their APIs, on the real database and Redis.

The official SDKs make real requests to the fakes. What a test injects is the vendors' own behaviour
(429 with Retry-After, 5xx, 401, paging, windows); the retry waits are recorded instead of slept.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import redis
from celery.exceptions import Retry
from celery.schedules import crontab
from django.conf import settings
from django.db.models import Count
from django.utils import timezone

from okrsignal.tenancy import tenant_context
from signals_ingest import services
from signals_ingest.clients import HUBSPOT_SEARCH_RESULT_CAP, RetryPolicy, VendorUnavailable
from signals_ingest.models import (
    ExecutionSignal,
    ExternalIdentity,
    Integration,
    RawEvent,
    SyncCursor,
    WorkItem,
)
from signals_ingest.rate_limit import rate_limit_key
from signals_ingest.sync import (
    HUBSPOT_ARCHIVED_DEALS_STREAM,
    JIRA_STREAM,
    SLACK_STREAM_PREFIX,
    SyncLock,
    SyncReport,
    count_delivery,
    run_sync,
    sync_lock_key,
    sync_state,
)
from signals_ingest.tasks import (
    RECONCILE_WAIT_SECONDS,
    SYNC_TASK_MAX_RETRIES,
    reconcile_integrations,
    sync_all_integrations,
    sync_integration,
)
from tests.factories import OrgWorld
from tests.vendor_fakes import FakeHubSpot, FakeJira, FakeSlack
from tests.vendor_fakes.hubspot import hubspot_time
from tests.vendor_fakes.jira import DEFAULT_PEOPLE
from tests.vendor_fakes.server import RecordedCall

pytest_plugins = ["tests.vendor_fakes.fixtures"]

SEARCH = "/rest/api/3/search/jql"


@pytest.fixture(autouse=True)
def _generous_rate_limits(settings: Any) -> None:
    """The limiter still takes a slot for every request; the budget is wide so the tests do not wait."""
    settings.VENDOR_REQUESTS_PER_MINUTE = {"jira": 60_000, "slack": 60_000, "hubspot": 60_000}


class SleepRecorder:
    """Stands in for time.sleep in the vendor clients: records what they asked to wait."""

    def __init__(self) -> None:
        self.seconds: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.seconds.append(seconds)


@pytest.fixture
def sleeps() -> SleepRecorder:
    return SleepRecorder()


def _sync(
    integration: Integration,
    sleeps: SleepRecorder | None = None,
    *,
    attempts: int = 4,
    after_each_page: Callable[[], None] | None = None,
    reconcile: bool = False,
) -> SyncReport:
    return run_sync(
        organization_id=integration.organization_id,
        integration_id=integration.pk,
        reconcile=reconcile,
        retry=RetryPolicy(max_attempts=attempts, sleep=sleeps or SleepRecorder()),
        heartbeat=after_each_page,
    )


def _fresh(integration: Integration) -> Integration:
    with tenant_context(integration.organization_id):
        return Integration.objects.get(pk=integration.pk)


def _cursor(integration: Integration, stream: str) -> dict[str, Any]:
    with tenant_context(integration.organization_id):
        value = SyncCursor.objects.get(integration=integration, stream=stream).value
    state: dict[str, Any] = json.loads(value)
    return state


def _counts(integration: Integration) -> dict[str, int]:
    with tenant_context(integration.organization_id):
        return {
            "raw_events": RawEvent.objects.filter(integration=integration).count(),
            "work_items": WorkItem.objects.filter(provider=integration.provider).count(),
            "signals": ExecutionSignal.objects.filter(provider=integration.provider).count(),
        }


def _no_signal_twice(integration: Integration) -> None:
    with tenant_context(integration.organization_id):
        doubled = (
            ExecutionSignal.objects.values("provider", "external_id")
            .annotate(copies=Count("id"))
            .filter(copies__gt=1)
        )
        assert list(doubled) == []
        assert not RawEvent.objects.filter(processed_at__isnull=True).exists()


def _after_pages(count: int, action: Callable[[], None]) -> Callable[[], None]:
    """A heartbeat that runs ``action`` once, after the ``count``-th stored page."""
    stored = [0]

    def heartbeat() -> None:
        stored[0] += 1
        if stored[0] == count:
            action()

    return heartbeat


# --- Jira -------------------------------------------------------------------------------------------


def _connect_jira(world: OrgWorld, fake: FakeJira, **credentials: str) -> Integration:
    with tenant_context(world.organization):
        return services.integration_connect(
            provider="jira",
            credentials={"email": fake.email, "api_token": fake.api_token, **credentials},
            settings={"site": fake.base_url, "story_points_field": fake.story_points_field},
        )


def _expected_jira_signals(fake: FakeJira) -> int:
    """One "created" signal per issue and one per status change in its changelog."""
    return sum(
        1 + sum(1 for history in issue["histories"] for item in history["items"] if item["field"] == "status")
        for issue in fake.issues.values()
    )


def _search_bodies(fake: FakeJira) -> list[dict[str, Any]]:
    return [call.json or {} for call in fake.calls_to(SEARCH)]


def test_jira_full_sync_takes_every_issue_across_pages_with_transitions_and_story_points(
    acme: OrgWorld, jira_fake: FakeJira
) -> None:
    start = timezone.now() - timedelta(days=5)
    issues = jira_fake.generate_issues(250, start=start)
    integration = _connect_jira(acme, jira_fake)

    report = _sync(integration)

    assert (report.pages, report.fetched, report.taken, report.failed) == (3, 250, 250, 0)
    assert _counts(integration) == {
        "raw_events": 250,
        "work_items": 250,
        "signals": _expected_jira_signals(jira_fake),
    }
    bodies = _search_bodies(jira_fake)
    assert len(bodies) == 3
    assert all(body["expand"] == "changelog" for body in bodies)
    assert {"issuelinks", "comment"} <= set(bodies[0]["fields"])
    assert "customfield_10016" in bodies[0]["fields"]
    assert "nextPageToken" not in bodies[0]
    assert all(body.get("nextPageToken") for body in bodies[1:])
    newest = issues[-1]["fields"]["updated"]
    assert _cursor(integration, JIRA_STREAM) == {
        "updated": datetime.strptime(newest, "%Y-%m-%dT%H:%M:%S.%f%z").astimezone(UTC).isoformat(),
        "run": None,
    }
    with tenant_context(acme.organization):
        second = WorkItem.objects.get(key="ENG-2")
        assert second.attributes["story_points"] == 2
        assert second.status == "In Progress"
        transitions = ExecutionSignal.objects.filter(work_item=second, kind="transition")
        assert [signal.attributes["to"] for signal in transitions] == ["In Progress"]
    synced = _fresh(integration)
    assert synced.items_taken == 250
    assert synced.last_success_at is not None
    assert synced.last_error == ""
    assert sync_state(synced).lag is not None


def test_jira_first_sync_reads_the_backfill_span_less_the_overlap(
    acme: OrgWorld, jira_fake: FakeJira
) -> None:
    integration = _connect_jira(acme, jira_fake)
    before = timezone.now()

    _sync(integration)

    jql = _search_bodies(jira_fake)[0]["jql"]
    since = before - timedelta(days=settings.SYNC_BACKFILL_DAYS, minutes=settings.SYNC_OVERLAP_MINUTES)
    local = since.astimezone(ZoneInfo(jira_fake.time_zone))
    assert f'updated >= "{local:%Y-%m-%d %H:%M}"' in jql


def test_jira_long_changelogs_are_read_to_the_end(acme: OrgWorld, jira_fake: FakeJira) -> None:
    jira_fake.changelog_limit_in_search = 2
    when = timezone.now() - timedelta(days=1)
    people = list(DEFAULT_PEOPLE)
    steps = ["To Do", "In Progress", "In Review", "In Progress", "In Review", "Done"]
    jira_fake.add_issue(
        key="ENG-1",
        summary="Checkout in one step",
        updated=when,
        status="Done",
        transitions=[
            (when - timedelta(hours=len(steps) - index), before, after, people[index % 3])
            for index, (before, after) in enumerate(pairwise(steps))
        ],
    )
    integration = _connect_jira(acme, jira_fake)

    _sync(integration)

    assert jira_fake.calls_to("/rest/api/3/issue/ENG-1/changelog")
    with tenant_context(acme.organization):
        moves = ExecutionSignal.objects.filter(kind="transition").order_by("occurred_at")
        assert [signal.attributes["to"] for signal in moves] == steps[1:]


def test_jira_blockers_come_from_issue_links(acme: OrgWorld, jira_fake: FakeJira) -> None:
    when = timezone.now() - timedelta(hours=3)
    jira_fake.add_issue(key="ENG-1", summary="Upgrade the payment library", updated=when)
    jira_fake.add_issue(key="ENG-2", summary="Pay in one step", updated=when, blocked_by=["ENG-1"])
    integration = _connect_jira(acme, jira_fake)

    _sync(integration)

    with tenant_context(acme.organization):
        blocked = WorkItem.objects.get(key="ENG-2")
        assert [entry["key"] for entry in blocked.attributes["blocked_by"]] == ["ENG-1"]
        assert WorkItem.objects.get(key="ENG-1").attributes.get("blocked_by") in (None, [])


def test_jira_comments_a_webhook_missed_are_taken_by_the_pull(acme: OrgWorld, jira_fake: FakeJira) -> None:
    when = timezone.now() - timedelta(hours=3)
    issue = jira_fake.add_issue(key="ENG-1", summary="Pay in one step", updated=when)
    author = {"accountId": DEFAULT_PEOPLE[1].account_id, "displayName": DEFAULT_PEOPLE[1].display_name}
    issue["fields"]["comment"] = {
        "comments": [
            {
                "id": "10500",
                "author": author,
                "body": {
                    "type": "doc",
                    "version": 1,
                    "content": [
                        {"type": "paragraph", "content": [{"type": "text", "text": "Ready for review"}]}
                    ],
                },
                "created": issue["fields"]["updated"],
            }
        ],
        "maxResults": 1,
        "total": 1,
        "startAt": 0,
    }
    integration = _connect_jira(acme, jira_fake)

    _sync(integration)

    with tenant_context(acme.organization):
        comment = ExecutionSignal.objects.get(kind="comment")
        assert comment.external_id == f"{issue['id']}:comment:10500"
        assert comment.text == "Ready for review"


def test_a_second_jira_sync_takes_only_what_changed_and_the_overlap_doubles_nothing(
    acme: OrgWorld, jira_fake: FakeJira
) -> None:
    start = timezone.now() - timedelta(days=3)
    jira_fake.generate_issues(120, start=start, step=timedelta(minutes=20))
    integration = _connect_jira(acme, jira_fake)
    _sync(integration)
    first = _counts(integration)
    watermark = datetime.fromisoformat(_cursor(integration, JIRA_STREAM)["updated"])

    # Two issues move on, one is new; the newest issue of the first sync lies inside the overlap.
    moved_at = timezone.now() - timedelta(minutes=30)
    who = DEFAULT_PEOPLE[1]
    for key in ("ENG-5", "ENG-9"):
        issue = jira_fake.issues[key]
        before = issue["fields"]["status"]["name"]
        jira_fake.add_issue(
            key=key,
            summary=issue["fields"]["summary"],
            updated=moved_at,
            status="Done",
            transitions=[(moved_at, before, "Done", who)],
        )
    jira_fake.add_issue(key="ENG-500", summary="A new story", updated=moved_at)
    jira_fake.calls.clear()

    report = _sync(integration)

    second = _counts(integration)
    assert report.taken == 3
    assert second["raw_events"] == first["raw_events"] + 3
    assert second["work_items"] == first["work_items"] + 1
    assert second["signals"] == _expected_jira_signals(jira_fake)
    since = (watermark - timedelta(minutes=settings.SYNC_OVERLAP_MINUTES)).astimezone(
        ZoneInfo(jira_fake.time_zone)
    )
    assert f'updated >= "{since:%Y-%m-%d %H:%M}"' in _search_bodies(jira_fake)[0]["jql"]
    _no_signal_twice(integration)
    with tenant_context(acme.organization):
        assert WorkItem.objects.get(key="ENG-5").status == "Done"


def test_jira_429_and_5xx_mid_sync_back_off_honouring_retry_after_then_complete(
    acme: OrgWorld, jira_fake: FakeJira, sleeps: SleepRecorder
) -> None:
    jira_fake.generate_issues(300, start=timezone.now() - timedelta(days=4))
    integration = _connect_jira(acme, jira_fake)

    def vendor_struggles() -> None:
        jira_fake.fail_next(1, status=429, retry_after=7, path_contains=SEARCH)
        jira_fake.fail_next(1, status=503, path_contains=SEARCH)
        jira_fake.fail_next(1, status=500, path_contains=SEARCH)

    report = _sync(integration, sleeps, after_each_page=_after_pages(1, vendor_struggles))

    assert report.error is None
    assert sleeps.seconds[0] == 7
    assert len(sleeps.seconds) == 3
    assert _counts(integration) == {
        "raw_events": 300,
        "work_items": 300,
        "signals": _expected_jira_signals(jira_fake),
    }
    assert len(jira_fake.calls_to(SEARCH)) == 3 + 3
    _no_signal_twice(integration)


def test_jira_outage_beyond_the_retries_keeps_the_position_and_the_next_run_resumes_mid_sync(
    acme: OrgWorld, jira_fake: FakeJira, sleeps: SleepRecorder
) -> None:
    jira_fake.generate_issues(300, start=timezone.now() - timedelta(days=4))
    integration = _connect_jira(acme, jira_fake)

    def outage() -> None:
        jira_fake.fail_next(2, status=503, path_contains=SEARCH)

    with pytest.raises(VendorUnavailable):
        _sync(integration, sleeps, attempts=2, after_each_page=_after_pages(2, outage))

    assert _counts(integration)["work_items"] == 200
    position = _cursor(integration, JIRA_STREAM)
    assert position["run"]["next_page_token"]
    failed = _fresh(integration)
    assert "Jira is unavailable" in failed.last_error
    assert "503" in failed.last_error
    assert failed.last_success_at is None
    jira_fake.calls.clear()

    _sync(integration, sleeps)

    assert _search_bodies(jira_fake)[0]["nextPageToken"] == position["run"]["next_page_token"]
    assert len(jira_fake.calls_to(SEARCH)) == 1
    assert _counts(integration) == {
        "raw_events": 300,
        "work_items": 300,
        "signals": _expected_jira_signals(jira_fake),
    }
    assert _cursor(integration, JIRA_STREAM)["run"] is None
    _no_signal_twice(integration)


def test_a_page_token_jira_no_longer_accepts_restarts_the_run_from_the_stored_position(
    acme: OrgWorld, jira_fake: FakeJira
) -> None:
    jira_fake.generate_issues(150, start=timezone.now() - timedelta(days=2))
    integration = _connect_jira(acme, jira_fake)
    _sync(integration)
    with tenant_context(acme.organization):
        SyncCursor.objects.filter(integration=integration).update(
            value=json.dumps(
                {
                    "updated": _cursor(integration, JIRA_STREAM)["updated"],
                    "run": {"from": "2020-01-01T00:00:00+00:00", "next_page_token": "expired"},
                }
            )
        )

    report = _sync(integration)

    assert report.error is None
    assert _cursor(integration, JIRA_STREAM)["run"] is None
    assert _counts(integration)["raw_events"] == 150


def test_jira_401_records_a_clear_error_and_asks_once(acme: OrgWorld, jira_fake: FakeJira) -> None:
    jira_fake.generate_issues(5, start=timezone.now() - timedelta(days=1))
    integration = _connect_jira(acme, jira_fake, api_token="ATATT-revoked-token-value")

    report = _sync(integration)

    assert report.error is not None
    refused = _fresh(integration)
    assert refused.last_error.startswith("Jira refused the credentials")
    assert "API token" in refused.last_error
    assert "ATATT-revoked-token-value" not in refused.last_error
    assert refused.last_success_at is None
    assert len(jira_fake.calls) == 1
    assert _counts(integration)["raw_events"] == 0


def test_jira_401_in_the_task_is_recorded_and_not_retried(acme: OrgWorld, jira_fake: FakeJira) -> None:
    integration = _connect_jira(acme, jira_fake, api_token="ATATT-revoked-token-value")

    outcome = sync_integration.delay(acme.organization.pk, integration.pk).get()

    assert "refused the credentials" in outcome["error"]
    assert len(jira_fake.calls) == 1
    assert "refused the credentials" in _fresh(integration).last_error


def test_the_task_retries_a_vendor_outage_and_resumes_where_it_stopped(
    acme: OrgWorld, jira_fake: FakeJira, settings: Any
) -> None:
    settings.VENDOR_REQUEST_MAX_ATTEMPTS = 1
    jira_fake.generate_issues(150, start=timezone.now() - timedelta(days=2))
    integration = _connect_jira(acme, jira_fake)
    jira_fake.fail_next(1, status=503, path_contains=SEARCH)

    # Run as Celery runs a retried task (in process, the retry at once instead of after its countdown).
    outcome = sync_integration.apply(args=[acme.organization.pk, integration.pk], throw=False).get()

    assert outcome["error"] is None
    assert len(jira_fake.calls_to(SEARCH)) == 3  # the refused first page, then both pages
    assert _counts(integration)["raw_events"] == 150
    assert _fresh(integration).last_success_at is not None


def test_an_integration_of_another_organisation_is_not_found(
    acme: OrgWorld, globex: OrgWorld, jira_fake: FakeJira
) -> None:
    jira_fake.generate_issues(5, start=timezone.now() - timedelta(days=1))
    integration = _connect_jira(acme, jira_fake)

    with pytest.raises(Integration.DoesNotExist):
        run_sync(organization_id=globex.organization.pk, integration_id=integration.pk)
    with pytest.raises(Integration.DoesNotExist):
        sync_integration.delay(globex.organization.pk, integration.pk).get()

    assert jira_fake.calls == []
    assert _counts(integration)["raw_events"] == 0


def test_a_disconnected_integration_is_not_synced(acme: OrgWorld, jira_fake: FakeJira) -> None:
    integration = _connect_jira(acme, jira_fake)
    with tenant_context(acme.organization):
        services.integration_disconnect(integration=integration)

    report = _sync(integration)

    assert report.skipped
    assert jira_fake.calls == []


def test_disconnecting_mid_sync_stops_it_and_keeps_what_was_stored(
    acme: OrgWorld, jira_fake: FakeJira
) -> None:
    jira_fake.generate_issues(300, start=timezone.now() - timedelta(days=4))
    integration = _connect_jira(acme, jira_fake)

    def disconnect() -> None:
        with tenant_context(acme.organization):
            services.integration_disconnect(integration=Integration.objects.get(pk=integration.pk))

    report = _sync(integration, after_each_page=_after_pages(1, disconnect))

    assert report.skipped == "Jira was disconnected."
    assert _counts(integration)["work_items"] == 100


# --- One at a time, bounded redelivery --------------------------------------------------------------


def test_the_sync_lock_is_one_per_integration_and_carries_the_organisation(acme: OrgWorld) -> None:
    organization_id = acme.organization.pk
    held = SyncLock(organization_id=organization_id, integration_id=7, token="task-1")
    assert held.acquire()

    assert held.key == sync_lock_key(organization_id, 7) == f"org:{organization_id}:sync-lock:integration:7"
    assert redis.Redis.from_url(settings.CACHE_URL).get(held.key) == b"task-1"
    assert not SyncLock(organization_id=organization_id, integration_id=7, token="task-2").acquire()
    # The same task delivered again after its worker died takes its own lock over.
    assert SyncLock(organization_id=organization_id, integration_id=7, token="task-1").acquire()
    assert SyncLock(organization_id=organization_id, integration_id=8, token="task-2").acquire()
    assert SyncLock(organization_id=organization_id + 1, integration_id=7, token="task-2").acquire()

    held.release()
    assert SyncLock(organization_id=organization_id, integration_id=7, token="task-2").acquire()


def test_a_sync_finding_another_running_leaves_the_work_to_it(acme: OrgWorld, jira_fake: FakeJira) -> None:
    integration = _connect_jira(acme, jira_fake)
    running = SyncLock(organization_id=acme.organization.pk, integration_id=integration.pk, token="running")
    assert running.acquire()

    outcome = sync_integration.delay(acme.organization.pk, integration.pk).get()
    with pytest.raises(Retry) as waiting:
        sync_integration.delay(acme.organization.pk, integration.pk, reconcile=True)
    given_up = sync_integration.apply(
        args=[acme.organization.pk, integration.pk],
        kwargs={"reconcile": True},
        retries=SYNC_TASK_MAX_RETRIES,
    ).get()

    assert outcome == {"skipped": "Another sync of this integration is running."}
    assert waiting.value.when == RECONCILE_WAIT_SECONDS
    assert "reconciliation skipped" in given_up["skipped"]
    assert jira_fake.calls == []
    running.release()


def test_a_delivery_started_too_often_is_recorded_as_failed_instead_of_run(
    acme: OrgWorld, jira_fake: FakeJira, settings: Any
) -> None:
    settings.SYNC_MAX_REDELIVERIES = 2
    jira_fake.generate_issues(5, start=timezone.now() - timedelta(days=1))
    integration = _connect_jira(acme, jira_fake)
    # The first delivery and two redeliveries started and never finished (their worker was lost).
    for _ in range(3):
        count_delivery(organization_id=acme.organization.pk, task_id="lost-sync", retries=0)

    outcome = sync_integration.apply(args=[acme.organization.pk, integration.pk], task_id="lost-sync").get()

    assert "interrupted 3 times" in outcome["skipped"]
    assert jira_fake.calls == []
    failed = _fresh(integration)
    assert "interrupted 3 times" in failed.last_error
    assert "abandoned" in failed.last_error
    assert failed.last_error_at is not None


def test_a_delivery_within_the_bound_runs(acme: OrgWorld, jira_fake: FakeJira, settings: Any) -> None:
    settings.SYNC_MAX_REDELIVERIES = 2
    jira_fake.generate_issues(5, start=timezone.now() - timedelta(days=1))
    integration = _connect_jira(acme, jira_fake)
    for _ in range(2):
        count_delivery(organization_id=acme.organization.pk, task_id="redelivered-sync", retries=0)

    outcome = sync_integration.apply(
        args=[acme.organization.pk, integration.pk], task_id="redelivered-sync"
    ).get()

    assert outcome["taken"] == 5
    assert _fresh(integration).last_error == ""


# --- Slack ------------------------------------------------------------------------------------------

HISTORY_METHODS = ("conversations.history", "conversations.replies")


def _connect_slack(world: OrgWorld, fake: FakeSlack, channels: list[dict[str, Any]]) -> Integration:
    with tenant_context(world.organization):
        return services.integration_connect(
            provider="slack",
            credentials={"bot_token": fake.bot_token, "signing_secret": "8f14e45fceea167a5a36dedd4bea2543"},
            settings={"team_id": "T0ACME0001", "channels": channels, "api_base_url": f"{fake.base_url}/api/"},
        )


def _selected(channel: dict[str, Any]) -> dict[str, Any]:
    return {"id": channel["id"], "name": channel["name"], "is_private": channel["is_private"]}


def _channels_read(fake: FakeSlack) -> set[str]:
    return {
        str(call.params.get("channel"))
        for method in HISTORY_METHODS
        for call in fake.calls_to(f"/api/{method}")
    }


def test_slack_backfill_reads_the_selected_channels_only_with_their_threads(
    acme: OrgWorld, slack_fake: FakeSlack
) -> None:
    start = timezone.now() - timedelta(days=2)
    sso = slack_fake.add_channel("sso")
    deals = slack_fake.add_channel("deals-private", is_private=True)
    random_talk = slack_fake.add_channel("random")
    hr = slack_fake.add_channel("hr-private", is_private=True)
    slack_fake.generate_messages(sso["id"], 450, start=start, step=timedelta(minutes=2))
    slack_fake.generate_messages(deals["id"], 5, start=start)
    slack_fake.generate_messages(random_talk["id"], 20, start=start)
    slack_fake.generate_messages(hr["id"], 20, start=start)
    parent = slack_fake.messages[sso["id"]][10]
    for minutes in (1, 2, 3):
        slack_fake.add_message(
            sso["id"],
            user="U0TOMAS001",
            text=f"Reply {minutes}",
            when=datetime.fromtimestamp(float(parent["ts"]), tz=UTC) + timedelta(minutes=minutes),
            thread_ts=parent["ts"],
        )
    direct = "D0000000001"
    slack_fake.add_message(direct, user="U0PRIYA001", text="a private word", when=start)
    integration = _connect_slack(acme, slack_fake, [_selected(sso), _selected(deals)])

    report = _sync(integration)

    assert report.error is None
    assert _channels_read(slack_fake) == {sso["id"], deals["id"]}
    assert direct not in json.dumps([call.params for call in slack_fake.calls])
    assert len(slack_fake.calls_to("/api/conversations.history")) == 3 + 1
    assert _counts(integration)["signals"] == 450 + 3 + 5
    with tenant_context(acme.organization):
        thread = WorkItem.objects.get(external_id=f"{sso['id']}:{parent['ts']}")
        assert thread.signals.count() == 4
        assert set(WorkItem.objects.values_list("attributes__channel", flat=True)) == {sso["id"], deals["id"]}
    newest = slack_fake.messages[sso["id"]][-1]["ts"]
    assert _cursor(integration, SLACK_STREAM_PREFIX + sso["id"]) == {"oldest": newest, "run": None}
    # Every request took a slot from this organisation's Slack budget.
    bucket = rate_limit_key(acme.organization.pk, "slack")
    assert redis.Redis.from_url(settings.CACHE_URL).exists(bucket)
    _no_signal_twice(integration)


def test_a_second_slack_sync_takes_only_new_messages(acme: OrgWorld, slack_fake: FakeSlack) -> None:
    start = timezone.now() - timedelta(hours=5)
    channel = slack_fake.add_channel("sso")
    slack_fake.generate_messages(channel["id"], 30, start=start, step=timedelta(minutes=5))
    integration = _connect_slack(acme, slack_fake, [_selected(channel)])
    _sync(integration)
    first = _counts(integration)
    newest = slack_fake.messages[channel["id"]][-1]["ts"]
    for minutes in (1, 2, 3):
        slack_fake.add_message(
            channel["id"],
            user="U0PRIYA001",
            text="Shipped",
            when=timezone.now() - timedelta(minutes=5 - minutes),
        )
    slack_fake.calls.clear()

    report = _sync(integration)

    assert report.taken == 3
    assert _counts(integration)["signals"] == first["signals"] + 3
    oldest = float(slack_fake.calls_to("/api/conversations.history")[0].params["oldest"])
    assert oldest == pytest.approx(float(newest) - settings.SYNC_OVERLAP_MINUTES * 60, abs=0.001)
    _no_signal_twice(integration)


def test_slack_429_with_retry_after_and_5xx_mid_backfill_back_off_then_complete(
    acme: OrgWorld, slack_fake: FakeSlack, sleeps: SleepRecorder
) -> None:
    channel = slack_fake.add_channel("sso")
    slack_fake.generate_messages(
        channel["id"], 500, start=timezone.now() - timedelta(days=1), step=timedelta(minutes=2)
    )
    integration = _connect_slack(acme, slack_fake, [_selected(channel)])

    def slack_struggles() -> None:
        slack_fake.fail_next(1, status=429, retry_after=30, path_contains="conversations.history")
        slack_fake.fail_next(1, status=503, path_contains="conversations.history")

    report = _sync(integration, sleeps, after_each_page=_after_pages(1, slack_struggles))

    assert report.error is None
    assert sleeps.seconds[0] == 30
    assert len(sleeps.seconds) == 2
    assert _counts(integration)["signals"] == 500
    _no_signal_twice(integration)


def test_a_slack_backfill_interrupted_by_an_outage_resumes_from_its_history_cursor(
    acme: OrgWorld, slack_fake: FakeSlack, sleeps: SleepRecorder
) -> None:
    channel = slack_fake.add_channel("sso")
    slack_fake.generate_messages(
        channel["id"], 500, start=timezone.now() - timedelta(days=1), step=timedelta(minutes=2)
    )
    integration = _connect_slack(acme, slack_fake, [_selected(channel)])
    stream = SLACK_STREAM_PREFIX + channel["id"]

    def outage() -> None:
        slack_fake.fail_next(2, status=503, path_contains="conversations.history")

    with pytest.raises(VendorUnavailable):
        _sync(integration, sleeps, attempts=2, after_each_page=_after_pages(1, outage))
    position = _cursor(integration, stream)
    assert position["run"]["cursor"]
    assert _counts(integration)["signals"] == 200
    slack_fake.calls.clear()

    _sync(integration, sleeps)

    assert slack_fake.calls_to("/api/conversations.history")[0].params["cursor"] == position["run"]["cursor"]
    assert _counts(integration)["signals"] == 500
    assert _cursor(integration, stream)["oldest"] == slack_fake.messages[channel["id"]][-1]["ts"]
    _no_signal_twice(integration)


def test_a_slack_history_cursor_slack_no_longer_accepts_reads_the_span_again(
    acme: OrgWorld, slack_fake: FakeSlack
) -> None:
    channel = slack_fake.add_channel("sso")
    slack_fake.generate_messages(channel["id"], 30, start=timezone.now() - timedelta(hours=3))
    integration = _connect_slack(acme, slack_fake, [_selected(channel)])
    interrupted = {
        "oldest": None,
        "run": {
            "oldest": f"{(timezone.now() - timedelta(days=1)).timestamp():.6f}",
            "latest": f"{timezone.now().timestamp():.6f}",
            "cursor": "bm90LWEtY3Vyc29y",
            "newest": None,
        },
    }
    with tenant_context(acme.organization):
        SyncCursor.objects.create(
            integration=integration, stream=SLACK_STREAM_PREFIX + channel["id"], value=json.dumps(interrupted)
        )

    report = _sync(integration)

    assert report.problems == []
    assert _counts(integration)["signals"] == 30


def test_a_slack_channel_the_app_cannot_read_is_noted_and_the_others_are_read(
    acme: OrgWorld, slack_fake: FakeSlack
) -> None:
    readable = slack_fake.add_channel("sso")
    closed = slack_fake.add_channel("launch", bot_is_member=False)
    slack_fake.generate_messages(readable["id"], 4, start=timezone.now() - timedelta(hours=2))
    integration = _connect_slack(acme, slack_fake, [_selected(closed), _selected(readable)])

    report = _sync(integration)

    assert _counts(integration)["signals"] == 4
    assert len(report.problems) == 1
    synced = _fresh(integration)
    assert synced.last_success_at is not None
    assert synced.last_error.startswith("#launch: ")
    assert "not a member of the channel" in synced.last_error


def test_a_refused_slack_token_is_a_clear_error(acme: OrgWorld, slack_fake: FakeSlack) -> None:
    channel = slack_fake.add_channel("sso")
    integration = _connect_slack(acme, slack_fake, [_selected(channel)])
    slack_fake.bot_token = "xoxb-a-new-token-after-reinstall"

    report = _sync(integration)

    assert report.error is not None
    assert "Slack refused the credentials" in _fresh(integration).last_error
    assert "invalid_auth" in _fresh(integration).last_error
    assert len(slack_fake.calls) == 1


# --- HubSpot ----------------------------------------------------------------------------------------

ENGAGEMENT_TYPES = ("notes", "calls", "meetings", "emails", "tasks")


def _connect_hubspot(world: OrgWorld, fake: FakeHubSpot) -> Integration:
    with tenant_context(world.organization):
        return services.integration_connect(
            provider="hubspot",
            credentials={"access_token": fake.access_token, "client_secret": "hubspot-app-secret"},
            settings={"portal_id": str(fake.portal_id), "api_base_url": fake.base_url},
        )


def _modify(fake: FakeHubSpot, object_type: str, object_id: str, when: datetime, **properties: Any) -> None:
    record = fake.objects[object_type][object_id]
    record["properties"].update({name: str(value) for name, value in properties.items()})
    record["properties"]["hs_lastmodifieddate"] = hubspot_time(when)
    record["updatedAt"] = hubspot_time(when)


def _searches(fake: FakeHubSpot, object_type: str) -> list[RecordedCall]:
    return fake.calls_to(f"/crm/v3/objects/{object_type}/search")


def test_hubspot_sync_takes_deals_and_engagements_with_their_deals_and_owner_emails(
    acme: OrgWorld, hubspot_fake: FakeHubSpot
) -> None:
    start = timezone.now() - timedelta(days=3)
    deals = hubspot_fake.generate_deals(30, start=start)
    deal_ids = [deal["id"] for deal in deals]
    for object_type in ENGAGEMENT_TYPES:
        hubspot_fake.generate_engagements(object_type, 5, start=start, deal_ids=deal_ids[:3])
    loose = hubspot_fake.generate_engagements("notes", 2, start=start)
    integration = _connect_hubspot(acme, hubspot_fake)

    report = _sync(integration)

    assert report.error is None
    assert report.problems == []
    with tenant_context(acme.organization):
        assert WorkItem.objects.filter(kind="deal").count() == 30
        assert WorkItem.objects.filter(kind="engagement").count() == 2
        assert ExecutionSignal.objects.filter(kind="stage_change").count() == 30
        for kind in ("note", "call", "meeting", "email", "task"):
            on_deals = ExecutionSignal.objects.filter(kind=kind, work_item__kind="deal")
            assert on_deals.count() == 5, kind
            assert set(on_deals.values_list("work_item__external_id", flat=True)) <= set(deal_ids[:3])
        assert set(
            ExecutionSignal.objects.filter(work_item__kind="engagement").values_list("external_id", flat=True)
        ) == {f"note:{note['id']}" for note in loose}
        emails = set(ExternalIdentity.objects.filter(provider="hubspot").values_list("email", flat=True))
        assert emails == {owner["email"] for owner in hubspot_fake.owners}
    assert all(_searches(hubspot_fake, object_type) for object_type in ("deals", *ENGAGEMENT_TYPES))
    assert hubspot_fake.calls_to("/crm/v4/associations/calls/deals/batch/read")
    assert len(hubspot_fake.calls_to("/crm/v3/owners")) == 1
    for object_type in ("deals", *ENGAGEMENT_TYPES):
        position = _cursor(integration, f"hubspot:{object_type}")
        assert position["window"] is None
        assert datetime.fromisoformat(position["position"]) < timezone.now() - timedelta(minutes=1)
    _no_signal_twice(integration)


def test_hubspot_windows_are_split_under_the_search_cap_and_every_deal_taken_once(
    acme: OrgWorld, hubspot_fake: FakeHubSpot
) -> None:
    count = HUBSPOT_SEARCH_RESULT_CAP + 400
    start = timezone.now() - timedelta(days=20)
    hubspot_fake.generate_deals(count, start=start, step=timedelta(minutes=2))
    integration = _connect_hubspot(acme, hubspot_fake)

    _sync(integration)

    searches = _searches(hubspot_fake, "deals")
    assert all(int((call.json or {}).get("after") or 0) < HUBSPOT_SEARCH_RESULT_CAP for call in searches)
    windows = {
        tuple(f["value"] for f in (call.json or {})["filterGroups"][0]["filters"])
        for call in searches
        if (call.json or {}).get("after")
    }
    assert len(windows) >= 2, "the deals were read in more than one window"
    with tenant_context(acme.organization):
        assert WorkItem.objects.filter(kind="deal").count() == count
        assert RawEvent.objects.count() == count
    _no_signal_twice(integration)


def test_a_second_hubspot_sync_takes_only_what_was_modified(
    acme: OrgWorld, hubspot_fake: FakeHubSpot
) -> None:
    deals = hubspot_fake.generate_deals(40, start=timezone.now() - timedelta(days=2))
    integration = _connect_hubspot(acme, hubspot_fake)
    _sync(integration)
    first = _counts(integration)
    position = datetime.fromisoformat(_cursor(integration, "hubspot:deals")["position"])
    # Modified since the first sync's windows closed (a little in the past), before this one's close.
    moved = timezone.now() - timedelta(minutes=5)
    _modify(hubspot_fake, "deals", deals[0]["id"], moved, dealstage="closedwon", hs_is_closed="true")
    _modify(hubspot_fake, "deals", deals[1]["id"], moved, amount="99000")
    hubspot_fake.calls.clear()

    report = _sync(integration)

    assert report.taken == 2
    assert _counts(integration)["signals"] == first["signals"] + 1  # one stage change, not an amount
    first_filter = (_searches(hubspot_fake, "deals")[0].json or {})["filterGroups"][0]["filters"][0]
    assert int(first_filter["value"]) == int(
        (position - timedelta(minutes=settings.SYNC_OVERLAP_MINUTES)).timestamp() * 1000
    )
    with tenant_context(acme.organization):
        assert WorkItem.objects.get(external_id=deals[0]["id"]).status == "closedwon"
    _no_signal_twice(integration)


def test_an_archived_deal_is_marked_and_keeps_its_signals(acme: OrgWorld, hubspot_fake: FakeHubSpot) -> None:
    deals = hubspot_fake.generate_deals(3, start=timezone.now() - timedelta(days=1))
    gone = deals[1]["id"]
    hubspot_fake.generate_engagements("calls", 2, start=timezone.now() - timedelta(days=1), deal_ids=[gone])
    integration = _connect_hubspot(acme, hubspot_fake)
    _sync(integration)
    with tenant_context(acme.organization):
        signals_before = ExecutionSignal.objects.filter(work_item__external_id=gone).count()
    hubspot_fake.archive("deals", gone, when=timezone.now() - timedelta(minutes=10))

    _sync(integration)

    with tenant_context(acme.organization):
        deal = WorkItem.objects.get(external_id=gone)
        assert deal.archived
        assert ExecutionSignal.objects.filter(work_item=deal).count() == signals_before == 3
        assert WorkItem.objects.filter(kind="deal", archived=False).count() == 2
    assert _cursor(integration, HUBSPOT_ARCHIVED_DEALS_STREAM) == {"after": None}


def test_hubspot_429_and_5xx_mid_sync_back_off_then_complete(
    acme: OrgWorld, hubspot_fake: FakeHubSpot, sleeps: SleepRecorder
) -> None:
    start = timezone.now() - timedelta(days=2)
    deals = hubspot_fake.generate_deals(450, start=start, step=timedelta(minutes=3))
    hubspot_fake.generate_engagements("notes", 20, start=start, deal_ids=[deals[0]["id"]])
    integration = _connect_hubspot(acme, hubspot_fake)

    def hubspot_struggles() -> None:
        hubspot_fake.fail_next(1, status=429, retry_after=2, path_contains="/search")
        hubspot_fake.fail_next(1, status=502, path_contains="/batch/read")

    report = _sync(integration, sleeps, after_each_page=_after_pages(1, hubspot_struggles))

    assert report.error is None
    assert sleeps.seconds[0] == 2
    assert len(sleeps.seconds) == 2
    with tenant_context(acme.organization):
        assert WorkItem.objects.filter(kind="deal").count() == 450
        assert ExecutionSignal.objects.filter(kind="note").count() == 20
    _no_signal_twice(integration)


def test_a_hubspot_sync_interrupted_mid_window_resumes_at_its_offset(
    acme: OrgWorld, hubspot_fake: FakeHubSpot, sleeps: SleepRecorder
) -> None:
    hubspot_fake.generate_deals(500, start=timezone.now() - timedelta(days=2), step=timedelta(minutes=3))
    integration = _connect_hubspot(acme, hubspot_fake)

    def outage() -> None:
        hubspot_fake.fail_next(2, status=503, path_contains="/deals/search")

    with pytest.raises(VendorUnavailable):
        _sync(integration, sleeps, attempts=2, after_each_page=_after_pages(1, outage))
    window = _cursor(integration, "hubspot:deals")["window"]
    assert window["after"] == "200"
    assert "HubSpot is unavailable" in _fresh(integration).last_error
    hubspot_fake.calls.clear()

    _sync(integration, sleeps)

    resumed = _searches(hubspot_fake, "deals")[0].json or {}
    assert resumed["after"] == "200"
    assert int(resumed["filterGroups"][0]["filters"][1]["value"]) == int(
        datetime.fromisoformat(window["end"]).timestamp() * 1000
    )
    with tenant_context(acme.organization):
        assert WorkItem.objects.filter(kind="deal").count() == 500
        assert RawEvent.objects.count() == 500
    _no_signal_twice(integration)


def test_a_refused_hubspot_token_is_a_clear_error(acme: OrgWorld, hubspot_fake: FakeHubSpot) -> None:
    integration = _connect_hubspot(acme, hubspot_fake)
    hubspot_fake.access_token = "pat-na1-rotated"

    _sync(integration)

    refused = _fresh(integration)
    assert refused.last_error.startswith("HubSpot refused the credentials")
    assert "401" in refused.last_error


# --- The periodic tasks -----------------------------------------------------------------------------


def test_the_periodic_sync_runs_every_connected_integration_in_its_own_organisation(
    acme: OrgWorld, globex: OrgWorld, jira_fake: FakeJira, hubspot_fake: FakeHubSpot, slack_fake: FakeSlack
) -> None:
    jira_fake.generate_issues(12, start=timezone.now() - timedelta(days=1))
    hubspot_fake.generate_deals(7, start=timezone.now() - timedelta(days=1))
    acme_jira = _connect_jira(acme, jira_fake)
    globex_hubspot = _connect_hubspot(globex, hubspot_fake)
    channel = slack_fake.add_channel("sso")
    gone = _connect_slack(globex, slack_fake, [_selected(channel)])
    with tenant_context(globex.organization):
        services.integration_disconnect(integration=gone)

    queued = sync_all_integrations.delay().get()

    assert queued == 2
    assert slack_fake.calls == []
    with tenant_context(acme.organization):
        assert set(WorkItem.objects.values_list("provider", flat=True)) == {"jira"}
        assert WorkItem.objects.count() == 12
    with tenant_context(globex.organization):
        assert set(WorkItem.objects.values_list("provider", flat=True)) == {"hubspot"}
        assert WorkItem.objects.count() == 7
    assert _fresh(acme_jira).last_success_at is not None
    assert _fresh(globex_hubspot).last_success_at is not None


def test_the_daily_reconciliation_re_reads_a_wider_span(acme: OrgWorld, jira_fake: FakeJira) -> None:
    jira_fake.generate_issues(20, start=timezone.now() - timedelta(days=1))
    integration = _connect_jira(acme, jira_fake)
    _sync(integration)
    watermark = datetime.fromisoformat(_cursor(integration, JIRA_STREAM)["updated"])
    before = _counts(integration)
    jira_fake.calls.clear()

    assert reconcile_integrations.delay().get() == 1

    since = (watermark - timedelta(hours=settings.SYNC_RECONCILE_OVERLAP_HOURS)).astimezone(
        ZoneInfo(jira_fake.time_zone)
    )
    assert f'updated >= "{since:%Y-%m-%d %H:%M}"' in _search_bodies(jira_fake)[0]["jql"]
    assert _counts(integration) == before
    _no_signal_twice(integration)


def test_syncs_run_on_the_sync_queue_every_quarter_hour_and_reconcile_daily() -> None:
    schedule = settings.CELERY_BEAT_SCHEDULE
    assert schedule["sync-integrations"] == {
        "task": "signals_ingest.tasks.sync_all_integrations",
        "schedule": 15 * 60,
    }
    daily = schedule["reconcile-integrations"]
    assert daily["task"] == "signals_ingest.tasks.reconcile_integrations"
    assert isinstance(daily["schedule"], crontab)
    assert daily["schedule"].hour == {3}
    for name in ("sync_integration", "sync_all_integrations", "reconcile_integrations"):
        assert settings.CELERY_TASK_ROUTES[f"signals_ingest.tasks.{name}"] == {"queue": "sync"}
