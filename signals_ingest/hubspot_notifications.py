"""HubSpot webhook events into CRM objects: fetch what the events name, then store and process it.

A HubSpot webhook carries notifications, not the objects: ``{"eventId", "subscriptionType":
"deal.propertyChange", "objectId", "occurredAt", ...}`` (or the generic ``object.*`` subscriptions with an
``objectTypeId``). The endpoint stores each notification as a raw event as it arrived; this module, run by
a worker, reads the objects they name in batches with their deal associations
(``HubSpotClient.read_objects_with_deal_associations``), stores each object as a raw event of its own
(the same shape a pull stores, so the same normaliser takes it) and processes those, then marks the
notifications processed.

A notification whose object cannot be read now (HubSpot unavailable, credentials refused) stays
unprocessed with the error and an attempt counted, and the periodic sweep of pending raw events tries
again. Deletions are not fetched: the deleted object is no longer readable, and the pull's archived
listing records it.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db.models import F
from django.utils import timezone

from okrsignal.tenancy import require_organization_id, tenant_cache_key
from signals_ingest import bulk, oauth, services
from signals_ingest.clients import HubSpotClient, RetryPolicy, VendorError, VendorRequestRejected
from signals_ingest.crypto import CredentialsUnreadable
from signals_ingest.models import Integration, Provider, RawEvent
from signals_ingest.normalisers import dedupe_key_for
from signals_ingest.pipeline import store_and_process_raw_events
from signals_ingest.rate_limit import ProviderRateLimiter

logger = logging.getLogger(__name__)

# HubSpot's object type ids, as the generic ``object.*`` subscriptions name them.
OBJECT_TYPE_IDS = {
    "0-3": "deals",
    "0-46": "notes",
    "0-48": "calls",
    "0-47": "meetings",
    "0-49": "emails",
    "0-27": "tasks",
}
# The older per-object subscriptions (``deal.creation``, ``deal.propertyChange``, ...).
SUBSCRIPTION_OBJECTS = {"deal": "deals"}
# The object names in an association type such as ``DEAL_TO_NOTE``.
ASSOCIATION_OBJECTS = {
    "DEAL": "deals",
    "NOTE": "notes",
    "CALL": "calls",
    "MEETING": "meetings",
    "MEETING_EVENT": "meetings",
    "EMAIL": "emails",
    "TASK": "tasks",
}
_DELETIONS = {"deletion", "privacyDeletion"}

# What the normalisers read of each object (``normalisers.hubspot_object``).
DEAL_PROPERTIES = (
    "dealname",
    "dealstage",
    "pipeline",
    "amount",
    "closedate",
    "hs_is_closed",
    "hubspot_owner_id",
    "hs_lastmodifieddate",
)
_ENGAGEMENT_PROPERTIES = {
    "notes": ("hs_note_body",),
    "calls": ("hs_call_title", "hs_call_body"),
    "meetings": ("hs_meeting_title", "hs_meeting_body"),
    "emails": ("hs_email_subject", "hs_email_text"),
    "tasks": ("hs_task_subject", "hs_task_body"),
}
# How long an organisation's list of deal stages is kept before it is read from HubSpot again.
STAGE_LIST_CACHE_SECONDS = 15 * 60
# A webhook worker waits at most this long on HubSpot (a Retry-After, a backoff, the rate limiter); a
# longer wait leaves the notifications to the sweep rather than hold the webhooks queue.
LONGEST_WAIT_SECONDS = 30.0


def properties_for(object_type: str) -> list[str]:
    if object_type == "deals":
        return list(DEAL_PROPERTIES)
    return ["hs_timestamp", "hubspot_owner_id", "hs_lastmodifieddate", *_ENGAGEMENT_PROPERTIES[object_type]]


def is_notification(payload: Any) -> bool:
    """Whether a stored HubSpot payload is a webhook notification (rather than an object)."""
    return isinstance(payload, Mapping) and "subscriptionType" in payload and "eventId" in payload


def _association_end(notification: Mapping[str, Any], end: str, subject_type: str | None) -> str | None:
    type_id = notification.get(f"{end}ObjectTypeId")
    if type_id is not None:
        return OBJECT_TYPE_IDS.get(str(type_id))
    if end == "from" and subject_type:
        return subject_type
    # ``DEAL_TO_NOTE``: the part before _TO_ is the "from" end, the part after it the "to" end.
    from_name, _, to_name = str(notification.get("associationType") or "").upper().partition("_TO_")
    return ASSOCIATION_OBJECTS.get(from_name if end == "from" else to_name)


def objects_named(notification: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The ``(object type, object id)`` pairs a notification asks to read: those the product takes."""
    subject, _, change = str(notification.get("subscriptionType") or "").partition(".")
    if change in _DELETIONS:
        return []
    if subject == "object":
        subject_type = OBJECT_TYPE_IDS.get(str(notification.get("objectTypeId")))
    else:
        subject_type = SUBSCRIPTION_OBJECTS.get(subject)
    if change == "associationChange":
        named = []
        for end in ("from", "to"):
            object_type = _association_end(notification, end, subject_type)
            object_id = notification.get(f"{end}ObjectId")
            if object_type and object_id is not None:
                named.append((object_type, str(object_id)))
        return named
    object_id = notification.get("objectId")
    if subject_type is None or object_id is None:
        return []
    return [(subject_type, str(object_id))]


