"""The drift engine: pure functions from plain data (``inputs``) to findings, invisible contributions
and drift scores (``outputs``), as of a moment given by the caller. No database, no clock.

Every threshold lives in ``thresholds``; the change-point method in ``series``. The evaluation itself is
imported from ``alignment.engine.evaluate``, not from here: it needs numpy, which the processes that only read
and store the engine's records (web and ingestion workers) need not load (about 14 MB each).
"""

from alignment.engine.inputs import (
    AlignmentReview,
    CheckInStatus,
    Cycle,
    DependencyLink,
    DriftInput,
    GoalChange,
    GoalState,
    KeyResultField,
    KeyResultInput,
    KeyResultWeek,
    KeyResultWeeks,
    KPIInput,
    KPIReading,
    Level,
    ObjectiveField,
    ObjectiveInput,
    Person,
    PersonWeek,
    Team,
    Theme,
    ThemeWeek,
    ValueUpdate,
)
from alignment.engine.outputs import (
    Evaluation,
    EvidenceKind,
    EvidenceRef,
    Finding,
    FindingKind,
    GoalScore,
    InvisibleContribution,
    PersonEffort,
    ScoreComponent,
    Subject,
    SubjectKind,
)
from alignment.engine.thresholds import DEFAULT_THRESHOLDS, Thresholds

__all__ = [
    "DEFAULT_THRESHOLDS",
    "AlignmentReview",
    "CheckInStatus",
    "Cycle",
    "DependencyLink",
    "DriftInput",
    "Evaluation",
    "EvidenceKind",
    "EvidenceRef",
    "Finding",
    "FindingKind",
    "GoalChange",
    "GoalScore",
    "GoalState",
    "InvisibleContribution",
    "KPIInput",
    "KPIReading",
    "KeyResultField",
    "KeyResultInput",
    "KeyResultWeek",
    "KeyResultWeeks",
    "Level",
    "ObjectiveField",
    "ObjectiveInput",
    "Person",
    "PersonEffort",
    "PersonWeek",
    "ScoreComponent",
    "Subject",
    "SubjectKind",
    "Team",
    "Theme",
    "ThemeWeek",
    "Thresholds",
    "ValueUpdate",
]
