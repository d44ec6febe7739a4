"""The pages that close a cycle, carry goals over, and take goals in and out as CSV."""

from datetime import date

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from goals import services
from goals.models import Cycle, Objective
from okrsignal.tenancy import tenant_context
from tests.conftest import client_for
from tests.factories import OrgWorld
from tests.goal_factories import make_goal_data


@pytest.fixture
def goals(acme: OrgWorld) -> dict:
    with tenant_context(acme.organization):
        return make_goal_data(acme)


def _url(world: OrgWorld, name: str, **kwargs: object) -> str:
    return reverse(f"goals:{name}", kwargs={"org_slug": world.slug, **kwargs})


def test_closing_shows_the_scores_first_then_freezes_them(acme: OrgWorld, goals: dict) -> None:
    client = client_for(acme.admin)
    url = _url(acme, "cycle_close", cycle_id=goals["cycle"].pk)
    preview = client.get(url)
    assert "Scores if you close today" in preview.content.decode()

    response = client.post(url)

    assert response.url == _url(acme, "cycle_carry_over", cycle_id=goals["cycle"].pk)
    with tenant_context(acme.organization):
        assert Cycle.objects.get(pk=goals["cycle"].pk).closed_at is not None
        assert Objective.objects.get(pk=goals["objective"].pk).final_score == 0.0
    assert "Final scores" in client.get(url).content.decode()


def test_unfinished_goals_are_carried_into_the_chosen_cycle(acme: OrgWorld, goals: dict) -> None:
    client = client_for(acme.admin)
    client.post(_url(acme, "cycle_close", cycle_id=goals["cycle"].pk))
    with tenant_context(acme.organization):
        following = services.cycle_create(name="2026-Q4", start=date(2026, 10, 5), end=date(2027, 1, 3))

    response = client.post(
        _url(acme, "cycle_carry_over", cycle_id=goals["cycle"].pk),
        {"to_cycle": following.pk, "objectives": [goals["objective"].pk]},
    )

    assert response.status_code == 302
    with tenant_context(acme.organization):
        copy = Objective.objects.get(cycle=following)
    assert copy.carried_from_id == goals["objective"].pk


def test_carrying_over_without_choosing_says_what_is_missing(acme: OrgWorld, goals: dict) -> None:
    client = client_for(acme.admin)
    client.post(_url(acme, "cycle_close", cycle_id=goals["cycle"].pk))
    response = client.post(_url(acme, "cycle_carry_over", cycle_id=goals["cycle"].pk), {})
    assert response.status_code == 400
    assert "Choose the cycle" in response.content.decode()


def test_export_then_dry_run_import_lists_nothing_to_fix(acme: OrgWorld, goals: dict) -> None:
    client = client_for(acme.admin)
    exported = client.get(_url(acme, "cycle_export", cycle_id=goals["cycle"].pk))
    assert exported["Content-Type"].startswith("text/csv")
    assert goals["objective"].title in exported.content.decode()
    with tenant_context(acme.organization):
        target = services.cycle_create(name="Imported", start=date(2026, 10, 5), end=date(2027, 1, 3))

    checked = client.post(
        _url(acme, "cycle_import", cycle_id=target.pk),
        {
            "action": "check",
            "file": SimpleUploadedFile("goals.csv", exported.content, content_type="text/csv"),
        },
    )

    assert checked.status_code == 200
    assert "Ready to import" in checked.content.decode()
    with tenant_context(acme.organization):
        assert not Objective.objects.filter(cycle=target).exists()
    imported = client.post(
        _url(acme, "cycle_import", cycle_id=target.pk),
        {"action": "import", "text": exported.content.decode()},
    )
    assert imported.status_code == 302
    with tenant_context(acme.organization):
        assert Objective.objects.filter(cycle=target, title=goals["objective"].title).exists()


def test_a_dry_run_lists_each_rows_problem_and_saves_nothing(acme: OrgWorld, goals: dict) -> None:
    text = (
        "kind,ref,title,level,owner_email,unit,baseline,target,objective\n"
        "objective,O1,Grow,company,nobody@example.test,,,,\n"
    )
    response = client_for(acme.admin).post(
        _url(acme, "cycle_import", cycle_id=goals["cycle"].pk), {"action": "import", "text": text}
    )
    body = response.content.decode()
    assert response.status_code == 400
    assert "problem" in body
    assert "nobody@example.test" in body
    with tenant_context(acme.organization):
        assert not Objective.objects.filter(title="Grow").exists()


def test_the_template_is_a_csv_with_the_header(acme: OrgWorld) -> None:
    response = client_for(acme.report).get(_url(acme, "csv_template"))
    assert response["Content-Disposition"].startswith("attachment")
    assert response.content.decode().splitlines()[0].startswith("kind,")


@pytest.mark.parametrize("name", ["cycle_close", "cycle_carry_over", "cycle_import"])
def test_cycle_administration_is_for_admins(acme: OrgWorld, goals: dict, name: str) -> None:
    url = _url(acme, name, cycle_id=goals["cycle"].pk)
    assert client_for(acme.manager).get(url).status_code == 404
    assert client_for(acme.admin).get(url).status_code == 200
