"""The goal pages: every page renders for its people, forms check as you type with the services' own rules,
warnings need a written reason, and the pages' query counts do not grow with the number of goals."""

from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from goals import services
from goals.models import KPI, Cycle, KeyResult, KPIReading, Level, Objective, ObjectiveState
from okrsignal.tenancy import tenant_context
from tests.conftest import client_for
from tests.factories import OrgWorld

HTMX = {"HX-Request": "true"}


@dataclass
class Goals:
    world: OrgWorld
    cycle: Cycle
    company: Objective
    company_kr: KeyResult
    team: Objective
    team_kr: KeyResult
    person: Objective
    person_kr: KeyResult
    kpi: KPI

    def url(self, name: str, **kwargs: object) -> str:
        return reverse(f"goals:{name}", kwargs={"org_slug": self.world.slug, **kwargs})


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time(9), tzinfo=UTC)


def build_goals(world: OrgWorld) -> Goals:
    """A cycle running today: company ← team ← individual objective, each with a key result, and a KPI."""
    today = timezone.localdate()
    with tenant_context(world.organization):
        cycle = services.cycle_create(
            name="Current quarter", start=today - timedelta(days=30), end=today + timedelta(days=60)
        )
        at = _start_of(cycle.start)
        company = services.objective_create(
            by=world.admin,
            cycle=cycle,
            title="Improve net revenue retention by 10%",
            level=Level.COMPANY,
            owner=world.admin,
            at=at,
        )
        company_kr = services.key_result_create(
            by=world.admin,
            objective=company,
            title="Net revenue retention from 100% to 110%",
            unit="%",
            baseline=100,
            target=110,
            owner=world.admin,
            at=at,
        )
        team = services.objective_create(
            by=world.manager,
            cycle=cycle,
            title="Keep enterprise customers renewing to lift revenue retention",
            level=Level.TEAM,
            owner=world.manager,
            team=world.team,
            parent=company,
            at=at,
        )
        team_kr = services.key_result_create(
            by=world.manager,
            objective=team,
            title="Renewal rate from 80% to 90%",
            unit="%",
            baseline=80,
            target=90,
            owner=world.manager,
            parent_key_result=company_kr,
            at=at,
        )
        person = services.objective_create(
            by=world.report,
            cycle=cycle,
            title="Resolve renewal blockers for enterprise customers",
            level=Level.INDIVIDUAL,
            owner=world.report,
            parent=team,
            at=at,
        )
        person_kr = services.key_result_create(
            by=world.report,
            objective=person,
            title="Renewal blockers resolved from 0 to 12",
            unit="blockers",
            baseline=0,
            target=12,
            owner=world.report,
            contributors=[world.peer],
            parent_key_result=team_kr,
            at=at,
        )
        services.key_result_record_progress(
            key_result=person_kr, by=world.report, value=5, note="Five unblocked", at=at + timedelta(days=7)
        )
        kpi = services.kpi_create(
            by=world.admin,
            name="Monthly logo churn",
            unit="%",
            direction="decrease",
            green=1.0,
            red=2.0,
            owner=world.admin,
            team=world.team,
            objectives=[company],
            at=at,
        )
        for week, value in enumerate([0.8, 0.9, 0.85]):
            services.kpi_record_reading(
                kpi=kpi, by=world.admin, value=value, at=at + timedelta(days=7 * week)
            )
    return Goals(world, cycle, company, company_kr, team, team_kr, person, person_kr, kpi)


@pytest.fixture
def goals(acme: OrgWorld) -> Goals:
    return build_goals(acme)


def _count(model: type, organization: object, **filters: object) -> int:
    with tenant_context(organization):  # type: ignore[arg-type]
        return model.objects.filter(**filters).count()  # type: ignore[attr-defined]


def _feedback(response: object, field: str) -> str:
    """The feedback shown beside one field of a rendered form."""
    return _feedback_of(response.content.decode(), field)  # type: ignore[attr-defined]


def _feedback_of(body: str, field: str) -> str:
    start = body.index(f'id="feedback-{field}"')
    end = body.find('<div class="field', start)
    return body[start : end if end != -1 else len(body)]


def _reload(instance: object, organization: object) -> object:
    with tenant_context(organization):  # type: ignore[arg-type]
        return type(instance).objects.get(pk=instance.pk)  # type: ignore[attr-defined]


