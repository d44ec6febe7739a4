"""Who may do what in the goal system: one set of rules for the pages and the API."""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import Q, QuerySet

from goals.models import KPI, KeyResult, KeyResultContributor, Level, Objective
from okrsignal.models import Membership, Role
from okrsignal.permissions import report_ids, role_allows


def levels_for(membership: Membership) -> list[tuple[str, str]]:
    """Admins set company objectives, managers team ones, and everyone their own."""
    if membership.role == Role.ADMIN:
        return list(Level.choices)
    if membership.role == Role.MANAGER:
        return [(Level.TEAM, Level.TEAM.label), (Level.INDIVIDUAL, Level.INDIVIDUAL.label)]
    return [(Level.INDIVIDUAL, Level.INDIVIDUAL.label)]


def owners_for(membership: Membership, *, keep: Iterable[int | None] = ()) -> QuerySet[Membership]:
    """Whom the caller may make the owner of a goal: admins anyone, managers their reporting line."""
    people = Membership.objects.filter(is_active=True).select_related("user").order_by("user__full_name")
    if membership.role == Role.ADMIN:
        return people
    allowed = {membership.pk}
    if membership.role == Role.MANAGER:
        allowed |= report_ids(membership)
    return people.filter(Q(pk__in=allowed) | Q(pk__in=[pk for pk in keep if pk is not None]))


def may_manage_objective(membership: Membership, objective: Objective) -> bool:
    """Admins; the owner; a manager up the owner's reporting line; the lead of the objective's team."""
    if membership.is_admin or objective.owner_id == membership.pk:
        return True
    if membership.role != Role.MANAGER:
        return False
    if objective.owner_id is None or objective.owner_id in report_ids(membership):
        return True
    return objective.team is not None and objective.team.lead_id == membership.pk


def may_record_progress(membership: Membership, key_result: KeyResult) -> bool:
    """The key result's owner and contributors, and whoever may manage its objective."""
    if key_result.owner_id == membership.pk:
        return True
    if KeyResultContributor.objects.filter(key_result=key_result, membership=membership).exists():
        return True
    return may_manage_objective(membership, key_result.objective)


def may_record_reading(membership: Membership, kpi: KPI) -> bool:
    return kpi.owner_id == membership.pk or role_allows(membership, Role.MANAGER)


def may_create_objective(membership: Membership, *, level: str, owner: Membership | None) -> bool:
    """At a level the caller may set (``levels_for``), owned by someone they may assign (``owners_for``)."""
    if level not in dict(levels_for(membership)):
        return False
    return owner is None or owners_for(membership).filter(pk=owner.pk).exists()


def may_confirm_alignment(membership: Membership, objective: Objective) -> bool:
    """Re-confirming that a goal still serves its parent is its owner's call (or an admin's)."""
    return membership.is_admin or objective.owner_id == membership.pk
