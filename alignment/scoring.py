"""Scoring the drift engine against a scenario's ``expect`` (``FORMAT.md``, "Scoring"). Pure: it reads
what the engine reported after each week, with the file's keys as subjects, and counts.

- A finding is *detected* in the first week it is reported for its (kind, subject).
- An expected (kind, subject) detected within ``onset_week +/- tolerance_weeks`` is a true positive;
  expected and not detected, or detected outside that window, a false negative; detected before the
  window, a false positive too.
- Each (kind, subject) of a scored kind reported in any week for a subject listed in ``quiet`` is one
  false positive. Subjects neither expected nor quiet are not scored.
- Contributions count only in ``contribution_recall``: the expected (person, key result) pairs credited
  by the last week.
- Totals are micro-averaged over scenarios; a figure whose denominator is zero is ``None``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from alignment.scenario import FINDING_KINDS, Expect


@dataclass(frozen=True)
class Reported:
    """One finding the engine reported after a week: its kind, subject key and its own onset week."""

    kind: str
    subject: str
    onset_week: int


@dataclass(frozen=True)
class WeekReport:
    week: int
    findings: tuple[Reported, ...]
    contributions: tuple[tuple[str, str], ...]  # (person key, key result key)


@dataclass
class ScenarioScore:
    name: str
    tp: int = 0
    fp: int = 0
    fn: int = 0
    onset_delay_weeks: list[int] = field(default_factory=list)
    onset_error_weeks: list[int] = field(default_factory=list)
    findings: list[dict[str, Any]] = field(default_factory=list)
    contributions: list[dict[str, str]] = field(default_factory=list)
    contributions_expected: int = 0
    contributions_found: int = 0

    def as_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "tp": self.tp,
            "fp": self.fp,
            "fn": self.fn,
            "onset_delay_weeks": self.onset_delay_weeks,
            "onset_error_weeks": self.onset_error_weeks,
            "findings": self.findings,
            "contributions": self.contributions,
        }


def score_scenario(name: str, expect: Expect, weeks: Sequence[WeekReport]) -> ScenarioScore:
    detections: dict[tuple[str, str], tuple[int, int]] = {}  # (kind, subject) -> (week, onset then)
    for report in sorted(weeks, key=lambda report: report.week):
        for finding in report.findings:
            detections.setdefault((finding.kind, finding.subject), (report.week, finding.onset_week))
    score = ScenarioScore(name=name)
    score.findings = [
        {"kind": kind, "subject": subject, "detected_week": week, "onset_week": onset}
        for (kind, subject), (week, onset) in sorted(
            detections.items(), key=lambda item: (item[1][0], item[0][0], item[0][1])
        )
    ]
    expected = {(finding.kind, finding.subject): finding for finding in expect.findings}
    for identity, wanted in expected.items():
        detection = detections.get(identity)
        if detection is None:
            score.fn += 1
            continue
        week, onset = detection
        if wanted.onset_week - wanted.tolerance_weeks <= week <= wanted.onset_week + wanted.tolerance_weeks:
            score.tp += 1
            score.onset_delay_weeks.append(max(0, week - wanted.onset_week))
            score.onset_error_weeks.append(abs(onset - wanted.onset_week))
        else:
            score.fn += 1
            if week < wanted.onset_week - wanted.tolerance_weeks:
                score.fp += 1
    quiet = set(expect.quiet)
    score.fp += sum(
        1
        for kind, subject in detections
        if kind in FINDING_KINDS and subject in quiet and (kind, subject) not in expected
    )
    credited = set(weeks[-1].contributions) if weeks else set()
    score.contributions = [{"person": person, "key_result": kr} for person, kr in sorted(credited)]
    wanted_credits = {(c.person, c.key_result) for c in expect.contributions}
    score.contributions_expected = len(wanted_credits)
    score.contributions_found = len(wanted_credits & credited)
    return score


def _ratio(numerator: float, denominator: float) -> float | None:
    return numerator / denominator if denominator else None


def _mean(values: Iterable[int]) -> float | None:
    values = list(values)
    return sum(values) / len(values) if values else None


def totals(scores: Sequence[ScenarioScore]) -> dict[str, float | None]:
    tp = sum(score.tp for score in scores)
    fp = sum(score.fp for score in scores)
    fn = sum(score.fn for score in scores)
    return {
        "precision": _ratio(tp, tp + fp),
        "recall": _ratio(tp, tp + fn),
        "mean_onset_delay_weeks": _mean(d for score in scores for d in score.onset_delay_weeks),
        "mean_onset_error_weeks": _mean(e for score in scores for e in score.onset_error_weeks),
        "contribution_recall": _ratio(
            sum(score.contributions_found for score in scores),
            sum(score.contributions_expected for score in scores),
        ),
    }


def document(scores: Sequence[ScenarioScore]) -> dict[str, Any]:
    """The one JSON document ``drift_eval --json`` writes."""
    return {"scenarios": [score.as_json() for score in scores], "totals": totals(scores)}


def subject_keys(objectives: Mapping[str, int], key_results: Mapping[str, int]) -> dict[tuple[str, int], str]:
    """(subject kind, database id) -> the file's key, for objectives and key results."""
    keys = {("objective", pk): key for key, pk in objectives.items()}
    keys.update({("key_result", pk): key for key, pk in key_results.items()})
    return keys
