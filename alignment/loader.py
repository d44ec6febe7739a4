"""One organisation's cycle as the drift engine reads it (``alignment.engine.DriftInput``), as of a moment.

Everything comes from what is stored before ``as_of`` and nothing at or after it, so a cycle read as of
a past moment is what the engine would have seen then:

- activity: the weeks fully ended at the moment, each summed from the signals once and kept until its
  signals change (``alignment.activity_weeks``): per key result, person and week; per person and week,
  every signal once whether linked or not; per person, week and theme for the signals linked to no key
  result;
- goals: each objective and key result as its first history row shows it, then every later history row
  that changed a field the engine reads, as a dated change (``ref`` is the history row); alignment
  reviews are the history rows the goal services write when an owner re-confirms; key result values are
  the history rows that recorded progress (check-in values go through the same service, so they are
  there too, with their author);
- check-in statuses: the history of each submitted check-in's key result updates;
- KPIs: thresholds and tags as of the moment, readings before it;
- dependencies: blocked intervals rebuilt from Jira link signals (and the stored ``blocked_by`` for links
  no changelog showed), ended by the link's removal or the blocker's move to a done status.

Weeks: week ``n`` covers ``[start + 7(n-1) days, start + 7n days)`` from 00:00 UTC on the cycle's start,
so a signal's week is ``floor((occurred_at - start) / 7 days) + 1``. Days are taken in UTC, which keeps
whole days inside one week.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, NamedTuple

import numpy as np
from django.core.cache import cache
from django.db import connection
from django.db.models import Count, Max

from alignment import activity_weeks
from alignment.cycles import cycle_of
from alignment.engine import (
    AlignmentReview,
    CheckInStatus,
    DependencyLink,
    DriftInput,
    GoalChange,
    KeyResultField,
    KeyResultInput,
    KeyResultWeeks,
    KPIInput,
    KPIReading,
    ObjectiveField,
    ObjectiveInput,
    Person,
    PersonWeek,
    Team,
    Theme,
    ThemeWeek,
    ValueUpdate,
)
from alignment.engine.inputs import GoalValue
from alignment.themes import ThemeNamer
from goals.models import (
    KPI,
    CheckInKeyResultUpdate,
    Cycle,
    KeyResult,
    KeyResultContributor,
    KPIObjectiveTag,
    Objective,
)
from goals.models import KPIReading as KPIReadingRow
from goals.services import ALIGNMENT_CONFIRMED_REASON
from okrsignal.models import Membership, Organization
from okrsignal.models import Team as TeamRow
from okrsignal.tenancy import tenant_cache_key, tenant_context
from signals_ingest.models import (
    ExecutionSignal,
    ExternalIdentity,
    Provider,
    SignalKeyResult,
    SignalKind,
    WorkItem,
)

# Objective and key result fields the engine reads, by the history column that holds them.
OBJECTIVE_FIELDS = {
    "title": ObjectiveField.TITLE,
    "description": ObjectiveField.DESCRIPTION,
    "parent_id": ObjectiveField.PARENT,
    "owner_id": ObjectiveField.OWNER,
    "team_id": ObjectiveField.TEAM,
    "state": ObjectiveField.STATE,
    "type": ObjectiveField.TYPE,
}
KEY_RESULT_FIELDS = {
    "title": KeyResultField.TITLE,
    "target": KeyResultField.TARGET,
    "baseline": KeyResultField.BASELINE,
    "owner_id": KeyResultField.OWNER,
    "parent_key_result_id": KeyResultField.PARENT_KEY_RESULT,
}
# Every column a goal edit (not a progress record) can change: a history row that changed none of these
# but carries a value recorded the key result's progress.
KEY_RESULT_DEFINITION = (
    "title",
    "unit",
    "baseline",
    "target",
    "direction",
    "owner_id",
    "parent_key_result_id",
    "weight",
    "objective_id",
)
# Jira status names that close an issue whatever a site calls its statuses, besides the ones stored work
# items show in the "done" category.
DONE_STATUS_NAMES = {"done", "closed", "resolved"}


def drift_input(
    organization: Organization, cycle: Cycle, *, as_of: datetime, resum_activity: bool = False
) -> DriftInput:
    """What the engine reads about ``cycle`` of ``organization``, from what was stored before ``as_of``.

    Activity comes from the weekly sums kept since the last read where nothing changed them;
    ``resum_activity`` sums every week from the signals again (see ``alignment.activity_weeks``)."""
    if as_of.tzinfo is None:
        raise ValueError("as_of must be timezone-aware.")
    with tenant_context(organization):
        if cycle.organization_id != organization.pk:
            raise ValueError("The cycle belongs to another organisation.")
        return _Reader(cycle, as_of, resum_activity=resum_activity).read()


# How long the goals' history as read is kept for the next read (it is dropped sooner as soon as it changes).
GOALS_KEPT_SECONDS = 6 * 60 * 60


class _Goals(NamedTuple):
    objectives: tuple[ObjectiveInput, ...]
    key_results: tuple[KeyResultInput, ...]
    checkins: tuple[CheckInStatus, ...]


@dataclass(frozen=True)
class _KeptGoals:
    fingerprint: tuple[Any, ...]
    as_of: datetime
    goals: _Goals


def _history_fingerprint() -> tuple[Any, ...]:
    """What changes whenever anything ``_Reader.goals`` reads from does (in context): each history table's
    row count and last id, the people (whose users history rows name), and the latest moment of any history
    row or goal's creation. History rows are only ever added; goals are changed only through the services
    that add them."""
    parts: list[Any] = []
    latest: list[datetime] = []
    for history in (
        Objective.history,
        KeyResult.history,
        KeyResultContributor.history,
        CheckInKeyResultUpdate.history,
    ):
        figures = history.order_by().aggregate(
            rows=Count("history_id"), last=Max("history_id"), at=Max("history_date")
        )
        parts += [figures["rows"], figures["last"]]
        if figures["at"] is not None:
            latest.append(figures["at"])
    for goals in (Objective.objects, KeyResult.objects):
        created = goals.order_by().aggregate(at=Max("created_at"))["at"]
        if created is not None:
            latest.append(created)
    people = Membership.objects.order_by().aggregate(rows=Count("id"), last=Max("id"))
    parts += [people["rows"], people["last"], max(latest, default=None)]
    return tuple(parts)


@dataclass(frozen=True)
class _Activity:
    key_result_weeks: KeyResultWeeks
    person_weeks: tuple[PersonWeek, ...]
    theme_weeks: tuple[ThemeWeek, ...]
    themes: tuple[Theme, ...]


class _Reader:
    def __init__(self, cycle: Cycle, as_of: datetime, *, resum_activity: bool) -> None:
        self.cycle = cycle
        self.as_of = as_of
        self.resum_activity = resum_activity
        self.engine_cycle = cycle_of(cycle)
        self.person_of_user: dict[int, int] = {}
        self.team_of_person: dict[int, int | None] = {}

    def read(self) -> DriftInput:
        with _Summing(self.cycle, self.as_of, resum=self.resum_activity) as summing:
            people = self.people()
            teams = tuple(
                Team(id=pk, name=name, parent_id=parent)
                for pk, name, parent in TeamRow.objects.values_list("id", "name", "parent_id").order_by("id")
            )
            objectives, key_results, checkins = self.goals()
            objective_ids = {objective.id for objective in objectives}
            key_result_ids = {key_result.id for key_result in key_results}
            kpis = self.kpis(objective_ids)
            dependencies = self.dependencies(key_result_ids)
            weeks = _WeeksAsRead(key_result_ids)
            weeks.add(summing.kept())  # while the weeks that changed are summed again
            weeks.add(summing.rest())
        activity = weeks.activity()
        return DriftInput(
            cycle=self.engine_cycle,
            people=people,
            teams=teams,
            objectives=objectives,
            key_results=key_results,
            kpis=kpis,
            checkins=checkins,
            dependencies=dependencies,
            themes=activity.themes,
            key_result_weeks=activity.key_result_weeks,
            person_weeks=activity.person_weeks,
            theme_weeks=activity.theme_weeks,
        )

    # -- people -----------------------------------------------------------------------------------

    def people(self) -> tuple[Person, ...]:
        people = []
        for pk, user_id, name, email, team_id, manager_id in Membership.objects.values_list(
            "id", "user_id", "user__full_name", "user__email", "team_id", "manager_id"
        ).order_by("id"):
            self.person_of_user[user_id] = pk
            self.team_of_person[pk] = team_id
            people.append(Person(id=pk, name=name or email, team_id=team_id, manager_id=manager_id))
        return tuple(people)

    def person(self, user_id: int | None) -> int | None:
        return self.person_of_user.get(user_id) if user_id is not None else None

    # -- goals ------------------------------------------------------------------------------------

    def goals(self) -> _Goals:
        """The objectives, key results and check-in statuses: as last read for the cycle while nothing they
        are read from has changed since, else read now (and kept, if nothing was dated at or after the
        moment). A large cycle's history takes most of a second to read, and changes far less often than
        new signals ask for a recompute."""
        fingerprint = _history_fingerprint()
        key = tenant_cache_key("drift-goals", self.cycle.pk)
        kept = cache.get(key)
        if isinstance(kept, _KeptGoals) and kept.fingerprint == fingerprint and kept.as_of <= self.as_of:
            return kept.goals
        objectives = self.objectives()
        key_results = self.key_results({objective.id for objective in objectives})
        goals = _Goals(objectives, key_results, self.checkins({key_result.id for key_result in key_results}))
        latest = fingerprint[-1]
        if latest is None or latest < self.as_of:
            cache.set(key, _KeptGoals(fingerprint, self.as_of, goals), GOALS_KEPT_SECONDS)
        return goals

    def objectives(self) -> tuple[ObjectiveInput, ...]:
        ids = list(
            Objective.objects.filter(cycle=self.cycle, created_at__lt=self.as_of)
            .order_by()
            .values_list("id", flat=True)
        )
        rows = (
            Objective.history.filter(id__in=ids, history_date__lt=self.as_of)
            .exclude(history_type="-")
            .order_by("id", "history_date", "history_id")
            .values(
                "history_id",
                "history_date",
                "history_user_id",
                "history_change_reason",
                "id",
                "level",
                "weight",
                "created_at",
                *OBJECTIVE_FIELDS,
            )
        )
        objectives = []
        for history in _grouped(rows, "id").values():
            first, later = history[0], history[1:]
            changes: list[GoalChange] = []
            reviews: list[AlignmentReview] = []
            previous = first
            for row in later:
                by = self.person(row["history_user_id"])
                for column, name in OBJECTIVE_FIELDS.items():
                    if row[column] != previous[column]:
                        changes.append(
                            GoalChange(row["history_id"], row["history_date"], name, row[column], by)
                        )
                if row["history_change_reason"] == ALIGNMENT_CONFIRMED_REASON:
                    reviews.append(AlignmentReview(row["history_id"], row["history_date"], by))
                previous = row
            objectives.append(
                ObjectiveInput(
                    id=first["id"],
                    title=first["title"],
                    level=first["level"],
                    created_at=min(first["created_at"], first["history_date"]),
                    owner_id=first["owner_id"],
                    team_id=first["team_id"],
                    parent_id=first["parent_id"],
                    description=first["description"],
                    type=first["type"],
                    state=first["state"],
                    weight=history[-1]["weight"],
                    changes=tuple(changes),
                    reviews=tuple(reviews),
                )
            )
        return tuple(objectives)

    def key_results(self, objective_ids: set[int]) -> tuple[KeyResultInput, ...]:
        # Each key result's creation is read here rather than with every history row: a large cycle has
        # tens of thousands of those, and turning each moment into a datetime is not free.
        created = dict(
            KeyResult.objects.filter(objective_id__in=objective_ids, created_at__lt=self.as_of)
            .order_by()
            .values_list("id", "created_at")
        )
        ids = list(created)
        rows = (
            KeyResult.history.filter(id__in=ids, history_date__lt=self.as_of)
            .exclude(history_type="-")
            .order_by("id", "history_date", "history_id")
            .values(
                "history_id",
                "history_date",
                "history_type",
                "history_user_id",
                "id",
                "current_value",
                *KEY_RESULT_DEFINITION,
            )
        )
        contributors = self.contributor_history(ids)
        key_results = []
        for history in _grouped(rows, "id").values():
            first, later = history[0], history[1:]
            if first["objective_id"] not in objective_ids:
                continue
            created_at = min(created[first["id"]], first["history_date"])
            changes: list[GoalChange] = []
            values: list[ValueUpdate] = []
            if first["current_value"] is not None:
                values.append(
                    ValueUpdate(
                        first["history_id"],
                        first["history_date"],
                        first["current_value"],
                        self.person(first["history_user_id"]),
                    )
                )
            previous = first
            for row in later:
                by = self.person(row["history_user_id"])
                for column, name in KEY_RESULT_FIELDS.items():
                    if row[column] != previous[column]:
                        changes.append(
                            GoalChange(row["history_id"], row["history_date"], name, row[column], by)
                        )
                edited = any(row[column] != previous[column] for column in KEY_RESULT_DEFINITION)
                value = row["current_value"]
                if value is not None and (not edited or value != previous["current_value"]):
                    values.append(ValueUpdate(row["history_id"], row["history_date"], value, by))
                previous = row
            initial, contributor_changes = _contributor_sets(contributors.get(first["id"], []), created_at)
            key_results.append(
                KeyResultInput(
                    id=first["id"],
                    objective_id=first["objective_id"],
                    title=first["title"],
                    baseline=first["baseline"],
                    target=first["target"],
                    created_at=created_at,
                    direction=first["direction"],
                    owner_id=first["owner_id"],
                    contributor_ids=initial,
                    parent_key_result_id=first["parent_key_result_id"],
                    weight=history[-1]["weight"],
                    changes=tuple(changes) + tuple(contributor_changes),
                    value_updates=tuple(values),
                )
            )
        return tuple(key_results)

    def contributor_history(self, key_result_ids: list[int]) -> dict[int, list[_ContributorEdit]]:
        edits: dict[int, list[_ContributorEdit]] = defaultdict(list)
        for row in (
            KeyResultContributor.history.filter(key_result_id__in=key_result_ids, history_date__lt=self.as_of)
            .order_by("history_date", "history_id")
            .values(
                "history_id",
                "history_date",
                "history_type",
                "history_user_id",
                "key_result_id",
                "membership_id",
            )
        ):
            edits[row["key_result_id"]].append(
                _ContributorEdit(
                    ref=row["history_id"],
                    at=row["history_date"],
                    added=row["history_type"] != "-",
                    person_id=row["membership_id"],
                    by=self.person(row["history_user_id"]),
                )
            )
        return edits

    # -- check-ins and KPIs -----------------------------------------------------------------------

    def checkins(self, key_result_ids: set[int]) -> tuple[CheckInStatus, ...]:
        """Each status a submitted check-in gave, when it gave it (a check-in submitted again that changes
        a status gives the new one from then on). A check-in's parts are kept in history from its first
        submission: drafts never reach it."""
        history = (
            CheckInKeyResultUpdate.history.filter(
                key_result_id__in=key_result_ids, history_date__lt=self.as_of
            )
            .exclude(history_type="-")
            .exclude(status="")
        )
        latest: dict[tuple[int, datetime], tuple[Any, ...]] = {}
        # Each with its check-in's author, joined: a large cycle has tens of thousands of check-ins, too
        # many to name in a second query. (A check-in deleted since has no author, and is left out.)
        for row in history.order_by("history_date", "history_id").values_list(
            "id", "history_date", "key_result_id", "status", "check_in__membership_id"
        ):
            # Saving the recorded value writes a second history row at the same moment: one statement.
            latest[(row[0], row[1])] = row
        return tuple(
            CheckInStatus(ref=ref, at=at, person_id=author, key_result_id=key_result_id, status=status)
            for ref, at, key_result_id, status, author in latest.values()
            if author is not None
        )

    def kpis(self, objective_ids: set[int]) -> tuple[KPIInput, ...]:
        tags: dict[int, set[int]] = defaultdict(set)
        for kpi_id, objective_id, history_type in (
            KPIObjectiveTag.history.filter(objective_id__in=objective_ids, history_date__lt=self.as_of)
            .order_by("history_date", "history_id")
            .values_list("kpi_id", "objective_id", "history_type")
        ):
            if history_type == "-":
                tags[kpi_id].discard(objective_id)
            else:
                tags[kpi_id].add(objective_id)
        tagged = {kpi_id for kpi_id, objectives in tags.items() if objectives}
        definitions: dict[int, dict[str, Any]] = {}
        for row in (
            KPI.history.filter(id__in=tagged, history_date__lt=self.as_of)
            .exclude(history_type="-")
            .order_by("history_date", "history_id")
            .values("id", "name", "direction", "green", "red")
        ):
            definitions[row["id"]] = row
        readings: dict[int, list[KPIReading]] = defaultdict(list)
        for pk, kpi_id, recorded_at, value in (
            KPIReadingRow.objects.filter(kpi_id__in=tagged, recorded_at__lt=self.as_of)
            .order_by("recorded_at", "id")
            .values_list("id", "kpi_id", "recorded_at", "value")
        ):
            readings[kpi_id].append(KPIReading(ref=pk, at=recorded_at, value=value))
        return tuple(
            KPIInput(
                id=kpi_id,
                name=row["name"],
                direction=row["direction"],
                green=row["green"],
                red=row["red"],
                objective_ids=frozenset(tags[kpi_id]),
                readings=tuple(readings[kpi_id]),
            )
            for kpi_id, row in sorted(definitions.items())
        )

    # -- activity ---------------------------------------------------------------------------------

    def week(self, day: date) -> int:
        return (day - self.cycle.start).days // 7 + 1

    # -- dependencies -----------------------------------------------------------------------------

    def dependencies(self, key_result_ids: set[int]) -> tuple[DependencyLink, ...]:
        intervals = self.blocked_intervals()
        if not intervals:
            return ()
        blocked_ids = {interval.item_id for interval in intervals}
        goals_of_item: dict[int, set[int]] = defaultdict(set)
        for work_item_id, key_result_id in (
            SignalKeyResult.objects.filter(
                signal__work_item_id__in=blocked_ids,
                key_result_id__in=key_result_ids,
                occurred_at__lt=self.as_of,
            )
            .values_list("signal__work_item_id", "key_result_id")
            .distinct()
        ):
            goals_of_item[work_item_id].add(key_result_id)
        if not goals_of_item:
            return ()
        items = {
            pk: (key, title)
            for pk, key, title in WorkItem.objects.filter(id__in=blocked_ids)
            .order_by()
            .values_list("id", "key", "title")
        }
        blockers = _Blockers(
            {interval.blocker_key for interval in intervals},
            as_of=self.as_of,
            team_of_person=self.team_of_person,
        )
        links = []
        for interval in intervals:
            item_key, item_title = items.get(interval.item_id, ("", ""))
            unblocked_at = blockers.unblocked_at(interval.blocker_key, interval.since, interval.removed_at)
            for key_result_id in sorted(goals_of_item.get(interval.item_id, ())):
                links.append(
                    DependencyLink(
                        ref=interval.item_id,
                        key_result_id=key_result_id,
                        item_key=item_key,
                        blocker_key=interval.blocker_key,
                        blocked_since=interval.since,
                        blocker_team_id=blockers.team(interval.blocker_key),
                        unblocked_at=unblocked_at,
                        item_title=item_title,
                        blocker_title=blockers.title(interval.blocker_key),
                    )
                )
        return tuple(links)

    def blocked_intervals(self) -> list[_BlockedInterval]:
        """Each stretch of time a Jira issue was blocked by another, from the link changes Jira reported;
        a blocker the issue's links show with no change reported blocks from the time it was first seen."""
        intervals: list[_BlockedInterval] = []
        open_since: dict[tuple[int, str], datetime] = {}
        seen: set[tuple[int, str]] = set()
        for work_item_id, occurred_at, attributes in (
            ExecutionSignal.objects.filter(
                provider=Provider.JIRA, kind=SignalKind.LINK, occurred_at__lt=self.as_of
            )
            .order_by("occurred_at", "id")
            .values_list("work_item_id", "occurred_at", "attributes")
        ):
            other = str((attributes or {}).get("linked") or "")
            if not other:
                continue
            pair = (work_item_id, other)
            if (attributes or {}).get("blocked_by"):
                seen.add(pair)
                open_since.setdefault(pair, occurred_at)
            elif pair in open_since:
                intervals.append(_BlockedInterval(work_item_id, other, open_since.pop(pair), occurred_at))
        for (work_item_id, other), since in open_since.items():
            intervals.append(_BlockedInterval(work_item_id, other, since, None))
        for work_item_id, blocked_by in WorkItem.objects.filter(
            provider=Provider.JIRA, attributes__has_key="blocked_by"
        ).values_list("id", "attributes__blocked_by"):
            for entry in blocked_by if isinstance(blocked_by, list) else []:
                if not isinstance(entry, Mapping) or not entry.get("key"):
                    continue
                key = str(entry["key"])
                first_seen = _parse_moment(entry.get("since"))
                if (work_item_id, key) in seen or first_seen is None or first_seen >= self.as_of:
                    continue
                intervals.append(_BlockedInterval(work_item_id, key, first_seen, None))
        return intervals


