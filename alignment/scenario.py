"""Reading and validating scenario files (format ``okrsignal-scenario/1``).

A scenario tells one organisation's quarter: people, teams, OKRs, KPIs, how vendor work maps to key
results, everything that happened (vendor payloads, check-ins, goal edits), and what a drift engine
should find. ``read_scenario`` turns a file into frozen dataclasses after checking every rule the format
states; any problem raises ``ScenarioError`` naming the file, the JSON path and the problem, so a bad
file is rejected before anything is loaded from it.

The week arithmetic used for scoring lives here too (``cycle_weeks``, ``week_of``,
``evaluation_instants``), as does ``shift_weeks``, which moves a whole scenario in time, vendor payload
timestamps included, for a demo that looks live.

Unknown fields inside vendor payloads are ignored (vendors add fields all the time); unknown fields at
the top level are an error. Nested objects of the format itself tolerate extra fields, which the format
does not forbid.
"""

from __future__ import annotations

import copy
import json
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any, ClassVar, NoReturn, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

FORMAT = "okrsignal-scenario/1"

TOP_LEVEL_FIELDS = (
    "format",
    "name",
    "description",
    "organization",
    "cycle",
    "teams",
    "people",
    "objectives",
    "kpis",
    "integrations",
    "events",
    "expect",
)
ROLES = ("admin", "manager", "employee")
LEVELS = ("company", "team", "individual")
OBJECTIVE_TYPES = ("committed", "aspirational")
DIRECTIONS = ("increase", "decrease")
SOURCES = ("jira", "slack", "hubspot")
IDENTITY_SOURCES = SOURCES
MATCH_KEYS: Mapping[str, tuple[str, ...]] = {
    "jira": ("project", "epic", "label", "component"),
    "slack": ("channel",),
    "hubspot": ("pipeline", "dealstage"),
}
CHECKIN_STATUSES = ("on_track", "at_risk", "blocked")
HUBSPOT_OBJECT_TYPES = ("deals", "notes", "calls", "meetings", "emails", "tasks")
JIRA_WEBHOOK_EVENTS = ("jira:issue_created", "jira:issue_updated", "comment_created")
PULSE_QUESTIONS = ("line_of_sight",)
OBJECTIVE_CHANGE_FIELDS = ("title", "description", "parent", "owner", "type")
KEY_RESULT_CHANGE_FIELDS = ("title", "target", "baseline", "owner", "contributors", "parent_key_result")

# Which subjects each scored finding kind may name.
KEY_RESULT_FINDINGS = ("stale_progress", "status_contradiction", "ownership_gap", "dependency_friction")
OBJECTIVE_FINDINGS = ("cascade_break", "kpi_conflict")
EITHER_FINDINGS = ("priority_shift",)
FINDING_KINDS = EITHER_FINDINGS + KEY_RESULT_FINDINGS + OBJECTIVE_FINDINGS

WEEK = timedelta(days=7)
# A vendor's own time and the event's ``at`` are the same moment written twice; ``at`` is usually the
# vendor time cut to whole seconds.
PAYLOAD_TIME_TOLERANCE = timedelta(seconds=1)

_SLUG = re.compile(r"^[-a-zA-Z0-9_]+$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_UTC_TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|\+00:00)$")
_SLACK_TS = re.compile(r"^\d+\.\d+$")
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class ScenarioError(ValueError):
    """A scenario file breaks the format; the message names the file, the JSON path and the problem."""

    def __init__(self, file: str, json_path: str, problem: str) -> None:
        self.file = file
        self.json_path = json_path
        self.problem = problem
        super().__init__(f"{file}: {json_path}: {problem}")


# --- the scenario, as plain frozen data -------------------------------------------------------------


@dataclass(frozen=True)
class Organization:
    name: str
    slug: str
    time_zone: str = "UTC"


@dataclass(frozen=True)
class Cycle:
    name: str
    start: date
    end: date


@dataclass(frozen=True)
class Team:
    key: str
    name: str
    parent: str | None
    lead: str | None


@dataclass(frozen=True)
class Person:
    key: str
    name: str
    email: str
    role: str
    team: str | None
    manager: str | None
    # vendor ("jira", "slack", "hubspot") -> the vendor's id for this person
    identities: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class KeyResult:
    key: str
    objective: str  # key of the objective it belongs to
    title: str
    owner: str | None
    unit: str
    baseline: float
    target: float
    direction: str
    contributors: tuple[str, ...] = ()
    parent_key_result: str | None = None


@dataclass(frozen=True)
class Objective:
    key: str
    title: str
    description: str
    level: str
    team: str | None
    owner: str
    parent: str | None
    type: str
    key_results: tuple[KeyResult, ...] = ()


@dataclass(frozen=True)
class Kpi:
    key: str
    name: str
    unit: str
    direction: str
    green: float
    red: float
    owner: str
    team: str | None
    objectives: tuple[str, ...] = ()


@dataclass(frozen=True)
class MappingRule:
    """One mapping rule: work whose attributes satisfy every entry of ``match`` counts toward the KR."""

    match: Mapping[str, str]
    key_result: str


@dataclass(frozen=True)
class Integration:
    source: str
    settings: Mapping[str, Any]
    mappings: tuple[MappingRule, ...] = ()


@dataclass(frozen=True)
class Event:
    """Common to every event: its position in the file's ``events`` list and when it happened."""

    kind: ClassVar[str] = ""
    index: int
    at: datetime


@dataclass(frozen=True)
class JiraWebhook(Event):
    kind: ClassVar[str] = "jira_webhook"
    payload: dict[str, Any]

    @property
    def webhook_event(self) -> str:
        return str(self.payload["webhookEvent"])

    @property
    def issue_key(self) -> str:
        return str(self.payload["issue"]["key"])


@dataclass(frozen=True)
class SlackEvent(Event):
    kind: ClassVar[str] = "slack_event"
    payload: dict[str, Any]

    @property
    def channel(self) -> str:
        return str(self.payload["event"]["channel"])


@dataclass(frozen=True)
class HubspotObject(Event):
    kind: ClassVar[str] = "hubspot_object"
    object_type: str
    payload: dict[str, Any]

    @property
    def object_id(self) -> str:
        return str(self.payload["id"])


@dataclass(frozen=True)
class KrUpdate(Event):
    kind: ClassVar[str] = "kr_update"
    key_result: str
    value: float
    by: str
    confidence: float | None = None
    note: str | None = None


@dataclass(frozen=True)
class KpiValue(Event):
    kind: ClassVar[str] = "kpi_value"
    kpi: str
    value: float
    note: str | None = None
    objective: str | None = None


@dataclass(frozen=True)
class CheckinPriority:
    text: str
    key_result: str | None = None


@dataclass(frozen=True)
class CheckinUpdate:
    key_result: str
    status: str
    value: float | None = None
    note: str | None = None


@dataclass(frozen=True)
class Checkin(Event):
    kind: ClassVar[str] = "checkin"
    person: str
    priorities: tuple[CheckinPriority, ...] = ()
    updates: tuple[CheckinUpdate, ...] = ()
    blockers: str | None = None
    upward_feedback: str | None = None
    next_week: str | None = None


