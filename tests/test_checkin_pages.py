"""The check-in pages: one's own check-in (pre-filled from last week, saved as a draft while it is typed,
refused with a message on each field and nothing lost), a check-in with its replies, the team inbox and
the 1:1 agenda. Who may see what is the selectors' (a peer gets a 404); these tests hold the pages to it."""

from __future__ import annotations

import html
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from goals import checkins, services
from goals.checkin_selectors import organization_week
from goals.checkins import KeyResultUpdateEntry, PriorityEntry
from goals.models import CheckIn, CheckInReply, CheckInState, KeyResult, KeyResultStatus, PulseAnswer
from okrsignal.models import Membership
from okrsignal.tenancy import tenant_context
from tests.checkin_factories import make_check_in_goals
from tests.conftest import client_for
from tests.factories import OrgWorld, make_organization

HTMX = {"HX-Request": "true"}


@pytest.fixture
def goals(acme: OrgWorld) -> dict[str, Any]:
    """The check-in goals of ``tests.checkin_factories`` in a cycle that runs this week."""
    today = timezone.localdate()
    with tenant_context(acme.organization):
        cycle = services.cycle_create(
            name="This quarter", start=today - timedelta(days=30), end=today + timedelta(days=60)
        )
        return make_check_in_goals(acme, cycle)


@pytest.fixture
def this_week(acme: OrgWorld) -> Any:
    with tenant_context(acme.organization):
        return organization_week(acme.report)


def url(world: OrgWorld, name: str, **kwargs: object) -> str:
    return reverse(f"goals:{name}", kwargs={"org_slug": world.slug, **kwargs})


def text_of(response: Any) -> str:
    return html.unescape(response.content.decode())


def submit_for(
    world: OrgWorld, goals: dict[str, Any], author: Membership, week: Any, **parts: Any
) -> CheckIn:
    content: dict[str, Any] = {
        "priorities": [
            PriorityEntry(text="Renew the Baltic contracts", key_result=goals["revenue"]),
            PriorityEntry(text="Hire a second account manager", unlinked=True),
        ],
        "key_result_updates": [
            KeyResultUpdateEntry(
                key_result=goals["revenue"], status=KeyResultStatus.AT_RISK, note="Slow month"
            ),
            KeyResultUpdateEntry(key_result=goals["north"], status=KeyResultStatus.ON_TRACK),
        ],
        "blockers": "Legal has not reviewed the contract template",
        "upward_feedback": "Fewer status meetings, please",
        "next_week_success": "Two renewals signed",
        **parts,
    }
    with tenant_context(world.organization):
        return checkins.check_in_submit(author=author, week=week, **content)


def form_data(goals: dict[str, Any], **overrides: str) -> dict[str, str]:
    """A complete check-in as the report's browser would post it."""
    revenue, north = goals["revenue"], goals["north"]
    data = {
        "priority-1-text": "Close the Riga renewal",
        "priority-1-link": str(revenue.pk),
        "priority-2-text": "Write the onboarding guide",
        "priority-2-link": "unlinked",
        "priority-3-text": "",
        f"kr-{revenue.pk}-status": "blocked",
        f"kr-{revenue.pk}-value": "10.8",
        f"kr-{revenue.pk}-note": "Waiting on legal",
        f"kr-{north.pk}-status": "on_track",
        "blockers": "Legal review of the renewal template",
        "upward_feedback": "I would like more time for customer calls",
        "next_week_success": "Riga renewal signed",
        "pulse": "4",
    }
    data.update(overrides)
    return data


# --- My check-in ------------------------------------------------------------------------------------


def test_the_form_is_prefilled_from_last_week_with_the_previous_check_in_beside_it(
    acme: OrgWorld, goals: dict[str, Any], this_week: Any
) -> None:
    submit_for(acme, goals, acme.report, this_week - timedelta(weeks=1))

    response = client_for(acme.report).get(url(acme, "check_in"))

    assert response.status_code == 200
    page = text_of(response)
    assert f"Week of {this_week:%-d %B %Y}" in page
    # Last week's outcomes, their links and the statuses last reported come back into the form.
    assert 'value="Renew the Baltic contracts"' in page
    revenue_id = goals["revenue"].pk
    assert f'id="priority-1-link-{revenue_id}" value="{revenue_id}" checked' in page
    assert 'id="priority-2-link-unlinked" value="unlinked" checked' in page
    assert f'name="kr-{goals["revenue"].pk}-status" value="at_risk"' in page
    assert (
        "Your key result 'Revenue from 10 to 12' serves the company objective 'Grow recurring revenue'."
        in page
    )
    # Last week's check-in, beside the form, and nothing of this week's texts pre-typed.
    assert "Last check-in" in page
    assert "Legal has not reviewed the contract template" in page
    assert ">Legal has not reviewed the contract template</textarea>" not in page
    # Feedback for the manager says who reads it.
    assert f"Only <strong>{acme.manager.user.full_name}</strong> reads this" in page


