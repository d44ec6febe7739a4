"""Weekly activity arrays built from the loader's aggregates, for the weeks fully ended at as_of.

Week ``w`` is at index ``w - 1``. Weeks that have not fully ended are left out: a week in progress
would look like a drop in everything.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from alignment.engine.inputs import KeyResultWeek, KeyResultWeeks, PersonWeek, ThemeWeek

FloatArray = npt.NDArray[np.float64]

# ``KeyResultWeek`` as a numpy record.
_KEY_RESULT_ROW = np.dtype(
    [
        ("key_result_id", np.int64),
        ("person_id", np.int64),
        ("week", np.int64),
        ("weight", np.float64),
        ("signals", np.float64),
    ]
)


@dataclass(frozen=True, slots=True)
class GroupSeries:
    """One group of people's weekly activity: on a set of key results, and in total."""

    linked_weight: FloatArray
    linked_count: FloatArray
    total_weight: FloatArray
    total_count: FloatArray


class ActivityIndex:
    def __init__(
        self,
        *,
        weeks: int,
        key_result_weeks: Iterable[KeyResultWeek] | KeyResultWeeks,
        person_weeks: Iterable[PersonWeek],
        theme_weeks: Iterable[ThemeWeek],
    ) -> None:
        self.weeks = weeks
        # key result -> person -> (weights, counts)
        self.by_key_result: dict[int, dict[int, tuple[FloatArray, FloatArray]]] = {}
        # key result -> (weights, counts) of everyone on it
        self.key_result_totals: dict[int, tuple[FloatArray, FloatArray]] = {}
        # person -> key results they have activity on
        self.key_results_of_person: dict[int, set[int]] = {}
        self.person_weight: dict[int, FloatArray] = {}
        self.person_count: dict[int, FloatArray] = {}
        # person -> theme -> (weights, counts)
        self.by_person_theme: dict[int, dict[str, tuple[FloatArray, FloatArray]]] = {}
        if weeks <= 0:
            return
        # The key results' rows are the most numerous (one per key result, person and week: hundreds of
        # thousands in a large cycle), so they are grouped by numpy; the rest are gathered in plain lists
        # (writing numpy scalars one by one is slow) and turned into arrays once.
        self._index_key_result_weeks(key_result_weeks)
        person_lists: dict[int, tuple[list[float], list[float]]] = {}
        for person_id, week, weight, count in person_weeks:
            if not 1 <= week <= weeks:
                continue
            lists = person_lists.get(person_id)
            if lists is None:
                lists = person_lists[person_id] = ([0.0] * weeks, [0.0] * weeks)
            lists[0][week - 1] += weight
            lists[1][week - 1] += count
        for person_id, (weights, counts) in person_lists.items():
            self.person_weight[person_id] = np.array(weights)
            self.person_count[person_id] = np.array(counts)
        theme_lists: dict[int, dict[str, tuple[list[float], list[float]]]] = {}
        for person_id, week, theme_id, weight, count in theme_weeks:
            if not 1 <= week <= weeks:
                continue
            themes = theme_lists.setdefault(person_id, {})
            lists = themes.get(theme_id)
            if lists is None:
                lists = themes[theme_id] = ([0.0] * weeks, [0.0] * weeks)
            lists[0][week - 1] += weight
            lists[1][week - 1] += count
        for person_id, themes in theme_lists.items():
            self.by_person_theme[person_id] = {
                theme_id: (np.array(weights), np.array(counts))
                for theme_id, (weights, counts) in themes.items()
            }

    def _index_key_result_weeks(self, rows: Iterable[KeyResultWeek] | KeyResultWeeks) -> None:
        """``by_key_result`` and ``key_results_of_person`` from ``rows``: each (key result, person)'s
        weights and counts are one row of two matrices (week ``w`` in column ``w - 1``)."""
        if isinstance(rows, KeyResultWeeks):
            table = np.empty(len(rows), dtype=_KEY_RESULT_ROW)
            for name in _KEY_RESULT_ROW.names or ():
                table[name] = getattr(rows, name)
        else:
            table = np.fromiter(rows, dtype=_KEY_RESULT_ROW)
        table = table[(table["week"] >= 1) & (table["week"] <= self.weeks)]
        if not len(table):
            return
        table = table[np.lexsort((table["person_id"], table["key_result_id"]))]
        starts = np.ones(len(table), dtype=bool)
        starts[1:] = (table["key_result_id"][1:] != table["key_result_id"][:-1]) | (
            table["person_id"][1:] != table["person_id"][:-1]
        )
        pair = np.cumsum(starts) - 1
        cells = pair * self.weeks + (table["week"] - 1)
        size = int(pair[-1] + 1) * self.weeks
        weights = np.bincount(cells, weights=table["weight"], minlength=size).reshape(-1, self.weeks)
        counts = np.bincount(cells, weights=table["signals"], minlength=size).reshape(-1, self.weeks)
        firsts = table[starts]
        # Each key result's pairs are consecutive: their rows added up are the key result's totals.
        pair_key_results = firsts["key_result_id"]
        key_result_starts = np.flatnonzero(np.r_[True, pair_key_results[1:] != pair_key_results[:-1]])
        key_result_weights = np.add.reduceat(weights, key_result_starts, axis=0)
        key_result_counts = np.add.reduceat(counts, key_result_starts, axis=0)
        for index, key_result_id in enumerate(pair_key_results[key_result_starts].tolist()):
            self.key_result_totals[key_result_id] = (key_result_weights[index], key_result_counts[index])
        for index, (key_result_id, person_id) in enumerate(
            zip(firsts["key_result_id"].tolist(), firsts["person_id"].tolist(), strict=True)
        ):
            people = self.by_key_result.get(key_result_id)
            if people is None:
                people = self.by_key_result[key_result_id] = {}
            people[person_id] = (weights[index], counts[index])
            key_results = self.key_results_of_person.get(person_id)
            if key_results is None:
                key_results = self.key_results_of_person[person_id] = set()
            key_results.add(key_result_id)

    def by_key_result_people(self, key_result_ids: Iterable[int]) -> set[int]:
        """Everyone with activity on any of the key results."""
        people: set[int] = set()
        for key_result_id in key_result_ids:
            people |= self.by_key_result.get(key_result_id, {}).keys()
        return people

    def zeros(self) -> FloatArray:
        return np.zeros(max(self.weeks, 0))

    def linked(
        self, key_result_ids: Iterable[int], people: Iterable[int] | None
    ) -> tuple[FloatArray, FloatArray]:
        """Weekly weight and count on the key results, by ``people`` (everyone when None)."""
        weight, count = self.zeros(), self.zeros()
        wanted = None if people is None else set(people)
        for key_result_id in key_result_ids:
            by_person = self.by_key_result.get(key_result_id)
            if not by_person:
                continue
            if wanted is None:
                totals = self.key_result_totals[key_result_id]
                weight += totals[0]
                count += totals[1]
            else:
                for person_id in wanted & by_person.keys():
                    arrays = by_person[person_id]
                    weight += arrays[0]
                    count += arrays[1]
        return weight, count

    def totals(self, people: Iterable[int]) -> tuple[FloatArray, FloatArray]:
        weight, count = self.zeros(), self.zeros()
        for person_id in people:
            if person_id in self.person_weight:
                weight += self.person_weight[person_id]
                count += self.person_count[person_id]
        return weight, count

    def group(self, key_result_ids: Iterable[int], people: Iterable[int]) -> GroupSeries:
        people = tuple(people)
        linked_weight, linked_count = self.linked(key_result_ids, people)
        total_weight, total_count = self.totals(people)
        # A signal counted toward several key results of the set appears once in the totals: never let
        # the linked part exceed the whole. A week with no total at all falls back to the linked part.
        total_weight = np.where(total_weight > 0, total_weight, linked_weight)
        total_count = np.where(total_count > 0, total_count, linked_count)
        return GroupSeries(
            linked_weight=np.minimum(linked_weight, total_weight),
            linked_count=np.minimum(linked_count, total_count),
            total_weight=total_weight,
            total_count=total_count,
        )


def expected_linked(
    index: ActivityIndex, key_result_ids: frozenset[int], people: Iterable[int], base_weeks: Iterable[int]
) -> dict[int, float]:
    """Per person, the share of their signals that went to the key results over ``base_weeks``.

    Multiplying each share by a person's signals in another week says how much the key results would
    have received that week from whoever was around (``expected_in_week``).
    """
    base = list(base_weeks)
    shares: dict[int, float] = {}
    for person_id in people:
        total = index.person_count.get(person_id)
        if total is None:
            continue
        _, linked = index.linked(key_result_ids, [person_id])
        total_base = float(sum(total[week - 1] for week in base))
        if total_base > 0:
            shares[person_id] = min(1.0, float(sum(linked[week - 1] for week in base)) / total_base)
    return shares


def expected_in_week(index: ActivityIndex, shares: dict[int, float], week: int) -> float:
    return float(sum(share * index.person_count[person_id][week - 1] for person_id, share in shares.items()))
