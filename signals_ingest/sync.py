"""Pull syncs: Jira, Slack and HubSpot read page by page, each page committed with its cursor.

Webhooks are the primary way in; pulls backfill a new connection, take what a webhook missed, and
(``reconcile``) re-read a wider span once a day. Every pull keeps one ``SyncCursor`` per stream, and
moves it only in the transaction that stores the page it covers (``store_and_process_raw_events(cursor=…)``),
so a crash can make a sync read a page again but never skip one. Mid-run positions (Jira's
``nextPageToken``, a HubSpot search window and offset, a Slack history cursor) are kept in the cursor as
well, so a sync interrupted by a crash or a vendor outage resumes where its last stored page ended.

Streams and what their cursor holds (JSON):

- Jira ``jira:issues``: ``updated`` (the newest ``updated`` stored) and, while a run is under way, ``run``
  (``from``, the lower bound of its JQL, and ``next_page_token``). A run reads ``updated >= cursor -
  overlap``; the overlap (``SYNC_OVERLAP_MINUTES``) absorbs JQL's minute precision and clock skew, and the
  stored payloads' dedupe keys make the re-read issues no-ops.
- Slack ``slack:channel:<id>``, one per selected channel: ``oldest`` (the newest message ``ts`` stored) and
  ``run`` (``oldest``, ``latest``, ``cursor``, ``newest``). Only the channels an admin selected are read;
  direct messages never, private channels only when selected.
- HubSpot ``hubspot:<object type>`` for deals, notes, calls, meetings, e-mails and tasks: ``position``
  (everything last modified before it is stored) and ``window`` (``start``, ``end``, ``after``) while a
  search window is being paged. Windows end a little in the past (``HUBSPOT_WINDOW_SETTLE``) so that none
  grows while it is paged, and the client halves any window holding more than HubSpot's 10,000 searchable
  results. ``hubspot:deals:archived`` holds the offset in the archived-deal listing.

Integration settings a sync reads (besides what the normalisers read): Jira ``site`` (the base URL);
Slack ``channels`` and ``api_base_url``; HubSpot ``api_base_url``. ``api_base_url`` defaults to
``SLACK_API_URL`` / ``HUBSPOT_API_URL`` (the vendors' public APIs); it names one integration's proxy, and
the local fakes the tests run against, which a worker process reaches through the integration alone.

Every database access runs in ``tenant_context(organization_id)``, one short transaction at a time: never
across a vendor request. Credentials are read here from the integration, never passed in.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cache
from itertools import chain
from typing import Any

import redis
from django.conf import settings
from django.core.cache import cache as django_cache
from django.utils import timezone

from okrsignal.tenancy import tenant_cache_key, tenant_context
from signals_ingest import oauth, services
from signals_ingest.clients import (
    JIRA_ISSUE_FIELDS,
    CredentialsRefused,
    HubSpotClient,
    JiraClient,
    RetryPolicy,
    SlackClient,
    VendorError,
    VendorRequestRejected,
    VendorUnavailable,
)
from signals_ingest.crypto import CredentialsUnreadable
from signals_ingest.models import Integration
from signals_ingest.normalisers import HUBSPOT_ENGAGEMENT_KINDS, dedupe_key_for, selected_slack_channels
from signals_ingest.pipeline import store_and_process_raw_events
from signals_ingest.rate_limit import ProviderRateLimiter
from signals_ingest.selectors import sync_cursor_value

logger = logging.getLogger(__name__)

JIRA_STREAM = "jira:issues"
SLACK_STREAM_PREFIX = "slack:channel:"
HUBSPOT_STREAM_PREFIX = "hubspot:"
HUBSPOT_ARCHIVED_DEALS_STREAM = "hubspot:deals:archived"

# Deals first, so that the engagements of a deal find it described.
HUBSPOT_OBJECT_TYPES = ("deals", *HUBSPOT_ENGAGEMENT_KINDS)
_HUBSPOT_COMMON_PROPERTIES = ("hubspot_owner_id", "hs_lastmodifieddate")
HUBSPOT_PROPERTIES: dict[str, tuple[str, ...]] = {
    "deals": ("dealname", "dealstage", "pipeline", "amount", "closedate", "hs_is_closed"),
    "notes": ("hs_note_body", "hs_timestamp"),
    "calls": ("hs_call_title", "hs_call_body", "hs_call_duration", "hs_call_status", "hs_timestamp"),
    "meetings": ("hs_meeting_title", "hs_meeting_body", "hs_meeting_outcome", "hs_timestamp"),
    "emails": ("hs_email_subject", "hs_email_text", "hs_email_direction", "hs_timestamp"),
    "tasks": ("hs_task_subject", "hs_task_body", "hs_task_status", "hs_timestamp"),
}
# How far in the past a HubSpot search window ends: an object modified while its window is paged would
# otherwise enter it and shift the offsets behind it.
HUBSPOT_WINDOW_SETTLE = timedelta(minutes=2)

# The comments too: a comment a webhook missed is taken by the next pull.
JIRA_PULL_FIELDS = (*JIRA_ISSUE_FIELDS, "comment")
JIRA_CHANGELOG_PAGE_SIZE = 100
SLACK_PAGE_SIZE = 200

# The lock is refreshed after every stored page; a worker that died holding it frees it after this long.
SYNC_LOCK_SECONDS = 15 * 60
# How long a delivery count is remembered: far longer than any redelivery takes.
DELIVERY_COUNT_SECONDS = 24 * 60 * 60


# --- What a sync did --------------------------------------------------------------------------------


@dataclass
class SyncReport:
    """The outcome of one sync run. ``problems`` are failures that did not stop the run (a Slack channel
    the app cannot read); ``error`` is the one that did."""

    provider: str
    pages: int = 0
    fetched: int = 0
    taken: int = 0
    failed: int = 0
    problems: list[str] = field(default_factory=list)
    error: str | None = None
    skipped: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "provider": self.provider,
            "pages": self.pages,
            "fetched": self.fetched,
            "taken": self.taken,
            "failed": self.failed,
            "problems": list(self.problems),
            "error": self.error,
            "skipped": self.skipped,
        }


class _ConfigurationMissing(Exception):
    """The integration lacks a credential or setting a sync needs; a person has to fix it."""


class SyncStopped(Exception):
    """The integration was disconnected while it was being synced: nothing more is stored."""


@dataclass(frozen=True)
class SyncState:
    """What an integration's page shows about its pulls. ``lag`` is how long ago everything the vendor
    held was last known to be taken (the last successful sync), None before the first."""

    last_success_at: datetime | None
    last_error_at: datetime | None
    last_error: str
    items_taken: int
    lag: timedelta | None


def sync_state(integration: Integration, *, now: datetime | None = None) -> SyncState:
    last_success = integration.last_success_at
    return SyncState(
        last_success_at=last_success,
        last_error_at=integration.last_error_at,
        last_error=integration.last_error,
        items_taken=integration.items_taken,
        lag=(now or timezone.now()) - last_success if last_success else None,
    )


# --- Times and cursor values ------------------------------------------------------------------------


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat()


def _from_iso(value: Any) -> datetime | None:
    if not value:
        return None
    moment = datetime.fromisoformat(str(value))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _slack_ts(moment: datetime) -> str:
    return f"{moment.timestamp():.6f}"


def _later_ts(first: str | None, second: str | None) -> str | None:
    if not first or not second:
        return first or second
    return first if float(first) >= float(second) else second


def _cursor_state(value: str | None) -> dict[str, Any]:
    """A stored cursor as a dict; a value this module did not write (or none) reads as a fresh start."""
    if not value:
        return {}
    try:
        state = json.loads(value)
    except ValueError:
        logger.warning(
            "A sync cursor held %r, which is not a position this sync wrote; starting afresh", value
        )
        return {}
    return state if isinstance(state, dict) else {}


# --- One run ----------------------------------------------------------------------------------------


class _Run:
    """One sync of one integration: its organisation, options, and the page-by-page store."""

    def __init__(
        self,
        *,
        integration: Integration,
        reconcile: bool,
        retry: RetryPolicy | None,
        heartbeat: Callable[[], object],
        started_at: datetime,
    ) -> None:
        self.integration = integration
        self.organization_id = integration.organization_id
        self.reconcile = reconcile
        self.retry = retry
        self.heartbeat = heartbeat
        self.started_at = started_at
        self.settings: Mapping[str, Any] = integration.settings or {}
        self.report = SyncReport(provider=integration.provider)
        overlap_minutes = settings.SYNC_OVERLAP_MINUTES
        if reconcile:
            overlap_minutes = max(overlap_minutes, settings.SYNC_RECONCILE_OVERLAP_HOURS * 60)
        self.overlap = timedelta(minutes=overlap_minutes)
        self.backfill_from = started_at - timedelta(days=settings.SYNC_BACKFILL_DAYS)
        # The OAuth access token the pull was given, so that one the vendor refuses can be renewed.
        self.access_token_used = ""

    def limiter(self) -> ProviderRateLimiter:
        return ProviderRateLimiter(organization_id=self.organization_id, provider=self.integration.provider)

    @property
    def uses_oauth(self) -> bool:
        return self.integration.auth_method == Integration.AuthMethod.OAUTH

    def oauth_credentials(self) -> dict[str, Any]:
        """The integration's credentials with a current access token (renewed first when it is not)."""
        credentials = oauth.usable_credentials(self.integration)
        self.access_token_used = str(credentials.get("access_token") or "")
        return credentials

    def cursor(self, stream: str) -> dict[str, Any]:
        with tenant_context(self.organization_id):
            return _cursor_state(sync_cursor_value(integration=self.integration, stream=stream))

    def store(self, payloads: Sequence[Mapping[str, Any]], *, stream: str, state: Mapping[str, Any]) -> None:
        """Store and process one page, moving its stream's cursor to ``state`` in the same transaction."""
        provider = self.integration.provider
        items = [(dedupe_key_for(provider, payload), payload) for payload in payloads]
        with tenant_context(self.organization_id):
            connected = Integration.objects.filter(
                pk=self.integration.pk, state=Integration.State.CONNECTED
            ).exists()
            if not connected:
                raise SyncStopped(f"{self.integration.get_provider_display()} was disconnected.")
            result = store_and_process_raw_events(
                integration=self.integration,
                origin="pull",
                items=items,
                cursor=(stream, json.dumps(state, sort_keys=True)),
            )
        self.report.pages += 1
        self.report.fetched += len(items)
        self.report.taken += len(result.processed)
        self.report.failed += len(result.failed)
        self.heartbeat()