# --- Every page renders -----------------------------------------------------------------------------


def _member_pages(goals: Goals) -> list[str]:
    return [
        goals.url("overview"),
        goals.url("cycle_overview", cycle_id=goals.cycle.pk),
        goals.url("tree"),
        goals.url("cycle_tree", cycle_id=goals.cycle.pk),
        goals.url("objective_create", cycle_id=goals.cycle.pk),
        goals.url("objective_detail", objective_id=goals.company.pk),
        goals.url("objective_detail", objective_id=goals.person.pk),
        goals.url("key_result_detail", key_result_id=goals.company_kr.pk),
        goals.url("key_result_detail", key_result_id=goals.person_kr.pk),
        goals.url("my_goals"),
        goals.url("cycle_my_goals", cycle_id=goals.cycle.pk),
        goals.url("kpi_board"),
        goals.url("kpi_detail", kpi_id=goals.kpi.pk),
        goals.url("team_alignment", team_id=goals.world.team.pk),
    ]


def test_every_goal_page_renders_for_an_employee(goals: Goals) -> None:
    client = client_for(goals.world.report)
    for url in _member_pages(goals):
        response = client.get(url)
        assert response.status_code == 200, url


def test_an_employee_edits_their_own_goals(goals: Goals) -> None:
    client = client_for(goals.world.report)
    for url in [
        goals.url("objective_edit", objective_id=goals.person.pk),
        goals.url("objective_state", objective_id=goals.person.pk),
        goals.url("key_result_create", objective_id=goals.person.pk),
        goals.url("key_result_edit", key_result_id=goals.person_kr.pk),
        goals.url("key_result_progress", key_result_id=goals.person_kr.pk),
    ]:
        assert client.get(url).status_code == 200, url


def test_an_admin_reaches_every_form(goals: Goals) -> None:
    client = client_for(goals.world.admin)
    for url in [
        *_member_pages(goals),
        goals.url("cycle_create"),
        goals.url("kpi_create"),
        goals.url("kpi_reading", kpi_id=goals.kpi.pk),
        goals.url("objective_edit", objective_id=goals.team.pk),
        goals.url("objective_state", objective_id=goals.team.pk),
        goals.url("key_result_create", objective_id=goals.company.pk),
        goals.url("key_result_edit", key_result_id=goals.team_kr.pk),
        goals.url("key_result_progress", key_result_id=goals.team_kr.pk),
    ]:
        assert client.get(url).status_code == 200, url


def test_an_employee_cannot_reach_manager_and_admin_forms(goals: Goals) -> None:
    client = client_for(goals.world.peer)
    for url in [
        goals.url("cycle_create"),
        goals.url("kpi_create"),
        goals.url("kpi_reading", kpi_id=goals.kpi.pk),
        goals.url("objective_edit", objective_id=goals.company.pk),
        goals.url("objective_state", objective_id=goals.team.pk),
        goals.url("key_result_create", objective_id=goals.company.pk),
        goals.url("key_result_edit", key_result_id=goals.team_kr.pk),
        goals.url("key_result_progress", key_result_id=goals.team_kr.pk),
    ]:
        assert client.get(url).status_code == 404, url
        assert client.post(url, {}).status_code == 404, url
    confirm = goals.url("objective_confirm_alignment", objective_id=goals.team.pk)
    assert client.post(confirm).status_code == 404


def test_a_contributor_may_record_progress_on_a_key_result_they_help_with(goals: Goals) -> None:
    client = client_for(goals.world.peer)
    url = goals.url("key_result_progress", key_result_id=goals.person_kr.pk)
    assert client.get(url).status_code == 200


def test_another_organisations_goal_is_404(goals: Goals, globex: OrgWorld) -> None:
    client = client_for(globex.admin)
    foreign = reverse(
        "goals:objective_detail", kwargs={"org_slug": globex.slug, "objective_id": goals.company.pk}
    )
    assert client.get(foreign).status_code == 404


# --- The cycle overview -----------------------------------------------------------------------------


