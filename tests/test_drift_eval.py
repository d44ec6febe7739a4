"""``drift_eval`` on the project's own scenarios: the engine finds what each story expects, on time, and
nothing in the healthy quarter; the command leaves nothing behind and touches nothing it did not make.

Every file is replayed once, by one run of the command shared by the module (a replay loads a whole
quarter through the ingestion pipeline).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from alignment.loading import LoadedScenario, load_scenario
from alignment.scenario import Expect, ExpectedContribution, ExpectedFinding, read_scenario
from alignment.scenarios import stories
from alignment.scoring import Reported, ScenarioScore, WeekReport, score_scenario, totals
from okrsignal.celery import app as celery_app
from okrsignal.models import Membership, Organization, User
from okrsignal.services import organization_delete
from okrsignal.tenancy import cross_organization, tenant_context
from signals_ingest.models import ExecutionSignal, SignalKeyResult

DIRECTORY = Path(stories.__file__).resolve().parent
FILES = sorted(DIRECTORY.glob("*.json"))
HEALTHY = "steady-quarter"
# The smallest of the files: loaded beside the replays as load_scenario makes a demo.
NEIGHBOUR = DIRECTORY / "demo-quarter.json"
ROOT = Path(__file__).resolve().parent.parent
# Every test here is a database test, so that the suite keeps them together and the replay shared by the
# module runs once (the suite runs database tests apart from the others).
pytestmark = pytest.mark.django_db


@dataclass
class Run:
    document: dict[str, Any]
    stdout: str
    stderr: str
    seconds: float
    neighbour: LoadedScenario
    neighbour_rows: dict[str, int]
    slugs_before: set[str]
    emails_before: set[str]


def rows_of(organization: Organization) -> dict[str, int]:
    with tenant_context(organization):
        return {
            "memberships": Membership.objects.count(),
            "signals": ExecutionSignal.objects.count(),
            "links": SignalKeyResult.objects.count(),
        }


def everyone() -> tuple[set[str], set[str]]:
    with cross_organization():
        return set(Organization.objects.values_list("slug", flat=True)), set(
            User.objects.values_list("email", flat=True)
        )


@pytest.fixture(scope="module")
def run(django_db_setup: None, django_db_blocker: Any) -> Iterator[Run]:
    with django_db_blocker.unblock():
        previous = celery_app.conf.task_always_eager
        celery_app.conf.task_always_eager = True
        try:
            neighbour = load_scenario(read_scenario(NEIGHBOUR), password="neighbour-password-1")
        finally:
            celery_app.conf.task_always_eager = previous
        try:
            slugs, emails = everyone()
            rows = rows_of(neighbour.organization)
            stdout, stderr = StringIO(), StringIO()
            started = time.monotonic()
            call_command("drift_eval", *[str(path) for path in FILES], "--json", stdout=stdout, stderr=stderr)
            seconds = time.monotonic() - started
            sys.stderr.write(f"\ndrift_eval replayed {len(FILES)} files in {seconds:.0f} s\n")
            yield Run(
                document=json.loads(stdout.getvalue()),
                stdout=stdout.getvalue(),
                stderr=stderr.getvalue(),
                seconds=seconds,
                neighbour=neighbour,
                neighbour_rows=rows,
                slugs_before=slugs,
                emails_before=emails,
            )
        finally:
            organization_delete(organization=neighbour.organization)


def test_the_engine_finds_what_the_stories_expect_in_time(run: Run) -> None:
    totals = run.document["totals"]

    assert totals["precision"] >= 0.9, run.document
    assert totals["recall"] >= 0.9, run.document
    assert totals["mean_onset_delay_weeks"] <= 1, run.document


def test_the_healthy_quarter_raises_nothing(run: Run) -> None:
    (healthy,) = [scenario for scenario in run.document["scenarios"] if scenario["name"] == HEALTHY]

    assert healthy["findings"] == []
    assert (healthy["tp"], healthy["fp"], healthy["fn"]) == (0, 0, 0)


def test_standard_output_is_exactly_the_scoring_document(run: Run) -> None:
    document = run.document

    assert set(document) == {"scenarios", "totals"}
    assert [scenario["name"] for scenario in document["scenarios"]] == [path.stem for path in FILES]
    assert set(document["totals"]) == {
        "precision",
        "recall",
        "mean_onset_delay_weeks",
        "mean_onset_error_weeks",
        "contribution_recall",
    }
    for scenario in document["scenarios"]:
        assert set(scenario) == {
            "name",
            "tp",
            "fp",
            "fn",
            "onset_delay_weeks",
            "onset_error_weeks",
            "findings",
            "contributions",
        }
        assert len(scenario["onset_delay_weeks"]) == scenario["tp"] == len(scenario["onset_error_weeks"])
        for finding in scenario["findings"]:
            assert set(finding) == {"kind", "subject", "detected_week", "onset_week"}
            assert not finding["subject"].isdigit(), "subjects are the file's keys"
    # A story whose expected work went uncredited would show here.
    assert document["totals"]["contribution_recall"] == 1.0
    # Progress went to standard error.
    assert "loaded into" in run.stderr
    assert "loaded into" not in run.stdout


def test_it_deletes_what_it_made_and_leaves_the_organisation_loaded_from_the_same_file(run: Run) -> None:
    slugs, emails = everyone()

    assert slugs == run.slugs_before
    assert emails == run.emails_before
    assert not any("-eval-" in slug for slug in slugs)
    assert not any("+eval-" in email for email in emails)
    assert rows_of(run.neighbour.organization) == run.neighbour_rows
    neighbour = Organization.objects.get(pk=run.neighbour.organization_id)
    assert neighbour.slug == "northwind"


def test_an_invalid_file_stops_the_run_naming_the_file_the_path_and_the_problem(tmp_path: Path) -> None:
    data = json.loads(NEIGHBOUR.read_text())
    data["events"][3]["kind"] = "telepathy"
    broken = tmp_path / "broken.json"
    broken.write_text(json.dumps(data))
    slugs, emails = everyone()

    with pytest.raises(CommandError) as refused:
        call_command(
            "drift_eval", str(NEIGHBOUR), str(broken), "--json", stdout=StringIO(), stderr=StringIO()
        )

    message = str(refused.value)
    assert str(broken) in message
    assert "$.events[3]" in message
    assert everyone() == (slugs, emails)


def test_an_invalid_file_exits_non_zero(tmp_path: Path) -> None:
    not_json = tmp_path / "truncated.json"
    not_json.write_text('{"format": "okrsignal-scenario/1", "name": ')
    environment = {**os.environ, "DEBUG": "true"}

    finished = subprocess.run(
        [sys.executable, "manage.py", "drift_eval", str(not_json), "--json"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert finished.returncode != 0
    assert finished.stdout == ""
    assert str(not_json) in finished.stderr
    assert "not valid JSON" in finished.stderr


def test_scoring_counts_as_the_format_says() -> None:
    expect = Expect(
        findings=(
            ExpectedFinding("priority_shift", "KR-A", onset_week=5),
            ExpectedFinding("stale_progress", "KR-A", onset_week=5, tolerance_weeks=1),
            ExpectedFinding("cascade_break", "O-B", onset_week=8),
            ExpectedFinding("ownership_gap", "KR-C", onset_week=4),
        ),
        quiet=("KR-Q", "O-Q"),
        contributions=(ExpectedContribution("eng3", "KR-A"), ExpectedContribution("eng4", "KR-A")),
    )
    weeks = [
        WeekReport(3, (Reported("cascade_break", "O-B", 3),), ()),  # before its window: fn and fp
        WeekReport(
            6,
            (
                Reported("priority_shift", "KR-A", 5),  # in time, a week late
                Reported("priority_shift", "KR-Q", 6),  # on a quiet goal
                Reported("stale_progress", "KR-Z", 6),  # on a goal nobody scores
                Reported("scope_creep", "O-Q", 6),  # a kind nobody scores
            ),
            (),
        ),
        WeekReport(
            7,
            (Reported("priority_shift", "KR-Q", 6), Reported("stale_progress", "KR-A", 4)),  # too late
            (("eng3", "KR-A"),),
        ),
    ]

    score = score_scenario("story", expect, weeks)

    assert (score.tp, score.fp, score.fn) == (1, 2, 3)
    assert score.onset_delay_weeks == [1]
    assert score.onset_error_weeks == [0]
    assert score.findings[0] == {
        "kind": "cascade_break",
        "subject": "O-B",
        "detected_week": 3,
        "onset_week": 3,
    }
    assert score.contributions == [{"person": "eng3", "key_result": "KR-A"}]
    assert totals([score]) == {
        "precision": 1 / 3,
        "recall": 1 / 4,
        "mean_onset_delay_weeks": 1.0,
        "mean_onset_error_weeks": 0.0,
        "contribution_recall": 0.5,
    }
    assert totals([ScenarioScore(name="empty")]) == {
        "precision": None,
        "recall": None,
        "mean_onset_delay_weeks": None,
        "mean_onset_error_weeks": None,
        "contribution_recall": None,
    }
