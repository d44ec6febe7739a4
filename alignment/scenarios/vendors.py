"""Vendor payloads in the vendors' own shapes, for generated scenarios.

Jira Cloud webhook bodies (``jira:issue_created``, ``jira:issue_updated`` with changelog items,
``comment_created``), Slack Events API envelopes for channel messages and thread replies, and HubSpot CRM
v3 objects (deals, and notes, calls, meetings, e-mails and tasks associated with deals) as
``GET /crm/v3/objects/{type}/{id}?associations=deals`` returns them. Each builder returns a scenario
event whose ``at`` is the vendor's own time cut to whole seconds, as the scenario format requires.

Ids come from counters and a seeded random generator, so the same story always yields the same bytes.
"""

from __future__ import annotations

import random
import string
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any


def scenario_at(moment: datetime) -> str:
    """A scenario ``at``: the moment in UTC, whole seconds, ``Z``."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _millis(moment: datetime) -> int:
    return (moment - _EPOCH) // timedelta(milliseconds=1)


def _seconds(moment: datetime) -> int:
    return (moment - _EPOCH) // timedelta(seconds=1)


def _jira_time(moment: datetime) -> str:
    """Jira's own notation: ``2026-07-06T12:37:37.706+0000``."""
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}+0000"


def hubspot_time(moment: datetime) -> str:
    """HubSpot's notation: ``2026-07-06T14:21:47.208Z``."""
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _slack_ts(moment: datetime) -> str:
    return f"{_seconds(moment)}.{moment.microsecond:06d}"


def random_id(rng: random.Random, prefix: str, length: int) -> str:
    alphabet = string.ascii_uppercase + string.digits
    return prefix + "".join(rng.choice(alphabet) for _ in range(length))


# --- Jira ---------------------------------------------------------------------------------------------

STATUSES: dict[str, tuple[str, str, int, str, str]] = {
    # name: (id, category key, category id, category colour, category name)
    "To Do": ("10000", "new", 2, "blue-gray", "To Do"),
    "In Progress": ("3", "indeterminate", 4, "yellow", "In Progress"),
    "In Review": ("10003", "indeterminate", 4, "yellow", "In Progress"),
    "Done": ("10001", "done", 3, "green", "Done"),
}
ISSUE_TYPES: dict[str, tuple[str, int]] = {
    "Epic": ("10000", 1),
    "Story": ("10001", 0),
    "Task": ("10002", 0),
    "Bug": ("10004", 0),
}
PRIORITIES: dict[str, str] = {"Highest": "1", "High": "2", "Medium": "3", "Low": "4"}
LINK_TYPES: dict[str, tuple[str, str, str]] = {
    # name: (id, inward, outward)
    "Blocks": ("10000", "is blocked by", "blocks"),
    "Relates": ("10003", "relates to", "relates to"),
}


@dataclass
class JiraUser:
    account_id: str
    display_name: str
    time_zone: str


@dataclass
class IssueLink:
    id: str
    type: str
    other: Issue
    # "inward": this issue <inward phrase> other ("is blocked by"); "outward": this issue <outward> other
    direction: str


@dataclass
class Issue:
    id: str
    key: str
    project: str
    summary: str
    issue_type: str
    priority: str
    reporter: JiraUser
    created: datetime
    updated: datetime
    status: str = "To Do"
    assignee: JiraUser | None = None
    labels: list[str] = field(default_factory=list)
    components: list[str] = field(default_factory=list)
    points: int | None = None
    epic: Issue | None = None
    resolved: datetime | None = None
    links: list[IssueLink] = field(default_factory=list)
    # a held issue moves only when the story says so (a blocked issue, a neglected blocker)
    held: bool = False


