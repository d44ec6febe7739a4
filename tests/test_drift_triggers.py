"""Keeping drift scoring current: changes ask for their goals to be scored, debounced per organisation;
the nightly run recomputes every goal; findings keep their identity; weekly snapshots are kept."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
import redis
from celery.schedules import crontab
from celery.signals import task_prerun
from django.conf import settings

from alignment import tasks, triggers
from alignment.engine import Subject, SubjectKind
from alignment.models import DriftScore, Finding
from goals import services as goal_services
from goals.models import Objective
from okrsignal.celery import app as celery_app
from okrsignal.tenancy import tenant_context
from tests.factories import OrgWorld, make_organization
from tests.ingest_factories import FATIMA
from tests.live_drift_factories import LiveQuarter, build_live_quarter, comment, set_owner, submit_check_in

SCORING_TASKS = {"alignment.tasks.score_goals", "alignment.tasks.score_pending_goals"}


@pytest.fixture
def quarter(db: None) -> LiveQuarter:
    """Built without asking for scoring: the test's own transaction never commits, so what the set-up
    asked for would stay pending in it and take in what each test does."""
    world = make_organization("Orbit")
    with triggers.replaying(), tenant_context(world.organization):
        return build_live_quarter(world)


@pytest.fixture
def scoring_runs() -> Iterator[list[tuple[str, tuple[Any, ...]]]]:
    """Every scoring task that runs (in this process), with its arguments."""
    runs: list[tuple[str, tuple[Any, ...]]] = []

    def record(sender: Any = None, args: Any = None, **_kwargs: Any) -> None:
        if sender is not None and sender.name in SCORING_TASKS:
            runs.append((sender.name, tuple(args or ())))

    task_prerun.connect(record, weak=False)
    yield runs
    task_prerun.disconnect(record)


@pytest.fixture
def broker() -> Iterator[redis.Redis]:
    """The broker's Redis, with the scoring queue empty before and after."""
    client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    client.delete("scoring")
    yield client
    client.delete("scoring")


def queued_scoring_tasks(client: redis.Redis) -> list[dict[str, Any]]:
    return [json.loads(message)["headers"] for message in client.lrange("scoring", 0, -1)]


def pending(world: OrgWorld) -> set[str]:
    client = triggers.redis_client()
    assert client is not None
    with tenant_context(world.organization):
        key = triggers.pending_key()
    return {member.decode() for member in client.smembers(key)}


def kr(pk: int) -> str:
    return f"key_result:{pk}"


# --- Debounced, with a worker ---------------------------------------------------------------------------


def test_a_burst_of_signals_on_a_key_result_queues_one_scoring_task_for_it(
    quarter: LiveQuarter, broker: redis.Redis, django_capture_on_commit_callbacks: Any
) -> None:
    world = quarter.world
    celery_app.conf.task_always_eager = False  # a worker takes the tasks (the fixture restores it)
    for number in range(12):
        # Each delivery is its own transaction, as webhooks are.
        with django_capture_on_commit_callbacks(execute=True), tenant_context(world.organization):
            comment(quarter, at=quarter.during(6, 1 + number / 10))

    assert pending(world) == {kr(quarter.key_result.pk)}
    (headers,) = queued_scoring_tasks(broker)
    assert headers["task"] == "alignment.tasks.score_pending_goals"
    assert headers["eta"], "the task waits for the window to close"
    assert headers["argsrepr"] == f"({world.organization.pk},)"
    client = triggers.redis_client()
    assert client is not None
    with tenant_context(world.organization):
        ttl = client.ttl(triggers.scheduled_key())
    assert (
        settings.DRIFT_SCORING_DEBOUNCE_SECONDS
        < ttl
        <= (settings.DRIFT_SCORING_DEBOUNCE_SECONDS + triggers.SCHEDULE_SLACK_SECONDS)
    )

    # The task (run here) takes the set, scores the key result and what follows from it.
    celery_app.conf.task_always_eager = True
    outcome = tasks.score_pending_goals.apply(args=(world.organization.pk,)).get()
    assert outcome["subjects"] >= 2  # the key result and its objective at least
    assert pending(world) == set()
    with tenant_context(world.organization):
        assert not client.exists(triggers.scheduled_key())
        assert DriftScore.objects.filter(cycle=quarter.cycle, key_result=quarter.key_result).exists()

    # The next change opens the next window.
    celery_app.conf.task_always_eager = False
    with django_capture_on_commit_callbacks(execute=True), tenant_context(world.organization):
        comment(quarter, at=quarter.during(6, 3))
    assert len(queued_scoring_tasks(broker)) == 2


