"""Goals as they stood at a moment: history replayed up to it, nothing after it."""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from alignment.engine.inputs import (
    GoalChange,
    GoalState,
    GoalValue,
    KeyResultField,
    KeyResultInput,
    ObjectiveField,
    ObjectiveInput,
)
from goals.progress import KeyResultFigures, key_result_progress_map, weighted_mean_progress


def _replay(
    initial: dict[str, GoalValue], changes: tuple[GoalChange, ...], moment: datetime
) -> dict[str, GoalValue]:
    state = dict(initial)
    if not changes:
        return state
    for change in sorted(changes, key=lambda change: (change.at, change.ref)):
        if change.at >= moment:
            break
        state[change.field] = change.new_value
    return state


def effective_changes(
    initial: Mapping[str, GoalValue], changes: Iterable[GoalChange], moment: datetime
) -> list[GoalChange]:
    """The edits before ``moment`` that really changed a value (an edit to the same value is none)."""
    state = dict(initial)
    effective = []
    for change in sorted(changes, key=lambda change: (change.at, change.ref)):
        if change.at >= moment:
            break
        if state.get(change.field) != change.new_value:
            effective.append(change)
        state[change.field] = change.new_value
    return effective


def _optional_int(value: GoalValue) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _as_float(value: GoalValue, default: float) -> float:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else default


@dataclass(frozen=True, slots=True)
class ObjectiveView:
    id: int
    title: str
    description: str
    level: str
    owner_id: int | None
    team_id: int | None
    parent_id: int | None
    state: str
    type: str
    weight: float
    created_at: datetime
    source: ObjectiveInput

    @property
    def is_active(self) -> bool:
        return self.state == GoalState.ACTIVE


def objective_initial_values(objective: ObjectiveInput) -> dict[str, GoalValue]:
    return {
        ObjectiveField.TITLE: objective.title,
        ObjectiveField.DESCRIPTION: objective.description,
        ObjectiveField.PARENT: objective.parent_id,
        ObjectiveField.OWNER: objective.owner_id,
        ObjectiveField.TEAM: objective.team_id,
        ObjectiveField.STATE: objective.state,
        ObjectiveField.TYPE: objective.type,
    }


def objective_as_of(objective: ObjectiveInput, moment: datetime) -> ObjectiveView | None:
    if objective.created_at >= moment:
        return None
    state = _replay(objective_initial_values(objective), objective.changes, moment)
    return ObjectiveView(
        id=objective.id,
        title=str(state[ObjectiveField.TITLE]),
        description=str(state[ObjectiveField.DESCRIPTION] or ""),
        level=objective.level,
        owner_id=_optional_int(state[ObjectiveField.OWNER]),
        team_id=_optional_int(state[ObjectiveField.TEAM]),
        parent_id=_optional_int(state[ObjectiveField.PARENT]),
        state=str(state[ObjectiveField.STATE]),
        type=str(state[ObjectiveField.TYPE]),
        weight=objective.weight,
        created_at=objective.created_at,
        source=objective,
    )


@dataclass(frozen=True, slots=True)
class KeyResultView:
    id: int
    objective_id: int
    title: str
    owner_id: int | None
    contributor_ids: frozenset[int]
    baseline: float
    target: float
    direction: str
    parent_key_result_id: int | None
    weight: float
    created_at: datetime
    source: KeyResultInput
    # The owner and the contributors: the people whose effort the key result expects.
    responsible_ids: frozenset[int]


def key_result_initial_values(key_result: KeyResultInput) -> dict[str, GoalValue]:
    return {
        KeyResultField.TITLE: key_result.title,
        KeyResultField.TARGET: key_result.target,
        KeyResultField.BASELINE: key_result.baseline,
        KeyResultField.OWNER: key_result.owner_id,
        KeyResultField.CONTRIBUTORS: frozenset(key_result.contributor_ids),
        KeyResultField.PARENT_KEY_RESULT: key_result.parent_key_result_id,
    }


def key_result_as_of(key_result: KeyResultInput, moment: datetime) -> KeyResultView | None:
    if key_result.created_at >= moment:
        return None
    state = _replay(key_result_initial_values(key_result), key_result.changes, moment)
    contributors = state[KeyResultField.CONTRIBUTORS]
    contributor_ids = frozenset(contributors) if isinstance(contributors, frozenset) else frozenset()
    owner_id = _optional_int(state[KeyResultField.OWNER])
    return KeyResultView(
        id=key_result.id,
        objective_id=key_result.objective_id,
        title=str(state[KeyResultField.TITLE]),
        owner_id=owner_id,
        contributor_ids=contributor_ids,
        baseline=_as_float(state[KeyResultField.BASELINE], key_result.baseline),
        target=_as_float(state[KeyResultField.TARGET], key_result.target),
        direction=key_result.direction,
        parent_key_result_id=_optional_int(state[KeyResultField.PARENT_KEY_RESULT]),
        weight=key_result.weight,
        created_at=key_result.created_at,
        source=key_result,
        responsible_ids=contributor_ids | ({owner_id} if owner_id is not None else frozenset()),
    )


