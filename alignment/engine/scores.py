"""A drift score per goal, 0-100, as the sum of named components a manager can read.

Each component has a value in [0, 1] and is worth at most its points; the score is their sum, capped at
100. A component is never more than its finding says, and some components also move below the finding
thresholds (effort, pace), so a trend shows before an alarm does. Goals that are not active score 0.
"""

from __future__ import annotations

from collections.abc import Iterable

from alignment.engine.context import Context
from alignment.engine.effort import EffortShift, present_weeks
from alignment.engine.explain import percent
from alignment.engine.outputs import (
    KEY_RESULT_POINTS,
    OBJECTIVE_POINTS,
    Finding,
    FindingKind,
    GoalScore,
    ScoreComponent,
    Subject,
    SubjectKind,
)

# Pace counts from this gap onwards and is full at this gap plus PACE_SPAN: a little behind is normal.
PACE_FREE_GAP = 0.05
PACE_SPAN = 0.3


def _clamp(value: float) -> float:
    return min(1.0, max(0.0, value))


def _soft_effort(context: Context, shift: EffortShift | None, *, subject: Subject) -> tuple[float, str]:
    """The finding's drop when there is one; otherwise how far the last weeks sit below the earlier ones,
    counting only what exceeds normal variation."""
    if shift is not None:
        return (
            _clamp(shift.split.relative_drop),
            f"share of effort fell from {percent(shift.split.before_mean)} to "
            f"{percent(shift.split.after_mean)}",
        )
    tree = context.tree
    if subject.kind == SubjectKind.KEY_RESULT:
        view = tree.key_results[subject.id]
        family, people, created = tree.family(subject.id), view.responsible_ids, view.created_at
    else:
        objective = tree.objectives[subject.id]
        family = tree.objective_family(subject.id)
        people, created = tree.objective_responsible(subject.id), objective.created_at
    if not people or not family:
        return 0.0, "no responsible people with activity"
    series = context.activity.group(family, sorted(people))
    weeks = [
        week
        for week in present_weeks(context, series.total_count, context.first_week(created))
        if series.total_weight[week - 1] > 0
    ]
    recent_count = context.thresholds.shift_min_sustained_weeks
    if len(weeks) < recent_count + 1:
        return 0.0, "not enough weeks yet"
    shares = [float(series.linked_weight[week - 1] / series.total_weight[week - 1]) for week in weeks]
    before = sum(shares[:-recent_count]) / len(shares[:-recent_count])
    after = sum(shares[-recent_count:]) / recent_count
    if before <= 0:
        return 0.0, "no earlier effort to compare with"
    band = context.thresholds.shift_noise_band
    drop = (before - after) / before
    return _clamp(
        (drop - band) / (1 - band)
    ), f"share of effort {percent(before)} before, {percent(after)} lately"


def _component(name: str, points: dict[str, float], value: float, detail: str) -> ScoreComponent:
    value = round(_clamp(value), 4)
    return ScoreComponent(name=name, value=value, points=round(points[name] * value, 2), detail=detail)


def _finding_value(
    findings: dict[tuple[FindingKind, Subject], Finding], kind: FindingKind, subject: Subject
) -> float:
    finding = findings.get((kind, subject))
    return finding.severity if finding is not None else 0.0


def _total(components: Iterable[ScoreComponent]) -> int:
    return round(min(100.0, sum(component.points for component in components)))


