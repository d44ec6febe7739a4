"""``manage.py bench``: the registry, and the ingestion benchmark run end to end at a tiny size.

No timing is asserted (the machine running the suite decides those); what is checked is the shape of the
figures and that the rows they count really are in the database.
"""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from okrsignal.bench import Target, benchmarks
from okrsignal.models import Organization
from okrsignal.tenancy import cross_organization, tenant_context
from signals_ingest.benchmark import PayloadGenerator, bench_people, pack, start_of_data
from signals_ingest.models import ExecutionSignal, ExternalIdentity, RawEvent, SignalKeyResult, WorkItem
from tests.bench_support import run_bench

FIGURES = {
    "items",
    "seconds",
    "signals_per_s",
    "copy_rows_per_s",
    "ratio_to_copy",
    "webhook_p95_ms",
    "peak_rss_mb",
}


def test_the_benchmarks_are_listed_and_a_missing_name_is_refused() -> None:
    assert "ingest" in benchmarks()
    out = io.StringIO()
    call_command("bench", "--list", stdout=out)
    assert "ingest" in out.getvalue().split()
    with pytest.raises(CommandError, match=r"Name a benchmark: .*ingest"):
        call_command("bench", stdout=io.StringIO())


def test_targets_say_whether_a_figure_meets_them() -> None:
    assert Target("ratio_to_copy", at_least=0.2).met(0.2)
    assert not Target("ratio_to_copy", at_least=0.2).met(0.19)
    assert Target("webhook_p95_ms", below=100).met(99.9)
    assert not Target("webhook_p95_ms", below=100).met(100)
    assert not Target("peak_rss_mb", below=500).met(None)


def test_the_generated_payloads_are_split_into_shares_that_never_share_work() -> None:
    generator = PayloadGenerator(bench_people(), start_of_data())
    shares = [list(generator.payloads(600, share=share, shares=2)) for share in (0, 1)]
    assert sum(len(share) for share in shares) == 600
    assert {payload.provider for payload in shares[0] + shares[1]} == {"jira", "slack", "hubspot"}

    def work(payload: Any) -> str:
        body = payload.body
        if payload.provider == "jira":
            return (body.get("issue") or body)["id"]
        if payload.provider == "slack":
            return body["event"].get("thread_ts") or body["event"]["ts"]
        deals = body["object"].get("associations", {}).get("deals", {}).get("results", [])
        return deals[0]["id"] if deals else body["object"]["id"]

    assert not {work(p) for p in shares[0]} & {work(p) for p in shares[1]}
    for share in shares:
        moments = [payload.moment for payload in share]
        assert moments == sorted(moments)
    bodies = pack(iter(shares[0]))
    assert bodies.count() == len(shares[0])
    assert sum(len(batch) for _provider, batch in bodies.interleaved(50)) == len(shares[0])


@pytest.mark.django_db(transaction=True)
def test_the_ingestion_benchmark_prints_its_figures_and_the_rows_are_really_there() -> None:
    text, figures = run_bench("ingest", "--items", "400", "--webhook-calls", "12", "--batch-size", "150")
    assert "ratio_to_copy" in text.splitlines()[0] or "Benchmark ingest" in text
    assert set(figures) >= FIGURES
    assert figures["benchmark"] == "ingest"
    assert figures["items"] == 400
    assert figures["workers"] == 2
    assert figures["worker_kind"] == "processes"  # as Celery's worker processes ingest in a deployment
    assert figures["failed"] == 0
    assert figures["raw_events"] == 400
    assert figures["signals"] > 400  # some payloads carry several activities
    assert figures["copy_rows"] == figures["signals"]
    assert figures["webhook_calls"] == 12
    for name in (
        "seconds",
        "signals_per_s",
        "copy_rows_per_s",
        "ratio_to_copy",
        "webhook_p95_ms",
        "peak_rss_mb",
    ):
        assert isinstance(figures[name], float | int)
        assert figures[name] > 0
    assert set(figures["targets"]) == {"ratio_to_copy", "webhook_p95_ms", "peak_rss_mb"}
    assert isinstance(figures["targets_met"], bool)

    with cross_organization():
        organization = Organization.objects.get(slug=figures["organization"])
    with tenant_context(organization):
        # The warm-up took one payload per vendor account before the clock started; the webhook calls
        # came after the count. Everything the figures count is stored, and processed.
        webhook_events = RawEvent.objects.filter(origin="webhook")
        assert webhook_events.count() == 12
        assert RawEvent.objects.filter(origin="replay").count() >= 400
        assert not RawEvent.objects.filter(processed_at__isnull=True).exists()
        assert WorkItem.objects.count() >= figures["work_items"]
        webhook_signals = ExecutionSignal.objects.filter(raw_event__origin="webhook").count()
        assert ExecutionSignal.objects.count() - webhook_signals >= figures["signals"]
        assert SignalKeyResult.objects.count() >= figures["signal_links"] > 0
        assert ExternalIdentity.objects.filter(membership__isnull=False).exists()
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass('bench_copy_baseline')")
        assert cursor.fetchone() == (None,)


@pytest.mark.django_db(transaction=True)
def test_json_alone_prints_one_line() -> None:
    text, figures = run_bench(
        "ingest", "--json", "--items", "60", "--webhook-calls", "0", "--workers", "2", "--threads"
    )
    assert len(text.strip().splitlines()) == 1
    assert figures["items"] == 60
    assert figures["worker_kind"] == "threads"
    assert figures["failed"] == 0
    assert figures["webhook_calls"] == 0


@pytest.mark.django_db(transaction=True)
def test_the_payloads_can_be_ingested_as_a_pull_would_store_them() -> None:
    _text, figures = run_bench(
        "ingest", "--json", "--items", "60", "--webhook-calls", "0", "--origin", "pull"
    )
    assert figures["origin"] == "pull"
    assert figures["failed"] == 0
    with cross_organization():
        organization = Organization.objects.get(slug=figures["organization"])
    with tenant_context(organization):
        # Every timed payload stored as pulled, and processed; the signals they made are all there.
        assert RawEvent.objects.filter(origin="pull").count() == figures["raw_events"] == 60
        assert not RawEvent.objects.filter(processed_at__isnull=True).exists()
        assert ExecutionSignal.objects.filter(raw_event__origin="pull").count() == figures["signals"] > 0
