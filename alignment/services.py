"""Running the drift engine on stored data and keeping what it concludes; people acting on findings.

``recompute`` reads a cycle as of a moment (``alignment.loader``), evaluates it (``alignment.engine``)
and stores the result: findings upserted by identity (kind and subject), invisible contributions, and
the week's drift scores. ``evaluate_quarter`` does that after each week of a cycle in turn, as a replayed
quarter is scored. Nothing here reads the clock for what it judges: the moment is always given.
"""

from __future__ import annotations

import gc
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, fields
from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils import timezone

from alignment.cycles import cycle_of
from alignment.engine import Evaluation, EvidenceRef, Subject, SubjectKind
from alignment.engine import Finding as EngineFinding
from alignment.engine.thresholds import DEFAULT_THRESHOLDS, Thresholds
from alignment.models import ContributionCredit, DriftScore, EffortWeek, Finding, FindingEvent
from goals.models import Cycle, KeyResult
from okrsignal.models import Membership, Organization
from okrsignal.tenancy import require_same_organization, tenant_context
from signals_ingest import bulk

# Said in a finding's history when the engine closes or reopens it.
CAUSE_GONE = "The engine no longer sees its cause."
CAUSE_BACK = "The engine sees its cause again."

Identity = tuple[str, str, int]


@dataclass
class RecomputeResult:
    """What one recompute concluded and changed. Finding ids are of ``alignment.models.Finding``."""

    organization_id: int
    cycle_id: int
    as_of: datetime
    week: int
    evaluation: Evaluation
    detected: list[int] = field(default_factory=list)
    reopened: list[int] = field(default_factory=list)
    resolved: list[int] = field(default_factory=list)
    updated: list[int] = field(default_factory=list)
    credits: int = 0
    scores: int = 0

    @property
    def reported(self) -> int:
        return len(self.evaluation.findings)


def cycle_at(moment: datetime) -> Cycle | None:
    """The cycle whose weeks ``moment`` closes: the latest one to have started before it (in context)."""
    started = [cycle for cycle in Cycle.objects.all() if cycle_of(cycle).starts_at < moment]
    return max(started, key=lambda cycle: cycle.start, default=None)


def recompute(
    organization: Organization,
    *,
    as_of: datetime,
    subjects: Iterable[Subject] | None = None,
    cycle: Cycle | None = None,
    thresholds: Thresholds = DEFAULT_THRESHOLDS,
    resum_activity: bool = False,
) -> RecomputeResult:
    """Evaluate ``cycle`` (by default the one ``as_of`` falls in or last closed) as of ``as_of`` and store
    the result. ``resum_activity`` sums every week's signals again rather than reading the weeks kept
    (``alignment.activity_weeks``).

    With ``subjects`` only those goals are judged (after a change to a few of them): findings,
    contributions and scores of other goals stay as they are. The engine still reads the whole
    organisation, since shares of effort compare a goal with the rest of its people's work.
    """
    # The engine and its loader use numpy, imported here so that a process that only shows or stores
    # findings (a web process, an ingestion worker) never loads it.
    from alignment.engine.evaluate import evaluate
    from alignment.loader import drift_input

    if as_of.tzinfo is None:
        raise ValueError("as_of must be timezone-aware.")
    wanted = frozenset(subjects) if subjects is not None else None
    with tenant_context(organization), _collector_paused():
        if cycle is None:
            cycle = cycle_at(as_of)
            if cycle is None:
                raise ValueError(f"No cycle of {organization.name} had started by {as_of.isoformat()}.")
        require_same_organization(cycle)
        data = drift_input(organization, cycle, as_of=as_of, resum_activity=resum_activity)
        evaluation = evaluate(data, as_of=as_of, thresholds=thresholds, subjects=wanted)
        return store_evaluation(organization, cycle, evaluation, subjects=wanted)


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Python's cycle collector held off for one recompute. A large cycle is read into a few hundred
    thousand small tuples and dicts that hold no reference cycles, and the collector, set off every few
    hundred allocations, spent more time walking them than the recompute spent making them. Reference
    counting still frees all of it as it goes; the collector resumes when the recompute ends."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def evaluate_quarter(
    organization: Organization,
    cycle: Cycle,
    *,
    until: datetime,
    thresholds: Thresholds = DEFAULT_THRESHOLDS,
) -> list[RecomputeResult]:
    """Recompute after each week of ``cycle`` that has ended by ``until``, in order: as of
    ``start + 7n days`` for week ``n``, each time from what was stored before that moment."""
    engine_cycle = cycle_of(cycle)
    results = []
    for week in range(1, engine_cycle.week_count + 1):
        moment = engine_cycle.week_start(week + 1)
        if moment > until:
            break
        results.append(recompute(organization, as_of=moment, cycle=cycle, thresholds=thresholds))
    return results


