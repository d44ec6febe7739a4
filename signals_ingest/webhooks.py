"""The webhook endpoints Jira, Slack and HubSpot call: one URL per integration, named by its token.

Every call goes through the same steps, in this order:

1. POST only (anything else: 405).
2. The token in the URL finds the integration, in any organisation (``integration_by_webhook_token``).
   An unknown token, a token of another provider's integration, or a disconnected integration: 404, and
   nothing is read or stored. From here on everything runs inside that organisation's tenant context.
3. The vendor's signature is checked on the raw body bytes, before anything parses them
   (``signals_ingest.signatures``). A bad one: 401 with a short JSON reason, a log line naming the
   provider and the reason, nothing stored.
4. The body is parsed. Malformed JSON or a body of the wrong shape: 400 naming the problem, and a log
   line naming the payload (provider, delivery id when known), never the body.
5. The payload is stored as raw events in one transaction (idempotent on the vendor's delivery or event
   id, so retries and concurrent duplicate deliveries leave one row), and processing is queued on the
   "webhooks" queue once that transaction commits. The answer goes out without waiting for processing.

Responses with an error status are marked as logged: Django's request logger would otherwise write the
request path, which carries the webhook token, into the log. The log lines written here name the
integration and organisation by id instead.

The secrets each provider signs with are read from the integration's encrypted credentials under the
names in ``SIGNING_SECRET_CREDENTIAL``.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping, Sequence
from functools import partial
from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.db import transaction
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from okrsignal.tenancy import tenant_context
from signals_ingest import signatures
from signals_ingest.crypto import CredentialsUnreadable
from signals_ingest.models import Integration, Provider, RawEvent
from signals_ingest.normalisers import dedupe_key_for
from signals_ingest.pipeline import store_raw_events
from signals_ingest.selectors import integration_by_webhook_token

logger = logging.getLogger(__name__)

# Where each provider's signing secret lives in ``Integration.credentials``. Jira's is optional: without
# one, Jira signs nothing and the unguessable token in the URL is the only proof of origin.
SIGNING_SECRET_CREDENTIAL = {
    Provider.JIRA: "webhook_secret",
    Provider.SLACK: "signing_secret",
    Provider.HUBSPOT: "client_secret",
}
JIRA_DELIVERY_HEADER = "X-Atlassian-Webhook-Identifier"
# HubSpot sends at most 100 events per request; a longer batch is not HubSpot's and is refused whole.
HUBSPOT_BATCH_MAX = 100


class WebhookRefused(Exception):
    """A call answered with an error: ``status``, the client-facing ``error``, and what to log."""

    def __init__(self, status: int, error: str, log_line: str | None = None) -> None:
        super().__init__(error)
        self.status = status
        self.error = error
        self.log_line = log_line


def _answer(body: Mapping[str, Any], status: int = 200) -> JsonResponse:
    response = JsonResponse(dict(body), status=status)
    if status >= 400:
        # Logged by this module already, without the token that Django's request logger would print.
        response._has_been_logged = True  # type: ignore[attr-defined]
    return response


def _signing_secret(integration: Integration) -> str:
    try:
        credentials = integration.credentials
    except CredentialsUnreadable as exc:
        # Our own configuration is at fault (an encryption key was dropped): ask the vendor to retry later
        # rather than refuse the call as forged.
        raise WebhookRefused(
            503,
            "This webhook cannot verify calls at the moment; try again later.",
            f"cannot read the credentials of integration {integration.pk} to verify the signature",
        ) from exc
    secret = credentials.get(SIGNING_SECRET_CREDENTIAL[Provider(integration.provider)])
    return str(secret) if secret else ""


def _parse(body: bytes, delivery: str | None = None) -> Any:
    try:
        return json.loads(body)
    except (ValueError, RecursionError) as exc:
        reason = exc.msg if isinstance(exc, json.JSONDecodeError) else type(exc).__name__
        raise WebhookRefused(
            400,
            "The body is not valid JSON.",
            f"body of {len(body)} bytes is not JSON (delivery {delivery or 'unknown'}): {reason}",
        ) from exc


def _queue_processing(integration: Integration, raw_event_ids: Sequence[int], *, hubspot: bool) -> None:
    """Hand the stored raw events to a worker once they are committed.

    ``robust``: if the broker cannot take the task, the events stay stored and unprocessed, and the
    periodic sweep of pending raw events processes them; the vendor still gets its 200.
    """
    from signals_ingest import tasks

    if not raw_event_ids:
        return
    organization_id, ids = integration.organization_id, list(raw_event_ids)
    enqueue: Callable[[], Any]
    if hubspot:
        enqueue = partial(tasks.resolve_hubspot_notifications_task.delay, organization_id, ids)
    elif len(ids) == 1:
        enqueue = partial(tasks.process_raw_event_task.delay, organization_id, ids[0])
    else:
        enqueue = partial(tasks.process_raw_events_task.delay, organization_id, ids)
    transaction.on_commit(enqueue, robust=True)


def _store(
    integration: Integration, items: Sequence[tuple[str, Mapping[str, Any]]], *, hubspot: bool = False
) -> list[int]:
    ids = store_raw_events(integration=integration, origin=RawEvent.Origin.WEBHOOK, items=items)
    _queue_processing(integration, ids, hubspot=hubspot)
    return ids


# --- Jira ---------------------------------------------------------------------------------------------


def _receive_jira(request: HttpRequest, integration: Integration) -> JsonResponse:
    body = request.body
    signatures.verify_jira_signature(
        body=body, headers=request.headers, secret=_signing_secret(integration) or None
    )
    delivery = (request.headers.get(JIRA_DELIVERY_HEADER) or "").strip() or None
    payload = _parse(body, delivery)
    if not isinstance(payload, dict):
        raise WebhookRefused(
            400,
            "A Jira webhook body must be a JSON object.",
            f"body is JSON but not an object (delivery {delivery or 'unknown'})",
        )
    # Jira repeats the identifier on every retry of one delivery; without it, the payload's own content
    # (issue, update time, changelog or comment) identifies it.
    dedupe_key = delivery or dedupe_key_for(Provider.JIRA, payload)
    _store(integration, [(dedupe_key, payload)])
    return _answer({"ok": True})


# --- Slack --------------------------------------------------------------------------------------------


def _receive_slack(request: HttpRequest, integration: Integration) -> JsonResponse:
    body = request.body
    signatures.verify_slack_signature(
        body=body, headers=request.headers, signing_secret=_signing_secret(integration)
    )
    payload = _parse(body)
    if not isinstance(payload, dict):
        raise WebhookRefused(
            400, "A Slack Events API body must be a JSON object.", "body is JSON but not an object"
        )
    kind = payload.get("type")
    if kind == "url_verification":
        challenge = payload.get("challenge")
        if not isinstance(challenge, str) or not challenge:
            raise WebhookRefused(400, "challenge is missing.", "url_verification without a challenge")
        return _answer({"challenge": challenge})
    if kind != "event_callback":
        # app_rate_limited and other notices carry no activity; acknowledged so that Slack stops sending.
        return _answer({"ok": True, "ignored": f"Slack {kind or 'payload'} carries no event."})
    event_id = payload.get("event_id")
    if not isinstance(event_id, str) or not event_id:
        raise WebhookRefused(400, "event_id is missing.", "event_callback without an event_id")
    team_id = integration.settings.get("team_id")
    if team_id and payload.get("team_id") and payload["team_id"] != team_id:
        logger.warning(
            "Slack webhook for integration %s (organisation %s): event %s comes from another workspace;"
            " not stored",
            integration.pk,
            integration.organization_id,
            event_id,
        )
        return _answer({"ok": True, "ignored": "The event comes from another Slack workspace."})
    # A retry (X-Slack-Retry-Num) carries the same event_id, so storing it again is a no-op. Direct
    # messages and channels nobody selected are dropped by store_raw_events before anything is kept, and
    # still acknowledged: Slack would otherwise retry them.
    _store(integration, [(event_id, payload)])
    return _answer({"ok": True})


# --- HubSpot ------------------------------------------------------------------------------------------


def _hubspot_events(payload: Any, integration: Integration) -> list[tuple[str, Mapping[str, Any]]]:
    if not isinstance(payload, list):
        raise WebhookRefused(
            400, "A HubSpot webhook body must be a JSON array of events.", "body is JSON but not an array"
        )
    if len(payload) > HUBSPOT_BATCH_MAX:
        raise WebhookRefused(
            400,
            f"A HubSpot webhook batch holds at most {HUBSPOT_BATCH_MAX} events;"
            f" this one holds {len(payload)}.",
            f"batch of {len(payload)} events refused (at most {HUBSPOT_BATCH_MAX})",
        )
    portal_id = str(integration.settings.get("portal_id") or "")
    items: list[tuple[str, Mapping[str, Any]]] = []
    for index, event in enumerate(payload):
        if not isinstance(event, dict):
            raise WebhookRefused(
                400, f"Event {index} is not a JSON object.", f"event {index} of the batch is not an object"
            )
        event_id = event.get("eventId")
        if isinstance(event_id, bool) or not isinstance(event_id, int | str) or event_id in ("", None):
            raise WebhookRefused(400, f"Event {index} has no eventId.", f"event {index} has no eventId")
        if portal_id and event.get("portalId") is not None and str(event["portalId"]) != portal_id:
            logger.warning(
                "HubSpot webhook for integration %s (organisation %s): event %s comes from another"
                " portal; not stored",
                integration.pk,
                integration.organization_id,
                event_id,
            )
            continue
        items.append((str(event_id), event))
    return items


def _receive_hubspot(request: HttpRequest, integration: Integration) -> JsonResponse:
    body = request.body
    signatures.verify_hubspot_signature(
        body=body,
        headers=request.headers,
        client_secret=_signing_secret(integration),
        method=request.method or "POST",
        # HubSpot signs the public address it called; behind a proxy that is not what this process sees.
        uri=settings.SITE_URL + request.get_full_path(),
    )
    items = _hubspot_events(_parse(body), integration)
    _store(integration, items, hubspot=True)
    return _answer({"ok": True, "events": len(items)})


# --- The views ----------------------------------------------------------------------------------------

Receiver = Callable[[HttpRequest, Integration], JsonResponse]


def _log_refusal(provider: str, integration: Integration, refusal: WebhookRefused) -> None:
    level = logging.ERROR if refusal.status >= 500 else logging.WARNING
    logger.log(
        level,
        "%s webhook for integration %s (organisation %s) answered %s: %s",
        Provider(provider).label,
        integration.pk,
        integration.organization_id,
        refusal.status,
        refusal.log_line or refusal.error,
    )


def _webhook_view(provider: str, receive: Receiver) -> Callable[..., JsonResponse]:
    label = Provider(provider).label

    @csrf_exempt
    def view(request: HttpRequest, webhook_token: str) -> JsonResponse:
        if request.method != "POST":
            response = _answer({"error": "Only POST is accepted."}, status=405)
            response["Allow"] = "POST"
            return response
        integration = integration_by_webhook_token(webhook_token)
        if integration is None or integration.provider != provider or not integration.is_connected:
            # No organisation is known, so none is named; nor is the token.
            logger.warning("%s webhook call for no connected %s integration answered 404", label, label)
            return _answer({"error": "Not found."}, status=404)
        try:
            with tenant_context(integration.organization_id):
                return receive(request, integration)
        except signatures.SignatureInvalid as exc:
            _log_refusal(
                provider, integration, WebhookRefused(401, exc.reason, f"signature refused: {exc.reason}")
            )
            return _answer({"error": f"The request signature is not valid: {exc.reason}"}, status=401)
        except WebhookRefused as refusal:
            _log_refusal(provider, integration, refusal)
            return _answer({"error": refusal.error}, status=refusal.status)
        except RequestDataTooBig:
            too_big = WebhookRefused(
                413, "The body is too large.", "body larger than DATA_UPLOAD_MAX_MEMORY_SIZE"
            )
            _log_refusal(provider, integration, too_big)
            return _answer({"error": too_big.error}, status=413)
        except Exception:
            # Nothing was stored (the transaction rolled back): a 5xx makes the vendor deliver it again.
            logger.exception(
                "%s webhook for integration %s (organisation %s) could not be stored",
                label,
                integration.pk,
                integration.organization_id,
            )
            return _answer({"error": "The event could not be stored; deliver it again."}, status=500)

    view.__name__ = view.__qualname__ = f"{provider}_webhook"
    view.__doc__ = f"Receive {label}'s webhook calls for the integration the token names."
    return view


jira_webhook = _webhook_view(Provider.JIRA, _receive_jira)
slack_webhook = _webhook_view(Provider.SLACK, _receive_slack)
hubspot_webhook = _webhook_view(Provider.HUBSPOT, _receive_hubspot)
