"""The set-based write path of ingestion: storing and processing in one step, failures inside a batch,
JSON that only the standard library can write, and updates that stay inside the organisation."""

from __future__ import annotations

import logging
from typing import Any

import psycopg
import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from okrsignal.tenancy import tenant_context
from signals_ingest import bulk, services
from signals_ingest.models import ExecutionSignal, Integration, RawEvent, SignalKeyResult, WorkItem
from signals_ingest.pipeline import _RAW_EVENT_COLUMNS, store_and_process_raw_events, store_raw_events
from tests.factories import OrgWorld
from tests.goal_factories import make_cycle, make_key_result, make_objective
from tests.ingest_factories import connect, jira_comment, jira_created, jira_issue, slack_envelope


def _key_result(world: OrgWorld):  # type: ignore[no-untyped-def]
    cycle = make_cycle(f"{world.organization.name} 2026-Q4")
    objective = make_objective(cycle, world.admin, title=f"{world.organization.name} customers onboard alone")
    return make_key_result(
        objective, world.admin, title="Self-serve SSO setups from 10 to 40", baseline=10, target=40
    )


def test_a_new_event_is_written_once_already_marked_processed(acme: OrgWorld) -> None:
    with tenant_context(acme.organization):
        integration = connect("jira")
        services.mapping_rule_create(
            integration=integration, match={"project": "ONB"}, key_result=_key_result(acme)
        )
        result = store_and_process_raw_events(
            integration=integration, origin="pull", items=[("page-1", jira_created(jira_issue()))]
        )
        event = RawEvent.objects.get()
        assert result.processed == [event.pk]
        assert (event.attempts, event.error) == (1, "")
        assert event.processed_at is not None
        signal = ExecutionSignal.objects.get()
        assert signal.raw_event_id == event.pk
        assert list(SignalKeyResult.objects.values_list("signal_id", flat=True)) == [signal.pk]
        integration.refresh_from_db()
        assert integration.items_taken == 1


def test_a_payload_that_cannot_be_normalised_is_stored_with_its_error_and_the_rest_go_on(
    acme: OrgWorld, caplog: pytest.LogCaptureFixture
) -> None:
    with tenant_context(acme.organization):
        integration = connect("jira")
        broken = jira_created(jira_issue("18009", "ONB-9"))
        broken["issue"].pop("key")
        with caplog.at_level(logging.ERROR, logger="signals_ingest.pipeline"):
            result = store_and_process_raw_events(
                integration=integration,
                origin="pull",
                items=[("good", jira_created(jira_issue())), ("broken", broken)],
            )
        bad = RawEvent.objects.get(dedupe_key="broken")
        assert result.failed == {bad.pk: "Jira webhook jira:issue_created: issue.key is missing."}
        assert (bad.processed_at, bad.attempts, bad.payload) == (None, 1, broken)
        assert f"Raw event {bad.pk} (jira)" in caplog.text
        assert RawEvent.objects.get(dedupe_key="good").processed_at is not None
        assert list(ExecutionSignal.objects.values_list("external_id", flat=True)) == ["18001:created"]


def test_a_payload_the_database_refuses_fails_alone_and_stays_stored_unprocessed(acme: OrgWorld) -> None:
    with tenant_context(acme.organization):
        integration = connect("jira")
        # Normalises, but its work item's id is longer than the column: only writing it fails.
        too_long = jira_created(jira_issue("9" * 200, "ONB-99"))
        result = store_and_process_raw_events(
            integration=integration,
            origin="pull",
            items=[("good", jira_created(jira_issue())), ("too-long", too_long)],
        )
        bad = RawEvent.objects.get(dedupe_key="too-long")
        good = RawEvent.objects.get(dedupe_key="good")
        assert result.processed == [good.pk]
        assert list(result.failed) == [bad.pk]
        assert (bad.processed_at, bad.attempts) == (None, 1)
        assert "too long" in bad.error
        assert good.processed_at is not None
        assert list(WorkItem.objects.values_list("external_id", flat=True)) == ["18001"]


def test_an_event_stored_earlier_is_processed_by_the_next_pull_that_brings_it(acme: OrgWorld) -> None:
    with tenant_context(acme.organization):
        integration = connect("jira")
        waiting_payload = jira_comment(jira_issue(), comment_id="70001")
        done_payload = jira_created(jira_issue())
        waiting_id, done_id = store_raw_events(
            integration=integration,
            origin="webhook",
            items=[("comment-70001", waiting_payload), ("created", done_payload)],
        )
        first = store_and_process_raw_events(
            integration=integration, origin="pull", items=[("created", done_payload)]
        )
        assert first.processed == [done_id]
        result = store_and_process_raw_events(
            integration=integration,
            origin="pull",
            items=[("comment-70001", waiting_payload), ("created", done_payload)],
        )
        assert (result.processed, result.skipped, result.failed) == ([waiting_id], [done_id], {})
        waiting = RawEvent.objects.get(pk=waiting_id)
        assert waiting.processed_at is not None
        assert waiting.attempts == 1
        assert RawEvent.objects.get(pk=done_id).attempts == 1
        assert RawEvent.objects.count() == 2
        assert sorted(ExecutionSignal.objects.values_list("external_id", flat=True)) == [
            "18001:comment:70001",
            "18001:created",
        ]
        integration.refresh_from_db()
        assert integration.items_taken == 2


