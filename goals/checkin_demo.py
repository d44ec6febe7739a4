"""The demo organisation's weekly check-ins: four weeks of them, with replies, "discussed" marks and pulse
answers, written through ``goals.checkins`` at the times they happened.

The story matches the demo quarter (``goals.demo``): self-serve SSO is stuck behind the identity provider
sandbox, so Tom reports it at risk and then blocked while its linked work slows; Sales worries about
enterprise deals; Product's onboarding checklist moves well. Not everyone checks in every week, and not
every check-in gets a reply, so the cadence figures have something to show.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from django.utils import timezone

from goals import checkins
from goals.checkin_selectors import organization_week
from goals.checkins import KeyResultUpdateEntry, PriorityEntry
from goals.models import Cycle, KeyResult, KeyResultStatus
from okrsignal.models import Membership

WEEK = timedelta(days=7)
ON_TRACK, AT_RISK, BLOCKED = KeyResultStatus.ON_TRACK, KeyResultStatus.AT_RISK, KeyResultStatus.BLOCKED

# Key results are named by the start of their title.
SSO = "New workspaces set up with self-serve SSO"
SSO_STEPS = "SSO setup steps"
IMPORT_RATE = "Data import success rate"
IMPORT_FAILURES = "Import failures per week"
DASHBOARDS = "p95 dashboard load"
CHECKLIST = "Onboarding checklist completion"
ACTIVATED = "Activated enterprise workspaces"
PIPELINE = "Qualified enterprise pipeline"
DISCOVERY = "Enterprise discovery calls"
DEALS = "Enterprise deals closed"
RETENTION = "Net revenue retention"
ARR = "Enterprise ARR"


@dataclass(frozen=True)
class DemoCheckIn:
    who: str
    week: int  # weeks since the cycle started
    priorities: tuple[tuple[str, str | None], ...]  # (outcome, key result) or (outcome, None) when unlinked
    updates: tuple[tuple[str, str, float | None, str], ...]  # (key result, status, new value, note)
    blockers: str = ""
    feedback: str = ""
    success: str = ""
    pulse: int | None = None
    reply: tuple[str, str] | None = None  # (who, text)
    discussed_by: str | None = None
    late: bool = False  # submitted on the Monday after


CHECK_INS = [
    # Week 3
    DemoCheckIn(
        "eng1",
        3,
        (("Ship the SAML metadata upload", SSO_STEPS), ("Pair with Ravi on the SSO test tenant", SSO)),
        ((SSO, ON_TRACK, None, "First two pilot customers configured."), (SSO_STEPS, ON_TRACK, None, "")),
        success="Metadata upload behind a flag for pilot customers.",
        pulse=4,
        reply=("eng_lead", "Nice progress. Let's demo the upload on Thursday."),
        discussed_by="eng_lead",
    ),
    DemoCheckIn(
        "eng2",
        3,
        (("Retry failed CSV rows automatically", IMPORT_FAILURES), ("Write the import runbook", None)),
        (
            (IMPORT_RATE, ON_TRACK, None, ""),
            (IMPORT_FAILURES, ON_TRACK, None, "Retries cut failures by a third."),
        ),
        success="Automatic retries live for all tenants.",
        pulse=5,
        reply=("eng_lead", "Great. Share the runbook in #eng when it is ready."),
        discussed_by="eng_lead",
    ),
    DemoCheckIn(
        "eng3",
        3,
        (("Cache the dashboard summary query", DASHBOARDS), ("Review on-call alert noise", None)),
        ((DASHBOARDS, ON_TRACK, 3.0, "Summary cache shaved 0.2 s."), (SSO, ON_TRACK, None, "")),
        success="p95 under 3 s on the enterprise cluster.",
        pulse=3,
    ),
    DemoCheckIn(
        "pm1",
        3,
        (("Run three onboarding interviews", CHECKLIST), ("Draft the checklist copy", CHECKLIST)),
        ((CHECKLIST, ON_TRACK, 25, "Beta cohort started."),),
        feedback="I would like more time with design before the beta widens.",
        success="Copy reviewed by two customers.",
        pulse=2,
        reply=("cpo", "Agreed, let's book design time for next week."),
    ),
    DemoCheckIn(
        "ae1",
        3,
        (("Book eight discovery calls in Munich", DISCOVERY), ("Qualify the Allianz lead", PIPELINE)),
        ((PIPELINE, ON_TRACK, None, ""), (DISCOVERY, ON_TRACK, None, "")),
        success="Two new qualified opportunities.",
        pulse=3,
        reply=("cro", "Good start. Loop me in on Allianz."),
        discussed_by="cro",
    ),
    DemoCheckIn(
        "ae2",
        3,
        (("Close the Zurich renewal", DEALS), ("Prepare the QBR deck", None)),
        ((DEALS, ON_TRACK, None, ""),),
        success="Zurich signed.",
        pulse=2,
    ),
    DemoCheckIn(
        "cs1",
        3,
        (("Expansion call with Globex", RETENTION), ("Clean up the health scores", None)),
        ((RETENTION, ON_TRACK, 105, "Globex added 40 seats."),),
        success="Two expansion proposals out.",
        pulse=3,
        reply=("cro", "Nice expansion. Keep going."),
    ),
    # Week 4
    DemoCheckIn(
        "eng1",
        4,
        (("Support IdP-initiated login", SSO_STEPS), ("Get the test tenant from IT", SSO)),
        ((SSO, AT_RISK, None, "Pilot stalled: no IdP sandbox yet."), (SSO_STEPS, ON_TRACK, None, "")),
        blockers="IT has not provided the identity provider sandbox.",
        success="Sandbox available and IdP-initiated login tested.",
        pulse=4,
        reply=("eng_lead", "I'll chase IT today."),
        discussed_by="eng_lead",
    ),
    DemoCheckIn(
        "eng2",
        4,
        (
            ("Validate column types before import", IMPORT_RATE),
            ("Help support with the Initech import", None),
        ),
        ((IMPORT_RATE, ON_TRACK, None, ""), (IMPORT_FAILURES, ON_TRACK, None, "")),
        success="Type validation in review.",
        pulse=4,
        discussed_by="eng_lead",
    ),
    DemoCheckIn(
        "eng3",
        4,
        (("Move dashboards to the read replica", DASHBOARDS), ("Load-test the SSO callback", SSO)),
        ((DASHBOARDS, ON_TRACK, 2.9, ""), (SSO, AT_RISK, None, "Waiting like Tom.")),
        success="Replica reads enabled for enterprise tenants.",
        pulse=3,
        reply=("eng_lead", "Thanks for helping on SSO."),
    ),
    DemoCheckIn(
        "pm1",
        4,
        (("Usability test the checklist", CHECKLIST), ("Plan the advisory board", None)),
        ((CHECKLIST, ON_TRACK, 31, "Completion up after the copy change."),),
        success="Checklist v2 specified.",
        pulse=3,
        reply=("cpo", "Looks good."),
    ),
    DemoCheckIn(
        "ae1",
        4,
        (("Run the Munich roadshow follow-ups", PIPELINE), ("Update the CRM stages", None)),
        ((PIPELINE, ON_TRACK, None, ""), (DISCOVERY, ON_TRACK, None, "")),
        success="Three follow-up meetings booked.",
        pulse=2,
        discussed_by="cro",
    ),
    DemoCheckIn(
        "cs1",
        4,
        (("Renewal plan for the top ten accounts", RETENTION), ("Onboard the new CSM", None)),
        ((RETENTION, ON_TRACK, 106, ""),),
        success="Renewal plans agreed for five accounts.",
        pulse=4,
    ),
    DemoCheckIn(
        "eng_lead",
        4,
        (("Unblock the IdP sandbox with IT", SSO), ("Hire a backend engineer", None)),
        ((SSO, AT_RISK, None, "Sandbox missing."), (IMPORT_RATE, ON_TRACK, None, "")),
        blockers="Need the CPO to escalate the sandbox request with IT.",
        feedback="The hiring loop takes most of my week; can we share interviews?",
        success="Sandbox date confirmed.",
        pulse=4,
        reply=("cpo", "Escalated to IT leadership this morning."),
    ),
    # Week 5
    DemoCheckIn(
        "eng1",
        5,
        (("Fix the SP metadata edge cases", SSO_STEPS), ("Write the SSO setup guide", None)),
        ((SSO, AT_RISK, None, "Still no sandbox."), (SSO_STEPS, ON_TRACK, None, "")),
        blockers="Still no identity provider sandbox from IT.",
        feedback="I'd like to move to the import work until the sandbox is there.",
        success="Guide drafted.",
        pulse=3,
        reply=("eng_lead", "Let's talk about switching in our 1:1."),
        discussed_by="eng_lead",
    ),
    DemoCheckIn(
        "eng2",
        5,
        (("Import progress bar", IMPORT_RATE), ("Pick up the partner API spike", None)),
        ((IMPORT_RATE, ON_TRACK, None, ""), (IMPORT_FAILURES, ON_TRACK, None, "")),
        success="Progress bar shipped.",
        pulse=5,
        reply=("eng_lead", "Customers will love the progress bar."),
    ),
    DemoCheckIn(
        "eng3",
        5,
        (("Tune the slow widget queries", DASHBOARDS), ("Help with the partner API spike", None)),
        ((DASHBOARDS, ON_TRACK, 2.7, ""),),
        success="p95 at 2.6 s.",
        pulse=4,
    ),
    DemoCheckIn(
        "pm1",
        5,
        (("Ship checklist v2 to the beta", CHECKLIST), ("Pause the advisory board", None)),
        ((CHECKLIST, ON_TRACK, 34, ""),),
        success="v2 live for the whole beta cohort.",
        pulse=3,
    ),
    DemoCheckIn(
        "ae1",
        5,
        (("Push two deals to negotiation", PIPELINE), ("Partner event in Vienna", None)),
        ((PIPELINE, ON_TRACK, None, ""), (DISCOVERY, AT_RISK, None, "Event week, fewer calls.")),
        success="Two deals in negotiation.",
        pulse=3,
        reply=("cro", "Fine to trade calls for the event this once."),
    ),
    DemoCheckIn(
        "ae2",
        5,
        (("Rescue the Basel deal", DEALS), ("Prepare pricing for Initech", DEALS)),
        ((DEALS, AT_RISK, None, "Basel wants SSO before signing."),),
        blockers="Basel will not sign until self-serve SSO ships.",
        success="A date for SSO that Basel accepts.",
        pulse=2,
        late=True,
    ),
    DemoCheckIn(
        "cs1",
        5,
        (("Save the two accounts at risk", RETENTION), ("Health score review", None)),
        ((RETENTION, AT_RISK, 106, "Two mid-market logos may leave after the price change."),),
        blockers="No discount authority for the at-risk renewals.",
        success="Both accounts have a retention offer.",
        pulse=3,
        reply=("cro", "You can offer up to 10%; tell me if that is not enough."),
    ),
    DemoCheckIn(
        "cpo",
        5,
        (("Escalate the IdP sandbox", SSO), ("Beta review for guided onboarding", ACTIVATED)),
        ((ACTIVATED, ON_TRACK, None, ""),),
        feedback="The board pack deadline moved up; I need the numbers by Wednesday.",
        success="Sandbox delivered and beta review done.",
        pulse=5,
        reply=("ceo", "Thanks. Numbers by Wednesday works."),
    ),
    # Week 6
    DemoCheckIn(
        "eng1",
        6,
        (("Help Mei with the partner API", None), ("Keep the SSO branch rebased", SSO_STEPS)),
        ((SSO, BLOCKED, None, "Sandbox promised for next month."), (SSO_STEPS, ON_TRACK, None, "")),
        blockers="The identity provider sandbox is now promised for next month.",
        feedback="Could we agree whether SSO is still this quarter's priority?",
        success="A decision on SSO for this quarter.",
        pulse=3,
    ),
    DemoCheckIn(
        "eng2",
        6,
        (("Partner API authentication", None), ("Import failure alerts", IMPORT_FAILURES)),
        ((IMPORT_RATE, ON_TRACK, None, ""), (IMPORT_FAILURES, ON_TRACK, None, "")),
        success="Partner API first endpoint live.",
        pulse=4,
        reply=("eng_lead", "Good. Keep the import alerts on your list."),
    ),
    DemoCheckIn(
        "pm1",
        6,
        (("Interview churned trial users", CHECKLIST), ("Prepare the beta readout", ACTIVATED)),
        ((CHECKLIST, ON_TRACK, 38, ""),),
        success="Beta readout shared.",
        pulse=4,
    ),
    DemoCheckIn(
        "ae1",
        6,
        (("Close the Munich pilot", PIPELINE), ("Book discovery calls for next week", DISCOVERY)),
        ((PIPELINE, ON_TRACK, None, ""), (DISCOVERY, ON_TRACK, None, "")),
        success="Pilot signed.",
        pulse=3,
    ),
    DemoCheckIn(
        "ae2",
        6,
        (("Keep Basel warm", DEALS), ("Close Initech", DEALS)),
        ((DEALS, AT_RISK, None, "Two deals waiting on SSO."),),
        blockers="Two enterprise deals depend on self-serve SSO.",
        feedback="I need a date for SSO I can give customers.",
        success="Initech signed.",
        pulse=3,
        reply=("cro", "I'll get you a date from Product."),
    ),
    DemoCheckIn(
        "cs1",
        6,
        (("Retention offers for the at-risk accounts", RETENTION), ("QBR with Globex", RETENTION)),
        ((RETENTION, AT_RISK, 107, "One of the two accounts accepted."),),
        success="Second account decided.",
        pulse=4,
    ),
    DemoCheckIn(
        "eng_lead",
        6,
        (("Decide what to do about SSO", SSO), ("Close the backend hire", None)),
        ((SSO, BLOCKED, None, "Sandbox next month."), (IMPORT_RATE, ON_TRACK, None, "")),
        blockers="SSO cannot progress until IT delivers the sandbox.",
        success="A plan for SSO agreed with Jonas.",
        pulse=5,
        reply=("cpo", "Let's take SSO to the leadership review."),
    ),
    DemoCheckIn(
        "cro",
        6,
        (("Enterprise pipeline review", ARR), ("Win-loss interviews", None)),
        ((ARR, ON_TRACK, None, ""),),
        blockers="Deals in DACH are waiting on SSO.",
        success="Forecast call with the CEO.",
        pulse=4,
        reply=("ceo", "Let's put SSO on the leadership agenda."),
    ),
]


def _at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=UTC)


def build_demo_check_ins(*, people: dict[str, Membership], cycle: Cycle) -> None:
    """Four weeks of check-ins (weeks 3 to 6 of the cycle) and a draft started this week."""
    key_results = list(KeyResult.objects.filter(objective__cycle=cycle))

    def key_result(title_start: str) -> KeyResult:
        return next(kr for kr in key_results if kr.title.startswith(title_start))

    now = timezone.now()
    for number, plan in enumerate(CHECK_INS):
        week = cycle.start + plan.week * WEEK
        author = people[plan.who]
        submitted_at = (
            _at(week + timedelta(days=7), 7, 30)
            if plan.late
            else _at(week + timedelta(days=4), 8 + number % 4)
        )
        check_in = checkins.check_in_submit(
            author=author,
            week=week,
            priorities=[
                PriorityEntry(
                    text=text, key_result=key_result(title) if title else None, unlinked=title is None
                )
                for text, title in plan.priorities
            ],
            key_result_updates=[
                KeyResultUpdateEntry(key_result=key_result(title), status=status, value=value, note=note)
                for title, status, value, note in plan.updates
            ],
            blockers=plan.blockers,
            upward_feedback=plan.feedback,
            next_week_success=plan.success,
            at=submitted_at,
        )
        if plan.pulse is not None:
            checkins.pulse_answer_record(membership=author, score=plan.pulse, week=week, at=submitted_at)
        if plan.reply is not None:
            who, text = plan.reply
            checkins.check_in_reply(
                check_in=check_in, by=people[who], text=text, at=submitted_at + timedelta(hours=5)
            )
        if plan.discussed_by is not None:
            discussed_at = _at(week + timedelta(days=8), 10)
            if discussed_at < now:
                checkins.check_in_mark_discussed(
                    check_in=check_in, by=people[plan.discussed_by], at=discussed_at
                )

    # Tom has started this week's check-in from last week's.
    tom = people["eng1"]
    this_week = organization_week(tom, now)
    if this_week > cycle.start + 6 * WEEK:
        prefill = checkins.check_in_prefill(author=tom, week=this_week)
        checkins.check_in_save_draft(
            author=tom,
            week=this_week,
            priorities=prefill.priorities,
            key_result_updates=prefill.key_result_updates,
            blockers="Still waiting on the identity provider sandbox.",
            at=now,
        )
