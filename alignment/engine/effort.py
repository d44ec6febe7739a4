"""Where effort goes: priority shifts, the work that absorbed them, ownership gaps, invisible work."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from statistics import median

import numpy as np

from alignment.engine.activity import FloatArray, GroupSeries, expected_in_week, expected_linked
from alignment.engine.context import Context
from alignment.engine.explain import people_phrase, percent, quoted, theme_label
from alignment.engine.inputs import KeyResultField
from alignment.engine.outputs import (
    EvidenceKind,
    EvidenceRef,
    Finding,
    FindingKind,
    InvisibleContribution,
    Subject,
    SubjectKind,
)
from alignment.engine.series import Split, sustained_drop


@dataclass(frozen=True, slots=True)
class Absorber:
    """A piece of work that gained a share of a group's activity between two periods."""

    label: str
    before_share: float
    after_share: float
    theme_id: str | None = None
    key_result_id: int | None = None

    @property
    def gain(self) -> float:
        return self.after_share - self.before_share


@dataclass(frozen=True, slots=True)
class EffortShift:
    """A sustained drop in the share of a group's activity that goes to a goal."""

    subject: Subject
    family: frozenset[int]
    people: tuple[int, ...]
    split: Split
    series: GroupSeries
    absorbers: tuple[Absorber, ...]

    @property
    def onset_week(self) -> int:
        return self.split.onset_week


def present_weeks(context: Context, total_count: FloatArray, first_week: int) -> list[int]:
    """Weeks from ``first_week`` in which someone with these weekly signal counts was around: not a
    week with next to nothing against their usual (median) week (see ``absent_week_fraction``)."""
    weeks = list(range(max(1, first_week), context.weeks + 1))
    counts = [float(total_count[week - 1]) for week in weeks]
    active = [count for count in counts if count > 0]
    if not active:
        return []
    floor = context.thresholds.absent_week_fraction * median(active)
    return [week for week, count in zip(weeks, counts, strict=True) if count > 0 and count >= floor]


def find_shift(
    context: Context, *, subject: Subject, family: frozenset[int], people: Iterable[int], first_week: int
) -> EffortShift | None:
    """A priority shift away from the key results ``family`` by ``people``, or None.

    The weekly series is the share of the people's activity that went to the goal, weeks they were
    away left out. It is a shift when all of these hold: the change-point split finds a later level
    at most half the earlier one, still low in the last weeks (``sustained_drop``); the goal had a real
    share and enough signals before; the fall is beyond chance for the number of signals; most of the
    lost effort went outside the people's own goals; and it holds against what the people who were
    around would normally have given it.
    """
    thresholds = context.thresholds
    people = tuple(sorted(set(people)))
    if not people or not family or context.weeks <= 0:
        return None
    series = context.activity.group(family, people)
    weeks = [
        week
        for week in present_weeks(context, series.total_count, first_week)
        if series.total_weight[week - 1] > 0
    ]
    points = [(week, float(series.linked_weight[week - 1] / series.total_weight[week - 1])) for week in weeks]
    split = sustained_drop(
        points,
        min_before=thresholds.shift_min_baseline_weeks,
        min_after=thresholds.shift_min_sustained_weeks,
        min_relative_drop=thresholds.shift_min_relative_drop,
        noise_band=thresholds.shift_noise_band,
        min_before_level=thresholds.shift_min_baseline_share,
    )
    if split is None:
        return None
    before_signals = float(np.mean([series.linked_count[week - 1] for week in split.before_weeks]))
    if before_signals < thresholds.shift_min_baseline_signals_per_week:
        return None
    if drop_significance(series, split) < thresholds.shift_min_significance:
        return None
    if off_goal_gain(context, people, split, series) < thresholds.shift_min_off_goal_absorption * (
        split.before_mean - split.after_mean
    ):
        return None
    if not _drop_holds_for_who_was_around(context, family, people, split):
        return None
    absorbers = absorbing_work(
        context,
        people=people,
        excluded_key_results=family | _ancestors_of(context, family),
        before_weeks=split.before_weeks,
        after_weeks=split.after_weeks,
        series=series,
    )
    return EffortShift(
        subject=subject, family=family, people=people, split=split, series=series, absorbers=absorbers
    )


