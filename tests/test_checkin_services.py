"""The check-in services: drafts that keep what is typed, submissions with their rules, values recorded as key
result progress, replies, "discussed", pulse answers and reminders recorded once."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied

from goals import checkins
from goals.checkins import KeyResultUpdateEntry, PriorityEntry
from goals.models import (
    CheckIn,
    CheckInPriority,
    KeyResult,
    KeyResultStatus,
    PulseAnswer,
    ReminderChannel,
    ReminderKind,
)
from goals.validation import GoalValidationError
from okrsignal.tenancy import TenantMismatch, tenant_context
from tests.checkin_factories import FRIDAY, WEEK, make_check_in_goals
from tests.factories import OrgWorld
from tests.goal_factories import make_goal_data

LATER = FRIDAY + timedelta(hours=3)


@pytest.fixture
def goals(acme: OrgWorld) -> dict[str, Any]:
    with tenant_context(acme.organization):
        return make_check_in_goals(acme)


def complete(goals: dict[str, Any], **changes: Any) -> dict[str, Any]:
    """Everything a submission needs, for the report (who owns ``revenue``)."""
    return {
        "priorities": [
            PriorityEntry(text="Close the Baltic renewal", key_result=goals["revenue"]),
            PriorityEntry(text="Hire a second account executive", unlinked=True),
        ],
        "key_result_updates": [
            KeyResultUpdateEntry(key_result=goals["revenue"], status=KeyResultStatus.AT_RISK, value=10.4)
        ],
        "blockers": "Legal has not reviewed the contract.",
        "upward_feedback": "Fewer status meetings, please.",
        "next_week_success": "The renewal is signed.",
        **changes,
    }


def problems(error: pytest.ExceptionInfo[GoalValidationError]) -> dict[str, list[str]]:
    return error.value.message_dict


# --- Drafts -----------------------------------------------------------------------------------------


def test_a_draft_keeps_whatever_is_well_formed(acme: OrgWorld, goals: dict[str, Any]) -> None:
    with tenant_context(acme.organization):
        check_in = checkins.check_in_save_draft(
            author=acme.report,
            week=WEEK,
            priorities=[PriorityEntry(text="Close the Baltic renewal")],
            blockers="Waiting on legal",
            at=FRIDAY,
        )

        check_in.refresh_from_db()
        assert (check_in.state, check_in.blockers, check_in.submitted_at) == (
            "draft",
            "Waiting on legal",
            None,
        )
        priority = check_in.priorities.get()
        assert (priority.text, priority.key_result, priority.unlinked) == (
            "Close the Baltic renewal",
            None,
            False,
        )


def test_drafts_are_not_kept_in_history(acme: OrgWorld, goals: dict[str, Any]) -> None:
    with tenant_context(acme.organization):
        for minute in range(3):
            checkins.check_in_save_draft(
                author=acme.report,
                week=WEEK,
                blockers=f"typing {minute}",
                at=FRIDAY + timedelta(minutes=minute),
            )
        assert CheckIn.history.count() == 0
        assert CheckInPriority.history.count() == 0


def test_saving_again_changes_the_same_draft_and_only_the_parts_given(
    acme: OrgWorld, goals: dict[str, Any]
) -> None:
    with tenant_context(acme.organization):
        checkins.check_in_save_draft(
            author=acme.report, week=WEEK, blockers="Waiting on legal", next_week_success="Signed", at=FRIDAY
        )
        check_in = checkins.check_in_save_draft(
            author=acme.report, week=WEEK, blockers="Legal replied", at=FRIDAY + timedelta(minutes=1)
        )

        assert CheckIn.objects.filter(membership=acme.report).count() == 1
        check_in.refresh_from_db()
        assert (check_in.blockers, check_in.next_week_success) == ("Legal replied", "Signed")
        assert check_in.updated_at == FRIDAY + timedelta(minutes=1)


def test_empty_priority_rows_are_left_out(acme: OrgWorld, goals: dict[str, Any]) -> None:
    with tenant_context(acme.organization):
        check_in = checkins.check_in_save_draft(
            author=acme.report,
            week=WEEK,
            priorities=[PriorityEntry(), PriorityEntry(text="Close the renewal"), PriorityEntry(text="  ")],
            at=FRIDAY,
        )
        assert [(p.position, p.text) for p in check_in.priorities.all()] == [(1, "Close the renewal")]


def test_a_submitted_check_in_is_not_changed_as_a_draft(acme: OrgWorld, goals: dict[str, Any]) -> None:
    with tenant_context(acme.organization):
        checkins.check_in_submit(author=acme.report, week=WEEK, at=FRIDAY, **complete(goals))
        with pytest.raises(GoalValidationError) as error:
            checkins.check_in_save_draft(author=acme.report, week=WEEK, blockers="half-typed", at=LATER)
        assert "submit it again" in problems(error)["state"][0]
        assert CheckIn.objects.get().blockers == "Legal has not reviewed the contract."


# --- Submitting -------------------------------------------------------------------------------------


def test_submitting_records_the_check_in_and_the_managers_snapshot(
    acme: OrgWorld, goals: dict[str, Any]
) -> None:
    with tenant_context(acme.organization):
        check_in = checkins.check_in_submit(author=acme.report, week=WEEK, at=FRIDAY, **complete(goals))

        check_in.refresh_from_db()
        assert (check_in.state, check_in.submitted_at, check_in.manager) == (
            "submitted",
            FRIDAY,
            acme.manager,
        )
        assert [(p.text, p.key_result, p.unlinked) for p in check_in.priorities.all()] == [
            ("Close the Baltic renewal", goals["revenue"], False),
            ("Hire a second account executive", None, True),
        ]
        update = check_in.key_result_updates.get()
        assert (update.status, update.value, update.recorded_value) == ("at_risk", 10.4, 10.4)
        # From the submission on, the check-in and its parts are in history.
        assert CheckIn.history.filter(id=check_in.pk, state="submitted", history_date=FRIDAY).exists()
        assert CheckInPriority.history.filter(check_in_id=check_in.pk).count() == 2


def test_a_value_is_recorded_as_key_result_progress_at_the_submission_time(
    acme: OrgWorld, goals: dict[str, Any]
) -> None:
    with tenant_context(acme.organization):
        entry = KeyResultUpdateEntry(
            key_result=goals["revenue"],
            status=KeyResultStatus.ON_TRACK,
            value=11.0,
            note="Two renewals signed",
        )
        checkins.check_in_submit(
            author=acme.report, week=WEEK, at=FRIDAY, **complete(goals, key_result_updates=[entry])
        )

        revenue = KeyResult.objects.get(pk=goals["revenue"].pk)
        assert revenue.current_value == 11.0
        record = revenue.history.latest()
        assert (record.current_value, record.history_date, record.history_user) == (
            11.0,
            FRIDAY,
            acme.report.user,
        )
        assert record.history_change_reason == "Two renewals signed"


def test_submitting_twice_in_a_week_changes_the_same_check_in(acme: OrgWorld, goals: dict[str, Any]) -> None:
    with tenant_context(acme.organization):
        first = checkins.check_in_submit(author=acme.report, week=WEEK, at=FRIDAY, **complete(goals))
        records_after_first = KeyResult.history.filter(id=goals["revenue"].pk).count()

        again = checkins.check_in_submit(
            author=acme.report, week=WEEK, at=LATER, **complete(goals, blockers="Legal signed off")
        )

        assert again.pk == first.pk
        assert CheckIn.objects.count() == 1
        again.refresh_from_db()
        assert (again.blockers, again.submitted_at, again.updated_at) == ("Legal signed off", FRIDAY, LATER)
        # The unchanged value is not recorded a second time.
        assert KeyResult.history.filter(id=goals["revenue"].pk).count() == records_after_first


def test_a_changed_value_on_resubmission_is_recorded(acme: OrgWorld, goals: dict[str, Any]) -> None:
    with tenant_context(acme.organization):
        checkins.check_in_submit(author=acme.report, week=WEEK, at=FRIDAY, **complete(goals))
        entry = KeyResultUpdateEntry(key_result=goals["revenue"], status=KeyResultStatus.ON_TRACK, value=10.9)
        checkins.check_in_submit(author=acme.report, week=WEEK, at=LATER, key_result_updates=[entry])

        assert KeyResult.objects.get(pk=goals["revenue"].pk).current_value == 10.9
        assert CheckIn.objects.get().key_result_updates.get().recorded_value == 10.9


def test_a_refused_submission_keeps_what_was_typed_as_the_draft(
    acme: OrgWorld, goals: dict[str, Any]
) -> None:
    with tenant_context(acme.organization):
        checkins.check_in_save_draft(author=acme.report, week=WEEK, next_week_success="Signed", at=FRIDAY)
        with pytest.raises(GoalValidationError) as error:
            checkins.check_in_submit(
                author=acme.report,
                week=WEEK,
                priorities=[PriorityEntry(text="Close the Baltic renewal")],
                blockers="Legal is slow",
                at=LATER,
            )

        assert problems(error) == {
            "priorities.0.key_result": ["Link it to a key result, or mark it unlinked."]
        }
        check_in = CheckIn.objects.get()
        assert (check_in.state, check_in.blockers, check_in.next_week_success) == (
            "draft",
            "Legal is slow",
            "Signed",
        )
        assert [p.text for p in check_in.priorities.all()] == ["Close the Baltic renewal"]


def test_a_refused_resubmission_changes_nothing(acme: OrgWorld, goals: dict[str, Any]) -> None:
    with tenant_context(acme.organization):
        checkins.check_in_submit(author=acme.report, week=WEEK, at=FRIDAY, **complete(goals))
        with pytest.raises(GoalValidationError):
            checkins.check_in_submit(
                author=acme.report,
                week=WEEK,
                priorities=[PriorityEntry(text="Something new")],
                blockers="Changed",
                at=LATER,
            )

        check_in = CheckIn.objects.get()
        assert (check_in.state, check_in.blockers) == ("submitted", "Legal has not reviewed the contract.")
        assert check_in.priorities.count() == 2


def test_a_malformed_part_is_refused_and_nothing_is_saved(acme: OrgWorld, goals: dict[str, Any]) -> None:
    with tenant_context(acme.organization):
        with pytest.raises(GoalValidationError) as error:
            checkins.check_in_submit(
                author=acme.report, week=WEEK, at=FRIDAY, **complete(goals, blockers="x" * 5001)
            )
        assert problems(error) == {"blockers": ["Keep it to 5000 characters (5001 now)."]}
        assert not CheckIn.objects.exists()


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        (
            lambda g: {"priorities": [PriorityEntry(key_result=g["revenue"])]},
            "priorities.0.text",
            "Say what the outcome is.",
        ),
        (
            lambda g: {
                "priorities": [PriorityEntry(text="Renewal", unlinked=True), PriorityEntry(text="Hiring")]
            },
            "priorities.1.key_result",
            "Link it to a key result, or mark it unlinked.",
        ),
        (
            lambda g: {"priorities": [PriorityEntry(text="Next year", key_result=g["next_year"])]},
            "priorities.0.key_result",
            "'Revenue from 12 to 15' is not a key result of the current cycle.",
        ),
        (
            lambda g: {"priorities": []},
            "priorities",
            "Name this week's most important outcomes: two or three, at most 5.",
        ),
        (
            lambda g: {"key_result_updates": [KeyResultUpdateEntry(key_result=g["revenue"])]},
            "key_result_updates.0.status",
            "Say whether it is on track, at risk or blocked.",
        ),
        (
            lambda g: {
                "key_result_updates": [
                    KeyResultUpdateEntry(key_result=g["churn"], status=KeyResultStatus.ON_TRACK)
                ]
            },
            "key_result_updates.0.key_result",
            "Updates on 'Churn from 5 to 3' come from its owner, its contributors and their managers.",
        ),
    ],
    ids=["text", "link", "other-cycle", "none", "status", "not-theirs"],
)
def test_a_submission_needs_each_part(
    acme: OrgWorld, goals: dict[str, Any], change: Any, field: str, message: str
) -> None:
    with tenant_context(acme.organization), pytest.raises(GoalValidationError) as error:
        checkins.check_in_submit(author=acme.report, week=WEEK, at=FRIDAY, **complete(goals, **change(goals)))
    assert problems(error) == {field: [message]}


def test_at_most_five_priorities_even_in_a_draft(acme: OrgWorld, goals: dict[str, Any]) -> None:
    with tenant_context(acme.organization), pytest.raises(GoalValidationError) as error:
        checkins.check_in_save_draft(
            author=acme.report,
            week=WEEK,
            priorities=[PriorityEntry(text=f"Outcome {n}") for n in range(6)],
            at=FRIDAY,
        )
    assert "at most 5 (6 now)" in problems(error)["priorities"][0]


@pytest.mark.parametrize(
    ("entry", "field"),
    [
        ({"status": "fine"}, "key_result_updates.0.status"),
        ({"status": "on_track", "value": float("inf")}, "key_result_updates.0.value"),
        ({"status": "on_track", "value": 1e300}, "key_result_updates.0.value"),
    ],
)
def test_a_status_or_value_out_of_reason_is_refused_on_its_field(
    acme: OrgWorld, goals: dict[str, Any], entry: dict[str, Any], field: str
) -> None:
    with tenant_context(acme.organization), pytest.raises(GoalValidationError) as error:
        checkins.check_in_save_draft(
            author=acme.report,
            week=WEEK,
            key_result_updates=[KeyResultUpdateEntry(key_result=goals["revenue"], **entry)],
            at=FRIDAY,
        )
    assert list(problems(error)) == [field]


def test_a_priority_is_linked_or_unlinked_not_both(acme: OrgWorld, goals: dict[str, Any]) -> None:
    with tenant_context(acme.organization), pytest.raises(GoalValidationError) as error:
        checkins.check_in_save_draft(
            author=acme.report,
            week=WEEK,
            priorities=[PriorityEntry(text="Renewal", key_result=goals["revenue"], unlinked=True)],
            at=FRIDAY,
        )
    assert list(problems(error)) == ["priorities.0.unlinked"]


def test_a_key_result_listed_twice_is_refused(acme: OrgWorld, goals: dict[str, Any]) -> None:
    twice = [KeyResultUpdateEntry(key_result=goals["revenue"], status="on_track")] * 2
    with tenant_context(acme.organization), pytest.raises(GoalValidationError) as error:
        checkins.check_in_save_draft(author=acme.report, week=WEEK, key_result_updates=twice, at=FRIDAY)
    assert list(problems(error)) == ["key_result_updates.1.key_result"]


@pytest.mark.parametrize(
    ("week", "message"),
    [(WEEK + timedelta(days=2), "starts on a Monday"), (WEEK + timedelta(days=7), "not a future week")],
)
def test_the_week_is_a_monday_and_not_in_the_future(
    acme: OrgWorld, goals: dict[str, Any], week: Any, message: str
) -> None:
    with tenant_context(acme.organization), pytest.raises(GoalValidationError) as error:
        checkins.check_in_save_draft(author=acme.report, week=week, at=FRIDAY)
    assert message in problems(error)["week"][0]


def test_the_week_is_the_organisations(acme: OrgWorld, goals: dict[str, Any]) -> None:
    """Sunday 23:30 in UTC is already Monday in Auckland: the next week may be checked in there."""
    sunday_night = FRIDAY + timedelta(days=2, hours=13, minutes=30)
    next_week = WEEK + timedelta(days=7)
    with tenant_context(acme.organization):
        with pytest.raises(GoalValidationError):
            checkins.check_in_save_draft(author=acme.report, week=next_week, at=sunday_night)
        acme.organization.time_zone = "Pacific/Auckland"
        acme.organization.save()
        acme.report.organization = acme.organization
        assert (
            checkins.check_in_save_draft(author=acme.report, week=next_week, at=sunday_night).week
            == next_week
        )


def test_another_organisations_key_result_is_refused(
    acme: OrgWorld, globex: OrgWorld, goals: dict[str, Any]
) -> None:
    with tenant_context(globex.organization):
        foreign = make_goal_data(globex)["key_result"]
    with tenant_context(acme.organization), pytest.raises(TenantMismatch):
        checkins.check_in_save_draft(
            author=acme.report, week=WEEK, priorities=[PriorityEntry(text="x", key_result=foreign)], at=FRIDAY
        )


# --- Prefill ----------------------------------------------------------------------------------------


def test_a_new_week_starts_from_the_last_check_in(acme: OrgWorld, goals: dict[str, Any]) -> None:
    with tenant_context(acme.organization):
        previous = checkins.check_in_submit(author=acme.report, week=WEEK, at=FRIDAY, **complete(goals))
        next_week = WEEK + timedelta(days=7)

        prefill = checkins.check_in_prefill(author=acme.report, week=next_week)

        assert prefill.previous == previous
        assert prefill.priorities == [
            PriorityEntry(text="Close the Baltic renewal", key_result=goals["revenue"]),
            PriorityEntry(text="Hire a second account executive", unlinked=True),
        ]
        assert prefill.key_result_updates == [
            KeyResultUpdateEntry(key_result=goals["revenue"], status=KeyResultStatus.AT_RISK),
            KeyResultUpdateEntry(key_result=goals["north"]),  # contributed to, never reported on
        ]
        assert prefill.line_of_sight[goals["revenue"].pk] == (
            "Your key result 'Revenue from 10 to 12' serves the company objective 'Grow recurring revenue'."
        )


def test_the_prefill_lists_the_key_results_one_contributes_to(acme: OrgWorld, goals: dict[str, Any]) -> None:
    with tenant_context(acme.organization):
        prefill = checkins.check_in_prefill(author=acme.indirect_report, week=WEEK)
    assert prefill.previous is None
    assert prefill.priorities == []
    assert [(u.key_result, u.status) for u in prefill.key_result_updates] == [(goals["revenue"], "")]


# --- Replies, discussed, pulse, reminders -----------------------------------------------------------


@pytest.fixture
def submitted(acme: OrgWorld, goals: dict[str, Any]) -> CheckIn:
    with tenant_context(acme.organization):
        return checkins.check_in_submit(author=acme.report, week=WEEK, at=FRIDAY, **complete(goals))


def test_the_manager_replies(acme: OrgWorld, submitted: CheckIn) -> None:
    with tenant_context(acme.organization):
        reply = checkins.check_in_reply(check_in=submitted, by=acme.manager, text=" Call me. ", at=LATER)
    assert (reply.text, reply.author, reply.created_at) == ("Call me.", acme.manager, LATER)


def test_a_peer_may_not_reply(acme: OrgWorld, submitted: CheckIn) -> None:
    with tenant_context(acme.organization), pytest.raises(PermissionDenied):
        checkins.check_in_reply(check_in=submitted, by=acme.peer, text="Hello")


def test_an_empty_reply_or_a_reply_to_a_draft_is_refused(acme: OrgWorld, goals: dict[str, Any]) -> None:
    with tenant_context(acme.organization):
        draft = checkins.check_in_save_draft(author=acme.report, week=WEEK, at=FRIDAY)
        with pytest.raises(GoalValidationError) as error:
            checkins.check_in_reply(check_in=draft, by=acme.report, text=" ")
    assert set(problems(error)) == {"check_in", "text"}


def test_someone_above_marks_it_discussed_once(acme: OrgWorld, submitted: CheckIn) -> None:
    with tenant_context(acme.organization):
        checkins.check_in_mark_discussed(check_in=submitted, by=acme.admin, at=LATER)
        checkins.check_in_mark_discussed(check_in=submitted, by=acme.manager, at=LATER + timedelta(days=1))
        submitted.refresh_from_db()
        assert (submitted.discussed_at, submitted.discussed_by) == (LATER, acme.admin)


@pytest.mark.parametrize("who", ["report", "peer", "indirect_report"])
def test_only_the_line_above_marks_it_discussed(acme: OrgWorld, submitted: CheckIn, who: str) -> None:
    with tenant_context(acme.organization), pytest.raises(PermissionDenied):
        checkins.check_in_mark_discussed(check_in=submitted, by=getattr(acme, who))


def test_a_pulse_answer_per_week_keeps_the_team_and_joins_the_check_in(
    acme: OrgWorld, submitted: CheckIn
) -> None:
    with tenant_context(acme.organization):
        checkins.pulse_answer_record(membership=acme.report, score=2, at=FRIDAY)
        answer = checkins.pulse_answer_record(membership=acme.report, score=4, at=LATER)

        assert PulseAnswer.objects.count() == 1
        assert (answer.week, answer.score, answer.team, answer.check_in) == (WEEK, 4, acme.team, submitted)


def test_a_pulse_answer_given_first_joins_the_check_in_started_later(
    acme: OrgWorld, goals: dict[str, Any]
) -> None:
    with tenant_context(acme.organization):
        answer = checkins.pulse_answer_record(membership=acme.report, score=5, at=FRIDAY)
        check_in = checkins.check_in_save_draft(author=acme.report, week=WEEK, at=LATER)
        answer.refresh_from_db()
        assert answer.check_in == check_in


@pytest.mark.parametrize("score", [0, 6, True])
def test_a_pulse_score_is_one_to_five(acme: OrgWorld, score: int) -> None:
    with tenant_context(acme.organization), pytest.raises(GoalValidationError) as error:
        checkins.pulse_answer_record(membership=acme.report, score=score, at=FRIDAY)
    assert list(problems(error)) == ["score"]


def test_a_reminder_is_recorded_once(acme: OrgWorld) -> None:
    def record() -> object:
        return checkins.check_in_reminder_record(
            membership=acme.report,
            week=WEEK,
            kind=ReminderKind.BEFORE,
            channel=ReminderChannel.SLACK,
            at=FRIDAY,
        )

    with tenant_context(acme.organization):
        assert record() is not None
        assert record() is None
        assert checkins.check_in_reminder_record(
            membership=acme.report, week=WEEK, kind=ReminderKind.BEFORE, channel=ReminderChannel.EMAIL
        )
