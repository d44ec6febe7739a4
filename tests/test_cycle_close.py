"""Closing a cycle freezes its scores once; unfinished objectives can be carried into the next cycle."""

from datetime import UTC, date, datetime

import pytest

from goals import services
from goals.cycles import close_report_for_cycle, cycle_carry_over, cycle_close
from goals.models import Cycle, KeyResult, Level, Objective, ObjectiveState, ObjectiveType
from goals.validation import GoalValidationError
from okrsignal.tenancy import TenantMismatch, tenant_context
from tests.factories import OrgWorld
from tests.goal_factories import make_cycle, make_key_result, make_objective

LATE_IN_CYCLE = datetime(2026, 9, 28, 9, 0, tzinfo=UTC)
CLOSE_AT = datetime(2026, 10, 5, 8, 0, tzinfo=UTC)
NEXT_START = date(2026, 10, 5)
NEXT_END = date(2027, 1, 3)


def _objective_reaching(cycle, owner, *, title: str, share: float, **kwargs) -> Objective:  # type: ignore[no-untyped-def]
    """An objective with one key result from 0 to 10 that has reached ``share`` of the way."""
    objective = make_objective(cycle, owner, title=title, **kwargs)
    key_result = make_key_result(objective, owner, title=f"{title}: from 0 to 10", baseline=0, target=10)
    services.key_result_record_progress(key_result=key_result, by=owner, value=share * 10, at=LATE_IN_CYCLE)
    return objective


@pytest.fixture
def scored(acme: OrgWorld):
    """Objectives that end the quarter at 1.0, at 0.7 (committed and aspirational), and done at 0.5."""
    with tenant_context(acme.organization):
        cycle = make_cycle()
        yield {
            "cycle": cycle,
            "landed": _objective_reaching(cycle, acme.admin, title="Ship the billing rewrite", share=1.0),
            "committed": _objective_reaching(cycle, acme.admin, title="Cut support backlog", share=0.7),
            "aspirational": _objective_reaching(
                cycle,
                acme.manager,
                title="Open the Nordic market",
                share=0.7,
                type=ObjectiveType.ASPIRATIONAL,
            ),
            "done": services.objective_set_state(
                objective=_objective_reaching(cycle, acme.manager, title="Renew the office lease", share=0.5),
                by=acme.manager,
                state=ObjectiveState.DONE,
                at=LATE_IN_CYCLE,
            ),
        }


def _entry(report, objective: Objective):  # type: ignore[no-untyped-def]
    return next(entry for entry in report.scores if entry.objective.pk == objective.pk)


def test_closing_freezes_each_objectives_score(acme: OrgWorld, scored) -> None:
    with tenant_context(acme.organization):
        cycle_close(cycle=scored["cycle"], by=acme.admin, at=CLOSE_AT)
        frozen = dict(Objective.objects.filter(cycle=scored["cycle"]).values_list("title", "final_score"))
    assert frozen == {
        "Ship the billing rewrite": 1.0,
        "Cut support backlog": 0.7,
        "Open the Nordic market": 0.7,
        "Renew the office lease": 0.5,
    }


def test_the_frozen_score_is_recorded_in_history_with_who_and_when(acme: OrgWorld, scored) -> None:
    with tenant_context(acme.organization):
        cycle_close(cycle=scored["cycle"], by=acme.admin, at=CLOSE_AT)
        record = scored["committed"].history.order_by("-history_date", "-history_id").first()
        before = record.prev_record
    assert (record.final_score, before.final_score) == (0.7, None)
    assert record.history_user == acme.admin.user
    assert record.history_date == CLOSE_AT
    assert record.history_change_reason == "Cycle 2026-Q3 closed"


def test_an_aspirational_score_of_0_7_is_a_good_result(acme: OrgWorld, scored) -> None:
    with tenant_context(acme.organization):
        report = cycle_close(cycle=scored["cycle"], by=acme.admin, at=CLOSE_AT)
    entry = _entry(report, scored["aspirational"])
    assert (entry.score, entry.is_good) == (0.7, True)


def test_a_committed_score_of_0_7_is_not_a_good_result(acme: OrgWorld, scored) -> None:
    with tenant_context(acme.organization):
        report = cycle_close(cycle=scored["cycle"], by=acme.admin, at=CLOSE_AT)
    entry = _entry(report, scored["committed"])
    assert (entry.score, entry.is_good) == (0.7, False)


def test_a_committed_score_of_1_is_a_good_result(acme: OrgWorld, scored) -> None:
    with tenant_context(acme.organization):
        report = cycle_close(cycle=scored["cycle"], by=acme.admin, at=CLOSE_AT)
    assert _entry(report, scored["landed"]).is_good


def test_the_report_lists_unfinished_objectives_only(acme: OrgWorld, scored) -> None:
    with tenant_context(acme.organization):
        report = cycle_close(cycle=scored["cycle"], by=acme.admin, at=CLOSE_AT)
    assert {objective.title for objective in report.unfinished} == {
        "Cut support backlog",
        "Open the Nordic market",
    }


