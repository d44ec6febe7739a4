"""Goals, key results and KPIs in CSV: the template, the export, and an import that checks every row first."""

import csv
import io
from datetime import UTC, date, datetime

import pytest

from goals import services
from goals.csv_io import COLUMN_HELP, csv_template, goals_export_csv, goals_import_csv
from goals.cycles import cycle_close
from goals.models import KPI, Cycle, KeyResult, Level, Objective, ObjectiveType
from goals.validation import GoalValidationError
from okrsignal.tenancy import tenant_context
from tests.factories import OrgWorld
from tests.goal_factories import BEFORE_START, make_cycle, make_key_result, make_objective

BEFORE_NEXT_START = datetime(2026, 10, 1, 9, 0, tzinfo=UTC)


def _next_cycle() -> Cycle:
    return services.cycle_create(name="2026-Q4", start=date(2026, 10, 5), end=date(2027, 1, 3))


def _import(world: OrgWorld, cycle: Cycle, text: str, *, dry_run: bool):  # type: ignore[no-untyped-def]
    return goals_import_csv(text=text, cycle=cycle, by=world.admin, dry_run=dry_run, at=BEFORE_START)


def _nothing_saved() -> bool:
    return not (
        Objective.objects.exists()
        or KeyResult.objects.exists()
        or KPI.objects.exists()
        or Objective.history.exists()
        or KeyResult.history.exists()
    )


def _valid_file(world: OrgWorld) -> str:
    return (
        "kind,ref,title,level,parent,objective,owner_email,unit,baseline,target,green,red,direction,"
        "tagged_objectives\n"
        f"objective,O1,Resolve support tickets faster,company,,,{world.admin.user.email},,,,,,,\n"
        f"objective,O2,Answer support tickets within a day,team,O1,,{world.manager.user.email},,,,,,,\n"
        f"key_result,,Tickets answered within 24 hours,,,O2,{world.manager.user.email},%,60,90,,,,\n"
        "kpi,,Support first response time,,,,,hours,,,4,8,decrease,O1;O2\n"
    )


def test_the_template_documents_every_column(db: None) -> None:
    header = next(csv.reader(io.StringIO(csv_template())))
    assert header == list(COLUMN_HELP)


def test_the_template_parses_with_no_errors_in_a_dry_run(acme: OrgWorld) -> None:
    with tenant_context(acme.organization):
        report = _import(acme, make_cycle(), csv_template(owner_email=acme.admin.user.email), dry_run=True)
    assert report.errors == []
    assert report.counts == {"objective": 1, "key_result": 1, "kpi": 1}


def test_the_template_without_an_owner_parses_with_no_errors(acme: OrgWorld) -> None:
    with tenant_context(acme.organization):
        report = _import(acme, make_cycle(), csv_template(), dry_run=True)
    assert report.errors == []


def test_a_dry_run_saves_nothing(acme: OrgWorld) -> None:
    with tenant_context(acme.organization):
        report = _import(acme, make_cycle(), _valid_file(acme), dry_run=True)
        assert _nothing_saved()
    assert (report.ok, report.saved) == (True, False)
    assert report.counts == {"objective": 2, "key_result": 1, "kpi": 1}


def test_a_dry_run_lists_each_rows_problems_with_row_numbers(acme: OrgWorld) -> None:
    text = (
        "kind,ref,title,level,parent,objective,owner_email,unit,baseline,target\n"
        f"objective,O1,Resolve support tickets faster,company,,,{acme.admin.user.email},,,\n"
        "objective,O2,Answer support tickets within a day,team,O1,,nobody@example.test,,,\n"
        "key_result,,Tickets answered within a day,,,O1,,,60,90\n"
        "key_result,,Tickets answered in the chat,,,O1,,%,70,70\n"
        "objective,,Answer chat support tickets,team,O9,,,,,\n"
        "key_result,,Chats answered within an hour,,,O1,,%,ten,90\n"
        "initiative,,Hire two support engineers,,,,,,,\n"
    )
    with tenant_context(acme.organization):
        report = _import(acme, make_cycle(), text, dry_run=True)
        assert _nothing_saved()
    assert [(problem.row, problem.column) for problem in report.errors] == [
        (3, "owner_email"),
        (4, "unit"),
        (5, "target"),
        (6, "parent"),
        (7, "baseline"),
        (8, "kind"),
    ]
    messages = [problem.message for problem in report.errors]
    assert messages[0].startswith("Unknown owner e-mail 'nobody@example.test'")
    assert "unit" in messages[1]
    assert messages[2] == "The target equals the baseline, so nothing would change."
    assert messages[3].startswith("Unknown parent 'O9'")
    assert messages[4].startswith("'ten' is not a number")
    assert messages[5].startswith("Unknown kind 'initiative'")


