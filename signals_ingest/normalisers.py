"""Vendor payloads into plain data: work items, execution signals and the identities seen.

Pure functions, no database: the same code serves webhooks, pulls and scenario replay, and can be tested
and benchmarked on payloads alone. ``normalise(provider, payload, settings)`` picks the right one.

Payload shapes (what a ``RawEvent.payload`` holds, by provider):

* **Jira** — the body Jira Cloud posts to a webhook (``jira:issue_created``, ``jira:issue_updated``,
  ``jira:issue_deleted``, ``comment_created``: ``webhookEvent``, ``timestamp``, ``user``, ``issue``,
  optional ``changelog`` and ``comment``), or one issue of a REST search (``/rest/api/3/search/jql`` with
  ``expand=changelog``: ``id``, ``key``, ``fields``, optional ``changelog.histories`` and
  ``fields.comment.comments``).
* **Slack** — an Events API envelope (``type: "event_callback"``, ``event_id``, ``event``), or a message
  pulled with ``conversations.history`` / ``conversations.replies`` wrapped with its channel:
  ``{"channel": "C…", "message": {…}}``.
* **HubSpot** — a CRM v3 object with its type: ``{"object_type": "deals" | "notes" | "calls" |
  "meetings" | "emails" | "tasks", "object": {id, properties, createdAt, updatedAt, archived,
  associations?, propertiesWithHistory?}}``, optionally with ``"owners": {owner id: {"email",
  "firstName", "lastName"}}`` from the owners API so that identities carry an e-mail address.

Unknown fields are ignored (vendors add fields all the time). A payload missing what it needs raises
``PayloadError`` naming the payload and the field. A payload that is well formed but carries nothing to
take (a bot message, an unselected channel, an event type not used) yields an empty result whose
``ignored`` says why.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, TypeGuard

# Effort weight of each kind of signal: what one unit of that activity counts for in the drift engine's
# sums. A status transition or a logged call moves work more than a chat message does; a meeting with a
# customer more than an e-mail. One table, so that changing a weight is a one-line, reviewable change.
SIGNAL_WEIGHTS: dict[str, float] = {
    # Jira
    "issue_created": 1.0,
    "transition": 2.0,
    "comment": 1.0,
    "assignment": 0.5,
    "link": 0.5,
    "field_change": 0.25,
    # Slack
    "message": 0.5,
    # HubSpot
    "stage_change": 2.0,
    "note": 1.0,
    "call": 2.0,
    "meeting": 3.0,
    "email": 1.0,
    "task": 0.5,
}

# Texts are cut well above any sensible SIGNAL_TEXT_MAX_CHARS before cleaning, so a huge payload costs
# little; the pipeline cuts to the setting.
_TEXT_PRE_CUT = 4000

HUBSPOT_ENGAGEMENT_KINDS = {
    "notes": "note",
    "calls": "call",
    "meetings": "meeting",
    "emails": "email",
    "tasks": "task",
}

# Jira fields whose changes are not work of their own: the resolution moves with a transition, the rank
# moves when someone reorders a board.
_JIRA_SILENT_FIELDS = {"resolution", "rank", "resolutiondate"}

# Slack message subtypes that are someone saying something; every other subtype (joins, topic changes,
# bot posts, edits) is not a message of its own.
_SLACK_SPOKEN_SUBTYPES = {None, "", "thread_broadcast", "file_share", "me_message"}


class PayloadError(ValueError):
    """A payload lacks a field the normaliser needs. The message names the payload and the field."""

    def __init__(self, payload_name: str, field_path: str, problem: str = "is missing") -> None:
        self.payload_name = payload_name
        self.field_path = field_path
        super().__init__(f"{payload_name}: {field_path} {problem}.")


@dataclass(frozen=True)
class IdentitySeen:
    """A vendor account that appears in a payload (an actor, an assignee, an owner)."""

    provider: str
    external_id: str
    display_name: str = ""
    email: str = ""


@dataclass
class WorkItemDraft:
    """A work item as one payload shows it.

    ``reference_only``: the payload only names this work (an engagement's deal) without describing it;
    it is created as a placeholder if unknown and otherwise left as stored. ``blocked_by`` is the full
    list of blocking issue keys when the payload carries the issue's links (``None``: not known from this
    payload); ``links_added`` / ``links_removed`` are the changes a changelog shows.
    """

    provider: str
    external_id: str
    key: str
    kind: str
    title: str = ""
    status: str = ""
    url: str = ""
    attributes: dict[str, Any] = field(default_factory=dict)
    assignee_id: str | None = None
    assignee_known: bool = False
    updated_at: datetime | None = None
    archived: bool = False
    reference_only: bool = False
    blocked_by: list[str] | None = None
    links_added: list[tuple[str, datetime]] = field(default_factory=list)
    links_removed: list[str] = field(default_factory=list)


@dataclass
class SignalDraft:
    """One unit of activity.

    ``work_item_id`` is the external id of the work item it belongs to. ``match_context`` is ``None`` when
    the work item's own context (as this payload shows it) applies; HubSpot stage changes carry their
    own (the stage entered), and engagements name their deals in ``context_deals`` instead: they take
    the mapping of the deals they are associated with.
    """

    provider: str
    external_id: str
    work_item_id: str
    kind: str
    occurred_at: datetime
    actor_id: str | None = None
    text: str = ""
    attributes: dict[str, Any] = field(default_factory=dict)
    match_context: list[dict[str, list[str]]] | None = None
    context_deals: list[str] = field(default_factory=list)
    # HubSpot stage changes: False when the payload gave no stage-entry time and the object's update time
    # stands in for it (then a payload showing the stage already stored is not a new change).
    stage_entry_known: bool = True

    @property
    def weight(self) -> float:
        return SIGNAL_WEIGHTS[self.kind]


@dataclass
class Normalised:
    work_items: list[WorkItemDraft] = field(default_factory=list)
    signals: list[SignalDraft] = field(default_factory=list)
    identities: list[IdentitySeen] = field(default_factory=list)
    # Signals whose stored text must go (a Slack message deleted at the vendor).
    redact_signal_ids: list[str] = field(default_factory=list)
    ignored: str = ""


# --- Small readers ----------------------------------------------------------------------------------


# The readers below run a few dozen times per payload: parsed JSON objects are dicts, so that is
# asked first, and the slower check against the abstract ``Mapping`` only for anything else.


def _require(container: Any, name: str, payload_name: str, path: str | None = None) -> Any:
    if type(container) is not dict and not isinstance(container, Mapping):
        raise PayloadError(payload_name, (path or name).rsplit(".", 1)[0], "is not an object")
    value = container.get(name)
    if value is None or value == "":
        raise PayloadError(payload_name, path or name)
    return value


def _object(container: Mapping[str, Any], name: str) -> Mapping[str, Any]:
    value = container.get(name)
    return value if type(value) is dict or isinstance(value, Mapping) else {}


def _is_object(value: Any) -> TypeGuard[Mapping[str, Any]]:
    return type(value) is dict or isinstance(value, Mapping)


def parse_time(value: Any, payload_name: str, path: str) -> datetime:
    """A vendor timestamp: ISO 8601 (``Z``, ``+0000`` or ``+00:00``) or epoch milliseconds."""
    try:
        if isinstance(value, str):  # the usual case first
            if value.isdigit():
                return datetime.fromtimestamp(int(value) / 1000, tz=UTC)
            parsed = datetime.fromisoformat(value)
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
        if isinstance(value, int | float) and not isinstance(value, bool):
            return datetime.fromtimestamp(value / 1000, tz=UTC)
    except (ValueError, OverflowError, OSError):
        pass
    raise PayloadError(payload_name, path, f"is not a timestamp ({str(value)[:40]!r})")


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_SLACK_TS = re.compile(r"\d+(\.\d{1,6})?")


def parse_slack_ts(value: Any, payload_name: str, path: str) -> datetime:
    """Slack's ``ts`` (``"1783344846.699612"``): seconds and microseconds, read without float rounding."""
    if not isinstance(value, str) or not _SLACK_TS.fullmatch(value):
        raise PayloadError(payload_name, path, f"is not a Slack timestamp ({str(value)[:40]!r})")
    seconds, _, fraction = value.partition(".")
    # From the epoch by whole seconds and microseconds: the same moment as ``fromtimestamp``, for less.
    return _EPOCH + timedelta(
        seconds=int(seconds), microseconds=int(fraction.ljust(6, "0")) if fraction else 0
    )


