"""The goal API: writes through the goal services with their rules, who may write, filters, pages, query
budgets, and other organisations' objects answered with 404."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from goals import services
from goals.models import KPI, Cycle, KeyResult, KPIReading, Level, Objective, ObjectiveState
from okrsignal.models import AuditEvent, Membership
from okrsignal.tenancy import tenant_context
from tests.factories import OrgWorld
from tests.goal_factories import make_cycle, make_key_result, make_objective


def api_client(membership: Membership) -> APIClient:
    client = APIClient()
    client.force_login(membership.user)
    return client


def url(world: OrgWorld, path: str) -> str:
    return f"/api/v1/o/{world.slug}/{path}"


def current_cycle(name: str = "Current quarter") -> Cycle:
    """A cycle that started ten days ago: goals added now are added mid-cycle."""
    today = timezone.now().date()
    return services.cycle_create(name=name, start=today - timedelta(days=10), end=today + timedelta(days=80))


@pytest.fixture
def goals(acme: OrgWorld) -> dict[str, Any]:
    """A company objective with a key result owned by the report (the peer contributes), and a KPI."""
    with tenant_context(acme.organization):
        cycle = make_cycle()
        company = make_objective(cycle, acme.admin, title="Grow recurring revenue")
        key_result = make_key_result(
            company,
            acme.report,
            title="Revenue from 10 to 12",
            baseline=10,
            target=12,
            contributors=[acme.peer],
        )
        kpi = services.kpi_create(
            by=acme.admin, name="Churn", unit="%", direction="decrease", green=2, red=3, objectives=[company]
        )
        services.kpi_record_reading(kpi=kpi, by=acme.admin, value=1.5)
    return {"cycle": cycle, "company": company, "key_result": key_result, "kpi": kpi}


# --- Writes go through the services ------------------------------------------------------------------


def test_manager_creates_an_objective_through_the_service(acme: OrgWorld, goals: dict[str, Any]) -> None:
    response = api_client(acme.manager).post(
        url(acme, "objectives/"),
        {
            "cycle": goals["cycle"].pk,
            "title": "Grow recurring revenue in the north",
            "level": Level.TEAM,
            "owner": acme.manager.pk,
            "team": acme.team.pk,
            "parent": goals["company"].pk,
        },
        format="json",
    )

    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["title"], body["level"], body["parent"]) == (
        "Grow recurring revenue in the north",
        "team",
        goals["company"].pk,
    )
    with tenant_context(acme.organization):
        record = Objective.history.get(id=body["id"])
    assert record.history_user == acme.manager.user


def test_a_broken_rule_is_a_400_naming_the_field(acme: OrgWorld, goals: dict[str, Any]) -> None:
    response = api_client(acme.admin).post(
        url(acme, "key-results/"),
        {"objective": goals["company"].pk, "title": "Something", "unit": "", "baseline": 5, "target": 5},
        format="json",
    )

    assert response.status_code == 400
    body = response.json()
    assert body["unit"] == ["Say what is measured: a key result needs a unit (%, €, tickets…)."]
    assert body["target"] == ["The target equals the baseline, so nothing would change."]
    assert "warnings" not in body


def test_a_parent_at_the_same_level_is_refused_on_the_parent_field(
    acme: OrgWorld, goals: dict[str, Any]
) -> None:
    response = api_client(acme.admin).post(
        url(acme, "objectives/"),
        {
            "cycle": goals["cycle"].pk,
            "title": "Revenue again",
            "level": "company",
            "parent": goals["company"].pk,
        },
        format="json",
    )

    assert response.status_code == 400
    assert "must be at a higher level" in response.json()["parent"][0]


def test_a_warning_names_its_code_and_passes_with_a_reason(acme: OrgWorld) -> None:
    with tenant_context(acme.organization):
        cycle = current_cycle()
    client = api_client(acme.manager)
    request = {"cycle": cycle.pk, "title": "Hire two engineers", "level": "team", "owner": acme.manager.pk}

    refused = client.post(url(acme, "objectives/"), request, format="json")

    assert refused.status_code == 400
    body = refused.json()
    assert [warning["code"] for warning in body["warnings"]] == ["added_mid_cycle_without_parent"]
    assert body["warnings"][0]["field"] == "parent"
    assert "added_mid_cycle_without_parent" in body["parent"][0]
    with tenant_context(acme.organization):
        assert not Objective.objects.filter(title="Hire two engineers").exists()

    reason = "Hiring was approved after planning."
    accepted = client.post(
        url(acme, "objectives/"),
        {**request, "warning_reasons": {"added_mid_cycle_without_parent": reason}},
        format="json",
    )

    assert accepted.status_code == 201, accepted.json()
    assert accepted.json()["warnings"][0]["reason"] == reason


def test_changing_a_parent_marks_its_children_for_realignment(acme: OrgWorld, goals: dict[str, Any]) -> None:
    with tenant_context(acme.organization):
        child = make_objective(
            goals["cycle"],
            acme.manager,
            title="Revenue from the north",
            level="team",
            parent=goals["company"],
        )

    response = api_client(acme.admin).patch(
        url(acme, f"objectives/{goals['company'].pk}/"), {"title": "Grow net revenue"}, format="json"
    )

    assert response.status_code == 200, response.json()
    assert response.json()["title"] == "Grow net revenue"
    with tenant_context(acme.organization):
        child.refresh_from_db()
    assert child.needs_realignment


def test_pausing_needs_a_reason(acme: OrgWorld, goals: dict[str, Any]) -> None:
    response = api_client(acme.admin).post(
        url(acme, f"objectives/{goals['company'].pk}/state/"), {"state": "paused"}, format="json"
    )

    assert response.status_code == 400
    assert response.json()["state_reason"] == ["Say why the objective is paused."]


def test_progress_is_recorded_with_its_note_in_history(acme: OrgWorld, goals: dict[str, Any]) -> None:
    key_result = goals["key_result"]

    response = api_client(acme.report).post(
        url(acme, f"key-results/{key_result.pk}/progress/"),
        {"value": 11, "confidence": 0.8, "note": "Two renewals signed."},
        format="json",
    )

    assert response.status_code == 200, response.json()
    assert (response.json()["current_value"], response.json()["confidence"]) == (11, 0.8)
    with tenant_context(acme.organization):
        latest = KeyResult.history.filter(id=key_result.pk).latest("history_date")
    assert (latest.current_value, latest.history_change_reason) == (11, "Two renewals signed.")


def test_progress_outside_the_confidence_range_names_the_field(acme: OrgWorld, goals: dict[str, Any]) -> None:
    response = api_client(acme.report).post(
        url(acme, f"key-results/{goals['key_result'].pk}/progress/"),
        {"value": 11, "confidence": 3},
        format="json",
    )

    assert response.status_code == 400
    assert response.json() == {"confidence": ["Confidence is between 0 and 1."]}


def test_key_result_update_replaces_contributors(acme: OrgWorld, goals: dict[str, Any]) -> None:
    response = api_client(acme.admin).patch(
        url(acme, f"key-results/{goals['key_result'].pk}/"),
        {"target": 14, "contributors": [acme.indirect_report.pk]},
        format="json",
    )

    assert response.status_code == 200, response.json()
    assert (response.json()["target"], response.json()["contributors"]) == (14, [acme.indirect_report.pk])


def test_a_kpi_reading_that_crosses_a_threshold_asks_for_a_note_and_an_objective(
    acme: OrgWorld, goals: dict[str, Any]
) -> None:
    client = api_client(acme.admin)
    reading = {"kpi": goals["kpi"].pk, "value": 3.5}

    refused = client.post(url(acme, "kpi-readings/"), reading, format="json")

    assert refused.status_code == 400
    assert set(refused.json()) == {"note", "objective"}

    accepted = client.post(
        url(acme, "kpi-readings/"),
        {**reading, "note": "A large customer left.", "objective": goals["company"].pk},
        format="json",
    )
    assert accepted.status_code == 201, accepted.json()
    kpi = client.get(url(acme, f"kpis/{goals['kpi'].pk}/")).json()
    assert (kpi["latest_value"], kpi["status"], kpi["objectives"]) == (3.5, "red", [goals["company"].pk])


def test_a_duplicate_cycle_name_is_refused_on_the_name(acme: OrgWorld, goals: dict[str, Any]) -> None:
    response = api_client(acme.admin).post(
        url(acme, "cycles/"),
        {"name": goals["cycle"].name, "start": "2027-01-04", "end": "2027-04-04"},
        format="json",
    )

    assert response.status_code == 400
    assert list(response.json()) == ["name"]


def test_initiatives_and_kpis_are_created(acme: OrgWorld, goals: dict[str, Any]) -> None:
    client = api_client(acme.admin)

    initiative = client.post(
        url(acme, "initiatives/"),
        {"key_result": goals["key_result"].pk, "title": "Renewal calls", "jira_epic_key": "rev-12"},
        format="json",
    )
    kpi = client.post(
        url(acme, "kpis/"),
        {
            "name": "NPS",
            "unit": "points",
            "direction": "increase",
            "green": 40,
            "red": 20,
            "team": acme.team.pk,
        },
        format="json",
    )

    assert initiative.status_code == 201, initiative.json()
    assert initiative.json()["jira_epic_key"] == "REV-12"
    assert kpi.status_code == 201, kpi.json()
    assert (kpi.json()["latest_value"], kpi.json()["status"]) == (None, None)


def test_inconsistent_kpi_thresholds_are_refused_on_green(acme: OrgWorld) -> None:
    response = api_client(acme.admin).post(
        url(acme, "kpis/"),
        {"name": "NPS", "unit": "points", "direction": "increase", "green": 20, "red": 40},
        format="json",
    )

    assert response.status_code == 400
    assert list(response.json()) == ["green"]


# --- Who may write -----------------------------------------------------------------------------------


def test_employee_creates_their_own_individual_objective(acme: OrgWorld, goals: dict[str, Any]) -> None:
    response = api_client(acme.report).post(
        url(acme, "objectives/"),
        {
            "cycle": goals["cycle"].pk,
            "title": "Grow revenue with renewals",
            "level": "individual",
            "owner": acme.report.pk,
            "parent": goals["company"].pk,
        },
        format="json",
    )

    assert response.status_code == 201, response.json()


def test_employee_cannot_create_a_company_objective(acme: OrgWorld, goals: dict[str, Any]) -> None:
    response = api_client(acme.report).post(
        url(acme, "objectives/"),
        {
            "cycle": goals["cycle"].pk,
            "title": "Take over the world",
            "level": "company",
            "owner": acme.report.pk,
        },
        format="json",
    )

    assert response.status_code == 403
    assert "individual objectives" in response.json()["detail"]
    assert AuditEvent.objects.filter(
        kind=AuditEvent.Kind.AUTHORIZATION_REFUSED, actor=acme.report.user, organization=acme.organization
    ).exists()


def test_employee_cannot_change_someone_elses_objective(acme: OrgWorld, goals: dict[str, Any]) -> None:
    response = api_client(acme.report).patch(
        url(acme, f"objectives/{goals['company'].pk}/"), {"title": "Mine now"}, format="json"
    )

    assert response.status_code == 403
    with tenant_context(acme.organization):
        assert Objective.objects.get(pk=goals["company"].pk).title == "Grow recurring revenue"


def test_employee_cannot_hand_their_objective_to_someone_else(acme: OrgWorld, goals: dict[str, Any]) -> None:
    with tenant_context(acme.organization):
        own = make_objective(
            goals["cycle"],
            acme.report,
            title="Renewals grow recurring revenue",
            level="individual",
            parent=goals["company"],
        )

    response = api_client(acme.report).patch(
        url(acme, f"objectives/{own.pk}/"), {"owner": acme.peer.pk}, format="json"
    )

    assert response.status_code == 403


def test_employee_adds_key_results_to_their_own_individual_objective(
    acme: OrgWorld, goals: dict[str, Any]
) -> None:
    with tenant_context(acme.organization):
        own = make_objective(
            goals["cycle"],
            acme.report,
            title="Renewals grow recurring revenue",
            level="individual",
            parent=goals["company"],
        )
    client = api_client(acme.report)
    key_result = {
        "title": "Renewals from 4 to 9",
        "unit": "renewals",
        "baseline": 4,
        "target": 9,
        "parent_key_result": goals["key_result"].pk,
    }

    on_own = client.post(url(acme, "key-results/"), {**key_result, "objective": own.pk}, format="json")
    on_company = client.post(
        url(acme, "key-results/"), {**key_result, "objective": goals["company"].pk}, format="json"
    )

    assert on_own.status_code == 201, on_own.json()
    assert on_company.status_code == 403


def test_the_owner_confirms_alignment_after_the_parent_changed(acme: OrgWorld, goals: dict[str, Any]) -> None:
    with tenant_context(acme.organization):
        own = make_objective(
            goals["cycle"],
            acme.report,
            title="Renewals grow recurring revenue",
            level="individual",
            parent=goals["company"],
        )
        services.objective_update(
            objective=goals["company"], by=acme.admin, changes={"title": "Grow net revenue"}
        )

    response = api_client(acme.report).post(url(acme, f"objectives/{own.pk}/confirm-alignment/"))

    assert response.status_code == 200
    assert response.json()["needs_realignment"] is False


def test_a_contributor_records_progress(acme: OrgWorld, goals: dict[str, Any]) -> None:
    response = api_client(acme.peer).post(
        url(acme, f"key-results/{goals['key_result'].pk}/progress/"), {"value": 10.5}, format="json"
    )

    assert response.status_code == 200


def test_an_employee_who_neither_owns_nor_contributes_cannot_record_progress(
    acme: OrgWorld, goals: dict[str, Any]
) -> None:
    response = api_client(acme.indirect_report).post(
        url(acme, f"key-results/{goals['key_result'].pk}/progress/"), {"value": 12}, format="json"
    )

    assert response.status_code == 403
    with tenant_context(acme.organization):
        assert KeyResult.objects.get(pk=goals["key_result"].pk).current_value is None


def test_employee_cannot_create_cycles_or_kpis(acme: OrgWorld) -> None:
    client = api_client(acme.report)

    cycle = client.post(url(acme, "cycles/"), {"name": "Q9", "start": "2027-01-04", "end": "2027-04-04"})
    kpi = client.post(
        url(acme, "kpis/"), {"name": "NPS", "unit": "points", "direction": "increase", "green": 40, "red": 20}
    )

    assert (cycle.status_code, kpi.status_code) == (403, 403)


# --- Filters and pages -------------------------------------------------------------------------------


@pytest.fixture
def cascade(acme: OrgWorld, goals: dict[str, Any]) -> dict[str, Objective]:
    with tenant_context(acme.organization):
        cycle, company = goals["cycle"], goals["company"]
        team = make_objective(
            cycle,
            acme.manager,
            title="Revenue from the platform",
            level="team",
            parent=company,
            team=acme.team,
        )
        mine = make_objective(
            cycle, acme.report, title="Renew platform customers", level="individual", parent=team
        )
        draft = make_objective(
            cycle, acme.peer, title="Platform revenue draft", level="individual", parent=team, state="draft"
        )
        other_cycle = make_cycle("2026-Q4")
        later = make_objective(other_cycle, acme.admin, title="Grow revenue next quarter")
    return {"company": company, "team": team, "mine": mine, "draft": draft, "later": later}


def titles(response: Any) -> set[str]:
    assert response.status_code == 200, response.content
    return {item.get("title") or item.get("name") for item in response.json()["results"]}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("level=individual", {"mine", "draft"}),
        ("state=draft", {"draft"}),
        ("parent={team}", {"mine", "draft"}),
        ("owner={report}", {"mine"}),
        ("team={platform}", {"team"}),
        ("cycle={later_cycle}", {"later"}),
        ("level=individual&state=active", {"mine"}),
    ],
)
def test_objectives_filter(
    acme: OrgWorld, cascade: dict[str, Objective], query: str, expected: set[str]
) -> None:
    values = {
        "team": cascade["team"].pk,
        "report": acme.report.pk,
        "platform": acme.team.pk,
        "later_cycle": cascade["later"].cycle_id,
    }

    response = api_client(acme.peer).get(url(acme, f"objectives/?{query.format(**values)}"))

    assert titles(response) == {cascade[name].title for name in expected}


def test_key_results_filter_by_objective_and_owner(acme: OrgWorld, goals: dict[str, Any]) -> None:
    with tenant_context(acme.organization):
        other = make_key_result(
            goals["company"], acme.manager, title="Margin from 20 to 25", baseline=20, target=25
        )
    client = api_client(acme.peer)

    by_owner = client.get(url(acme, f"key-results/?owner={acme.manager.pk}"))
    by_objective = client.get(url(acme, f"key-results/?objective={goals['company'].pk}"))

    assert titles(by_owner) == {other.title}
    assert titles(by_objective) == {other.title, goals["key_result"].title}


def test_kpi_readings_filter_by_kpi(acme: OrgWorld, goals: dict[str, Any]) -> None:
    with tenant_context(acme.organization):
        other = services.kpi_create(
            by=acme.admin, name="NPS", unit="points", direction="increase", green=40, red=20
        )
        services.kpi_record_reading(kpi=other, by=acme.admin, value=35)

    response = api_client(acme.peer).get(url(acme, f"kpi-readings/?kpi={other.pk}"))

    assert [(reading["kpi"], reading["value"]) for reading in response.json()["results"]] == [(other.pk, 35)]


def test_a_malformed_filter_is_a_400_naming_it(acme: OrgWorld) -> None:
    response = api_client(acme.peer).get(url(acme, "objectives/?owner=someone"))

    assert response.status_code == 400
    assert list(response.json()) == ["owner"]


def test_lists_come_in_pages(acme: OrgWorld) -> None:
    with tenant_context(acme.organization):
        for number in range(51):
            services.cycle_create(
                name=f"Cycle {number:02}",
                start=date(2020, 1, 1) + timedelta(days=number),
                end=date(2020, 4, 1) + timedelta(days=number),
            )
    client = api_client(acme.peer)

    first = client.get(url(acme, "cycles/")).json()
    second = client.get(first["next"]).json()

    assert (first["count"], len(first["results"]), first["previous"]) == (51, 50, None)
    assert (len(second["results"]), second["next"]) == (1, None)
    assert second["results"][0]["name"] == "Cycle 00"


# --- Query budgets: a list costs the same whatever its length ----------------------------------------


def add_goal_rows(world: OrgWorld, count: int) -> None:
    """``count`` more rows in every goal list, linked the way real data is (contributors, tags)."""
    with tenant_context(world.organization):
        number = Cycle.objects.count()
        for index in range(number, number + count):
            cycle = services.cycle_create(
                name=f"Cycle {index}",
                start=date(2026, 1, 1),
                end=date(2026, 12, 31),
            )
            objective = services.objective_create(
                by=world.admin,
                cycle=cycle,
                title=f"Objective {index}",
                level=Level.COMPANY,
                owner=world.admin,
                team=world.team,
                as_given=True,
            )
            key_result = services.key_result_create(
                by=world.admin,
                objective=objective,
                title=f"Key result {index}",
                unit="%",
                baseline=0,
                target=10,
                owner=world.manager,
                contributors=[world.report, world.peer],
                as_given=True,
            )
            services.initiative_create(by=world.admin, key_result=key_result, title=f"Initiative {index}")
            kpi = services.kpi_create(
                by=world.admin,
                name=f"KPI {index}",
                unit="%",
                direction="decrease",
                green=2,
                red=3,
                owner=world.manager,
                objectives=[objective],
            )
            services.kpi_record_reading(kpi=kpi, by=world.admin, value=1)
            services.kpi_record_reading(kpi=kpi, by=world.admin, value=4, as_given=True)


# Queries per list request, as the tests count them (each tenant context is a savepoint inside the test's
# transaction): session, user and organisation (3); the membership check in its tenant context (5); the
# view's tenant context (4); the page's count and the page (2); and one prefetch where a row lists ids.
LIST_QUERY_BUDGETS = {
    "cycles/": 14,
    "objectives/": 14,
    "key-results/": 15,
    "initiatives/": 14,
    "kpis/": 15,
    "kpi-readings/": 14,
}


def queries_for(request: Callable[[], Any]) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = request()
    assert response.status_code == 200
    return len(captured)


@pytest.mark.parametrize("path", list(LIST_QUERY_BUDGETS))
def test_list_query_count_does_not_grow_with_rows(acme: OrgWorld, path: str) -> None:
    client = api_client(acme.admin)
    add_goal_rows(acme, 2)
    with_two = queries_for(lambda: client.get(url(acme, path)))

    add_goal_rows(acme, 8)
    response = client.get(url(acme, path))
    with_ten = queries_for(lambda: client.get(url(acme, path)))

    assert len(response.json()["results"]) >= 10
    assert with_two == with_ten == LIST_QUERY_BUDGETS[path]


# --- Other organisations -----------------------------------------------------------------------------


def acme_object_paths(goals: dict[str, Any]) -> dict[str, str]:
    with tenant_context(goals["cycle"].organization_id):
        reading = KPIReading.objects.get(kpi=goals["kpi"])
    return {
        "cycle": f"cycles/{goals['cycle'].pk}/",
        "objective": f"objectives/{goals['company'].pk}/",
        "key_result": f"key-results/{goals['key_result'].pk}/",
        "kpi": f"kpis/{goals['kpi'].pk}/",
        "reading": f"kpi-readings/{reading.pk}/",
    }


@pytest.mark.parametrize("name", ["cycle", "objective", "key_result", "kpi", "reading"])
def test_another_organisations_object_is_a_404(
    acme: OrgWorld, globex: OrgWorld, goals: dict[str, Any], name: str
) -> None:
    path = acme_object_paths(goals)[name]
    client = api_client(globex.admin)

    under_own_slug = client.get(url(globex, path))
    under_their_slug = client.get(url(acme, path))

    assert (under_own_slug.status_code, under_their_slug.status_code) == (404, 404)


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("patch", "objectives/{objective}/", {"title": "Taken"}),
        ("post", "objectives/{objective}/state/", {"state": "cancelled", "reason": "Taken"}),
        ("post", "objectives/{objective}/confirm-alignment/", {}),
        ("patch", "key-results/{key_result}/", {"target": 100}),
        ("post", "key-results/{key_result}/progress/", {"value": 100}),
    ],
)
def test_another_organisations_object_cannot_be_written(
    acme: OrgWorld, globex: OrgWorld, goals: dict[str, Any], method: str, path: str, body: dict[str, Any]
) -> None:
    path = path.format(objective=goals["company"].pk, key_result=goals["key_result"].pk)
    client = api_client(globex.admin)

    for slug_world in (globex, acme):
        response = getattr(client, method)(url(slug_world, path), body, format="json")
        assert response.status_code == 404

    with tenant_context(acme.organization):
        objective = Objective.objects.get(pk=goals["company"].pk)
        key_result = KeyResult.objects.get(pk=goals["key_result"].pk)
    assert (objective.title, objective.state) == ("Grow recurring revenue", ObjectiveState.ACTIVE)
    assert (key_result.target, key_result.current_value) == (12, None)


def test_another_organisations_ids_in_the_body_do_not_exist(
    acme: OrgWorld, globex: OrgWorld, goals: dict[str, Any]
) -> None:
    with tenant_context(globex.organization):
        cycle = make_cycle("Globex quarter")

    response = api_client(globex.admin).post(
        url(globex, "key-results/"),
        {"objective": goals["company"].pk, "title": "Theirs", "unit": "%", "baseline": 0, "target": 1},
        format="json",
    )
    objective = api_client(globex.admin).post(
        url(globex, "objectives/"),
        {"cycle": cycle.pk, "title": "Ours", "level": "company", "owner": acme.admin.pk},
        format="json",
    )

    assert response.status_code == 400
    assert "does not exist" in response.json()["objective"][0]
    assert objective.status_code == 400
    assert list(objective.json()) == ["owner"]
    with tenant_context(acme.organization):
        assert list(KeyResult.objects.filter(objective=goals["company"])) == [goals["key_result"]]


# --- The API and the pages apply the same rules of who may write (goals.permissions) --------------------


def test_a_manager_cannot_set_company_objectives_through_the_api_either(
    acme: OrgWorld, goals: dict[str, Any]
) -> None:
    response = api_client(acme.manager).post(
        url(acme, "objectives/"),
        {"cycle": goals["cycle"].pk, "title": "A company goal", "level": "company", "owner": acme.manager.pk},
        format="json",
    )
    assert response.status_code == 403


def test_a_manager_cannot_change_an_objective_outside_their_line(
    acme: OrgWorld, goals: dict[str, Any]
) -> None:
    response = api_client(acme.manager).patch(
        url(acme, f"objectives/{goals['company'].pk}/"), {"title": "Renamed"}, format="json"
    )
    assert response.status_code == 403


def test_only_the_owner_or_an_admin_confirms_alignment(acme: OrgWorld, goals: dict[str, Any]) -> None:
    confirm = url(acme, f"objectives/{goals['company'].pk}/confirm-alignment/")
    assert api_client(acme.manager).post(confirm).status_code == 403
    assert api_client(acme.admin).post(confirm).status_code == 200


def test_key_results_carry_their_line_of_sight(acme: OrgWorld, goals: dict[str, Any]) -> None:
    response = api_client(acme.report).get(url(acme, f"key-results/{goals['key_result'].pk}/"))
    assert response.json()["line_of_sight"] == (
        f"Your key result '{goals['key_result'].title}' serves "
        "the company objective 'Grow recurring revenue'."
    )


def test_a_kpi_is_changed_through_the_service_and_kept_in_history(
    acme: OrgWorld, goals: dict[str, Any]
) -> None:
    kpi_url = url(acme, f"kpis/{goals['kpi'].pk}/")
    refused = api_client(acme.admin).patch(
        kpi_url, {"green": 9, "red": 1, "direction": "decrease"}, format="json"
    )
    changed = api_client(acme.admin).patch(kpi_url, {"name": "Logo churn, monthly"}, format="json")

    assert refused.status_code == 400
    assert "green must be below red" in refused.json()["green"][0]
    assert changed.status_code == 200
    with tenant_context(acme.organization):
        assert KPI.history.filter(id=goals["kpi"].pk, name="Logo churn, monthly").exists()


def test_an_initiative_is_renamed_by_whoever_manages_its_objective(
    acme: OrgWorld, goals: dict[str, Any]
) -> None:
    created = api_client(acme.admin).post(
        url(acme, "initiatives/"),
        {"key_result": goals["key_result"].pk, "title": "Pricing page"},
        format="json",
    )
    initiative_url = url(acme, f"initiatives/{created.json()['id']}/")

    assert api_client(acme.peer).patch(initiative_url, {"title": "Renamed"}, format="json").status_code == 403
    renamed = api_client(acme.admin).patch(
        initiative_url, {"title": "New pricing page", "jira_epic_key": "rev-7"}, format="json"
    )
    assert renamed.status_code == 200
    assert renamed.json()["jira_epic_key"] == "REV-7"
