"""The cadence pages: cadence and pulse figures by week, the check-in schedule, and the 90-day plan.

Admins see the whole organisation and change the schedule and the plan; managers see the people who
report to them (directly or indirectly); everyone else gets a 404. A week is chosen with
``?week=YYYY-MM-DD`` (any day of it; a later week shows the current one).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils import timezone
from django.utils.safestring import SafeString

from goals import cadence, charts
from goals.cadence_charts import WeeklySeries, describe_trend, share_sparkline, weekly_share_chart
from goals.cadence_forms import CheckInScheduleForm, RemediationStepForm
from goals.checkin_reminders import CheckInSchedule
from goals.checkin_reports import (
    REMEDIATION_THRESHOLD,
    CadenceReport,
    CompletionRow,
    PulseFigure,
    cadence_report,
    open_remediation_plan,
    report_week,
)
from goals.checkin_weeks import checkin_week, week_monday
from goals.models import RemediationPlan, RemediationStepKind
from goals.validation import GoalValidationError
from goals.views import GoalPage
from okrsignal.models import Role

WEEK = timedelta(days=7)
SPARK_WEEKS = 8
PULSE_TABLE_WEEKS = 6


def completion_tone(share: float | None) -> str:
    if share is None:
        return "idle"
    return "good" if share >= 0.8 else "warn" if share >= 0.5 else "bad"


def pulse_tone(share: float | None) -> str:
    if share is None:
        return "idle"
    return "good" if share >= 0.6 else "warn" if share >= REMEDIATION_THRESHOLD else "bad"


@dataclass
class RateCell:
    """A share as a page shows it: the figure, a bar and a tone."""

    text: str
    bar: SafeString
    tone: str


def rate_cell(share: float | None, *, tone: str, label: str) -> RateCell:
    return RateCell(
        text=charts.percent(share),
        bar=charts.progress_bar(progress=share or 0.0, expected=None, tone=tone, label=label),
        tone=tone,
    )


@dataclass
class PlanStep:
    """A step of the 90-day plan as the panel shows it, whether the plan is under way or only proposed."""

    number: int
    kind: str
    title: str
    description: str
    due_on: date
    owner: str | None
    progress: int
    bar: SafeString
    overdue: bool


def plan_steps(plan: RemediationPlan | None, today: date) -> list[PlanStep]:
    if plan is None:
        due = cadence.default_step_due_dates(today)
        return [
            PlanStep(
                number=number,
                kind=kind,
                title=RemediationStepKind(kind).label,
                description=cadence.STEP_DESCRIPTIONS[kind],
                due_on=due[kind],
                owner=None,
                progress=0,
                bar=charts.progress_bar(
                    progress=0, expected=None, tone="idle", label=RemediationStepKind(kind).label
                ),
                overdue=False,
            )
            for number, kind in enumerate(cadence.STEP_DUE_AFTER_DAYS, start=1)
        ]
    steps = []
    for step in plan.step_list:  # type: ignore[attr-defined]
        overdue = step.due_on < today and not step.is_done
        tone = "done" if step.is_done else "bad" if overdue else "good"
        steps.append(
            PlanStep(
                number=step.position,
                kind=step.kind,
                title=step.get_kind_display(),
                description=cadence.STEP_DESCRIPTIONS[step.kind],
                due_on=step.due_on,
                owner=step.owner.user.full_name if step.owner else None,
                progress=step.progress,
                bar=charts.progress_bar(
                    progress=step.progress / 100,
                    expected=None,
                    tone=tone,
                    label=f"{step.get_kind_display()}: {step.progress}% done",
                ),
                overdue=overdue,
            )
        )
    return steps


def local_today(time_zone: str, now: datetime | None = None) -> date:
    return (now or timezone.now()).astimezone(ZoneInfo(time_zone)).date()


class CadencePage(GoalPage):
    """A cadence page: the organisation's schedule is always at hand."""

    def schedule(self) -> CheckInSchedule:
        return CheckInSchedule.of(self.organization)


