"""Connecting HubSpot and Jira Cloud through the vendors' OAuth 2.0 consent, and keeping the access current.

The connection: "Connect with HubSpot" / "Connect with Atlassian" leads to the vendor's consent page with
a ``state`` kept in this browser's session, for this organisation and this person. The vendor sends the
browser back to one fixed address per vendor (``/oauth/<vendor>/callback/``, the redirect URL registered
with the vendor's app), which forwards it to the organisation's own page; that page checks the state
(once, within ``CONNECT_MAX_SECONDS``), exchanges the code, and stores the integration. A Jira grant that
reaches several sites waits, encrypted, in the session until the admin chooses one.

What an integration connected this way holds (``auth_method`` OAuth), encrypted like any credentials:

* HubSpot: ``access_token`` (good for 30 minutes), ``refresh_token``, ``expires_at`` (epoch seconds) and
  ``client_secret`` (OKRSignal's app's: HubSpot signs the app's webhook calls with it). Settings:
  ``portal_id``, ``hub_domain``.
* Jira: ``access_token`` (an hour), ``refresh_token`` (replaced at every renewal: Atlassian rotates
  them), ``expires_at``, and optionally ``webhook_secret``. Settings: ``site`` (the site's own address,
  for links), ``cloud_id`` (API calls go to ``JIRA_OAUTH_API_URL/ex/jira/<cloud id>``), ``site_name``.

Renewal: ``usable_credentials`` is asked before every call to the vendor (pulls, webhook object reads,
connection tests). An access token with less than ``RENEW_MARGIN_SECONDS`` left is renewed under a row
lock on the integration, so that two workers never spend the same refresh token (with Atlassian the
second would find it spent): the second waits, then finds the new token. The lock is held over one token
request (a short timeout, no retries), the one place where a lock spans a network call, because renewing
twice would end the connection. A renewal the vendor refuses (revoked, expired) marks the integration as
needing to be connected again, with the reason as its last error; nothing asks the vendor again until an
admin connects once more.

No token or secret is ever in a log line, a message, a task argument or a page.
"""

from __future__ import annotations

import hmac
import logging
import secrets
import time
from collections.abc import MutableMapping
from dataclasses import dataclass
from typing import Any, TypedDict
from urllib.parse import urlencode

from django.conf import settings
from django.db import transaction

from okrsignal.tenancy import tenant_context
from signals_ingest import crypto, services
from signals_ingest.clients import (
    AtlassianOAuthClient,
    CredentialsRefused,
    HubSpotOAuthClient,
    OAuthGrant,
    RetryPolicy,
    VendorError,
)
from signals_ingest.models import Integration, Provider

logger = logging.getLogger(__name__)

# An access token with less than this left is renewed before it is used: a pull page or a connection test
# started with it finishes well within the margin.
RENEW_MARGIN_SECONDS = 5 * 60
# How long a connection may take between leaving for the vendor and coming back (and choosing a site).
CONNECT_MAX_SECONDS = 600
TOKEN_REQUEST_TIMEOUT_SECONDS = 15.0

# Read-only access to what the pulls and webhook reads take: deals, owners, and the engagements on deals
# (calls, meetings, notes and tasks come with the contacts scope; e-mails need sales-email-read).
HUBSPOT_SCOPES = (
    "oauth",
    "crm.objects.deals.read",
    "crm.objects.owners.read",
    "crm.objects.contacts.read",
    "sales-email-read",
)
# Read issues and people; offline_access brings the refresh token.
JIRA_SCOPES = ("read:jira-work", "read:jira-user", "offline_access")

_SESSION_KEYS = {Provider.HUBSPOT: "oauth_connect_hubspot", Provider.JIRA: "oauth_connect_jira"}
_JIRA_SITES_SESSION_KEY = "oauth_jira_sites"
_BUTTON = {Provider.HUBSPOT: "Connect with HubSpot", Provider.JIRA: "Connect with Atlassian"}


class ConnectRefused(Exception):
    """The OAuth connection cannot finish; ``message`` says why and what to do, for the admin."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ReconnectionRequired(Exception):
    """The vendor no longer renews the integration's access: an admin must connect it again."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def button_label(provider: str) -> str:
    return _BUTTON[Provider(provider)]


