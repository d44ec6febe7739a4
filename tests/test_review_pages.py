"""The drift review pages: the cascade coloured by drift, a manager's team, the KPI guardrail board and the
quarter review, and the drift findings the 1:1 agenda gathers.

Findings, contributions and weekly scores are written as the drift engine stores them (``alignment.models``),
so each test says exactly what the engine concluded; goals, people, check-ins, KPIs and Jira activity are
built through the services and the ingestion pipeline, as production builds them.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from html import unescape
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from alignment.models import ContributionCredit, DriftScore, Finding, FindingEvent
from alignment.services import finding_acknowledge, finding_resolve
from goals import checkins
from goals import services as goal_services
from goals.checkin_selectors import one_on_one_agenda
from goals.checkin_weeks import week_monday
from goals.checkins import KeyResultUpdateEntry, PriorityEntry
from goals.models import KPI, Cycle, KeyResult, KeyResultStatus, KPIReading, Level, Objective, ObjectiveState
from okrsignal import services as people_services
from okrsignal.models import Membership, Role
from okrsignal.tenancy import tenant_context
from signals_ingest import services as ingest_services
from signals_ingest.models import Integration
from tests.conftest import client_for
from tests.factories import OrgWorld, make_user
from tests.goal_factories import CYCLE_END, CYCLE_START, make_cycle, make_key_result, make_objective
from tests.ingest_factories import connect, ingest, jira_comment, jira_issue, jira_user

STARTS_AT = datetime.combine(CYCLE_START, time(0), tzinfo=UTC)
# The test cycle is over: "this week" on the team page is its last check-in week.
LAST_WEEK = week_monday(CYCLE_END)
_ids = itertools.count(61001)

PAGES = ("alignment:cascade", "alignment:team", "alignment:kpi_guardrails", "alignment:quarter_review")


def after(week: int) -> datetime:
    """The evaluation moment once cycle week ``week`` has ended."""
    return STARTS_AT + timedelta(days=7 * week)


def during(week: int, day: int = 1) -> datetime:
    return STARTS_AT + timedelta(days=7 * (week - 1) + day, hours=10)


@dataclass
class Quarter:
    """A company objective with two key results and, under it, ``world.team``'s objective with one, and an
    individual objective of the report under that."""

    world: OrgWorld
    cycle: Cycle
    company: Objective
    revenue: KeyResult
    churn: KeyResult
    team_objective: Objective
    north: KeyResult
    personal: Objective

    @property
    def slug(self) -> str:
        return self.world.slug


def build_quarter(world: OrgWorld) -> Quarter:
    """Call inside the organisation's context."""
    cycle = make_cycle(f"{world.organization.name} 2026-Q3")
    company = make_objective(cycle, world.admin, title="Grow recurring revenue")
    revenue = make_key_result(company, world.report, title="Revenue from 10 to 12", baseline=10, target=12)
    churn = make_key_result(company, world.admin, title="Churn from 5 to 3", baseline=5, target=3)
    team_objective = make_objective(
        cycle,
        world.manager,
        title="Grow recurring revenue in the north",
        level=Level.TEAM,
        parent=company,
        team=world.team,
    )
    north = make_key_result(
        team_objective, world.manager, title="Northern revenue from 2 to 6", baseline=2, target=6
    )
    personal = make_objective(
        cycle,
        world.report,
        title="Win three northern logos",
        level=Level.INDIVIDUAL,
        parent=team_objective,
        team=world.team,
    )
    return Quarter(world, cycle, company, revenue, churn, team_objective, north, personal)


@pytest.fixture
def quarter(acme: OrgWorld) -> Iterator[Quarter]:
    with tenant_context(acme.organization):
        yield build_quarter(acme)


def subject_of(goal: KeyResult | Objective) -> dict[str, Any]:
    return {"key_result": goal} if isinstance(goal, KeyResult) else {"objective": goal}


