"""Set-based reads and writes for the ingestion hot path: one statement per table per batch.

On PostgreSQL the rows of a write travel as one parameter: a JSON array of arrays, made by orjson in a
single call (no per-value work in Python), which the statement unpacks with ``jsonb_array_elements``
and casts column by column. The server parses that document once, as it would parse each JSON column
anyway; a payload column is taken from it as it stands, without being read again. Statements run
through a cursor with server-side parameter binding on Django's own connection, so they share its
transaction and the tenant setting that row-level security reads. Elsewhere (SQLite, the embedded
default) the same functions fall back to the ORM.

Every statement filters on, or writes, the organisation in context: these functions are tenant-scoped
like ``TenantModel.objects``, and row-level security holds them to it as well.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import orjson
import psycopg
from django.db import connection, models
from psycopg.types.json import Jsonb

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


def _db_type(field: models.Field[Any, Any]) -> str:
    db_type = field.rel_db_type(connection) if field.is_relation else field.db_type(connection)
    assert db_type, f"{field} has a database type"
    return db_type


def _json_default(value: Any) -> Any:
    if isinstance(value, tuple):  # a NamedTuple row: orjson takes plain tuples only
        return tuple(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def json_bytes(value: Any) -> bytes:
    """``value`` as JSON, encoded.

    orjson, with the standard library for what orjson refuses (integers beyond 64 bits): a payload the
    vendor sent is never turned away for being unusual. Keys that are not strings are accepted on a
    second try only: the option that allows them makes every call much slower, and JSON read from a
    vendor never has any.
    """
    try:
        return orjson.dumps(value, default=_json_default)
    except orjson.JSONEncodeError:
        pass
    try:
        return orjson.dumps(value, default=_json_default, option=orjson.OPT_NON_STR_KEYS)
    except orjson.JSONEncodeError:
        return json.dumps(value, default=_json_default).encode()


def _document(rows: Sequence[Sequence[Any]]) -> Jsonb:
    """The rows as one jsonb parameter, handed to the driver already encoded (no copy as text)."""
    return Jsonb(rows, dumps=json_bytes)


def json_value(text: str | bytes) -> Any:
    """JSON text read back from a jsonb column (orjson, or the standard library beyond 64-bit numbers)."""
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text)


def _value_sql(field: models.Field[Any, Any], position: int) -> str:
    """Column ``position`` of a row of the document, as a value of ``field``'s type."""
    if isinstance(field, models.JSONField):
        # A missing value (None) is SQL NULL, as the ORM stores it, not the JSON value null.
        return f"NULLIF(r -> {position}, 'null'::jsonb)"
    db_type = _db_type(field)
    if db_type.startswith("varchar"):
        # Text as text: storing it into the column then refuses a value that is too long, where a cast to
        # varchar(n) would cut it short without a word (and two long ids could become one).
        db_type = "text"
    return f"(r ->> {position})::{db_type}"


def _insert_sql(model: type[models.Model], columns: Sequence[str], conflict: Sequence[str]) -> str:
    fields = [_column(model, name) for name in columns]
    names = ", ".join(_quoted(field.column) for field in fields)
    values = ", ".join(_value_sql(field, position) for position, field in enumerate(fields))
    sql = (
        f"INSERT INTO {_quoted(model._meta.db_table)} (organization_id, {names})"  # noqa: S608 - names from models
        f" SELECT %s, {values} FROM jsonb_array_elements(%s::jsonb) AS r"
    )
    if conflict:
        targets = ", ".join(_quoted(_column(model, name).column) for name in conflict)
        sql += f" ON CONFLICT ({targets}) DO NOTHING"
    return sql


