"""Organisations with a check-in history to measure: teams, reporting lines, check-ins, replies and pulse
answers, all written through the services at the moments they happened."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from goals import checkins
from goals.checkin_reminders import CheckInSchedule
from goals.checkins import PriorityEntry
from goals.models import CheckIn
from okrsignal import services
from okrsignal.models import Membership, Organization, Role, Team
from okrsignal.tenancy import tenant_context
from tests.factories import OrgWorld, make_organization, make_user

BERLIN = "Europe/Berlin"
LONG_AGO = datetime(2024, 1, 1, tzinfo=UTC)


def set_schedule(world: OrgWorld, *, time_zone: str = BERLIN, weekday: int = 4, at: time = time(10)) -> None:
    Organization.objects.filter(pk=world.organization.pk).update(
        time_zone=time_zone, checkin_weekday=weekday, checkin_time=at
    )
    world.organization.refresh_from_db()


def schedule_of(world: OrgWorld) -> CheckInSchedule:
    return CheckInSchedule.of(world.organization)


def add_member(
    world: OrgWorld, label: str, *, team: Team | None, manager: Membership | None, role: str = Role.EMPLOYEE
) -> Membership:
    """A new person in the organisation; call inside its context."""
    user = make_user(name=f"{world.organization.name} {label}")
    membership = Membership.objects.create(user=user, role=role)
    membership = services.membership_update(membership=membership, role=role, team=team, manager=manager)
    world.members[label] = membership
    return membership


def backdate_everyone(world: OrgWorld, joined_at: datetime = LONG_AGO) -> None:
    """Everyone joined long before the weeks a test measures; call inside the organisation's context."""
    Membership.objects.update(joined_at=joined_at)


def submit(membership: Membership, week: date, at: datetime) -> CheckIn:
    return checkins.check_in_submit(
        author=membership,
        week=week,
        priorities=[PriorityEntry(text="Ship the thing that matters", unlinked=True)],
        blockers="",
        at=at,
    )


@dataclass
class CadenceWorld:
    """``world`` (the factories' reporting tree, all in the Platform team) plus a Sales team of six led by
    the manager, everyone joined long ago; the schedule is Fridays at 10:00 in Berlin."""

    world: OrgWorld
    sales: Team
    sellers: list[Membership] = field(default_factory=list)

    @property
    def organization(self) -> Organization:
        return self.world.organization


def make_cadence_world(name: str = "Acme", *, time_zone: str = BERLIN) -> CadenceWorld:
    world = make_organization(name)
    set_schedule(world, time_zone=time_zone)
    with tenant_context(world.organization):
        sales = services.team_create(name=f"{name} Sales", lead=world.manager)
        sellers = [
            add_member(world, f"Seller {number}", team=sales, manager=world.manager) for number in range(6)
        ]
        backdate_everyone(world)
    return CadenceWorld(world=world, sales=sales, sellers=sellers)


def week_moments(world: OrgWorld, week: date) -> dict[str, datetime]:
    """Useful moments of a week: two hours before the check-in is due, and when it is due."""
    due = schedule_of(world).due_at(week)
    return {"before_due": due - timedelta(hours=2), "due": due}


LOW_PULSE = {"sellers": (5, 2, 3, 1, 2, 4), "platform": (3, 3, 2, 4)}  # 3 of 10 answer 4-5: 30%
HIGH_PULSE = {"sellers": (5, 4, 4, 5, 2, 4), "platform": (4, 5, 3, 4)}  # 8 of 10: 80%


def make_recent_history(cadence: CadenceWorld, *, weeks: int = 6, pulse: dict[str, tuple[int, ...]]) -> date:
    """Check-ins, replies and pulse answers for the last ``weeks`` weeks up to the week a report opens on
    (returned), more people checking in week by week. Platform answers the pulse with four people (too few
    to show), Sales with six."""
    from goals.checkin_reports import report_week

    world = cadence.world
    organization = cadence.organization
    latest = report_week(organization)
    platform = [world.manager, world.report, world.indirect_report, world.peer]
    people = [*platform, *cadence.sellers]
    with tenant_context(organization):
        for offset in range(weeks - 1, -1, -1):
            week = latest - timedelta(days=7 * offset)
            moments = week_moments(world, week)
            checking_in = people[: max(3, len(people) - offset * 2)]
            for person in checking_in:
                check_in = submit(person, week, moments["before_due"])
                manager = person.manager
                if manager is not None and person.pk % 3 != 0:
                    checkins.check_in_reply(
                        check_in=check_in, by=manager, text="Thanks, good week.", at=moments["due"]
                    )
            for person, score in zip(
                [*cadence.sellers, *platform], [*pulse["sellers"], *pulse["platform"]], strict=True
            ):
                checkins.pulse_answer_record(
                    membership=person, score=score, week=week, at=moments["before_due"]
                )
    return latest