def last_complete_week_end(cycle: Cycle, now: datetime) -> datetime:
    """The end of the last cycle week that has ended by ``now`` (the cycle's last week once it is past)."""
    engine_cycle = cycle_of(cycle)
    weeks = engine_cycle.complete_weeks(now)
    return engine_cycle.week_start(weeks + 1)


# --- Storing an evaluation ----------------------------------------------------------------------------


def _subject_of(row: Finding | DriftScore) -> Subject:
    if row.key_result_id is not None:
        return Subject(SubjectKind.KEY_RESULT, row.key_result_id)
    assert row.objective_id is not None
    return Subject(SubjectKind.OBJECTIVE, row.objective_id)


def _subject_fields(subject: Subject) -> dict[str, int | None]:
    if subject.kind == SubjectKind.KEY_RESULT:
        return {"key_result_id": subject.id, "objective_id": None}
    return {"key_result_id": None, "objective_id": subject.id}


def _evidence_json(evidence: Iterable[EvidenceRef]) -> list[dict[str, object]]:
    return [
        {name: value for name, value in _plain(ref).items() if value is not None} | {"kind": ref.kind.value}
        for ref in evidence
    ]


def _plain(record: Any) -> dict[str, Any]:
    """A flat dataclass's fields as a dict. (``dataclasses.asdict`` copies every value deeply, which took
    most of a second for the scores of a large cycle; these records hold plain values only.)"""
    return {each.name: getattr(record, each.name) for each in fields(record)}


def _describe(row: Finding, finding: EngineFinding, cycle: Cycle) -> None:
    row.onset_week = finding.onset_week
    row.onset_date = cycle.start + timedelta(days=7 * (finding.onset_week - 1))
    row.severity = finding.severity
    row.explanation = finding.explanation
    row.evidence = _evidence_json(finding.evidence)
    row.figures = dict(finding.figures)


@transaction.atomic
def store_evaluation(
    organization: Organization,
    cycle: Cycle,
    evaluation: Evaluation,
    *,
    subjects: frozenset[Subject] | None = None,
) -> RecomputeResult:
    """Keep ``evaluation`` of ``cycle``: see ``recompute``. Recomputes of one cycle wait for each other."""
    as_of = evaluation.as_of
    result = RecomputeResult(
        organization_id=organization.pk,
        cycle_id=cycle.pk,
        as_of=as_of,
        week=evaluation.week,
        evaluation=evaluation,
    )
    with tenant_context(organization):
        # One recompute of a cycle at a time: two would both insert a finding the other cannot see.
        Cycle.objects.select_for_update().filter(pk=cycle.pk).first()
        _store_findings(cycle, evaluation, subjects, result)
        _store_credits(cycle, evaluation, subjects, result)
        _store_scores(cycle, evaluation, result)
        _store_effort(cycle, evaluation)
    return result


def _in_scope(subject: Subject, subjects: frozenset[Subject] | None) -> bool:
    return subjects is None or subject in subjects


