"""``manage.py bench ingest``: vendor payloads to committed rows, measured against PostgreSQL's COPY.

What is measured, in one run on the migrated database the command is given:

* **Ingestion** (timed): ``--items`` raw vendor payloads (a mix of Slack Events API messages, Jira
  webhooks and pulled issues, HubSpot deals and engagements, in the vendors' shapes) held in memory as
  the JSON bodies the vendors send, taken all the way to committed rows: parsed, stored as raw events,
  normalised, work items upserted, signals and their key-result links written, through
  ``pipeline.store_and_process_raw_events`` in transactions of ``--batch-size`` payloads, as a replay
  (``--origin pull`` stores them as a pull does: its rows skip clashes with stored ones at once rather
  than being tried as new rows first, see ``bulk.insert_returning``). The
  organisation, its people, key results, mapping rules and vendor identities are set up first, and the
  payloads generated, before the clock starts. ``--workers`` processes (or threads, ``--threads``) each
  take a disjoint share of the work (a work item and every payload about it belong to one share), so they
  never wait on each other's rows. Processes are the default, as Celery's worker processes ingest in a
  deployment: each runs its Python on a core of its own, where threads take turns under the interpreter
  lock (on a quiet two-core machine threads reached about two thirds of the processes' rate). Each process
  generates and holds only its own share of the payloads.
* **Baseline** (timed): ``COPY`` of as many rows as signals were written, with the signal table's columns
  and the very values written, into ``bench_copy_baseline``: a regular (logged) table made with
  ``CREATE TABLE bench_copy_baseline (LIKE signals_ingest_executionsignal INCLUDING ALL)``, so it has the
  signal table's columns, defaults, NOT NULL and CHECK constraints, primary key, unique constraint and
  every index. LIKE copies neither foreign keys nor row-level security. The COPY is timed three times
  (``COPY_BASELINE_RUNS``), into a fresh table each time, and ``ratio_to_copy`` is ingestion's signals per
  second over the median run's rows per second (``copy_seconds_each`` lists the three). A second COPY,
  into the same table with foreign keys to the organisation, work item and identity each row names
  (deferred, checked at commit), gives ``copy_with_foreign_keys_rows_per_s`` and
  ``ratio_to_copy_with_foreign_keys``: what writing the same rows costs when each is checked against what
  it names by the database. The signal table itself no longer has those constraints: the pipeline holds
  the rows a batch names until it commits instead (see ``signals_ingest.models``).
* **Webhook latency**: signed calls (Jira and Slack) answered by the real webhook views through Django's
  test client, with processing run in-process (eagerly) whatever ``REDIS_URL`` says, so each answer
  includes storing and processing its event. ``webhook_p95_ms`` is the 95th percentile.
* **The collector**: while ingesting, Python's cyclic garbage collector runs after every
  ``okrsignal.celery.WORKER_GC_THRESHOLD`` new objects instead of every 700, as in the worker processes
  that ingest in a deployment (``okrsignal/celery.py``).
* **Drift scoring** is off throughout (``alignment.triggers.replaying()``, as for any replay): the new
  signals would ask for their key results to be scored again, which a deployment does later, debounced,
  on the scoring queue; the drift engine has its own benchmark.
* **Memory**: ``peak_rss_mb`` is the peak resident set of this process, or, when anything ran in other
  processes at the same time (the set-up, the shares), this one's and theirs added up: an upper
  bound, as pages they share are counted once for each.

The organisation and its rows stay in the database afterwards (``organization`` in the figures names
it), to be looked at, or deleted with ``okrsignal.services.organization_delete``: 2.6 s for one run's
243,000 signals, 201,000 raw events, 127,000 links and 53,000 work items on the shared development machine,
in time proportional to the rows (no constraint points at raw events, work items, signals or their links,
nor from them at what they name: nothing is looked up for each row deleted). Point the benchmark at a
scratch database, as ``make bench`` does.
"""

from __future__ import annotations

import argparse
import array
import contextlib
import ctypes
import ctypes.util
import gc
import heapq
import itertools
import json
import math
import multiprocessing
import os
import random
import resource
import secrets
import statistics
import sys
import tempfile
import threading
import time
import traceback
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import Any

import orjson

from alignment import triggers as drift_triggers
from okrsignal.bench import Target, register
from okrsignal.celery import WORKER_GC_THRESHOLD
from signals_ingest.normalisers import epoch_ms

# --- The made-up organisation ------------------------------------------------------------------------

JIRA_SITE = "https://bench-org.atlassian.net"
HUBSPOT_PORTAL = "24999001"
SLACK_TEAM = "T0BENCH001"

# (project key, name, epics, components, labels)
JIRA_PROJECTS: list[tuple[str, str, list[str], list[str], list[str]]] = [
    ("ONB", "Onboarding", ["ONB-1", "ONB-2"], ["Identity", "Wizard"], ["sso", "activation", "q4"]),
    ("ACT", "Activation", ["ACT-1", "ACT-2", "ACT-3"], ["Emails", "Trials"], ["activation", "growth"]),
    ("BIL", "Billing", ["BIL-1"], ["Invoices", "Payments"], ["revenue", "tax"]),
    ("PLT", "Platform", ["PLT-1", "PLT-2"], ["API", "Database", "Infra"], ["reliability", "latency"]),
    ("MOB", "Mobile", ["MOB-1"], ["iOS", "Android"], ["crash", "ux"]),
]
# The usual Jira workflow: (status, status id, status category).
JIRA_WORKFLOW = [
    ("To Do", "10000", "new"),
    ("In Progress", "3", "indeterminate"),
    ("In Review", "10001", "indeterminate"),
    ("Done", "10002", "done"),
]
SLACK_CHANNELS = [
    ("C0BONBOARD", "onboarding"),
    ("C0BACTIVAT", "activation"),
    ("C0BBILLING", "billing"),
    ("C0BPLATFRM", "platform"),
    ("C0BMOBILE1", "mobile"),
    ("C0BSALES01", "sales"),
    ("C0BSUPPORT", "support"),
    ("C0BGENERAL", "general"),
]
HUBSPOT_PIPELINES = {
    "default": [
        "appointmentscheduled",
        "qualifiedtobuy",
        "presentationscheduled",
        "contractsent",
        "closedwon",
    ],
    "enterprise": ["discovery", "technicalevaluation", "proposal", "negotiation", "closedwon"],
}
HUBSPOT_ENGAGEMENTS = ["calls", "notes", "meetings", "emails", "tasks"]

FIRST_NAMES = [
    "Amara", "Jonas", "Lucia", "Priya", "Tom", "Mei", "Kwame", "Sofia", "Lars", "Aiko", "Diego", "Nadia",
    "Omar", "Freya", "Ivan", "Leila", "Mateo", "Hana", "Pavel", "Zara", "Emeka", "Ingrid", "Ravi", "Chloe",
]  # fmt: skip
LAST_NAMES = [
    "Okafor", "Weber", "Romero", "Nair", "Becker", "Chen", "Mensah", "Rossi", "Nilsen", "Sato", "Lopez",
    "Haddad", "Farouk", "Lund", "Petrov", "Karimi", "Silva", "Kim", "Novak", "Ali", "Eze", "Berg", "Iyer",
    "Martin",
]  # fmt: skip
WORDS = [
    "the", "wizard", "setup", "review", "metadata", "upload", "customer", "trial", "invoice", "retry",
    "queue", "latency", "build", "release", "pairing", "fix", "test", "flaky", "dashboard", "export",
    "import", "migration", "rollout", "flag", "sso", "login", "signup", "email", "template", "copy",
    "design", "feedback", "blocker", "dependency", "api", "endpoint", "schema", "index", "timeout",
    "cache", "plan", "pricing", "renewal", "contract", "demo", "call", "follow", "up", "next", "steps",
    "legal", "security", "questionnaire", "budget",
]  # fmt: skip