@dataclass(frozen=True)
class ObjectiveChange(Event):
    kind: ClassVar[str] = "objective_change"
    objective: str
    by: str
    # any of title, description, parent, owner, type; parent may be None
    changes: Mapping[str, Any]


@dataclass(frozen=True)
class KeyResultChange(Event):
    kind: ClassVar[str] = "key_result_change"
    key_result: str
    by: str
    # any of title, target, baseline, owner, contributors (a tuple), parent_key_result
    changes: Mapping[str, Any]


@dataclass(frozen=True)
class KeyResultAdd(Event):
    kind: ClassVar[str] = "key_result_add"
    objective: str
    by: str
    key_result: KeyResult


@dataclass(frozen=True)
class ObjectiveAdd(Event):
    kind: ClassVar[str] = "objective_add"
    by: str
    objective: Objective


@dataclass(frozen=True)
class AlignmentReview(Event):
    kind: ClassVar[str] = "alignment_review"
    objective: str
    by: str


@dataclass(frozen=True)
class Pulse(Event):
    kind: ClassVar[str] = "pulse"
    person: str
    question: str
    score: int


@dataclass(frozen=True)
class ExpectedFinding:
    kind: str
    subject: str
    onset_week: int
    tolerance_weeks: int = 1


@dataclass(frozen=True)
class ExpectedContribution:
    person: str
    key_result: str


@dataclass(frozen=True)
class Expect:
    findings: tuple[ExpectedFinding, ...] = ()
    quiet: tuple[str, ...] = ()
    contributions: tuple[ExpectedContribution, ...] = ()


@dataclass(frozen=True)
class Scenario:
    file: str
    format: str
    name: str
    description: str
    organization: Organization
    cycle: Cycle
    teams: tuple[Team, ...]
    people: tuple[Person, ...]
    objectives: tuple[Objective, ...]  # as the cycle starts; see all_objectives() for later additions
    kpis: tuple[Kpi, ...]
    integrations: tuple[Integration, ...]
    events: tuple[Event, ...]
    expect: Expect

    def all_objectives(self) -> tuple[Objective, ...]:
        """The objectives the cycle starts with, then those added by ``objective_add`` events."""
        added = tuple(event.objective for event in self.events if isinstance(event, ObjectiveAdd))
        return self.objectives + added

    def all_key_results(self) -> tuple[KeyResult, ...]:
        """Every key result the file defines, including those added mid-cycle."""
        results = [kr for objective in self.all_objectives() for kr in objective.key_results]
        results += [event.key_result for event in self.events if isinstance(event, KeyResultAdd)]
        return tuple(results)


# --- scoring weeks ----------------------------------------------------------------------------------


def cycle_starts_at(cycle: Cycle) -> datetime:
    """00:00 UTC on the cycle's first day: week 1 begins here."""
    return datetime.combine(cycle.start, time(0), tzinfo=UTC)


def cycle_weeks(cycle: Cycle) -> int:
    """N = ceil((end - start + 1 day) / 7): the number of weeks scored."""
    days = (cycle.end - cycle.start).days + 1
    return math.ceil(days / 7)


def week_of(cycle: Cycle, at: datetime) -> int:
    """The cycle week ``at`` falls in: week n covers [start + 7(n-1) days, start + 7n days).

    Moments before the cycle give 0 or less. ``at`` must carry a time zone.
    """
    if at.tzinfo is None:
        raise ValueError("week_of needs an aware datetime")
    return (at - cycle_starts_at(cycle)) // WEEK + 1


def evaluation_instants(cycle: Cycle) -> list[datetime]:
    """After each week n = 1..N the engine evaluates as of start + 7n days, 00:00 UTC."""
    starts_at = cycle_starts_at(cycle)
    return [starts_at + n * WEEK for n in range(1, cycle_weeks(cycle) + 1)]


# --- reading ----------------------------------------------------------------------------------------


def read_scenario(path: str | Path) -> Scenario:
    """Read and validate a scenario file; raise ``ScenarioError`` on the first problem found."""
    file = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise ScenarioError(file, "$", f"cannot be read: {error}") from error
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise ScenarioError(
            file, "$", f"is not valid JSON: {error.msg} at line {error.lineno} column {error.colno}"
        ) from error
    return scenario_from_dict(data, file=file)


def scenario_from_dict(data: Any, *, file: str = "<scenario>") -> Scenario:
    """Validate an already parsed scenario document; ``file`` is only used in error messages."""
    return _ScenarioParser(file).parse(data)


def _path(base: str, name: str | int) -> str:
    if isinstance(name, int):
        return f"{base}[{name}]"
    if _IDENTIFIER.match(name):
        return f"{base}.{name}"
    return f"{base}[{json.dumps(name)}]"


def parse_timestamp(value: str) -> datetime:
    """An ISO 8601 timestamp with a time zone, as an aware datetime (``Z`` accepted)."""
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        raise ValueError("no time zone")
    return parsed


_T = TypeVar("_T")


