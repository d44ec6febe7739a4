"""Set-based reads and writes for the ingestion hot path: one statement per table per batch.

On PostgreSQL an insert sends each column's values as one array (``unnest`` turns them back into rows),
in the binary format, or as a single value when every row has the same; JSON values travel as text and
are parsed once, by the cast to the column's type (a raw payload, kept as text, not at all). Updates
send their rows as one JSON array of arrays, made by orjson in a single call, which the statement unpacks
with ``jsonb_array_elements`` and casts column by column. Statements run through a cursor with
server-side parameter binding on Django's own connection, so they share its transaction and the tenant
setting that row-level security reads. Elsewhere (SQLite, the embedded default) the same functions fall
back to the ORM.

Every statement filters on, or writes, the organisation in context: these functions are tenant-scoped
like ``TenantModel.objects``, and row-level security holds them to it as well.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import orjson
import psycopg
from django.db import connection, models, transaction
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
    return _db_type_on(field, connection.vendor)


@functools.cache
def _db_type_on(field: models.Field[Any, Any], vendor: str) -> str:
    """A column's type, worked out once per field: Django renders it anew from the field's options on
    every call, which was a few per cent of writing a batch."""
    db_type = field.rel_db_type(connection) if field.is_relation else field.db_type(connection)
    assert db_type, f"{field} has a database type on {vendor}"
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


def _array_type(field: models.Field[Any, Any]) -> str:
    """The array type a column's values travel in (JSON as text, parsed by the cast to the column)."""
    if isinstance(field, models.JSONField):
        return "text"
    db_type = _db_type(field)
    # Text as text: storing it into the column then refuses a value that is too long, where a cast to
    # varchar(n) would cut it short without a word (and two long ids could become one).
    return "text" if db_type.startswith("varchar") else db_type


def _json_texts(values: Sequence[Any]) -> list[str | None]:
    """Each value as JSON text, encoded once for a value that several rows share (the signals of one piece
    of work share its context). A missing value (None) is SQL NULL, as the ORM stores it, not JSON null."""
    texts: list[str | None] = []
    encoded: dict[int, str] = {}
    for value in values:
        if value is None:
            texts.append(None)
            continue
        text = encoded.get(id(value))
        if text is None:
            # ``values`` holds every value until the end, so an id is never reused meanwhile.
            text = encoded[id(value)] = json_bytes(value).decode()
        texts.append(text)
    return texts


def _insert_statement(
    model: type[models.Model], columns: Sequence[str], rows: Sequence[Sequence[Any]]
) -> tuple[str, list[Any]]:
    """The INSERT of ``rows`` and its parameters: the organisation, then each column's values as one array
    (the rows turned into columns), or as one value when every row has the same (which spares encoding
    the same value a thousand times: a batch's provider, the time it was written)."""
    fields = [_column(model, name) for name in columns]
    selected: list[str] = []  # what each column takes: a value, or its element of the row's arrays
    aliases: list[str] = []
    unnested: list[str] = []
    params: list[Any] = [require_organization_id()]
    arrays: list[list[Any]] = []
    for position, (field, values) in enumerate(zip(fields, zip(*rows, strict=True), strict=True)):
        alias = f"c{position}"
        if isinstance(field, models.JSONField):
            # JSON travels as text, parsed by the cast to the column's type.
            column: list[Any] = _json_texts(values)
            selected.append(f"{alias}::{_db_type(field)}")
        else:
            if isinstance(field, models.FloatField):
                # An array holds values of one type: a whole number among floats is sent as a float.
                column = [None if value is None else float(value) for value in values]
            else:
                column = list(values)
            if column.count(column[0]) == len(column):
                selected.append(f"%s::{_array_type(field)}")
                params.append(column[0])
                continue
            selected.append(alias)
        aliases.append(alias)
        unnested.append(f"%b::{_array_type(field)}[]")
        arrays.append(column)
    names = ", ".join(_quoted(field.column) for field in fields)
    # Rows alike in every column are one row as far as the unique constraint is concerned.
    source = f" FROM unnest({', '.join(unnested)}) AS r({', '.join(aliases)})" if unnested else ""
    sql = (
        f"INSERT INTO {_quoted(model._meta.db_table)} (organization_id, {names})"
        f" SELECT %s, {', '.join(selected)}{source}"
    )
    return sql, [*params, *arrays]