def _drop_holds_for_who_was_around(
    context: Context, family: frozenset[int], people: tuple[int, ...], split: Split
) -> bool:
    """The drop is still there once each week is compared with what the people around that week
    usually gave the goal: when its main people are on holiday and others carry on, the group's share
    falls without anyone shifting."""
    thresholds = context.thresholds
    shares = expected_linked(context.activity, family, people, split.before_weeks)
    _, linked = context.activity.linked(family, people)
    expected_total = actual_total = 0.0
    for week in split.after_weeks:
        expected = expected_in_week(context.activity, shares, week)
        actual = float(linked[week - 1])
        expected_total += expected
        actual_total += actual
        if week in split.after_weeks[-thresholds.shift_min_sustained_weeks :] and actual > expected * (
            1 - thresholds.shift_noise_band
        ):
            return False
    if expected_total <= 0:
        return False
    return actual_total <= expected_total * (1 - thresholds.shift_min_relative_drop)


def off_goal_gain(context: Context, people: tuple[int, ...], split: Split, series: GroupSeries) -> float:
    """How much the share of the group's activity that serves none of its members' own goals rose.

    Effort moving between a person's own key results is a choice within their goals; a priority shift
    is effort leaving the goals for unplanned work or other people's goals.
    """
    own = context.own_key_results
    before_total = _period_sum(series.total_weight, split.before_weeks)
    after_total = _period_sum(series.total_weight, split.after_weeks)
    if before_total <= 0 or after_total <= 0:
        return 0.0
    on_goal_before = on_goal_after = 0.0
    for person_id in people:
        mine = own.get(person_id, frozenset())
        for key_result_id in context.activity.key_results_of_person.get(person_id, ()):
            if key_result_id in mine:
                weights = context.activity.by_key_result[key_result_id][person_id][0]
                on_goal_before += _period_sum(weights, split.before_weeks)
                on_goal_after += _period_sum(weights, split.after_weeks)
    off_before = max(0.0, 1 - on_goal_before / before_total)
    off_after = max(0.0, 1 - on_goal_after / after_total)
    return off_after - off_before


def drop_significance(series: GroupSeries, split: Split) -> float:
    """How many standard errors the share of signals on the goal fell by (two-proportion z statistic).

    The weekly shares come from counts of signals: with few signals a week a large relative drop is
    common by chance alone. This asks whether the drop is larger than chance would make it.
    """
    linked_before = _period_sum(series.linked_count, split.before_weeks)
    total_before = _period_sum(series.total_count, split.before_weeks)
    linked_after = _period_sum(series.linked_count, split.after_weeks)
    total_after = _period_sum(series.total_count, split.after_weeks)
    if total_before <= 0 or total_after <= 0:
        return 0.0
    share_before, share_after = linked_before / total_before, linked_after / total_after
    pooled = (linked_before + linked_after) / (total_before + total_after)
    variance = pooled * (1 - pooled) * (1 / total_before + 1 / total_after)
    if variance <= 0:
        return 0.0
    return float((share_before - share_after) / variance**0.5)


def _ancestors_of(context: Context, family: frozenset[int]) -> frozenset[int]:
    found: set[int] = set()
    for key_result_id in family:
        found |= context.tree.ancestors(key_result_id)
    return frozenset(found)


def _period_sum(array: FloatArray, weeks: tuple[int, ...]) -> float:
    return float(sum(array[week - 1] for week in weeks))


