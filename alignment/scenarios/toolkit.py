"""The toolkit stories are told with: an organisation, its goals, its work streams and a week-by-week
simulation of who works on what, which emits the scenario's events.

A story declares people, teams, objectives, KPIs and mappings, then *work streams* (a Jira epic or
project, a Slack channel, a HubSpot pipeline, or any mix) and how each person splits their effort across
streams week by week (``allocate``). The simulation turns those shares into realistic activity: issues
created, moved through To Do, In Progress, In Review and Done, commented on; messages and thread replies;
deal stage moves, calls, meetings, e-mails, notes and tasks. Volumes vary from person to person and week
to week, people take holidays, everyone chats in unmapped channels. Goal progress (``progress``), KPI
readings, weekly check-ins and pulses come from curves and rules the story states.

Whatever a story makes happen is therefore known exactly, and ``expect`` is written from it. As a
safeguard, ``build`` re-derives from each vendor payload which key results the file's mappings credit it
to, and fails if that differs from the stream the story meant the work for.
"""

from __future__ import annotations

import random
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from alignment.scenario import FORMAT
from alignment.scenarios.vendors import (
    CLOSED_STAGES,
    Deal,
    HubSpotPortal,
    Issue,
    JiraSite,
    JiraUser,
    SlackMessage,
    SlackWorkspace,
    random_id,
    scenario_at,
)

WEEKS = 13
WORKDAYS = 5
# Vendor actions per full working week for someone whose whole effort goes to work in that tool;
# managers do a third of the Jira work and a quarter more talking.
JIRA_RATE = 5.0
SLACK_RATE = 3.0
HUBSPOT_RATE = 6.0

GENERAL_CHATTER = [
    "Reminder: all-hands is Thursday at 4, questions in the doc beforehand please.",
    "Who's around for lunch? Thinking the ramen place.",
    "The coffee machine on the third floor is fixed.",
    "Welcome to the team, everyone say hi!",
    "Anyone else seeing the VPN drop every few minutes?",
    "Office closes early on Friday for the building inspection.",
    "Lost and found: a blue water bottle in the big meeting room.",
    "Reading group picks next week's paper on Friday.",
    "Happy birthday to our favourite on-call hero!",
    "Parking garage is closed Wednesday, plan accordingly.",
    "Expense reports for last month are due Friday.",
    "The new laptops arrive next week; IT will reach out.",
    "Great demo today, thanks to everyone who joined.",
    "Quick survey about the offsite location in the thread.",
    "Heads up: the wifi in the east wing is being upgraded tonight.",
]
GENERAL_REPLIES = (
    "+1",
    "thanks!",
    "on it",
    "makes sense",
    "let me check and come back to you",
    "nice work",
    "sounds good",
    "can you share the link?",
    "done",
    "agreed",
    "good catch",
    "I'll take a look after lunch",
    "thanks for flagging",
    "ha, yes",
    "same here",
)
JIRA_COMMENTS = (
    "Pushed a first cut, ready for review.",
    "Reproduced locally; looks like a race in the retry path.",
    "Added acceptance criteria after the sync.",
    "LGTM, merging once CI is green.",
    "Split the migration into its own PR to keep this small.",
    "Left a few comments on the PR.",
    "QA passed on staging.",
    "Updated the description with the edge cases we found.",
    "Paired on this today; the remaining piece is the tests.",
    "Moved the copy changes into a follow-up.",
    "Screenshots attached from the staging run.",
    "Deployed behind the feature flag.",
)
CHECKIN_FEEDBACK = [
    "More focus time would help; lots of meetings this week.",
    "Thanks for unblocking the budget question so quickly.",
    "Happy with how the team handled the release this week.",
    "Would love earlier notice on priority changes.",
    "The new planning format is working well.",
]
CHECKIN_NEXT = [
    "Finish what's in flight before starting anything new.",
    "Close the two oldest items on my list.",
    "Have a written update out by Thursday.",
    "Get to a decision on the open question with the team.",
    "Pair with the new joiner on the tricky parts.",
]
CHECKIN_BLOCKERS = [
    "Flaky CI cost us a day of merges.",
    "Staging was down most of Wednesday.",
    "Short-handed with people out this week.",
    "Waiting on a review that's been sitting for two days.",
]
ON_TRACK_NOTES = ["Trending the right way.", "Good week; the main pieces landed.", "Steady progress.", ""]
AT_RISK_NOTES = ["Slower than planned.", "Behind where we wanted to be.", "Need a better week.", ""]


@dataclass(eq=False)
class Member:
    key: str
    name: str
    email: str
    role: str
    team: str
    manager: str | None
    time_zone: str
    jira: JiraUser | None
    slack: str | None
    hubspot: str | None
    # actions per full week, by vendor
    rates: dict[str, float]


@dataclass(eq=False)
class JiraWork:
    project: str
    summaries: Sequence[str]
    epic: Issue | None = None
    labels: Sequence[str] = ()
    components: Sequence[str] = ()
    types: Sequence[str] = ("Story", "Story", "Task", "Bug")
    comments: Sequence[str] = JIRA_COMMENTS
    issues: list[Issue] = field(default_factory=list)
    used: int = 0


@dataclass(eq=False)
class SlackWork:
    channel: str
    texts: Sequence[str]
    replies: Sequence[str] = GENERAL_REPLIES


@dataclass(eq=False)
class HubSpotWork:
    pipeline: str
    stages: Sequence[str]  # open stages in order; closedwon follows the last one
    deal_names: Sequence[str]
    amounts: tuple[int, int]
    deal_type: str = "newbusiness"
    notes: Sequence[str] = ("Good call with {company}; next step agreed.",)
    call_titles: Sequence[str] = ("Call with {company}",)
    meeting_titles: Sequence[str] = ("{company} meeting",)
    email_subjects: Sequence[str] = ("Following up: {company}",)
    task_subjects: Sequence[str] = ("Follow up with {company}",)
    # after this week deals in the pipeline stop changing stage
    stage_moves_until_week: int = WEEKS
    # how often an action moves a deal forward rather than logging an engagement
    move_rate: float = 0.18
    deals: list[Deal] = field(default_factory=list)
    announced: set[str] = field(default_factory=set)
    used_names: int = 0


