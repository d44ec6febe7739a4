"""Drift alerts: telling a goal's owner and their manager when it starts drifting, once.

When a live recompute (``alignment.triggers``) opens a finding, newly or again, its goal's owner and the
owner's manager each get one notification:

- in the app (``okrsignal.models.Notification``), always;
- by e-mail and, when Slack is connected and the person has a matched Slack account, by Slack direct
  message, if they take alerts as they happen (``Membership.alert_delivery``). Those who chose the weekly
  digest get one e-mail on Monday at 08:00 in the organisation's time zone listing the goals they own or
  whose owners they manage that are drifting, instead of an e-mail per finding.

Each carries the engine's explanation and a link to the goal. The owner is the key result's owner (its
objective's owner when it has none), or the objective's owner; failing both, the objective's team lead.

No repeats. A notification is keyed by ``finding:<id>:<episode>``, where the episode counts the times
the finding opened (first detected, then each reopening); ``Notification`` is unique per recipient, kind
and key, and each e-mail or Slack message is a ``NotificationDelivery`` unique per notification and
channel, recorded and committed before anything is sent. Recomputing again, by a trigger, the nightly
run or two workers at once, tells nobody twice. A finding the engine closed (its cause went away) and
then opened again is a new episode of drift, and its people are told again: they were not told it had
ended, and a goal drifting again after recovering is news. A finding acknowledged or resolved by a person
stays quiet until the engine itself has seen its cause go and come back.

Nothing leaves the app while ``alignment.triggers.replaying()`` is in force, or when a caller passes
``outside_app=False``: replays and scenario loads never e-mail or message anyone.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from alignment.models import Finding, FindingEvent
from alignment.services import RecomputeResult
from alignment.triggers import is_replaying, live_cycle
from goals.checkin_reminders import slack_escape, slack_integration, slack_user_ids
from okrsignal.models import (
    AlertDelivery,
    Membership,
    Notification,
    NotificationChannel,
    NotificationDelivery,
    NotificationKind,
    Organization,
)
from okrsignal.notifications import notification_delivery_record, notification_record
from okrsignal.tenancy import require_organization_id
from signals_ingest.clients import CredentialsRefused, SlackClient, VendorRequestRejected, VendorUnavailable
from signals_ingest.crypto import CredentialsUnreadable
from signals_ingest.models import ExternalIdentity, Provider
from signals_ingest.rate_limit import ProviderRateLimiter

logger = logging.getLogger(__name__)

# The weekly digest goes out on Monday at 08:00 local time; a beat or worker that was down catches up
# for this long, after which the week's digest is skipped rather than sent hours late.
DIGEST_WEEKDAY = 0
DIGEST_TIME = time(8, 0)
DIGEST_GRACE = timedelta(hours=3)
OPEN_STATES = (Finding.State.OPEN, Finding.State.ACKNOWLEDGED)


# --- Who is told --------------------------------------------------------------------------------------


def _active(membership: Membership | None) -> Membership | None:
    if membership is None or not membership.is_active or not membership.user.is_active:
        return None
    return membership


def goal_owner(finding: Finding) -> Membership | None:
    """Who answers for the finding's goal (see the module docstring)."""
    if finding.key_result is not None:
        objective = finding.key_result.objective
        owner = finding.key_result.owner or objective.owner
    else:
        assert finding.objective is not None
        objective = finding.objective
        owner = objective.owner
    if owner is None and objective.team is not None:
        owner = objective.team.lead
    return owner


def recipients(finding: Finding) -> list[tuple[Membership, str]]:
    """The owner and the owner's manager (each active, each once), with the part each plays."""
    owner = _active(goal_owner(finding))
    if owner is None:
        return []
    found = [(owner, "owner")]
    manager = _active(owner.manager)
    if manager is not None and manager.pk != owner.pk:
        found.append((manager, "manager"))
    return found


def _findings(ids: list[int]) -> list[Finding]:
    return list(
        Finding.objects.filter(pk__in=ids)
        .select_related(
            "key_result__owner__user",
            "key_result__owner__manager__user",
            "key_result__objective__owner__user",
            "key_result__objective__owner__manager__user",
            "key_result__objective__team__lead__user",
            "objective__owner__user",
            "objective__owner__manager__user",
            "objective__team__lead__user",
        )
        .order_by("pk")
    )


