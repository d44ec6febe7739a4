"""Build organisations and people through the real services, so tests see what production would."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

from okrsignal import services
from okrsignal.models import Membership, Organization, Role, Team, User
from okrsignal.tenancy import tenant_context

PASSWORD = "correct-horse-battery-staple"
_sequence = itertools.count(1)


def make_user(*, name: str | None = None, email: str | None = None) -> User:
    number = next(_sequence)
    return services.user_create(
        email=email or f"person{number}@example.test", full_name=name or f"Person {number}", password=PASSWORD
    )


@dataclass
class OrgWorld:
    """An organisation with a small reporting tree: admin ← manager ← report ← indirect, plus a peer."""

    organization: Organization
    admin: Membership
    manager: Membership
    report: Membership
    indirect_report: Membership
    peer: Membership
    team: Team
    members: dict[str, Membership] = field(default_factory=dict)

    @property
    def slug(self) -> str:
        return self.organization.slug


def make_organization(name: str = "Acme", slug: str | None = None) -> OrgWorld:
    slug = slug or f"{name.lower().replace(' ', '-')}-{next(_sequence)}"
    admin_user = make_user(name=f"{name} Admin")
    organization = services.organization_create(name=name, slug=slug, first_admin=admin_user)
    with tenant_context(organization):
        admin = Membership.objects.get(user=admin_user)
        team = services.team_create(name=f"{name} Platform team", lead=admin)

        def member(role: str, manager: Membership | None, label: str) -> Membership:
            user = make_user(name=f"{name} {label}")
            membership = Membership.objects.create(user=user, role=role)
            return services.membership_update(membership=membership, role=role, team=team, manager=manager)

        manager = member(Role.MANAGER, admin, "Manager")
        report = member(Role.EMPLOYEE, manager, "Report")
        indirect = member(Role.EMPLOYEE, report, "Indirect")
        peer = member(Role.EMPLOYEE, admin, "Peer")
    return OrgWorld(organization, admin, manager, report, indirect, peer, team)
