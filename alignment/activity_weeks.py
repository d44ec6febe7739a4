"""Each ended week of an organisation's signals, summed as the drift engine reads them and kept between
recomputes.

Summing the signals is most of what reading a cycle costs (a million signals take seconds), and a few new
signals would otherwise have every recompute sum them all again. So each week's sums are kept
(``alignment.models.ActivityWeek``) and a recompute sums again only the weeks that changed:

- every write to signals or their key-result links records the days it changed
  (``signals_ingest.activity_changes``), in its own transaction;
- a reader, holding the organisation's summing lock, first drops the kept weeks holding a recorded day
  (and the records), then sums the weeks it lacks and keeps them, all in one transaction. A write that
  commits meanwhile leaves its record for the next reader, which drops what this one kept;
- a signal counts as linked work if a key result created before the moment read counts it. Kept sums are
  used for another moment only if no key result was created in between;
- ``resum=True`` (the nightly full recompute) sums every week again, so that nothing could stay wrong for
  longer than a day.

Week ``n`` of a cycle is the seven UTC days from ``start + 7(n-1)`` days; a week is kept by its first day,
so cycles that share weeks share their sums.
"""

from __future__ import annotations

import bisect
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import numpy as np
from django.core.exceptions import EmptyResultSet
from django.db import connection, transaction
from django.db.models import (
    Count,
    DateField,
    Exists,
    F,
    Func,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Sum,
    Value,
)
from django.db.models.fields.json import KT

from alignment.models import ActivityWeek
from alignment.themes import ThemeKey, theme_of
from goals.models import Cycle, KeyResult
from okrsignal.tenancy import require_organization_id
from signals_ingest.models import ChangedActivityDay, ExecutionSignal, SignalKeyResult

# PostgreSQL advisory lock space of the summing lock (the organisation is the second key).
SUMMING_LOCK = 0x0A57  # "activity sums"


# The sums are kept as the bytes of these arrays (little-endian, whatever the machine): a large week has
# tens of thousands of rows, which decoding as JSON took a good part of a recompute's time to read back.
KEY_RESULT_SUMS = np.dtype([("key_result", "<i8"), ("person", "<i8"), ("weight", "<f8"), ("signals", "<i8")])
ACTOR_SUMS = np.dtype([("actor", "<i8"), ("weight", "<f8"), ("signals", "<i8")])
UNLINKED_SUMS = np.dtype([("actor", "<i8"), ("theme", "<i8"), ("weight", "<f8"), ("signals", "<i8")])


@dataclass
class WeekSums:
    """One week's signals, summed (weights added, signals counted), as arrays sorted by their first fields:

    - ``key_results`` (``KEY_RESULT_SUMS``): per key result and person, for links whose actor is a person;
    - ``actors`` (``ACTOR_SUMS``): per identity, every signal with an actor counted once;
    - ``unlinked`` (``UNLINKED_SUMS``): per identity and theme (its index in ``themes``), the signals no
      key result existing at the moment summed for counts;
    - ``themes``: ``(theme id, source, kind, key)``.
    """

    key_results: np.ndarray = field(default_factory=lambda: np.zeros(0, KEY_RESULT_SUMS))
    actors: np.ndarray = field(default_factory=lambda: np.zeros(0, ACTOR_SUMS))
    unlinked: np.ndarray = field(default_factory=lambda: np.zeros(0, UNLINKED_SUMS))
    themes: list[tuple[str, str, str, str]] = field(default_factory=list)

    def kept(self, starts_on: date, as_of: datetime) -> ActivityWeek:
        return ActivityWeek(
            organization_id=require_organization_id(),
            starts_on=starts_on,
            summed_as_of=as_of,
            key_results=self.key_results.tobytes(),
            actors=self.actors.tobytes(),
            unlinked=self.unlinked.tobytes(),
            themes=[list(theme) for theme in self.themes],
        )

    @classmethod
    def of(cls, row: ActivityWeek) -> WeekSums:
        return cls(
            key_results=np.frombuffer(row.key_results, dtype=KEY_RESULT_SUMS),
            actors=np.frombuffer(row.actors, dtype=ACTOR_SUMS),
            unlinked=np.frombuffer(row.unlinked, dtype=UNLINKED_SUMS),
            themes=[(theme_id, source, kind, key) for theme_id, source, kind, key in row.themes],
        )


