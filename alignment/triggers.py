"""Keeping drift scores current: what changed asks for its goals to be scored again, debounced.

The places that write what the engine reads call one function here after writing, inside their
transaction: the ingestion pipeline (``key_results_changed`` with the key results new signals count
toward), the goal services (``goal_changed`` with the row they saved) and check-in submission
(``check_in_submitted``). Nothing happens unless and until the transaction commits: every call in one
transaction adds to one collection per organisation (``_TouchedGoals``), handed over once on commit.

On commit:

- **With a worker** the touched goals join a Redis set of pending goals per organisation (its key from
  ``tenant_cache_key``). The first change in a window also takes a schedule key with ``SET NX`` and
  queues one ``alignment.tasks.score_pending_goals`` for the organisation, ``DRIFT_SCORING_DEBOUNCE_SECONDS``
  later, on the ``scoring`` queue; later changes in the window only add to the set. A burst of 1,000
  signals delivered one by one queues one task. That task lets go of the schedule key first and then takes
  the whole set at once, so whatever arrives while it runs schedules the next window.
- **Without a worker** (tasks run eagerly: the embedded default, the tests, commands run in-process) the
  touched goals are scored right away, once per transaction.

Scoring (``score_touched_goals``) widens what was touched to the goals whose figures follow from it (a
key result: its objective, the key result it rolls up into and those rolling up into it; an objective:
its parent, its children and its key results; a KPI: the objectives it guards), recomputes those as of
now in the organisation's live cycle (``alignment.services.recompute``: findings are upserted, so they
keep their identity), and hands what newly opened to ``alignment.alerts``. A nightly full recompute
(``rescore_organization``) catches what no trigger names (unlinked work shifting shares, late edits).

``replaying()`` turns all of this off for its block: replays and scenario loads write a quarter's worth
of history in one go and evaluate it themselves, week by week, and must never alert anyone.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cache
from typing import TYPE_CHECKING, Any

import redis
from django.conf import settings
from django.db import transaction

from alignment.engine import Subject, SubjectKind
from goals.models import (
    KPI,
    CheckIn,
    CheckInKeyResultUpdate,
    CheckInPriority,
    Cycle,
    Initiative,
    KeyResult,
    KeyResultContributor,
    KPIObjectiveTag,
    KPIReading,
    Objective,
)
from okrsignal.celery import app as celery_app
from okrsignal.models import Organization
from okrsignal.tenancy import current_organization_id, tenant_cache_key, tenant_context

if TYPE_CHECKING:
    from alignment.services import RecomputeResult

logger = logging.getLogger(__name__)

KEY_RESULT = "key_result"
OBJECTIVE = "objective"
KPI_MARK = "kpi"
MARK_KINDS = (KEY_RESULT, OBJECTIVE, KPI_MARK)
# A cycle keeps being scored this long after its last day (late check-ins, late signals), unless closed.
LIVE_AFTER_END = timedelta(days=14)
# The pending set outlives any sensible window: if no task ever takes it, the nightly recompute covers it.
PENDING_TTL_SECONDS = 2 * 24 * 60 * 60
# The schedule key outlives its window by this much, so that a task lost with its worker lets the next
# change schedule another rather than waiting for ever.
SCHEDULE_SLACK_SECONDS = 5 * 60

_replaying: ContextVar[bool] = ContextVar("alignment_replaying", default=False)


# --- Turning it off --------------------------------------------------------------------------------


@contextmanager
def replaying() -> Iterator[None]:
    """Inside this block changes ask for no scoring and alerts go nowhere outside the app: for replaying
    or loading a scenario, which evaluates the quarter itself, week by week."""
    token = _replaying.set(True)
    try:
        yield
    finally:
        _replaying.reset(token)


def is_replaying() -> bool:
    return _replaying.get()


# --- The hooks ---------------------------------------------------------------------------------------


def key_results_changed(key_result_ids: Iterable[int]) -> None:
    """Signals (or links) counting toward these key results were written in this transaction."""
    _touch(KEY_RESULT, key_result_ids)


def objectives_changed(objective_ids: Iterable[int]) -> None:
    _touch(OBJECTIVE, objective_ids)


def goal_changed(instance: Any) -> None:
    """A goal-system row was saved or deleted (through ``goals.services``): its goals are scored again."""
    if isinstance(instance, KeyResult):
        _touch(KEY_RESULT, [instance.pk])
    elif isinstance(instance, Objective):
        _touch(OBJECTIVE, [instance.pk])
    elif isinstance(instance, KeyResultContributor | Initiative):
        _touch(KEY_RESULT, [instance.key_result_id])
    elif isinstance(instance, KPIObjectiveTag):
        _touch(OBJECTIVE, [instance.objective_id])
    elif isinstance(instance, KPI):
        _touch(KPI_MARK, [instance.pk])
    elif isinstance(instance, KPIReading):
        _touch(KPI_MARK, [instance.kpi_id])


def check_in_submitted(check_in: CheckIn) -> None:
    """A check-in was submitted (or submitted again): the key results it reports on and its priorities
    name are scored again."""
    if _replaying.get() or current_organization_id() is None:
        return
    reported = CheckInKeyResultUpdate.objects.filter(check_in=check_in).values_list(
        "key_result_id", flat=True
    )
    prioritised = CheckInPriority.objects.filter(check_in=check_in, key_result__isnull=False).values_list(
        "key_result_id", flat=True
    )
    _touch(KEY_RESULT, [*reported, *prioritised])


# --- Collecting per transaction ----------------------------------------------------------------------


@dataclass(eq=False)
class _TouchedGoals:
    """What one transaction touched in one organisation; called once when the transaction commits."""

    organization_id: int
    marks: set[str] = field(default_factory=set)
    handed_over: bool = False

    def __post_init__(self) -> None:
        # on_commit names a failing callback by its qualified name.
        self.__qualname__ = "alignment.triggers.touched_goals_committed"

    def __call__(self) -> None:
        self.handed_over = True
        try:
            hand_over(self.organization_id, self.marks)
        except Exception:
            # The change itself is committed: scoring it is never worth failing the request for. The
            # nightly recompute scores it at the latest.
            logger.exception(
                "Could not queue drift scoring of %d goals in organisation %d",
                len(self.marks),
                self.organization_id,
            )


def _touch(kind: str, ids: Iterable[int | None]) -> None:
    if _replaying.get():
        return
    organization_id = current_organization_id()
    if organization_id is None:
        return
    marks = {f"{kind}:{pk}" for pk in ids if pk is not None}
    if not marks:
        return
    connection = transaction.get_connection()
    if connection.in_atomic_block:
        # The latest registrations are the likeliest to be ours.
        for _savepoints, callback, _robust in reversed(connection.run_on_commit):
            if (
                isinstance(callback, _TouchedGoals)
                and callback.organization_id == organization_id
                and not callback.handed_over
            ):
                callback.marks |= marks
                return
    transaction.on_commit(_TouchedGoals(organization_id, marks), robust=True)


# --- Handing over: at once, or debounced ---------------------------------------------------------------


def pending_key() -> str:
    """The Redis set of goals waiting to be scored in the organisation in context."""
    return tenant_cache_key("drift-scoring", "pending")


def scheduled_key() -> str:
    """Held while a scoring task is queued for the organisation in context."""
    return tenant_cache_key("drift-scoring", "scheduled")


@cache
def _redis(url: str) -> redis.Redis:
    return redis.Redis.from_url(url)


def redis_client() -> redis.Redis | None:
    url = settings.CACHE_URL
    return _redis(url) if url else None


def hand_over(organization_id: int, marks: Iterable[str]) -> None:
    """Score ``marks`` (``"key_result:12"``...) of the organisation: at once when tasks run in-process,
    otherwise through the debounced pending set."""
    from alignment import tasks

    marks = sorted(set(marks))
    if not marks:
        return
    client = redis_client()
    if celery_app.conf.task_always_eager or client is None:
        tasks.score_goals.delay(organization_id, marks)
        return
    if not queue_pending(organization_id, marks):
        return
    try:
        tasks.score_pending_goals.apply_async(
            (organization_id,), countdown=settings.DRIFT_SCORING_DEBOUNCE_SECONDS
        )
    except Exception:
        # Nothing was queued: let the next change try again.
        with tenant_context(organization_id):
            client.delete(scheduled_key())
        raise


def queue_pending(organization_id: int, marks: Iterable[str]) -> bool:
    """Add ``marks`` to the organisation's pending set. True when they open a window (no task is queued
    yet): the caller then queues the one task that will take the set."""
    client = redis_client()
    if client is None:
        raise RuntimeError("The pending set needs Redis (CACHE_URL or REDIS_URL).")
    marks = list(marks)
    if not marks:
        return False
    with tenant_context(organization_id):
        pending, scheduled = pending_key(), scheduled_key()
    debounce = settings.DRIFT_SCORING_DEBOUNCE_SECONDS
    pipe = client.pipeline(transaction=True)
    pipe.sadd(pending, *marks)
    pipe.expire(pending, PENDING_TTL_SECONDS)
    pipe.set(scheduled, "1", nx=True, ex=debounce + SCHEDULE_SLACK_SECONDS)
    return bool(pipe.execute()[2])


def take_pending(organization_id: int) -> list[str]:
    """Everything waiting to be scored in the organisation, taken (the set is emptied at once). The
    schedule key goes first, so that a change arriving from now on queues the next task."""
    client = redis_client()
    if client is None:
        return []
    with tenant_context(organization_id):
        pending, scheduled = pending_key(), scheduled_key()
    client.delete(scheduled)
    pipe = client.pipeline(transaction=True)
    pipe.smembers(pending)
    pipe.delete(pending)
    members, _deleted = pipe.execute()
    return sorted(member.decode() if isinstance(member, bytes) else str(member) for member in members)


def give_back(organization_id: int, marks: Iterable[str]) -> None:
    """Put marks whose scoring failed back in the pending set, without queueing a task: the next change
    queues one (a failure that persists must not loop every window), and the nightly run scores
    everything meanwhile."""
    client = redis_client()
    marks = list(marks)
    if client is None or not marks:
        return
    with tenant_context(organization_id):
        pending = pending_key()
    pipe = client.pipeline(transaction=True)
    pipe.sadd(pending, *marks)
    pipe.expire(pending, PENDING_TTL_SECONDS)
    pipe.execute()


# --- Scoring -------------------------------------------------------------------------------------------


def live_cycle(now: datetime) -> Cycle | None:
    """The cycle scored as things happen (in context): the one ``now`` falls in or last closed a week
    of, while it is not closed and for ``LIVE_AFTER_END`` after its last day."""
    # The engine's modules read the goal services' constants: imported here, not when the goal
    # services import this module.
    from alignment.cycles import cycle_of
    from alignment.services import cycle_at

    cycle = cycle_at(now)
    if cycle is None or cycle.closed_at is not None:
        return None
    if now >= cycle_of(cycle).ends_at + LIVE_AFTER_END:
        return None
    return cycle


def parse_marks(marks: Iterable[str]) -> dict[str, set[int]]:
    """``{"key_result": {12}, "objective": {3}, "kpi": set()}`` from ``["key_result:12", "objective:3"]``;
    anything malformed is left out with a log line naming it."""
    parsed: dict[str, set[int]] = {kind: set() for kind in MARK_KINDS}
    for mark in marks:
        kind, _, number = str(mark).partition(":")
        if kind in parsed and number.isdigit():
            parsed[kind].add(int(number))
        else:
            logger.warning("Ignoring a malformed drift scoring mark %r", mark)
    return parsed


def subjects_to_score(cycle: Cycle, marks: Iterable[str]) -> frozenset[Subject]:
    """The goals of ``cycle`` whose findings and scores may follow from what ``marks`` touched (see the
    module docstring); in context."""
    parsed = parse_marks(marks)
    key_result_ids = set(parsed[KEY_RESULT])
    objective_ids = set(parsed[OBJECTIVE])
    if parsed[KPI_MARK]:
        objective_ids |= set(
            KPIObjectiveTag.objects.filter(kpi_id__in=parsed[KPI_MARK]).values_list("objective_id", flat=True)
        )
    # (Unordered: the models' order joins the objective and its cycle to sort rows nobody reads in order.)
    in_cycle = KeyResult.objects.filter(objective__cycle=cycle).order_by()
    touched_key_results = list(
        in_cycle.filter(pk__in=key_result_ids).values_list("id", "objective_id", "parent_key_result_id")
    )
    wanted_key_results = {pk for pk, _objective, _parent in touched_key_results}
    wanted_key_results |= {parent for _pk, _objective, parent in touched_key_results if parent is not None}
    wanted_key_results |= set(
        in_cycle.filter(parent_key_result_id__in=key_result_ids).values_list("id", flat=True)
    )
    wanted_objectives = {objective for _pk, objective, _parent in touched_key_results}
    touched_objectives = list(
        Objective.objects.filter(cycle=cycle, pk__in=objective_ids).order_by().values_list("id", "parent_id")
    )
    wanted_objectives |= {pk for pk, _parent in touched_objectives}
    wanted_objectives |= {parent for _pk, parent in touched_objectives if parent is not None}
    if touched_objectives:
        touched_ids = [pk for pk, _parent in touched_objectives]
        wanted_objectives |= set(
            Objective.objects.filter(cycle=cycle, parent_id__in=touched_ids)
            .order_by()
            .values_list("id", flat=True)
        )
        wanted_key_results |= set(in_cycle.filter(objective_id__in=touched_ids).values_list("id", flat=True))
    # Goals of the cycle only: a parent named in another cycle is not judged here.
    wanted_key_results = set(in_cycle.filter(pk__in=wanted_key_results).values_list("id", flat=True))
    wanted_objectives = set(
        Objective.objects.filter(cycle=cycle, pk__in=wanted_objectives)
        .order_by()
        .values_list("id", flat=True)
    )
    return frozenset(
        [Subject(SubjectKind.KEY_RESULT, pk) for pk in wanted_key_results]
        + [Subject(SubjectKind.OBJECTIVE, pk) for pk in wanted_objectives]
    )


@dataclass
class ScoringOutcome:
    """What one live scoring did, for the task's result and log line."""

    organization_id: int
    cycle_id: int | None = None
    subjects: int = 0
    reported: int = 0
    opened: list[int] = field(default_factory=list)
    notifications: int = 0
    result: RecomputeResult | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "organization_id": self.organization_id,
            "cycle_id": self.cycle_id,
            "subjects": self.subjects,
            "reported": self.reported,
            "opened": self.opened,
            "notifications": self.notifications,
        }


