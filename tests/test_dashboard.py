"""The leader dashboard and the goal drift pages, on hand-built findings and scores.

Findings and weekly scores are written as the drift engine stores them (``alignment.models``), so each test
says exactly what the engine concluded; goals, people, check-ins and Jira activity are built through the
services and the ingestion pipeline, as production builds them.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from alignment import services as drift_services
from alignment.dashboard import (
    TOP_DIVERGING,
    DashboardFilters,
    leader_dashboard,
    linked_effort,
    scoring_state,
)
from alignment.evidence import work_item_url
from alignment.models import DriftScore, Finding, FindingEvent
from goals import checkins
from goals.checkins import KeyResultUpdateEntry, PriorityEntry
from goals.models import Cycle, KeyResult, KeyResultStatus, Level, Objective, ObjectiveState
from goals.services import objective_set_state
from okrsignal import services as people_services
from okrsignal.models import Membership
from okrsignal.tenancy import tenant_context
from signals_ingest import services as ingest_services
from signals_ingest.models import WorkItem
from tests.conftest import client_for
from tests.factories import OrgWorld, make_organization
from tests.goal_factories import CYCLE_START, make_cycle, make_key_result, make_objective
from tests.ingest_factories import EINAR, SITE, connect, ingest, jira_comment, jira_issue

STARTS_AT = datetime.combine(CYCLE_START, time(0), tzinfo=UTC)
_comment_ids = itertools.count(91001)


def after(week: int) -> datetime:
    """The evaluation moment once cycle week ``week`` has ended."""
    return STARTS_AT + timedelta(days=7 * week)


def during(week: int, day: int = 1) -> datetime:
    return STARTS_AT + timedelta(days=7 * (week - 1) + day, hours=10)


@dataclass
class Quarter:
    world: OrgWorld
    cycle: Cycle
    company: Objective
    revenue: KeyResult
    churn: KeyResult
    team_objective: Objective
    north: KeyResult

    @property
    def slug(self) -> str:
        return self.world.slug


def build_quarter(world: OrgWorld) -> Quarter:
    """A company objective with two key results and, under it, a team objective of ``world.team`` with one;
    call inside the organisation's context."""
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
    return Quarter(world, cycle, company, revenue, churn, team_objective, north)


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


@pytest.fixture
def quarter(acme: OrgWorld) -> Iterator[Quarter]:
    with tenant_context(acme.organization):
        yield build_quarter(acme)


def url(name: str, quarter: Quarter, **kwargs: object) -> str:
    return reverse(name, kwargs={"org_slug": quarter.slug, **kwargs})


def drift_url(goal: KeyResult | Objective, slug: str) -> str:
    if isinstance(goal, KeyResult):
        return reverse("alignment:key_result_drift", kwargs={"org_slug": slug, "key_result_id": goal.pk})
    return reverse("alignment:objective_drift", kwargs={"org_slug": slug, "objective_id": goal.pk})


def text(response: Any) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


def dashboard_of(viewer: Membership, quarter: Quarter, **query: str) -> Any:
    return leader_dashboard(viewer, quarter.cycle, cycles=[quarter.cycle], query=query)


# --- The dashboard's selectors ----------------------------------------------------------------------


def test_diverging_goals_are_ranked_by_their_latest_score_with_onset_why_owner_and_team(
    quarter: Quarter,
) -> None:
    finding(quarter, quarter.revenue, severity=0.6, explanation="Revenue work went to support.")
    finding(quarter, quarter.revenue, kind="status_contradiction", severity=0.9, explanation="Says on track.")
    finding(quarter, quarter.north, kind="stale_progress", onset_week=5, explanation="Nothing moved it.")
    scores(quarter, quarter.revenue, {4: 30, 5: 41})
    scores(quarter, quarter.north, {4: 20, 5: 63})
    scores(quarter, quarter.churn, {4: 5, 5: 6})

    dashboard = dashboard_of(quarter.world.admin, quarter)

    assert dashboard.week == 5
    assert [row.goal.title for row in dashboard.diverging] == [quarter.north.title, quarter.revenue.title]
    north, revenue = dashboard.diverging
    assert (north.score, north.previous_score, north.change) == (63, 20, 43)
    assert (north.onset_week, north.onset_date) == (5, CYCLE_START + timedelta(days=28))
    assert north.goal.owner == quarter.world.manager
    assert north.goal.team == quarter.world.team
    assert revenue.why == "Says on track."  # the most severe finding explains the goal
    assert [label for _, label in revenue.kinds] == ["Status contradiction", "Priority shift"]
    assert revenue.goal.team is None
    assert revenue.goal.owner == quarter.world.report
    assert 'role="img"' in revenue.sparkline
    assert "41 in week 5" in revenue.sparkline