def absorbing_work(
    context: Context,
    *,
    people: tuple[int, ...],
    excluded_key_results: frozenset[int],
    before_weeks: tuple[int, ...],
    after_weeks: tuple[int, ...],
    series: GroupSeries,
) -> tuple[Absorber, ...]:
    """The work that gained the most of the group's activity, largest gain first (ties by name)."""
    before_total = _period_sum(series.total_weight, before_weeks)
    after_total = _period_sum(series.total_weight, after_weeks)
    if before_total <= 0 or after_total <= 0:
        return ()
    theme_sums: dict[str, list[float]] = {}
    key_result_sums: dict[int, list[float]] = {}
    for person_id in people:
        for theme_id, (weights, _) in context.activity.by_person_theme.get(person_id, {}).items():
            sums = theme_sums.setdefault(theme_id, [0.0, 0.0])
            sums[0] += _period_sum(weights, before_weeks)
            sums[1] += _period_sum(weights, after_weeks)
        for key_result_id in context.activity.key_results_of_person.get(person_id, ()):
            if key_result_id in excluded_key_results:
                continue
            weights = context.activity.by_key_result[key_result_id][person_id][0]
            sums = key_result_sums.setdefault(key_result_id, [0.0, 0.0])
            sums[0] += _period_sum(weights, before_weeks)
            sums[1] += _period_sum(weights, after_weeks)
    absorbers = []
    for theme_id, (before, after) in theme_sums.items():
        theme = context.themes.get(theme_id)
        label = theme_label(theme) if theme is not None else f"the unlinked work {theme_id}"
        absorbers.append(Absorber(label, before / before_total, after / after_total, theme_id=theme_id))
    for key_result_id, (before, after) in key_result_sums.items():
        view = context.tree.key_results.get(key_result_id)
        label = f"the key result {quoted(view.title)}" if view is not None else f"key result {key_result_id}"
        absorbers.append(
            Absorber(label, before / before_total, after / after_total, key_result_id=key_result_id)
        )
    gaining = [absorber for absorber in absorbers if absorber.gain > 0]
    gaining.sort(key=lambda absorber: (-absorber.gain, absorber.label))
    return tuple(gaining)


def named_absorbers(context: Context, shift: EffortShift) -> tuple[Absorber, ...]:
    """The one or two pieces of work an explanation names."""
    if not shift.absorbers:
        return ()
    first = shift.absorbers[0]
    named = [first]
    if (
        len(shift.absorbers) > 1
        and shift.absorbers[1].gain >= context.thresholds.explain_second_theme_ratio * first.gain
    ):
        named.append(shift.absorbers[1])
    return tuple(named)


def shifted_people(context: Context, shift: EffortShift) -> list[int]:
    """The people whose effort on the goal fell, most effort before first."""
    before, after = shift.split.before_weeks, shift.split.after_weeks
    fallen = []
    for person_id in shift.people:
        weight, _ = context.activity.linked(shift.family, [person_id])
        before_mean = _period_sum(weight, before) / len(before)
        after_mean = _period_sum(weight, after) / len(after)
        if before_mean > 0 and after_mean < before_mean:
            fallen.append((-before_mean, context.person_name(person_id), person_id))
    fallen.sort()
    return [person_id for _, _, person_id in fallen]


def shift_explanation(context: Context, shift: EffortShift) -> str:
    noun = "key result" if shift.subject.kind == SubjectKind.KEY_RESULT else "objective"
    people = shifted_people(context, shift) or list(shift.people)
    who = people_phrase([context.person_name(person_id) for person_id in people])
    teams = {context.people[person_id].team_id for person_id in people if person_id in context.people}
    if len(people) > 1 and len(teams) == 1 and (team := context.teams.get(teams.pop() or 0)) is not None:
        who = f"{team.name} ({who})"
    split = shift.split
    before, after = percent(split.before_mean), percent(split.after_mean)
    named = named_absorbers(context, shift)
    if not named:
        return (
            f"Since week {shift.onset_week}, the share of the activity of {who} that goes to this {noun} "
            f"fell from {before} to {after}; no single piece of work the connected tools show took it over."
        )
    first = named[0]
    sentence = (
        f"Since week {shift.onset_week}, {percent(first.after_share)} of the activity of {who} went to "
        f"{first.label} (before: {percent(first.before_share)})"
    )
    for absorber in named[1:]:
        share, before_share = percent(absorber.after_share), percent(absorber.before_share)
        sentence += f" and {share} to {absorber.label} (before: {before_share})"
    return f"{sentence}; their share of effort on this {noun} fell from {before} to {after}."