def test_the_overview_shows_the_current_cycle_in_headline_figures(goals: Goals) -> None:
    with tenant_context(goals.world.organization):
        services.objective_update(
            objective=goals.team, by=goals.world.manager, changes={"title": "Keep renewing to lift retention"}
        )
    response = client_for(goals.world.report).get(goals.url("overview"))
    body = response.content.decode()
    figures = response.context["figures"]
    assert "Current quarter" in body
    assert "Improve net revenue retention by 10%" in body
    assert (figures.objectives, figures.key_results, figures.needs_realignment) == (3, 3, 1)
    assert f'<div class="value">{figures.average_percent}</div>' in body
    assert "needs re-alignment" in body


def test_the_overview_picks_the_cycle_whose_dates_include_today(goals: Goals) -> None:
    with tenant_context(goals.world.organization):
        services.cycle_create(
            name="Next quarter",
            start=goals.cycle.end + timedelta(days=1),
            end=goals.cycle.end + timedelta(days=90),
        )
    response = client_for(goals.world.report).get(goals.url("overview"))
    assert response.context["cycle"] == goals.cycle
    assert 'aria-current="page">Current quarter' in response.content.decode()


def test_without_a_cycle_an_admin_is_offered_the_form_to_start_one(acme: OrgWorld) -> None:
    admin_page = client_for(acme.admin).get(reverse("goals:overview", kwargs={"org_slug": acme.slug}))
    employee_page = client_for(acme.report).get(reverse("goals:overview", kwargs={"org_slug": acme.slug}))
    assert "Start your first cycle" in admin_page.content.decode()
    assert 'name="start"' in admin_page.content.decode()
    assert "Your admin has not started one yet" in employee_page.content.decode()
    assert 'name="start"' not in employee_page.content.decode()


def test_an_admin_starts_a_cycle(acme: OrgWorld) -> None:
    url = reverse("goals:cycle_create", kwargs={"org_slug": acme.slug})
    response = client_for(acme.admin).post(
        url, {"name": "2027-Q1", "start": "2027-01-01", "end": "2027-03-31"}
    )
    assert response.status_code == 302
    with tenant_context(acme.organization):
        cycle = Cycle.objects.get(name="2027-Q1")
    assert response["Location"].endswith(f"/goals/cycles/{cycle.pk}/")


def test_a_cycle_that_ends_before_it_starts_is_refused_on_its_field(acme: OrgWorld) -> None:
    url = reverse("goals:cycle_create", kwargs={"org_slug": acme.slug})
    response = client_for(acme.admin).post(url, {"name": "Odd", "start": "2027-03-01", "end": "2027-01-01"})
    assert response.status_code == 200
    assert response.context["form"].errors["end"] == ["The cycle must end after it starts."]
    assert _count(Cycle, acme.organization) == 0


# --- The tree ---------------------------------------------------------------------------------------


def test_the_tree_nests_the_cascade_with_progress_against_the_pace(goals: Goals) -> None:
    body = client_for(goals.world.report).get(goals.url("tree")).content.decode()
    company_at = body.index("Improve net revenue retention by 10%")
    team_at = body.index("Keep enterprise customers renewing to lift revenue retention")
    person_at = body.index("Resolve renewal blockers for enterprise customers")
    assert company_at < team_at < person_at
    assert body.count('<details class="node-body"') == 3
    assert 'class="bar-pace"' in body
    assert "42%" in body  # five of twelve blockers resolved
    assert "style=" not in body


def test_the_tree_shows_the_realignment_and_warning_badges(goals: Goals) -> None:
    with tenant_context(goals.world.organization):
        services.objective_update(
            objective=goals.team, by=goals.world.manager, changes={"description": "Now about logos too"}
        )
        services.objective_create(
            by=goals.world.manager,
            cycle=goals.cycle,
            title="Ship the SOC 2 audit evidence",
            level=Level.TEAM,
            owner=goals.world.manager,
            parent=goals.company,
            warning_reasons={"no_shared_wording": "Enterprise renewals need the audit"},
        )
    body = client_for(goals.world.report).get(goals.url("tree")).content.decode()
    assert body.count("Needs re-alignment") == 1
    assert "1 warning" in body


def test_switching_cycles_with_htmx_returns_only_the_tree(goals: Goals) -> None:
    response = client_for(goals.world.report).get(
        goals.url("cycle_tree", cycle_id=goals.cycle.pk), headers=HTMX
    )
    body = response.content.decode()
    assert body.lstrip().startswith('<div id="tree-view">')
    assert "<html" not in body


# --- Details and history ----------------------------------------------------------------------------


