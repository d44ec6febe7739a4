"""Vendor payloads in the vendors' own shapes, and ingestion data built through the real services.

The payloads follow the vendors' documented shapes (Jira Cloud webhooks and REST search results, the Slack
Events API and conversations.history, HubSpot CRM v3 objects); the people, projects and deals are made up.
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from typing import Any

from goals.models import KeyResult
from signals_ingest import services
from signals_ingest.models import Integration
from signals_ingest.pipeline import process_raw_events, store_raw_events

SITE = "https://orbit.atlassian.net"
_ids = itertools.count(20001)

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def jira_time(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}+0000"


def epoch_ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def jira_user(account_id: str, name: str, email: str | None = None) -> dict[str, Any]:
    user: dict[str, Any] = {
        "self": f"{SITE}/rest/api/2/user?accountId={account_id}",
        "accountId": account_id,
        "displayName": name,
        "active": True,
        "timeZone": "Europe/Oslo",
        "accountType": "atlassian",
    }
    if email:
        user["emailAddress"] = email
    return user


EINAR = jira_user("5f1e2d3c4b5a69788796a5b4", "Einar Solberg")
FATIMA = jira_user("712020:0b8e7c7e-41d2-4a43-9d3c-55a0c1f9e001", "Fatima Diallo", "fatima@orbit.test")


def jira_fields(
    *,
    summary: str = "Self-serve SSO setup wizard",
    project: str = "ONB",
    status: str = "In Progress",
    status_category: str = "indeterminate",
    labels: list[str] | None = None,
    components: list[str] | None = None,
    epic: str | None = "ONB-1",
    parent: dict[str, Any] | None = None,
    assignee: dict[str, Any] | None = None,
    created: datetime = T0,
    updated: datetime = T0,
    issue_type: str = "Story",
    story_points: float | None = 3,
    issuelinks: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    if parent is None and epic:
        parent = {
            "id": "19000",
            "key": epic,
            "self": f"{SITE}/rest/api/2/issue/19000",
            "fields": {
                "summary": "Onboarding without a call",
                "status": {"name": "In Progress", "id": "3"},
                "issuetype": {"id": "10000", "name": "Epic", "subtask": False, "hierarchyLevel": 1},
            },
        }
    fields: dict[str, Any] = {
        "summary": summary,
        "issuetype": {
            "id": "10001",
            "name": issue_type,
            "subtask": issue_type == "Sub-task",
            "hierarchyLevel": 0,
        },
        "project": {"id": "10010", "key": project, "name": project.title(), "projectTypeKey": "software"},
        "status": {
            "self": f"{SITE}/rest/api/2/status/3",
            "name": status,
            "id": "3",
            "statusCategory": {"id": 4, "key": status_category, "colorName": "yellow", "name": status},
        },
        "priority": {"id": "3", "name": "Medium"},
        "assignee": assignee,
        "reporter": EINAR,
        "creator": EINAR,
        "labels": labels if labels is not None else ["sso"],
        "components": [{"id": "10100", "name": name} for name in (components or ["Identity"])],
        "customfield_10016": story_points,
        "created": jira_time(created),
        "updated": jira_time(updated),
        "resolution": None,
        "issuelinks": issuelinks if issuelinks is not None else [],
        "customfield_10099": {"unused": "vendors add fields all the time"},
    }
    if parent is not None:
        fields["parent"] = parent
    return fields


def jira_issue(issue_id: str = "18001", key: str = "ONB-7", **fields: Any) -> dict[str, Any]:
    return {
        "id": issue_id,
        "self": f"{SITE}/rest/api/2/issue/{issue_id}",
        "key": key,
        "fields": jira_fields(**fields),
    }


def jira_created(issue: dict[str, Any], *, user: dict[str, Any] = EINAR, at: datetime = T0) -> dict[str, Any]:
    return {
        "timestamp": epoch_ms(at),
        "webhookEvent": "jira:issue_created",
        "issue_event_type_name": "issue_created",
        "user": user,
        "issue": issue,
    }


def jira_transition(
    issue: dict[str, Any],
    *,
    history_id: str = "55001",
    to: str = "Done",
    user: dict[str, Any] = EINAR,
    at: datetime = T0,
    extra_items: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    return {
        "timestamp": epoch_ms(at),
        "webhookEvent": "jira:issue_updated",
        "issue_event_type_name": "issue_generic",
        "user": user,
        "issue": issue,
        "changelog": {
            "id": history_id,
            "items": [
                {
                    "field": "status",
                    "fieldtype": "jira",
                    "fieldId": "status",
                    "from": "3",
                    "fromString": "In Progress",
                    "to": "10002",
                    "toString": to,
                },
                {
                    "field": "resolution",
                    "fieldtype": "jira",
                    "fieldId": "resolution",
                    "from": None,
                    "fromString": None,
                    "to": "10000",
                    "toString": "Done",
                },
                *(extra_items or []),
            ],
        },
    }


def jira_comment(
    issue: dict[str, Any],
    *,
    comment_id: str = "70001",
    body: str = "Pairing with Fatima on the metadata upload today.",
    author: dict[str, Any] = EINAR,
    at: datetime = T0,
) -> dict[str, Any]:
    return {
        "timestamp": epoch_ms(at),
        "webhookEvent": "comment_created",
        "user": author,
        "issue": issue,
        "comment": {
            "self": f"{SITE}/rest/api/2/issue/{issue['id']}/comment/{comment_id}",
            "id": comment_id,
            "author": author,
            "body": body,
            "updateAuthor": author,
            "created": jira_time(at),
            "updated": jira_time(at),
            "jsdPublic": True,
        },
    }


def blocked_by_link(blocker_key: str, link_id: str = "31001") -> dict[str, Any]:
    return {
        "id": link_id,
        "self": f"{SITE}/rest/api/2/issueLink/{link_id}",
        "type": {"id": "10000", "name": "Blocks", "inward": "is blocked by", "outward": "blocks"},
        "inwardIssue": {"id": "18500", "key": blocker_key, "fields": {"summary": "Upgrade the IdP library"}},
    }


def slack_envelope(
    *,
    event_id: str = "Ev0SLK0001",
    channel: str = "C0ORBITSSO",
    user: str = "U0FATIMA01",
    ts: str = "1793610000.000100",
    text: str = "SSO wizard is in review, feedback welcome",
    thread_ts: str | None = None,
    channel_type: str = "channel",
    **event_extra: Any,
) -> dict[str, Any]:
    event: dict[str, Any] = {
        "client_msg_id": "9d7c2a40-4c1b-4e1e-9a56-0f3f1e1c0a01",
        "type": "message",
        "text": text,
        "user": user,
        "ts": ts,
        "team": "T0ORBIT001",
        "channel": channel,
        "event_ts": ts,
        "channel_type": channel_type,
        **event_extra,
    }
    if thread_ts:
        event["thread_ts"] = thread_ts
    return {
        "token": "verification-token-unused",
        "team_id": "T0ORBIT001",
        "api_app_id": "A0ORBITAPP",
        "event": event,
        "type": "event_callback",
        "event_id": event_id,
        "event_time": int(float(ts)),
        "authorizations": [{"team_id": "T0ORBIT001", "user_id": "U0BOT00001", "is_bot": True}],
    }


def hubspot_deal(
    *,
    deal_id: str = "4410001",
    pipeline: str = "enterprise",
    stage: str = "appointmentscheduled",
    at: datetime = T0,
    owner: str = "81000001",
    archived: bool = False,
    **properties: Any,
) -> dict[str, Any]:
    iso = at.strftime("%Y-%m-%dT%H:%M:%S.000Z")
    return {
        "object_type": "deals",
        "object": {
            "id": deal_id,
            "properties": {
                "amount": "48000",
                "closedate": "2026-12-20T12:00:00.000Z",
                "createdate": "2026-10-01T08:00:00.000Z",
                "dealname": "Nordlys Energi - enterprise plan",
                "dealstage": stage,
                "hs_lastmodifieddate": iso,
                "hs_object_id": deal_id,
                "hubspot_owner_id": owner,
                "pipeline": pipeline,
                **properties,
            },
            "createdAt": "2026-10-01T08:00:00.000Z",
            "updatedAt": iso,
            "archived": archived,
        },
    }


def hubspot_engagement(
    object_type: str = "calls",
    *,
    object_id: str = "5520001",
    deal_ids: list[str] | None = None,
    at: datetime = T0,
    owner: str = "81000001",
    **properties: Any,
) -> dict[str, Any]:
    iso = at.strftime("%Y-%m-%dT%H:%M:%S.000Z")
    association_type = {"calls": "call_to_deal", "notes": "note_to_deal", "meetings": "meeting_event_to_deal"}
    body: dict[str, Any] = {
        "id": object_id,
        "properties": {
            "hs_createdate": iso,
            "hs_lastmodifieddate": iso,
            "hs_object_id": object_id,
            "hs_timestamp": iso,
            "hubspot_owner_id": owner,
            **properties,
        },
        "createdAt": iso,
        "updatedAt": iso,
        "archived": False,
    }
    if deal_ids:
        body["associations"] = {
            "deals": {
                "results": [
                    {"id": deal_id, "type": association_type.get(object_type, "engagement_to_deal")}
                    for deal_id in deal_ids
                ]
            }
        }
    return {"object_type": object_type, "object": body}


# --- Data through the services ----------------------------------------------------------------------

JIRA_CREDENTIALS = {"email": "bot@orbit.test", "api_token": "ATATT3xFfGF0-jira-secret-token-value"}


def connect(provider: str = "jira", **settings: Any) -> Integration:
    credentials = {
        "jira": JIRA_CREDENTIALS,
        "slack": {
            "bot_token": "xoxb-1-slack-secret-token",
            "signing_secret": "8f14e45fceea167a5a36dedd4bea2543",
        },
        "hubspot": {"access_token": "pat-eu1-hubspot-secret-token"},
    }[provider]
    defaults: dict[str, Any] = {
        "jira": {"site": SITE, "story_points_field": "customfield_10016"},
        "slack": {
            "team_id": "T0ORBIT001",
            "channels": [{"id": "C0ORBITSSO", "name": "sso", "is_private": False}],
        },
        "hubspot": {"portal_id": "24800001"},
    }[provider]
    return services.integration_connect(
        provider=provider, credentials=credentials, settings={**defaults, **settings}
    )


def ingest(integration: Integration, *payloads: dict[str, Any], origin: str = "replay") -> list[int]:
    """Store payloads with keys of their own (as a replay does) and process them."""
    from signals_ingest.normalisers import dedupe_key_for

    ids = store_raw_events(
        integration=integration,
        origin=origin,
        items=[(dedupe_key_for(integration.provider, payload), payload) for payload in payloads],
    )
    process_raw_events(raw_event_ids=ids)
    return ids


def make_ingest_data(world: Any, key_result: KeyResult) -> Integration:
    """One row in every ingestion table for ``world``'s organisation; call inside its context."""
    integration = connect("jira")
    services.mapping_rule_create(integration=integration, match={"project": "ONB"}, key_result=key_result)
    issue = jira_issue(f"{next(_ids)}", "ONB-7", assignee=EINAR)
    store_raw_events(
        integration=integration,
        origin="pull",
        items=[("issue:first", jira_created(issue))],
        cursor=("issues", "2026-11-02T09:00:00Z"),
    )
    from signals_ingest.models import RawEvent

    process_raw_events(raw_event_ids=list(RawEvent.objects.values_list("id", flat=True)))
    return integration
