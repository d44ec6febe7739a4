"""The goals' and check-ins' history as the drift loader read it, kept for the next read of the cycle while
nothing it was read from changes (``alignment.loader._Reader.goals``)."""

from __future__ import annotations

from typing import Any

import pytest

from alignment import loader
from alignment.loader import drift_input
from goals import services as goal_services
from okrsignal.tenancy import tenant_context
from tests.factories import make_organization
from tests.test_drift_storage import Quarter, after, build_quarter, during


@pytest.fixture
def history_reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The cycle's name each time the goals' history is read from the database."""
    reads: list[str] = []
    objectives = loader._Reader.objectives

    def spy(reader: loader._Reader) -> Any:
        reads.append(reader.cycle.name)
        return objectives(reader)

    monkeypatch.setattr(loader._Reader, "objectives", spy)
    return reads


def read(quarter: Quarter, week: int) -> Any:
    return drift_input(quarter.world.organization, quarter.cycle, as_of=after(week))


def test_a_later_read_with_nothing_changed_reuses_the_history_and_a_change_is_read(
    db: None, history_reads: list[str]
) -> None:
    world = make_organization("Kept goals")
    with tenant_context(world.organization):
        quarter = build_quarter(world)
        first = read(quarter, 3)
        again = read(quarter, 5)
        goal_services.key_result_record_progress(
            key_result=quarter.key_result, by=world.report, value=43, at=during(5)
        )
        with_progress = read(quarter, 6)
        after_progress = read(quarter, 7)

    assert len(history_reads) == 2  # the first read, and the one after the progress was recorded
    assert (again.objectives, again.key_results, again.checkins) == (
        first.objectives,
        first.key_results,
        first.checkins,
    )
    assert [update.value for update in with_progress.key_results[0].value_updates][-1] == 43
    assert after_progress.key_results == with_progress.key_results


def test_history_dated_after_the_moment_is_never_kept(db: None, history_reads: list[str]) -> None:
    """Read as of a moment with later history (a replayed quarter), the next read reads it again: what the
    earlier moment saw is not what a later one sees."""
    world = make_organization("Replayed")
    with tenant_context(world.organization):
        quarter = build_quarter(world)
        goal_services.key_result_record_progress(
            key_result=quarter.key_result, by=world.report, value=44, at=during(4)
        )
        early = read(quarter, 2)
        late = read(quarter, 5)

    assert len(history_reads) == 2
    assert [update.value for update in early.key_results[0].value_updates] != [
        update.value for update in late.key_results[0].value_updates
    ]
    assert late.key_results[0].value_updates[-1].value == 44


def test_kept_history_is_the_organisations_own(db: None, history_reads: list[str]) -> None:
    north, south = make_organization("North"), make_organization("South")
    with tenant_context(north.organization):
        north_data = read(build_quarter(north), 3)
    with tenant_context(south.organization):
        south_data = read(build_quarter(south), 3)

    assert len(history_reads) == 2
    assert {objective.id for objective in north_data.objectives}.isdisjoint(
        objective.id for objective in south_data.objectives
    )