def test_the_objective_page_shows_line_of_sight_contributors_kpis_and_history(goals: Goals) -> None:
    with tenant_context(goals.world.organization):
        services.objective_update(
            objective=goals.person,
            by=goals.world.report,
            changes={"title": "Resolve every renewal blocker for enterprise customers"},
        )
        services.initiative_create(by=goals.world.report, key_result=goals.person_kr, title="Blocker triage")
    body = client_for(goals.world.report).get(goals.url("objective_detail", objective_id=goals.person.pk))
    text = body.content.decode()
    assert (
        "Your key result &#x27;Renewal blockers resolved from 0 to 12&#x27; rolls up to your objective"
        in text
    )
    assert "which serves the company objective &#x27;Improve net revenue retention by 10%&#x27;" in text
    assert "Acme Peer" in text  # the contributor
    assert "Blocker triage" in text
    timeline = body.context["timeline"]
    assert timeline[0].who == "Acme Report"
    assert [(c.label, c.before, c.after) for c in timeline[0].changes] == [
        (
            "Title",
            "Resolve renewal blockers for enterprise customers",
            "Resolve every renewal blocker for enterprise customers",
        )
    ]
    assert timeline[-1].kind == "created"


def test_only_people_with_a_part_in_a_key_result_are_offered_to_record_its_progress(goals: Goals) -> None:
    url = goals.url("objective_detail", objective_id=goals.person.pk)
    progress = goals.url("key_result_progress", key_result_id=goals.person_kr.pk)
    assert progress in client_for(goals.world.report).get(url).content.decode()  # the owner
    assert progress in client_for(goals.world.peer).get(url).content.decode()  # a contributor
    assert progress not in client_for(goals.world.indirect_report).get(url).content.decode()


def test_the_company_objective_page_lists_the_kpis_guarding_it(goals: Goals) -> None:
    text = client_for(goals.world.report).get(goals.url("objective_detail", objective_id=goals.company.pk))
    assert "Monthly logo churn" in text.content.decode()


def test_the_key_result_page_charts_its_values_and_keeps_each_note(goals: Goals) -> None:
    response = client_for(goals.world.report).get(
        goals.url("key_result_detail", key_result_id=goals.person_kr.pk)
    )
    text = response.content.decode()
    assert '<svg class="series"' in text
    assert "Five unblocked" in text
    changes = [(c.label, c.before, c.after) for c in response.context["timeline"][0].changes]
    assert changes == [("Current value", "—", "5")]


def test_the_owner_confirms_alignment_after_the_parent_changed(goals: Goals) -> None:
    with tenant_context(goals.world.organization):
        services.objective_update(
            objective=goals.team,
            by=goals.world.manager,
            changes={"title": "Keep customers renewing for revenue retention"},
        )
    client = client_for(goals.world.report)
    page = client.get(goals.url("objective_detail", objective_id=goals.person.pk)).content.decode()
    assert "Confirm it still serves its parent" in page

    response = client.post(goals.url("objective_confirm_alignment", objective_id=goals.person.pk))

    assert response.status_code == 302
    assert not _reload(goals.person, goals.world.organization).needs_realignment  # type: ignore[attr-defined]


def test_someone_else_does_not_see_the_confirm_button(goals: Goals) -> None:
    with tenant_context(goals.world.organization):
        services.objective_update(
            objective=goals.team,
            by=goals.world.manager,
            changes={"title": "Keep customers renewing for revenue retention"},
        )
    page = client_for(goals.world.peer).get(goals.url("objective_detail", objective_id=goals.person.pk))
    assert "Needs re-alignment" in page.content.decode()
    assert "Confirm it still serves its parent" not in page.content.decode()


def test_pausing_asks_for_a_reason(goals: Goals) -> None:
    client = client_for(goals.world.report)
    url = goals.url("objective_state", objective_id=goals.person.pk)

    refused = client.post(url, {"state": "paused", "reason": ""})
    paused = client.post(url, {"state": "paused", "reason": "Waiting for the pricing decision"})

    assert refused.status_code == 200
    assert refused.context["form"].errors["reason"] == ["Say why the objective is paused."]
    assert paused.status_code == 302
    person = _reload(goals.person, goals.world.organization)
    assert person.state == ObjectiveState.PAUSED  # type: ignore[attr-defined]
    assert person.state_reason == "Waiting for the pricing decision"  # type: ignore[attr-defined]


