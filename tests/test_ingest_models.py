"""The ingestion tables: natural keys, constraints that start with the organisation, fail-closed access."""

from __future__ import annotations

import threading

import pytest
from django.db import IntegrityError, connection, transaction

from okrsignal.services import organization_delete
from okrsignal.tenancy import TenantContextMissing, cross_organization, tenant_context, tenant_models
from signals_ingest.models import (
    ExecutionSignal,
    ExternalIdentity,
    Integration,
    MappingRule,
    RawEvent,
    SignalKeyResult,
    SyncCursor,
    WorkItem,
)
from signals_ingest.pipeline import OrganizationGone, store_and_process_raw_events
from tests.db_waits import another_session_waits_for_a_lock
from tests.factories import OrgWorld, make_organization
from tests.goal_factories import make_cycle, make_key_result, make_objective
from tests.ingest_factories import T0, connect, jira_created, jira_issue, make_ingest_data

INGEST_MODELS = [
    Integration,
    SyncCursor,
    MappingRule,
    ExternalIdentity,
    RawEvent,
    WorkItem,
    ExecutionSignal,
    SignalKeyResult,
]


def test_every_ingestion_model_is_a_tenant_model() -> None:
    assert set(INGEST_MODELS) <= set(tenant_models())


# Indexes that start with a foreign key, for the database's own lookups: deleting a work item has it find
# the signals pointing at the row by that column alone, which an index led by the organisation cannot answer
# without reading all of itself (once per work item, when an organisation is deleted).
FOREIGN_KEY_INDEXES = {"signal_work_item": "work_item"}


@pytest.mark.parametrize("model", INGEST_MODELS, ids=lambda model: model.__name__)
def test_every_unique_constraint_and_index_starts_with_the_organisation(model: type) -> None:
    meta = model._meta  # type: ignore[attr-defined]
    for constraint in meta.constraints:
        assert next(iter(constraint.fields)) == "organization", constraint.name
    for index in meta.indexes:
        assert index.fields[0] == FOREIGN_KEY_INDEXES.get(index.name, "organization"), index.name
    assert not any(field.unique for field in meta.fields if field.name not in {"id", "webhook_token"})


