"""Weekly activity sums kept between recomputes (``alignment.activity_weeks``): a read after any change
to signals or their links sees exactly what summing every week again would, and only the weeks a change
touched are summed again."""

from __future__ import annotations

import threading
from datetime import date, timedelta
from typing import Any

import pytest

from alignment import activity_weeks
from alignment.engine import DriftInput
from alignment.loader import drift_input
from alignment.models import ActivityWeek
from alignment.services import recompute
from okrsignal.tenancy import tenant_context
from signals_ingest import privacy
from signals_ingest import services as ingest_services
from signals_ingest.models import ChangedActivityDay, ExternalIdentity
from signals_ingest.pipeline import reapply_mapping_rules
from tests.factories import make_organization
from tests.goal_factories import make_key_result
from tests.ingest_factories import FATIMA
from tests.test_drift_storage import START, Quarter, after, build_quarter, comment, during, work


def activity(data: DriftInput) -> tuple[object, ...]:
    """Everything the loader read about activity, in a form that compares whatever the order."""
    return (
        sorted(data.key_result_weeks),
        sorted(data.person_weeks),
        sorted(data.theme_weeks),
        sorted(data.themes, key=lambda theme: theme.id),
    )


def read(quarter: Quarter, week: int, *, resum: bool = False) -> DriftInput:
    return drift_input(quarter.world.organization, quarter.cycle, as_of=after(week), resum_activity=resum)


def assert_kept_equals_resummed(quarter: Quarter, week: int) -> DriftInput:
    kept = read(quarter, week)
    assert activity(kept) == activity(read(quarter, week, resum=True))
    return kept


def kept_weeks() -> list[date]:
    return sorted(ActivityWeek.objects.values_list("starts_on", flat=True))


@pytest.fixture
def summed(monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, int]]:
    """The (first, last) weeks of each summing of signals, in order."""
    calls: list[tuple[int, int]] = []
    sum_weeks = activity_weeks._sum_weeks

    def spy(cycle: Any, first: int, last: int, **kwargs: Any) -> Any:
        calls.append((first, last))
        return sum_weeks(cycle, first, last, **kwargs)

    monkeypatch.setattr(activity_weeks, "_sum_weeks", spy)
    return calls


def test_ended_weeks_are_kept_and_read_back_as_summed(db: None, summed: list[tuple[int, int]]) -> None:
    world = make_organization("Kept weeks")
    with tenant_context(world.organization):
        quarter = build_quarter(world)
        work(quarter, weeks=range(1, 4))
        comment(quarter, key="OPS-3", at=during(2))
        first = read(quarter, 3)
        second = read(quarter, 3)
        read(quarter, 4)

        assert kept_weeks() == [START + timedelta(days=7 * week) for week in range(4)]
        assert ChangedActivityDay.objects.count() == 0
    assert summed == [(1, 3), (4, 4)]  # the second read summed nothing, the third only its new week
    assert activity(first) == activity(second)
    assert {(row.week, row.signals) for row in first.key_result_weeks} == {(1, 3), (2, 3), (3, 3)}
    assert [(row.week, row.theme_id) for row in first.theme_weeks] == [(2, "jira:project:OPS")]


def test_new_signals_sum_again_only_the_weeks_they_fall_in(db: None, summed: list[tuple[int, int]]) -> None:
    world = make_organization("Late signals")
    with tenant_context(world.organization):
        quarter = build_quarter(world)
        work(quarter, weeks=range(1, 4))
        read(quarter, 3)
        comment(quarter, key="ONB-7", at=during(2, 4))  # arrives late, in week 2
        assert list(ChangedActivityDay.objects.values_list("day", flat=True)) == [during(2, 4).date()]
        data = read(quarter, 3)
        assert ChangedActivityDay.objects.count() == 0

    assert summed == [(1, 3), (2, 2)]
    assert {(row.week, row.signals) for row in data.key_result_weeks} == {(1, 3), (2, 4), (3, 3)}
    with tenant_context(world.organization):
        assert activity(data) == activity(read(quarter, 3, resum=True))


def test_changed_mapping_rules_reach_the_kept_weeks(db: None) -> None:
    world = make_organization("Remapped")
    with tenant_context(world.organization):
        quarter = build_quarter(world)
        work(quarter, weeks=range(1, 3), key="OPS-3")
        unmapped = read(quarter, 2)
        ingest_services.mapping_rule_create(
            integration=quarter.jira, match={"project": "OPS"}, key_result=quarter.key_result
        )
        reapply_mapping_rules(integration_id=quarter.jira.pk)
        remapped = assert_kept_equals_resummed(quarter, 2)

    assert tuple(unmapped.key_result_weeks) == ()
    assert {(row.week, row.signals) for row in remapped.key_result_weeks} == {(1, 3), (2, 3)}
    assert remapped.theme_weeks == ()