def epoch_ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


_TAG = re.compile(r"<[^>]+>")


def clean_text(value: Any) -> str:
    """Readable plain text: HTML tags dropped, entities decoded, whitespace collapsed."""
    if value is None:
        return ""
    text = str(value)[:_TEXT_PRE_CUT]
    if "<" in text and ">" in text:
        text = _TAG.sub(" ", text)
    # Split on any whitespace (what ``\s`` matches), joined by single spaces.
    return " ".join(html.unescape(text).split())


def _adf_text(node: Any) -> str:
    """Text of an Atlassian Document Format body (REST v3), or the body itself when it is a string."""
    if isinstance(node, str):
        return node
    if _is_object(node):
        if node.get("type") == "text":
            return str(node.get("text", ""))
        return " ".join(_adf_text(child) for child in node.get("content") or [])
    if isinstance(node, list):
        return " ".join(_adf_text(child) for child in node)
    return ""


def _dedupe_identities(identities: Iterable[IdentitySeen | None]) -> list[IdentitySeen]:
    seen: dict[str, IdentitySeen] = {}
    for identity in identities:
        if identity is None:
            continue
        earlier = seen.get(identity.external_id)
        # Keep the richest description of the account this payload gives.
        if earlier is None or (identity.email and not earlier.email):
            seen[identity.external_id] = identity
    return list(seen.values())


# --- Jira -------------------------------------------------------------------------------------------


def _jira_user(value: Any) -> IdentitySeen | None:
    if not _is_object(value):
        return None
    account = value.get("accountId") or value.get("key") or value.get("name")
    if not account:
        return None
    return IdentitySeen(
        provider="jira",
        external_id=str(account),
        display_name=str(value.get("displayName") or ""),
        email=str(value.get("emailAddress") or ""),
    )