# --- Forms that check as you type -------------------------------------------------------------------


def _objective_data(goals: Goals, **overrides: str) -> dict[str, str]:
    data = {
        "title": "Migrate the data warehouse to a new cloud region",
        "description": "",
        "level": Level.TEAM,
        "parent": str(goals.company.pk),
        "owner": str(goals.world.manager.pk),
        "team": str(goals.world.team.pk),
        "type": "committed",
        "kr-title": "",
        "kr-unit": "",
        "kr-baseline": "",
        "kr-target": "",
        "kr-parent_key_result": "",
    }
    data.update(overrides)
    return data


def test_typing_shows_the_relevance_warning_without_saving_anything(goals: Goals) -> None:
    url = goals.url("objective_create", cycle_id=goals.cycle.pk)
    before = _count(Objective, goals.world.organization)

    response = client_for(goals.world.manager).post(f"{url}?validate=1", _objective_data(goals), headers=HTMX)

    body = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in body
    assert 'id="feedback-title" aria-live="polite" hx-swap-oob="innerHTML"' in body
    assert "shares no wording with its parent &#x27;Improve net revenue retention by 10%&#x27;" in body
    assert 'name="reason_no_shared_wording"' in body
    assert _count(Objective, goals.world.organization) == before


def test_typing_shows_a_key_result_error_on_its_field(goals: Goals) -> None:
    url = goals.url("objective_create", cycle_id=goals.cycle.pk)
    data = _objective_data(
        goals,
        title="Lift enterprise revenue retention through renewals",
        **{"kr-title": "Renewals", "kr-unit": "%", "kr-baseline": "80", "kr-target": "80"},
    )

    response = client_for(goals.world.manager).post(f"{url}?validate=1", data, headers=HTMX)

    assert "The target equals the baseline, so nothing would change." in _feedback(response, "kr-target")
    assert _count(KeyResult, goals.world.organization, title="Renewals") == 0


def test_fields_not_yet_filled_in_are_not_flagged_while_typing(goals: Goals) -> None:
    url = goals.url("objective_create", cycle_id=goals.cycle.pk)
    response = client_for(goals.world.manager).post(
        f"{url}?validate=1", _objective_data(goals, title="", **{"kr-title": "Renewals"}), headers=HTMX
    )
    assert "This field is required" not in response.content.decode()


def test_a_reason_already_written_survives_while_another_field_is_being_fixed(goals: Goals) -> None:
    client = client_for(goals.world.manager)
    url = goals.url("objective_create", cycle_id=goals.cycle.pk)
    shown = client.post(f"{url}?validate=1", _objective_data(goals), headers=HTMX).content.decode()
    memo = shown.split('name="warning_no_shared_wording" value="')[1].split('"')[0]

    # The key result is half typed (no unit yet), so this check cannot run the services at all.
    half_typed = _objective_data(
        goals,
        **{
            "kr-title": "Warehouse queries from the new region",
            "reason_no_shared_wording": "Retention needs faster reports",
            "warning_no_shared_wording": html.unescape(memo),
        },
    )
    body = client.post(f"{url}?validate=1", half_typed, headers=HTMX).content.decode()

    assert "shares no wording with its parent" in _feedback_of(body, "title")
    assert ">Retention needs faster reports</textarea>" in body


def test_saving_with_an_unexplained_warning_is_refused_until_a_reason_is_given(goals: Goals) -> None:
    client = client_for(goals.world.manager)
    url = goals.url("objective_create", cycle_id=goals.cycle.pk)
    data = _objective_data(
        goals,
        **{
            "kr-title": "Warehouse queries served from the new region from 0% to 100%",
            "kr-unit": "%",
            "kr-baseline": "0",
            "kr-target": "100",
            "kr-parent_key_result": str(goals.company_kr.pk),
        },
    )

    refused = client.post(url, data)
    assert refused.status_code == 200
    assert "Give a reason, or change the goal" in refused.content.decode()
    assert _count(Objective, goals.world.organization, title=data["title"]) == 0

    saved = client.post(url, {**data, "reason_no_shared_wording": "Retention needs faster reports"})
    assert saved.status_code == 302
    with tenant_context(goals.world.organization):
        objective = Objective.objects.get(title=data["title"])
        key_result = KeyResult.objects.get(objective=objective)
    assert objective.warnings[0]["reason"] == "Retention needs faster reports"
    assert key_result.parent_key_result_id == goals.company_kr.pk
    assert saved["Location"] == goals.url("objective_detail", objective_id=objective.pk)