def test_an_identity_matched_later_and_a_person_erased_reach_the_kept_weeks(db: None) -> None:
    world = make_organization("Identities")
    with tenant_context(world.organization):
        quarter = build_quarter(world)
        ExternalIdentity.objects.filter(external_id=FATIMA["accountId"]).update(membership=None)
        work(quarter, weeks=range(1, 3), author=FATIMA)
        unmatched = read(quarter, 2)
        ingest_services.identity_link_account(
            provider="jira", external_id=FATIMA["accountId"], membership=world.indirect_report
        )
        matched = assert_kept_equals_resummed(quarter, 2)
        privacy.person_erase(membership=world.indirect_report)
        erased = assert_kept_equals_resummed(quarter, 2)

    assert unmatched.person_weeks == ()
    assert {row.person_id for row in matched.person_weeks} == {world.indirect_report.pk}
    assert {row.person_id for row in matched.key_result_weeks} == {world.indirect_report.pk}
    assert (erased.person_weeks, tuple(erased.key_result_weeks)) == ((), ())


def test_work_counts_as_linked_only_from_when_its_key_result_existed(db: None) -> None:
    """A key result added in week 3 takes over work stored already: read as of week 2 that work is
    unlinked, and as of week 4 it is the new key result's, whatever was kept in between."""
    world = make_organization("Late goal")
    with tenant_context(world.organization):
        quarter = build_quarter(world)
        work(quarter, weeks=range(1, 3), key="OPS-3")
        late = make_key_result(
            quarter.objective, world.report, title="Runbooks for every alert", baseline=0, target=10
        )
        type(late).objects.filter(pk=late.pk).update(created_at=during(3))
        ingest_services.mapping_rule_create(
            integration=quarter.jira, match={"project": "OPS"}, key_result=late
        )
        reapply_mapping_rules(integration_id=quarter.jira.pk)
        as_of_two = assert_kept_equals_resummed(quarter, 2)
        as_of_four = assert_kept_equals_resummed(quarter, 4)
        as_of_two_again = assert_kept_equals_resummed(quarter, 2)

    assert {row.week for row in as_of_two.theme_weeks} == {1, 2}
    assert as_of_four.theme_weeks == ()
    assert {(row.key_result_id, row.week) for row in as_of_four.key_result_weeks} == {
        (late.pk, 1),
        (late.pk, 2),
    }
    assert activity(as_of_two_again) == activity(as_of_two)


def test_kept_weeks_are_the_organisations_own(db: None) -> None:
    north, south = make_organization("North"), make_organization("South")
    with tenant_context(north.organization):
        north_quarter = build_quarter(north)
        work(north_quarter, weeks=range(1, 3), per_week=4)
        read(north_quarter, 2)
    with tenant_context(south.organization):
        south_quarter = build_quarter(south)
        work(south_quarter, weeks=range(1, 3), per_week=1)
        south_data = read(south_quarter, 2)
        assert kept_weeks() == [START, START + timedelta(days=7)]
        assert ActivityWeek.objects.count() == 2

    assert {row.signals for row in south_data.key_result_weeks} == {1}
    assert {row.person_id for row in south_data.person_weeks} == {south.report.pk}


@pytest.mark.django_db(transaction=True)
def test_weeks_are_summed_on_a_connection_of_their_own_unless_this_transaction_wrote(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Where another connection sees what this one does, the sums are taken there, in a thread of their
    own, while the goals are read here; after a write not yet committed, here. Either way the engine reads
    the same, and a recompute stores it."""
    world = make_organization("Two connections")
    with tenant_context(world.organization):
        quarter = build_quarter(world)
        work(quarter, weeks=range(1, 4))
        comment(quarter, key="OPS-3", at=during(3))
    summed_in: list[str] = []
    weeks_summed = activity_weeks.weeks_summed

    def spy(*args: Any, **kwargs: Any) -> Any:
        summed_in.append(threading.current_thread().name)
        return weeks_summed(*args, **kwargs)

    monkeypatch.setattr(activity_weeks, "weeks_summed", spy)
    with tenant_context(world.organization):
        threaded = read(quarter, 3, resum=True)
    with tenant_context(world.organization):
        make_key_result(
            quarter.objective, world.peer, title="A goal written in this transaction", baseline=0, target=1
        )
        inline = read(quarter, 3, resum=True)
    with tenant_context(world.organization):
        result = recompute(world.organization, as_of=after(3), cycle=quarter.cycle)

    assert [name.startswith("activity-sums") for name in summed_in] == [True, False, True]
    assert activity(threaded) == activity(inline)
    assert {(row.week, row.total_weight) for row in result.evaluation.effort} == {
        (1, 3.0),
        (2, 3.0),
        (3, 4.0),
    }
