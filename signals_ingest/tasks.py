"""Celery tasks of execution-signal ingestion. Each takes ids, sets its organisation, calls one service.

Routes (``CELERY_TASK_ROUTES``): processing raw events runs on the "webhooks" queue, so that a backlog of
pulls never delays fresh webhook deliveries; re-applying rules and the periodic sweeps run on "sync".
"""

from __future__ import annotations

import logging
from datetime import timedelta

from celery import shared_task
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
    from signals_ingest.models import RawEvent
    from signals_ingest.pipeline import process_raw_events

    cutoff = timezone.now() - PENDING_GRACE
    total = 0
    for organization_id in Organization.objects.order_by("pk").values_list("pk", flat=True):
        with tenant_context(organization_id):
            pending = list(
                RawEvent.objects.filter(
                    processed_at__isnull=True, attempts__lt=MAX_PROCESSING_ATTEMPTS, received_at__lt=cutoff
                )
                .order_by("received_at", "pk")
                .values_list("pk", flat=True)[:SWEEP_BATCH]
            )
        if pending:
            with tenant_context(organization_id):
                result = process_raw_events(raw_event_ids=pending)
            total += len(result.processed)
    return total
