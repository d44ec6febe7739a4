"""Celery tasks of the goal system: check-in reminders.

``check_in_reminders_dispatch_everywhere`` is the beat's entry point (``CELERY_BEAT_SCHEDULE``, every 15
minutes). It queues ``check_in_reminders_dispatch`` for each organisation with a reminder due, which
records the reminders and queues one ``check_in_reminder_send`` per reminder once they are committed.
Tenant tasks take the organisation's id first and ids after it; the Slack token is read inside the send.
"""

from __future__ import annotations

import logging
import random
from datetime import datetime

from celery import current_task, shared_task
from django.utils import timezone

from okrsignal.tasks import tenant_task

logger = logging.getLogger(__name__)

SEND_MAX_RETRIES = 6
# Without a wait asked for by the vendor, retries back off exponentially (with full jitter) up to this.
SEND_LONGEST_BACKOFF_SECONDS = 30 * 60

_random = random.SystemRandom()


def _moment(at: str | None) -> datetime | None:
    """An ISO 8601 moment as the tasks carry it (JSON has no datetimes); None means now."""
    if at is None:
        return None
    moment = datetime.fromisoformat(at)
    if moment.tzinfo is None:
        raise ValueError(f"A task's moment needs a time zone offset: {at!r}.")
    return moment


@shared_task(name="goals.tasks.check_in_reminders_dispatch_everywhere")
def check_in_reminders_dispatch_everywhere(at: str | None = None) -> int:
    """Queue the reminder dispatcher of every organisation that has a reminder due. ``at`` (ISO 8601)
    replays a moment; by default it is now. Returns how many organisations were queued."""
    from goals.checkin_reminders import organizations_with_reminders_due

    now = _moment(at) or timezone.now()
    organization_ids = organizations_with_reminders_due(now)
    for organization_id in organization_ids:
        check_in_reminders_dispatch.delay(organization_id, at)
    return len(organization_ids)


@tenant_task()
def check_in_reminders_dispatch(at: str | None = None) -> int:
    """Record the organisation's due reminders and queue their sends. Returns how many were recorded."""
    from goals.checkin_reminders import check_in_reminders_dispatch as dispatch

    return len(dispatch(at=_moment(at)))


@tenant_task(max_retries=SEND_MAX_RETRIES)
def check_in_reminder_send(reminder_id: int) -> str:
    """Send one recorded reminder. A failure that may pass (mail server, Slack) is retried with backoff
    and jitter, or after the wait Slack asks for; the reminder is never recorded twice."""
    from goals.checkin_reminders import ReminderSendDeferred, check_in_reminder_deliver

    try:
        return check_in_reminder_deliver(reminder_id=reminder_id)
    except ReminderSendDeferred as exc:
        task = current_task
        attempt = task.request.retries if task is not None else 0
        if exc.retry_after is not None:
            countdown = exc.retry_after
        else:
            countdown = _random.uniform(0, min(SEND_LONGEST_BACKOFF_SECONDS, 30 * 2**attempt))
        logger.warning(
            "Check-in reminder %d not sent (attempt %d): %s; trying again in %.0f s",
            reminder_id,
            attempt + 1,
            exc,
            countdown,
        )
        if task is None:
            raise
        raise task.retry(exc=exc, countdown=countdown) from exc
