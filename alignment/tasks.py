"""Celery tasks of the drift engine: scoring as things change, the nightly recompute, alerts and digests.

- ``score_pending_goals`` (queue ``scoring``): the debounced scoring of one organisation, queued by
  ``alignment.triggers`` once per window; takes the organisation's pending set and scores it.
- ``score_goals`` (queue ``scoring``): scores the goals it is given; what the triggers run at once when
  tasks run in-process.
- ``rescore_everywhere`` (beat, nightly) queues ``rescore_organization`` (queue ``scoring``) for every
  organisation with a live cycle: every goal recomputed as of now, the week's snapshot kept.
- ``drift_alert_send``: sends one recorded e-mail or Slack direct message (``alignment.alerts``), retried
  with backoff when the mail server or Slack is unavailable, never recorded twice.
- ``drift_digests_dispatch_everywhere`` (beat, every quarter hour) queues ``drift_digests_dispatch`` for
  each organisation where it is Monday 08:00: one digest e-mail per person who chose the weekly digest.

Tenant tasks take the organisation's id first and ids after it; moments travel as ISO 8601 strings.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from celery import current_task, shared_task
from django.utils import timezone

from okrsignal.tasks import tenant_task
from okrsignal.tenancy import require_organization_id

logger = logging.getLogger(__name__)

SEND_MAX_RETRIES = 6
# Without a wait asked for by the vendor, retries back off exponentially (with full jitter) up to this.
SEND_LONGEST_BACKOFF_SECONDS = 30 * 60

_random = random.SystemRandom()


def _moment(at: str | None) -> datetime:
    """An ISO 8601 moment as the tasks carry it (JSON has no datetimes); None means now."""
    if at is None:
        return timezone.now()
    moment = datetime.fromisoformat(at)
    if moment.tzinfo is None:
        raise ValueError(f"A task's moment needs a time zone offset: {at!r}.")
    return moment


@tenant_task()
def score_pending_goals(at: str | None = None) -> dict[str, Any]:
    """Score the goals waiting in the organisation's pending set (see ``alignment.triggers``). If scoring
    fails, they go back into the set for the next task."""
    from alignment import triggers

    organization_id = require_organization_id()
    marks = triggers.take_pending(organization_id)
    if not marks:
        return {"organization_id": organization_id, "subjects": 0}
    try:
        outcome = triggers.score_touched_goals(organization_id, marks, now=_moment(at))
    except Exception:
        triggers.give_back(organization_id, marks)
        raise
    _log("Scored pending goals", outcome.as_json())
    return outcome.as_json()


@tenant_task()
def score_goals(marks: Sequence[str], at: str | None = None) -> dict[str, Any]:
    """Score the goals ``marks`` name (``"key_result:12"``, ``"objective:3"``, ``"kpi:4"``) and those
    that follow from them, as of ``at`` (default now)."""
    from alignment import triggers

    outcome = triggers.score_touched_goals(require_organization_id(), marks, now=_moment(at))
    _log("Scored goals", outcome.as_json())
    return outcome.as_json()


@shared_task(name="alignment.tasks.rescore_everywhere")
def rescore_everywhere(at: str | None = None) -> int:
    """Queue the full recompute of every organisation with a live cycle; returns how many were queued."""
    from alignment import triggers

    organization_ids = triggers.organizations_with_live_cycles(_moment(at))
    for organization_id in organization_ids:
        rescore_organization.delay(organization_id, at)
    return len(organization_ids)


@tenant_task()
def rescore_organization(at: str | None = None) -> dict[str, Any]:
    """Recompute every goal of the organisation's live cycle as of ``at`` (default now)."""
    from alignment import triggers

    outcome = triggers.rescore_organization(require_organization_id(), now=_moment(at))
    _log("Recomputed the organisation", outcome.as_json())
    return outcome.as_json()


@tenant_task(max_retries=SEND_MAX_RETRIES)
def drift_alert_send(delivery_id: int) -> str:
    """Send one recorded alert or digest. A failure that may pass (mail server, Slack) is retried with
    backoff and jitter, or after the wait Slack asks for; the delivery is never recorded twice."""
    from alignment.alerts import AlertSendDeferred, delivery_send

    try:
        return delivery_send(delivery_id=delivery_id)
    except AlertSendDeferred as exc:
        task = current_task
        attempt = task.request.retries if task is not None else 0
        if exc.retry_after is not None:
            countdown = exc.retry_after
        else:
            countdown = _random.uniform(0, min(SEND_LONGEST_BACKOFF_SECONDS, 30 * 2**attempt))
        logger.warning(
            "Drift alert delivery %d not sent (attempt %d): %s; trying again in %.0f s",
            delivery_id,
            attempt + 1,
            exc,
            countdown,
        )
        if task is None:
            raise
        raise task.retry(exc=exc, countdown=countdown) from exc


@shared_task(name="alignment.tasks.drift_digests_dispatch_everywhere")
def drift_digests_dispatch_everywhere(at: str | None = None) -> int:
    """Queue the digest dispatcher of every organisation whose Monday morning digest is due."""
    from alignment.alerts import organizations_with_digest_due

    organization_ids = organizations_with_digest_due(_moment(at))
    for organization_id in organization_ids:
        drift_digests_dispatch.delay(organization_id, at)
    return len(organization_ids)


@tenant_task()
def drift_digests_dispatch(at: str | None = None) -> int:
    """Record the organisation's weekly digests and queue their e-mails; returns how many were recorded."""
    from alignment.alerts import drift_digests_record

    return len(drift_digests_record(at=_moment(at)))


def _log(what: str, figures: dict[str, Any]) -> None:
    logger.info(
        "%s in organisation %s: %d goals, %d findings reported, %d opened, %d notifications",
        what,
        figures["organization_id"],
        figures["subjects"],
        figures["reported"],
        len(figures["opened"]),
        figures["notifications"],
    )