def test_a_first_check_in_with_no_goals_says_what_to_do(acme: OrgWorld) -> None:
    response = client_for(acme.peer).get(url(acme, "check_in"))

    assert response.status_code == 200
    page = text_of(response)
    assert "Your first check-in" in page
    assert "no cycle is running" in page
    assert "Your draft saves itself as you go" in page


def test_autosave_keeps_what_was_typed_as_a_draft(
    acme: OrgWorld, goals: dict[str, Any], this_week: Any
) -> None:
    client = client_for(acme.report)
    data = form_data(goals, **{"priority-1-link": "", f"kr-{goals['revenue'].pk}-status": ""})

    response = client.post(url(acme, "check_in") + "?autosave=1", data, headers=HTMX)

    assert response.status_code == 200
    assert "Saved" in text_of(response)
    with tenant_context(acme.organization):
        draft = CheckIn.objects.get(membership=acme.report, week=this_week)
        assert draft.state == CheckInState.DRAFT
        assert draft.blockers == "Legal review of the renewal template"
        assert [p.text for p in draft.priorities.order_by("position")] == [
            "Close the Riga renewal",
            "Write the onboarding guide",
        ]
        assert draft.priorities.get(position=2).unlinked
        revenue_update = draft.key_result_updates.get(key_result=goals["revenue"])
        assert (revenue_update.status, revenue_update.value) == ("", 10.8)
        assert PulseAnswer.objects.get(membership=acme.report, week=this_week).score == 4
        # Nothing reached the key result: only a submission records progress.
        assert KeyResult.objects.get(pk=goals["revenue"].pk).current_value is None

    page = text_of(client.get(url(acme, "check_in")))
    assert 'value="Close the Riga renewal"' in page
    assert ">\nLegal review of the renewal template</textarea>" in page
    assert 'value="10.8"' in page
    assert "Saved" in page


def test_autosave_reports_what_it_could_not_save(
    acme: OrgWorld, goals: dict[str, Any], this_week: Any
) -> None:
    data = form_data(goals, **{f"kr-{goals['revenue'].pk}-value": "1e300"})

    response = client_for(acme.report).post(url(acme, "check_in") + "?autosave=1", data, headers=HTMX)

    assert response.status_code == 200
    assert "Not saved" in text_of(response)
    with tenant_context(acme.organization):
        assert not CheckIn.objects.filter(membership=acme.report, week=this_week).exists()


def test_a_refused_submission_shows_each_message_on_its_field_and_loses_nothing(
    acme: OrgWorld, goals: dict[str, Any], this_week: Any
) -> None:
    data = form_data(
        goals, **{"priority-1-link": "", "priority-3-link": "unlinked", f"kr-{goals['north'].pk}-status": ""}
    )

    response = client_for(acme.report).post(url(acme, "check_in"), data)

    assert response.status_code == 200
    page = text_of(response)
    assert "3 things to fix before it can be submitted" in page
    assert "Outcome 1: Link it to a key result, or mark it unlinked." in page
    assert "Outcome 3: Say what the outcome is." in page
    assert "Northern recurring revenue from 2 to 6: Say whether it is on track, at risk or blocked." in page
    assert 'href="#priority-1-link"' in page
    # What was typed is on the page, and in the draft.
    assert 'value="Close the Riga renewal"' in page
    assert "I would like more time for customer calls</textarea>" in page
    with tenant_context(acme.organization):
        draft = CheckIn.objects.get(membership=acme.report, week=this_week)
        assert draft.state == CheckInState.DRAFT
        assert draft.upward_feedback == "I would like more time for customer calls"
        assert draft.key_result_updates.get(key_result=goals["revenue"]).status == "blocked"


