"""The goal services: the cascade, its rules at the point of change, and history that rebuilds the past."""

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pytest

from goals import services
from goals.models import KeyResult, KeyResultContributor, Level, Objective, ObjectiveState
from goals.selectors import cascade_for_cycle
from goals.validation import GoalValidationError
from okrsignal.tenancy import tenant_context
from tests.factories import OrgWorld
from tests.goal_factories import BEFORE_START, make_cycle, make_key_result, make_objective

MID_CYCLE = datetime(2026, 8, 3, 10, 0, tzinfo=UTC)


@pytest.fixture
def cascade(acme: OrgWorld):
    """Company objective ← team objective ← individual objective, each with a key result."""
    with tenant_context(acme.organization):
        cycle = make_cycle()
        company = make_objective(cycle, acme.admin, title="Improve net revenue retention by 10%")
        company_kr = make_key_result(
            company, acme.admin, title="Net revenue retention from 100% to 110%", baseline=100, target=110
        )
        team = make_objective(
            cycle,
            acme.manager,
            title="Keep enterprise customers renewing to lift revenue retention",
            level=Level.TEAM,
            parent=company,
        )
        team_kr = make_key_result(
            team,
            acme.manager,
            title="Renewal rate from 80% to 90%",
            baseline=80,
            target=90,
            parent_key_result=company_kr,
        )
        person = make_objective(
            cycle,
            acme.report,
            title="Resolve renewal blockers for enterprise customers",
            level=Level.INDIVIDUAL,
            parent=team,
        )
        yield {
            "cycle": cycle,
            "company": company,
            "company_kr": company_kr,
            "team": team,
            "team_kr": team_kr,
            "person": person,
        }


def _problem_codes(error: pytest.ExceptionInfo[GoalValidationError]) -> set[str]:
    return {problem.code for problem in error.value.problems}


def test_a_key_result_must_be_measurable(acme: OrgWorld, cascade) -> None:
    with tenant_context(acme.organization), pytest.raises(GoalValidationError) as error:
        services.key_result_create(
            by=acme.admin, objective=cascade["company"], title="Be better", unit="", baseline=5, target=5
        )
    assert _problem_codes(error) == {"unit_missing", "target_equals_baseline"}
    assert "unit" in error.value.message_dict


def test_direction_must_agree_with_baseline_and_target(acme: OrgWorld, cascade) -> None:
    with tenant_context(acme.organization), pytest.raises(GoalValidationError) as error:
        services.key_result_create(
            by=acme.admin,
            objective=cascade["company"],
            title="Churn",
            unit="%",
            baseline=5,
            target=3,
            direction="increase",
        )
    assert _problem_codes(error) == {"direction_inconsistent"}
    assert "below the baseline" in error.value.message_dict["direction"][0]


def test_a_parent_must_be_at_a_higher_level(acme: OrgWorld, cascade) -> None:
    with tenant_context(acme.organization), pytest.raises(GoalValidationError) as error:
        make_objective(
            cascade["cycle"], acme.peer, title="Another team goal", level=Level.TEAM, parent=cascade["team"]
        )
    assert _problem_codes(error) == {"parent_level"}


def test_a_parent_must_be_active(acme: OrgWorld, cascade) -> None:
    with tenant_context(acme.organization):
        services.objective_set_state(
            objective=cascade["team"], by=acme.manager, state=ObjectiveState.PAUSED, reason="Re-planning"
        )
        with pytest.raises(GoalValidationError) as error:
            make_objective(
                cascade["cycle"],
                acme.peer,
                title="Under a paused goal",
                level=Level.INDIVIDUAL,
                parent=cascade["team"],
            )
    assert _problem_codes(error) == {"parent_inactive"}


def test_the_cascade_cannot_loop(acme: OrgWorld, cascade) -> None:
    with tenant_context(acme.organization), pytest.raises(GoalValidationError) as error:
        services.objective_update(
            objective=cascade["company"], by=acme.admin, changes={"parent": cascade["person"]}
        )
    assert "cascade_loop" in _problem_codes(error)


def test_pausing_or_cancelling_asks_for_a_reason(acme: OrgWorld, cascade) -> None:
    with tenant_context(acme.organization):
        with pytest.raises(GoalValidationError) as error:
            services.objective_set_state(
                objective=cascade["person"], by=acme.report, state=ObjectiveState.CANCELLED
            )
        assert "state_reason" in error.value.message_dict
        services.objective_set_state(
            objective=cascade["person"],
            by=acme.report,
            state=ObjectiveState.CANCELLED,
            reason="Customer churned anyway",
        )
        assert Objective.objects.get(pk=cascade["person"].pk).state_reason == "Customer churned anyway"