def episode(finding: Finding) -> int:
    """How many times the finding has opened: first detection and each reopening."""
    return FindingEvent.objects.filter(
        finding=finding, action__in=[FindingEvent.Action.DETECTED, FindingEvent.Action.REOPENED]
    ).count()


# --- What they are told ---------------------------------------------------------------------------------


def goal_title(finding: Finding) -> str:
    if finding.key_result is not None:
        return finding.key_result.title
    assert finding.objective is not None
    return finding.objective.title


def goal_path(finding: Finding, organization: Organization) -> str:
    if finding.key_result_id is not None:
        return reverse(
            "goals:key_result_detail",
            kwargs={"org_slug": organization.slug, "key_result_id": finding.key_result_id},
        )
    return reverse(
        "goals:objective_detail", kwargs={"org_slug": organization.slug, "objective_id": finding.objective_id}
    )


def alert_title(finding: Finding) -> str:
    return f"{goal_title(finding)} is drifting: {finding.get_kind_display().lower()}"


def alert_body(finding: Finding, owner: Membership) -> str:
    since = f"{finding.onset_date.day} {finding.onset_date:%B}"
    return (
        f"{finding.explanation}\n\nSince week {finding.onset_week} of the cycle (the week of {since}). "
        f"Owner: {owner.user.full_name or owner.user.email}."
    )


def site_url(path: str) -> str:
    return f"{settings.SITE_URL}{path}" if path.startswith("/") else path


# --- Recording alerts ------------------------------------------------------------------------------------


def drift_alerts_record(result: RecomputeResult, *, outside_app: bool = True) -> int:
    """Notify the owner and manager of every finding ``result`` opened (newly or again), in context.
    Returns how many notifications were recorded (none for a finding they were told about already).

    E-mails and Slack messages are recorded here and sent by their own tasks once this transaction
    commits; with ``outside_app`` false, or while replaying, only the in-app notifications are kept.
    """
    opened = [*result.detected, *result.reopened]
    if not opened:
        return 0
    organization = Organization.objects.get(pk=require_organization_id())
    outside_app = outside_app and not is_replaying()
    slack_on = outside_app and slack_integration() is not None
    findings = [f for f in _findings(opened) if f.active and f.state == Finding.State.OPEN]
    people = {person.pk for finding in findings for person, _part in recipients(finding)}
    slack_ids = slack_user_ids(sorted(people)) if slack_on else {}
    deliveries: list[int] = []
    recorded = 0
    at = timezone.now()
    for finding in findings:
        told = recipients(finding)
        if not told:
            logger.info("Finding %d opened but its goal has no active owner to tell", finding.pk)
            continue
        owner = told[0][0]
        key = f"finding:{finding.pk}:{episode(finding)}"
        for person, _part in told:
            notification = notification_record(
                recipient=person,
                kind=NotificationKind.DRIFT_ALERT,
                subject_key=key,
                title=alert_title(finding),
                body=alert_body(finding, owner),
                link=goal_path(finding, organization),
                at=at,
            )
            if notification is None:
                continue
            recorded += 1
            if not outside_app or person.alert_delivery != AlertDelivery.IMMEDIATE:
                continue
            channels = [NotificationChannel.EMAIL]
            if person.pk in slack_ids:
                channels.append(NotificationChannel.SLACK)
            for channel in channels:
                delivery = notification_delivery_record(notification=notification, channel=channel)
                if delivery is not None:
                    deliveries.append(delivery.pk)
    _send_on_commit(organization.pk, deliveries)
    return recorded


def _send_on_commit(organization_id: int, delivery_ids: list[int]) -> None:
    if not delivery_ids:
        return
    from alignment.tasks import drift_alert_send

    def queue_sends() -> None:
        for delivery_id in delivery_ids:
            drift_alert_send.delay(organization_id, delivery_id)

    transaction.on_commit(queue_sends)


# --- The weekly digest -----------------------------------------------------------------------------------


def digest_week(organization: Organization, now: datetime) -> date:
    """The Monday (local) of the week ``now`` falls in, in the organisation's time zone."""
    local = now.astimezone(ZoneInfo(organization.time_zone))
    return local.date() - timedelta(days=(local.weekday() - DIGEST_WEEKDAY) % 7)


def digest_due_at(organization: Organization, week: date) -> datetime:
    """When the digest of the week starting ``week`` goes out: Monday 08:00 local, in UTC."""
    local = datetime.combine(week, DIGEST_TIME, tzinfo=ZoneInfo(organization.time_zone))
    return local.astimezone(UTC)