def score_touched_goals(organization_id: int, marks: Iterable[str], *, now: datetime) -> ScoringOutcome:
    """Recompute, as of ``now`` in the live cycle, the goals ``marks`` touched and those that follow from
    them; alert about every finding that opened."""
    outcome = ScoringOutcome(organization_id)
    with tenant_context(organization_id):
        cycle = live_cycle(now)
        if cycle is None:
            return outcome
        subjects = subjects_to_score(cycle, marks)
        outcome.cycle_id = cycle.pk
        outcome.subjects = len(subjects)
        if not subjects:
            return outcome
        return _recompute_and_alert(outcome, cycle, now=now, subjects=subjects, resum_activity=False)


def rescore_organization(organization_id: int, *, now: datetime) -> ScoringOutcome:
    """Recompute every goal of the organisation's live cycle as of ``now`` (the nightly run), every
    week's signals summed again rather than read from the weeks kept (``alignment.activity_weeks``);
    alert about every finding that opened."""
    outcome = ScoringOutcome(organization_id)
    with tenant_context(organization_id):
        cycle = live_cycle(now)
        if cycle is None:
            return outcome
        outcome.cycle_id = cycle.pk
        return _recompute_and_alert(outcome, cycle, now=now, subjects=None, resum_activity=True)


def _recompute_and_alert(
    outcome: ScoringOutcome,
    cycle: Cycle,
    *,
    now: datetime,
    subjects: frozenset[Subject] | None,
    resum_activity: bool,
) -> ScoringOutcome:
    from alignment import alerts
    from alignment.services import recompute

    organization = Organization.objects.get(pk=outcome.organization_id)
    result = recompute(organization, as_of=now, subjects=subjects, cycle=cycle, resum_activity=resum_activity)
    outcome.result = result
    outcome.reported = result.reported
    if subjects is None:
        outcome.subjects = len(result.evaluation.scores)
    outcome.opened = [*result.detected, *result.reopened]
    outcome.notifications = alerts.drift_alerts_record(result)
    return outcome


def organizations_with_live_cycles(now: datetime) -> list[int]:
    """Ids of the organisations that have a live cycle at ``now`` (each asked in its own context)."""
    found = []
    for organization_id in Organization.objects.order_by("pk").values_list("pk", flat=True):
        with tenant_context(organization_id):
            if live_cycle(now) is not None:
                found.append(organization_id)
    return found