def test_more_than_five_objectives_per_owner_is_a_warning_that_needs_a_reason(
    acme: OrgWorld, cascade
) -> None:
    with tenant_context(acme.organization):
        for number in range(4):
            make_objective(cascade["cycle"], acme.admin, title=f"Company goal {number}")
        with pytest.raises(GoalValidationError) as error:
            make_objective(cascade["cycle"], acme.admin, title="One too many")
        assert _problem_codes(error) == {"too_many_objectives"}
        assert error.value.problems[0].is_warning
        objective = make_objective(
            cascade["cycle"],
            acme.admin,
            title="One too many",
            warning_reasons={"too_many_objectives": "Board asked"},
        )
    assert objective.warnings[0]["reason"] == "Board asked"


def test_an_import_keeps_warnings_on_the_goal_without_stopping(acme: OrgWorld, cascade) -> None:
    with tenant_context(acme.organization):
        for number in range(5):
            make_objective(cascade["cycle"], acme.admin, title=f"Imported goal {number}", as_given=True)
        assert Objective.objects.filter(owner=acme.admin).count() == 6
        assert Objective.objects.get(title="Imported goal 4").warnings[0]["code"] == "too_many_objectives"


def test_more_than_four_key_results_is_a_warning(acme: OrgWorld, cascade) -> None:
    with tenant_context(acme.organization):
        for number in range(3):
            make_key_result(cascade["company"], acme.admin, title=f"KR {number}", baseline=0, target=10)
        with pytest.raises(GoalValidationError) as error:
            make_key_result(cascade["company"], acme.admin, title="KR five", baseline=0, target=10)
    assert _problem_codes(error) == {"too_many_key_results"}


def test_a_goal_added_after_the_cycle_started_names_its_parent_or_a_reason(acme: OrgWorld, cascade) -> None:
    with tenant_context(acme.organization):
        with pytest.raises(GoalValidationError) as error:
            services.objective_create(
                by=acme.peer,
                cycle=cascade["cycle"],
                title="Side project",
                level=Level.INDIVIDUAL,
                owner=acme.peer,
                at=MID_CYCLE,
            )
        assert _problem_codes(error) == {"added_mid_cycle_without_parent"}
        with_parent = services.objective_create(
            by=acme.peer,
            cycle=cascade["cycle"],
            title="Help renewals",
            level=Level.INDIVIDUAL,
            owner=acme.peer,
            parent=cascade["team"],
            at=MID_CYCLE,
        )
    assert with_parent.warnings == []


def test_changing_a_parent_marks_its_children_until_their_owners_reconfirm(acme: OrgWorld, cascade) -> None:
    with tenant_context(acme.organization):
        services.objective_update(
            objective=cascade["team"],
            by=acme.manager,
            changes={"title": "Keep every customer renewing for revenue retention"},
        )
        person = Objective.objects.get(pk=cascade["person"].pk)
        assert person.needs_realignment
        services.objective_update(
            objective=person, by=acme.report, changes={"description": "Edited, not confirmed"}
        )
        assert Objective.objects.get(pk=person.pk).needs_realignment
        services.objective_confirm_alignment(objective=person, by=acme.report)
        assert not Objective.objects.get(pk=person.pk).needs_realignment
        reasons = list(Objective.history.filter(id=person.pk).values_list("history_change_reason", flat=True))
    assert "Alignment confirmed" in reasons


def test_changing_a_key_result_target_marks_the_child_objectives(acme: OrgWorld, cascade) -> None:
    with tenant_context(acme.organization):
        services.key_result_update(key_result=cascade["company_kr"], by=acme.admin, changes={"target": 115})
        assert Objective.objects.get(pk=cascade["team"].pk).needs_realignment
        assert not Objective.objects.get(pk=cascade["person"].pk).needs_realignment


def test_progress_rolls_up_from_values_never_typed(acme: OrgWorld, cascade) -> None:
    with tenant_context(acme.organization):
        services.key_result_record_progress(key_result=cascade["team_kr"], by=acme.manager, value=85)
        tree = cascade_for_cycle(cascade["cycle"])
    nodes = {node.objective.pk: node for node, _depth in tree.walk()}
    assert nodes[cascade["team"].pk].progress == pytest.approx(0.5)
    # The company key result takes the mean of the key results that roll up into it.
    assert nodes[cascade["company"].pk].progress == pytest.approx(0.5)
    assert [depth for _node, depth in tree.walk()] == [0, 1, 2]