def test_a_new_key_result_without_a_parent_mid_cycle_needs_a_reason(goals: Goals) -> None:
    with tenant_context(goals.world.organization):
        unparented = services.objective_create(
            by=goals.world.manager,
            cycle=goals.cycle,
            title="Tidy the enterprise churn list",
            level=Level.TEAM,
            owner=goals.world.manager,
            at=_start_of(goals.cycle.start),
        )
    client = client_for(goals.world.manager)
    url = goals.url("key_result_create", objective_id=unparented.pk)
    data = {"title": "Churned logos from 6 to 2", "unit": "logos", "baseline": "6", "target": "2"}

    refused = client.post(url, data)
    saved = client.post(url, {**data, "reason_added_mid_cycle_without_parent": "Board asked mid-quarter"})

    assert "names no parent it serves" in refused.content.decode()
    assert saved.status_code == 302
    with tenant_context(goals.world.organization):
        key_result = KeyResult.objects.get(title="Churned logos from 6 to 2")
    assert key_result.direction == "decrease"
    assert key_result.warnings[0]["reason"] == "Board asked mid-quarter"


def test_editing_a_parent_through_the_form_asks_its_children_to_realign(goals: Goals) -> None:
    client = client_for(goals.world.manager)
    url = goals.url("objective_edit", objective_id=goals.team.pk)
    data = {
        "title": "Keep enterprise customers renewing to lift revenue retention",
        "description": "Renewals and expansions",
        "parent": str(goals.company.pk),
        "owner": str(goals.world.manager.pk),
        "team": str(goals.world.team.pk),
        "type": "committed",
    }

    response = client.post(url, data)

    assert response.status_code == 302
    assert _reload(goals.person, goals.world.organization).needs_realignment  # type: ignore[attr-defined]
    tree = client.get(goals.url("tree")).content.decode()
    assert "Needs re-alignment" in tree


def test_the_edit_form_reports_a_loop_in_the_cascade(goals: Goals) -> None:
    client = client_for(goals.world.admin)
    url = goals.url("key_result_edit", key_result_id=goals.company_kr.pk)
    data = {
        "title": goals.company_kr.title,
        "unit": "%",
        "baseline": "100",
        "target": "110",
        "direction": "increase",
        "owner": str(goals.world.admin.pk),
        "parent_key_result": str(goals.team_kr.pk),
    }
    response = client.post(f"{url}?validate=1", data, headers=HTMX)
    assert (
        "&#x27;Renewal rate from 80% to 90%&#x27; already rolls up into this key result; "
        "roll-ups cannot loop."
    ) in _feedback(response, "parent_key_result")


def test_a_key_result_edit_saves_and_keeps_contributors(goals: Goals) -> None:
    client = client_for(goals.world.report)
    url = goals.url("key_result_edit", key_result_id=goals.person_kr.pk)
    data = {
        "title": "Renewal blockers resolved from 0 to 15",
        "unit": "blockers",
        "baseline": "0",
        "target": "15",
        "direction": "",
        "owner": str(goals.world.report.pk),
        "contributors": [str(goals.world.peer.pk), str(goals.world.indirect_report.pk)],
        "parent_key_result": str(goals.team_kr.pk),
    }
    assert client.post(url, data).status_code == 302
    key_result = _reload(goals.person_kr, goals.world.organization)
    assert key_result.target == 15  # type: ignore[attr-defined]
    with tenant_context(goals.world.organization):
        assert set(key_result.contributor_links.values_list("membership_id", flat=True)) == {  # type: ignore[attr-defined]
            goals.world.peer.pk,
            goals.world.indirect_report.pk,
        }


def test_recording_progress_moves_the_key_result_and_keeps_the_note(goals: Goals) -> None:
    client = client_for(goals.world.report)
    url = goals.url("key_result_progress", key_result_id=goals.person_kr.pk)

    response = client.post(url, {"value": "9", "confidence": "70", "note": "Four more unblocked"})

    assert response.status_code == 302
    key_result = _reload(goals.person_kr, goals.world.organization)
    assert key_result.current_value == 9  # type: ignore[attr-defined]
    assert key_result.confidence == pytest.approx(0.7)  # type: ignore[attr-defined]
    page = client.get(goals.url("key_result_detail", key_result_id=goals.person_kr.pk)).content.decode()
    assert "Four more unblocked" in page
    assert "75%" in page