def test_resolved_findings_and_paused_goals_are_not_diverging(quarter: Quarter) -> None:
    finding(quarter, quarter.revenue, state=Finding.State.RESOLVED)
    finding(quarter, quarter.north)
    finding(quarter, quarter.churn, state=Finding.State.ACKNOWLEDGED)
    objective_set_state(
        by=quarter.world.manager,
        objective=quarter.team_objective,
        state=ObjectiveState.PAUSED,
        reason="On hold.",
    )
    scores(quarter, quarter.churn, {2: 12})

    dashboard = dashboard_of(quarter.world.admin, quarter)

    assert [row.goal.title for row in dashboard.diverging] == [quarter.churn.title]
    assert dashboard.diverging[0].all_acknowledged
    assert dashboard.headline is not None
    assert (dashboard.headline.goals_drifting, dashboard.headline.goals_live) == (1, 3)


def test_filters_narrow_by_team_level_and_kind_and_ignore_what_names_nothing(quarter: Quarter) -> None:
    finding(quarter, quarter.revenue, kind="priority_shift")
    finding(quarter, quarter.north, kind="stale_progress")
    finding(quarter, quarter.team_objective, kind="cascade_break")
    team = str(quarter.world.team.pk)

    def titles(**query: str) -> list[str]:
        return sorted(row.goal.title for row in dashboard_of(quarter.world.admin, quarter, **query).diverging)

    assert titles(team=team) == sorted([quarter.north.title, quarter.team_objective.title])
    assert titles(level=Level.COMPANY) == [quarter.revenue.title]
    assert titles(kind="stale_progress") == [quarter.north.title]
    assert titles(team=team, kind="cascade_break") == [quarter.team_objective.title]
    assert len(titles(team="999999", level="galactic", kind="anything")) == 3
    filters = DashboardFilters.from_query(
        {"team": team, "level": "team", "kind": "nonsense"}, team_ids=[int(team)]
    )
    assert filters.params() == {"team": team, "level": "team"}


def test_what_changed_lists_new_and_resolved_findings_and_the_biggest_score_moves(quarter: Quarter) -> None:
    finding(quarter, quarter.revenue, detected_week=4)  # last week's news
    new = finding(quarter, quarter.north, kind="stale_progress", detected_week=5)
    gone = finding(quarter, quarter.churn, state=Finding.State.RESOLVED, detected_week=3)
    FindingEvent.objects.create(finding=gone, action=FindingEvent.Action.RESOLVED, at=after(5), note="Gone.")
    scores(quarter, quarter.revenue, {4: 40, 5: 42})
    scores(quarter, quarter.north, {4: 10, 5: 55})
    scores(quarter, quarter.churn, {4: 30, 5: 4})

    changes = dashboard_of(quarter.world.admin, quarter).changes

    assert changes is not None
    assert changes.since_week == 4
    assert [line.goal.title for line in changes.new] == [quarter.north.title]
    assert changes.new[0].kind_label == "Stale progress"
    assert new.first_detected_week == 5
    assert [line.goal.title for line in changes.resolved] == [quarter.churn.title]
    assert [(move.goal.title, move.change) for move in changes.moves] == [
        (quarter.north.title, 45),
        (quarter.churn.title, -26),
    ]