def _store_findings(
    cycle: Cycle, evaluation: Evaluation, subjects: frozenset[Subject] | None, result: RecomputeResult
) -> None:
    as_of = evaluation.as_of
    now = timezone.now()
    existing: dict[Identity, Finding] = {}
    for row in Finding.objects.filter(cycle=cycle).order_by():
        subject = _subject_of(row)
        existing[(row.kind, subject.kind.value, subject.id)] = row
    created: list[Finding] = []
    changed: list[Finding] = []
    events: list[tuple[Finding, str, str]] = []
    for finding in evaluation.findings:
        stored = existing.get(finding.identity)
        if stored is None:
            row = Finding(
                cycle=cycle,
                kind=finding.kind.value,
                **_subject_fields(finding.subject),
                state=Finding.State.OPEN,
                active=True,
                first_detected_at=as_of,
                first_detected_week=evaluation.week,
                last_reported_at=as_of,
                updated_at=now,
            )
            row.organization_id = cycle.organization_id
            _describe(row, finding, cycle)
            created.append(row)
            events.append((row, FindingEvent.Action.DETECTED, ""))
            continue
        row = stored
        _describe(row, finding, cycle)
        row.last_reported_at = as_of
        row.updated_at = now
        if row.state == Finding.State.RESOLVED and not row.active:
            row.state = Finding.State.OPEN
            row.resolved_at = None
            row.resolved_by = None
            row.acknowledged_at = None
            row.acknowledged_by = None
            row.state_note = ""
            events.append((row, FindingEvent.Action.REOPENED, CAUSE_BACK))
            result.reopened.append(row.pk)
        else:
            result.updated.append(row.pk)
        row.active = True
        changed.append(row)
    reported = {finding.identity for finding in evaluation.findings}
    for identity, row in existing.items():
        if identity in reported or not row.active or not _in_scope(_subject_of(row), subjects):
            continue
        row.active = False
        row.updated_at = now
        if row.state != Finding.State.RESOLVED:
            row.state = Finding.State.RESOLVED
            row.resolved_at = as_of
            row.resolved_by = None
            row.state_note = CAUSE_GONE
            events.append((row, FindingEvent.Action.RESOLVED, CAUSE_GONE))
            result.resolved.append(row.pk)
        changed.append(row)
    Finding.objects.bulk_create(created)
    result.detected = [row.pk for row in created]
    _update_rows(
        Finding,
        changed,
        [
            "state",
            "active",
            "onset_week",
            "onset_date",
            "severity",
            "explanation",
            "evidence",
            "figures",
            "last_reported_at",
            "acknowledged_at",
            "acknowledged_by",
            "resolved_at",
            "resolved_by",
            "state_note",
            "updated_at",
        ],
    )
    FindingEvent.objects.bulk_create(
        [
            _event(row, action, by=None, at=as_of, note=note)
            for row, action, note in events  # rows are saved: the events can point at them
        ]
    )


def _event(row: Finding, action: str, *, by: Membership | None, at: datetime, note: str) -> FindingEvent:
    event = FindingEvent(finding=row, action=action, by=by, at=at, note=note)
    event.organization_id = row.organization_id
    return event


