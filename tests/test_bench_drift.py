"""``manage.py bench drift`` at a tiny size: the figures' shape, and the rows they count are really there.

No timing is asserted: the machine running the suite decides those.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime

import pytest
from django.db import connection

from alignment.benchmark import DriftWorld, make_plan, remove_world
from alignment.models import DriftScore, Finding
from goals.models import CheckIn, KeyResult, Objective
from okrsignal.bench import benchmarks
from okrsignal.models import Membership, Notification, Organization, Team
from okrsignal.tenancy import cross_organization, tenant_context
from signals_ingest.models import ExecutionSignal, SignalKeyResult
from tests.bench_support import run_bench

FIGURES = {
    "people",
    "key_results",
    "signals",
    "full_recompute_s",
    "raw_aggregate_s",
    "ratio_to_raw",
    "incremental_s",
    "peak_rss_mb",
}


def test_the_drift_benchmark_is_registered_with_its_targets() -> None:
    drift = benchmarks()["drift"]
    assert {target.metric: target.describe() for target in drift.targets} == {
        "ratio_to_raw": "< 10",
        "full_recompute_s": "< 60",
        "incremental_s": "< 2",
        "peak_rss_mb": "< 1024",
    }


def test_the_generated_organisation_has_teams_reporting_lines_and_goals_at_three_levels() -> None:
    plan = make_plan(300, 120, random.Random(1))
    assert (plan.departments, plan.teams) == (3, 30)
    assert len(plan.key_results) == 120
    assert len(plan.objectives) == 40
    assert {level for level, *_rest in plan.objectives} == {"company", "team"}
    # Everyone but the department heads has a manager among the people; heads report to the admin.
    assert [person for person, boss in enumerate(plan.manager_of) if boss is None] == plan.head_of_department
    assert all(owner is not None for _objective, owner, _contributors, _title, _parent in plan.key_results)
    assert all(
        len(contributors) >= 1 for _objective, _owner, contributors, _title, _parent in plan.key_results
    )
    assert plan.drifting_teams
    assert all(5 <= week <= 8 for week in plan.drifting_teams.values())


@pytest.mark.django_db(transaction=True)
def test_the_drift_benchmark_prints_one_json_line_and_the_rows_are_real() -> None:
    sizes = ["--people", "40", "--key-results", "24", "--signals", "6000", "--new-signals", "50"]
    text, figures = run_bench("drift", "--json", *sizes, "--keep")

    assert len(text.strip().splitlines()) == 1
    assert set(figures) >= FIGURES
    assert figures["benchmark"] == "drift"
    assert (figures["people"], figures["key_results"], figures["signals"], figures["new_signals"]) == (
        41,
        24,
        6000,
        50,
    )
    for name in ("full_recompute_s", "raw_aggregate_s", "ratio_to_raw", "incremental_s", "peak_rss_mb"):
        assert isinstance(figures[name], float | int)
        assert figures[name] > 0
    assert set(figures["targets"]) == {"ratio_to_raw", "full_recompute_s", "incremental_s", "peak_rss_mb"}
    assert isinstance(figures["targets_met"], bool)

    with cross_organization():
        organization = Organization.objects.get(slug=figures["organization"])
    try:
        with tenant_context(organization):
            assert Membership.objects.count() == 41
            assert Team.objects.count() == 4
            assert KeyResult.objects.count() == 24
            assert Objective.objects.count() == figures["objectives"] == 8
            assert ExecutionSignal.objects.count() == 6050
            assert SignalKeyResult.objects.count() == figures["signal_links"] + 50
            assert CheckIn.objects.filter(state="submitted").exists()
            assert KeyResult.history.filter(history_type="~").exists()
            # Every goal scored for the last complete week; the findings and notifications were stored.
            assert DriftScore.objects.filter(week=12).count() == 24 + 8
            assert Finding.objects.filter(active=True).count() == figures["findings"] > 0
            assert Notification.objects.count() >= figures["notifications"] > 0
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT count(*) FROM (SELECT 1 FROM signals_ingest_signalkeyresult"
                    " WHERE organization_id = %s AND occurred_at < %s"
                    " GROUP BY key_result_id, actor_membership_id,"
                    " floor(extract(epoch FROM occurred_at - %s) / 604800)) AS groups",
                    [organization.pk, datetime.now(tz=UTC), datetime.combine(
                        KeyResult.objects.first().objective.cycle.start,  # type: ignore[union-attr]
                        datetime.min.time(),
                        tzinfo=UTC,
                    )],
                )  # fmt: skip
                row = cursor.fetchone()
            # The 50 late signals were written after the raw aggregate ran, into existing groups or new.
            assert row is not None
            assert figures["raw_aggregate_rows"] <= row[0] <= figures["raw_aggregate_rows"] + 50
    finally:
        remove_world(
            DriftWorld(
                organization_id=organization.pk,
                slug=organization.slug,
                cycle_id=0,
                cycle_start=datetime.now(tz=UTC).date(),
                people=0,
                objectives=0,
                key_results=0,
                signals=0,
                signal_links=0,
            )
        )
    with cross_organization():
        assert not Organization.objects.filter(pk=organization.pk).exists()


def test_the_dashboard_benchmark_is_registered_with_its_target() -> None:
    dashboard = benchmarks()["dashboard"]
    assert {target.metric: target.describe() for target in dashboard.targets} == {"p95_ms": "< 200"}


@pytest.mark.django_db(transaction=True)
def test_the_dashboard_benchmark_requests_the_scored_dashboard_and_cleans_up() -> None:
    sizes = ["--people", "40", "--key-results", "24", "--signals", "6000", "--requests", "12"]
    text, figures = run_bench("dashboard", "--json", *sizes)

    assert len(text.strip().splitlines()) == 1
    assert figures["benchmark"] == "dashboard"
    assert (figures["people"], figures["key_results"], figures["signals"], figures["requests"]) == (
        41,
        24,
        6000,
        12,
    )
    # The quarter was scored week by week before the dashboard was asked for: every goal, every week.
    assert figures["weeks_scored"] == 12
    assert figures["scores_stored"] == 12 * (24 + 8)
    assert figures["findings"] > 0
    assert 0 < figures["p50_ms"] <= figures["p95_ms"] <= figures["max_ms"]
    assert 10 < figures["queries"] < 40
    assert set(figures["targets"]) == {"p95_ms"}
    with cross_organization():
        assert not Organization.objects.filter(slug=figures["organization"]).exists()