def test_headline_figures_count_linked_effort_check_ins_and_the_pulse(quarter: Quarter) -> None:
    world = quarter.world
    # Everyone joined before the quarter, so everyone was expected to check in.
    Membership.objects.update(joined_at=STARTS_AT - timedelta(days=30))
    jira = connect("jira")
    ingest_services.mapping_rule_create(
        integration=jira, match={"project": "ONB"}, key_result=quarter.revenue
    )
    ingest_services.identity_link_account(
        provider="jira", external_id=EINAR["accountId"], membership=world.report
    )
    for week, keys in {
        4: ["ONB-1", "ONB-2", "ONB-3", "SUP-1"],
        5: ["ONB-1", "SUP-1", "SUP-2", "SUP-3"],
    }.items():
        for index, key in enumerate(keys):
            issue = jira_issue(str(abs(hash(key)) % 10**7), key, project=key.split("-")[0], epic=None)
            ingest(jira, jira_comment(issue, comment_id=str(next(_comment_ids)), at=during(week, index)))
    # The effort figures are the ones the scoring after week 5 stored.
    drift_services.recompute(world.organization, as_of=after(5), cycle=quarter.cycle)
    week_five = CYCLE_START + timedelta(days=28)
    friday = datetime.combine(week_five + timedelta(days=4), time(10), tzinfo=UTC)
    for person in (world.report, world.manager):
        checkins.check_in_submit(
            author=person,
            week=week_five,
            priorities=[PriorityEntry(text="Close the northern deals", unlinked=True)],
            at=friday,
        )
    for person, score in [
        (world.admin, 5),
        (world.manager, 4),
        (world.report, 2),
        (world.peer, 4),
        (world.indirect_report, 3),
    ]:
        checkins.pulse_answer_record(membership=person, score=score, week=week_five, at=friday)

    headline = dashboard_of(world.admin, quarter).headline

    assert headline is not None
    assert headline.effort_this_week.share == pytest.approx(0.25)
    assert headline.effort_last_week.share == pytest.approx(0.75)
    assert headline.effort_change_points == -50
    assert headline.effort_tone == "bad"
    assert headline.check_in_week == week_five
    assert (headline.check_ins.submitted, headline.check_ins.expected) == (2, 5)
    assert (headline.pulse.answers, headline.pulse.high, headline.pulse_percent) == (5, 3, "60%")
    assert linked_effort(quarter.cycle, [0, 4, 9]) == {4: headline.effort_last_week}


def test_before_any_scoring_the_reference_week_is_the_last_week_that_has_ended(quarter: Quarter) -> None:
    dashboard = leader_dashboard(
        quarter.world.admin, quarter.cycle, cycles=[quarter.cycle], query={}, now=during(3, day=2)
    )

    assert dashboard.week == 2
    assert dashboard.diverging == []


# --- The dashboard page -----------------------------------------------------------------------------


def test_every_member_sees_the_dashboard_of_the_current_cycle(quarter: Quarter) -> None:
    finding(quarter, quarter.north, explanation="The northern team moved to support tickets.")
    scores(quarter, quarter.north, {3: 52})

    for person in (quarter.world.admin, quarter.world.manager, quarter.world.peer):
        page = text(client_for(person).get(url("organization_home", quarter)))
        assert quarter.north.title in page
        assert "The northern team moved to support tickets." in page
        assert f'href="{drift_url(quarter.north, quarter.slug)}"' in page
        assert "Since week 3</strong> · 20 Jul" in page


def test_filters_are_links_and_htmx_gets_only_the_live_part(quarter: Quarter) -> None:
    finding(quarter, quarter.revenue)
    finding(quarter, quarter.north)
    client = client_for(quarter.world.admin)
    home = url("organization_home", quarter)

    page = text(client.get(home, {"team": quarter.world.team.pk}))
    assert quarter.north.title in page
    assert quarter.revenue.title not in page
    assert f'<option value="{quarter.world.team.pk}" selected>' in page

    part = client.get(home, {"level": "company"}, HTTP_HX_REQUEST="true")
    body = text(part)
    assert part.status_code == 200
    assert "<html" not in body
    assert 'id="drift-live"' in body
    assert quarter.revenue.title in body
    assert quarter.north.title not in body
    assert "HX-Request" in part["Vary"]


def test_an_unknown_cycle_is_a_404(quarter: Quarter, globex: OrgWorld) -> None:
    with tenant_context(globex.organization):
        foreign = make_cycle("Globex 2026-Q3")
    client = client_for(quarter.world.admin)

    assert client.get(url("organization_home", quarter), {"cycle": foreign.pk}).status_code == 404
    assert client.get(url("organization_home", quarter), {"cycle": "x"}).status_code == 404
    assert client.get(url("organization_home", quarter), {"cycle": quarter.cycle.pk}).status_code == 200


