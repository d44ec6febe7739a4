"""Migration operations that put PostgreSQL guarantees under the application's rules.

Each is one line in a migration and does nothing on SQLite (the embedded default), where the
application-level scoping in ``okrsignal.tenancy`` is the only wall.
"""

from __future__ import annotations

from typing import Any

from django.db.migrations.operations.base import Operation

POLICY_NAME = "tenant_isolation"

# Rows are visible and writable only for the organisation set by ``tenant_context`` in this
# transaction, or everywhere inside ``cross_organization()``. With nothing set, nothing matches.
# Each setting is read by a sub-select, which PostgreSQL evaluates once per statement (an InitPlan):
# called bare, ``current_setting`` runs again for every row scanned or written, which made a
# full read of a table about three times as slow as without the policy.
TENANT_PREDICATE = (
    "organization_id = (SELECT NULLIF(current_setting('okrsignal.organization_id', true), '')::bigint)"
    " OR (SELECT current_setting('okrsignal.all_organizations', true)) = 'on'"
)


class _PostgresOnly(Operation):
    reduces_to_sql = True
    reversible = True

    def __init__(self, model_name: str) -> None:
        self.model_name = model_name

    def deconstruct(self) -> tuple[str, list[Any], dict[str, Any]]:
        return self.__class__.__qualname__, [self.model_name], {}

    def state_forwards(self, app_label: str, state: Any) -> None:
        pass

    def _table(self, app_label: str, state: Any) -> str:
        return state.apps.get_model(app_label, self.model_name)._meta.db_table

    def database_forwards(self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any) -> None:
        if schema_editor.connection.vendor == "postgresql":
            for statement in self.forwards_sql(schema_editor.quote_name(self._table(app_label, to_state))):
                schema_editor.execute(statement, params=None)

    def database_backwards(self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any) -> None:
        if schema_editor.connection.vendor == "postgresql":
            for statement in self.backwards_sql(schema_editor.quote_name(self._table(app_label, from_state))):
                schema_editor.execute(statement, params=None)

    def forwards_sql(self, table: str) -> list[str]:
        raise NotImplementedError

    def backwards_sql(self, table: str) -> list[str]:
        raise NotImplementedError


class EnableRowLevelSecurity(_PostgresOnly):
    """Row-level security keyed on the transaction's organisation, enforced on the table owner too."""

    def describe(self) -> str:
        return f"Enable row-level security on {self.model_name}"

    def forwards_sql(self, table: str) -> list[str]:
        return [
            f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY",
            f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY",
            f"CREATE POLICY {POLICY_NAME} ON {table}"
            f" USING ({TENANT_PREDICATE}) WITH CHECK ({TENANT_PREDICATE})",
        ]

    def backwards_sql(self, table: str) -> list[str]:
        return [
            f"DROP POLICY IF EXISTS {POLICY_NAME} ON {table}",
            f"ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY",
            f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY",
        ]


class MakeAppendOnly(_PostgresOnly):
    """Refuse UPDATE and DELETE on the table, whoever asks: an audit trail that cannot be rewritten."""

    def describe(self) -> str:
        return f"Make {self.model_name} append-only"

    def forwards_sql(self, table: str) -> list[str]:
        function = "okrsignal_refuse_change"
        return [
            f"""CREATE OR REPLACE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN RAISE EXCEPTION '% is append-only', TG_TABLE_NAME; END $$""",
            f"CREATE TRIGGER append_only BEFORE UPDATE OR DELETE ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION {function}()",
        ]

    def backwards_sql(self, table: str) -> list[str]:
        return [f"DROP TRIGGER IF EXISTS append_only ON {table}"]


class StoreJsonAsText(Operation):
    """Turn a ``json`` column into ``text`` (a ``JSONTextField`` made before it was stored as text), keeping
    the compression chosen for it, which changing a column's type drops. Does nothing to a column that is
    ``text`` already: a database migrated from scratch made it so. It asks the database what the column is,
    so it has no fixed SQL to show."""

    reduces_to_sql = False
    reversible = True

    def __init__(self, model_name: str, field_name: str) -> None:
        self.model_name = model_name
        self.field_name = field_name

    def deconstruct(self) -> tuple[str, list[Any], dict[str, Any]]:
        return self.__class__.__qualname__, [self.model_name, self.field_name], {}

    def state_forwards(self, app_label: str, state: Any) -> None:
        pass

    def describe(self) -> str:
        return f"Store {self.model_name}.{self.field_name} as text"

    def database_forwards(self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any) -> None:
        self._change(app_label, schema_editor, to_state, "json", "text")

    def database_backwards(self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any) -> None:
        self._change(app_label, schema_editor, from_state, "text", "json")

    def _change(self, app_label: str, schema_editor: Any, state: Any, old: str, new: str) -> None:
        if schema_editor.connection.vendor != "postgresql":
            return
        model = state.apps.get_model(app_label, self.model_name)
        table = model._meta.db_table
        column = model._meta.get_field(self.field_name).column
        with schema_editor.connection.cursor() as cursor:
            cursor.execute(
                "SELECT a.atttypid::regtype::text, a.attcompression FROM pg_attribute a"
                " WHERE a.attrelid = %s::regclass AND a.attname = %s",
                [table, column],
            )
            current, compression = cursor.fetchone()
        if current != old:
            return
        quoted = schema_editor.quote_name(column)
        alter = f"ALTER TABLE {schema_editor.quote_name(table)} ALTER COLUMN {quoted}"
        schema_editor.execute(f"{alter} TYPE {new} USING {quoted}::{new}", params=None)
        if compression == "l":  # lz4
            schema_editor.execute(f"{alter} SET COMPRESSION lz4", params=None)