def finding(
    quarter: Quarter,
    goal: KeyResult | Objective,
    *,
    kind: str = "priority_shift",
    state: str = Finding.State.OPEN,
    onset_week: int = 3,
    severity: float = 0.8,
    explanation: str = "Since week 3 the work went elsewhere.",
    evidence: list[dict[str, Any]] | None = None,
    detected_week: int = 4,
) -> Finding:
    """A finding as the engine stores it, with the event that opened it."""
    row = Finding.objects.create(
        cycle=quarter.cycle,
        kind=kind,
        state=state,
        active=state != Finding.State.RESOLVED,
        onset_week=onset_week,
        onset_date=quarter.cycle.start + timedelta(days=7 * (onset_week - 1)),
        severity=severity,
        explanation=explanation,
        evidence=evidence or [],
        figures={},
        first_detected_at=after(detected_week),
        first_detected_week=detected_week,
        last_reported_at=after(detected_week),
        **subject_of(goal),
    )
    FindingEvent.objects.create(finding=row, action=FindingEvent.Action.DETECTED, at=after(detected_week))
    return row


def engine_resolves(row: Finding, week: int) -> None:
    """What the engine stores when a finding's cause has gone after ``week``."""
    Finding.objects.filter(pk=row.pk).update(
        state=Finding.State.RESOLVED, active=False, resolved_at=after(week), state_note="The cause has gone."
    )
    FindingEvent.objects.create(
        finding=row, action=FindingEvent.Action.RESOLVED, at=after(week), note="The cause has gone."
    )


def scores(quarter: Quarter, goal: KeyResult | Objective, by_week: dict[int, int]) -> None:
    for week, score in by_week.items():
        DriftScore.objects.create(
            cycle=quarter.cycle,
            week=week,
            score=score,
            components=[{"name": "effort", "value": score / 35, "points": score, "detail": "share fell"}],
            computed_at=after(week),
            **subject_of(goal),
        )


def credit(
    quarter: Quarter, person: Membership, key_result: KeyResult, share: float = 0.3
) -> ContributionCredit:
    return ContributionCredit.objects.create(
        cycle=quarter.cycle,
        person=person,
        key_result=key_result,
        weight=12.0,
        share=share,
        weeks=[2, 3, 4],
        explanation=f"{person.user.full_name} did {share:.0%} of the work on it.",
        first_credited_at=after(4),
        last_credited_at=after(4),
    )


def jira_for(quarter: Quarter, key_result: KeyResult) -> Integration:
    """Jira connected, with project ONB mapped to ``key_result``; other projects are unlinked work."""
    jira = connect("jira")
    ingest_services.mapping_rule_create(integration=jira, match={"project": "ONB"}, key_result=key_result)
    return jira


def work(jira: Integration, person: Membership, week: int, *, linked: int = 0, unlinked: int = 0) -> None:
    """``person`` comments on mapped (ONB) and unmapped (SUP) Jira issues in cycle week ``week``."""
    account = f"acct-{person.pk}"
    ingest_services.identity_link_account(provider="jira", external_id=account, membership=person)
    author = jira_user(account, person.user.full_name)
    payloads = []
    for index in range(linked + unlinked):
        project, key = ("ONB", "ONB-7") if index < linked else ("SUP", "SUP-9")
        issue = jira_issue(f"{7000 + (index >= linked)}", key, project=project, epic=None, summary=key)
        payloads.append(
            jira_comment(issue, comment_id=str(next(_ids)), author=author, at=during(week, index % 5))
        )
    ingest(jira, *payloads)


def check_in(person: Membership, *, updates: list[KeyResultUpdateEntry] | None = None) -> Any:
    return checkins.check_in_submit(
        author=person,
        week=LAST_WEEK,
        priorities=[PriorityEntry(text="Close the northern deals", unlinked=True)],
        key_result_updates=updates or [],
        at=datetime.combine(LAST_WEEK + timedelta(days=3), time(10), tzinfo=UTC),
    )


def hire(world: OrgWorld, manager: Membership | None, name: str, role: str = Role.EMPLOYEE) -> Membership:
    user = make_user(name=name)
    membership = Membership.objects.create(user=user, role=role)
    return people_services.membership_update(
        membership=membership, role=role, team=world.team, manager=manager
    )


def url(name: str, quarter: Quarter) -> str:
    return reverse(name, kwargs={"org_slug": quarter.slug})


def text(response: Any) -> str:
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def squash(html: str) -> str:
    """The page's text without tags and with single spaces, to read sentences across elements."""
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html))).strip()


