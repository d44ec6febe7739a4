"""Clients for Jira Cloud, Slack and HubSpot, built on the vendors' official SDKs.

They return the vendors' own JSON (plain dicts, as a webhook or a scenario replay would carry it), so the
same normalisers serve every path in; they never touch the ORM and never log a credential.

Every request goes through ``_VendorClient._call``, which

- takes a slot from the organisation's rate limiter first (``signals_ingest.rate_limit``);
- retries a 429, a 5xx or a network failure up to ``RetryPolicy.max_attempts`` times, waiting exactly
  what ``Retry-After`` asks when the vendor says, otherwise an exponential backoff with full jitter;
  a ``Retry-After`` longer than ``RetryPolicy.longest_retry_after_seconds`` is not slept through but
  raised as ``VendorUnavailable(retry_after=...)`` so that a task can reschedule itself;
- raises ``CredentialsRefused`` at once, without retrying, when the vendor refuses the credentials;
- raises ``VendorRequestRejected`` naming the problem for any other refusal.

The SDKs' own retry machinery is switched off (``max_retries=0`` for jira, ``retry_handlers=[]`` for
slack_sdk, a zero urllib3 ``Retry`` for hubspot-api-client): jira waits twice the ``Retry-After``, urllib3
retries some GETs on its own, and retries in two layers would multiply the attempts and break the budget.

Paged reads fetch one page per call and hand back the token for the next, so a caller stores each page
before it asks for the next and moves its cursor only past what it stored.

A client holds one vendor connection's state; create one per task (or request), do not share it between
threads.
"""

from __future__ import annotations

import email.utils
import http.client
import json
import logging
import math
import random
import re
import time
import urllib.error
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any, ClassVar, Literal, TypeVar
from urllib.parse import quote, urlparse
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import requests
import urllib3
from django.conf import settings

from signals_ingest.rate_limit import RateLimiter, RateLimitWaitTooLong

# The vendors' SDKs are imported by the client that uses them, when it is first made: together they weigh
# about 45 MB in every process, and most processes never call a vendor (the web pages, the webhook and
# scoring workers, a scenario replay).

logger = logging.getLogger(__name__)

T = TypeVar("T")

_random = random.SystemRandom()


# --- Results and errors -------------------------------------------------------------------------------


@dataclass(frozen=True)
class ConnectionCheck:
    """The answer to "Test connection": ``message`` is a sentence for the admin."""

    ok: bool
    message: str


