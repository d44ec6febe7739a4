"""Check-in reminders: when they are due, who gets them, and what they say.

Each organisation's check-in is due on its check-in day at its check-in time, in its time zone
(``Organization.checkin_weekday`` / ``checkin_time`` / ``time_zone``). Two reminders go to everyone active
who has not submitted that week's check-in:

- **before**: the day before the check-in day, at the check-in time;
- **after**: the morning after the check-in day, at 09:00.

Both are computed on the local calendar, so they keep their wall-clock time across daylight-saving
changes. Each goes by e-mail and, when Slack is connected and the person has a matched Slack identity, by
Slack direct message.

The beat runs ``goals.tasks.check_in_reminders_dispatch_everywhere`` every 15 minutes; it finds the
organisations with a reminder due (due time <= now < due time + ``REMINDER_GRACE``) and queues one
``check_in_reminders_dispatch`` per organisation. That records one ``CheckInReminder`` row per person,
week, kind and channel, committed before anything is sent; the unique constraint lets only one of two
racing dispatchers record (and so send) a reminder. Each recorded reminder is then sent by its own task,
``check_in_reminder_send``, which retries a failed send without recording it again.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Exists, OuterRef, QuerySet
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from goals.checkin_weeks import checkin_due_at, checkin_week
from goals.checkins import check_in_reminder_record
from goals.models import CheckIn, CheckInReminder, CheckInState, ReminderChannel, ReminderKind
from okrsignal.models import Membership, Organization
from okrsignal.tenancy import require_organization_id
from signals_ingest.clients import CredentialsRefused, SlackClient, VendorRequestRejected, VendorUnavailable
from signals_ingest.crypto import CredentialsUnreadable
from signals_ingest.models import ExternalIdentity, Integration, Provider
from signals_ingest.rate_limit import ProviderRateLimiter

logger = logging.getLogger(__name__)

# How long after its due time a reminder may still go out: the beat runs every 15 minutes, and a beat or
# worker that was down for a while catches up, but a reminder hours late is noise and is dropped.
REMINDER_GRACE = timedelta(hours=3)
# The "after" reminder goes out the morning after the check-in day, at this local time.
AFTER_REMINDER_TIME = time(9, 0)
WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


# --- When (pure) ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CheckInSchedule:
    """When an organisation's weekly check-in is due: a weekday (0 is Monday), a local time, a zone."""

    weekday: int
    at_time: time
    time_zone: str

    @classmethod
    def of(cls, organization: Organization) -> CheckInSchedule:
        return cls(
            weekday=organization.checkin_weekday,
            at_time=organization.checkin_time,
            time_zone=organization.time_zone,
        )

    def due_at(self, week: date) -> datetime:
        """When the week's check-in is due, in UTC."""
        return checkin_due_at(week, self.weekday, self.at_time, self.time_zone)

    def reminder_due_at(self, week: date, kind: str) -> datetime:
        """When the week's ``kind`` of reminder is due, in UTC: the day before the check-in day at the
        check-in time, or the day after at 09:00, on the local calendar (a reminder may fall in the
        week before or after: a Monday check-in is reminded on the Sunday before)."""
        check_in_day = week + timedelta(days=self.weekday)
        if kind == ReminderKind.BEFORE:
            day, at_time = check_in_day - timedelta(days=1), self.at_time
        elif kind == ReminderKind.AFTER:
            day, at_time = check_in_day + timedelta(days=1), AFTER_REMINDER_TIME
        else:
            raise ValueError(f"No reminder is sent {kind!r}.")
        # A local time skipped by a clock change is read with the offset before it (as checkin_due_at).
        local = datetime.combine(day, at_time.replace(tzinfo=None), tzinfo=ZoneInfo(self.time_zone))
        return local.astimezone(UTC)

    def describe(self) -> str:
        """``Fridays at 10:00 (Europe/Berlin)``."""
        return f"{WEEKDAY_NAMES[self.weekday]}s at {self.at_time:%H:%M} ({self.time_zone})"

    def describe_reminders(self) -> str:
        """``Thursday at 10:00 and Saturday at 09:00``."""
        before = WEEKDAY_NAMES[(self.weekday - 1) % 7]
        after = WEEKDAY_NAMES[(self.weekday + 1) % 7]
        return f"{before} at {self.at_time:%H:%M} and {after} at {AFTER_REMINDER_TIME:%H:%M}"


@dataclass(frozen=True)
class DueReminder:
    """A reminder that should go out now: for which week, which kind, and since when."""

    week: date
    kind: str
    due_at: datetime