def _jira_site(issue: Mapping[str, Any], settings: Mapping[str, Any]) -> str:
    site = str(settings.get("site") or "").rstrip("/")
    if site:
        return site
    match = re.match(r"^(https?://[^/]+)/", str(issue.get("self") or ""))
    return match.group(1) if match else ""


def _jira_is_epic(issue_type: Mapping[str, Any]) -> bool:
    return issue_type.get("hierarchyLevel") == 1 or str(issue_type.get("name", "")).lower() == "epic"


def _jira_blocked_by(issue_links: Any) -> list[str]:
    """Keys of the issues that block this one, from ``fields.issuelinks``.

    On an issue's own links, an entry with ``inwardIssue`` reads "this issue <type.inward> that issue":
    for the ``Blocks`` type, "this issue is blocked by …".
    """
    blockers: list[str] = []
    for link in issue_links if isinstance(issue_links, list) else []:
        if not _is_object(link):
            continue
        link_type = _object(link, "type")
        is_blocks = (
            str(link_type.get("name", "")).lower() == "blocks"
            or str(link_type.get("inward", "")).lower() == "is blocked by"
        )
        other = _object(link, "inwardIssue")
        if is_blocks and other.get("key") and other["key"] not in blockers:
            blockers.append(str(other["key"]))
    return blockers


def _jira_work_item(
    issue: Mapping[str, Any], settings: Mapping[str, Any], payload_name: str
) -> tuple[WorkItemDraft, list[IdentitySeen]]:
    issue_id = str(_require(issue, "id", payload_name, "issue.id"))
    key = str(_require(issue, "key", payload_name, "issue.key"))
    fields = _require(issue, "fields", payload_name, "issue.fields")
    if not _is_object(fields):
        raise PayloadError(payload_name, "issue.fields", "is not an object")
    issue_type = _object(fields, "issuetype")
    project = _object(fields, "project")
    status = _object(fields, "status")
    parent = _object(fields, "parent")

    epic: str | None = None
    # The epic's name as the issue's parent carries it: the epic itself may never reach us, and "the
    # unlinked epic SEC-12 'SSO and SOC 2 evidence'" says more than its key.
    epic_title: str | None = None
    parent_key: str | None = None
    if _jira_is_epic(issue_type):
        epic = key  # work on an epic is work on that epic
    elif parent.get("key"):
        parent_fields = _object(parent, "fields")
        if _jira_is_epic(_object(parent_fields, "issuetype")):
            epic = str(parent["key"])
            epic_title = str(parent_fields.get("summary") or "")[:500] or None
        else:
            parent_key = str(parent["key"])  # a sub-task: its epic is its parent's (resolved when stored)
    epic_link_field = settings.get("epic_link_field")
    if epic is None and epic_link_field and isinstance(fields.get(epic_link_field), str):
        epic = fields[epic_link_field]

    story_points_field = str(settings.get("story_points_field") or "customfield_10016")
    story_points = fields.get(story_points_field)
    assignee = _jira_user(fields.get("assignee"))
    updated = fields.get("updated")
    site = _jira_site(issue, settings)
    attributes: dict[str, Any] = {
        "project": project.get("key"),
        "epic": epic,
        "epic_title": epic_title,
        "parent": parent_key,
        "labels": [str(label) for label in fields.get("labels") or [] if label],
        "components": [
            str(component["name"])
            for component in fields.get("components") or []
            if _is_object(component) and component.get("name")
        ],
        "issue_type": issue_type.get("name"),
        "status_category": _object(status, "statusCategory").get("key"),
        "story_points": story_points if isinstance(story_points, int | float) else None,
        "priority": _object(fields, "priority").get("name"),
    }
    issue_links = fields.get("issuelinks")
    draft = WorkItemDraft(
        provider="jira",
        external_id=issue_id,
        key=key,
        kind="issue",
        title=str(fields.get("summary") or "")[:500],
        status=str(status.get("name") or ""),
        url=f"{site}/browse/{key}" if site else "",
        attributes=attributes,
        assignee_id=assignee.external_id if assignee else None,
        assignee_known="assignee" in fields,
        updated_at=parse_time(updated, payload_name, "issue.fields.updated") if updated else None,
        blocked_by=_jira_blocked_by(issue_links) if isinstance(issue_links, list) else None,
    )
    identities = [assignee, _jira_user(fields.get("reporter")), _jira_user(fields.get("creator"))]
    return draft, [identity for identity in identities if identity]


def _jira_link_change(item: Mapping[str, Any]) -> tuple[str, str] | None:
    """("added" | "removed", blocker key) for a changelog ``Link`` item about a blocker, else None."""
    for side, verb in (("to", "added"), ("from", "removed")):
        text = str(item.get(f"{side}String") or "")
        if "is blocked by" in text.lower():
            other = item.get(side) or text.rsplit(" ", 1)[-1]
            return verb, str(other)
    return None