def test_the_open_dashboard_polls_and_is_refreshed_only_when_new_scoring_lands(quarter: Quarter) -> None:
    finding(quarter, quarter.revenue)
    scores(quarter, quarter.revenue, {2: 30})
    client = client_for(quarter.world.admin)
    home = url("organization_home", quarter)
    page = client.get(home).content.decode()
    poll = re.search(r'id="drift-live"[^>]*hx-get="([^"]+)"', page)
    assert poll is not None
    assert 'hx-trigger="every 30s, drift-poll"' in page
    poll_url = poll.group(1).replace("&amp;", "&")
    stamp = scoring_state(quarter.cycle).stamp
    assert f"since={stamp}" in poll_url

    unchanged = client.get(poll_url, HTTP_HX_REQUEST="true")
    assert unchanged.status_code == 204
    assert unchanged.content == b""

    scores(quarter, quarter.north, {2: 70})
    finding(quarter, quarter.north, explanation="Freshly scored.")
    refreshed = client.get(poll_url, HTTP_HX_REQUEST="true")
    assert refreshed.status_code == 200
    assert "Freshly scored." in text(refreshed)
    assert f"since={scoring_state(quarter.cycle).stamp}" in text(refreshed)
    # Without htmx the stamp is ignored: the whole page.
    assert "<html" in client.get(poll_url).content.decode()


def test_a_fresh_organisation_is_told_what_to_do_next(db: None) -> None:
    world = make_organization("Fresh")
    client = client_for(world.admin)
    home = reverse("organization_home", kwargs={"org_slug": world.slug})

    page = text(client.get(home))
    assert "No cycle yet" in page
    assert f'href="{reverse("goals:cycle_create", kwargs={"org_slug": world.slug})}"' in page
    assert "Connect Jira, Slack or HubSpot" in page
    assert f'href="{reverse("integrations:overview", kwargs={"org_slug": world.slug})}"' in page

    with tenant_context(world.organization):
        cycle = make_cycle("Fresh 2026-Q3")
    page = text(client.get(home))
    assert f"No goals in {cycle.name} yet" in page
    assert (
        f'href="{reverse("goals:objective_create", kwargs={"org_slug": world.slug, "cycle_id": cycle.pk})}"'
        in page
    )

    employee_page = text(client_for(world.peer).get(home))
    assert "An admin connects them." in employee_page
    assert f'href="{reverse("integrations:overview", kwargs={"org_slug": world.slug})}"' not in employee_page


def test_a_lone_founder_is_asked_to_invite_the_team(db: None) -> None:
    from tests.factories import make_user

    founder = make_user(name="Solo Founder")
    organization = people_services.organization_create(name="Solo", slug="solo-co", first_admin=founder)
    client = client_for(founder)

    page = text(client.get(reverse("organization_home", kwargs={"org_slug": organization.slug})))

    assert "Invite the team" in page
    assert f'href="{reverse("invite", kwargs={"org_slug": organization.slug})}"' in page


def test_no_drift_says_so_once_the_engine_has_scored(quarter: Quarter) -> None:
    connect("jira")
    scores(quarter, quarter.revenue, {3: 4})

    page = text(client_for(quarter.world.admin).get(url("organization_home", quarter)))

    assert "No goal is drifting" in page
    assert "In week 3 the work, the check-ins and the goals agree." in page


# --- The goal drift page ----------------------------------------------------------------------------


@dataclass
class Evidence:
    finding: Finding
    check_in_id: int


