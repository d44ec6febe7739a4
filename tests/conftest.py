from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.core.cache import cache
from django.test import Client

from okrsignal.celery import app as celery_app

# The browser fixtures are defined here once for every module: a session-scoped browser defined in two
# modules would start Playwright twice in one session, which it refuses.
from tests.browser import browser_fixture, new_page_fixture, page_fixture  # noqa: F401
from tests.factories import OrgWorld, make_organization


@pytest.fixture(autouse=True)
def _tasks_run_in_process(request: pytest.FixtureRequest) -> Iterator[None]:
    """Run Celery tasks in the test's own process, except in tests that start a real worker."""
    eager = request.node.get_closest_marker("worker") is None
    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = eager
    yield
    celery_app.conf.task_always_eager = previous


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings) -> None:  # type: ignore[no-untyped-def]
    """Hashing is deliberately slow in production; the tests create many people."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _fresh_cache() -> None:
    cache.clear()


@pytest.fixture
def acme(db: None) -> OrgWorld:
    return make_organization("Acme")


@pytest.fixture
def globex(db: None) -> OrgWorld:
    return make_organization("Globex")


def client_for(membership_or_user: object) -> Client:
    user = getattr(membership_or_user, "user", membership_or_user)
    client = Client()
    client.force_login(user)  # type: ignore[arg-type]
    return client