def test_payloads_with_numbers_beyond_64_bits_are_stored_and_read_back_unchanged(acme: OrgWorld) -> None:
    with tenant_context(acme.organization):
        integration = connect("slack")
        payload = slack_envelope(event_id="EvHuge", huge=2**70, ratio=0.1)
        store_and_process_raw_events(integration=integration, origin="replay", items=[("EvHuge", payload)])
        stored = RawEvent.objects.get()
        assert stored.payload == payload
        assert bulk.select_by_keys(RawEvent, ["payload"], key="dedupe_key", keys=["EvHuge"]) == [(payload,)]
        assert ExecutionSignal.objects.count() == 1


_DEDUPE = ["organization", "provider", "dedupe_key"]


def _raw_event_row(integration: Integration, dedupe_key: str, payload: Any = None) -> tuple[Any, ...]:
    """A raw event row in ``_RAW_EVENT_COLUMNS`` order."""
    return (
        integration.pk,
        "jira",
        "pull",
        dedupe_key,
        payload or {"a": 1},
        integration.connected_at,
        None,
        "",
        0,
    )


def _undone_first_tries(queries: CaptureQueriesContext) -> int:
    """How many plain INSERTs tried first were undone (their savepoint rolled back)."""
    return sum(query["sql"].startswith("ROLLBACK TO SAVEPOINT") for query in queries.captured_queries)


@pytest.mark.parametrize("likely_new", [False, True])
def test_inserting_answers_only_the_rows_it_inserted(acme: OrgWorld, likely_new: bool) -> None:
    with tenant_context(acme.organization):
        integration = connect("jira")
        first = bulk.insert_returning(
            RawEvent,
            _RAW_EVENT_COLUMNS,
            [_raw_event_row(integration, "key-1"), _raw_event_row(integration, "key-2")],
            conflict=_DEDUPE,
            returning=["dedupe_key", "id"],
            likely_new=likely_new,
        )
        with CaptureQueriesContext(connection) as queries:
            again = bulk.insert_returning(
                RawEvent,
                _RAW_EVENT_COLUMNS,
                [_raw_event_row(integration, "key-1"), _raw_event_row(integration, "key-3")],
                conflict=_DEDUPE,
                returning=["dedupe_key", "id"],
                likely_new=likely_new,
            )
        assert [key for key, _id in first] == ["key-1", "key-2"]
        assert [key for key, _id in again] == ["key-3"]
        assert RawEvent.objects.count() == 3
        # Only rows said to be likely new are tried as they are first, and here that try clashed.
        assert _undone_first_tries(queries) == (1 if likely_new else 0)


def test_inserting_rows_likely_new_keeps_the_first_of_rows_that_repeat_a_key(acme: OrgWorld) -> None:
    """Rows of one batch with the same key: the plain INSERT clashes with itself, and the rows go in again
    skipping the repeat."""
    with tenant_context(acme.organization):
        integration = connect("jira")
        inserted = bulk.insert_returning(
            RawEvent,
            _RAW_EVENT_COLUMNS,
            [
                _raw_event_row(integration, "key-1", {"first": 1}),
                _raw_event_row(integration, "key-2"),
                _raw_event_row(integration, "key-1", {"repeat": 2}),
            ],
            conflict=_DEDUPE,
            returning=["dedupe_key", "payload"],
            likely_new=True,
        )
        assert [key for key, _payload in inserted] == ["key-1", "key-2"]
        assert RawEvent.objects.get(dedupe_key="key-1").payload == {"first": 1}


def test_inserting_rows_likely_new_lets_a_clash_on_another_constraint_fail(acme: OrgWorld) -> None:
    """Only a clash on the key the caller named is skipped: any other is an error, and the savepoint of the
    plain INSERT tried first undoes that statement alone, not the transaction around it."""
    with tenant_context(acme.organization), transaction.atomic():
        integration = connect("jira")
        [(first_id,)] = bulk.insert_returning(
            RawEvent,
            _RAW_EVENT_COLUMNS,
            [_raw_event_row(integration, "key-1")],
            conflict=_DEDUPE,
            returning=["id"],
            likely_new=True,
        )
        with pytest.raises(psycopg.errors.UniqueViolation, match="pkey"):
            bulk.insert_returning(
                RawEvent,
                ["id", *_RAW_EVENT_COLUMNS],
                [(first_id, *_raw_event_row(integration, "key-2"))],
                conflict=_DEDUPE,
                returning=["id"],
                likely_new=True,
            )
        assert list(RawEvent.objects.values_list("dedupe_key", flat=True)) == ["key-1"]