@dataclass(eq=False)
class Stream:
    """One area of work; ``key_result`` is the KR the file's mappings credit it to (None: unlinked)."""

    name: str
    key_result: str | None
    priorities: Sequence[str]
    jira: JiraWork | None = None
    slack: SlackWork | None = None
    hubspot: HubSpotWork | None = None

    def has(self, vendor: str) -> bool:
        return getattr(self, vendor) is not None


@dataclass
class Progress:
    key_result: str
    by: Callable[[int], str | None]
    fraction: Callable[[int], float]
    confidence: Callable[[int], float]
    notes: Sequence[str]
    decimals: int
    last_week: int = 0


def on_pace(ahead: float = 1.06, start: float = 0.0) -> Callable[[int], float]:
    """Progress a little ahead of the straight line from baseline to target."""
    return lambda week: min(1.0, start + (week / WEEKS) * ahead)


def stalls(after: int, ahead: float = 1.06, creep: float = 0.004) -> Callable[[int], float]:
    """On pace until week ``after``, then barely moving."""
    before = on_pace(ahead)
    return lambda week: before(week) if week <= after else before(after) + creep * (week - after)


def slows(after: int, rate: float, ahead: float = 1.0) -> Callable[[int], float]:
    """On pace until week ``after``, then moving at ``rate`` of the pace."""
    before = on_pace(ahead)
    return lambda week: before(week) if week <= after else before(after) + rate * (week - after) / WEEKS


