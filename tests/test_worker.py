"""Tenant tasks run in a real Celery worker process, and /readyz reports whether such a worker answers.

Each test that needs a worker starts one (solo pool, one process) against the test's own Redis database
and PostgreSQL test database, so the worker sees exactly the rows the test committed. Its e-mail goes to
files, which the tests read back as the messages people would receive.
"""

from __future__ import annotations

import email
import email.policy
import gc
import os
import re
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote, urlsplit

import pytest
from celery.result import AsyncResult
from celery.signals import worker_process_init
from django.conf import settings
from django.core import signing
from django.db import connection, transaction
from django.test import Client
from django.urls import resolve
from django.utils import timezone

from okrsignal import services
from okrsignal.celery import QUEUES, WORKER_GC_THRESHOLD
from okrsignal.celery import app as celery_app
from okrsignal.models import Invitation, Role
from okrsignal.tasks import invitation_send_email
from okrsignal.tenancy import tenant_context
from tests.factories import OrgWorld, make_organization

pytestmark = pytest.mark.worker

WAIT_SECONDS = 30.0
MESSAGE_SEPARATOR = b"-" * 79 + b"\n"  # what Django's file e-mail backend writes after each message

T = TypeVar("T")


# --- The worker -------------------------------------------------------------------------------------


@dataclass
class Worker:
    name: str
    process: subprocess.Popen[bytes]
    log_path: Path
    mail_dir: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_for(self, condition: Callable[[], T], what: str, timeout: float = WAIT_SECONDS) -> T:
        """Poll ``condition`` until it returns something truthy; fail early if the worker dies."""
        deadline = time.monotonic() + timeout
        while True:
            value = condition()
            if value:
                return value
            if self.process.poll() is not None:
                pytest.fail(f"The Celery worker exited ({self.process.returncode}) while waiting for {what}.")
            if time.monotonic() > deadline:
                pytest.fail(f"Timed out after {timeout:.0f} s waiting for {what}.")
            time.sleep(0.05)

    def is_idle(self) -> bool:
        """Nothing left in the queues, and the worker says it is running and holding no task."""
        with celery_app.connection_for_read() as broker:
            channel = broker.default_channel
            if any(channel.queue_declare(queue=queue).message_count for queue in QUEUES):
                return False
        inspect = celery_app.control.inspect(destination=[self.name], timeout=1.0, limit=1)
        active, reserved = inspect.active() or {}, inspect.reserved() or {}
        return self.name in active and not active[self.name] and not reserved.get(self.name)

    def wait_until_idle(self) -> None:
        self.wait_for(self.is_idle, "the worker to finish every queued task")

    def result(self, async_result: AsyncResult) -> AsyncResult:
        self.wait_for(async_result.ready, f"task {async_result.id} to finish")
        return async_result

    def mailbox(self) -> list[EmailMessage]:
        """Every message the worker has sent so far, in no particular order."""
        messages = []
        for path in sorted(self.mail_dir.glob("*.log")):
            for chunk in path.read_bytes().split(MESSAGE_SEPARATOR):
                if chunk.strip():
                    message = email.message_from_bytes(chunk, policy=email.policy.default)
                    assert isinstance(message, EmailMessage)
                    messages.append(message)
        return messages


def _test_database_url() -> str:
    database = connection.settings_dict
    credentials = quote(database["USER"])
    if database.get("PASSWORD"):
        credentials += ":" + quote(database["PASSWORD"])
    port = f":{database['PORT']}" if database.get("PORT") else ""
    return f"postgres://{credentials}@{database['HOST']}{port}/{database['NAME']}"


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    process.terminate()  # warm shutdown: finish the current task, then exit
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=15)


@pytest.fixture
def worker(transactional_db: None, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Worker]:
    """A Celery worker process consuming every queue, with the test database and the test's Redis."""
    name = f"okrsignal-test-{os.getpid()}-{uuid.uuid4().hex[:8]}@{socket.gethostname()}"
    mail_dir = tmp_path / "mail"
    mail_dir.mkdir()
    log_path = tmp_path / "worker.log"
    assert settings.REDIS_URL, "The worker tests need REDIS_URL."
    environment = {
        **os.environ,
        "DEBUG": "true",
        "DATABASE_URL": _test_database_url(),
        "REDIS_URL": settings.REDIS_URL,
        "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
        "EMAIL_FILE_PATH": str(mail_dir),
    }
    celery_app.control.purge()  # nothing left over from earlier runs may reach this worker
    failures_before = request.session.testsfailed
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "okrsignal",
                "worker",
                "--pool=solo",
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
            env=environment,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    started = Worker(name=name, process=process, log_path=log_path, mail_dir=mail_dir)
    ready = False
    try:
        started.wait_for(
            lambda: celery_app.control.ping(destination=[name], timeout=0.5, limit=1),
            "the worker to answer a ping",
        )
        ready = True
        yield started
    finally:
        _stop(process)
        if not ready or request.session.testsfailed > failures_before:
            print(f"--- log of Celery worker {name} ---\n{started.log()}")


# --- Helpers ----------------------------------------------------------------------------------------


def invite(world: OrgWorld, address: str) -> Invitation:
    """Invite through the service, which queues the invitation e-mail when the transaction commits."""
    with tenant_context(world.organization):
        return services.invitation_create(email=address, role=Role.EMPLOYEE, invited_by=world.admin)