class _ScenarioParser:
    def __init__(self, file: str) -> None:
        self.file = file
        self.team_keys: set[str] = set()
        self.person_keys: set[str] = set()
        self.kpi_keys: set[str] = set()
        # Objectives and key results known so far, in file order; events may add more as they go.
        self.objective_keys: set[str] = set()
        self.key_result_keys: set[str] = set()
        # Keys that events add later in the file -> the path of the adding event, for clear messages.
        self.added_later: dict[str, str] = {}
        self.added_objectives: set[str] = set()
        self.added_key_results: set[str] = set()
        self.objective_parents: dict[str, str | None] = {}
        self.key_result_people: dict[str, set[str]] = {}
        self.cycle: Cycle | None = None

    # -- primitives -------------------------------------------------------------------------------

    def fail(self, path: str, problem: str) -> NoReturn:
        raise ScenarioError(self.file, path, problem)

    def as_object(self, value: Any, path: str) -> dict[str, Any]:
        if not isinstance(value, dict):
            self.fail(path, f"must be an object, not {_json_type(value)}")
        return value

    def as_list(self, value: Any, path: str) -> list[Any]:
        if not isinstance(value, list):
            self.fail(path, f"must be a list, not {_json_type(value)}")
        return value

    def required(self, obj: dict[str, Any], name: str, path: str) -> Any:
        if name not in obj:
            self.fail(_path(path, name), "is required")
        return obj[name]

    def string(self, obj: dict[str, Any], name: str, path: str, *, allow_empty: bool = False) -> str:
        value = self.required(obj, name, path)
        return self.string_value(value, _path(path, name), allow_empty=allow_empty)

    def string_value(self, value: Any, path: str, *, allow_empty: bool = False) -> str:
        if not isinstance(value, str):
            self.fail(path, f"must be a string, not {_json_type(value)}")
        if not allow_empty and not value.strip():
            self.fail(path, "must not be empty")
        return value

    def optional_string(self, obj: dict[str, Any], name: str, path: str) -> str | None:
        value = obj.get(name)
        if value is None:
            return None
        return self.string_value(value, _path(path, name), allow_empty=True)

    def number_value(self, value: Any, path: str) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.fail(path, f"must be a number, not {_json_type(value)}")
        if not math.isfinite(value):
            self.fail(path, "must be a finite number")
        return value

    def number(self, obj: dict[str, Any], name: str, path: str) -> float:
        return self.number_value(self.required(obj, name, path), _path(path, name))

    def integer_value(self, value: Any, path: str) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            self.fail(path, f"must be a whole number, not {_json_type(value)}")
        return value

    def enum(
        self, obj: dict[str, Any], name: str, path: str, choices: tuple[str, ...], default: str | None = None
    ) -> str:
        if name not in obj or (obj[name] is None and default is not None):
            if default is not None:
                return default
            self.fail(_path(path, name), "is required")
        return self.enum_value(obj[name], _path(path, name), choices)

    def enum_value(self, value: Any, path: str, choices: tuple[str, ...]) -> str:
        if value not in choices:
            allowed = ", ".join(choices)
            self.fail(path, f"{json.dumps(value)} is not one of: {allowed}")
        return str(value)

    def date_value(self, value: Any, path: str) -> date:
        if not isinstance(value, str) or not _DATE.match(value):
            self.fail(path, f"{json.dumps(value)} is not a date written YYYY-MM-DD")
        try:
            return date.fromisoformat(value)
        except ValueError:
            self.fail(path, f"{json.dumps(value)} is not a real date")

    def timestamp_value(self, value: Any, path: str) -> datetime:
        if not isinstance(value, str) or not _UTC_TIMESTAMP.match(value):
            self.fail(
                path,
                f"{json.dumps(value)} is not an ISO 8601 UTC timestamp such as 2026-07-06T09:30:00Z",
            )
        try:
            return parse_timestamp(value)
        except ValueError:
            self.fail(path, f"{json.dumps(value)} is not a real moment in time")

    def unique_key(self, obj: dict[str, Any], path: str, seen: dict[str, str], what: str) -> str:
        key = self.string(obj, "key", path)
        if key in seen:
            self.fail(_path(path, "key"), f"{what} key {json.dumps(key)} is already used at {seen[key]}")
        seen[key] = path
        return key

    def reference(
        self, value: Any, path: str, known: set[str], what: str, *, nullable: bool = False
    ) -> str | None:
        if value is None:
            if nullable:
                return None
            self.fail(path, f"must name a {what}")
        if not isinstance(value, str):
            self.fail(path, f"must be a {what} key (a string), not {_json_type(value)}")
        if value not in known:
            if value in self.added_later:
                self.fail(
                    path,
                    f"refers to {what} {json.dumps(value)} before it is added at {self.added_later[value]}",
                )
            self.fail(path, f"refers to unknown {what} {json.dumps(value)}")
        return value

    def ref(self, obj: dict[str, Any], name: str, path: str, known: set[str], what: str) -> str:
        result = self.reference(self.required(obj, name, path), _path(path, name), known, what)
        assert result is not None
        return result

    def nullable_ref(
        self, obj: dict[str, Any], name: str, path: str, known: set[str], what: str
    ) -> str | None:
        return self.reference(obj.get(name), _path(path, name), known, what, nullable=True)

    def each(self, values: list[Any], path: str, read: Callable[[Any, str], _T]) -> tuple[_T, ...]:
        return tuple(read(value, _path(path, index)) for index, value in enumerate(values))

    # -- the document -----------------------------------------------------------------------------

    def parse(self, data: Any) -> Scenario:
        root = self.as_object(data, "$")
        for name in root:
            if name not in TOP_LEVEL_FIELDS:
                self.fail(
                    _path("$", name), f"unknown top-level field; allowed: {', '.join(TOP_LEVEL_FIELDS)}"
                )
        format_ = self.string(root, "format", "$")
        if format_ != FORMAT:
            self.fail("$.format", f"{json.dumps(format_)} is not the supported format {json.dumps(FORMAT)}")
        name = self.string(root, "name", "$")
        description = self.optional_string(root, "description", "$") or ""
        organization = self.organization(self.required(root, "organization", "$"), "$.organization")
        cycle = self.read_cycle(self.required(root, "cycle", "$"), "$.cycle")
        self.cycle = cycle

        teams_data = self.as_list(root.get("teams", []), "$.teams")
        people_data = self.as_list(self.required(root, "people", "$"), "$.people")
        objectives_data = self.as_list(self.required(root, "objectives", "$"), "$.objectives")
        kpis_data = self.as_list(root.get("kpis", []), "$.kpis")
        integrations_data = self.as_list(root.get("integrations", []), "$.integrations")
        events_data = self.as_list(self.required(root, "events", "$"), "$.events")

        # Keys first, so references may point forward within the top-level lists (a team lead is a
        # person defined further down, a parent objective may come after its child).
        seen: dict[str, str] = {}
        for index, team in enumerate(teams_data):
            self.team_keys.add(
                self.unique_key(self.as_object(team, f"$.teams[{index}]"), f"$.teams[{index}]", seen, "team")
            )
        seen = {}
        for index, person in enumerate(people_data):
            path = f"$.people[{index}]"
            self.person_keys.add(self.unique_key(self.as_object(person, path), path, seen, "person"))
        goal_keys: dict[str, str] = {}
        for index, objective in enumerate(objectives_data):
            path = f"$.objectives[{index}]"
            self.collect_goal_keys(
                self.as_object(objective, path), path, goal_keys, self.objective_keys, self.key_result_keys
            )
        self.collect_added_keys(events_data, goal_keys)
        seen = {}
        for index, kpi in enumerate(kpis_data):
            path = f"$.kpis[{index}]"
            self.kpi_keys.add(self.unique_key(self.as_object(kpi, path), path, seen, "KPI"))

        teams = self.each(teams_data, "$.teams", self.team)
        self.check_no_cycles({team.key: team.parent for team in teams}, "$.teams", "parent", "team")
        people = self.each(people_data, "$.people", self.person)
        self.check_people(people)
        objectives = self.each(objectives_data, "$.objectives", self.objective)
        for objective in objectives:
            self.objective_parents[objective.key] = objective.parent
        self.check_no_cycles(self.objective_parents, "$.objectives", "parent", "objective")
        self.check_no_cycles(
            {kr.key: kr.parent_key_result for objective in objectives for kr in objective.key_results},
            "$.objectives",
            "parent_key_result",
            "key result",
        )
        kpis = self.each(kpis_data, "$.kpis", self.kpi)
        # Mappings are set up once, so they may name key results that are only added mid-cycle.
        every_key_result = self.key_result_keys | self.added_key_results
        integrations = self.each(
            integrations_data,
            "$.integrations",
            lambda value, path: self.integration(value, path, every_key_result),
        )
        seen = {}
        for index, integration in enumerate(integrations):
            if integration.source in seen:
                self.fail(
                    f"$.integrations[{index}].source",
                    f"a second {integration.source} integration; the first is {seen[integration.source]}",
                )
            seen[integration.source] = f"$.integrations[{index}]"
        events = self.events(events_data, cycle)
        expect = self.expect(root.get("expect", {}), "$.expect", cycle)
        return Scenario(
            file=self.file,
            format=format_,
            name=name,
            description=description,
            organization=organization,
            cycle=cycle,
            teams=teams,
            people=people,
            objectives=objectives,
            kpis=kpis,
            integrations=integrations,
            events=events,
            expect=expect,
        )

    def organization(self, value: Any, path: str) -> Organization:
        obj = self.as_object(value, path)
        name = self.string(obj, "name", path)
        slug = self.string(obj, "slug", path)
        if not _SLUG.match(slug) or len(slug) > 50:
            self.fail(
                _path(path, "slug"),
                f"{json.dumps(slug)} is not a slug (letters, digits, - and _, at most 50)",
            )
        time_zone = obj.get("time_zone")
        if time_zone is None:
            time_zone = "UTC"
        else:
            time_zone = self.string_value(time_zone, _path(path, "time_zone"))
            try:
                ZoneInfo(time_zone)
            except (ZoneInfoNotFoundError, ValueError):
                self.fail(_path(path, "time_zone"), f"{json.dumps(time_zone)} is not an IANA time zone name")
        return Organization(name=name, slug=slug, time_zone=time_zone)

    def read_cycle(self, value: Any, path: str) -> Cycle:
        obj = self.as_object(value, path)
        name = self.string(obj, "name", path)
        start = self.date_value(self.required(obj, "start", path), _path(path, "start"))
        end = self.date_value(self.required(obj, "end", path), _path(path, "end"))
        if end < start:
            self.fail(_path(path, "end"), f"{end.isoformat()} is before the start {start.isoformat()}")
        return Cycle(name=name, start=start, end=end)

    def team(self, value: Any, path: str) -> Team:
        obj = self.as_object(value, path)
        return Team(
            key=self.string(obj, "key", path),
            name=self.string(obj, "name", path),
            parent=self.nullable_ref(obj, "parent", path, self.team_keys, "team"),
            lead=self.nullable_ref(obj, "lead", path, self.person_keys, "person"),
        )

    def person(self, value: Any, path: str) -> Person:
        obj = self.as_object(value, path)
        email = self.string(obj, "email", path)
        if "@" not in email.strip("@") or any(ch.isspace() for ch in email):
            self.fail(_path(path, "email"), f"{json.dumps(email)} is not an e-mail address")
        identities_value = obj.get("identities")
        identities: dict[str, str] = {}
        if identities_value is not None:
            identities_path = _path(path, "identities")
            for source, actor in self.as_object(identities_value, identities_path).items():
                if source in IDENTITY_SOURCES:
                    identities[source] = self.string_value(actor, _path(identities_path, source))
        return Person(
            key=self.string(obj, "key", path),
            name=self.string(obj, "name", path),
            email=email,
            role=self.enum(obj, "role", path, ROLES),
            team=self.nullable_ref(obj, "team", path, self.team_keys, "team"),
            manager=self.nullable_ref(obj, "manager", path, self.person_keys, "person"),
            identities=identities,
        )

    def check_people(self, people: tuple[Person, ...]) -> None:
        emails: dict[str, int] = {}
        actors: dict[tuple[str, str], int] = {}
        for index, person in enumerate(people):
            path = f"$.people[{index}]"
            email = person.email.strip().lower()
            if email in emails:
                self.fail(
                    _path(path, "email"), f"{person.email} is also the e-mail of $.people[{emails[email]}]"
                )
            emails[email] = index
            for source, actor in person.identities.items():
                if (source, actor) in actors:
                    self.fail(
                        f"{path}.identities.{source}",
                        f"{actor} is also the {source} identity of $.people[{actors[(source, actor)]}]",
                    )
                actors[(source, actor)] = index
            if person.manager == person.key:
                self.fail(_path(path, "manager"), "a person cannot be their own manager")
        self.check_no_cycles({p.key: p.manager for p in people}, "$.people", "manager", "person")

    def check_no_cycles(
        self, parents: Mapping[str, str | None], path: str, field_name: str, what: str
    ) -> None:
        for start in parents:
            seen = [start]
            current = parents.get(start)
            while current is not None:
                if current in seen:
                    chain = " -> ".join([*seen, current])
                    self.fail(path, f"{what} {field_name} links form a loop: {chain}")
                seen.append(current)
                current = parents.get(current)

    def collect_goal_keys(
        self,
        obj: dict[str, Any],
        path: str,
        seen: dict[str, str],
        objectives: set[str],
        key_results: set[str],
    ) -> None:
        """Record an objective's key and its key results' keys, unique across both lists."""
        objectives.add(self.unique_goal_key(obj, path, seen, "objective"))
        krs_path = _path(path, "key_results")
        for index, kr in enumerate(self.as_list(obj.get("key_results", []), krs_path)):
            kr_path = _path(krs_path, index)
            key_results.add(self.unique_goal_key(self.as_object(kr, kr_path), kr_path, seen, "key result"))

    def unique_goal_key(self, obj: dict[str, Any], path: str, seen: dict[str, str], what: str) -> str:
        key = self.string(obj, "key", path)
        if key in seen:
            self.fail(
                _path(path, "key"),
                f"{what} key {json.dumps(key)} is already used at {seen[key]} "
                "(objective and key result keys are unique across both)",
            )
        seen[key] = path
        return key

    def collect_added_keys(self, events_data: list[Any], seen: dict[str, str]) -> None:
        """Keys that ``objective_add`` and ``key_result_add`` events introduce, checked for uniqueness."""
        for index, event in enumerate(events_data):
            path = f"$.events[{index}]"
            if not isinstance(event, dict):
                continue
            objectives: set[str] = set()
            key_results: set[str] = set()
            if event.get("kind") == "objective_add":
                objective = self.as_object(self.required(event, "objective", path), f"{path}.objective")
                self.collect_goal_keys(objective, f"{path}.objective", seen, objectives, key_results)
            elif event.get("kind") == "key_result_add":
                kr = self.as_object(self.required(event, "key_result", path), f"{path}.key_result")
                key_results.add(self.unique_goal_key(kr, f"{path}.key_result", seen, "key result"))
            self.added_objectives |= objectives
            self.added_key_results |= key_results
            for key in objectives | key_results:
                self.added_later[key] = path

    def key_result(self, value: Any, path: str, objective: str) -> KeyResult:
        obj = self.as_object(value, path)
        contributors_path = _path(path, "contributors")
        contributors = self.each(
            self.as_list(obj.get("contributors") or [], contributors_path),
            contributors_path,
            lambda person, person_path: self.reference(person, person_path, self.person_keys, "person"),
        )
        key = self.string(obj, "key", path)
        owner = self.nullable_ref(obj, "owner", path, self.person_keys, "person")
        self.key_result_people[key] = {person for person in (owner, *contributors) if person is not None}
        parent_key_result = self.nullable_ref(
            obj, "parent_key_result", path, self.key_result_keys, "key result"
        )
        if parent_key_result == key:
            self.fail(_path(path, "parent_key_result"), "a key result cannot roll up into itself")
        return KeyResult(
            key=key,
            objective=objective,
            title=self.string(obj, "title", path),
            owner=owner,
            unit=self.string(obj, "unit", path, allow_empty=True),
            baseline=self.number(obj, "baseline", path),
            target=self.number(obj, "target", path),
            direction=self.enum(obj, "direction", path, DIRECTIONS),
            contributors=tuple(person for person in contributors if person is not None),
            parent_key_result=parent_key_result,
        )

    def objective(self, value: Any, path: str) -> Objective:
        obj = self.as_object(value, path)
        key = self.string(obj, "key", path)
        parent = self.nullable_ref(obj, "parent", path, self.objective_keys, "objective")
        if parent == key:
            self.fail(_path(path, "parent"), "an objective cannot be its own parent")
        krs_path = _path(path, "key_results")
        key_results = self.each(
            self.as_list(obj.get("key_results", []), krs_path),
            krs_path,
            lambda kr, kr_path: self.key_result(kr, kr_path, key),
        )
        return Objective(
            key=key,
            title=self.string(obj, "title", path),
            description=self.optional_string(obj, "description", path) or "",
            level=self.enum(obj, "level", path, LEVELS),
            team=self.nullable_ref(obj, "team", path, self.team_keys, "team"),
            owner=self.ref(obj, "owner", path, self.person_keys, "person"),
            parent=parent,
            type=self.enum(obj, "type", path, OBJECTIVE_TYPES, default="committed"),
            key_results=key_results,
        )

    def kpi(self, value: Any, path: str) -> Kpi:
        obj = self.as_object(value, path)
        direction = self.enum(obj, "direction", path, DIRECTIONS)
        green = self.number(obj, "green", path)
        red = self.number(obj, "red", path)
        if (direction == "decrease" and green > red) or (direction == "increase" and green < red):
            better = "at or below" if direction == "decrease" else "at or above"
            self.fail(
                _path(path, "green"),
                f"for direction {direction} the green threshold must be {better} the red one "
                f"({green} vs {red})",
            )
        objectives_path = _path(path, "objectives")
        objectives = self.each(
            self.as_list(obj.get("objectives") or [], objectives_path),
            objectives_path,
            lambda key, key_path: self.reference(
                key, key_path, self.objective_keys | self.added_objectives, "objective"
            ),
        )
        return Kpi(
            key=self.string(obj, "key", path),
            name=self.string(obj, "name", path),
            unit=self.string(obj, "unit", path, allow_empty=True),
            direction=direction,
            green=green,
            red=red,
            owner=self.ref(obj, "owner", path, self.person_keys, "person"),
            team=self.nullable_ref(obj, "team", path, self.team_keys, "team"),
            objectives=tuple(key for key in objectives if key is not None),
        )

    def integration(self, value: Any, path: str, key_results: set[str]) -> Integration:
        obj = self.as_object(value, path)
        source = self.enum(obj, "source", path, SOURCES)
        settings = self.as_object(obj.get("settings") or {}, _path(path, "settings"))
        mappings_path = _path(path, "mappings")
        mappings = []
        for index, mapping_value in enumerate(self.as_list(obj.get("mappings") or [], mappings_path)):
            mapping_path = _path(mappings_path, index)
            mapping = self.as_object(mapping_value, mapping_path)
            match_path = _path(mapping_path, "match")
            match = self.as_object(self.required(mapping, "match", mapping_path), match_path)
            if not match:
                self.fail(match_path, "must hold at least one condition")
            for match_key, match_value in match.items():
                if match_key not in MATCH_KEYS[source]:
                    self.fail(
                        _path(match_path, match_key),
                        f"is not a {source} match key; allowed: {', '.join(MATCH_KEYS[source])}",
                    )
                self.string_value(match_value, _path(match_path, match_key))
            key_result = self.reference(
                self.required(mapping, "key_result", mapping_path),
                _path(mapping_path, "key_result"),
                key_results,
                "key result",
            )
            assert key_result is not None
            mappings.append(MappingRule(match=dict(match), key_result=key_result))
        return Integration(source=source, settings=dict(settings), mappings=tuple(mappings))

    # -- events -----------------------------------------------------------------------------------

    def events(self, events_data: list[Any], cycle: Cycle) -> tuple[Event, ...]:
        begins = cycle_starts_at(cycle)
        ends = datetime.combine(cycle.end + timedelta(days=1), time(0), tzinfo=UTC)
        previous: datetime | None = None
        events: list[Event] = []
        readers: dict[str, Callable[[int, datetime, dict[str, Any], str], Event]] = {
            "jira_webhook": self.jira_webhook,
            "slack_event": self.slack_event,
            "hubspot_object": self.hubspot_object,
            "kr_update": self.kr_update,
            "kpi_value": self.kpi_value,
            "checkin": self.checkin,
            "objective_change": self.objective_change,
            "key_result_change": self.key_result_change,
            "key_result_add": self.key_result_add,
            "objective_add": self.objective_add,
            "alignment_review": self.alignment_review,
            "pulse": self.pulse,
        }
        for index, value in enumerate(events_data):
            path = f"$.events[{index}]"
            obj = self.as_object(value, path)
            at = self.timestamp_value(self.required(obj, "at", path), f"{path}.at")
            if not begins <= at < ends:
                self.fail(
                    f"{path}.at",
                    f"{obj['at']} is outside the cycle {cycle.start.isoformat()} .. {cycle.end.isoformat()}",
                )
            if previous is not None and at < previous:
                self.fail(
                    f"{path}.at",
                    f"{obj['at']} is earlier than the event before it; events must be sorted by at",
                )
            previous = at
            kind = self.enum(obj, "kind", path, tuple(readers))
            events.append(readers[kind](index, at, obj, path))
        return tuple(events)

    def check_payload_time(self, at: datetime, vendor_time: datetime, path: str, source_path: str) -> None:
        if abs(at - vendor_time) > PAYLOAD_TIME_TOLERANCE:
            self.fail(
                f"{path}.at",
                f"{_format_utc(at)} does not match the vendor's own time {_format_utc(vendor_time)} at "
                f"{source_path}; they must agree within a second",
            )

    def jira_webhook(self, index: int, at: datetime, obj: dict[str, Any], path: str) -> Event:
        payload_path = f"{path}.payload"
        payload = self.as_object(self.required(obj, "payload", path), payload_path)
        webhook_event = self.required(payload, "webhookEvent", payload_path)
        self.enum_value(webhook_event, f"{payload_path}.webhookEvent", JIRA_WEBHOOK_EVENTS)
        timestamp = self.integer_value(
            self.required(payload, "timestamp", payload_path), f"{payload_path}.timestamp"
        )
        issue = self.as_object(self.required(payload, "issue", payload_path), f"{payload_path}.issue")
        self.string(issue, "key", f"{payload_path}.issue")
        self.as_object(
            self.required(issue, "fields", f"{payload_path}.issue"), f"{payload_path}.issue.fields"
        )
        if "user" in payload and payload["user"] is not None:
            self.as_object(payload["user"], f"{payload_path}.user")
        if "changelog" in payload and payload["changelog"] is not None:
            changelog = self.as_object(payload["changelog"], f"{payload_path}.changelog")
            items_path = f"{payload_path}.changelog.items"
            for item_index, item in enumerate(self.as_list(changelog.get("items", []), items_path)):
                self.string(
                    self.as_object(item, f"{items_path}[{item_index}]"),
                    "field",
                    f"{items_path}[{item_index}]",
                )
        if webhook_event == "comment_created":
            self.as_object(self.required(payload, "comment", payload_path), f"{payload_path}.comment")
        try:
            vendor_time = datetime.fromtimestamp(timestamp / 1000, tz=UTC)
        except (OverflowError, OSError, ValueError):
            self.fail(f"{payload_path}.timestamp", f"{timestamp} is not a time in milliseconds")
        self.check_payload_time(at, vendor_time, path, f"{payload_path}.timestamp")
        return JiraWebhook(index=index, at=at, payload=payload)

    def slack_event(self, index: int, at: datetime, obj: dict[str, Any], path: str) -> Event:
        payload_path = f"{path}.payload"
        payload = self.as_object(self.required(obj, "payload", path), payload_path)
        envelope_type = self.required(payload, "type", payload_path)
        self.enum_value(envelope_type, f"{payload_path}.type", ("event_callback",))
        self.string(payload, "team_id", payload_path)
        self.string(payload, "event_id", payload_path)
        self.integer_value(self.required(payload, "event_time", payload_path), f"{payload_path}.event_time")
        event_path = f"{payload_path}.event"
        event = self.as_object(self.required(payload, "event", payload_path), event_path)
        self.enum_value(self.required(event, "type", event_path), f"{event_path}.type", ("message",))
        self.string(event, "channel", event_path)
        for optional in ("user", "text"):
            if event.get(optional) is not None:
                self.string_value(event[optional], f"{event_path}.{optional}", allow_empty=True)
        ts = self.string(event, "ts", event_path)
        if not _SLACK_TS.match(ts):
            self.fail(
                f"{event_path}.ts", f"{json.dumps(ts)} is not a Slack timestamp such as 1783344846.699612"
            )
        thread_ts = event.get("thread_ts")
        if thread_ts is not None and (not isinstance(thread_ts, str) or not _SLACK_TS.match(thread_ts)):
            self.fail(f"{event_path}.thread_ts", f"{json.dumps(thread_ts)} is not a Slack timestamp")
        self.check_payload_time(at, datetime.fromtimestamp(float(ts), tz=UTC), path, f"{event_path}.ts")
        return SlackEvent(index=index, at=at, payload=payload)

    def hubspot_object(self, index: int, at: datetime, obj: dict[str, Any], path: str) -> Event:
        object_type = self.enum(obj, "object_type", path, HUBSPOT_OBJECT_TYPES)
        payload_path = f"{path}.payload"
        payload = self.as_object(self.required(obj, "payload", path), payload_path)
        self.string(payload, "id", payload_path)
        properties_path = f"{payload_path}.properties"
        properties = self.as_object(self.required(payload, "properties", payload_path), properties_path)
        self.timestamp_value(self.required(payload, "createdAt", payload_path), f"{payload_path}.createdAt")
        updated_at = self.timestamp_value(
            self.required(payload, "updatedAt", payload_path), f"{payload_path}.updatedAt"
        )
        if "archived" in payload and not isinstance(payload["archived"], bool):
            self.fail(f"{payload_path}.archived", "must be true or false")
        if object_type == "deals":
            self.string(properties, "pipeline", properties_path)
            self.string(properties, "dealstage", properties_path)
        associations = payload.get("associations")
        if associations is not None:
            associations_path = f"{payload_path}.associations"
            for target, group in self.as_object(associations, associations_path).items():
                group_path = _path(associations_path, target)
                results_path = f"{group_path}.results"
                results = self.as_list(
                    self.required(self.as_object(group, group_path), "results", group_path), results_path
                )
                for result_index, result in enumerate(results):
                    result_path = f"{results_path}[{result_index}]"
                    self.string(self.as_object(result, result_path), "id", result_path)
        candidates = [updated_at]
        if properties.get("hs_timestamp") is not None:
            candidates.append(
                self.timestamp_value(properties["hs_timestamp"], f"{properties_path}.hs_timestamp")
            )
        if all(abs(at - candidate) > PAYLOAD_TIME_TOLERANCE for candidate in candidates):
            self.check_payload_time(at, updated_at, path, f"{payload_path}.updatedAt")
        return HubspotObject(index=index, at=at, object_type=object_type, payload=payload)

    def kr_update(self, index: int, at: datetime, obj: dict[str, Any], path: str) -> Event:
        confidence = obj.get("confidence")
        if confidence is not None:
            confidence = self.number_value(confidence, f"{path}.confidence")
            if not 0 <= confidence <= 1:
                self.fail(f"{path}.confidence", f"{confidence} is not between 0 and 1")
        return KrUpdate(
            index=index,
            at=at,
            key_result=self.ref(obj, "key_result", path, self.key_result_keys, "key result"),
            value=self.number(obj, "value", path),
            by=self.ref(obj, "by", path, self.person_keys, "person"),
            confidence=confidence,
            note=self.optional_string(obj, "note", path),
        )

    def kpi_value(self, index: int, at: datetime, obj: dict[str, Any], path: str) -> Event:
        return KpiValue(
            index=index,
            at=at,
            kpi=self.ref(obj, "kpi", path, self.kpi_keys, "KPI"),
            value=self.number(obj, "value", path),
            note=self.optional_string(obj, "note", path),
            objective=self.nullable_ref(obj, "objective", path, self.objective_keys, "objective"),
        )

    def checkin(self, index: int, at: datetime, obj: dict[str, Any], path: str) -> Event:
        priorities = []
        priorities_path = f"{path}.priorities"
        for item_index, item in enumerate(self.as_list(obj.get("priorities") or [], priorities_path)):
            item_path = f"{priorities_path}[{item_index}]"
            item_obj = self.as_object(item, item_path)
            priorities.append(
                CheckinPriority(
                    text=self.string(item_obj, "text", item_path),
                    key_result=self.nullable_ref(
                        item_obj, "key_result", item_path, self.key_result_keys, "key result"
                    ),
                )
            )
        updates = []
        updates_path = f"{path}.updates"
        for item_index, item in enumerate(self.as_list(obj.get("updates") or [], updates_path)):
            item_path = f"{updates_path}[{item_index}]"
            item_obj = self.as_object(item, item_path)
            value = item_obj.get("value")
            updates.append(
                CheckinUpdate(
                    key_result=self.ref(
                        item_obj, "key_result", item_path, self.key_result_keys, "key result"
                    ),
                    status=self.enum(item_obj, "status", item_path, CHECKIN_STATUSES),
                    value=None if value is None else self.number_value(value, f"{item_path}.value"),
                    note=self.optional_string(item_obj, "note", item_path),
                )
            )
        return Checkin(
            index=index,
            at=at,
            person=self.ref(obj, "person", path, self.person_keys, "person"),
            priorities=tuple(priorities),
            updates=tuple(updates),
            blockers=self.free_text(obj, "blockers", path),
            upward_feedback=self.free_text(obj, "upward_feedback", path),
            next_week=self.free_text(obj, "next_week", path),
        )

    def free_text(self, obj: dict[str, Any], name: str, path: str) -> str | None:
        """Check-in prose: a string, or a list of strings taken one per line."""
        value = obj.get(name)
        if isinstance(value, list):
            lines = [
                self.string_value(line, f"{_path(path, name)}[{i}]", allow_empty=True)
                for i, line in enumerate(value)
            ]
            return "\n".join(lines)
        return self.optional_string(obj, name, path)

    def changes(self, obj: dict[str, Any], path: str, allowed: tuple[str, ...]) -> dict[str, Any]:
        changes_path = f"{path}.changes"
        changes = self.as_object(self.required(obj, "changes", path), changes_path)
        if not changes:
            self.fail(changes_path, "must change at least one field")
        for name in changes:
            if name not in allowed:
                self.fail(_path(changes_path, name), f"cannot be changed here; allowed: {', '.join(allowed)}")
        return changes

    def objective_change(self, index: int, at: datetime, obj: dict[str, Any], path: str) -> Event:
        objective = self.ref(obj, "objective", path, self.objective_keys, "objective")
        raw = self.changes(obj, path, OBJECTIVE_CHANGE_FIELDS)
        changes_path = f"{path}.changes"
        changes: dict[str, Any] = {}
        for name, value in raw.items():
            field_path = _path(changes_path, name)
            if name == "title":
                changes[name] = self.string_value(value, field_path)
            elif name == "description":
                changes[name] = (
                    "" if value is None else self.string_value(value, field_path, allow_empty=True)
                )
            elif name == "parent":
                parent = self.reference(value, field_path, self.objective_keys, "objective", nullable=True)
                self.check_new_parent(objective, parent, field_path)
                changes[name] = parent
            elif name == "owner":
                changes[name] = self.reference(value, field_path, self.person_keys, "person")
            else:
                changes[name] = self.enum_value(value, field_path, OBJECTIVE_TYPES)
        return ObjectiveChange(
            index=index,
            at=at,
            objective=objective,
            by=self.ref(obj, "by", path, self.person_keys, "person"),
            changes=changes,
        )

    def check_new_parent(self, objective: str, parent: str | None, path: str) -> None:
        current = parent
        while current is not None:
            if current == objective:
                self.fail(path, f"making {parent} the parent of {objective} would form a loop")
            current = self.objective_parents.get(current)
        self.objective_parents[objective] = parent

    def key_result_change(self, index: int, at: datetime, obj: dict[str, Any], path: str) -> Event:
        key_result = self.ref(obj, "key_result", path, self.key_result_keys, "key result")
        raw = self.changes(obj, path, KEY_RESULT_CHANGE_FIELDS)
        changes_path = f"{path}.changes"
        changes: dict[str, Any] = {}
        for name, value in raw.items():
            field_path = _path(changes_path, name)
            if name == "title":
                changes[name] = self.string_value(value, field_path)
            elif name in ("target", "baseline"):
                changes[name] = self.number_value(value, field_path)
            elif name == "owner":
                changes[name] = self.reference(value, field_path, self.person_keys, "person", nullable=True)
            elif name == "contributors":
                people = self.as_list(value, field_path)
                changes[name] = tuple(
                    self.reference(person, _path(field_path, i), self.person_keys, "person")
                    for i, person in enumerate(people)
                )
            else:
                parent = self.reference(value, field_path, self.key_result_keys, "key result", nullable=True)
                if parent == key_result:
                    self.fail(field_path, "a key result cannot roll up into itself")
                changes[name] = parent
            if name in ("owner", "contributors"):
                people_now = changes[name] if name == "contributors" else (changes[name],)
                self.key_result_people.setdefault(key_result, set()).update(p for p in people_now if p)
        return KeyResultChange(
            index=index,
            at=at,
            key_result=key_result,
            by=self.ref(obj, "by", path, self.person_keys, "person"),
            changes=changes,
        )

    def key_result_add(self, index: int, at: datetime, obj: dict[str, Any], path: str) -> Event:
        objective = self.ref(obj, "objective", path, self.objective_keys, "objective")
        by = self.ref(obj, "by", path, self.person_keys, "person")
        key_result = self.key_result(self.required(obj, "key_result", path), f"{path}.key_result", objective)
        self.key_result_keys.add(key_result.key)
        return KeyResultAdd(index=index, at=at, objective=objective, by=by, key_result=key_result)

    def objective_add(self, index: int, at: datetime, obj: dict[str, Any], path: str) -> Event:
        by = self.ref(obj, "by", path, self.person_keys, "person")
        objective_path = f"{path}.objective"
        objective_obj = self.as_object(self.required(obj, "objective", path), objective_path)
        # Its key results become known with it, so they may roll up into each other.
        for kr in self.as_list(objective_obj.get("key_results", []), f"{objective_path}.key_results"):
            if isinstance(kr, dict) and isinstance(kr.get("key"), str):
                self.key_result_keys.add(kr["key"])
        objective = self.objective(objective_obj, objective_path)
        self.objective_keys.add(objective.key)
        self.objective_parents[objective.key] = objective.parent
        return ObjectiveAdd(index=index, at=at, by=by, objective=objective)

    def alignment_review(self, index: int, at: datetime, obj: dict[str, Any], path: str) -> Event:
        return AlignmentReview(
            index=index,
            at=at,
            objective=self.ref(obj, "objective", path, self.objective_keys, "objective"),
            by=self.ref(obj, "by", path, self.person_keys, "person"),
        )

    def pulse(self, index: int, at: datetime, obj: dict[str, Any], path: str) -> Event:
        score = self.integer_value(self.required(obj, "score", path), f"{path}.score")
        if not 1 <= score <= 5:
            self.fail(f"{path}.score", f"{score} is not between 1 and 5")
        return Pulse(
            index=index,
            at=at,
            person=self.ref(obj, "person", path, self.person_keys, "person"),
            question=self.enum(obj, "question", path, PULSE_QUESTIONS),
            score=score,
        )

    # -- expect -----------------------------------------------------------------------------------

    def expect(self, value: Any, path: str, cycle: Cycle) -> Expect:
        obj = self.as_object(value, path)
        weeks = cycle_weeks(cycle)
        objectives = self.objective_keys
        key_results = self.key_result_keys
        findings = []
        seen: dict[tuple[str, str], str] = {}
        findings_path = f"{path}.findings"
        for index, item in enumerate(self.as_list(obj.get("findings") or [], findings_path)):
            item_path = f"{findings_path}[{index}]"
            item_obj = self.as_object(item, item_path)
            kind = self.enum(item_obj, "kind", item_path, FINDING_KINDS)
            if kind in KEY_RESULT_FINDINGS:
                subject = self.ref(item_obj, "subject", item_path, key_results, "key result")
            elif kind in OBJECTIVE_FINDINGS:
                subject = self.ref(item_obj, "subject", item_path, objectives, "objective")
            else:
                subject = self.ref(
                    item_obj, "subject", item_path, key_results | objectives, "key result or objective"
                )
            onset = self.integer_value(
                self.required(item_obj, "onset_week", item_path), f"{item_path}.onset_week"
            )
            if not 1 <= onset <= weeks:
                self.fail(f"{item_path}.onset_week", f"{onset} is not a week of the cycle (1..{weeks})")
            tolerance = item_obj.get("tolerance_weeks", 1)
            tolerance = self.integer_value(tolerance, f"{item_path}.tolerance_weeks")
            if tolerance < 0:
                self.fail(f"{item_path}.tolerance_weeks", "must not be negative")
            if (kind, subject) in seen:
                self.fail(item_path, f"{kind} for {subject} is already expected at {seen[(kind, subject)]}")
            seen[(kind, subject)] = item_path
            findings.append(
                ExpectedFinding(kind=kind, subject=subject, onset_week=onset, tolerance_weeks=tolerance)
            )
        quiet_path = f"{path}.quiet"
        quiet = self.each(
            self.as_list(obj.get("quiet") or [], quiet_path),
            quiet_path,
            lambda key, key_path: self.reference(
                key, key_path, key_results | objectives, "key result or objective"
            ),
        )
        expected_subjects = {finding.subject for finding in findings}
        for index, quiet_subject in enumerate(quiet):
            if quiet_subject in expected_subjects:
                self.fail(
                    f"{quiet_path}[{index}]", f"{quiet_subject} is quiet and also has an expected finding"
                )
        contributions = []
        contributions_path = f"{path}.contributions"
        for index, item in enumerate(self.as_list(obj.get("contributions") or [], contributions_path)):
            item_path = f"{contributions_path}[{index}]"
            item_obj = self.as_object(item, item_path)
            person = self.ref(item_obj, "person", item_path, self.person_keys, "person")
            key_result = self.ref(item_obj, "key_result", item_path, key_results, "key result")
            if person in self.key_result_people.get(key_result, set()):
                self.fail(
                    item_path,
                    f"{person} is an owner or contributor of {key_result}, "
                    "so their work on it is already credited",
                )
            contributions.append(ExpectedContribution(person=person, key_result=key_result))
        return Expect(
            findings=tuple(findings),
            quiet=tuple(key for key in quiet if key is not None),
            contributions=tuple(contributions),
        )


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def _format_utc(moment: datetime) -> str:
    text = moment.astimezone(UTC).isoformat(timespec="milliseconds")
    return text.replace("+00:00", "Z")