class CadenceReportView(CadencePage):
    """Completion, replies and the pulse for a week, with their trends; the remediation panel for admins."""

    required_role = Role.MANAGER
    template_name = "goals/cadence_report.html"

    def chosen_week(self) -> date:
        default = report_week(self.organization)
        current = checkin_week(timezone.now(), self.organization.time_zone)
        raw = self.request.GET.get("week", "").strip()
        if not raw:
            return default
        try:
            day = date.fromisoformat(raw)
        except ValueError:
            messages.error(
                self.request,
                f"“{raw[:20]}” is not a date (YYYY-MM-DD); "
                f"showing the week of {default.day} {default:%B %Y}.",
            )
            return default
        return min(week_monday(day), current)

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        week = self.chosen_week()
        report = cadence_report(self.membership, week)
        current = checkin_week(timezone.now(), self.organization.time_zone)
        context: dict[str, Any] = {
            "report": report,
            "schedule": self.schedule(),
            "previous_week": week - WEEK,
            "next_week": week + WEEK if week < current else None,
            "is_current_week": week == current,
            "due_passed": timezone.now() >= report.due_at,
            "remediation_threshold": charts.percent(REMEDIATION_THRESHOLD),
            "reminders_total": sum(report.reminders_sent.values()),
            **self.figures(report),
        }
        if self.membership.is_admin:
            plan = open_remediation_plan()
            if plan is not None or report.remediation_needed:
                context["plan"] = plan
                context["plan_steps"] = plan_steps(plan, local_today(self.organization.time_zone))
        return self.render_page(context)

    def figures(self, report: CadenceReport) -> dict[str, Any]:
        weeks = report.trend_weeks
        pulse_values = [figure.share for figure in report.pulse_trend]
        spark_weeks = weeks[-SPARK_WEEKS:]
        table_weeks = weeks[-PULSE_TABLE_WEEKS:]

        def completion_row(row: CompletionRow) -> dict[str, Any]:
            return {
                "row": row,
                "rate": rate_cell(
                    row.week.share, tone=completion_tone(row.week.share), label=f"{row.name}: checked in"
                ),
                "spark": share_sparkline(
                    row.trend[-SPARK_WEEKS:],
                    label=describe_trend(
                        f"{row.name}, check-in completion", spark_weeks, row.trend[-SPARK_WEEKS:]
                    ),
                ),
                "reply_rate": rate_cell(
                    row.replies.share,
                    tone=completion_tone(row.replies.share),
                    label=f"{row.name}: replied within three working days",
                ),
            }

        def pulse_cells(trend: list[PulseFigure]) -> list[dict[str, Any]]:
            return [
                {
                    "week": week,
                    "figure": figure,
                    "text": charts.percent(figure.share),
                    "tone": pulse_tone(figure.share),
                }
                for week, figure in zip(table_weeks, trend[-PULSE_TABLE_WEEKS:], strict=True)
            ]

        return {
            "completion_rate": rate_cell(
                report.completion.share, tone=completion_tone(report.completion.share), label="Checked in"
            ),
            "reply_rate": rate_cell(
                report.replies.share,
                tone=completion_tone(report.replies.share),
                label="Replied within three working days",
            ),
            "pulse_rate": rate_cell(
                report.pulse.share, tone=pulse_tone(report.pulse.share), label="Answering 4 or 5"
            ),
            "completion_chart": weekly_share_chart(
                weeks,
                [WeeklySeries("Checked in", report.completion_trend, "completion")],
                label=describe_trend("Share of people who checked in", weeks, report.completion_trend),
            ),
            "pulse_chart": weekly_share_chart(
                weeks,
                [WeeklySeries("Answering 4 or 5", pulse_values, "pulse")],
                label=describe_trend(
                    "Share answering 4 or 5 to the pulse, weeks with fewer than 5 answers left out",
                    weeks,
                    pulse_values,
                ),
                reference=REMEDIATION_THRESHOLD if report.whole_organization else None,
                reference_label=f"{charts.percent(REMEDIATION_THRESHOLD)}: remediation",
            ),
            "pulse_hidden_weeks": sum(1 for figure in report.pulse_trend if figure.hidden),
            "team_rows": [completion_row(row) for row in report.by_team],
            "manager_rows": [completion_row(row) for row in report.by_manager],
            "table_weeks": table_weeks,
            "pulse_rows": [
                {
                    "row": row,
                    "rate": rate_cell(
                        row.week.share, tone=pulse_tone(row.week.share), label=f"{row.name}: answering 4 or 5"
                    ),
                    "cells": pulse_cells(row.trend),
                }
                for row in report.pulse_by_team
            ],
        }