def with_evidence(quarter: Quarter) -> Evidence:
    """Jira work on the revenue key result in week 2 and on unlinked support work in week 3 by the report, a
    check-in saying on track, and a finding whose evidence points at all of it."""
    world = quarter.world
    jira = connect("jira")
    ingest_services.mapping_rule_create(
        integration=jira, match={"project": "ONB"}, key_result=quarter.revenue
    )
    ingest_services.identity_link_account(
        provider="jira", external_id=EINAR["accountId"], membership=world.report
    )
    ingest(
        jira,
        jira_comment(
            jira_issue("7001", "ONB-7", project="ONB", epic=None, summary="SSO wizard"),
            comment_id="1",
            at=during(2),
        ),
    )
    ingest(
        jira,
        jira_comment(
            jira_issue("7002", "SUP-9", project="SUP", epic=None, summary="Escalated outage"),
            comment_id="2",
            at=during(3),
        ),
    )
    week_two = CYCLE_START + timedelta(days=7)
    check_in = checkins.check_in_submit(
        author=world.report,
        week=week_two,
        priorities=[PriorityEntry(text="Ship the SSO wizard", key_result=quarter.revenue)],
        key_result_updates=[
            KeyResultUpdateEntry(key_result=quarter.revenue, status=KeyResultStatus.ON_TRACK)
        ],
        at=datetime.combine(week_two + timedelta(days=4), time(10), tzinfo=UTC),
    )
    update = check_in.key_result_updates.get()
    row = finding(
        quarter,
        quarter.revenue,
        kind="status_contradiction",
        explanation="Check-ins call it on track while the work went to support.",
        evidence=[
            {
                "kind": "key_result_activity",
                "key_result_id": quarter.revenue.pk,
                "person_id": world.report.pk,
                "week": 2,
                "value": 1.0,
            },
            {
                "kind": "unlinked_activity",
                "theme_id": "jira:project:SUP",
                "person_id": world.report.pk,
                "week": 3,
                "value": 1.0,
            },
            {
                "kind": "checkin",
                "ref": update.pk,
                "week": 2,
                "person_id": world.report.pk,
                "key_result_id": quarter.revenue.pk,
            },
        ],
    )
    scores(quarter, quarter.revenue, {2: 20, 3: 58})
    return Evidence(finding=row, check_in_id=check_in.pk)


def test_the_goal_drift_page_shows_pace_effort_one_timeline_and_the_evidence_with_links(
    quarter: Quarter,
) -> None:
    evidence = with_evidence(quarter)

    response = client_for(quarter.world.manager).get(drift_url(quarter.revenue, quarter.slug))

    page = text(response)
    assert response.status_code == 200
    assert "Check-ins call it on track while the work went to support." in page
    assert "Drifting since week 3 · 20 July" in page
    assert "Progress against the expected pace" in page
    assert 'class="series pace-chart"' in page
    assert "Where the effort went" in page
    assert "Jira project SUP" in page
    # One timeline: the finding's onset, the goal's edits and the check-in on the same week axis.
    assert 'class="series timeline-chart"' in page
    assert "Status contradiction begins" in page
    assert "Goal created" in page
    assert "Acme Report: on track" in page
    # Evidence links back to Jira and to the check-in.
    assert f'href="{SITE}/browse/ONB-7"' in page
    assert "ONB-7 SSO wizard" in page
    assert f'href="{SITE}/browse/SUP-9"' in page
    assert (
        reverse(
            "goals:check_in_detail", kwargs={"org_slug": quarter.slug, "check_in_id": evidence.check_in_id}
        )
        in page
    )


def test_evidence_of_people_outside_the_viewers_reporting_line_is_counted_but_not_listed(
    quarter: Quarter,
) -> None:
    evidence = with_evidence(quarter)
    check_in_url = reverse(
        "goals:check_in_detail", kwargs={"org_slug": quarter.slug, "check_in_id": evidence.check_in_id}
    )

    peer_page = text(client_for(quarter.world.peer).get(drift_url(quarter.revenue, quarter.slug)))

    assert "Check-ins call it on track while the work went to support." in peer_page
    assert "ONB-7 SSO wizard" not in peer_page
    assert "SUP-9" not in peer_page
    assert "The work of 1 person outside your reporting line counts here but is not listed." in peer_page
    assert check_in_url not in peer_page
    own_page = text(client_for(quarter.world.report).get(drift_url(quarter.revenue, quarter.slug)))
    assert "ONB-7 SSO wizard" in own_page
    assert check_in_url in own_page


def test_an_objective_has_a_drift_page_with_its_key_results(quarter: Quarter) -> None:
    finding(quarter, quarter.company, kind="kpi_conflict", explanation="Green KPIs, red objective.")
    finding(quarter, quarter.revenue)
    scores(quarter, quarter.revenue, {3: 48})
    scores(quarter, quarter.company, {3: 33})

    page = text(client_for(quarter.world.peer).get(drift_url(quarter.company, quarter.slug)))

    assert "Green KPIs, red objective." in page
    assert "KPI conflict" in page
    assert f'href="{drift_url(quarter.revenue, quarter.slug)}"' in page
    assert "1 open finding" in page