# --- Jira -------------------------------------------------------------------------------------------


def _jira_client(run: _Run) -> JiraClient:
    if run.uses_oauth:
        credentials = run.oauth_credentials()
        cloud_id = run.settings.get("cloud_id")
        if not run.settings.get("site") or not cloud_id or not credentials.get("access_token"):
            raise _ConfigurationMissing("The Jira connection lacks its site or its access; connect it again.")
        return JiraClient(
            site_url=str(run.settings["site"]),
            **oauth.jira_authentication(run.integration, credentials),
            retry=run.retry,
            limiter=run.limiter(),
        )
    credentials = run.integration.credentials
    site = run.settings.get("site")
    email = credentials.get("email") or run.settings.get("account_email")
    api_token = credentials.get("api_token")
    if not site or not email or not api_token:
        missing = [
            name
            for name, value in (("site URL", site), ("account e-mail", email), ("API token", api_token))
            if not value
        ]
        raise _ConfigurationMissing(
            f"The Jira connection lacks its {' and '.join(missing)}; connect it again."
        )
    return JiraClient(
        site_url=str(site), email=str(email), api_token=str(api_token), retry=run.retry, limiter=run.limiter()
    )


def _with_full_changelog(client: JiraClient, issue: dict[str, Any]) -> dict[str, Any]:
    """The issue with every changelog history: a search carries only the first ones of a long changelog."""
    changelog = issue.get("changelog") or {}
    histories: list[dict[str, Any]] = list(changelog.get("histories") or [])
    total = int(changelog.get("total") or 0)
    if total <= int(changelog.get("startAt") or 0) + len(histories):
        return issue
    start_at = 0
    while True:
        page = client.issue_changelog_page(
            str(issue["key"]), start_at=start_at, max_results=JIRA_CHANGELOG_PAGE_SIZE
        )
        values = list(page.get("values") or [])
        histories.extend(values)
        start_at += len(values)
        if not values or page.get("isLast") or start_at >= int(page.get("total") or 0):
            break
    by_id = {str(history.get("id")): history for history in histories}
    complete = sorted(by_id.values(), key=lambda history: str(history.get("created") or ""))
    return {
        **issue,
        "changelog": {
            "startAt": 0,
            "maxResults": len(complete),
            "total": len(complete),
            "histories": complete,
        },
    }


