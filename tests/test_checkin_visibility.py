"""Who sees which check-in: the author, and everyone above them in the reporting line, whatever their role.
Feedback for a manager is read by that manager only. Every other case is a 404. Also the manager's inbox,
the 1:1 agenda and the key result picker, which are built on the same rules."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.http import Http404

from goals import checkin_selectors as selectors
from goals import checkins
from goals.checkin_selectors import AgendaSection
from goals.checkins import KeyResultUpdateEntry, PriorityEntry
from goals.models import CheckIn, KeyResultStatus
from okrsignal import services
from okrsignal.models import Membership, Role
from okrsignal.tenancy import tenant_context
from tests.checkin_factories import FRIDAY, WEEK, make_check_in_goals
from tests.factories import OrgWorld, make_user


@pytest.fixture
def goals(acme: OrgWorld) -> dict[str, Any]:
    with tenant_context(acme.organization):
        return make_check_in_goals(acme)


@pytest.fixture
def outside_admin(acme: OrgWorld) -> Membership:
    """An admin nobody reports to."""
    with tenant_context(acme.organization):
        membership = Membership.objects.create(user=make_user(name="Acme Outside Admin"), role=Role.ADMIN)
        return services.membership_update(
            membership=membership, role=Role.ADMIN, team=acme.team, manager=None
        )


def submit(author: Membership, goals: dict[str, Any], **changes: Any) -> CheckIn:
    parts: dict[str, Any] = {
        "priorities": [PriorityEntry(text="Close the Baltic renewal", unlinked=True)],
        "upward_feedback": "Fewer status meetings, please.",
        "next_week_success": "The renewal is signed.",
        **changes,
    }
    return checkins.check_in_submit(author=author, week=WEEK, at=FRIDAY, **parts)


@pytest.fixture
def report_check_in(acme: OrgWorld, goals: dict[str, Any]) -> CheckIn:
    with tenant_context(acme.organization):
        return submit(acme.report, goals)


# --- Single check-ins -------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["report", "manager", "admin"])
def test_the_author_and_everyone_above_see_a_check_in(
    acme: OrgWorld, report_check_in: CheckIn, who: str
) -> None:
    with tenant_context(acme.organization):
        assert selectors.visible_check_in(getattr(acme, who), report_check_in.pk) == report_check_in


@pytest.mark.parametrize("who", ["peer", "indirect_report"])
def test_a_peer_or_someone_below_gets_404(acme: OrgWorld, report_check_in: CheckIn, who: str) -> None:
    with tenant_context(acme.organization), pytest.raises(Http404):
        selectors.visible_check_in(getattr(acme, who), report_check_in.pk)


def test_an_admin_outside_the_reporting_line_gets_404(
    acme: OrgWorld, report_check_in: CheckIn, outside_admin: Membership
) -> None:
    with tenant_context(acme.organization):
        with pytest.raises(Http404):
            selectors.visible_check_in(outside_admin, report_check_in.pk)
        assert not selectors.visible_check_ins(outside_admin).exists()


def test_the_reporting_line_decides_not_the_role(acme: OrgWorld, goals: dict[str, Any]) -> None:
    """The report is an employee, yet sees the check-ins of the person who reports to them."""
    with tenant_context(acme.organization):
        check_in = submit(acme.indirect_report, goals)
        assert acme.report.role == Role.EMPLOYEE
        assert selectors.visible_check_in(acme.report, check_in.pk) == check_in
        assert selectors.visible_check_in(acme.admin, check_in.pk) == check_in


def test_a_draft_is_its_authors_alone(acme: OrgWorld, goals: dict[str, Any]) -> None:
    with tenant_context(acme.organization):
        draft = checkins.check_in_save_draft(author=acme.report, week=WEEK, blockers="Thinking", at=FRIDAY)
        assert selectors.visible_check_in(acme.report, draft.pk) == draft
        with pytest.raises(Http404):
            selectors.visible_check_in(acme.manager, draft.pk)


def test_an_id_that_is_not_a_number_is_404(acme: OrgWorld) -> None:
    with tenant_context(acme.organization), pytest.raises(Http404):
        selectors.visible_check_in(acme.admin, "1 OR 1=1")


def test_upward_feedback_is_read_by_the_author_and_their_manager_only(
    acme: OrgWorld, report_check_in: CheckIn
) -> None:
    readers = {
        who
        for who in ("report", "manager", "admin", "peer", "indirect_report")
        if selectors.may_read_upward_feedback(getattr(acme, who), report_check_in)
    }
    assert readers == {"report", "manager"}


def test_the_list_shows_own_check_ins_and_the_reporting_lines(acme: OrgWorld, goals: dict[str, Any]) -> None:
    with tenant_context(acme.organization):
        by_report = submit(acme.report, goals)
        by_indirect = submit(acme.indirect_report, goals)
        by_peer = submit(acme.peer, goals)
        own_draft = checkins.check_in_save_draft(author=acme.manager, week=WEEK, at=FRIDAY)

        def visible(who: Membership) -> set[int]:
            return set(selectors.visible_check_ins(who).values_list("pk", flat=True))

        assert visible(acme.manager) == {by_report.pk, by_indirect.pk, own_draft.pk}
        assert visible(acme.report) == {by_report.pk, by_indirect.pk}
        assert visible(acme.peer) == {by_peer.pk}
        assert visible(acme.admin) == {by_report.pk, by_indirect.pk, by_peer.pk}


# --- The inbox --------------------------------------------------------------------------------------


def test_the_inbox_lists_everyone_below_those_needing_attention_first(
    acme: OrgWorld, goals: dict[str, Any]
) -> None:
    with tenant_context(acme.organization):
        submit(acme.manager, goals)  # nothing to worry about
        submit(acme.report, goals, blockers="Legal is slow")
        submit(
            acme.indirect_report,
            goals,
            key_result_updates=[
                KeyResultUpdateEntry(key_result=goals["revenue"], status=KeyResultStatus.BLOCKED)
            ],
        )
        checkins.check_in_save_draft(author=acme.peer, week=WEEK, blockers="Not sent yet", at=FRIDAY)

        inbox = selectors.team_inbox(acme.admin, WEEK)

    assert [(row.membership, row.rank) for row in inbox] == [
        (acme.indirect_report, 0),
        (acme.report, 0),
        (acme.manager, 1),
        (acme.peer, 2),
    ]
    assert [row.is_direct_report for row in inbox] == [False, False, True, True]
    assert inbox[0].key_results_needing_attention[0].key_result == goals["revenue"]
    assert inbox[3].check_in is None  # a draft is not a check-in yet


def test_the_inbox_costs_the_same_queries_however_many_check_ins(
    acme: OrgWorld, goals: dict[str, Any], django_assert_max_num_queries: Any
) -> None:
    with tenant_context(acme.organization):
        submit(acme.report, goals)
        with django_assert_max_num_queries(6):
            selectors.team_inbox(acme.admin, WEEK)
        submit(acme.manager, goals)
        submit(acme.indirect_report, goals)
        submit(acme.peer, goals)
        with django_assert_max_num_queries(6):
            rows = selectors.team_inbox(acme.admin, WEEK)
            [update.key_result.title for row in rows for update in row.key_results_needing_attention]


# --- The 1:1 agenda ---------------------------------------------------------------------------------


@pytest.fixture
def history(acme: OrgWorld, goals: dict[str, Any]) -> list[CheckIn]:
    """Three weeks of the report's check-ins, oldest first."""
    revenue, north = goals["revenue"], goals["north"]
    weeks = [
        ("Old blocker", [(revenue, KeyResultStatus.BLOCKED), (north, KeyResultStatus.ON_TRACK)]),
        ("", [(revenue, KeyResultStatus.AT_RISK), (north, KeyResultStatus.AT_RISK)]),
        ("Legal is slow", [(revenue, KeyResultStatus.ON_TRACK)]),
    ]
    made = []
    with tenant_context(acme.organization):
        for number, (blockers, statuses) in enumerate(weeks):
            week = WEEK + timedelta(days=7 * number)
            made.append(
                checkins.check_in_submit(
                    author=acme.report,
                    week=week,
                    priorities=[PriorityEntry(text="Close the renewal", key_result=revenue)],
                    key_result_updates=[
                        KeyResultUpdateEntry(key_result=key_result, status=status)
                        for key_result, status in statuses
                    ],
                    blockers=blockers,
                    upward_feedback=f"Feedback {week}",
                    next_week_success=f"Success {week}",
                    at=FRIDAY + (week - WEEK),
                )
            )
    return made