class World:
    def __init__(
        self,
        *,
        name: str,
        description: str,
        seed: int,
        organization: str,
        slug: str,
        time_zone: str,
        cycle_name: str,
        start: date,
        domain: str,
        until_week: int = WEEKS,
        activity: float = 1.0,
        pulse_every_weeks: int = 4,
    ) -> None:
        """``activity`` scales everyone's vendor activity (a large organisation in a file of usual size).
        The line-of-sight pulse is asked every ``pulse_every_weeks`` weeks, first in week 3 (or earlier)."""
        assert start.weekday() == 0, "cycles start on a Monday"
        self.name = name
        self.description = description
        self.rng = random.Random(seed)  # noqa: S311 - reproducible story data, not security
        self.organization = {"name": organization, "slug": slug, "time_zone": time_zone}
        self.time_zone = time_zone
        self.cycle_name = cycle_name
        self.end = start + timedelta(days=WEEKS * 7 - 1)
        self.start = start
        self.domain = domain
        self.until_week = until_week
        self.activity = activity
        self.pulse_every_weeks = pulse_every_weeks
        self.jira = JiraSite(self.rng, f"https://{slug}.atlassian.net")
        self.slack = SlackWorkspace(self.rng)
        self.hubspot = HubSpotPortal(self.rng)
        self.teams: list[dict[str, Any]] = []
        self.people: dict[str, Member] = {}
        self.objectives: list[dict[str, Any]] = []
        self.key_results: dict[str, dict[str, Any]] = {}
        self.kpis: list[dict[str, Any]] = []
        self.mappings: dict[str, list[dict[str, Any]]] = {"jira": [], "slack": [], "hubspot": []}
        self.shares: dict[str, dict[int, dict[Stream, float]]] = {}
        self.away_weeks: dict[str, set[int]] = {}
        self.holidays: set[date] = set()
        self.progresses: list[Progress] = []
        self.kpi_series: list[tuple[str, Callable[[int], float], int]] = []
        self.kpi_notes: dict[tuple[str, int], tuple[str, str | None]] = {}
        self.claims: dict[tuple[str, int], str] = {}
        self.silent: dict[tuple[str, str], int] = {}
        self.checkin_blockers: dict[tuple[str, int], str] = {}
        # team -> [(from week, lowest score, highest score)]
        self.pulse_scores: dict[str, list[tuple[int, int, int]]] = {}
        self.scheduled: list[tuple[datetime, int, Callable[[], Iterable[dict[str, Any]]]]] = []
        self.recent_messages: dict[str, list[SlackMessage]] = {}
        self.chatter = self.stream(
            "chatter",
            priorities=["Keep the team unblocked"],
            slack=SlackWork(channel="general", texts=GENERAL_CHATTER),
        )
        self.findings: list[dict[str, Any]] = []
        self.quiet_subjects: list[str] = []
        self.contributions: list[dict[str, str]] = []
        self.sequence = 0
        self.added_in_week: dict[str, int] = {}
        # KR -> (week, "baseline" | "target", new value): progress is reported against the figures in force
        self.figure_changes: dict[str, list[tuple[int, str, float]]] = {}
        # which KR each emitted vendor event was meant for, checked against the mappings in build()
        self.intended: list[tuple[dict[str, Any], str | None]] = []

    # --- organisation ------------------------------------------------------------------------------

    def team(self, key: str, name: str, *, parent: str | None, lead: str) -> None:
        self.teams.append({"key": key, "name": name, "parent": parent, "lead": lead})

    def person(
        self,
        key: str,
        name: str,
        *,
        role: str = "employee",
        team: str,
        manager: str | None,
        time_zone: str | None = None,
        tools: str = "js",
        pace: float = 1.0,
        email: str | None = None,
    ) -> Member:
        """``tools``: j = Jira, s = Slack, h = HubSpot. ``pace`` scales how much activity they produce."""
        time_zone = time_zone or self.time_zone
        first = name.split()[0].lower()
        email = email or f"{_ascii(first)}@{self.domain}"
        jira = None
        if "j" in tools:
            account = (
                f"712020:{self._uuid()}"
                if self.rng.random() < 0.6
                else "".join(self.rng.choices("0123456789abcdef", k=24))
            )
            jira = self.jira.user(account, name, time_zone)
        employee = role == "employee"
        pace *= self.activity
        rates = {
            "jira": (JIRA_RATE if employee else JIRA_RATE / 3) * pace if "j" in tools else 0.0,
            "slack": (SLACK_RATE if employee else SLACK_RATE * 1.25) * pace if "s" in tools else 0.0,
            "hubspot": HUBSPOT_RATE * pace if "h" in tools else 0.0,
        }
        member = Member(
            key=key,
            name=name,
            email=email,
            role=role,
            team=team,
            manager=manager,
            time_zone=time_zone,
            jira=jira,
            slack=random_id(self.rng, "U0", 9) if "s" in tools else None,
            hubspot=str(self.rng.randrange(10_000_000, 999_999_999)) if "h" in tools else None,
            rates=rates,
        )
        self.people[key] = member
        return member

    def busier(self, person: str, factor: float) -> None:
        """Scale how much ``person`` produces in every tool (an executive who lives in Slack)."""
        member = self.people[person]
        member.rates = {vendor: rate * factor for vendor, rate in member.rates.items()}

    def _uuid(self) -> str:
        hex_digits = f"{self.rng.getrandbits(128):032x}"
        return (
            f"{hex_digits[:8]}-{hex_digits[8:12]}-4{hex_digits[13:16]}-a{hex_digits[17:20]}-{hex_digits[20:]}"
        )

    # --- goals -------------------------------------------------------------------------------------

    def objective(
        self,
        key: str,
        title: str,
        *,
        level: str,
        owner: str,
        team: str | None = None,
        parent: str | None = None,
        description: str | None = None,
        type: str = "committed",
    ) -> dict[str, Any]:
        objective = self._objective_dict(key, title, level, owner, team, parent, description, type)
        self.objectives.append(objective)
        return objective

    def _objective_dict(
        self,
        key: str,
        title: str,
        level: str,
        owner: str,
        team: str | None,
        parent: str | None,
        description: str | None,
        type_: str,
    ) -> dict[str, Any]:
        objective: dict[str, Any] = {"key": key, "title": title}
        if description:
            objective["description"] = description
        objective.update(
            {
                "level": level,
                "team": team,
                "owner": owner,
                "parent": parent,
                "type": type_,
                "key_results": [],
            }
        )
        return objective

    def key_result(
        self,
        objective: dict[str, Any],
        key: str,
        title: str,
        *,
        owner: str | None,
        unit: str,
        baseline: float,
        target: float,
        contributors: Sequence[str] = (),
        parent_key_result: str | None = None,
    ) -> dict[str, Any]:
        kr = self._key_result_dict(key, title, owner, unit, baseline, target, contributors, parent_key_result)
        objective["key_results"].append(kr)
        self.key_results[key] = kr
        return kr

    def _key_result_dict(
        self,
        key: str,
        title: str,
        owner: str | None,
        unit: str,
        baseline: float,
        target: float,
        contributors: Sequence[str],
        parent_key_result: str | None,
    ) -> dict[str, Any]:
        return {
            "key": key,
            "title": title,
            "owner": owner,
            "unit": unit,
            "baseline": baseline,
            "target": target,
            "direction": "increase" if target >= baseline else "decrease",
            "contributors": list(contributors),
            "parent_key_result": parent_key_result,
        }

    def kpi(
        self,
        key: str,
        name: str,
        *,
        unit: str,
        direction: str,
        green: float,
        red: float,
        owner: str,
        team: str | None,
        objectives: Sequence[str],
    ) -> None:
        self.kpis.append(
            {
                "key": key,
                "name": name,
                "unit": unit,
                "direction": direction,
                "green": green,
                "red": red,
                "owner": owner,
                "team": team,
                "objectives": list(objectives),
            }
        )

    def map(self, source: str, match: dict[str, str], key_result: str) -> None:
        self.mappings[source].append({"match": match, "key_result": key_result})

    # --- work --------------------------------------------------------------------------------------

    def project(self, key: str, name: str, first_number: int) -> None:
        self.jira.project(key, name, first_number)

    def epic(
        self,
        project: str,
        summary: str,
        *,
        owner: str,
        labels: Sequence[str] = (),
        components: Sequence[str] = (),
        days_before_start: int = 4,
    ) -> Issue:
        """An epic set up before the cycle began; its first appearance is an update during the cycle."""
        reporter = self._jira_user(owner)
        created = datetime.combine(self.start - timedelta(days=days_before_start), time(14), tzinfo=UTC)
        created += timedelta(seconds=self.rng.randrange(3600), microseconds=self.rng.randrange(1000) * 1000)
        issue = self.jira.new_issue(
            project=project,
            summary=summary,
            issue_type="Epic",
            reporter=reporter,
            created=created,
            priority="High",
            labels=list(labels),
            components=list(components),
        )
        return issue

    def stream(
        self,
        name: str,
        *,
        key_result: str | None = None,
        priorities: Sequence[str],
        jira: JiraWork | None = None,
        slack: SlackWork | None = None,
        hubspot: HubSpotWork | None = None,
    ) -> Stream:
        return Stream(
            name=name, key_result=key_result, priorities=priorities, jira=jira, slack=slack, hubspot=hubspot
        )

    def allocate(self, person: str, weeks: Iterable[int], shares: Mapping[Stream, float]) -> None:
        """How ``person`` splits their effort in ``weeks``; later calls override earlier ones."""
        assert person in self.people, person
        for week in weeks:
            self.shares.setdefault(person, {})[week] = dict(shares)

    def away(self, person: str, weeks: Iterable[int]) -> None:
        self.away_weeks.setdefault(person, set()).update(weeks)

    def holiday(self, day: date) -> None:
        self.holidays.add(day)

    # --- goal progress, KPIs, check-ins --------------------------------------------------------------

    def progress(
        self,
        key_result: str,
        *,
        by: str | Callable[[int], str | None],
        fraction: Callable[[int], float],
        confidence: Callable[[int], float] | None = None,
        notes: Sequence[str] = ON_TRACK_NOTES,
        decimals: int = 1,
    ) -> None:
        """Weekly ``kr_update`` events; the value is ``fraction(week)`` of the way from baseline to target."""
        person = by
        self.progresses.append(
            Progress(
                key_result=key_result,
                by=(lambda week: person) if isinstance(person, str) else person,
                fraction=fraction,
                confidence=confidence or (lambda week: 0.75),
                notes=notes,
                decimals=decimals,
            )
        )

    def progress_fraction(self, key_result: str, week: int) -> float | None:
        for progress in self.progresses:
            if progress.key_result == key_result:
                return progress.fraction(week)
        return None

    def kpi_readings(self, kpi: str, values: Callable[[int], float], decimals: int = 1) -> None:
        self.kpi_series.append((kpi, values, decimals))

    def kpi_note(self, kpi: str, week: int, note: str, objective: str | None = None) -> None:
        self.kpi_notes[(kpi, week)] = (note, objective)

    def claim(self, key_result: str, weeks: Iterable[int], status: str) -> None:
        """Check-ins report ``status`` for the KR in these weeks, whatever the work says."""
        for week in weeks:
            self.claims[(key_result, week)] = status

    def goes_silent(self, person: str, key_result: str, from_week: int) -> None:
        """From ``from_week`` the person no longer mentions the KR in check-ins."""
        self.silent[(person, key_result)] = from_week

    def blocker(self, person: str, weeks: Iterable[int], text: str) -> None:
        for week in weeks:
            self.checkin_blockers[(person, week)] = text

    def pulse_range(self, team: str, low: int, high: int, from_week: int = 1) -> None:
        """Line-of-sight pulse scores the team gives from ``from_week`` (3 to 5 unless said otherwise)."""
        self.pulse_scores.setdefault(team, []).append((from_week, low, high))

    # --- scripted moments ----------------------------------------------------------------------------

    def moment(self, week: int, weekday: int, hour: float, person: str | None = None) -> datetime:
        """Local time (of ``person``, else of the organisation) on a day of a cycle week, in UTC."""
        time_zone = ZoneInfo(self.people[person].time_zone if person else self.time_zone)
        day = self.start + timedelta(days=7 * (week - 1) + weekday)
        local = datetime.combine(day, time(0), tzinfo=time_zone) + timedelta(hours=hour)
        local += timedelta(seconds=self.rng.randrange(600), microseconds=self.rng.randrange(1_000_000))
        return local.astimezone(UTC)

    def later(self, at: datetime, action: Callable[[], Iterable[dict[str, Any]]]) -> None:
        if self.week_of(at) > self.until_week:
            return
        self.sequence += 1
        self.scheduled.append((at, self.sequence, action))

    def emit(self, at: datetime, event: dict[str, Any]) -> None:
        body = {"at": scenario_at(at), **event}
        self.later(at, lambda: [body])

    def objective_change(self, at: datetime, objective: str, by: str, **changes: Any) -> None:
        self.emit(at, {"kind": "objective_change", "objective": objective, "by": by, "changes": changes})

    def key_result_change(self, at: datetime, key_result: str, by: str, **changes: Any) -> None:
        for name in ("baseline", "target"):
            if name in changes:
                self.figure_changes.setdefault(key_result, []).append((self.week_of(at), name, changes[name]))
        self.emit(at, {"kind": "key_result_change", "key_result": key_result, "by": by, "changes": changes})

    def review(self, at: datetime, objective: str, by: str) -> None:
        self.emit(at, {"kind": "alignment_review", "objective": objective, "by": by})

    def objective_add(
        self,
        at: datetime,
        by: str,
        key: str,
        title: str,
        *,
        level: str,
        owner: str,
        team: str | None,
        parent: str | None,
        key_results: Sequence[dict[str, Any]],
        description: str | None = None,
    ) -> None:
        objective = self._objective_dict(key, title, level, owner, team, parent, description, "committed")
        objective["key_results"] = list(key_results)
        for kr in key_results:
            self.key_results[kr["key"]] = kr
        self.emit(at, {"kind": "objective_add", "by": by, "objective": objective})

    def new_key_result(
        self,
        key: str,
        title: str,
        *,
        owner: str | None,
        unit: str,
        baseline: float,
        target: float,
        contributors: Sequence[str] = (),
    ) -> dict[str, Any]:
        return self._key_result_dict(key, title, owner, unit, baseline, target, contributors, None)

    def jira_block(
        self, at: datetime, person: str, blocked: Iterable[Issue], blocker: Issue, stream: Stream | None
    ) -> None:
        """``person`` records that each of ``blocked`` is blocked by ``blocker`` (a Link changelog item)."""
        user = self._jira_user(person)
        for offset, issue in enumerate(blocked):
            moment = at + timedelta(minutes=2 * offset, milliseconds=self.rng.randrange(60_000))

            def act(issue: Issue = issue, moment: datetime = moment) -> list[dict[str, Any]]:
                return [self._vendor(self.jira.link(moment, user, issue, blocker), stream)]

            self.later(moment, act)

    def jira_transition(
        self, at: datetime, person: str, issue: Issue, status: str, stream: Stream | None
    ) -> None:
        user = self._jira_user(person)
        self.later(at, lambda: [self._vendor(self.jira.transition(at, user, issue, status), stream)])

    def jira_comment(self, at: datetime, person: str, issue: Issue, body: str, stream: Stream | None) -> None:
        user = self._jira_user(person)
        self.later(at, lambda: [self._vendor(self.jira.comment(at, user, issue, body), stream)])

    def jira_issue(
        self,
        at: datetime,
        person: str,
        stream: Stream,
        summary: str,
        *,
        issue_type: str = "Story",
        assignee: str | None = None,
        priority: str = "High",
        held: bool = False,
    ) -> Issue:
        """Create an issue in ``stream`` at a scripted moment (the issue object is returned at once).

        A ``held`` issue is left alone by the simulation until ``jira_release``.
        """
        work = stream.jira
        assert work is not None
        issue = self.jira.new_issue(
            project=work.project,
            summary=summary,
            issue_type=issue_type,
            reporter=self._jira_user(person),
            created=at,
            priority=priority,
            labels=list(work.labels),
            components=list(work.components),
            points=self.rng.choice([2, 3, 5, 8]),
            epic=work.epic,
            assignee=self._jira_user(assignee) if assignee else None,
        )
        issue.held = held
        work.issues.append(issue)
        reporter = self._jira_user(person)
        self.later(at, lambda: [self._vendor(self.jira.created(at, reporter, issue), stream)])
        return issue

    def jira_release(self, at: datetime, issues: Iterable[Issue]) -> None:
        """From ``at`` the simulation may move these issues again."""
        held = list(issues)

        def release() -> list[dict[str, Any]]:
            for issue in held:
                issue.held = False
            return []

        self.later(at, release)

    # --- expectations --------------------------------------------------------------------------------

    def finding(self, kind: str, subject: str, onset_week: int) -> None:
        self.findings.append(
            {"kind": kind, "subject": subject, "onset_week": onset_week, "tolerance_weeks": 1}
        )

    def quiet(self, *subjects: str) -> None:
        self.quiet_subjects.extend(subjects)

    def contribution(self, person: str, key_result: str) -> None:
        self.contributions.append({"person": person, "key_result": key_result})

    # --- simulation ----------------------------------------------------------------------------------

    def week_of(self, moment: datetime) -> int:
        return (moment.date() - self.start).days // 7 + 1

    def _jira_user(self, person: str) -> JiraUser:
        user = self.people[person].jira
        assert user is not None, f"{person} has no Jira account"
        return user

    def _workdays(self, week: int) -> list[date]:
        first = self.start + timedelta(days=7 * (week - 1))
        return [
            first + timedelta(days=d)
            for d in range(WORKDAYS)
            if first + timedelta(days=d) not in self.holidays
        ]

    def _work_moment(self, member: Member, days: Sequence[date]) -> datetime:
        day = self.rng.choice(days)
        hour = self.rng.choice([9, 10, 10, 11, 11, 12, 13, 14, 14, 15, 15, 16, 16, 17])
        local = datetime.combine(day, time(hour), tzinfo=ZoneInfo(member.time_zone))
        local += timedelta(seconds=self.rng.randrange(3600), microseconds=self.rng.randrange(1_000_000))
        return local.astimezone(UTC)

    def _count(self, expected: float) -> int:
        if expected <= 0:
            return 0
        return max(0, round(self.rng.gauss(expected, max(0.8, expected * 0.25))))

    def _share_for(self, person: str, week: int) -> dict[Stream, float]:
        return self.shares.get(person, {}).get(week, {})

    def _responsible(self, person: str, key_result: str, week: int) -> bool:
        kr = self.key_results.get(key_result)
        if kr is None:
            return False
        silenced = self.silent.get((person, key_result))
        if silenced is not None and week >= silenced:
            return False
        return person == kr["owner"] or person in kr["contributors"]

    def _schedule_week(self, week: int) -> None:
        days = self._workdays(week)
        for key, member in self.people.items():
            if week in self.away_weeks.get(key, set()) or not days:
                continue
            shares = self._share_for(key, week)
            allocated = sum(shares.values())
            volume = self.rng.uniform(0.7, 1.3) * len(days) / WORKDAYS
            for vendor in ("jira", "slack", "hubspot"):
                rate = member.rates[vendor]
                streams = [
                    (stream, share) for stream, share in shares.items() if stream.has(vendor) and share > 0
                ]
                portion = sum(share for _, share in streams) / allocated if allocated else 0.0
                if vendor == "slack":
                    # Everyone chats a little in unmapped channels, whatever they work on.
                    portion = max(portion, 0.3)
                count = self._count(rate * volume * portion)
                chatter = 0
                if vendor == "slack":
                    chatter = count if not streams else round(count * self.rng.uniform(0.12, 0.24))
                for stream in [self.chatter] * chatter + self._split(count - chatter, streams):
                    at = self._work_moment(member, days)
                    self.later(at, self._action(vendor, stream, key, at))
            self._schedule_checkin(key, member, week, days)
        for progress in self.progresses:
            self._schedule_progress(progress, week)
        for kpi, values, decimals in self.kpi_series:
            self._schedule_kpi(kpi, values, decimals, week)
        if week % self.pulse_every_weeks == 3 % self.pulse_every_weeks:
            self._schedule_pulses(week)

    def _split(self, count: int, streams: Sequence[tuple[Stream, float]]) -> list[Stream]:
        """``count`` actions spread over streams in proportion to their shares (largest remainder).

        People keep their split of effort from week to week unless the story changes it; what varies is
        how much they get done, so the shares are jittered only a little.
        """
        if count <= 0 or not streams:
            return []
        weights = [share * self.rng.uniform(0.9, 1.1) for _, share in streams]
        total = sum(weights)
        exact = [count * weight / total for weight in weights]
        counts = [int(value) for value in exact]
        by_remainder = sorted(
            range(len(streams)), key=lambda i: (exact[i] - counts[i], self.rng.random()), reverse=True
        )
        for index in by_remainder[: count - sum(counts)]:
            counts[index] += 1
        return [stream for (stream, _), n in zip(streams, counts, strict=True) for _ in range(n)]

    def _action(
        self, vendor: str, stream: Stream, person: str, at: datetime
    ) -> Callable[[], list[dict[str, Any]]]:
        if vendor == "jira":
            return lambda: self._jira_action(stream, person, at)
        if vendor == "slack":
            return lambda: self._slack_action(stream, person, at)
        return lambda: self._hubspot_action(stream, person, at)

    def _vendor(self, event: dict[str, Any], stream: Stream | None) -> dict[str, Any]:
        self.intended.append((event, stream.key_result if stream else None))
        return event

    def _next_summary(self, work: JiraWork) -> str:
        summaries = list(work.summaries)
        index = work.used
        work.used += 1
        summary = summaries[index % len(summaries)]
        round_ = index // len(summaries)
        return (
            summary
            if round_ == 0
            else f"{summary} ({['follow-up', 'part 2', 'part 3', 'cleanup'][min(round_, 4) - 1]})"
        )

    def _jira_action(self, stream: Stream, person: str, at: datetime) -> list[dict[str, Any]]:
        work = stream.jira
        assert work is not None
        user = self._jira_user(person)
        # Their own open issues, including ones they filed without an assignee and have yet to pick up.
        mine = [
            i
            for i in work.issues
            if (i.assignee is user or (i.assignee is None and i.reporter is user))
            and i.status != "Done"
            and i.created < at
            and not i.held
        ]
        others = [
            i
            for i in work.issues
            if i.assignee is not user
            and i.assignee
            and i.status == "In Review"
            and i.created < at
            and not i.held
        ]
        roll = self.rng.random()
        if others and roll < 0.15:
            issue = self.rng.choice(others)
            return [
                self._vendor(self.jira.comment(at, user, issue, self.rng.choice(list(work.comments))), stream)
            ]
        if mine and (len(mine) >= 3 or roll < 0.72):
            issue = min(mine, key=lambda i: i.updated)
            if issue.assignee is None:
                return [self._vendor(self.jira.assign(at, user, issue, user), stream)]
            if issue.status == "To Do":
                return [self._vendor(self.jira.transition(at, user, issue, "In Progress"), stream)]
            if issue.status == "In Progress":
                if self.rng.random() < 0.45:
                    body = self.rng.choice(list(work.comments))
                    return [self._vendor(self.jira.comment(at, user, issue, body), stream)]
                return [self._vendor(self.jira.transition(at, user, issue, "In Review"), stream)]
            if self.rng.random() < 0.25:
                return [
                    self._vendor(
                        self.jira.comment(at, user, issue, self.rng.choice(list(work.comments))), stream
                    )
                ]
            return [self._vendor(self.jira.transition(at, user, issue, "Done"), stream)]
        issue = self.jira.new_issue(
            project=work.project,
            summary=self._next_summary(work),
            issue_type=self.rng.choice(list(work.types)),
            reporter=user,
            created=at,
            priority=self.rng.choice(["High", "Medium", "Medium", "Low"]),
            labels=list(work.labels),
            components=list(work.components),
            points=self.rng.choice([1, 2, 3, 3, 5, 8]),
            epic=work.epic,
            assignee=None if self.rng.random() < 0.25 else user,
        )
        work.issues.append(issue)
        return [self._vendor(self.jira.created(at, user, issue), stream)]

    def _slack_action(self, stream: Stream, person: str, at: datetime) -> list[dict[str, Any]]:
        work = stream.slack
        assert work is not None
        member = self.people[person]
        assert member.slack is not None
        channel = self.slack.channel(work.channel)
        recent = [
            m
            for m in self.recent_messages.get(channel, [])
            if m.user != member.slack and timedelta(0) < at - m.at < timedelta(days=3)
        ]
        if recent and self.rng.random() < 0.4:
            parent = self.rng.choice(recent[-6:])
            text = self.rng.choice(list(work.replies))
            event, _ = self.slack.message(at, member.slack, channel, text, thread=parent)
            return [self._vendor(event, stream)]
        text = self.rng.choice(list(work.texts))
        if "{issue}" in text:
            jira_work = stream.jira
            candidates = [i.key for i in jira_work.issues if i.created < at] if jira_work else []
            text = (
                text.replace("{issue}", self.rng.choice(candidates))
                if candidates
                else self.rng.choice(GENERAL_REPLIES)
            )
        event, message = self.slack.message(at, member.slack, channel, text)
        self.recent_messages.setdefault(channel, []).append(message)
        return [self._vendor(event, stream)]

    def _hubspot_action(self, stream: Stream, person: str, at: datetime) -> list[dict[str, Any]]:
        work = stream.hubspot
        assert work is not None
        member = self.people[person]
        owner = member.hubspot
        assert owner is not None
        events: list[dict[str, Any]] = []
        mine = [d for d in work.deals if d.owner == owner and d.stage not in CLOSED_STAGES and d.created < at]
        if len(mine) < 2 or self.rng.random() < 0.05:
            deal = self._new_deal(work, owner, at, existing=self.week_of(at) <= 1)
            events.append(self._vendor(self.hubspot.deal_event(at, deal), stream))
            work.announced.add(deal.id)
            return events
        deal = self.rng.choice(mine)
        if deal.id not in work.announced:
            work.announced.add(deal.id)
            events.append(
                self._vendor(
                    self.hubspot.deal_event(at - timedelta(minutes=self.rng.randrange(5, 50)), deal), stream
                )
            )
        week = self.week_of(at)
        can_move = week <= work.stage_moves_until_week and at - deal.stage_since > timedelta(days=4)
        if can_move and self.rng.random() < work.move_rate:
            stages = [*work.stages, "closedwon"]
            position = stages.index(deal.stage) if deal.stage in stages else 0
            deal.stage = (
                "closedlost" if self.rng.random() < 0.08 else stages[min(position + 1, len(stages) - 1)]
            )
            deal.stage_since = at
            events.append(self._vendor(self.hubspot.deal_event(at, deal), stream))
            return events
        company = deal.name.split(" - ")[0]
        kind = self.rng.choices(
            ["calls", "emails", "notes", "meetings", "tasks"], weights=[30, 28, 20, 14, 8]
        )[0]
        fill = {"company": company}
        if kind == "calls":
            event = self.hubspot.call(
                at,
                owner,
                deal,
                self.rng.choice(list(work.call_titles)).format(**fill),
                self.rng.choice(list(work.notes)).format(**fill),
            )
        elif kind == "emails":
            event = self.hubspot.email(
                at,
                owner,
                deal,
                self.rng.choice(list(work.email_subjects)).format(**fill),
                f"Hi, {self.rng.choice(list(work.notes)).format(**fill)}",
            )
        elif kind == "notes":
            event = self.hubspot.note(at, owner, deal, self.rng.choice(list(work.notes)).format(**fill))
        elif kind == "meetings":
            event = self.hubspot.meeting(
                at,
                owner,
                deal,
                self.rng.choice(list(work.meeting_titles)).format(**fill),
                self.rng.choice(list(work.notes)).format(**fill),
            )
        else:
            event = self.hubspot.task(
                at, owner, deal, self.rng.choice(list(work.task_subjects)).format(**fill)
            )
        events.append(self._vendor(event, stream))
        return events

    def _new_deal(self, work: HubSpotWork, owner: str, at: datetime, *, existing: bool) -> Deal:
        names = list(work.deal_names)
        name = names[work.used_names % len(names)]
        if work.used_names >= len(names):
            name = f"{name} ({work.used_names // len(names) + 1})"
        work.used_names += 1
        created = at - timedelta(days=self.rng.randrange(5, 40)) if existing else at
        low, high = work.amounts
        deal = self.hubspot.new_deal(
            name=name,
            pipeline=work.pipeline,
            stage=work.stages[0] if not existing else self.rng.choice(list(work.stages[:2])),
            amount=self.rng.randrange(low, high) // 1000 * 1000,
            owner=owner,
            created=created,
            close_date=at + timedelta(days=self.rng.randrange(30, 90)),
            deal_type=work.deal_type,
        )
        work.deals.append(deal)
        return deal

    def deal(
        self, stream: Stream, owner: str, name: str, stage: str, amount: int, *, created_days_before: int = 20
    ) -> Deal:
        """A deal that exists when the cycle starts, owned by ``owner``."""
        work = stream.hubspot
        assert work is not None
        hubspot_owner = self.people[owner].hubspot
        assert hubspot_owner is not None
        created = datetime.combine(self.start - timedelta(days=created_days_before), time(15), tzinfo=UTC)
        deal = self.hubspot.new_deal(
            name=name,
            pipeline=work.pipeline,
            stage=stage,
            amount=amount,
            owner=hubspot_owner,
            created=created,
            close_date=created + timedelta(days=self.rng.randrange(60, 120)),
            deal_type=work.deal_type,
        )
        work.deals.append(deal)
        return deal

    def _schedule_checkin(self, person: str, member: Member, week: int, days: Sequence[date]) -> None:
        if self.rng.random() < 0.12:
            return  # skipped this week
        late = self.rng.random() < 0.1 and week < min(WEEKS, self.until_week)
        if late:
            at = self.moment(week + 1, 0, self.rng.uniform(8.5, 11), person)
        else:
            weekday = self.rng.choice([3, 4, 4])
            at = self.moment(week, weekday, self.rng.uniform(14, 17.5), person)
        shares = self._share_for(person, week)
        ranked = sorted(shares.items(), key=lambda item: -item[1])[: self.rng.choice([2, 2, 3])]
        priorities = []
        for stream, _share in ranked:
            text = self.rng.choice(list(stream.priorities))
            priority: dict[str, Any] = {"text": text}
            if stream.key_result and self._responsible(person, stream.key_result, week):
                priority["key_result"] = stream.key_result
            priorities.append(priority)
        updates = []
        for kr_key, kr in self.key_results.items():
            if not self._responsible(person, kr_key, week) or not self._kr_exists(kr_key, week):
                continue
            is_owner = kr["owner"] == person
            if not is_owner and self.rng.random() < 0.5:
                continue
            status = self.claims.get((kr_key, week)) or self._honest_status(kr_key, week)
            update: dict[str, Any] = {"key_result": kr_key, "status": status}
            fraction = self.progress_fraction(kr_key, week)
            if is_owner and fraction is not None and self.rng.random() < 0.6:
                update["value"] = self._value(kr, fraction, 1, week)
            note = self.rng.choice(ON_TRACK_NOTES if status == "on_track" else AT_RISK_NOTES)
            if note:
                update["note"] = note
            updates.append(update)
        checkin: dict[str, Any] = {
            "kind": "checkin",
            "person": person,
            "priorities": priorities,
            "updates": updates,
        }
        blocker = self.checkin_blockers.get((person, week))
        if blocker is None and self.rng.random() < 0.12:
            blocker = self.rng.choice(CHECKIN_BLOCKERS)
        if blocker:
            checkin["blockers"] = blocker
        if self.rng.random() < 0.2:
            checkin["upward_feedback"] = self.rng.choice(CHECKIN_FEEDBACK)
        if self.rng.random() < 0.7:
            checkin["next_week"] = self.rng.choice(CHECKIN_NEXT)
        self.emit(at, checkin)

    def _kr_exists(self, key_result: str, week: int) -> bool:
        added = self.added_in_week.get(key_result)
        return added is None or week > added

    def key_result_added_in(self, key_result: str, week: int) -> None:
        """Check-ins and updates mention a KR added mid-cycle only after the week it was added."""
        self.added_in_week[key_result] = week

    def _honest_status(self, key_result: str, week: int) -> str:
        fraction = self.progress_fraction(key_result, week)
        if fraction is None:
            return "on_track"
        return "on_track" if fraction >= week / WEEKS - 0.07 else "at_risk"

    def _value(self, kr: dict[str, Any], fraction: float, decimals: int, week: int) -> float:
        figures = {"baseline": kr["baseline"], "target": kr["target"]}
        for changed_week, name, figure in self.figure_changes.get(kr["key"], []):
            if changed_week <= week:
                figures[name] = figure
        value = figures["baseline"] + (figures["target"] - figures["baseline"]) * fraction
        rounded = round(value, decimals)
        return int(rounded) if decimals == 0 or float(rounded).is_integer() else rounded

    def _schedule_progress(self, progress: Progress, week: int) -> None:
        person = progress.by(week)
        if person is None or not self._kr_exists(progress.key_result, week):
            return
        if week in self.away_weeks.get(person, set()):
            return  # nobody updates a KR from the beach
        on_time_last_week = progress.last_week == week - 1 and week > 1
        if on_time_last_week and self.rng.random() < 0.08:
            return  # a forgotten week, never two in a row
        progress.last_week = week
        if on_time_last_week and self.rng.random() < 0.1 and week < min(WEEKS, self.until_week):
            at = self.moment(week + 1, 0, self.rng.uniform(9, 12), person)  # a late update
        else:
            at = self.moment(week, self.rng.choice([2, 3, 4]), self.rng.uniform(10, 17), person)
        kr = self.key_results[progress.key_result]
        jitter = self.rng.uniform(-0.004, 0.004)
        value = self._value(kr, max(0.0, progress.fraction(week) + jitter), progress.decimals, week)
        event: dict[str, Any] = {
            "kind": "kr_update",
            "key_result": progress.key_result,
            "value": value,
            "by": person,
            "confidence": round(
                min(0.95, max(0.1, progress.confidence(week) + self.rng.uniform(-0.05, 0.05))), 2
            ),
        }
        note = self.rng.choice(list(progress.notes))
        if note:
            event["note"] = note
        self.emit(at, event)

    def _schedule_kpi(self, kpi: str, values: Callable[[int], float], decimals: int, week: int) -> None:
        at = self.moment(week, 0, self.rng.uniform(8, 9.5))
        value = round(values(week), decimals)
        event: dict[str, Any] = {
            "kind": "kpi_value",
            "kpi": kpi,
            "value": int(value) if decimals == 0 else value,
        }
        note = self.kpi_notes.get((kpi, week))
        if note:
            event["note"] = note[0]
            if note[1]:
                event["objective"] = note[1]
        self.emit(at, event)

    def _schedule_pulses(self, week: int) -> None:
        for key, member in self.people.items():
            if week in self.away_weeks.get(key, set()) or self.rng.random() < 0.3:
                continue
            low, high = 3, 5
            for from_week, team_low, team_high in self.pulse_scores.get(member.team, []):
                if week >= from_week:
                    low, high = team_low, team_high
            at = self.moment(week, self.rng.choice([0, 1, 2]), self.rng.uniform(10, 17), key)
            score = self.rng.choice([s for s in range(low, high + 1) for _ in range(1 + (s == high - 1))])
            self.emit(at, {"kind": "pulse", "person": key, "question": "line_of_sight", "score": score})

    # --- output --------------------------------------------------------------------------------------

    def build(self) -> dict[str, Any]:
        for week in range(1, self.until_week + 1):
            self._schedule_week(week)
        events: list[tuple[datetime, int, dict[str, Any]]] = []
        # Executed in time order, so each issue and deal changes in the order it happened; within one
        # second (``at`` has whole seconds) the execution order is kept.
        for _at, _sequence, action in sorted(self.scheduled, key=lambda item: (item[0], item[1])):
            for event in action():
                events.append((_parse_at(event["at"]), len(events), event))
        events.sort(key=lambda item: (item[0], item[1]))
        self._check_mappings()
        return {
            "format": FORMAT,
            "name": self.name,
            "description": self.description,
            "organization": self.organization,
            "cycle": {"name": self.cycle_name, "start": self.start.isoformat(), "end": self.end.isoformat()},
            "teams": self.teams,
            "people": [self._person_json(member) for member in self.people.values()],
            "objectives": self.objectives,
            "kpis": self.kpis,
            "integrations": self._integrations(),
            "events": [event for _, _, event in events],
            "expect": self._expect(),
        }

    def _person_json(self, member: Member) -> dict[str, Any]:
        identities: dict[str, str] = {}
        if member.jira:
            identities["jira"] = member.jira.account_id
        if member.slack:
            identities["slack"] = member.slack
        if member.hubspot:
            identities["hubspot"] = member.hubspot
        return {
            "key": member.key,
            "name": member.name,
            "email": member.email,
            "role": member.role,
            "team": member.team,
            "manager": member.manager,
            "identities": identities,
        }

    def _integrations(self) -> list[dict[str, Any]]:
        integrations = []
        if self.mappings["jira"]:
            integrations.append(
                {
                    "source": "jira",
                    "settings": {"site": self.jira.site, "story_points_field": self.jira.story_points_field},
                    "mappings": self.mappings["jira"],
                }
            )
        integrations.append(
            {
                "source": "slack",
                # The channels read, by name as people know them ("#squad-activation", not its id).
                "settings": {
                    "team_id": self.slack.team_id,
                    "channels": [
                        {"id": channel_id, "name": name}
                        for name, channel_id in sorted(self.slack.channels.items())
                    ],
                },
                "mappings": self.mappings["slack"],
            }
        )
        if self.mappings["hubspot"]:
            integrations.append(
                {
                    "source": "hubspot",
                    "settings": {"portal_id": self.hubspot.portal_id},
                    "mappings": self.mappings["hubspot"],
                }
            )
        return integrations

    def _expect(self) -> dict[str, Any]:
        expect: dict[str, Any] = {"findings": self.findings, "quiet": self.quiet_subjects}
        if self.contributions:
            expect["contributions"] = self.contributions
        return expect

    def _check_mappings(self) -> None:
        """Every vendor event must be credited by the mappings to exactly the KR its stream was meant for."""
        deals: dict[str, dict[str, Any]] = {}
        for event, intended in self.intended:
            payload = event["payload"]
            if event["kind"] == "hubspot_object" and event["object_type"] == "deals":
                deals[payload["id"]] = payload["properties"]
            matched = matched_key_results(self.mappings, event, deals)
            expected = {intended} if intended else set()
            if matched != expected:
                raise AssertionError(
                    f"{self.name}: event at {event['at']} is credited to {sorted(matched)} by the mappings "
                    f"but its story meant it for {sorted(expected)}"
                )


