"""A live quarter for the drift triggers and alerts: a cycle in progress (now falls in its seventh week),
built through the goal services and the ingestion pipeline."""

from __future__ import annotations

import itertools
import zlib
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from django.utils import timezone

from goals import checkins
from goals import services as goal_services
from goals.checkin_selectors import organization_week
from goals.models import Cycle, KeyResult, Level, Objective
from okrsignal.models import Membership
from signals_ingest import services as ingest_services
from signals_ingest.models import Integration
from tests.factories import OrgWorld
from tests.ingest_factories import EINAR, FATIMA, connect, ingest, jira_comment, jira_issue

_ids = itertools.count(91001)


def this_monday() -> date:
    today = timezone.now().astimezone(UTC).date()
    return today - timedelta(days=today.weekday())


@dataclass
class LiveQuarter:
    """Company objective (admin) <- team objective (manager) <- child objective (report); the team
    objective's key result (owned by ``report``, ``indirect_report`` contributes) has a child key result
    under the child objective. Jira project ONB counts toward the key result."""

    world: OrgWorld
    cycle: Cycle
    company: Objective
    objective: Objective
    child: Objective
    key_result: KeyResult
    child_key_result: KeyResult
    jira: Integration

    @property
    def start(self) -> datetime:
        return datetime.combine(self.cycle.start, time(0), tzinfo=UTC)

    def during(self, week: int, day: float = 2.0) -> datetime:
        return self.start + timedelta(days=7 * (week - 1) + day, hours=10)

    def after(self, week: int) -> datetime:
        """The moment week ``week`` has ended."""
        return self.start + timedelta(days=7 * week)


def build_live_quarter(world: OrgWorld, *, weeks_ago: int = 6) -> LiveQuarter:
    """Call inside the organisation's context."""
    start = this_monday() - timedelta(weeks=weeks_ago)
    cycle = goal_services.cycle_create(
        name=f"{world.organization.name} live quarter", start=start, end=start + timedelta(weeks=13, days=-1)
    )
    made = datetime.combine(start, time(9), tzinfo=UTC) - timedelta(days=3)
    company = goal_services.objective_create(
        by=world.admin,
        cycle=cycle,
        title="Enterprise customers succeed on their own",
        level=Level.COMPANY,
        owner=world.admin,
        at=made,
    )
    objective = goal_services.objective_create(
        by=world.manager,
        cycle=cycle,
        title="Make enterprise onboarding effortless",
        level=Level.TEAM,
        owner=world.manager,
        team=world.team,
        parent=company,
        as_given=True,
        at=made,
    )
    child = goal_services.objective_create(
        by=world.report,
        cycle=cycle,
        title="Guided enterprise onboarding setup",
        level=Level.INDIVIDUAL,
        owner=world.report,
        parent=objective,
        as_given=True,
        at=made,
    )
    key_result = goal_services.key_result_create(
        by=world.manager,
        objective=objective,
        title="Enterprise activation rate from 40% to 46%",
        unit="%",
        baseline=40,
        target=46,
        owner=world.report,
        contributors=[world.indirect_report],
        as_given=True,
        at=made,
    )
    child_key_result = goal_services.key_result_create(
        by=world.report,
        objective=child,
        title="Guided setups completed from 0 to 30",
        unit="setups",
        baseline=0,
        target=30,
        owner=world.report,
        parent_key_result=key_result,
        as_given=True,
        at=made,
    )
    jira = connect("jira")
    ingest_services.mapping_rule_create(integration=jira, match={"project": "ONB"}, key_result=key_result)
    ingest_services.identity_link_account(
        provider="jira", external_id=EINAR["accountId"], membership=world.report
    )
    ingest_services.identity_link_account(
        provider="jira", external_id=FATIMA["accountId"], membership=world.indirect_report
    )
    return LiveQuarter(world, cycle, company, objective, child, key_result, child_key_result, jira)


def comment(
    quarter: LiveQuarter, *, key: str = "ONB-7", at: datetime, author: dict[str, Any] = EINAR
) -> None:
    """One Jira comment on ``key`` (project ONB counts toward the key result), through the pipeline."""
    issue_id = str(zlib.crc32(key.encode()) % 10_000_000)
    issue = jira_issue(issue_id, key, project=key.split("-")[0], epic=None, updated=at)
    ingest(quarter.jira, jira_comment(issue, comment_id=str(next(_ids)), author=author, at=at))


def fresh(key_result: KeyResult) -> KeyResult:
    return KeyResult.objects.select_related("objective__cycle").get(pk=key_result.pk)


def set_owner(quarter: LiveQuarter, owner: Membership | None, at: datetime) -> None:
    """Change the key result's owner (no owner is an ownership gap the engine reports)."""
    goal_services.key_result_update(
        key_result=fresh(quarter.key_result), by=quarter.world.manager, changes={"owner": owner}, at=at
    )


def submit_check_in(quarter: LiveQuarter, *, at: datetime, status: str = "on_track") -> None:
    author = quarter.world.report
    checkins.check_in_submit(
        author=author,
        week=organization_week(author, at),
        priorities=[checkins.PriorityEntry(text="Guided setup", key_result=quarter.key_result)],
        key_result_updates=[checkins.KeyResultUpdateEntry(key_result=quarter.key_result, status=status)],
        at=at,
    )


def keep_on_pace(quarter: LiveQuarter, *, weeks: range) -> None:
    """Record each key result's value at the end of each of ``weeks``, where the calendar expects it."""
    total_weeks = 13
    for key_result in (quarter.key_result, quarter.child_key_result):
        for week in weeks:
            row = fresh(key_result)
            value = row.baseline + (row.target - row.baseline) * (week + 0.5) / total_weeks
            goal_services.key_result_record_progress(
                key_result=row, by=quarter.world.report, value=round(value, 2), at=quarter.during(week, 4)
            )