def digest_is_due(organization: Organization, now: datetime) -> bool:
    due = digest_due_at(organization, digest_week(organization, now))
    return due <= now < due + DIGEST_GRACE


def organizations_with_digest_due(now: datetime) -> list[int]:
    """Ids of the organisations whose Monday digest is due at ``now`` (organisations are not tenant rows)."""
    return [
        organization.pk
        for organization in Organization.objects.order_by("pk").only("pk", "time_zone")
        if digest_is_due(organization, now)
    ]


@dataclass(frozen=True)
class _DigestLine:
    title: str
    kind: str
    state: str
    onset_week: int
    owner: str
    path: str


@transaction.atomic
def drift_digests_record(*, at: datetime | None = None) -> list[int]:
    """Record this week's digest for everyone in the organisation (in context) who chose it and has
    drifting goals (their own, or their reports'), and queue the e-mails once committed. Returns the ids
    of the digests recorded now; running it again in the same week records nothing."""
    now = at or timezone.now()
    organization = Organization.objects.get(pk=require_organization_id())
    if not digest_is_due(organization, now):
        return []
    cycle = live_cycle(now)
    if cycle is None:
        return []
    readers = {
        person.pk: person
        for person in Membership.objects.filter(
            alert_delivery=AlertDelivery.WEEKLY_DIGEST, is_active=True, user__is_active=True
        ).select_related("user")
    }
    if not readers:
        return []
    lines: dict[int, list[_DigestLine]] = defaultdict(list)
    open_findings = [
        finding
        for finding in _findings(
            list(
                Finding.objects.filter(cycle=cycle, active=True, state__in=OPEN_STATES).values_list(
                    "pk", flat=True
                )
            )
        )
    ]
    for finding in sorted(open_findings, key=lambda f: (-f.severity, f.pk)):
        told = recipients(finding)
        if not told:
            continue
        owner = told[0][0]
        line = _DigestLine(
            title=goal_title(finding),
            kind=finding.get_kind_display().lower(),
            state=finding.get_state_display().lower(),
            onset_week=finding.onset_week,
            owner=owner.user.full_name or owner.user.email,
            path=goal_path(finding, organization),
        )
        for person, _part in told:
            if person.pk in readers:
                lines[person.pk].append(line)
    week = digest_week(organization, now)
    recorded: list[int] = []
    for person_id, person_lines in sorted(lines.items()):
        count = len(person_lines)
        notification = notification_record(
            recipient=readers[person_id],
            kind=NotificationKind.DRIFT_DIGEST,
            subject_key=f"digest:{week.isoformat()}",
            title=f"Weekly drift digest: {count} {'goal is' if count == 1 else 'goals are'} drifting",
            body="\n".join(
                f"- {line.title}: {line.kind} since week {line.onset_week} ({line.state}; owner "
                f"{line.owner}) {site_url(line.path)}"
                for line in person_lines
            ),
            link=reverse("goals:overview", kwargs={"org_slug": organization.slug}),
            at=now,
        )
        if notification is None or is_replaying():
            continue
        delivery = notification_delivery_record(notification=notification, channel=NotificationChannel.EMAIL)
        if delivery is not None:
            recorded.append(delivery.pk)
    _send_on_commit(organization.pk, recorded)
    return recorded


# --- Sending one (the send task) --------------------------------------------------------------------------


class AlertSendDeferred(Exception):
    """The message could not go out now for a reason that may pass (mail server or Slack unavailable);
    the send task tries again later. ``retry_after`` is the vendor's requested wait, when it gave one."""

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


@dataclass(frozen=True)
class AlertMessage:
    subject: str
    body: str  # the e-mail's plain text
    slack_text: str  # the direct message, in Slack's markup


def alert_message(*, notification: Notification, organization: Organization) -> AlertMessage:
    recipient = notification.recipient
    context = {
        "organization_name": organization.name,
        "name": recipient.user.get_short_name(),
        "title": notification.title,
        "body": notification.body,
        "url": site_url(notification.link),
        "notifications_url": site_url(reverse("notifications", kwargs={"org_slug": organization.slug})),
    }
    slack_context = {
        **context,
        "name": slack_escape(context["name"]),
        "title": slack_escape(context["title"]),
        "body": slack_escape(context["body"]),
    }
    if notification.kind == NotificationKind.DRIFT_DIGEST:
        return AlertMessage(
            subject=f"{organization.name}: {notification.title}",
            body=render_to_string("emails/drift_alert_digest.txt", context).strip() + "\n",
            slack_text="",
        )
    return AlertMessage(
        subject=f"{organization.name}: {notification.title}",
        body=render_to_string("emails/drift_alert.txt", context).strip() + "\n",
        slack_text=render_to_string("emails/drift_alert_slack.txt", slack_context).strip(),
    )


