"""The drift review pages under ``/o/<org_slug>/drift/``: the cascade coloured by drift, the manager's team,
the KPI guardrail board and the quarter review.

Each speaks of the current cycle or of ``?cycle=<id>`` (another organisation's cycle, or no cycle, is a 404,
as on the leader dashboard). The cascade also takes ``?team=<id>`` for the alignment map it shows, and serves
only that map to htmx when the team changes. Pages run through ``OrganizationViewMixin``: membership
checked, organisation in context.
"""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.views import View

from alignment import review
from alignment.dashboard import dashboard_cycle
from goals import selectors as goal_selectors
from goals.models import Cycle
from okrsignal.models import Role
from okrsignal.permissions import OrganizationViewMixin, role_allows


class ReviewPage(OrganizationViewMixin, View):
    """A drift review page for one cycle: the current one, or the one ``?cycle=`` names."""

    template_name = ""
    url_name = ""

    def cycle_and_choices(self) -> tuple[Cycle | None, list[Cycle], str | None]:
        cycles = goal_selectors.cycles_newest_first()
        chosen = self.request.GET.get("cycle") or None
        try:
            cycle = dashboard_cycle(cycles, chosen)
        except LookupError:
            raise Http404("No such cycle.") from None
        return cycle, cycles, chosen

    def render_page(
        self, context: dict[str, Any], *, cycle: Cycle | None, cycles: list[Cycle], partial: str | None = None
    ) -> HttpResponse:
        page_url = reverse(self.url_name, kwargs={"org_slug": self.organization.slug})
        name = f"{self.template_name}#{partial}" if partial else self.template_name
        response = render(
            self.request,
            name,
            {
                "membership": self.membership,
                "cycle": cycle,
                "cycles": cycles,
                "page_url": page_url,
                "drift_bands": review.DRIFT_BANDS,
                **context,
            },
        )
        patch_vary_headers(response, ["HX-Request"])
        return response


class CascadeView(ReviewPage):
    """The company → team → individual tree coloured by drift, and a team's alignment map."""

    template_name = "alignment/cascade.html"
    url_name = "alignment:cascade"

    def get(self, request: HttpRequest, org_slug: str) -> HttpResponse:
        cycle, cycles, chosen = self.cycle_and_choices()
        team_param = request.GET.get("team") or None
        if team_param is not None and not team_param.isdigit():
            raise Http404("No such team.")
        page = None
        if cycle is not None:
            try:
                page = review.cascade_page(
                    self.membership, cycle, team_id=int(team_param) if team_param is not None else None
                )
            except LookupError:
                raise Http404("No such team.") from None
        is_htmx = bool(request.htmx)  # type: ignore[attr-defined]
        return self.render_page(
            {"page": page, "chosen_cycle": chosen},
            cycle=cycle,
            cycles=cycles,
            partial="team-map" if is_htmx and page is not None else None,
        )


class TeamView(ReviewPage):
    """Everyone who reports to the viewer (admins: everyone), with their effort, check-ins and findings."""

    template_name = "alignment/team.html"
    url_name = "alignment:team"

    def get(self, request: HttpRequest, org_slug: str) -> HttpResponse:
        cycle, cycles, chosen = self.cycle_and_choices()
        page = review.team_page(self.membership, cycle)
        return self.render_page({"page": page, "chosen_cycle": chosen}, cycle=cycle, cycles=cycles)


class KPIGuardrailsView(ReviewPage):
    """KPIs with their thresholds and status beside the objectives they guard, conflicts first."""

    template_name = "alignment/kpi_guardrails.html"
    url_name = "alignment:kpi_guardrails"

    def get(self, request: HttpRequest, org_slug: str) -> HttpResponse:
        cycle, cycles, chosen = self.cycle_and_choices()
        page = review.kpi_guardrails(cycle) if cycle is not None else None
        return self.render_page(
            {"page": page, "chosen_cycle": chosen, "may_add_kpi": role_allows(self.membership, Role.MANAGER)},
            cycle=cycle,
            cycles=cycles,
        )


class QuarterReviewView(ReviewPage):
    """Per objective: when and why it drifted over the quarter, and who moved it without credit."""

    template_name = "alignment/quarter_review.html"
    url_name = "alignment:quarter_review"

    def get(self, request: HttpRequest, org_slug: str) -> HttpResponse:
        cycle, cycles, chosen = self.cycle_and_choices()
        page = review.quarter_review(self.membership, cycle) if cycle is not None else None
        return self.render_page({"page": page, "chosen_cycle": chosen}, cycle=cycle, cycles=cycles)
