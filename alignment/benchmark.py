"""``manage.py bench drift``: the drift engine on a large organisation, measured against a raw aggregate;
and ``manage.py bench dashboard``: the leader dashboard's server time on that organisation
(``run_dashboard``).

One run on the migrated database the command is given:

* **Generation** (not timed, in a process of its own): an organisation of ``--people`` people in teams of
  about ten under departments, with reporting lines; a 13-week cycle whose twelfth week has just ended;
  company, department and team objectives carrying ``--key-results`` key results with owners and
  contributors; a Jira and a Slack integration with an identity per person and mapping rules; Jira issues
  under an epic per key result, unlinked epics (operations, and for a few drifting teams "SSO and SOC 2
  evidence") and Slack threads; ``--signals`` execution signals over the quarter, mostly counted toward
  the key results of the actor's own team (linked), some on unlinked themes, a few on other teams' key
  results; from a week between 5 and 8 the drifting teams' effort goes mostly to their unlinked epic;
  weekly check-ins with statuses and value updates recorded in the goals' history (some key results stall).
  Rows go in with PostgreSQL ``COPY`` (psycopg's ``cursor.copy()``) into a temporary table and from there
  into the tenant tables, inside the organisation's tenant context (``COPY FROM`` is refused on a table
  with row-level security). Then ``VACUUM ANALYZE``, as autovacuum would have done by then on a live
  database (untimed).
* **Raw aggregate** (timed, the floor): ``SELECT key_result, actor, week, sum(weight), count(*)`` over the
  organisation's signals counted toward key results, grouped by those three, every row fetched.
* **Full recompute** (timed): every goal of the live cycle recomputed as of now and stored (findings,
  invisible contributions, the week's drift scores), through the nightly path
  (``alignment.triggers.rescore_organization``), with in-app notifications recorded and nothing sent
  (``replaying()``). ``ratio_to_raw`` is its time over the raw aggregate's.
* **Incremental** (timed): ``--new-signals`` new signals arrive (written untimed) on key results of the
  organisation; the key results they count toward go into the debounced pending set
  (``alignment.triggers.queue_pending``), and the clock covers what the scoring task does: taking the set,
  widening it to the goals that follow, recomputing those and storing the result.
* **Memory**: ``peak_rss_mb`` is the peak resident set of the process that measures (the generation runs
  in a process of its own; its peak is ``generation_peak_rss_mb``).

``load_s``, ``engine_s`` and ``store_s`` split a second full recompute into reading the cycle
(``alignment.loader.drift_input``), evaluating it and storing the result. Everything the benchmark made is
deleted at the end (``--keep`` keeps it).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import pickle
import random
import resource
import time
import traceback
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from okrsignal.bench import Target, register

DEFAULT_PEOPLE = 2_000
DEFAULT_KEY_RESULTS = 1_500
DEFAULT_SIGNALS = 1_000_000
DEFAULT_NEW_SIGNALS = 1_000
DEFAULT_DASHBOARD_REQUESTS = 200
DEFAULT_SEED = 2026

CYCLE_WEEKS = 13
COMPLETE_WEEKS = 12
TEAM_SIZE = 10
TEAMS_PER_DEPARTMENT = 10
COMPANY_OBJECTIVES = 5
DEPARTMENT_OBJECTIVES = 2
KEY_RESULTS_PER_OBJECTIVE = 3
ISSUES_PER_KEY_RESULT = 12
ISSUES_PER_THEME = 30
THREADS_PER_CHANNEL = 20
DRIFTING_TEAM_SHARE = 0.05
DRIFTING_EFFORT_SHARE = 0.7
UNLINKED_SHARE = 0.15
ELSEWHERE_SHARE = 0.02
STALLED_KEY_RESULT_SHARE = 0.08
CHUNK = 50_000
WEEK = timedelta(days=7)
WORK_DAY_SECONDS = 5 * 24 * 3600

# What a Jira signal is, and how much it weighs (``signals_ingest.normalisers.SIGNAL_WEIGHTS``).
JIRA_KINDS = (("comment", 1.0, 55), ("transition", 2.0, 30), ("issue_created", 1.0, 15))
SLACK_MESSAGE_WEIGHT = 0.5


# --- The generated organisation ----------------------------------------------------------------------


@dataclass
class Plan:
    """Who is who and what works toward what, before anything is written (indices, not ids)."""

    people: int
    departments: int
    teams: int
    team_of: list[int]  # person -> team
    department_of_team: list[int]
    head_of_department: list[int]  # department -> person
    lead_of_team: list[int]  # team -> person
    manager_of: list[int | None]  # person -> person (None: the organisation's admin)
    # Objectives: (level, team or None, parent objective index or None, owner person or None=admin, title)
    objectives: list[tuple[str, int | None, int | None, int | None, str]] = field(default_factory=list)
    # Key results: (objective, owner person, contributors, title, parent key result index or None)
    key_results: list[tuple[int, int | None, list[int], str, int | None]] = field(default_factory=list)
    team_key_results: dict[int, list[int]] = field(default_factory=dict)  # team -> its key results
    person_key_results: dict[int, list[int]] = field(default_factory=dict)  # owned or contributed
    drifting_teams: dict[int, int] = field(default_factory=dict)  # team -> week the drift begins
    stalled_key_results: set[int] = field(default_factory=set)


def make_plan(people: int, key_results: int, rng: random.Random) -> Plan:
    departments = max(1, round(people / (TEAM_SIZE * TEAMS_PER_DEPARTMENT)))
    teams = max(departments, people // TEAM_SIZE)
    heads = list(range(departments))
    leads = list(range(departments, departments + teams))
    members = list(range(departments + teams, people))
    department_of_team = [team % departments for team in range(teams)]
    team_of = [0] * people
    manager_of: list[int | None] = [None] * people
    for department, head in enumerate(heads):
        team_of[head] = department  # the department's first team is the one it is led from
    for team, lead in enumerate(leads):
        team_of[lead] = team
        manager_of[lead] = heads[department_of_team[team]]
    for index, person in enumerate(members):
        team = index % teams
        team_of[person] = team
        manager_of[person] = leads[team]
    plan = Plan(
        people=people,
        departments=departments,
        teams=teams,
        team_of=team_of,
        department_of_team=department_of_team,
        head_of_department=heads,
        lead_of_team=leads,
        manager_of=manager_of,
    )
    members_of_team: dict[int, list[int]] = {team: [] for team in range(teams)}
    for person in members:
        members_of_team[team_of[person]].append(person)

    objective_count = math.ceil(key_results / KEY_RESULTS_PER_OBJECTIVE)
    company = min(COMPANY_OBJECTIVES, objective_count)
    department_count = min(departments * DEPARTMENT_OBJECTIVES, objective_count - company)
    team_count = objective_count - company - department_count
    for number in range(company):
        plan.objectives.append(
            ("company", None, None, None, f"Company goal {number + 1}: grow and keep customers")
        )
    department_objectives: dict[int, list[int]] = {d: [] for d in range(departments)}
    for number in range(department_count):
        department = number % departments
        department_objectives[department].append(len(plan.objectives))
        plan.objectives.append(
            (
                "team",
                department,  # the department's own team
                number % max(company, 1) if company else None,
                heads[department],
                f"Department {department + 1} delivers its part of company goal "
                f"{number % max(company, 1) + 1}",
            )
        )
    for number in range(team_count):
        team = number % teams
        parents = department_objectives[department_of_team[team]]
        plan.objectives.append(
            (
                "team",
                team,
                parents[number % len(parents)] if parents else None,
                leads[team],
                f"Team {team + 1} objective {number // teams + 1}: ship what the department needs",
            )
        )

    first_key_result_of: dict[int, int] = {}
    for objective, (level, home, parent, owner, _title) in enumerate(plan.objectives):
        for number in range(KEY_RESULTS_PER_OBJECTIVE):
            if len(plan.key_results) == key_results:
                break
            index = len(plan.key_results)
            first_key_result_of.setdefault(objective, index)
            if level == "company":
                kr_owner: int = heads[(objective + number) % departments]
                work_team = team_of[kr_owner]
            elif home is not None and owner in heads:
                kr_owner = leads[(home + number * departments) % teams]
                work_team = team_of[kr_owner]
            else:
                assert home is not None
                crew = members_of_team[home] or [leads[home]]
                kr_owner = crew[(objective + number) % len(crew)]
                work_team = home
            crew = [person for person in members_of_team[work_team] if person != kr_owner]
            contributors = rng.sample(crew, min(len(crew), rng.randint(1, 2)))
            roll_up = first_key_result_of.get(parent) if parent is not None and number == 0 else None
            plan.key_results.append(
                (objective, kr_owner, contributors, f"Key result {index + 1}: from 0 to 100", roll_up)
            )
            plan.team_key_results.setdefault(work_team, []).append(index)
            for person in [kr_owner, *contributors]:
                plan.person_key_results.setdefault(person, []).append(index)

    drifting = max(1, round(teams * DRIFTING_TEAM_SHARE))
    for team in rng.sample(range(teams), min(drifting, teams)):
        plan.drifting_teams[team] = rng.randint(5, 8)
    stalled = round(len(plan.key_results) * STALLED_KEY_RESULT_SHARE)
    plan.stalled_key_results = set(rng.sample(range(len(plan.key_results)), stalled))
    return plan


@dataclass
class DriftWorld:
    """What the measuring process needs to know about the organisation the generation made."""

    organization_id: int
    slug: str
    cycle_id: int
    cycle_start: date
    people: int
    objectives: int
    key_results: int
    signals: int
    signal_links: int
    generation_seconds: float = 0.0


# --- Writing with COPY -------------------------------------------------------------------------------


class Writer:
    """Bulk rows into tenant tables: ``COPY`` into a temporary table, then ``INSERT ... SELECT`` under the
    organisation's row-level security. Columns not given take the model field's default."""

    def __init__(self, organization_id: int) -> None:
        from django.db import connection

        self.organization_id = organization_id
        self.connection = connection
        connection.ensure_connection()
        self.raw = connection.connection

    def ids(self, model: Any, count: int) -> list[int]:
        """``count`` fresh primary keys of ``model``'s table."""
        if count <= 0:
            return []
        with self.raw.cursor() as cursor:
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                [model._meta.db_table, model._meta.pk.column, count],
            )
            return [row[0] for row in cursor.fetchall()]

    def insert(self, model: Any, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
        """Write ``rows`` (values in ``columns`` order) into ``model``'s table; return how many."""
        quote = self.connection.ops.quote_name
        table = quote(model._meta.db_table)
        fields = {f.column: f for f in model._meta.concrete_fields}
        given = list(columns)
        constants: list[tuple[str, Any]] = []
        if "organization_id" in fields and "organization_id" not in given:
            constants.append(("organization_id", self.organization_id))
        for column, model_field in fields.items():
            if column in given or column == "organization_id" or model_field.primary_key:
                continue
            default = model_field.get_default()
            constants.append((column, model_field.get_db_prep_save(default, self.connection)))
        names = ", ".join(quote(column) for column in given)
        with self.raw.cursor() as cursor:
            cursor.execute(
                f"CREATE TEMPORARY TABLE bench_stage AS SELECT {names} FROM {table} WITH NO DATA"  # noqa: S608 - model tables
            )
            count = 0
            with cursor.copy(f"COPY bench_stage ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
                    count += 1
            every = ", ".join([*(quote(c) for c in given), *(quote(c) for c, _value in constants)])
            values = ", ".join([*(quote(c) for c in given), *("%s" for _c in constants)])
            cursor.execute(
                f"INSERT INTO {table} ({every}) SELECT {values} FROM bench_stage",  # noqa: S608 - model tables
                [value for _column, value in constants],
            )
            cursor.execute("DROP TABLE bench_stage")
        return count


def _json(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))


# --- Generating (in a process of its own) --------------------------------------------------------------


def this_weeks_monday(now: datetime) -> date:
    today = now.astimezone(UTC).date()
    return today - timedelta(days=today.weekday())


def generate(options: Mapping[str, Any], progress: Callable[[str], None]) -> DriftWorld:
    """Build the organisation (see the module docstring); answers what the measuring needs."""
    from django.db import transaction
    from django.utils import timezone

    from alignment.triggers import replaying
    from goals import services as goal_services
    from goals.models import (
        CheckIn,
        CheckInKeyResultUpdate,
        KeyResult,
        KeyResultContributor,
        Objective,
    )
    from okrsignal import services as platform_services
    from okrsignal.models import Membership, Team, User
    from okrsignal.tenancy import tenant_context
    from signals_ingest import services as ingest_services
    from signals_ingest.models import (
        ExecutionSignal,
        ExternalIdentity,
        MappingRule,
        SignalKeyResult,
        WorkItem,
    )

    started = time.monotonic()
    rng = random.Random(int(options.get("seed") or DEFAULT_SEED))  # noqa: S311 - made-up data
    people = int(options["people"])
    plan = make_plan(people, int(options["key_results"]), rng)
    now = timezone.now()
    start = this_weeks_monday(now) - COMPLETE_WEEKS * WEEK
    starts_at = datetime.combine(start, datetime.min.time(), tzinfo=UTC)
    stamp = now.strftime("%Y%m%d%H%M%S") + f"{rng.randrange(16**4):04x}"
    slug = f"bench-drift-{stamp}"
    domain = f"{slug}.test"
    progress(f"Generating organisation {slug}: {people:,} people, {len(plan.key_results):,} key results")

    with replaying():
        admin_user = platform_services.user_create(
            email=f"admin@{domain}", full_name="Benchmark Admin", password=None
        )
        organization = platform_services.organization_create(
            name="Benchmark drift", slug=slug, first_admin=admin_user
        )
        with tenant_context(organization), transaction.atomic():
            writer = Writer(organization.pk)
            admin = Membership.objects.get(user=admin_user)
            cycle = goal_services.cycle_create(
                name="Benchmark quarter", start=start, end=start + CYCLE_WEEKS * WEEK - timedelta(days=1)
            )
            created_at = starts_at - timedelta(days=3)

            # People: accounts (not tenant rows), memberships, teams and reporting lines.
            user_ids = writer.ids(User, people)
            writer.insert(
                User,
                [
                    "id",
                    "password",
                    "email",
                    "full_name",
                    "is_active",
                    "is_staff",
                    "is_superuser",
                    "date_joined",
                ],
                (
                    (
                        user_ids[p],
                        "!",
                        f"person{p}@{domain}",
                        f"Person {p + 1}",
                        True,
                        False,
                        False,
                        created_at,
                    )
                    for p in range(people)
                ),
            )
            membership_ids = writer.ids(Membership, people)
            team_ids = writer.ids(Team, plan.teams)
            head_team = {plan.head_of_department[d]: d for d in range(plan.departments)}
            writer.insert(
                Team,
                ["id", "name", "parent_id", "lead_id"],
                (
                    (
                        team_ids[t],
                        f"Team {t + 1}" if t >= plan.departments else f"Department {t + 1}",
                        team_ids[plan.department_of_team[t]] if t >= plan.departments else None,
                        membership_ids[plan.lead_of_team[t]]
                        if t >= plan.departments
                        else membership_ids[plan.head_of_department[t]],
                    )
                    for t in range(plan.teams)
                ),
            )

            def manager(person: int) -> int:
                boss = plan.manager_of[person]
                return admin.pk if boss is None else membership_ids[boss]

            writer.insert(
                Membership,
                ["id", "user_id", "role", "team_id", "manager_id", "joined_at", "is_active"],
                (
                    (
                        membership_ids[p],
                        user_ids[p],
                        "manager" if p < plan.departments + plan.teams else "employee",
                        team_ids[head_team[p] if p in head_team else plan.team_of[p]],
                        None,
                        created_at,
                        True,
                    )
                    for p in range(people)
                ),
            )
            with writer.raw.cursor() as cursor:
                # Managers point at memberships written in the same statement: set afterwards.
                cursor.execute(
                    "UPDATE okrsignal_membership SET manager_id = data.manager FROM"
                    " (SELECT unnest(%s::bigint[]) AS id, unnest(%s::bigint[]) AS manager) AS data"
                    " WHERE okrsignal_membership.id = data.id",
                    [membership_ids, [manager(p) for p in range(people)]],
                )

            # Goals, with the history rows the loader reads them from.
            objective_ids = writer.ids(Objective, len(plan.objectives))
            key_result_ids = writer.ids(KeyResult, len(plan.key_results))

            def owner_id(person: int | None) -> int:
                return admin.pk if person is None else membership_ids[person]

            def owner_user(person: int | None) -> int:
                return admin_user.pk if person is None else user_ids[person]

            objective_rows = [
                (
                    objective_ids[o],
                    cycle.pk,
                    title,
                    level,
                    "committed",
                    "active",
                    team_ids[team] if team is not None else None,
                    objective_ids[parent] if parent is not None else None,
                    owner_id(owner),
                    created_at,
                )
                for o, (level, team, parent, owner, title) in enumerate(plan.objectives)
            ]
            objective_columns = [
                "id",
                "cycle_id",
                "title",
                "level",
                "type",
                "state",
                "team_id",
                "parent_id",
                "owner_id",
                "created_at",
            ]
            # Parents first: a child's parent must exist when the child is written.
            writer.insert(
                Objective, objective_columns, sorted(objective_rows, key=lambda row: row[7] is not None)
            )
            writer.insert(
                Objective.history.model,
                [*objective_columns, "history_date", "history_type", "history_user_id"],
                ((*row, created_at, "+", admin_user.pk) for row in objective_rows),
            )
            key_result_rows = [
                (
                    key_result_ids[k],
                    objective_ids[objective],
                    title,
                    "points",
                    0.0,
                    100.0,
                    "increase",
                    owner_id(owner),
                    key_result_ids[parent] if parent is not None else None,
                    1.0,
                    created_at,
                )
                for k, (objective, owner, _contributors, title, parent) in enumerate(plan.key_results)
            ]
            key_result_columns = [
                "id",
                "objective_id",
                "title",
                "unit",
                "baseline",
                "target",
                "direction",
                "owner_id",
                "parent_key_result_id",
                "weight",
                "created_at",
            ]
            writer.insert(
                KeyResult, key_result_columns, sorted(key_result_rows, key=lambda row: row[8] is not None)
            )
            contributor_rows = [
                (key_result_ids[k], membership_ids[person])
                for k, (_objective, _owner, contributors, _title, _parent) in enumerate(plan.key_results)
                for person in contributors
            ]
            contributor_ids = writer.ids(KeyResultContributor, len(contributor_rows))
            writer.insert(
                KeyResultContributor,
                ["id", "key_result_id", "membership_id"],
                ((pk, *row) for pk, row in zip(contributor_ids, contributor_rows, strict=True)),
            )
            writer.insert(
                KeyResultContributor.history.model,
                ["id", "key_result_id", "membership_id", "history_date", "history_type", "history_user_id"],
                (
                    (pk, *row, created_at, "+", admin_user.pk)
                    for pk, row in zip(contributor_ids, contributor_rows, strict=True)
                ),
            )

            # Weekly check-ins by each key result's owner: a status per key result and its new value.
            progress("Check-ins and progress, week by week")
            values = _progress_values(plan, rng)
            history_rows: list[tuple[Any, ...]] = [
                (*row, None, created_at, "+", admin_user.pk) for row in key_result_rows
            ]
            check_ins: list[tuple[Any, ...]] = []
            updates: list[tuple[Any, ...]] = []
            owned: dict[int, list[int]] = {}
            for k, (_objective, owner, _contributors, _title, _parent) in enumerate(plan.key_results):
                owned.setdefault(-1 if owner is None else owner, []).append(k)
            for week in range(1, COMPLETE_WEEKS + 1):
                monday = start + (week - 1) * WEEK
                submitted = starts_at + (week - 1) * WEEK + timedelta(days=4, hours=15)
                for person, krs in owned.items():
                    check_in = (
                        len(check_ins),
                        monday,
                        owner_id(None if person < 0 else person),
                        submitted,
                        None if person < 0 or plan.manager_of[person] is None else manager(person),
                    )
                    check_ins.append(check_in)
                    for k in krs:
                        value = values[k][week - 1]
                        status = _status(plan, k, week)
                        updates.append((check_in[0], key_result_ids[k], status, value, value, submitted))
                        history_rows.append(
                            (
                                *key_result_rows[k],
                                value,
                                submitted,
                                "~",
                                owner_user(None if person < 0 else person),
                            )
                        )
            writer.insert(
                KeyResult.history.model,
                [*key_result_columns, "current_value", "history_date", "history_type", "history_user_id"],
                history_rows,
            )
            with writer.raw.cursor() as cursor:
                cursor.execute(
                    "UPDATE goals_keyresult SET current_value = data.value FROM"
                    " (SELECT unnest(%s::bigint[]) AS id, unnest(%s::float8[]) AS value) AS data"
                    " WHERE goals_keyresult.id = data.id",
                    [key_result_ids, [values[k][COMPLETE_WEEKS - 1] for k in range(len(plan.key_results))]],
                )
            check_in_ids = writer.ids(CheckIn, len(check_ins))
            writer.insert(
                CheckIn,
                [
                    "id",
                    "week",
                    "state",
                    "membership_id",
                    "submitted_at",
                    "manager_id",
                    "created_at",
                    "updated_at",
                ],
                (
                    (check_in_ids[index], monday, "submitted", member, at, boss, at, at)
                    for index, monday, member, at, boss in check_ins
                ),
            )
            update_ids = writer.ids(CheckInKeyResultUpdate, len(updates))
            update_rows = [
                (pk, check_in_ids[index], key_result, status, value, value, "")
                for pk, (index, key_result, status, value, _recorded, _at) in zip(
                    update_ids, updates, strict=True
                )
            ]
            update_columns = [
                "id",
                "check_in_id",
                "key_result_id",
                "status",
                "value",
                "recorded_value",
                "note",
            ]
            writer.insert(CheckInKeyResultUpdate, update_columns, update_rows)
            writer.insert(
                CheckInKeyResultUpdate.history.model,
                [*update_columns, "history_date", "history_type", "history_user_id"],
                ((*row, update[5], "+", None) for row, update in zip(update_rows, updates, strict=True)),
            )
            del history_rows, check_ins, updates, update_rows

            # Vendors: integrations, an identity per person and provider, mapping rules, work items.
            progress("Integrations, identities and work items")
            jira = ingest_services.integration_connect(
                provider="jira",
                credentials={"email": f"bot@{domain}", "api_token": "bench-jira-token"},
                settings={"site": "https://bench-drift.atlassian.net"},
            )
            channels = _channels(plan)
            slack = ingest_services.integration_connect(
                provider="slack",
                credentials={"bot_token": "xoxb-bench-drift", "signing_secret": "bench-drift-signing-secret"},
                settings={
                    "team_id": "T0BENCHDRF",
                    "channels": [{"id": cid, "name": name, "is_private": False} for cid, name in channels],
                },
            )
            identity_ids = writer.ids(ExternalIdentity, 2 * people)
            jira_identity = identity_ids[:people]
            slack_identity = identity_ids[people:]
            writer.insert(
                ExternalIdentity,
                [
                    "id",
                    "provider",
                    "external_id",
                    "display_name",
                    "email",
                    "matched_by",
                    "membership_id",
                    "first_seen_at",
                ],
                (
                    (
                        (jira_identity if provider == "jira" else slack_identity)[p],
                        provider,
                        f"bench-{provider}-{p:06d}",
                        f"Person {p + 1}",
                        f"person{p}@{domain}",
                        "email",
                        membership_ids[p],
                        created_at,
                    )
                    for provider in ("jira", "slack")
                    for p in range(people)
                ),
            )
            items, catalogue = _work_items(plan, channels)
            item_ids = writer.ids(WorkItem, len(items))
            writer.insert(
                WorkItem,
                [
                    "id",
                    "provider",
                    "external_id",
                    "key",
                    "kind",
                    "title",
                    "status",
                    "attributes",
                    "created_at",
                    "updated_at",
                ],
                (
                    (
                        item_ids[i],
                        item.provider,
                        item.external_id,
                        item.key,
                        item.kind,
                        item.title,
                        item.status,
                        _json(item.attributes),
                        created_at,
                        created_at,
                    )
                    for i, item in enumerate(items)
                ),
            )
            writer.insert(
                MappingRule,
                ["integration_id", "match", "key_result_id", "created_at"],
                (
                    (jira.pk, _json({"epic": _epic(plan, k)}), key_result_ids[k], created_at)
                    for k in range(len(plan.key_results))
                ),
            )
            for team, first in ((team, krs[0]) for team, krs in plan.team_key_results.items() if krs):
                writer.insert(
                    MappingRule,
                    ["integration_id", "match", "key_result_id", "created_at"],
                    [(slack.pk, _json({"channel": _team_channel(team)}), key_result_ids[first], created_at)],
                )

            # Signals and their links, a chunk at a time.
            total = int(options["signals"])
            progress(f"{total:,} signals over {COMPLETE_WEEKS} weeks and the current one")
            signals, links = _write_signals(
                writer,
                plan,
                rng,
                total=total,
                starts_at=starts_at,
                now=now,
                item_ids=item_ids,
                items=items,
                catalogue=catalogue,
                membership_ids=membership_ids,
                jira_identity=jira_identity,
                slack_identity=slack_identity,
                key_result_ids=key_result_ids,
                progress=progress,
            )
        with tenant_context(organization), writer.raw.cursor() as cursor:
            # Fresh planner statistics, as autovacuum would have gathered them on a live database.
            for model in (ExecutionSignal, SignalKeyResult, WorkItem, KeyResult.history.model):
                cursor.execute(f"ANALYZE {model._meta.db_table}")
    return DriftWorld(
        organization_id=organization.pk,
        slug=slug,
        cycle_id=cycle.pk,
        cycle_start=start,
        people=people + 1,
        objectives=len(plan.objectives),
        key_results=len(plan.key_results),
        signals=signals,
        signal_links=links,
        generation_seconds=time.monotonic() - started,
    )


def _progress_values(plan: Plan, rng: random.Random) -> list[list[float]]:
    """Each key result's value after each complete week: steady progress with noise; stalled ones stop
    after week 3, drifting teams' slow down after their drift begins."""
    values = []
    for k, (objective, _owner, _contributors, _title, _parent) in enumerate(plan.key_results):
        team = plan.objectives[objective][1]
        drift_from = plan.drifting_teams.get(team) if team is not None else None
        pace = rng.uniform(6.0, 9.0)
        value = 0.0
        series = []
        for week in range(1, COMPLETE_WEEKS + 1):
            if k in plan.stalled_key_results and week > 3:
                step = 0.0
            elif drift_from is not None and week >= drift_from:
                step = pace * 0.15
            else:
                step = max(0.0, rng.gauss(pace, 1.5))
            value = min(100.0, value + step)
            series.append(round(value, 1))
        values.append(series)
    return values


def _status(plan: Plan, key_result: int, week: int) -> str:
    if key_result in plan.stalled_key_results and week > 6:
        return "at_risk"
    return "on_track"


def _channels(plan: Plan) -> list[tuple[str, str]]:
    found = [("C0GENERAL1", "general")]
    found += [(f"C0D{d:07d}", f"department-{d + 1}") for d in range(plan.departments)]
    found += [(_team_channel(t), f"team-{t + 1}") for t in range(plan.teams)]
    return found


def _team_channel(team: int) -> str:
    return f"C0T{team:07d}"


def _project(team: int) -> str:
    return f"T{team:03d}"


def _epic(plan: Plan, key_result: int) -> str:
    _objective, owner, _contributors, _title, _parent = plan.key_results[key_result]
    team = plan.team_of[owner] if owner is not None else 0
    return f"{_project(team)}-E{key_result}"


@dataclass(frozen=True)
class _Item:
    provider: str
    external_id: str
    key: str
    kind: str
    title: str
    status: str
    attributes: dict[str, Any]
    context: str  # the signal's match_context, as JSON


@dataclass
class _Catalogue:
    """Work items by what they are about (indices into the item list)."""

    key_result: dict[int, list[int]] = field(default_factory=dict)
    team_thread: dict[int, list[int]] = field(default_factory=dict)
    department_theme: dict[int, list[int]] = field(default_factory=dict)
    department_thread: dict[int, list[int]] = field(default_factory=dict)
    drift_theme: dict[int, list[int]] = field(default_factory=dict)
    general_thread: list[int] = field(default_factory=list)


def _work_items(plan: Plan, channels: list[tuple[str, str]]) -> tuple[list[_Item], _Catalogue]:
    """Jira issues under an epic per key result, unlinked epics, Slack threads, and which is which."""
    catalogue = _Catalogue()
    items: list[_Item] = []

    def jira_issues(project: str, epic: str, title: str, count: int) -> list[int]:
        context = _json([{"project": [project], "epic": [epic]}])
        items.append(
            _Item(
                "jira",
                f"epic-{epic}",
                epic,
                "issue",
                title,
                "In Progress",
                {"project": project, "issue_type": "Epic", "status_category": "indeterminate"},
                context,
            )
        )
        found = []
        for number in range(count):
            key = f"{epic}-{number + 1}"
            found.append(len(items))
            items.append(
                _Item(
                    "jira",
                    f"issue-{key}",
                    key,
                    "issue",
                    f"{title}: part {number + 1}",
                    "In Progress",
                    {"project": project, "epic": epic, "status_category": "indeterminate"},
                    context,
                )
            )
        return found

    def threads(channel: str, count: int) -> list[int]:
        context = _json([{"channel": [channel]}])
        found = []
        for number in range(count):
            found.append(len(items))
            items.append(
                _Item(
                    "slack",
                    f"{channel}:thread-{number}",
                    f"{channel}/{number}",
                    "thread",
                    "",
                    "",
                    {"channel": channel, "thread_ts": f"1700000000.{number:06d}"},
                    context,
                )
            )
        return found

    for k, (_objective, _owner, _contributors, title, _parent) in enumerate(plan.key_results):
        epic = _epic(plan, k)
        catalogue.key_result[k] = jira_issues(epic.split("-")[0], epic, title, ISSUES_PER_KEY_RESULT)
    for d in range(plan.departments):
        catalogue.department_theme[d] = jira_issues(
            f"OPS{d}", f"OPS{d}-1", "Operations and support load", ISSUES_PER_THEME
        )
        catalogue.department_thread[d] = threads(f"C0D{d:07d}", THREADS_PER_CHANNEL)
    for team in plan.drifting_teams:
        catalogue.drift_theme[team] = jira_issues(
            f"SEC{team}", f"SEC{team}-12", "SSO and SOC 2 evidence", ISSUES_PER_THEME
        )
    for team in range(plan.teams):
        catalogue.team_thread[team] = threads(_team_channel(team), THREADS_PER_CHANNEL)
    catalogue.general_thread = threads(channels[0][0], THREADS_PER_CHANNEL)
    return items, catalogue


def _write_signals(
    writer: Writer,
    plan: Plan,
    rng: random.Random,
    *,
    total: int,
    starts_at: datetime,
    now: datetime,
    item_ids: list[int],
    items: list[_Item],
    catalogue: _Catalogue,
    membership_ids: list[int],
    jira_identity: list[int],
    slack_identity: list[int],
    key_result_ids: list[int],
    progress: Callable[[str], None],
) -> tuple[int, int]:
    """Write ``total`` signals and their key-result links; return (signals, links)."""
    from signals_ingest.models import ExecutionSignal, SignalKeyResult

    people = plan.people
    rates = [rng.lognormvariate(0.0, 0.35) for _ in range(people)]
    current_week_start = starts_at + COMPLETE_WEEKS * WEEK
    elapsed = max(0.0, (now - current_week_start).total_seconds())
    week_weights = [1.0] * COMPLETE_WEEKS + [max(0.02, min(1.0, elapsed / WORK_DAY_SECONDS))]
    all_key_results = list(range(len(plan.key_results)))
    jira_kinds = [kind for kind, _weight, _share in JIRA_KINDS]
    jira_weights = {kind: weight for kind, weight, _share in JIRA_KINDS}
    jira_shares = [share for _kind, _weight, share in JIRA_KINDS]
    signal_columns = [
        "id",
        "provider",
        "external_id",
        "occurred_at",
        "kind",
        "weight",
        "text",
        "attributes",
        "match_context",
        "awaits_context",
        "created_at",
        "actor_id",
        "work_item_id",
    ]
    link_columns = ["signal_id", "key_result_id", "occurred_at", "weight", "actor_membership_id"]
    written = linked = 0
    while written < total:
        size = min(CHUNK, total - written)
        ids = writer.ids(ExecutionSignal, size)
        persons = rng.choices(range(people), weights=rates, k=size)
        weeks = rng.choices(range(1, CYCLE_WEEKS + 1), weights=week_weights, k=size)
        signal_rows: list[tuple[Any, ...]] = []
        link_rows: list[tuple[Any, ...]] = []
        for pk, person, week in zip(ids, persons, weeks, strict=True):
            week_start = starts_at + (week - 1) * WEEK
            span = elapsed if week == CYCLE_WEEKS else 7 * 24 * 3600
            occurred_at = week_start + timedelta(seconds=rng.random() * max(span, 60.0))
            if occurred_at >= now:
                occurred_at = now - timedelta(seconds=rng.random() * 60 + 1)
            team = plan.team_of[person]
            department = plan.department_of_team[team]
            drift_from = plan.drifting_teams.get(team)
            roll = rng.random()
            key_result: int | None = None
            if drift_from is not None and week >= drift_from and roll < DRIFTING_EFFORT_SHARE:
                item = rng.choice(catalogue.drift_theme[team])
            elif roll < UNLINKED_SHARE:
                pick = rng.random()
                if pick < 0.5:
                    item = rng.choice(catalogue.department_theme[department])
                elif pick < 0.8:
                    item = rng.choice(catalogue.department_thread[department])
                else:
                    item = rng.choice(catalogue.general_thread)
            else:
                mine = (
                    plan.person_key_results.get(person) or plan.team_key_results.get(team) or all_key_results
                )
                if rng.random() < ELSEWHERE_SHARE:
                    key_result = rng.choice(all_key_results)
                elif rng.random() < 0.6:
                    key_result = rng.choice(mine)
                else:
                    key_result = rng.choice(plan.team_key_results.get(team) or mine)
                crew = plan.team_key_results.get(team) or []
                if crew and key_result == crew[0] and rng.random() < 0.3:
                    item = rng.choice(catalogue.team_thread[team])
                else:
                    item = rng.choice(catalogue.key_result[key_result])
            work = items[item]
            if work.provider == "slack":
                kind, weight, actor = "message", SLACK_MESSAGE_WEIGHT, slack_identity[person]
            else:
                kind = rng.choices(jira_kinds, weights=jira_shares)[0]
                weight, actor = jira_weights[kind], jira_identity[person]
            signal_rows.append(
                (
                    pk,
                    work.provider,
                    f"{work.external_id}:{pk}",
                    occurred_at,
                    kind,
                    weight,
                    "",
                    "{}",
                    work.context,
                    False,
                    occurred_at,
                    actor,
                    item_ids[item],
                )
            )
            if key_result is not None:
                link_rows.append(
                    (pk, key_result_ids[key_result], occurred_at, weight, membership_ids[person])
                )
        writer.insert(ExecutionSignal, signal_columns, signal_rows)
        writer.insert(SignalKeyResult, link_columns, link_rows)
        written += size
        linked += len(link_rows)
        progress(f"  {written:,} signals written ({linked:,} counted toward key results)")
    return written, linked


# --- Measuring ----------------------------------------------------------------------------------------


def raw_aggregate(world: DriftWorld) -> tuple[int, float]:
    """The floor: the organisation's linked signals summed by key result, person and week; answers the
    rows fetched and the seconds taken."""
    from django.db import connection

    from okrsignal.tenancy import tenant_context

    starts_at = datetime.combine(world.cycle_start, datetime.min.time(), tzinfo=UTC)
    with tenant_context(world.organization_id), connection.cursor() as cursor:
        started = time.perf_counter()
        cursor.execute(
            "SELECT key_result_id, actor_membership_id,"
            " floor(extract(epoch FROM occurred_at - %s) / 604800)::int + 1 AS week,"
            " sum(weight), count(*)"
            " FROM signals_ingest_signalkeyresult WHERE organization_id = %s"
            " GROUP BY 1, 2, 3",
            [starts_at, world.organization_id],
        )
        rows = len(cursor.fetchall())
        return rows, time.perf_counter() - started


def new_signals(world: DriftWorld, count: int, now: datetime, rng: random.Random) -> list[int]:
    """``count`` new signals like stored ones (same people, work and key results), arriving late: dated in
    the last complete week, so that the recompute has something to change (activity of the week under way
    counts once it has ended). Answers the key results they count toward."""
    from django.db import connection, transaction

    from okrsignal.tenancy import tenant_context
    from signals_ingest import activity_changes
    from signals_ingest.models import ExecutionSignal, SignalKeyResult

    week_start = datetime.combine(this_weeks_monday(now), datetime.min.time(), tzinfo=UTC) - WEEK
    span = WEEK.total_seconds()
    with tenant_context(world.organization_id), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT s.provider, s.external_id, s.kind, s.weight, s.match_context::text, s.actor_id,"
                " s.work_item_id, l.key_result_id, l.actor_membership_id"
                " FROM signals_ingest_signalkeyresult l"
                " JOIN signals_ingest_executionsignal s ON s.id = l.signal_id"
                " WHERE l.organization_id = %s ORDER BY random() LIMIT %s",
                [world.organization_id, count],
            )
            samples = cursor.fetchall()
        writer = Writer(world.organization_id)
        ids = writer.ids(ExecutionSignal, len(samples))
        moments = [week_start + timedelta(seconds=rng.random() * span) for _ in samples]
        moments = [min(moment, now - timedelta(seconds=1)) for moment in moments]
        writer.insert(
            ExecutionSignal,
            [
                "id",
                "provider",
                "external_id",
                "occurred_at",
                "kind",
                "weight",
                "text",
                "attributes",
                "match_context",
                "awaits_context",
                "created_at",
                "actor_id",
                "work_item_id",
            ],
            (
                (
                    pk,
                    provider,
                    f"{external_id}:new{pk}",
                    at,
                    kind,
                    weight,
                    "",
                    "{}",
                    context,
                    False,
                    now,
                    actor,
                    item,
                )
                for pk, at, (provider, external_id, kind, weight, context, actor, item, _kr, _member) in zip(
                    ids, moments, samples, strict=True
                )
            ),
        )
        writer.insert(
            SignalKeyResult,
            ["signal_id", "key_result_id", "occurred_at", "weight", "actor_membership_id"],
            (
                (pk, key_result, at, weight, member)
                for pk, at, (_p, _e, _k, weight, _c, _a, _i, key_result, member) in zip(
                    ids, moments, samples, strict=True
                )
            ),
        )
        # As ingestion does: the drift engine sums these days' weeks again.
        activity_changes.record_days(moments)
    return sorted({sample[7] for sample in samples})


