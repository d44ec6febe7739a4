"""The test suite's settings: the project's own, with each parallel test worker given Redis databases of its
own.

``make test`` runs the suite in two processes (pytest-xdist). Each has its own PostgreSQL test database
(pytest-django names it after the worker), but Redis databases are named by number in ``REDIS_URL`` and
``CACHE_URL``: without this, one worker's ``cache.clear()`` would empty the other's cache mid-test, and a
Celery worker started by one process's test could take the other's tasks. Worker ``gwN`` moves both
numbers down by ``2N``, which keeps the workers apart when the two numbers are neighbours at the top of
Redis's sixteen (the defaults in ``pyproject.toml``: 15 and 14). The environment is changed too, so that
processes a test starts (Celery workers, ``manage.py`` commands) use the same databases.
"""

import os
from urllib.parse import urlsplit, urlunsplit

_WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")


def _moved(url: str, offset: int) -> str:
    parts = urlsplit(url)
    number = int(parts.path.strip("/") or 0) - offset
    if number < 0:
        raise RuntimeError(f"Too many test workers for the Redis databases of {url}.")
    return urlunsplit(parts._replace(path=f"/{number}"))


# Processes a test starts inherit both the moved URLs and this mark, and must not move them again.
_MOVED_FOR = "OKRSIGNAL_TEST_REDIS_MOVED_FOR"

if _WORKER.startswith("gw") and os.environ.get(_MOVED_FOR) != _WORKER:
    _offset = 2 * int(_WORKER.removeprefix("gw"))
    for _name in ("REDIS_URL", "CACHE_URL"):
        if os.environ.get(_name):
            os.environ[_name] = _moved(os.environ[_name], _offset)
    os.environ[_MOVED_FOR] = _WORKER

from okrsignal.settings import *  # noqa: E402, F403
