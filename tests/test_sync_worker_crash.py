"""A pull sync in a real Celery worker that is killed with SIGKILL mid-sync: nothing lost, nothing doubled.

The worker runs as its own process against the test's PostgreSQL database and Redis, and reads a local
Jira fake that can hold a search request until the test has killed the worker. Late acknowledgement
brings the sync back: rejected and requeued at once when a pool process is lost (reject on worker lost),
or restored by the broker once its visibility timeout passes when the whole worker died. The sync then
resumes from the page token stored with its last committed page.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.db.models import Count
from django.utils import timezone

from okrsignal.celery import QUEUES
from okrsignal.celery import app as celery_app
from okrsignal.tenancy import tenant_context
from signals_ingest import services
from signals_ingest.models import ExecutionSignal, Integration, RawEvent, SyncCursor, WorkItem
from signals_ingest.sync import JIRA_STREAM
from signals_ingest.tasks import sync_integration
from tests.factories import OrgWorld, make_organization
from tests.test_worker import Worker, _test_database_url
from tests.vendor_fakes import FakeJira
from tests.vendor_fakes.server import FakeResponse, RecordedCall

pytestmark = pytest.mark.worker

SEARCH = "/rest/api/3/search/jql"
ISSUES = 1000


class GatedJira(FakeJira):
    """A Jira fake whose chosen search requests wait at a gate until the test opens it.

    ``hold`` decides, from a search request's number (1 for the first), whether it waits. ``arrived``
    counts the requests that reached the gate, so a test knows the worker is inside one.
    """

    def __init__(self, hold: Callable[[int], bool]) -> None:
        super().__init__()
        self.hold = hold
        self.gate = threading.Event()
        self.arrived = 0
        self._searches = 0
        self._counting = threading.Lock()

    def dispatch(self, call: RecordedCall) -> FakeResponse:
        if call.path == SEARCH:
            with self._counting:
                self._searches += 1
                waits = self.hold(self._searches)
                if waits:
                    self.arrived += 1
            if waits:
                self.gate.wait(timeout=120)
        return super().dispatch(call)

    def start(self) -> str:
        url = super().start()
        assert self._server is not None
        default = self._server.handle_error

        def handle_error(request: Any, client_address: Any) -> None:
            # A held request answered after its worker was killed finds the connection gone: expected.
            if not isinstance(sys.exc_info()[1], ConnectionError):
                default(request, client_address)

        self._server.handle_error = handle_error  # type: ignore[method-assign]
        return url

    def stop(self) -> None:
        self.gate.set()
        super().stop()


@pytest.fixture
def fresh_jira() -> Iterator[Callable[[Callable[[int], bool]], GatedJira]]:
    started: list[GatedJira] = []

    def start(hold: Callable[[int], bool]) -> GatedJira:
        fake = GatedJira(hold)
        fake.start()
        started.append(fake)
        return fake

    yield start
    for fake in started:
        fake.stop()


@pytest.fixture
def start_worker(
    transactional_db: None, tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[Callable[..., Worker]]:
    """Start Celery workers (prefork or solo) on every queue, with the test's database and Redis."""
    started: list[Worker] = []
    celery_app.control.purge()
    failures_before = request.session.testsfailed

    def start(*, pool: str, environment: dict[str, str] | None = None) -> Worker:
        name = f"okrsignal-sync-{os.getpid()}-{uuid.uuid4().hex[:8]}@{socket.gethostname()}"
        log_path = tmp_path / f"worker-{len(started) + 1}.log"
        mail_dir = tmp_path / "mail"
        mail_dir.mkdir(exist_ok=True)
        env = {
            **os.environ,
            "DEBUG": "true",
            "DATABASE_URL": _test_database_url(),
            "REDIS_URL": str(settings.REDIS_URL),
            "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
            **(environment or {}),
        }
        with log_path.open("wb") as log:
            process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "celery",
                    "-A",
                    "okrsignal",
                    "worker",
                    f"--pool={pool}",
                    "--concurrency=1",
                    "-Q",
                    ",".join(QUEUES),
                    "--without-heartbeat",
                    "--without-gossip",
                    "--without-mingle",
                    "--loglevel=INFO",
                    "-n",
                    name,
                ],
                cwd=settings.BASE_DIR,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        worker = Worker(name=name, process=process, log_path=log_path, mail_dir=mail_dir)
        started.append(worker)
        worker.wait_for(
            lambda: celery_app.control.ping(destination=[name], timeout=0.5, limit=1),
            "the worker to answer a ping",
        )
        return worker

    yield start
    for worker in started:
        _stop_soon(worker.process)
    if request.session.testsfailed > failures_before:
        for worker in started:
            print(f"--- log of Celery worker {worker.name} ---\n{worker.log()}")


