"""Celery tasks of execution-signal ingestion. Each takes ids, sets its organisation, calls one service.

Routes (``CELERY_TASK_ROUTES``): processing raw events, and resolving HubSpot's webhook notifications into
the objects they name, run on the "webhooks" queue, so that a backlog of pulls never delays fresh webhook
deliveries; pull syncs, re-applying rules and the periodic sweeps run on "sync".
"""

from __future__ import annotations

import logging
import random
from datetime import timedelta
from typing import Any

from celery import Task, shared_task
from celery.exceptions import MaxRetriesExceededError
from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from okrsignal.models import Organization
from okrsignal.tasks import tenant_task
from okrsignal.tenancy import tenant_context

logger = logging.getLogger(__name__)

# A raw event that failed this many times is left for a person to look at (it stays stored, with its
# error); the sweep stops retrying it.
MAX_PROCESSING_ATTEMPTS = 5
# The sweep leaves fresh events to the task queued for them when they were stored.
PENDING_GRACE = timedelta(minutes=2)
SWEEP_BATCH = 500


@tenant_task()
def process_raw_event_task(raw_event_id: int) -> None:
    """Process one stored raw event (queued by the webhook view once the event is committed)."""
    from signals_ingest.pipeline import process_raw_event

    process_raw_event(raw_event_id=raw_event_id)


@tenant_task()
def process_raw_events_task(raw_event_ids: list[int]) -> None:
    """Process a batch of stored raw events (a HubSpot webhook batch, a pulled page)."""
    from signals_ingest.pipeline import process_raw_events

    process_raw_events(raw_event_ids=raw_event_ids)


@tenant_task()
def resolve_hubspot_notifications_task(raw_event_ids: list[int]) -> None:
    """Fetch, store and process the objects a stored HubSpot webhook batch names (queued by the webhook
    view once the batch is committed)."""
    from signals_ingest.hubspot_notifications import resolve_hubspot_notifications

    resolve_hubspot_notifications(raw_event_ids=raw_event_ids)


@tenant_task()
def reapply_mapping_rules_task(integration_id: int) -> None:
    """Recompute the key-result links of an integration's stored signals after its rules changed."""
    from signals_ingest.pipeline import reapply_mapping_rules

    reapply_mapping_rules(integration_id=integration_id)


@shared_task(name="signals_ingest.tasks.expire_signal_texts_everywhere")
def expire_signal_texts_everywhere() -> int:
    """Blank expired signal texts in every organisation, each inside its own tenant context."""
    from signals_ingest.privacy import expire_signal_texts

    now = timezone.now()
    total = 0
    for organization_id in Organization.objects.order_by("pk").values_list("pk", flat=True):
        with tenant_context(organization_id):
            total += expire_signal_texts(now=now)
    if total:
        logger.info("Blanked the text of %d execution signals past their retention", total)
    return total


@shared_task(name="signals_ingest.tasks.process_pending_raw_events_everywhere")
def process_pending_raw_events_everywhere() -> int:
    """Process raw events still waiting (a lost task, a retryable failure) in each organisation."""
    from signals_ingest.hubspot_notifications import resolve_hubspot_notifications
    from signals_ingest.models import RawEvent
    from signals_ingest.pipeline import process_raw_events

    cutoff = timezone.now() - PENDING_GRACE
    # HubSpot webhook notifications name objects to fetch rather than carry them: they are resolved.
    notification = Q(provider="hubspot", payload__has_key="subscriptionType")
    total = 0
    for organization_id in Organization.objects.order_by("pk").values_list("pk", flat=True):
        with tenant_context(organization_id):
            waiting = RawEvent.objects.filter(
                processed_at__isnull=True, attempts__lt=MAX_PROCESSING_ATTEMPTS, received_at__lt=cutoff
            ).order_by("received_at", "pk")
            pending = list(waiting.exclude(notification).values_list("pk", flat=True)[:SWEEP_BATCH])
            notifications = list(waiting.filter(notification).values_list("pk", flat=True)[:SWEEP_BATCH])
        if pending:
            with tenant_context(organization_id):
                result = process_raw_events(raw_event_ids=pending)
            total += len(result.processed)
        if notifications:
            with tenant_context(organization_id):
                resolved = resolve_hubspot_notifications(raw_event_ids=notifications)
            total += len(resolved.resolved)
    return total


# --- Pull syncs -------------------------------------------------------------------------------------