def test_progress_needs_a_number(goals: Goals) -> None:
    url = goals.url("key_result_progress", key_result_id=goals.person_kr.pk)
    response = client_for(goals.world.report).post(url, {"value": "lots", "confidence": "150"})
    assert response.status_code == 200
    assert set(response.context["form"].errors) == {"value", "confidence"}


def test_a_kpi_reading_that_crosses_a_threshold_asks_for_a_comment_and_an_objective(goals: Goals) -> None:
    client = client_for(goals.world.admin)
    url = goals.url("kpi_reading", kpi_id=goals.kpi.pk)

    checked = client.post(f"{url}?validate=1", {"value": "2.4"}, headers=HTMX)
    body = checked.content.decode()
    assert "The reading moves the KPI from green to red. Say what happened." in body
    assert 'name="objective"' in body
    assert _count(KPIReading, goals.world.organization, value=2.4) == 0

    saved = client.post(
        url, {"value": "2.4", "note": "Two logos left after the price change", "objective": goals.company.pk}
    )
    assert saved.status_code == 302
    with tenant_context(goals.world.organization):
        reading = KPIReading.objects.get(value=2.4)
    assert reading.objective_id == goals.company.pk


def test_an_ordinary_kpi_reading_asks_for_nothing_more(goals: Goals) -> None:
    url = goals.url("kpi_reading", kpi_id=goals.kpi.pk)
    checked = client_for(goals.world.admin).post(f"{url}?validate=1", {"value": "0.9"}, headers=HTMX)
    assert 'name="objective"' not in checked.content.decode()


def test_a_manager_adds_a_kpi_with_consistent_thresholds(goals: Goals) -> None:
    client = client_for(goals.world.manager)
    url = goals.url("kpi_create")
    data = {
        "name": "Support first response time",
        "unit": "h",
        "direction": "decrease",
        "green": "8",
        "red": "4",
        "owner": str(goals.world.manager.pk),
        "team": "",
        "objectives": [str(goals.team.pk)],
    }
    refused = client.post(url, data)
    assert refused.context["form"].errors["green"] == [
        "For a KPI that should decrease, green must be below red."
    ]
    saved = client.post(url, {**data, "green": "4", "red": "8"})
    assert saved.status_code == 302
    with tenant_context(goals.world.organization):
        assert KPI.objects.get(name="Support first response time").objective_tags.count() == 1


# --- My goals, KPIs and alignment -------------------------------------------------------------------


def test_my_goals_lists_what_i_own_and_help_with_with_line_of_sight(goals: Goals) -> None:
    owner_page = client_for(goals.world.report).get(goals.url("my_goals")).content.decode()
    helper_page = client_for(goals.world.peer).get(goals.url("my_goals")).content.decode()
    assert "Resolve renewal blockers for enterprise customers" in owner_page
    assert "Your key result &#x27;Renewal blockers resolved from 0 to 12&#x27;" in owner_page
    assert "Key results you help with" in helper_page
    assert "The key result &#x27;Renewal blockers resolved from 0 to 12&#x27;" in helper_page


def test_my_goals_tells_someone_without_goals_what_to_do(goals: Goals) -> None:
    page = client_for(goals.world.indirect_report).get(goals.url("my_goals")).content.decode()
    assert "Nothing of yours in Current quarter yet" in page


def test_the_kpi_board_shows_status_latest_value_sparkline_and_guarded_objectives(goals: Goals) -> None:
    page = client_for(goals.world.report).get(goals.url("kpi_board")).content.decode()
    assert "status status-green" in page
    assert "0.85" in page
    assert '<svg class="sparkline spark-green"' in page
    assert "Improve net revenue retention by 10%" in page


def test_the_kpi_page_draws_the_series_with_its_thresholds(goals: Goals) -> None:
    page = client_for(goals.world.report).get(goals.url("kpi_detail", kpi_id=goals.kpi.pk)).content.decode()
    assert 'class="series-ref series-ref-green"' in page
    assert 'class="series-ref series-ref-red"' in page
    assert page.count('class="series-point"') == 3


