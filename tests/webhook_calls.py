"""Signed webhook calls as Jira, Slack and HubSpot make them, for the webhook endpoint tests.

Each builder returns the body bytes and headers of one call, signed the way the vendor signs it (with the
helpers of ``signals_ingest.signatures``, which ``tests/test_webhook_signatures.py`` checks against
independent vectors). Bodies are pretty-printed JSON, as vendors send them, so that re-serialising them
changes their bytes.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field, replace
from typing import Any

from django.test import Client

from signals_ingest import services
from signals_ingest.models import Integration
from signals_ingest.signatures import hubspot_signature, jira_signature, slack_signature
from tests.ingest_factories import JIRA_CREDENTIALS, SITE

SITE_URL = "https://okrsignal.example.com"
JIRA_SECRET = "jira-webhook-secret-0f3c9a"
SLACK_SECRET = "8f14e45fceea167a5a36dedd4bea2543"
HUBSPOT_SECRET = "hubspot-client-secret-7d21"
HUBSPOT_PORTAL = 4242424


@dataclass(frozen=True)
class Call:
    """One webhook call: where it goes, its raw body and its headers."""

    path: str
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)

    def without(self, header: str) -> Call:
        return replace(self, headers={k: v for k, v in self.headers.items() if k != header})

    def with_headers(self, **headers: str) -> Call:
        return replace(self, headers={**self.headers, **headers})

    def with_body(self, body: bytes) -> Call:
        return replace(self, body=body)

    def send(self, client: Client | None = None) -> Any:
        client = client or Client(enforce_csrf_checks=True)
        return client.post(self.path, data=self.body, content_type="application/json", headers=self.headers)


def encode(payload: Any) -> bytes:
    return json.dumps(payload, indent=2).encode()


def webhook_path(provider: str, integration: Integration) -> str:
    return f"/webhooks/{provider}/{integration.webhook_token}/"


# --- Connecting, with the secrets the vendors sign with -----------------------------------------------


def connect_jira(*, webhook_secret: str | None = JIRA_SECRET) -> Integration:
    credentials = dict(JIRA_CREDENTIALS)
    if webhook_secret:
        credentials["webhook_secret"] = webhook_secret
    return services.integration_connect(
        provider="jira",
        credentials=credentials,
        settings={"site": SITE, "story_points_field": "customfield_10016"},
    )


def connect_slack(*, signing_secret: str = SLACK_SECRET) -> Integration:
    return services.integration_connect(
        provider="slack",
        credentials={"bot_token": "xoxb-1-slack-secret-token", "signing_secret": signing_secret},
        settings={
            "team_id": "T0ORBIT001",
            "channels": [{"id": "C0ORBITSSO", "name": "sso", "is_private": False}],
        },
    )


def connect_hubspot(*, access_token: str, client_secret: str = HUBSPOT_SECRET) -> Integration:
    return services.integration_connect(
        provider="hubspot",
        credentials={"access_token": access_token, "client_secret": client_secret},
        settings={"portal_id": str(HUBSPOT_PORTAL)},
    )


# --- Signed calls -------------------------------------------------------------------------------------


def jira_call(
    integration: Integration, payload: Any, *, secret: str | None = JIRA_SECRET, delivery: str | None = "9001"
) -> Call:
    body = encode(payload)
    headers: dict[str, str] = {}
    if secret:
        headers["X-Hub-Signature"] = jira_signature(secret, body)
    if delivery:
        headers["X-Atlassian-Webhook-Identifier"] = delivery
    return Call(webhook_path("jira", integration), body, headers)


def slack_call(
    integration: Integration, payload: Any, *, secret: str = SLACK_SECRET, age_seconds: int = 0
) -> Call:
    body = encode(payload)
    timestamp = str(int(time.time()) - age_seconds)
    headers = {
        "X-Slack-Request-Timestamp": timestamp,
        "X-Slack-Signature": slack_signature(secret, timestamp, body),
    }
    return Call(webhook_path("slack", integration), body, headers)


def hubspot_call(
    integration: Integration, events: Any, *, secret: str = HUBSPOT_SECRET, age_seconds: int = 0
) -> Call:
    body = encode(events)
    path = webhook_path("hubspot", integration)
    timestamp = str(int((time.time() - age_seconds) * 1000))
    headers = {
        "X-HubSpot-Request-Timestamp": timestamp,
        "X-HubSpot-Signature-v3": hubspot_signature(secret, "POST", SITE_URL + path, body, timestamp),
    }
    return Call(path, body, headers)


def hubspot_event(
    object_id: str,
    *,
    event_id: int,
    subscription: str = "deal.propertyChange",
    object_type_id: str | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """One HubSpot webhook notification, in the shape HubSpot posts (a batch is a list of these)."""
    event: dict[str, Any] = {
        "eventId": event_id,
        "subscriptionId": 2150431,
        "portalId": HUBSPOT_PORTAL,
        "appId": 3081221,
        "occurredAt": int(time.time() * 1000),
        "subscriptionType": subscription,
        "attemptNumber": 0,
        "objectId": int(object_id),
        "changeSource": "CRM_UI",
        **extra,
    }
    if subscription == "deal.propertyChange" and "propertyName" not in extra:
        event.update(propertyName="dealstage", propertyValue="qualifiedtobuy")
    if object_type_id is not None:
        event["objectTypeId"] = object_type_id
    return event