# --- moving a scenario in time ----------------------------------------------------------------------

_ANY_TIMESTAMP = re.compile(
    r"^(?P<date>\d{4}-\d{2}-\d{2})T(?P<time>\d{2}:\d{2}:\d{2})(?P<fraction>\.\d+)?(?P<zone>Z|[+-]\d{2}:?\d{2})?$"
)
_JIRA_TIME_FIELDS = (
    "created",
    "updated",
    "resolutiondate",
    "duedate",
    "statuscategorychangedate",
    "lastViewed",
)
_HUBSPOT_TOP_TIMES = ("createdAt", "updatedAt", "archivedAt")
# HubSpot may also send these as epoch milliseconds in a string.
_HUBSPOT_TIME_PROPERTIES = (
    "hs_timestamp",
    "hs_lastmodifieddate",
    "hs_createdate",
    "createdate",
    "closedate",
    "hs_meeting_start_time",
    "hs_meeting_end_time",
    "hs_task_completion_date",
)


def shift_weeks(scenario: dict[str, Any], weeks: int) -> dict[str, Any]:
    """A copy of a scenario document with every time moved by ``weeks`` whole weeks.

    The cycle dates, every event's ``at`` and the times inside vendor payloads move together, each kept
    in its own notation (Jira milliseconds and ``+0000`` offsets, Slack ``seconds.micros`` strings with
    their six decimals, HubSpot ISO strings), so the shifted file tells the same story and still
    validates. Whole weeks keep every event on the same weekday and in the same cycle week.
    """
    delta = timedelta(weeks=weeks)
    shifted = copy.deepcopy(scenario)
    cycle = shifted.get("cycle")
    if isinstance(cycle, dict):
        for name in ("start", "end"):
            if isinstance(cycle.get(name), str):
                cycle[name] = _shift_text(cycle[name], delta)
    for event in shifted.get("events") or []:
        if not isinstance(event, dict):
            continue
        if isinstance(event.get("at"), str):
            event["at"] = _shift_text(event["at"], delta)
        payload = event.get("payload")
        if not isinstance(payload, dict):
            continue
        kind = event.get("kind")
        if kind == "jira_webhook":
            _shift_jira(payload, delta)
        elif kind == "slack_event":
            _shift_slack(payload, delta)
        elif kind == "hubspot_object":
            _shift_hubspot(payload, delta)
    return shifted