def test_the_alignment_map_shows_what_the_team_serves_and_each_persons_line_of_sight(goals: Goals) -> None:
    response = client_for(goals.world.report).get(goals.url("team_alignment", team_id=goals.world.team.pk))
    page = response.content.decode()
    alignment = response.context["map"]
    assert [company.objective for company, _ in alignment.company_objectives] == [goals.company]
    assert [child.objective for child, _ in alignment.individual_objectives] == [goals.person]
    assert [row.kpi for row in alignment.kpis] == [goals.kpi]
    assert "Your key result &#x27;Renewal blockers resolved from 0 to 12&#x27; rolls up to" in page
    assert "Acme Peer has no goals in Current quarter yet." in page


# --- Query budgets ----------------------------------------------------------------------------------


def _add_objectives(goals: Goals, count: int) -> None:
    """``count`` more team objectives, each with a key result and an individual objective under it."""
    with tenant_context(goals.world.organization):
        at = _start_of(goals.cycle.start)
        for number in range(count):
            team = services.objective_create(
                by=goals.world.admin,
                cycle=goals.cycle,
                title=f"Grow revenue retention in region {number}",
                level=Level.TEAM,
                owner=goals.world.manager,
                team=goals.world.team,
                parent=goals.company,
                at=at,
                warning_reasons={"too_many_objectives": "Regional split"},
            )
            kr = services.key_result_create(
                by=goals.world.admin,
                objective=team,
                title=f"Region {number} retention from 90% to 95%",
                unit="%",
                baseline=90,
                target=95,
                owner=goals.world.report,
                contributors=[goals.world.report],
                at=at,
            )
            services.key_result_record_progress(key_result=kr, by=goals.world.admin, value=92, at=at)
            services.objective_create(
                by=goals.world.admin,
                cycle=goals.cycle,
                title=f"Call region {number} customers about retention",
                level=Level.INDIVIDUAL,
                owner=goals.world.report,
                parent=team,
                at=at,
                warning_reasons={"too_many_objectives": "Regional split"},
            )
            kpi = services.kpi_create(
                by=goals.world.admin,
                name=f"Region {number} churn",
                unit="%",
                direction="decrease",
                green=1,
                red=2,
                team=goals.world.team,
                objectives=[team, goals.company],
                at=at,
            )
            services.kpi_record_reading(kpi=kpi, by=goals.world.admin, value=1.5, at=at)


def _queries(client: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured.captured_queries)


@pytest.mark.parametrize(
    "page",
    [
        "overview",
        "tree",
        "my_goals",
        "kpi_board",
        "team_alignment",
        "objective_detail",
        "key_result_detail",
        "kpi_detail",
    ],
)
def test_page_query_count_does_not_grow_with_the_number_of_goals(goals: Goals, page: str) -> None:
    kwargs = {
        "team_alignment": {"team_id": goals.world.team.pk},
        "objective_detail": {"objective_id": goals.company.pk},
        "key_result_detail": {"key_result_id": goals.company_kr.pk},
        "kpi_detail": {"kpi_id": goals.kpi.pk},
    }.get(page, {})
    client = client_for(goals.world.report)
    url = goals.url(page, **kwargs)
    _add_objectives(goals, 2)
    few = _queries(client, url)
    _add_objectives(goals, 6)
    many = _queries(client, url)
    assert many == few, f"{page}: {few} queries with few goals, {many} with many"


def test_a_manager_changes_a_kpis_thresholds_through_its_edit_page(goals: Goals) -> None:
    client = client_for(goals.world.manager)
    url = goals.url("kpi_edit", kpi_id=goals.kpi.pk)
    page = client.get(url)
    data = {
        "name": goals.kpi.name,
        "unit": goals.kpi.unit,
        "direction": goals.kpi.direction,
        "green": "1",
        "red": "5",
    }

    inconsistent = client.post(url, {**data, "green": "9", "red": "1"})
    saved = client.post(url, data)

    assert page.status_code == 200
    assert "green must be" in inconsistent.content.decode()
    assert saved.status_code == 302
    with tenant_context(goals.world.organization):
        assert KPI.objects.get(pk=goals.kpi.pk).red == 5
    assert client_for(goals.world.report).get(url).status_code == 404
