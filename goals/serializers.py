"""Shapes of the goal API: what it answers, and what it accepts before ``goals.services`` checks it.

Input serializers only shape and type the request; every rule about goals lives in the services, so the
API refuses exactly what the forms refuse. Related objects are given by id and looked up in the
organisation in context only: another organisation's id "does not exist".
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db.models import QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from goals.guardrails import KPIStatus, kpi_status
from goals.line_of_sight import line_of_sight_sentence
from goals.models import (
    KPI,
    Cycle,
    Direction,
    Initiative,
    KeyResult,
    KPIReading,
    Level,
    Objective,
    ObjectiveState,
    ObjectiveType,
)
from okrsignal.models import Membership, Team


@extend_schema_field(OpenApiTypes.INT)
class OrganizationObjectField(serializers.PrimaryKeyRelatedField):
    """An id of an object of the organisation in context.

    The queryset is built per request, inside the organisation's context (a tenant-scoped manager cannot
    be queried when the serializer class is defined).
    """

    def __init__(self, choices: Callable[[], QuerySet[Any]], **kwargs: Any) -> None:
        self.scoped_queryset = choices
        super().__init__(**kwargs)

    def get_queryset(self) -> QuerySet[Any]:
        return self.scoped_queryset()


def _active_members() -> QuerySet[Membership]:
    return Membership.objects.filter(is_active=True)


def _link(choices: Callable[[], QuerySet[Any]], *, update: bool = False) -> OrganizationObjectField:
    """An optional link: null when left out of a create, untouched when left out of an update."""
    return OrganizationObjectField(
        choices, allow_null=True, **({"required": False} if update else {"default": None})
    )


def _member(*, update: bool = False) -> OrganizationObjectField:
    return _link(_active_members, update=update)


def _members(*, update: bool = False) -> serializers.ManyRelatedField:
    extra: dict[str, Any] = {"required": False} if update else {"default": list}
    return OrganizationObjectField(_active_members, many=True, **extra)  # type: ignore[return-value]


def _warning_reasons() -> serializers.DictField:
    return serializers.DictField(
        child=serializers.CharField(allow_blank=True),
        required=False,
        help_text="Written reasons for going ahead despite warnings, keyed by warning code, as "
        '{"too_many_objectives": "Two of these close in week 2."}. A 400 lists the codes that need one.',
    )


# --- What the API answers ---------------------------------------------------------------------------


class WarningRecordSerializer(serializers.Serializer):
    """A warning the goal was saved with, and the reason given for going ahead."""

    code = serializers.CharField()
    field = serializers.CharField()
    message = serializers.CharField()
    reason = serializers.CharField()


class CycleSerializer(serializers.ModelSerializer):
    class Meta:
        model = Cycle
        fields = ["id", "name", "start", "end", "closed_at"]
        read_only_fields = fields


class ObjectiveSerializer(serializers.ModelSerializer):
    warnings = WarningRecordSerializer(many=True, read_only=True)

    class Meta:
        model = Objective
        fields = [
            "id",
            "cycle",
            "title",
            "description",
            "level",
            "owner",
            "team",
            "parent",
            "type",
            "state",
            "state_reason",
            "weight",
            "needs_realignment",
            "carried_from",
            "final_score",
            "warnings",
            "created_at",
        ]
        read_only_fields = fields


class KeyResultSerializer(serializers.ModelSerializer):
    contributors = serializers.SerializerMethodField()
    line_of_sight = serializers.SerializerMethodField()
    warnings = WarningRecordSerializer(many=True, read_only=True)

    class Meta:
        model = KeyResult
        fields = [
            "id",
            "objective",
            "title",
            "unit",
            "baseline",
            "target",
            "direction",
            "current_value",
            "confidence",
            "owner",
            "contributors",
            "parent_key_result",
            "weight",
            "line_of_sight",
            "warnings",
            "created_at",
        ]
        read_only_fields = fields

    def get_line_of_sight(self, key_result: KeyResult) -> str:
        """From this key result up to the company objective it serves, or saying it serves none."""
        request = self.context.get("request")
        return line_of_sight_sentence(key_result, viewer=getattr(request, "membership", None))

    def get_contributors(self, key_result: KeyResult) -> list[int]:
        """Ids of the memberships expected to work on the key result besides its owner."""
        return sorted(link.membership_id for link in key_result.contributor_links.all())


class InitiativeSerializer(serializers.ModelSerializer):
    warnings = WarningRecordSerializer(many=True, read_only=True)

    class Meta:
        model = Initiative
        fields = ["id", "key_result", "title", "owner", "jira_epic_key", "warnings", "created_at"]
        read_only_fields = fields


class KPISerializer(serializers.ModelSerializer):
    objectives = serializers.SerializerMethodField()
    latest_value = serializers.SerializerMethodField()
    status = serializers.SerializerMethodField()

    class Meta:
        model = KPI
        fields = [
            "id",
            "name",
            "unit",
            "direction",
            "green",
            "red",
            "owner",
            "team",
            "objectives",
            "latest_value",
            "status",
            "created_at",
        ]
        read_only_fields = fields

    def get_objectives(self, kpi: KPI) -> list[int]:
        """Ids of the objectives the KPI guards."""
        return sorted(tag.objective_id for tag in kpi.objective_tags.all())

    def get_latest_value(self, kpi: KPI) -> float | None:
        """The most recent reading, or null before the first one."""
        return getattr(kpi, "latest_value", None)

    def get_status(self, kpi: KPI) -> KPIStatus | None:
        """green, amber or red for the most recent reading; null before the first one."""
        value = getattr(kpi, "latest_value", None)
        if value is None:
            return None
        return kpi_status(direction=kpi.direction, green=kpi.green, red=kpi.red, value=value)


class KPIReadingSerializer(serializers.ModelSerializer):
    class Meta:
        model = KPIReading
        fields = ["id", "kpi", "value", "recorded_at", "recorded_by", "note", "objective"]
        read_only_fields = fields


# --- What the API accepts ---------------------------------------------------------------------------


class CycleCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=60)
    start = serializers.DateField()
    end = serializers.DateField()


# An objective starts as a draft or active. Pausing or cancelling needs a reason, so it goes through the
# state endpoint, never through creation.
STARTING_STATES = [(state.value, state.label) for state in (ObjectiveState.DRAFT, ObjectiveState.ACTIVE)]


class ObjectiveCreateSerializer(serializers.Serializer):
    cycle = OrganizationObjectField(lambda: Cycle.objects.all())
    title = serializers.CharField(max_length=200)
    description = serializers.CharField(allow_blank=True, default="")
    level = serializers.ChoiceField(choices=Level.choices)
    owner = _member()
    team = _link(lambda: Team.objects.all())
    # Declared fields are taken off the class, so this never shadows a serializer's own ``parent``.
    parent = _link(lambda: Objective.objects.all())  # type: ignore[assignment]
    type = serializers.ChoiceField(choices=ObjectiveType.choices, default=ObjectiveType.COMMITTED)
    state = serializers.ChoiceField(choices=STARTING_STATES, default=ObjectiveState.ACTIVE)
    weight = serializers.FloatField(min_value=0, default=1.0)
    warning_reasons = _warning_reasons()


class ObjectiveUpdateSerializer(serializers.Serializer):
    """Only the fields sent are changed."""

    title = serializers.CharField(max_length=200, required=False)
    description = serializers.CharField(allow_blank=True, required=False)
    owner = _member(update=True)
    team = _link(lambda: Team.objects.all(), update=True)
    parent = _link(lambda: Objective.objects.all(), update=True)  # type: ignore[assignment]
    type = serializers.ChoiceField(choices=ObjectiveType.choices, required=False)
    weight = serializers.FloatField(min_value=0, required=False)
    warning_reasons = _warning_reasons()


class ObjectiveStateChangeSerializer(serializers.Serializer):
    state = serializers.ChoiceField(choices=ObjectiveState.choices)
    reason = serializers.CharField(
        allow_blank=True, default="", help_text="Required when pausing or cancelling."
    )


class KeyResultCreateSerializer(serializers.Serializer):
    objective = OrganizationObjectField(lambda: Objective.objects.select_related("cycle"))
    title = serializers.CharField(max_length=200)
    # Blank is let through so that the measurability rule, not the serializer, explains what is missing.
    unit = serializers.CharField(max_length=30, allow_blank=True)
    baseline = serializers.FloatField()
    target = serializers.FloatField()
    direction = serializers.ChoiceField(
        choices=Direction.choices,
        required=False,
        allow_null=True,
        help_text="Worked out from baseline and target when left out.",
    )
    owner = _member()
    contributors = _members()
    parent_key_result = _link(lambda: KeyResult.objects.select_related("objective"))
    current_value = serializers.FloatField(required=False, allow_null=True)
    confidence = serializers.FloatField(min_value=0, max_value=1, required=False, allow_null=True)
    weight = serializers.FloatField(min_value=0, default=1.0)
    warning_reasons = _warning_reasons()


class KeyResultUpdateSerializer(serializers.Serializer):
    """Only the fields sent are changed; ``contributors``, when sent, replaces the list."""

    title = serializers.CharField(max_length=200, required=False)
    unit = serializers.CharField(max_length=30, allow_blank=True, required=False)
    baseline = serializers.FloatField(required=False)
    target = serializers.FloatField(required=False)
    direction = serializers.ChoiceField(choices=Direction.choices, required=False)
    owner = _member(update=True)
    contributors = _members(update=True)
    parent_key_result = _link(lambda: KeyResult.objects.select_related("objective"), update=True)
    weight = serializers.FloatField(min_value=0, required=False)


class ProgressSerializer(serializers.Serializer):
    value = serializers.FloatField(help_text="The key result's new current value, in its unit.")
    confidence = serializers.FloatField(required=False, allow_null=True, help_text="From 0 to 1.")
    note = serializers.CharField(allow_blank=True, default="", help_text="Kept in the key result's history.")


class InitiativeCreateSerializer(serializers.Serializer):
    key_result = OrganizationObjectField(lambda: KeyResult.objects.all())
    title = serializers.CharField(max_length=200, allow_blank=True)
    owner = _member()
    jira_epic_key = serializers.CharField(max_length=40, allow_blank=True, default="")


class KPICreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    unit = serializers.CharField(max_length=30)
    direction = serializers.ChoiceField(choices=Direction.choices)
    green = serializers.FloatField()
    red = serializers.FloatField()
    owner = _member()
    team = _link(lambda: Team.objects.all())
    objectives = OrganizationObjectField(lambda: Objective.objects.all(), many=True, default=list)


class KPIUpdateSerializer(serializers.Serializer):
    """Only the fields sent are changed."""

    name = serializers.CharField(max_length=200, required=False)
    unit = serializers.CharField(max_length=30, required=False)
    direction = serializers.ChoiceField(choices=Direction.choices, required=False)
    green = serializers.FloatField(required=False)
    red = serializers.FloatField(required=False)
    owner = _member(update=True)
    team = _link(lambda: Team.objects.all(), update=True)


class InitiativeUpdateSerializer(serializers.Serializer):
    """Only the fields sent are changed."""

    title = serializers.CharField(max_length=200, required=False)
    owner = _member(update=True)
    jira_epic_key = serializers.CharField(max_length=40, allow_blank=True, required=False)


class KPIReadingCreateSerializer(serializers.Serializer):
    kpi = OrganizationObjectField(lambda: KPI.objects.all())
    value = serializers.FloatField()
    note = serializers.CharField(
        allow_blank=True,
        default="",
        help_text="Required when the reading crosses a threshold or moves more than the configured share.",
    )
    objective = _link(lambda: Objective.objects.all())


# --- What a refusal looks like ----------------------------------------------------------------------


class GoalWarningSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="Send a reason under this code in warning_reasons.")
    field = serializers.CharField()
    message = serializers.CharField()


class GoalProblemsSerializer(serializers.Serializer):
    """A 400. Every other key is a field name with its messages: ``{"unit": ["Say what is measured…"]}``."""

    warnings = GoalWarningSerializer(
        many=True,
        required=False,
        help_text="Warnings that need a written reason; resend with warning_reasons to go ahead.",
    )
