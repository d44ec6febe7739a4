"""Progress against the calendar: stale key results, check-ins that contradict the work, green KPIs
over objectives that are off track."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import numpy as np

from alignment.engine.activity import FloatArray, expected_in_week, expected_linked
from alignment.engine.context import Context
from alignment.engine.effort import EffortShift, named_absorbers
from alignment.engine.explain import day, number, people_phrase, percent, quoted
from alignment.engine.inputs import CheckInStatus, KPIInput, KPIReading
from alignment.engine.outputs import EvidenceKind, EvidenceRef, Finding, FindingKind, Subject, SubjectKind
from goals.guardrails import KPIStatus, kpi_status

ON_TRACK = "on_track"


@dataclass(frozen=True, slots=True)
class Stale:
    key_result_id: int
    onset_week: int
    progress: float
    expected: float
    finding: Finding


def _progress_by_week(context: Context, key_result_id: int, first_week: int) -> dict[int, float]:
    """Progress at the end of each complete week from ``first_week``."""
    return {
        week: context.progress.at(context.week_end(week))[0].get(key_result_id, 0.0)
        for week in range(first_week, context.weeks + 1)
    }


def stale_key_results(context: Context) -> dict[int, Stale]:
    """Key results behind the calendar whose progress has not moved lately and whose linked work has
    stopped (or, when their work hardly shows in the tools, whose numbers have been still for longer)."""
    thresholds = context.thresholds
    found = {}
    current, _ = context.progress.at(context.as_of)
    for key_result_id, view in context.key_results_in_focus():
        first = context.first_week(view.created_at)
        if (
            not context.tree.key_result_is_active(key_result_id)
            or context.as_of - view.created_at < thresholds.stale_min_age
            or context.weeks < first
        ):
            continue
        progress = current.get(key_result_id, 0.0)
        expected = context.expected_progress(view.created_at, context.as_of)
        if progress >= 1.0 or expected - progress < thresholds.stale_min_pace_gap:
            continue
        if not _still_for(context, key_result_id, progress, thresholds.stale_quiet_period):
            continue
        family = context.tree.family(key_result_id)
        _, counts = context.activity.linked(family, None)
        quiet_weeks = max(1, round(thresholds.stale_quiet_period.days / 7))
        recent = [week for week in range(context.weeks - quiet_weeks + 1, context.weeks + 1) if week >= first]
        earlier = [week for week in range(first, context.weeks + 1) if week not in recent]
        earlier_mean = float(np.mean([counts[week - 1] for week in earlier])) if earlier else 0.0
        if earlier_mean < thresholds.stale_min_visible_signals_per_week:
            # Its work hardly shows in the tools: only the numbers can tell, so ask more of them.
            if (
                expected - progress < thresholds.stale_unseen_min_pace_gap
                or not _still_for(context, key_result_id, progress, thresholds.stale_unseen_quiet_period)
                or any(
                    counts[week - 1] > thresholds.stale_max_activity_ratio * earlier_mean for week in recent
                )
            ):
                continue
        elif not _work_stopped(context, family, counts, earlier, recent):
            continue
        onset, still_since = _stale_onset(context, key_result_id, first, counts, earlier_mean)
        finding = _stale_finding(
            context, key_result_id, onset, progress, expected, still_since, earlier_mean, recent, counts
        )
        found[key_result_id] = Stale(key_result_id, onset, progress, expected, finding)
    return found


def _still_for(context: Context, key_result_id: int, progress: float, period: timedelta) -> bool:
    return context.progress.at(context.as_of - period)[0].get(key_result_id, 0.0) == progress


def _work_stopped(
    context: Context, family: frozenset[int], counts: FloatArray, earlier: list[int], recent: list[int]
) -> bool:
    """Whether the linked work in the recent weeks fell to next to nothing against what the people who
    worked on it would have given it, had they carried on as before: people away on holiday do not
    make a key result stale."""
    thresholds = context.thresholds
    workers = sorted(context.activity.by_key_result_people(family))
    shares = expected_linked(context.activity, family, workers, earlier)
    would_have = sum(expected_in_week(context.activity, shares, week) for week in recent)
    if would_have < thresholds.stale_min_visible_signals_per_week * len(recent):
        return False  # they were away: nothing to read from the silence
    actual = float(sum(counts[week - 1] for week in recent))
    return actual <= thresholds.stale_max_activity_ratio * would_have


def _stale_onset(
    context: Context, key_result_id: int, first: int, counts: FloatArray, earlier_mean: float
) -> tuple[int, int]:
    """``(onset, still since)``: the first week in which progress was still, the linked work low and
    the key result behind, all three; and the first week after progress last moved."""
    thresholds = context.thresholds
    view = context.tree.key_results[key_result_id]
    progress_by_week = _progress_by_week(context, key_result_id, first)
    last_move = None
    previous = 0.0  # a goal starts at no progress
    for week in range(first, context.weeks + 1):
        if progress_by_week[week] != previous:
            last_move = week
        previous = progress_by_week[week]
    still_since = (last_move + 1) if last_move is not None else first
    ceiling = thresholds.stale_max_activity_ratio * earlier_mean
    low_since = context.weeks + 1
    for week in range(context.weeks, first - 1, -1):
        if counts[week - 1] > ceiling:
            break
        low_since = week
    behind_since = context.weeks + 1
    for week in range(context.weeks, first - 1, -1):
        week_expected = context.expected_progress(view.created_at, context.week_end(week))
        if week_expected - progress_by_week[week] < thresholds.stale_min_pace_gap:
            break
        behind_since = week
    return min(context.weeks, max(still_since, low_since, behind_since, first)), still_since


def _stale_finding(
    context: Context,
    key_result_id: int,
    onset: int,
    progress: float,
    expected: float,
    still_since: int,
    earlier_mean: float,
    recent: list[int],
    counts: FloatArray,
) -> Finding:
    view = context.tree.key_results[key_result_id]
    updates = sorted(
        (update for update in view.source.value_updates if update.at < context.as_of),
        key=lambda update: (update.at, update.ref),
    )
    evidence = [
        EvidenceRef(
            EvidenceKind.VALUE_UPDATE, ref=update.ref, key_result_id=key_result_id, value=update.value
        )
        for update in updates[-3:]
    ]
    for person_id, arrays in sorted(context.activity.by_key_result.get(key_result_id, {}).items()):
        for week in range(max(1, onset - 2), context.weeks + 1):
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
    recent_mean = float(np.mean([counts[week - 1] for week in recent])) if recent else 0.0
    if updates:
        last = updates[-1]
        moved = f"its last recorded value was {number(last.value)} on {day(last.at)}"
        if still_since > 1:
            moved = f"its progress has not moved since week {still_since - 1}; " + moved
    else:
        moved = "no value has been recorded for it"
    activity = (
        f"linked work fell to {recent_mean:.1f} signals a week from {earlier_mean:.1f}"
        if earlier_mean > 0
        else "no linked work shows in the connected tools"
    )
    gap = expected - progress
    return Finding(
        kind=FindingKind.STALE_PROGRESS,
        subject=Subject(SubjectKind.KEY_RESULT, key_result_id),
        onset_week=onset,
        severity=round(min(1.0, gap / 0.4), 4),
        explanation=(
            f"{quoted(view.title)} is {percent(progress)} of the way to its target where the calendar "
            f"expects {percent(expected)}: {moved}, and {activity}."
        ),
        evidence=tuple(evidence),
        figures=(
            ("progress", round(progress, 4)),
            ("expected_progress", round(expected, 4)),
            ("recent_signals_per_week", round(recent_mean, 4)),
            ("earlier_signals_per_week", round(earlier_mean, 4)),
        ),
    )


# --- Reported versus observed ------------------------------------------------------------------------


def status_contradictions(
    context: Context, shifts: dict[int, EffortShift], stale: dict[int, Stale]
) -> list[Finding]:
    """Key results whose work collapsed (a priority shift or stale progress) while check-ins kept
    calling them on track: at least ``contradiction_min_on_track_reports`` since the collapse, one of
    them a full week after it, and the latest word (the owner's, when the owner has spoken since) still
    on track. Its onset is the week of that first on-track report given with the collapse in view."""
    thresholds = context.thresholds
    findings = []
    for key_result_id in sorted(set(shifts) | set(stale)):
        view = context.tree.key_results[key_result_id]
        onsets = [shifts[key_result_id].onset_week] if key_result_id in shifts else []
        onsets += [stale[key_result_id].onset_week] if key_result_id in stale else []
        collapse_onset = min(onsets)
        since = [
            checkin
            for checkin in context.checkins_by_key_result.get(key_result_id, [])
            if context.week_of(checkin.at) >= collapse_onset
        ]
        if not since:
            continue
        owner_reports = [checkin for checkin in since if checkin.person_id == view.owner_id]
        deciding = (owner_reports or since)[-1]
        on_track = [checkin for checkin in since if checkin.status == ON_TRACK]
        later = [checkin for checkin in on_track if context.week_of(checkin.at) > collapse_onset]
        if (
            deciding.status != ON_TRACK
            or len(on_track) < thresholds.contradiction_min_on_track_reports
            or not later
        ):
            continue
        onset = context.week_of(later[0].at)
        findings.append(
            _contradiction_finding(context, key_result_id, onset, on_track, shifts.get(key_result_id), stale)
        )
    return findings


def _contradiction_finding(
    context: Context,
    key_result_id: int,
    onset: int,
    on_track: list[CheckInStatus],
    shift: EffortShift | None,
    stale: dict[int, Stale],
) -> Finding:
    view = context.tree.key_results[key_result_id]
    reporters = sorted({context.person_name(checkin.person_id) for checkin in on_track})
    last = on_track[-1]
    if shift is not None:
        observed = (
            f"since week {shift.onset_week} the share of effort on it fell from "
            f"{percent(shift.split.before_mean)} to {percent(shift.split.after_mean)}"
        )
        named = named_absorbers(context, shift)
        if named:
            observed += f", most of it going to {named[0].label}"
        severity = min(1.0, 0.4 + 0.6 * shift.split.relative_drop)
    else:
        stale_view = stale[key_result_id]
        observed = (
            f"it is {percent(stale_view.progress)} of the way to its target where the calendar expects "
            f"{percent(stale_view.expected)}, and nothing has moved it since week {stale_view.onset_week}"
        )
        severity = 0.6
    evidence = tuple(
        EvidenceRef(
            EvidenceKind.CHECKIN,
            ref=checkin.ref,
            week=context.week_of(checkin.at),
            person_id=checkin.person_id,
            key_result_id=key_result_id,
        )
        for checkin in on_track
    )
    return Finding(
        kind=FindingKind.STATUS_CONTRADICTION,
        subject=Subject(SubjectKind.KEY_RESULT, key_result_id),
        onset_week=onset,
        severity=round(severity, 4),
        explanation=(
            f"Check-ins by {people_phrase(reporters)} have called {quoted(view.title)} on track "
            f"{len(on_track)} times (last in week {context.week_of(last.at)}), but {observed}."
        ),
        evidence=evidence,
        figures=(("on_track_reports", float(len(on_track))),),
    )


# --- KPIs against the objective ----------------------------------------------------------------------


def _readings_before(kpi: KPIInput, context: Context) -> list[KPIReading]:
    return sorted(
        (reading for reading in kpi.readings if reading.at < context.as_of),
        key=lambda reading: (reading.at, reading.ref),
    )


def _is_green(kpi: KPIInput, value: float) -> bool:
    return kpi_status(direction=kpi.direction, green=kpi.green, red=kpi.red, value=value) == KPIStatus.GREEN


def _off_track(
    context: Context,
    objective_id: int,
    key_result_shifts: dict[int, EffortShift],
    objective_shifts: dict[int, EffortShift],
    stale: dict[int, Stale],
) -> tuple[int, str] | None:
    """Since when and why the objective is off track, or None when it is not.

    Off track means its people's effort shifted away, or key results carrying at least half its weight
    are in trouble: their effort shifted away, they went stale, or their owner says they are at risk
    (or blocked) while their numbers have stopped moving. The calendar alone is no evidence: key
    results that move in steps or are rounded sit flat for weeks on a perfectly good course.
    """
    tree = context.tree
    reasons: list[tuple[int, str]] = []
    if objective_id in objective_shifts:
        shift = objective_shifts[objective_id]
        reasons.append(
            (
                shift.onset_week,
                f"since week {shift.onset_week} the share of its people's effort on it fell from "
                f"{percent(shift.split.before_mean)} to {percent(shift.split.after_mean)}",
            )
        )
    members = tree.key_results_by_objective.get(objective_id, [])
    total_weight = sum(tree.key_results[member].weight for member in members)
    troubled_weight = 0.0
    troubled: list[tuple[int, str]] = []
    for member in members:
        member_reasons = []
        for key_result_id in sorted(tree.family(member)):
            title = quoted(tree.key_results[key_result_id].title)
            if key_result_id in key_result_shifts:
                onset = key_result_shifts[key_result_id].onset_week
                member_reasons.append((onset, f"the effort on {title} has shifted away since week {onset}"))
            if key_result_id in stale:
                onset = stale[key_result_id].onset_week
                member_reasons.append((onset, f"{title} has stalled since week {onset}"))
            reported = _reported_off_track(context, key_result_id)
            if reported is not None:
                member_reasons.append(reported)
        if member_reasons:
            troubled_weight += tree.key_results[member].weight
            troubled.append(min(member_reasons))
    if (
        total_weight > 0
        and troubled_weight / total_weight >= context.thresholds.off_track_min_key_result_share
    ):
        reasons.append(min(troubled))
    return min(reasons) if reasons else None


def _reported_off_track(context: Context, key_result_id: int) -> tuple[int, str] | None:
    """``(since week, why)`` when the latest word on the key result (its owner's, when the owner gives
    statuses) is at risk or blocked, at least ``off_track_min_worried_reports`` such reports came
    since it was last called on track, and its progress has stalled: the words and the numbers agree."""
    view = context.tree.key_results[key_result_id]
    checkins = context.checkins_by_key_result.get(key_result_id, [])
    owner_checkins = [checkin for checkin in checkins if checkin.person_id == view.owner_id]
    deciding = owner_checkins or checkins
    if not deciding or deciding[-1].status == ON_TRACK:
        return None
    last_on_track = next((checkin for checkin in reversed(deciding) if checkin.status == ON_TRACK), None)
    worried = [
        checkin
        for checkin in checkins
        if checkin.status != ON_TRACK and (last_on_track is None or checkin.at > last_on_track.at)
    ]
    if len(worried) < context.thresholds.off_track_min_worried_reports:
        return None
    stalled_since = _stalled_since(context, key_result_id)
    if stalled_since is None:
        return None
    onset = min(context.week_of(worried[0].at), stalled_since)
    who = context.person_name(deciding[-1].person_id)
    status = deciding[-1].status.replace("_", " ")
    return (
        onset,
        f"{who} reports {quoted(view.title)} {status} and its progress has barely moved since week "
        f"{stalled_since}",
    )


def _stalled_since(context: Context, key_result_id: int) -> int | None:
    """The first week of the current run of weeks in which the key result gained less than
    ``off_track_max_progress_share`` of the progress the calendar asks of a week; None unless the run
    covers the whole ``off_track_stall_period`` and the key result moved before it."""
    thresholds = context.thresholds
    view = context.tree.key_results[key_result_id]
    first = context.first_week(view.created_at)
    if context.weeks - first + 1 < 1:
        return None
    period_weeks = max(1, round(thresholds.off_track_stall_period.days / 7))
    run: list[int] = []
    for week in range(context.weeks, first - 1, -1):
        end, start = context.week_end(week), context.week_end(week - 1)
        gain = context.progress.at(end)[0].get(key_result_id, 0.0) - context.progress.at(start)[0].get(
            key_result_id, 0.0
        )
        asked = context.expected_progress(view.created_at, end) - context.expected_progress(
            view.created_at, start
        )
        if gain > thresholds.off_track_max_progress_share * asked:
            break
        run.append(week)
    if len(run) < period_weeks or min(run) == first:
        return None  # too short, or it never moved at all: a slow start is not a stall
    return min(run)


def kpi_conflicts(
    context: Context,
    key_result_shifts: dict[int, EffortShift],
    objective_shifts: dict[int, EffortShift],
    stale: dict[int, Stale],
) -> list[Finding]:
    """Objectives whose tagged KPIs all read green (at their latest reading) while the objective is
    off track: its people's effort shifted away, key results carrying half its weight shifted or
    stalled, or it has been well behind the calendar for weeks. Its onset is the later of the week the
    objective went off track and the week the KPIs last turned green."""
    kpis_by_objective: dict[int, list[KPIInput]] = {}
    for kpi in context.data.kpis:
        for objective_id in kpi.objective_ids:
            kpis_by_objective.setdefault(objective_id, []).append(kpi)
    findings = []
    for objective_id, objective in context.objectives_in_focus():
        if not objective.is_active or objective_id not in kpis_by_objective:
            continue
        green_since = 0
        latest_readings: list[tuple[KPIInput, KPIReading]] = []
        all_green = True
        for kpi in sorted(kpis_by_objective[objective_id], key=lambda kpi: kpi.id):
            readings = _readings_before(kpi, context)
            if not readings:
                continue
            if not _is_green(kpi, readings[-1].value):
                all_green = False
                break
            run_start = readings[-1]
            for reading in reversed(readings):
                if not _is_green(kpi, reading.value):
                    break
                run_start = reading
            green_since = max(green_since, context.first_week(run_start.at))
            latest_readings.append((kpi, readings[-1]))
        if not all_green or not latest_readings:
            continue
        off_track = _off_track(context, objective_id, key_result_shifts, objective_shifts, stale)
        if off_track is None:
            continue
        onset = max(off_track[0], green_since)
        kpi_text = ", ".join(f"{kpi.name} at {number(reading.value)}" for kpi, reading in latest_readings)
        evidence = tuple(
            EvidenceRef(
                EvidenceKind.KPI_READING, ref=reading.ref, objective_id=objective_id, value=reading.value
            )
            for _, reading in latest_readings
        )
        findings.append(
            Finding(
                kind=FindingKind.KPI_CONFLICT,
                subject=Subject(SubjectKind.OBJECTIVE, objective_id),
                onset_week=onset,
                severity=0.6,
                explanation=(
                    f"The KPIs that guard {quoted(objective.title)} are green ({kpi_text}) while the "
                    f"objective is off track: {off_track[1]}."
                ),
                evidence=evidence,
            )
        )
    return findings