def test_vendor_links_are_built_from_the_integration_settings_when_the_payload_gave_none() -> None:
    jira = WorkItem(provider="jira", kind="issue", external_id="1", key="ONB-7", url="")
    slack = WorkItem(
        provider="slack",
        kind="thread",
        external_id="C1:1792068471.135553",
        key="C1:1792068471.135553",
        url="",
        attributes={"channel": "C1", "thread_ts": "1792068471.135553"},
    )
    deal = WorkItem(provider="hubspot", kind="deal", external_id="555", key="555", url="")
    call = WorkItem(provider="hubspot", kind="engagement", external_id="call:77", key="call:77", url="")
    given = WorkItem(
        provider="jira", kind="issue", external_id="2", key="X-1", url="https://jira.example/X-1"
    )

    assert (
        work_item_url(jira, {"site": "https://acme.atlassian.net/"})
        == "https://acme.atlassian.net/browse/ONB-7"
    )
    assert work_item_url(slack, {"workspace_url": "https://acme.slack.com"}) == (
        "https://acme.slack.com/archives/C1/p1792068471135553"
    )
    assert work_item_url(deal, {"portal_id": "24800001"}) == (
        "https://app.hubspot.com/contacts/24800001/record/0-3/555"
    )
    assert work_item_url(call, {"portal_id": "24800001"}) == (
        "https://app.hubspot.com/contacts/24800001/record/0-48/77"
    )
    assert work_item_url(given, {}) == "https://jira.example/X-1"
    assert work_item_url(jira, {}) == ""


# --- Acting on findings -----------------------------------------------------------------------------


def act(client: Client, quarter: Quarter, row: Finding, action: str, note: str = "") -> Any:
    return client.post(url(f"alignment:finding_{action}", quarter, finding_id=row.pk), {"note": note})


def test_the_goals_manager_acknowledges_then_resolves_a_finding_with_notes_kept_in_its_history(
    quarter: Quarter,
) -> None:
    row = finding(quarter, quarter.north)
    client = client_for(quarter.world.manager)

    response = act(client, quarter, row, "acknowledge", "Talking to the team on Monday.")

    assert response.status_code == 302
    assert response.url == f"{drift_url(quarter.north, quarter.slug)}#finding-{row.pk}"
    row.refresh_from_db()
    assert row.state == Finding.State.ACKNOWLEDGED
    assert row.acknowledged_by == quarter.world.manager
    refused = act(client, quarter, row, "resolve", "   ")
    assert refused.status_code == 400
    assert "Say why the finding is resolved." in text(refused)
    row.refresh_from_db()
    assert row.state == Finding.State.ACKNOWLEDGED
    act(client, quarter, row, "resolve", "Support rota moved to another team.")
    row.refresh_from_db()
    assert row.state == Finding.State.RESOLVED
    assert row.state_note == "Support rota moved to another team."
    events = list(
        FindingEvent.objects.filter(finding=row).order_by("at", "id").values_list("action", "by", "note")
    )
    assert events[1:] == [
        (FindingEvent.Action.ACKNOWLEDGED, quarter.world.manager.pk, "Talking to the team on Monday."),
        (FindingEvent.Action.RESOLVED, quarter.world.manager.pk, "Support rota moved to another team."),
    ]


def test_someone_who_may_not_manage_the_goal_cannot_act_on_its_findings(quarter: Quarter) -> None:
    row = finding(quarter, quarter.north)

    response = act(client_for(quarter.world.peer), quarter, row, "acknowledge", "Mine now.")

    assert response.status_code == 404
    row.refresh_from_db()
    assert row.state == Finding.State.OPEN
    page = text(client_for(quarter.world.peer).get(drift_url(quarter.north, quarter.slug)))
    assert "Acknowledge</button>" not in page


