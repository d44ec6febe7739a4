"""The scenario reader: a valid file becomes typed data; each broken rule is an error naming the path."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from alignment.scenario import (
    AlignmentReview,
    Checkin,
    Cycle,
    HubspotObject,
    JiraWebhook,
    KeyResultAdd,
    KeyResultChange,
    KpiValue,
    KrUpdate,
    ObjectiveAdd,
    ObjectiveChange,
    Pulse,
    ScenarioError,
    SlackEvent,
    cycle_weeks,
    evaluation_instants,
    read_scenario,
    relative_shift_weeks,
    scenario_from_dict,
    shift_weeks,
    week_of,
)

START = datetime(2026, 7, 6, tzinfo=UTC)


def moment(day: int, hour: int, minute: int = 0, second: int = 0, millis: int = 0) -> datetime:
    return START + timedelta(days=day, hours=hour, minutes=minute, seconds=second, milliseconds=millis)


def at(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def hubspot_time(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"


def jira_event(when: datetime, webhook_event: str = "jira:issue_updated") -> dict[str, Any]:
    stamp = when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}+0000"
    payload: dict[str, Any] = {
        "timestamp": int(when.timestamp() * 1000),
        "webhookEvent": webhook_event,
        "user": {"accountId": "acc-eng1", "displayName": "Ben Eng"},
        "issue": {
            "id": "10001",
            "key": "ACT-7",
            "fields": {
                "summary": "Setup checklist",
                "project": {"key": "ACT"},
                "labels": ["activation"],
                "created": "2026-07-01T10:00:00.000+0000",
                "updated": stamp,
                "issuelinks": [],
                "unknownVendorField": {"anything": True},
            },
        },
        "changelog": {
            "id": "1",
            "items": [{"field": "status", "fromString": "To Do", "toString": "In Progress"}],
        },
    }
    if webhook_event == "comment_created":
        payload["comment"] = {"id": "5", "body": "Looks good", "created": stamp, "updated": stamp}
    return {"at": at(when), "kind": "jira_webhook", "payload": payload}


def slack_event(when: datetime, thread: datetime | None = None) -> dict[str, Any]:
    ts = f"{int(when.timestamp())}.{when.microsecond:06d}"
    event: dict[str, Any] = {
        "type": "message",
        "channel": "C0ACTIVATE",
        "user": "U0ENG1",
        "text": "Checklist is on staging",
        "ts": ts,
        "event_ts": ts,
    }
    if thread is not None:
        event["thread_ts"] = f"{int(thread.timestamp())}.{thread.microsecond:06d}"
    payload = {
        "type": "event_callback",
        "team_id": "T0ACME",
        "event_id": "Ev0001",
        "event_time": int(when.timestamp()),
        "event": event,
    }
    return {"at": at(when), "kind": "slack_event", "payload": payload}


def hubspot_deal(when: datetime) -> dict[str, Any]:
    return {
        "at": at(when),
        "kind": "hubspot_object",
        "object_type": "deals",
        "payload": {
            "id": "900",
            "properties": {
                "dealname": "Globex - Enterprise",
                "pipeline": "enterprise",
                "dealstage": "qualifiedtobuy",
                "closedate": hubspot_time(when + timedelta(days=40)),
                "createdate": "2026-06-20T10:00:00.000Z",
                "hs_lastmodifieddate": hubspot_time(when),
            },
            "createdAt": "2026-06-20T10:00:00.000Z",
            "updatedAt": hubspot_time(when),
            "archived": False,
        },
    }


def hubspot_note(when: datetime) -> dict[str, Any]:
    return {
        "at": at(when),
        "kind": "hubspot_object",
        "object_type": "notes",
        "payload": {
            "id": "901",
            "properties": {
                "hs_note_body": "<p>Call went well</p>",
                "hs_timestamp": hubspot_time(when),
                "hs_createdate": hubspot_time(when),
            },
            "createdAt": hubspot_time(when),
            "updatedAt": hubspot_time(when),
            "archived": False,
            "associations": {"deals": {"results": [{"id": "900", "type": "note_to_deal"}]}},
        },
    }


def valid() -> dict[str, Any]:
    """A small scenario using every part of the format once."""
    return {
        "format": "okrsignal-scenario/1",
        "name": "tiny",
        "description": "Every kind of thing once.",
        "organization": {"name": "Acme Cloud", "slug": "acme", "time_zone": "Europe/Berlin"},
        "cycle": {"name": "2026-Q3", "start": "2026-07-06", "end": "2026-10-04"},
        "teams": [
            {"key": "exec", "name": "Leadership", "parent": None, "lead": "ceo"},
            {"key": "product", "name": "Product", "parent": "exec", "lead": "pm1"},
        ],
        "people": [
            {
                "key": "ceo",
                "name": "Ada Chief",
                "email": "ada@acme.test",
                "role": "admin",
                "team": "exec",
                "manager": None,
                "identities": {"slack": "U0CEO", "hubspot": "301"},
            },
            {
                "key": "pm1",
                "name": "Pia Product",
                "email": "pia@acme.test",
                "role": "manager",
                "team": "product",
                "manager": "ceo",
                "identities": {"jira": "acc-pm1", "slack": "U0PM1", "github": "ignored"},
            },
            {
                "key": "eng1",
                "name": "Ben Eng",
                "email": "ben@acme.test",
                "role": "employee",
                "team": "product",
                "manager": "pm1",
                "identities": {"jira": "acc-eng1", "slack": "U0ENG1"},
            },
            {
                "key": "eng2",
                "name": "Cai Eng",
                "email": "cai@acme.test",
                "role": "employee",
                "team": "product",
                "manager": "pm1",
            },
        ],
        "objectives": [
            {
                "key": "O-CO",
                "title": "Win enterprise",
                "level": "company",
                "team": None,
                "owner": "ceo",
                "parent": None,
                "key_results": [
                    {
                        "key": "KR-CO-1",
                        "title": "ARR from 1 to 2",
                        "owner": "ceo",
                        "unit": "EUR M",
                        "baseline": 1,
                        "target": 2,
                        "direction": "increase",
                    },
                ],
            },
            {
                "key": "O-ACT",
                "title": "Onboarding",
                "description": "Fast setup",
                "level": "team",
                "team": "product",
                "owner": "pm1",
                "parent": "O-CO",
                "type": "aspirational",
                "key_results": [
                    {
                        "key": "KR-ACT-1",
                        "title": "Activation from 40% to 46%",
                        "owner": "pm1",
                        "unit": "%",
                        "baseline": 40,
                        "target": 46,
                        "direction": "increase",
                        "contributors": ["eng1"],
                        "parent_key_result": "KR-CO-1",
                    },
                ],
            },
        ],
        "kpis": [
            {
                "key": "K-ERR",
                "name": "Error rate",
                "unit": "%",
                "direction": "decrease",
                "green": 0.1,
                "red": 0.25,
                "owner": "pm1",
                "team": "product",
                "objectives": ["O-ACT"],
            },
        ],
        "integrations": [
            {
                "source": "jira",
                "settings": {"story_points_field": "customfield_10016"},
                "mappings": [
                    {"match": {"label": "activation"}, "key_result": "KR-ACT-1"},
                    {"match": {"epic": "ACT-1"}, "key_result": "KR-LATE-1"},
                ],
            },
            {"source": "slack", "mappings": [{"match": {"channel": "C0ACTIVATE"}, "key_result": "KR-ACT-1"}]},
            {
                "source": "hubspot",
                "settings": {"portal_id": "42"},
                "mappings": [
                    {"match": {"pipeline": "enterprise", "dealstage": "closedwon"}, "key_result": "KR-CO-1"}
                ],
            },
        ],
        "events": [
            jira_event(moment(1, 9, 30, 5, 706)),
            slack_event(moment(1, 10, 0, 1, 250)),
            hubspot_deal(moment(1, 11)),
            hubspot_note(moment(1, 12, 15, 3, 999)),
            {
                "at": at(moment(2, 9)),
                "kind": "kr_update",
                "key_result": "KR-ACT-1",
                "value": 41,
                "by": "pm1",
                "confidence": 0.7,
                "note": "Steady",
            },
            {
                "at": at(moment(2, 10)),
                "kind": "kpi_value",
                "kpi": "K-ERR",
                "value": 0.08,
                "objective": "O-ACT",
            },
            {
                "at": at(moment(3, 16)),
                "kind": "checkin",
                "person": "eng1",
                "priorities": [{"text": "Checklist", "key_result": "KR-ACT-1"}, {"text": "Bugs"}],
                "updates": [{"key_result": "KR-ACT-1", "status": "on_track", "value": 41}],
                "blockers": ["Flaky CI", "Staging down"],
                "next_week": "More checklist",
            },
            {
                "at": at(moment(8, 9)),
                "kind": "objective_change",
                "objective": "O-CO",
                "by": "ceo",
                "changes": {"title": "Win enterprise and mid-market", "parent": None},
            },
            {
                "at": at(moment(8, 10)),
                "kind": "key_result_change",
                "key_result": "KR-ACT-1",
                "by": "pm1",
                "changes": {"target": 47, "contributors": ["eng1", "eng2"]},
            },
            {"at": at(moment(9, 9)), "kind": "alignment_review", "objective": "O-ACT", "by": "pm1"},
            {
                "at": at(moment(15, 9)),
                "kind": "objective_add",
                "by": "pm1",
                "objective": {
                    "key": "O-LATE",
                    "title": "Late idea",
                    "level": "team",
                    "team": "product",
                    "owner": "pm1",
                    "parent": None,
                    "key_results": [
                        {
                            "key": "KR-LATE-1",
                            "title": "Things from 0 to 5",
                            "owner": "eng1",
                            "unit": "things",
                            "baseline": 0,
                            "target": 5,
                            "direction": "increase",
                        }
                    ],
                },
            },
            {
                "at": at(moment(16, 9)),
                "kind": "key_result_add",
                "objective": "O-ACT",
                "by": "pm1",
                "key_result": {
                    "key": "KR-ACT-2",
                    "title": "Days to value from 9 to 5",
                    "owner": "eng1",
                    "unit": "days",
                    "baseline": 9,
                    "target": 5,
                    "direction": "decrease",
                },
            },
            {
                "at": at(moment(17, 9)),
                "kind": "kr_update",
                "key_result": "KR-ACT-2",
                "value": 8,
                "by": "eng1",
            },
            {
                "at": at(moment(20, 9)),
                "kind": "pulse",
                "person": "eng2",
                "question": "line_of_sight",
                "score": 4,
            },
        ],
        "expect": {
            "findings": [
                {"kind": "priority_shift", "subject": "KR-ACT-1", "onset_week": 5, "tolerance_weeks": 1},
                {"kind": "cascade_break", "subject": "O-LATE", "onset_week": 3},
            ],
            "quiet": ["KR-CO-1", "O-CO", "KR-ACT-2"],
            "contributions": [{"person": "eng2", "key_result": "KR-CO-1"}],
        },
    }


# --- a valid file ---------------------------------------------------------------------------------------


def test_a_valid_scenario_becomes_typed_data(tmp_path: Path) -> None:
    path = tmp_path / "tiny.json"
    path.write_text(json.dumps(valid()))

    scenario = read_scenario(path)

    assert scenario.name == "tiny"
    assert scenario.file == str(path)
    assert scenario.organization.time_zone == "Europe/Berlin"
    assert scenario.cycle == Cycle(name="2026-Q3", start=date(2026, 7, 6), end=date(2026, 10, 4))
    assert [team.key for team in scenario.teams] == ["exec", "product"]
    assert scenario.people[1].identities == {"jira": "acc-pm1", "slack": "U0PM1"}
    assert scenario.people[3].identities == {}
    company, team = scenario.objectives
    assert company.type == "committed"
    assert team.type == "aspirational"
    assert team.key_results[0].objective == "O-ACT"
    assert team.key_results[0].contributors == ("eng1",)
    assert team.key_results[0].parent_key_result == "KR-CO-1"
    assert scenario.kpis[0].objectives == ("O-ACT",)
    assert scenario.integrations[2].mappings[0].match == {"pipeline": "enterprise", "dealstage": "closedwon"}
    kinds = [type(event) for event in scenario.events]
    assert kinds == [
        JiraWebhook,
        SlackEvent,
        HubspotObject,
        HubspotObject,
        KrUpdate,
        KpiValue,
        Checkin,
        ObjectiveChange,
        KeyResultChange,
        AlignmentReview,
        ObjectiveAdd,
        KeyResultAdd,
        KrUpdate,
        Pulse,
    ]
    assert [event.index for event in scenario.events] == list(range(14))
    assert scenario.events[0].at == datetime(2026, 7, 7, 9, 30, 5, tzinfo=UTC)
    assert scenario.events[0].kind == "jira_webhook"
    jira = scenario.events[0]
    assert isinstance(jira, JiraWebhook)
    assert jira.issue_key == "ACT-7"
    assert jira.payload["issue"]["fields"]["unknownVendorField"] == {"anything": True}
    checkin = scenario.events[6]
    assert isinstance(checkin, Checkin)
    assert checkin.updates[0].status == "on_track"
    assert checkin.blockers == "Flaky CI\nStaging down"
    change = scenario.events[8]
    assert isinstance(change, KeyResultChange)
    assert change.changes == {"target": 47, "contributors": ("eng1", "eng2")}
    assert {kr.key for kr in scenario.all_key_results()} == {"KR-CO-1", "KR-ACT-1", "KR-LATE-1", "KR-ACT-2"}
    assert [o.key for o in scenario.all_objectives()] == ["O-CO", "O-ACT", "O-LATE"]
    assert scenario.expect.findings[1].tolerance_weeks == 1
    assert scenario.expect.quiet == ("KR-CO-1", "O-CO", "KR-ACT-2")
    assert scenario.expect.contributions[0].person == "eng2"


def test_optional_parts_may_be_left_out() -> None:
    data = valid()
    for name in ("description", "teams", "kpis", "integrations", "expect"):
        del data[name]
    for item in [*data["people"], *data["objectives"]]:
        item["team"] = None
    data["organization"].pop("time_zone")
    data["events"] = []

    scenario = scenario_from_dict(data)

    assert scenario.organization.time_zone == "UTC"
    assert scenario.expect.findings == ()


def test_a_hubspot_engagement_may_match_on_hs_timestamp() -> None:
    data = valid()
    note = data["events"][3]["payload"]
    note["updatedAt"] = "2026-07-20T08:00:00.000Z"  # edited later; the engagement's own time still matches

    scenario_from_dict(data)


def test_a_file_that_is_not_json_is_named_with_its_position(tmp_path: Path) -> None:
    path = tmp_path / "broken.json"
    path.write_text('{"format": "okrsignal-scenario/1",\n "name": }')

    with pytest.raises(ScenarioError) as caught:
        read_scenario(path)

    assert str(caught.value).startswith(f"{path}: $: is not valid JSON")
    assert "line 2" in str(caught.value)


def test_a_missing_file_is_a_scenario_error(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match="cannot be read"):
        read_scenario(tmp_path / "nowhere.json")


# --- each rule, broken once -------------------------------------------------------------------------------

Mutation = Callable[[dict[str, Any]], None]


def event(data: dict[str, Any], kind: str, occurrence: int = 0) -> dict[str, Any]:
    return [e for e in data["events"] if e["kind"] == kind][occurrence]


def set_path(*keys: Any, value: Any) -> Mutation:
    def mutate(data: dict[str, Any]) -> None:
        target = data
        for key in keys[:-1]:
            target = target[key]
        target[keys[-1]] = value

    return mutate


def delete_path(*keys: Any) -> Mutation:
    def mutate(data: dict[str, Any]) -> None:
        target = data
        for key in keys[:-1]:
            target = target[key]
        del target[keys[-1]]

    return mutate


def shift_vendor_time(index: int, field: str) -> Mutation:
    def mutate(data: dict[str, Any]) -> None:
        payload = data["events"][index]["payload"]
        if field == "timestamp":
            payload["timestamp"] += 5000
        elif field == "ts":
            seconds, fraction = payload["event"]["ts"].split(".")
            payload["event"]["ts"] = f"{int(seconds) - 3}.{fraction}"
        else:
            payload[field] = "2026-07-07T12:20:00.000Z"
            payload["properties"]["hs_timestamp"] = "2026-07-07T12:20:00.000Z"

    return mutate


def swap_events(first: int, second: int) -> Mutation:
    def mutate(data: dict[str, Any]) -> None:
        events = data["events"]
        events[first], events[second] = events[second], events[first]

    return mutate


def update_before_key_result_added(data: dict[str, Any]) -> None:
    data["events"][4]["key_result"] = "KR-ACT-2"


def team_parent_loop(data: dict[str, Any]) -> None:
    data["teams"][0]["parent"] = "product"


MUTATIONS: list[tuple[str, Mutation, str, str]] = [
    # (name, mutation, JSON path the message names, words of the problem)
    ("unknown top-level field", set_path("owners", value=[]), "$.owners", "unknown top-level field"),
    (
        "wrong format",
        set_path("format", value="okrsignal-scenario/2"),
        "$.format",
        "not the supported format",
    ),
    ("missing people", delete_path("people"), "$.people", "is required"),
    ("bad slug", set_path("organization", "slug", value="acme corp"), "$.organization.slug", "not a slug"),
    (
        "bad time zone",
        set_path("organization", "time_zone", value="Mars/Olympus"),
        "$.organization.time_zone",
        "IANA",
    ),
    ("bad cycle date", set_path("cycle", "start", value="06/07/2026"), "$.cycle.start", "YYYY-MM-DD"),
    ("impossible date", set_path("cycle", "end", value="2026-02-30"), "$.cycle.end", "not a real date"),
    (
        "cycle ends before it starts",
        set_path("cycle", "end", value="2026-07-01"),
        "$.cycle.end",
        "before the start",
    ),
    (
        "duplicate team key",
        set_path("teams", 1, "key", value="exec"),
        "$.teams[1].key",
        "already used at $.teams[0]",
    ),
    (
        "objective key reused by a KR",
        set_path("objectives", 1, "key_results", 0, "key", value="O-CO"),
        "$.objectives[1].key_results[0].key",
        "unique across both",
    ),
    (
        "team parent unknown",
        set_path("teams", 1, "parent", value="sales"),
        "$.teams[1].parent",
        'unknown team "sales"',
    ),
    ("team lead unknown", set_path("teams", 0, "lead", value="nobody"), "$.teams[0].lead", "unknown person"),
    ("team parents loop", team_parent_loop, "$.teams", "loop"),
    ("person team unknown", set_path("people", 2, "team", value="sales"), "$.people[2].team", "unknown team"),
    (
        "person manager unknown",
        set_path("people", 2, "manager", value="boss"),
        "$.people[2].manager",
        "unknown person",
    ),
    (
        "bad role",
        set_path("people", 2, "role", value="owner"),
        "$.people[2].role",
        "admin, manager, employee",
    ),
    ("bad e-mail", set_path("people", 2, "email", value="ben at acme"), "$.people[2].email", "not an e-mail"),
    (
        "duplicate e-mail",
        set_path("people", 2, "email", value="PIA@acme.test"),
        "$.people[2].email",
        "also the e-mail of $.people[1]",
    ),
    (
        "duplicate identity",
        set_path("people", 2, "identities", "slack", value="U0PM1"),
        "$.people[2].identities.slack",
        "also the slack identity",
    ),
    (
        "objective owner unknown",
        set_path("objectives", 1, "owner", value="ghost"),
        "$.objectives[1].owner",
        "unknown person",
    ),
    (
        "objective team unknown",
        set_path("objectives", 1, "team", value="ghosts"),
        "$.objectives[1].team",
        "unknown team",
    ),
    (
        "objective parent unknown",
        set_path("objectives", 1, "parent", value="O-NONE"),
        "$.objectives[1].parent",
        "unknown objective",
    ),
    (
        "bad level",
        set_path("objectives", 1, "level", value="department"),
        "$.objectives[1].level",
        "company, team, individual",
    ),
    (
        "bad objective type",
        set_path("objectives", 1, "type", value="stretch"),
        "$.objectives[1].type",
        "committed, aspirational",
    ),
    (
        "KR owner unknown",
        set_path("objectives", 1, "key_results", 0, "owner", value="ghost"),
        "$.objectives[1].key_results[0].owner",
        "unknown person",
    ),
    (
        "KR contributor unknown",
        set_path("objectives", 1, "key_results", 0, "contributors", value=["eng1", "x"]),
        "$.objectives[1].key_results[0].contributors[1]",
        "unknown person",
    ),
    (
        "KR parent unknown",
        set_path("objectives", 1, "key_results", 0, "parent_key_result", value="KR-X"),
        "$.objectives[1].key_results[0].parent_key_result",
        "unknown key result",
    ),
    (
        "bad KR direction",
        set_path("objectives", 1, "key_results", 0, "direction", value="up"),
        "$.objectives[1].key_results[0].direction",
        "increase, decrease",
    ),
    (
        "KR target not a number",
        set_path("objectives", 1, "key_results", 0, "target", value="46%"),
        "$.objectives[1].key_results[0].target",
        "must be a number",
    ),
    ("KPI owner unknown", set_path("kpis", 0, "owner", value="ghost"), "$.kpis[0].owner", "unknown person"),
    ("KPI team unknown", set_path("kpis", 0, "team", value="ghosts"), "$.kpis[0].team", "unknown team"),
    (
        "KPI objective unknown",
        set_path("kpis", 0, "objectives", value=["O-NONE"]),
        "$.kpis[0].objectives[0]",
        "unknown objective",
    ),
    (
        "bad KPI direction",
        set_path("kpis", 0, "direction", value="lower"),
        "$.kpis[0].direction",
        "increase, decrease",
    ),
    (
        "KPI thresholds the wrong way",
        set_path("kpis", 0, "green", value=0.5),
        "$.kpis[0].green",
        "at or below the red one",
    ),
    (
        "bad source",
        set_path("integrations", 0, "source", value="github"),
        "$.integrations[0].source",
        "jira, slack, hubspot",
    ),
    (
        "match key of another source",
        set_path("integrations", 1, "mappings", 0, "match", value={"label": "x"}),
        "$.integrations[1].mappings[0].match.label",
        "not a slack match key",
    ),
    (
        "mapping to an unknown KR",
        set_path("integrations", 0, "mappings", 0, "key_result", value="KR-NONE"),
        "$.integrations[0].mappings[0].key_result",
        "unknown key result",
    ),
    ("bad event kind", set_path("events", 4, "kind", value="kr_progress"), "$.events[4].kind", "kr_update"),
    (
        "timestamp without a zone",
        set_path("events", 4, "at", value="2026-07-08T09:00:00"),
        "$.events[4].at",
        "ISO 8601 UTC",
    ),
    (
        "timestamp not in UTC",
        set_path("events", 4, "at", value="2026-07-08T11:00:00+02:00"),
        "$.events[4].at",
        "ISO 8601 UTC",
    ),
    (
        "timestamp that is no moment",
        set_path("events", 4, "at", value="2026-07-08T25:00:00Z"),
        "$.events[4].at",
        "not a real moment",
    ),
    ("events out of order", swap_events(4, 5), "$.events[5].at", "sorted by at"),
    (
        "event before the cycle",
        set_path("events", 0, "at", value="2026-07-05T23:59:59Z"),
        "$.events[0].at",
        "outside the cycle",
    ),
    (
        "event after the cycle",
        set_path("events", 13, "at", value="2026-10-05T00:00:00Z"),
        "$.events[13].at",
        "outside the cycle",
    ),
    (
        "jira without webhookEvent",
        delete_path("events", 0, "payload", "webhookEvent"),
        "$.events[0].payload.webhookEvent",
        "is required",
    ),
    (
        "jira with another webhookEvent",
        set_path("events", 0, "payload", "webhookEvent", value="jira:issue_deleted"),
        "$.events[0].payload.webhookEvent",
        "comment_created",
    ),
    (
        "jira timestamp not milliseconds",
        set_path("events", 0, "payload", "timestamp", value="1783416605706"),
        "$.events[0].payload.timestamp",
        "whole number",
    ),
    (
        "jira without issue key",
        delete_path("events", 0, "payload", "issue", "key"),
        "$.events[0].payload.issue.key",
        "is required",
    ),
    (
        "jira at does not match timestamp",
        shift_vendor_time(0, "timestamp"),
        "$.events[0].at",
        "payload.timestamp",
    ),
    (
        "slack without event_id",
        delete_path("events", 1, "payload", "event_id"),
        "$.events[1].payload.event_id",
        "is required",
    ),
    (
        "slack without ts",
        delete_path("events", 1, "payload", "event", "ts"),
        "$.events[1].payload.event.ts",
        "is required",
    ),
    (
        "slack without channel",
        delete_path("events", 1, "payload", "event", "channel"),
        "$.events[1].payload.event.channel",
        "is required",
    ),
    (
        "slack ts that is no timestamp",
        set_path("events", 1, "payload", "event", "ts", value="yesterday"),
        "$.events[1].payload.event.ts",
        "not a Slack timestamp",
    ),
    ("slack at does not match ts", shift_vendor_time(1, "ts"), "$.events[1].at", "payload.event.ts"),
    (
        "bad hubspot object type",
        set_path("events", 2, "object_type", value="companies"),
        "$.events[2].object_type",
        "deals, notes",
    ),
    (
        "hubspot without id",
        delete_path("events", 2, "payload", "id"),
        "$.events[2].payload.id",
        "is required",
    ),
    (
        "hubspot without properties",
        delete_path("events", 2, "payload", "properties"),
        "$.events[2].payload.properties",
        "is required",
    ),
    (
        "hubspot without updatedAt",
        delete_path("events", 2, "payload", "updatedAt"),
        "$.events[2].payload.updatedAt",
        "is required",
    ),
    (
        "deal without pipeline",
        delete_path("events", 2, "payload", "properties", "pipeline"),
        "$.events[2].payload.properties.pipeline",
        "is required",
    ),
    ("hubspot at matches neither time", shift_vendor_time(3, "updatedAt"), "$.events[3].at", "updatedAt"),
    (
        "KR update for an unknown KR",
        set_path("events", 4, "key_result", value="KR-NONE"),
        "$.events[4].key_result",
        "unknown key result",
    ),
    (
        "KR update by an unknown person",
        set_path("events", 4, "by", value="ghost"),
        "$.events[4].by",
        "unknown person",
    ),
    (
        "confidence above one",
        set_path("events", 4, "confidence", value=70),
        "$.events[4].confidence",
        "between 0 and 1",
    ),
    (
        "KR update before the KR is added",
        update_before_key_result_added,
        "$.events[4].key_result",
        "before it is added at $.events[11]",
    ),
    (
        "KPI value for an unknown KPI",
        set_path("events", 5, "kpi", value="K-NONE"),
        "$.events[5].kpi",
        "unknown KPI",
    ),
    (
        "KPI value tagged to an unknown objective",
        set_path("events", 5, "objective", value="O-NONE"),
        "$.events[5].objective",
        "unknown objective",
    ),
    (
        "check-in by an unknown person",
        set_path("events", 6, "person", value="ghost"),
        "$.events[6].person",
        "unknown person",
    ),
    (
        "check-in priority for an unknown KR",
        set_path("events", 6, "priorities", 0, "key_result", value="KR-X"),
        "$.events[6].priorities[0].key_result",
        "unknown key result",
    ),
    (
        "bad check-in status",
        set_path("events", 6, "updates", 0, "status", value="green"),
        "$.events[6].updates[0].status",
        "on_track, at_risk, blocked",
    ),
    (
        "objective change of an unknown objective",
        set_path("events", 7, "objective", value="O-NONE"),
        "$.events[7].objective",
        "unknown objective",
    ),
    (
        "objective change of an unchangeable field",
        set_path("events", 7, "changes", value={"level": "team"}),
        "$.events[7].changes.level",
        "cannot be changed",
    ),
    (
        "objective change to an unknown parent",
        set_path("events", 7, "changes", value={"parent": "O-NONE"}),
        "$.events[7].changes.parent",
        "unknown objective",
    ),
    (
        "objective change that makes a loop",
        set_path("events", 7, "changes", value={"parent": "O-ACT"}),
        "$.events[7].changes.parent",
        "loop",
    ),
    (
        "KR change to an unknown owner",
        set_path("events", 8, "changes", value={"owner": "ghost"}),
        "$.events[8].changes.owner",
        "unknown person",
    ),
    (
        "alignment review of an unknown objective",
        set_path("events", 9, "objective", value="O-NONE"),
        "$.events[9].objective",
        "unknown objective",
    ),
    (
        "added objective with an unknown parent",
        set_path("events", 10, "objective", "parent", value="O-NONE"),
        "$.events[10].objective.parent",
        "unknown objective",
    ),
    (
        "added KR with a key already used",
        set_path("events", 11, "key_result", "key", value="KR-CO-1"),
        "$.events[11].key_result.key",
        "already used at $.objectives[0].key_results[0]",
    ),
    (
        "bad pulse question",
        set_path("events", 13, "question", value="happiness"),
        "$.events[13].question",
        "line_of_sight",
    ),
    (
        "pulse score too high",
        set_path("events", 13, "score", value=6),
        "$.events[13].score",
        "between 1 and 5",
    ),
    (
        "pulse score too low",
        set_path("events", 13, "score", value=0),
        "$.events[13].score",
        "between 1 and 5",
    ),
    (
        "bad finding kind",
        set_path("expect", "findings", 0, "kind", value="drift"),
        "$.expect.findings[0].kind",
        "priority_shift",
    ),
    (
        "finding subject unknown",
        set_path("expect", "findings", 0, "subject", value="KR-NONE"),
        "$.expect.findings[0].subject",
        "unknown key result or objective",
    ),
    (
        "objective finding about a KR",
        set_path("expect", "findings", 1, "subject", value="KR-ACT-1"),
        "$.expect.findings[1].subject",
        "unknown objective",
    ),
    (
        "onset outside the cycle",
        set_path("expect", "findings", 0, "onset_week", value=14),
        "$.expect.findings[0].onset_week",
        "1..13",
    ),
    ("quiet subject unknown", set_path("expect", "quiet", value=["O-NONE"]), "$.expect.quiet[0]", "unknown"),
    (
        "quiet subject also expected",
        set_path("expect", "quiet", value=["KR-ACT-1"]),
        "$.expect.quiet[0]",
        "also has an expected finding",
    ),
    (
        "contribution by an unknown person",
        set_path("expect", "contributions", 0, "person", value="ghost"),
        "$.expect.contributions[0].person",
        "unknown person",
    ),
    (
        "contribution to an unknown KR",
        set_path("expect", "contributions", 0, "key_result", value="KR-NONE"),
        "$.expect.contributions[0].key_result",
        "unknown key result",
    ),
    (
        "contribution by the KR's own contributor",
        set_path("expect", "contributions", 0, "key_result", value="KR-ACT-1"),
        "$.expect.contributions[0]",
        "already credited",
    ),
]


@pytest.mark.parametrize(
    ("mutation", "json_path", "problem"),
    [pytest.param(mutation, path, problem, id=name) for name, mutation, path, problem in MUTATIONS],
)
def test_a_broken_rule_names_the_file_the_path_and_the_problem(
    tmp_path: Path, mutation: Mutation, json_path: str, problem: str
) -> None:
    data = valid()
    mutation(data)
    path = tmp_path / "broken-scenario.json"
    path.write_text(json.dumps(data))

    with pytest.raises(ScenarioError) as caught:
        read_scenario(path)

    error = caught.value
    assert error.file == str(path)
    assert error.json_path == json_path
    assert problem in error.problem
    assert str(error) == f"{path}: {json_path}: {error.problem}"


# --- scoring weeks ----------------------------------------------------------------------------------------


def test_a_thirteen_week_quarter_has_thirteen_scored_weeks() -> None:
    cycle = Cycle(name="Q", start=date(2026, 7, 6), end=date(2026, 10, 4))

    assert cycle_weeks(cycle) == 13
    assert evaluation_instants(cycle)[0] == datetime(2026, 7, 13, tzinfo=UTC)
    assert evaluation_instants(cycle)[-1] == datetime(2026, 10, 5, tzinfo=UTC)


def test_a_partial_last_week_is_still_a_week() -> None:
    assert cycle_weeks(Cycle(name="Q", start=date(2026, 7, 6), end=date(2026, 10, 5))) == 14
    assert cycle_weeks(Cycle(name="Q", start=date(2026, 7, 6), end=date(2026, 7, 6))) == 1


def test_weeks_start_at_midnight_utc_on_the_cycle_weekday() -> None:
    cycle = Cycle(name="Q", start=date(2026, 7, 6), end=date(2026, 10, 4))

    assert week_of(cycle, datetime(2026, 7, 6, tzinfo=UTC)) == 1
    assert week_of(cycle, datetime(2026, 7, 12, 23, 59, 59, tzinfo=UTC)) == 1
    assert week_of(cycle, datetime(2026, 7, 13, tzinfo=UTC)) == 2
    assert week_of(cycle, datetime(2026, 10, 4, 23, tzinfo=UTC)) == 13
    assert week_of(cycle, datetime(2026, 7, 5, 23, tzinfo=UTC)) == 0
    with pytest.raises(ValueError, match="aware"):
        week_of(cycle, datetime(2026, 7, 6))


# --- moving a scenario in time ----------------------------------------------------------------------------


def test_shifting_moves_every_time_and_keeps_each_vendor_notation() -> None:
    original = valid()
    before = copy.deepcopy(original)

    shifted = shift_weeks(original, 3)

    assert original == before  # the input is left alone
    assert shifted["cycle"] == {"name": "2026-Q3", "start": "2026-07-27", "end": "2026-10-25"}
    assert shifted["events"][4]["at"] == "2026-07-29T09:00:00Z"
    three_weeks = 3 * 7 * 24 * 3600
    jira = shifted["events"][0]["payload"]
    assert jira["timestamp"] == before["events"][0]["payload"]["timestamp"] + three_weeks * 1000
    assert jira["issue"]["fields"]["created"] == "2026-07-22T10:00:00.000+0000"
    assert jira["issue"]["fields"]["updated"] == "2026-07-28T09:30:05.706+0000"
    slack = shifted["events"][1]["payload"]
    assert slack["event"]["ts"] == f"{1783418401 + three_weeks}.250000"
    assert slack["event"]["event_ts"] == slack["event"]["ts"]
    assert slack["event_time"] == 1783418401 + three_weeks
    deal = shifted["events"][2]["payload"]
    assert deal["createdAt"] == "2026-07-11T10:00:00.000Z"
    assert deal["updatedAt"] == "2026-07-28T11:00:00.000Z"
    assert deal["properties"]["closedate"] == "2026-09-06T11:00:00.000Z"
    assert deal["properties"]["hs_lastmodifieddate"] == "2026-07-28T11:00:00.000Z"
    assert deal["properties"]["dealname"] == "Globex - Enterprise"
    note = shifted["events"][3]["payload"]["properties"]
    assert note["hs_timestamp"] == note["hs_createdate"] == "2026-07-28T12:15:03.999Z"
    scenario_from_dict(shifted)  # still a valid scenario, vendor times and all


def test_shifting_moves_thread_timestamps_and_comment_times() -> None:
    data = valid()
    data["events"][0] = jira_event(moment(1, 9, 30, 5, 706), webhook_event="comment_created")
    data["events"][1] = slack_event(moment(1, 10, 0, 1, 250), thread=moment(1, 9, 0, 0, 1))

    shifted = shift_weeks(data, -1)

    assert shifted["events"][0]["payload"]["comment"]["created"] == "2026-06-30T09:30:05.706+0000"
    thread_ts = shifted["events"][1]["payload"]["event"]["thread_ts"]
    assert thread_ts == f"{int(moment(1, 9).timestamp()) - 7 * 24 * 3600}.001000"


def test_relative_shift_puts_the_last_event_in_the_current_week() -> None:
    scenario = scenario_from_dict(valid())  # last event on 2026-07-26, in week 3
    now = datetime(2026, 11, 19, 15, tzinfo=UTC)

    weeks = relative_shift_weeks(scenario, now)
    shifted = scenario_from_dict(shift_weeks(valid(), weeks))

    last_week_start = datetime.combine(shifted.cycle.start, datetime.min.time(), tzinfo=UTC) + timedelta(
        weeks=2
    )
    assert last_week_start <= now < last_week_start + timedelta(weeks=1)
    assert week_of(shifted.cycle, shifted.events[-1].at) == 3
