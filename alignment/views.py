"""The drift pages: the leader dashboard (the organisation's home page), each goal's drift page, and acting
on a finding.

Every page runs through ``OrganizationViewMixin`` (membership checked, organisation in context; another
organisation's goal or finding is a 404). One URL serves a whole page or, for htmx, the part it swaps: the
dashboard's live part when the filters change, and again when it polls with the stamp of what it shows and
new scoring has landed since (an unchanged stamp answers 204, and htmx leaves the page as it is).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.views import View

from alignment import services
from alignment.dashboard import (
    KEY_RESULT,
    KIND_LABELS,
    Goal,
    dashboard_cycle,
    leader_dashboard,
    scoring_state,
)
from alignment.forms import FindingNoteForm
from alignment.goal_drift import (
    finding_subject_goal,
    goal_drift_page,
    goal_of_key_result,
    goal_of_objective,
    may_act_on_findings,
)
from alignment.models import Finding
from goals import selectors as goal_selectors
from goals.models import KeyResult, Objective
from okrsignal.permissions import OrganizationViewMixin, refuse

# How often an open dashboard asks whether new scoring has landed.
POLL_SECONDS = 30
# The query parameter carrying the stamp of what an open dashboard shows.
STAMP_PARAMETER = "since"
# The event that makes an open dashboard ask at once (besides its timer).
POLL_EVENT = "drift-poll"


class LeaderDashboardView(OrganizationViewMixin, View):
    """``/o/<slug>/``: which goals are diverging in the current cycle (or ``?cycle=<id>``), since when and
    why, filtered by ``?team=``, ``?level=`` and ``?kind=``."""

    template_name = "alignment/dashboard.html"

    def get(self, request: HttpRequest, org_slug: str) -> HttpResponse:
        cycles = goal_selectors.cycles_newest_first()
        chosen = request.GET.get("cycle") or None
        try:
            cycle = dashboard_cycle(cycles, chosen)
        except LookupError:
            raise Http404("No such cycle.") from None
        state = scoring_state(cycle) if cycle is not None else None
        is_htmx = bool(request.htmx)  # type: ignore[attr-defined]
        if is_htmx and state is not None and request.GET.get(STAMP_PARAMETER) == state.stamp:
            response = HttpResponse(status=204)
            patch_vary_headers(response, ["HX-Request"])
            return response
        dashboard = leader_dashboard(self.membership, cycle, cycles=cycles, query=request.GET, state=state)
        base = reverse("organization_home", kwargs={"org_slug": org_slug})
        params = dashboard.filters.params()
        if chosen:
            params = {"cycle": chosen, **params}
        context: dict[str, Any] = {
            "membership": self.membership,
            "dashboard": dashboard,
            "cycle": cycle,
            "chosen_cycle": chosen,
            "dashboard_url": base,
            "clear_url": f"{base}?{urlencode({'cycle': chosen})}" if chosen else base,
            "show_all_url": f"{base}?{urlencode({**params, 'show': 'all'})}",
            "poll_url": f"{base}?{urlencode({**params, STAMP_PARAMETER: dashboard.stamp})}",
            "poll_trigger": f"every {POLL_SECONDS}s, {POLL_EVENT}",
        }
        name = f"{self.template_name}#live" if is_htmx else self.template_name
        response = render(request, name, context)
        patch_vary_headers(response, ["HX-Request"])
        return response


class GoalDriftView(OrganizationViewMixin, View):
    """A key result's or an objective's drift page."""

    template_name = "alignment/goal_drift.html"
    subject = KEY_RESULT

    def goal(self) -> Goal:
        if self.subject == KEY_RESULT:
            key_result = get_object_or_404(
                KeyResult.objects.select_related(
                    "objective__cycle", "objective__team", "objective__owner__user", "owner__user"
                ),
                pk=self.kwargs["key_result_id"],
            )
            return goal_of_key_result(key_result)
        objective = get_object_or_404(
            Objective.objects.select_related("cycle", "team", "owner__user", "parent"),
            pk=self.kwargs["objective_id"],
        )
        return goal_of_objective(objective)

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return render_goal_drift(request, self.goal())


def render_goal_drift(
    request: HttpRequest,
    goal: Goal,
    *,
    errors: dict[int, str] | None = None,
    notes: dict[int, str] | None = None,
    status: int = 200,
) -> HttpResponse:
    membership = request.membership  # type: ignore[attr-defined]
    page = goal_drift_page(membership, goal, slug=request.organization.slug, errors=errors, notes=notes)  # type: ignore[attr-defined]
    return render(
        request,
        "alignment/goal_drift.html",
        {"membership": membership, "page": page, "goal": goal, "cycle": page.cycle},
        status=status,
    )


class FindingActionView(OrganizationViewMixin, View):
    """POST only: acknowledge or resolve a finding with a note, through the services (which keep who, when
    and why in the finding's history). Only those who may act on the goal's findings may."""

    action = "acknowledge"

    def post(self, request: HttpRequest, org_slug: str, finding_id: int) -> HttpResponse:
        finding = get_object_or_404(
            Finding.objects.select_related(
                "cycle",
                "key_result__objective__cycle",
                "key_result__objective__team",
                "key_result__objective__owner__user",
                "key_result__owner__user",
                "objective__cycle",
                "objective__team",
                "objective__owner__user",
            ),
            pk=finding_id,
        )
        goal = finding_subject_goal(finding)
        if not may_act_on_findings(self.membership, goal):
            refuse()
        form = FindingNoteForm(request.POST)
        note = form.cleaned_data["note"] if form.is_valid() else ""
        try:
            if not form.is_valid():
                raise ValidationError({"note": form.errors["note"]})
            if self.action == "resolve":
                services.finding_resolve(finding=finding, by=self.membership, note=note)
            else:
                services.finding_acknowledge(finding=finding, by=self.membership, note=note)
        except ValidationError as error:
            problem = " ".join(error.messages)
            return render_goal_drift(
                request,
                goal,
                errors={finding.pk: problem},
                notes={finding.pk: request.POST.get("note", "")},
                status=400,
            )
        kind = KIND_LABELS.get(finding.kind, finding.kind)
        done = "Resolved" if self.action == "resolve" else "Acknowledged"
        messages.success(request, f"{done} “{kind}” on “{goal.title}”.")
        url = reverse(goal.url_name, kwargs={"org_slug": org_slug, f"{goal.kind}_id": goal.id})
        return redirect(f"{url}#finding-{finding.pk}")
