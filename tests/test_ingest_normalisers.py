"""Normalisers turn vendor payloads into work items, signals and identities, with no database involved."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from signals_ingest import normalisers
from signals_ingest.models import SignalKind
from signals_ingest.normalisers import PayloadError, normalise
from tests.ingest_factories import (
    EINAR,
    FATIMA,
    SITE,
    T0,
    blocked_by_link,
    epoch_ms,
    hubspot_deal,
    hubspot_engagement,
    jira_comment,
    jira_created,
    jira_issue,
    jira_time,
    jira_transition,
    slack_envelope,
)

JIRA_SETTINGS = {"site": SITE, "story_points_field": "customfield_10016"}
SLACK_SETTINGS = {"channels": [{"id": "C0ORBITSSO", "name": "sso", "is_private": False}]}
HUBSPOT_SETTINGS = {"portal_id": "24800001"}


# --- Jira -------------------------------------------------------------------------------------------


def test_jira_issue_created_gives_the_issue_and_a_created_signal() -> None:
    payload = jira_created(jira_issue(assignee=FATIMA, labels=["sso", "q4"], components=["Identity"]))
    result = normalise("jira", payload, JIRA_SETTINGS)

    (item,) = result.work_items
    assert (item.external_id, item.key, item.kind) == ("18001", "ONB-7", "issue")
    assert item.title == "Self-serve SSO setup wizard"
    assert item.status == "In Progress"
    assert item.url == f"{SITE}/browse/ONB-7"
    assert item.attributes["project"] == "ONB"
    assert item.attributes["epic"] == "ONB-1"
    assert item.attributes["epic_title"] == "Onboarding without a call"  # the parent epic's own summary
    assert item.attributes["labels"] == ["sso", "q4"]
    assert item.attributes["components"] == ["Identity"]
    assert item.attributes["story_points"] == 3
    assert item.assignee_id == FATIMA["accountId"]
    (signal,) = result.signals
    assert (signal.external_id, signal.kind, signal.weight) == ("18001:created", "issue_created", 1.0)
    assert signal.actor_id == EINAR["accountId"]
    assert signal.occurred_at == T0
    assert {identity.external_id for identity in result.identities} == {
        EINAR["accountId"],
        FATIMA["accountId"],
    }
    assert (
        next(i for i in result.identities if i.external_id == FATIMA["accountId"]).email
        == "fatima@orbit.test"
    )


def test_jira_transition_takes_the_vendor_time_and_skips_the_resolution_that_moves_with_it() -> None:
    later = T0 + timedelta(hours=5, milliseconds=250)
    result = normalise("jira", jira_transition(jira_issue(), history_id="55010", at=later), JIRA_SETTINGS)

    (signal,) = result.signals
    assert signal.external_id == "18001:changelog:55010:status"
    assert signal.kind == "transition"
    assert signal.weight == 2.0
    assert signal.attributes == {"from": "In Progress", "to": "Done"}
    assert signal.occurred_at == later


def test_jira_assignment_and_other_field_changes_are_signals_of_their_own_kind() -> None:
    payload = jira_transition(
        jira_issue(),
        extra_items=[
            {"field": "assignee", "fieldId": "assignee", "from": None, "to": FATIMA["accountId"]},
            {"field": "Story Points", "fieldId": "customfield_10016", "fromString": "3", "toString": "5"},
            {"field": "Rank", "fieldId": "customfield_10019", "fromString": "", "toString": "Ranked higher"},
        ],
    )
    kinds = {
        signal.external_id.rsplit(":", 1)[1]: signal.kind for signal in normalise("jira", payload, {}).signals
    }
    assert kinds == {"status": "transition", "assignee": "assignment", "customfield_10016": "field_change"}


def test_jira_comment_carries_its_text_author_and_time() -> None:
    at = T0 + timedelta(days=1)
    result = normalise("jira", jira_comment(jira_issue(), comment_id="70042", author=FATIMA, at=at), {})

    (signal,) = result.signals
    assert signal.external_id == "18001:comment:70042"
    assert signal.kind == "comment"
    assert signal.actor_id == FATIMA["accountId"]
    assert signal.occurred_at == at
    assert signal.text == "Pairing with Fatima on the metadata upload today."


def test_jira_comment_in_document_format_is_read_as_text() -> None:
    payload = jira_comment(jira_issue())
    payload["comment"]["body"] = {
        "type": "doc",
        "version": 1,
        "content": [
            {"type": "paragraph", "content": [{"type": "text", "text": "Blocked on the IdP upgrade"}]}
        ],
    }
    assert normalise("jira", payload, {}).signals[0].text == "Blocked on the IdP upgrade"


def test_an_epic_is_its_own_epic_and_a_sub_task_names_its_parent() -> None:
    epic = normalise("jira", jira_created(jira_issue("19000", "ONB-1", issue_type="Epic", epic=None)), {})
    assert epic.work_items[0].attributes["epic"] == "ONB-1"
    assert epic.work_items[0].attributes["epic_title"] is None  # its name is its own title

    story_parent = {
        "id": "18001",
        "key": "ONB-7",
        "fields": {"issuetype": {"name": "Story", "subtask": False, "hierarchyLevel": 0}},
    }
    sub_task = normalise(
        "jira",
        jira_created(jira_issue("18002", "ONB-8", issue_type="Sub-task", epic=None, parent=story_parent)),
        {},
    )
    assert sub_task.work_items[0].attributes["epic"] is None
    assert sub_task.work_items[0].attributes["parent"] == "ONB-7"


def test_issue_links_of_type_blocks_inward_are_the_blockers() -> None:
    blocks_other = {
        "id": "31002",
        "type": {"id": "10000", "name": "Blocks", "inward": "is blocked by", "outward": "blocks"},
        "outwardIssue": {"id": "18600", "key": "ONB-20"},
    }
    relates = {
        "id": "31003",
        "type": {"id": "10003", "name": "Relates", "inward": "relates to", "outward": "relates to"},
        "inwardIssue": {"id": "18601", "key": "ONB-21"},
    }
    issue = jira_issue(issuelinks=[blocked_by_link("PLAT-12"), blocks_other, relates])
    (item,) = normalise("jira", jira_created(issue), {}).work_items
    assert item.blocked_by == ["PLAT-12"]


def test_a_link_in_the_changelog_is_a_signal_and_a_blocker_change() -> None:
    at = T0 + timedelta(hours=2)
    payload = jira_transition(jira_issue(), history_id="55020", at=at)
    payload["issue"]["fields"].pop("issuelinks")
    payload["changelog"]["items"] = [
        {
            "field": "Link",
            "fieldtype": "jira",
            "to": "PLAT-12",
            "toString": "This issue is blocked by PLAT-12",
        },
        {
            "field": "Link",
            "fieldtype": "jira",
            "from": "PLAT-9",
            "fromString": "This issue is blocked by PLAT-9",
        },
    ]
    result = normalise("jira", payload, {})

    (item,) = result.work_items
    assert item.blocked_by is None  # the payload does not show the full list
    assert item.links_added == [("PLAT-12", at)]
    assert item.links_removed == ["PLAT-9"]
    assert [signal.external_id for signal in result.signals] == [
        "18001:changelog:55020:link:PLAT-12",
        "18001:changelog:55020:link:PLAT-9",
    ]
    assert {signal.kind for signal in result.signals} == {"link"}


def test_a_pulled_issue_gives_the_same_signal_ids_as_its_webhooks() -> None:
    created = T0
    moved = T0 + timedelta(hours=3)
    commented = T0 + timedelta(hours=4)
    issue = jira_issue(created=created, updated=commented)
    issue["changelog"] = {
        "startAt": 0,
        "maxResults": 100,
        "total": 1,
        "histories": [
            {
                "id": "55001",
                "author": EINAR,
                "created": jira_time(moved),
                "items": [
                    {"field": "status", "fieldId": "status", "fromString": "To Do", "toString": "Done"}
                ],
            }
        ],
    }
    issue["fields"]["comment"] = {
        "comments": [
            {"id": "70001", "author": FATIMA, "body": "Shipped to staging.", "created": jira_time(commented)}
        ],
        "total": 1,
    }
    pulled = normalise("jira", issue, JIRA_SETTINGS)

    from_webhooks = [
        *normalise("jira", jira_created(jira_issue(created=created)), JIRA_SETTINGS).signals,
        *normalise(
            "jira", jira_transition(jira_issue(), history_id="55001", at=moved), JIRA_SETTINGS
        ).signals,
        *normalise(
            "jira", jira_comment(jira_issue(), comment_id="70001", at=commented), JIRA_SETTINGS
        ).signals,
    ]
    assert {(s.external_id, s.occurred_at) for s in pulled.signals} == {
        (s.external_id, s.occurred_at) for s in from_webhooks
    }


def test_a_jira_event_type_that_carries_no_activity_is_ignored_not_refused() -> None:
    result = normalise("jira", {"webhookEvent": "jira:version_released", "timestamp": 1, "version": {}}, {})
    assert result.work_items == []
    assert result.signals == []
    assert "version_released" in result.ignored


@pytest.mark.parametrize(
    ("damage", "named"),
    [
        (lambda payload: payload["issue"].pop("key"), "issue.key"),
        (lambda payload: payload.pop("issue"), "issue"),
        (lambda payload: payload["issue"].__setitem__("fields", None), "issue.fields"),
        (lambda payload: payload["comment"].pop("id"), "comment.id"),
    ],
)
def test_a_jira_payload_missing_what_it_needs_names_the_field(damage, named: str) -> None:  # type: ignore[no-untyped-def]
    payload = jira_comment(jira_issue())
    damage(payload)
    with pytest.raises(PayloadError) as error:
        normalise("jira", payload, {})
    assert str(error.value).startswith("Jira webhook comment_created: ")
    assert named in str(error.value)


# --- Slack ------------------------------------------------------------------------------------------


def test_a_slack_message_is_a_signal_on_its_thread_at_the_exact_vendor_time() -> None:
    result = normalise("slack", slack_envelope(ts="1793610000.000100"), SLACK_SETTINGS)

    (item,) = result.work_items
    assert (item.external_id, item.kind) == ("C0ORBITSSO:1793610000.000100", "thread")
    assert item.attributes["channel"] == "C0ORBITSSO"
    assert item.title.startswith("#sso thread")
    (signal,) = result.signals
    assert signal.external_id == "C0ORBITSSO:1793610000.000100"
    assert signal.occurred_at == datetime(2026, 11, 2, 9, 0, 0, 100, tzinfo=UTC)
    assert (signal.kind, signal.actor_id, signal.weight) == ("message", "U0FATIMA01", 0.5)
    assert signal.text == "SSO wizard is in review, feedback welcome"
    assert result.identities[0].external_id == "U0FATIMA01"


def test_a_thread_reply_belongs_to_the_thread_work_item() -> None:
    reply = slack_envelope(event_id="Ev0SLK0002", ts="1793610900.000200", thread_ts="1793610000.000100")
    (signal,) = normalise("slack", reply, SLACK_SETTINGS).signals
    assert signal.work_item_id == "C0ORBITSSO:1793610000.000100"
    assert signal.external_id == "C0ORBITSSO:1793610900.000200"
    assert signal.attributes["reply"] is True


def test_a_pulled_history_message_gives_the_same_signal_as_the_event() -> None:
    event = slack_envelope()
    pulled = {"channel": "C0ORBITSSO", "message": {k: v for k, v in event["event"].items() if k != "channel"}}
    assert (
        normalise("slack", pulled, SLACK_SETTINGS).signals
        == normalise("slack", event, SLACK_SETTINGS).signals
    )


@pytest.mark.parametrize(
    "payload",
    [
        slack_envelope(channel="C0NOTCHOSEN"),
        slack_envelope(channel="D0DIRECT01", channel_type="im"),
        slack_envelope(subtype="channel_join"),
        slack_envelope(bot_id="B0DEPLOYBOT"),
        {"type": "url_verification", "challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"},
    ],
    ids=["unselected channel", "direct message", "join", "bot", "url verification"],
)
def test_slack_payloads_that_are_not_read_yield_nothing(payload: dict) -> None:  # type: ignore[type-arg]
    result = normalise("slack", payload, SLACK_SETTINGS)
    assert result.signals == []
    assert result.work_items == []
    assert result.ignored


def test_a_deleted_slack_message_asks_for_its_text_to_go() -> None:
    payload = slack_envelope(subtype="message_deleted", deleted_ts="1793610000.000100")
    payload["event"].pop("user")
    assert normalise("slack", payload, SLACK_SETTINGS).redact_signal_ids == ["C0ORBITSSO:1793610000.000100"]


def test_only_selected_channels_and_never_direct_messages_are_read() -> None:
    assert normalisers.slack_payload_is_read(slack_envelope(), SLACK_SETTINGS)
    assert not normalisers.slack_payload_is_read(slack_envelope(channel="C0NOTCHOSEN"), SLACK_SETTINGS)
    with_dm = {"channels": [{"id": "D0DIRECT01", "name": "dm"}]}
    assert not normalisers.slack_payload_is_read(
        slack_envelope(channel="D0DIRECT01", channel_type="im"), with_dm
    )


def test_a_slack_message_without_a_user_names_the_field() -> None:
    payload = slack_envelope()
    payload["event"].pop("user")
    with pytest.raises(PayloadError, match=r"Slack event Ev0SLK0001: event\.user is missing"):
        normalise("slack", payload, SLACK_SETTINGS)


# --- HubSpot ----------------------------------------------------------------------------------------


def test_a_deal_gives_the_work_item_and_a_stage_change() -> None:
    result = normalise("hubspot", hubspot_deal(stage="qualifiedtobuy"), HUBSPOT_SETTINGS)

    (item,) = result.work_items
    assert (item.external_id, item.key, item.kind, item.status) == (
        "4410001",
        "4410001",
        "deal",
        "qualifiedtobuy",
    )
    assert item.attributes["pipeline"] == "enterprise"
    assert item.url == "https://app.hubspot.com/contacts/24800001/record/0-3/4410001"
    assert item.assignee_id == "81000001"
    (signal,) = result.signals
    assert signal.external_id == f"deal:4410001:stage:qualifiedtobuy:{epoch_ms(T0)}"
    assert (signal.kind, signal.weight, signal.actor_id) == ("stage_change", 2.0, "81000001")
    assert signal.match_context == [{"pipeline": ["enterprise"], "dealstage": ["qualifiedtobuy"]}]
    assert signal.stage_entry_known is False


def test_a_deal_stage_entry_time_is_taken_when_the_payload_has_it() -> None:
    entered = T0 - timedelta(days=2)
    payload = hubspot_deal(
        stage="qualifiedtobuy", hs_v2_date_entered_qualifiedtobuy=entered.strftime("%Y-%m-%dT%H:%M:%S.000Z")
    )
    (signal,) = normalise("hubspot", payload, {}).signals
    assert signal.occurred_at == entered
    assert signal.stage_entry_known


def test_a_deal_with_its_stage_history_gives_every_stage_change() -> None:
    payload = hubspot_deal(stage="contractsent")
    payload["object"]["propertiesWithHistory"] = {
        "dealstage": [
            {"value": "contractsent", "timestamp": "2026-11-02T09:00:00.000Z", "sourceType": "CRM_UI"},
            {"value": "qualifiedtobuy", "timestamp": "2026-10-20T09:00:00.000Z", "sourceType": "CRM_UI"},
        ]
    }
    stages = {signal.attributes["stage"] for signal in normalise("hubspot", payload, {}).signals}
    assert stages == {"contractsent", "qualifiedtobuy"}


def test_an_archived_deal_is_marked_and_adds_no_signal() -> None:
    result = normalise("hubspot", hubspot_deal(archived=True), {})
    assert result.work_items[0].archived
    assert result.signals == []


def test_an_engagement_attaches_to_its_deals_and_takes_their_mapping() -> None:
    payload = hubspot_engagement(
        "calls",
        deal_ids=["4410001", "4410002"],
        hs_call_title="Security review",
        hs_call_body="<p>Went well</p>",
    )
    result = normalise("hubspot", payload, {})

    (signal,) = result.signals
    assert (signal.external_id, signal.kind, signal.weight) == ("call:5520001", "call", 2.0)
    assert signal.work_item_id == "4410001"
    assert signal.context_deals == ["4410001", "4410002"]
    assert signal.text == "Security review - Went well"
    assert [(item.external_id, item.reference_only) for item in result.work_items] == [
        ("4410001", True),
        ("4410002", True),
    ]


def test_an_engagement_without_a_deal_is_unlinked_work_of_its_own() -> None:
    result = normalise("hubspot", hubspot_engagement("notes", object_id="5530001", hs_note_body="Intro"), {})
    assert result.work_items[0].external_id == "note:5530001"
    assert result.work_items[0].kind == "engagement"
    assert result.signals[0].work_item_id == "note:5530001"


def test_a_hubspot_object_without_its_type_or_id_names_the_field() -> None:
    with pytest.raises(PayloadError, match="HubSpot object: object_type is missing"):
        normalise("hubspot", {"object": {"id": "1"}}, {})
    payload = hubspot_deal()
    payload["object"].pop("id")
    with pytest.raises(PayloadError, match=r"object\.id is missing"):
        normalise("hubspot", payload, {})


# --- Shared -----------------------------------------------------------------------------------------


def test_every_signal_kind_has_a_weight() -> None:
    assert set(normalisers.SIGNAL_WEIGHTS) == set(SignalKind.values)


def test_dedupe_keys_are_stable_for_the_same_payload_and_differ_for_another_state() -> None:
    first = jira_transition(jira_issue(), history_id="55001")
    assert normalisers.dedupe_key_for("jira", first) == normalisers.dedupe_key_for("jira", first)
    assert normalisers.dedupe_key_for("jira", first) != normalisers.dedupe_key_for(
        "jira", jira_transition(jira_issue(), history_id="55002")
    )
    assert normalisers.dedupe_key_for("slack", slack_envelope()) == "Ev0SLK0001"
    assert normalisers.dedupe_key_for("hubspot", hubspot_deal()) != normalisers.dedupe_key_for(
        "hubspot", hubspot_deal(at=T0 + timedelta(minutes=1))
    )


def test_redacting_a_payload_removes_text_and_keeps_what_counting_needs() -> None:
    for provider, payload in [
        ("jira", jira_comment(jira_issue())),
        ("slack", slack_envelope()),
        ("hubspot", hubspot_engagement("notes", hs_note_body="Customer wants SAML")),
    ]:
        before = normalise(provider, payload, {**SLACK_SETTINGS})
        after = normalise(provider, normalisers.redact_payload_text(provider, payload), {**SLACK_SETTINGS})
        assert [s.external_id for s in after.signals] == [s.external_id for s in before.signals]
        assert all(s.text for s in before.signals)
        assert not any(s.text for s in after.signals)