def piece(page: str, start: str, *ends: str) -> str:
    """The part of ``page`` from ``start`` to the first of ``ends`` after it."""
    begin = page.index(start)
    stops = [page.find(end, begin + len(start)) for end in ends]
    return page[begin : min((stop for stop in stops if stop >= 0), default=len(page))]


def member_card(page: str, person: Membership) -> str:
    return piece(page, f'aria-labelledby="member-{person.pk}-name"', '<li class="member-card"', "</section>")


# --- 3. The cascade ---------------------------------------------------------------------------------


def test_the_cascade_colours_each_goal_by_its_latest_score_with_the_band_in_words(quarter: Quarter) -> None:
    scores(quarter, quarter.north, {3: 40, 4: 72})
    scores(quarter, quarter.team_objective, {4: 35})
    scores(quarter, quarter.company, {4: 4})
    finding(quarter, quarter.north, explanation="The northern team moved to support tickets.")

    page = text(client_for(quarter.world.peer).get(url("alignment:cascade", quarter)))
    words = squash(page)

    lines = re.findall(r'<li class="kr-line drift-kr tone-(\w+)">(.*?)</li>', page, re.S)
    north = [(tone, body) for tone, body in lines if quarter.north.title in body]
    assert len(north) == 1
    tone, body = north[0]
    assert tone == "bad"
    assert "Drift score 72 High drift" in squash(body)
    assert "Priority shift" in body
    assert 'class="tree-node node-team drift-node tone-warn"' in page
    assert 'class="tree-node node-company drift-node tone-good"' in page
    assert "Drift score in week 4: High drift 60 to 100 Moderate drift 30 to 59" in words
    assert "Not scored yet" in words  # the churn key result has no score
    for figure in (
        "1 goal with high drift",
        "1 goal with moderate drift",
        "1 healthy goal",
        "3 goals not scored",
    ):
        assert figure in words
    assert "3 objectives and 3 key results · 2 with moderate or high drift" in words
    assert f'href="{reverse("alignment:key_result_drift", args=[quarter.slug, quarter.north.pk])}"' in page


def test_objectives_needing_re_alignment_are_badged_and_paused_ones_are_not_drifting(
    quarter: Quarter,
) -> None:
    finding(quarter, quarter.personal, kind="cascade_break", explanation="Its parent changed unconfirmed.")
    resolved = finding(quarter, quarter.team_objective, kind="cascade_break")
    engine_resolves(resolved, 5)
    scores(quarter, quarter.personal, {5: 45})
    scores(quarter, quarter.team_objective, {5: 20})
    goal_services.objective_set_state(
        objective=quarter.team_objective, by=quarter.world.manager, state=ObjectiveState.PAUSED, reason="Hold"
    )

    page = text(client_for(quarter.world.admin).get(url("alignment:cascade", quarter)))

    personal = re.search(r'<li class="tree-node node-individual[^"]*">.*?</li>', page, re.S)
    assert personal is not None
    assert "Needs re-alignment" in personal.group(0)
    assert "Cascade break" in personal.group(0)
    team = re.search(r'<li class="tree-node node-team drift-node tone-(\w+)">(.*?)<details', page, re.S)
    assert team is not None
    assert team.group(1) == "idle"
    assert "Paused" in squash(team.group(2))
    assert "Needs re-alignment" not in team.group(2)
    assert "1 objective needs re-alignment" in squash(page)


def test_the_alignment_map_of_a_team_shows_its_drift_and_each_persons_line_of_sight(quarter: Quarter) -> None:
    world = quarter.world
    scores(quarter, quarter.team_objective, {4: 64})
    finding(quarter, quarter.north)
    other = people_services.team_create(name="Acme Support")
    client = client_for(world.peer)

    page = squash(text(client.get(url("alignment:cascade", quarter), {"team": world.team.pk})))

    assert f"Alignment map of {world.team.name}" in page
    assert f"What {world.team.name} serves" in page
    assert "Grow recurring revenue in the north" in page
    assert "Drift score 64 High drift" in page
    assert (
        f"{world.manager.user.full_name} 1 open finding on their goals "
        "The key result 'Northern revenue from 2 to 6' "
        f"rolls up to {world.team.name}'s 'Grow recurring revenue in the north', which serves the company "
        "objective 'Grow recurring revenue'."
    ) in page
    other_map = squash(text(client.get(url("alignment:cascade", quarter), {"team": other.pk})))
    assert "Alignment map of Acme Support" in other_map
    assert "Acme Support has no team objectives in" in other_map