def _store_credits(
    cycle: Cycle, evaluation: Evaluation, subjects: frozenset[Subject] | None, result: RecomputeResult
) -> None:
    as_of = evaluation.as_of
    existing = ContributionCredit.objects.filter(cycle=cycle).order_by()
    if subjects is not None:
        key_result_ids = {subject.id for subject in subjects if subject.kind == SubjectKind.KEY_RESULT}
        objective_ids = {subject.id for subject in subjects if subject.kind == SubjectKind.OBJECTIVE}
        key_result_ids |= set(
            KeyResult.objects.filter(objective_id__in=objective_ids).values_list("id", flat=True)
        )
        existing = existing.filter(key_result_id__in=key_result_ids)
    stored = {(row.key_result_id, row.person_id): row for row in existing}
    reported = {(c.key_result_id, c.person_id): c for c in evaluation.contributions}
    ContributionCredit.objects.filter(
        pk__in=[row.pk for key, row in stored.items() if key not in reported]
    ).delete()
    created: list[tuple[Any, ...]] = []
    changed = []
    credited_again = []
    for key, contribution in reported.items():
        row = stored.get(key)
        if row is None:
            created.append(
                (
                    cycle.pk,
                    contribution.person_id,
                    contribution.key_result_id,
                    contribution.weight,
                    contribution.share,
                    list(contribution.weeks),
                    contribution.explanation,
                    as_of,
                    as_of,
                )
            )
            continue
        weeks = list(contribution.weeks)
        if (row.weight, row.share, row.weeks, row.explanation) == (
            contribution.weight,
            contribution.share,
            weeks,
            contribution.explanation,
        ):
            credited_again.append(row.pk)
            continue
        row.weight = contribution.weight
        row.share = contribution.share
        row.weeks = weeks
        row.explanation = contribution.explanation
        row.last_credited_at = as_of
        changed.append(row)
    # New rows in one statement (the cycle is locked: nobody else writes them meanwhile).
    bulk.insert(
        ContributionCredit,
        [
            "cycle",
            "person",
            "key_result",
            "weight",
            "share",
            "weeks",
            "explanation",
            "first_credited_at",
            "last_credited_at",
        ],
        created,
    )
    _update_rows(ContributionCredit, changed, ["weight", "share", "weeks", "explanation", "last_credited_at"])
    # Most credits stand as they were: only their date moves, in one statement.
    bulk.update_for_ids(ContributionCredit, credited_again, {"last_credited_at": as_of})
    result.credits = len(reported)


def _store_scores(cycle: Cycle, evaluation: Evaluation, result: RecomputeResult) -> None:
    if evaluation.week < 1:
        return
    stored = {
        _subject_of(row): row
        for row in DriftScore.objects.filter(cycle=cycle, week=evaluation.week).order_by()
    }
    created: list[tuple[Any, ...]] = []
    changed = []
    computed_again = []
    for goal_score in evaluation.scores:
        components = [_plain(component) for component in goal_score.components]
        row = stored.get(goal_score.subject)
        if row is None:
            subject = _subject_fields(goal_score.subject)
            created.append(
                (
                    cycle.pk,
                    evaluation.week,
                    subject["key_result_id"],
                    subject["objective_id"],
                    goal_score.score,
                    components,
                    evaluation.as_of,
                )
            )
            continue
        if (row.score, row.components) == (goal_score.score, components):
            computed_again.append(row.pk)
            continue
        row.score = goal_score.score
        row.components = components
        row.computed_at = evaluation.as_of
        changed.append(row)
    # New rows in one statement (the cycle is locked: nobody else writes them meanwhile).
    columns = ["cycle", "week", "key_result", "objective", "score", "components", "computed_at"]
    bulk.insert(DriftScore, columns, created)
    _update_rows(DriftScore, changed, ["score", "components", "computed_at"])
    # Most scores stand as they were: only their date moves, in one statement.
    bulk.update_for_ids(DriftScore, computed_again, {"computed_at": evaluation.as_of})
    result.scores = len(evaluation.scores)