def oauth_offered(provider: str) -> bool:
    """Whether this server has OKRSignal's own app for the vendor (its client id and secret)."""
    if provider == Provider.HUBSPOT:
        return bool(settings.HUBSPOT_OAUTH_CLIENT_ID and settings.HUBSPOT_OAUTH_CLIENT_SECRET)
    if provider == Provider.JIRA:
        return bool(settings.JIRA_OAUTH_CLIENT_ID and settings.JIRA_OAUTH_CLIENT_SECRET)
    return False


# --- Leaving for the vendor, and coming back --------------------------------------------------------


def authorize_url(
    *,
    provider: str,
    session: MutableMapping[str, Any],
    organization_id: int,
    organization_slug: str,
    user_id: int,
    redirect_uri: str,
) -> str:
    """Where the connect button leads. Its ``state`` is kept in this browser's session with the organisation
    and the person, so that only the connection started here, by them, can finish (a forged, replayed or
    someone else's callback cannot)."""
    state = secrets.token_urlsafe(32)
    session[_SESSION_KEYS[Provider(provider)]] = {
        "state": state,
        "organization_id": organization_id,
        "organization_slug": organization_slug,
        "user_id": user_id,
        "started_at": time.time(),
    }
    if provider == Provider.HUBSPOT:
        query = {
            "client_id": settings.HUBSPOT_OAUTH_CLIENT_ID,
            "redirect_uri": redirect_uri,
            "scope": " ".join(HUBSPOT_SCOPES),
            "state": state,
        }
        return f"{settings.HUBSPOT_OAUTH_AUTHORIZE_URL}?{urlencode(query)}"
    query = {
        "audience": "api.atlassian.com",
        "client_id": settings.JIRA_OAUTH_CLIENT_ID,
        "scope": " ".join(JIRA_SCOPES),
        "redirect_uri": redirect_uri,
        "state": state,
        "response_type": "code",
        "prompt": "consent",
    }
    return f"{settings.JIRA_OAUTH_AUTHORIZE_URL}?{urlencode(query)}"


def pending_organization_slug(*, provider: str, session: MutableMapping[str, Any]) -> str:
    """The organisation a connection started in this browser is for ("" when none is under way): where the
    vendor's callback is forwarded, to be checked there."""
    started = session.get(_SESSION_KEYS[Provider(provider)])
    return str(started.get("organization_slug") or "") if isinstance(started, dict) else ""


def check_state(
    *, provider: str, session: MutableMapping[str, Any], organization_id: int, user_id: int, state: str
) -> None:
    """Refuse a callback this browser did not start, for this organisation, as this person; a state is used
    once."""
    label = Provider(provider).label
    started = session.pop(_SESSION_KEYS[Provider(provider)], None)
    if (
        not isinstance(started, dict)
        or not state
        or not hmac.compare_digest(str(started.get("state", "")), state)
        or started.get("organization_id") != organization_id
        or started.get("user_id") != user_id
    ):
        raise ConnectRefused(
            f"This {label} connection was not started from this page in this browser, so it was not"
            f" accepted. Nothing was connected. Start again with {button_label(provider)}."
        )
    if time.time() - float(started.get("started_at", 0)) > CONNECT_MAX_SECONDS:
        raise ConnectRefused(
            f"The {label} connection took more than 10 minutes. Start again with {button_label(provider)}."
        )


# --- The vendors' token endpoints -------------------------------------------------------------------


def _hubspot_oauth_client() -> HubSpotOAuthClient:
    return HubSpotOAuthClient(
        client_id=settings.HUBSPOT_OAUTH_CLIENT_ID,
        client_secret=settings.HUBSPOT_OAUTH_CLIENT_SECRET,
        base_url=settings.HUBSPOT_API_URL,
        retry=RetryPolicy(max_attempts=1),
        timeout=TOKEN_REQUEST_TIMEOUT_SECONDS,
    )


