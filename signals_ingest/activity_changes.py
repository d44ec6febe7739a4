"""Recording the days whose activity changed, for the drift engine's kept weekly sums.

The drift engine keeps each ended week's sums of signals (``alignment.activity_weeks``) and sums a week
again only once something recorded here says its signals or their key-result links changed. So every write
to ``ExecutionSignal`` or ``SignalKeyResult`` that can change a sum (a signal or link added or removed, a
weight, actor, person or context changed) calls one of these in the same transaction, in context.
Blanking a signal's text changes no sum and records nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime
from typing import Any

from django.db.models import QuerySet
from django.db.models.functions import TruncDate

from okrsignal.tenancy import require_organization_id
from signals_ingest.models import ChangedActivityDay


def record_days(moments: Iterable[datetime]) -> None:
    """Record the UTC days of ``moments`` (when the changed signals occurred)."""
    _record({moment.astimezone(UTC).date() for moment in moments})


def record_days_of(signals: QuerySet[Any, Any]) -> None:
    """Record the UTC days on which ``signals`` (signals or their links) occurred; call it before a change
    that removes them from the query."""
    _record(set(signals.annotate(day=TruncDate("occurred_at", tzinfo=UTC)).values_list("day", flat=True)))


def _record(days: set[date]) -> None:
    """Add the days not recorded yet (a day two writers add at once is there twice: harmless)."""
    if not days:
        return
    recorded = set(ChangedActivityDay.objects.filter(day__in=days).values_list("day", flat=True))
    organization_id = require_organization_id()
    ChangedActivityDay.objects.bulk_create(
        [ChangedActivityDay(organization_id=organization_id, day=day) for day in sorted(days - recorded)]
    )