def agenda_for(acme: OrgWorld, manager: Membership) -> Any:
    return selectors.one_on_one_agenda(manager, acme.report, weeks=4, at=FRIDAY + timedelta(days=14))


def test_the_agenda_gathers_blockers_risky_key_results_and_open_questions(
    acme: OrgWorld, goals: dict[str, Any], history: list[CheckIn]
) -> None:
    with tenant_context(acme.organization):
        checkins.check_in_mark_discussed(check_in=history[0], by=acme.manager)
        checkins.check_in_reply(check_in=history[1], by=acme.manager, text="Noted")
        agenda = agenda_for(acme, acme.manager)

    assert [item.text for item in agenda.blockers] == ["Legal is slow"]  # the old one was discussed
    # Revenue was last reported on track; north was last reported at risk (the week before).
    assert [(item.key_result, item.kind) for item in agenda.key_results] == [(goals["north"], "at_risk")]
    assert [(item.check_in, item.kind) for item in agenda.open_questions] == [
        (history[2], "upward_feedback"),
        (history[2], "next_week_success"),
        (history[0], "upward_feedback"),
        (history[0], "next_week_success"),
    ]


def test_feedback_for_another_manager_stays_off_the_agenda(acme: OrgWorld, history: list[CheckIn]) -> None:
    with tenant_context(acme.organization):
        agenda = agenda_for(acme, acme.admin)
    assert {item.kind for item in agenda.open_questions} == {"next_week_success"}