@dataclass
class GoalTree:
    """The objectives and key results that existed at ``moment``, with the links between them."""

    moment: datetime
    objectives: dict[int, ObjectiveView]
    key_results: dict[int, KeyResultView]
    key_results_by_objective: dict[int, list[int]] = field(default_factory=dict)
    child_key_results: dict[int, list[int]] = field(default_factory=dict)

    @classmethod
    def build(
        cls, objectives: Iterable[ObjectiveInput], key_results: Iterable[KeyResultInput], moment: datetime
    ) -> GoalTree:
        objective_views = {}
        for objective in objectives:
            view = objective_as_of(objective, moment)
            if view is not None:
                objective_views[view.id] = view
        key_result_views = {}
        for key_result in key_results:
            kr_view = key_result_as_of(key_result, moment)
            if kr_view is not None and kr_view.objective_id in objective_views:
                key_result_views[kr_view.id] = kr_view
        tree = cls(moment=moment, objectives=objective_views, key_results=key_result_views)
        for kr_view in sorted(key_result_views.values(), key=lambda view: view.id):
            tree.key_results_by_objective.setdefault(kr_view.objective_id, []).append(kr_view.id)
            parent = kr_view.parent_key_result_id
            if parent is not None and parent in key_result_views and parent != kr_view.id:
                tree.child_key_results.setdefault(parent, []).append(kr_view.id)
        return tree

    def key_result_is_active(self, key_result_id: int) -> bool:
        view = self.key_results.get(key_result_id)
        return view is not None and self.objectives[view.objective_id].is_active

    def family(self, key_result_id: int) -> frozenset[int]:
        """The key result and every key result that rolls up into it: work on any of them moves it."""
        seen = {key_result_id}
        stack = [key_result_id]
        while stack:
            for child in self.child_key_results.get(stack.pop(), ()):
                if child not in seen:
                    seen.add(child)
                    stack.append(child)
        return frozenset(seen)

    def ancestors(self, key_result_id: int) -> frozenset[int]:
        seen: set[int] = set()
        current = self.key_results.get(key_result_id)
        while current is not None and current.parent_key_result_id is not None:
            parent = current.parent_key_result_id
            if parent in seen or parent not in self.key_results:
                break
            seen.add(parent)
            current = self.key_results[parent]
        return frozenset(seen)

    def own_key_results(self) -> dict[int, frozenset[int]]:
        """Per person, the key results that are their own goals: owned or contributed to, in objectives
        they own, and those rolling into or out of them (work on either moves their own goal)."""
        direct: dict[int, set[int]] = {}
        for key_result_id, view in self.key_results.items():
            objective_owner = self.objectives[view.objective_id].owner_id
            owners = view.responsible_ids | ({objective_owner} if objective_owner is not None else set())
            for person_id in owners:
                direct.setdefault(person_id, set()).add(key_result_id)
        own = {}
        for person_id, key_results in direct.items():
            extended = set(key_results)
            for key_result_id in key_results:
                extended |= self.family(key_result_id) | self.ancestors(key_result_id)
            own[person_id] = frozenset(extended)
        return own

    def objective_family(self, objective_id: int) -> frozenset[int]:
        members: set[int] = set()
        for key_result_id in self.key_results_by_objective.get(objective_id, ()):
            members |= self.family(key_result_id)
        return frozenset(members)

    def objective_responsible(self, objective_id: int) -> frozenset[int]:
        objective = self.objectives[objective_id]
        people: set[int] = {objective.owner_id} if objective.owner_id is not None else set()
        for key_result_id in self.key_results_by_objective.get(objective_id, ()):
            people |= self.key_results[key_result_id].responsible_ids
        return frozenset(people)


class ProgressHistory:
    """Progress of every key result and objective at any moment up to the evaluation moment.

    A key result's progress comes from its latest recorded value, or, when others roll up into it, from
    theirs (``goals.progress``). Results are cached by moment: the detectors ask about week ends.
    """

    def __init__(
        self, objectives: Iterable[ObjectiveInput], key_results: Iterable[KeyResultInput], as_of: datetime
    ) -> None:
        self._objectives = tuple(objectives)
        self._key_results = tuple(key_results)
        self._as_of = as_of
        self._values: dict[int, tuple[list[datetime], list[float]]] = {}
        for key_result in self._key_results:
            updates = sorted(
                (update for update in key_result.value_updates if update.at < as_of),
                key=lambda update: (update.at, update.ref),
            )
            self._values[key_result.id] = ([u.at for u in updates], [u.value for u in updates])
        self._cache: dict[datetime, tuple[dict[int, float], dict[int, float]]] = {}

    def value_at(self, key_result_id: int, moment: datetime) -> float | None:
        times, values = self._values.get(key_result_id, ([], []))
        index = bisect_left(times, min(moment, self._as_of))
        return values[index - 1] if index > 0 else None

    def at(self, moment: datetime) -> tuple[dict[int, float], dict[int, float]]:
        """``(key result progress, objective progress)`` at ``moment`` (never later than as_of)."""
        moment = min(moment, self._as_of)
        cached = self._cache.get(moment)
        if cached is not None:
            return cached
        tree = GoalTree.build(self._objectives, self._key_results, moment)
        figures = [
            KeyResultFigures(
                id=view.id,
                objective_id=view.objective_id,
                parent_key_result_id=view.parent_key_result_id,
                baseline=view.baseline,
                target=view.target,
                current=self.value_at(view.id, moment),
                weight=view.weight,
            )
            for view in tree.key_results.values()
        ]
        key_result_progress = key_result_progress_map(figures)
        objective_progress: dict[int, float] = {}
        for objective_id, members in tree.key_results_by_objective.items():
            mean = weighted_mean_progress(
                (key_result_progress[member], tree.key_results[member].weight) for member in members
            )
            objective_progress[objective_id] = mean if mean is not None else 0.0
        result = (key_result_progress, objective_progress)
        self._cache[moment] = result
        return result