class _WeeksAsRead:
    """The sums of the weeks fully ended at the moment (the engine reads no other) as the engine reads them:
    each identity's given to the person behind it now, the key results' to those of the cycle. Weeks are
    added as they come (the kept ones first), in any order."""

    def __init__(self, key_result_ids: set[int]) -> None:
        self.wanted = np.fromiter(key_result_ids, dtype=np.int64, count=len(key_result_ids))
        self.person_of_identity = dict(
            ExternalIdentity.objects.filter(membership__isnull=False)
            .order_by()
            .values_list("id", "membership_id")
        )
        self.themes = ThemeNamer()
        self.key_result_rows: dict[int, np.ndarray] = {}
        self.person_weeks: dict[int, list[PersonWeek]] = {}
        self.theme_weeks: dict[int, list[ThemeWeek]] = {}

    def add(self, summed: Mapping[int, activity_weeks.WeekSums]) -> None:
        for week, sums in summed.items():
            self.key_result_rows[week] = sums.key_results[
                np.isin(sums.key_results["key_result"], self.wanted)
            ]
            people = [self.person_of_identity.get(actor) for actor in sums.actors["actor"].tolist()]
            self.person_weeks[week] = [
                PersonWeek(person_id, week, round(weight, 6), count)
                for person_id, weight, count in _added_up(
                    people, sums.actors["weight"].tolist(), sums.actors["signals"].tolist()
                )
            ]
            people = [self.person_of_identity.get(actor) for actor in sums.unlinked["actor"].tolist()]
            person_themes = [
                None if person_id is None else (person_id, sums.themes[theme][0])
                for person_id, theme in zip(people, sums.unlinked["theme"].tolist(), strict=True)
            ]
            self.theme_weeks[week] = [
                ThemeWeek(person_id, week, theme_id, round(weight, 6), count)
                for (person_id, theme_id), weight, count in _added_up(
                    person_themes, sums.unlinked["weight"].tolist(), sums.unlinked["signals"].tolist()
                )
            ]
            for theme_id, *theme in sums.themes:
                self.themes.add(theme_id, theme)

    def activity(self) -> _Activity:
        weeks = sorted(self.key_result_rows)
        key_results = np.concatenate(
            [np.zeros(0, dtype=activity_weeks.KEY_RESULT_SUMS)]
            + [self.key_result_rows[week] for week in weeks]
        )
        week_numbers = np.concatenate(
            [np.zeros(0, dtype=np.int64)]
            + [np.full(len(self.key_result_rows[week]), week, dtype=np.int64) for week in weeks]
        )
        return _Activity(
            key_result_weeks=KeyResultWeeks(
                key_result_id=key_results["key_result"],
                person_id=key_results["person"],
                week=week_numbers,
                weight=np.round(key_results["weight"], 6),
                signals=key_results["signals"],
            ),
            person_weeks=tuple(row for week in weeks for row in self.person_weeks[week]),
            theme_weeks=tuple(row for week in weeks for row in self.theme_weeks[week]),
            themes=self.themes.themes(),
        )


