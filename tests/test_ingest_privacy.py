"""What is collected about a person can be shown, exported and erased; stored text expires."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from okrsignal.tenancy import TenantMismatch, tenant_context
from signals_ingest import services
from signals_ingest.models import ExecutionSignal, ExternalIdentity, RawEvent, SignalKeyResult, WorkItem
from signals_ingest.privacy import expire_signal_texts, person_collected_data, person_erase, person_export
from signals_ingest.tasks import expire_signal_texts_everywhere
from tests.factories import OrgWorld
from tests.goal_factories import make_cycle, make_key_result, make_objective
from tests.ingest_factories import (
    EINAR,
    connect,
    ingest,
    jira_comment,
    jira_issue,
    jira_transition,
    jira_user,
)


@pytest.fixture
def collected(acme: OrgWorld) -> OrgWorld:
    """Acme's report wrote two comments and moved an issue; someone else commented too."""
    now = timezone.now()
    with tenant_context(acme.organization):
        cycle = make_cycle()
        objective = make_objective(cycle, acme.admin, title="Customers onboard alone")
        key_result = make_key_result(
            objective, acme.admin, title="SSO setups from 10 to 40", baseline=10, target=40
        )
        integration = connect("jira")
        services.mapping_rule_create(integration=integration, match={"project": "ONB"}, key_result=key_result)
        report = jira_user("712020:report", "Report Person", acme.report.user.email)
        ingest(
            integration,
            jira_comment(
                jira_issue(assignee=report), comment_id="1", body="Secret plan", author=report, at=now
            ),
            jira_comment(jira_issue(), comment_id="2", body="Second thought", author=report, at=now),
            jira_transition(jira_issue(), history_id="55001", user=report, at=now),
            jira_comment(jira_issue(), comment_id="3", body="Someone else", author=EINAR, at=now),
        )
    return acme


def test_a_person_sees_what_was_collected_about_them(collected: OrgWorld) -> None:
    with tenant_context(collected.organization):
        data = person_collected_data(membership=collected.report)
    assert [identity.external_id for identity in data.identities] == ["712020:report"]
    assert data.signal_count == 3
    assert data.signals_by_kind == {("jira", "comment"): 2, ("jira", "transition"): 1}
    assert sorted(text.text for text in data.texts) == ["Second thought", "Secret plan"]
    assert data.assigned_work_item_count == 0  # the issue's last state had no assignee


def test_a_persons_export_is_plain_json_with_their_identities_signals_and_texts(collected: OrgWorld) -> None:
    with tenant_context(collected.organization):
        export = person_export(membership=collected.report)
    document = json.loads(json.dumps(export))
    assert document["person"]["email"] == collected.report.user.email
    assert [identity["external_id"] for identity in document["identities"]] == ["712020:report"]
    assert len(document["signals"]) == 3
    assert {signal["text"] for signal in document["signals"]} == {"Secret plan", "Second thought", ""}
    assert all(signal["key_result_ids"] for signal in document["signals"])
    assert "Someone else" not in json.dumps(document)


def test_erasing_a_person_removes_their_text_and_links_and_keeps_the_counts(collected: OrgWorld) -> None:
    with tenant_context(collected.organization):
        links_before = SignalKeyResult.objects.count()
        weight_before = sum(SignalKeyResult.objects.values_list("weight", flat=True))

        summary = person_erase(membership=collected.report)

        assert (summary.identities_deleted, summary.signals_anonymised, summary.texts_erased) == (1, 3, 2)
        assert not ExternalIdentity.objects.filter(external_id="712020:report").exists()
        assert not ExecutionSignal.objects.filter(text__in=["Secret plan", "Second thought"]).exists()
        assert ExecutionSignal.objects.count() == 4
        assert SignalKeyResult.objects.count() == links_before
        assert sum(SignalKeyResult.objects.values_list("weight", flat=True)) == weight_before
        assert not SignalKeyResult.objects.filter(actor_membership=collected.report).exists()
        assert not WorkItem.objects.filter(assignee__external_id="712020:report").exists()
        stored_payloads = json.dumps(list(RawEvent.objects.values_list("payload", flat=True)))
        assert "Secret plan" not in stored_payloads
        assert "Second thought" not in stored_payloads
        # Someone else's data is untouched.
        assert ExecutionSignal.objects.get(external_id="18001:comment:3").text == "Someone else"
        assert ExecutionSignal.objects.get(external_id="18001:comment:3").actor is not None
        assert person_collected_data(membership=collected.report).signal_count == 0


def test_erasing_is_refused_for_a_person_of_another_organisation(
    collected: OrgWorld, globex: OrgWorld
) -> None:
    with tenant_context(collected.organization), pytest.raises(TenantMismatch):
        person_erase(membership=globex.report)


def test_texts_past_their_expiry_are_blanked_and_the_signals_stay(collected: OrgWorld, settings) -> None:  # type: ignore[no-untyped-def]
    later = timezone.now() + timedelta(days=settings.SIGNAL_TEXT_RETENTION_DAYS, minutes=1)
    with tenant_context(collected.organization):
        assert expire_signal_texts(now=timezone.now()) == 0
        assert expire_signal_texts(now=later) == 3
        assert not ExecutionSignal.objects.exclude(text="").exists()
        assert ExecutionSignal.objects.count() == 4
        assert SignalKeyResult.objects.count() == 4
        assert "Secret plan" not in json.dumps(list(RawEvent.objects.values_list("payload", flat=True)))


def test_the_periodic_expiry_visits_every_organisation(collected: OrgWorld, globex: OrgWorld) -> None:
    with tenant_context(globex.organization):
        ingest(
            connect("jira"),
            jira_comment(jira_issue(), body="Globex text", at=timezone.now() - timedelta(days=80)),
        )
    with tenant_context(collected.organization):
        ExecutionSignal.objects.exclude(text="").update(text_expires_at=timezone.now() - timedelta(seconds=1))
    assert expire_signal_texts_everywhere() == 3
    with tenant_context(globex.organization):
        assert ExecutionSignal.objects.get().text == "Globex text"
