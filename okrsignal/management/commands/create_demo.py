"""Create the demo organisation: teams, managers and employees who can sign in with a shared password."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction
from django.utils import timezone

from goals.demo import build_demo_goals
from okrsignal import services
from okrsignal.models import Membership, Organization, Role, Team, User
from okrsignal.tenancy import tenant_context

DEMO_SLUG = "northwind"
DEMO_PASSWORD = "northwind-demo-2026"  # noqa: S105 - printed for anyone running the demo

# (key, name, e-mail, role, team, manager key, job title)
PEOPLE = [
    ("ceo", "Amara Okafor", "amara@northwind.test", Role.ADMIN, "Leadership", None, "Chief Executive"),
    ("cpo", "Jonas Weber", "jonas@northwind.test", Role.MANAGER, "Product", "ceo", "VP Product"),
    ("cro", "Lucía Romero", "lucia@northwind.test", Role.MANAGER, "Sales", "ceo", "VP Sales"),
    (
        "eng_lead",
        "Priya Nair",
        "priya@northwind.test",
        Role.MANAGER,
        "Activation squad",
        "cpo",
        "Engineering Manager",
    ),
    (
        "eng1",
        "Tom Becker",
        "tom@northwind.test",
        Role.EMPLOYEE,
        "Activation squad",
        "eng_lead",
        "Backend Engineer",
    ),
    (
        "eng2",
        "Mei Chen",
        "mei@northwind.test",
        Role.EMPLOYEE,
        "Activation squad",
        "eng_lead",
        "Frontend Engineer",
    ),
    (
        "eng3",
        "Ravi Shah",
        "ravi@northwind.test",
        Role.EMPLOYEE,
        "Activation squad",
        "eng_lead",
        "Site Reliability Engineer",
    ),
    ("pm1", "Hannah Lind", "hannah@northwind.test", Role.EMPLOYEE, "Product", "cpo", "Product Manager"),
    ("ae1", "Diego Alves", "diego@northwind.test", Role.EMPLOYEE, "Sales", "cro", "Account Executive"),
    ("ae2", "Sophie Martin", "sophie@northwind.test", Role.EMPLOYEE, "Sales", "cro", "Account Executive"),
    (
        "cs1",
        "Kwame Mensah",
        "kwame@northwind.test",
        Role.EMPLOYEE,
        "Sales",
        "cro",
        "Customer Success Manager",
    ),
]

# (name, parent, lead key)
TEAMS = [
    ("Leadership", None, "ceo"),
    ("Product", "Leadership", "cpo"),
    ("Activation squad", "Product", "eng_lead"),
    ("Sales", "Leadership", "cro"),
]


class Command(BaseCommand):
    help = "Create the Northwind demo organisation (or leave it as it is if it exists) and print its logins."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--password", default=DEMO_PASSWORD, help="Password for every demo person.")

    def handle(self, *args: Any, **options: Any) -> None:
        password = options["password"]
        if not Organization.objects.filter(slug=DEMO_SLUG).exists():
            self._create(password)
            self.stdout.write(self.style.SUCCESS("Created the demo organisation Northwind Analytics."))
        else:
            self.stdout.write("The demo organisation Northwind Analytics already exists; left as it is.")
        self.stdout.write("")
        self.stdout.write(f"Sign in at http://127.0.0.1:8000/ with any of these (password: {password}):")
        for _key, name, email, role, team, _manager, _title in PEOPLE:
            self.stdout.write(f"  {email:<26} {role.label:<9} {team:<17} {name}")

    @transaction.atomic
    def _create(self, password: str) -> None:
        users = {
            key: User.objects.filter(email=email).first()
            or services.user_create(email=email, full_name=name, password=password)
            for key, name, email, _role, _team, _manager, _title in PEOPLE
        }
        organization = services.organization_create(
            name="Northwind Analytics", slug=DEMO_SLUG, first_admin=users["ceo"], time_zone="Europe/Berlin"
        )
        with tenant_context(organization):
            memberships = {"ceo": Membership.objects.get(user=users["ceo"])}
            for key, _name, _email, role, _team, _manager, _title in PEOPLE[1:]:
                memberships[key] = Membership.objects.create(user=users[key], role=role)
            teams: dict[str, Team] = {}
            for name, parent, lead in TEAMS:
                teams[name] = services.team_create(
                    name=name, parent=teams.get(parent or ""), lead=memberships[lead]
                )
            for key, _name, _email, role, team, manager, title in PEOPLE:
                services.membership_update(
                    membership=memberships[key],
                    role=role,
                    team=teams[team],
                    manager=memberships[manager] if manager else None,
                    title=title,
                )
            build_demo_goals(people=memberships, teams=teams, today=timezone.localdate())