def test_inserting_rows_likely_new_needs_a_unique_constraint_on_the_conflict_columns(acme: OrgWorld) -> None:
    """Checked before anything is written, not at the first clash: a caller naming columns without a
    unique constraint (in any order) fails at once."""
    with tenant_context(acme.organization):
        integration = connect("jira")
        rows = [_raw_event_row(integration, "key-1")]
        reordered = bulk.insert_returning(
            RawEvent,
            _RAW_EVENT_COLUMNS,
            rows,
            conflict=["dedupe_key", "provider", "organization"],
            returning=["dedupe_key"],
            likely_new=True,
        )
        assert reordered == [("key-1",)]
        with pytest.raises(LookupError, match="no unique constraint on dedupe_key, organization"):
            bulk.insert_returning(
                RawEvent,
                _RAW_EVENT_COLUMNS,
                [_raw_event_row(integration, "key-2")],
                conflict=["organization", "dedupe_key"],
                returning=["dedupe_key"],
                likely_new=True,
            )
        assert RawEvent.objects.count() == 1


def test_a_page_pulled_again_goes_in_without_a_first_try_and_a_redelivered_webhook_with_one(
    acme: OrgWorld,
) -> None:
    """A pull reads again what it read before, on purpose: its rows skip clashes at once. A webhook's are new
    as a rule, so a redelivery's raw event, and the signal that a delivery under a new id describes again,
    are each tried as they are first, clash and are undone, with the same rows in the end."""
    with tenant_context(acme.organization):
        integration = connect("jira")
        payload = jira_created(jira_issue())
        for origin, undone in (("pull", 0), ("webhook", 2)):
            store_and_process_raw_events(integration=integration, origin=origin, items=[(origin, payload)])
            with CaptureQueriesContext(connection) as queries:
                again = store_and_process_raw_events(
                    integration=integration,
                    origin=origin,
                    items=[(origin, payload), (f"{origin}-2", payload)],
                )
            assert (len(again.processed), len(again.skipped), again.failed) == (1, 1, {}), origin
            assert _undone_first_tries(queries) == undone, origin
        assert RawEvent.objects.count() == 4
        assert ExecutionSignal.objects.count() == 1


def test_updates_by_id_never_reach_another_organisations_rows(acme: OrgWorld, globex: OrgWorld) -> None:
    with tenant_context(globex.organization):
        theirs = WorkItem.objects.create(
            provider="jira", external_id="1", key="GLX-1", kind="issue", title="Theirs"
        )
    with tenant_context(acme.organization):
        ours = WorkItem.objects.create(
            provider="jira", external_id="1", key="ACM-1", kind="issue", title="Ours"
        )
        bulk.update_by_id(WorkItem, ["title", "attributes"], [(ours.pk, "Renamed", {"x": [1]})])
        bulk.update_by_id(WorkItem, ["title"], [(theirs.pk, "Hijacked")])
        bulk.update_for_ids(WorkItem, [theirs.pk], {"title": "Hijacked"})
        ours.refresh_from_db()
        assert (ours.title, ours.attributes) == ("Renamed", {"x": [1]})
    with tenant_context(globex.organization):
        theirs.refresh_from_db()
        assert theirs.title == "Theirs"


def _plan_nodes(plan: dict[str, Any]) -> list[dict[str, Any]]:
    return [plan, *(node for child in plan.get("Plans", []) for node in _plan_nodes(child))]


@pytest.mark.parametrize("lock", [False, True])
def test_rows_are_found_through_their_whole_key_even_before_the_table_has_statistics(
    acme: OrgWorld, lock: bool
) -> None:
    """A table filling up (a first backfill, before anything has analysed it): each key is looked up in the
    index on all its columns, never by reading every work item of the provider and filtering them."""
    with tenant_context(acme.organization):
        # Statistics taken while the table was empty, then thousands of rows: what PostgreSQL knows while a
        # first backfill fills the table (or a new organisation's fills one analysed before it came).
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE signals_ingest_workitem")
        WorkItem.objects.bulk_create(
            WorkItem(
                organization=acme.organization,
                provider="jira",
                external_id=str(18000 + number),
                key=f"ONB-{number}",
                kind="issue",
            )
            for number in range(3000)
        )
        wanted = ["18007", "18123", "20999", "18007", "29999"]
        sql, params = bulk._select_statement(
            WorkItem,
            ["id", "external_id", "attributes"],
            key="external_id",
            keys=wanted,
            where={"provider": "jira"},
            lock=lock,
        )
        with bulk._cursor() as cursor:
            cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
            [[explained]] = cursor.fetchall()
        nodes = [
            node
            for node in _plan_nodes(explained[0]["Plan"])
            if node.get("Relation Name") == "signals_ingest_workitem"
        ]
        assert any("external_id" in node.get("Index Cond", "") for node in nodes)
        assert not any("external_id" in node.get("Filter", "") for node in nodes)

        found = bulk.select_by_keys(
            WorkItem,
            ["external_id", "attributes"],
            key="external_id",
            keys=wanted,
            where={"provider": "jira"},
            lock=lock,
        )
        # Each stored key once (a key asked twice is one row), none for a key that is not stored.
        assert sorted(found) == [("18007", {}), ("18123", {}), ("20999", {})]
        assert (
            bulk.select_by_keys(
                WorkItem,
                ["external_id"],
                key="external_id",
                keys=wanted,
                where={"provider": "slack"},
                lock=lock,
            )
            == []
        )
