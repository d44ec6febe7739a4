"""Every table's tenant policy reads the transaction's organisation once per statement, not once per row.

The predicates are written out here, not imported, so that this migration keeps meaning what it meant
whatever ``okrsignal.migration_operations`` says later.
"""

from typing import Any

from django.db import migrations

PER_ROW = (
    "organization_id = NULLIF(current_setting('okrsignal.organization_id', true), '')::bigint"
    " OR current_setting('okrsignal.all_organizations', true) = 'on'"
)
PER_STATEMENT = (
    "organization_id = (SELECT NULLIF(current_setting('okrsignal.organization_id', true), '')::bigint)"
    " OR (SELECT current_setting('okrsignal.all_organizations', true)) = 'on'"
)


def _alter_policies(schema_editor: Any, predicate: str) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            "SELECT tablename FROM pg_policies"
            " WHERE schemaname = current_schema() AND policyname = 'tenant_isolation' ORDER BY tablename"
        )
        tables = [row[0] for row in cursor.fetchall()]
    for table in tables:
        schema_editor.execute(
            f"ALTER POLICY tenant_isolation ON {schema_editor.quote_name(table)}"
            f" USING ({predicate}) WITH CHECK ({predicate})",
            params=None,
        )


def forwards(apps: Any, schema_editor: Any) -> None:
    _alter_policies(schema_editor, PER_STATEMENT)


def backwards(apps: Any, schema_editor: Any) -> None:
    _alter_policies(schema_editor, PER_ROW)


class Migration(migrations.Migration):
    dependencies = [
        ("okrsignal", "0004_notifications_and_alert_delivery"),
        ("goals", "0005_check_in_reminder_delivery_and_remediation_plan"),
        ("alignment", "0004_activity_weeks"),
        ("signals_ingest", "0008_signal_time_indexes"),
    ]

    operations = [migrations.RunPython(forwards, backwards, elidable=False)]
