"""The check-in API: the author's drafts and submissions, the same visibility rules as the pages (404 for
everyone else), feedback for a manager left out for anyone but that manager, replies, "discussed", pulse
answers, 400s that name the field, and lists whose query count does not grow."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from goals import services
from goals.checkin_selectors import organization_week
from goals.models import CheckIn, PulseAnswer
from okrsignal import services as people_services
from okrsignal.models import Membership, Role
from okrsignal.tenancy import tenant_context
from tests.checkin_factories import make_check_in_goals
from tests.factories import OrgWorld, make_user


def api_client(membership: Membership) -> APIClient:
    client = APIClient()
    client.force_login(membership.user)
    return client


def url(world: OrgWorld, path: str) -> str:
    return f"/api/v1/o/{world.slug}/{path}"


@pytest.fixture
def goals(acme: OrgWorld) -> dict[str, Any]:
    """The check-in goals in a cycle running now."""
    today = timezone.now().date()
    with tenant_context(acme.organization):
        cycle = services.cycle_create(
            name="Current quarter", start=today - timedelta(days=30), end=today + timedelta(days=60)
        )
        return make_check_in_goals(acme, cycle)


@pytest.fixture
def this_week(acme: OrgWorld) -> str:
    return organization_week(acme.report).isoformat()


def complete_body(goals: dict[str, Any], **changes: Any) -> dict[str, Any]:
    return {
        "priorities": [
            {"text": "Close the Baltic renewal", "key_result": goals["revenue"].pk},
            {"text": "Hire a second account executive", "unlinked": True},
        ],
        "key_result_updates": [
            {"key_result": goals["revenue"].pk, "status": "blocked", "value": 10.5, "note": "Legal"}
        ],
        "blockers": "Legal has not reviewed the contract.",
        "upward_feedback": "Fewer status meetings, please.",
        "next_week_success": "The renewal is signed.",
        **changes,
    }


def start_and_submit(
    world: OrgWorld, author: Membership, goals: dict[str, Any], key_result: str = "revenue"
) -> dict[str, Any]:
    """``author`` starts and submits this week's check-in, reporting on ``goals[key_result]``."""
    client = api_client(author)
    created = client.post(url(world, "check-ins/"), {}, format="json")
    assert created.status_code == 201, created.json()
    update = {"key_result": goals[key_result].pk, "status": "blocked", "value": 10.5, "note": "Legal"}
    submitted = client.post(
        url(world, f"check-ins/{created.json()['id']}/submit/"),
        complete_body(goals, key_result_updates=[update]),
        format="json",
    )
    assert submitted.status_code == 200, submitted.json()
    return submitted.json()


@pytest.fixture
def report_check_in(acme: OrgWorld, goals: dict[str, Any]) -> dict[str, Any]:
    return start_and_submit(acme, acme.report, goals)


# --- The author -------------------------------------------------------------------------------------


def test_the_author_starts_a_draft_for_this_week(
    acme: OrgWorld, goals: dict[str, Any], this_week: str
) -> None:
    response = api_client(acme.report).post(
        url(acme, "check-ins/"), {"blockers": "Waiting on legal"}, format="json"
    )

    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["week"], body["state"], body["blockers"], body["membership"]) == (
        this_week,
        "draft",
        "Waiting on legal",
        acme.report.pk,
    )


def test_a_second_check_in_for_the_week_is_a_400_on_week(acme: OrgWorld, goals: dict[str, Any]) -> None:
    client = api_client(acme.report)
    client.post(url(acme, "check-ins/"), {}, format="json")

    response = client.post(url(acme, "check-ins/"), {}, format="json")

    assert response.status_code == 400
    assert list(response.json()) == ["week"]


def test_the_author_saves_the_draft(acme: OrgWorld, goals: dict[str, Any]) -> None:
    client = api_client(acme.report)
    check_in_id = client.post(url(acme, "check-ins/"), {"blockers": "Legal"}, format="json").json()["id"]

    response = client.patch(
        url(acme, f"check-ins/{check_in_id}/"),
        {"priorities": [{"text": "Close the renewal", "key_result": goals["revenue"].pk}]},
        format="json",
    )

    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["blockers"] == "Legal"
    assert [(p["text"], p["key_result"], p["unlinked"]) for p in body["priorities"]] == [
        ("Close the renewal", goals["revenue"].pk, False)
    ]
    assert body["priorities"][0]["line_of_sight"] == (
        "Your key result 'Revenue from 10 to 12' serves the company objective 'Grow recurring revenue'."
    )


