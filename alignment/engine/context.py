"""The evaluation moment's view of one organisation: goals as of then, activity up to then."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property

from alignment.engine.activity import ActivityIndex
from alignment.engine.goals_as_of import GoalTree, KeyResultView, ObjectiveView, ProgressHistory
from alignment.engine.inputs import CheckInStatus, DriftInput, Person, Team, Theme
from alignment.engine.outputs import Subject, SubjectKind
from alignment.engine.thresholds import Thresholds


@dataclass
class Context:
    """What every detector reads: the goals as they stood at ``as_of``, their progress at any earlier
    moment, the activity of the weeks fully ended by then (``weeks`` of them), and the check-ins given
    before it."""

    data: DriftInput
    as_of: datetime
    thresholds: Thresholds
    weeks: int
    tree: GoalTree
    progress: ProgressHistory
    activity: ActivityIndex
    people: dict[int, Person]
    teams: dict[int, Team]
    themes: dict[str, Theme]
    checkins_by_key_result: dict[int, list[CheckInStatus]]
    # When set, only these goals are judged (and what judging them needs); None judges every goal.
    focus_key_results: frozenset[int] | None = None
    focus_objectives: frozenset[int] | None = None

    @classmethod
    def build(
        cls,
        data: DriftInput,
        *,
        as_of: datetime,
        thresholds: Thresholds,
        subjects: Iterable[Subject] | None = None,
    ) -> Context:
        if as_of.tzinfo is None:
            raise ValueError("as_of must be timezone-aware.")
        weeks = data.cycle.complete_weeks(as_of)
        checkins: dict[int, list[CheckInStatus]] = {}
        for checkin in sorted(data.checkins, key=lambda checkin: (checkin.at, checkin.ref)):
            if checkin.at < as_of:
                checkins.setdefault(checkin.key_result_id, []).append(checkin)
        tree = GoalTree.build(data.objectives, data.key_results, as_of)
        focus_key_results = focus_objectives = None
        if subjects is not None:
            focus_key_results, focus_objectives = _focus(tree, subjects)
        return cls(
            data=data,
            as_of=as_of,
            thresholds=thresholds,
            weeks=weeks,
            tree=tree,
            progress=ProgressHistory(data.objectives, data.key_results, as_of),
            activity=ActivityIndex(
                weeks=weeks,
                key_result_weeks=data.key_result_weeks,
                person_weeks=data.person_weeks,
                theme_weeks=data.theme_weeks,
            ),
            people={person.id: person for person in data.people},
            teams={team.id: team for team in data.teams},
            themes={theme.id: theme for theme in data.themes},
            checkins_by_key_result=checkins,
            focus_key_results=focus_key_results,
            focus_objectives=focus_objectives,
        )

    def in_focus(self, key_result_id: int) -> bool:
        return self.focus_key_results is None or key_result_id in self.focus_key_results

    def key_results_in_focus(self) -> list[tuple[int, KeyResultView]]:
        return [(id_, view) for id_, view in sorted(self.tree.key_results.items()) if self.in_focus(id_)]

    def objectives_in_focus(self) -> list[tuple[int, ObjectiveView]]:
        return [
            (id_, view)
            for id_, view in sorted(self.tree.objectives.items())
            if self.focus_objectives is None or id_ in self.focus_objectives
        ]

    @cached_property
    def own_key_results(self) -> dict[int, frozenset[int]]:
        return self.tree.own_key_results()

    @cached_property
    def typical_share_per_goal(self) -> dict[int, float]:
        """Per person, the share of their signals that went to the active key results they own or
        contribute to, divided by how many those are: what one of their goals typically gets."""
        goals: dict[int, list[int]] = {}
        for key_result_id, view in self.tree.key_results.items():
            if self.tree.key_result_is_active(key_result_id):
                for person_id in view.responsible_ids:
                    goals.setdefault(person_id, []).append(key_result_id)
        shares = {}
        for person_id, key_result_ids in goals.items():
            total = self.activity.person_count.get(person_id)
            if total is None or total.sum() <= 0:
                continue
            on_goals = 0.0
            for key_result_id in key_result_ids:
                arrays = self.activity.by_key_result.get(key_result_id, {}).get(person_id)
                if arrays is not None:
                    on_goals += float(arrays[1].sum())
            shares[person_id] = min(1.0, on_goals / float(total.sum())) / len(key_result_ids)
        return shares

    def week_of(self, instant: datetime) -> int:
        return self.data.cycle.week_of(instant)

    def week_end(self, week: int) -> datetime:
        return self.data.cycle.week_start(week + 1)

    def first_week(self, created_at: datetime) -> int:
        """The first week a goal created at ``created_at`` can be judged on (week 1 at the earliest)."""
        return max(1, self.week_of(created_at))

    def expected_progress(self, created_at: datetime, moment: datetime) -> float:
        """The share of the goal's time in the cycle that has passed at ``moment``: a goal added mid-cycle
        is expected to progress from the day it was added, not from the cycle's start."""
        start = max(self.data.cycle.starts_at, created_at)
        end = self.data.cycle.ends_at
        if end <= start:
            return 1.0
        return min(1.0, max(0.0, (moment - start) / (end - start)))

    def person_name(self, person_id: int | None) -> str:
        if person_id is None:
            return "nobody"
        person = self.people.get(person_id)
        return person.name if person is not None else f"person {person_id}"

    def team_of(self, key_result: KeyResultView) -> int | None:
        objective = self.tree.objectives[key_result.objective_id]
        if objective.team_id is not None:
            return objective.team_id
        owner = self.people.get(key_result.owner_id) if key_result.owner_id is not None else None
        return owner.team_id if owner is not None else None

    def team_and_descendants(self, team_id: int) -> set[int]:
        children: dict[int, list[int]] = {}
        for team in self.teams.values():
            if team.parent_id is not None:
                children.setdefault(team.parent_id, []).append(team.id)
        found = {team_id}
        stack = [team_id]
        while stack:
            for child in children.get(stack.pop(), ()):
                if child not in found:
                    found.add(child)
                    stack.append(child)
        return found


def _focus(tree: GoalTree, subjects: Iterable[Subject]) -> tuple[frozenset[int], frozenset[int]]:
    """The goals to judge for ``subjects``: an objective is judged with all its key results (its
    KPI conflict and score read theirs), a key result with those rolling up into it."""
    key_results: set[int] = set()
    objectives: set[int] = set()
    for subject in subjects:
        if subject.kind == SubjectKind.OBJECTIVE:
            objectives.add(subject.id)
            key_results |= tree.objective_family(subject.id)
        else:
            key_results |= tree.family(subject.id) if subject.id in tree.key_results else {subject.id}
    return frozenset(key_results), frozenset(objectives)