def test_closing_marks_the_cycle_closed(acme: OrgWorld, scored) -> None:
    with tenant_context(acme.organization):
        cycle_close(cycle=scored["cycle"], by=acme.admin, at=CLOSE_AT)
        assert Cycle.objects.get(pk=scored["cycle"].pk).closed_at == CLOSE_AT


def test_a_second_close_is_refused(acme: OrgWorld, scored) -> None:
    with tenant_context(acme.organization):
        cycle_close(cycle=scored["cycle"], by=acme.admin, at=CLOSE_AT)
        with pytest.raises(GoalValidationError) as error:
            cycle_close(cycle=scored["cycle"], by=acme.admin)
        assert Cycle.objects.get(pk=scored["cycle"].pk).closed_at == CLOSE_AT
    assert error.value.message_dict == {"cycle": ["The cycle 2026-Q3 is closed already."]}


def test_a_stale_copy_of_a_closed_cycle_cannot_close_it_again(acme: OrgWorld, scored) -> None:
    with tenant_context(acme.organization):
        stale = Cycle.objects.get(pk=scored["cycle"].pk)
        cycle_close(cycle=scored["cycle"], by=acme.admin, at=CLOSE_AT)
        with pytest.raises(GoalValidationError) as error:
            cycle_close(cycle=stale, by=acme.manager)
    assert "cycle" in error.value.message_dict


def test_a_closed_cycle_is_frozen(acme: OrgWorld, scored) -> None:
    with tenant_context(acme.organization):
        cycle_close(cycle=scored["cycle"], by=acme.admin, at=CLOSE_AT)
        key_result = KeyResult.objects.get(objective=scored["committed"])
        with pytest.raises(GoalValidationError) as error:
            services.key_result_record_progress(key_result=key_result, by=acme.admin, value=10)
        assert "is closed" in error.value.message_dict["cycle"][0]
        with pytest.raises(GoalValidationError):
            services.objective_create(
                by=acme.admin,
                cycle=Cycle.objects.get(pk=scored["cycle"].pk),
                title="Late",
                level="company",
                owner=acme.admin,
            )
        assert Objective.objects.get(pk=scored["committed"].pk).final_score == 0.7


def test_the_report_of_a_closed_cycle_can_be_read_again(acme: OrgWorld, scored) -> None:
    with tenant_context(acme.organization):
        closed = cycle_close(cycle=scored["cycle"], by=acme.admin, at=CLOSE_AT)
        again = close_report_for_cycle(Cycle.objects.get(pk=scored["cycle"].pk))
    assert [(e.objective.pk, e.score, e.is_good, e.is_unfinished) for e in again.scores] == [
        (e.objective.pk, e.score, e.is_good, e.is_unfinished) for e in closed.scores
    ]


@pytest.fixture
def closed_quarter(acme: OrgWorld):
    """A closed quarter: company ← team ← individual objectives unfinished, another company one landed."""
    with tenant_context(acme.organization):
        cycle = make_cycle()
        company = make_objective(cycle, acme.admin, title="Grow enterprise revenue")
        company_kr = make_key_result(
            company,
            acme.admin,
            title="Enterprise deals from 0 to 10",
            baseline=0,
            target=10,
            unit="deals",
            contributors=[acme.peer],
        )
        services.key_result_record_progress(key_result=company_kr, by=acme.admin, value=4, at=LATE_IN_CYCLE)
        team = make_objective(
            cycle, acme.manager, title="Win enterprise revenue in Germany", level=Level.TEAM, parent=company
        )
        make_key_result(team, acme.manager, title="German enterprise pipeline", baseline=50, target=80)
        person = make_objective(
            cycle, acme.report, title="Close German enterprise renewals", level=Level.INDIVIDUAL, parent=team
        )
        landed = _objective_reaching(cycle, acme.admin, title="Ship the billing rewrite", share=1.0)
        report = cycle_close(cycle=cycle, by=acme.admin, at=CLOSE_AT)
        next_cycle = services.cycle_create(name="2026-Q4", start=NEXT_START, end=NEXT_END)
        yield {
            "cycle": cycle,
            "next": next_cycle,
            "report": report,
            "company": company,
            "team": team,
            "person": person,
            "landed": landed,
        }


def _carry(acme: OrgWorld, quarter, objectives, at: datetime = CLOSE_AT) -> list[Objective]:  # type: ignore[no-untyped-def]
    return cycle_carry_over(
        from_cycle=quarter["cycle"], to_cycle=quarter["next"], objectives=objectives, by=acme.admin, at=at
    )


def test_carry_over_links_each_copy_to_its_original(acme: OrgWorld, closed_quarter) -> None:
    with tenant_context(acme.organization):
        (copy,) = _carry(acme, closed_quarter, [closed_quarter["company"]])
        copy = Objective.objects.get(pk=copy.pk)
    assert copy.carried_from_id == closed_quarter["company"].pk
    assert (copy.cycle_id, copy.title, copy.owner_id, copy.state) == (
        closed_quarter["next"].pk,
        "Grow enterprise revenue",
        acme.admin.pk,
        ObjectiveState.ACTIVE,
    )