def shift_evidence(context: Context, shift: EffortShift) -> tuple[EvidenceRef, ...]:
    refs: list[EvidenceRef] = []
    weeks = shift.split.before_weeks + shift.split.after_weeks
    for key_result_id in sorted(shift.family):
        by_person = context.activity.by_key_result.get(key_result_id, {})
        for person_id in shift.people:
            arrays = by_person.get(person_id)
            if arrays is None:
                continue
            for week in weeks:
                if arrays[0][week - 1] > 0:
                    refs.append(
                        EvidenceRef(
                            EvidenceKind.KEY_RESULT_ACTIVITY,
                            week=week,
                            person_id=person_id,
                            key_result_id=key_result_id,
                            value=float(arrays[0][week - 1]),
                        )
                    )
    for absorber in named_absorbers(context, shift):
        for person_id in shift.people:
            if absorber.theme_id is not None:
                arrays = context.activity.by_person_theme.get(person_id, {}).get(absorber.theme_id)
                kind = EvidenceKind.UNLINKED_ACTIVITY
            else:
                assert absorber.key_result_id is not None
                arrays = context.activity.by_key_result.get(absorber.key_result_id, {}).get(person_id)
                kind = EvidenceKind.KEY_RESULT_ACTIVITY
            if arrays is None:
                continue
            for week in shift.split.after_weeks:
                if arrays[0][week - 1] > 0:
                    refs.append(
                        EvidenceRef(
                            kind,
                            week=week,
                            person_id=person_id,
                            key_result_id=absorber.key_result_id,
                            theme_id=absorber.theme_id,
                            value=float(arrays[0][week - 1]),
                        )
                    )
    return tuple(refs)


def shift_finding(context: Context, shift: EffortShift) -> Finding:
    split = shift.split
    named = named_absorbers(context, shift)
    figures = [
        ("share_before", round(split.before_mean, 4)),
        ("share_after", round(split.after_mean, 4)),
        ("relative_drop", round(split.relative_drop, 4)),
    ]
    if named:
        figures.append(("absorbed_share", round(named[0].after_share, 4)))
    return Finding(
        kind=FindingKind.PRIORITY_SHIFT,
        subject=shift.subject,
        onset_week=shift.onset_week,
        severity=round(min(1.0, split.relative_drop), 4),
        explanation=shift_explanation(context, shift),
        evidence=shift_evidence(context, shift),
        figures=tuple(figures),
    )


def key_result_shifts(context: Context) -> dict[int, EffortShift]:
    shifts = {}
    current, _ = context.progress.at(context.as_of)
    for key_result_id, view in context.key_results_in_focus():
        if not context.tree.key_result_is_active(key_result_id) or current.get(key_result_id, 0.0) >= 1.0:
            continue
        shift = find_shift(
            context,
            subject=Subject(SubjectKind.KEY_RESULT, key_result_id),
            family=context.tree.family(key_result_id),
            people=view.responsible_ids,
            first_week=context.first_week(view.created_at),
        )
        if shift is not None:
            shifts[key_result_id] = shift
    return shifts


def objective_shifts(context: Context) -> dict[int, EffortShift]:
    shifts = {}
    _, objective_progress = context.progress.at(context.as_of)
    for objective_id, objective in context.objectives_in_focus():
        if not objective.is_active or objective_progress.get(objective_id, 0.0) >= 1.0:
            continue
        shift = find_shift(
            context,
            subject=Subject(SubjectKind.OBJECTIVE, objective_id),
            family=context.tree.objective_family(objective_id),
            people=context.tree.objective_responsible(objective_id),
            first_week=context.first_week(objective.created_at),
        )
        if shift is not None:
            shifts[objective_id] = shift
    return shifts