def unsent_invitation(world: OrgWorld, address: str) -> Invitation:
    """A pending invitation whose e-mail nothing has queued, so the test alone decides which task runs."""
    now = timezone.now()
    with tenant_context(world.organization):
        return Invitation.objects.create(
            email=address,
            role=Role.EMPLOYEE,
            invited_by=world.admin,
            created_at=now,
            expires_at=now + timedelta(days=7),
        )


def sent_at(invitation: Invitation) -> Any:
    with tenant_context(invitation.organization_id):
        return Invitation.objects.values_list("sent_at", flat=True).get(pk=invitation.pk)


def only_message_to(messages: list[EmailMessage], address: str) -> EmailMessage:
    addressed = [message for message in messages if message["To"] == address]
    assert len(addressed) == 1, f"{len(addressed)} messages to {address}"
    return addressed[0]


def invitation_link(message: EmailMessage) -> dict[str, Any]:
    """The organisation slug and signed token of the one invitation link in a message."""
    body = message.get_body(preferencelist=("plain",))
    assert body is not None
    links = re.findall(r"https?://\S+", body.get_content())
    assert len(links) == 1, links
    kwargs = resolve(urlsplit(links[0]).path).kwargs
    return {"org_slug": kwargs["org_slug"], **signing.loads(kwargs["token"], salt=services.INVITATION_SALT)}


def text_of(message: EmailMessage) -> str:
    body = message.get_body(preferencelist=("plain",))
    assert body is not None
    return f"{message['Subject']}\n{body.get_content()}"


# --- Tenant tasks in the worker ---------------------------------------------------------------------


def test_interleaved_invitations_of_two_organisations_each_go_out_once_naming_their_own(
    worker: Worker,
) -> None:
    acme, globex = make_organization("Acme"), make_organization("Globex")
    # One commit queues all four e-mails at once, alternating organisations, for the one worker to run
    # back to back.
    with transaction.atomic():
        invitations = [
            (acme, invite(acme, "first@acme.example")),
            (globex, invite(globex, "first@globex.example")),
            (acme, invite(acme, "second@acme.example")),
            (globex, invite(globex, "second@globex.example")),
        ]

    worker.wait_for(lambda: all(sent_at(invitation) for _, invitation in invitations), "all four sends")
    worker.wait_until_idle()

    messages = worker.mailbox()
    assert len(messages) == 4
    for (world, invitation), (other, _) in zip(invitations, [*invitations[1:], invitations[0]], strict=True):
        message = only_message_to(messages, invitation.email)
        text = text_of(message)
        assert f"join {world.organization.name} on OKRSignal" in text
        assert other.organization.name not in text
        assert other.slug not in text
        assert invitation_link(message) == {
            "org_slug": world.slug,
            "organization": world.organization.pk,
            "invitation": invitation.pk,
        }
    sent_times = [sent_at(invitation) for _, invitation in invitations]
    assert sent_times == sorted(sent_times), "the worker ran the tasks in the order A, B, A, B"


def test_task_for_one_organisation_cannot_send_another_organisations_invitation(worker: Worker) -> None:
    acme, globex = make_organization("Acme"), make_organization("Globex")
    globex_invitation = unsent_invitation(globex, "someone@globex.example")

    result = worker.result(invitation_send_email.delay(acme.organization.pk, globex_invitation.pk))

    assert result.state == "FAILURE"
    assert isinstance(result.result, Invitation.DoesNotExist)
    assert worker.mailbox() == []
    assert sent_at(globex_invitation) is None


def test_failed_task_leaves_no_organisation_behind_for_the_next_task(worker: Worker) -> None:
    acme, globex = make_organization("Acme"), make_organization("Globex")
    globex_invitation = unsent_invitation(globex, "someone@globex.example")

    crossing = invitation_send_email.delay(acme.organization.pk, globex_invitation.pk)
    proper = invitation_send_email.delay(globex.organization.pk, globex_invitation.pk)

    assert worker.result(crossing).state == "FAILURE"
    assert worker.result(proper).state == "SUCCESS"
    message = only_message_to(worker.mailbox(), "someone@globex.example")
    assert "join Globex on OKRSignal" in text_of(message)
    assert "Acme" not in text_of(message)
    assert invitation_link(message)["organization"] == globex.organization.pk
    assert sent_at(globex_invitation) is not None


# --- Health endpoints -------------------------------------------------------------------------------


def test_readyz_is_200_naming_every_check_when_a_worker_answers(worker: Worker) -> None:
    response = Client().get("/readyz")

    assert response.status_code == 200
    checks = response.json()["checks"]
    assert {name: check["ok"] for name, check in checks.items()} == {
        "database": True,
        "redis": True,
        "celery": True,
    }
    assert worker.name in checks["celery"]["workers"]


def test_readyz_is_503_naming_celery_when_no_worker_answers(db: None) -> None:
    response = Client().get("/readyz")

    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["checks"]["database"]["ok"] is True
    assert body["checks"]["redis"]["ok"] is True
    assert body["checks"]["celery"]["ok"] is False
    assert "worker" in body["checks"]["celery"]["error"]


def test_healthz_is_200_with_a_worker(worker: Worker) -> None:
    assert Client().get("/healthz").status_code == 200


def test_healthz_is_200_without_a_worker() -> None:
    assert Client().get("/healthz").status_code == 200


def test_worker_processes_look_for_reference_cycles_less_often() -> None:
    before = gc.get_threshold()
    try:
        worker_process_init.send(sender=None)  # as each worker process does when it starts
        assert gc.get_threshold() == (WORKER_GC_THRESHOLD, *before[1:])
    finally:
        gc.set_threshold(*before)