def _stop_soon(process: subprocess.Popen[bytes]) -> None:
    """Stop a worker that has nothing left to do; one whose pool processes were killed can be slow to
    finish a warm shutdown, so it gets a few seconds."""
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=5)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=15)


# --- Helpers ----------------------------------------------------------------------------------------


def _connect(world: OrgWorld, fake: FakeJira) -> Integration:
    with tenant_context(world.organization):
        return services.integration_connect(
            provider="jira",
            credentials={"email": fake.email, "api_token": fake.api_token},
            settings={"site": fake.base_url, "story_points_field": fake.story_points_field},
        )


def _expected_signals(fake: FakeJira) -> int:
    return sum(
        1 + sum(1 for history in issue["histories"] for item in history["items"] if item["field"] == "status")
        for issue in fake.issues.values()
    )


def _work_items(world: OrgWorld) -> int:
    with tenant_context(world.organization):
        return WorkItem.objects.count()


def _cursor(world: OrgWorld, integration: Integration) -> dict[str, Any] | None:
    with tenant_context(world.organization):
        value = (
            SyncCursor.objects.filter(integration=integration, stream=JIRA_STREAM)
            .values_list("value", flat=True)
            .first()
        )
    state: dict[str, Any] | None = json.loads(value) if value else None
    return state


def _integration(world: OrgWorld, integration: Integration) -> Integration:
    with tenant_context(world.organization):
        return Integration.objects.get(pk=integration.pk)


def _pool_process_running_the_sync(worker: Worker) -> int:
    """The pid of the pool process that runs the sync, as the worker reports it."""

    def running() -> int | None:
        active = celery_app.control.inspect(destination=[worker.name], timeout=1.0).active() or {}
        for task in active.get(worker.name, []):
            if task.get("name") == sync_integration.name and task.get("worker_pid"):
                return int(task["worker_pid"])
        return None

    return worker.wait_for(running, "the worker to report the sync it runs")


def _wait(condition: Callable[[], Any], what: str, timeout: float = 60.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"Timed out after {timeout:.0f} s waiting for {what}.")
        time.sleep(0.05)


def _assert_everything_once(world: OrgWorld, integration: Integration, fake: FakeJira) -> None:
    with tenant_context(world.organization):
        assert WorkItem.objects.count() == ISSUES
        assert RawEvent.objects.filter(integration=integration).count() == ISSUES
        assert not RawEvent.objects.filter(processed_at__isnull=True).exists()
        assert ExecutionSignal.objects.count() == _expected_signals(fake)
        doubled = (
            ExecutionSignal.objects.values("external_id").annotate(copies=Count("id")).filter(copies__gt=1)
        )
        assert list(doubled) == []
    synced = _integration(world, integration)
    assert synced.items_taken == ISSUES
    assert synced.last_success_at is not None
    assert synced.last_error == ""


def _search_tokens(fake: FakeJira) -> list[str | None]:
    return [(call.json or {}).get("nextPageToken") for call in fake.calls_to(SEARCH)]


# --- The tests --------------------------------------------------------------------------------------


