"""Shapes of the check-in API: what it answers, and what it accepts before ``goals.checkins`` checks it.

As in the goal API, input serializers only shape and type the request; the rules live in the services.
Key results are given by id and looked up in the organisation in context only.
"""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from goals.checkin_selectors import may_read_upward_feedback
from goals.checkins import KeyResultUpdateEntry, PriorityEntry
from goals.line_of_sight import line_of_sight_sentence
from goals.models import (
    CheckIn,
    CheckInKeyResultUpdate,
    CheckInPriority,
    CheckInReply,
    KeyResult,
    KeyResultStatus,
    PulseAnswer,
)
from goals.serializers import OrganizationObjectField

# --- What the API answers ---------------------------------------------------------------------------


class CheckInPrioritySerializer(serializers.ModelSerializer):
    line_of_sight = serializers.SerializerMethodField()

    class Meta:
        model = CheckInPriority
        fields = ["position", "text", "key_result", "unlinked", "line_of_sight"]
        read_only_fields = fields

    def get_line_of_sight(self, priority: CheckInPriority) -> str | None:
        """From the linked key result up to the company objective it serves; null when unlinked."""
        if priority.key_result is None:
            return None
        request = self.context.get("request")
        return line_of_sight_sentence(priority.key_result, viewer=getattr(request, "membership", None))


class CheckInKeyResultUpdateSerializer(serializers.ModelSerializer):
    key_result_title = serializers.CharField(source="key_result.title", read_only=True)

    class Meta:
        model = CheckInKeyResultUpdate
        fields = ["key_result", "key_result_title", "status", "value", "note"]
        read_only_fields = fields


class CheckInSerializer(serializers.ModelSerializer):
    author_name = serializers.CharField(source="membership.user.full_name", read_only=True)
    priorities = CheckInPrioritySerializer(many=True, read_only=True)
    key_result_updates = CheckInKeyResultUpdateSerializer(many=True, read_only=True)
    # Not read-only, so that the schema does not list it as always present: it is left out for anyone but
    # the author and the manager it was written for. (This serializer is never used for input.)
    upward_feedback = serializers.CharField(
        required=False, help_text="Feedback for the manager; present only for the author and that manager."
    )
    reply_count = serializers.SerializerMethodField()

    class Meta:
        model = CheckIn
        fields = [
            "id",
            "membership",
            "author_name",
            "week",
            "state",
            "submitted_at",
            "priorities",
            "key_result_updates",
            "blockers",
            "upward_feedback",
            "next_week_success",
            "manager",
            "discussed_at",
            "discussed_by",
            "reply_count",
            "created_at",
            "updated_at",
        ]
        read_only_fields = [name for name in fields if name != "upward_feedback"]

    def get_reply_count(self, check_in: CheckIn) -> int:
        return int(getattr(check_in, "reply_count", 0) or 0)

    def to_representation(self, instance: CheckIn) -> dict[str, Any]:
        data: dict[str, Any] = super().to_representation(instance)
        viewer = getattr(self.context.get("request"), "membership", None)
        if viewer is None or not may_read_upward_feedback(viewer, instance):
            data.pop("upward_feedback", None)
        return data


class CheckInReplySerializer(serializers.ModelSerializer):
    author_name = serializers.CharField(source="author.user.full_name", read_only=True)

    class Meta:
        model = CheckInReply
        fields = ["id", "check_in", "author", "author_name", "text", "created_at"]
        read_only_fields = fields


class PulseAnswerSerializer(serializers.ModelSerializer):
    class Meta:
        model = PulseAnswer
        fields = ["id", "membership", "week", "score", "team", "check_in", "answered_at"]
        read_only_fields = fields


# --- What the API accepts ---------------------------------------------------------------------------


class PriorityInputSerializer(serializers.Serializer):
    text = serializers.CharField(allow_blank=True, default="")
    key_result = OrganizationObjectField(
        lambda: KeyResult.objects.all(),
        allow_null=True,
        default=None,
        help_text="The key result the outcome moves; null with unlinked true when it moves none.",
    )
    unlinked = serializers.BooleanField(
        default=False, help_text="True when the author says the outcome serves no key result."
    )


class KeyResultUpdateInputSerializer(serializers.Serializer):
    key_result = OrganizationObjectField(lambda: KeyResult.objects.all())
    status = serializers.ChoiceField(
        choices=KeyResultStatus.choices, allow_blank=True, default="", help_text="Required to submit."
    )
    value = serializers.FloatField(
        allow_null=True,
        default=None,
        help_text="A new current value, in the key result's unit; recorded as its progress on submission.",
    )
    note = serializers.CharField(allow_blank=True, default="")


class CheckInChangesSerializer(serializers.Serializer):
    """Only the parts sent are changed; ``priorities`` and ``key_result_updates``, when sent, replace the
    lists (an empty priority row is left out)."""

    priorities = PriorityInputSerializer(many=True, required=False)
    key_result_updates = KeyResultUpdateInputSerializer(many=True, required=False)
    blockers = serializers.CharField(allow_blank=True, required=False, trim_whitespace=False)
    upward_feedback = serializers.CharField(
        allow_blank=True,
        required=False,
        trim_whitespace=False,
        help_text="Read only by the author's manager.",
    )
    next_week_success = serializers.CharField(allow_blank=True, required=False, trim_whitespace=False)


class CheckInCreateSerializer(CheckInChangesSerializer):
    week = serializers.DateField(
        required=False,
        help_text="The Monday that starts the week, in the organisation's time zone; this week if left out.",
    )


class CheckInReplyCreateSerializer(serializers.Serializer):
    text = serializers.CharField(allow_blank=True)


class PulseAnswerCreateSerializer(serializers.Serializer):
    score = serializers.IntegerField(help_text='"I can explain how my work supports company goals", 1 to 5.')
    week = serializers.DateField(required=False, help_text="A Monday; this week if left out.")


def check_in_changes(data: dict[str, Any]) -> dict[str, Any]:
    """Validated request data as keyword arguments of ``check_in_save_draft`` and ``check_in_submit``."""
    changes = dict(data)
    if "priorities" in changes:
        changes["priorities"] = [PriorityEntry(**dict(entry)) for entry in changes["priorities"]]
    if "key_result_updates" in changes:
        changes["key_result_updates"] = [
            KeyResultUpdateEntry(**dict(entry)) for entry in changes["key_result_updates"]
        ]
    return changes
