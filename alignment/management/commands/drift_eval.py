"""Score the drift engine on scenario files: replay each into a throwaway organisation, evaluate after
each week, compare with the file's ``expect`` (FORMAT.md, "Scoring")."""

from __future__ import annotations

import json
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from alignment.replay import new_run_id, replay_scenario
from alignment.scenario import Scenario, ScenarioError, read_scenario
from alignment.scoring import ScenarioScore, document


def _figure(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}"


class Command(BaseCommand):
    help = (
        "Replay scenario files (format okrsignal-scenario/1) into throwaway organisations, evaluate the "
        "drift engine after each week and score it against each file's expect section. With --json, "
        "standard output carries exactly one JSON document; progress goes to standard error."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("files", nargs="+", metavar="FILE", help="Scenario files (JSON).")
        parser.add_argument("--json", action="store_true", help="Write the scores as one JSON document.")

    def handle(self, *args: Any, **options: Any) -> None:
        # Every file is checked before anything is loaded: a bad file stops the run with nothing made.
        scenarios: list[Scenario] = []
        for path in options["files"]:
            try:
                scenarios.append(read_scenario(path))
            except ScenarioError as error:
                raise CommandError(str(error)) from error
        run_id = new_run_id()
        started = time.monotonic()
        scores: list[ScenarioScore] = []
        for scenario in scenarios:
            try:
                replay = replay_scenario(scenario, run_id=run_id, log=self._progress)
            except ScenarioError as error:
                raise CommandError(str(error)) from error
            scores.append(replay.score)
            self._progress(
                f"{scenario.name}: tp {replay.score.tp}, fp {replay.score.fp}, fn {replay.score.fn} "
                f"(load {replay.load_seconds:.1f} s, evaluation {replay.evaluate_seconds:.1f} s)"
            )
        result = document(scores)
        self._progress(f"{len(scenarios)} scenario(s) in {time.monotonic() - started:.1f} s")
        if options["json"]:
            self.stdout.write(json.dumps(result, indent=2))
            return
        for score in result["scenarios"]:
            self.stdout.write(f"{score['name']}: tp {score['tp']}, fp {score['fp']}, fn {score['fn']}")
            for finding in score["findings"]:
                self.stdout.write(
                    f"  week {finding['detected_week']:>2}: {finding['kind']} on {finding['subject']} "
                    f"(since week {finding['onset_week']})"
                )
            for credit in score["contributions"]:
                self.stdout.write(f"  credited: {credit['person']} on {credit['key_result']}")
        figures = result["totals"]
        self.stdout.write(
            f"precision {_figure(figures['precision'])}, recall {_figure(figures['recall'])}, "
            f"mean onset delay {_figure(figures['mean_onset_delay_weeks'])} weeks, "
            f"mean onset error {_figure(figures['mean_onset_error_weeks'])} weeks, "
            f"contribution recall {_figure(figures['contribution_recall'])}"
        )

    def _progress(self, line: str) -> None:
        self.stderr.write(line)
        self.stderr.flush()