def _added_up(
    keys: Sequence[Any], weights: Sequence[float], counts: Sequence[int]
) -> list[tuple[Any, float, int]]:
    """Weights and counts added up by key (a key of None is nobody's and left out), sorted by key: several
    identities of one person, or several contexts of one theme, become one row."""
    totals: dict[Any, list[float]] = defaultdict(lambda: [0.0, 0])
    for key, weight, count in zip(keys, weights, counts, strict=True):
        if key is not None:
            total = totals[key]
            total[0] += weight
            total[1] += count
    return [(key, weight, int(count)) for key, (weight, count) in sorted(totals.items())]


class _Summing:
    """The weeks fully ended at the moment, summed (``alignment.activity_weeks``) while the goals are read.

    Summing waits mostly on the database and reading the goals mostly on Python, so on PostgreSQL they
    overlap: the sums come from a thread of their own, on a connection of its own, in the organisation's
    context, the weeks kept first (``kept``) and then those summed again (``rest``). That connection sees
    what this one does unless this one's transaction has written something not committed yet (a caller's,
    or a test's): then the sums are taken here, when first asked for.
    """

    def __init__(self, cycle: Cycle, as_of: datetime, *, resum: bool) -> None:
        self.cycle = cycle
        self.weeks = cycle_of(cycle).complete_weeks(as_of)
        self.as_of = as_of
        self.resum = resum
        self._pool: ThreadPoolExecutor | None = None
        self._kept: Future[dict[int, activity_weeks.WeekSums]] = Future()
        self._all: Future[dict[int, activity_weeks.WeekSums]] | None = None

    def __enter__(self) -> _Summing:
        if connection.vendor == "postgresql" and not _transaction_has_written():
            self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="activity-sums")
            self._all = self._pool.submit(self._sum_on_own_connection)
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True)

    def kept(self) -> dict[int, activity_weeks.WeekSums]:
        if self._all is None:
            self._all = Future()
            self._all.set_result(self._sum())
        if not self._kept.done():
            self._all.result()  # the summing failed before reaching them: raise why
        return self._kept.result()

    def rest(self) -> dict[int, activity_weeks.WeekSums]:
        kept = self.kept()
        summed = self._all.result() if self._all is not None else {}
        return {week: sums for week, sums in summed.items() if week not in kept}

    def _sum(self) -> dict[int, activity_weeks.WeekSums]:
        return activity_weeks.weeks_summed(
            self.cycle, self.weeks, as_of=self.as_of, resum=self.resum, on_kept=self._kept.set_result
        )

    def _sum_on_own_connection(self) -> dict[int, activity_weeks.WeekSums]:
        try:
            with tenant_context(self.cycle.organization_id):
                return self._sum()
        finally:
            connection.close()  # this thread's own: nobody else will use it