class CheckInScheduleView(CadencePage):
    """Admins choose the check-in day, time and time zone; reminders follow the new schedule."""

    required_role = Role.ADMIN
    template_name = "goals/cadence_settings.html"

    def form(self, data: Any = None) -> CheckInScheduleForm:
        organization = self.organization
        return CheckInScheduleForm(
            data,
            initial={
                "weekday": str(organization.checkin_weekday),
                "at_time": organization.checkin_time,
                "time_zone": organization.time_zone,
            },
        )

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return self.render_page({"form": self.form(), "schedule": self.schedule()})

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        form = self.form(request.POST)
        if form.is_valid():
            try:
                cadence.organization_set_check_in_schedule(
                    organization=self.organization,
                    by=self.membership,
                    weekday=form.cleaned_data["weekday"],
                    at_time=form.cleaned_data["at_time"],
                    time_zone=form.cleaned_data["time_zone"],
                )
            except GoalValidationError as error:
                form.add_problems(error.problems)
            else:
                messages.success(
                    request,
                    f"Check-ins are now due {self.schedule().describe()}; "
                    f"reminders go out {self.schedule().describe_reminders()}.",
                )
                return redirect("goals:cadence_report", org_slug=self.organization.slug)
        response = self.render_page({"form": form, "schedule": self.schedule()})
        response.status_code = 400
        return response


class RemediationPlanView(CadencePage):
    """The 90-day plan: started on demand with default due dates; admins set owners, dates and progress."""

    required_role = Role.ADMIN
    template_name = "goals/cadence_remediation.html"

    def forms(self, plan: RemediationPlan, data: Any = None) -> list[tuple[Any, RemediationStepForm]]:
        return [
            (
                step,
                RemediationStepForm(
                    data,
                    prefix=step.kind,
                    initial={
                        "owner": step.owner_id,
                        "due_on": step.due_on,
                        "progress": step.progress,
                        "note": step.note,
                    },
                ),
            )
            for step in plan.step_list  # type: ignore[attr-defined]
        ]

    def context(self, plan: RemediationPlan | None, forms: Any = None) -> dict[str, Any]:
        today = local_today(self.organization.time_zone)
        report = cadence_report(self.membership, report_week(self.organization), trend_weeks=1)
        forms = forms if forms is not None else (self.forms(plan) if plan is not None else [])
        return {
            "plan": plan,
            "step_forms": [
                {"step": step, "form": form, "description": cadence.STEP_DESCRIPTIONS[step.kind]}
                for step, form in forms
            ],
            "trigger_text": charts.percent(plan.trigger_share) if plan is not None else None,
            "plan_steps": plan_steps(plan, today),
            "report": report,
            "pulse_text": charts.percent(report.pulse.share),
            "remediation_threshold": charts.percent(REMEDIATION_THRESHOLD),
            "plan_days": cadence.PLAN_DAYS,
        }

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return self.render_page(self.context(open_remediation_plan()))

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        plan = open_remediation_plan()
        if request.POST.get("action") == "start":
            if plan is None:
                week = report_week(self.organization)
                report = cadence_report(self.membership, week, trend_weeks=1)
                cadence.remediation_plan_start(
                    by=self.membership, trigger_week=week, trigger_share=report.pulse.share
                )
                messages.success(
                    request,
                    "The 90-day plan has started. Give each step its owner; the due dates are suggestions.",
                )
            return redirect("goals:remediation_plan", org_slug=self.organization.slug)
        if plan is None:
            messages.error(request, "There is no plan under way to change; start one first.")
            return redirect("goals:remediation_plan", org_slug=self.organization.slug)
        forms = self.forms(plan, request.POST)
        if all(form.is_valid() for _, form in forms):
            changes = [
                cadence.StepChange(
                    kind=step.kind,
                    owner=form.cleaned_data["owner"],
                    due_on=form.cleaned_data["due_on"],
                    progress=form.cleaned_data["progress"],
                    note=form.cleaned_data["note"],
                )
                for step, form in forms
            ]
            try:
                updated = cadence.remediation_plan_update(plan=plan, by=self.membership, changes=changes)
            except GoalValidationError as error:
                for step, form in forms:
                    form.add_problems(
                        [
                            problem
                            for problem in error.problems
                            if problem.field.startswith(f"steps.{step.kind}.")
                        ],
                        prefix=f"steps.{step.kind}.",
                    )
                general = [
                    problem.message for problem in error.problems if not problem.field.startswith("steps.")
                ]
                for message in general:
                    messages.error(request, message)
            else:
                if updated.completed_at is not None:
                    messages.success(request, "Every step is done: the 90-day plan is complete.")
                else:
                    messages.success(request, "Saved the 90-day plan.")
                return redirect("goals:cadence_report", org_slug=self.organization.slug)
        response = self.render_page(self.context(plan, forms))
        response.status_code = 400
        return response