@dataclass(frozen=True)
class Person:
    """Someone at the benchmark's organisation, with an account at each vendor."""

    name: str
    email: str
    jira_account: str
    slack_user: str
    hubspot_owner: str | None  # only the sales people have a CRM seat
    # Jira Cloud shows an account's e-mail address only where its owner's privacy settings allow.
    email_visible: bool


def bench_people(domain: str = "bench-org.test", count: int = 24) -> list[Person]:
    people = []
    for index in range(count):
        first, last = FIRST_NAMES[index % len(FIRST_NAMES)], LAST_NAMES[index % len(LAST_NAMES)]
        people.append(
            Person(
                name=f"{first} {last}",
                email=f"{first.lower()}.{last.lower()}@{domain}",
                jira_account=f"712020:{index:08x}-41d2-4a43-9d3c-55a0c1f9e0{index:02d}",
                slack_user=f"U0BENCH{index:03d}",
                hubspot_owner=f"8100{index:04d}" if index % 3 == 0 else None,
                email_visible=index % 3 != 1,
            )
        )
    return people


# --- Payloads in the vendors' shapes -----------------------------------------------------------------


def _text(rng: random.Random, low: int, high: int) -> str:
    words = rng.choices(WORDS, k=rng.randint(low, high))
    return " ".join(words).capitalize() + "."


def _jira_time(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}+0000"