class JiraSite:
    def __init__(self, rng: random.Random, site: str, story_points_field: str = "customfield_10016") -> None:
        self.rng = rng
        self.site = site
        self.story_points_field = story_points_field
        self.projects: dict[str, tuple[str, str]] = {}  # key -> (id, name)
        self.components: dict[str, str] = {}
        self.next_number: dict[str, int] = {}
        self.issue_id = 14000 + rng.randrange(900)
        self.comment_id = 17000 + rng.randrange(900)
        self.changelog_id = 34000 + rng.randrange(900)
        self.link_id = 10300 + rng.randrange(100)

    def user(self, account_id: str, display_name: str, time_zone: str) -> JiraUser:
        return JiraUser(account_id=account_id, display_name=display_name, time_zone=time_zone)

    def project(self, key: str, name: str, first_number: int) -> None:
        self.projects[key] = (str(10001 + len(self.projects)), name)
        self.next_number[key] = first_number

    def new_issue(
        self,
        *,
        project: str,
        summary: str,
        issue_type: str,
        reporter: JiraUser,
        created: datetime,
        priority: str = "Medium",
        labels: list[str] | None = None,
        components: list[str] | None = None,
        points: int | None = None,
        epic: Issue | None = None,
        assignee: JiraUser | None = None,
    ) -> Issue:
        number = self.next_number[project]
        self.next_number[project] = number + 1 + (1 if self.rng.random() < 0.15 else 0)
        self.issue_id += 1 + self.rng.randrange(3)
        for component in components or []:
            self.components.setdefault(component, str(10001 + len(self.components)))
        return Issue(
            id=str(self.issue_id),
            key=f"{project}-{number}",
            project=project,
            summary=summary,
            issue_type=issue_type,
            priority=priority,
            reporter=reporter,
            created=created,
            updated=created,
            labels=list(labels or []),
            components=list(components or []),
            points=points,
            epic=epic,
            assignee=assignee,
        )

    def _user_json(self, user: JiraUser | None) -> dict[str, Any] | None:
        if user is None:
            return None
        return {
            "self": f"{self.site}/rest/api/2/user?accountId={user.account_id}",
            "accountId": user.account_id,
            "displayName": user.display_name,
            "active": True,
            "timeZone": user.time_zone,
            "accountType": "atlassian",
        }

    def _status_json(self, status: str) -> dict[str, Any]:
        status_id, category_key, category_id, colour, category_name = STATUSES[status]
        return {
            "self": f"{self.site}/rest/api/2/status/{status_id}",
            "description": "",
            "name": status,
            "id": status_id,
            "statusCategory": {
                "id": category_id,
                "key": category_key,
                "colorName": colour,
                "name": category_name,
                "self": f"{self.site}/rest/api/2/statuscategory/{category_id}",
            },
        }

    def _type_json(self, issue_type: str) -> dict[str, Any]:
        type_id, level = ISSUE_TYPES[issue_type]
        return {"id": type_id, "name": issue_type, "subtask": False, "hierarchyLevel": level}

    def _linked_issue_json(self, issue: Issue) -> dict[str, Any]:
        return {
            "id": issue.id,
            "key": issue.key,
            "self": f"{self.site}/rest/api/2/issue/{issue.id}",
            "fields": {
                "summary": issue.summary,
                "status": self._status_json(issue.status),
                "priority": {"id": PRIORITIES[issue.priority], "name": issue.priority},
                "issuetype": self._type_json(issue.issue_type),
            },
        }

    def _links_json(self, issue: Issue) -> list[dict[str, Any]]:
        links = []
        for link in issue.links:
            type_id, inward, outward = LINK_TYPES[link.type]
            entry: dict[str, Any] = {
                "id": link.id,
                "self": f"{self.site}/rest/api/2/issueLink/{link.id}",
                "type": {
                    "id": type_id,
                    "name": link.type,
                    "inward": inward,
                    "outward": outward,
                    "self": f"{self.site}/rest/api/2/issueLinkType/{type_id}",
                },
            }
            entry["inwardIssue" if link.direction == "inward" else "outwardIssue"] = self._linked_issue_json(
                link.other
            )
            links.append(entry)
        return links

    def issue_json(self, issue: Issue) -> dict[str, Any]:
        project_id, project_name = self.projects[issue.project]
        fields: dict[str, Any] = {
            "summary": issue.summary,
            "issuetype": self._type_json(issue.issue_type),
            "project": {
                "id": project_id,
                "key": issue.project,
                "name": project_name,
                "projectTypeKey": "software",
                "self": f"{self.site}/rest/api/2/project/{project_id}",
            },
            "status": self._status_json(issue.status),
            "priority": {"id": PRIORITIES[issue.priority], "name": issue.priority},
            "assignee": self._user_json(issue.assignee),
            "reporter": self._user_json(issue.reporter),
            "creator": self._user_json(issue.reporter),
            "labels": list(issue.labels),
            "components": [
                {
                    "id": self.components[name],
                    "name": name,
                    "self": f"{self.site}/rest/api/2/component/{self.components[name]}",
                }
                for name in issue.components
            ],
            self.story_points_field: issue.points,
            "created": _jira_time(issue.created),
            "updated": _jira_time(issue.updated),
            "resolutiondate": _jira_time(issue.resolved) if issue.resolved else None,
            "resolution": (
                {"self": f"{self.site}/rest/api/2/resolution/10000", "id": "10000", "name": "Done"}
                if issue.resolved
                else None
            ),
            "issuelinks": self._links_json(issue),
        }
        if issue.epic is not None:
            fields["parent"] = self._linked_issue_json(issue.epic)
        return {
            "id": issue.id,
            "self": f"{self.site}/rest/api/2/issue/{issue.id}",
            "key": issue.key,
            "fields": fields,
        }

    def _event(
        self, at: datetime, actor: JiraUser, webhook_event: str, issue: Issue, **extra: Any
    ) -> dict[str, Any]:
        payload: dict[str, Any] = {"timestamp": _millis(at), "webhookEvent": webhook_event}
        if "issue_event_type_name" in extra:
            payload["issue_event_type_name"] = extra.pop("issue_event_type_name")
        payload["user"] = self._user_json(actor)
        payload["issue"] = self.issue_json(issue)
        payload.update(extra)
        return {"at": scenario_at(at), "kind": "jira_webhook", "payload": payload}

    def created(self, at: datetime, actor: JiraUser, issue: Issue) -> dict[str, Any]:
        issue.created = issue.updated = at
        return self._event(at, actor, "jira:issue_created", issue, issue_event_type_name="issue_created")

    def transition(self, at: datetime, actor: JiraUser, issue: Issue, status: str) -> dict[str, Any]:
        items = [self._status_item(issue.status, status)]
        if status == "Done" and issue.resolved is None:
            issue.resolved = at
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
        elif status != "Done":
            issue.resolved = None
        issue.status = status
        return self._updated(at, actor, issue, items, "issue_generic")

    def assign(self, at: datetime, actor: JiraUser, issue: Issue, assignee: JiraUser) -> dict[str, Any]:
        previous = issue.assignee
        issue.assignee = assignee
        item = {
            "field": "assignee",
            "fieldtype": "jira",
            "fieldId": "assignee",
            "from": previous.account_id if previous else None,
            "fromString": previous.display_name if previous else None,
            "to": assignee.account_id,
            "toString": assignee.display_name,
        }
        return self._updated(at, actor, issue, [item], "issue_assigned")

    def link(
        self, at: datetime, actor: JiraUser, issue: Issue, other: Issue, link_type: str = "Blocks"
    ) -> dict[str, Any]:
        """Link ``issue`` to ``other`` so that ``issue`` "is blocked by" ``other`` (for Blocks)."""
        self.link_id += 1
        link_id = str(self.link_id)
        issue.links.append(IssueLink(id=link_id, type=link_type, other=other, direction="inward"))
        other.links.append(IssueLink(id=link_id, type=link_type, other=issue, direction="outward"))
        inward = LINK_TYPES[link_type][1]
        item = {
            "field": "Link",
            "fieldtype": "jira",
            "from": None,
            "fromString": None,
            "to": other.key,
            "toString": f"This issue {inward} {other.key}",
        }
        return self._updated(at, actor, issue, [item], "issue_updated")

    def unlink(self, at: datetime, actor: JiraUser, issue: Issue, other: Issue) -> dict[str, Any]:
        link = next(link for link in issue.links if link.other is other)
        issue.links.remove(link)
        other.links[:] = [back for back in other.links if back.id != link.id]
        inward = LINK_TYPES[link.type][1]
        item = {
            "field": "Link",
            "fieldtype": "jira",
            "from": other.key,
            "fromString": f"This issue {inward} {other.key}",
            "to": None,
            "toString": None,
        }
        return self._updated(at, actor, issue, [item], "issue_updated")

    def comment(self, at: datetime, actor: JiraUser, issue: Issue, body: str) -> dict[str, Any]:
        issue.updated = at
        self.comment_id += 1 + self.rng.randrange(4)
        author = self._user_json(actor)
        comment = {
            "self": f"{self.site}/rest/api/2/issue/{issue.id}/comment/{self.comment_id}",
            "id": str(self.comment_id),
            "author": author,
            "body": body,
            "updateAuthor": author,
            "created": _jira_time(at),
            "updated": _jira_time(at),
            "jsdPublic": True,
        }
        return self._event(at, actor, "comment_created", issue, comment=comment)

    def _status_item(self, old: str, new: str) -> dict[str, Any]:
        return {
            "field": "status",
            "fieldtype": "jira",
            "fieldId": "status",
            "from": STATUSES[old][0],
            "fromString": old,
            "to": STATUSES[new][0],
            "toString": new,
        }

    def _updated(
        self, at: datetime, actor: JiraUser, issue: Issue, items: list[dict[str, Any]], type_name: str
    ) -> dict[str, Any]:
        issue.updated = at
        self.changelog_id += 1 + self.rng.randrange(5)
        return self._event(
            at,
            actor,
            "jira:issue_updated",
            issue,
            issue_event_type_name=type_name,
            changelog={"id": str(self.changelog_id), "items": items},
        )


