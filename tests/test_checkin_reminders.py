"""Check-in reminders: due times in several time zones (daylight-saving weeks included), who is reminded and
by which channel, each reminder sent once, and real Celery workers racing the dispatcher."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from celery.schedules import crontab
from django.conf import settings
from django.core import mail
from django.db import connection

from goals import checkin_reminders, checkins
from goals.checkin_reminders import CheckInSchedule, reminders_due
from goals.models import CheckInReminder, ReminderChannel, ReminderKind
from goals.tasks import (
    check_in_reminder_send,
    check_in_reminders_dispatch,
    check_in_reminders_dispatch_everywhere,
)
from okrsignal.celery import QUEUES
from okrsignal.celery import app as celery_app
from okrsignal.models import Membership
from okrsignal.tenancy import tenant_context
from signals_ingest import services as ingest_services
from tests.cadence_factories import CadenceWorld, make_cadence_world, set_schedule, submit
from tests.test_worker import WAIT_SECONDS, Worker, _stop, _test_database_url, text_of
from tests.vendor_fakes.slack import FakeSlack

pytest_plugins = ["tests.vendor_fakes.fixtures"]

BEFORE, AFTER = ReminderKind.BEFORE, ReminderKind.AFTER
EMAIL, SLACK = ReminderChannel.EMAIL, ReminderChannel.SLACK


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


# --- When reminders are due ---------------------------------------------------------------------------
# Each case: zone, check-in weekday and time, the week, then (before, due, after) in UTC, worked out by
# hand from the zone's offsets.
DUE_CASES = [
    pytest.param(
        "Europe/Berlin", 4, time(10), date(2025, 3, 24),
        (utc(2025, 3, 27, 9), utc(2025, 3, 28, 9), utc(2025, 3, 29, 8)),
        id="berlin-friday-winter-time",
    ),
    pytest.param(
        # Clocks go forward on Sunday 30 March at 02:00: the Sunday reminder is already in summer time.
        "Europe/Berlin", 0, time(9, 30), date(2025, 3, 31),
        (utc(2025, 3, 30, 7, 30), utc(2025, 3, 31, 7, 30), utc(2025, 4, 1, 7)),
        id="berlin-monday-after-the-spring-change",
    ),
    pytest.param(
        "America/New_York", 4, time(16), date(2025, 10, 27),
        (utc(2025, 10, 30, 20), utc(2025, 10, 31, 20), utc(2025, 11, 1, 13)),
        id="new-york-friday-summer-time",
    ),
    pytest.param(
        # Clocks go back on Sunday 2 November: Saturday's reminder is in summer time, Sunday's check-in
        # and Monday's reminder in winter time, at the same wall-clock hours.
        "America/New_York", 6, time(10), date(2025, 10, 27),
        (utc(2025, 11, 1, 14), utc(2025, 11, 2, 15), utc(2025, 11, 3, 14)),
        id="new-york-sunday-on-the-autumn-change",
    ),
    pytest.param(
        # A Monday check-in: its "before" reminder is on the Sunday of the week before, already Sunday
        # midnight in UTC.
        "Asia/Tokyo", 0, time(9), date(2025, 6, 2),
        (utc(2025, 6, 1, 0), utc(2025, 6, 2, 0), utc(2025, 6, 3, 0)),
        id="tokyo-monday",
    ),
    pytest.param(
        # Saturday 09:00 in Sydney is still Friday in UTC.
        "Australia/Sydney", 4, time(17), date(2025, 9, 29),
        (utc(2025, 10, 2, 7), utc(2025, 10, 3, 7), utc(2025, 10, 3, 23)),
        id="sydney-friday-before-the-spring-change",
    ),
    pytest.param(
        "Australia/Sydney", 4, time(17), date(2025, 10, 6),
        (utc(2025, 10, 9, 6), utc(2025, 10, 10, 6), utc(2025, 10, 10, 22)),
        id="sydney-friday-after-the-spring-change",
    ),
    pytest.param(
        # 02:30 on Sunday 5 October does not exist in Sydney (02:00 jumps to 03:00): it is read with the
        # offset before the change, i.e. at 03:30 summer time.
        "Australia/Sydney", 6, time(2, 30), date(2025, 9, 29),
        (utc(2025, 10, 3, 16, 30), utc(2025, 10, 4, 16, 30), utc(2025, 10, 5, 22)),
        id="sydney-sunday-at-a-skipped-time",
    ),
]  # fmt: skip


@pytest.mark.parametrize(("zone", "weekday", "at_time", "week", "expected"), DUE_CASES)
def test_reminders_fall_the_day_before_at_the_check_in_time_and_the_morning_after_at_nine(
    zone: str, weekday: int, at_time: time, week: date, expected: tuple[datetime, datetime, datetime]
) -> None:
    schedule = CheckInSchedule(weekday=weekday, at_time=at_time, time_zone=zone)

    before, due, after = expected
    assert schedule.reminder_due_at(week, BEFORE) == before
    assert schedule.due_at(week) == due
    assert schedule.reminder_due_at(week, AFTER) == after
    local_before, local_after = before.astimezone(ZoneInfo(zone)), after.astimezone(ZoneInfo(zone))
    assert local_before.date() == week + timedelta(days=weekday - 1)
    assert local_after.time() == time(9)
    assert local_after.date() == week + timedelta(days=weekday + 1)


@pytest.mark.parametrize(("zone", "weekday", "at_time", "week", "expected"), DUE_CASES)
def test_a_beat_every_quarter_hour_finds_each_reminder_from_its_due_time_until_the_grace_runs_out(
    zone: str, weekday: int, at_time: time, week: date, expected: tuple[datetime, datetime, datetime]
) -> None:
    schedule = CheckInSchedule(weekday=weekday, at_time=at_time, time_zone=zone)
    before, _due, after = expected
    found: dict[tuple[date, str], list[datetime]] = {}
    tick = utc(week.year, week.month, week.day) - timedelta(days=3)
    while tick < utc(week.year, week.month, week.day) + timedelta(days=11):
        for reminder in reminders_due(schedule, tick):
            found.setdefault((reminder.week, reminder.kind), []).append(tick)
        tick += timedelta(minutes=15)

    for kind, due_at in ((BEFORE, before), (AFTER, after)):
        ticks = found.pop((week, kind))
        assert ticks[0] == due_at, f"the first beat to find the {kind} reminder"
        assert ticks[-1] < due_at + checkin_reminders.REMINDER_GRACE
        assert len(ticks) == checkin_reminders.REMINDER_GRACE / timedelta(minutes=15)
    # Only the neighbouring weeks' reminders are found besides.
    assert {found_week for found_week, _ in found} <= {week - timedelta(days=7), week + timedelta(days=7)}


def test_a_reminder_is_not_due_a_moment_early_nor_after_its_grace() -> None:
    schedule = CheckInSchedule(weekday=4, at_time=time(10), time_zone="Europe/Berlin")
    before = utc(2025, 5, 15, 8)  # Thursday 10:00 in Berlin

    assert reminders_due(schedule, before - timedelta(seconds=1)) == []
    assert [(r.week, r.kind) for r in reminders_due(schedule, before)] == [(date(2025, 5, 12), BEFORE)]
    assert reminders_due(schedule, before + checkin_reminders.REMINDER_GRACE) == []


def test_the_beat_runs_the_dispatcher_every_quarter_hour() -> None:
    entry = settings.CELERY_BEAT_SCHEDULE["check-in-reminders"]

    assert entry["task"] == check_in_reminders_dispatch_everywhere.name
    assert entry["task"] in celery_app.tasks
    schedule = entry["schedule"]
    assert isinstance(schedule, crontab)
    assert schedule.minute == {0, 15, 30, 45}
    # The other periodic work is still scheduled.
    assert "process-pending-raw-events" in settings.CELERY_BEAT_SCHEDULE


# --- Who is reminded, and by which channel ------------------------------------------------------------

WEEK = date(2025, 5, 12)
THURSDAY_BEFORE = utc(2025, 5, 15, 8, 5)  # Thursday 10:05 in Berlin: the "before" reminder is due
SATURDAY_AFTER = utc(2025, 5, 17, 7, 5)  # Saturday 09:05 in Berlin: the "after" reminder is due


@pytest.fixture
def acme(db: None) -> CadenceWorld:
    return make_cadence_world("Acme")


def everyone(world: CadenceWorld) -> list[Membership]:
    with tenant_context(world.organization):
        return list(Membership.objects.filter(is_active=True).select_related("user"))


def recorded(world: CadenceWorld) -> set[tuple[int, date, str, str]]:
    with tenant_context(world.organization):
        return set(CheckInReminder.objects.values_list("membership_id", "week", "kind", "channel"))


def dispatch(world: CadenceWorld, at: datetime, capture: Any) -> list[int]:
    """Run the organisation's dispatcher and the sends it queues once its records are committed."""
    with tenant_context(world.organization), capture(execute=True):
        return checkin_reminders.check_in_reminders_dispatch(at=at)