def sync_jira(run: _Run) -> None:
    """Issues updated since the cursor (less the overlap), with their whole changelogs, oldest first."""
    client = _jira_client(run)
    state = run.cursor(JIRA_STREAM)
    watermark = _from_iso(state.get("updated"))
    run_state = state.get("run")
    resuming: dict[str, Any] = run_state if isinstance(run_state, dict) else {}
    resumed_from = _from_iso(resuming.get("from"))
    token: str | None = None
    if resumed_from and resuming.get("next_page_token") and not run.reconcile:
        # Resume the interrupted run: the same query (a page token is valid only for it), the next page.
        query_from, token = resumed_from, str(resuming["next_page_token"])
    else:
        query_from = (watermark or run.backfill_from) - run.overlap
    story_points_field = run.settings.get("story_points_field") or None

    def pages(start: datetime, page_token: str | None) -> Iterator[Any]:
        return client.search_updated_since(
            cursor=start,
            overlap=timedelta(0),
            story_points_field=story_points_field,
            fields=JIRA_PULL_FIELDS,
            next_page_token=page_token,
        )

    found = pages(query_from, token)
    try:
        first = next(found)
    except VendorRequestRejected:
        if token is None:
            raise
        # A page token lives only as long as Jira keeps it: start the run over from what is stored.
        logger.info("Jira refused the stored page token; the sync starts again from the cursor")
        query_from = (watermark or run.backfill_from) - run.overlap
        found = pages(query_from, None)
        first = next(found)
    for page in chain([first], found):
        issues = [_with_full_changelog(client, issue) for issue in page.issues]
        latest = page.latest_updated
        if latest is not None and (watermark is None or latest > watermark):
            watermark = latest
        next_state: dict[str, Any] = {"updated": _iso(watermark) if watermark else None, "run": None}
        if not page.is_last:
            next_state["run"] = {"from": _iso(query_from), "next_page_token": page.next_page_token}
        run.store(issues, stream=JIRA_STREAM, state=next_state)