def test_the_agenda_of_someone_outside_the_line_is_404(acme: OrgWorld, history: list[CheckIn]) -> None:
    with tenant_context(acme.organization), pytest.raises(Http404):
        selectors.one_on_one_agenda(acme.peer, acme.report)


def findings_section(manager: Membership, report: Membership, check_ins: Any) -> AgendaSection:
    return AgendaSection(title=f"Findings for {report}", items=[])


@pytest.fixture
def extra_section(settings: Any) -> None:
    settings.ONE_ON_ONE_AGENDA_SECTIONS = [
        *settings.ONE_ON_ONE_AGENDA_SECTIONS,
        f"{__name__}.findings_section",
    ]


@pytest.mark.usefixtures("extra_section")
def test_further_sections_join_the_agenda(acme: OrgWorld, history: list[CheckIn]) -> None:
    with tenant_context(acme.organization):
        agenda = agenda_for(acme, acme.manager)
    assert [section.title for section in agenda.sections] == [f"Findings for {acme.report}"]


# --- The key result picker --------------------------------------------------------------------------


def test_the_picker_offers_current_key_results_own_first_with_their_line_of_sight(
    acme: OrgWorld, goals: dict[str, Any]
) -> None:
    with tenant_context(acme.organization):
        choices = selectors.key_result_search(acme.indirect_report, "revenue", week=WEEK)
        assert [(choice.key_result, choice.is_own) for choice in choices] == [
            (goals["revenue"], True),
            (goals["churn"], False),  # its objective's title says revenue
            (goals["north"], False),
        ]
        assert choices[2].line_of_sight == (
            "The key result 'Northern recurring revenue from 2 to 6' rolls up to Acme Platform team's "
            "'Grow recurring revenue in the north', "
            "which serves the company objective 'Grow recurring revenue'."
        )
        # Every word counts, in the key result's or its objective's title; next year's cycle is not offered.
        assert [
            c.key_result for c in selectors.key_result_search(acme.report, "north revenue", week=WEEK)
        ] == [goals["north"]]
        assert [c.key_result for c in selectors.key_result_search(acme.report, "", week=WEEK)] == [
            goals["north"],
            goals["revenue"],
        ]