def test_a_key_result_of_another_organisation_is_refused_on_its_field(
    acme: OrgWorld, goals: dict[str, Any]
) -> None:
    other = make_organization("Globex")
    with tenant_context(other.organization):
        foreign = make_check_in_goals(other)["revenue"]

    response = client_for(acme.report).post(
        url(acme, "check_in"), form_data(goals, **{"priority-1-link": str(foreign.pk)})
    )

    assert response.status_code == 200
    assert "Choose a key result from the list, or mark the outcome unlinked." in text_of(response)
    with tenant_context(acme.organization):
        assert not CheckIn.objects.filter(state=CheckInState.SUBMITTED).exists()


def test_submitting_records_the_check_in_and_the_new_value(
    acme: OrgWorld, goals: dict[str, Any], this_week: Any
) -> None:
    client = client_for(acme.report)
    response = client.post(url(acme, "check_in"), form_data(goals))

    with tenant_context(acme.organization):
        check_in = CheckIn.objects.get(membership=acme.report, week=this_week)
        assert check_in.state == CheckInState.SUBMITTED
        assert check_in.blockers == "Legal review of the renewal template"
        assert check_in.manager_id == acme.manager.pk
        assert check_in.priorities.get(position=1).key_result_id == goals["revenue"].pk
        assert KeyResult.objects.get(pk=goals["revenue"].pk).current_value == 10.8
        pulse = PulseAnswer.objects.get(membership=acme.report, week=this_week)
        assert (pulse.score, pulse.check_in_id) == (4, check_in.pk)
    assert response.status_code == 302
    assert response["Location"] == url(acme, "check_in_detail", check_in_id=check_in.pk)
    page = text_of(client.get(response["Location"]))
    assert f"Checked in for the week of {this_week:%-d %b}. {acme.manager.user.full_name} sees it" in page

    # The page of a submitted week says so, and autosave leaves the submitted check-in alone.
    page = text_of(client.get(url(acme, "check_in")))
    assert "Submit changes" in page
    assert "hx-post" not in page.split('id="checkin-form"')[1].split(">")[0]
    client.post(url(acme, "check_in") + "?autosave=1", form_data(goals, blockers="Changed"), headers=HTMX)
    with tenant_context(acme.organization):
        assert CheckIn.objects.get(pk=check_in.pk).blockers == "Legal review of the renewal template"


def test_past_weeks_are_navigable_and_a_future_week_shows_this_one(
    acme: OrgWorld, goals: dict[str, Any], this_week: Any
) -> None:
    last_week = this_week - timedelta(weeks=1)
    submit_for(acme, goals, acme.report, last_week)
    client = client_for(acme.report)

    past = text_of(client.get(url(acme, "check_in") + f"?week={last_week + timedelta(days=2)}"))
    assert f"Week of {last_week:%-d %B %Y}" in past
    assert "Submit changes" in past
    assert 'value="Renew the Baltic contracts"' in past

    for odd in (f"{this_week + timedelta(weeks=3)}", "not-a-date", "2026-02-30", "0001-01-01"):
        page = text_of(client.get(url(acme, "check_in") + f"?week={odd}"))
        assert f"Week of {this_week:%-d %B %Y}" in page


def test_key_result_search_answers_radio_buttons_for_one_row_with_the_chosen_one_first(
    acme: OrgWorld, goals: dict[str, Any]
) -> None:
    client = client_for(acme.report)
    search = url(acme, "check_in_key_results")

    response = client.get(
        search,
        {"row": "2", "priority-2-search": "churn", "priority-2-link": str(goals["north"].pk)},
        headers=HTMX,
    )

    assert response.status_code == 200
    page = text_of(response)
    assert "<html" not in page
    assert page.index(f'value="{goals["north"].pk}" checked') < page.index(f'value="{goals["churn"].pk}"')
    assert 'name="priority-2-link"' in page
    assert "The key result 'Churn from 5 to 3' serves the company objective 'Grow recurring revenue'." in page
    assert "Revenue from 10 to 12" not in page

    nothing = text_of(client.get(search, {"row": "1", "priority-1-search": "zebra"}, headers=HTMX))
    assert "No key result of this cycle matches “zebra”" in nothing

    # Opened directly, it is a page of the key results one may link, with their line of sight.
    full = text_of(client.get(search, {"q": "revenue"}))
    assert "Key results to link" in full
    assert "Northern recurring revenue from 2 to 6" in full
    assert "Revenue from 12 to 15" not in full  # next cycle's