def _store_effort(cycle: Cycle, evaluation: Evaluation) -> None:
    """Keep everyone's weekly effort as this evaluation read it: rows that changed are saved, rows it no
    longer has (a later moment evaluated before an earlier one) go."""
    # Tens of thousands of rows in a large cycle: read and written as plain values, not model instances.
    stored = {
        (person_id, week): (pk, linked_weight, total_weight)
        for pk, person_id, week, linked_weight, total_weight in EffortWeek.objects.filter(cycle=cycle)
        .order_by()  # (the model's order joins the cycle, the person and their user)
        .values_list("id", "person_id", "week", "linked_weight", "total_weight")
    }
    created: list[tuple[int, int, int, float, float]] = []
    changed: list[tuple[int, float, float]] = []
    for effort in evaluation.effort:
        row = stored.pop((effort.person_id, effort.week), None)
        if row is None:
            created.append(
                (cycle.pk, effort.person_id, effort.week, effort.linked_weight, effort.total_weight)
            )
        elif row[1:] != (effort.linked_weight, effort.total_weight):
            changed.append((row[0], effort.linked_weight, effort.total_weight))
    # (The cycle is locked by the caller, so no other recompute can have written the same rows.)
    bulk.insert(EffortWeek, ["cycle", "person", "week", "linked_weight", "total_weight"], created)
    _update_values(EffortWeek, ["linked_weight", "total_weight"], changed)
    if stored:
        EffortWeek.objects.filter(pk__in=[pk for pk, _linked, _total in stored.values()]).delete()


# Rows per statement when saving changed rows. The statement joins the rows it is given with the table,
# and the planner, expecting a handful, compares each with each: a few hundred at a time keeps that cheap.
UPDATE_CHUNK = 250


def _update_rows(model: type[models.Model], rows: Sequence[Any], fields: Sequence[str]) -> None:
    """Save ``fields`` of ``rows``, a few hundred rows a statement. (Django's ``bulk_update`` builds a CASE
    per row and field, which took seconds for the few thousand contributions and scores of a large cycle.)"""
    attributes = [model._meta.get_field(name).attname for name in fields]  # type: ignore[union-attr]
    _update_values(model, fields, [(row.pk, *(getattr(row, name) for name in attributes)) for row in rows])


def _update_values(model: type[models.Model], fields: Sequence[str], values: Sequence[Sequence[Any]]) -> None:
    """Set ``fields`` from ``values`` (each an id and then the fields' values), a few hundred a statement."""
    for start in range(0, len(values), UPDATE_CHUNK):
        bulk.update_by_id(model, fields, values[start : start + UPDATE_CHUNK])


# --- People acting on findings ------------------------------------------------------------------------


@transaction.atomic
def finding_acknowledge(
    *, finding: Finding, by: Membership, note: str = "", at: datetime | None = None
) -> Finding:
    """Someone has seen an open finding and is on it. It stays acknowledged while the engine reports it."""
    require_same_organization(finding, by)
    finding = Finding.objects.select_for_update().get(pk=finding.pk)
    if finding.state != Finding.State.OPEN:
        state = finding.get_state_display().lower()
        raise ValidationError({"state": f"Only an open finding can be acknowledged; this one is {state}."})
    at = at or timezone.now()
    finding.state = Finding.State.ACKNOWLEDGED
    finding.acknowledged_at = at
    finding.acknowledged_by = by
    finding.state_note = note.strip()
    finding.updated_at = timezone.now()
    finding.save(update_fields=["state", "acknowledged_at", "acknowledged_by", "state_note", "updated_at"])
    _event(finding, FindingEvent.Action.ACKNOWLEDGED, by=by, at=at, note=note.strip()).save()
    return finding


@transaction.atomic
def finding_resolve(*, finding: Finding, by: Membership, note: str, at: datetime | None = None) -> Finding:
    """Someone closes a finding, saying why. If the engine still sees its cause, it stays closed until the
    cause has gone and come back."""
    require_same_organization(finding, by)
    if not note.strip():
        raise ValidationError({"note": "Say why the finding is resolved."})
    finding = Finding.objects.select_for_update().get(pk=finding.pk)
    if finding.state == Finding.State.RESOLVED:
        raise ValidationError({"state": "The finding is resolved already."})
    at = at or timezone.now()
    finding.state = Finding.State.RESOLVED
    finding.resolved_at = at
    finding.resolved_by = by
    finding.state_note = note.strip()
    finding.updated_at = timezone.now()
    finding.save(update_fields=["state", "resolved_at", "resolved_by", "state_note", "updated_at"])
    _event(finding, FindingEvent.Action.RESOLVED, by=by, at=at, note=note.strip()).save()
    return finding