def test_history_records_who_changed_what_and_when(acme: OrgWorld, cascade) -> None:
    changed_at = BEFORE_START + timedelta(days=20)
    with tenant_context(acme.organization):
        services.key_result_record_progress(
            key_result=cascade["team_kr"], by=acme.manager, value=84, note="Two renewals in", at=changed_at
        )
        latest = KeyResult.history.filter(id=cascade["team_kr"].pk).order_by("-history_date").first()
        previous = latest.prev_record
        delta = latest.diff_against(previous)
    assert latest.history_user_id == acme.manager.user_id
    assert latest.history_date == changed_at
    assert latest.history_change_reason == "Two renewals in"
    assert [(change.field, change.old, change.new) for change in delta.changes] == [
        ("current_value", None, 84.0)
    ]


def test_the_cascade_can_be_rebuilt_as_it_stood_at_a_past_moment(acme: OrgWorld, cascade) -> None:
    before_edit = BEFORE_START + timedelta(days=10)
    with tenant_context(acme.organization):
        services.objective_update(
            objective=cascade["team"],
            by=acme.manager,
            changes={"title": "A new direction for revenue retention"},
            at=BEFORE_START + timedelta(days=30),
        )
        services.key_result_record_progress(
            key_result=cascade["team_kr"], by=acme.manager, value=90, at=BEFORE_START + timedelta(days=30)
        )
        then = cascade_for_cycle(cascade["cycle"], as_of=before_edit)
        now = cascade_for_cycle(cascade["cycle"])
    titles_then = {node.objective.title for node, _ in then.walk()}
    assert "Keep enterprise customers renewing to lift revenue retention" in titles_then
    assert "A new direction for revenue retention" not in titles_then
    then_team = next(node for node, _ in then.walk() if node.objective.pk == cascade["team"].pk)
    assert then_team.progress == 0.0
    assert not next(
        node for node, _ in then.walk() if node.objective.pk == cascade["person"].pk
    ).objective.needs_realignment
    assert next(node for node, _ in now.walk() if node.objective.pk == cascade["team"].pk).progress == 1.0


def test_history_is_scoped_to_the_organisation(acme: OrgWorld, globex: OrgWorld, cascade) -> None:
    with tenant_context(globex.organization):
        assert not Objective.history.exists()
        assert not KeyResult.history.filter(id=cascade["team_kr"].pk).exists()


def test_a_child_that_shares_no_wording_with_its_parent_gets_a_warning_naming_it(
    acme: OrgWorld, cascade
) -> None:
    with tenant_context(acme.organization):
        with pytest.raises(GoalValidationError) as error:
            make_objective(
                cascade["cycle"],
                acme.manager,
                title="Ship the SOC 2 audit evidence",
                level=Level.TEAM,
                parent=cascade["company"],
            )
        assert _problem_codes(error) == {"no_shared_wording"}
        message = error.value.message_dict["title"][0]
        assert "'Improve net revenue retention by 10%'" in message
        assert "retention" in message
        objective = make_objective(
            cascade["cycle"],
            acme.manager,
            title="Ship the SOC 2 audit evidence",
            level=Level.TEAM,
            parent=cascade["company"],
            warning_reasons={"no_shared_wording": "Enterprise renewals need the audit"},
        )
    assert objective.warnings == [
        {
            "code": "no_shared_wording",
            "field": "title",
            "message": message.split(" Give a reason")[0],
            "reason": "Enterprise renewals need the audit",
        }
    ]


def test_a_child_whose_wording_connects_gets_no_relevance_warning(acme: OrgWorld, cascade) -> None:
    with tenant_context(acme.organization):
        objective = make_objective(
            cascade["cycle"],
            acme.peer,
            title="Raise revenue from expansion deals",
            level=Level.TEAM,
            parent=cascade["company"],
        )
    assert objective.warnings == []


def test_the_wording_check_loads_scikit_learn_only_when_it_is_used() -> None:
    # Every process (web, workers, commands) would otherwise hold about 100 MB it may never use.
    started = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, django; django.setup(); print('sklearn' in sys.modules)",
        ],
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "okrsignal.settings", "DEBUG": "true"},
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert started.stdout.strip().splitlines()[-1] == "False"


def test_contributor_changes_are_kept_in_history(acme: OrgWorld, cascade) -> None:
    changed_at = BEFORE_START + timedelta(days=3)
    with tenant_context(acme.organization):
        services.key_result_update(
            key_result=cascade["team_kr"],
            by=acme.manager,
            changes={},
            contributors=[acme.peer],
            at=changed_at,
        )
        services.key_result_update(
            key_result=cascade["team_kr"], by=acme.manager, changes={}, contributors=[]
        )
        history = list(
            KeyResultContributor.history.filter(key_result_id=cascade["team_kr"].pk)
            .order_by("history_date")
            .values_list("membership_id", "history_type", "history_user_id")
        )
    assert history == [(acme.peer.pk, "+", acme.manager.user_id), (acme.peer.pk, "-", acme.manager.user_id)]
