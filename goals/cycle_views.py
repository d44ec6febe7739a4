"""Pages for the end and the edges of a cycle: closing it, carrying goals over, and CSV in and out."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils import timezone

from goals import csv_io, cycles, selectors
from goals.models import Cycle, Objective
from goals.validation import GoalValidationError
from goals.views import GoalPage
from okrsignal.models import Role

MAX_UPLOAD_BYTES = 2 * 1024 * 1024


def _is_id(value: str) -> bool:
    """A database id as a browser sends it: plain ASCII digits, within a bigint."""
    return value.isascii() and value.isdigit() and len(value) <= 18


def _csv_response(text: str, filename: str) -> HttpResponse:
    response = HttpResponse(text, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _cycle_file_name(cycle: Cycle) -> str:
    return "".join(char if char.isalnum() or char in "-_" else "-" for char in cycle.name) or "cycle"


class CycleClosePage(GoalPage):
    """Admins close a cycle: scores freeze; unfinished goals can then be carried into the next one."""

    required_role = Role.ADMIN
    template_name = "goals/cycle_close.html"

    def cycle(self) -> Cycle:
        cycle = self.chosen_cycle()
        assert cycle is not None  # the URL names it: chosen_cycle answers 404 otherwise
        return cycle

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        cycle = self.cycle()
        if cycle.closed_at is not None:
            return self.render_page({"cycle": cycle, "report": cycles.close_report_for_cycle(cycle)})
        tree = selectors.cascade_for_cycle(cycle)
        preview = [(node.objective, node.progress, depth) for node, depth in tree.walk()]
        return self.render_page({"cycle": cycle, "preview": preview, "expected": tree.expected})

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        cycle = self.cycle()
        try:
            report = cycles.cycle_close(cycle=cycle, by=self.membership)
        except GoalValidationError as error:
            messages.error(request, " ".join(error.messages))
            return redirect("goals:cycle_close", org_slug=self.organization.slug, cycle_id=cycle.pk)
        messages.success(
            request,
            f"{cycle.name} is closed and its scores are frozen. "
            f"{len(report.unfinished)} unfinished objective(s) can be carried over.",
        )
        return redirect("goals:cycle_carry_over", org_slug=self.organization.slug, cycle_id=cycle.pk)


class CycleCarryOverPage(GoalPage):
    """Choose which unfinished objectives of a closed cycle continue in another cycle."""

    required_role = Role.ADMIN
    template_name = "goals/cycle_carry_over.html"

    def context(self, cycle: Cycle) -> dict[str, Any]:
        report = cycles.close_report_for_cycle(cycle) if cycle.closed_at else None
        targets = [other for other in self.cycles() if other.pk != cycle.pk and other.closed_at is None]
        return {"cycle": cycle, "report": report, "targets": targets}

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        cycle = self.chosen_cycle()
        assert cycle is not None
        return self.render_page(self.context(cycle))

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        cycle = self.chosen_cycle()
        assert cycle is not None
        context = self.context(cycle)
        target = next(
            (other for other in context["targets"] if str(other.pk) == request.POST.get("to_cycle")), None
        )
        chosen_ids = {int(value) for value in request.POST.getlist("objectives") if _is_id(value)}
        chosen = list(Objective.objects.filter(cycle=cycle, pk__in=chosen_ids))
        problem = None
        if target is None:
            problem = "Choose the cycle the objectives continue in."
        elif not chosen:
            problem = "Choose at least one objective to carry over."
        else:
            try:
                copies = cycles.cycle_carry_over(
                    from_cycle=cycle, to_cycle=target, objectives=chosen, by=self.membership
                )
            except GoalValidationError as error:
                problem = " ".join(error.messages)
            else:
                messages.success(request, f"{len(copies)} objective(s) now continue in {target.name}.")
                return redirect("goals:cycle_tree", org_slug=self.organization.slug, cycle_id=target.pk)
        response = self.render_page({**context, "problem": problem, "chosen_ids": chosen_ids})
        response.status_code = 400
        return response


class CycleExportView(GoalPage):
    """The cycle's objectives, key results and KPIs as a CSV file that the import reads back."""

    required_role = Role.MANAGER

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        cycle = self.chosen_cycle()
        assert cycle is not None
        return _csv_response(csv_io.goals_export_csv(cycle), f"okrsignal-{_cycle_file_name(cycle)}.csv")


class CsvTemplateView(GoalPage):
    """A CSV template with the header and example rows, owned by the person downloading it."""

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return _csv_response(
            csv_io.csv_template(owner_email=self.membership.user.email), "okrsignal-goals-template.csv"
        )


class CycleImportPage(GoalPage):
    """Import goals from CSV: every row is checked first (a dry run); nothing is saved until all are clean."""

    required_role = Role.ADMIN
    template_name = "goals/cycle_import.html"

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        cycle = self.chosen_cycle()
        assert cycle is not None
        return self.render_page({"cycle": cycle, "columns": csv_io.COLUMN_HELP})

    def _text(self, request: HttpRequest) -> tuple[str, str | None]:
        upload = request.FILES.get("file")
        if upload is not None:
            if upload.size is not None and upload.size > MAX_UPLOAD_BYTES:
                return "", "The file is larger than 2 MB; split it into several imports."
            try:
                return upload.read().decode("utf-8-sig"), None
            except UnicodeDecodeError:
                return "", "The file is not UTF-8 text. Save it from your spreadsheet as “CSV UTF-8”."
        text = request.POST.get("text", "")
        return text, None if text.strip() else "Choose a CSV file, or paste its contents."

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        cycle = self.chosen_cycle()
        assert cycle is not None
        text, problem = self._text(request)
        context: dict[str, Any] = {
            "cycle": cycle,
            "columns": csv_io.COLUMN_HELP,
            "text": text,
            "problem": problem,
        }
        if problem is not None:
            response = self.render_page(context)
            response.status_code = 400
            return response
        dry_run = request.POST.get("action") != "import"
        try:
            report = csv_io.goals_import_csv(text=text, cycle=cycle, by=self.membership, dry_run=dry_run)
        except GoalValidationError as error:
            context["problem"] = " ".join(error.messages)
            response = self.render_page(context)
            response.status_code = 400
            return response
        if report.saved:
            counts = report.counts
            messages.success(
                request,
                f"Imported {counts['objective']} objective(s), {counts['key_result']} key result(s) and "
                f"{counts['kpi']} KPI(s) into {cycle.name}.",
            )
            return redirect("goals:cycle_tree", org_slug=self.organization.slug, cycle_id=cycle.pk)
        context["report"] = report
        context["checked_at"] = timezone.now()
        response = self.render_page(context)
        if report.errors:
            response.status_code = 400
        return response
