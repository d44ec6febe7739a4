"""A bulk insert that meets a row another transaction is inserting at the same moment, from real threads with
their own database connections.

``bulk.insert_returning`` first tries a plain INSERT. When another transaction is writing the same key, that
INSERT waits for it; if the other commits, the INSERT fails on the key, and the rows must then go in skipping
that one, with nothing lost and the transaction still usable.
"""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.db import connection, transaction

from okrsignal.tenancy import cross_organization, tenant_context
from signals_ingest import bulk
from signals_ingest.models import Integration, RawEvent
from signals_ingest.pipeline import _RAW_EVENT_COLUMNS
from tests.db_waits import another_session_waits_for_a_lock
from tests.factories import make_organization
from tests.ingest_factories import connect

pytestmark = pytest.mark.django_db(transaction=True)

_DEDUPE = ["organization", "provider", "dedupe_key"]


def _row(integration: Integration, dedupe_key: str) -> tuple[Any, ...]:
    return (
        integration.pk,
        "jira",
        "pull",
        dedupe_key,
        {"key": dedupe_key},
        integration.connected_at,
        None,
        "",
        0,
    )


def test_an_insert_that_waited_on_a_row_another_transaction_committed_skips_it_and_keeps_the_rest() -> None:
    world = make_organization("Insert race")
    with tenant_context(world.organization):
        integration = connect("jira")
    first_inserted = threading.Event()
    release_first = threading.Event()
    answers: dict[str, list[tuple[Any, ...]]] = {}
    errors: list[BaseException] = []

    def first() -> None:
        try:
            with tenant_context(world.organization), transaction.atomic():
                answers["first"] = bulk.insert_returning(
                    RawEvent,
                    _RAW_EVENT_COLUMNS,
                    [_row(integration, "key-1")],
                    conflict=_DEDUPE,
                    returning=["dedupe_key"],
                    likely_new=True,
                )
                first_inserted.set()
                assert release_first.wait(timeout=10)
        except BaseException as exc:
            errors.append(exc)
        finally:
            first_inserted.set()
            connection.close()

    def second() -> None:
        try:
            assert first_inserted.wait(timeout=10)
            with tenant_context(world.organization), transaction.atomic():
                answers["second"] = bulk.insert_returning(
                    RawEvent,
                    _RAW_EVENT_COLUMNS,
                    [_row(integration, "key-1"), _row(integration, "key-2")],
                    conflict=_DEDUPE,
                    returning=["dedupe_key"],
                    likely_new=True,
                )
                # The transaction is still usable after the INSERT that failed on the key.
                answers["seen"] = list(RawEvent.objects.order_by("dedupe_key").values_list("dedupe_key"))
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    try:
        assert first_inserted.wait(timeout=10)
        assert another_session_waits_for_a_lock(), "the second insert never waited for the first transaction"
    finally:
        release_first.set()
        for thread in threads:
            thread.join(timeout=30)
    assert not any(thread.is_alive() for thread in threads)
    assert not errors, errors
    assert answers == {"first": [("key-1",)], "second": [("key-2",)], "seen": [("key-1",), ("key-2",)]}
    with cross_organization():
        stored = dict(RawEvent.objects.values_list("dedupe_key", "payload"))
    assert stored == {"key-1": {"key": "key-1"}, "key-2": {"key": "key-2"}}