def _atlassian_oauth_client() -> AtlassianOAuthClient:
    return AtlassianOAuthClient(
        client_id=settings.JIRA_OAUTH_CLIENT_ID,
        client_secret=settings.JIRA_OAUTH_CLIENT_SECRET,
        token_url=settings.JIRA_OAUTH_TOKEN_URL,
        api_url=settings.JIRA_OAUTH_API_URL,
        retry=RetryPolicy(max_attempts=1),
        timeout=TOKEN_REQUEST_TIMEOUT_SECONDS,
    )


def _token_credentials(grant: OAuthGrant, *, now: float | None = None) -> dict[str, Any]:
    return {
        "access_token": grant.access_token,
        "refresh_token": grant.refresh_token,
        "expires_at": int((time.time() if now is None else now) + max(grant.expires_in, 0)),
    }


def jira_api_url(cloud_id: str) -> str:
    """Where an OAuth app calls the REST API of the Jira site ``cloud_id``."""
    return f"{settings.JIRA_OAUTH_API_URL.rstrip('/')}/ex/jira/{cloud_id}"


class JiraAuthentication(TypedDict, total=False):
    email: str
    api_token: str
    access_token: str
    api_url: str


def jira_authentication(integration: Integration, credentials: dict[str, Any]) -> JiraAuthentication:
    """``JiraClient``'s authentication arguments: an OAuth access token at the site's API gateway address,
    or the account e-mail and API token at the site."""
    if integration.auth_method == Integration.AuthMethod.OAUTH:
        return {
            "access_token": str(credentials.get("access_token") or ""),
            "api_url": jira_api_url(str(integration.settings.get("cloud_id") or "")),
        }
    return {
        "email": str(credentials.get("email") or integration.settings.get("account_email") or ""),
        "api_token": str(credentials.get("api_token") or ""),
    }


def _refused_exchange(provider: str, error: VendorError) -> ConnectRefused:
    label = Provider(provider).label
    return ConnectRefused(
        f"{label} did not accept the connection: {error.message} Nothing was connected. Start again with"
        f" {button_label(provider)}."
    )


# --- HubSpot ----------------------------------------------------------------------------------------


def hubspot_connect(*, code: str, redirect_uri: str) -> Integration:
    """Exchange the code and store the HubSpot account's tokens, for the organisation in context.

    Connecting again renews the tokens (a private app's token is replaced by them); connecting another
    HubSpot account over a connected one is refused: its deals would mix with the other's.
    """
    if not code:
        raise ConnectRefused(
            f"HubSpot sent no authorisation code back. Start again with {_BUTTON[Provider.HUBSPOT]}."
        )
    client = _hubspot_oauth_client()
    try:
        grant = client.exchange_code(code=code, redirect_uri=redirect_uri)
        account = client.token_info(grant.access_token)
    except VendorError as error:
        raise _refused_exchange(Provider.HUBSPOT, error) from None
    portal_id = str(account.get("hub_id") or "")
    existing = Integration.objects.filter(provider=Provider.HUBSPOT).first()
    if existing is not None and existing.is_connected:
        connected_portal = str(existing.settings.get("portal_id") or "")
        if connected_portal and portal_id and connected_portal != portal_id:
            raise ConnectRefused(
                f"HubSpot is connected to another account ({connected_portal}); this one is"
                f" {account.get('hub_domain') or portal_id}. Disconnect HubSpot first to switch accounts."
            )
    credentials = {**_token_credentials(grant), "client_secret": settings.HUBSPOT_OAUTH_CLIENT_SECRET}
    connected_settings = {
        **(existing.settings if existing is not None else {}),
        "portal_id": portal_id,
        "hub_domain": str(account.get("hub_domain") or ""),
    }
    return services.integration_connect_oauth(
        provider=Provider.HUBSPOT, credentials=credentials, settings=connected_settings
    )


# --- Jira Cloud -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class JiraSite:
    """A Jira Cloud site a grant reaches."""

    cloud_id: str
    url: str
    name: str


