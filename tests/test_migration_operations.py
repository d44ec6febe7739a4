"""Migration operations of our own, run forwards and backwards on the real schema."""

import json
from typing import Any

from django.db import connection
from django.db.migrations.loader import MigrationLoader

from okrsignal.migration_operations import StoreJsonAsText
from okrsignal.tenancy import tenant_context
from signals_ingest.models import RawEvent
from signals_ingest.pipeline import store_raw_events
from tests.factories import make_organization
from tests.ingest_factories import connect, jira_created, jira_issue

RAW_EVENT_TABLE = RawEvent._meta.db_table


def _type_and_compression() -> tuple[str, str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT a.atttypid::regtype::text, a.attcompression FROM pg_attribute a"
            " WHERE a.attrelid = %s::regclass AND a.attname = 'payload'",
            [RAW_EVENT_TABLE],
        )
        row = cursor.fetchone()
    assert row is not None
    return row[0], row[1]


def _run(operation: StoreJsonAsText, direction: str) -> None:
    state = MigrationLoader(connection).project_state()
    with connection.schema_editor() as editor:
        if direction == "forwards":
            operation.database_forwards("signals_ingest", editor, state, state)
        else:
            operation.database_backwards("signals_ingest", editor, state, state)


def _stored_payload(raw_event_id: int) -> Any:
    """The payload as stored, read as text whatever the column's type is."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT payload::text FROM {RAW_EVENT_TABLE} WHERE id = %s", [raw_event_id])  # noqa: S608
        row = cursor.fetchone()
    assert row is not None
    return json.loads(row[0])


def test_store_json_as_text_turns_json_into_text_and_back_keeping_lz4(db: None) -> None:
    world = make_organization("Acme")
    with tenant_context(world.organization):
        payload = jira_created(jira_issue("18001", "ONB-7", summary="Ünïcode & <markup>"))
        [raw_event_id] = store_raw_events(
            integration=connect("jira"), origin="replay", items=[("created:18001", payload)]
        )
        # The column as a database migrated before payloads were stored as text had it.
        with connection.cursor() as cursor:
            cursor.execute(
                f'ALTER TABLE {RAW_EVENT_TABLE} ALTER COLUMN "payload" TYPE json USING "payload"::json'
            )
            cursor.execute(f'ALTER TABLE {RAW_EVENT_TABLE} ALTER COLUMN "payload" SET COMPRESSION lz4')
        assert _type_and_compression() == ("json", "l")
        operation = StoreJsonAsText("rawevent", "payload")

        _run(operation, "forwards")
        assert _type_and_compression() == ("text", "l")
        assert _stored_payload(raw_event_id) == payload

        _run(operation, "backwards")
        assert _type_and_compression() == ("json", "l")
        assert _stored_payload(raw_event_id) == payload

        _run(operation, "forwards")
        _run(operation, "forwards")  # a column that is text already is left as it is
        assert _type_and_compression() == ("text", "l")
        assert _stored_payload(raw_event_id) == payload


def test_store_json_as_text_describes_itself_and_has_no_fixed_sql() -> None:
    operation = StoreJsonAsText("rawevent", "payload")
    assert operation.describe() == "Store rawevent.payload as text"
    assert operation.deconstruct() == ("StoreJsonAsText", ["rawevent", "payload"], {})
    assert operation.reduces_to_sql is False
    assert operation.reversible is True
