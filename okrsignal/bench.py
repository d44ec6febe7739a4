"""Benchmarks that ``manage.py bench <name>`` runs: a small registry each app adds to.

An app declares a benchmark in its own ``benchmark`` module (found like ``admin`` modules are)::

    @register(
        "ingest",
        help="Vendor payloads to committed signals, against COPY",
        targets=[Target("ratio_to_copy", at_least=0.2)],
        add_arguments=lambda parser: parser.add_argument("--items", type=int, default=200_000),
    )
    def ingest(options: Mapping[str, Any], progress: Callable[[str], None]) -> dict[str, Any]:
        ...
        return {"items": ..., "seconds": ...}

The function builds its own data on the migrated database it is given, measures, cleans up after itself,
and returns its figures as a flat JSON-ready dict. It runs with ``DEBUG`` off, as in production: with it
on, Django records every query and formats its SQL, which a deployment never pays. The command adds the
targets' verdicts, prints a table for people and, as the last line, one JSON object for scripts.
``progress`` writes to standard error, so standard output stays what scripts read.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.test import override_settings
from django.utils.module_loading import autodiscover_modules

Progress = Callable[[str], None]
BenchmarkFunction = Callable[[Mapping[str, Any], Progress], dict[str, Any]]


@dataclass(frozen=True)
class Target:
    """A figure a benchmark must reach: ``metric`` at least ``at_least``, or below ``below``."""

    metric: str
    at_least: float | None = None
    below: float | None = None

    def met(self, value: Any) -> bool:
        if not isinstance(value, int | float):
            return False
        if self.at_least is not None and value < self.at_least:
            return False
        return not (self.below is not None and value >= self.below)

    def describe(self) -> str:
        if self.at_least is not None:
            return f">= {self.at_least:g}"
        return f"< {self.below:g}"


@dataclass(frozen=True)
class Benchmark:
    name: str
    help: str
    function: BenchmarkFunction
    targets: tuple[Target, ...]
    add_arguments: Callable[[argparse.ArgumentParser], None] | None

    def run(self, options: Mapping[str, Any], progress: Progress) -> dict[str, Any]:
        """Run it; the figures with ``targets`` (each one's limit, value and verdict) and ``targets_met``."""
        with override_settings(DEBUG=False):
            figures = self.function(options, progress)
        verdicts = {
            target.metric: {
                "limit": target.describe(),
                "value": figures.get(target.metric),
                "met": target.met(figures.get(target.metric)),
            }
            for target in self.targets
        }
        return {
            "benchmark": self.name,
            **figures,
            "targets": verdicts,
            "targets_met": all(verdict["met"] for verdict in verdicts.values()),
        }


_registry: dict[str, Benchmark] = {}


def register(
    name: str,
    *,
    help: str,
    targets: Sequence[Target] = (),
    add_arguments: Callable[[argparse.ArgumentParser], None] | None = None,
) -> Callable[[BenchmarkFunction], BenchmarkFunction]:
    """Declare ``manage.py bench <name>`` (see the module docstring)."""

    def decorator(function: BenchmarkFunction) -> BenchmarkFunction:
        _registry[name] = Benchmark(name, help, function, tuple(targets), add_arguments)
        return function

    return decorator


def benchmarks() -> dict[str, Benchmark]:
    """Every registered benchmark, by name (importing each installed app's ``benchmark`` module first)."""
    autodiscover_modules("benchmark")
    return dict(sorted(_registry.items()))


def percentile(values: Sequence[float], fraction: float) -> float:
    """The nearest-rank percentile (``fraction`` 0.95 for p95) of ``values``; 0 when there are none."""
    ordered = sorted(values)
    if not ordered:
        return 0.0
    return ordered[min(len(ordered) - 1, max(0, math.ceil(fraction * len(ordered)) - 1))]