def test_the_map_opens_on_a_team_with_objectives_and_htmx_gets_only_the_map(quarter: Quarter) -> None:
    world = quarter.world
    people_services.team_create(name="Aardvark team")  # first by name, with no objectives
    client = client_for(world.admin)

    page = text(client.get(url("alignment:cascade", quarter)))
    assert f"Alignment map of {world.team.name}" in page

    part = client.get(url("alignment:cascade", quarter), {"team": world.team.pk}, HTTP_HX_REQUEST="true")
    body = text(part)
    assert "<html" not in body
    assert body.strip().startswith('<section class="card team-map" id="team-map"')
    assert "HX-Request" in part["Vary"]


def test_the_cascade_says_what_to_do_when_there_is_no_cycle_or_no_goal(acme: OrgWorld) -> None:
    page = squash(text(client_for(acme.admin).get(reverse("alignment:cascade", args=[acme.slug]))))
    assert "No cycle yet" in page
    assert "Start a cycle" in page

    with tenant_context(acme.organization):
        make_cycle()
    page = squash(text(client_for(acme.peer).get(reverse("alignment:cascade", args=[acme.slug]))))
    assert "No goals in 2026-Q3 yet" in page
    assert "Add an objective" in page


# --- 4. The manager's team --------------------------------------------------------------------------


def test_a_manager_sees_each_report_with_effort_check_in_and_open_findings(quarter: Quarter) -> None:
    world = quarter.world
    jira = jira_for(quarter, quarter.north)
    for week in (1, 2):
        work(jira, world.report, week, linked=3, unlinked=1)
    work(jira, world.report, 3, linked=1, unlinked=3)
    scores(quarter, quarter.revenue, {3: 50})
    finding(quarter, quarter.revenue, explanation="Revenue work moved to support.")
    finding(quarter, quarter.churn)  # the admin's: not on this page
    submitted = check_in(
        world.report,
        updates=[KeyResultUpdateEntry(key_result=quarter.revenue, status=KeyResultStatus.BLOCKED)],
    )

    page = text(client_for(world.manager).get(url("alignment:team", quarter)))
    words = squash(page)

    for person in (world.report, world.indirect_report):
        assert f'id="member-{person.pk}-name"' in page
    for person in (world.peer, world.admin):
        assert f'id="member-{person.pk}-name"' not in page
    assert "Reporting to you" in words
    assert f"Reporting to {world.report.user.full_name}" in words
    card = member_card(page, world.report)
    report = squash(card)
    assert "25% in week 3" in report
    assert "58% over the cycle so far" in report  # 7 of 12 comments on mapped work
    assert "33 points below that" in report
    assert "week 1 75%; week 2 75%; week 3 25%" in card
    assert "Checked in a key result Blocked" in report
    assert reverse("goals:check_in_detail", args=[quarter.slug, submitted.pk]) in card
    assert "Priority shift Revenue from 10 to 12 since week 3" in report
    assert reverse("goals:one_on_one_agenda", args=[quarter.slug, world.report.pk]) in card
    assert "with the drift on their goals" in report
    indirect = squash(member_card(page, world.indirect_report))
    assert "Not checked in yet" in indirect
    assert "No activity from the connected tools yet." in indirect


def test_someone_with_no_reports_is_told_what_the_page_is_for(quarter: Quarter) -> None:
    page = squash(text(client_for(quarter.world.peer).get(url("alignment:team", quarter))))

    assert "Nobody reports to you" in page
    assert quarter.world.report.user.full_name not in page
    assert "See your own goals" in page


def test_an_admin_sees_everyone_but_reads_check_ins_and_agendas_only_in_their_line(quarter: Quarter) -> None:
    world = quarter.world
    loner = hire(world, None, "Acme Loner")
    check_in(loner, updates=[])
    check_in(world.peer)

    page = text(client_for(world.admin).get(url("alignment:team", quarter)))

    assert "No manager set" in squash(page)
    card = member_card(page, loner)
    assert "Checked in" in card
    assert "check-ins/" not in card  # no link to a check-in or an agenda they may not read
    assert "no manager set" in squash(card)
    peer = member_card(page, world.peer)
    assert reverse("goals:one_on_one_agenda", args=[quarter.slug, world.peer.pk]) in peer
    assert "Read it" in peer