# --- Ownership ---------------------------------------------------------------------------------------


def ownership_gaps(context: Context) -> list[Finding]:
    """Key results with no owner, or whose owner, while around, has done none of their work lately
    although chance alone would have shown some (see the ownership thresholds)."""
    findings = []
    current, _ = context.progress.at(context.as_of)
    for key_result_id, view in context.key_results_in_focus():
        if not context.tree.key_result_is_active(key_result_id) or current.get(key_result_id, 0.0) >= 1.0:
            continue
        finding = (
            _ownerless(context, key_result_id)
            if view.owner_id is None
            else _idle_owner(context, key_result_id, view.owner_id)
        )
        if finding is not None:
            findings.append(finding)
    return findings


def _ownerless(context: Context, key_result_id: int) -> Finding:
    view = context.tree.key_results[key_result_id]
    removal = None
    for change in sorted(view.source.changes, key=lambda change: (change.at, change.ref)):
        if change.field == KeyResultField.OWNER and change.at < context.as_of:
            removal = change if change.new_value is None else None
    since = removal.at if removal is not None else view.created_at
    evidence = (
        (EvidenceRef(EvidenceKind.GOAL_CHANGE, ref=removal.ref, key_result_id=key_result_id),)
        if removal
        else ()
    )
    return Finding(
        kind=FindingKind.OWNERSHIP_GAP,
        subject=Subject(SubjectKind.KEY_RESULT, key_result_id),
        onset_week=context.first_week(since),
        severity=0.8,
        explanation=f"The key result {quoted(view.title)} has no owner: nobody is answerable for moving it.",
        evidence=evidence,
    )


def _idle_owner(context: Context, key_result_id: int, owner_id: int) -> Finding | None:
    thresholds = context.thresholds
    view = context.tree.key_results[key_result_id]
    family = context.tree.family(key_result_id)
    first = context.first_week(view.created_at)
    if context.weeks < first:
        return None
    _, everyone_count = context.activity.linked(family, None)
    if everyone_count.sum() <= 0:
        # Work on it never shows in the connected tools: the owner's silence there means nothing.
        return None
    # Only work in the connected tools counts: check-ins and value updates keep coming from owners who
    # have long left the work to others (or to nobody).
    _, owner_count = context.activity.linked(family, [owner_id])
    _, owner_total = context.activity.totals([owner_id])
    present = set(present_weeks(context, owner_total, first))
    weeks = list(range(first, context.weeks + 1))
    idle = []
    for week in reversed(weeks):
        if owner_count[week - 1] > 0:
            break
        idle.append(week)
    idle.reverse()
    if not idle:
        return None
    active_before = [week for week in weeks if week < idle[0]]
    present_idle = [week for week in idle if week in present]
    if len(present_idle) < thresholds.ownership_min_idle_weeks:
        return None
    rate = float(np.mean([owner_count[week - 1] for week in active_before])) if active_before else 0.0
    idle_total = float(sum(owner_total[week - 1] for week in present_idle))
    earlier_total = float(sum(owner_total[week - 1] for week in active_before))
    earlier_on_it = float(sum(owner_count[week - 1] for week in active_before))
    if (
        len(active_before) >= thresholds.ownership_min_history_weeks
        and earlier_on_it >= thresholds.ownership_min_history_signals
        and earlier_total > 0
    ):
        # The owner's own earlier share of their activity on it ...
        share = min(1.0, earlier_on_it / earlier_total)
    else:
        # ... or, with no history on it to go by, the share the owner typically gives each goal.
        share = _typical_share_per_goal(context, owner_id)
    # How likely none of the owner's signals since would have landed on it, had they kept that share.
    # Silence in the reporting too, while others report on it, is evidence of its own.
    handed_over = _others_report_instead(context, key_result_id, owner_id, idle[0])
    max_chance = (
        thresholds.ownership_max_chance_handed_over if handed_over else thresholds.ownership_max_chance
    )
    if share < thresholds.ownership_min_share:
        return None
    if share < 1.0 and (1.0 - share) ** idle_total > max_chance:
        return None
    others = float(sum(everyone_count[week - 1] - owner_count[week - 1] for week in idle))
    owner = context.person_name(owner_id)
    if active_before:
        explanation = (
            f"{owner} owns {quoted(view.title)} but has done nothing on it since week {idle[0]} "
            f"(before: {rate:.1f} signals a week)"
        )
    else:
        explanation = f"{owner} owns {quoted(view.title)} but has not worked on it at all this cycle"
    explanation += (
        f", while others logged {round(others)} signals on it in that time."
        if others > 0
        else "; nobody else has picked it up either."
    )
    evidence = []
    for person_id, arrays in sorted(context.activity.by_key_result.get(key_result_id, {}).items()):
        for week in idle:
            if arrays[0][week - 1] > 0:
                evidence.append(
                    EvidenceRef(
                        EvidenceKind.KEY_RESULT_ACTIVITY,
                        week=week,
                        person_id=person_id,
                        key_result_id=key_result_id,
                        value=float(arrays[0][week - 1]),
                    )
                )
    return Finding(
        kind=FindingKind.OWNERSHIP_GAP,
        subject=Subject(SubjectKind.KEY_RESULT, key_result_id),
        onset_week=idle[0],
        severity=round(min(1.0, 0.3 + 0.15 * len(present_idle)), 4),
        explanation=explanation,
        evidence=tuple(evidence),
        figures=(("idle_weeks", float(len(idle))), ("earlier_signals_per_week", round(rate, 4))),
    )