def hubspot_client_for(integration: Integration) -> HubSpotClient:
    """A client with the integration's token, under its organisation's HubSpot rate limit."""
    return HubSpotClient(
        access_token=str(oauth.usable_credentials(integration).get("access_token") or ""),
        base_url=settings.HUBSPOT_API_URL,
        retry=RetryPolicy.from_settings(
            max_delay_seconds=LONGEST_WAIT_SECONDS, longest_retry_after_seconds=LONGEST_WAIT_SECONDS
        ),
        limiter=ProviderRateLimiter.for_current_organization(
            Provider.HUBSPOT, max_wait_seconds=LONGEST_WAIT_SECONDS
        ),
    )


class _NotReadable(Exception):
    """The integration cannot read HubSpot at all (disconnected, credentials unreadable): the
    notifications wait."""


@dataclass
class NotificationResult:
    """What ``resolve_hubspot_notifications`` did: notifications resolved or failed, objects stored."""

    resolved: list[int] = field(default_factory=list)
    failed: dict[int, str] = field(default_factory=dict)
    objects_stored: int = 0


def _owners_by_id(client: HubSpotClient, integration: Integration) -> dict[str, dict[str, Any]]:
    """HubSpot's owners, so that identities carry an e-mail address; without them nothing is lost."""
    try:
        owners = client.list_owners()
    except VendorError as exc:
        logger.warning("HubSpot owners could not be read for integration %s: %s", integration.pk, exc.message)
        return {}
    return {
        str(owner["id"]): {
            "email": owner.get("email") or "",
            "firstName": owner.get("firstName") or "",
            "lastName": owner.get("lastName") or "",
        }
        for owner in owners
        if owner.get("id") is not None
    }


def _stage_entry_properties(client: HubSpotClient, notified_stages: Iterable[str]) -> list[str]:
    """``hs_v2_date_entered_<stage>`` for every deal stage (as the pull asks for them): the moment a deal
    entered its stage gives the stage change HubSpot's own time, and the same identity whichever way it
    arrives. The stage list changes rarely, so it is kept a while per organisation."""
    key = tenant_cache_key("hubspot", "deal-stage-entry-properties")
    known: list[str] | None = cache.get(key)
    if known is None:
        try:
            pipelines = client.deal_pipelines()
        except VendorRequestRejected as exc:
            logger.warning("HubSpot deal pipelines could not be read: %s", exc.message)
            pipelines = []
        known = sorted(
            {
                f"hs_v2_date_entered_{stage['id']}"
                for pipeline in pipelines
                for stage in pipeline.get("stages") or []
                if stage.get("id")
            }
        )
        if known:
            cache.set(key, known, STAGE_LIST_CACHE_SECONDS)
    return sorted({*known, *(f"hs_v2_date_entered_{stage}" for stage in notified_stages)})