def test_the_one_on_one_agenda_includes_the_open_drift_on_the_reports_goals(quarter: Quarter) -> None:
    world = quarter.world
    open_finding = finding(quarter, quarter.revenue, explanation="Revenue work moved to support in week 3.")
    acknowledged = finding(quarter, quarter.personal, kind="cascade_break", explanation="Its parent changed.")
    finding_acknowledge(finding=acknowledged, by=world.manager, note="Talking on Monday.")
    gone = finding(quarter, quarter.revenue, kind="stale_progress", explanation="Nothing moved it.")
    engine_resolves(gone, 5)
    finding(quarter, quarter.north, explanation="The manager's own goal.")

    page = text(
        client_for(world.manager).get(
            reverse("goals:one_on_one_agenda", args=[quarter.slug, world.report.pk])
        )
    )
    words = squash(page)

    assert "Drift on their goals 2" in words
    assert "Revenue work moved to support in week 3." in words
    assert "Its parent changed." in words
    assert f"acknowledged by {world.manager.user.full_name}" in words
    assert "Nothing moved it." not in words
    assert "The manager's own goal." not in words
    assert reverse("alignment:key_result_drift", args=[quarter.slug, open_finding.key_result_id]) in page
    assert "Nothing open from" not in words


def test_drift_joins_the_agenda_only_for_active_goals_of_running_cycles(quarter: Quarter) -> None:
    world = quarter.world
    finding(quarter, quarter.personal, kind="cascade_break")
    goal_services.objective_set_state(
        objective=quarter.personal, by=world.report, state=ObjectiveState.CANCELLED, reason="Merged"
    )
    with tenant_context(world.organization):
        agenda = one_on_one_agenda(world.manager, world.report)
    assert [section.title for section in agenda.sections] == []

    finding(quarter, quarter.revenue)
    with tenant_context(world.organization):
        assert [section.title for section in one_on_one_agenda(world.manager, world.report).sections] == [
            "Drift on their goals"
        ]
    Cycle.objects.filter(pk=quarter.cycle.pk).update(closed_at=after(13))
    with tenant_context(world.organization):
        assert one_on_one_agenda(world.manager, world.report).sections == []


# --- 5. KPI guardrails ------------------------------------------------------------------------------


CONFLICT = "The KPIs that guard 'Grow recurring revenue' are green while the objective is off track."


def guarded_kpi(quarter: Quarter, name: str = "Gross margin", value: float = 76) -> tuple[KPI, KPIReading]:
    world = quarter.world
    kpi = goal_services.kpi_create(
        by=world.admin,
        name=name,
        unit="%",
        direction="increase",
        green=75,
        red=65,
        owner=world.admin,
        objectives=[quarter.company],
    )
    reading = goal_services.kpi_record_reading(kpi=kpi, by=world.admin, value=value, at=during(4))
    return kpi, reading


def test_kpis_stand_beside_the_objectives_they_guard_with_conflicts_flagged(quarter: Quarter) -> None:
    world = quarter.world
    _margin, reading = guarded_kpi(quarter)
    calm = goal_services.kpi_create(
        by=world.admin, name="Uptime", unit="%", direction="increase", green=99.5, red=99, objectives=[]
    )
    goal_services.kpi_record_reading(kpi=calm, by=world.admin, value=98.2, at=during(4))
    scores(quarter, quarter.company, {5: 58})
    finding(
        quarter,
        quarter.company,
        kind="kpi_conflict",
        onset_week=4,
        explanation=CONFLICT,
        evidence=[
            {"kind": "kpi_reading", "ref": reading.pk, "objective_id": quarter.company.pk, "value": 76}
        ],
    )
    finding(quarter, quarter.company, kind="priority_shift")

    page = text(client_for(world.peer).get(url("alignment:kpi_guardrails", quarter)))
    words = squash(page)

    assert "KPI conflicts 1" in words
    assert "Guarded by Gross margin Green" in words
    assert CONFLICT in words
    assert "since week 4" in words
    rows = page.split('<li class="guardrail-row')[1:]
    assert [squash(row.split(">", 1)[1]).split(" ")[0:2] for row in rows] == [
        ["Gross", "margin"],
        ["Uptime", "Red"],
    ]
    conflict_row, calm_row = rows
    assert conflict_row.startswith(' in-conflict"')
    body = squash(conflict_row)
    assert "In conflict reads green while 1 objective it guards is off track" in body
    assert "Green ≥ 75 · Red ≤ 65 % · higher is better" in body
    assert "Drift score 58 Moderate drift Grow recurring revenue" in body
    assert "Conflict: off track while this KPI reads green" in body
    assert "Priority shift" in body
    assert "Guards no objective yet." in squash(calm_row)
    assert "1 green" in words
    assert "1 red" in words


