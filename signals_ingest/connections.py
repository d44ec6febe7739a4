"""Talking to a connected vendor while an admin waits: the client for an integration, the connection
test, the Slack channels an admin may choose to have read, and the "Add to Slack" install (OAuth v2).

What each provider's credentials hold (encrypted, ``Integration.credentials``), by key:

* Jira: ``email`` (the account the API token belongs to; also kept, not secret, as the setting
  ``account_email`` so the page can show it), ``api_token``, and optionally ``webhook_secret`` (the secret
  Jira signs webhooks with, ``X-Hub-Signature``).
* Slack: ``bot_token`` (``xoxb-…``) and ``signing_secret`` (the app's, for the Events API).
* HubSpot: ``access_token`` (a private app's token) and ``client_secret`` (the app's client secret, with
  which HubSpot signs webhooks, signature v3).

Integrations connected with OAuth (HubSpot, Jira) hold tokens that are renewed before use instead: see
``signals_ingest.oauth``.

Every call here makes one attempt with a short timeout and a short wait for the organisation's rate
limiter: a person is waiting for the page. Answers are sentences for the admin; no credential is ever in
one (``services.redact_credentials`` is applied on top of what the clients already leave out).
"""

from __future__ import annotations

import hmac
import http.client
import logging
import math
import secrets
import time
import urllib.error
from collections.abc import MutableMapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlparse

from django.conf import settings
from django.db import transaction

from signals_ingest import oauth, services
from signals_ingest.clients import (
    ConnectionCheck,
    HubSpotClient,
    JiraClient,
    RetryPolicy,
    SlackClient,
    VendorError,
    VendorUnavailable,
)
from signals_ingest.crypto import CredentialsUnreadable
from signals_ingest.models import Integration, Provider
from signals_ingest.rate_limit import ProviderRateLimiter

# The credentials each provider needs before anything can be asked of it.
REQUIRED_CREDENTIAL_KEYS: dict[str, tuple[str, ...]] = {
    Provider.JIRA: ("email", "api_token"),
    Provider.SLACK: ("bot_token", "signing_secret"),
    Provider.HUBSPOT: ("access_token", "client_secret"),
}

# What an integration connected with OAuth needs instead (``signals_ingest.oauth``).
OAUTH_REQUIRED_CREDENTIAL_KEYS: dict[str, tuple[str, ...]] = {
    Provider.JIRA: ("access_token", "refresh_token"),
    Provider.HUBSPOT: ("access_token", "refresh_token", "client_secret"),
}

# A page waits at most this long for one vendor request, and for a free slot in the rate limiter.
PAGE_REQUEST_TIMEOUT_SECONDS = 15.0
PAGE_RATE_LIMIT_WAIT_SECONDS = 5.0

logger = logging.getLogger(__name__)

VendorClient = JiraClient | SlackClient | HubSpotClient


