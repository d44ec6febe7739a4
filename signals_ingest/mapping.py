"""Mapping rules as pure functions: which match keys each provider has, and whether work matches a rule.

A *context* describes one piece of work as mapping sees it: a dict from match key to the values the work
has for it (``{"project": ["ACT"], "epic": ["ACT-100"], "label": ["activation", "q3"], "component": []}``).
A rule's ``match`` holds when, for every key, its value is among the context's values for that key.
Values compare without regard to case (people type ``onboarding`` for the component ``Onboarding``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

MATCH_KEYS: dict[str, tuple[str, ...]] = {
    "jira": ("project", "epic", "label", "component"),
    "slack": ("channel",),
    "hubspot": ("pipeline", "dealstage"),
}

Context = Mapping[str, Sequence[str]]


def match_problems(provider: str, match: Any) -> dict[str, str]:
    """What is wrong with a rule's ``match`` for ``provider``, by field; empty when it is usable."""
    allowed = MATCH_KEYS.get(provider)
    if allowed is None:
        return {"provider": f"Unknown provider {provider!r}."}
    if not isinstance(match, Mapping) or not match:
        return {"match": f"Give at least one of {', '.join(allowed)}."}
    problems: dict[str, str] = {}
    for key, value in match.items():
        if key not in allowed:
            problems["match"] = (
                f"{key!r} is not a {provider} match key; use {', '.join(allowed)} (all must hold)."
            )
        elif not isinstance(value, str) or not value.strip():
            problems["match"] = f"{key} needs a non-empty text value."
    return problems


def normalise_match(match: Mapping[str, str]) -> dict[str, str]:
    return {key: value.strip() for key, value in sorted(match.items())}


def _fold(context: Context) -> dict[str, set[str]]:
    return {key: {str(value).casefold() for value in values} for key, values in context.items()}


def rule_holds(match: Mapping[str, str], context: Context) -> bool:
    folded = _fold(context)
    return all(str(value).casefold() in folded.get(key, ()) for key, value in match.items())


class RuleSet:
    """An integration's rules, folded once, to evaluate against many signals."""

    def __init__(self, rules: Iterable[tuple[Mapping[str, str], int]]) -> None:
        self._rules = [
            ({key: str(value).casefold() for key, value in match.items()}, key_result_id)
            for match, key_result_id in rules
        ]

    def __bool__(self) -> bool:
        return bool(self._rules)

    def key_results_for(self, contexts: Iterable[Context]) -> set[int]:
        """Key result ids of every rule that holds for any of the contexts (a signal counts toward each)."""
        if not self._rules:
            return set()
        folded = [_fold(context) for context in contexts]
        return {
            key_result_id
            for match, key_result_id in self._rules
            if any(all(value in context.get(key, ()) for key, value in match.items()) for context in folded)
        }


def work_item_context(provider: str, attributes: Mapping[str, Any]) -> dict[str, list[str]]:
    """The context of a stored work item, from its ``attributes``."""

    def one(name: str) -> list[str]:
        value = attributes.get(name)
        return [str(value)] if value not in (None, "") else []

    if provider == "jira":
        return {
            "project": one("project"),
            "epic": one("epic"),
            "label": [str(label) for label in attributes.get("labels") or []],
            "component": [str(component) for component in attributes.get("components") or []],
        }
    if provider == "slack":
        return {"channel": one("channel")}
    if provider == "hubspot":
        return {"pipeline": one("pipeline"), "dealstage": one("dealstage")}
    return {}