def relative_shift_weeks(scenario: Scenario, now: datetime) -> int:
    """The whole number of weeks that puts the scenario's last event in the cycle week containing ``now``."""
    last = scenario.events[-1].at if scenario.events else cycle_starts_at(scenario.cycle)
    last_week = week_of(scenario.cycle, last)
    week_start = cycle_starts_at(scenario.cycle) + (last_week - 1) * WEEK
    return (now - week_start) // WEEK


def _shift_text(value: str, delta: timedelta) -> str:
    """Shift an ISO date or timestamp written in any common notation, keeping that notation."""
    if _DATE.match(value):
        return (date.fromisoformat(value) + delta).isoformat()
    match = _ANY_TIMESTAMP.match(value)
    if not match:
        return value
    moment = datetime.strptime(f"{match['date']}T{match['time']}", "%Y-%m-%dT%H:%M:%S") + delta
    return moment.strftime("%Y-%m-%dT%H:%M:%S") + (match["fraction"] or "") + (match["zone"] or "")


def _shift_millis(value: Any, delta: timedelta) -> Any:
    milliseconds = int(delta.total_seconds()) * 1000
    if isinstance(value, int) and not isinstance(value, bool):
        return value + milliseconds
    if isinstance(value, str) and value.isdigit():
        return str(int(value) + milliseconds)
    if isinstance(value, str):
        return _shift_text(value, delta)
    return value