class NotConnected(Exception):
    """The integration has no usable credentials; ``message`` tells the admin what to do."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def vendor_client(integration: Integration, *, retry: RetryPolicy | None = None) -> VendorClient:
    """A client for the integration's vendor, with its credentials, for a request made while a page waits.

    Raises ``NotConnected`` when the integration is disconnected or its credentials cannot be read.
    """
    label = Provider(integration.provider).label
    if not integration.is_connected:
        raise NotConnected(f"{label} is disconnected. Connect it again to test it or read from it.")
    uses_oauth = integration.auth_method == Integration.AuthMethod.OAUTH
    try:
        credentials = oauth.usable_credentials(integration)
    except CredentialsUnreadable:
        raise NotConnected(
            f"The stored {label} credentials cannot be read with the configured encryption keys."
            " Enter them again under Settings."
        ) from None
    except oauth.ReconnectionRequired as refusal:
        raise NotConnected(refusal.message) from None
    except VendorError as error:
        reason = services.redact_credentials(error.message, integration)
        raise NotConnected(f"{label}'s access could not be renewed: {reason}") from None
    required = OAUTH_REQUIRED_CREDENTIAL_KEYS if uses_oauth else REQUIRED_CREDENTIAL_KEYS
    missing = [key for key in required[integration.provider] if not credentials.get(key)]
    if integration.provider == Provider.JIRA and not integration.settings.get("site"):
        missing.append("site")
    if integration.provider == Provider.JIRA and uses_oauth and not integration.settings.get("cloud_id"):
        missing.append("cloud_id")
    if missing:
        raise NotConnected(f"{label} lacks {', '.join(missing)}. Enter it under Settings.")
    options: dict[str, Any] = {
        "retry": retry or RetryPolicy(max_attempts=1),
        "limiter": ProviderRateLimiter.for_current_organization(
            integration.provider, max_wait_seconds=PAGE_RATE_LIMIT_WAIT_SECONDS
        ),
        "timeout": PAGE_REQUEST_TIMEOUT_SECONDS,
    }
    if integration.provider == Provider.JIRA:
        return JiraClient(
            site_url=str(integration.settings["site"]),
            **oauth.jira_authentication(integration, credentials),
            **options,
        )
    # An integration may name its own API address (a proxy), as the pull syncs honour too.
    api_base_url = str(integration.settings.get("api_base_url") or "")
    if integration.provider == Provider.SLACK:
        base_url = api_base_url or settings.SLACK_API_URL
        return SlackClient(
            bot_token=str(credentials["bot_token"]),
            base_url=base_url if base_url.endswith("/") else base_url + "/",
            **options,
        )
    return HubSpotClient(
        access_token=str(credentials["access_token"]),
        base_url=api_base_url or settings.HUBSPOT_API_URL,
        **options,
    )


def integration_test_connection(*, integration: Integration) -> ConnectionCheck:
    """Ask the vendor whether the stored credentials work; the answer is a sentence for the admin.

    The sync state is left alone: it records syncs, and a test takes nothing in.
    """
    try:
        client = vendor_client(integration)
    except NotConnected as problem:
        return ConnectionCheck(ok=False, message=problem.message)
    check = client.test_connection()
    return ConnectionCheck(ok=check.ok, message=services.redact_credentials(check.message, integration))


def sync_enqueue(*, integration: Integration) -> None:
    """Start a pull sync of the integration in a worker, once the current transaction has committed."""
    from signals_ingest.tasks import sync_integration

    organization_id, integration_id = integration.organization_id, integration.pk
    transaction.on_commit(lambda: sync_integration.delay(organization_id, integration_id))


def slack_remember_workspace(*, integration: Integration) -> None:
    """Keep the workspace's id and address, so that events from any other workspace are never stored.

    Best effort: when Slack cannot be asked, the settings stay as they are.
    """
    try:
        client = vendor_client(integration)
        assert isinstance(client, SlackClient)
        identity = client.auth_test()
    except (NotConnected, VendorError) as problem:
        logger.info("Could not read the Slack workspace of integration %s: %s", integration.pk, problem)
        return
    team_id, url = str(identity.get("team_id") or ""), str(identity.get("url") or "")
    remembered = {**integration.settings}
    if team_id:
        remembered["team_id"] = team_id
    if urlparse(url).scheme in ("http", "https"):
        remembered["workspace_url"] = url.rstrip("/")
    if remembered != integration.settings:
        services.integration_update_settings(integration=integration, settings=remembered)


# --- Slack channels ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ChannelChoice:
    """A Slack channel an admin may tick to have it read."""

    id: str
    name: str
    is_private: bool
    bot_is_member: bool
    selected: bool
    # False for a channel selected earlier that Slack no longer lists (archived, or the bot was removed).
    listed: bool = True


@dataclass(frozen=True)
class ChannelListing:
    channels: list[ChannelChoice]
    # Why Slack could not be asked, when it could not (the selected channels are then listed alone).
    problem: str = ""


def _is_conversation_between_people(channel: dict[str, Any]) -> bool:
    """Direct messages and group DMs: never offered, whatever Slack returns."""
    channel_id = str(channel.get("id") or "")
    return bool(channel.get("is_im") or channel.get("is_mpim")) or channel_id.startswith("D")


def slack_channel_listing(*, integration: Integration) -> ChannelListing:
    """Public channels, and the private ones the bot was invited to (marked), each with whether it is read.

    Direct messages are never listed. Channels selected earlier that Slack no longer shows stay in the
    list, so that an admin can see them and untick them.
    """
    selected = {channel["id"]: channel for channel in integration.settings.get("channels", [])}
    choices: list[ChannelChoice] = []
    problem = ""
    try:
        client = vendor_client(integration)
        assert isinstance(client, SlackClient)
        listed = client.list_channels(include_private=True)
    except NotConnected as refusal:
        listed, problem = [], refusal.message
    except VendorError as error:
        wait = ""
        if isinstance(error, VendorUnavailable) and error.retry_after:
            wait = f" Try again in {round(error.retry_after)} s."
        listed, problem = [], services.redact_credentials(error.message, integration) + wait
    seen: set[str] = set()
    for channel in listed:
        if _is_conversation_between_people(channel) or channel.get("is_archived"):
            continue
        channel_id = str(channel["id"])
        seen.add(channel_id)
        choices.append(
            ChannelChoice(
                id=channel_id,
                name=str(channel.get("name") or channel_id),
                is_private=bool(channel.get("is_private")),
                bot_is_member=bool(channel.get("is_member")),
                selected=channel_id in selected,
            )
        )
    for channel_id, channel in selected.items():
        if channel_id not in seen:
            choices.append(
                ChannelChoice(
                    id=channel_id,
                    name=str(channel.get("name") or channel_id),
                    is_private=bool(channel.get("is_private")),
                    bot_is_member=False,
                    selected=True,
                    listed=False,
                )
            )
    choices.sort(key=lambda choice: (not choice.selected, choice.name.casefold()))
    return ChannelListing(channels=choices, problem=problem)


def slack_channels_select(
    *, integration: Integration, listing: ChannelListing, channel_ids: list[str]
) -> Integration:
    """Read exactly the ticked channels from now on (only ids from ``listing``: never a DM, never a guess)."""
    offered = {choice.id: choice for choice in listing.channels}
    chosen = [offered[channel_id] for channel_id in dict.fromkeys(channel_ids) if channel_id in offered]
    channels = [{"id": choice.id, "name": choice.name, "is_private": choice.is_private} for choice in chosen]
    return services.integration_update_settings(
        integration=integration, settings={**integration.settings, "channels": channels}
    )


# --- "Add to Slack": the OAuth v2 install of OKRSignal's own Slack app ------------------------------

# What the bot may do: read the channels an admin selects (public, and private ones it is invited to),
# know who wrote a message (with their e-mail, to match people), and send check-in reminders.
SLACK_BOT_SCOPES = (
    "channels:read",
    "channels:history",
    "groups:read",
    "groups:history",
    "users:read",
    "users:read.email",
    "chat:write",
    "im:write",
)
SLACK_INSTALL_SESSION_KEY = "slack_install"
# How long an install may take between leaving for Slack and coming back.
SLACK_INSTALL_MAX_SECONDS = 600


class InstallRefused(Exception):
    """The install cannot finish; ``message`` says why and what to do, for the admin."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def slack_install_offered() -> bool:
    return bool(settings.SLACK_CLIENT_ID and settings.SLACK_CLIENT_SECRET and settings.SLACK_SIGNING_SECRET)


