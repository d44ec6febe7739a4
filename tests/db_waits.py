"""For tests that make one database session wait for another's lock: knowing when it does."""

from __future__ import annotations

import time

from django.db import connection


def another_session_waits_for_a_lock(timeout: float = 30) -> bool:
    """Whether another session of this test database is waiting for a lock, asked for up to ``timeout``
    seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                " AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()"
            )
            row = cursor.fetchone()
            if row and row[0]:
                return True
        time.sleep(0.05)
    return False