def _jira_changelog_signals(
    *,
    work_item: WorkItemDraft,
    history_id: str,
    items: Any,
    actor: IdentitySeen | None,
    occurred_at: datetime,
) -> list[SignalDraft]:
    signals: list[SignalDraft] = []
    for item in items if isinstance(items, list) else []:
        if not _is_object(item):
            continue
        field_name = str(item.get("field") or "")
        field_id = str(item.get("fieldId") or field_name)
        prefix = f"{work_item.external_id}:changelog:{history_id}"
        if field_name.lower() == "link" or field_id == "issuelinks":
            change = _jira_link_change(item)
            other = str(item.get("to") or item.get("from") or "")
            if change is not None:
                verb, blocker = change
                if verb == "added":
                    work_item.links_added.append((blocker, occurred_at))
                else:
                    work_item.links_removed.append(blocker)
            signals.append(
                SignalDraft(
                    provider="jira",
                    external_id=f"{prefix}:link:{other}",
                    work_item_id=work_item.external_id,
                    kind="link",
                    occurred_at=occurred_at,
                    actor_id=actor.external_id if actor else None,
                    attributes={"linked": other, "blocked_by": bool(change and change[0] == "added")},
                )
            )
            continue
        if field_id.lower() in _JIRA_SILENT_FIELDS or field_name.lower() in _JIRA_SILENT_FIELDS:
            continue
        if field_id == "status":
            kind = "transition"
            attributes = {"from": item.get("fromString"), "to": item.get("toString")}
        elif field_id == "assignee":
            kind = "assignment"
            attributes = {"from": item.get("from"), "to": item.get("to")}
        else:
            kind = "field_change"
            attributes = {"field": field_name}
        signals.append(
            SignalDraft(
                provider="jira",
                external_id=f"{prefix}:{field_id}",
                work_item_id=work_item.external_id,
                kind=kind,
                occurred_at=occurred_at,
                actor_id=actor.external_id if actor else None,
                attributes=attributes,
            )
        )
    return signals


def _jira_comment_signal(
    work_item: WorkItemDraft, comment: Mapping[str, Any], payload_name: str, path: str
) -> tuple[SignalDraft, IdentitySeen | None]:
    comment_id = _require(comment, "id", payload_name, f"{path}.id")
    author = _jira_user(comment.get("author"))
    created = _require(comment, "created", payload_name, f"{path}.created")
    signal = SignalDraft(
        provider="jira",
        external_id=f"{work_item.external_id}:comment:{comment_id}",
        work_item_id=work_item.external_id,
        kind="comment",
        occurred_at=parse_time(created, payload_name, f"{path}.created"),
        actor_id=author.external_id if author else None,
        text=clean_text(_adf_text(comment.get("body"))),
    )
    return signal, author


def jira_webhook(payload: Mapping[str, Any], settings: Mapping[str, Any]) -> Normalised:
    """A Jira Cloud webhook body: issue created / updated / deleted, comment created."""
    event = str(_require(payload, "webhookEvent", "Jira webhook"))
    payload_name = f"Jira webhook {event}"
    if event not in {"jira:issue_created", "jira:issue_updated", "jira:issue_deleted", "comment_created"}:
        return Normalised(ignored=f"{payload_name} carries no activity that is taken")
    issue = _require(payload, "issue", payload_name)
    work_item, identities = _jira_work_item(issue, settings, payload_name)
    actor = _jira_user(payload.get("user"))
    timestamp = payload.get("timestamp")
    if timestamp is not None:
        occurred_at = parse_time(timestamp, payload_name, "timestamp")
    elif work_item.updated_at is not None:
        occurred_at = work_item.updated_at
    else:
        raise PayloadError(payload_name, "timestamp")
    result = Normalised(work_items=[work_item])
    if event == "jira:issue_deleted":
        work_item.archived = True
    if event == "jira:issue_created":
        created = issue["fields"].get("created")
        result.signals.append(
            SignalDraft(
                provider="jira",
                external_id=f"{work_item.external_id}:created",
                work_item_id=work_item.external_id,
                kind="issue_created",
                occurred_at=parse_time(created, payload_name, "issue.fields.created")
                if created
                else occurred_at,
                actor_id=actor.external_id if actor else None,
            )
        )
    changelog = payload.get("changelog")
    if _is_object(changelog) and changelog.get("items"):
        history_id = str(_require(changelog, "id", payload_name, "changelog.id"))
        result.signals += _jira_changelog_signals(
            work_item=work_item,
            history_id=history_id,
            items=changelog["items"],
            actor=actor,
            occurred_at=occurred_at,
        )
    comment_author = None
    if event == "comment_created":
        comment = _require(payload, "comment", payload_name)
        signal, comment_author = _jira_comment_signal(work_item, comment, payload_name, "comment")
        result.signals.append(signal)
    result.identities = _dedupe_identities([actor, comment_author, *identities])
    return result