# Retries of one sync (a vendor unavailable, a reconciliation waiting for a running sync) before it gives
# up until the next scheduled one.
SYNC_TASK_MAX_RETRIES = 8
# Longest wait between retries of a sync when the vendor names none.
SYNC_RETRY_MAX_SECONDS = 15 * 60
# A reconciliation that finds a sync of its integration running waits this long before trying again.
RECONCILE_WAIT_SECONDS = 5 * 60


def _sync_retry_seconds(retries: int, retry_after: float | None) -> float:
    if retry_after:
        return retry_after
    ceiling = min(SYNC_RETRY_MAX_SECONDS, 30 * 2**retries)
    return random.uniform(ceiling / 2, ceiling)  # noqa: S311 - jitter, not a secret


@shared_task(name="signals_ingest.tasks.sync_integration", bind=True, max_retries=SYNC_TASK_MAX_RETRIES)
def sync_integration(self: Task, org_id: int, integration_id: int, reconcile: bool = False) -> dict[str, Any]:
    """Pull one integration's changes from its vendor (``signals_ingest.sync.run_sync``).

    A tenant task like every other (``org_id`` first, ids only, credentials read inside), but declared
    without ``tenant_task``, which holds the whole body in one transaction: a sync commits page by page,
    each page in its own ``tenant_context(org_id)``, so that a crash keeps every page already stored.

    One sync per integration at a time (``SyncLock``): a sync that finds another running leaves the work
    to it; a reconciliation waits and tries again. A delivery started more than ``SYNC_MAX_REDELIVERIES``
    times over (its worker lost each time) is recorded as failed on the integration and acknowledged.
    A vendor that is unavailable makes the task retry after the vendor's ``Retry-After`` (or a backoff);
    refused credentials are recorded, never retried.
    """
    from signals_ingest import sync
    from signals_ingest.clients import VendorUnavailable

    task_id = self.request.id
    retries = int(self.request.retries or 0)
    if task_id:
        starts = sync.count_delivery(organization_id=org_id, task_id=task_id, retries=retries)
        if starts > 1 + settings.SYNC_MAX_REDELIVERIES:
            message = (
                f"The sync was interrupted {starts - 1} times without finishing (its worker stopped each"
                " time), so it was abandoned. What it stored is kept, and the next scheduled sync starts"
                " from there."
            )
            logger.error("Sync of integration %s abandoned after %d deliveries", integration_id, starts)
            sync.record_sync_failure(organization_id=org_id, integration_id=integration_id, error=message)
            sync.forget_delivery(organization_id=org_id, task_id=task_id, retries=retries)
            return {"skipped": message}
    lock = sync.SyncLock(organization_id=org_id, integration_id=integration_id, token=task_id)
    if not lock.acquire():
        if not reconcile:
            logger.info("Integration %s is being synced already; this sync is left to it", integration_id)
            return {"skipped": "Another sync of this integration is running."}
        try:
            raise self.retry(countdown=RECONCILE_WAIT_SECONDS)
        except MaxRetriesExceededError:
            return {"skipped": "Another sync of this integration kept running; reconciliation skipped."}
    try:
        report = sync.run_sync(
            organization_id=org_id, integration_id=integration_id, reconcile=reconcile, heartbeat=lock.refresh
        )
    except VendorUnavailable as exc:
        raise self.retry(exc=exc, countdown=_sync_retry_seconds(retries, exc.retry_after)) from exc
    finally:
        lock.release()
        if task_id:
            sync.forget_delivery(organization_id=org_id, task_id=task_id, retries=retries)
    return report.as_dict()


def _enqueue_syncs(*, reconcile: bool) -> int:
    """Queue a sync of every connected integration, each organisation read in its own tenant context."""
    from signals_ingest.models import Integration

    queued: list[tuple[int, int]] = []
    for organization_id in Organization.objects.order_by("pk").values_list("pk", flat=True):
        with tenant_context(organization_id):
            queued += [
                (organization_id, integration_id)
                for integration_id in Integration.objects.filter(state=Integration.State.CONNECTED)
                .order_by("pk")
                .values_list("pk", flat=True)
            ]
    for organization_id, integration_id in queued:
        sync_integration.delay(organization_id, integration_id, reconcile=reconcile)
    return len(queued)


@shared_task(name="signals_ingest.tasks.sync_all_integrations")
def sync_all_integrations() -> int:
    """Queue a sync of every connected integration (periodic)."""
    return _enqueue_syncs(reconcile=False)


@shared_task(name="signals_ingest.tasks.reconcile_integrations")
def reconcile_integrations() -> int:
    """Queue a reconciliation of every connected integration: a re-read of a wider span (daily)."""
    return _enqueue_syncs(reconcile=True)