def _rss_kb() -> int:
    """Peak resident set of this process so far, in KiB (Linux reports ``ru_maxrss`` in KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


@dataclass
class _ChildOutcome:
    value: Any
    peak_rss_kb: int
    error: str = ""


def _in_child(target: Callable[..., Any], *args: Any) -> _ChildOutcome:
    """Run ``target(*args)`` in a forked process (with a database connection of its own) and answer its
    outcome, which comes back pickled through a pipe.

    A plain ``os.fork``: the after-fork hooks of ``multiprocessing`` would have kombu read broker
    connections inherited from this process, and one left waiting for a reply (a control call's poll)
    would hang the child, or take the reply this process still expects. The child never uses them.
    """
    from django.db import connections

    connections.close_all()
    reading, writing = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never returns
        os.close(reading)
        try:
            outcome = _ChildOutcome(target(*args), _rss_kb())
        except BaseException:  # reported to the parent, which raises it there
            outcome = _ChildOutcome(None, _rss_kb(), traceback.format_exc())
        finally:
            connections.close_all()
        with os.fdopen(writing, "wb") as pipe:
            pickle.dump(outcome, pipe)
        os._exit(0)
    os.close(writing)
    with os.fdopen(reading, "rb") as pipe:
        answer = pipe.read()
    _pid, status = os.waitpid(pid, 0)
    if not answer:
        raise RuntimeError(f"The generating process died (wait status {status}).")
    received: _ChildOutcome = pickle.loads(answer)  # noqa: S301 - written by our own child just now
    if received.error:
        raise RuntimeError(f"The generating process failed:\n{received.error}")
    return received


def _generate_in_child(options: dict[str, Any], show_progress: bool) -> DriftWorld:
    return generate(options, _stderr if show_progress else _quiet)


def _generate_world(sizes: dict[str, Any], progress: Callable[[str], None]) -> _ChildOutcome:
    """Generate the organisation in a process of its own (not timed); its outcome holds the ``DriftWorld``."""
    progress("Generating the organisation in a process of its own (not timed)")
    generated = _in_child(_generate_in_child, sizes, True)
    assert isinstance(generated.value, DriftWorld)
    progress(f"Generated in {generated.value.generation_seconds:.1f} s")
    return generated


def _stderr(message: str) -> None:
    import sys

    print(message, file=sys.stderr, flush=True)


def _quiet(message: str) -> None:
    pass


def remove_world(world: DriftWorld) -> None:
    """Delete the organisation and everything in it, its people's accounts included.

    The links and then the signals go first, each table vacuumed after: the database checks every
    deleted row's foreign keys against the tables pointing at it, and the signal columns those checks
    read have no index of their own, so each check reads the whole table (dead rows included) unless it
    has been emptied of them. The rest goes through ``organization_delete``.
    """
    from django.db import connection

    from okrsignal.models import Organization
    from okrsignal.services import organization_delete
    from okrsignal.tenancy import tenant_context
    from signals_ingest.models import ExecutionSignal, SignalKeyResult

    organization = Organization.objects.filter(pk=world.organization_id).first()
    if organization is None:
        return
    for model in (SignalKeyResult, ExecutionSignal):
        table = connection.ops.quote_name(model._meta.db_table)
        with tenant_context(organization), connection.cursor() as cursor:
            cursor.execute(f"DELETE FROM {table} WHERE organization_id = %s", [organization.pk])  # noqa: S608
        with connection.cursor() as cursor:
            cursor.execute(f"VACUUM {table}")
    organization_delete(organization=organization)


def _option(options: Mapping[str, Any], name: str, default: int) -> int:
    value = options.get(name)
    return default if value is None else int(value)


def run_drift(options: Mapping[str, Any], progress: Callable[[str], None]) -> dict[str, Any]:
    """The benchmark itself (see the module docstring); answers the figures."""
    from django.db import connection
    from django.utils import timezone

    from alignment import triggers
    from alignment.engine.evaluate import evaluate
    from alignment.loader import drift_input
    from alignment.models import DriftScore, Finding
    from alignment.services import store_evaluation
    from goals.models import Cycle
    from okrsignal.celery import app as celery_app
    from okrsignal.models import Organization
    from okrsignal.tenancy import tenant_context

    people = _option(options, "people", DEFAULT_PEOPLE)
    key_results = _option(options, "key_results", DEFAULT_KEY_RESULTS)
    signals = _option(options, "signals", DEFAULT_SIGNALS)
    fresh = _option(options, "new_signals", DEFAULT_NEW_SIGNALS)
    if people < 10 or key_results < 1 or signals < 0 or fresh < 0:
        raise ValueError("Give at least 10 people, 1 key result, and no negative number of signals.")
    seed = _option(options, "seed", DEFAULT_SEED)
    previously_eager = celery_app.conf.task_always_eager
    # Nothing is queued for a worker: whatever scoring asks for runs here.
    celery_app.conf.task_always_eager = True
    world: DriftWorld | None = None
    try:
        generated = _generate_world(
            {"people": people, "key_results": key_results, "signals": signals, "seed": seed}, progress
        )
        world = generated.value
        organization = Organization.objects.get(pk=world.organization_id)
        progress("VACUUM ANALYZE, as autovacuum would have done by then on a live database")
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")

        progress("Raw aggregate (a first run warms the cache, the second is timed)")
        raw_aggregate(world)
        raw_rows, raw_seconds = raw_aggregate(world)

        progress("Full recompute of every goal, stored")
        with triggers.replaying():
            now = timezone.now()
            started = time.perf_counter()
            full = triggers.rescore_organization(world.organization_id, now=now)
            full_seconds = time.perf_counter() - started
        with tenant_context(organization):
            findings = Finding.objects.filter(cycle_id=world.cycle_id, active=True).count()
            scores = DriftScore.objects.filter(cycle_id=world.cycle_id).count()

        progress(f"Incremental: {fresh:,} new signals, scored through the pending set")
        touched = new_signals(world, fresh, timezone.now(), random.Random(seed + 1))  # noqa: S311
        with triggers.replaying():
            triggers.queue_pending(world.organization_id, [f"{triggers.KEY_RESULT}:{pk}" for pk in touched])
            now = timezone.now()
            started = time.perf_counter()
            marks = triggers.take_pending(world.organization_id) or [
                f"{triggers.KEY_RESULT}:{pk}" for pk in touched
            ]
            incremental = triggers.score_touched_goals(world.organization_id, marks, now=now)
            incremental_seconds = time.perf_counter() - started

        progress("A second full recompute, in phases (read, evaluate, store)")
        with tenant_context(organization):
            cycle = Cycle.objects.get(pk=world.cycle_id)
            now = timezone.now()
            started = time.perf_counter()
            data = drift_input(organization, cycle, as_of=now, resum_activity=True)
            loaded = time.perf_counter()
            evaluation = evaluate(data, as_of=now)
            evaluated = time.perf_counter()
            store_evaluation(organization, cycle, evaluation)
            stored = time.perf_counter()
        peak_kb = _rss_kb()
        return {
            "organization": world.slug,
            "people": world.people,
            "teams": max(1, people // TEAM_SIZE),
            "objectives": world.objectives,
            "key_results": world.key_results,
            "signals": world.signals,
            "signal_links": world.signal_links,
            "weeks_scored": full.result.week if full.result is not None else 0,
            "raw_aggregate_rows": raw_rows,
            "raw_aggregate_s": round(raw_seconds, 3),
            "full_recompute_s": round(full_seconds, 3),
            "ratio_to_raw": round(full_seconds / raw_seconds, 2) if raw_seconds else 0.0,
            "findings": findings,
            "findings_opened": len(full.opened),
            "scores_stored": scores,
            "notifications": full.notifications,
            "new_signals": fresh,
            "incremental_subjects": incremental.subjects,
            "incremental_s": round(incremental_seconds, 3),
            "load_s": round(loaded - started, 3),
            "engine_s": round(evaluated - loaded, 3),
            "store_s": round(stored - evaluated, 3),
            "generation_s": round(world.generation_seconds, 1),
            "generation_peak_rss_mb": round(generated.peak_rss_kb / 1024, 1),
            "peak_rss_mb": round(peak_kb / 1024, 1),
        }
    finally:
        celery_app.conf.task_always_eager = previously_eager
        if world is not None and not options.get("keep"):
            progress("Removing the benchmark's organisation")
            remove_world(world)


def _world_arguments(parser: argparse.ArgumentParser) -> None:
    """The generated organisation's options, shared by ``bench drift`` and ``bench dashboard``."""
    parser.add_argument("--people", type=int, default=DEFAULT_PEOPLE, help="people in the organisation")
    parser.add_argument(
        "--key-results", type=int, default=DEFAULT_KEY_RESULTS, help="key results in the cycle"
    )
    parser.add_argument(
        "--signals", type=int, default=DEFAULT_SIGNALS, help="execution signals over the quarter"
    )
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="seed of the generated organisation")
    parser.add_argument("--keep", action="store_true", help="keep the benchmark's organisation and data")