# --- Slack ------------------------------------------------------------------------------------------


def _slack_client(run: _Run) -> SlackClient:
    bot_token = run.integration.credentials.get("bot_token")
    if not bot_token:
        raise _ConfigurationMissing("The Slack connection lacks its bot token; connect it again.")
    base_url = str(
        run.settings.get("api_base_url") or getattr(settings, "SLACK_API_URL", "https://slack.com/api/")
    )
    return SlackClient(
        bot_token=str(bot_token),
        base_url=base_url if base_url.endswith("/") else base_url + "/",
        retry=run.retry,
        limiter=run.limiter(),
    )


def _channels_to_read(run: _Run) -> list[tuple[str, str]]:
    """The selected channels, as (id, name). Direct messages are never read, whatever the settings say."""
    channels = []
    for channel_id, channel in selected_slack_channels(run.settings).items():
        if channel_id.startswith("D"):
            continue
        channels.append((channel_id, str(channel.get("name") or channel_id)))
    return channels


def _thread_replies(
    client: SlackClient, channel_id: str, parent: Mapping[str, Any], oldest: str | None
) -> list[dict[str, Any]]:
    replies: list[dict[str, Any]] = []
    cursor: str | None = None
    thread_ts = str(parent["ts"])
    while True:
        page = client.thread_replies_page(
            channel_id, thread_ts, oldest=oldest, cursor=cursor, limit=SLACK_PAGE_SIZE
        )
        replies.extend(message for message in page.messages if message.get("ts") != thread_ts)
        cursor = page.next_cursor
        if not cursor:
            return replies


