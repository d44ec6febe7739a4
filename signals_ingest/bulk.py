"""Set-based reads and writes for the ingestion hot path: one statement per table per batch.

On PostgreSQL each function sends whole columns as arrays (``unnest``) through a cursor with server-side
parameter binding on Django's own connection (so it shares the transaction, and the tenant setting that
row-level security reads). That avoids building and quoting thousands of parameters in Python, which is
what makes ``bulk_create`` / ``bulk_update`` slow for large batches. Elsewhere (SQLite, the embedded
default) the same functions fall back to the ORM.

Every statement filters on, or writes, the organisation in context: these functions are tenant-scoped
like ``TenantModel.objects``, and row-level security holds them to it as well.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import psycopg
from django.db import connection, models

from okrsignal.tenancy import require_organization_id


def is_postgresql() -> bool:
    return connection.vendor == "postgresql"


@contextmanager
def _cursor() -> Iterator[psycopg.Cursor[Any]]:
    connection.ensure_connection()
    with psycopg.Cursor(connection.connection) as cursor:
        yield cursor


def _column(model: type[models.Model], name: str) -> models.Field[Any, Any]:
    field = model._meta.get_field(name)
    assert isinstance(field, models.Field)
    return field


def _quoted(name: str | None) -> str:
    assert name, "a column or table name"
    return connection.ops.quote_name(name)


def _array_type(field: models.Field[Any, Any]) -> str:
    db_type = field.rel_db_type(connection) if field.is_relation else field.db_type(connection)
    return f"{db_type}[]"


def _prepared(field: models.Field[Any, Any], values: Sequence[Any]) -> list[Any]:
    if isinstance(field, models.JSONField):
        return [None if value is None else json.dumps(value) for value in values]
    return list(values)


def insert_ignoring_conflicts(
    model: type[models.Model],
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
    *,
    conflict: Sequence[str],
) -> None:
    """INSERT the rows (``organization`` is added), skipping any that clash with ``conflict``'s constraint."""
    if not rows:
        return
    organization_id = require_organization_id()
    if not is_postgresql():
        model._default_manager.bulk_create(
            [model(organization_id=organization_id, **dict(zip(columns, row, strict=True))) for row in rows],
            ignore_conflicts=True,
            batch_size=500,
        )
        return
    fields = [_column(model, name) for name in columns]
    names = ", ".join(_quoted(field.column) for field in fields)
    arrays = ", ".join(f"%b::{_array_type(field)}" for field in fields)
    targets = ", ".join(_quoted(_column(model, name).column) for name in conflict)
    sql = (
        f"INSERT INTO {_quoted(model._meta.db_table)} (organization_id, {names})"  # noqa: S608 - names from models
        f" SELECT %s, * FROM unnest({arrays}) ON CONFLICT ({targets}) DO NOTHING"
    )
    by_column = list(zip(*rows, strict=True))
    with _cursor() as cursor:
        cursor.execute(
            sql,
            [
                organization_id,
                *(_prepared(field, values) for field, values in zip(fields, by_column, strict=True)),
            ],
        )


def select_by_keys(
    model: type[models.Model],
    columns: Sequence[str],
    *,
    key: str,
    keys: Sequence[Any],
    where: Mapping[str, Any] | None = None,
    lock: bool = False,
) -> list[tuple[Any, ...]]:
    """Rows (the given ``columns``) whose ``key`` is among ``keys`` and which match ``where``.

    ``lock`` takes a row lock on each (FOR UPDATE, in id order, so that concurrent callers queue up
    instead of deadlocking).
    """
    if not keys:
        return []
    organization_id = require_organization_id()
    where = dict(where or {})
    if not is_postgresql():
        queryset = model._default_manager.filter(**{f"{key}__in": list(keys)}, **where)
        if lock:
            queryset = queryset.select_for_update().order_by("pk")
        return list(queryset.values_list(*columns))
    column_sql = ", ".join(_quoted(_column(model, name).column) for name in columns)
    conditions = [f"{_quoted(_column(model, key).column)} = ANY(%b)"]
    params: list[Any] = [list(keys)]
    for name, value in where.items():
        conditions.append(f"{_quoted(_column(model, name).column)} = %s")
        params.append(value)
    sql = (
        f"SELECT {column_sql} FROM {_quoted(model._meta.db_table)}"  # noqa: S608 - names from models
        f" WHERE organization_id = %s AND {' AND '.join(conditions)}"
        + (" ORDER BY id FOR UPDATE" if lock else "")
    )
    with _cursor() as cursor:
        cursor.execute(sql, [organization_id, *params])
        rows = cursor.fetchall()
    # Django reads jsonb as text on its connection (its JSONField decodes it); so do we.
    json_positions = [
        index for index, name in enumerate(columns) if isinstance(_column(model, name), models.JSONField)
    ]
    if not json_positions:
        return list(rows)
    decoded = []
    for row in rows:
        values = list(row)
        for index in json_positions:
            if isinstance(values[index], str):
                values[index] = json.loads(values[index])
        decoded.append(tuple(values))
    return decoded


def update_by_id(model: type[models.Model], columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """Set ``columns`` on each row, the first value of each row being its id."""
    if not rows:
        return
    if not is_postgresql():
        for row in rows:
            model._default_manager.filter(pk=row[0]).update(**dict(zip(columns, row[1:], strict=True)))
        return
    organization_id = require_organization_id()
    fields = [_column(model, name) for name in columns]
    id_field = model._meta.pk
    assert isinstance(id_field, models.Field)
    aliases = [f"c{index}" for index in range(len(fields))]
    assignments = ", ".join(
        f"{_quoted(field.column)} = source.{alias}" for field, alias in zip(fields, aliases, strict=True)
    )
    arrays = ", ".join(f"%b::{_array_type(field)}" for field in [id_field, *fields])
    sql = (
        f"UPDATE {_quoted(model._meta.db_table)} AS target SET {assignments}"  # noqa: S608 - names from models
        f" FROM unnest({arrays}) AS source(row_id, {', '.join(aliases)})"
        " WHERE target.id = source.row_id AND target.organization_id = %s"
    )
    by_column = list(zip(*rows, strict=True))
    params = [list(by_column[0]), *(_prepared(f, v) for f, v in zip(fields, by_column[1:], strict=True))]
    with _cursor() as cursor:
        cursor.execute(sql, [*params, organization_id])


def update_for_ids(
    model: type[models.Model], ids: Sequence[int], values: Mapping[str, Any], *, increment: str | None = None
) -> None:
    """Set the same ``values`` on every row of ``ids`` (and add one to the ``increment`` column)."""
    if not ids:
        return
    if not is_postgresql():
        changes: dict[str, Any] = dict(values)
        if increment:
            changes[increment] = models.F(increment) + 1
        model._default_manager.filter(pk__in=list(ids)).update(**changes)
        return
    organization_id = require_organization_id()
    assignments = [f"{_quoted(_column(model, name).column)} = %s" for name in values]
    if increment:
        column = _quoted(_column(model, increment).column)
        assignments.append(f"{column} = {column} + 1")
    sql = (
        f"UPDATE {_quoted(model._meta.db_table)} SET {', '.join(assignments)}"  # noqa: S608 - names from models
        " WHERE organization_id = %s AND id = ANY(%b)"
    )
    with _cursor() as cursor:
        cursor.execute(sql, [*values.values(), organization_id, list(ids)])