def test_the_services_own_rules_are_checked_in_a_dry_run(acme: OrgWorld) -> None:
    text = (
        "kind,ref,title,level,parent,owner_email\n"
        f"objective,O1,Resolve support tickets faster,team,,{acme.manager.user.email}\n"
        f"objective,O2,Resolve support tickets in the company,company,O1,{acme.admin.user.email}\n"
    )
    with tenant_context(acme.organization):
        report = _import(acme, make_cycle(), text, dry_run=True)
    ((row, column, message),) = [(p.row, p.column, p.message) for p in report.errors]
    assert (row, column) == (3, "parent")
    assert "the parent must be at a higher level" in message


def test_an_import_saves_every_row_through_the_services(acme: OrgWorld) -> None:
    with tenant_context(acme.organization):
        cycle = make_cycle()
        report = _import(acme, cycle, _valid_file(acme), dry_run=False)
        team = Objective.objects.select_related("parent").get(title="Answer support tickets within a day")
        key_result = KeyResult.objects.get()
        kpi = KPI.objects.get()
        created_by = team.history.earliest("history_date").history_user
        tagged = set(kpi.objective_tags.values_list("objective__title", flat=True))
    assert (report.ok, report.saved) == (True, True)
    assert (team.cycle_id, team.level, team.parent.title, team.owner_id) == (
        cycle.pk,
        Level.TEAM,
        "Resolve support tickets faster",
        acme.manager.pk,
    )
    assert (key_result.objective_id, key_result.unit, key_result.baseline, key_result.target) == (
        team.pk,
        "%",
        60,
        90,
    )
    assert created_by == acme.admin.user
    assert tagged == {"Resolve support tickets faster", "Answer support tickets within a day"}


def test_a_file_with_one_bad_row_saves_nothing(acme: OrgWorld) -> None:
    text = _valid_file(acme) + "key_result,,Tickets reopened,,,O2,,%,5,abc,,,,\n"
    with tenant_context(acme.organization):
        report = _import(acme, make_cycle(), text, dry_run=False)
        assert _nothing_saved()
    assert report.saved is False
    assert [(problem.row, problem.column) for problem in report.errors] == [(6, "target")]


def test_an_import_records_warnings_as_given(acme: OrgWorld) -> None:
    text = (
        "kind,ref,title,level,parent,owner_email\n"
        f"objective,O1,Resolve support tickets faster,company,,{acme.admin.user.email}\n"
        f"objective,O2,Move the office to Lisbon,team,O1,{acme.manager.user.email}\n"
    )
    with tenant_context(acme.organization):
        report = _import(acme, make_cycle(), text, dry_run=False)
        kept = Objective.objects.get(title="Move the office to Lisbon").warnings
    assert report.saved is True
    assert [(warning.row, warning.column) for warning in report.warnings] == [(3, "title")]
    assert [(warning["code"], warning["reason"]) for warning in kept] == [
        ("no_shared_wording", "Recorded as imported.")
    ]


def test_an_owner_email_of_another_organisation_is_unknown(acme: OrgWorld, globex: OrgWorld) -> None:
    text = (
        "kind,title,level,owner_email\n"
        f"objective,Resolve support tickets faster,company,{globex.admin.user.email}\n"
    )
    with tenant_context(acme.organization):
        report = _import(acme, make_cycle(), text, dry_run=True)
    ((problem,),) = [report.errors]
    assert (problem.row, problem.column) == (2, "owner_email")
    assert problem.message.startswith(f"Unknown owner e-mail '{globex.admin.user.email}'")


def test_a_key_result_can_name_an_existing_objective_by_title(acme: OrgWorld) -> None:
    text = (
        "kind,title,objective,unit,baseline,target\nkey_result,Churn from 3% to 2%,Keep our customers,%,3,2\n"
    )
    with tenant_context(acme.organization):
        cycle = make_cycle()
        objective = make_objective(cycle, acme.admin, title="Keep our customers")
        report = _import(acme, cycle, text, dry_run=False)
        key_result = KeyResult.objects.get()
    assert report.saved is True
    assert (key_result.objective_id, key_result.direction) == (objective.pk, "decrease")


def test_a_kpi_that_exists_with_other_settings_is_an_error(acme: OrgWorld) -> None:
    text = "kind,title,unit,direction,green,red\nkpi,Monthly churn,%,decrease,1,2\n"
    with tenant_context(acme.organization):
        services.kpi_create(
            by=acme.admin, name="Monthly churn", unit="%", direction="decrease", green=2, red=3
        )
        report = _import(acme, make_cycle(), text, dry_run=True)
    assert [(problem.row, problem.column) for problem in report.errors] == [(2, "title")]


def test_rows_whose_parents_point_at_each_other_are_refused(acme: OrgWorld) -> None:
    text = (
        "kind,ref,title,level,parent\n"
        "objective,A,Resolve support tickets faster,team,B\n"
        "objective,B,Resolve tickets in the chat,team,A\n"
    )
    with tenant_context(acme.organization):
        report = _import(acme, make_cycle(), text, dry_run=True)
    assert {(problem.row, problem.column) for problem in report.errors} == {(2, "parent"), (3, "parent")}