# --- Slack --------------------------------------------------------------------------------------------


@dataclass
class SlackMessage:
    ts: str
    user: str
    channel: str
    at: datetime


class SlackWorkspace:
    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.team_id = random_id(rng, "T0", 9)
        self.app_id = random_id(rng, "A0", 9)
        self.bot_user = random_id(rng, "U0", 9)
        self.token = "".join(rng.choice(string.ascii_letters + string.digits) for _ in range(24))
        self.channels: dict[str, str] = {}  # name -> id

    def channel(self, name: str) -> str:
        if name not in self.channels:
            self.channels[name] = random_id(self.rng, "C0", 9)
        return self.channels[name]

    def message(
        self, at: datetime, user: str, channel: str, text: str, thread: SlackMessage | None = None
    ) -> tuple[dict[str, Any], SlackMessage]:
        ts = _slack_ts(at)
        event: dict[str, Any] = {
            "client_msg_id": str(uuid.UUID(int=self.rng.getrandbits(128), version=4)),
            "type": "message",
            "text": text,
            "user": user,
            "ts": ts,
            "team": self.team_id,
            "channel": channel,
            "event_ts": ts,
            "channel_type": "channel",
        }
        if thread is not None:
            event["thread_ts"] = thread.ts
            event["parent_user_id"] = thread.user
        payload = {
            "token": self.token,
            "team_id": self.team_id,
            "api_app_id": self.app_id,
            "event": event,
            "type": "event_callback",
            "event_id": random_id(self.rng, "Ev0", 9),
            "event_time": _seconds(at),
            "authorizations": [
                {
                    "enterprise_id": None,
                    "team_id": self.team_id,
                    "user_id": self.bot_user,
                    "is_bot": True,
                    "is_enterprise_install": False,
                }
            ],
            "is_ext_shared_channel": False,
            "event_context": "4-"
            + "".join(self.rng.choice(string.ascii_letters + string.digits) for _ in range(58)),
        }
        return (
            {"at": scenario_at(at), "kind": "slack_event", "payload": payload},
            SlackMessage(ts=ts, user=user, channel=channel, at=at),
        )