def jira_grant(*, code: str, redirect_uri: str) -> tuple[OAuthGrant, list[JiraSite]]:
    """Exchange the code; the grant and the Jira sites it may read."""
    if not code:
        raise ConnectRefused(
            f"Atlassian sent no authorisation code back. Start again with {_BUTTON[Provider.JIRA]}."
        )
    client = _atlassian_oauth_client()
    try:
        grant = client.exchange_code(code=code, redirect_uri=redirect_uri)
        resources = client.accessible_resources(grant.access_token)
    except VendorError as error:
        raise _refused_exchange(Provider.JIRA, error) from None
    sites = [
        JiraSite(
            cloud_id=str(resource["id"]),
            url=str(resource["url"]).rstrip("/"),
            name=str(resource.get("name") or ""),
        )
        for resource in resources
        if resource.get("id") and resource.get("url") and "read:jira-work" in (resource.get("scopes") or [])
    ]
    if not sites:
        raise ConnectRefused(
            "The Atlassian account allowed no Jira site to be read. Start again with Connect with Atlassian"
            " and choose a Jira site on the consent page."
        )
    return grant, sites


def jira_connect(*, grant: OAuthGrant, site: JiraSite, granted_at: float | None = None) -> Integration:
    """Store the grant for the chosen site, for the organisation in context.

    Connecting again renews the tokens (replacing an API token; the webhook secret and the story points
    field stay); connecting another site over a connected one is refused.
    """
    existing = Integration.objects.filter(provider=Provider.JIRA).first()
    kept_credentials: dict[str, Any] = {}
    if existing is not None and existing.is_connected:
        connected_site = str(existing.settings.get("site") or "")
        if connected_site and connected_site.rstrip("/") != site.url:
            raise ConnectRefused(
                f"Jira is connected to another site ({connected_site}); this one is {site.url}. Disconnect"
                " Jira first to switch sites."
            )
        try:
            webhook_secret = existing.credentials.get("webhook_secret")
        except crypto.CredentialsUnreadable:
            webhook_secret = None
        if webhook_secret:
            kept_credentials["webhook_secret"] = webhook_secret
    kept_settings = dict(existing.settings) if existing is not None else {}
    # The account's e-mail belongs to an API token: an OAuth grant is the consenting person's.
    kept_settings.pop("account_email", None)
    return services.integration_connect_oauth(
        provider=Provider.JIRA,
        credentials={**kept_credentials, **_token_credentials(grant, now=granted_at)},
        settings={**kept_settings, "site": site.url, "cloud_id": site.cloud_id, "site_name": site.name},
    )


def jira_remember_sites(
    *,
    session: MutableMapping[str, Any],
    organization_id: int,
    user_id: int,
    grant: OAuthGrant,
    sites: list[JiraSite],
) -> None:
    """Keep a grant that reaches several sites until the admin chooses one: encrypted with the
    integration keys (sessions are not), for this organisation and person, for ``CONNECT_MAX_SECONDS``."""
    session[_JIRA_SITES_SESSION_KEY] = {
        "organization_id": organization_id,
        "user_id": user_id,
        "granted_at": time.time(),
        "grant": crypto.encrypt_credentials(
            {
                "access_token": grant.access_token,
                "refresh_token": grant.refresh_token,
                "expires_in": grant.expires_in,
            }
        ),
        "sites": [{"cloud_id": site.cloud_id, "url": site.url, "name": site.name} for site in sites],
    }


@dataclass(frozen=True)
class PendingJiraGrant:
    grant: OAuthGrant
    sites: list[JiraSite]
    granted_at: float


def jira_pending_grant(
    *, session: MutableMapping[str, Any], organization_id: int, user_id: int
) -> PendingJiraGrant | None:
    """The grant waiting for a site to be chosen in this browser, for this organisation and person."""
    pending = session.get(_JIRA_SITES_SESSION_KEY)
    if (
        not isinstance(pending, dict)
        or pending.get("organization_id") != organization_id
        or pending.get("user_id") != user_id
    ):
        return None
    granted_at = float(pending.get("granted_at", 0))
    if time.time() - granted_at > CONNECT_MAX_SECONDS:
        session.pop(_JIRA_SITES_SESSION_KEY, None)
        return None
    try:
        token = crypto.decrypt_credentials(str(pending.get("grant") or ""))
    except crypto.CredentialsUnreadable:
        session.pop(_JIRA_SITES_SESSION_KEY, None)
        return None
    grant = OAuthGrant(
        access_token=str(token.get("access_token") or ""),
        refresh_token=str(token.get("refresh_token") or ""),
        expires_in=int(token.get("expires_in") or 0),
    )
    sites = [JiraSite(**site) for site in pending.get("sites") or []]
    return PendingJiraGrant(grant=grant, sites=sites, granted_at=granted_at)