def jira_issue(issue: Mapping[str, Any], settings: Mapping[str, Any]) -> Normalised:
    """One issue of a Jira REST search with ``expand=changelog`` (and comments, when requested)."""
    payload_name = f"Jira issue {issue.get('key') or issue.get('id') or '?'}"
    work_item, identities = _jira_work_item(issue, settings, payload_name)
    fields = issue["fields"]
    creator = _jira_user(fields.get("creator")) or _jira_user(fields.get("reporter"))
    created = _require(fields, "created", payload_name, "issue.fields.created")
    result = Normalised(work_items=[work_item])
    result.signals.append(
        SignalDraft(
            provider="jira",
            external_id=f"{work_item.external_id}:created",
            work_item_id=work_item.external_id,
            kind="issue_created",
            occurred_at=parse_time(created, payload_name, "issue.fields.created"),
            actor_id=creator.external_id if creator else None,
        )
    )
    seen: list[IdentitySeen | None] = [creator, *identities]
    histories = _object(issue, "changelog").get("histories") or []
    # Oldest first, so that link additions and removals apply in the order they happened.
    ordered = sorted(
        (history for history in histories if _is_object(history)),
        key=lambda history: str(history.get("created") or ""),
    )
    for index, history in enumerate(ordered):
        path = f"changelog.histories[{index}]"
        author = _jira_user(history.get("author"))
        seen.append(author)
        result.signals += _jira_changelog_signals(
            work_item=work_item,
            history_id=str(_require(history, "id", payload_name, f"{path}.id")),
            items=history.get("items"),
            actor=author,
            occurred_at=parse_time(
                _require(history, "created", payload_name, f"{path}.created"), payload_name, f"{path}.created"
            ),
        )
    comments = _object(fields, "comment").get("comments") or []
    for index, comment in enumerate(comments):
        if _is_object(comment):
            signal, author = _jira_comment_signal(
                work_item, comment, payload_name, f"fields.comment.comments[{index}]"
            )
            result.signals.append(signal)
            seen.append(author)
    result.identities = _dedupe_identities(seen)
    return result


# --- Slack ------------------------------------------------------------------------------------------


