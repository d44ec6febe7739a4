"""One evaluation: every finding, contribution and score as of one moment, from plain data."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime

from alignment.engine.context import Context
from alignment.engine.effort import (
    invisible_contributions,
    key_result_shifts,
    objective_shifts,
    ownership_gaps,
    shift_finding,
)
from alignment.engine.inputs import DriftInput
from alignment.engine.outputs import Evaluation, Finding, PersonEffort, Subject, SubjectKind
from alignment.engine.pace import kpi_conflicts, stale_key_results, status_contradictions
from alignment.engine.scores import goal_scores
from alignment.engine.structure import cascade_breaks, dependency_frictions
from alignment.engine.thresholds import DEFAULT_THRESHOLDS, Thresholds


def evaluate(
    data: DriftInput,
    *,
    as_of: datetime,
    thresholds: Thresholds = DEFAULT_THRESHOLDS,
    subjects: Iterable[Subject] | None = None,
) -> Evaluation:
    """Everything the engine concludes about ``data`` as of ``as_of``, using nothing dated at or after it.

    Pure and deterministic: the same data and moment give the same result, in the same order, and
    adding records dated at or after ``as_of`` changes nothing. Activity counts only for weeks that have
    fully ended by ``as_of``. A finding is reported only while its condition holds at ``as_of``; one
    whose cause has gone (effort came back, the owner re-confirmed, the blocker closed) is not.

    ``subjects`` limits the work to those goals (for a recompute after a few changes): findings,
    scores and contributions come only for them, and are the same as a full evaluation gives for them.
    ``data`` must still hold the whole organisation's cycle, since shares compare a goal with the rest
    of its people's work.
    """
    context = Context.build(data, as_of=as_of, thresholds=thresholds, subjects=subjects)
    kr_shifts = key_result_shifts(context)
    obj_shifts = objective_shifts(context)
    stale = stale_key_results(context)
    findings: list[Finding] = [shift_finding(context, shift) for shift in kr_shifts.values()]
    findings += [shift_finding(context, shift) for shift in obj_shifts.values()]
    findings += [item.finding for item in stale.values()]
    findings += status_contradictions(context, kr_shifts, stale)
    findings += kpi_conflicts(context, kr_shifts, obj_shifts, stale)
    findings += cascade_breaks(context)
    findings += ownership_gaps(context)
    findings += dependency_frictions(context)
    findings.sort(key=lambda finding: finding.identity)
    scores = goal_scores(context, findings, kr_shifts, obj_shifts)
    contributions = invisible_contributions(context)
    if subjects is not None:
        wanted = set(subjects)
        findings = [finding for finding in findings if finding.subject in wanted]
        scores = [score for score in scores if score.subject in wanted]
        wanted_key_results = {subject.id for subject in wanted if subject.kind == SubjectKind.KEY_RESULT}
        wanted_key_results |= {
            key_result_id
            for subject in wanted
            if subject.kind == SubjectKind.OBJECTIVE
            for key_result_id in context.tree.key_results_by_objective.get(subject.id, [])
        }
        contributions = [c for c in contributions if c.key_result_id in wanted_key_results]
    return Evaluation(
        as_of=as_of,
        week=context.weeks,
        findings=tuple(findings),
        contributions=tuple(contributions),
        scores=tuple(scores),
        effort=person_effort(data, weeks=context.weeks),
    )


def person_effort(data: DriftInput, *, weeks: int) -> tuple[PersonEffort, ...]:
    """Each person's effort in weeks 1 to ``weeks``: all of it, and what was not unlinked work."""
    unlinked: dict[tuple[int, int], float] = defaultdict(float)
    for theme_row in data.theme_weeks:
        unlinked[(theme_row.person_id, theme_row.week)] += theme_row.weight
    return tuple(
        PersonEffort(
            person_id=row.person_id,
            week=row.week,
            linked_weight=round(max(0.0, row.weight - unlinked[(row.person_id, row.week)]), 6),
            total_weight=row.weight,
        )
        for row in sorted(data.person_weeks, key=lambda row: (row.week, row.person_id))
        if 1 <= row.week <= weeks
    )
