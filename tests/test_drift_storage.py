"""The drift engine on stored data: what the loader reads as of a moment, and how findings are kept.

Data is built through the goal services and the ingestion pipeline (Jira payloads in Jira's shapes), so
the loader reads what production stores.
"""

from __future__ import annotations

import itertools
import zlib
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pytest
from django.core.exceptions import ValidationError

from alignment.engine import Subject, SubjectKind
from alignment.loader import drift_input
from alignment.models import ContributionCredit, DriftScore, Finding, FindingEvent
from alignment.services import evaluate_quarter, finding_acknowledge, finding_resolve, recompute
from goals import checkins
from goals import services as goal_services
from goals.checkin_selectors import organization_week
from goals.models import Cycle, KeyResult, Objective
from okrsignal.tenancy import tenant_context
from signals_ingest import services as ingest_services
from signals_ingest.models import Integration
from signals_ingest.pipeline import reapply_mapping_rules
from tests.factories import OrgWorld, make_organization
from tests.goal_factories import make_key_result, make_objective
from tests.ingest_factories import (
    EINAR,
    FATIMA,
    blocked_by_link,
    connect,
    epoch_ms,
    ingest,
    jira_comment,
    jira_issue,
    jira_transition,
    jira_user,
)

START = date(2026, 7, 6)
STARTS_AT = datetime.combine(START, time(0), tzinfo=UTC)
HALVARD = jira_user("5b10ac8d82e05b22cc7d4ef5", "Halvard Berg")
_ids = itertools.count(80001)


def during(week: int, day: float = 2.0) -> datetime:
    return STARTS_AT + timedelta(days=7 * (week - 1) + day, hours=10)


def after(week: int) -> datetime:
    """The evaluation moment once week ``week`` has ended."""
    return STARTS_AT + timedelta(days=7 * week)


@dataclass
class Quarter:
    world: OrgWorld
    cycle: Cycle
    objective: Objective
    key_result: KeyResult
    jira: Integration


def build_quarter(world: OrgWorld) -> Quarter:
    """A team objective with one key result owned by ``report`` (``indirect_report`` contributes), Jira
    work in project ONB counting toward it; call inside the organisation's context."""
    cycle = goal_services.cycle_create(
        name=f"{world.organization.name} 2026-Q3", start=START, end=date(2026, 10, 4)
    )
    objective = make_objective(cycle, world.manager, title="Make enterprise onboarding effortless")
    key_result = make_key_result(
        objective,
        world.report,
        title="Enterprise activation rate from 40% to 46%",
        baseline=40,
        target=46,
        contributors=[world.indirect_report],
    )
    jira = connect("jira")
    ingest_services.mapping_rule_create(integration=jira, match={"project": "ONB"}, key_result=key_result)
    ingest_services.identity_link_account(
        provider="jira", external_id=EINAR["accountId"], membership=world.report
    )
    ingest_services.identity_link_account(
        provider="jira", external_id=FATIMA["accountId"], membership=world.indirect_report
    )
    ingest_services.identity_link_account(
        provider="jira", external_id=HALVARD["accountId"], membership=world.peer
    )
    return Quarter(world, cycle, objective, key_result, jira)


def issue_id(key: str) -> str:
    return str(zlib.crc32(key.encode()) % 10_000_000)


def comment(
    quarter: Quarter, *, key: str, at: datetime, author: dict[str, Any] = EINAR, **fields: Any
) -> None:
    project = key.split("-")[0]
    issue = jira_issue(issue_id(key), key, project=project, epic=None, updated=at, **fields)
    ingest(quarter.jira, jira_comment(issue, comment_id=str(next(_ids)), author=author, at=at))


def work(
    quarter: Quarter, *, weeks: range, key: str = "ONB-7", author: dict[str, Any] = EINAR, per_week: int = 3
) -> None:
    for week in weeks:
        for index in range(per_week):
            comment(quarter, key=key, at=during(week, 1 + index), author=author)


def link_blocker(quarter: Quarter, *, key: str, blocker: str, at: datetime, added: bool = True) -> None:
    issue = jira_issue(
        issue_id(key),
        key,
        project=key.split("-")[0],
        epic=None,
        updated=at,
        issuelinks=[blocked_by_link(blocker)] if added else [],
    )
    side = "to" if added else "from"
    item = {
        "field": "Link",
        "fieldtype": "jira",
        "from": None,
        "fromString": None,
        "to": None,
        "toString": None,
    }
    item[side] = blocker
    item[f"{side}String"] = f"This issue is blocked by {blocker}"
    ingest(
        quarter.jira,
        {
            "timestamp": epoch_ms(at),
            "webhookEvent": "jira:issue_updated",
            "issue_event_type_name": "issue_generic",
            "user": EINAR,
            "issue": issue,
            "changelog": {"id": str(next(_ids)), "items": [item]},
        },
    )


