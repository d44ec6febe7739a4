"""Drift alerts: a goal that starts drifting tells its owner and their manager once, in the app, by
e-mail and by Slack; a weekly digest instead for those who ask; nothing leaves the app during a replay;
the notifications page shows people their own notifications only."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.core import mail
from django.urls import reverse

from alignment import alerts, tasks, triggers
from alignment.models import Finding
from alignment.services import finding_resolve
from okrsignal.models import AlertDelivery, Membership, Notification, NotificationDelivery
from okrsignal.notifications import alert_delivery_set
from okrsignal.tenancy import tenant_context
from signals_ingest import services as ingest_services
from tests.conftest import client_for
from tests.factories import OrgWorld, make_organization
from tests.live_drift_factories import LiveQuarter, build_live_quarter, keep_on_pace, set_owner
from tests.vendor_fakes.slack import FakeSlack

pytest_plugins = ["tests.vendor_fakes.fixtures"]


@pytest.fixture
def quarter(db: None) -> LiveQuarter:
    """A key result that loses its owner in week 3: an ownership gap, which the objective's owner
    (``manager``) answers for, and their manager (``admin``) hears about."""
    world = make_organization("Orbit")
    with triggers.replaying(), tenant_context(world.organization):
        built = build_live_quarter(world)
        # In the order things happened: history is read in time order.
        keep_on_pace(built, weeks=range(1, 3))
        set_owner(built, None, built.during(3))
        keep_on_pace(built, weeks=range(3, 5))
    return built


def score(quarter: LiveQuarter, week: int, capture: Any) -> None:
    """The nightly recompute as of the end of ``week``, and the sends it queues once committed."""
    with capture(execute=True):
        tasks.rescore_organization.apply(
            args=(quarter.world.organization.pk,), kwargs={"at": quarter.after(week).isoformat()}
        )


def alerts_of(world: OrgWorld) -> list[tuple[int, str]]:
    with tenant_context(world.organization):
        return sorted(
            Notification.objects.filter(kind="drift_alert").values_list("recipient_id", "subject_key")
        )


def deliveries(world: OrgWorld) -> list[tuple[int, str, bool]]:
    with tenant_context(world.organization):
        return sorted(
            (row.notification.recipient_id, row.channel, row.delivered_at is not None)
            for row in NotificationDelivery.objects.select_related("notification")
        )


def the_gap(quarter: LiveQuarter) -> Finding:
    with tenant_context(quarter.world.organization):
        return Finding.objects.get(kind="ownership_gap", key_result=quarter.key_result)


def key_result_url(quarter: LiveQuarter) -> str:
    path = reverse(
        "goals:key_result_detail",
        kwargs={"org_slug": quarter.world.slug, "key_result_id": quarter.key_result.pk},
    )
    return f"{settings.SITE_URL}{path}"


def connect_slack(quarter: LiveQuarter, fake: FakeSlack, matched: dict[str, Membership]) -> None:
    with tenant_context(quarter.world.organization):
        ingest_services.integration_connect(
            provider="slack",
            credentials={"bot_token": fake.bot_token, "signing_secret": "not-used-here"},
            settings={"team_id": "T0ORBIT001", "channels": []},
        )
        for slack_user, membership in matched.items():
            ingest_services.identity_link_account(
                provider="slack", external_id=slack_user, membership=membership
            )
    for slack_user, membership in matched.items():
        fake.add_user(slack_user, membership.user.full_name, email=membership.user.email)


# --- Who is told, once ------------------------------------------------------------------------------------


def test_the_owner_and_their_manager_are_told_once_however_often_it_is_recomputed(
    quarter: LiveQuarter, django_capture_on_commit_callbacks: Any
) -> None:
    world = quarter.world
    score(quarter, 4, django_capture_on_commit_callbacks)
    score(quarter, 5, django_capture_on_commit_callbacks)
    score(quarter, 5, django_capture_on_commit_callbacks)
    # The trigger path too: a change to the key result scores it again.
    with django_capture_on_commit_callbacks(execute=True):
        tasks.score_goals.apply(
            args=(world.organization.pk, [f"key_result:{quarter.key_result.pk}"]),
            kwargs={"at": quarter.after(5).isoformat()},
        )

    gap = the_gap(quarter)
    key = f"finding:{gap.pk}:1"
    assert alerts_of(world) == sorted([(world.manager.pk, key), (world.admin.pk, key)])
    assert deliveries(world) == sorted([(world.manager.pk, "email", True), (world.admin.pk, "email", True)])
    assert sorted(message.to[0] for message in mail.outbox) == sorted(
        [world.manager.user.email, world.admin.user.email]
    )
    message = mail.outbox[0]
    assert message.subject == f"Orbit: {quarter.key_result.title} is drifting: ownership gap"
    assert gap.explanation in message.body
    assert key_result_url(quarter) in message.body
    assert "Since week 3 of the cycle" in message.body
    with tenant_context(world.organization):
        notification = Notification.objects.get(recipient=world.manager)
        assert notification.link == reverse(
            "goals:key_result_detail", kwargs={"org_slug": world.slug, "key_result_id": quarter.key_result.pk}
        )
        assert gap.explanation in notification.body


def test_a_finding_that_closed_and_opened_again_is_told_again_once(
    quarter: LiveQuarter, django_capture_on_commit_callbacks: Any
) -> None:
    """Decided: a reopened finding is a new episode of drift (nobody was told it had ended), so its
    people hear about it again, once per reopening."""
    world = quarter.world
    score(quarter, 4, django_capture_on_commit_callbacks)
    with triggers.replaying(), tenant_context(world.organization):
        set_owner(quarter, world.report, quarter.during(5))
        keep_on_pace(quarter, weeks=range(5, 6))
    score(quarter, 5, django_capture_on_commit_callbacks)
    assert the_gap(quarter).state == "resolved"
    with triggers.replaying(), tenant_context(world.organization):
        set_owner(quarter, None, quarter.during(6))
        keep_on_pace(quarter, weeks=range(6, 7))
    score(quarter, 6, django_capture_on_commit_callbacks)
    score(quarter, 6, django_capture_on_commit_callbacks)

    gap = the_gap(quarter)
    assert gap.state == "open"
    assert [key for recipient, key in alerts_of(world) if recipient == world.manager.pk] == [
        f"finding:{gap.pk}:1",
        f"finding:{gap.pk}:2",
    ]
    assert len(mail.outbox) == 4


def test_a_finding_a_person_acknowledged_or_resolved_stays_quiet(
    quarter: LiveQuarter, django_capture_on_commit_callbacks: Any
) -> None:
    world = quarter.world
    score(quarter, 4, django_capture_on_commit_callbacks)
    with tenant_context(world.organization):
        finding_resolve(finding=the_gap(quarter), by=world.manager, note="Owner found, paperwork follows")
    score(quarter, 5, django_capture_on_commit_callbacks)
    assert len(alerts_of(world)) == 2
    assert len(mail.outbox) == 2


def test_nobody_inactive_is_told(quarter: LiveQuarter, django_capture_on_commit_callbacks: Any) -> None:
    world = quarter.world
    with tenant_context(world.organization):
        Membership.objects.filter(pk=world.admin.pk).update(is_active=False)
    score(quarter, 4, django_capture_on_commit_callbacks)
    assert [recipient for recipient, _key in alerts_of(world)] == [world.manager.pk]


def test_an_alert_whose_drift_ended_before_it_went_out_is_not_sent(
    quarter: LiveQuarter, django_capture_on_commit_callbacks: Any
) -> None:
    world = quarter.world
    with django_capture_on_commit_callbacks(execute=False) as sends:
        tasks.rescore_organization.apply(
            args=(world.organization.pk,), kwargs={"at": quarter.after(4).isoformat()}
        )
    with tenant_context(world.organization):
        finding_resolve(finding=the_gap(quarter), by=world.manager, note="Owner found")
    for send in sends:
        send()

    assert mail.outbox == []
    with tenant_context(world.organization):
        reasons = set(NotificationDelivery.objects.values_list("not_sent_reason", flat=True))
    assert reasons == {"The drift ended before the alert went out."}


# --- The weekly digest ------------------------------------------------------------------------------------


def test_the_digest_replaces_individual_emails_and_comes_on_monday_morning_local_time(
    quarter: LiveQuarter, django_capture_on_commit_callbacks: Any
) -> None:
    world = quarter.world
    world.organization.time_zone = "Europe/Berlin"
    world.organization.save(update_fields=["time_zone"])
    with tenant_context(world.organization):
        alert_delivery_set(membership=world.admin, delivery=AlertDelivery.WEEKLY_DIGEST)

    score(quarter, 4, django_capture_on_commit_callbacks)

    # Told in the app, not by e-mail.
    assert sorted(recipient for recipient, _key in alerts_of(world)) == sorted(
        [world.manager.pk, world.admin.pk]
    )
    assert [message.to for message in mail.outbox] == [[world.manager.user.email]]
    assert deliveries(world) == [(world.manager.pk, "email", True)]

    berlin = ZoneInfo("Europe/Berlin")
    monday = quarter.cycle.start + timedelta(weeks=4)
    too_early = datetime.combine(monday, time(7, 55), tzinfo=berlin)
    due = datetime.combine(monday, time(8, 5), tzinfo=berlin)

    def dispatch(at: datetime) -> int:
        with django_capture_on_commit_callbacks(execute=True):
            result: int = tasks.drift_digests_dispatch_everywhere.apply(kwargs={"at": at.isoformat()}).get()
        return result

    assert dispatch(too_early) == 0
    assert dispatch(due) == 1
    assert dispatch(due + timedelta(minutes=15)) == 1  # still due: it records nothing new

    digests = [message for message in mail.outbox if message.to == [world.admin.user.email]]
    assert len(digests) == 1
    (digest,) = digests
    assert digest.subject == "Orbit: Weekly drift digest: 1 goal is drifting"
    assert quarter.key_result.title in digest.body
    assert "ownership gap since week 3" in digest.body
    assert key_result_url(quarter) in digest.body
    # The manager, who takes alerts as they happen, gets no digest.
    assert len(mail.outbox) == 2


# --- Slack -------------------------------------------------------------------------------------------------


def test_slack_direct_messages_go_to_those_with_a_matched_slack_account(
    quarter: LiveQuarter, slack_fake: FakeSlack, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    world = quarter.world
    settings.SLACK_API_URL = slack_fake.base_url + "/api/"
    connect_slack(quarter, slack_fake, {"U0MANAGER1": world.manager})

    score(quarter, 4, django_capture_on_commit_callbacks)

    (post,) = slack_fake.posted
    assert post["channel"] == slack_fake.direct_channels["U0MANAGER1"]
    assert the_gap(quarter).explanation in post["text"]
    assert f"<{key_result_url(quarter)}|See the goal" in post["text"]
    assert deliveries(world) == sorted(
        [
            (world.manager.pk, "email", True),
            (world.manager.pk, "slack", True),
            (world.admin.pk, "email", True),
        ]
    )
    score(quarter, 5, django_capture_on_commit_callbacks)
    assert len(slack_fake.posted) == 1


# --- Replays -----------------------------------------------------------------------------------------------


def test_nothing_leaves_the_app_during_a_replay(
    quarter: LiveQuarter, slack_fake: FakeSlack, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    world = quarter.world
    settings.SLACK_API_URL = slack_fake.base_url + "/api/"
    connect_slack(quarter, slack_fake, {"U0MANAGER1": world.manager})

    with triggers.replaying():
        score(quarter, 4, django_capture_on_commit_callbacks)

    assert len(alerts_of(world)) == 2  # in the app, for the demo
    assert deliveries(world) == []
    assert mail.outbox == []
    assert slack_fake.posted == []


def test_a_caller_may_keep_alerts_in_the_app(
    quarter: LiveQuarter, django_capture_on_commit_callbacks: Any
) -> None:
    from alignment.services import recompute

    world = quarter.world
    with django_capture_on_commit_callbacks(execute=True), tenant_context(world.organization):
        result = recompute(world.organization, as_of=quarter.after(4))
        assert alerts.drift_alerts_record(result, outside_app=False) == 2
    assert deliveries(world) == []
    assert mail.outbox == []


# --- The notifications page --------------------------------------------------------------------------------


def test_the_notifications_page_shows_ones_own_notifications_and_counts_the_unread(
    quarter: LiveQuarter, django_capture_on_commit_callbacks: Any
) -> None:
    world = quarter.world
    score(quarter, 4, django_capture_on_commit_callbacks)
    url = reverse("notifications", kwargs={"org_slug": world.slug})

    manager_page = client_for(world.manager).get(url)
    assert manager_page.status_code == 200
    body = manager_page.content.decode()
    assert quarter.key_result.title in body
    assert "1 unread" in body
    assert 'class="nav-count">1<' in body

    peer_page = client_for(world.peer).get(url).content.decode()
    assert quarter.key_result.title not in peer_page
    assert "Nothing yet" in peer_page
    assert 'class="nav-count"' not in peer_page


def test_opening_a_notification_marks_it_read_and_goes_to_the_goal(
    quarter: LiveQuarter, django_capture_on_commit_callbacks: Any
) -> None:
    world = quarter.world
    score(quarter, 4, django_capture_on_commit_callbacks)
    with tenant_context(world.organization):
        notification = Notification.objects.get(recipient=world.manager)
    read_url = reverse(
        "notification_read", kwargs={"org_slug": world.slug, "notification_id": notification.pk}
    )

    response = client_for(world.manager).post(read_url, {"open": "1"})

    assert response.status_code == 302
    assert response["Location"] == notification.link
    with tenant_context(world.organization):
        notification.refresh_from_db()
    assert notification.read_at is not None


def test_someone_elses_notification_is_a_404(
    quarter: LiveQuarter, django_capture_on_commit_callbacks: Any
) -> None:
    world = quarter.world
    score(quarter, 4, django_capture_on_commit_callbacks)
    with tenant_context(world.organization):
        notification = Notification.objects.get(recipient=world.manager)
    read_url = reverse(
        "notification_read", kwargs={"org_slug": world.slug, "notification_id": notification.pk}
    )
    outsider = make_organization("Globex")

    assert client_for(world.peer).post(read_url).status_code == 404
    assert client_for(outsider.admin).post(read_url).status_code == 404
    own_org_url = reverse(
        "notification_read", kwargs={"org_slug": outsider.slug, "notification_id": notification.pk}
    )
    assert client_for(outsider.admin).post(own_org_url).status_code == 404
    with tenant_context(world.organization):
        notification.refresh_from_db()
    assert notification.read_at is None


def test_marking_all_read_and_choosing_the_digest(
    quarter: LiveQuarter, django_capture_on_commit_callbacks: Any
) -> None:
    world = quarter.world
    score(quarter, 4, django_capture_on_commit_callbacks)
    url = reverse("notifications", kwargs={"org_slug": world.slug})
    client = client_for(world.admin)

    assert client.post(url, {"action": "read_all"}).status_code == 302
    assert client.post(url, {"action": "preference", "alert_delivery": "weekly_digest"}).status_code == 302
    refused = client.post(url, {"action": "preference", "alert_delivery": "hourly"})

    assert refused.status_code == 400
    assert "Select a valid choice" in refused.content.decode()
    with tenant_context(world.organization):
        assert not Notification.objects.filter(recipient=world.admin, read_at=None).exists()
        assert Membership.objects.get(pk=world.admin.pk).alert_delivery == "weekly_digest"
        # The manager's are theirs to mark.
        assert Notification.objects.filter(recipient=world.manager, read_at=None).exists()