def goal_scores(
    context: Context,
    findings: Iterable[Finding],
    key_result_shifts: dict[int, EffortShift],
    objective_shifts: dict[int, EffortShift],
) -> list[GoalScore]:
    by_subject = {(finding.kind, finding.subject): finding for finding in findings}
    key_result_progress, objective_progress = context.progress.at(context.as_of)
    scores: list[GoalScore] = []
    key_result_scores: dict[int, int] = {}
    for key_result_id, view in context.key_results_in_focus():
        subject = Subject(SubjectKind.KEY_RESULT, key_result_id)
        if not context.tree.key_result_is_active(key_result_id):
            scores.append(GoalScore(subject=subject, score=0, components=()))
            continue
        progress = key_result_progress.get(key_result_id, 0.0)
        expected = context.expected_progress(view.created_at, context.as_of)
        effort_value, effort_detail = _soft_effort(
            context, key_result_shifts.get(key_result_id), subject=subject
        )
        if progress >= 1.0:
            effort_value, effort_detail = 0.0, "target reached"
        components = (
            _component("effort", KEY_RESULT_POINTS, effort_value, effort_detail),
            _component(
                "pace",
                KEY_RESULT_POINTS,
                (expected - progress - PACE_FREE_GAP) / PACE_SPAN,
                f"{percent(progress)} done, {percent(expected)} expected by now",
            ),
            _component(
                "momentum",
                KEY_RESULT_POINTS,
                _finding_value(by_subject, FindingKind.STALE_PROGRESS, subject),
                "nothing has moved it lately"
                if (FindingKind.STALE_PROGRESS, subject) in by_subject
                else "moving",
            ),
            _component(
                "reporting",
                KEY_RESULT_POINTS,
                _finding_value(by_subject, FindingKind.STATUS_CONTRADICTION, subject),
                "check-ins say on track against the work"
                if (FindingKind.STATUS_CONTRADICTION, subject) in by_subject
                else "check-ins agree with the work",
            ),
            _component(
                "ownership",
                KEY_RESULT_POINTS,
                _finding_value(by_subject, FindingKind.OWNERSHIP_GAP, subject),
                "no active owner" if (FindingKind.OWNERSHIP_GAP, subject) in by_subject else "owned",
            ),
            _component(
                "dependencies",
                KEY_RESULT_POINTS,
                _finding_value(by_subject, FindingKind.DEPENDENCY_FRICTION, subject),
                "blocked by another team"
                if (FindingKind.DEPENDENCY_FRICTION, subject) in by_subject
                else "not blocked",
            ),
        )
        total = _total(components)
        key_result_scores[key_result_id] = total
        scores.append(GoalScore(subject=subject, score=total, components=components))
    for objective_id, objective in context.objectives_in_focus():
        subject = Subject(SubjectKind.OBJECTIVE, objective_id)
        if not objective.is_active:
            scores.append(GoalScore(subject=subject, score=0, components=()))
            continue
        measured = objective_progress.get(objective_id)
        progress = measured if measured is not None else 0.0
        expected = context.expected_progress(objective.created_at, context.as_of)
        members = context.tree.key_results_by_objective.get(objective_id, [])
        weights = sum(context.tree.key_results[member].weight for member in members)
        mean_member = (
            sum(
                key_result_scores.get(member, 0) * context.tree.key_results[member].weight
                for member in members
            )
            / weights
            / 100
            if weights > 0
            else 0.0
        )
        effort_value, effort_detail = _soft_effort(
            context, objective_shifts.get(objective_id), subject=subject
        )
        objective_components = (
            _component("effort", OBJECTIVE_POINTS, effort_value, effort_detail),
            _component(
                "pace",
                OBJECTIVE_POINTS,
                (expected - progress - PACE_FREE_GAP) / PACE_SPAN if measured is not None else 0.0,
                f"{percent(progress)} done, {percent(expected)} expected by now"
                if measured is not None
                else "no key results to measure it by",
            ),
            _component(
                "key_results",
                OBJECTIVE_POINTS,
                mean_member,
                f"mean key result drift {round(mean_member * 100)}",
            ),
            _component(
                "cascade",
                OBJECTIVE_POINTS,
                _finding_value(by_subject, FindingKind.CASCADE_BREAK, subject),
                "link to its parent unconfirmed"
                if (FindingKind.CASCADE_BREAK, subject) in by_subject
                else "cascade confirmed",
            ),
            _component(
                "kpi",
                OBJECTIVE_POINTS,
                _finding_value(by_subject, FindingKind.KPI_CONFLICT, subject),
                "green KPIs while off track"
                if (FindingKind.KPI_CONFLICT, subject) in by_subject
                else "KPIs agree with progress",
            ),
        )
        scores.append(
            GoalScore(subject=subject, score=_total(objective_components), components=objective_components)
        )
    return scores