def check_in(
    quarter: Quarter,
    *,
    at: datetime,
    status: str,
    value: float | None = None,
    week_of: datetime | None = None,
) -> None:
    author = quarter.world.report
    checkins.check_in_submit(
        author=author,
        week=organization_week(author, week_of or at),
        priorities=[checkins.PriorityEntry(text="Guided setup", key_result=quarter.key_result)],
        key_result_updates=[
            checkins.KeyResultUpdateEntry(key_result=quarter.key_result, status=status, value=value)
        ],
        at=at,
    )


def fresh(key_result: KeyResult) -> KeyResult:
    return KeyResult.objects.select_related("objective__cycle").get(pk=key_result.pk)


# --- The loader ------------------------------------------------------------------------------------------


def test_weeks_start_at_midnight_utc_on_the_cycle_start_and_every_signal_counts_once(db: None) -> None:
    world = make_organization("Weeks")
    with tenant_context(world.organization):
        quarter = build_quarter(world)
        comment(quarter, key="ONB-7", at=after(1) - timedelta(microseconds=1))
        comment(quarter, key="ONB-7", at=after(1))
        comment(quarter, key="OPS-3", at=during(2))
        data = drift_input(world.organization, quarter.cycle, as_of=after(3))

    kr_weeks = {(row.person_id, row.week): row.signals for row in data.key_result_weeks}
    assert kr_weeks == {(world.report.pk, 1): 1, (world.report.pk, 2): 1}
    person_weeks = {(row.person_id, row.week): (row.signals, row.weight) for row in data.person_weeks}
    assert person_weeks == {(world.report.pk, 1): (1, 1.0), (world.report.pk, 2): (2, 2.0)}
    assert [(row.person_id, row.week, row.theme_id) for row in data.theme_weeks] == [
        (world.report.pk, 2, "jira:project:OPS")
    ]
    assert [(theme.id, theme.kind, theme.key) for theme in data.themes] == [
        ("jira:project:OPS", "project", "OPS")
    ]


def test_an_unlinked_epic_never_taken_in_itself_is_named_by_its_issues_parent_field(db: None) -> None:
    world = make_organization("Epic names")
    with tenant_context(world.organization):
        quarter = build_quarter(world)
        issue = jira_issue(issue_id("SEC-13"), "SEC-13", project="SEC", epic="SEC-12", updated=during(2))
        issue["fields"]["parent"]["fields"]["summary"] = "SSO and SOC 2 evidence"
        ingest(quarter.jira, jira_comment(issue, comment_id=str(next(_ids)), author=EINAR, at=during(2)))
        data = drift_input(world.organization, quarter.cycle, as_of=after(3))

    assert [(theme.id, theme.kind, theme.key, theme.title) for theme in data.themes] == [
        ("jira:SEC-12", "epic", "SEC-12", "SSO and SOC 2 evidence")
    ]


def test_a_cycle_without_goals_is_read_and_scored_with_nothing_to_find(db: None) -> None:
    world = make_organization("Empty cycle")
    with tenant_context(world.organization):
        cycle = goal_services.cycle_create(name="Empty 2026-Q3", start=START, end=date(2026, 10, 4))
        data = drift_input(world.organization, cycle, as_of=after(3))
        result = recompute(world.organization, as_of=after(3), cycle=cycle)

    assert (data.key_results, tuple(data.key_result_weeks), data.person_weeks, data.theme_weeks) == (
        (),
        (),
        (),
        (),
    )
    assert result.evaluation.findings == ()
    assert result.evaluation.scores == ()