def reminders_due(
    schedule: CheckInSchedule, now: datetime, *, grace: timedelta = REMINDER_GRACE
) -> list[DueReminder]:
    """The reminders whose due time has come and whose grace has not run out: due <= now < due + grace."""
    if now.tzinfo is None:
        raise ValueError("reminders_due needs an aware datetime.")
    this_week = checkin_week(now, schedule.time_zone)
    due = []
    # A reminder of the week before (the "after" of a Sunday check-in) or the week after (the "before"
    # of a Monday check-in) can fall in this week too.
    for week in (this_week - timedelta(days=7), this_week, this_week + timedelta(days=7)):
        for kind in (ReminderKind.BEFORE, ReminderKind.AFTER):
            due_at = schedule.reminder_due_at(week, kind)
            if due_at <= now < due_at + grace:
                due.append(DueReminder(week=week, kind=kind, due_at=due_at))
    return due


# --- Who and by which channel ------------------------------------------------------------------------


def people_to_remind(week: date, check_in_due_at: datetime) -> QuerySet[Membership]:
    """Everyone active who had joined by the time the check-in is due and has not submitted it yet."""
    submitted = CheckIn.objects.filter(membership=OuterRef("pk"), week=week, state=CheckInState.SUBMITTED)
    return (
        Membership.objects.filter(is_active=True, user__is_active=True, joined_at__lt=check_in_due_at)
        .exclude(Exists(submitted))
        .select_related("user")
        .order_by("pk")
    )


def slack_integration() -> Integration | None:
    """The organisation's connected Slack integration, if any (its token is read only by the send task)."""
    return (
        Integration.objects.filter(provider=Provider.SLACK, state=Integration.State.CONNECTED)
        .exclude(credentials_token="")
        .first()
    )


def slack_user_ids(membership_ids: list[int]) -> dict[int, str]:
    """The Slack user id matched to each membership, where there is one."""
    found: dict[int, str] = {}
    for membership_id, external_id in (
        ExternalIdentity.objects.filter(provider=Provider.SLACK, membership_id__in=membership_ids)
        .order_by("membership_id", "pk")
        .values_list("membership_id", "external_id")
    ):
        if membership_id is not None:
            found.setdefault(membership_id, external_id)
    return found


# --- Recording what is due (the dispatcher) ----------------------------------------------------------


@transaction.atomic
def check_in_reminders_dispatch(*, at: datetime | None = None) -> list[int]:
    """Record every reminder due now in the organisation in context, and queue each one's send once the
    records are committed. Returns the ids of the reminders recorded (not those recorded before).

    Safe to run any number of times, concurrently too: a reminder already recorded is skipped, and one
    being recorded by another run waits for that run and is then skipped.
    """
    from goals.tasks import check_in_reminder_send

    now = at or timezone.now()
    organization_id = require_organization_id()
    organization = Organization.objects.get(pk=organization_id)
    schedule = CheckInSchedule.of(organization)
    recorded: list[int] = []
    due = reminders_due(schedule, now)
    if not due:
        return recorded
    slack_on = slack_integration() is not None
    for reminder in due:
        people = list(people_to_remind(reminder.week, schedule.due_at(reminder.week)))
        slack_ids = slack_user_ids([person.pk for person in people]) if slack_on else {}
        for person in people:
            channels = [ReminderChannel.EMAIL]
            if person.pk in slack_ids:
                channels.append(ReminderChannel.SLACK)
            for channel in channels:
                record = check_in_reminder_record(
                    membership=person, week=reminder.week, kind=reminder.kind, channel=channel, at=now
                )
                if record is not None:
                    recorded.append(record.pk)
    if recorded:
        logger.info(
            "Recorded %d check-in reminders in organisation %d; sending them", len(recorded), organization_id
        )

        def queue_sends() -> None:
            for reminder_id in recorded:
                check_in_reminder_send.delay(organization_id, reminder_id)

        transaction.on_commit(queue_sends)
    return recorded


def organizations_with_reminders_due(now: datetime) -> list[int]:
    """Ids of the organisations with a reminder due at ``now`` (organisations are not tenant rows)."""
    return [
        organization.pk
        for organization in Organization.objects.order_by("pk").only(
            "pk", "time_zone", "checkin_weekday", "checkin_time"
        )
        if reminders_due(CheckInSchedule.of(organization), now)
    ]


# --- What a reminder says -----------------------------------------------------------------------------


@dataclass(frozen=True)
class ReminderMessage:
    subject: str
    body: str  # the e-mail's plain text
    slack_text: str  # the direct message, in Slack's markup


def slack_escape(text: str) -> str:
    """Text as Slack's message markup wants it: ``&``, ``<`` and ``>`` escaped, nothing else."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def check_in_url(organization: Organization, week: date) -> str:
    """The week's check-in page (``?week=`` names its Monday)."""
    path = reverse("goals:check_in", kwargs={"org_slug": organization.slug})
    return f"{settings.SITE_URL}{path}?week={week.isoformat()}"