def connect_slack(world: CadenceWorld, fake: FakeSlack, matched: dict[str, Membership]) -> None:
    with tenant_context(world.organization):
        ingest_services.integration_connect(
            provider="slack",
            credentials={"bot_token": fake.bot_token, "signing_secret": "not-used-here"},
            settings={"team_id": "T0ACME0001", "channels": []},
        )
        for slack_user, membership in matched.items():
            ingest_services.identity_link_account(
                provider="slack", external_id=slack_user, membership=membership
            )
    for slack_user, membership in matched.items():
        fake.add_user(slack_user, membership.user.full_name, email=membership.user.email)


def test_everyone_who_has_not_checked_in_is_reminded_by_email_the_day_before(
    acme: CadenceWorld, django_capture_on_commit_callbacks: Any
) -> None:
    with tenant_context(acme.organization):
        submit(acme.world.report, WEEK, utc(2025, 5, 14, 9))

    dispatch(acme, THURSDAY_BEFORE, django_capture_on_commit_callbacks)

    reminded = {person.pk for person in everyone(acme)} - {acme.world.report.pk}
    assert recorded(acme) == {(pk, WEEK, BEFORE, EMAIL) for pk in reminded}
    assert sorted(message.to[0] for message in mail.outbox) == sorted(
        person.user.email for person in everyone(acme) if person.pk in reminded
    )
    assert acme.world.report.user.email not in {message.to[0] for message in mail.outbox}
    message = mail.outbox[0]
    assert message.subject == "Your Acme check-in is due tomorrow"
    assert "due tomorrow, Friday 16 May at 10:00 (Europe/Berlin)" in message.body
    assert f"/o/{acme.world.slug}/goals/check-in/?week=2025-05-12" in message.body


