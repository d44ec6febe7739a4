"""The ingestion pipeline on the real database: storing, processing, mapping, identities, isolation."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import timezone

from goals.models import KeyResult
from okrsignal.models import Membership
from okrsignal.tenancy import TenantMismatch, tenant_context
from signals_ingest import pipeline, services
from signals_ingest.models import (
    ExecutionSignal,
    ExternalIdentity,
    RawEvent,
    SignalKeyResult,
    SyncCursor,
    WorkItem,
)
from signals_ingest.pipeline import (
    process_raw_event,
    process_raw_events,
    store_and_process_raw_events,
    store_raw_events,
)
from signals_ingest.tasks import process_raw_event_task
from tests.factories import OrgWorld, make_organization
from tests.goal_factories import make_cycle, make_key_result, make_objective
from tests.ingest_factories import (
    EINAR,
    FATIMA,
    T0,
    blocked_by_link,
    connect,
    hubspot_deal,
    hubspot_engagement,
    ingest,
    jira_comment,
    jira_created,
    jira_issue,
    jira_transition,
    jira_user,
    slack_envelope,
)


@dataclass
class Goals:
    world: OrgWorld
    sso: KeyResult
    speed: KeyResult


def _goals(world: OrgWorld) -> Goals:
    with tenant_context(world.organization):
        cycle = make_cycle(f"{world.organization.name} 2026-Q4")
        objective = make_objective(
            cycle, world.admin, title=f"{world.organization.name} customers onboard alone"
        )
        sso = make_key_result(
            objective, world.admin, title="Self-serve SSO setups from 10 to 40", baseline=10, target=40
        )
        speed = make_key_result(
            objective, world.admin, title="Activated accounts from 100 to 180", baseline=100, target=180
        )
    return Goals(world, sso, speed)


@pytest.fixture
def goals(acme: OrgWorld) -> Goals:
    return _goals(acme)


def _signal_ids() -> list[str]:
    return sorted(ExecutionSignal.objects.values_list("external_id", flat=True))


def _links() -> set[tuple[str, int]]:
    return set(SignalKeyResult.objects.values_list("signal__external_id", "key_result_id"))


# --- Storing ----------------------------------------------------------------------------------------


def test_storing_the_same_delivery_twice_keeps_one_raw_event(goals: Goals) -> None:
    with tenant_context(goals.world.organization):
        integration = connect("jira")
        payload = jira_created(jira_issue())
        first = store_raw_events(integration=integration, origin="webhook", items=[("delivery-1", payload)])
        second = store_raw_events(
            integration=integration,
            origin="webhook",
            items=[("delivery-1", payload), ("delivery-1", payload)],
        )
        assert first == second[:1]
        assert len(second) == 1
        assert RawEvent.objects.count() == 1
        integration.refresh_from_db()
        assert integration.items_taken == 1


def test_a_cursor_moves_with_the_page_it_covers_and_not_when_storing_fails(goals: Goals) -> None:
    with tenant_context(goals.world.organization):
        integration = connect("jira")
        store_raw_events(
            integration=integration,
            origin="pull",
            items=[("page-1", jira_created(jira_issue()))],
            cursor=("issues", "2026-11-02T09:00"),
        )
        with pytest.raises(ValueError, match="not a JSON object"):
            store_raw_events(
                integration=integration,
                origin="pull",
                items=[("page-2", jira_created(jira_issue("18002", "ONB-8"))), ("page-2b", "not json")],  # type: ignore[list-item]
                cursor=("issues", "2026-11-03T09:00"),
            )
        assert SyncCursor.objects.get(integration=integration, stream="issues").value == "2026-11-02T09:00"
        assert RawEvent.objects.count() == 1


def test_slack_text_from_channels_not_selected_is_never_stored(goals: Goals) -> None:
    with tenant_context(goals.world.organization):
        integration = connect("slack")
        ids = store_raw_events(
            integration=integration,
            origin="webhook",
            items=[
                ("Ev1", slack_envelope(event_id="Ev1")),
                ("Ev2", slack_envelope(event_id="Ev2", channel="C0NOTCHOSEN")),
                ("Ev3", slack_envelope(event_id="Ev3", channel="D0DIRECT01", channel_type="im")),
            ],
        )
        assert len(ids) == 1
        assert list(RawEvent.objects.values_list("dedupe_key", flat=True)) == ["Ev1"]


# --- Idempotence ------------------------------------------------------------------------------------


def test_the_same_event_delivered_five_times_gives_one_signal(goals: Goals) -> None:
    with tenant_context(goals.world.organization):
        integration = connect("jira")
        payload = jira_transition(jira_issue(), history_id="55001")
        for _ in range(5):
            ids = store_raw_events(integration=integration, origin="webhook", items=[("hook-55001", payload)])
            process_raw_event(raw_event_id=ids[0], reprocess=True)
        assert _signal_ids() == ["18001:changelog:55001:status"]
        assert RawEvent.objects.get().attempts == 5
        assert WorkItem.objects.count() == 1


def test_two_deliveries_of_one_activity_give_one_signal(goals: Goals) -> None:
    with tenant_context(goals.world.organization):
        integration = connect("jira")
        payload = jira_comment(jira_issue(), comment_id="70001")
        ids = store_raw_events(
            integration=integration,
            origin="webhook",
            items=[("atlassian-delivery-a", payload), ("atlassian-delivery-b", payload)],
        )
        process_raw_events(raw_event_ids=ids)
        ingest(integration, payload, origin="replay")
        assert _signal_ids() == ["18001:comment:70001"]
        assert RawEvent.objects.count() == 3


@pytest.mark.parametrize("same_dedupe_key", [True, False], ids=["same delivery", "same activity"])
def test_five_concurrent_deliveries_give_exactly_one_signal(
    transactional_db: None, same_dedupe_key: bool
) -> None:
    world = make_organization("Concurrent")
    with tenant_context(world.organization):
        integration = connect("jira")
    payload = jira_transition(jira_issue(assignee=FATIMA), history_id="56001")
    barrier = threading.Barrier(5)
    errors: list[BaseException] = []

    def deliver(number: int) -> None:
        try:
            barrier.wait(timeout=10)
            with tenant_context(world.organization):
                key = "hook-56001" if same_dedupe_key else f"hook-56001-{number}"
                ids = store_raw_events(integration=integration, origin="webhook", items=[(key, payload)])
                result = process_raw_events(raw_event_ids=ids)
                assert not result.failed, result.failed
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=deliver, args=(number,)) for number in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    with tenant_context(world.organization):
        assert ExecutionSignal.objects.count() == 1
        assert WorkItem.objects.count() == 1
        assert ExternalIdentity.objects.filter(external_id=FATIMA["accountId"]).count() == 1
        assert RawEvent.objects.count() == (1 if same_dedupe_key else 5)
        assert not RawEvent.objects.filter(processed_at__isnull=True).exists()


def test_storing_and_processing_in_one_step_is_idempotent_too(goals: Goals) -> None:
    with tenant_context(goals.world.organization):
        integration = connect("jira")
        services.mapping_rule_create(integration=integration, match={"project": "ONB"}, key_result=goals.sso)
        items = [("page-1", jira_created(jira_issue())), ("page-2", jira_comment(jira_issue()))]
        first = store_and_process_raw_events(
            integration=integration, origin="pull", items=items, cursor=("issues", "c1")
        )
        again = store_and_process_raw_events(integration=integration, origin="pull", items=items)
        assert len(first.processed) == 2
        assert sorted(again.skipped) == sorted(first.processed)
        assert _signal_ids() == ["18001:comment:70001", "18001:created"]
        assert len(_links()) == 2
        assert not RawEvent.objects.filter(processed_at__isnull=True).exists()


# --- Mapping ----------------------------------------------------------------------------------------


def test_rules_apply_at_ingest_and_unmapped_work_is_still_taken(goals: Goals) -> None:
    with tenant_context(goals.world.organization):
        integration = connect("jira")
        services.mapping_rule_create(integration=integration, match={"project": "ONB"}, key_result=goals.sso)
        ingest(
            integration,
            jira_created(jira_issue("18001", "ONB-7")),
            jira_created(jira_issue("18100", "OPS-3", project="OPS", epic=None, labels=[], components=[])),
        )
        assert _links() == {("18001:created", goals.sso.pk)}
        assert _signal_ids() == ["18001:created", "18100:created"]


def test_work_several_rules_match_counts_in_full_toward_each_key_result(goals: Goals) -> None:
    with tenant_context(goals.world.organization):
        integration = connect("jira")
        services.mapping_rule_create(integration=integration, match={"epic": "ONB-1"}, key_result=goals.sso)
        services.mapping_rule_create(integration=integration, match={"label": "SSO"}, key_result=goals.sso)
        services.mapping_rule_create(
            integration=integration, match={"component": "identity", "project": "ONB"}, key_result=goals.speed
        )
        ingest(integration, jira_transition(jira_issue(), history_id="55001"))
        links = SignalKeyResult.objects.all()
        assert {(link.key_result_id, link.weight) for link in links} == {
            (goals.sso.pk, 2.0),
            (goals.speed.pk, 2.0),
        }


def test_rules_are_reapplied_to_stored_work_when_they_change(
    goals: Goals, django_capture_on_commit_callbacks: Any
) -> None:
    with tenant_context(goals.world.organization):
        integration = connect("jira")
        ingest(integration, jira_created(jira_issue()), jira_comment(jira_issue()))
        assert _links() == set()

        with django_capture_on_commit_callbacks(execute=True):
            rule = services.mapping_rule_create(
                integration=integration, match={"project": "onb"}, key_result=goals.sso
            )
        assert _links() == {("18001:created", goals.sso.pk), ("18001:comment:70001", goals.sso.pk)}

        with django_capture_on_commit_callbacks(execute=True):
            services.mapping_rule_update(rule=rule, match={"project": "ONB"}, key_result=goals.speed)
        assert {key_result for _id, key_result in _links()} == {goals.speed.pk}

        with django_capture_on_commit_callbacks(execute=True):
            services.mapping_rule_delete(rule=rule)
        assert _links() == set()
        assert ExecutionSignal.objects.count() == 2


def test_a_rule_preview_counts_and_shows_the_stored_work_it_would_match(goals: Goals) -> None:
    with tenant_context(goals.world.organization):
        integration = connect("jira")
        ingest(
            integration,
            jira_created(jira_issue("18001", "ONB-7", labels=["sso"])),
            jira_created(jira_issue("18002", "ONB-8", labels=["sso", "saml"])),
            jira_created(jira_issue("18003", "ONB-9", labels=["billing"])),
        )
        preview = services.mapping_rule_preview(integration=integration, match={"label": "sso"}, limit=1)
        assert preview.work_item_count == 2
        assert len(preview.examples) == 1
        assert preview.examples[0].key in {"ONB-7", "ONB-8"}
        assert RawEvent.objects.count() == 3  # nothing else was written


@pytest.mark.parametrize(
    ("provider", "match"),
    [("jira", {"channel": "C1"}), ("slack", {"project": "ONB"}), ("hubspot", {"pipeline": ""}), ("jira", {})],
)
def test_match_keys_are_checked_per_provider(goals: Goals, provider: str, match: dict[str, str]) -> None:
    with tenant_context(goals.world.organization):
        integration = connect(provider)
        with pytest.raises(ValidationError) as error:
            services.mapping_rule_create(integration=integration, match=match, key_result=goals.sso)
        assert "match" in error.value.message_dict


def test_an_engagement_takes_the_mapping_of_its_deal_even_when_the_deal_comes_later(goals: Goals) -> None:
    with tenant_context(goals.world.organization):
        integration = connect("hubspot")
        services.mapping_rule_create(
            integration=integration, match={"pipeline": "enterprise"}, key_result=goals.speed
        )
        ingest(integration, hubspot_engagement("calls", deal_ids=["4410001"], hs_call_title="Kick-off"))
        call = ExecutionSignal.objects.get(external_id="call:5520001")
        assert call.awaits_context
        assert _links() == set()
        assert WorkItem.objects.get(external_id="4410001").title == ""  # a placeholder until the deal arrives

        ingest(integration, hubspot_deal(deal_id="4410001", pipeline="enterprise"))
        call.refresh_from_db()
        assert not call.awaits_context
        assert call.work_item.title == "Nordlys Energi - enterprise plan"
        assert _links() == {
            ("call:5520001", goals.speed.pk),
            (f"deal:4410001:stage:appointmentscheduled:{int(T0.timestamp() * 1000)}", goals.speed.pk),
        }


def test_deal_stage_changes_are_signals_and_a_repeated_stage_is_not(goals: Goals) -> None:
    with tenant_context(goals.world.organization):
        integration = connect("hubspot")
        services.mapping_rule_create(
            integration=integration,
            match={"pipeline": "enterprise", "dealstage": "closedwon"},
            key_result=goals.sso,
        )
        ingest(
            integration,
            hubspot_deal(stage="appointmentscheduled", at=T0),
            hubspot_deal(stage="qualifiedtobuy", at=T0 + timedelta(days=1)),
            hubspot_deal(stage="qualifiedtobuy", at=T0 + timedelta(days=2), amount="52000"),
        )
        ingest(integration, hubspot_deal(stage="closedwon", at=T0 + timedelta(days=3)))
        stages = list(
            ExecutionSignal.objects.order_by("occurred_at").values_list("attributes__stage", flat=True)
        )
        assert stages == ["appointmentscheduled", "qualifiedtobuy", "closedwon"]
        # A rule on the stage maps the change into that stage, as it stood when it happened.
        assert [key for key, _kr in _links()] == [
            f"deal:4410001:stage:closedwon:{int((T0 + timedelta(days=3)).timestamp() * 1000)}"
        ]
        deal = WorkItem.objects.get()
        assert (deal.status, deal.attributes["amount"]) == ("closedwon", "48000")


def test_an_archived_deal_is_marked_and_keeps_its_signals(goals: Goals) -> None:
    with tenant_context(goals.world.organization):
        integration = connect("hubspot")
        ingest(
            integration,
            hubspot_deal(at=T0),
            hubspot_engagement("notes", deal_ids=["4410001"], hs_note_body="Hi"),
        )
        ingest(integration, hubspot_deal(at=T0 + timedelta(days=1), archived=True))
        assert WorkItem.objects.get().archived
        assert ExecutionSignal.objects.count() == 2


# --- Work items -------------------------------------------------------------------------------------


def test_an_older_payload_never_overwrites_a_newer_work_item(goals: Goals) -> None:
    with tenant_context(goals.world.organization):
        integration = connect("jira")
        newer = jira_transition(
            jira_issue(status="Done", updated=T0 + timedelta(days=1)), at=T0 + timedelta(days=1)
        )
        older = jira_created(jira_issue(status="To Do", updated=T0))
        ingest(integration, newer)
        ingest(integration, older)
        item = WorkItem.objects.get()
        assert item.status == "Done"
        assert item.vendor_updated_at == T0 + timedelta(days=1)
        assert len(_signal_ids()) == 2  # the older payload's activity still counts


def test_blockers_come_from_issue_links_and_from_link_changes(goals: Goals) -> None:
    with tenant_context(goals.world.organization):
        integration = connect("jira")
        ingest(integration, jira_created(jira_issue(issuelinks=[blocked_by_link("PLAT-12")], updated=T0)))
        item = WorkItem.objects.get()
        assert item.attributes["blocked_by"] == [{"key": "PLAT-12", "since": T0.isoformat()}]

        later = T0 + timedelta(days=1)
        change = jira_transition(jira_issue(updated=later), history_id="55030", at=later)
        change["issue"]["fields"].pop("issuelinks")
        change["changelog"]["items"] = [
            {"field": "Link", "to": "PLAT-40", "toString": "This issue is blocked by PLAT-40"},
            {"field": "Link", "from": "PLAT-12", "fromString": "This issue is blocked by PLAT-12"},
        ]
        ingest(integration, change)
        item.refresh_from_db()
        assert item.attributes["blocked_by"] == [{"key": "PLAT-40", "since": later.isoformat()}]


def test_a_sub_task_takes_its_epic_from_its_stored_parent(goals: Goals) -> None:
    with tenant_context(goals.world.organization):
        integration = connect("jira")
        services.mapping_rule_create(integration=integration, match={"epic": "ONB-1"}, key_result=goals.sso)
        ingest(integration, jira_created(jira_issue("18001", "ONB-7")))
        parent = {
            "id": "18001",
            "key": "ONB-7",
            "fields": {"issuetype": {"name": "Story", "hierarchyLevel": 0}},
        }
        sub_task = jira_issue("18002", "ONB-8", issue_type="Sub-task", epic=None, parent=parent)
        ingest(integration, jira_created(sub_task))
        assert WorkItem.objects.get(key="ONB-8").attributes["epic"] == "ONB-1"
        assert ("18002:created", goals.sso.pk) in _links()


def test_a_slack_thread_collects_its_replies(goals: Goals) -> None:
    with tenant_context(goals.world.organization):
        integration = connect("slack")
        services.mapping_rule_create(
            integration=integration, match={"channel": "C0ORBITSSO"}, key_result=goals.sso
        )
        ingest(
            integration,
            slack_envelope(event_id="Ev1", ts="1793610000.000100"),
            slack_envelope(
                event_id="Ev2", ts="1793610060.000200", thread_ts="1793610000.000100", user="U0EINAR001"
            ),
        )
        thread = WorkItem.objects.get()
        assert thread.key == "C0ORBITSSO:1793610000.000100"
        assert thread.signals.count() == 2
        assert len(_links()) == 2


# --- Identities -------------------------------------------------------------------------------------


def test_identities_are_matched_by_email_and_unmatched_ones_are_kept(goals: Goals) -> None:
    world = goals.world
    with tenant_context(world.organization):
        integration = connect("jira")
        services.mapping_rule_create(integration=integration, match={"project": "ONB"}, key_result=goals.sso)
        report_user = jira_user("712020:report", "Report Person", world.report.user.email.upper())
        ingest(integration, jira_comment(jira_issue(), author=report_user), jira_created(jira_issue()))

        matched = ExternalIdentity.objects.get(external_id="712020:report")
        assert (matched.membership, matched.matched_by) == (world.report, "email")
        unmatched = ExternalIdentity.objects.get(external_id=EINAR["accountId"])
        assert unmatched.membership is None
        assert unmatched.matched_by == "none"
        actors = dict(SignalKeyResult.objects.values_list("signal__external_id", "actor_membership_id"))
        assert actors == {"18001:comment:70001": world.report.pk, "18001:created": None}


def test_an_identity_assigned_by_hand_credits_its_earlier_work_and_is_never_rematched(goals: Goals) -> None:
    world = goals.world
    with tenant_context(world.organization):
        integration = connect("jira")
        services.mapping_rule_create(integration=integration, match={"project": "ONB"}, key_result=goals.sso)
        ingest(integration, jira_created(jira_issue()))
        einar = ExternalIdentity.objects.get(external_id=EINAR["accountId"])
        services.identity_assign(identity=einar, membership=world.peer)
        assert SignalKeyResult.objects.get().actor_membership == world.peer

        einar.email = world.report.user.email
        einar.save(update_fields=["email"])
        assert services.identity_match_by_email() == 0
        einar.refresh_from_db()
        assert einar.membership == world.peer


def test_a_vendor_account_can_be_linked_before_its_activity_arrives(goals: Goals) -> None:
    world = goals.world
    with tenant_context(world.organization):
        integration = connect("slack")
        services.identity_link_account(provider="slack", external_id="U0FATIMA01", membership=world.manager)
        services.mapping_rule_create(
            integration=integration, match={"channel": "C0ORBITSSO"}, key_result=goals.sso
        )
        ingest(integration, slack_envelope())
        assert SignalKeyResult.objects.get().actor_membership == world.manager


# --- Texts ------------------------------------------------------------------------------------------


def test_stored_text_is_short_and_expires_after_the_retention_period(goals: Goals, settings: Any) -> None:
    settings.SIGNAL_TEXT_MAX_CHARS = 20
    settings.SIGNAL_TEXT_RETENTION_DAYS = 30
    now = timezone.now()
    with tenant_context(goals.world.organization):
        integration = connect("jira")
        ingest(
            integration,
            jira_comment(
                jira_issue(), comment_id="1", body="A long comment about the SSO rollout plan", at=now
            ),
            jira_comment(jira_issue(), comment_id="2", body="Old news", at=now - timedelta(days=31)),
        )
        fresh = ExecutionSignal.objects.get(external_id="18001:comment:1")
        assert len(fresh.text) == 20
        assert fresh.text.endswith("…")
        assert fresh.text_expires_at == now.replace(microsecond=now.microsecond // 1000 * 1000) + timedelta(
            days=30
        )
        old = ExecutionSignal.objects.get(external_id="18001:comment:2")
        assert (old.text, old.text_expires_at) == ("", None)


# --- Failures ---------------------------------------------------------------------------------------


def test_a_payload_that_cannot_be_processed_is_kept_with_its_error_and_the_rest_go_on(
    goals: Goals, caplog: pytest.LogCaptureFixture
) -> None:
    with tenant_context(goals.world.organization):
        integration = connect("jira")
        broken = jira_created(jira_issue("18009", "ONB-9"))
        broken["issue"].pop("key")
        ids = store_raw_events(
            integration=integration,
            origin="webhook",
            items=[("good", jira_created(jira_issue())), ("broken", broken)],
        )
        with caplog.at_level(logging.ERROR, logger="signals_ingest.pipeline"):
            result = process_raw_events(raw_event_ids=ids)
        bad = RawEvent.objects.get(dedupe_key="broken")
        assert result.failed == {bad.pk: "Jira webhook jira:issue_created: issue.key is missing."}
        assert (bad.processed_at, bad.attempts) == (None, 1)
        assert "issue.key is missing" in bad.error
        assert f"Raw event {bad.pk} (jira)" in caplog.text
        assert _signal_ids() == ["18001:created"]
        assert RawEvent.objects.get(dedupe_key="good").processed_at is not None


# --- Tasks ------------------------------------------------------------------------------------------


def test_processing_is_routed_to_the_webhooks_queue_and_rules_to_sync() -> None:
    routes = settings.CELERY_TASK_ROUTES
    assert routes["signals_ingest.tasks.process_raw_event_task"] == {"queue": "webhooks"}
    assert routes["signals_ingest.tasks.reapply_mapping_rules_task"] == {"queue": "sync"}


def test_the_processing_task_sets_its_own_organisation(goals: Goals) -> None:
    with tenant_context(goals.world.organization):
        integration = connect("jira")
        (raw_event_id,) = store_raw_events(
            integration=integration, origin="webhook", items=[("hook", jira_created(jira_issue()))]
        )
    process_raw_event_task.delay(goals.world.organization.pk, raw_event_id)
    with tenant_context(goals.world.organization):
        assert _signal_ids() == ["18001:created"]


# --- Isolation --------------------------------------------------------------------------------------


def test_raw_events_of_one_organisation_never_produce_rows_in_another(goals: Goals, globex: OrgWorld) -> None:
    with tenant_context(goals.world.organization):
        acme_integration = connect("jira")
        acme_ids = store_raw_events(
            integration=acme_integration, origin="webhook", items=[("hook", jira_created(jira_issue()))]
        )
    with tenant_context(globex.organization):
        connect("jira")
        result = process_raw_events(raw_event_ids=acme_ids)  # Acme's ids, in Globex's context
        assert result.processed == []
        assert result.failed == {}
        assert not ExecutionSignal.objects.exists()
        assert not WorkItem.objects.exists()
        with pytest.raises(TenantMismatch):
            store_raw_events(
                integration=acme_integration, origin="webhook", items=[("x", jira_created(jira_issue()))]
            )
    with tenant_context(goals.world.organization):
        assert RawEvent.objects.get().processed_at is None
        process_raw_events(raw_event_ids=acme_ids)
        assert ExecutionSignal.objects.count() == 1
    with tenant_context(globex.organization):
        assert not ExecutionSignal.objects.exists()
        assert not ExternalIdentity.objects.exists()


def test_services_refuse_another_organisations_key_result(goals: Goals, globex: OrgWorld) -> None:
    other = _goals(globex)
    with tenant_context(goals.world.organization):
        integration = connect("jira")
        with pytest.raises(TenantMismatch):
            services.mapping_rule_create(
                integration=integration, match={"project": "ONB"}, key_result=other.sso
            )
        ingest(integration, jira_created(jira_issue()))
        identity = ExternalIdentity.objects.get()
        with pytest.raises(TenantMismatch):
            services.identity_assign(identity=identity, membership=globex.report)
        with tenant_context(globex.organization):
            foreign_member = Membership.objects.get(pk=globex.report.pk)
        with pytest.raises(TenantMismatch):
            services.identity_link_account(provider="jira", external_id="x", membership=foreign_member)


# --- Integrations -----------------------------------------------------------------------------------


def test_disconnecting_keeps_the_history_and_forgets_the_credentials(goals: Goals) -> None:
    with tenant_context(goals.world.organization):
        integration = connect("jira")
        ingest(integration, jira_created(jira_issue()))
        services.integration_disconnect(integration=integration)
        integration.refresh_from_db()
        assert integration.state == "disconnected"
        assert integration.credentials_token == ""
        assert integration.credentials == {}
        assert ExecutionSignal.objects.count() == 1
        assert RawEvent.objects.count() == 1

        token = integration.webhook_token
        again = connect("jira")
        assert again.pk == integration.pk
        assert again.is_connected
        assert again.webhook_token == token


def test_connecting_twice_and_bad_settings_are_refused_naming_the_field(goals: Goals) -> None:
    with tenant_context(goals.world.organization):
        connect("jira")
        with pytest.raises(ValidationError) as twice:
            connect("jira")
        assert "provider" in twice.value.message_dict
        with pytest.raises(ValidationError) as dm:
            connect("slack", channels=[{"id": "D0DIRECT01", "name": "someone"}])
        assert "direct message" in dm.value.message_dict["channels"][0]
        with pytest.raises(ValidationError) as field:
            connect("hubspot", site="not a url")
        assert "site" in field.value.message_dict


def test_the_webhook_token_finds_its_integration_from_no_organisation(goals: Goals) -> None:
    from signals_ingest.selectors import integration_by_webhook_token

    with tenant_context(goals.world.organization):
        integration = connect("slack")
    found = integration_by_webhook_token(integration.webhook_token)
    assert found is not None
    assert found.pk == integration.pk
    assert integration_by_webhook_token("guess") is None
    assert len(integration.webhook_token) >= 40


def test_reprocessing_all_events_changes_nothing(goals: Goals) -> None:
    with tenant_context(goals.world.organization):
        integration = connect("jira")
        services.mapping_rule_create(integration=integration, match={"project": "ONB"}, key_result=goals.sso)
        ids = ingest(
            integration,
            jira_created(jira_issue()),
            jira_transition(jira_issue(), history_id="55001"),
            jira_comment(jira_issue()),
        )
        before = (_signal_ids(), _links(), list(WorkItem.objects.values("status", "attributes")))
        pipeline.process_raw_events(raw_event_ids=ids, reprocess=True)
        assert (_signal_ids(), _links(), list(WorkItem.objects.values("status", "attributes"))) == before
