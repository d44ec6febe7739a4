"""Reads of people and tenancy, shaped for the pages that show them."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.models import AnonymousUser
from django.db.models import Count, Q, QuerySet

from okrsignal.models import Invitation, Membership, Team, User
from okrsignal.tenancy import cross_organization


def memberships_of_user(user: User | AnonymousUser) -> list[Membership]:
    """Every organisation the user belongs to, for the switcher. Looks across tenants, filtered by user."""
    if not user.is_authenticated:
        return []
    with cross_organization():
        return list(
            Membership.objects.filter(user=user, is_active=True)
            .select_related("organization", "team")
            .order_by("organization__name")
        )


def member_list() -> QuerySet[Membership]:
    return Membership.objects.select_related("user", "team", "manager__user").order_by(
        "-is_active", "user__full_name"
    )


def pending_invitations() -> QuerySet[Invitation]:
    return Invitation.objects.filter(accepted_at__isnull=True, revoked_at__isnull=True).select_related(
        "team", "manager__user"
    )


@dataclass(frozen=True)
class TeamNode:
    team: Team
    depth: int
    member_count: int


def team_tree() -> list[TeamNode]:
    """Teams in tree order (each followed by its sub-teams), with their active member counts."""
    teams = list(
        Team.objects.select_related("lead__user").annotate(
            member_count=Count("members", filter=Q(members__is_active=True))
        )
    )
    children: dict[int | None, list[Team]] = {}
    for team in teams:
        children.setdefault(team.parent_id, []).append(team)
    ordered: list[TeamNode] = []

    def walk(parent_id: int | None, depth: int) -> None:
        for team in sorted(children.get(parent_id, []), key=lambda t: t.name.lower()):
            ordered.append(TeamNode(team=team, depth=depth, member_count=team.member_count))  # type: ignore[attr-defined]
            walk(team.pk, depth + 1)

    walk(None, 0)
    return ordered


def organization_summary() -> dict[str, int]:
    counts = Membership.objects.aggregate(
        # Distinct: the direct_reports join below repeats a manager once per report.
        active=Count("id", filter=Q(is_active=True), distinct=True),
        managers=Count("id", filter=Q(is_active=True, direct_reports__isnull=False), distinct=True),
    )
    counts["teams"] = Team.objects.count()
    counts["pending_invitations"] = pending_invitations().count()
    return counts