def reminder_message(
    *, organization: Organization, membership: Membership, week: date, kind: str
) -> ReminderMessage:
    schedule = CheckInSchedule.of(organization)
    due_local = schedule.due_at(week).astimezone(ZoneInfo(schedule.time_zone))
    # Formatted here: the template filters would move the time into the server's time zone.
    context = {
        "organization_name": organization.name,
        "name": membership.user.get_short_name(),
        "week": f"{week.day} {week:%B}",
        "due_day": f"{WEEKDAY_NAMES[due_local.weekday()]} {due_local.day} {due_local:%B}",
        "due_weekday": WEEKDAY_NAMES[due_local.weekday()],
        "due_time": f"{due_local:%H:%M}",
        "time_zone": schedule.time_zone,
        "kind": kind,
        "url": check_in_url(organization, week),
    }
    slack_context = {
        **context,
        "organization_name": slack_escape(organization.name),
        "name": slack_escape(context["name"]),
    }
    if kind == ReminderKind.BEFORE:
        subject = f"Your {organization.name} check-in is due tomorrow"
    else:
        subject = f"Your {organization.name} check-in for the week of {week.day} {week:%B} is still open"
    return ReminderMessage(
        subject=subject,
        body=render_to_string(f"emails/checkin_reminder_{kind}.txt", context).strip() + "\n",
        slack_text=render_to_string("emails/checkin_reminder_slack.txt", slack_context).strip(),
    )


# --- Sending one (the send task) ---------------------------------------------------------------------


class ReminderSendDeferred(Exception):
    """The reminder could not go out now for a reason that may pass (mail server or Slack unavailable);
    the send task tries again later. ``retry_after`` is the vendor's requested wait, when it gave one."""

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


def _not_sent(reminder: CheckInReminder, reason: str) -> str:
    CheckInReminder.objects.filter(pk=reminder.pk, delivered_at=None).update(not_sent_reason=reason[:300])
    logger.info("Check-in reminder %d not sent: %s", reminder.pk, reason)
    return reason


def check_in_reminder_deliver(*, reminder_id: int, at: datetime | None = None) -> str:
    """Send one recorded reminder, in the organisation in context. Returns what happened, in words.

    A reminder is sent at most once: one already delivered (or given up on) is left alone. Someone who
    has checked in since it was recorded is not reminded. A failure that may pass raises
    ``ReminderSendDeferred`` and records nothing, so the task can try again.
    """
    reminder = CheckInReminder.objects.select_related("membership__user").get(pk=reminder_id)
    if reminder.delivered_at is not None or reminder.not_sent_reason:
        return "already handled"
    membership = reminder.membership
    if CheckIn.objects.filter(
        membership=membership, week=reminder.week, state=CheckInState.SUBMITTED
    ).exists():
        return _not_sent(reminder, "Checked in before the reminder went out.")
    if not (membership.is_active and membership.user.is_active):
        return _not_sent(reminder, "No longer active in the organisation.")
    organization = Organization.objects.get(pk=reminder.organization_id)
    message = reminder_message(
        organization=organization, membership=membership, week=reminder.week, kind=reminder.kind
    )
    if reminder.channel == ReminderChannel.EMAIL:
        try:
            send_mail(
                subject=message.subject,
                message=message.body,
                from_email=None,
                recipient_list=[membership.user.email],
            )
        except OSError as exc:  # smtplib's errors are OSErrors
            raise ReminderSendDeferred(f"The mail server did not take it ({exc}).") from exc
    else:
        integration = slack_integration()
        if integration is None:
            return _not_sent(reminder, "Slack was disconnected before the reminder went out.")
        slack_user = (
            ExternalIdentity.objects.filter(provider=Provider.SLACK, membership=membership)
            .order_by("pk")
            .values_list("external_id", flat=True)
            .first()
        )
        if slack_user is None:
            return _not_sent(reminder, "No Slack account is matched to this person any more.")
        try:
            bot_token = str(integration.credentials.get("bot_token") or "")
        except CredentialsUnreadable:
            return _not_sent(reminder, "The Slack credentials cannot be read; enter the bot token again.")
        if not bot_token:
            return _not_sent(reminder, "The Slack connection has no bot token.")
        client = SlackClient(
            bot_token=bot_token,
            base_url=settings.SLACK_API_URL,
            limiter=ProviderRateLimiter.for_current_organization(Provider.SLACK),
        )
        try:
            client.send_direct_message(slack_user, message.slack_text)
        except (CredentialsRefused, VendorRequestRejected) as exc:
            return _not_sent(reminder, exc.message)
        except VendorUnavailable as exc:
            if exc.operation == "send a direct message" and exc.status != 429:
                # Slack may have delivered it: sending again could remind the person twice.
                return _not_sent(reminder, exc.message)
            raise ReminderSendDeferred(exc.message, retry_after=exc.retry_after) from exc
    CheckInReminder.objects.filter(pk=reminder.pk, delivered_at=None).update(
        delivered_at=at or timezone.now()
    )
    return f"sent by {reminder.get_channel_display()}"