def test_the_guardrail_board_says_what_to_do_without_kpis(quarter: Quarter) -> None:
    page = squash(text(client_for(quarter.world.manager).get(url("alignment:kpi_guardrails", quarter))))
    assert "No KPIs yet" in page
    assert "Add the first KPI" in page
    employee = squash(text(client_for(quarter.world.peer).get(url("alignment:kpi_guardrails", quarter))))
    assert "Your managers have not set any up yet." in employee


# --- 6. The quarter review --------------------------------------------------------------------------


def test_the_quarter_review_tells_each_objectives_drift_with_onset_cause_and_ending(quarter: Quarter) -> None:
    world = quarter.world
    shift = finding(
        quarter,
        quarter.north,
        onset_week=3,
        detected_week=4,
        explanation="The northern team moved to support.",
    )
    finding_resolve(
        finding=shift, by=world.manager, note="Support rota ended; back on the north.", at=during(7)
    )
    stale = finding(
        quarter, quarter.team_objective, kind="stale_progress", onset_week=6, explanation="It stalled."
    )
    engine_resolves(stale, 8)
    finding(quarter, quarter.revenue, kind="ownership_gap", onset_week=5, explanation="Nobody owns the work.")
    scores(quarter, quarter.team_objective, {3: 20, 5: 48, 8: 12})
    credit(quarter, world.peer, quarter.north, share=0.4)

    page = text(client_for(world.admin).get(url("alignment:quarter_review", quarter)))
    words = squash(page)

    assert "A conversation about what happened" in words
    assert "2 of 3 objectives drifted at some point" in words
    assert "3 findings · 2 resolved, 1 still open" in words
    team = re.search(
        rf'aria-labelledby="objective-{quarter.team_objective.pk}-heading">(.*?)</article>', page, re.S
    )
    assert team is not None
    story = squash(team.group(1))
    assert "first drift in week 3" in story
    assert "Weeks 3 to 7 from 20 Jul Priority shift on the key result Northern revenue from 2 to 6" in story
    assert "What the engine saw The northern team moved to support." in story
    assert (
        f"How it ended Resolved by {world.manager.user.full_name} in week 7. "
        "Support rota ended; back on the north."
    ) in story
    assert f"Along the way week 4, detected · week 7, resolved by {world.manager.user.full_name}" in story
    assert "Weeks 6 to 8" in story
    assert "Eased in week 8: the engine no longer saw its cause." in story
    assert "To talk about What drew the effort elsewhere, and was it the right call at the time?" in story
    assert "Highest score 48, week 5" in story
    assert f"Moved by people it did not credit {world.peer.user.full_name}" in story
    assert "40% of the work linked to Northern revenue from 2 to 6 in weeks 2 to 4" in story
    company = re.search(
        rf'aria-labelledby="objective-{quarter.company.pk}-heading">(.*?)</article>', page, re.S
    )
    assert company is not None
    assert "Still open; not acknowledged yet." in squash(company.group(1))
    assert "Stayed aligned 1" in words
    assert "Invisible contributions, by person" in words


def test_the_review_names_only_the_contributors_the_viewer_may_see(quarter: Quarter) -> None:
    world = quarter.world
    finding(quarter, quarter.north)
    credit(quarter, world.peer, quarter.north)  # the peer reports to the admin, not to the manager
    credit(quarter, world.indirect_report, quarter.north, share=0.2)

    page = squash(text(client_for(world.manager).get(url("alignment:quarter_review", quarter))))

    assert world.indirect_report.user.full_name in page
    assert world.peer.user.full_name not in page
    assert "and 1 person outside your reporting line" in page