# --- A check-in and its replies ---------------------------------------------------------------------


@pytest.fixture
def report_check_in(acme: OrgWorld, goals: dict[str, Any], this_week: Any) -> CheckIn:
    return submit_for(acme, goals, acme.report, this_week)


@pytest.mark.parametrize("who", ["report", "manager", "admin"])
def test_the_author_and_everyone_above_read_a_check_in(
    acme: OrgWorld, report_check_in: CheckIn, who: str
) -> None:
    response = client_for(getattr(acme, who)).get(
        url(acme, "check_in_detail", check_in_id=report_check_in.pk)
    )

    assert response.status_code == 200
    page = text_of(response)
    assert "Legal has not reviewed the contract template" in page
    assert "Renew the Baltic contracts" in page
    # Feedback for the manager is for the manager (and its author) only.
    assert ("Fewer status meetings, please" in page) == (who in ("report", "manager"))


@pytest.mark.parametrize("who", ["peer", "indirect_report"])
def test_a_peer_or_someone_below_gets_404_everywhere(
    acme: OrgWorld, report_check_in: CheckIn, who: str
) -> None:
    client = client_for(getattr(acme, who))
    check_in_id = report_check_in.pk

    assert client.get(url(acme, "check_in_detail", check_in_id=check_in_id)).status_code == 404
    assert (
        client.post(url(acme, "check_in_reply", check_in_id=check_in_id), {"text": "Hi"}).status_code == 404
    )
    assert client.post(url(acme, "check_in_discussed", check_in_id=check_in_id)).status_code == 404
    with tenant_context(acme.organization):
        assert not CheckInReply.objects.exists()
        assert CheckIn.objects.get(pk=check_in_id).discussed_at is None


def test_a_draft_is_its_authors_alone(acme: OrgWorld, goals: dict[str, Any], this_week: Any) -> None:
    with tenant_context(acme.organization):
        draft = checkins.check_in_save_draft(author=acme.report, week=this_week, blockers="Draft blocker")

    assert client_for(acme.manager).get(url(acme, "check_in_detail", check_in_id=draft.pk)).status_code == 404
    page = text_of(client_for(acme.report).get(url(acme, "check_in_detail", check_in_id=draft.pk)))
    assert "Continue the draft" in page
    assert "Replies come once the check-in is submitted." in page


def test_a_manager_replies_inline_and_marks_discussed_and_the_author_sees_the_reply(
    acme: OrgWorld, report_check_in: CheckIn
) -> None:
    manager = client_for(acme.manager)
    reply_url = url(acme, "check_in_reply", check_in_id=report_check_in.pk)

    empty = manager.post(reply_url, {"text": "  "}, headers=HTMX)
    assert empty.status_code == 200
    assert "Write the reply." in text_of(empty)

    response = manager.post(reply_url, {"text": "I will call legal today."}, headers=HTMX)
    assert response.status_code == 200
    thread = text_of(response)
    assert thread.startswith(f'\n<div class="thread" id="thread-{report_check_in.pk}">')
    assert "I will call legal today." in thread
    assert "Reply sent." in thread

    discussed = manager.post(url(acme, "check_in_discussed", check_in_id=report_check_in.pk), headers=HTMX)
    assert "Discussed" in text_of(discussed)

    author_page = text_of(
        client_for(acme.report).get(url(acme, "check_in_detail", check_in_id=report_check_in.pk))
    )
    assert "I will call legal today." in author_page
    assert "Discussed" in author_page
    assert "Mark discussed" not in author_page
    # The author cannot mark their own check-in discussed.
    own = client_for(acme.report).post(url(acme, "check_in_discussed", check_in_id=report_check_in.pk))
    assert own.status_code == 404


def test_a_reply_without_htmx_returns_to_the_check_in(acme: OrgWorld, report_check_in: CheckIn) -> None:
    manager = client_for(acme.manager)
    reply_url = url(acme, "check_in_reply", check_in_id=report_check_in.pk)

    refused = manager.post(reply_url, {"text": ""})
    assert refused.status_code == 200
    assert "Write the reply." in text_of(refused)

    sent = manager.post(reply_url, {"text": "Good week."})
    assert sent.status_code == 302
    assert sent["Location"].endswith("#replies")
    assert manager.get(reply_url).status_code == 405


# --- The team inbox and the 1:1 agenda --------------------------------------------------------------