def test_an_empty_pending_set_scores_nothing(quarter: LiveQuarter) -> None:
    assert tasks.score_pending_goals.apply(args=(quarter.world.organization.pk,)).get() == {
        "organization_id": quarter.world.organization.pk,
        "subjects": 0,
    }


def test_goals_whose_scoring_failed_wait_in_the_set_for_the_next_change(quarter: LiveQuarter) -> None:
    world = quarter.world
    triggers.give_back(world.organization.pk, [kr(quarter.key_result.pk)])

    assert pending(world) == {kr(quarter.key_result.pk)}
    client = triggers.redis_client()
    assert client is not None
    with tenant_context(world.organization):
        assert not client.exists(triggers.scheduled_key())  # no task: the next change queues one


# --- At once, when tasks run in-process ----------------------------------------------------------------


def test_in_process_a_transaction_is_scored_once_right_after_it_commits(
    quarter: LiveQuarter,
    scoring_runs: list[tuple[str, tuple[Any, ...]]],
    django_capture_on_commit_callbacks: Any,
) -> None:
    world = quarter.world
    with django_capture_on_commit_callbacks(execute=True), tenant_context(world.organization):
        comment(quarter, at=quarter.during(5))
        comment(quarter, at=quarter.during(5, 3), author=FATIMA)
        goal_services.objective_update(
            objective=Objective.objects.get(pk=quarter.child.pk),
            by=world.report,
            changes={"title": "Guided setup for every enterprise"},
            at=quarter.during(6),
        )
        assert scoring_runs == []  # nothing before the commit

    ((name, (organization_id, marks)),) = scoring_runs
    assert (name, organization_id) == ("alignment.tasks.score_goals", world.organization.pk)
    assert set(marks) == {kr(quarter.key_result.pk), f"objective:{quarter.child.pk}"}


def test_a_rolled_back_change_asks_for_nothing(
    quarter: LiveQuarter,
    scoring_runs: list[tuple[str, tuple[Any, ...]]],
    django_capture_on_commit_callbacks: Any,
) -> None:
    def failing_delivery() -> None:
        with tenant_context(quarter.world.organization):
            comment(quarter, at=quarter.during(5))
            raise RuntimeError("the delivery failed after the signal was written")

    with (
        django_capture_on_commit_callbacks(execute=True),
        tenant_context(quarter.world.organization),
        pytest.raises(RuntimeError),
    ):
        failing_delivery()
    assert scoring_runs == []


def test_a_submitted_check_in_scores_its_key_results(
    quarter: LiveQuarter,
    scoring_runs: list[tuple[str, tuple[Any, ...]]],
    django_capture_on_commit_callbacks: Any,
) -> None:
    with django_capture_on_commit_callbacks(execute=True), tenant_context(quarter.world.organization):
        submit_check_in(quarter, at=quarter.during(6, 4), status="at_risk")

    ((_name, (_organization_id, marks)),) = scoring_runs
    assert kr(quarter.key_result.pk) in marks


def test_nothing_is_asked_for_while_replaying(
    quarter: LiveQuarter,
    scoring_runs: list[tuple[str, tuple[Any, ...]]],
    django_capture_on_commit_callbacks: Any,
) -> None:
    with (
        triggers.replaying(),
        django_capture_on_commit_callbacks(execute=True),
        tenant_context(quarter.world.organization),
    ):
        comment(quarter, at=quarter.during(5))
        submit_check_in(quarter, at=quarter.during(6, 4))
        set_owner(quarter, None, quarter.during(6))
    assert scoring_runs == []


# --- What a change widens to ------------------------------------------------------------------------------


def test_a_goal_change_scores_the_goal_its_parent_and_its_children(quarter: LiveQuarter) -> None:
    with tenant_context(quarter.world.organization):
        objective = triggers.subjects_to_score(quarter.cycle, [f"objective:{quarter.objective.pk}"])
        key_result = triggers.subjects_to_score(quarter.cycle, [kr(quarter.child_key_result.pk)])

    def objective_subject(pk: int) -> Subject:
        return Subject(SubjectKind.OBJECTIVE, pk)

    def key_result_subject(pk: int) -> Subject:
        return Subject(SubjectKind.KEY_RESULT, pk)

    assert objective == {
        objective_subject(quarter.objective.pk),
        objective_subject(quarter.company.pk),  # its parent
        objective_subject(quarter.child.pk),  # its child
        key_result_subject(quarter.key_result.pk),  # its key result
    }
    assert key_result == {
        key_result_subject(quarter.child_key_result.pk),
        objective_subject(quarter.child.pk),  # its objective
        key_result_subject(quarter.key_result.pk),  # the key result it rolls up into
    }