def test_the_loader_reads_nothing_dated_at_or_after_the_moment(db: None) -> None:
    world = make_organization("Purity")
    moment = after(4)
    with tenant_context(world.organization):
        quarter = build_quarter(world)
        kpi = goal_services.kpi_create(
            by=world.manager,
            name="Support tickets per account",
            unit="tickets",
            direction="decrease",
            green=2,
            red=4,
            owner=world.manager,
            objectives=[quarter.objective],
            at=during(1, 0),
        )
        work(quarter, weeks=range(1, 5))
        work(quarter, weeks=range(1, 5), key="OPS-3", author=HALVARD, per_week=2)
        goal_services.key_result_record_progress(
            key_result=fresh(quarter.key_result), by=world.report, value=41, at=during(2)
        )
        check_in(quarter, at=during(3, 3), status="on_track", value=42)
        goal_services.kpi_record_reading(kpi=kpi, by=world.manager, value=1.5, note="calm", at=during(2))
        goal_services.objective_update(
            objective=quarter.objective,
            by=world.manager,
            changes={"title": "Onboard enterprises in a day"},
            at=during(3),
        )
        link_blocker(quarter, key="ONB-8", blocker="OPS-3", at=during(3, 1))
        before = drift_input(world.organization, quarter.cycle, as_of=moment)

        # Everything below happens at or after the moment.
        comment(quarter, key="ONB-7", at=moment)
        work(quarter, weeks=range(5, 8))
        work(quarter, weeks=range(5, 8), key="OPS-9", author=FATIMA)
        goal_services.key_result_record_progress(
            key_result=fresh(quarter.key_result), by=world.report, value=43, at=during(5)
        )
        # The check-in of week 3, submitted again with another status.
        check_in(quarter, at=during(5), status="at_risk", value=44, week_of=during(3, 3))
        check_in(quarter, at=during(6, 3), status="at_risk")
        goal_services.kpi_record_reading(
            kpi=kpi, by=world.manager, value=3.5, note="worse", objective=quarter.objective, at=during(5)
        )
        goal_services.key_result_update(
            key_result=fresh(quarter.key_result),
            by=world.manager,
            changes={"target": 48},
            contributors=[],
            at=during(5),
        )
        goal_services.objective_update(
            objective=Objective.objects.get(pk=quarter.objective.pk),
            by=world.manager,
            changes={"description": "Within one working day"},
            at=during(5),
        )
        goal_services.objective_confirm_alignment(
            objective=Objective.objects.get(pk=quarter.objective.pk), by=world.manager, at=during(6)
        )
        link_blocker(quarter, key="ONB-8", blocker="OPS-3", at=during(6), added=False)
        ingest(
            quarter.jira,
            jira_transition(
                jira_issue(issue_id("OPS-3"), "OPS-3", project="OPS", epic=None, updated=during(6, 1)),
                history_id=str(next(_ids)),
                to="Done",
                user=HALVARD,
                at=during(6, 1),
            ),
        )
        # A goal added later takes over work done before the moment: before it, that work was unlinked.
        later = goal_services.key_result_create(
            by=world.manager,
            objective=Objective.objects.select_related("cycle").get(pk=quarter.objective.pk),
            title="Ops tickets closed from 10 to 40",
            unit="tickets",
            baseline=10,
            target=40,
            owner=world.peer,
            as_given=True,
            at=during(5),
        )
        ingest_services.mapping_rule_create(
            integration=quarter.jira, match={"project": "OPS"}, key_result=later
        )
        reapply_mapping_rules(integration_id=quarter.jira.pk)

        after_all = drift_input(world.organization, quarter.cycle, as_of=moment)
        later_view = drift_input(world.organization, quarter.cycle, as_of=after(7))

    assert after_all == before
    # The moment read what happened before it ...
    assert {(row.key_result_id, row.week) for row in before.key_result_weeks} == {
        (quarter.key_result.pk, week) for week in range(1, 5)
    }
    assert {row.theme_id for row in before.theme_weeks} == {"jira:project:OPS"}
    assert [(c.status, c.person_id) for c in before.checkins] == [("on_track", world.report.pk)]
    (key_result,) = before.key_results
    assert [(u.value, u.by_person_id) for u in key_result.value_updates] == [
        (41, world.report.pk),
        (42, world.report.pk),
    ]
    assert key_result.contributor_ids == {world.indirect_report.pk}
    assert key_result.changes == ()
    (objective,) = before.objectives
    assert [(change.field, change.new_value) for change in objective.changes] == [
        ("title", "Onboard enterprises in a day")
    ]
    assert [reading.value for reading in before.kpis[0].readings] == [1.5]
    (link,) = before.dependencies
    assert (link.item_key, link.blocker_key, link.blocked_since, link.unblocked_at) == (
        "ONB-8",
        "OPS-3",
        during(3, 1),
        None,
    )
    assert link.blocker_team_id is None  # nobody of the organisation is assigned to the blocker
    # ... and a later moment reads what came after.
    assert later_view != before
    (objective_later,) = later_view.objectives
    assert len(objective_later.reviews) == 1
    kr_later = next(kr for kr in later_view.key_results if kr.id == quarter.key_result.pk)
    changed = {change.field: change.new_value for change in kr_later.changes}
    assert changed == {"target": 48, "contributors": frozenset()}
    assert [c.status for c in later_view.checkins if c.at >= moment] == ["at_risk", "at_risk"]
    (link_later,) = later_view.dependencies
    assert link_later.unblocked_at == during(6, 1)  # the blocker closed a day before the link went