def test_an_unknown_column_is_reported_on_the_header_row(acme: OrgWorld) -> None:
    text = "kind,title,level,tagret\nobjective,Resolve support tickets faster,company,90\n"
    with tenant_context(acme.organization):
        report = _import(acme, make_cycle(), text, dry_run=True)
    assert [(problem.row, problem.column, problem.message) for problem in report.errors] == [
        (1, "tagret", "Unknown column 'tagret'.")
    ]


def test_importing_into_a_closed_cycle_is_refused(acme: OrgWorld) -> None:
    with tenant_context(acme.organization):
        cycle = make_cycle()
        cycle_close(cycle=cycle, by=acme.admin)
        with pytest.raises(GoalValidationError) as error:
            _import(acme, cycle, csv_template(), dry_run=True)
    assert "cycle" in error.value.message_dict


@pytest.fixture
def quarter(acme: OrgWorld):
    """A cycle with a company and a team objective, key results (one rolling up), contributors and a KPI."""
    with tenant_context(acme.organization):
        cycle = make_cycle()
        company = make_objective(cycle, acme.admin, title="Improve net revenue retention by 10%")
        company_kr = make_key_result(
            company,
            acme.admin,
            title="Net revenue retention from 100% to 110%",
            baseline=100,
            target=110,
            contributors=[acme.peer, acme.report],
        )
        team = make_objective(
            cycle,
            acme.manager,
            title="-5% churn: keep enterprise customers renewing",
            level=Level.TEAM,
            parent=company,
            team=acme.team,
            type=ObjectiveType.ASPIRATIONAL,
            description="Renewals drive retention.",
        )
        renewals = make_key_result(
            team,
            acme.manager,
            title="Renewal rate from 80% to 90%",
            baseline=80,
            target=90,
            parent_key_result=company_kr,
            confidence=0.6,
        )
        services.key_result_record_progress(key_result=renewals, by=acme.manager, value=84)
        make_key_result(
            team, acme.manager, title="Churned logos from 12 to 4", baseline=12, target=4, unit="logos"
        )
        services.kpi_create(
            by=acme.admin,
            name="Monthly logo churn",
            unit="%",
            direction="decrease",
            green=2,
            red=3.5,
            owner=acme.manager,
            team=acme.team,
            objectives=[company, team],
        )
        yield cycle


def _objectives(cycle: Cycle) -> list[tuple]:
    return sorted(
        Objective.objects.filter(cycle=cycle).values_list(
            "title",
            "description",
            "level",
            "type",
            "parent__title",
            "owner__user__email",
            "team__name",
            "weight",
        )
    )


def _key_results(cycle: Cycle) -> list[tuple]:
    return sorted(
        KeyResult.objects.filter(objective__cycle=cycle).values_list(
            "title",
            "objective__title",
            "unit",
            "baseline",
            "target",
            "direction",
            "current_value",
            "confidence",
            "owner__user__email",
            "parent_key_result__title",
        )
    )


def _contributors(cycle: Cycle) -> set[tuple[str, str]]:
    return {
        (kr.title, link.membership.user.email)
        for kr in KeyResult.objects.filter(objective__cycle=cycle)
        for link in kr.contributor_links.select_related("membership__user")
    }


def test_export_then_import_into_a_new_cycle_gives_the_same_goals(acme: OrgWorld, quarter) -> None:
    with tenant_context(acme.organization):
        exported = goals_export_csv(quarter)
        next_cycle = _next_cycle()
        report = goals_import_csv(
            text=exported, cycle=next_cycle, by=acme.admin, dry_run=False, at=BEFORE_NEXT_START
        )
        assert (report.errors, report.saved) == ([], True)
        assert _objectives(next_cycle) == _objectives(quarter)
        assert _key_results(next_cycle) == _key_results(quarter)
        assert _contributors(next_cycle) == _contributors(quarter)
        assert goals_export_csv(next_cycle) == exported


def test_an_existing_kpi_is_reused_and_tagged_to_the_imported_objectives(acme: OrgWorld, quarter) -> None:
    with tenant_context(acme.organization):
        next_cycle = _next_cycle()
        report = goals_import_csv(
            text=goals_export_csv(quarter),
            cycle=next_cycle,
            by=acme.admin,
            dry_run=False,
            at=BEFORE_NEXT_START,
        )
        kpi = KPI.objects.get()
        tagged_next = kpi.objective_tags.filter(objective__cycle=next_cycle).count()
    assert report.reused_kpis == ["Monthly logo churn"]
    assert tagged_next == 2


def test_text_a_spreadsheet_would_run_as_a_formula_is_escaped(acme: OrgWorld, quarter) -> None:
    with tenant_context(acme.organization):
        exported = goals_export_csv(quarter)
    titles = [row["title"] for row in csv.DictReader(io.StringIO(exported))]
    assert "'-5% churn: keep enterprise customers renewing" in titles