def test_goals_of_another_cycle_or_organisation_are_not_scored(quarter: LiveQuarter) -> None:
    other = make_organization("Globex")
    with tenant_context(other.organization):
        theirs = build_live_quarter(other)
    with tenant_context(quarter.world.organization):
        assert triggers.subjects_to_score(quarter.cycle, [kr(theirs.key_result.pk), "nonsense", "kpi:x"]) == (
            frozenset()
        )


# --- The nightly run, identity and snapshots ---------------------------------------------------------------


def test_the_nightly_run_recomputes_every_organisation_with_a_live_cycle(quarter: LiveQuarter) -> None:
    idle = make_organization("Idle")  # no cycle at all
    ended = make_organization("Ended")
    with tenant_context(ended.organization):
        goal_services.cycle_create(
            name="Long ago",
            start=quarter.cycle.start - timedelta(weeks=40),
            end=quarter.cycle.start - timedelta(weeks=28),
        )
    with tenant_context(quarter.world.organization):
        set_owner(quarter, None, quarter.during(3))

    assert triggers.organizations_with_live_cycles(quarter.after(6)) == [quarter.world.organization.pk]
    assert idle.organization.pk not in triggers.organizations_with_live_cycles(quarter.after(6))
    assert tasks.rescore_everywhere.apply(kwargs={"at": quarter.after(6).isoformat()}).get() == 1

    with tenant_context(quarter.world.organization):
        scored = set(
            DriftScore.objects.filter(cycle=quarter.cycle, week=6).values_list(
                "key_result_id", "objective_id"
            )
        )
        assert scored == {
            (quarter.key_result.pk, None),
            (quarter.child_key_result.pk, None),
            (None, quarter.company.pk),
            (None, quarter.objective.pk),
            (None, quarter.child.pk),
        }
        assert Finding.objects.filter(
            kind="ownership_gap", key_result=quarter.key_result, active=True
        ).exists()


def test_the_nightly_run_and_the_scoring_queue_are_configured() -> None:
    nightly = settings.CELERY_BEAT_SCHEDULE["drift-nightly-recompute"]
    assert nightly["task"] == "alignment.tasks.rescore_everywhere"
    assert isinstance(nightly["schedule"], crontab)
    assert nightly["schedule"].hour == {2}
    for name in (
        "alignment.tasks.score_pending_goals",
        "alignment.tasks.score_goals",
        "alignment.tasks.rescore_everywhere",
        "alignment.tasks.rescore_organization",
    ):
        assert settings.CELERY_TASK_ROUTES[name] == {"queue": "scoring"}
        assert name in celery_app.tasks


def test_findings_keep_their_identity_and_each_week_keeps_its_snapshot(quarter: LiveQuarter) -> None:
    organization_id = quarter.world.organization.pk
    with tenant_context(quarter.world.organization):
        set_owner(quarter, None, quarter.during(3))

    for week in (4, 5, 5, 6):
        tasks.rescore_organization.apply(
            args=(organization_id,), kwargs={"at": quarter.after(week).isoformat()}
        )

    with tenant_context(quarter.world.organization):
        (gap,) = Finding.objects.filter(kind="ownership_gap", key_result=quarter.key_result)
        assert (gap.first_detected_week, gap.last_reported_at) == (4, quarter.after(6))
        weeks = DriftScore.objects.filter(cycle=quarter.cycle, key_result=quarter.key_result)
        assert sorted(weeks.values_list("week", flat=True)) == [4, 5, 6]


def test_a_cycle_stops_being_scored_two_weeks_after_it_ends_or_once_closed(quarter: LiveQuarter) -> None:
    ends_at = quarter.start + timedelta(weeks=13)
    with tenant_context(quarter.world.organization):
        assert triggers.live_cycle(ends_at + timedelta(days=13)) == quarter.cycle
        assert triggers.live_cycle(ends_at + timedelta(days=14)) is None
        quarter.cycle.closed_at = quarter.after(6)
        quarter.cycle.save(update_fields=["closed_at"])
        assert triggers.live_cycle(quarter.after(7)) is None