def test_running_the_dispatcher_again_sends_nothing_more(
    acme: CadenceWorld, django_capture_on_commit_callbacks: Any
) -> None:
    first = dispatch(acme, THURSDAY_BEFORE, django_capture_on_commit_callbacks)
    sent = len(mail.outbox)

    again = dispatch(acme, THURSDAY_BEFORE + timedelta(minutes=15), django_capture_on_commit_callbacks)

    assert len(first) == sent == len(everyone(acme))
    assert again == []
    assert len(mail.outbox) == sent


def test_the_morning_after_only_those_still_missing_are_reminded(
    acme: CadenceWorld, django_capture_on_commit_callbacks: Any
) -> None:
    dispatch(acme, THURSDAY_BEFORE, django_capture_on_commit_callbacks)
    with tenant_context(acme.organization):
        for person in (acme.world.manager, *acme.sellers[:3]):
            submit(person, WEEK, utc(2025, 5, 16, 9))
    mail.outbox.clear()

    dispatch(acme, SATURDAY_AFTER, django_capture_on_commit_callbacks)

    late = {person.pk for person in everyone(acme)} - {
        acme.world.manager.pk,
        *(s.pk for s in acme.sellers[:3]),
    }
    assert {pk for pk, _, kind, _ in recorded(acme) if kind == AFTER} == late
    assert len(mail.outbox) == len(late)
    assert mail.outbox[0].subject == "Your Acme check-in for the week of 12 May is still open"
    assert "was due Friday at 10:00 (Europe/Berlin), and it is still open" in mail.outbox[0].body


def test_nothing_is_sent_when_no_reminder_is_due(
    acme: CadenceWorld, django_capture_on_commit_callbacks: Any
) -> None:
    assert dispatch(acme, utc(2025, 5, 16, 12), django_capture_on_commit_callbacks) == []
    assert mail.outbox == []


