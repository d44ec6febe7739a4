"""``manage.py bench <name>``: run one registered benchmark (``okrsignal.bench``) and report its figures.

    python manage.py bench --list            # the benchmarks there are, one name a line
    python manage.py bench ingest --json     # the figures as one JSON object, the last line of output
    python manage.py bench ingest --items 20000

Without ``--json`` a table comes first, for people; the JSON object is always the last line of standard
output. Progress goes to standard error. ``--check`` exits with status 1 when a target is missed. Each
benchmark builds its own data on the migrated database it is pointed at, and removes it afterwards.
"""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from okrsignal.bench import Benchmark, benchmarks


class Command(BaseCommand):
    help = "Run a benchmark (see --list) and print its figures; the last line is a JSON object."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--list", action="store_true", help="list the benchmarks, one name a line")
        subparsers = parser.add_subparsers(dest="benchmark", metavar="name")
        for name, benchmark in benchmarks().items():
            subparser = subparsers.add_parser(name, help=benchmark.help, description=benchmark.help)
            subparser.add_argument("--json", action="store_true", help="print only the JSON object")
            subparser.add_argument(
                "--check", action="store_true", help="exit with status 1 if a target is missed"
            )
            if benchmark.add_arguments is not None:
                benchmark.add_arguments(subparser)

    def handle(self, *args: Any, **options: Any) -> None:
        registry = benchmarks()
        if options["list"]:
            for registered in registry:
                self.stdout.write(registered)
            return
        name: str | None = options.get("benchmark")
        if not name:
            raise CommandError(
                f"Name a benchmark: {', '.join(registry) or 'none is registered'} (or --list)."
            )
        benchmark = registry[name]
        figures = benchmark.run(options, self._progress)
        if not options.get("json"):
            self.stdout.write(self._table(benchmark, figures))
        self.stdout.write(json.dumps(figures, separators=(", ", ": ")))
        if options.get("check") and not figures["targets_met"]:
            raise CommandError(f"{name}: a target was missed.", returncode=1)

    def _progress(self, message: str) -> None:
        self.stderr.write(message)

    @staticmethod
    def _table(benchmark: Benchmark, figures: dict[str, Any]) -> str:
        targets = figures.get("targets", {})
        rows = []
        for key, value in figures.items():
            if key in {"targets", "targets_met", "benchmark"}:
                continue
            shown = (
                f"{value:,.2f}"
                if isinstance(value, float)
                else f"{value:,}"
                if isinstance(value, int)
                else value
            )
            verdict = ""
            if key in targets:
                verdict = f"target {targets[key]['limit']}: {'met' if targets[key]['met'] else 'MISSED'}"
            rows.append((key, str(shown), verdict))
        width = max(len(key) for key, _value, _verdict in rows)
        value_width = max(len(value) for _key, value, _verdict in rows)
        lines = [f"Benchmark {benchmark.name}: {benchmark.help}", ""]
        lines += [
            f"  {key:<{width}}  {value:>{value_width}}  {verdict}".rstrip() for key, value, verdict in rows
        ]
        lines.append("")
        lines.append("All targets met." if figures.get("targets_met") else "Some targets were missed.")
        return "\n".join(lines)
