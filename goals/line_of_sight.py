"""Line of sight: one sentence from someone's goal up to the company objective it serves."""

from __future__ import annotations

from goals.models import KeyResult, Level, Objective
from okrsignal.models import Membership


def _describe(objective: Objective, viewer: Membership | None) -> str:
    if objective.level == Level.COMPANY:
        return f"the company objective '{objective.title}'"
    if objective.level == Level.TEAM:
        return (
            f"{objective.team.name}'s '{objective.title}'"
            if objective.team
            else f"the team objective '{objective.title}'"
        )
    if viewer is not None and objective.owner_id == viewer.pk:
        return f"your objective '{objective.title}'"
    owner = objective.owner.user.full_name if objective.owner else "an unowned"
    return f"{owner}'s objective '{objective.title}'"


def objective_chain(objective: Objective) -> list[Objective]:
    """The objective and its ancestors, nearest first (a loop, which validation forbids, is cut)."""
    chain: list[Objective] = []
    node: Objective | None = objective
    while node is not None and all(node.pk != seen.pk for seen in chain):
        chain.append(node)
        node = node.parent
    return chain


def line_of_sight_sentence(key_result: KeyResult, *, viewer: Membership | None = None) -> str:
    """E.g. "Your key result 'X' rolls up to Support's 'Y', which serves the company objective 'Z'."."""
    owner = "Your" if viewer is not None and key_result.owner_id == viewer.pk else "The"
    chain = objective_chain(key_result.objective)
    subject = f"{owner} key result '{key_result.title}'"
    if chain[0].level == Level.COMPANY:
        return f"{subject} serves {_describe(chain[0], viewer)}."
    parts = [f"{subject} rolls up to {_describe(chain[0], viewer)}"]
    parts += [f"which serves {_describe(objective, viewer)}" for objective in chain[1:]]
    sentence = ", ".join(parts)
    if chain[-1].level != Level.COMPANY:
        sentence += ", which connects to no company objective"
    return sentence + "."