def _sync_slack_channel(run: _Run, client: SlackClient, channel_id: str) -> None:
    stream = SLACK_STREAM_PREFIX + channel_id
    state = run.cursor(stream)
    stored_oldest = state.get("oldest")
    run_state = state.get("run")
    resuming: dict[str, Any] | None = run_state if isinstance(run_state, dict) else None
    if resuming and not run.reconcile:
        oldest, latest = resuming.get("oldest"), resuming.get("latest")
        cursor, newest = resuming.get("cursor"), resuming.get("newest")
    else:
        since = (
            datetime.fromtimestamp(float(stored_oldest), tz=UTC) if stored_oldest else run.backfill_from
        ) - run.overlap
        oldest, latest = _slack_ts(since), _slack_ts(run.started_at)
        cursor, newest = None, stored_oldest
    resumed_cursor = cursor is not None
    while True:
        try:
            page = client.channel_history_page(
                channel_id, oldest=oldest, latest=latest, cursor=cursor, limit=SLACK_PAGE_SIZE
            )
        except VendorRequestRejected:
            if not resumed_cursor:
                raise
            # A stored cursor Slack no longer accepts: read the interrupted run's span from its start.
            logger.info("Slack refused the stored history cursor of %s; reading its span again", channel_id)
            cursor, resumed_cursor = None, False
            continue
        resumed_cursor = False
        messages: list[dict[str, Any]] = []
        for message in page.messages:
            messages.append(message)
            # Replies are not in the channel's history, only their thread's first message is.
            if message.get("reply_count") and message.get("thread_ts") == message.get("ts"):
                messages.extend(_thread_replies(client, channel_id, message, oldest))
        for message in page.messages:
            newest = _later_ts(newest, str(message.get("ts") or "") or None)
        cursor = page.next_cursor
        next_state: dict[str, Any] = {"oldest": stored_oldest, "run": None}
        if cursor:
            next_state["run"] = {"oldest": oldest, "latest": latest, "cursor": cursor, "newest": newest}
        else:
            next_state["oldest"] = _later_ts(stored_oldest, newest)
        run.store(
            [{"channel": channel_id, "message": message} for message in messages],
            stream=stream,
            state=next_state,
        )
        if not cursor:
            return


def sync_slack(run: _Run) -> None:
    """The history of each selected channel (and the replies in its threads) since the channel's cursor.

    A channel the app cannot read (not invited, archived, gone) is noted and the others are read.
    """
    client = _slack_client(run)
    for channel_id, name in _channels_to_read(run):
        try:
            _sync_slack_channel(run, client, channel_id)
        except VendorRequestRejected as exc:
            run.report.problems.append(f"#{name}: {exc.message}")
            logger.warning("Slack channel %s could not be read: %s", channel_id, exc.message)


# --- HubSpot ----------------------------------------------------------------------------------------


def _hubspot_client(run: _Run) -> HubSpotClient:
    credentials = run.oauth_credentials() if run.uses_oauth else run.integration.credentials
    access_token = credentials.get("access_token")
    if not access_token:
        raise _ConfigurationMissing("The HubSpot connection lacks its access token; connect it again.")
    return HubSpotClient(
        access_token=str(access_token),
        base_url=str(
            run.settings.get("api_base_url") or getattr(settings, "HUBSPOT_API_URL", "https://api.hubapi.com")
        ),
        retry=run.retry,
        limiter=run.limiter(),
    )


def _hubspot_owners(run: _Run, client: HubSpotClient) -> dict[str, dict[str, Any]]:
    """Owners by id (their e-mail matches them to people); none if the token may not read them."""
    try:
        owners = client.list_owners()
    except VendorRequestRejected as exc:
        run.report.problems.append(f"Owners: {exc.message}")
        return {}
    return {
        str(owner["id"]): {
            "email": owner.get("email") or "",
            "firstName": owner.get("firstName") or "",
            "lastName": owner.get("lastName") or "",
        }
        for owner in owners
        if owner.get("id")
    }


def _hubspot_stage_entry_properties(run: _Run, client: HubSpotClient) -> list[str]:
    """``hs_v2_date_entered_<stage>`` for every deal stage: the moment a deal entered its stage, which
    gives each stage change its own time and the same identity however it arrives."""
    try:
        pipelines = client.deal_pipelines()
    except VendorRequestRejected as exc:
        run.report.problems.append(f"Deal pipelines: {exc.message}")
        return []
    return sorted(
        {
            f"hs_v2_date_entered_{stage['id']}"
            for pipeline in pipelines
            for stage in pipeline.get("stages") or []
            if stage.get("id")
        }
    )