def _hubspot_time(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _jira_user(person: Person) -> dict[str, Any]:
    user: dict[str, Any] = {
        "accountId": person.jira_account,
        "displayName": person.name,
        "active": True,
        "timeZone": "Europe/Oslo",
        "accountType": "atlassian",
    }
    if person.email_visible:
        user["emailAddress"] = person.email
    return user


@dataclass
class _Issue:
    """A Jira issue as it stands at one moment of its life."""

    issue_id: str
    key: str
    project: tuple[str, str, list[str], list[str], list[str]]
    epic: str
    summary: str
    labels: list[str]
    components: list[str]
    story_points: int | None
    reporter: Person
    assignee: Person | None
    created: datetime
    updated: datetime
    step: int = 0  # index into JIRA_WORKFLOW

    def rest(self) -> dict[str, Any]:
        """The issue as Jira's REST API and webhooks show it."""
        status, status_id, category = JIRA_WORKFLOW[self.step]
        project_key, project_name = self.project[0], self.project[1]
        return {
            "id": self.issue_id,
            "self": f"{JIRA_SITE}/rest/api/2/issue/{self.issue_id}",
            "key": self.key,
            "fields": {
                "summary": self.summary,
                "issuetype": {"id": "10001", "name": "Story", "subtask": False, "hierarchyLevel": 0},
                "parent": {
                    "id": str(
                        19000 + JIRA_PROJECTS.index(self.project) * 10 + self.project[2].index(self.epic)
                    ),
                    "key": self.epic,
                    "fields": {
                        "summary": f"{project_name} epic {self.epic}",
                        "issuetype": {"id": "10000", "name": "Epic", "subtask": False, "hierarchyLevel": 1},
                    },
                },
                "project": {
                    "id": "10010",
                    "key": project_key,
                    "name": project_name,
                    "projectTypeKey": "software",
                },
                "status": {
                    "name": status,
                    "id": status_id,
                    "statusCategory": {"id": 4, "key": category, "name": status},
                },
                "priority": {"id": "3", "name": "Medium"},
                "assignee": _jira_user(self.assignee) if self.assignee else None,
                "reporter": _jira_user(self.reporter),
                "labels": self.labels,
                "components": [{"id": "10100", "name": name} for name in self.components],
                "customfield_10016": self.story_points,
                "created": _jira_time(self.created),
                "updated": _jira_time(self.updated),
                "resolution": {"id": "10000", "name": "Done"} if category == "done" else None,
                "issuelinks": [],
            },
        }


@dataclass(frozen=True)
class Payload:
    """One generated vendor payload: when it happened, for which provider, and the JSON body."""

    moment: datetime
    provider: str
    body: dict[str, Any]


@dataclass
class PayloadGenerator:
    """Deterministic vendor payloads for the benchmark, in units of work split between worker shares.

    A *unit* is one piece of work and every payload about it: a Jira issue's webhooks (or the issue pulled
    once with its changelog and comments), a Slack thread's messages, a HubSpot deal's updates and its
    engagements. Unit ``n`` belongs to share ``n % shares``, so two shares never describe the same work
    item. The mix by payload count is about 45 % Slack, 35 % Jira, 20 % HubSpot: people say more in
    chat than they move in their trackers.
    """

    people: list[Person]
    start: datetime
    seed: int = 2026
    # Unit numbers (and so every vendor id) start here: generators with different starts never collide.
    first_unit: int = 0

    # (kind, weight): weights by unit, chosen so that the payload mix comes out as documented above.
    UNIT_KINDS = (("jira_stream", 23), ("jira_pull", 19), ("slack_thread", 43), ("hubspot_deal", 15))

    def _unit_rng(self, index: int) -> random.Random:
        # Made-up test data, reproducible from the seed: nothing here is a secret.
        return random.Random(self.seed * 1_000_003 + index)  # noqa: S311

    def unit_plan(self, index: int) -> tuple[str, int, datetime]:
        """The kind of unit ``index``, how many payloads it has, and when its first one happens."""
        rng = self._unit_rng(index)
        kind = rng.choices([kind for kind, _ in self.UNIT_KINDS], [w for _, w in self.UNIT_KINDS])[0]
        begins = self.start + timedelta(seconds=rng.randint(0, 40 * 86400))
        if kind == "jira_stream":
            return kind, 1 + rng.randint(1, 4) + rng.randint(0, 3), begins
        if kind == "jira_pull":
            return kind, 1, begins
        if kind == "slack_thread":
            return kind, 1 + rng.choice([0, 0, 1, 2, 3, 4, 6, 8]), begins
        return kind, rng.randint(1, 3) + rng.randint(1, 5), begins

    def units(self, items: int) -> Iterator[tuple[int, str, int, datetime]]:
        """``(index, kind, payloads, begins)`` of the units making up exactly ``items`` payloads."""
        remaining = items
        index = self.first_unit
        while remaining > 0:
            kind, size, begins = self.unit_plan(index)
            size = min(size, remaining)
            yield index, kind, size, begins
            remaining -= size
            index += 1

    def payloads(self, items: int, *, share: int = 0, shares: int = 1) -> Iterator[Payload]:
        """The payloads of ``share``'s units, in the order they happen, as the vendors would send them.

        Units are started when their first payload is due and merged by time, so only the units under
        way at any moment are held, never every payload at once.
        """
        pending = sorted(
            (begins, index, kind, size)
            for index, kind, size, begins in self.units(items)
            if index % shares == share
        )
        pending.reverse()  # popped from the end, earliest first
        under_way: list[tuple[datetime, int, Payload, Iterator[Payload]]] = []
        while pending or under_way:
            if pending and (not under_way or pending[-1][0] <= under_way[0][0]):
                _begins, index, kind, size = pending.pop()
                unit = self._unit(index, kind, size)
                first = next(unit, None)
                if first is not None:
                    heapq.heappush(under_way, (first.moment, index, first, unit))
                continue
            _moment, index, payload, unit = heapq.heappop(under_way)
            yield payload
            following = next(unit, None)
            if following is not None:
                heapq.heappush(under_way, (following.moment, index, following, unit))

    def _unit(self, index: int, kind: str, size: int) -> Iterator[Payload]:
        rng = self._unit_rng(index)
        _kind, _size, begins = self.unit_plan(index)
        rng.random()  # past the plan's first draws, so that what follows does not repeat them
        maker: Callable[[int, random.Random, datetime, int], Iterator[Payload]] = getattr(self, f"_{kind}")
        return itertools.islice(maker(index, rng, begins, size), size)

    # Jira

    def _issue(self, index: int, rng: random.Random, begins: datetime) -> _Issue:
        project = JIRA_PROJECTS[index % len(JIRA_PROJECTS)]
        return _Issue(
            issue_id=str(100_000 + index),
            key=f"{project[0]}-{1000 + index}",
            project=project,
            epic=rng.choice(project[2]),
            summary=_text(rng, 3, 9)[:-1],
            labels=rng.sample(project[4], rng.randint(0, 2)),
            components=rng.sample(project[3], 1),
            story_points=rng.choice([1, 2, 3, 5, 8, None]),
            reporter=rng.choice(self.people),
            assignee=rng.choice(self.people) if rng.random() < 0.85 else None,
            created=begins,
            updated=begins,
        )

    def _jira_stream(self, index: int, rng: random.Random, begins: datetime, size: int) -> Iterator[Payload]:
        issue = self._issue(index, rng, begins)
        moment = begins
        yield Payload(
            moment,
            "jira",
            {
                "timestamp": epoch_ms(moment),
                "webhookEvent": "jira:issue_created",
                "issue_event_type_name": "issue_created",
                "user": _jira_user(issue.reporter),
                "issue": issue.rest(),
            },
        )
        history = 300_000 + index * 20
        comment = 700_000 + index * 20
        for _ in range(size - 1):
            moment += timedelta(minutes=rng.randint(5, 2 * 24 * 60))
            actor = rng.choice(self.people)
            issue.updated = moment
            if rng.random() < 0.55 and issue.step < len(JIRA_WORKFLOW) - 1:
                before = JIRA_WORKFLOW[issue.step]
                issue.step += 1
                after = JIRA_WORKFLOW[issue.step]
                items: list[dict[str, Any]] = [
                    {
                        "field": "status",
                        "fieldtype": "jira",
                        "fieldId": "status",
                        "from": before[1],
                        "fromString": before[0],
                        "to": after[1],
                        "toString": after[0],
                    }
                ]
                if after[2] == "done":
                    items.append(
                        {
                            "field": "resolution",
                            "fieldtype": "jira",
                            "fieldId": "resolution",
                            "from": None,
                            "fromString": None,
                            "to": "10000",
                            "toString": "Done",
                        }
                    )
                if rng.random() < 0.2:
                    previous, issue.assignee = issue.assignee, rng.choice(self.people)
                    items.append(
                        {
                            "field": "assignee",
                            "fieldtype": "jira",
                            "fieldId": "assignee",
                            "from": previous.jira_account if previous else None,
                            "fromString": previous.name if previous else None,
                            "to": issue.assignee.jira_account,
                            "toString": issue.assignee.name,
                        }
                    )
                history += 1
                body = {
                    "timestamp": epoch_ms(moment),
                    "webhookEvent": "jira:issue_updated",
                    "issue_event_type_name": "issue_generic",
                    "user": _jira_user(actor),
                    "issue": issue.rest(),
                    "changelog": {"id": str(history), "items": items},
                }
            else:
                comment += 1
                author = _jira_user(actor)
                body = {
                    "timestamp": epoch_ms(moment),
                    "webhookEvent": "comment_created",
                    "user": author,
                    "issue": issue.rest(),
                    "comment": {
                        "self": f"{JIRA_SITE}/rest/api/2/issue/{issue.issue_id}/comment/{comment}",
                        "id": str(comment),
                        "author": author,
                        "body": _text(rng, 6, 30),
                        "created": _jira_time(moment),
                        "updated": _jira_time(moment),
                        "jsdPublic": True,
                    },
                }
            yield Payload(moment, "jira", body)

    def _jira_pull(self, index: int, rng: random.Random, begins: datetime, size: int) -> Iterator[Payload]:
        """An issue as a JQL search returns it with ``expand=changelog`` and its comments."""
        issue = self._issue(index, rng, begins)
        moment = begins
        histories = []
        comments = []
        for number in range(rng.randint(1, 4)):
            moment += timedelta(minutes=rng.randint(30, 3 * 24 * 60))
            actor = rng.choice(self.people)
            if issue.step < len(JIRA_WORKFLOW) - 1:
                before = JIRA_WORKFLOW[issue.step]
                issue.step += 1
                after = JIRA_WORKFLOW[issue.step]
                histories.append(
                    {
                        "id": str(500_000 + index * 10 + number),
                        "author": _jira_user(actor),
                        "created": _jira_time(moment),
                        "items": [
                            {
                                "field": "status",
                                "fieldtype": "jira",
                                "fieldId": "status",
                                "from": before[1],
                                "fromString": before[0],
                                "to": after[1],
                                "toString": after[0],
                            }
                        ],
                    }
                )
        for number in range(rng.randint(0, 3)):
            moment += timedelta(minutes=rng.randint(10, 24 * 60))
            author = _jira_user(rng.choice(self.people))
            comments.append(
                {
                    "id": str(900_000 + index * 10 + number),
                    "author": author,
                    "body": {
                        "type": "doc",
                        "version": 1,
                        "content": [
                            {"type": "paragraph", "content": [{"type": "text", "text": _text(rng, 6, 30)}]}
                        ],
                    },
                    "created": _jira_time(moment),
                    "updated": _jira_time(moment),
                }
            )
        issue.updated = moment
        body = issue.rest()
        body["expand"] = "renderedFields,names,schema,operations,editmeta,changelog,versionedRepresentations"
        body["fields"]["comment"] = {
            "comments": comments,
            "maxResults": len(comments),
            "total": len(comments),
            "startAt": 0,
        }
        body["changelog"] = {
            "startAt": 0,
            "maxResults": len(histories),
            "total": len(histories),
            "histories": histories,
        }
        yield Payload(moment, "jira", body)

    # Slack

    def _slack_thread(self, index: int, rng: random.Random, begins: datetime, size: int) -> Iterator[Payload]:
        channel, _name = SLACK_CHANNELS[index % len(SLACK_CHANNELS)]
        moment = begins
        thread_ts = f"{int(begins.timestamp())}.{index % 1_000_000:06d}"
        root_user = ""
        for number in range(size):
            ts = (
                thread_ts
                if number == 0
                else f"{int(moment.timestamp())}.{(index * 16 + number) % 1_000_000:06d}"
            )
            person = rng.choice(self.people)
            text = _text(rng, 3, 30)
            event: dict[str, Any] = {
                "client_msg_id": f"{index:08x}-4c1b-4e1e-9a56-{number:012x}",
                "type": "message",
                "text": text,
                "user": person.slack_user,
                "ts": ts,
                "blocks": [
                    {
                        "type": "rich_text",
                        "block_id": f"b{number:03d}",
                        "elements": [
                            {"type": "rich_text_section", "elements": [{"type": "text", "text": text}]}
                        ],
                    }
                ],
                "team": SLACK_TEAM,
                "channel": channel,
                "event_ts": ts,
                "channel_type": "channel",
            }
            if number:
                event["thread_ts"] = thread_ts
                event["parent_user_id"] = root_user
            else:
                root_user = person.slack_user
            yield (
                Payload(
                    moment,
                    "slack",
                    {
                        "token": "bench-verification-token",
                        "team_id": SLACK_TEAM,
                        "api_app_id": "A0BENCHAPP",
                        "event": event,
                        "type": "event_callback",
                        "event_id": f"Ev0B{index:07d}{number:02d}",
                        "event_time": int(moment.timestamp()),
                        "authorizations": [{"team_id": SLACK_TEAM, "user_id": "U0BENCHBOT", "is_bot": True}],
                    },
                )
            )
            moment += timedelta(minutes=rng.randint(1, 180))

    # HubSpot

    def _hubspot_deal(self, index: int, rng: random.Random, begins: datetime, size: int) -> Iterator[Payload]:
        sellers = [person for person in self.people if person.hubspot_owner]
        owner = rng.choice(sellers)
        pipeline = "enterprise" if index % 3 == 0 else "default"
        stages = HUBSPOT_PIPELINES[pipeline]
        deal_id = str(9_000_000 + index)
        updates = 1 + rng.randint(0, 2)
        moment = begins
        created = begins
        stage = 0
        owners = {
            person.hubspot_owner: {
                "email": person.email,
                "firstName": person.name.split()[0],
                "lastName": person.name.split()[1],
            }
            for person in sellers
            if person.hubspot_owner == owner.hubspot_owner
        }
        entered: dict[str, str] = {}
        for number in range(size):
            if number < updates:
                if number:
                    stage = min(stage + 1, len(stages) - 1)
                entered.setdefault(f"hs_v2_date_entered_{stages[stage]}", _hubspot_time(moment))
                iso = _hubspot_time(moment)
                yield (
                    Payload(
                        moment,
                        "hubspot",
                        {
                            "object_type": "deals",
                            "object": {
                                "id": deal_id,
                                "properties": {
                                    "amount": str(rng.choice([12, 24, 48, 96, 180]) * 1000),
                                    "closedate": _hubspot_time(created + timedelta(days=60)),
                                    "createdate": _hubspot_time(created),
                                    "dealname": f"{rng.choice(LAST_NAMES)} {rng.choice(WORDS).title()}",
                                    "dealstage": stages[stage],
                                    "hs_lastmodifieddate": iso,
                                    "hs_object_id": deal_id,
                                    "hs_is_closed": str(stages[stage] == "closedwon").lower(),
                                    "hubspot_owner_id": owner.hubspot_owner,
                                    "pipeline": pipeline,
                                    **entered,
                                },
                                "createdAt": _hubspot_time(created),
                                "updatedAt": iso,
                                "archived": False,
                            },
                            "owners": owners,
                        },
                    )
                )
            else:
                yield self._engagement(index, number, rng, moment, owner, deal_id)
            moment += timedelta(hours=rng.randint(2, 96))

    def _engagement(
        self, index: int, number: int, rng: random.Random, moment: datetime, owner: Person, deal_id: str
    ) -> Payload:
        object_type = rng.choice(HUBSPOT_ENGAGEMENTS)
        object_id = str(50_000_000 + index * 10 + number)
        iso = _hubspot_time(moment)
        prefix = {
            "calls": "hs_call",
            "notes": "hs_note",
            "meetings": "hs_meeting",
            "emails": "hs_email",
            "tasks": "hs_task",
        }[object_type]
        properties: dict[str, Any] = {
            "hs_createdate": iso,
            "hs_lastmodifieddate": iso,
            "hs_object_id": object_id,
            "hs_timestamp": iso,
            "hubspot_owner_id": owner.hubspot_owner,
        }
        if object_type == "notes":
            properties["hs_note_body"] = f"<p>{_text(rng, 8, 30)}</p>"
        elif object_type == "emails":
            properties["hs_email_subject"] = _text(rng, 3, 7)
            properties["hs_email_text"] = _text(rng, 10, 40)
            properties["hs_email_direction"] = "EMAIL"
        else:
            properties[f"{prefix}_title" if object_type != "tasks" else "hs_task_subject"] = _text(rng, 3, 7)
            properties[f"{prefix}_body"] = _text(rng, 5, 25)
        if object_type == "calls":
            properties["hs_call_duration"] = str(rng.randint(60, 3600) * 1000)
            properties["hs_call_direction"] = "OUTBOUND"
        body: dict[str, Any] = {
            "id": object_id,
            "properties": properties,
            "createdAt": iso,
            "updatedAt": iso,
            "archived": False,
            "associations": {"deals": {"results": [{"id": deal_id, "type": f"{object_type[:-1]}_to_deal"}]}},
        }
        return Payload(moment, "hubspot", {"object_type": object_type, "object": body})


def dumps(body: Mapping[str, Any]) -> bytes:
    return json.dumps(body, separators=(",", ":")).encode()


@dataclass
class Bodies:
    """JSON bodies packed into one buffer per provider, in arrival order (no per-payload Python object)."""

    data: dict[str, bytearray] = field(default_factory=dict)
    ends: dict[str, array.array[int]] = field(default_factory=dict)

    def add(self, provider: str, body: bytes) -> None:
        buffer = self.data.setdefault(provider, bytearray())
        buffer += body
        self.ends.setdefault(provider, array.array("Q")).append(len(buffer))

    def count(self) -> int:
        return sum(len(ends) for ends in self.ends.values())

    def nbytes(self) -> int:
        return sum(len(buffer) for buffer in self.data.values())

    def interleaved(self, size: int) -> Iterator[tuple[str, list[memoryview]]]:
        """Batches of up to ``size`` bodies of one provider, the providers taken in step with each other."""
        streams = {provider: self.batches(provider, size) for provider in self.ends}
        taken = dict.fromkeys(streams, 0)
        while streams:
            provider = min(streams, key=lambda name: taken[name] / len(self.ends[name]))
            batch = next(streams[provider], None)
            if batch is None:
                del streams[provider]
                continue
            taken[provider] += len(batch)
            yield provider, batch

    def batches(self, provider: str, size: int) -> Iterator[list[memoryview]]:
        view = memoryview(self.data[provider])
        ends = self.ends[provider]
        for first in range(0, len(ends), size):
            start = ends[first - 1] if first else 0
            batch = []
            for end in ends[first : first + size]:
                batch.append(view[start:end])
                start = end
            yield batch


def pack(payloads: Iterator[Payload]) -> Bodies:
    """Pack payloads' JSON bodies, in the order given."""
    bodies = Bodies()
    for payload in payloads:
        bodies.add(payload.provider, dumps(payload.body))
    _give_back_free_memory()
    return bodies


def _give_back_free_memory() -> None:
    """Hand the memory the generator used and freed back to the system (glibc keeps it otherwise), so
    that the memory measured is what ingestion holds, not what generating the test data left behind."""
    gc.collect()
    name = ctypes.util.find_library("c")
    if name:
        with contextlib.suppress(AttributeError):  # not glibc: nothing to ask for
            ctypes.CDLL(name).malloc_trim(0)


def start_of_data(now: datetime | None = None) -> datetime:
    """Payload times run over the 40 days after this: recent enough that their text is still kept."""
    moment = (now or datetime.now(tz=UTC)) - timedelta(days=45)
    return moment.replace(minute=0, second=0, microsecond=0)


# --- The organisation the benchmark ingests for ------------------------------------------------------


@dataclass
class BenchWorld:
    organization_id: int
    slug: str
    people: list[Person]
    integration_ids: dict[str, int]
    key_result_ids: list[int]
    data_start: datetime


def integration_settings(provider: str) -> dict[str, Any]:
    if provider == "jira":
        return {"site": JIRA_SITE, "story_points_field": "customfield_10016"}
    if provider == "slack":
        channels = [{"id": channel, "name": name, "is_private": False} for channel, name in SLACK_CHANNELS]
        return {"team_id": SLACK_TEAM, "channels": channels}
    return {"portal_id": HUBSPOT_PORTAL}


# Signing secrets the webhook calls are signed with; made up for the benchmark's own organisation.
BENCH_CREDENTIALS: dict[str, dict[str, str]] = {
    "jira": {
        "email": "bench@bench-org.test",
        "api_token": "bench-jira-token",
        "webhook_secret": "bench-jira-secret",
    },
    "slack": {"bot_token": "xoxb-bench-token", "signing_secret": "bench-slack-signing-secret"},
    "hubspot": {"access_token": "pat-bench-token", "client_secret": "bench-hubspot-client-secret"},
}

# Mapping rules, as (provider, match, index of the key result): several rules may hold for one piece of
# work, and some work matches none (it is still taken, unlinked).
BENCH_RULES: list[tuple[str, dict[str, str], int]] = [
    ("jira", {"project": "ONB"}, 0),
    ("jira", {"label": "sso"}, 0),
    ("jira", {"epic": "ACT-1"}, 1),
    ("jira", {"label": "activation"}, 1),
    ("jira", {"component": "Payments"}, 2),
    ("jira", {"project": "PLT", "label": "reliability"}, 3),
    ("slack", {"channel": "C0BONBOARD"}, 0),
    ("slack", {"channel": "C0BACTIVAT"}, 1),
    ("slack", {"channel": "C0BBILLING"}, 2),
    ("slack", {"channel": "C0BSALES01"}, 4),
    ("hubspot", {"pipeline": "enterprise"}, 4),
    ("hubspot", {"pipeline": "default", "dealstage": "closedwon"}, 5),
]
KEY_RESULT_TITLES = [
    "Self-serve SSO setups from 10 to 40",
    "Activated accounts from 100 to 180",
    "Failed payments recovered from 40 % to 70 %",
    "API error rate from 2 % to 0.5 %",
    "Enterprise pipeline from 2 M to 5 M",
    "New logos from 30 to 55",
]


def build_world(progress: Callable[[str], None]) -> BenchWorld:
    """An organisation with people, key results, the three integrations, mapping rules and identities."""
    from django.utils import timezone

    from goals import services as goal_services
    from goals.models import Level
    from okrsignal import services as platform_services
    from okrsignal.models import Membership, Role
    from okrsignal.tenancy import tenant_context
    from signals_ingest import services

    stamp = timezone.now().strftime("%Y%m%d%H%M%S") + secrets.token_hex(3)
    slug = f"bench-ingest-{stamp}"
    people = bench_people(domain=f"{slug}.test")
    progress(f"Setting up organisation {slug}")
    admin_user = platform_services.user_create(
        email=f"admin@{slug}.test", full_name="Benchmark Admin", password=None
    )
    organization = platform_services.organization_create(
        name="Benchmark ingest", slug=slug, first_admin=admin_user
    )
    with tenant_context(organization):
        admin = Membership.objects.get(user=admin_user)
        memberships = []
        for person in people:
            user = platform_services.user_create(email=person.email, full_name=person.name, password=None)
            memberships.append(Membership.objects.create(user=user, role=Role.EMPLOYEE))
        today = timezone.now().date()
        cycle = goal_services.cycle_create(
            name="Benchmark quarter", start=today - timedelta(days=60), end=today + timedelta(days=30)
        )
        objective = goal_services.objective_create(
            by=admin,
            cycle=cycle,
            title="Customers onboard, pay and stay without our help",
            level=Level.COMPANY,
            owner=admin,
            as_given=True,
        )
        key_results = [
            goal_services.key_result_create(
                by=admin,
                objective=objective,
                title=title,
                unit="%",
                baseline=10,
                target=40,
                owner=admin,
                as_given=True,
            )
            for title in KEY_RESULT_TITLES
        ]
        integrations = {
            provider: services.integration_connect(
                provider=provider,
                credentials=BENCH_CREDENTIALS[provider],
                settings=integration_settings(provider),
            )
            for provider in ("jira", "slack", "hubspot")
        }
        for provider, match, key_result in BENCH_RULES:
            services.mapping_rule_create(
                integration=integrations[provider], match=match, key_result=key_results[key_result]
            )
        for person, membership in zip(people, memberships, strict=True):
            accounts = [("jira", person.jira_account), ("slack", person.slack_user)]
            if person.hubspot_owner:
                accounts.append(("hubspot", person.hubspot_owner))
            for provider, account in accounts:
                services.identity_link_account(
                    provider=provider,
                    external_id=account,
                    membership=membership,
                    display_name=person.name if provider != "slack" else "",
                )
    return BenchWorld(
        organization_id=organization.pk,
        slug=slug,
        people=people,
        integration_ids={provider: integration.pk for provider, integration in integrations.items()},
        key_result_ids=[key_result.pk for key_result in key_results],
        data_start=start_of_data(),
    )


def warm_up_payloads(people: list[Person], start: datetime) -> dict[str, list[dict[str, Any]]]:
    """One payload per vendor account that shows its e-mail address, taken before the clock starts.

    The benchmark's identities are linked to people by hand; these fill in the addresses the vendors
    show, as the first payloads of a real organisation would, so that the timed payloads find every
    identity complete.
    """
    jira = []
    for number, person in enumerate(people):
        issue = _Issue(
            issue_id=str(90_000 + number),
            key=f"ONB-{900 + number}",
            project=JIRA_PROJECTS[0],
            epic=JIRA_PROJECTS[0][2][0],
            summary="Set up the team's board",
            labels=[],
            components=[],
            story_points=None,
            reporter=person,
            assignee=person,
            created=start,
            updated=start,
        )
        jira.append(
            {
                "timestamp": epoch_ms(start),
                "webhookEvent": "jira:issue_created",
                "user": _jira_user(person),
                "issue": issue.rest(),
            }
        )
    hubspot = []
    for number, person in enumerate(people):
        if not person.hubspot_owner:
            continue
        deal_id = str(8_900_000 + number)
        first, last = person.name.split()
        hubspot.append(
            {
                "object_type": "deals",
                "object": {
                    "id": deal_id,
                    "properties": {
                        "dealname": f"{last} first deal",
                        "dealstage": "appointmentscheduled",
                        "pipeline": "default",
                        "hubspot_owner_id": person.hubspot_owner,
                        "hs_lastmodifieddate": _hubspot_time(start),
                    },
                    "createdAt": _hubspot_time(start),
                    "updatedAt": _hubspot_time(start),
                    "archived": False,
                },
                "owners": {
                    person.hubspot_owner: {"email": person.email, "firstName": first, "lastName": last}
                },
            }
        )
    return {"jira": jira, "hubspot": hubspot}


# --- Running it --------------------------------------------------------------------------------------

DEFAULT_ITEMS = 200_000
DEFAULT_WORKERS = 2
# Payloads per transaction: larger batches save round trips, smaller ones hold less memory per worker.
DEFAULT_BATCH = 1000
DEFAULT_ORIGIN = "replay"
DEFAULT_WEBHOOK_CALLS = 1000
# How long a worker waits for the others to be ready before giving up (generating is not timed, but a
# worker that died must not leave the rest waiting for ever).
READY_TIMEOUT_SECONDS = 900
BASELINE_TABLE = "bench_copy_baseline"
# The baseline is timed this many times, into a fresh table each time, and its median counts: one COPY of a
# quarter of a million rows moved by a quarter from one run to the next on a quiet machine, more than
# anything measured in the pipeline.
COPY_BASELINE_RUNS = 3
SIGNAL_TABLE = "signals_ingest_executionsignal"
# What a signal names: the organisation, the work item and the identity of its actor. The signal table keeps
# them without database constraints (the pipeline holds those rows while it writes: see
# ``signals_ingest.models``); the second COPY checks each row against them as constraints would.
SIGNAL_REFERENCES = [
    ("organization_id", "okrsignal_organization"),
    ("work_item_id", "signals_ingest_workitem"),
    ("actor_id", "signals_ingest_externalidentity"),
]


def _rss_kb() -> int:
    """Peak resident set of this process so far, in KiB (Linux reports ``ru_maxrss`` in KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def _current_rss_kb() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return _rss_kb()


@dataclass
class _ChildOutcome:
    value: Any
    peak_rss_kb: int
    error: str = ""


def _child_main(target: Callable[..., Any], args: tuple[Any, ...], conn: Connection) -> None:
    from django.db import connections

    try:
        outcome = _ChildOutcome(target(*args), _rss_kb())
    except BaseException:  # reported to the parent, which raises it there
        outcome = _ChildOutcome(None, _rss_kb(), traceback.format_exc())
    finally:
        connections.close_all()
    conn.send(outcome)
    conn.close()


def _start_child(target: Callable[..., Any], *args: Any) -> tuple[BaseProcess, Connection]:
    """Fork a process running ``target(*args)``; its answer (and peak memory) come back on the pipe.

    The database connections are closed first: a forked process must open its own, never share one.
    """
    from django.db import connections

    connections.close_all()
    context = multiprocessing.get_context("fork")
    receiving, sending = context.Pipe(duplex=False)
    process = context.Process(target=_child_main, args=(target, args, sending), daemon=True)
    process.start()
    sending.close()
    return process, receiving


def _finish_child(process: BaseProcess, conn: Connection) -> _ChildOutcome:
    try:
        outcome: _ChildOutcome = conn.recv()
    except EOFError:
        process.join()
        raise RuntimeError(f"A benchmark process died (exit code {process.exitcode}).") from None
    process.join()
    if outcome.error:
        raise RuntimeError(f"A benchmark process failed:\n{outcome.error}")
    return outcome


def _set_up(progress_enabled: bool) -> BenchWorld:
    """Build the organisation and take the warm-up payloads (run in a process of its own)."""
    from okrsignal.tenancy import tenant_context
    from signals_ingest.models import Integration, RawEvent
    from signals_ingest.normalisers import dedupe_key_for
    from signals_ingest.pipeline import store_and_process_raw_events

    world = build_world(_stderr if progress_enabled else _quiet)
    with tenant_context(world.organization_id):
        for provider, payloads in warm_up_payloads(world.people, world.data_start).items():
            store_and_process_raw_events(
                integration=Integration.objects.get(pk=world.integration_ids[provider]),
                origin=RawEvent.Origin.REPLAY,
                items=[(dedupe_key_for(provider, payload), payload) for payload in payloads],
            )
    return world


def _stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _quiet(message: str) -> None:
    pass


@dataclass
class _ShareReport:
    started: float
    finished: float
    payloads: int
    bytes: int
    failed: int


def _ingest_share(
    world: BenchWorld, share: int, shares: int, items: int, batch_size: int, origin: str, ready: Any
) -> _ShareReport:
    """Generate one share's payloads, wait for the others, then take them all the way to committed rows."""
    from okrsignal.tenancy import tenant_context
    from signals_ingest.models import Integration

    try:
        generator = PayloadGenerator(world.people, world.data_start)
        bodies = pack(generator.payloads(items, share=share, shares=shares))
        with tenant_context(world.organization_id):
            integrations = {
                integration.provider: integration
                for integration in Integration.objects.filter(pk__in=world.integration_ids.values())
            }
        ready.wait(timeout=READY_TIMEOUT_SECONDS)
    except BaseException:
        ready.abort()
        raise
    gc.set_threshold(WORKER_GC_THRESHOLD, *gc.get_threshold()[1:])
    started = time.monotonic()
    failed = 0
    with drift_triggers.replaying():
        for provider, batch in bodies.interleaved(batch_size):
            failed += _ingest_batch(world.organization_id, integrations[provider], origin, batch)
    finished = time.monotonic()
    return _ShareReport(started, finished, bodies.count(), bodies.nbytes(), failed)


def _settle_memory() -> None:
    """Once every share is generated: what is alive now lives until the end, so the collector need not
    walk it again after every batch."""
    gc.collect()
    gc.freeze()


def _ingest_in_threads(
    world: BenchWorld, workers: int, items: int, batch_size: int, origin: str
) -> list[_ShareReport]:
    """Each share in a thread of its own, with its own database connection.

    The Python work of the threads takes turns (the interpreter lock), but each thread's database work
    runs in its own server process: while one thread waits for PostgreSQL the other prepares its next
    batch, so the two cores are both kept busy, with the payloads and the code held once.
    """
    from django.db import connection

    ready = threading.Barrier(workers, action=_settle_memory)
    reports: list[_ShareReport | BaseException | None] = [None] * workers
    collector_threshold = gc.get_threshold()

    def work(share: int) -> None:
        try:
            reports[share] = _ingest_share(world, share, workers, items, batch_size, origin, ready)
        except BaseException as exc:
            reports[share] = exc
        finally:
            connection.close()

    threads = [
        threading.Thread(target=work, args=(share,), name=f"ingest-{share}") for share in range(workers)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    gc.unfreeze()
    gc.set_threshold(*collector_threshold)
    for report in reports:
        if isinstance(report, BaseException):
            raise report
    return [report for report in reports if isinstance(report, _ShareReport)]


def _ingest_in_processes(
    world: BenchWorld, workers: int, items: int, batch_size: int, origin: str
) -> tuple[list[_ShareReport], int]:
    """Each share in a process of its own (this one takes the first); answers the reports and the peak
    resident set of the other processes, added up."""
    ready = multiprocessing.get_context("fork").Barrier(workers, action=_settle_memory)
    collector_threshold = gc.get_threshold()
    children = [
        _start_child(_ingest_share, world, share, workers, items, batch_size, origin, ready)
        for share in range(1, workers)
    ]
    own = _ingest_share(world, 0, workers, items, batch_size, origin, ready)
    gc.unfreeze()
    gc.set_threshold(*collector_threshold)
    outcomes = [_finish_child(process, conn) for process, conn in children]
    return [own, *(outcome.value for outcome in outcomes)], sum(outcome.peak_rss_kb for outcome in outcomes)


def _ingest_batch(organization_id: int, integration: Any, origin: str, batch: list[memoryview]) -> int:
    """One batch, parsed from the bodies as the vendors send them (parsing is part of the work measured),
    stored and processed in one transaction; answers how many failed. Its payloads are gone when it
    returns, before the next batch is parsed."""
    from okrsignal.tenancy import tenant_context
    from signals_ingest.normalisers import dedupe_key_for
    from signals_ingest.pipeline import store_and_process_raw_events

    provider = integration.provider
    items = []
    for body in batch:
        payload = orjson.loads(body)
        items.append((dedupe_key_for(provider, payload), payload))
    with tenant_context(organization_id):
        result = store_and_process_raw_events(integration=integration, origin=origin, items=items)
    return len(result.failed)


@dataclass
class _Counts:
    raw_events: int
    work_items: int
    signals: int
    signal_links: int
    last_signal_id: int


def _counts(world: BenchWorld) -> _Counts:
    from django.db.models import Max

    from okrsignal.tenancy import tenant_context
    from signals_ingest.models import ExecutionSignal, RawEvent, SignalKeyResult, WorkItem

    with tenant_context(world.organization_id):
        return _Counts(
            raw_events=RawEvent.objects.count(),
            work_items=WorkItem.objects.count(),
            signals=ExecutionSignal.objects.count(),
            signal_links=SignalKeyResult.objects.count(),
            last_signal_id=ExecutionSignal.objects.aggregate(last=Max("id"))["last"] or 0,
        )


def _create_baseline_table(cursor: Any, *, foreign_keys: bool) -> None:
    cursor.execute(f"DROP TABLE IF EXISTS {BASELINE_TABLE}")
    cursor.execute(f"CREATE TABLE {BASELINE_TABLE} (LIKE {SIGNAL_TABLE} INCLUDING ALL)")
    if foreign_keys:
        for number, (column, table) in enumerate(SIGNAL_REFERENCES):
            cursor.execute(
                f"ALTER TABLE {BASELINE_TABLE} ADD CONSTRAINT {BASELINE_TABLE}_fk_{number}"
                f" FOREIGN KEY ({column}) REFERENCES {table}(id) DEFERRABLE INITIALLY DEFERRED"
            )


def _copy_baseline(
    world: BenchWorld, after_signal_id: int, *, foreign_keys: bool, runs: int = 1
) -> tuple[int, list[float]]:
    """COPY the signals written after ``after_signal_id`` into the baseline table ``runs`` times, a fresh
    table each time; answer the rows and each run's seconds.

    The baseline table is ``CREATE TABLE bench_copy_baseline (LIKE signals_ingest_executionsignal
    INCLUDING ALL)``: a regular, logged table with the signal table's columns, defaults, NOT NULL and
    CHECK constraints, primary key, unique constraint and indexes. ``foreign_keys`` adds foreign keys to
    what a signal names (``SIGNAL_REFERENCES``: deferred, checked at commit). Either way it has
    no row-level security policy (COPY FROM is refused on a table that has one). The rows are the very
    signals ingestion wrote, exported to a file once, before the clock starts; the clock covers the COPY
    from the file and its commit.
    """
    from django.db import connection

    from okrsignal.tenancy import tenant_context

    rows = 0
    seconds: list[float] = []
    with tempfile.TemporaryFile() as export:
        with (
            tenant_context(world.organization_id),
            connection.connection.cursor().copy(
                f"COPY (SELECT * FROM {SIGNAL_TABLE} WHERE organization_id = %s AND id > %s ORDER BY id)"  # noqa: S608 - constants
                " TO STDOUT",
                [world.organization_id, after_signal_id],
            ) as copy,
        ):
            for chunk in copy:
                export.write(chunk)
        connection.ensure_connection()
        raw = connection.connection
        for _run in range(runs):
            export.seek(0)
            try:
                with raw.cursor() as cursor:
                    with raw.transaction():
                        _create_baseline_table(cursor, foreign_keys=foreign_keys)
                    started = time.monotonic()
                    with raw.transaction(), cursor.copy(f"COPY {BASELINE_TABLE} FROM STDIN") as copy:
                        while chunk := export.read(1 << 20):
                            copy.write(chunk)
                    seconds.append(time.monotonic() - started)
                    cursor.execute(f"SELECT count(*) FROM {BASELINE_TABLE}")  # noqa: S608 - a constant
                    row = cursor.fetchone()
                    rows = int(row[0]) if row else 0
            finally:
                with raw.cursor() as cursor, raw.transaction():
                    cursor.execute(f"DROP TABLE IF EXISTS {BASELINE_TABLE}")
    return rows, seconds


def _webhook_calls(world: BenchWorld, calls: int) -> list[tuple[str, bytes, dict[str, str]]]:
    """Jira and Slack webhook bodies about new work, newer than anything ingested, unsigned as yet.

    HubSpot is left out: its webhook calls carry notifications whose objects are then read from
    HubSpot's API, a network call this benchmark does not make.
    """
    generator = PayloadGenerator(
        world.people, datetime.now(tz=UTC) - timedelta(days=2), seed=7, first_unit=10_000_000
    )
    found: list[tuple[str, bytes, dict[str, str]]] = []
    for number, payload in enumerate(generator.payloads(calls * 4)):
        if payload.provider == "jira" and "webhookEvent" in payload.body:
            found.append(("jira", dumps(payload.body), {"X-Atlassian-Webhook-Identifier": f"bench-{number}"}))
        elif payload.provider == "slack":
            found.append(("slack", dumps(payload.body), {}))
        if len(found) == calls:
            break
    return found


def _signed(provider: str, body: bytes, headers: dict[str, str]) -> dict[str, str]:
    from signals_ingest.signatures import jira_signature, slack_signature

    credentials = BENCH_CREDENTIALS[provider]
    if provider == "jira":
        return {**headers, "X-Hub-Signature": jira_signature(credentials["webhook_secret"], body)}
    timestamp = str(int(time.time()))
    return {
        **headers,
        "X-Slack-Request-Timestamp": timestamp,
        "X-Slack-Signature": slack_signature(credentials["signing_secret"], timestamp, body),
    }


def _measure_webhooks(world: BenchWorld, calls: int) -> list[float]:
    """Milliseconds each signed call took to be answered by the real view, processing included."""
    from django.conf import settings
    from django.test import Client, override_settings

    from okrsignal.tenancy import cross_organization
    from signals_ingest.models import Integration

    with cross_organization():
        tokens = {
            integration.provider: integration.webhook_token
            for integration in Integration.objects.filter(pk__in=world.integration_ids.values())
        }
    client = Client(secure=True)
    timings: list[float] = []
    with override_settings(ALLOWED_HOSTS=[*settings.ALLOWED_HOSTS, "testserver"]), drift_triggers.replaying():
        for provider, body, headers in _webhook_calls(world, calls):
            signed = _signed(provider, body, headers)
            started = time.perf_counter()
            response = client.post(
                f"/webhooks/{provider}/{tokens[provider]}/",
                data=body,
                content_type="application/json",
                headers=signed,
            )
            timings.append((time.perf_counter() - started) * 1000)
            if response.status_code != 200:
                raise RuntimeError(
                    f"The {provider} webhook answered {response.status_code}: {response.content!r}"
                )
    return timings


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return 0.0
    return ordered[min(len(ordered) - 1, max(0, math.ceil(fraction * len(ordered)) - 1))]


def run_ingest(options: Mapping[str, Any], progress: Callable[[str], None]) -> dict[str, Any]:
    """The benchmark itself (see the module docstring); answers the figures."""
    from okrsignal.celery import app as celery_app

    items = int(options.get("items") or DEFAULT_ITEMS)
    workers = max(1, int(options.get("workers") or DEFAULT_WORKERS))
    batch_size = max(1, int(options.get("batch_size") or DEFAULT_BATCH))
    origin = str(options.get("origin") or DEFAULT_ORIGIN)
    webhook_calls = max(0, int(options.get("webhook_calls", DEFAULT_WEBHOOK_CALLS)))
    # What else the machine was doing when the run began: the figures share its cores with it.
    load_before = os.getloadavg()[0]
    previously_eager = celery_app.conf.task_always_eager
    # Work runs in this process (or its workers), whatever REDIS_URL says: nothing is queued for others.
    celery_app.conf.task_always_eager = True
    try:
        # Set up in a process of its own: the goal services it calls load scikit-learn (for the wording
        # check), which ingestion has no use for and which would otherwise weigh on the memory measured.
        progress("Setting up the organisation, its key results, mapping rules and identities")
        setup_base_kb = _current_rss_kb()
        outcome = _finish_child(*_start_child(_set_up, True))
        world = outcome.value
        assert isinstance(world, BenchWorld)
        peak_kb = setup_base_kb + outcome.peak_rss_kb
        before = _counts(world)

        mode = "threads" if options.get("threads") else "processes"
        progress(
            f"Generating {items:,} payloads in {workers} share(s), then ingesting them in {workers} {mode}"
        )
        if mode == "processes":
            reports, children_kb = _ingest_in_processes(world, workers, items, batch_size, origin)
        else:
            reports, children_kb = _ingest_in_threads(world, workers, items, batch_size, origin), 0
        peak_kb = max(peak_kb, _rss_kb() + children_kb)
        seconds = max(report.finished for report in reports) - min(report.started for report in reports)
        after = _counts(world)
        signals = after.signals - before.signals
        payloads = sum(report.payloads for report in reports)

        progress(f"COPY baseline: {signals:,} signal rows, {COPY_BASELINE_RUNS} times")
        copy_rows, copy_runs = _copy_baseline(
            world, before.last_signal_id, foreign_keys=False, runs=COPY_BASELINE_RUNS
        )
        copy_seconds = statistics.median(copy_runs)
        fk_rows, [fk_seconds] = _copy_baseline(world, before.last_signal_id, foreign_keys=True)

        progress(f"Webhooks: {webhook_calls:,} signed calls")
        timings = _measure_webhooks(world, webhook_calls) if webhook_calls else []
        peak_kb = max(peak_kb, _rss_kb())

        signals_per_s = signals / seconds if seconds else 0.0
        copy_rows_per_s = copy_rows / copy_seconds if copy_seconds else 0.0
        fk_rows_per_s = fk_rows / fk_seconds if fk_seconds else 0.0
        return {
            "organization": world.slug,
            "items": payloads,
            "workers": workers,
            "worker_kind": mode,
            "batch_size": batch_size,
            "origin": origin,
            "seconds": round(seconds, 3),
            "payloads_per_s": round(payloads / seconds, 1) if seconds else 0.0,
            "payload_megabytes": round(sum(report.bytes for report in reports) / 1e6, 1),
            "raw_events": after.raw_events - before.raw_events,
            "work_items": after.work_items - before.work_items,
            "signals": signals,
            "signal_links": after.signal_links - before.signal_links,
            "failed": sum(report.failed for report in reports),
            "signals_per_s": round(signals_per_s, 1),
            "copy_rows": copy_rows,
            "copy_seconds": round(copy_seconds, 3),
            "copy_seconds_each": [round(seconds, 3) for seconds in copy_runs],
            "copy_rows_per_s": round(copy_rows_per_s, 1),
            "ratio_to_copy": round(signals_per_s / copy_rows_per_s, 4) if copy_rows_per_s else 0.0,
            "copy_with_foreign_keys_rows_per_s": round(fk_rows_per_s, 1),
            "ratio_to_copy_with_foreign_keys": round(signals_per_s / fk_rows_per_s, 4)
            if fk_rows_per_s
            else 0.0,
            "webhook_calls": len(timings),
            "webhook_p50_ms": round(_percentile(timings, 0.50), 2),
            "webhook_p95_ms": round(_percentile(timings, 0.95), 2),
            "webhook_max_ms": round(max(timings), 2) if timings else 0.0,
            "peak_rss_mb": round(peak_kb / 1024, 1),
            "cpus": os.cpu_count(),
            "load_average_before": round(load_before, 2),
        }
    finally:
        celery_app.conf.task_always_eager = previously_eager


def _arguments(parser: argparse.ArgumentParser) -> None:
    from signals_ingest.models import RawEvent

    parser.add_argument("--items", type=int, default=DEFAULT_ITEMS, help="vendor payloads to ingest")
    parser.add_argument("--workers", type=int, default=DEFAULT_WORKERS, help="shares ingested side by side")
    parser.add_argument(
        "--threads",
        action="store_true",
        help="ingest each share in a thread of this process (default: a process of its own)",
    )
    parser.add_argument("--batch-size", type=int, default=DEFAULT_BATCH, help="payloads per transaction")
    parser.add_argument(
        "--origin",
        choices=RawEvent.Origin.values,
        default=DEFAULT_ORIGIN,
        help="how the payloads are said to have come in: a pull's rows are expected to clash with stored ones"
        " and skip clashes at once; the others are tried as new first",
    )
    parser.add_argument(
        "--webhook-calls", type=int, default=DEFAULT_WEBHOOK_CALLS, help="signed webhook calls to time"
    )


register(
    "ingest",
    help="Vendor payloads to committed signals, against COPY; webhook latency; memory",
    targets=[
        Target("ratio_to_copy", at_least=0.2),
        Target("webhook_p95_ms", below=100),
        Target("peak_rss_mb", below=500),
    ],
    add_arguments=_arguments,
)(run_ingest)