def test_another_organisations_data_never_reaches_the_input(db: None) -> None:
    acme = make_organization("Acme")
    globex = make_organization("Globex")
    with tenant_context(globex.organization):
        theirs = build_quarter(globex)
        work(theirs, weeks=range(1, 6))
        work(theirs, weeks=range(1, 6), key="OPS-1", author=FATIMA)
    with tenant_context(acme.organization):
        ours = build_quarter(acme)
        work(ours, weeks=range(1, 3))
        data = drift_input(acme.organization, ours.cycle, as_of=after(6))

    acme_people = {acme.admin.pk, acme.manager.pk, acme.report.pk, acme.indirect_report.pk, acme.peer.pk}
    assert {person.id for person in data.people} == acme_people
    assert {row.person_id for row in data.person_weeks} <= acme_people
    assert {row.week for row in data.person_weeks} == {1, 2}
    assert [kr.id for kr in data.key_results] == [ours.key_result.pk]
    assert [objective.id for objective in data.objectives] == [ours.objective.pk]
    assert {team.id for team in data.teams} == {acme.team.pk}
    assert data.theme_weeks == ()
    with pytest.raises(ValueError, match="another organisation"):
        drift_input(acme.organization, theirs.cycle, as_of=after(6))


# --- Storing findings ------------------------------------------------------------------------------------


def ownership_gaps(quarter: Quarter) -> list[Finding]:
    return list(
        Finding.objects.filter(cycle=quarter.cycle, kind="ownership_gap", key_result=quarter.key_result)
    )


def set_owner(quarter: Quarter, owner: Any, at: datetime) -> None:
    goal_services.key_result_update(
        key_result=fresh(quarter.key_result), by=quarter.world.manager, changes={"owner": owner}, at=at
    )


def test_a_finding_keeps_its_identity_and_its_state_across_recomputes(db: None) -> None:
    world = make_organization("Lifecycle")
    org = world.organization
    with tenant_context(org):
        quarter = build_quarter(world)
        set_owner(quarter, None, during(3))

        first = recompute(org, as_of=after(3))
        again = recompute(org, as_of=after(3))
        later = recompute(org, as_of=after(4))
        (gap,) = ownership_gaps(quarter)
        assert gap.pk in first.detected
        assert again.detected == []
        assert later.detected == []
        assert (gap.state, gap.active, gap.onset_week, gap.onset_date) == (
            "open",
            True,
            3,
            START + timedelta(days=14),
        )
        assert (gap.first_detected_at, gap.first_detected_week, gap.last_reported_at) == (
            after(3),
            3,
            after(4),
        )
        assert "no owner" in gap.explanation
        assert gap.evidence
        assert gap.evidence[0]["kind"] == "goal_change"

        finding_acknowledge(
            finding=gap, by=world.manager, note="Finding an owner this week", at=after(4) + timedelta(hours=9)
        )
        recompute(org, as_of=after(5))
        gap.refresh_from_db()
        assert (gap.state, gap.acknowledged_by_id, gap.last_reported_at) == (
            "acknowledged",
            world.manager.pk,
            after(5),
        )

        # The cause goes: the engine resolves it.
        set_owner(quarter, world.report, during(6))
        result = recompute(org, as_of=after(6))
        gap.refresh_from_db()
        assert result.resolved == [gap.pk]
        assert (gap.state, gap.active, gap.resolved_at, gap.resolved_by_id) == (
            "resolved",
            False,
            after(6),
            None,
        )

        recompute(org, as_of=after(7))
        gap.refresh_from_db()
        assert gap.state == "resolved"

        # It comes back: it opens again, as the same finding.
        set_owner(quarter, None, during(8))
        result = recompute(org, as_of=after(8))
        gap.refresh_from_db()
        assert result.reopened == [gap.pk]
        assert (gap.state, gap.active, gap.resolved_at, gap.acknowledged_at) == ("open", True, None, None)
        assert gap.first_detected_at == after(3)
        assert gap.onset_week == 8

        assert len(ownership_gaps(quarter)) == 1
        assert list(FindingEvent.objects.filter(finding=gap).values_list("action", "by_id")) == [
            ("detected", None),
            ("acknowledged", world.manager.pk),
            ("resolved", None),
            ("reopened", None),
        ]