def test_the_inbox_puts_blockers_first_and_lists_who_has_not_checked_in(
    acme: OrgWorld, goals: dict[str, Any], this_week: Any
) -> None:
    # The indirect report checks in with nothing wrong; the report has a blocker and a key result at risk.
    submit_for(
        acme,
        goals,
        acme.indirect_report,
        this_week,
        priorities=[PriorityEntry(text="Quiet week of customer calls", unlinked=True)],
        key_result_updates=[
            KeyResultUpdateEntry(key_result=goals["revenue"], status=KeyResultStatus.ON_TRACK)
        ],
        blockers="",
        upward_feedback="",
    )
    report_check_in = submit_for(acme, goals, acme.report, this_week)

    response = client_for(acme.admin).get(url(acme, "team_check_ins"))

    assert response.status_code == 200
    page = text_of(response)
    assert "Needs your attention" in page
    attention = page.index("Needs your attention")
    assert attention < page.index(acme.report.user.full_name, attention) < page.index("Checked in</h2>")
    assert page.index("Checked in</h2>") < page.index("Quiet week of customer calls")
    assert page.index("Not checked in yet</h2>") < page.index(acme.peer.user.full_name)
    assert "Legal has not reviewed the contract template" in page
    assert f'id="thread-{report_check_in.pk}"' in page
    assert "Mark discussed" in page
    # The admin is above the report but not the manager the feedback was written for.
    assert "Fewer status meetings, please" not in page
    assert "Fewer status meetings, please" in text_of(
        client_for(acme.manager).get(url(acme, "team_check_ins"))
    )


def test_the_inbox_for_someone_without_reports_is_an_empty_state(acme: OrgWorld) -> None:
    response = client_for(acme.peer).get(url(acme, "team_check_ins"))

    assert response.status_code == 200
    assert "Nobody reports to you" in text_of(response)


def test_the_inbox_of_a_past_week(acme: OrgWorld, goals: dict[str, Any], this_week: Any) -> None:
    last_week = this_week - timedelta(weeks=1)
    submit_for(acme, goals, acme.report, last_week)
    client = client_for(acme.manager)

    assert "Legal has not reviewed" not in text_of(client.get(url(acme, "team_check_ins")))
    past = text_of(client.get(url(acme, "team_check_ins") + f"?week={last_week}"))
    assert f"Week of {last_week:%-d %B %Y}" in past
    assert "Legal has not reviewed the contract template" in past


def test_the_inbox_reads_a_fixed_number_of_queries(
    acme: OrgWorld, goals: dict[str, Any], this_week: Any
) -> None:
    client = client_for(acme.admin)
    submit_for(acme, goals, acme.report, this_week)
    client.get(url(acme, "team_check_ins"))
    with CaptureQueriesContext(connection) as one:
        client.get(url(acme, "team_check_ins"))
    for author in (acme.manager, acme.indirect_report, acme.peer):
        submit_for(acme, goals, author, this_week, key_result_updates=[])
    with CaptureQueriesContext(connection) as four:
        client.get(url(acme, "team_check_ins"))

    assert len(four) == len(one)


def test_the_one_on_one_agenda_gathers_what_is_open(
    acme: OrgWorld, goals: dict[str, Any], this_week: Any
) -> None:
    submit_for(acme, goals, acme.report, this_week)

    response = client_for(acme.manager).get(url(acme, "one_on_one_agenda", membership_id=acme.report.pk))

    assert response.status_code == 200
    page = text_of(response)
    assert "Legal has not reviewed the contract template" in page
    assert "Revenue from 10 to 12" in page
    assert "Slow month" in page
    assert "Fewer status meetings, please" in page
    assert "Two renewals signed" in page
    assert "Mark discussed" in page

    quiet = text_of(
        client_for(acme.report).get(url(acme, "one_on_one_agenda", membership_id=acme.indirect_report.pk))
    )
    assert f"Nothing open from {acme.indirect_report.user.full_name}'s check-ins" in quiet


@pytest.mark.parametrize(
    ("viewer", "person"), [("peer", "report"), ("manager", "peer"), ("report", "report")]
)
def test_the_agenda_of_someone_who_does_not_report_to_the_viewer_is_404(
    acme: OrgWorld, viewer: str, person: str
) -> None:
    response = client_for(getattr(acme, viewer)).get(
        url(acme, "one_on_one_agenda", membership_id=getattr(acme, person).pk)
    )

    assert response.status_code == 404