def test_carry_over_is_recorded_in_the_copys_history(acme: OrgWorld, closed_quarter) -> None:
    with tenant_context(acme.organization):
        (copy,) = _carry(acme, closed_quarter, [closed_quarter["company"]])
        record = copy.history.order_by("-history_id").first()
    assert record.carried_from_id == closed_quarter["company"].pk
    assert record.history_change_reason == "Carried over from 2026-Q3"


def test_carry_over_keeps_unfinished_objectives_only(acme: OrgWorld, closed_quarter) -> None:
    with tenant_context(acme.organization):
        _carry(acme, closed_quarter, closed_quarter["report"].unfinished)
        carried = set(Objective.objects.filter(cycle=closed_quarter["next"]).values_list("title", flat=True))
    assert carried == {
        "Grow enterprise revenue",
        "Win enterprise revenue in Germany",
        "Close German enterprise renewals",
    }


def test_carry_over_keeps_parent_links_when_both_are_carried(acme: OrgWorld, closed_quarter) -> None:
    with tenant_context(acme.organization):
        # Children first, to show the order of the choice does not matter.
        person, team, company = _carry(
            acme,
            closed_quarter,
            [closed_quarter["person"], closed_quarter["team"], closed_quarter["company"]],
        )
    assert (person.parent_id, team.parent_id, company.parent_id) == (team.pk, company.pk, None)


def test_a_copy_whose_parent_stays_behind_has_no_parent(acme: OrgWorld, closed_quarter) -> None:
    with tenant_context(acme.organization):
        (team,) = _carry(acme, closed_quarter, [closed_quarter["team"]])
    assert team.parent is None


def test_carried_key_results_start_from_their_current_values(acme: OrgWorld, closed_quarter) -> None:
    with tenant_context(acme.organization):
        (copy,) = _carry(acme, closed_quarter, [closed_quarter["company"]])
        key_result = KeyResult.objects.get(objective=copy)
        contributors = list(key_result.contributor_links.values_list("membership_id", flat=True))
    assert (key_result.title, key_result.unit, key_result.baseline, key_result.target) == (
        "Enterprise deals from 0 to 10",
        "deals",
        4,
        10,
    )
    assert key_result.current_value is None
    assert key_result.owner_id == acme.admin.pk
    assert contributors == [acme.peer.pk]


def test_carry_over_into_a_started_cycle_records_warnings_as_given(acme: OrgWorld, closed_quarter) -> None:
    after_next_start = datetime(2026, 10, 20, 9, 0, tzinfo=UTC)
    with tenant_context(acme.organization):
        (team,) = _carry(acme, closed_quarter, [closed_quarter["team"]], at=after_next_start)
    assert [warning["code"] for warning in team.warnings] == ["added_mid_cycle_without_parent"]


def test_a_finished_objective_is_refused(acme: OrgWorld, closed_quarter) -> None:
    with tenant_context(acme.organization):
        with pytest.raises(GoalValidationError) as error:
            _carry(acme, closed_quarter, [closed_quarter["landed"]])
        assert not Objective.objects.filter(cycle=closed_quarter["next"]).exists()
    assert error.value.message_dict == {
        "objectives": ["'Ship the billing rewrite' is finished; only unfinished objectives are carried over."]
    }


def test_an_objective_of_another_cycle_is_refused(acme: OrgWorld, closed_quarter) -> None:
    with tenant_context(acme.organization):
        elsewhere = make_objective(closed_quarter["next"], acme.admin, title="Hire a head of sales")
        with pytest.raises(GoalValidationError) as error:
            _carry(acme, closed_quarter, [elsewhere])
    assert error.value.message_dict == {"objectives": ["'Hire a head of sales' is not in 2026-Q3."]}


def test_an_objective_of_another_organisation_is_refused(
    acme: OrgWorld, globex: OrgWorld, closed_quarter
) -> None:
    with tenant_context(globex.organization):
        foreign = make_objective(make_cycle(), globex.admin, title="Globex grows")
    with tenant_context(acme.organization), pytest.raises(TenantMismatch):
        _carry(acme, closed_quarter, [foreign])


def test_an_objective_is_carried_into_a_cycle_once(acme: OrgWorld, closed_quarter) -> None:
    with tenant_context(acme.organization):
        _carry(acme, closed_quarter, [closed_quarter["company"]])
        with pytest.raises(GoalValidationError) as error:
            _carry(acme, closed_quarter, [closed_quarter["company"]])
    assert error.value.message_dict == {
        "objectives": ["'Grow enterprise revenue' is carried into 2026-Q4 already."]
    }


def test_carrying_out_of_an_open_cycle_is_refused(acme: OrgWorld) -> None:
    with tenant_context(acme.organization):
        cycle = make_cycle()
        objective = make_objective(cycle, acme.admin, title="Grow enterprise revenue")
        next_cycle = services.cycle_create(name="2026-Q4", start=NEXT_START, end=NEXT_END)
        with pytest.raises(GoalValidationError) as error:
            cycle_carry_over(from_cycle=cycle, to_cycle=next_cycle, objectives=[objective], by=acme.admin)
    assert "cycle" in error.value.message_dict