def test_a_finding_a_person_resolved_stays_resolved_until_its_cause_comes_back(db: None) -> None:
    world = make_organization("Manual")
    org = world.organization
    with tenant_context(org):
        quarter = build_quarter(world)
        set_owner(quarter, None, during(2))
        recompute(org, as_of=after(2))
        (gap,) = ownership_gaps(quarter)

        with pytest.raises(ValidationError) as refused:
            finding_resolve(finding=gap, by=world.manager, note="  ")
        assert "note" in refused.value.message_dict
        finding_resolve(finding=gap, by=world.manager, note="The key result is being retired")
        recompute(org, as_of=after(3))
        gap.refresh_from_db()
        assert (gap.state, gap.active, gap.resolved_by_id) == ("resolved", True, world.manager.pk)
        with pytest.raises(ValidationError):
            finding_acknowledge(finding=gap, by=world.manager)

        set_owner(quarter, world.report, during(4))
        recompute(org, as_of=after(4))
        set_owner(quarter, None, during(5))
        recompute(org, as_of=after(5))
        gap.refresh_from_db()
        assert (gap.state, gap.active, gap.resolved_by_id) == ("open", True, None)


def test_people_act_only_on_their_own_organisations_findings(db: None) -> None:
    acme = make_organization("Acme")
    globex = make_organization("Globex")
    with tenant_context(acme.organization):
        quarter = build_quarter(acme)
        set_owner(quarter, None, during(2))
        recompute(acme.organization, as_of=after(2))
        (gap,) = ownership_gaps(quarter)
        with pytest.raises(ValueError, match="another organisation"):
            finding_acknowledge(finding=gap, by=globex.manager)
        gap.refresh_from_db()
        assert gap.state == "open"
    with tenant_context(globex.organization):
        assert not Finding.objects.exists()


def test_a_quarter_keeps_weekly_scores_and_credits_and_a_focused_recompute_touches_only_its_goals(
    db: None,
) -> None:
    world = make_organization("Weekly")
    org = world.organization
    with tenant_context(org):
        quarter = build_quarter(world)
        other = make_key_result(
            quarter.objective,
            world.manager,
            title="Time to first value from 10 to 3 days",
            baseline=10,
            target=3,
        )
        work(quarter, weeks=range(1, 7))
        # Someone whose goals these are not does much of the work.
        work(quarter, weeks=range(1, 7), author=HALVARD, per_week=3)
        set_owner(quarter, None, during(5))

        results = evaluate_quarter(org, quarter.cycle, until=after(6) + timedelta(days=3))
        assert [result.week for result in results] == [1, 2, 3, 4, 5, 6]
        assert DriftScore.objects.filter(cycle=quarter.cycle, key_result=quarter.key_result).count() == 6
        assert set(DriftScore.objects.values_list("week", flat=True)) == set(range(1, 7))
        score = DriftScore.objects.get(key_result=quarter.key_result, week=6)
        assert score.components
        assert {"name", "value", "points", "detail"} <= set(score.components[0])
        credit = ContributionCredit.objects.get(person=world.peer)
        assert credit.key_result_id == quarter.key_result.pk
        assert credit.weeks == list(range(1, 7))
        credits = ContributionCredit.objects.count()

        evaluate_quarter(org, quarter.cycle, until=after(6))
        assert DriftScore.objects.filter(key_result=quarter.key_result).count() == 6
        assert len(ownership_gaps(quarter)) == 1

        # The gap closes, but only the other key result is judged: the gap stays as it was.
        set_owner(quarter, world.report, during(7))
        recompute(org, as_of=after(7), subjects=[Subject(SubjectKind.KEY_RESULT, other.pk)])
        (gap,) = ownership_gaps(quarter)
        assert (gap.state, gap.active) == ("open", True)
        assert DriftScore.objects.filter(week=7).values_list("key_result_id", flat=True).get() == other.pk
        assert ContributionCredit.objects.count() == credits
        recompute(org, as_of=after(7), subjects=[Subject(SubjectKind.KEY_RESULT, quarter.key_result.pk)])
        gap.refresh_from_db()
        assert gap.state == "resolved"