def test_the_author_submits_and_submitting_again_changes_the_same_check_in(
    acme: OrgWorld, goals: dict[str, Any], report_check_in: dict[str, Any]
) -> None:
    assert report_check_in["state"] == "submitted"
    assert report_check_in["manager"] == acme.manager.pk
    assert [u["status"] for u in report_check_in["key_result_updates"]] == ["blocked"]

    response = api_client(acme.report).post(
        url(acme, f"check-ins/{report_check_in['id']}/submit/"), {"blockers": "Legal signed"}, format="json"
    )

    assert response.status_code == 200, response.json()
    assert (response.json()["id"], response.json()["blockers"]) == (report_check_in["id"], "Legal signed")
    with tenant_context(acme.organization):
        assert CheckIn.objects.count() == 1
        assert services.KeyResult.objects.get(pk=goals["revenue"].pk).current_value == 10.5


def test_a_refused_submission_names_the_field_and_leaves_the_draft_as_it_was(
    acme: OrgWorld, goals: dict[str, Any]
) -> None:
    client = api_client(acme.report)
    check_in_id = client.post(url(acme, "check-ins/"), {"blockers": "Legal"}, format="json").json()["id"]

    response = client.post(
        url(acme, f"check-ins/{check_in_id}/submit/"),
        {"priorities": [{"text": "Close the renewal"}], "blockers": "Changed"},
        format="json",
    )

    assert response.status_code == 400
    assert response.json() == {"priorities.0.key_result": ["Link it to a key result, or mark it unlinked."]}
    kept = client.get(url(acme, f"check-ins/{check_in_id}/")).json()
    assert (kept["state"], kept["blockers"], kept["priorities"]) == ("draft", "Legal", [])


def test_malformed_parts_are_400s_naming_each_nested_field(acme: OrgWorld, goals: dict[str, Any]) -> None:
    response = api_client(acme.report).post(
        url(acme, "check-ins/"),
        {
            "priorities": [{"text": "Fine"}, {"text": "Linked", "key_result": 987654321}],
            "key_result_updates": [{"key_result": goals["revenue"].pk, "status": "fine", "value": "lots"}],
        },
        format="json",
    )

    assert response.status_code == 400
    assert set(response.json()) == {
        "priorities.1.key_result",
        "key_result_updates.0.status",
        "key_result_updates.0.value",
    }


def test_a_figure_beyond_reason_is_a_400_on_its_field(acme: OrgWorld, goals: dict[str, Any]) -> None:
    response = api_client(acme.report).post(
        url(acme, "check-ins/"),
        {"key_result_updates": [{"key_result": goals["revenue"].pk, "status": "on_track", "value": 1e300}]},
        format="json",
    )

    assert response.status_code == 400
    assert list(response.json()) == ["key_result_updates.0.value"]


def test_a_submitted_check_in_is_not_patched(acme: OrgWorld, report_check_in: dict[str, Any]) -> None:
    response = api_client(acme.report).patch(
        url(acme, f"check-ins/{report_check_in['id']}/"), {"blockers": "x"}, format="json"
    )
    assert response.status_code == 400
    assert list(response.json()) == ["state"]


# --- Who sees what ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", ""),
        ("patch", ""),
        ("post", "submit/"),
        ("post", "discussed/"),
        ("get", "replies/"),
        ("post", "replies/"),
    ],
)
def test_a_peer_gets_404_for_every_route_of_a_check_in(
    acme: OrgWorld, report_check_in: dict[str, Any], method: str, path: str
) -> None:
    client = api_client(acme.peer)
    response = getattr(client, method)(
        url(acme, f"check-ins/{report_check_in['id']}/{path}"), {"text": "Hi"}, format="json"
    )
    assert response.status_code == 404


def test_an_admin_outside_the_reporting_line_gets_404_and_an_empty_list(
    acme: OrgWorld, report_check_in: dict[str, Any]
) -> None:
    with tenant_context(acme.organization):
        outsider = Membership.objects.create(user=make_user(name="Acme Outside Admin"), role=Role.ADMIN)
        people_services.membership_update(membership=outsider, role=Role.ADMIN, team=acme.team, manager=None)
    client = api_client(outsider)

    assert client.get(url(acme, f"check-ins/{report_check_in['id']}/")).status_code == 404
    assert client.get(url(acme, "check-ins/")).json()["results"] == []


def test_another_organisations_check_in_is_404(
    acme: OrgWorld, globex: OrgWorld, report_check_in: dict[str, Any]
) -> None:
    response = api_client(globex.admin).get(url(globex, f"check-ins/{report_check_in['id']}/"))
    assert response.status_code == 404


@pytest.mark.parametrize(("who", "sees_feedback"), [("report", True), ("manager", True), ("admin", False)])
def test_feedback_for_the_manager_is_shown_to_that_manager_only(
    acme: OrgWorld, report_check_in: dict[str, Any], who: str, sees_feedback: bool
) -> None:
    response = api_client(getattr(acme, who)).get(url(acme, f"check-ins/{report_check_in['id']}/"))

    assert response.status_code == 200
    body = response.json()
    assert ("upward_feedback" in body) is sees_feedback
    assert body["blockers"] == "Legal has not reviewed the contract."


