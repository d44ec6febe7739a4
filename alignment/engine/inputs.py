"""What the drift engine reads: plain, frozen records that a loader fills with a few aggregate queries.

Everything is given as it happened, with its time, and the engine decides what it may see: records
dated at or after the evaluation moment (``as_of``) are ignored, so a loader may hand over a whole
quarter and ask about any week of it. Identifiers are the database primary keys; ``ref`` fields are the
ids of the rows behind a record (history entries, check-ins, readings, links) and come back in the
evidence of findings so that every finding can be clicked through.

Weeks follow the scenario format: week ``n`` of a cycle covers
``[start + 7(n-1) days, start + 7n days)`` from 00:00 UTC on ``start``; week 1 starts on ``start``.
Activity comes as weekly sums (``KeyResultWeek``, ``PersonWeek``, ``ThemeWeek``): one ``GROUP BY`` each
over the signals. ``PersonWeek`` must hold *all* of a person's signals (linked or not, each once), or
shares of effort are wrong; ``ThemeWeek`` only the unlinked ones. Goals come as they were created plus
their dated edits, so the engine can rebuild them at any moment; a key result's values include those
given in check-ins.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:  # arrays are only made and read by the loader and the evaluation
    import numpy as np
    import numpy.typing as npt

WEEK = timedelta(days=7)


class GoalState(StrEnum):
    DRAFT = "draft"
    ACTIVE = "active"
    PAUSED = "paused"
    CANCELLED = "cancelled"
    DONE = "done"


class Level(StrEnum):
    COMPANY = "company"
    TEAM = "team"
    INDIVIDUAL = "individual"


class ObjectiveField(StrEnum):
    """Objective fields whose history the engine reads; ``new_value`` types are given per field."""

    TITLE = "title"  # str
    DESCRIPTION = "description"  # str
    PARENT = "parent"  # int | None (objective id)
    OWNER = "owner"  # int | None (person id)
    TEAM = "team"  # int | None (team id)
    STATE = "state"  # str, a GoalState value
    TYPE = "type"  # str, committed | aspirational


class KeyResultField(StrEnum):
    TITLE = "title"  # str
    TARGET = "target"  # float
    BASELINE = "baseline"  # float
    OWNER = "owner"  # int | None (person id)
    CONTRIBUTORS = "contributors"  # frozenset[int] (person ids), the whole new set
    PARENT_KEY_RESULT = "parent_key_result"  # int | None (key result id)


GoalValue = str | float | int | frozenset[int] | None


@dataclass(frozen=True, slots=True)
class Cycle:
    """The quarter being scored. ``end`` is its last day (included)."""

    start: date
    end: date

    @property
    def starts_at(self) -> datetime:
        return datetime.combine(self.start, time.min, tzinfo=UTC)

    @property
    def ends_at(self) -> datetime:
        """The end of the cycle's last day."""
        return self.starts_at + timedelta(days=(self.end - self.start).days + 1)

    @property
    def week_count(self) -> int:
        """``N = ceil((end - start + 1 day) / 7)``."""
        days = (self.end - self.start).days + 1
        return -(-days // 7)

    def week_of(self, instant: datetime) -> int:
        """The week an instant falls in: 1 for the first week, 0 or less before the cycle starts."""
        return (instant - self.starts_at) // WEEK + 1

    def week_start(self, week: int) -> datetime:
        return self.starts_at + (week - 1) * WEEK

    def complete_weeks(self, as_of: datetime) -> int:
        """How many weeks have fully ended at ``as_of`` (capped at the cycle's length)."""
        return max(0, min(self.week_count, (as_of - self.starts_at) // WEEK))


@dataclass(frozen=True, slots=True)
class Person:
    id: int
    name: str
    team_id: int | None = None
    manager_id: int | None = None


@dataclass(frozen=True, slots=True)
class Team:
    id: int
    name: str
    parent_id: int | None = None


@dataclass(frozen=True, slots=True)
class GoalChange:
    """One dated edit from a goal's history (``field`` is an ObjectiveField or KeyResultField value).

    ``new_value`` is the value after the edit. An edit that sets the value it already had is not a change.
    """

    ref: int
    at: datetime
    field: str
    new_value: GoalValue
    by_person_id: int | None = None


@dataclass(frozen=True, slots=True)
class AlignmentReview:
    """The objective's owner re-confirmed that it still serves its parent (an edit alone does not)."""

    ref: int
    at: datetime
    by_person_id: int | None = None


@dataclass(frozen=True, slots=True)
class ObjectiveInput:
    """An objective as it was created (``created_at``), with every later edit in ``changes``."""

    id: int
    title: str
    level: str
    created_at: datetime
    owner_id: int | None = None
    team_id: int | None = None
    parent_id: int | None = None
    description: str = ""
    type: str = "committed"
    state: str = GoalState.ACTIVE
    weight: float = 1.0
    changes: tuple[GoalChange, ...] = ()
    reviews: tuple[AlignmentReview, ...] = ()


@dataclass(frozen=True, slots=True)
class ValueUpdate:
    """A recorded value of a key result: a progress update or a value given in a check-in."""

    ref: int
    at: datetime
    value: float
    by_person_id: int | None = None


@dataclass(frozen=True, slots=True)
class KeyResultInput:
    """A key result as it was created, with later edits in ``changes`` and recorded values."""

    id: int
    objective_id: int
    title: str
    baseline: float
    target: float
    created_at: datetime
    direction: str = "increase"
    owner_id: int | None = None
    contributor_ids: frozenset[int] = field(default_factory=frozenset)
    parent_key_result_id: int | None = None
    weight: float = 1.0
    changes: tuple[GoalChange, ...] = ()
    value_updates: tuple[ValueUpdate, ...] = ()


@dataclass(frozen=True, slots=True)
class CheckInStatus:
    """One key result status given in a submitted check-in (``on_track``, ``at_risk`` or ``blocked``)."""

    ref: int
    at: datetime
    person_id: int
    key_result_id: int
    status: str


@dataclass(frozen=True, slots=True)
class KPIReading:
    ref: int
    at: datetime
    value: float


@dataclass(frozen=True, slots=True)
class KPIInput:
    """A KPI with its thresholds (``direction`` says which way is better) and the objectives it guards."""

    id: int
    name: str
    direction: str
    green: float
    red: float
    objective_ids: frozenset[int]
    readings: tuple[KPIReading, ...] = ()


@dataclass(frozen=True, slots=True)
class DependencyLink:
    """Work linked to a key result that is blocked by another piece of work.

    ``blocker_team_id`` is the team that owns the blocking work (its assignee's team); ``None`` means it
    belongs to no team of the organisation, which counts as another team. ``unblocked_at`` is when the
    link was removed or the blocker was closed.
    """

    ref: int
    key_result_id: int
    item_key: str
    blocker_key: str
    blocked_since: datetime
    blocker_team_id: int | None = None
    unblocked_at: datetime | None = None
    item_title: str = ""
    blocker_title: str = ""


@dataclass(frozen=True, slots=True)
class Theme:
    """A recognisable piece of unlinked work that activity is grouped by, for explanations.

    For example a Jira epic (or the issue itself when it has no epic), a Slack channel, a HubSpot
    pipeline: ``Theme("jira:ACT-1251", "jira", "epic", "ACT-1251", "SSO and SOC 2 evidence")``.
    """

    id: str
    source: str
    kind: str
    key: str
    title: str = ""


# The weekly sums below are plain named tuples rather than dataclasses: a large cycle has hundreds of
# thousands of them, made by the loader and unpacked by the activity index.


class KeyResultWeek(NamedTuple):
    """Signals counted toward a key result, by one person in one week (each signal once per key result)."""

    key_result_id: int
    person_id: int
    week: int
    weight: float
    signals: int  # how many signals


class KeyResultWeeks:
    """Many ``KeyResultWeek`` rows held as columns (numpy arrays of one length), as a loader sums them:
    a large cycle has hundreds of thousands, which the activity index groups column-wise without making
    each a tuple. Iterating gives the rows."""

    __slots__ = ("key_result_id", "person_id", "signals", "week", "weight")

    def __init__(
        self,
        *,
        key_result_id: npt.NDArray[np.int64],
        person_id: npt.NDArray[np.int64],
        week: npt.NDArray[np.int64],
        weight: npt.NDArray[np.float64],
        signals: npt.NDArray[np.int64],
    ) -> None:
        if not len(key_result_id) == len(person_id) == len(week) == len(weight) == len(signals):
            raise ValueError("Every column needs one value per row.")
        self.key_result_id = key_result_id
        self.person_id = person_id
        self.week = week
        self.weight = weight
        self.signals = signals

    def __len__(self) -> int:
        return len(self.key_result_id)

    def __iter__(self) -> Iterator[KeyResultWeek]:
        columns = (self.key_result_id, self.person_id, self.week, self.weight, self.signals)
        return map(KeyResultWeek._make, zip(*(column.tolist() for column in columns), strict=True))

    def __eq__(self, other: object) -> bool:
        """Equal to the same rows in the same order, held as columns or as a tuple."""
        if not isinstance(other, KeyResultWeeks | tuple):
            return NotImplemented
        return tuple(self) == tuple(other)

    def __hash__(self) -> int:
        return hash(tuple(self))

    def __repr__(self) -> str:
        return f"KeyResultWeeks({list(self)!r})"


class PersonWeek(NamedTuple):
    """Everything one person did in one week, linked or not, each signal counted once."""

    person_id: int
    week: int
    weight: float
    signals: int  # how many signals


class ThemeWeek(NamedTuple):
    """Unlinked activity (mapped to no key result) by one person in one week, on one theme."""

    person_id: int
    week: int
    theme_id: str
    weight: float
    signals: int  # how many signals


@dataclass(frozen=True, slots=True)
class DriftInput:
    """Everything the engine reads about one organisation's cycle."""

    cycle: Cycle
    people: tuple[Person, ...] = ()
    teams: tuple[Team, ...] = ()
    objectives: tuple[ObjectiveInput, ...] = ()
    key_results: tuple[KeyResultInput, ...] = ()
    kpis: tuple[KPIInput, ...] = ()
    checkins: tuple[CheckInStatus, ...] = ()
    dependencies: tuple[DependencyLink, ...] = ()
    themes: tuple[Theme, ...] = ()
    key_result_weeks: tuple[KeyResultWeek, ...] | KeyResultWeeks = ()
    person_weeks: tuple[PersonWeek, ...] = ()
    theme_weeks: tuple[ThemeWeek, ...] = ()