class VendorError(Exception):
    """A vendor request that did not succeed. ``message`` is fit for an admin and a log line; ``detail`` is
    the vendor's answer alone, without what the retries made of it."""

    def __init__(
        self,
        message: str,
        *,
        provider: str,
        operation: str,
        status: int | None = None,
        code: str | None = None,
        detail: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.detail = detail or message
        self.provider = provider
        self.operation = operation
        self.status = status
        self.code = code


class CredentialsRefused(VendorError):
    """The vendor refused the token (HTTP 401, or Slack's ``invalid_auth`` and kin). Never retried."""


class VendorUnavailable(VendorError):
    """Rate-limited, failing or unreachable, still after the allowed attempts (or asking for a wait longer
    than the caller should block). ``retry_after`` is the vendor's (or the limiter's) wait, when known."""

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class VendorRequestRejected(VendorError):
    """The vendor refused this request for a reason retrying will not cure (a 4xx other than 401 and
    429, Slack's ``channel_not_found``, ...). ``code`` is the vendor's error code where it gives one."""


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long to retry. ``sleep`` is injectable so tests need not wait."""

    max_attempts: int = 5
    base_delay_seconds: float = 1.0
    max_delay_seconds: float = 60.0
    longest_retry_after_seconds: float = 300.0
    sleep: Callable[[float], Any] = time.sleep

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("A request needs at least one attempt.")

    @classmethod
    def from_settings(cls, **overrides: Any) -> RetryPolicy:
        values: dict[str, Any] = {"max_attempts": settings.VENDOR_REQUEST_MAX_ATTEMPTS, **overrides}
        return cls(**values)

    def backoff_seconds(self, attempt: int) -> float:
        """Full jitter: uniformly between 0 and an exponentially growing ceiling, so that many workers
        that failed together do not come back together."""
        ceiling = min(self.max_delay_seconds, self.base_delay_seconds * 2 ** (attempt - 1))
        return _random.uniform(0, ceiling)


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header: a number of seconds or an HTTP date."""
    if value is None or not value.strip():
        return None
    try:
        seconds = float(value.strip())
    except ValueError:
        try:
            moment = email.utils.parsedate_to_datetime(value.strip())
        except (TypeError, ValueError):
            return None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        seconds = moment.timestamp() - (time.time() if now is None else now)
    if not math.isfinite(seconds):
        return None
    return max(0.0, seconds)


@dataclass(frozen=True)
class _Failure:
    kind: Literal["refused", "transient", "rejected"]
    message: str
    status: int | None = None
    code: str | None = None
    retry_after: float | None = None


def _short(text: object, limit: int = 300) -> str:
    flat = " ".join(str(text).split())
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."


def _with_detail(lead: str, detail: str) -> str:
    """``lead: detail.`` as one sentence, whether or not the vendor's text ends with a full stop."""
    if detail.lstrip().startswith("<"):
        detail = ""  # an HTML error page from a proxy or load balancer says nothing useful
    text = f"{lead}: {detail}" if detail else lead
    return text if text.endswith((".", "!", "?")) else text + "."


_ERRNO_REASON = re.compile(r"\[Errno -?\d+\] ([^'\")>]+)")


def _network_reason(exc: object) -> str:
    """The human part of a network failure ("Connection refused", "timed out"), without the layers of
    connection-pool wrapping around it."""
    text = str(exc)
    found = _ERRNO_REASON.search(text)
    if found:
        return found.group(1).strip()
    if "timed out" in text.lower() or isinstance(exc, TimeoutError):
        return "timed out"
    return _short(text, 160)


class _VendorClient:
    provider: ClassVar[str]
    vendor_name: ClassVar[str]

    def __init__(
        self, *, retry: RetryPolicy | None, limiter: RateLimiter | None, timeout: float | None
    ) -> None:
        self.retry = retry if retry is not None else RetryPolicy.from_settings()
        self.limiter = limiter
        self.timeout = float(settings.VENDOR_REQUEST_TIMEOUT_SECONDS if timeout is None else timeout)

    def _classify(self, exc: Exception) -> _Failure | None:
        """How a failure of this vendor's SDK should be treated; None for an exception that is not a
        vendor failure at all (a bug), which then propagates unchanged."""
        raise NotImplementedError

    def _call(self, operation: str, request: Callable[[], T], *, repeatable: bool = True) -> T:
        """Run one vendor request under the rate limiter and the retry policy.

        ``repeatable=False`` is for requests that must not happen twice (posting a message): a 5xx or a
        connection lost mid-request may mean the vendor did act, so only a 429 (it did nothing) is retried.
        """
        attempt = 0
        while True:
            attempt += 1
            if self.limiter is not None:
                try:
                    self.limiter.acquire()
                except RateLimitWaitTooLong as exc:
                    raise VendorUnavailable(
                        str(exc), retry_after=exc.wait_seconds, provider=self.provider, operation=operation
                    ) from exc
            try:
                return request()
            except Exception as exc:
                failure = self._classify(exc)
                if failure is None:
                    raise
                error_details: dict[str, Any] = {
                    "provider": self.provider,
                    "operation": operation,
                    "status": failure.status,
                    "code": failure.code,
                    "detail": failure.message,
                }
                if failure.kind == "refused":
                    raise CredentialsRefused(failure.message, **error_details) from exc
                if failure.kind == "rejected":
                    raise VendorRequestRejected(failure.message, **error_details) from exc
                if not repeatable and failure.status != 429:
                    raise VendorUnavailable(
                        f"{failure.message} Not retried: the request may have taken effect.", **error_details
                    ) from exc
                if attempt >= self.retry.max_attempts:
                    raise VendorUnavailable(
                        f"{failure.message} Gave up after {attempt} attempt{'s' if attempt > 1 else ''}.",
                        retry_after=failure.retry_after,
                        **error_details,
                    ) from exc
                if failure.retry_after is not None:
                    if failure.retry_after > self.retry.longest_retry_after_seconds:
                        raise VendorUnavailable(
                            f"{failure.message} {self.vendor_name} asks to wait {failure.retry_after:.0f} s.",
                            retry_after=failure.retry_after,
                            **error_details,
                        ) from exc
                    delay = failure.retry_after
                else:
                    delay = self.retry.backoff_seconds(attempt)
                logger.warning(
                    "%s %s failed (%s); attempt %d of %d, next in %.1f s",
                    self.vendor_name,
                    operation,
                    failure.message,
                    attempt,
                    self.retry.max_attempts,
                    delay,
                )
                self.retry.sleep(delay)

    def _connection_check(self, check: Callable[[], str]) -> ConnectionCheck:
        """Run ``check`` once (an admin is waiting: no retries) and turn its outcome into a sentence."""
        single_attempt = RetryPolicy(max_attempts=1, sleep=self.retry.sleep)
        previous, self.retry = self.retry, single_attempt
        try:
            return ConnectionCheck(ok=True, message=check())
        except VendorUnavailable as exc:
            wait = f" Try again in {math.ceil(exc.retry_after)} s." if exc.retry_after else ""
            return ConnectionCheck(ok=False, message=f"{exc.detail}{wait}")
        except VendorError as exc:
            return ConnectionCheck(ok=False, message=exc.message)
        finally:
            self.retry = previous


# --- Jira Cloud ---------------------------------------------------------------------------------------

# Fields a pull asks for; the story-points field is added per site, its id differs between sites.
JIRA_ISSUE_FIELDS = (
    "summary",
    "status",
    "project",
    "issuetype",
    "labels",
    "components",
    "parent",
    "issuelinks",
    "assignee",
    "reporter",
    "priority",
    "resolution",
    "resolutiondate",
    "updated",
    "created",
)
JIRA_SEARCH_PAGE_SIZE = 100
_JIRA_PROJECT_KEY = re.compile(r"^[A-Z][A-Z0-9_]*$")
_JIRA_FIELD_ID = re.compile(r"^customfield_\d+$")
_JIRA_TIME_FORMAT = "%Y-%m-%dT%H:%M:%S.%f%z"


def parse_jira_time(value: str) -> datetime:
    """Jira's timestamps look like ``2025-01-15T10:23:45.123+0000``."""
    return datetime.strptime(value, _JIRA_TIME_FORMAT)


def jira_time(moment: datetime) -> str:
    """A moment in Jira's own timestamp format (for fakes and scenario payloads)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}+0000"


def jql_updated_since(since: datetime, *, time_zone: str, project_keys: Sequence[str] = ()) -> str:
    """JQL for issues updated at or after ``since``, oldest first.

    JQL dates have minute precision and are read in the time zone of the account that searches, so
    ``since`` is converted to that zone and rounded down to the minute (which only widens the window).
    """
    if since.tzinfo is None:
        raise ValueError("since must be timezone-aware.")
    try:
        zone = ZoneInfo(time_zone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"Unknown time zone {time_zone!r}.") from exc
    local = since.astimezone(zone).strftime("%Y-%m-%d %H:%M")
    clauses = []
    if project_keys:
        for key in project_keys:
            if not _JIRA_PROJECT_KEY.match(key):
                raise ValueError(f"{key!r} is not a Jira project key.")
        clauses.append("project in (" + ", ".join(f'"{key}"' for key in project_keys) + ")")
    clauses.append(f'updated >= "{local}"')
    return " AND ".join(clauses) + " ORDER BY updated ASC, key ASC"


@dataclass(frozen=True)
class JiraIssuePage:
    """One page of an enhanced JQL search. Ask for the next with ``next_page_token`` and the same ``jql``
    (a token is only valid for the query that produced it)."""

    jql: str
    issues: list[dict[str, Any]]
    next_page_token: str | None
    is_last: bool
    story_points_field: str | None = None

    @property
    def latest_updated(self) -> datetime | None:
        """The newest ``updated`` among the page's issues: how far a cursor may move once it is stored."""
        moments = [
            parse_jira_time(issue["fields"]["updated"])
            for issue in self.issues
            if issue.get("fields", {}).get("updated")
        ]
        return max(moments) if moments else None

    @property
    def keys_with_more_changelog(self) -> list[str]:
        """Issues whose changelog in the search result is cut short; read the rest with
        ``JiraClient.issue_changelog_page``."""
        keys = []
        for issue in self.issues:
            changelog = issue.get("changelog") or {}
            if changelog.get("total", 0) > changelog.get("startAt", 0) + len(changelog.get("histories", [])):
                keys.append(issue["key"])
        return keys


class JiraClient(_VendorClient):
    """Jira Cloud over its REST API v3: with an account e-mail and an API token (Basic auth) at the site
    itself, or with an OAuth 2.0 access token (Bearer) at ``api_url``, Atlassian's API gateway address of
    the site (``https://api.atlassian.com/ex/jira/<cloud id>``)."""

    provider = "jira"
    vendor_name = "Jira"

    def __init__(
        self,
        *,
        site_url: str,
        email: str = "",
        api_token: str = "",
        access_token: str = "",
        api_url: str = "",
        retry: RetryPolicy | None = None,
        limiter: RateLimiter | None = None,
        timeout: float | None = None,
        time_zone: str | None = None,
    ) -> None:
        super().__init__(retry=retry, limiter=limiter, timeout=timeout)
        self.site_url = site_url.rstrip("/")
        self.site = urlparse(self.site_url).netloc or self.site_url
        self.uses_oauth = bool(access_token)
        if self.uses_oauth and not api_url:
            raise ValueError("An OAuth access token is used at the site's api.atlassian.com address.")
        self._time_zone = time_zone
        self._fields: list[dict[str, Any]] | None = None
        # An OAuth token is good only at the API gateway; an API token only at the site.
        authentication: dict[str, Any] = (
            {"token_auth": access_token} if self.uses_oauth else {"basic_auth": (email, api_token)}
        )
        from jira import JIRA

        self._jira = JIRA(
            server=api_url.rstrip("/") if self.uses_oauth else self.site_url,
            **authentication,
            options={"rest_api_version": "3", "check_update": False},
            # No serverInfo request at construction: every request goes through _call.
            get_server_info=False,
            max_retries=0,
            timeout=self.timeout,
        )

    def _classify(self, exc: Exception) -> _Failure | None:
        from jira import JIRAError

        if isinstance(exc, JIRAError):
            status = exc.status_code
            response = exc.response
            headers = response.headers if response is not None else {}
            detail = _short(exc.text) if exc.text else ""
            if status == 401:
                return _Failure(
                    "refused",
                    "The OAuth access was refused (401): connect Jira again with Atlassian."
                    if self.uses_oauth
                    else "The API token was refused (401). Check the account e-mail and the API token.",
                    status=status,
                )
            if status == 429 or (status is not None and status >= 500):
                return _Failure(
                    "transient",
                    _with_detail(f"Jira answered {status}", detail),
                    status=status,
                    retry_after=parse_retry_after(headers.get("Retry-After")),
                )
            if status == 403:
                message = _with_detail("The Jira account may not do this (403)", detail)
            elif status == 404:
                message = _with_detail("Jira has no such resource (404)", detail)
            else:
                message = _with_detail(f"Jira refused the request ({status})", detail)
            return _Failure("rejected", message, status=status)
        if isinstance(exc, requests.exceptions.RequestException):
            return _Failure("transient", f"Could not reach {self.site} ({_network_reason(exc)}).")
        return None

    def test_connection(self) -> ConnectionCheck:
        def check() -> str:
            me = self.myself()
            name = me.get("displayName") or me.get("emailAddress") or me.get("accountId")
            return f"Connected to {self.site} as {name}."

        return self._connection_check(check)

    def myself(self) -> dict[str, Any]:
        """The account the token belongs to: ``accountId``, ``displayName``, ``emailAddress``,
        ``timeZone``."""
        me: dict[str, Any] = self._call("read the account", self._jira.myself)
        if me.get("timeZone"):
            self._time_zone = me["timeZone"]
        return me

    def account_time_zone(self) -> str:
        """The time zone Jira reads JQL dates in; fetched once per client unless given."""
        if self._time_zone is None:
            self.myself()
        return self._time_zone or "UTC"

    def fields(self) -> list[dict[str, Any]]:
        if self._fields is None:
            self._fields = self._call("list fields", self._jira.fields)
        return self._fields

    def field_id(self, name_or_id: str) -> str:
        """A field's id (``customfield_10016``) from its id, its name or a JQL clause name, so an admin may
        configure the story-points field as "Story point estimate"."""
        if _JIRA_FIELD_ID.match(name_or_id):
            return name_or_id
        wanted = name_or_id.strip().casefold()
        for jira_field in self.fields():
            names = [jira_field.get("id", ""), jira_field.get("key", ""), jira_field.get("name", "")]
            names.extend(jira_field.get("clauseNames", []))
            if wanted in (name.casefold() for name in names if name):
                return str(jira_field["id"])
        raise VendorRequestRejected(
            f"{self.site} has no field called {name_or_id!r}.",
            provider=self.provider,
            operation="find a field",
            code="unknown_field",
        )

    def search_page(
        self,
        *,
        jql: str,
        next_page_token: str | None = None,
        fields: Sequence[str] = JIRA_ISSUE_FIELDS,
        expand_changelog: bool = True,
        page_size: int = JIRA_SEARCH_PAGE_SIZE,
    ) -> JiraIssuePage:
        """One page of ``POST /rest/api/3/search/jql`` (the enhanced search, paged by ``nextPageToken``).

        The library's ``enhanced_search_issues`` refuses to run without a serverInfo probe and first
        downloads the site's whole field list to translate names; this sends the documented request body
        through the library's authenticated session (``_get_json``) instead.
        """
        body: dict[str, Any] = {"jql": jql, "maxResults": page_size, "fields": list(fields)}
        if expand_changelog:
            body["expand"] = "changelog"
        if next_page_token:
            body["nextPageToken"] = next_page_token
        data: dict[str, Any] = self._call(
            "search issues", lambda: self._jira._get_json("search/jql", params=body, use_post=True)
        )
        token = data.get("nextPageToken") or None
        return JiraIssuePage(
            jql=jql,
            issues=list(data.get("issues", [])),
            next_page_token=token,
            is_last=token is None or bool(data.get("isLast", False)),
        )

    def search_updated_since(
        self,
        *,
        cursor: datetime,
        overlap: timedelta,
        story_points_field: str | None = None,
        fields: Sequence[str] = JIRA_ISSUE_FIELDS,
        project_keys: Sequence[str] = (),
        next_page_token: str | None = None,
        page_size: int = JIRA_SEARCH_PAGE_SIZE,
    ) -> Iterator[JiraIssuePage]:
        """Pages of issues updated since ``cursor - overlap``, with changelogs, oldest first.

        Lazy: a page is fetched only when the previous one has been taken, so store each page before
        asking for the next. To resume an interrupted run, pass the stored token (and the same cursor).
        """
        story_points_id = self.field_id(story_points_field) if story_points_field else None
        wanted = (
            [*fields, story_points_id] if story_points_id and story_points_id not in fields else list(fields)
        )
        jql = jql_updated_since(
            cursor - overlap, time_zone=self.account_time_zone(), project_keys=project_keys
        )
        token = next_page_token
        while True:
            page = self.search_page(jql=jql, next_page_token=token, fields=wanted, page_size=page_size)
            yield replace(page, story_points_field=story_points_id)
            if page.is_last:
                return
            token = page.next_page_token

    def issue_changelog_page(
        self, issue_key: str, *, start_at: int = 0, max_results: int = 100
    ) -> dict[str, Any]:
        """``GET /rest/api/3/issue/{key}/changelog``: ``{values, startAt, maxResults, total, isLast}``."""
        path = f"issue/{quote(issue_key, safe='')}/changelog"
        params = {"startAt": start_at, "maxResults": max_results}
        page: dict[str, Any] = self._call(
            "read a changelog", lambda: self._jira._get_json(path, params=params)
        )
        return page


# --- Slack --------------------------------------------------------------------------------------------

_SLACK_REFUSED = {"invalid_auth", "not_authed", "account_inactive", "token_revoked", "token_expired"}
_SLACK_TRANSIENT = {"ratelimited", "fatal_error", "internal_error", "service_unavailable", "request_timeout"}
_SLACK_HINTS = {
    "channel_not_found": "the channel does not exist, or the app cannot see it",
    "not_in_channel": "the app is not a member of the channel; invite it to the channel in Slack",
    "is_archived": "the channel is archived",
    "thread_not_found": "the thread does not exist",
    "user_not_found": "there is no such user",
    "users_not_found": "there is no such user",
    "cannot_dm_bot": "a bot cannot be sent a direct message",
    "user_disabled": "the user is deactivated",
}


@dataclass(frozen=True)
class SlackMessagePage:
    """One page of ``conversations.history`` or ``conversations.replies``. History comes newest first;
    ``next_cursor`` is None on the last page."""

    messages: list[dict[str, Any]]
    next_cursor: str | None
    has_more: bool


class SlackClient(_VendorClient):
    """The Slack Web API with a bot token."""

    provider = "slack"
    vendor_name = "Slack"

    def __init__(
        self,
        *,
        bot_token: str,
        base_url: str = "https://slack.com/api/",
        retry: RetryPolicy | None = None,
        limiter: RateLimiter | None = None,
        timeout: float | None = None,
    ) -> None:
        super().__init__(retry=retry, limiter=limiter, timeout=timeout)
        from slack_sdk import WebClient

        self._slack = WebClient(
            token=bot_token, base_url=base_url, timeout=math.ceil(self.timeout), retry_handlers=[]
        )

    def _classify(self, exc: Exception) -> _Failure | None:
        from slack_sdk.errors import SlackApiError

        if isinstance(exc, SlackApiError):
            response = exc.response
            status = response.status_code
            data = response.data if isinstance(response.data, dict) else {}
            code = str(data.get("error") or "") or None
            if status == 429 or (status >= 500) or code in _SLACK_TRANSIENT:
                retry_after = parse_retry_after(
                    response.headers.get("Retry-After") or response.headers.get("retry-after")
                )
                # On a 5xx, slack_sdk puts its own complaint about a non-JSON body where the code would be.
                shown = f" ({code})" if code and re.fullmatch(r"[a-z_]+", code) else ""
                return _Failure(
                    "transient",
                    f"Slack answered {status}{shown}.",
                    status=status,
                    code=code,
                    retry_after=retry_after,
                )
            if code in _SLACK_REFUSED:
                return _Failure(
                    "refused",
                    f"Slack refused the bot token ({code}). Reinstall the app or enter a new token.",
                    status=status,
                    code=code,
                )
            if code == "missing_scope":
                hint = f"the token lacks the {data.get('needed') or 'needed'} scope; reinstall the app"
            else:
                hint = _SLACK_HINTS.get(code or "", "")
            return _Failure(
                "rejected",
                f"Slack refused the request ({code or status}){': ' + hint if hint else ''}.",
                status=status,
                code=code,
            )
        if isinstance(
            exc, urllib.error.URLError | TimeoutError | ConnectionError | http.client.HTTPException
        ):
            return _Failure("transient", f"Could not reach Slack ({_network_reason(exc)}).")
        return None

    def test_connection(self) -> ConnectionCheck:
        def check() -> str:
            identity = self.auth_test()
            workspace = identity.get("team") or identity.get("team_id")
            domain = urlparse(str(identity.get("url") or "")).netloc
            where = f"the {workspace} workspace" + (f" ({domain})" if domain else "")
            return f"Connected to {where} as {identity.get('user') or identity.get('user_id')}."

        return self._connection_check(check)

    def auth_test(self) -> dict[str, Any]:
        response = self._call("check the token", self._slack.auth_test)
        return dict(response.data) if isinstance(response.data, dict) else {}

    def list_channels(self, *, include_private: bool = False) -> list[dict[str, Any]]:
        """Every channel the bot can see (archived ones left out), for an admin to choose from. Private
        channels only when asked: they are read only when an admin selects them explicitly."""
        types = "public_channel,private_channel" if include_private else "public_channel"
        channels: list[dict[str, Any]] = []
        cursor: str | None = None
        while True:
            response = self._call(
                "list channels",
                partial(
                    self._slack.conversations_list,
                    types=types,
                    exclude_archived=True,
                    limit=200,
                    cursor=cursor,
                ),
            )
            channels.extend(response.get("channels", []))
            cursor = (response.get("response_metadata") or {}).get("next_cursor") or None
            if cursor is None:
                return channels

    def channel_history_page(
        self,
        channel: str,
        *,
        oldest: str | None = None,
        latest: str | None = None,
        cursor: str | None = None,
        limit: int = 200,
    ) -> SlackMessagePage:
        """One page of ``conversations.history`` for messages strictly after ``oldest`` (a Slack ``ts``)
        and up to ``latest``, newest first. Page on with ``cursor`` (same ``oldest`` and ``latest``)."""
        response = self._call(
            "read channel history",
            lambda: self._slack.conversations_history(
                channel=channel, oldest=oldest, latest=latest, cursor=cursor, limit=limit
            ),
        )
        return self._message_page(response.data)

    def thread_replies_page(
        self,
        channel: str,
        thread_ts: str,
        *,
        oldest: str | None = None,
        cursor: str | None = None,
        limit: int = 200,
    ) -> SlackMessagePage:
        """One page of ``conversations.replies``: the parent message first, then replies oldest first."""
        response = self._call(
            "read thread replies",
            lambda: self._slack.conversations_replies(
                channel=channel, ts=thread_ts, oldest=oldest, cursor=cursor, limit=limit
            ),
        )
        return self._message_page(response.data)

    @staticmethod
    def _message_page(data: Any) -> SlackMessagePage:
        payload = data if isinstance(data, dict) else {}
        next_cursor = (payload.get("response_metadata") or {}).get("next_cursor") or None
        return SlackMessagePage(
            messages=list(payload.get("messages", [])),
            next_cursor=next_cursor,
            has_more=bool(payload.get("has_more", False)),
        )

    def user_info(self, user_id: str) -> dict[str, Any]:
        response = self._call("read a user", lambda: self._slack.users_info(user=user_id))
        user: dict[str, Any] = response.get("user") or {}
        return user

    def user_email(self, user_id: str) -> str | None:
        """The user's e-mail, or None where Slack gives none (bots; a token without ``users:read.email``)."""
        email_address = (self.user_info(user_id).get("profile") or {}).get("email")
        return str(email_address) if email_address else None

    def send_direct_message(self, user_id: str, text: str) -> str:
        """Open (or reuse) the direct conversation with ``user_id`` and post ``text``; returns the message
        ``ts``. Only a 429 on the post is retried: after a 5xx Slack may have delivered it."""
        opened = self._call("open a direct message", lambda: self._slack.conversations_open(users=user_id))
        channel_id = str((opened.get("channel") or {}).get("id"))
        posted = self._call(
            "send a direct message",
            lambda: self._slack.chat_postMessage(channel=channel_id, text=text),
            repeatable=False,
        )
        return str(posted.get("ts"))


# --- HubSpot ------------------------------------------------------------------------------------------

# HubSpot's CRM search pages through at most 10,000 results of one query; asking beyond is a 400.
HUBSPOT_SEARCH_RESULT_CAP = 10_000
HUBSPOT_SEARCH_PAGE_SIZE = 200
HUBSPOT_BATCH_SIZE = 100
HUBSPOT_MODIFIED_PROPERTY = "hs_lastmodifieddate"
# The v3 association type names, as ``GET /crm/v3/objects/{type}/{id}?associations=deals`` reports them.
_HUBSPOT_DEAL_ASSOCIATION_TYPES = {
    "notes": "note_to_deal",
    "calls": "call_to_deal",
    "meetings": "meeting_event_to_deal",
    "emails": "email_to_deal",
    "tasks": "task_to_deal",
    "contacts": "contact_to_deal",
    "companies": "company_to_deal",
}


def _hubspot_api_exceptions() -> tuple[Any, ...]:
    """What the SDK's CRM APIs raise for an answer that is not a success (one class per API)."""
    from hubspot.crm.associations.v4.exceptions import ApiException as AssociationsApiException
    from hubspot.crm.objects.exceptions import ApiException as ObjectsApiException
    from hubspot.crm.owners.exceptions import ApiException as OwnersApiException
    from hubspot.crm.pipelines.exceptions import ApiException as PipelinesApiException

    return (ObjectsApiException, AssociationsApiException, OwnersApiException, PipelinesApiException)


def _epoch_ms(moment: datetime) -> int:
    if moment.tzinfo is None:
        raise ValueError("HubSpot search windows need timezone-aware datetimes.")
    return int(moment.timestamp() * 1000)


def _from_epoch_ms(value: int) -> datetime:
    return datetime.fromtimestamp(value / 1000, tz=UTC)


@dataclass(frozen=True)
class HubSpotSearchPage:
    """One page of a CRM search over a window of last-modified times ``[window_start, window_end)``.

    ``window_end`` may be earlier than the end asked for: a window holding more than HubSpot's 10,000
    searchable results is halved until it fits. While ``next_after`` is set, ask again with the same
    ``window_start``, ``window_end`` and ``after=next_after``; when it is None the window is done, and
    the next one starts at ``window_end``.

    Results come oldest first. An object modified again while its window is being paged moves out of
    it (into a later window), which shifts the offsets behind it; the periodic reconciliation re-reads
    what such a shift can skip.
    """

    object_type: str
    window_start: datetime
    window_end: datetime
    results: list[dict[str, Any]]
    total: int
    next_after: str | None

    @property
    def window_done(self) -> bool:
        return self.next_after is None


@dataclass(frozen=True)
class HubSpotObjectPage:
    """One page of a plain object listing; ask for the next with ``after=next_after`` while it is set."""

    results: list[dict[str, Any]]
    next_after: str | None = None


class HubSpotClient(_VendorClient):
    """HubSpot's CRM v3 API with a private app (or OAuth) access token."""

    provider = "hubspot"
    vendor_name = "HubSpot"

    def __init__(
        self,
        *,
        access_token: str,
        base_url: str = "https://api.hubapi.com",
        retry: RetryPolicy | None = None,
        limiter: RateLimiter | None = None,
        timeout: float | None = None,
    ) -> None:
        super().__init__(retry=retry, limiter=limiter, timeout=timeout)
        self.base_url = base_url.rstrip("/")
        from hubspot import HubSpot

        client = HubSpot(
            access_token=access_token,
            host=self.base_url,
            # urllib3's default Retry would itself retry a GET that answers 429 or 503 with Retry-After.
            retry=urllib3.util.Retry(total=0, raise_on_redirect=False, raise_on_status=False),
        )
        # Each attribute access builds a new API client and connection pool, so keep the ones used.
        self._search_api = client.crm.objects.search_api
        self._basic_api = client.crm.objects.basic_api
        self._batch_api = client.crm.objects.batch_api
        self._associations_batch_api = client.crm.associations.v4.batch_api
        self._owners_api = client.crm.owners.owners_api
        self._pipelines_api = client.crm.pipelines.pipelines_api

    def _classify(self, exc: Exception) -> _Failure | None:
        if isinstance(exc, _hubspot_api_exceptions()):
            status = int(exc.status or 0)
            body = exc.body.decode("utf-8", "replace") if isinstance(exc.body, bytes) else str(exc.body or "")
            try:
                parsed = json.loads(body) if body else {}
            except ValueError:
                parsed = {}
            parsed = parsed if isinstance(parsed, dict) else {}
            detail = _short(parsed.get("message") or body or exc.reason or "", 300)
            category = parsed.get("category") or parsed.get("errorType")
            if status == 0:
                return _Failure("transient", f"Could not reach HubSpot ({_network_reason(detail)}).")
            if status == 401:
                return _Failure(
                    "refused",
                    _with_detail("HubSpot refused the access token (401)", detail),
                    status=status,
                    code=category,
                )
            if status == 429 or status >= 500:
                headers = exc.headers or {}
                return _Failure(
                    "transient",
                    _with_detail(f"HubSpot answered {status}", detail),
                    status=status,
                    code=category,
                    retry_after=parse_retry_after(headers.get("Retry-After")),
                )
            return _Failure(
                "rejected",
                _with_detail(f"HubSpot refused the request ({status})", detail),
                status=status,
                code=category,
            )
        if isinstance(exc, urllib3.exceptions.HTTPError):
            where = urlparse(self.base_url).netloc
            return _Failure("transient", f"Could not reach {where} ({_network_reason(exc)}).")
        return None

    @staticmethod
    def _json(response: Any) -> dict[str, Any]:
        data = json.loads(response.data) if response.data else {}
        return data if isinstance(data, dict) else {"results": data}

    def _search(self, object_type: str, body: dict[str, Any]) -> dict[str, Any]:
        return self._json(
            self._search_api.do_search(
                object_type,
                public_object_search_request=body,
                _preload_content=False,
                _request_timeout=self.timeout,
            )
        )

    def test_connection(self) -> ConnectionCheck:
        def check() -> str:
            found = self._call("search deals", lambda: self._search("deals", {"limit": 1, "properties": []}))
            total = int(found.get("total", 0))
            return f"Connected to HubSpot: the token reads deals ({total:,} in the account)."

        return self._connection_check(check)

    def search_modified_page(
        self,
        object_type: str,
        *,
        start: datetime,
        end: datetime,
        after: str | None = None,
        properties: Sequence[str] = (),
        modified_property: str = HUBSPOT_MODIFIED_PROPERTY,
    ) -> HubSpotSearchPage:
        """One page of ``POST /crm/v3/objects/{object_type}/search`` for objects last modified in
        ``[start, end)``, oldest first (see ``HubSpotSearchPage`` for how to go on).

        On the first page of a window (``after`` None) a window holding more than 10,000 results is
        halved, as often as needed, before any result is taken. Keep ``end`` a little in the past, so no
        window grows while it is paged.
        """
        start_ms, end_ms = _epoch_ms(start), _epoch_ms(end)
        if end_ms <= start_ms:
            raise ValueError("The search window must end after it starts.")
        if after is not None and int(after) >= HUBSPOT_SEARCH_RESULT_CAP:
            raise ValueError(f"HubSpot pages no further than {HUBSPOT_SEARCH_RESULT_CAP:,} results.")
        while True:
            body: dict[str, Any] = {
                "filterGroups": [
                    {
                        "filters": [
                            {"propertyName": modified_property, "operator": "GTE", "value": str(start_ms)},
                            {"propertyName": modified_property, "operator": "LT", "value": str(end_ms)},
                        ]
                    }
                ],
                "sorts": [{"propertyName": modified_property, "direction": "ASCENDING"}],
                "properties": sorted({*properties, modified_property}),
                "limit": HUBSPOT_SEARCH_PAGE_SIZE,
            }
            if after is not None:
                body["after"] = after
            data = self._call(f"search {object_type}", partial(self._search, object_type, body))
            total = int(data.get("total", 0))
            if after is not None and total > HUBSPOT_SEARCH_RESULT_CAP:
                raise VendorRequestRejected(
                    f"The window from {start.isoformat()} to {end.isoformat()} holds {total:,} {object_type},"
                    " more than HubSpot's search pages through; continue with the window_end of its first"
                    " page.",
                    provider=self.provider,
                    operation=f"search {object_type}",
                    code="search_window_too_full",
                )
            if after is None and total > HUBSPOT_SEARCH_RESULT_CAP:
                middle = start_ms + (end_ms - start_ms) // 2
                if middle <= start_ms:
                    raise VendorRequestRejected(
                        f"More than {HUBSPOT_SEARCH_RESULT_CAP:,} {object_type} were modified in the one"
                        f" millisecond at {_from_epoch_ms(start_ms).isoformat()}; HubSpot's search cannot"
                        " page through them.",
                        provider=self.provider,
                        operation=f"search {object_type}",
                        code="search_window_too_full",
                    )
                end_ms = middle
                continue
            next_after = ((data.get("paging") or {}).get("next") or {}).get("after")
            return HubSpotSearchPage(
                object_type=object_type,
                window_start=_from_epoch_ms(start_ms),
                window_end=_from_epoch_ms(end_ms),
                results=list(data.get("results", [])),
                total=total,
                next_after=str(next_after) if next_after is not None else None,
            )

    def read_objects_with_deal_associations(
        self, object_type: str, ids: Sequence[str], *, properties: Sequence[str] = ()
    ) -> list[dict[str, Any]]:
        """Objects by id (``POST .../batch/read``), each with ``associations.deals.results`` as the
        single-object read shows it, read in batches of 100 (``POST /crm/v4/associations/.../batch/read``).
        Ids HubSpot does not know (deleted meanwhile) are left out."""
        objects: list[dict[str, Any]] = []
        unique_ids = list(dict.fromkeys(str(object_id) for object_id in ids))
        for offset in range(0, len(unique_ids), HUBSPOT_BATCH_SIZE):
            batch = unique_ids[offset : offset + HUBSPOT_BATCH_SIZE]
            read_body = {"inputs": [{"id": object_id} for object_id in batch], "properties": list(properties)}
            found = self._call(f"read {object_type}", partial(self._batch_read, object_type, read_body))
            results = list(found.get("results", []))
            if object_type != "deals" and results:
                deals_by_id = self._deal_associations(object_type, [str(result["id"]) for result in results])
                association_type = _HUBSPOT_DEAL_ASSOCIATION_TYPES.get(object_type, f"{object_type}_to_deal")
                for result in results:
                    result["associations"] = {
                        "deals": {
                            "results": [
                                {"id": deal_id, "type": association_type}
                                for deal_id in deals_by_id.get(str(result["id"]), [])
                            ]
                        }
                    }
            objects.extend(results)
        return objects

    def _batch_read(self, object_type: str, body: dict[str, Any]) -> dict[str, Any]:
        return self._json(
            self._batch_api.read(
                object_type,
                batch_read_input_simple_public_object_id=body,
                archived=False,
                _preload_content=False,
                _request_timeout=self.timeout,
            )
        )

    def _deal_associations(self, object_type: str, ids: list[str]) -> dict[str, list[str]]:
        body = {"inputs": [{"id": object_id} for object_id in ids]}
        data = self._call(
            f"read {object_type} deal associations",
            lambda: self._json(
                self._associations_batch_api.get_page(
                    object_type,
                    "deals",
                    batch_input_public_fetch_associations_batch_request=body,
                    _preload_content=False,
                    _request_timeout=self.timeout,
                )
            ),
        )
        deals: dict[str, list[str]] = {}
        for row in data.get("results", []):
            from_id = str((row.get("from") or {}).get("id"))
            deals[from_id] = [str(target["toObjectId"]) for target in row.get("to", [])]
        return deals

    def read_object_with_deal_associations(
        self, object_type: str, object_id: str, *, properties: Sequence[str] = ()
    ) -> dict[str, Any] | None:
        """``GET /crm/v3/objects/{object_type}/{object_id}?associations=deals``; None if HubSpot has no
        such (unarchived) object."""
        try:
            return self._call(
                f"read {object_type}",
                lambda: self._json(
                    self._basic_api.get_by_id(
                        object_type,
                        str(object_id),
                        properties=list(properties) or None,
                        associations=["deals"],
                        archived=False,
                        _preload_content=False,
                        _request_timeout=self.timeout,
                    )
                ),
            )
        except VendorRequestRejected as exc:
            if exc.status == 404:
                return None
            raise

    def archived_page(
        self, object_type: str, *, after: str | None = None, properties: Sequence[str] = ()
    ) -> HubSpotObjectPage:
        """One page of archived (deleted) objects, ``GET /crm/v3/objects/{object_type}?archived=true``:
        search never returns them, so their removal is read here."""
        data = self._call(
            f"list archived {object_type}",
            lambda: self._json(
                self._basic_api.get_page(
                    object_type,
                    limit=100,
                    after=after,
                    properties=list(properties) or None,
                    archived=True,
                    _preload_content=False,
                    _request_timeout=self.timeout,
                )
            ),
        )
        next_after = ((data.get("paging") or {}).get("next") or {}).get("after")
        return HubSpotObjectPage(
            results=list(data.get("results", [])), next_after=str(next_after) if next_after else None
        )

    def list_owners(self) -> list[dict[str, Any]]:
        """Every active owner (``id``, ``email``, ``firstName``, ``lastName``, ``userId``): the people
        deals and activities are assigned to, matched to OKRSignal people by e-mail."""
        owners: list[dict[str, Any]] = []
        after: str | None = None
        while True:
            data = self._call("list owners", partial(self._owners_page, after))
            owners.extend(data.get("results", []))
            after = ((data.get("paging") or {}).get("next") or {}).get("after")
            if not after:
                return owners

    def _owners_page(self, after: str | None) -> dict[str, Any]:
        return self._json(
            self._owners_api.get_page(
                limit=100, after=after, archived=False, _preload_content=False, _request_timeout=self.timeout
            )
        )

    def deal_pipelines(self) -> list[dict[str, Any]]:
        """The deal pipelines with their stages (``id``, ``label``, ``stages[].id``, ``stages[].label``)."""
        data = self._call(
            "list deal pipelines",
            lambda: self._json(
                self._pipelines_api.get_all("deals", _preload_content=False, _request_timeout=self.timeout)
            ),
        )
        return list(data.get("results", []))


# --- OAuth 2.0 token endpoints ------------------------------------------------------------------------
#
# An authorisation code, then each refresh token, is exchanged for an access token. A refusal of the code
# or the refresh token (the grant was revoked, expired, or already used) is ``CredentialsRefused``: asking
# again cannot succeed, a person has to consent again. Nothing here logs a token or puts one in a message.


@dataclass(frozen=True)
class OAuthGrant:
    """What a token endpoint granted. ``refresh_token`` may be a new one (Atlassian rotates them)."""

    access_token: str
    refresh_token: str
    expires_in: int

    def __repr__(self) -> str:
        return f"<OAuthGrant expires_in={self.expires_in}>"

    @classmethod
    def from_response(cls, data: dict[str, Any], *, vendor: str, operation: str) -> OAuthGrant:
        access_token, refresh_token = (
            str(data.get("access_token") or ""),
            str(data.get("refresh_token") or ""),
        )
        if not access_token or not refresh_token:
            raise VendorRequestRejected(
                f"{vendor} answered without an access token and a refresh token.",
                provider=vendor.lower(),
                operation=operation,
            )
        try:
            expires_in = int(data.get("expires_in") or 0)
        except (TypeError, ValueError):
            expires_in = 0
        return cls(access_token=access_token, refresh_token=refresh_token, expires_in=expires_in)


def _oauth_failure(vendor: str, status: int, error: str, detail: str, grant_codes: set[str]) -> _Failure:
    if status == 429 or status >= 500:
        return _Failure("transient", _with_detail(f"{vendor} answered {status}", detail), status=status)
    if error in grant_codes:
        return _Failure(
            "refused",
            _with_detail(f"{vendor} refused the grant ({error})", detail),
            status=status,
            code=error,
        )
    return _Failure(
        "rejected",
        _with_detail(f"{vendor} refused the request ({status}, {error or 'no code'})", detail),
        status=status,
        code=error or None,
    )


# HubSpot names a refused code or refresh token by ``status`` (``BAD_AUTH_CODE``, ``BAD_REFRESH_TOKEN``),
# or, on its newer endpoints, the standard ``invalid_grant``.
_HUBSPOT_GRANT_ERRORS = {"BAD_AUTH_CODE", "BAD_REFRESH_TOKEN", "EXPIRED_AUTH_CODE", "invalid_grant"}


class HubSpotOAuthClient(_VendorClient):
    """HubSpot's OAuth v1 endpoints (``/oauth/v1/token``, ``/oauth/v1/access-tokens/{token}``) through the
    official SDK's ``oauth`` API, for OKRSignal's own HubSpot app."""

    provider = "hubspot"
    vendor_name = "HubSpot"

    def __init__(
        self,
        *,
        client_id: str,
        client_secret: str,
        base_url: str = "https://api.hubapi.com",
        retry: RetryPolicy | None = None,
        timeout: float | None = None,
    ) -> None:
        super().__init__(retry=retry, limiter=None, timeout=timeout)
        self._client_id, self._client_secret = client_id, client_secret
        self.base_url = base_url.rstrip("/")
        from hubspot import HubSpot

        client = HubSpot(
            host=self.base_url,
            retry=urllib3.util.Retry(total=0, raise_on_redirect=False, raise_on_status=False),
        )
        self._tokens_api = client.oauth.tokens_api
        self._access_tokens_api = client.oauth.access_tokens_api

    def _classify(self, exc: Exception) -> _Failure | None:
        from hubspot.oauth.exceptions import ApiException as HubSpotOAuthApiException

        if isinstance(exc, HubSpotOAuthApiException):
            status = int(exc.status or 0)
            body = exc.body.decode("utf-8", "replace") if isinstance(exc.body, bytes) else str(exc.body or "")
            try:
                parsed = json.loads(body) if body else {}
            except ValueError:
                parsed = {}
            parsed = parsed if isinstance(parsed, dict) else {}
            if status == 0:
                return _Failure(
                    "transient", f"Could not reach HubSpot ({_network_reason(body or exc.reason)})."
                )
            error = str(parsed.get("status") or parsed.get("error") or "")
            detail = _short(parsed.get("message") or parsed.get("error_description") or "", 300)
            return _oauth_failure("HubSpot", status, error, detail, _HUBSPOT_GRANT_ERRORS)
        if isinstance(exc, urllib3.exceptions.HTTPError):
            return _Failure(
                "transient", f"Could not reach {urlparse(self.base_url).netloc} ({_network_reason(exc)})."
            )
        return None

    def _token(self, operation: str, **form: str) -> OAuthGrant:
        response = self._call(
            operation,
            lambda: self._tokens_api.create(
                client_id=self._client_id,
                client_secret=self._client_secret,
                **form,
                _preload_content=False,
                _request_timeout=self.timeout,
            ),
            # A code is good once, and a renewal may have replaced the refresh token: never sent twice.
            repeatable=False,
        )
        data = json.loads(response.data) if response.data else {}
        return OAuthGrant.from_response(
            data if isinstance(data, dict) else {}, vendor="HubSpot", operation=operation
        )

    def exchange_code(self, *, code: str, redirect_uri: str) -> OAuthGrant:
        return self._token(
            "exchange the authorisation code",
            grant_type="authorization_code",
            code=code,
            redirect_uri=redirect_uri,
        )

    def refresh(self, *, refresh_token: str) -> OAuthGrant:
        return self._token("renew the access token", grant_type="refresh_token", refresh_token=refresh_token)

    def token_info(self, access_token: str) -> dict[str, Any]:
        """The account an access token reaches: ``hub_id``, ``hub_domain``, ``user``, ``scopes``."""
        response = self._call(
            "read the access token's account",
            lambda: self._access_tokens_api.get(
                access_token, _preload_content=False, _request_timeout=self.timeout
            ),
        )
        data = json.loads(response.data) if response.data else {}
        return data if isinstance(data, dict) else {}


# Atlassian names a refused code or refresh token ``invalid_grant`` (expired, revoked, or a rotated refresh
# token used twice) or ``unauthorized_client`` ("refresh_token is invalid").
_ATLASSIAN_GRANT_ERRORS = {"invalid_grant", "unauthorized_client"}


class AtlassianOAuthClient(_VendorClient):
    """Atlassian's OAuth 2.0 (3LO) token endpoint and the list of sites a grant reaches.

    There is no Atlassian SDK for these two requests; they go through ``requests``, as the ``jira``
    library's own do."""

    provider = "jira"
    vendor_name = "Atlassian"

    def __init__(
        self,
        *,
        client_id: str,
        client_secret: str,
        token_url: str,
        api_url: str,
        retry: RetryPolicy | None = None,
        timeout: float | None = None,
    ) -> None:
        super().__init__(retry=retry, limiter=None, timeout=timeout)
        self._client_id, self._client_secret = client_id, client_secret
        self.token_url = token_url
        self.api_url = api_url.rstrip("/")
        self._session = requests.Session()

    def _classify(self, exc: Exception) -> _Failure | None:
        if isinstance(exc, requests.HTTPError) and exc.response is not None:
            response = exc.response
            try:
                parsed = response.json()
            except ValueError:
                parsed = {}
            parsed = parsed if isinstance(parsed, dict) else {}
            error = str(parsed.get("error") or parsed.get("code") or "")
            detail = _short(parsed.get("error_description") or parsed.get("message") or "", 300)
            failure = _oauth_failure(
                "Atlassian", response.status_code, error, detail, _ATLASSIAN_GRANT_ERRORS
            )
            return replace(failure, retry_after=parse_retry_after(response.headers.get("Retry-After")))
        if isinstance(exc, requests.exceptions.RequestException):
            return _Failure("transient", f"Could not reach Atlassian ({_network_reason(exc)}).")
        return None

    def _token(self, operation: str, body: dict[str, str]) -> OAuthGrant:
        def post() -> dict[str, Any]:
            response = self._session.post(
                self.token_url,
                json={"client_id": self._client_id, "client_secret": self._client_secret, **body},
                timeout=self.timeout,
            )
            response.raise_for_status()
            data = response.json()
            return data if isinstance(data, dict) else {}

        # A code is good once, and a renewal replaces the refresh token: never sent twice.
        return OAuthGrant.from_response(
            self._call(operation, post, repeatable=False), vendor="Atlassian", operation=operation
        )

    def exchange_code(self, *, code: str, redirect_uri: str) -> OAuthGrant:
        return self._token(
            "exchange the authorisation code",
            {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri},
        )

    def refresh(self, *, refresh_token: str) -> OAuthGrant:
        return self._token(
            "renew the access token", {"grant_type": "refresh_token", "refresh_token": refresh_token}
        )

    def accessible_resources(self, access_token: str) -> list[dict[str, Any]]:
        """The sites the grant reaches: ``id`` (the cloud id), ``url``, ``name``, ``scopes``."""

        def get() -> list[dict[str, Any]]:
            response = self._session.get(
                f"{self.api_url}/oauth/token/accessible-resources",
                headers={"Authorization": f"Bearer {access_token}", "Accept": "application/json"},
                timeout=self.timeout,
            )
            response.raise_for_status()
            data = response.json()
            return [item for item in data if isinstance(item, dict)] if isinstance(data, list) else []

        return self._call("list the sites the grant reaches", get)