def _others_report_instead(context: Context, key_result_id: int, owner_id: int, since_week: int) -> bool:
    """Whether, since ``since_week``, others and never the owner gave its values or statuses."""
    since = context.data.cycle.week_start(since_week)
    view = context.tree.key_results[key_result_id]
    reporters = {
        update.by_person_id
        for update in view.source.value_updates
        if since <= update.at < context.as_of and update.by_person_id is not None
    }
    reporters |= {
        checkin.person_id
        for checkin in context.checkins_by_key_result.get(key_result_id, [])
        if checkin.at >= since
    }
    return bool(reporters) and owner_id not in reporters


def _typical_share_per_goal(context: Context, person_id: int) -> float:
    return context.typical_share_per_goal.get(person_id, 0.0)


# --- Invisible contributions -------------------------------------------------------------------------


def invisible_contributions(context: Context) -> list[InvisibleContribution]:
    thresholds = context.thresholds
    own = context.own_key_results
    contributions = []
    for key_result_id, view in context.key_results_in_focus():
        by_person = context.activity.by_key_result.get(key_result_id)
        if not by_person:
            continue
        total = float(context.activity.key_result_totals[key_result_id][0].sum())
        if total <= 0:
            continue
        for person_id in sorted(by_person):
            if person_id not in context.people or key_result_id in own.get(person_id, frozenset()):
                continue
            weights, counts = by_person[person_id]
            weight = float(weights.sum())
            share = weight / total
            if (
                share < thresholds.contribution_min_share
                or counts.sum() < thresholds.contribution_min_signals
            ):
                continue
            weeks = tuple(int(index) + 1 for index in np.nonzero(counts)[0])
            if len(weeks) < thresholds.contribution_min_weeks:
                continue
            contributions.append(
                InvisibleContribution(
                    person_id=person_id,
                    key_result_id=key_result_id,
                    weight=round(weight, 4),
                    share=round(share, 4),
                    weeks=weeks,
                    explanation=(
                        f"{context.person_name(person_id)} did {percent(share)} of the work linked to "
                        f"{quoted(view.title)} over {len(weeks)} weeks, yet is neither its owner nor a "
                        "contributor and has it in none of their own goals."
                    ),
                )
            )
    return contributions
