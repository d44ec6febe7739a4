"""Writes behind the cadence pages: the organisation's check-in schedule and the 90-day remediation plan.

Only admins make these changes. Broken rules raise ``GoalValidationError`` with ``Problem``s named by
field (``time_zone``; ``steps.audit.progress``), so the forms show each one where it belongs.
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import cache

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.utils import timezone

from goals.models import RemediationPlan, RemediationStep, RemediationStepKind
from goals.validation import GoalValidationError, Problem
from okrsignal.models import Membership, Organization
from okrsignal.tenancy import require_same_organization

# The plan's four steps in order, each due this many days after the plan starts.
PLAN_DAYS = 90
STEP_DUE_AFTER_DAYS = {
    RemediationStepKind.AUDIT: 14,
    RemediationStepKind.MANAGER_TRAINING: 42,
    RemediationStepKind.CADENCE: 63,
    RemediationStepKind.RECALIBRATION: PLAN_DAYS,
}
STEP_DESCRIPTIONS = {
    RemediationStepKind.AUDIT: (
        "Go through the goals people name in their check-ins: which key results nobody links work to, "
        "which teams answer the pulse low, where the cascade has gaps."
    ),
    RemediationStepKind.MANAGER_TRAINING: (
        "Show managers how to connect each person's work to the company goals in 1:1s and in their "
        "replies to check-ins."
    ),
    RemediationStepKind.CADENCE: (
        "Get the weekly habit back: most people checking in, and every check-in answered within three "
        "working days."
    ),
    RemediationStepKind.RECALIBRATION: (
        "Rewrite or drop the goals people cannot connect their work to, then see whether the pulse rises."
    ),
}
NOTE_LENGTH = 2000


@cache
def known_time_zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def _require_admin(by: Membership) -> None:
    require_same_organization(by)
    if not by.is_admin:
        raise PermissionDenied("Only admins change the check-in schedule and the remediation plan.")


def _refuse(problems: list[Problem]) -> None:
    if problems:
        raise GoalValidationError(problems)


# --- The check-in schedule --------------------------------------------------------------------------


@transaction.atomic
def organization_set_check_in_schedule(
    *, organization: Organization, by: Membership, weekday: int, at_time: time, time_zone: str
) -> Organization:
    """Set the day (0 is Monday), local time and time zone the weekly check-in is due.

    Reminders follow at once: the next ones are computed from the new schedule. Check-in weeks run
    Monday to Sunday in the time zone, so a new zone moves future week boundaries, never stored weeks.
    """
    _require_admin(by)
    if by.organization_id != organization.pk:
        raise PermissionDenied("Only the organisation's own admins change its schedule.")
    problems = []
    if isinstance(weekday, bool) or not isinstance(weekday, int) or not 0 <= weekday <= 6:
        problems.append(Problem("weekday", "weekday_range", "Choose a day from Monday to Sunday."))
    if not isinstance(at_time, time):
        problems.append(Problem("at_time", "time_missing", "Give the time as hours and minutes, e.g. 10:00."))
    if time_zone not in known_time_zones():
        problems.append(
            Problem(
                "time_zone",
                "time_zone_unknown",
                f"'{time_zone}' is not a time zone; choose one such as Europe/Berlin or America/New_York.",
            )
        )
    _refuse(problems)
    organization.checkin_weekday = weekday
    organization.checkin_time = at_time.replace(second=0, microsecond=0, tzinfo=None)
    organization.time_zone = time_zone
    organization.save(update_fields=["checkin_weekday", "checkin_time", "time_zone"])
    return organization


# --- The 90-day remediation plan --------------------------------------------------------------------


def default_step_due_dates(started_on: date) -> dict[str, date]:
    return {kind: started_on + timedelta(days=days) for kind, days in STEP_DUE_AFTER_DAYS.items()}


@transaction.atomic
def remediation_plan_start(
    *,
    by: Membership,
    trigger_week: date | None = None,
    trigger_share: float | None = None,
    at: datetime | None = None,
) -> RemediationPlan:
    """Start the organisation's 90-day plan, or return the one already open.

    Its four steps (audit, manager training, cadence, recalibration) start with ``by`` as owner, no
    progress, and due dates spread over the 90 days from today in the organisation's time zone.
    """
    _require_admin(by)
    open_plan = RemediationPlan.objects.filter(completed_at__isnull=True).first()
    if open_plan is not None:
        return open_plan
    at = at or timezone.now()
    organization = Organization.objects.get(pk=by.organization_id)
    started_on = at.astimezone(zoneinfo.ZoneInfo(organization.time_zone)).date()
    plan = RemediationPlan(
        started_on=started_on,
        started_by=by,
        trigger_week=trigger_week,
        trigger_share=trigger_share,
        created_at=at,
    )
    plan.organization_id = by.organization_id
    try:
        with transaction.atomic():
            plan.save()
    except IntegrityError:
        # Another admin started it a moment ago: that one is the plan.
        return RemediationPlan.objects.get(completed_at__isnull=True)
    due = default_step_due_dates(started_on)
    for position, kind in enumerate(STEP_DUE_AFTER_DAYS, start=1):
        step = RemediationStep(
            plan=plan, kind=kind, position=position, owner=by, due_on=due[kind], updated_at=at, updated_by=by
        )
        step.organization_id = by.organization_id
        step.save()
    return plan


@dataclass(frozen=True)
class StepChange:
    """What an admin set for one step of the plan."""

    kind: str
    owner: Membership | None
    due_on: date
    progress: int
    note: str = ""


@transaction.atomic
def remediation_plan_update(
    *, plan: RemediationPlan, by: Membership, changes: Sequence[StepChange], at: datetime | None = None
) -> RemediationPlan:
    """Change the owners, due dates, progress (0 to 100%) and notes of an open plan's steps.

    When every step reaches 100% the plan is complete, and from then on it is only read.
    """
    _require_admin(by)
    require_same_organization(plan, *(change.owner for change in changes))
    plan = RemediationPlan.objects.select_for_update().get(pk=plan.pk)
    if plan.completed_at is not None:
        raise GoalValidationError(
            [Problem("plan", "plan_complete", "This plan is complete; start a new one if it is needed.")]
        )
    steps = {step.kind: step for step in RemediationStep.objects.filter(plan=plan)}
    problems = []
    latest_due = plan.started_on + timedelta(days=2 * PLAN_DAYS)
    for change in changes:
        path = f"steps.{change.kind}"
        if change.kind not in steps:
            problems.append(Problem(path, "step_unknown", f"The plan has no step '{change.kind}'."))
            continue
        if change.owner is not None and not change.owner.is_active:
            problems.append(
                Problem(
                    f"{path}.owner",
                    "owner_inactive",
                    f"{change.owner} is no longer active; choose someone who is.",
                )
            )
        if not plan.started_on <= change.due_on <= latest_due:
            problems.append(
                Problem(
                    f"{path}.due_on",
                    "due_out_of_range",
                    f"Choose a date between the plan's start, {plan.started_on:%d %b %Y}, and "
                    f"{latest_due:%d %b %Y}.",
                )
            )
        if (
            isinstance(change.progress, bool)
            or not isinstance(change.progress, int)
            or not 0 <= change.progress <= 100
        ):
            problems.append(
                Problem(f"{path}.progress", "progress_range", "Progress is a whole number from 0 to 100.")
            )
        if len(change.note.strip()) > NOTE_LENGTH:
            problems.append(
                Problem(f"{path}.note", "text_too_long", f"Keep the note to {NOTE_LENGTH} characters.")
            )
    _refuse(problems)
    at = at or timezone.now()
    for change in changes:
        step = steps[change.kind]
        wanted = {
            "owner_id": change.owner.pk if change.owner is not None else None,
            "due_on": change.due_on,
            "progress": change.progress,
            "note": change.note.strip(),
        }
        if any(getattr(step, name) != value for name, value in wanted.items()):
            for name, value in wanted.items():
                setattr(step, name, value)
            step.updated_at = at
            step.updated_by = by
            step.save()
    if all(step.progress >= 100 for step in steps.values()):
        plan.completed_at = at
        plan.save(update_fields=["completed_at"])
    return plan