def matched_key_results(
    mappings: dict[str, list[dict[str, Any]]], event: dict[str, Any], deals: dict[str, dict[str, Any]]
) -> set[str]:
    """The KRs the FORMAT's mapping rules credit a vendor event to."""
    payload = event["payload"]
    attributes: list[dict[str, set[str]]] = []
    if event["kind"] == "jira_webhook":
        fields = payload["issue"]["fields"]
        parent = fields.get("parent") or {}
        epic = (
            parent.get("key") if parent.get("fields", {}).get("issuetype", {}).get("name") == "Epic" else None
        )
        attributes.append(
            {
                "project": {fields["project"]["key"]},
                "epic": {epic} if epic else set(),
                "label": set(fields.get("labels") or []),
                "component": {c["name"] for c in fields.get("components") or []},
            }
        )
        source = "jira"
    elif event["kind"] == "slack_event":
        attributes.append({"channel": {payload["event"]["channel"]}})
        source = "slack"
    else:
        source = "hubspot"
        if event["object_type"] == "deals":
            properties_list = [payload["properties"]]
        else:
            associated = payload.get("associations", {}).get("deals", {}).get("results", [])
            properties_list = [deals[a["id"]] for a in associated if a["id"] in deals]
        for properties in properties_list:
            attributes.append({"pipeline": {properties["pipeline"]}, "dealstage": {properties["dealstage"]}})
    matched = set()
    for rule in mappings[source]:
        for values in attributes:
            if all(value in values.get(name, set()) for name, value in rule["match"].items()):
                matched.add(rule["key_result"])
    return matched


def _parse_at(value: str) -> datetime:
    return datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


def _ascii(text: str) -> str:
    """E-mail addresses without accents: "Lucia" for "Luc\u00eda"."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def weeks(first: int, last: int) -> range:
    """Cycle weeks ``first`` to ``last``, both included."""
    return range(first, last + 1)
