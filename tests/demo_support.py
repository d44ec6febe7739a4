"""Creating the demo organisation in tests, the same on any day of the week.

``create_demo`` builds the demo as of the moment it runs, leaving out what the scenario places later in
the week; tests build it as of the start of the current week instead, so that its seventh week has just
begun whatever the day (nobody has checked in for it yet) and the pages a test visits match what it
expects.
"""

from __future__ import annotations

import io
from datetime import UTC, datetime, time, timedelta

from django.core.management import call_command
from django.utils import timezone


def start_of_this_week() -> datetime:
    """Monday 00:00 UTC of the current week: inside the organisation's week in European time zones."""
    today = timezone.now().astimezone(UTC).date()
    return datetime.combine(today - timedelta(days=today.weekday()), time(0), tzinfo=UTC)


def create_demo(*args: str) -> str:
    """Run ``create_demo`` as of the start of this week; return what it printed."""
    out = io.StringIO()
    call_command("create_demo", "--as-of", start_of_this_week().isoformat(), *args, stdout=out)
    return out.getvalue()