def slack_authorize_url(*, session: MutableMapping[str, Any], organization_id: int, redirect_uri: str) -> str:
    """Where "Add to Slack" leads. Its ``state`` is kept in this browser's session, for this organisation,
    so that only the install started here can finish here (a forged or replayed callback cannot)."""
    state = secrets.token_urlsafe(32)
    session[SLACK_INSTALL_SESSION_KEY] = {
        "state": state,
        "organization_id": organization_id,
        "started_at": time.time(),
    }
    query = urlencode(
        {
            "client_id": settings.SLACK_CLIENT_ID,
            "scope": ",".join(SLACK_BOT_SCOPES),
            "redirect_uri": redirect_uri,
            "state": state,
        }
    )
    return f"{settings.SLACK_OAUTH_AUTHORIZE_URL}?{query}"


def slack_install_check_state(*, session: MutableMapping[str, Any], organization_id: int, state: str) -> None:
    """Refuse a callback this browser did not start for this organisation; a state is used once."""
    started = session.pop(SLACK_INSTALL_SESSION_KEY, None)
    if (
        not isinstance(started, dict)
        or not state
        or not hmac.compare_digest(str(started.get("state", "")), state)
        or started.get("organization_id") != organization_id
    ):
        raise InstallRefused(
            "This Slack installation was not started from this page in this browser, so it was not"
            " accepted. Start again with Add to Slack."
        )
    if time.time() - float(started.get("started_at", 0)) > SLACK_INSTALL_MAX_SECONDS:
        raise InstallRefused(
            "The Slack installation took more than 10 minutes. Start again with Add to Slack."
        )


