"""The goal system's pages: the cycle overview, the objective tree, details with history, forms that
validate as you type, "my goals", the KPI board and a team's alignment map.

Every page is under ``/o/<org_slug>/goals/`` and runs through ``OrganizationViewMixin`` (membership checked,
organisation in context). Forms never write themselves: they call ``goals.services``. While someone types,
htmx posts the form with ``?validate=1``; the view then rehearses the very same service call inside a
transaction it rolls back, and answers with the form's feedback. Without JavaScript, a normal POST shows
the same errors and warnings.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from django.contrib import messages
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views import View

from goals import charts, selectors, services
from goals.forms import (
    CycleForm,
    GoalForm,
    KeyResultForm,
    KPIForm,
    KPIReadingForm,
    ObjectiveForm,
    ObjectiveStateForm,
    ProgressForm,
)
from goals.line_of_sight import line_of_sight_sentence
from goals.models import (
    KPI,
    Cycle,
    Direction,
    Initiative,
    KeyResult,
    KeyResultContributor,
    Level,
    Objective,
    ObjectiveState,
)
from goals.permissions import (
    may_confirm_alignment,
    may_manage_objective,
    may_record_progress,
    may_record_reading,
)
from goals.validation import GoalValidationError, Problem
from okrsignal.models import Membership, Role, Team
from okrsignal.permissions import OrganizationViewMixin, refuse, role_allows

T = TypeVar("T")

# The query parameter with which htmx asks a form view to check, not save.
VALIDATE_PARAMETER = "validate"


def _plain(value: float | None) -> str | None:
    """A number as a form field shows it: ``21.0`` → ``"21"``."""
    return None if value is None else f"{value:g}"


# --- Shared pieces ----------------------------------------------------------------------------------


@contextmanager
def rehearsal() -> Iterator[None]:
    """Run services for real, then undo everything they wrote: validation exactly as a save would see it."""
    with transaction.atomic():
        yield
        transaction.set_rollback(True)


def attempt(action: Callable[[], T]) -> tuple[T | None, list[Problem]]:
    """Call a service; return what it made and its problems (its errors, or the warnings it recorded)."""
    try:
        result = action()
    except GoalValidationError as error:
        return None, error.problems
    return result, recorded_warnings(getattr(result, "warnings", []))


def recorded_warnings(records: list[dict[str, str]]) -> list[Problem]:
    return [
        Problem(record["field"], record["code"], record["message"], is_warning=True) for record in records
    ]


class Refusal(Exception):
    """A service refused the save; the problems belong on ``form``."""

    def __init__(self, form: GoalForm, problems: list[Problem]) -> None:
        super().__init__(problems)
        self.form = form
        self.problems = problems


def call(form: GoalForm, action: Callable[[], T]) -> T:
    try:
        return action()
    except GoalValidationError as error:
        raise Refusal(form, error.problems) from error


class GoalPage(OrganizationViewMixin, View):
    """A page of the goal system. ``partial`` names the piece htmx swaps, served for htmx requests."""

    template_name = ""
    partial: str | None = None

    def render_page(self, context: dict[str, Any], *, partial: str | None = None) -> HttpResponse:
        partial = partial or (self.partial if self.request.htmx else None)  # type: ignore[attr-defined]
        name = f"{self.template_name}#{partial}" if partial else self.template_name
        return render(self.request, name, {"membership": self.membership, **context})

    def cycles(self) -> list[Cycle]:
        if not hasattr(self, "_cycles"):
            self._cycles = selectors.cycles_newest_first()
        return self._cycles

    def chosen_cycle(self) -> Cycle | None:
        """The cycle the URL names (404 if it is not this organisation's), or the current one."""
        cycle_id = self.kwargs.get("cycle_id")
        if cycle_id is None:
            return selectors.current_cycle(self.cycles())
        for cycle in self.cycles():
            if cycle.pk == cycle_id:
                return cycle
        raise Http404("No such cycle.")

    def objective(self) -> Objective:
        return get_object_or_404(
            Objective.objects.select_related("cycle", "owner__user", "team", "parent"),
            pk=self.kwargs["objective_id"],
        )

    def key_result(self) -> KeyResult:
        return get_object_or_404(
            KeyResult.objects.select_related(
                "objective__cycle", "objective__team", "objective__owner__user", "owner__user"
            ),
            pk=self.kwargs["key_result_id"],
        )


class LiveFormPage(GoalPage):
    """A form page that checks as you type and saves through the services.

    Subclasses build their forms, ``rehearse`` the service calls (inside ``rehearsal()``, attaching the
    problems to the forms) and ``commit`` them for real, raising ``Refusal`` if a service says no.
    """

    partial = "goal-form"

    def allowed(self) -> bool:
        return True

    def forms(self, data: Any = None) -> list[GoalForm]:
        raise NotImplementedError

    def rehearse(self, forms: list[GoalForm]) -> None:
        """Call the services for the forms that are valid so far, inside a rolled-back transaction."""
        raise NotImplementedError

    def commit(self, forms: list[GoalForm]) -> HttpResponse:
        raise NotImplementedError

    def context(self, forms: list[GoalForm]) -> dict[str, Any]:
        return {"form": forms[0], "forms": forms}

    def respond(self, forms: list[GoalForm], *, live: bool = False) -> HttpResponse:
        context = {
            **self.context(forms),
            "live": live,
            "submitted": self.request.method == "POST" and not live,
            "validate_url": f"{self.request.path}?{VALIDATE_PARAMETER}=1",
            "unexplained": sum(len(form.unexplained_warnings) for form in forms),
            "problems": sum(form.problem_count for form in forms),
            "warning_total": sum(len(form.warnings) for form in forms),
        }
        return self.render_page(context, partial=self.partial if live else None)

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not self.allowed():
            refuse()
        return self.respond(self.forms())

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not self.allowed():
            refuse()
        forms = self.forms(request.POST)
        # An optional part of a page (a first key result left empty) comes unbound and takes no part.
        active = [form for form in forms if form.is_bound]
        live = VALIDATE_PARAMETER in request.GET
        with rehearsal():
            self.rehearse(forms)
        for form in active:
            if not form.checked:
                form.carry_over_warnings()
        if live:
            for form in active:
                form.hide_required_errors()
            return self.respond(forms, live=True)
        if all(form.ready for form in active):
            try:
                with transaction.atomic():
                    return self.commit(forms)
            except Refusal as refusal:
                refusal.form.add_problems(refusal.problems)
        return self.respond(forms)


class SingleFormPage(LiveFormPage):
    """A live form page with one form and one service call: ``save`` it, then say where to go (``saved``)."""

    def save(self, form: GoalForm) -> Any:
        raise NotImplementedError

    def saved(self, result: Any) -> HttpResponse:
        raise NotImplementedError

    def rehearse(self, forms: list[GoalForm]) -> None:
        if not forms[0].is_valid():
            return
        _, problems = attempt(lambda: self.save(forms[0]))
        forms[0].add_problems(problems)

    def commit(self, forms: list[GoalForm]) -> HttpResponse:
        return self.saved(call(forms[0], lambda: self.save(forms[0])))


# --- Cycles -----------------------------------------------------------------------------------------


class CycleOverviewView(GoalPage):
    """The current cycle (or the one the URL names) in headline figures, with what needs attention."""

    template_name = "goals/overview.html"
    partial = "cycle-view"

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        cycle = self.chosen_cycle()
        context: dict[str, Any] = {"cycles": self.cycles(), "cycle": cycle}
        if cycle is not None:
            tree = selectors.goal_tree(cycle)
            rows = [row for row, _ in tree.walk()]
            context.update(
                tree=tree,
                figures=tree.figures(),
                company_rows=[row for row in tree.roots if row.objective.level == Level.COMPANY],
                unparented=[row for row in tree.roots if row.objective.level != Level.COMPANY],
                realign_rows=[
                    row
                    for row in rows
                    if row.objective.needs_realignment and row.objective.state == ObjectiveState.ACTIVE
                ],
                behind_rows=[row for row in rows if row.key_results and row.tone == "bad"][:6],
                teams=Team.objects.order_by("name"),
                may_add=True,
            )
        if self.membership.is_admin:
            context["cycle_form"] = CycleForm(
                initial=CycleForm.suggestion(timezone.localdate(), self.cycles())
            )
        return self.render_page(context)


class CycleCreateView(SingleFormPage):
    required_role = Role.ADMIN
    template_name = "goals/cycle_form.html"

    def forms(self, data: Any = None) -> list[GoalForm]:
        return [CycleForm(data, initial=CycleForm.suggestion(timezone.localdate(), self.cycles()))]

    def save(self, form: GoalForm) -> Cycle:
        return services.cycle_create(**form.cleaned_data)

    def saved(self, cycle: Cycle) -> HttpResponse:
        messages.success(self.request, f"{cycle.name} is ready: add its company objectives next.")
        return redirect("goals:cycle_overview", org_slug=self.organization.slug, cycle_id=cycle.pk)


# --- The tree ---------------------------------------------------------------------------------------


class TreeView(GoalPage):
    """The cascade, company → team → individual, collapsible, each goal against the expected pace."""

    template_name = "goals/tree.html"
    partial = "tree"

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        cycle = self.chosen_cycle()
        context: dict[str, Any] = {"cycles": self.cycles(), "cycle": cycle}
        if cycle is not None:
            tree = selectors.goal_tree(cycle)
            context.update(tree=tree, figures=tree.figures())
        return self.render_page(context)


# --- Objectives -------------------------------------------------------------------------------------


class ObjectiveCreateView(LiveFormPage):
    """A new objective, optionally with its first key result, checked by the services as you type."""

    template_name = "goals/objective_form.html"

    def cycle(self) -> Cycle:
        cycle = self.chosen_cycle()
        assert cycle is not None
        return cycle

    def forms(self, data: Any = None) -> list[GoalForm]:
        cycle = self.cycle()
        initial: dict[str, Any] = {"owner": self.membership.pk, "team": self.membership.team_id}
        parent_id = self.request.GET.get("parent", "")
        if parent_id.isascii() and parent_id.isdigit() and len(parent_id) <= 18:
            parent = Objective.objects.filter(pk=int(parent_id), cycle=cycle).first()
            if parent is not None:
                initial["parent"] = parent.pk
                initial["level"] = Level.TEAM if parent.level == Level.COMPANY else Level.INDIVIDUAL
                initial["team"] = parent.team_id or self.membership.team_id
        objective_form = ObjectiveForm(data, membership=self.membership, cycle=cycle, initial=initial)
        typed = data is not None and any(
            str(value).strip()
            for name, value in data.items()
            if name.startswith("kr-") and not name.startswith("kr-reason_")
        )
        key_result_form = KeyResultForm(data if typed else None, prefix="kr", cycle=cycle, compact=True)
        return [objective_form, key_result_form]

    def _objective(self, form: GoalForm, **extra: Any) -> Objective:
        data = form.cleaned_data
        return services.objective_create(
            by=self.membership,
            cycle=self.cycle(),
            title=data["title"],
            description=data["description"],
            level=data["level"],
            owner=data["owner"],
            team=data["team"],
            parent=data["parent"],
            type=data["type"],
            **extra,
        )

    def _key_result(self, form: GoalForm, objective: Objective, **extra: Any) -> KeyResult:
        data = form.cleaned_data
        return services.key_result_create(
            by=self.membership,
            objective=objective,
            title=data["title"],
            unit=data["unit"],
            baseline=data["baseline"],
            target=data["target"],
            owner=objective.owner,
            parent_key_result=data["parent_key_result"],
            **extra,
        )

    def _with_key_result(self, forms: list[GoalForm]) -> bool:
        return forms[1].is_bound

    def rehearse(self, forms: list[GoalForm]) -> None:
        objective_form, key_result_form = forms
        if not objective_form.is_valid():
            return
        objective, problems = attempt(lambda: self._objective(objective_form, as_given=True))
        objective_form.add_problems(problems)
        if objective is not None and self._with_key_result(forms) and key_result_form.is_valid():
            _, kr_problems = attempt(lambda: self._key_result(key_result_form, objective, as_given=True))
            key_result_form.add_problems(kr_problems)

    def commit(self, forms: list[GoalForm]) -> HttpResponse:
        objective_form, key_result_form = forms
        objective = call(
            objective_form,
            lambda: self._objective(objective_form, warning_reasons=objective_form.warning_reasons()),
        )
        if self._with_key_result(forms):
            call(
                key_result_form,
                lambda: self._key_result(
                    key_result_form, objective, warning_reasons=key_result_form.warning_reasons()
                ),
            )
        messages.success(self.request, f"Saved “{objective.title}”.")
        return redirect("goals:objective_detail", org_slug=self.organization.slug, objective_id=objective.pk)

    def context(self, forms: list[GoalForm]) -> dict[str, Any]:
        return {"form": forms[0], "kr_form": forms[1], "forms": forms, "cycle": self.cycle()}


class ObjectiveDetailView(GoalPage):
    template_name = "goals/objective_detail.html"

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        objective = self.objective()
        tree = selectors.goal_tree(objective.cycle)
        row = tree.rows[objective.pk]
        objective = row.objective
        key_result_ids = [kr_row.key_result.pk for kr_row in row.key_results]
        for kr_row in row.key_results:
            kr_row.line_of_sight = line_of_sight_sentence(kr_row.key_result, viewer=self.membership)
        contributors: dict[int, list[Membership]] = {}
        for link in KeyResultContributor.objects.filter(key_result_id__in=key_result_ids).select_related(
            "membership__user"
        ):
            contributors.setdefault(link.key_result_id, []).append(link.membership)
        initiatives: dict[int, list[Initiative]] = {}
        for initiative in Initiative.objects.filter(key_result_id__in=key_result_ids).select_related(
            "owner__user"
        ):
            initiatives.setdefault(initiative.key_result_id, []).append(initiative)
        chain: list[Objective] = []
        parent = objective.parent
        while parent is not None and parent.pk not in {o.pk for o in chain}:
            chain.append(parent)
            parent = parent.parent
        manage = may_manage_objective(self.membership, objective)
        return self.render_page(
            {
                "cycle": objective.cycle,
                "objective": objective,
                "row": row,
                "chain": list(reversed(chain)),
                "contributors": contributors,
                "initiatives": initiatives,
                "kpis": selectors.kpi_board(objective=objective),
                "timeline": selectors.objective_timeline(objective),
                "may_manage": manage,
                "may_confirm": objective.needs_realignment
                and (objective.owner_id == self.membership.pk or self.membership.is_admin),
                "good_score": "70%" if objective.is_aspirational else "100%",
                "key_results": [
                    (
                        kr_row,
                        contributors.get(kr_row.key_result.pk, []),
                        initiatives.get(kr_row.key_result.pk, []),
                    )
                    for kr_row in row.key_results
                ],
            }
        )


class ObjectiveEditView(LiveFormPage):
    template_name = "goals/objective_form.html"

    def get_objective(self) -> Objective:
        if not hasattr(self, "_objective"):
            self._objective = self.objective()
        return self._objective

    def allowed(self) -> bool:
        return may_manage_objective(self.membership, self.get_objective())

    def forms(self, data: Any = None) -> list[GoalForm]:
        objective = self.get_objective()
        initial = {
            "title": objective.title,
            "description": objective.description,
            "parent": objective.parent_id,
            "owner": objective.owner_id,
            "team": objective.team_id,
            "type": objective.type,
        }
        return [
            ObjectiveForm(
                data, membership=self.membership, cycle=objective.cycle, objective=objective, initial=initial
            )
        ]

    def _update(self, form: GoalForm, objective: Objective, **extra: Any) -> Objective:
        return services.objective_update(
            objective=objective, by=self.membership, changes=form.cleaned_data, **extra
        )

    def rehearse(self, forms: list[GoalForm]) -> None:
        if not forms[0].is_valid():
            return
        # A fresh copy: the service changes the instance it is given, and this one is rolled back.
        objective = Objective.objects.get(pk=self.get_objective().pk)
        before = len(objective.warnings)
        updated, problems = attempt(lambda: self._update(forms[0], objective, as_given=True))
        if updated is not None:
            problems = recorded_warnings(updated.warnings[before:])
        forms[0].add_problems(problems)

    def commit(self, forms: list[GoalForm]) -> HttpResponse:
        objective = Objective.objects.get(pk=self.get_objective().pk)
        call(
            forms[0],
            lambda: self._update(forms[0], objective, warning_reasons=forms[0].warning_reasons()),
        )
        messages.success(self.request, f"Saved “{objective.title}”.")
        return redirect("goals:objective_detail", org_slug=self.organization.slug, objective_id=objective.pk)

    def context(self, forms: list[GoalForm]) -> dict[str, Any]:
        objective = self.get_objective()
        return {"form": forms[0], "forms": forms, "objective": objective, "cycle": objective.cycle}


class ObjectiveStateView(LiveFormPage):
    """Pause, cancel, resume or finish an objective; pausing and cancelling ask for a reason."""

    template_name = "goals/objective_state.html"

    def get_objective(self) -> Objective:
        if not hasattr(self, "_objective"):
            self._objective = self.objective()
        return self._objective

    def allowed(self) -> bool:
        return may_manage_objective(self.membership, self.get_objective())

    def forms(self, data: Any = None) -> list[GoalForm]:
        state = self.request.GET.get("state", ObjectiveState.PAUSED)
        if state not in ObjectiveState.values:
            state = ObjectiveState.PAUSED
        return [ObjectiveStateForm(data, initial={"state": state})]

    def _set(self, form: GoalForm, objective: Objective) -> Objective:
        return services.objective_set_state(
            objective=objective,
            by=self.membership,
            state=form.cleaned_data["state"],
            reason=form.cleaned_data["reason"],
        )

    def rehearse(self, forms: list[GoalForm]) -> None:
        if not forms[0].is_valid():
            return
        objective = Objective.objects.get(pk=self.get_objective().pk)
        _, problems = attempt(lambda: self._set(forms[0], objective))
        forms[0].add_problems([problem for problem in problems if not problem.is_warning])

    def commit(self, forms: list[GoalForm]) -> HttpResponse:
        objective = self.get_objective()
        call(forms[0], lambda: self._set(forms[0], objective))
        messages.success(self.request, f"“{objective.title}” is {objective.get_state_display().lower()}.")
        return redirect("goals:objective_detail", org_slug=self.organization.slug, objective_id=objective.pk)

    def context(self, forms: list[GoalForm]) -> dict[str, Any]:
        objective = self.get_objective()
        state = forms[0]["state"].value() or ObjectiveState.PAUSED
        return {
            "form": forms[0],
            "forms": forms,
            "objective": objective,
            "cycle": objective.cycle,
            "state_label": ObjectiveState(state).label if state in ObjectiveState.values else "",
        }


class ObjectiveConfirmAlignmentView(GoalPage):
    """The owner confirms that the objective still serves its changed parent (POST only)."""

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        objective = self.objective()
        if not may_confirm_alignment(self.membership, objective):
            refuse()
        if objective.needs_realignment:
            services.objective_confirm_alignment(objective=objective, by=self.membership)
            messages.success(request, f"Confirmed: “{objective.title}” still serves its parent.")
        return redirect("goals:objective_detail", org_slug=self.organization.slug, objective_id=objective.pk)


# --- Key results ------------------------------------------------------------------------------------


class KeyResultCreateView(LiveFormPage):
    template_name = "goals/key_result_form.html"

    def get_objective(self) -> Objective:
        if not hasattr(self, "_objective"):
            self._objective = self.objective()
        return self._objective

    def allowed(self) -> bool:
        return may_manage_objective(self.membership, self.get_objective())

    def forms(self, data: Any = None) -> list[GoalForm]:
        objective = self.get_objective()
        return [
            KeyResultForm(
                data,
                cycle=objective.cycle,
                objective=objective,
                initial={"owner": objective.owner_id},
            )
        ]

    def _create(self, form: GoalForm, **extra: Any) -> KeyResult:
        data = form.cleaned_data
        objective = self.get_objective()
        return services.key_result_create(
            by=self.membership,
            objective=objective,
            title=data["title"],
            unit=data["unit"],
            baseline=data["baseline"],
            target=data["target"],
            direction=data["direction"] or None,
            owner=data["owner"] or objective.owner,
            contributors=data["contributors"],
            parent_key_result=data["parent_key_result"],
            **extra,
        )

    def rehearse(self, forms: list[GoalForm]) -> None:
        if not forms[0].is_valid():
            return
        _, problems = attempt(lambda: self._create(forms[0], as_given=True))
        forms[0].add_problems(problems)

    def commit(self, forms: list[GoalForm]) -> HttpResponse:
        key_result = call(
            forms[0], lambda: self._create(forms[0], warning_reasons=forms[0].warning_reasons())
        )
        messages.success(self.request, f"Added the key result “{key_result.title}”.")
        return redirect(
            "goals:objective_detail", org_slug=self.organization.slug, objective_id=key_result.objective_id
        )

    def context(self, forms: list[GoalForm]) -> dict[str, Any]:
        objective = self.get_objective()
        return {"form": forms[0], "forms": forms, "objective": objective, "cycle": objective.cycle}


class KeyResultDetailView(GoalPage):
    template_name = "goals/key_result_detail.html"

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        key_result = self.key_result()
        objective = key_result.objective
        tree = selectors.goal_tree(objective.cycle)
        row = tree.rows[objective.pk]
        kr_row = next(r for r in row.key_results if r.key_result.pk == key_result.pk)
        key_result = kr_row.key_result
        series = selectors.key_result_value_series(key_result)
        lines = [
            charts.ReferenceLine(key_result.target, "Target", "target"),
            charts.ReferenceLine(key_result.baseline, "Baseline", "baseline"),
        ]
        rolled_up_from = [
            other
            for other in tree.key_result_rows()
            if other.key_result.parent_key_result_id == key_result.pk
        ]
        may_progress = may_record_progress(self.membership, key_result)
        return self.render_page(
            {
                "cycle": objective.cycle,
                "objective": row.objective,
                "row": row,
                "kr_row": kr_row,
                "key_result": key_result,
                "line_of_sight": line_of_sight_sentence(key_result, viewer=self.membership),
                "contributors": [
                    link.membership
                    for link in KeyResultContributor.objects.filter(key_result=key_result).select_related(
                        "membership__user"
                    )
                ],
                "initiatives": Initiative.objects.filter(key_result=key_result).select_related("owner__user"),
                "rolled_up_from": rolled_up_from,
                "has_series": bool(series),
                "chart": charts.series_chart(
                    series,
                    unit=key_result.unit,
                    label=f"{key_result.title}: {len(series)} recorded values against baseline and target",
                    lines=lines,
                ),
                "timeline": selectors.key_result_timeline(key_result),
                "may_manage": may_manage_objective(self.membership, objective),
                "may_progress": may_progress,
                "progress_form": ProgressForm(
                    key_result=key_result,
                    initial={
                        "value": _plain(key_result.current_value),
                        "confidence": round(key_result.confidence * 100)
                        if key_result.confidence is not None
                        else None,
                    },
                )
                if may_progress
                else None,
            }
        )


class KeyResultEditView(LiveFormPage):
    template_name = "goals/key_result_form.html"

    def get_key_result(self) -> KeyResult:
        if not hasattr(self, "_key_result"):
            self._key_result = self.key_result()
        return self._key_result

    def allowed(self) -> bool:
        return may_manage_objective(self.membership, self.get_key_result().objective)

    def forms(self, data: Any = None) -> list[GoalForm]:
        key_result = self.get_key_result()
        initial = {
            "title": key_result.title,
            "unit": key_result.unit,
            "baseline": _plain(key_result.baseline),
            "target": _plain(key_result.target),
            "direction": key_result.direction,
            "owner": key_result.owner_id,
            "contributors": list(
                KeyResultContributor.objects.filter(key_result=key_result).values_list(
                    "membership_id", flat=True
                )
            ),
            "parent_key_result": key_result.parent_key_result_id,
        }
        return [
            KeyResultForm(
                data,
                cycle=key_result.objective.cycle,
                objective=key_result.objective,
                key_result=key_result,
                initial=initial,
            )
        ]

    def _update(self, form: GoalForm, key_result: KeyResult) -> KeyResult:
        data = dict(form.cleaned_data)
        contributors = data.pop("contributors")
        if not data["direction"]:
            data["direction"] = (
                Direction.INCREASE if data["target"] >= data["baseline"] else Direction.DECREASE
            )
        return services.key_result_update(
            key_result=key_result, by=self.membership, changes=data, contributors=contributors
        )

    def rehearse(self, forms: list[GoalForm]) -> None:
        if not forms[0].is_valid():
            return
        key_result = KeyResult.objects.select_related("objective").get(pk=self.get_key_result().pk)
        _, problems = attempt(lambda: self._update(forms[0], key_result))
        forms[0].add_problems(problems)

    def commit(self, forms: list[GoalForm]) -> HttpResponse:
        key_result = KeyResult.objects.select_related("objective").get(pk=self.get_key_result().pk)
        call(forms[0], lambda: self._update(forms[0], key_result))
        messages.success(self.request, f"Saved “{key_result.title}”.")
        return redirect(
            "goals:key_result_detail", org_slug=self.organization.slug, key_result_id=key_result.pk
        )

    def context(self, forms: list[GoalForm]) -> dict[str, Any]:
        key_result = self.get_key_result()
        return {
            "form": forms[0],
            "forms": forms,
            "key_result": key_result,
            "objective": key_result.objective,
            "cycle": key_result.objective.cycle,
        }


class KeyResultProgressView(LiveFormPage):
    """Record a key result's new value, confidence and a note: the only way progress moves."""

    template_name = "goals/progress_form.html"

    def get_key_result(self) -> KeyResult:
        if not hasattr(self, "_key_result"):
            self._key_result = self.key_result()
        return self._key_result

    def allowed(self) -> bool:
        return may_record_progress(self.membership, self.get_key_result())

    def forms(self, data: Any = None) -> list[GoalForm]:
        key_result = self.get_key_result()
        initial = {
            "value": _plain(key_result.current_value),
            "confidence": round(key_result.confidence * 100) if key_result.confidence is not None else None,
        }
        return [ProgressForm(data, key_result=key_result, initial=initial)]

    def _record(self, form: GoalForm, key_result: KeyResult) -> KeyResult:
        data = form.cleaned_data
        return services.key_result_record_progress(
            key_result=key_result,
            by=self.membership,
            value=data["value"],
            confidence=data["confidence"] / 100 if data["confidence"] is not None else None,
            note=data["note"],
        )

    def rehearse(self, forms: list[GoalForm]) -> None:
        if not forms[0].is_valid():
            return
        key_result = KeyResult.objects.get(pk=self.get_key_result().pk)
        _, problems = attempt(lambda: self._record(forms[0], key_result))
        forms[0].add_problems(problems)

    def commit(self, forms: list[GoalForm]) -> HttpResponse:
        key_result = self.get_key_result()
        call(forms[0], lambda: self._record(forms[0], key_result))
        messages.success(
            self.request,
            f"Recorded {charts.number(key_result.current_value)} {key_result.unit} for “{key_result.title}” "
            f"({charts.percent(key_result.progress)} of the way).",
        )
        return redirect(
            "goals:key_result_detail", org_slug=self.organization.slug, key_result_id=key_result.pk
        )

    def context(self, forms: list[GoalForm]) -> dict[str, Any]:
        key_result = self.get_key_result()
        return {
            "form": forms[0],
            "forms": forms,
            "key_result": key_result,
            "objective": key_result.objective,
            "cycle": key_result.objective.cycle,
            "progress_percent": charts.percent(key_result.progress),
            "baseline": charts.number(key_result.baseline),
            "target": charts.number(key_result.target),
        }


# --- My goals ---------------------------------------------------------------------------------------


class MyGoalsView(GoalPage):
    template_name = "goals/my_goals.html"
    partial = "my-goals"

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        cycle = self.chosen_cycle()
        context: dict[str, Any] = {"cycles": self.cycles(), "cycle": cycle}
        if cycle is not None:
            context["mine"] = selectors.my_goals(self.membership, cycle)
        return self.render_page(context)


# --- KPIs -------------------------------------------------------------------------------------------


class KPIBoardView(GoalPage):
    template_name = "goals/kpi_board.html"

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        rows = selectors.kpi_board()
        counts = {
            status: sum(1 for row in rows if row.status == status) for status in ("green", "amber", "red")
        }
        return self.render_page(
            {
                "rows": rows,
                "counts": counts,
                "unread": sum(1 for row in rows if row.status is None),
                "may_add": role_allows(self.membership, Role.MANAGER),
            }
        )


class KPICreateView(SingleFormPage):
    required_role = Role.MANAGER
    template_name = "goals/kpi_form.html"

    def forms(self, data: Any = None) -> list[GoalForm]:
        return [
            KPIForm(
                data,
                cycle=selectors.current_cycle(self.cycles()),
                initial={"owner": self.membership.pk, "team": self.membership.team_id},
            )
        ]

    def save(self, form: GoalForm) -> KPI:
        return services.kpi_create(by=self.membership, **form.cleaned_data)

    def saved(self, kpi: KPI) -> HttpResponse:
        messages.success(self.request, f"Added the KPI “{kpi.name}”: record its first reading.")
        return redirect("goals:kpi_detail", org_slug=self.organization.slug, kpi_id=kpi.pk)


class KPIEditView(SingleFormPage):
    """Change a KPI's name, unit, direction, thresholds, owner or team (its tags stay as they are)."""

    required_role = Role.MANAGER
    template_name = "goals/kpi_form.html"

    def get_kpi(self) -> KPI:
        if not hasattr(self, "_kpi"):
            self._kpi = get_object_or_404(KPI, pk=self.kwargs["kpi_id"])
        return self._kpi

    def forms(self, data: Any = None) -> list[GoalForm]:
        kpi = self.get_kpi()
        form = KPIForm(
            data,
            cycle=None,
            initial={
                "name": kpi.name,
                "unit": kpi.unit,
                "direction": kpi.direction,
                "green": _plain(kpi.green),
                "red": _plain(kpi.red),
                "owner": kpi.owner_id,
                "team": kpi.team_id,
            },
        )
        del form.fields["objectives"]
        return [form]

    def context(self, forms: list[GoalForm]) -> dict[str, Any]:
        return {**super().context(forms), "kpi": self.get_kpi()}

    def save(self, form: GoalForm) -> KPI:
        # A fresh copy each time: the rehearsal's changes to it are rolled back in the database only.
        kpi = get_object_or_404(KPI, pk=self.kwargs["kpi_id"])
        return services.kpi_update(kpi=kpi, by=self.membership, changes=form.cleaned_data)

    def saved(self, kpi: KPI) -> HttpResponse:
        messages.success(self.request, f"Saved the KPI “{kpi.name}”.")
        return redirect("goals:kpi_detail", org_slug=self.organization.slug, kpi_id=kpi.pk)


class KPIDetailView(GoalPage):
    template_name = "goals/kpi_detail.html"

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        kpi = get_object_or_404(KPI.objects.select_related("owner__user", "team"), pk=self.kwargs["kpi_id"])
        row = selectors.kpi_detail(kpi)
        may_read = may_record_reading(self.membership, kpi)
        return self.render_page(
            {
                "kpi": kpi,
                "row": row,
                "recent": [
                    (reading, charts.number(reading.value)) for reading in reversed(row.readings[-10:])
                ],
                "may_read": may_read,
                "reading_form": KPIReadingForm(kpi=kpi) if may_read else None,
                "reading_url": reverse(
                    "goals:kpi_reading", kwargs={"org_slug": self.organization.slug, "kpi_id": kpi.pk}
                ),
            }
        )


class KPIReadingView(LiveFormPage):
    """Record a KPI reading. When it crosses a threshold or moves far, the form asks for a comment and the
    objective it concerns, as ``kpi_record_reading`` says."""

    template_name = "goals/kpi_reading_form.html"

    def get_kpi(self) -> KPI:
        if not hasattr(self, "_kpi"):
            self._kpi = get_object_or_404(KPI, pk=self.kwargs["kpi_id"])
        return self._kpi

    def allowed(self) -> bool:
        return may_record_reading(self.membership, self.get_kpi())

    def forms(self, data: Any = None) -> list[GoalForm]:
        return [KPIReadingForm(data, kpi=self.get_kpi())]

    def _record(self, form: GoalForm) -> Any:
        data = form.cleaned_data
        return services.kpi_record_reading(
            kpi=self.get_kpi(),
            by=self.membership,
            value=data["value"],
            note=data["note"],
            objective=data["objective"],
        )

    def rehearse(self, forms: list[GoalForm]) -> None:
        if not forms[0].is_valid():
            return
        _, problems = attempt(lambda: self._record(forms[0]))
        forms[0].add_problems(problems)

    def commit(self, forms: list[GoalForm]) -> HttpResponse:
        reading = call(forms[0], lambda: self._record(forms[0]))
        kpi = self.get_kpi()
        messages.success(self.request, f"Recorded {charts.number(reading.value)} {kpi.unit} for {kpi.name}.")
        return redirect("goals:kpi_detail", org_slug=self.organization.slug, kpi_id=kpi.pk)

    def context(self, forms: list[GoalForm]) -> dict[str, Any]:
        kpi = self.get_kpi()
        return {
            "form": forms[0],
            "forms": forms,
            "kpi": kpi,
            "reading_form": forms[0],
            "green": charts.number(kpi.green),
            "red": charts.number(kpi.red),
        }


# --- Alignment --------------------------------------------------------------------------------------


class TeamAlignmentView(GoalPage):
    """A team's alignment map: what it serves, what rolls into it, what it is measured by."""

    template_name = "goals/team_alignment.html"
    partial = "alignment"

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        team = get_object_or_404(Team.objects.select_related("lead__user"), pk=self.kwargs["team_id"])
        cycle = selectors.current_cycle(self.cycles())
        context: dict[str, Any] = {"team": team, "cycle": cycle, "teams": Team.objects.order_by("name")}
        if cycle is not None:
            context["map"] = selectors.team_alignment(team, cycle, viewer=self.membership)
        return self.render_page(context)