def weeks_summed(
    cycle: Cycle,
    weeks: int,
    *,
    as_of: datetime,
    resum: bool = False,
    on_kept: Callable[[dict[int, WeekSums]], None] | None = None,
) -> dict[int, WeekSums]:
    """Weeks 1 to ``weeks`` of ``cycle`` (in context), summed as of ``as_of``: by week number.

    ``on_kept`` is handed the weeks read back as kept before the others are summed, so that a caller on
    another thread can start on them meanwhile."""
    starts = {week: cycle.start + timedelta(days=7 * (week - 1)) for week in range(1, weeks + 1)}
    if not starts:
        if on_kept is not None:
            on_kept({})
        return {}
    with transaction.atomic():
        _lock_summing()
        _drop_changed_weeks()
        kept = (
            {}
            if resum
            else {
                row.starts_on: row for row in ActivityWeek.objects.filter(starts_on__in=list(starts.values()))
            }
        )
        created = sorted(KeyResult.objects.order_by().values_list("created_at", flat=True)) if kept else []
        summed: dict[int, WeekSums] = {}
        missing = []
        for week, starts_on in starts.items():
            row = kept.get(starts_on)
            if row is not None and not _created_between(created, row.summed_as_of, as_of):
                summed[week] = WeekSums.of(row)
            else:
                missing.append(week)
        if on_kept is not None:
            on_kept(dict(summed))
        if missing:
            fresh = _sum_weeks(cycle, min(missing), max(missing), as_of=as_of)
            for week in missing:
                summed[week] = fresh[week]
            _keep({starts[week]: summed[week] for week in missing}, as_of)
        return summed