def test_someone_who_checks_in_before_the_send_is_not_reminded(
    acme: CadenceWorld, django_capture_on_commit_callbacks: Any
) -> None:
    with tenant_context(acme.organization):
        ids = checkin_reminders.check_in_reminders_dispatch(at=THURSDAY_BEFORE)  # recorded, not yet sent
        peer_reminder = CheckInReminder.objects.get(pk__in=ids, membership=acme.world.peer)
        submit(acme.world.peer, WEEK, THURSDAY_BEFORE + timedelta(minutes=1))

        outcome = checkin_reminders.check_in_reminder_deliver(reminder_id=peer_reminder.pk)

        peer_reminder.refresh_from_db()
    assert outcome == "Checked in before the reminder went out."
    assert peer_reminder.delivered_at is None
    assert peer_reminder.not_sent_reason == outcome
    assert mail.outbox == []


def test_slack_direct_messages_go_to_people_with_a_matched_slack_account(
    acme: CadenceWorld, slack_fake: FakeSlack, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    settings.SLACK_API_URL = slack_fake.base_url + "/api/"
    seller = acme.sellers[0]
    connect_slack(acme, slack_fake, {"U0MANAGER1": acme.world.manager, "U0SELLER01": seller})

    dispatch(acme, THURSDAY_BEFORE, django_capture_on_commit_callbacks)

    assert {pk for pk, _, _, channel in recorded(acme) if channel == SLACK} == {
        acme.world.manager.pk,
        seller.pk,
    }
    assert len(mail.outbox) == len(everyone(acme))
    direct = {slack_fake.direct_channels[user]: user for user in ("U0MANAGER1", "U0SELLER01")}
    assert sorted(direct[post["channel"]] for post in slack_fake.posted) == ["U0MANAGER1", "U0SELLER01"]
    text = slack_fake.posted[0]["text"]
    assert "check-in is due tomorrow, Friday at 10:00 (Europe/Berlin)" in text
    assert f"/o/{acme.world.slug}/goals/check-in/?week=2025-05-12|check in here>" in text
    with tenant_context(acme.organization):
        assert CheckInReminder.objects.filter(channel=SLACK, delivered_at__isnull=False).count() == 2


def test_without_a_connected_slack_nobody_gets_a_direct_message(
    acme: CadenceWorld, slack_fake: FakeSlack, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    settings.SLACK_API_URL = slack_fake.base_url + "/api/"
    connect_slack(acme, slack_fake, {"U0MANAGER1": acme.world.manager})
    with tenant_context(acme.organization):
        from signals_ingest.models import Integration

        ingest_services.integration_disconnect(integration=Integration.objects.get(provider="slack"))

    dispatch(acme, THURSDAY_BEFORE, django_capture_on_commit_callbacks)

    assert {channel for _, _, _, channel in recorded(acme)} == {EMAIL}
    assert slack_fake.posted == []


@pytest.fixture
def in_process_retries() -> Iterator[None]:
    """Run in-process, a task's retry runs again at once (a worker would wait for its countdown)."""
    previous = celery_app.conf.task_eager_propagates
    celery_app.conf.task_eager_propagates = False
    yield
    celery_app.conf.task_eager_propagates = previous


def test_a_failed_slack_send_is_retried_by_the_send_task_and_recorded_once(
    acme: CadenceWorld,
    slack_fake: FakeSlack,
    settings: Any,
    django_capture_on_commit_callbacks: Any,
    in_process_retries: None,
) -> None:
    settings.SLACK_API_URL = slack_fake.base_url + "/api/"
    settings.VENDOR_REQUEST_MAX_ATTEMPTS = 1  # the client gives up at once; the task retries
    connect_slack(acme, slack_fake, {"U0MANAGER1": acme.world.manager})
    slack_fake.fail_next(status=503, path_contains="conversations.open")

    dispatch(acme, THURSDAY_BEFORE, django_capture_on_commit_callbacks)

    assert len(slack_fake.calls_to("conversations.open")) == 2
    assert len(slack_fake.posted) == 1
    with tenant_context(acme.organization):
        reminder = CheckInReminder.objects.get(channel=SLACK)
    assert reminder.delivered_at is not None
    assert reminder.not_sent_reason == ""


def test_a_post_that_may_have_arrived_is_not_sent_again(
    acme: CadenceWorld, slack_fake: FakeSlack, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    settings.SLACK_API_URL = slack_fake.base_url + "/api/"
    settings.VENDOR_REQUEST_MAX_ATTEMPTS = 1
    connect_slack(acme, slack_fake, {"U0MANAGER1": acme.world.manager})
    slack_fake.fail_next(status=500, path_contains="chat.postMessage")

    dispatch(acme, THURSDAY_BEFORE, django_capture_on_commit_callbacks)

    assert len(slack_fake.calls_to("chat.postMessage")) == 1
    with tenant_context(acme.organization):
        reminder = CheckInReminder.objects.get(channel=SLACK)
    assert reminder.delivered_at is None
    assert "may have taken effect" in reminder.not_sent_reason


def test_slack_refusing_the_person_is_recorded_and_not_retried(
    acme: CadenceWorld, slack_fake: FakeSlack, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    settings.SLACK_API_URL = slack_fake.base_url + "/api/"
    connect_slack(acme, slack_fake, {"U0MANAGER1": acme.world.manager})
    slack_fake.users.clear()  # the account has left the workspace

    dispatch(acme, THURSDAY_BEFORE, django_capture_on_commit_callbacks)

    assert len(slack_fake.calls_to("conversations.open")) == 1
    with tenant_context(acme.organization):
        reminder = CheckInReminder.objects.get(channel=SLACK)
    assert "user_not_found" in reminder.not_sent_reason
    assert reminder.delivered_at is None


def test_two_dispatchers_racing_record_each_reminder_once(transactional_db: None) -> None:
    world = make_cadence_world("Racers")
    results: list[list[int]] = []
    errors: list[BaseException] = []
    start = threading.Barrier(2)

    def run() -> None:
        try:
            start.wait()
            with tenant_context(world.organization):
                results.append(checkin_reminders.check_in_reminders_dispatch(at=THURSDAY_BEFORE))
        except BaseException as exc:  # reported below: a thread cannot fail the test itself
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=WAIT_SECONDS)

    assert errors == []
    people = len(everyone(world))
    assert sum(len(ids) for ids in results) == people
    assert not set(results[0]) & set(results[1])
    with tenant_context(world.organization):
        assert CheckInReminder.objects.count() == people
    assert sorted(message.to[0] for message in mail.outbox) == sorted(p.user.email for p in everyone(world))


# --- Real workers -------------------------------------------------------------------------------------


@pytest.fixture
def two_workers(
    transactional_db: None, tmp_path: Path, slack_fake: FakeSlack, request: pytest.FixtureRequest
) -> Iterator[list[Worker]]:
    """Two Celery worker processes on every queue, sharing the test's database and Redis, each writing its
    e-mail to files of its own and reaching the Slack fake over HTTP."""
    assert settings.REDIS_URL, "The worker tests need REDIS_URL."
    celery_app.control.purge()
    failures_before = request.session.testsfailed
    workers = []
    try:
        for number in (1, 2):
            name = f"okrsignal-reminders-{os.getpid()}-{uuid.uuid4().hex[:8]}@{socket.gethostname()}"
            mail_dir = tmp_path / f"mail-{number}"
            mail_dir.mkdir()
            log_path = tmp_path / f"worker-{number}.log"
            environment = {
                **os.environ,
                "DEBUG": "true",
                "DATABASE_URL": _test_database_url(),
                "REDIS_URL": settings.REDIS_URL,
                "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
                "EMAIL_FILE_PATH": str(mail_dir),
                "SLACK_API_URL": slack_fake.base_url + "/api/",
                "SLACK_REQUESTS_PER_MINUTE": "6000",
            }
            with log_path.open("wb") as log:
                process = subprocess.Popen(
                    [
                        sys.executable, "-m", "celery", "-A", "okrsignal", "worker", "--pool=solo",
                        "--concurrency=1", "-Q", ",".join(QUEUES), "--without-heartbeat", "--without-gossip",
                        "--without-mingle", "--loglevel=INFO", "-n", name,
                    ],
                    cwd=settings.BASE_DIR,
                    env=environment,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )  # fmt: skip
            workers.append(Worker(name=name, process=process, log_path=log_path, mail_dir=mail_dir))
        for worker in workers:
            worker.wait_for(
                lambda worker=worker: celery_app.control.ping(
                    destination=[worker.name], timeout=0.5, limit=1
                ),
                "the worker to answer a ping",
            )
        yield workers
    finally:
        for worker in workers:
            _stop(worker.process)
        if request.session.testsfailed > failures_before:
            for worker in workers:
                print(f"--- log of Celery worker {worker.name} ---\n{worker.log()}")


def all_idle(workers: list[Worker]) -> bool:
    return all(worker.is_idle() for worker in workers)


def mailbox(workers: list[Worker]) -> list[EmailMessage]:
    return [message for worker in workers for message in worker.mailbox()]


def delivered(world: CadenceWorld) -> int:
    with tenant_context(world.organization):
        return CheckInReminder.objects.filter(delivered_at__isnull=False).count()


@pytest.mark.worker
def test_workers_racing_the_dispatcher_send_each_reminder_exactly_once(
    two_workers: list[Worker], slack_fake: FakeSlack
) -> None:
    acme = make_cadence_world("Acme")
    tokyo = make_cadence_world("Tokyo Branch", time_zone="Asia/Tokyo")  # nothing due at that moment
    connect_slack(acme, slack_fake, {"U0MANAGER1": acme.world.manager, "U0SELLER01": acme.sellers[0]})
    with tenant_context(acme.organization):
        submit(acme.world.report, WEEK, utc(2025, 5, 14, 9))
    reminded = [person for person in everyone(acme) if person.pk != acme.world.report.pk]
    at = THURSDAY_BEFORE.isoformat()

    # The beat's entry point twice and the organisation's dispatcher twice, all at once, for two workers.
    for _ in range(2):
        check_in_reminders_dispatch_everywhere.delay(at)
        check_in_reminders_dispatch.delay(acme.organization.pk, at)
    first = two_workers[0]
    first.wait_for(lambda: delivered(acme) == len(reminded) + 2, "every reminder to go out")
    first.wait_for(lambda: all_idle(two_workers), "both workers to finish")
    # And once more, later in the grace period.
    check_in_reminders_dispatch_everywhere.delay((THURSDAY_BEFORE + timedelta(minutes=15)).isoformat())
    first.wait_for(lambda: all_idle(two_workers), "both workers to finish again")

    messages = mailbox(two_workers)
    assert sorted(message["To"] for message in messages) == sorted(person.user.email for person in reminded)
    assert acme.world.report.user.email not in {message["To"] for message in messages}
    assert all("Your Acme check-in is due tomorrow" in text_of(message) for message in messages)
    assert len(slack_fake.posted) == 2
    assert {post["channel"] for post in slack_fake.posted} == {
        slack_fake.direct_channels["U0MANAGER1"],
        slack_fake.direct_channels["U0SELLER01"],
    }
    assert len(recorded(acme)) == len(reminded) + 2
    assert recorded(tokyo) == set()
    assert delivered(acme) == len(reminded) + 2


@pytest.mark.worker
def test_a_send_task_for_another_organisations_reminder_finds_nothing(two_workers: list[Worker]) -> None:
    acme, globex = make_cadence_world("Acme"), make_cadence_world("Globex")
    with tenant_context(globex.organization):
        reminder = checkins.check_in_reminder_record(
            membership=globex.world.peer, week=WEEK, kind=BEFORE, channel=EMAIL, at=THURSDAY_BEFORE
        )
    assert reminder is not None

    result = check_in_reminder_send.delay(acme.organization.pk, reminder.pk)
    two_workers[0].result(result)

    assert result.state == "FAILURE"
    assert isinstance(result.result, CheckInReminder.DoesNotExist)
    assert mailbox(two_workers) == []
    assert delivered(globex) == 0


def test_the_week_a_reminder_names_is_the_check_in_week(acme: CadenceWorld) -> None:
    set_schedule(acme.world, weekday=0, at=time(9))  # Mondays: the "before" reminder is on Sunday
    schedule = CheckInSchedule.of(acme.organization)
    sunday = schedule.reminder_due_at(WEEK + timedelta(days=7), BEFORE)

    due = reminders_due(schedule, sunday)

    assert [(reminder.week, reminder.kind) for reminder in due] == [(WEEK + timedelta(days=7), BEFORE)]


def test_names_in_a_slack_message_cannot_break_its_markup() -> None:
    assert checkin_reminders.slack_escape("R&D <core> team") == "R&amp;D &lt;core&gt; team"
