"""The drift engine's part of a 1:1 agenda: the open findings on the goals the report owns.

``goals.checkin_selectors.one_on_one_agenda`` asks every builder the ``ONE_ON_ONE_AGENDA_SECTIONS`` setting
names for a section, ``drift_findings_section`` among them. The agenda has already checked that the
report is in the manager's reporting line; goals and their findings are readable by every member.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from django.db.models import Q
from django.utils import timezone

from alignment.dashboard import KEY_RESULT, KIND_LABELS, OBJECTIVE, OPEN_STATES
from alignment.goal_drift import severity_label
from alignment.models import Finding
from goals.checkin_selectors import AgendaSection
from goals.models import CheckIn, ObjectiveState
from okrsignal.models import Membership

AGENDA_TEMPLATE = "alignment/review_agenda_findings.html"


@dataclass(frozen=True)
class AgendaFinding:
    """A finding as the agenda lists it: what drifts, since when, why, and where to read more."""

    finding: Finding
    goal_kind: str
    goal_id: int
    goal_title: str

    @property
    def kind_label(self) -> str:
        return KIND_LABELS.get(self.finding.kind, self.finding.kind)

    @property
    def severity_label(self) -> str:
        return severity_label(self.finding.severity)

    @property
    def url_name(self) -> str:
        return "alignment:key_result_drift" if self.goal_kind == KEY_RESULT else "alignment:objective_drift"

    @property
    def onset_date(self) -> date:
        return self.finding.onset_date


def open_findings_owned_by(person: Membership, *, today: date | None = None) -> list[Finding]:
    """Open and acknowledged findings of the running cycles (started, not closed) on active goals ``person``
    owns, the most severe first (one query)."""
    today = today or timezone.localdate()
    owned_key_result = Q(
        key_result__owner=person,
        key_result__objective__state=ObjectiveState.ACTIVE,
    )
    owned_objective = Q(objective__owner=person, objective__state=ObjectiveState.ACTIVE)
    return list(
        Finding.objects.filter(
            owned_key_result | owned_objective,
            state__in=OPEN_STATES,
            cycle__start__lte=today,
            cycle__closed_at__isnull=True,
        )
        .select_related("key_result", "objective", "acknowledged_by__user")
        .order_by("-severity", "onset_week", "id")
    )


def drift_findings_section(
    manager: Membership, report: Membership, check_ins: Sequence[CheckIn]
) -> AgendaSection | None:
    """The section "Drift on their goals": what the engine sees on the report's goals; None when nothing."""
    findings = open_findings_owned_by(report)
    if not findings:
        return None
    items = []
    for finding in findings:
        if finding.key_result is not None:
            items.append(AgendaFinding(finding, KEY_RESULT, finding.key_result.pk, finding.key_result.title))
        elif finding.objective is not None:
            items.append(AgendaFinding(finding, OBJECTIVE, finding.objective.pk, finding.objective.title))
    return AgendaSection(title="Drift on their goals", items=items, template_name=AGENDA_TEMPLATE)
