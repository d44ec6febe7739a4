"""The shape around a goal: a cascade nobody re-confirmed, work blocked by other teams."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from alignment.engine.context import Context
from alignment.engine.explain import day, quoted
from alignment.engine.goals_as_of import (
    effective_changes,
    key_result_initial_values,
    objective_initial_values,
)
from alignment.engine.inputs import DependencyLink, GoalState, KeyResultField, Level, ObjectiveField
from alignment.engine.outputs import EvidenceKind, EvidenceRef, Finding, FindingKind, Subject, SubjectKind

# Edits to a parent objective that change what its children serve.
PARENT_FIELDS_THAT_MATTER = {ObjectiveField.TITLE, ObjectiveField.DESCRIPTION, ObjectiveField.PARENT}
# A parent paused or cancelled also leaves its children serving something that is not being pursued.
PARENT_STATES_THAT_MATTER = {GoalState.PAUSED, GoalState.CANCELLED}
FIELD_WORDS = {
    ObjectiveField.TITLE: "title",
    ObjectiveField.DESCRIPTION: "description",
    ObjectiveField.PARENT: "own parent",
    ObjectiveField.STATE: "state",
}


@dataclass(frozen=True, slots=True)
class _CascadeChange:
    at: datetime
    ref: int | None  # the history entry; None for an objective created without a parent
    what: str
    objective_id: int | None = None
    key_result_id: int | None = None


def _unconfirmed_changes(context: Context, objective_id: int) -> tuple[datetime, list[_CascadeChange]] | None:
    """Since when the objective's link to its parent has needed re-confirming, and the changes that
    made it so; None when nothing changed (or the objective needs no parent)."""
    tree = context.tree
    objective = tree.objectives[objective_id]
    own_parent_changes = [
        change
        for change in effective_changes(
            objective_initial_values(objective.source), objective.source.changes, context.as_of
        )
        if change.field == ObjectiveField.PARENT
    ]
    attached_at = own_parent_changes[-1].at if own_parent_changes else objective.created_at
    if objective.parent_id is None:
        if objective.level == Level.COMPANY:
            return None
        what = (
            "it was added without a parent objective" if not own_parent_changes else "its parent was removed"
        )
        ref = own_parent_changes[-1].ref if own_parent_changes else None
        return attached_at, [_CascadeChange(attached_at, ref, what, objective_id=objective_id)]
    changes: list[_CascadeChange] = [
        _CascadeChange(change.at, change.ref, "it was moved under another parent", objective_id=objective_id)
        for change in own_parent_changes[-1:]
    ]
    parent = tree.objectives.get(objective.parent_id)
    if parent is not None:
        for change in effective_changes(
            objective_initial_values(parent.source), parent.source.changes, context.as_of
        ):
            if change.at < attached_at:
                continue
            if change.field in PARENT_FIELDS_THAT_MATTER or (
                change.field == ObjectiveField.STATE and change.new_value in PARENT_STATES_THAT_MATTER
            ):
                what = f"the parent objective's {FIELD_WORDS[ObjectiveField(change.field)]} changed"
                changes.append(_CascadeChange(change.at, change.ref, what, objective_id=parent.id))
        for key_result_id in tree.key_results_by_objective.get(parent.id, []):
            key_result = tree.key_results[key_result_id]
            initial = key_result_initial_values(key_result.source)
            for kr_change in effective_changes(initial, key_result.source.changes, context.as_of):
                if kr_change.at >= attached_at and kr_change.field == KeyResultField.TARGET:
                    changes.append(
                        _CascadeChange(
                            kr_change.at,
                            kr_change.ref,
                            f"the target of its key result {quoted(key_result.title)} changed",
                            key_result_id=key_result_id,
                        )
                    )
    if not changes:
        return None
    changes.sort(key=lambda change: (change.at, change.ref))
    return changes[-1].at, changes


def cascade_breaks(context: Context) -> list[Finding]:
    grace = context.thresholds.cascade_grace
    findings = []
    for objective_id, objective in context.objectives_in_focus():
        if not objective.is_active:
            continue
        unconfirmed = _unconfirmed_changes(context, objective_id)
        if unconfirmed is None:
            continue
        changed_at, changes = unconfirmed
        reviews = sorted(
            (review for review in objective.source.reviews if review.at < context.as_of),
            key=lambda review: (review.at, review.ref),
        )
        last_review = reviews[-1] if reviews else None
        if last_review is not None and last_review.at >= changed_at:
            continue
        if context.as_of < changed_at + grace:
            continue
        since_review = [
            change for change in changes if last_review is None or change.at > last_review.at
        ] or changes[-1:]
        evidence = [
            EvidenceRef(
                EvidenceKind.GOAL_CHANGE,
                ref=change.ref,
                week=context.week_of(change.at),
                objective_id=change.objective_id,
                key_result_id=change.key_result_id,
            )
            for change in since_review
            if change.ref is not None
        ]
        if last_review is not None:
            evidence.append(
                EvidenceRef(
                    EvidenceKind.ALIGNMENT_REVIEW,
                    ref=last_review.ref,
                    week=context.week_of(last_review.at),
                    objective_id=objective_id,
                )
            )
        owner = context.person_name(objective.owner_id)
        waited = (context.as_of - changed_at).days
        if objective.parent_id is None:
            explanation = (
                f"{quoted(objective.title)} is a {objective.level} objective and {changes[-1].what} on "
                f"{day(changed_at)}; {owner} has not confirmed within a week that it stands on its own "
                f"({waited} days so far)."
            )
        else:
            parent_title = context.tree.objectives[objective.parent_id].title
            whats = sorted({change.what for change in since_review})
            explanation = (
                f"Since {day(since_review[0].at)}, {'; '.join(whats)}, and {owner} has not re-confirmed "
                f"that {quoted(objective.title)} still serves {quoted(parent_title)} ({waited} days so far)."
            )
        overdue_weeks = (context.as_of - changed_at - grace).days / 7
        findings.append(
            Finding(
                kind=FindingKind.CASCADE_BREAK,
                subject=Subject(SubjectKind.OBJECTIVE, objective_id),
                onset_week=context.first_week(changed_at),
                severity=round(min(1.0, 0.5 + 0.15 * overdue_weeks), 4),
                explanation=explanation,
                evidence=tuple(evidence),
                figures=(("days_unconfirmed", float(waited)),),
            )
        )
    return findings


def dependency_frictions(context: Context) -> list[Finding]:
    minimum = context.thresholds.dependency_min_blocked
    by_key_result: dict[int, list[DependencyLink]] = {}
    for link in context.data.dependencies:
        if link.key_result_id not in context.tree.key_results or not context.in_focus(link.key_result_id):
            continue
        if not context.tree.key_result_is_active(link.key_result_id):
            continue
        if link.blocked_since >= context.as_of or context.as_of - link.blocked_since < minimum:
            continue
        if link.unblocked_at is not None and link.unblocked_at < context.as_of:
            continue
        view = context.tree.key_results[link.key_result_id]
        own_team = context.team_of(view)
        if (
            own_team is not None
            and link.blocker_team_id is not None
            and link.blocker_team_id in context.team_and_descendants(own_team)
        ):
            continue
        by_key_result.setdefault(link.key_result_id, []).append(link)
    findings = []
    for key_result_id, links in sorted(by_key_result.items()):
        links.sort(key=lambda link: (link.blocked_since, link.ref))
        view = context.tree.key_results[key_result_id]
        longest = links[0]
        days = (context.as_of - longest.blocked_since).days
        team = context.teams.get(longest.blocker_team_id) if longest.blocker_team_id is not None else None
        owner = f"owned by {team.name}" if team is not None else "owned outside the team"
        explanation = (
            f"{longest.item_key} {quoted(longest.item_title)}, linked to {quoted(view.title)}, has been "
            f"blocked by {longest.blocker_key} {quoted(longest.blocker_title)} ({owner}) since "
            f"{day(longest.blocked_since)}, {days} days."
        ).replace("  ", " ")
        if len(links) > 1:
            explanation += f" {len(links) - 1} more linked item(s) wait on other teams too."
        findings.append(
            Finding(
                kind=FindingKind.DEPENDENCY_FRICTION,
                subject=Subject(SubjectKind.KEY_RESULT, key_result_id),
                onset_week=context.first_week(longest.blocked_since),
                severity=round(min(1.0, 0.3 + days / 21 + 0.1 * (len(links) - 1)), 4),
                explanation=explanation,
                evidence=tuple(
                    EvidenceRef(
                        EvidenceKind.DEPENDENCY,
                        ref=link.ref,
                        week=context.week_of(link.blocked_since),
                        key_result_id=key_result_id,
                    )
                    for link in links
                ),
                figures=(("days_blocked", float(days)), ("blocked_items", float(len(links)))),
            )
        )
    return findings