def selected_slack_channels(settings: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    """The channels an admin selected, by id. Only these are ever read."""
    channels = settings.get("channels") or []
    return {str(channel["id"]): channel for channel in channels if _is_object(channel) and channel.get("id")}


def _selected_slack_channel(settings: Mapping[str, Any], channel: str) -> Mapping[str, Any] | None:
    """The selected channel ``channel``, if it is one (``selected_slack_channels`` for one channel: asked
    for every message, it does not build the whole dict)."""
    for candidate in settings.get("channels") or []:
        if _is_object(candidate) and candidate.get("id") and str(candidate["id"]) == channel:
            return candidate
    return None


def _is_direct_conversation(channel: str, channel_type: Any) -> bool:
    return channel_type in {"im", "mpim"} or channel.startswith("D")


def slack_payload_is_read(payload: Mapping[str, Any], settings: Mapping[str, Any]) -> bool:
    """Whether a Slack payload comes from a conversation the organisation reads (a selected channel).

    Checked before a payload is stored, so that text from direct messages and unselected channels is
    never kept. A payload naming no channel is let through: the normaliser decides what it is.
    """
    event = _object(payload, "event")
    channel = event.get("channel") or payload.get("channel") or _object(event, "item").get("channel")
    if not channel:
        return True
    channel_type = event.get("channel_type") or _object(payload, "message").get("channel_type")
    if _is_direct_conversation(str(channel), channel_type):
        return False
    return _selected_slack_channel(settings, str(channel)) is not None


def slack_message(
    channel: str,
    message: Mapping[str, Any],
    settings: Mapping[str, Any],
    *,
    payload_name: str = "Slack message",
    channel_type: Any = None,
) -> Normalised:
    """One Slack message in ``channel``: a signal on the thread it belongs to (its own, if it starts one)."""
    if _is_direct_conversation(channel, channel_type or message.get("channel_type")):
        return Normalised(ignored=f"{payload_name}: direct messages are never read")
    selected = _selected_slack_channel(settings, channel)
    if selected is None:
        return Normalised(ignored=f"{payload_name}: channel {channel} is not selected")
    subtype = message.get("subtype")
    if subtype == "message_deleted":
        deleted = message.get("deleted_ts") or _object(message, "previous_message").get("ts")
        if not deleted:
            raise PayloadError(payload_name, "event.deleted_ts")
        return Normalised(redact_signal_ids=[f"{channel}:{deleted}"], ignored=f"{payload_name}: deleted")
    if subtype not in _SLACK_SPOKEN_SUBTYPES or message.get("bot_id"):
        return Normalised(ignored=f"{payload_name}: subtype {subtype or 'bot message'} is not a message")
    user = str(_require(message, "user", payload_name, "event.user"))
    ts = str(_require(message, "ts", payload_name, "event.ts"))
    occurred_at = parse_slack_ts(ts, payload_name, "event.ts")
    thread_ts = str(message.get("thread_ts") or ts)
    channel_name = str(selected.get("name") or channel)
    workspace_url = str(settings.get("workspace_url") or "").rstrip("/")
    thread_id = f"{channel}:{thread_ts}"
    thread_started = (
        occurred_at if thread_ts == ts else parse_slack_ts(thread_ts, payload_name, "event.thread_ts")
    )
    profile = _object(message, "user_profile")
    work_item = WorkItemDraft(
        provider="slack",
        external_id=thread_id,
        key=thread_id,
        kind="thread",
        title=f"#{channel_name} thread of {thread_started.isoformat(' ')[:16]}",  # YYYY-MM-DD HH:MM
        url=f"{workspace_url}/archives/{channel}/p{thread_ts.replace('.', '')}" if workspace_url else "",
        attributes={"channel": channel, "channel_name": channel_name, "thread_ts": thread_ts},
        updated_at=occurred_at,
    )
    signal = SignalDraft(
        provider="slack",
        external_id=f"{channel}:{ts}",
        work_item_id=thread_id,
        kind="message",
        occurred_at=occurred_at,
        actor_id=user,
        text=clean_text(message.get("text")),
        attributes={"thread_ts": thread_ts, "reply": thread_ts != ts},
    )
    identity = IdentitySeen(
        provider="slack",
        external_id=user,
        display_name=str(profile.get("real_name") or profile.get("display_name") or ""),
    )
    return Normalised(work_items=[work_item], signals=[signal], identities=[identity])


def slack_event(payload: Mapping[str, Any], settings: Mapping[str, Any]) -> Normalised:
    """An Events API envelope (``event_callback``) carrying a channel message."""
    if payload.get("type") != "event_callback":
        return Normalised(ignored=f"Slack {payload.get('type') or 'payload'} carries no event")
    payload_name = f"Slack event {payload.get('event_id') or '?'}"
    event = _require(payload, "event", payload_name)
    if not _is_object(event) or event.get("type") != "message":
        return Normalised(ignored=f"{payload_name}: only messages are taken")
    channel = str(_require(event, "channel", payload_name, "event.channel"))
    return slack_message(
        channel, event, settings, payload_name=payload_name, channel_type=event.get("channel_type")
    )


def slack_history_message(payload: Mapping[str, Any], settings: Mapping[str, Any]) -> Normalised:
    """A message pulled with conversations.history / conversations.replies: ``{"channel", "message"}``."""
    payload_name = "Slack history message"
    channel = str(_require(payload, "channel", payload_name))
    message = _require(payload, "message", payload_name)
    return slack_message(channel, message, settings, payload_name=payload_name)


# --- HubSpot ----------------------------------------------------------------------------------------


def _hubspot_owner(owner_id: Any, owners: Mapping[str, Any]) -> IdentitySeen | None:
    if not owner_id:
        return None
    details = owners.get(str(owner_id))
    details = details if _is_object(details) else {}
    name = " ".join(str(details.get(part) or "") for part in ("firstName", "lastName")).strip()
    return IdentitySeen(
        provider="hubspot",
        external_id=str(owner_id),
        display_name=name,
        email=str(details.get("email") or ""),
    )


def _hubspot_record_url(settings: Mapping[str, Any], object_type_id: str, object_id: str) -> str:
    portal = settings.get("portal_id")
    return f"https://app.hubspot.com/contacts/{portal}/record/{object_type_id}/{object_id}" if portal else ""


def _hubspot_deal(
    obj: Mapping[str, Any], settings: Mapping[str, Any], owners: Mapping[str, Any]
) -> Normalised:
    deal_id = str(_require(obj, "id", "HubSpot deal", "object.id"))
    payload_name = f"HubSpot deal {deal_id}"
    properties = _require(obj, "properties", payload_name, "object.properties")
    updated_raw = obj.get("updatedAt") or properties.get("hs_lastmodifieddate")
    if not updated_raw:
        raise PayloadError(payload_name, "object.updatedAt")
    updated_at = parse_time(updated_raw, payload_name, "object.updatedAt")
    owner = _hubspot_owner(properties.get("hubspot_owner_id"), owners)
    pipeline = properties.get("pipeline")
    stage = properties.get("dealstage")
    amount = properties.get("amount")
    work_item = WorkItemDraft(
        provider="hubspot",
        external_id=deal_id,
        key=deal_id,
        kind="deal",
        title=str(properties.get("dealname") or "")[:500],
        status=str(stage or ""),
        url=_hubspot_record_url(settings, "0-3", deal_id),
        attributes={
            "pipeline": pipeline,
            "dealstage": stage,
            "amount": amount,
            "is_closed": str(properties.get("hs_is_closed", "")).lower() == "true",
            "closedate": properties.get("closedate"),
        },
        assignee_id=owner.external_id if owner else None,
        assignee_known="hubspot_owner_id" in properties,
        updated_at=updated_at,
        archived=bool(obj.get("archived")),
    )
    result = Normalised(work_items=[work_item], identities=[owner] if owner else [])
    if work_item.archived:
        return result  # archived: the deal is marked, the signals it made stay, nothing new happened

    def stage_signal(stage_value: str, entered: datetime, known: bool) -> SignalDraft:
        return SignalDraft(
            provider="hubspot",
            external_id=f"deal:{deal_id}:stage:{stage_value}:{epoch_ms(entered)}",
            work_item_id=deal_id,
            kind="stage_change",
            occurred_at=entered,
            actor_id=owner.external_id if owner else None,
            attributes={"stage": stage_value, "pipeline": pipeline},
            match_context=[
                {"pipeline": [str(pipeline)] if pipeline else [], "dealstage": [stage_value]},
            ],
            stage_entry_known=known,
        )

    history = _object(obj, "propertiesWithHistory").get("dealstage")
    if isinstance(history, list) and history:
        for index, entry in enumerate(history):
            path = f"object.propertiesWithHistory.dealstage[{index}]"
            value = _require(entry, "value", payload_name, f"{path}.value")
            entered = parse_time(
                _require(entry, "timestamp", payload_name, f"{path}.timestamp"), payload_name, path
            )
            result.signals.append(stage_signal(str(value), entered, True))
    elif stage:
        entered_raw = properties.get(f"hs_v2_date_entered_{stage}") or properties.get(
            f"hs_date_entered_{stage}"
        )
        if entered_raw:
            result.signals.append(
                stage_signal(str(stage), parse_time(entered_raw, payload_name, "entered"), True)
            )
        else:
            result.signals.append(stage_signal(str(stage), updated_at, False))
    return result


_ENGAGEMENT_TEXT_PROPERTIES: dict[str, tuple[str, ...]] = {
    "note": ("hs_note_body",),
    "call": ("hs_call_title", "hs_call_body"),
    "meeting": ("hs_meeting_title", "hs_meeting_body"),
    "email": ("hs_email_subject", "hs_email_text"),
    "task": ("hs_task_subject", "hs_task_body"),
}
_ENGAGEMENT_TITLE_PROPERTY = {
    "call": "hs_call_title",
    "meeting": "hs_meeting_title",
    "email": "hs_email_subject",
    "task": "hs_task_subject",
}


def _associated_deal_ids(obj: Mapping[str, Any]) -> list[str]:
    results = _object(_object(obj, "associations"), "deals").get("results") or []
    deal_ids: list[str] = []
    for association in results:
        if _is_object(association) and association.get("id"):
            deal_id = str(association["id"])
            if deal_id not in deal_ids:
                deal_ids.append(deal_id)
    return deal_ids


def _hubspot_engagement(
    kind: str, obj: Mapping[str, Any], settings: Mapping[str, Any], owners: Mapping[str, Any]
) -> Normalised:
    object_id = str(_require(obj, "id", f"HubSpot {kind}", "object.id"))
    payload_name = f"HubSpot {kind} {object_id}"
    properties = _require(obj, "properties", payload_name, "object.properties")
    if obj.get("archived"):
        return Normalised(ignored=f"{payload_name} is archived: the signal it made stays, nothing is added")
    when = properties.get("hs_timestamp") or obj.get("createdAt")
    if not when:
        raise PayloadError(payload_name, "object.properties.hs_timestamp")
    occurred_at = parse_time(when, payload_name, "object.properties.hs_timestamp")
    owner = _hubspot_owner(properties.get("hubspot_owner_id"), owners)
    deal_ids = _associated_deal_ids(obj)
    text = " - ".join(
        part
        for part in (clean_text(properties.get(name)) for name in _ENGAGEMENT_TEXT_PROPERTIES[kind])
        if part
    )
    engagement_id = f"{kind}:{object_id}"
    if deal_ids:
        # Engagements attach to their deals; a deal not stored yet is created as a placeholder.
        work_items = [
            WorkItemDraft(
                provider="hubspot",
                external_id=deal_id,
                key=deal_id,
                kind="deal",
                url=_hubspot_record_url(settings, "0-3", deal_id),
                reference_only=True,
            )
            for deal_id in deal_ids
        ]
        work_item_id = deal_ids[0]
    else:
        title_property = _ENGAGEMENT_TITLE_PROPERTY.get(kind)
        updated_raw = obj.get("updatedAt")
        work_items = [
            WorkItemDraft(
                provider="hubspot",
                external_id=engagement_id,
                key=engagement_id,
                kind="engagement",
                title=clean_text(properties.get(title_property))[:500] if title_property else kind.title(),
                attributes={"engagement": kind},
                updated_at=parse_time(updated_raw, payload_name, "object.updatedAt") if updated_raw else None,
            )
        ]
        work_item_id = engagement_id
    signal = SignalDraft(
        provider="hubspot",
        external_id=engagement_id,
        work_item_id=work_item_id,
        kind=kind,
        occurred_at=occurred_at,
        actor_id=owner.external_id if owner else None,
        text=text,
        attributes={"deal_ids": deal_ids},
        match_context=None if deal_ids else [],
        context_deals=deal_ids,
    )
    return Normalised(work_items=work_items, signals=[signal], identities=[owner] if owner else [])


def hubspot_object(payload: Mapping[str, Any], settings: Mapping[str, Any]) -> Normalised:
    """A CRM v3 object with its type (see the module docstring)."""
    object_type = str(_require(payload, "object_type", "HubSpot object"))
    obj = _require(payload, "object", f"HubSpot {object_type} object")
    owners = _object(payload, "owners")
    if object_type == "deals":
        return _hubspot_deal(obj, settings, owners)
    kind = HUBSPOT_ENGAGEMENT_KINDS.get(object_type)
    if kind is None:
        return Normalised(ignored=f"HubSpot {object_type} objects are not taken")
    return _hubspot_engagement(kind, obj, settings, owners)


# --- Choosing a normaliser, dedupe keys, redaction ---------------------------------------------------


def normalise(provider: str, payload: Mapping[str, Any], settings: Mapping[str, Any]) -> Normalised:
    """The normaliser for ``provider`` that fits ``payload``'s shape."""
    if not _is_object(payload):
        raise PayloadError(f"{provider} payload", "payload", "is not a JSON object")
    if provider == "jira":
        if "webhookEvent" in payload:
            return jira_webhook(payload, settings)
        return jira_issue(payload, settings)
    if provider == "slack":
        if "message" in payload and "channel" in payload and "type" not in payload:
            return slack_history_message(payload, settings)
        return slack_event(payload, settings)
    if provider == "hubspot":
        return hubspot_object(payload, settings)
    raise PayloadError(f"{provider} payload", "provider", "is not a known provider")


def dedupe_key_for(provider: str, payload: Mapping[str, Any]) -> str:
    """The dedupe key of a payload when the transport gives none of its own (pulls, replays).

    Webhooks use the vendor's delivery id instead where it has one (Jira's X-Atlassian-Webhook-Identifier,
    HubSpot's eventId); either way the signals are the same, so two keys for one activity are harmless.
    """
    if provider == "jira":
        issue = _object(payload, "issue") if "webhookEvent" in payload else payload
        issue_id = issue.get("id") or "?"
        updated = _object(issue, "fields").get("updated") or payload.get("timestamp") or ""
        if "webhookEvent" in payload:
            detail = _object(payload, "changelog").get("id") or _object(payload, "comment").get("id") or ""
            return f"{payload['webhookEvent']}:{issue_id}:{updated}:{detail}"[:255]
        return f"issue:{issue_id}:{updated}"[:255]
    if provider == "slack":
        if payload.get("event_id"):
            return str(payload["event_id"])
        message = _object(payload, "message")
        edited = _object(message, "edited").get("ts") or ""
        return f"{payload.get('channel')}:{message.get('ts')}:{edited}".rstrip(":")[:255]
    if provider == "hubspot":
        obj = _object(payload, "object")
        updated = obj.get("updatedAt") or _object(obj, "properties").get("hs_lastmodifieddate") or ""
        return f"{payload.get('object_type')}:{obj.get('id')}:{updated}:{bool(obj.get('archived'))}"[:255]
    raise PayloadError(f"{provider} payload", "provider", "is not a known provider")


_HUBSPOT_TEXT_PROPERTIES = {
    "hs_note_body",
    "hs_call_body",
    "hs_call_title",
    "hs_meeting_body",
    "hs_meeting_title",
    "hs_email_text",
    "hs_email_html",
    "hs_email_subject",
    "hs_task_body",
    "hs_task_subject",
    "hs_body_preview",
    "hs_body_preview_html",
}
_SLACK_TEXT_KEYS = ("text", "blocks", "attachments", "files", "previous_message", "message")


def redact_payload_text(provider: str, payload: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of a stored payload without the free text people wrote (messages, comments, notes).

    What mapping and counting need (ids, times, fields, stages) stays, so processing the redacted payload
    again gives the same work items and signals, without text.
    """

    def without(container: Any, keys: Iterable[str], blank: Callable[[Any], Any]) -> Any:
        if not _is_object(container):
            return container
        return {key: (blank(value) if key in keys else value) for key, value in container.items()}

    def empty(value: Any) -> Any:
        return "" if isinstance(value, str) else [] if isinstance(value, list) else {}

    copy = dict(payload)
    if provider == "jira":
        if "comment" in copy:
            copy["comment"] = without(copy["comment"], {"body"}, empty)
        issue_holder = "issue" if "webhookEvent" in copy else None
        issue = dict(copy.get(issue_holder) or {}) if issue_holder else copy
        fields = dict(_object(issue, "fields"))
        if fields:
            fields["description"] = None
            comments = _object(fields, "comment").get("comments")
            if isinstance(comments, list):
                fields["comment"] = {
                    **_object(fields, "comment"),
                    "comments": [without(comment, {"body"}, empty) for comment in comments],
                }
            issue["fields"] = fields
        if issue_holder:
            copy[issue_holder] = issue
    elif provider == "slack":
        if "event" in copy:
            copy["event"] = without(copy["event"], _SLACK_TEXT_KEYS, empty)
        if "message" in copy:
            copy["message"] = without(copy["message"], _SLACK_TEXT_KEYS, empty)
    elif provider == "hubspot":
        obj = dict(_object(copy, "object"))
        if obj:
            obj["properties"] = without(_object(obj, "properties"), _HUBSPOT_TEXT_PROPERTIES, empty)
            copy["object"] = obj
    return copy