def _lock_summing() -> None:
    """One reader of an organisation's kept weeks at a time (until its transaction ends): two would each
    drop records the other then keeps stale sums for. SQLite has one writer at a time anyway.

    The transaction also runs without PostgreSQL's JIT compilation: the planner's estimate for a week's
    sums is high enough to set it off, and compiling took longer than the query then ran."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [SUMMING_LOCK, require_organization_id()])
            cursor.execute("SET LOCAL jit = off")


def _drop_changed_weeks() -> None:
    """Take the recorded days and drop every kept week holding one. Only the records read are deleted: one
    committed since was not summed away, and stays for the next reader."""
    records = list(ChangedActivityDay.objects.values_list("id", "day"))
    if not records:
        return
    days = {day for _pk, day in records}
    stale = [
        pk
        for pk, starts_on in ActivityWeek.objects.values_list("id", "starts_on")
        if any(starts_on + timedelta(days=offset) in days for offset in range(7))
    ]
    ActivityWeek.objects.filter(pk__in=stale).delete()
    ChangedActivityDay.objects.filter(pk__in=[pk for pk, _day in records]).delete()


def _created_between(created: Sequence[datetime], one: datetime, other: datetime) -> bool:
    """Whether any of ``created`` (sorted) falls in ``[earlier, later)`` of the two moments."""
    earlier, later = min(one, other), max(one, other)
    index = bisect.bisect_left(created, earlier)
    return index < len(created) and created[index] < later


def _keep(sums: dict[date, WeekSums], as_of: datetime) -> None:
    ActivityWeek.objects.bulk_create(
        [week.kept(starts_on, as_of) for starts_on, week in sorted(sums.items())],
        update_conflicts=True,
        unique_fields=["organization", "starts_on"],
        update_fields=["summed_as_of", "key_results", "actors", "unlinked", "themes"],
    )


# --- Summing -----------------------------------------------------------------------------------------


def _sum_weeks(cycle: Cycle, first: int, last: int, *, as_of: datetime) -> dict[int, WeekSums]:
    """Weeks ``first`` to ``last`` of ``cycle`` summed from the signals: three aggregate queries, each
    summing in the database by week (a signal's week is computed there, from its UTC day)."""
    starts_at = datetime.combine(cycle.start, datetime.min.time(), tzinfo=UTC) + timedelta(
        days=7 * (first - 1)
    )
    window = Q(occurred_at__gte=starts_at, occurred_at__lt=starts_at + timedelta(days=7 * (last - first + 1)))
    week = _CycleWeek("occurred_at", start=cycle.start)
    key_results: dict[int, list[tuple[int, int, float, int]]] = defaultdict(list)

    # Links are summed by the person the link names; signals by their actor (an identity), whose person
    # the reader looks up: a join per signal cost more than the sums themselves.
    for key_result_id, person_id, week_number, weight, count in _fetch(
        SignalKeyResult.objects.filter(window, actor_membership__isnull=False)
        .annotate(week=week)
        .values("key_result_id", "actor_membership_id", "week")
        .annotate(weight=Sum("weight"), count=Count("*"))
        .values_list("key_result_id", "actor_membership_id", "week", "weight", "count")
        .order_by()
    ):
        key_results[week_number].append((key_result_id, person_id, weight, count))

    totals: dict[int, dict[int, list[float]]] = defaultdict(lambda: defaultdict(lambda: [0.0, 0]))
    for actor_id, week_number, weight, count in _fetch(
        ExecutionSignal.objects.filter(window, actor__isnull=False)
        .annotate(week=week)
        .values("actor_id", "week")
        .annotate(weight=Sum("weight"), count=Count("*"))
        .values_list("actor_id", "week", "weight", "count")
        .order_by()
    ):
        totals[week_number][actor_id] = [weight, count]

    # Linked means counted toward a key result that existed at the moment: work that a goal added later
    # took over was still unlinked work before it. (The goals added later are named by id, not joined: right
    # after a bulk load the planner's statistics are stale and a join here made it scan every link once per
    # signal. The links carry their signal's moment: the window on them too keeps the database from reading
    # every link of the organisation to find the few of these weeks.)
    later = list(KeyResult.objects.filter(created_at__gte=as_of).order_by().values_list("id", flat=True))
    counted = SignalKeyResult.objects.filter(window, signal_id=OuterRef("pk")).exclude(
        key_result_id__in=later
    )
    unlinked: dict[int, dict[tuple[int, str], list[float]]] = defaultdict(
        lambda: defaultdict(lambda: [0.0, 0])
    )
    themes: dict[int, dict[str, ThemeKey]] = defaultdict(dict)
    for actor_id, week_number, provider, epic, project, channel, pipeline, weight, count in _fetch(
        ExecutionSignal.objects.filter(window, actor__isnull=False)
        .exclude(Exists(counted))
        .annotate(
            week=week,
            epic=KT("match_context__0__epic__0"),
            project=KT("match_context__0__project__0"),
            channel=KT("match_context__0__channel__0"),
            pipeline=KT("match_context__0__pipeline__0"),
        )
        .values("actor_id", "week", "provider", "epic", "project", "channel", "pipeline")
        .annotate(weight=Sum("weight"), count=Count("*"))
        .values_list(
            "actor_id", "week", "provider", "epic", "project", "channel", "pipeline", "weight", "count"
        )
        .order_by()
    ):
        theme_id, theme = theme_of(provider, epic=epic, project=project, channel=channel, pipeline=pipeline)
        themes[week_number][theme_id] = theme
        # Several contexts can name one theme (an issue's project when it has no epic): added up here.
        total = unlinked[week_number][(actor_id, theme_id)]
        total[0] += weight
        total[1] += count

    summed = {}
    for week_number in range(first, last + 1):
        theme_ids = sorted(themes[week_number])
        position = {theme_id: index for index, theme_id in enumerate(theme_ids)}
        summed[week_number] = WeekSums(
            key_results=_array(key_results[week_number], KEY_RESULT_SUMS),
            actors=_array(
                [(actor_id, weight, count) for actor_id, (weight, count) in totals[week_number].items()],
                ACTOR_SUMS,
            ),
            unlinked=_array(
                [
                    (actor_id, position[theme_id], weight, count)
                    for (actor_id, theme_id), (weight, count) in unlinked[week_number].items()
                ],
                UNLINKED_SUMS,
            ),
            themes=[(theme_id, *themes[week_number][theme_id]) for theme_id in theme_ids],
        )
    return summed


def _array(rows: list[tuple[Any, ...]], dtype: np.dtype[Any]) -> np.ndarray:
    """The rows as an array of ``dtype``, sorted by its fields in order."""
    array = np.array(rows, dtype=dtype)
    array.sort(order=list(dtype.names or ()))
    return array


def _fetch(query: QuerySet[Any, Any]) -> Iterable[tuple[Any, ...]]:
    """The rows of a ``values_list`` query of ids, numbers and text, as the driver gives them: for the
    hundreds of thousands of sums of a large cycle, Django's conversion of every value cost more time than
    the database took to add them up."""
    try:
        sql, params = query.query.sql_with_params()
    except EmptyResultSet:  # a filter on an empty list: the ORM would answer no rows without asking
        return []
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


class _CycleWeek(Func):
    """The cycle week a moment falls in, computed by the database: week 1 starts at 00:00 UTC on the
    cycle's first day, and a moment counts on its UTC day."""

    output_field = IntegerField()

    def __init__(self, moment: str, *, start: date) -> None:
        super().__init__(F(moment), Value(start, output_field=DateField()))

    def as_sql(  # type: ignore[override]
        self, compiler: Any, connection: Any, **extra_context: Any
    ) -> tuple[str, list[Any]]:
        moment_sql, moment_params = compiler.compile(self.source_expressions[0])
        start_sql, start_params = compiler.compile(self.source_expressions[1])
        if connection.vendor == "postgresql":
            sql = f"((({moment_sql}) AT TIME ZONE 'UTC')::date - ({start_sql})::date) / 7 + 1"
        else:
            # SQLite keeps moments as UTC text: date() is the UTC day.
            sql = f"CAST((julianday(date({moment_sql})) - julianday({start_sql})) / 7 AS INTEGER) + 1"
        return sql, [*moment_params, *start_params]