def jira_forget_pending_grant(*, session: MutableMapping[str, Any]) -> None:
    session.pop(_JIRA_SITES_SESSION_KEY, None)


# --- Keeping the access current ---------------------------------------------------------------------


def _expires_soon(credentials: dict[str, Any]) -> bool:
    try:
        expires_at = float(credentials.get("expires_at") or 0)
    except (TypeError, ValueError):
        expires_at = 0
    return expires_at - time.time() < RENEW_MARGIN_SECONDS


def reconnect_message(integration: Integration) -> str:
    label = integration.get_provider_display()
    return (
        f"{label} no longer renews OKRSignal's access (it was revoked, or not used for too long): connect"
        f" {label} again with {button_label(integration.provider)} on its settings page."
    )


def usable_credentials(integration: Integration) -> dict[str, Any]:
    """The credentials to call the vendor with. For an integration connected with OAuth the access token
    is good for at least ``RENEW_MARGIN_SECONDS`` more: renewed first (and stored) when it is not.

    Raises ``ReconnectionRequired`` when the vendor refuses to renew it (now or earlier), ``VendorError``
    when the vendor cannot be asked, ``CredentialsUnreadable`` as ``Integration.credentials`` does.
    """
    credentials = integration.credentials
    if integration.auth_method != Integration.AuthMethod.OAUTH:
        return credentials
    if integration.needs_reconnection:
        raise ReconnectionRequired(reconnect_message(integration))
    if not _expires_soon(credentials):
        return credentials
    return _renew(integration, refused_access_token=None)


def renew_after_refusal(integration: Integration, *, refused_access_token: str) -> dict[str, Any]:
    """Renew the access token the vendor has just refused (it lapsed in the middle of a long pull), unless
    another worker has renewed it meanwhile; the credentials to carry on with."""
    return _renew(integration, refused_access_token=refused_access_token)


def _renew(integration: Integration, *, refused_access_token: str | None) -> dict[str, Any]:
    refused: str | None = None
    with tenant_context(integration.organization_id), transaction.atomic():
        # Whoever holds the lock renews; whoever waited finds the new token and uses it.
        locked = Integration.objects.select_for_update().get(pk=integration.pk)
        if locked.needs_reconnection or not locked.is_connected:
            raise ReconnectionRequired(reconnect_message(locked))
        credentials = locked.credentials
        already_renewed = (
            not _expires_soon(credentials)
            if refused_access_token is None
            else credentials.get("access_token") != refused_access_token
        )
        if not already_renewed:
            refresh_token = str(credentials.get("refresh_token") or "")
            client = (
                _hubspot_oauth_client() if locked.provider == Provider.HUBSPOT else _atlassian_oauth_client()
            )
            try:
                grant = client.refresh(refresh_token=refresh_token)
            except CredentialsRefused as error:
                refused = f"{reconnect_message(locked)} ({error.message})"
                services.integration_require_reconnection(integration=locked, error=refused)
            else:
                credentials = {**credentials, **_token_credentials(grant)}
                services.integration_store_renewed_tokens(integration=locked, credentials=credentials)
                logger.info("Renewed the %s access token of integration %s", locked.provider, locked.pk)
        _copy_token_state(locked, onto=integration)
    if refused is not None:
        logger.warning("Integration %s needs to be connected again: its renewal was refused", integration.pk)
        raise ReconnectionRequired(refused)
    return credentials


def _copy_token_state(source: Integration, *, onto: Integration) -> None:
    """Bring a caller's (possibly stale) instance up to date with what is stored."""
    if onto is source:
        return
    onto.credentials_token = source.credentials_token
    onto.token_refreshed_at = source.token_refreshed_at
    onto.needs_reconnection = source.needs_reconnection
    onto.last_error = source.last_error
    onto.last_error_at = source.last_error_at
