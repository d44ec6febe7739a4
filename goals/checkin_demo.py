"""Managers answering the demo organisation's check-ins.

The demo quarter is loaded from a scenario file (``alignment/scenarios/demo-quarter.json``), whose format
carries check-ins and pulse answers but not what follows them: a manager's reply and the 1:1 in which a
check-in is discussed. ``answer_check_ins`` adds those through ``goals.checkins``, as a manager working
through the team inbox would: a check-in that raises something (a key result blocked or at risk, a
blocker, feedback for the manager) gets a reply a few hours after it was handed in and is discussed at
the 1:1 on the following Tuesday; a check-in with nothing to raise gets neither, so the reply and
discussion figures show real gaps. Nothing is dated after ``now``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from goals import checkins
from goals.models import CheckIn, CheckInState, KeyResultStatus

REPLY_AFTER = timedelta(hours=3)
# The weekly 1:1: Tuesday of the week after the check-in's, at 10:00 in the organisation's time zone.
ONE_ON_ONE_DAY = timedelta(days=8)
ONE_ON_ONE_TIME = time(10)

BLOCKED_REPLIES = (
    "Thanks for calling '{title}' blocked, {name}. I'll take it to the leadership sync this week; bring "
    "what you need from other teams to our 1:1.",
    "Understood, {name}. '{title}' can't stay blocked for long: I'll ask for a date today and we'll "
    "decide in our 1:1 what to do meanwhile.",
)
AT_RISK_REPLIES = (
    "Noted that '{title}' is at risk, {name}. Bring a plan to get it back on pace to our 1:1.",
    "Thanks for being straight about '{title}', {name}. What would you drop to get it back on track?",
)
BLOCKER_REPLIES = (
    "Thanks, {name}. I'll chase that today and tell you where it stands.",
    "Sorry this held you up, {name}. I've raised it; let's see in our 1:1 whether it needs escalating.",
)
FEEDBACK_REPLIES = (
    "Thanks for telling me, {name}. I'll take it into how we plan next week.",
    "Thanks, {name}; that helps. Let's talk it through in our 1:1.",
)


@dataclass(frozen=True)
class Answered:
    replies: int
    discussed: int


def answer_check_ins(*, now: datetime) -> Answered:
    """Reply to and discuss the submitted check-ins that raise something (in the current tenant context)."""
    replies = discussed = 0
    submitted = (
        CheckIn.objects.filter(state=CheckInState.SUBMITTED, manager__isnull=False)
        .select_related("membership__user", "manager", "organization")
        .prefetch_related("key_result_updates__key_result")
        .order_by("submitted_at", "pk")
    )
    for position, check_in in enumerate(submitted):
        assert check_in.submitted_at is not None
        assert check_in.manager is not None
        text = reply_text(check_in, variant=position)
        replied_at = check_in.submitted_at + REPLY_AFTER
        if text is None or replied_at > now:
            continue
        checkins.check_in_reply(check_in=check_in, by=check_in.manager, text=text, at=replied_at)
        replies += 1
        local = ZoneInfo(check_in.organization.time_zone)
        one_on_one = datetime.combine(check_in.week + ONE_ON_ONE_DAY, ONE_ON_ONE_TIME, tzinfo=local)
        if replied_at < one_on_one <= now:
            checkins.check_in_mark_discussed(check_in=check_in, by=check_in.manager, at=one_on_one)
            discussed += 1
    return Answered(replies=replies, discussed=discussed)


def reply_text(check_in: CheckIn, *, variant: int) -> str | None:
    """What the manager answers, about the most pressing thing the check-in raises (None: nothing)."""
    name = check_in.membership.user.full_name.split()[0]
    updates = list(check_in.key_result_updates.all())
    for status, replies in (
        (KeyResultStatus.BLOCKED, BLOCKED_REPLIES),
        (KeyResultStatus.AT_RISK, AT_RISK_REPLIES),
    ):
        flagged = next((update for update in updates if update.status == status), None)
        if flagged is not None:
            return replies[variant % len(replies)].format(name=name, title=flagged.key_result.title)
    if check_in.blockers.strip():
        return BLOCKER_REPLIES[variant % len(BLOCKER_REPLIES)].format(name=name)
    if check_in.upward_feedback.strip():
        return FEEDBACK_REPLIES[variant % len(FEEDBACK_REPLIES)].format(name=name)
    return None