def _not_sent(delivery: NotificationDelivery, reason: str) -> str:
    NotificationDelivery.objects.filter(pk=delivery.pk, delivered_at=None).update(
        not_sent_reason=reason[:300]
    )
    logger.info("Notification delivery %d not sent: %s", delivery.pk, reason)
    return reason


def _drift_ended(notification: Notification) -> bool:
    """Whether the finding an alert is about has closed since (a digest is about the week: never)."""
    if notification.kind != NotificationKind.DRIFT_ALERT:
        return False
    _prefix, finding_id, _episode = [*notification.subject_key.split(":"), "", ""][:3]
    if not finding_id.isdigit():
        return False
    finding = Finding.objects.filter(pk=int(finding_id)).first()
    return finding is None or not finding.active or finding.state == Finding.State.RESOLVED


def delivery_send(*, delivery_id: int, at: datetime | None = None) -> str:
    """Send one recorded delivery, in the organisation in context. Returns what happened, in words.

    Sent at most once: one already delivered (or given up on) is left alone. An alert whose drift has
    ended meanwhile, or for someone no longer active, is not sent. A failure that may pass raises
    ``AlertSendDeferred`` and records nothing, so the task can try again.
    """
    delivery = NotificationDelivery.objects.select_related("notification__recipient__user").get(
        pk=delivery_id
    )
    if delivery.delivered_at is not None or delivery.not_sent_reason:
        return "already handled"
    notification = delivery.notification
    recipient = notification.recipient
    if not (recipient.is_active and recipient.user.is_active):
        return _not_sent(delivery, "No longer active in the organisation.")
    if _drift_ended(notification):
        return _not_sent(delivery, "The drift ended before the alert went out.")
    organization = Organization.objects.get(pk=delivery.organization_id)
    message = alert_message(notification=notification, organization=organization)
    if delivery.channel == NotificationChannel.EMAIL:
        try:
            send_mail(
                subject=message.subject,
                message=message.body,
                from_email=None,
                recipient_list=[recipient.user.email],
            )
        except OSError as exc:  # smtplib's errors are OSErrors
            raise AlertSendDeferred(f"The mail server did not take it ({exc}).") from exc
    else:
        outcome = _send_slack(delivery, recipient, message.slack_text)
        if outcome:
            return outcome
    NotificationDelivery.objects.filter(pk=delivery.pk, delivered_at=None).update(
        delivered_at=at or timezone.now()
    )
    return f"sent by {delivery.get_channel_display()}"


def _send_slack(delivery: NotificationDelivery, recipient: Membership, text: str) -> str:
    """Send the direct message; answer why it was not sent, or "" when it was."""
    integration = slack_integration()
    if integration is None:
        return _not_sent(delivery, "Slack was disconnected before the alert went out.")
    slack_user = (
        ExternalIdentity.objects.filter(provider=Provider.SLACK, membership=recipient)
        .order_by("pk")
        .values_list("external_id", flat=True)
        .first()
    )
    if slack_user is None:
        return _not_sent(delivery, "No Slack account is matched to this person any more.")
    try:
        bot_token = str(integration.credentials.get("bot_token") or "")
    except CredentialsUnreadable:
        return _not_sent(delivery, "The Slack credentials cannot be read; enter the bot token again.")
    if not bot_token:
        return _not_sent(delivery, "The Slack connection has no bot token.")
    client = SlackClient(
        bot_token=bot_token,
        base_url=settings.SLACK_API_URL,
        limiter=ProviderRateLimiter.for_current_organization(Provider.SLACK),
    )
    try:
        client.send_direct_message(slack_user, text)
    except (CredentialsRefused, VendorRequestRejected) as exc:
        return _not_sent(delivery, exc.message)
    except VendorUnavailable as exc:
        if exc.operation == "send a direct message" and exc.status != 429:
            # Slack may have delivered it: sending again could tell the person twice.
            return _not_sent(delivery, exc.message)
        raise AlertSendDeferred(exc.message, retry_after=exc.retry_after) from exc
    return ""