def _arguments(parser: argparse.ArgumentParser) -> None:
    _world_arguments(parser)
    parser.add_argument(
        "--new-signals",
        type=int,
        default=DEFAULT_NEW_SIGNALS,
        help="signals arriving before the incremental run",
    )


register(
    "drift",
    help="Drift scoring of a large organisation (full and incremental), against a raw aggregate; memory",
    targets=[
        Target("ratio_to_raw", below=10),
        Target("full_recompute_s", below=60),
        Target("incremental_s", below=2),
        Target("peak_rss_mb", below=1024),
    ],
    add_arguments=_arguments,
)(run_drift)


# --- manage.py bench dashboard -----------------------------------------------------------------------


def run_dashboard(options: Mapping[str, Any], progress: Callable[[str], None]) -> dict[str, Any]:
    """The leader dashboard's server time on the drift benchmark's organisation.

    The organisation is generated as for ``bench drift`` (not timed), and its quarter evaluated week by
    week as a deployment would have done it (not timed), so the dashboard has twelve weeks of scores to
    draw and the findings they opened; then ``VACUUM ANALYZE``, as autovacuum would have done by then on a
    live database (bulk-loaded tables otherwise have neither planner statistics nor a visibility map).
    Then the organisation's admin requests ``/o/<slug>/`` through the whole Django stack (middleware,
    session, view, template) ``--requests`` times, after two requests that warm the process (with
    ``DEBUG`` off, as every benchmark runs); each one's time is the server time. ``queries`` is the
    number of database queries of one more request.
    """
    from django.conf import settings
    from django.db import connection
    from django.test import Client, override_settings
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse
    from django.utils import timezone

    from alignment import triggers
    from alignment.models import DriftScore, Finding
    from alignment.services import evaluate_quarter, last_complete_week_end
    from goals.models import Cycle
    from okrsignal.bench import percentile
    from okrsignal.models import Membership, Organization, Role
    from okrsignal.tenancy import tenant_context

    people = _option(options, "people", DEFAULT_PEOPLE)
    key_results = _option(options, "key_results", DEFAULT_KEY_RESULTS)
    signals = _option(options, "signals", DEFAULT_SIGNALS)
    requests = _option(options, "requests", DEFAULT_DASHBOARD_REQUESTS)
    if people < 10 or key_results < 1 or signals < 0 or requests < 1:
        raise ValueError("Give at least 10 people, 1 key result, 1 request, and no negative signals.")
    seed = _option(options, "seed", DEFAULT_SEED)
    world: DriftWorld | None = None
    try:
        generated = _generate_world(
            {"people": people, "key_results": key_results, "signals": signals, "seed": seed}, progress
        )
        world = generated.value
        organization = Organization.objects.get(pk=world.organization_id)

        progress("Evaluating the quarter week by week, as it went (not timed)")
        started = time.perf_counter()
        with tenant_context(organization):
            cycle = Cycle.objects.get(pk=world.cycle_id)
            admin = Membership.objects.select_related("user").filter(role=Role.ADMIN).order_by("pk").first()
        if admin is None:
            raise RuntimeError("The generated organisation has no admin.")
        with triggers.replaying():
            weeks = evaluate_quarter(organization, cycle, until=last_complete_week_end(cycle, timezone.now()))
        scoring_seconds = time.perf_counter() - started
        with tenant_context(organization):
            findings = Finding.objects.filter(cycle_id=world.cycle_id, active=True).count()
            scores = DriftScore.objects.filter(cycle_id=world.cycle_id).count()
        progress(f"{len(weeks)} weeks scored in {scoring_seconds:.1f} s: {findings:,} open findings")
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")

        page = reverse("organization_home", kwargs={"org_slug": world.slug})
        client = Client(secure=True)
        client.force_login(admin.user)
        timings: list[float] = []
        with override_settings(ALLOWED_HOSTS=[*settings.ALLOWED_HOSTS, "testserver"]):

            def request() -> float:
                began = time.perf_counter()
                response = client.get(page)
                elapsed = (time.perf_counter() - began) * 1000
                if response.status_code != 200:
                    raise RuntimeError(f"The dashboard answered {response.status_code}.")
                return elapsed

            progress(f"Requesting {page} {requests} times as the organisation's admin")
            request()
            request()
            timings = [request() for _ in range(requests)]
            with CaptureQueriesContext(connection) as captured:
                request()
        return {
            "organization": world.slug,
            "people": world.people,
            "key_results": world.key_results,
            "signals": world.signals,
            "weeks_scored": len(weeks),
            "scoring_s": round(scoring_seconds, 1),
            "findings": findings,
            "scores_stored": scores,
            "requests": requests,
            "p50_ms": round(percentile(timings, 0.50), 1),
            "p95_ms": round(percentile(timings, 0.95), 1),
            "max_ms": round(max(timings), 1),
            "queries": len(captured),
            "generation_s": round(world.generation_seconds, 1),
            "peak_rss_mb": round(_rss_kb() / 1024, 1),
        }
    finally:
        if world is not None and not options.get("keep"):
            progress("Removing the benchmark's organisation")
            remove_world(world)


def _dashboard_arguments(parser: argparse.ArgumentParser) -> None:
    _world_arguments(parser)
    parser.add_argument(
        "--requests", type=int, default=DEFAULT_DASHBOARD_REQUESTS, help="dashboard requests timed"
    )


register(
    "dashboard",
    help="The leader dashboard's server time and queries on the drift benchmark's organisation",
    targets=[Target("p95_ms", below=200)],
    add_arguments=_dashboard_arguments,
)(run_dashboard)
