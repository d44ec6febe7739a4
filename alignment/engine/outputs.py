"""What the drift engine concludes: findings with evidence, invisible contributions, drift scores."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class FindingKind(StrEnum):
    PRIORITY_SHIFT = "priority_shift"
    STALE_PROGRESS = "stale_progress"
    STATUS_CONTRADICTION = "status_contradiction"
    CASCADE_BREAK = "cascade_break"
    KPI_CONFLICT = "kpi_conflict"
    OWNERSHIP_GAP = "ownership_gap"
    DEPENDENCY_FRICTION = "dependency_friction"


class SubjectKind(StrEnum):
    KEY_RESULT = "key_result"
    OBJECTIVE = "objective"


class EvidenceKind(StrEnum):
    """What an evidence reference points at, and so how the loader turns it into a link."""

    # The signals one person counted toward a key result in one week (key_result_id, person_id, week).
    KEY_RESULT_ACTIVITY = "key_result_activity"
    # One person's unlinked signals on a theme in one week (theme_id, person_id, week).
    UNLINKED_ACTIVITY = "unlinked_activity"
    CHECKIN = "checkin"  # ref: the check-in status row
    VALUE_UPDATE = "value_update"  # ref: the value update
    GOAL_CHANGE = "goal_change"  # ref: the history entry
    ALIGNMENT_REVIEW = "alignment_review"  # ref: the review
    KPI_READING = "kpi_reading"  # ref: the reading
    DEPENDENCY = "dependency"  # ref: the dependency link


@dataclass(frozen=True, slots=True)
class Subject:
    kind: SubjectKind
    id: int


@dataclass(frozen=True, slots=True)
class EvidenceRef:
    """One linkable piece of evidence; which fields are set depends on ``kind`` (see EvidenceKind)."""

    kind: EvidenceKind
    ref: int | None = None
    week: int | None = None
    person_id: int | None = None
    key_result_id: int | None = None
    objective_id: int | None = None
    theme_id: str | None = None
    value: float | None = None


SEVERITY_HIGH = 0.7
SEVERITY_MEDIUM = 0.4


@dataclass(frozen=True, slots=True)
class Finding:
    """A drift the engine sees at the evaluation moment.

    ``(kind, subject)`` is the finding's identity across recomputes; ``onset_week`` is the week the
    drift began according to the weekly series, not the week it was first seen. ``figures`` holds the
    numbers the explanation quotes, by name, for display.
    """

    kind: FindingKind
    subject: Subject
    onset_week: int
    severity: float
    explanation: str
    evidence: tuple[EvidenceRef, ...]
    figures: tuple[tuple[str, float], ...] = ()

    @property
    def identity(self) -> tuple[str, str, int]:
        return (self.kind.value, self.subject.kind.value, self.subject.id)

    @property
    def severity_label(self) -> str:
        if self.severity >= SEVERITY_HIGH:
            return "high"
        if self.severity >= SEVERITY_MEDIUM:
            return "medium"
        return "low"


@dataclass(frozen=True, slots=True)
class InvisibleContribution:
    """Someone who moved a key result through work nothing credits them for."""

    person_id: int
    key_result_id: int
    weight: float
    share: float
    weeks: tuple[int, ...]
    explanation: str


# What each component of a drift score is worth at most, of the 0-100 (``alignment.engine.scores``).
KEY_RESULT_POINTS = {
    "effort": 35.0,  # the people responsible moved their effort elsewhere
    "pace": 20.0,  # progress behind the calendar
    "momentum": 15.0,  # nothing is moving it (stale)
    "reporting": 10.0,  # check-ins contradict the work
    "ownership": 10.0,  # nobody is answerable, or the owner is absent from it
    "dependencies": 10.0,  # blocked by other teams
}
OBJECTIVE_POINTS = {
    "effort": 25.0,
    "pace": 20.0,
    "key_results": 25.0,  # the mean drift of its key results
    "cascade": 15.0,  # its link to its parent is unconfirmed
    "kpi": 15.0,  # green KPIs hide that it is off track
}


@dataclass(frozen=True, slots=True)
class ScoreComponent:
    """One named part of a drift score: ``value`` in [0, 1], worth ``points`` of the 0-100 score."""

    name: str
    value: float
    points: float
    detail: str


@dataclass(frozen=True, slots=True)
class GoalScore:
    subject: Subject
    score: int
    components: tuple[ScoreComponent, ...]


@dataclass(frozen=True, slots=True)
class PersonEffort:
    """One person's effort in one ended week: the weight of all their signals and of the part counted
    toward a key result (each signal once, however many key results it counts toward)."""

    person_id: int
    week: int
    linked_weight: float
    total_weight: float


@dataclass(frozen=True, slots=True)
class Evaluation:
    """Everything the engine concludes as of one moment. ``week`` is the last week fully ended by then."""

    as_of: datetime
    week: int
    findings: tuple[Finding, ...]
    contributions: tuple[InvisibleContribution, ...]
    scores: tuple[GoalScore, ...]
    # Everyone's effort in every ended week, whatever ``subjects`` the evaluation was limited to.
    effort: tuple[PersonEffort, ...] = ()