def test_the_list_filters_by_week_and_person(
    acme: OrgWorld, goals: dict[str, Any], report_check_in: dict[str, Any], this_week: str
) -> None:
    start_and_submit(acme, acme.indirect_report, goals)
    client = api_client(acme.manager)

    everyone = client.get(url(acme, "check-ins/"), {"week": this_week}).json()["results"]
    one = client.get(url(acme, "check-ins/"), {"membership": acme.report.pk}).json()["results"]
    last_week = organization_week(acme.report) - timedelta(days=7)
    none = client.get(url(acme, "check-ins/"), {"week": last_week.isoformat()}).json()["results"]

    assert {row["membership"] for row in everyone} == {acme.report.pk, acme.indirect_report.pk}
    assert [row["id"] for row in one] == [report_check_in["id"]]
    assert none == []


def test_the_list_costs_the_same_queries_however_many_check_ins(
    acme: OrgWorld, goals: dict[str, Any], report_check_in: dict[str, Any]
) -> None:
    client = api_client(acme.admin)

    def count_queries() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url(acme, "check-ins/")).status_code == 200
        return len(queries)

    one = count_queries()
    start_and_submit(acme, acme.indirect_report, goals)
    start_and_submit(acme, acme.manager, goals, key_result="north")
    assert count_queries() == one


# --- The manager's side -----------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["manager", "admin"])
def test_someone_above_marks_it_discussed(acme: OrgWorld, report_check_in: dict[str, Any], who: str) -> None:
    response = api_client(getattr(acme, who)).post(url(acme, f"check-ins/{report_check_in['id']}/discussed/"))

    assert response.status_code == 200, response.json()
    assert response.json()["discussed_by"] == getattr(acme, who).pk


@pytest.mark.parametrize(("who", "path"), [("report", "discussed/"), ("manager", "submit/")])
def test_a_reader_who_may_not_make_the_change_gets_403(
    acme: OrgWorld, report_check_in: dict[str, Any], who: str, path: str
) -> None:
    response = api_client(getattr(acme, who)).post(url(acme, f"check-ins/{report_check_in['id']}/{path}"))
    assert response.status_code == 403


def test_the_manager_replies_and_the_author_reads_it(acme: OrgWorld, report_check_in: dict[str, Any]) -> None:
    replies = url(acme, f"check-ins/{report_check_in['id']}/replies/")

    created = api_client(acme.manager).post(replies, {"text": "I will call legal."}, format="json")
    listed = api_client(acme.report).get(replies)

    assert created.status_code == 201, created.json()
    assert [(r["author"], r["author_name"], r["text"]) for r in listed.json()] == [
        (acme.manager.pk, acme.manager.user.full_name, "I will call legal.")
    ]
    check_in = api_client(acme.report).get(url(acme, f"check-ins/{report_check_in['id']}/")).json()
    assert check_in["reply_count"] == 1


def test_an_empty_reply_is_a_400_on_text(acme: OrgWorld, report_check_in: dict[str, Any]) -> None:
    response = api_client(acme.manager).post(
        url(acme, f"check-ins/{report_check_in['id']}/replies/"), {"text": " "}, format="json"
    )
    assert response.status_code == 400
    assert list(response.json()) == ["text"]


# --- Pulse ------------------------------------------------------------------------------------------


def test_the_pulse_is_answered_once_a_week(acme: OrgWorld, this_week: str) -> None:
    client = api_client(acme.report)

    first = client.post(url(acme, "pulse-answers/"), {"score": 3}, format="json")
    again = client.post(url(acme, "pulse-answers/"), {"score": 5}, format="json")

    assert (first.status_code, again.status_code) == (201, 200)
    assert (again.json()["week"], again.json()["score"], again.json()["team"]) == (this_week, 5, acme.team.pk)
    with tenant_context(acme.organization):
        assert PulseAnswer.objects.count() == 1


@pytest.mark.parametrize("score", [0, 6, "great"])
def test_a_pulse_score_out_of_range_is_a_400_on_score(acme: OrgWorld, score: object) -> None:
    response = api_client(acme.report).post(url(acme, "pulse-answers/"), {"score": score}, format="json")
    assert response.status_code == 400
    assert list(response.json()) == ["score"]


def test_the_api_description_covers_check_ins(db: None) -> None:
    schema = APIClient().get("/api/v1/schema/", {"format": "json"}).json()
    assert {
        "/api/v1/o/{org_slug}/check-ins/",
        "/api/v1/o/{org_slug}/check-ins/{id}/",
        "/api/v1/o/{org_slug}/check-ins/{id}/submit/",
        "/api/v1/o/{org_slug}/check-ins/{id}/discussed/",
        "/api/v1/o/{org_slug}/check-ins/{id}/replies/",
        "/api/v1/o/{org_slug}/pulse-answers/",
    } <= set(schema["paths"])
    check_in = schema["components"]["schemas"]["CheckIn"]
    assert "upward_feedback" not in check_in["required"]