def _skipping_conflicts(model: type[models.Model], conflict: Sequence[str]) -> str:
    """The clause that makes an INSERT skip rows clashing with ``conflict``'s unique constraint."""
    if not conflict:
        return ""
    targets = ", ".join(_quoted(_column(model, name).column) for name in conflict)
    return f" ON CONFLICT ({targets}) DO NOTHING"


def insert(model: type[models.Model], columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """INSERT the rows (``organization`` is added), for rows the caller knows to be new: one that clashes
    with a stored row fails the statement."""
    _insert(model, columns, rows, conflict=())


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
    _insert(model, columns, rows, conflict=conflict)


def _insert(
    model: type[models.Model],
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
    *,
    conflict: Sequence[str],
) -> None:
    """One statement on PostgreSQL; elsewhere the ORM, its columns set through their attributes
    (``cycle_id`` for the foreign key ``cycle``, whose values here are ids)."""
    if not rows:
        return
    if not is_postgresql():
        organization_id = require_organization_id()
        names = [_column(model, name).attname for name in columns]
        model._default_manager.bulk_create(
            [model(organization_id=organization_id, **dict(zip(names, row, strict=True))) for row in rows],
            ignore_conflicts=bool(conflict),
            batch_size=500,
        )
        return
    sql, params = _insert_statement(model, columns, rows)
    with _cursor() as cursor:
        cursor.execute(sql + _skipping_conflicts(model, conflict), params)


def insert_returning(
    model: type[models.Model],
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
    *,
    conflict: Sequence[str],
    returning: Sequence[str],
    likely_new: bool = False,
) -> list[tuple[Any, ...]]:
    """Like ``insert_ignoring_conflicts``; answer the ``returning`` columns of the rows it inserted.

    A row that clashed with a stored one (or with an earlier row of ``rows``) is not in the answer: the
    caller reads those back if it needs them. ``conflict`` must be among ``columns`` (``organization``
    aside), so that the rows inserted can be told apart on SQLite too.

    ``likely_new`` says the caller expects no clash but a rare one (a redelivery, a row another worker
    has just inserted): the rows are then first inserted as they are, in a savepoint, and inserted again
    skipping the clashes only if one of them clashes with ``conflict``'s constraint. ON CONFLICT's
    speculative insertion (each key looked up before its row is written, then the insertion confirmed)
    made a batch of new signals or raw events about a fifth dearer for PostgreSQL. Callers that expect
    clashes (a pull reading again what it read before) leave it off: a failed first try would write
    rows only to undo them, and leave an error in PostgreSQL's log, for every batch.
    """
    if not rows:
        return []
    if not is_postgresql():
        return _insert_returning_with_orm(model, columns, rows, conflict=conflict, returning=returning)
    returned = ", ".join(_quoted(_column(model, name).column) for name in returning)
    sql, params = _insert_statement(model, columns, rows)
    if likely_new:
        constraint = _unique_constraint_name(model, frozenset(conflict))
        try:
            with transaction.atomic(), _cursor() as cursor:
                cursor.execute(f"{sql} RETURNING {returned}", params)
                return list(cursor.fetchall())
        except psycopg.errors.UniqueViolation as exc:
            if exc.diag.constraint_name != constraint:
                raise
    with _cursor() as cursor:
        cursor.execute(f"{sql}{_skipping_conflicts(model, conflict)} RETURNING {returned}", params)
        return list(cursor.fetchall())


@functools.cache
def _unique_constraint_name(model: type[models.Model], fields: frozenset[str]) -> str:
    """The name of ``model``'s unconditional unique constraint on ``fields``, whatever their order."""
    for constraint in model._meta.constraints:
        if (
            isinstance(constraint, models.UniqueConstraint)
            and constraint.condition is None
            and frozenset(constraint.fields) == fields
        ):
            return constraint.name
    raise LookupError(f"{model.__name__} has no unique constraint on {', '.join(sorted(fields))}")


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


def _select_statement(
    model: type[models.Model],
    columns: Sequence[str],
    *,
    key: str,
    keys: Sequence[Any],
    where: Mapping[str, Any],
    lock: bool,
) -> tuple[str, list[Any]]:
    """The SELECT of ``select_by_keys`` on PostgreSQL, and its parameters."""
    organization_id = require_organization_id()
    fields = [_column(model, name) for name in columns]
    # JSON as text, decoded below by orjson; everything else comes back in the binary format, which
    # psycopg reads in C (Django's loader for timestamps in text is Python, and was most of the reading).
    column_sql = ", ".join(
        f"{_quoted(field.column)}::text" if isinstance(field, models.JSONField) else _quoted(field.column)
        for field in fields
    )
    table = _quoted(model._meta.db_table)
    key_field = _column(model, key)
    conditions = [f"{_quoted(key_field.column)} = k.v"]
    where_values: list[Any] = []
    for name, value in where.items():
        conditions.append(f"{_quoted(_column(model, name).column)} = %s")
        where_values.append(value)

    # Each key is looked up on its own, by equality on every column of the index it belongs to, rather than
    # with ``key = ANY(keys)``. While a table's statistics lag behind its rows (a table filling up, an
    # organisation taking in a backfill), PostgreSQL priced the array as one index descent per key and
    # chose instead to read every row of the organisation (and provider) and filter them against the keys:
    # a batch then read all the work items of its provider, more with every batch. ``OFFSET 0`` keeps the
    # lookup from being merged into a join, which the same statistics turned into a hash of those rows.
    def found(selected: str) -> str:
        return (
            f"FROM unnest(%b::{_array_type(key_field)}[]) AS k(v) CROSS JOIN LATERAL"  # noqa: S608 - names from models
            f" (SELECT {selected} FROM {table}"
            f" WHERE organization_id = %s AND {' AND '.join(conditions)} OFFSET 0) AS found"
        )

    distinct_keys = list(dict.fromkeys(keys))
    if lock:
        # Locked in id order, so that concurrent callers queue up instead of deadlocking: the rows are found
        # first, then read and locked through their ids (the organisation checked on each row, see
        # ``_ORGANIZATION_CHECKED_PER_ROW``).
        sql = (
            f"SELECT {column_sql} FROM {table} AS target"  # noqa: S608 - names from models
            f" WHERE target.id = ANY(ARRAY(SELECT found.id {found('id')}))"
            f" AND {_ORGANIZATION_CHECKED_PER_ROW} ORDER BY target.id FOR UPDATE"
        )
        params = [distinct_keys, organization_id, *where_values, organization_id]
    else:
        sql = f"SELECT found.* {found(column_sql)}"
        params = [distinct_keys, organization_id, *where_values]
    return sql, params


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
    require_organization_id()
    where = dict(where or {})
    if not is_postgresql():
        queryset = model._default_manager.filter(**{f"{key}__in": list(keys)}, **where)
        if lock:
            queryset = queryset.select_for_update().order_by("pk")
        return list(queryset.values_list(*columns))
    fields = [_column(model, name) for name in columns]
    sql, params = _select_statement(model, columns, key=key, keys=keys, where=where, lock=lock)
    with _cursor() as cursor:
        cursor.execute(sql, params, binary=True)
        rows = cursor.fetchall()
    json_positions = [index for index, field in enumerate(fields) if isinstance(field, models.JSONField)]
    if not json_positions:
        return list(rows)
    decoded = []
    for row in rows:
        values = list(row)
        for index in json_positions:
            if values[index] is not None:
                values[index] = json_value(values[index])
        decoded.append(tuple(values))
    return decoded


def hold(model: type[models.Model], ids: Sequence[int]) -> set[int]:
    """Take a key-share lock on the rows of ``ids`` until the transaction ends; answer the ids still there.

    The lock a foreign key's check takes on the row it finds: the row cannot be deleted (or its id changed)
    meanwhile, while other transactions may still read, lock and update it the same way.
    """
    if not ids:
        return set()
    if not is_postgresql():
        # One transaction writes at a time: what is there now stays until this one ends.
        return set(model._base_manager.filter(pk__in=list(ids)).values_list("pk", flat=True))
    sql = (
        f"SELECT id FROM {_quoted(model._meta.db_table)}"  # noqa: S608 - names from models
        " WHERE id = ANY(%b) ORDER BY id FOR KEY SHARE"
    )
    with _cursor() as cursor:
        cursor.execute(sql, [sorted(ids)])
        return {row[0] for row in cursor.fetchall()}


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
