"""In-app notifications: recording them once per person and subject, reading them, marking them read.

A notification is shown in the app to its recipient only. Apps that tell people things (drift alerts in
``alignment.alerts``) record one through ``notification_record`` and send it on by e-mail or Slack with a
``NotificationDelivery`` of their own: the unique constraints make both idempotent, so a task run twice,
or two workers racing, tell a person once.
"""

from __future__ import annotations

from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone

from okrsignal.models import (
    AlertDelivery,
    Membership,
    Notification,
    NotificationChannel,
    NotificationDelivery,
)
from okrsignal.tenancy import require_same_organization

TITLE_LENGTH = 200
# What the notifications page shows at most; older ones are still stored.
PAGE_SIZE = 100


# --- Writes -----------------------------------------------------------------------------------------


def notification_record(
    *,
    recipient: Membership,
    kind: str,
    subject_key: str,
    title: str,
    body: str,
    link: str = "",
    at: datetime | None = None,
) -> Notification | None:
    """Record a notification, unless ``recipient`` has one of ``kind`` about ``subject_key`` already.

    Returns the new notification, or None when it existed (recorded earlier or by a concurrent run, which
    this one waits for).
    """
    require_same_organization(recipient)
    if not subject_key:
        raise ValueError("A notification needs the key of what it is about.")
    notification = Notification(
        recipient=recipient,
        kind=kind,
        subject_key=subject_key,
        title=title[:TITLE_LENGTH],
        body=body,
        link=link,
        created_at=at or timezone.now(),
    )
    notification.organization_id = recipient.organization_id
    try:
        with transaction.atomic():
            notification.save()
    except IntegrityError:
        return None
    return notification


def notification_delivery_record(*, notification: Notification, channel: str) -> NotificationDelivery | None:
    """Record that ``notification`` is to go out by ``channel``; None if it was recorded already."""
    require_same_organization(notification)
    if channel not in NotificationChannel.values:
        raise ValueError(f"No channel {channel!r}; expected one of {', '.join(NotificationChannel.values)}.")
    delivery = NotificationDelivery(notification=notification, channel=channel)
    delivery.organization_id = notification.organization_id
    try:
        with transaction.atomic():
            delivery.save()
    except IntegrityError:
        return None
    return delivery


@transaction.atomic
def notification_mark_read(*, notification: Notification, by: Membership, at: datetime | None = None) -> None:
    """The recipient has seen it. Someone else's notification is not theirs to mark (the view answers
    404 before it gets here)."""
    require_same_organization(notification, by)
    if notification.recipient_id != by.pk:
        raise ValidationError({"notification": "This notification is someone else's."})
    Notification.objects.filter(pk=notification.pk, read_at=None).update(read_at=at or timezone.now())


@transaction.atomic
def notifications_mark_all_read(*, by: Membership, at: datetime | None = None) -> int:
    """Mark every unread notification of ``by`` read; return how many there were."""
    require_same_organization(by)
    return Notification.objects.filter(recipient=by, read_at=None).update(read_at=at or timezone.now())


@transaction.atomic
def alert_delivery_set(*, membership: Membership, delivery: str) -> Membership:
    """Choose how drift alerts reach ``membership`` outside the app: as they happen, or in a weekly
    digest e-mail (they always appear in the app)."""
    require_same_organization(membership)
    if delivery not in AlertDelivery.values:
        raise ValidationError({"alert_delivery": f"Choose one of: {', '.join(AlertDelivery.labels)}."})
    membership.alert_delivery = delivery
    membership.save(update_fields=["alert_delivery"])
    return membership


# --- Reads ------------------------------------------------------------------------------------------


def notifications_for(membership: Membership) -> QuerySet[Notification]:
    """``membership``'s own notifications, newest first."""
    return Notification.objects.filter(recipient=membership).order_by("-created_at", "-id")


def own_notification(membership: Membership, notification_id: int) -> Notification | None:
    """The notification with that id if it is ``membership``'s own; None for anyone else's."""
    return Notification.objects.filter(recipient=membership, pk=notification_id).first()


def unread_count(membership: Membership) -> int:
    return Notification.objects.filter(recipient=membership, read_at=None).count()