def insert(model: type[models.Model], columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """INSERT the rows (``organization`` is added), for rows the caller knows to be new: one that clashes
    with a stored row fails the statement."""
    if not rows:
        return
    organization_id = require_organization_id()
    if not is_postgresql():
        names = _attnames(model, columns)
        model._default_manager.bulk_create(
            [model(organization_id=organization_id, **dict(zip(names, row, strict=True))) for row in rows],
            batch_size=500,
        )
        return
    with _cursor() as cursor:
        cursor.execute(_insert_sql(model, columns, ()), [organization_id, _document(rows)])


def _attnames(model: type[models.Model], columns: Sequence[str]) -> list[str]:
    """The attributes the columns are set through on an instance: ``cycle_id`` for the foreign key ``cycle``,
    whose values here are ids."""
    return [_column(model, name).attname for name in columns]


def insert_ignoring_conflicts(
    model: type[models.Model],
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
    *,
    conflict: Sequence[str],
) -> None:
    """INSERT the rows (``organization`` is added), skipping any that clash with ``conflict``'s constraint.

    Rows are inserted in the order given: callers that may race each other on the same new keys give
    them sorted, so that their locks are taken in the same order.
    """
    if not rows:
        return
    organization_id = require_organization_id()
    if not is_postgresql():
        names = _attnames(model, columns)
        model._default_manager.bulk_create(
            [model(organization_id=organization_id, **dict(zip(names, row, strict=True))) for row in rows],
            ignore_conflicts=True,
            batch_size=500,
        )
        return
    with _cursor() as cursor:
        cursor.execute(_insert_sql(model, columns, conflict), [organization_id, _document(rows)])


def insert_returning(
    model: type[models.Model],
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
    *,
    conflict: Sequence[str],
    returning: Sequence[str],
) -> list[tuple[Any, ...]]:
    """Like ``insert_ignoring_conflicts``; answer the ``returning`` columns of the rows it inserted.

    A row that clashed with a stored one (or with an earlier row of ``rows``) is not in the answer: the
    caller reads those back if it needs them. ``conflict`` must be among ``columns`` (``organization``
    aside), so that the rows inserted can be told apart on SQLite too.
    """
    if not rows:
        return []
    organization_id = require_organization_id()
    if not is_postgresql():
        return _insert_returning_with_orm(model, columns, rows, conflict=conflict, returning=returning)
    returned = ", ".join(_quoted(_column(model, name).column) for name in returning)
    with _cursor() as cursor:
        cursor.execute(
            f"{_insert_sql(model, columns, conflict)} RETURNING {returned}",
            [organization_id, _document(rows)],
        )
        return list(cursor.fetchall())


def _insert_returning_with_orm(
    model: type[models.Model],
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
    *,
    conflict: Sequence[str],
    returning: Sequence[str],
) -> list[tuple[Any, ...]]:
    # SQLite lets one transaction write at a time, so what is not stored before the insert and is after
    # it was inserted by this call.
    natural = [name for name in conflict if name != "organization"]
    positions = [list(columns).index(name) for name in natural]

    def stored(candidates: Sequence[Sequence[Any]]) -> dict[tuple[Any, ...], tuple[Any, ...]]:
        values = list({row[positions[-1]] for row in candidates})
        found: dict[tuple[Any, ...], tuple[Any, ...]] = {}
        for start in range(0, len(values), 500):
            chunk = values[start : start + 500]
            for record in model._default_manager.filter(**{f"{natural[-1]}__in": chunk}).values_list(
                *natural, *returning
            ):
                found[tuple(record[: len(natural)])] = tuple(record[len(natural) :])
        return found

    before = stored(rows)
    fresh: dict[tuple[Any, ...], Sequence[Any]] = {}
    for row in rows:
        key = tuple(row[position] for position in positions)
        if key not in before:
            fresh.setdefault(key, row)
    insert_ignoring_conflicts(model, columns, list(fresh.values()), conflict=conflict)
    after = stored(list(fresh.values()))
    return [after[key] for key in fresh if key in after]


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
                values[index] = json_value(values[index])
        decoded.append(tuple(values))
    return decoded


# Updates by id find their rows through the primary key and check each row's organisation, rather than
# letting the planner start from the organisation's index: the statistics of an organisation that is
# taking in a backfill lag far behind it, and a plan driven by them reads the whole organisation's table
# for every batch. ``+ 0`` keeps the condition from being used as an index condition.
_ORGANIZATION_CHECKED_PER_ROW = "target.organization_id + 0 = %s"


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
    assignments = ", ".join(
        f"{_quoted(field.column)} = {_value_sql(field, position)}"
        for position, field in enumerate(fields, start=1)
    )
    sql = (
        f"UPDATE {_quoted(model._meta.db_table)} AS target SET {assignments}"  # noqa: S608 - names from models
        " FROM jsonb_array_elements(%s::jsonb) AS r"
        f" WHERE target.id = (r ->> 0)::bigint AND target.id = ANY(%b) AND {_ORGANIZATION_CHECKED_PER_ROW}"
    )
    with _cursor() as cursor:
        cursor.execute(sql, [_document(rows), [row[0] for row in rows], organization_id])


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
        f"UPDATE {_quoted(model._meta.db_table)} AS target SET {', '.join(assignments)}"  # noqa: S608 - names from models
        f" WHERE target.id = ANY(%b) AND {_ORGANIZATION_CHECKED_PER_ROW}"
    )
    with _cursor() as cursor:
        cursor.execute(sql, [*values.values(), list(ids), organization_id])