def _shift_slack_ts(value: Any, delta: timedelta) -> Any:
    if not isinstance(value, str) or not re.match(r"^\d+(\.\d+)?$", value):
        return value
    seconds, _, fraction = value.partition(".")
    shifted = str(int(seconds) + int(delta.total_seconds()))
    return f"{shifted}.{fraction}" if fraction else shifted


def _shift_jira(payload: dict[str, Any], delta: timedelta) -> None:
    if "timestamp" in payload:
        payload["timestamp"] = _shift_millis(payload["timestamp"], delta)
    issue = payload.get("issue")
    fields = issue.get("fields") if isinstance(issue, dict) else None
    if isinstance(fields, dict):
        for name in _JIRA_TIME_FIELDS:
            if isinstance(fields.get(name), str):
                fields[name] = _shift_text(fields[name], delta)
    changelog = payload.get("changelog")
    if isinstance(changelog, dict) and isinstance(changelog.get("created"), str):
        changelog["created"] = _shift_text(changelog["created"], delta)
    comment = payload.get("comment")
    if isinstance(comment, dict):
        for name in ("created", "updated"):
            if isinstance(comment.get(name), str):
                comment[name] = _shift_text(comment[name], delta)


def _shift_slack(payload: dict[str, Any], delta: timedelta) -> None:
    if isinstance(payload.get("event_time"), int):
        payload["event_time"] += int(delta.total_seconds())
    event = payload.get("event")
    if isinstance(event, dict):
        for name in ("ts", "event_ts", "thread_ts", "latest_reply"):
            if name in event:
                event[name] = _shift_slack_ts(event[name], delta)


def _shift_hubspot(payload: dict[str, Any], delta: timedelta) -> None:
    for name in _HUBSPOT_TOP_TIMES:
        if isinstance(payload.get(name), str):
            payload[name] = _shift_text(payload[name], delta)
    properties = payload.get("properties")
    if not isinstance(properties, dict):
        return
    for name, value in properties.items():
        if not isinstance(value, str):
            continue
        if name in _HUBSPOT_TIME_PROPERTIES and value.isdigit():
            properties[name] = _shift_millis(value, delta)
        elif _DATE.match(value) or _ANY_TIMESTAMP.match(value):
            # Any property holding a date or a timestamp (including hs_date_entered_* stage times).
            properties[name] = _shift_text(value, delta)