def test_another_organisations_goals_and_findings_are_404(quarter: Quarter, globex: OrgWorld) -> None:
    row = finding(quarter, quarter.north)
    outsider = client_for(globex.admin)
    with tenant_context(globex.organization):
        own = build_quarter(globex)

    for path in (drift_url(quarter.north, quarter.slug), drift_url(quarter.company, quarter.slug)):
        assert outsider.get(path).status_code == 404
    # The foreign ids under the outsider's own organisation are not found either.
    assert outsider.get(drift_url(quarter.north, own.slug)).status_code == 404
    assert outsider.get(drift_url(quarter.company, own.slug)).status_code == 404
    assert act(outsider, own, row, "acknowledge", "x").status_code == 404
    assert act(outsider, quarter, row, "resolve", "x").status_code == 404
    row.refresh_from_db()
    assert row.state == Finding.State.OPEN


# --- Query budgets ----------------------------------------------------------------------------------

DASHBOARD_QUERY_BUDGET = 33
GOAL_PAGE_QUERY_BUDGET = 42


def grow(quarter: Quarter, size: int) -> None:
    """``size`` more objectives with two key results each, findings on all of them, ten weeks of scores."""
    world = quarter.world
    for index in range(size):
        objective = make_objective(
            quarter.cycle,
            world.admin,
            title=f"Objective {index}",
            as_given=True,  # more than five for one owner: kept as a warning, not refused
        )
        goals: list[KeyResult | Objective] = [objective]
        for number in range(2):
            goals.append(
                make_key_result(
                    objective,
                    world.report,
                    title=f"KR {index}.{number} from 0 to 10",
                    baseline=0,
                    target=10,
                    as_given=True,
                )
            )
        for goal in goals:
            finding(quarter, goal, detected_week=9)
            scores(quarter, goal, {week: 10 + week * 3 for week in range(1, 11)})


def count_queries(action: Callable[[], Any]) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = action()
    assert response.status_code == 200
    return len(captured)


def test_the_dashboard_query_count_does_not_grow_with_the_data(
    quarter: Quarter, django_assert_max_num_queries: Any
) -> None:
    connect("jira")
    finding(quarter, quarter.revenue, detected_week=9)
    scores(quarter, quarter.revenue, {9: 30, 10: 35})
    client = client_for(quarter.world.admin)
    home = url("organization_home", quarter)
    client.get(home)
    small = count_queries(lambda: client.get(home))

    grow(quarter, 12)
    with django_assert_max_num_queries(DASHBOARD_QUERY_BUDGET):
        large = client.get(home)
    assert large.status_code == 200
    assert count_queries(lambda: client.get(home)) == small
    everything = client.get(f"{home}?show=all")
    assert text(everything).count('class="drift-row"') == 1 + 12 * 3
    assert count_queries(lambda: client.get(f"{home}?show=all")) == small


def test_the_dashboard_lists_the_top_diverging_goals_and_offers_the_rest(quarter: Quarter) -> None:
    connect("jira")
    grow(quarter, 12)
    client = client_for(quarter.world.admin)
    home = url("organization_home", quarter)

    top = text(client.get(home))
    assert top.count('class="drift-row"') == TOP_DIVERGING
    assert "top 25 shown" in top
    assert "Show all 36 diverging goals" in top
    assert "11 more, with lower scores" in top

    everything = text(client.get(f"{home}?show=all&level=team"))
    assert "Show all" not in everything
    # Showing everything is kept when the filters change.
    assert 'name="show" value="all"' in everything


def test_the_goal_drift_page_query_count_does_not_grow_with_the_data(
    quarter: Quarter, django_assert_max_num_queries: Any
) -> None:
    evidence = with_evidence(quarter)
    client = client_for(quarter.world.manager)
    page = drift_url(quarter.revenue, quarter.slug)
    client.get(page)
    small = count_queries(lambda: client.get(page))

    for kind in ("priority_shift", "stale_progress", "ownership_gap"):
        finding(quarter, quarter.revenue, kind=kind, evidence=evidence.finding.evidence * 5)
    for week in range(4, 9):
        FindingEvent.objects.create(
            finding=evidence.finding, action=FindingEvent.Action.ACKNOWLEDGED, at=after(week), note="Seen."
        )
    with django_assert_max_num_queries(GOAL_PAGE_QUERY_BUDGET):
        assert client.get(page).status_code == 200
    assert count_queries(lambda: client.get(page)) == small