def test_the_review_says_when_nothing_drifted_or_nothing_was_scored(quarter: Quarter) -> None:
    page = squash(text(client_for(quarter.world.peer).get(url("alignment:quarter_review", quarter))))
    assert "No objective drifted" in page
    assert "Nobody yet: each key result's work came from its owner and contributors." in page


# --- Isolation --------------------------------------------------------------------------------------


def test_another_organisations_cycle_or_team_is_a_404(quarter: Quarter, globex: OrgWorld) -> None:
    with tenant_context(globex.organization):
        foreign_cycle = make_cycle("Globex 2026-Q3")
    client = client_for(quarter.world.admin)

    for name in PAGES:
        assert client.get(url(name, quarter), {"cycle": foreign_cycle.pk}).status_code == 404
        assert client.get(url(name, quarter), {"cycle": "x"}).status_code == 404
        assert client.get(url(name, quarter), {"cycle": quarter.cycle.pk}).status_code == 200
    assert client.get(url("alignment:cascade", quarter), {"team": globex.team.pk}).status_code == 404
    assert client.get(url("alignment:cascade", quarter), {"team": "first"}).status_code == 404


def test_members_of_another_organisation_get_404(quarter: Quarter, globex: OrgWorld) -> None:
    outsider = client_for(globex.admin)
    for name in PAGES:
        assert outsider.get(url(name, quarter)).status_code == 404
        response = outsider.get(url(name, quarter), {"cycle": quarter.cycle.pk})
        assert response.status_code == 404
        assert quarter.company.title not in response.content.decode()


# --- Query budgets ----------------------------------------------------------------------------------

# Each page's queries however much data there is: the session, membership and tenant context, the page's
# reads, and the notification count in the top bar.
PAGE_QUERY_BUDGETS = {
    "alignment:cascade": 30,
    "alignment:team": 26,
    "alignment:kpi_guardrails": 24,
    "alignment:quarter_review": 26,
}


def count_queries(action: Callable[[], Any]) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = action()
    assert response.status_code == 200
    return len(captured)


def some_of_everything(quarter: Quarter, jira: Integration, people: list[Membership], tag: str) -> None:
    """More goals (with findings, scores and credits), more KPIs, more people working and checking in."""
    world = quarter.world
    objective = make_objective(
        quarter.cycle,
        world.manager,
        title=f"Objective {tag}",
        level=Level.TEAM,
        team=world.team,
        parent=quarter.company,
        as_given=True,
    )
    goals: list[KeyResult | Objective] = [objective]
    for number in range(2):
        key_result = make_key_result(
            objective,
            world.report,
            title=f"KR {tag}.{number} from 0 to 10",
            baseline=0,
            target=10,
            as_given=True,
        )
        goals.append(key_result)
        credit(quarter, world.peer, key_result)
    for goal in goals:
        finding(quarter, goal)
        scores(quarter, goal, dict.fromkeys(range(1, 5), 40))
    kpi = goal_services.kpi_create(
        by=world.admin,
        name=f"KPI {tag}",
        unit="%",
        direction="increase",
        green=90,
        red=80,
        objectives=[objective],
    )
    goal_services.kpi_record_reading(kpi=kpi, by=world.admin, value=95, at=during(3))
    for person in people:
        work(jira, person, 2, linked=2, unlinked=1)
        check_in(person)


@pytest.mark.parametrize("name", PAGES)
def test_the_page_query_count_does_not_grow_with_the_data(
    quarter: Quarter, name: str, django_assert_max_num_queries: Any
) -> None:
    world = quarter.world
    jira = jira_for(quarter, quarter.north)
    some_of_everything(quarter, jira, [world.report], "a")
    client = client_for(world.manager)
    page = url(name, quarter)
    client.get(page)
    small = count_queries(lambda: client.get(page))

    newcomers = [hire(world, world.manager, f"Acme Newcomer {index}") for index in range(4)]
    for tag in "bcde":
        some_of_everything(quarter, jira, [world.indirect_report, *newcomers], tag)
    with django_assert_max_num_queries(PAGE_QUERY_BUDGETS[name]):
        assert client.get(page).status_code == 200
    assert count_queries(lambda: client.get(page)) == small