def test_work_item_pages_leave_room_for_their_next_versions(db: None) -> None:
    """Work items are rewritten on nearly every activity: a quarter of each page is kept free so that a new
    version can stay on its page (a heap-only update, which adds nothing to the table's indexes)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT reloptions FROM pg_class WHERE oid = %s::regclass", [WorkItem._meta.db_table])
        row = cursor.fetchone()
    assert row is not None
    assert row[0] == ["fillfactor=75"]


def test_reading_without_an_organisation_in_context_is_refused(db: None) -> None:
    with pytest.raises(TenantContextMissing):
        list(ExecutionSignal.objects.all())


def test_an_organisation_has_at_most_one_integration_per_provider_and_tokens_differ(
    acme: OrgWorld, globex: OrgWorld
) -> None:
    with tenant_context(acme.organization):
        first = connect("jira")
        with pytest.raises(IntegrityError), transaction.atomic():
            Integration.objects.create(provider="jira")
    with tenant_context(globex.organization):
        other = connect("jira")
    assert first.webhook_token != other.webhook_token


def test_one_raw_event_per_dedupe_key_and_one_row_per_external_thing(acme: OrgWorld) -> None:
    with tenant_context(acme.organization):
        integration = connect("slack")
        RawEvent.objects.create(
            integration=integration, provider="slack", origin="webhook", dedupe_key="Ev1", payload={}
        )
        with pytest.raises(IntegrityError), transaction.atomic():
            RawEvent.objects.create(
                integration=integration, provider="slack", origin="pull", dedupe_key="Ev1", payload={}
            )
        item = WorkItem.objects.create(provider="slack", external_id="C1:1.0", key="C1:1.0", kind="thread")
        with pytest.raises(IntegrityError), transaction.atomic():
            WorkItem.objects.create(provider="slack", external_id="C1:1.0", key="C1:1.0", kind="thread")
        ExecutionSignal.objects.create(
            provider="slack", external_id="C1:1.0", work_item=item, occurred_at=T0, kind="message", weight=0.5
        )
        with pytest.raises(IntegrityError), transaction.atomic():
            ExecutionSignal.objects.create(
                provider="slack",
                external_id="C1:1.0",
                work_item=item,
                occurred_at=T0,
                kind="message",
                weight=0.5,
            )
        ExternalIdentity.objects.create(provider="slack", external_id="U1")
        with pytest.raises(IntegrityError), transaction.atomic():
            ExternalIdentity.objects.create(provider="slack", external_id="U1")


def test_the_same_external_ids_live_side_by_side_in_two_organisations(
    acme: OrgWorld, globex: OrgWorld
) -> None:
    for world in (acme, globex):
        with tenant_context(world.organization):
            WorkItem.objects.create(provider="jira", external_id="18001", key="ONB-7", kind="issue")
            ExternalIdentity.objects.create(provider="jira", external_id="5f1e2d3c")
    with tenant_context(acme.organization):
        assert WorkItem.objects.count() == 1
        assert ExternalIdentity.objects.count() == 1


def test_deleting_an_organisation_takes_its_ingested_rows_and_leaves_another_s(
    acme: OrgWorld, globex: OrgWorld
) -> None:
    for world in (acme, globex):
        with tenant_context(world.organization):
            objective = make_objective(make_cycle(), world.admin, title="Customers onboard alone")
            key_result = make_key_result(
                objective, world.admin, title="SSO setups from 10 to 40", baseline=10, target=40
            )
            make_ingest_data(world, key_result)
    with tenant_context(globex.organization):
        kept = {model: model.objects.count() for model in INGEST_MODELS}
    assert min(kept[SignalKeyResult], kept[ExecutionSignal], kept[RawEvent]) > 0

    deletion = organization_delete(organization=acme.organization)

    assert deletion.rows["signals_ingest.ExecutionSignal"] == kept[ExecutionSignal]
    with cross_organization():
        assert {model: model.objects.count() for model in INGEST_MODELS} == kept
        # What is kept without a database constraint still names rows that exist.
        signal = ExecutionSignal.objects.get()
        assert RawEvent.objects.filter(pk=signal.raw_event_id).exists()
        assert set(SignalKeyResult.objects.values_list("signal_id", flat=True)) == {signal.pk}


def test_deleting_an_organisation_waits_for_a_batch_being_written_and_takes_its_rows_too(
    transactional_db: None,
) -> None:
    world = make_organization("Deleted while ingesting")
    organization_id = world.organization.pk
    with tenant_context(world.organization):
        integration = connect("jira")
    written = threading.Event()
    release = threading.Event()
    errors: list[BaseException] = []

    def ingest() -> None:
        try:
            with tenant_context(organization_id):
                store_and_process_raw_events(
                    integration=integration, origin="pull", items=[("created", jira_created(jira_issue()))]
                )
                written.set()
                release.wait(timeout=30)  # the batch's transaction stays open until released
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    def delete() -> None:
        try:
            organization_delete(organization=world.organization)
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    ingesting = threading.Thread(target=ingest)
    ingesting.start()
    assert written.wait(timeout=30)
    deleting = threading.Thread(target=delete)
    deleting.start()
    # The deletion waits for the batch, which has written but not committed.
    assert another_session_waits_for_a_lock()
    release.set()
    ingesting.join(timeout=60)
    deleting.join(timeout=60)
    assert not errors, errors
    with cross_organization():
        for model in (RawEvent, WorkItem, ExecutionSignal, ExternalIdentity):
            assert not model.objects.filter(organization_id=organization_id).exists(), model.__name__

    # Nothing is written for an organisation that is gone.
    with tenant_context(organization_id), pytest.raises(OrganizationGone):
        store_and_process_raw_events(
            integration=integration, origin="pull", items=[("again", jira_created(jira_issue()))]
        )
    with cross_organization():
        assert not RawEvent.objects.filter(organization_id=organization_id).exists()


def test_a_batch_that_comes_while_its_organisation_is_being_deleted_writes_nothing(
    transactional_db: None,
) -> None:
    world = make_organization("Deleted before ingesting")
    organization_id = world.organization.pk
    with tenant_context(world.organization):
        integration = connect("jira")
    deleted = threading.Event()
    release = threading.Event()
    errors: list[BaseException] = []

    def delete() -> None:
        try:
            with transaction.atomic():
                organization_delete(organization=world.organization)
                deleted.set()
                release.wait(timeout=30)  # the deletion's transaction stays open until released
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    def ingest() -> None:
        try:
            with tenant_context(organization_id):
                store_and_process_raw_events(
                    integration=integration, origin="pull", items=[("created", jira_created(jira_issue()))]
                )
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    deleting = threading.Thread(target=delete)
    deleting.start()
    assert deleted.wait(timeout=30)
    ingesting = threading.Thread(target=ingest)
    ingesting.start()
    # The batch waits for the deletion to end, then finds its organisation gone.
    assert another_session_waits_for_a_lock()
    release.set()
    deleting.join(timeout=60)
    ingesting.join(timeout=60)
    assert [type(error) for error in errors] == [OrganizationGone]
    with cross_organization():
        for model in (RawEvent, WorkItem, ExecutionSignal, ExternalIdentity):
            assert not model.objects.filter(organization_id=organization_id).exists(), model.__name__