def _fetch(
    client: HubSpotClient, wanted: Mapping[str, list[str]], stages: Iterable[str], integration: Integration
) -> list[tuple[str, dict[str, Any]]]:
    payloads: list[tuple[str, dict[str, Any]]] = []
    owners: dict[str, dict[str, Any]] | None = None
    for object_type, ids in wanted.items():
        properties = properties_for(object_type)
        if object_type == "deals":
            properties += _stage_entry_properties(client, stages)
        for obj in client.read_objects_with_deal_associations(object_type, ids, properties=properties):
            owner_id = str((obj.get("properties") or {}).get("hubspot_owner_id") or "")
            payload: dict[str, Any] = {"object_type": object_type, "object": obj}
            if owner_id:
                if owners is None:
                    owners = _owners_by_id(client, integration)
                if owner_id in owners:
                    payload["owners"] = {owner_id: owners[owner_id]}
            payloads.append((dedupe_key_for(Provider.HUBSPOT, payload), payload))
    return payloads


def resolve_hubspot_notifications(
    *, raw_event_ids: Iterable[int], client: HubSpotClient | None = None
) -> NotificationResult:
    """Fetch, store and process the objects that stored HubSpot notifications name; mark them processed.

    Acts for the organisation in context. Notifications already processed, and raw events that are not
    HubSpot notifications, are left alone. The notifications are locked while this runs, so two workers
    handed the same ones take turns and the second finds them done.
    """
    require_organization_id()
    ids = sorted({int(raw_event_id) for raw_event_id in raw_event_ids})
    rows = bulk.select_by_keys(
        RawEvent,
        ["id", "payload", "integration_id", "processed_at"],
        key="id",
        keys=ids,
        where={"provider": Provider.HUBSPOT},
        lock=True,
    )
    result = NotificationResult()
    by_integration: dict[int, list[tuple[int, Mapping[str, Any]]]] = defaultdict(list)
    for raw_event_id, payload, integration_id, processed_at in rows:
        if processed_at is None and is_notification(payload):
            by_integration[integration_id].append((raw_event_id, payload))
    for integration_id, notifications in by_integration.items():
        integration = Integration.objects.get(pk=integration_id)
        _resolve_for(integration, notifications, client, result)
    return result


def _client(integration: Integration) -> HubSpotClient:
    if not integration.is_connected:
        raise _NotReadable("HubSpot is disconnected: the objects these events name cannot be read.")
    try:
        return hubspot_client_for(integration)
    except CredentialsUnreadable:
        raise _NotReadable(
            "The stored HubSpot credentials cannot be read with the configured encryption keys."
        ) from None
    except oauth.ReconnectionRequired as refusal:
        raise _NotReadable(refusal.message) from None


def _resolve_for(
    integration: Integration,
    notifications: list[tuple[int, Mapping[str, Any]]],
    client: HubSpotClient | None,
    result: NotificationResult,
) -> None:
    ids = [raw_event_id for raw_event_id, _payload in notifications]
    wanted: dict[str, list[str]] = defaultdict(list)
    stages: set[str] = set()
    for _raw_event_id, notification in notifications:
        for object_type, object_id in objects_named(notification):
            if object_id not in wanted[object_type]:
                wanted[object_type].append(object_id)
        if notification.get("propertyName") == "dealstage" and notification.get("propertyValue"):
            stages.add(str(notification["propertyValue"]))
    try:
        payloads = _fetch(client or _client(integration), wanted, stages, integration) if wanted else []
    except (VendorError, _NotReadable) as exc:
        message = exc.message if isinstance(exc, VendorError) else str(exc)
        RawEvent.objects.filter(pk__in=ids).update(error=message, attempts=F("attempts") + 1)
        if isinstance(exc, VendorError):
            services.integration_record_sync(integration=integration, error=message)
        logger.error(
            "%d HubSpot webhook events of integration %s could not be resolved (raw events %s): %s",
            len(ids),
            integration.pk,
            ", ".join(str(raw_event_id) for raw_event_id in ids[:10]) + ("..." if len(ids) > 10 else ""),
            message,
        )
        result.failed.update(dict.fromkeys(ids, message))
        return
    if payloads:
        store_and_process_raw_events(integration=integration, origin=RawEvent.Origin.WEBHOOK, items=payloads)
    bulk.update_for_ids(RawEvent, ids, {"processed_at": timezone.now(), "error": ""}, increment="attempts")
    result.resolved.extend(ids)
    result.objects_stored += len(payloads)