def test_a_pool_process_killed_mid_sync_is_replaced_and_the_redelivered_sync_completes_once(
    start_worker: Callable[..., Worker], fresh_jira: Callable[[Callable[[int], bool]], GatedJira]
) -> None:
    fake = fresh_jira(lambda number: number == 4)  # the search for the fourth page waits
    fake.generate_issues(ISSUES, start=timezone.now() - timedelta(days=6))
    acme = make_organization("Acme")
    integration = _connect(acme, fake)
    worker = start_worker(pool="prefork")

    sync_integration.delay(acme.organization.pk, integration.pk)
    _wait(lambda: fake.arrived == 1, "the sync to ask for its fourth page")
    assert _work_items(acme) == 300, "three pages committed before the crash"
    position = _cursor(acme, integration)
    assert position is not None
    assert position["run"]["next_page_token"]
    os.kill(_pool_process_running_the_sync(worker), signal.SIGKILL)
    fake.gate.set()

    _wait(lambda: _work_items(acme) == ISSUES, "the redelivered sync to take every issue")
    worker.wait_until_idle()

    _assert_everything_once(acme, integration, fake)
    assert (_cursor(acme, integration) or {})["run"] is None
    # The redelivered sync went on from the stored page token: pages 1-3 were not read again.
    tokens = _search_tokens(fake)
    assert tokens[4] == position["run"]["next_page_token"]
    assert len(tokens) == 4 + 7
    assert "signal 9" in worker.log() or "WorkerLostError" in worker.log()


def test_a_worker_killed_mid_sync_and_started_again_completes_the_sync_once(
    start_worker: Callable[..., Worker], fresh_jira: Callable[[Callable[[int], bool]], GatedJira]
) -> None:
    fake = fresh_jira(lambda number: number == 4)
    fake.generate_issues(ISSUES, start=timezone.now() - timedelta(days=6))
    acme = make_organization("Acme")
    integration = _connect(acme, fake)
    # The broker hands a task nobody acknowledged to another worker after the visibility timeout; a short
    # one keeps the test short.
    visibility = {"CELERY_VISIBILITY_TIMEOUT": "3"}
    first = start_worker(pool="solo", environment=visibility)

    sync_integration.delay(acme.organization.pk, integration.pk)
    _wait(lambda: fake.arrived == 1, "the sync to ask for its fourth page")
    assert _work_items(acme) == 300
    position = _cursor(acme, integration)
    assert position is not None
    first.process.send_signal(signal.SIGKILL)
    first.process.wait(timeout=15)
    fake.gate.set()
    time.sleep(4)  # past the visibility timeout, so the new worker restores the task when it starts

    second = start_worker(pool="solo", environment=visibility)

    _wait(lambda: _work_items(acme) == ISSUES, "the restarted worker to finish the sync")
    second.wait_until_idle()
    _assert_everything_once(acme, integration, fake)
    assert _search_tokens(fake)[4] == position["run"]["next_page_token"]


def test_a_sync_whose_worker_is_lost_again_and_again_is_recorded_as_failed_not_redelivered_for_ever(
    start_worker: Callable[..., Worker], fresh_jira: Callable[[Callable[[int], bool]], GatedJira]
) -> None:
    fake = fresh_jira(lambda number: True)  # every search waits: each delivery is killed inside one
    fake.generate_issues(10, start=timezone.now() - timedelta(days=1))
    acme = make_organization("Acme")
    integration = _connect(acme, fake)
    worker = start_worker(pool="prefork", environment={"SYNC_MAX_REDELIVERIES": "2"})

    sync_integration.delay(acme.organization.pk, integration.pk)
    for delivery in (1, 2, 3):  # the first delivery and the two redeliveries allowed
        _wait(lambda delivery=delivery: fake.arrived == delivery, f"delivery {delivery} to reach Jira")
        os.kill(_pool_process_running_the_sync(worker), signal.SIGKILL)

    _wait(
        lambda: "interrupted 3 times" in _integration(acme, integration).last_error,
        "the abandoned sync to be recorded on the integration",
    )
    worker.wait_until_idle()
    recorded = _integration(acme, integration)
    assert "abandoned" in recorded.last_error
    assert recorded.last_success_at is None
    assert fake.arrived == 3, "the fourth delivery did not call Jira"
    assert _work_items(acme) == 0