def _transaction_has_written() -> bool:
    """Whether this connection's transaction has written anything (PostgreSQL gives a transaction its id
    at its first write)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_current_xact_id_if_assigned() IS NOT NULL")
        row = cursor.fetchone()
    return bool(row and row[0])


@dataclass(frozen=True)
class _ContributorEdit:
    ref: int
    at: datetime
    added: bool
    person_id: int
    by: int | None


@dataclass(frozen=True)
class _BlockedInterval:
    item_id: int
    blocker_key: str
    since: datetime
    removed_at: datetime | None


def _grouped(rows: Iterable[dict[str, Any]], key: str) -> dict[Any, list[dict[str, Any]]]:
    groups: dict[Any, list[dict[str, Any]]] = {}
    for row in rows:
        groups.setdefault(row[key], []).append(row)
    return groups


def _contributor_sets(
    edits: list[_ContributorEdit], created_at: datetime
) -> tuple[frozenset[int], list[GoalChange]]:
    """The contributors a key result was created with, and each later change as the whole new set (the
    edits made at one moment are one change)."""
    current: set[int] = set()
    changes: list[GoalChange] = []
    by_moment: dict[datetime, list[_ContributorEdit]] = {}
    for edit in edits:
        by_moment.setdefault(edit.at, []).append(edit)
    initial: frozenset[int] = frozenset()
    for moment in sorted(by_moment):
        group = by_moment[moment]
        for edit in group:
            if edit.added:
                current.add(edit.person_id)
            else:
                current.discard(edit.person_id)
        if moment <= created_at:
            initial = frozenset(current)
        else:
            value: GoalValue = frozenset(current)
            changes.append(
                GoalChange(group[-1].ref, moment, KeyResultField.CONTRIBUTORS, value, group[-1].by)
            )
    return initial, changes


def _parse_moment(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class _Blockers:
    """What the engine needs of the issues that block others, as of the moment: whose team owns each
    (its assignee's then), and when it reached a done status."""

    def __init__(self, keys: set[str], *, as_of: datetime, team_of_person: Mapping[int, int | None]) -> None:
        rows = list(
            WorkItem.objects.filter(provider=Provider.JIRA, key__in=keys)
            .order_by()
            .values_list("id", "key", "title", "assignee__external_id")
        )
        self._titles = {key: title for _pk, key, title, _assignee in rows}
        ids = {pk: key for pk, key, _title, _assignee in rows}
        current_assignee = {key: assignee for _pk, key, _title, assignee in rows}
        done_names = {name.casefold() for name in DONE_STATUS_NAMES}
        done_names |= {
            str(name).casefold()
            for name in WorkItem.objects.filter(provider=Provider.JIRA, attributes__status_category="done")
            .order_by()
            .values_list("status", flat=True)
            .distinct()
            if name
        }
        self._transitions: dict[str, list[tuple[datetime, bool]]] = defaultdict(list)
        assignments: dict[str, list[tuple[datetime, Any, Any]]] = defaultdict(list)
        for work_item_id, kind, occurred_at, attributes in (
            ExecutionSignal.objects.filter(
                work_item_id__in=ids, kind__in=[SignalKind.TRANSITION, SignalKind.ASSIGNMENT]
            )
            .order_by("occurred_at", "id")
            .values_list("work_item_id", "kind", "occurred_at", "attributes")
        ):
            attributes = attributes or {}
            if kind == SignalKind.TRANSITION:
                if occurred_at < as_of:
                    done = str(attributes.get("to") or "").casefold() in done_names
                    self._transitions[ids[work_item_id]].append((occurred_at, done))
            else:
                assignments[ids[work_item_id]].append(
                    (occurred_at, attributes.get("from"), attributes.get("to"))
                )
        membership_of_account = dict(
            ExternalIdentity.objects.filter(provider=Provider.JIRA, membership__isnull=False)
            .order_by()
            .values_list("external_id", "membership_id")
        )
        self._teams: dict[str, int | None] = {}
        for key in keys:
            account = _assignee_as_of(assignments.get(key, []), current_assignee.get(key), as_of)
            person = membership_of_account.get(str(account)) if account else None
            self._teams[key] = team_of_person.get(person) if person is not None else None

    def title(self, key: str) -> str:
        return self._titles.get(key, "")

    def team(self, key: str) -> int | None:
        return self._teams.get(key)

    def unblocked_at(self, key: str, since: datetime, removed_at: datetime | None) -> datetime | None:
        """When the block ended: the link's removal or the blocker's move to done, whichever came first
        (a blocker already done when the link was made never blocked)."""
        ends = [removed_at] if removed_at is not None else []
        done_before = False
        for moment, done in self._transitions.get(key, []):
            if moment < since:
                done_before = done
            elif done:
                ends.append(moment)
                break
        if done_before:
            return since
        return min(ends) if ends else None


def _assignee_as_of(
    assignments: list[tuple[datetime, Any, Any]], current: str | None, as_of: datetime
) -> Any:
    """Who was assigned at ``as_of``: the last assignment before it, else who the first later one
    replaced, else whoever is assigned now."""
    before = [to for moment, _from, to in assignments if moment < as_of]
    if before:
        return before[-1]
    after = [from_ for moment, from_, _to in assignments if moment >= as_of]
    if after:
        return after[0]
    return current