# --- HubSpot ------------------------------------------------------------------------------------------

ASSOCIATION_TYPES = {
    "notes": "note_to_deal",
    "calls": "call_to_deal",
    "meetings": "meeting_event_to_deal",
    "emails": "email_to_deal",
    "tasks": "task_to_deal",
}
CLOSED_STAGES = ("closedwon", "closedlost")


@dataclass
class Deal:
    id: str
    name: str
    pipeline: str
    stage: str
    amount: int
    owner: str
    created: datetime
    close_date: datetime
    deal_type: str
    modified: datetime
    stage_since: datetime


class HubSpotPortal:
    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.portal_id = str(rng.randrange(20_000_000, 49_999_999))
        self.deal_id = 19_333_900_000 + rng.randrange(90_000)
        self.engagement_id = 49_443_190_000 + rng.randrange(9_000)

    def new_deal(
        self,
        *,
        name: str,
        pipeline: str,
        stage: str,
        amount: int,
        owner: str,
        created: datetime,
        close_date: datetime,
        deal_type: str = "newbusiness",
    ) -> Deal:
        self.deal_id += 1 + self.rng.randrange(40_000)
        return Deal(
            id=str(self.deal_id),
            name=name,
            pipeline=pipeline,
            stage=stage,
            amount=amount,
            owner=owner,
            created=created,
            close_date=close_date,
            deal_type=deal_type,
            modified=created,
            stage_since=created,
        )

    def deal_event(self, at: datetime, deal: Deal) -> dict[str, Any]:
        deal.modified = at
        properties = {
            "amount": str(deal.amount),
            "closedate": hubspot_time(deal.close_date),
            "createdate": hubspot_time(deal.created),
            "dealname": deal.name,
            "dealstage": deal.stage,
            "dealtype": deal.deal_type,
            "hs_is_closed": "true" if deal.stage in CLOSED_STAGES else "false",
            "hs_lastmodifieddate": hubspot_time(at),
            "hs_object_id": deal.id,
            "hubspot_owner_id": deal.owner,
            "pipeline": deal.pipeline,
        }
        payload = {
            "id": deal.id,
            "properties": properties,
            "createdAt": hubspot_time(deal.created),
            "updatedAt": hubspot_time(at),
            "archived": False,
        }
        return {"at": scenario_at(at), "kind": "hubspot_object", "object_type": "deals", "payload": payload}

    def engagement(
        self, at: datetime, object_type: str, owner: str, deal: Deal, properties: dict[str, Any]
    ) -> dict[str, Any]:
        self.engagement_id += 1 + self.rng.randrange(3_000)
        engagement_id = str(self.engagement_id)
        stamp = hubspot_time(at)
        payload = {
            "id": engagement_id,
            "properties": {
                "hs_createdate": stamp,
                "hs_lastmodifieddate": stamp,
                "hs_object_id": engagement_id,
                "hs_timestamp": stamp,
                "hubspot_owner_id": owner,
                **properties,
            },
            "createdAt": stamp,
            "updatedAt": stamp,
            "archived": False,
            "associations": {"deals": {"results": [{"id": deal.id, "type": ASSOCIATION_TYPES[object_type]}]}},
        }
        return {
            "at": scenario_at(at),
            "kind": "hubspot_object",
            "object_type": object_type,
            "payload": payload,
        }

    def note(self, at: datetime, owner: str, deal: Deal, body: str) -> dict[str, Any]:
        return self.engagement(at, "notes", owner, deal, {"hs_note_body": f"<div><p>{body}</p></div>"})

    def call(self, at: datetime, owner: str, deal: Deal, title: str, body: str) -> dict[str, Any]:
        return self.engagement(
            at,
            "calls",
            owner,
            deal,
            {
                "hs_call_title": title,
                "hs_call_body": body,
                "hs_call_direction": self.rng.choice(["OUTBOUND", "OUTBOUND", "INBOUND"]),
                "hs_call_disposition": "f240bbac-87c9-4f6e-bf70-924b57d47db7",
                "hs_call_duration": str(self.rng.randrange(5, 50) * 60_000),
                "hs_call_status": "COMPLETED",
            },
        )

    def meeting(self, at: datetime, owner: str, deal: Deal, title: str, body: str) -> dict[str, Any]:
        minutes = self.rng.choice([30, 45, 60])
        return self.engagement(
            at,
            "meetings",
            owner,
            deal,
            {
                "hs_meeting_title": title,
                "hs_meeting_body": body,
                "hs_meeting_start_time": hubspot_time(at),
                "hs_meeting_end_time": hubspot_time(at + timedelta(minutes=minutes)),
                "hs_meeting_outcome": "COMPLETED",
            },
        )

    def email(self, at: datetime, owner: str, deal: Deal, subject: str, text: str) -> dict[str, Any]:
        return self.engagement(
            at,
            "emails",
            owner,
            deal,
            {
                "hs_email_subject": subject,
                "hs_email_text": text,
                "hs_email_direction": "EMAIL",
                "hs_email_status": "SENT",
            },
        )

    def task(self, at: datetime, owner: str, deal: Deal, subject: str) -> dict[str, Any]:
        return self.engagement(
            at,
            "tasks",
            owner,
            deal,
            {
                "hs_task_subject": subject,
                "hs_task_body": "",
                "hs_task_status": "NOT_STARTED",
                "hs_task_priority": self.rng.choice(["LOW", "MEDIUM", "HIGH"]),
                "hs_task_type": self.rng.choice(["CALL", "EMAIL", "TODO"]),
            },
        )