def _hubspot_payload(
    object_type: str, obj: Mapping[str, Any], owners: Mapping[str, Mapping[str, Any]]
) -> dict[str, Any]:
    payload: dict[str, Any] = {"object_type": object_type, "object": obj}
    owner_id = str((obj.get("properties") or {}).get("hubspot_owner_id") or "")
    if owner_id in owners:
        payload["owners"] = {owner_id: owners[owner_id]}
    return payload


def _sync_hubspot_type(
    run: _Run,
    client: HubSpotClient,
    object_type: str,
    properties: Sequence[str],
    owners: Mapping[str, Mapping[str, Any]],
) -> None:
    stream = HUBSPOT_STREAM_PREFIX + object_type
    state = run.cursor(stream)
    position = _from_iso(state.get("position"))
    window = state.get("window") if isinstance(state.get("window"), dict) else None
    run_end = run.started_at - HUBSPOT_WINDOW_SETTLE
    # HubSpot's times are whole milliseconds; so are the windows the client hands back.
    run_end = run_end.replace(microsecond=run_end.microsecond // 1000 * 1000)
    window_start: datetime | None
    window_end: datetime | None
    after: str | None
    if window and not run.reconcile:
        window_start, window_end, after = (
            _from_iso(window.get("start")),
            _from_iso(window.get("end")),
            window.get("after"),
        )
    else:
        window_start, window_end, after = (position or run.backfill_from) - run.overlap, None, None
    assert window_start is not None
    while window_start < run_end:
        asked_end = window_end if after is not None and window_end is not None else run_end
        if asked_end <= window_start:
            break
        page = client.search_modified_page(
            object_type, start=window_start, end=asked_end, after=after, properties=properties
        )
        results = page.results
        if object_type != "deals" and results:
            # Search gives no associations: read them (with the objects) in batches.
            results = client.read_objects_with_deal_associations(
                object_type, [str(result["id"]) for result in results], properties=properties
            )
        if page.window_done:
            position = max(position, page.window_end) if position else page.window_end
            next_state: dict[str, Any] = {"position": _iso(position), "window": None}
        else:
            next_state = {
                "position": _iso(position) if position else None,
                "window": {
                    "start": _iso(page.window_start),
                    "end": _iso(page.window_end),
                    "after": page.next_after,
                },
            }
        run.store(
            [_hubspot_payload(object_type, obj, owners) for obj in results], stream=stream, state=next_state
        )
        if page.window_done:
            window_start, window_end, after = page.window_end, None, None
        else:
            window_start, window_end, after = page.window_start, page.window_end, page.next_after


def _sync_hubspot_archived_deals(
    run: _Run, client: HubSpotClient, properties: Sequence[str], owners: Mapping[str, Mapping[str, Any]]
) -> None:
    """Deleted deals (search never returns them): their work items are marked archived, their signals
    stay. Archived engagements change nothing stored, so they are not read."""
    state = run.cursor(HUBSPOT_ARCHIVED_DEALS_STREAM)
    after = None if run.reconcile else state.get("after")
    while True:
        page = client.archived_page("deals", after=after, properties=properties)
        run.store(
            [_hubspot_payload("deals", {**obj, "archived": True}, owners) for obj in page.results],
            stream=HUBSPOT_ARCHIVED_DEALS_STREAM,
            state={"after": page.next_after},
        )
        after = page.next_after
        if not after:
            return


def sync_hubspot(run: _Run) -> None:
    """Deals and engagements modified since each type's cursor, with owners and deal associations, then
    the archived deals."""
    client = _hubspot_client(run)
    owners = _hubspot_owners(run, client)
    stage_entries = _hubspot_stage_entry_properties(run, client)
    for object_type in HUBSPOT_OBJECT_TYPES:
        properties = [*HUBSPOT_PROPERTIES[object_type], *_HUBSPOT_COMMON_PROPERTIES]
        if object_type == "deals":
            properties += stage_entries
        _sync_hubspot_type(run, client, object_type, properties, owners)
    deal_properties = [*HUBSPOT_PROPERTIES["deals"], *_HUBSPOT_COMMON_PROPERTIES]
    _sync_hubspot_archived_deals(run, client, deal_properties, owners)


# --- Running a sync ---------------------------------------------------------------------------------


_PULLS = {"jira": sync_jira, "slack": sync_slack, "hubspot": sync_hubspot}


def _pull(run: _Run) -> None:
    """Run the integration's pull. An OAuth access token can lapse in the middle of a long pull (HubSpot's
    last 30 minutes): a refusal then renews it once and the pull carries on from the cursors it moved."""
    try:
        _PULLS[run.integration.provider](run)
    except CredentialsRefused:
        if not run.uses_oauth or not run.access_token_used:
            raise
        oauth.renew_after_refusal(run.integration, refused_access_token=run.access_token_used)
        _PULLS[run.integration.provider](run)


def _record(organization_id: int, integration_id: int, *, error: str | None) -> None:
    with tenant_context(organization_id):
        integration = Integration.objects.get(pk=integration_id)
        services.integration_record_sync(integration=integration, error=error)


def run_sync(
    *,
    organization_id: int,
    integration_id: int,
    reconcile: bool = False,
    retry: RetryPolicy | None = None,
    heartbeat: Callable[[], object] | None = None,
) -> SyncReport:
    """Pull what changed at the vendor since the integration's cursors, page by page.

    ``reconcile`` re-reads a wider span (``SYNC_RECONCILE_OVERLAP_HOURS``) from the cursors, and starts
    paged listings over, to take anything a webhook or an earlier pull missed. The outcome is recorded on
    the integration: a success, or an error fit for its page (never a credential). Refused credentials,
    a request the vendor refuses, and missing settings are recorded and returned (retrying cures none of
    them); ``VendorUnavailable`` is recorded and raised, for the caller to try again later; the cursors
    hold the position reached. An integration of another organisation is not found
    (``Integration.DoesNotExist``).
    """
    started_at = timezone.now()
    with tenant_context(organization_id):
        integration = Integration.objects.get(pk=integration_id)
    report = SyncReport(provider=integration.provider)
    if not integration.is_connected:
        report.skipped = "The integration is disconnected."
        return report
    run = _Run(
        integration=integration,
        reconcile=reconcile,
        retry=retry,
        heartbeat=heartbeat or (lambda: None),
        started_at=started_at,
    )
    name = integration.get_provider_display()
    try:
        _pull(run)
    except SyncStopped as exc:
        run.report.skipped = str(exc)
        return run.report
    except CredentialsRefused as exc:
        run.report.error = (
            f"{name} refused the credentials: {exc.message} The sync stops until they are replaced."
        )
    except oauth.ReconnectionRequired as exc:
        # Recorded as the integration's error when the renewal was refused; said again for this run.
        run.report.error = exc.message
    except (VendorRequestRejected, _ConfigurationMissing) as exc:
        run.report.error = f"The {name} sync stopped: {exc}"
    except CredentialsUnreadable:
        run.report.error = (
            f"The stored {name} credentials cannot be read with the configured encryption keys;"
            " enter them again."
        )
    except VendorUnavailable as exc:
        wait = f" It will try again in {exc.retry_after:.0f} s." if exc.retry_after else ""
        _record(organization_id, integration_id, error=f"{name} is unavailable: {exc.message}{wait}")
        raise
    except VendorError as exc:
        run.report.error = f"The {name} sync failed: {exc.message}"
    except Exception as exc:
        # A bug or a database failure: its text could hold anything, so the page gets its kind only.
        _record(
            organization_id,
            integration_id,
            error=f"The {name} sync failed unexpectedly ({type(exc).__name__}); the worker's log says why.",
        )
        raise
    if run.report.error:
        logger.warning("Sync of integration %s stopped: %s", integration_id, run.report.error)
        _record(organization_id, integration_id, error=run.report.error)
        return run.report
    _record(organization_id, integration_id, error=None)
    if run.report.problems:
        _record(organization_id, integration_id, error="; ".join(run.report.problems))
    logger.info(
        "Synced integration %s (%s): %d pages, %d payloads, %d new",
        integration_id,
        integration.provider,
        run.report.pages,
        run.report.fetched,
        run.report.taken,
    )
    return run.report


def record_sync_failure(*, organization_id: int, integration_id: int, error: str) -> None:
    """Record on the integration a sync that failed for a reason outside the vendor (see the tasks)."""
    _record(organization_id, integration_id, error=error)


# --- One sync at a time per integration ----------------------------------------------------------


_RELEASE_LUA = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""
_REFRESH_LUA = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
"""


@cache
def _redis(url: str) -> redis.Redis:
    return redis.Redis.from_url(url)


class _InProcessLocks:
    """The same lock for a process without Redis (the embedded development mode runs tasks inline)."""

    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._held: dict[str, tuple[str, float]] = {}

    def take(self, key: str, token: str, seconds: float) -> bool:
        with self._guard:
            holder = self._held.get(key)
            if holder is not None and holder[0] != token and holder[1] > time.monotonic():
                return False
            self._held[key] = (token, time.monotonic() + seconds)
            return True

    def release(self, key: str, token: str) -> None:
        with self._guard:
            if self._held.get(key, ("",))[0] == token:
                del self._held[key]


_in_process_locks = _InProcessLocks()


def sync_lock_key(organization_id: int, integration_id: int) -> str:
    """The lock's key, carrying the organisation like every shared key (``tenant_cache_key``'s form)."""
    return f"org:{organization_id}:sync-lock:integration:{integration_id}"


class SyncLock:
    """At most one sync of an integration at a time, across every worker (a Redis key with a TTL).

    ``token`` names the holder: the task's id. A delivery of the same task finding its own token there
    is a redelivery after its worker died holding the lock, and takes it over rather than waiting for the
    TTL. The TTL is renewed after every stored page, so a live sync keeps the lock and a dead one frees it.
    """

    def __init__(self, *, organization_id: int, integration_id: int, token: str | None = None) -> None:
        self.key = sync_lock_key(organization_id, integration_id)
        self.token = token or uuid.uuid4().hex
        self.milliseconds = SYNC_LOCK_SECONDS * 1000
        self._url = settings.CACHE_URL

    def acquire(self) -> bool:
        if not self._url:
            return _in_process_locks.take(self.key, self.token, SYNC_LOCK_SECONDS)
        client = _redis(self._url)
        if client.set(self.key, self.token, nx=True, px=self.milliseconds):
            return True
        return bool(client.eval(_REFRESH_LUA, 1, self.key, self.token, self.milliseconds))

    def refresh(self) -> None:
        if self._url:
            _redis(self._url).eval(_REFRESH_LUA, 1, self.key, self.token, self.milliseconds)
        else:
            _in_process_locks.take(self.key, self.token, SYNC_LOCK_SECONDS)

    def release(self) -> None:
        if self._url:
            _redis(self._url).eval(_RELEASE_LUA, 1, self.key, self.token)
        else:
            _in_process_locks.release(self.key, self.token)

    def seconds_left(self) -> float:
        if not self._url:
            return float(SYNC_LOCK_SECONDS)
        remaining = int(_redis(self._url).pttl(self.key))
        return max(remaining, 0) / 1000


# --- Bounded redelivery -----------------------------------------------------------------------------


def count_delivery(*, organization_id: int, task_id: str, retries: int) -> int:
    """Count one more start of a task delivery; return how many starts it has had (1 the first time).

    A task is redelivered (late acknowledgement, reject on worker lost) when its worker dies before it
    finishes; a sync that kills its worker every time would otherwise be redelivered for ever. The count
    is keyed by the task id and its retry number (a retry is a new delivery of the same id), carries the
    organisation, and lives in the cache.
    """
    with tenant_context(organization_id):
        key = tenant_cache_key("sync-delivery", task_id, retries)
    django_cache.add(key, 0, timeout=DELIVERY_COUNT_SECONDS)
    try:
        return int(django_cache.incr(key))
    except ValueError:  # evicted between add and incr: count this start as the first
        django_cache.set(key, 1, timeout=DELIVERY_COUNT_SECONDS)
        return 1


def forget_delivery(*, organization_id: int, task_id: str, retries: int) -> None:
    with tenant_context(organization_id):
        key = tenant_cache_key("sync-delivery", task_id, retries)
    django_cache.delete(key)