def _slack_exchange_code(*, code: str, redirect_uri: str) -> dict[str, Any]:
    """Exchange the install's code for the workspace's bot token (Slack's ``oauth.v2.access``)."""
    from slack_sdk import WebClient  # the SDK is imported where it is used (see signals_ingest.clients)
    from slack_sdk.errors import SlackApiError

    base_url = settings.SLACK_API_URL
    client = WebClient(
        base_url=base_url if base_url.endswith("/") else base_url + "/",
        timeout=math.ceil(PAGE_REQUEST_TIMEOUT_SECONDS),
        retry_handlers=[],
    )
    try:
        response = client.oauth_v2_access(
            client_id=settings.SLACK_CLIENT_ID,
            client_secret=settings.SLACK_CLIENT_SECRET,
            code=code,
            redirect_uri=redirect_uri,
        )
    except SlackApiError as error:
        data = error.response.data if isinstance(error.response.data, dict) else {}
        reason = str(data.get("error") or error.response.status_code)
        raise InstallRefused(
            f"Slack did not accept the installation ({reason}). Start again with Add to Slack."
        ) from None
    except (urllib.error.URLError, TimeoutError, ConnectionError, http.client.HTTPException):
        raise InstallRefused(
            "Slack could not be reached to finish the installation. Try again in a minute."
        ) from None
    data = response.data if isinstance(response.data, dict) else {}
    if data.get("token_type") != "bot" or not str(data.get("access_token") or "").startswith("xoxb-"):
        raise InstallRefused("Slack answered without a bot token. Start again with Add to Slack.")
    return data


def slack_install(*, code: str, redirect_uri: str) -> Integration:
    """Finish the install: store the workspace's bot token and the app's signing secret.

    A workspace installed again gets its new token; settings (the channels chosen) stay. Installing a
    different workspace over a connected one is refused: its work would mix with the other's.
    """
    if not code:
        raise InstallRefused("Slack sent no installation code back. Start again with Add to Slack.")
    data = _slack_exchange_code(code=code, redirect_uri=redirect_uri)
    team: dict[str, Any] = data["team"] if isinstance(data.get("team"), dict) else {}
    team_id = str(team.get("id") or "")
    credentials = {"bot_token": str(data["access_token"]), "signing_secret": settings.SLACK_SIGNING_SECRET}
    existing = Integration.objects.filter(provider=Provider.SLACK).first()
    kept = dict(existing.settings) if existing is not None else {}
    # Slack sends the events of every workspace that installed the app to the app's one Request URL; the
    # pages say so, since this integration's own webhook address gets them only if it is that URL.
    installed = {**kept, "team_id": team_id, "installed_with": "add_to_slack"}
    if existing is not None and existing.is_connected:
        connected_team = str(existing.settings.get("team_id") or "")
        if connected_team and team_id and connected_team != team_id:
            raise InstallRefused(
                f"Slack is connected to another workspace ({connected_team}); this one is"
                f" {team.get('name') or team_id}. Disconnect Slack first to switch workspaces."
            )
        services.integration_set_credentials(integration=existing, credentials=credentials)
        return services.integration_update_settings(integration=existing, settings=installed)
    return services.integration_connect(provider=Provider.SLACK, credentials=credentials, settings=installed)
