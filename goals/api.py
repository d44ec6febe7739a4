"""The goal API under ``/api/v1/o/<org_slug>/``: cycles, objectives, key results, initiatives, KPIs, KPI
readings and progress updates.

Reads are paginated and filtered, with a fixed number of queries per page whatever its length. Every
write goes through ``goals.services``, so the API applies exactly the rules the forms apply; a broken rule
is a 400 naming the field (``{"unit": ["Say what is measured…"]}``), and a warning is a 400 that also
lists the warning codes under ``warnings``, to be sent back with a written reason for each in
``warning_reasons`` (``{"too_many_objectives": "reason"}``).

Who may write follows ``goals.permissions``, the same rules as the pages, refused with a 403 saying why
and audited:

- objectives: admins at every level, managers team and individual ones for their reporting line, everyone
  their own individual ones; an objective (with its key results and initiatives) is changed by its owner,
  the managers up the owner's reporting line, its team's lead or an admin;
- alignment is re-confirmed by the objective's owner or an admin;
- progress is recorded by the key result's owner and contributors and whoever manages its objective;
  KPIs are added by managers and admins, and readings recorded by them and the KPI's owner.

Everyone in the organisation may read every goal. Another organisation's objects do not exist here (404).
"""

from __future__ import annotations

from typing import Any, ClassVar, NoReturn

import django_filters
from django import forms
from django.db.models import Model, OuterRef, QuerySet, Subquery
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response

from goals import services
from goals.models import (
    KPI,
    Cycle,
    Initiative,
    KeyResult,
    KPIReading,
    Level,
    Objective,
    ObjectiveState,
)
from goals.permissions import (
    may_confirm_alignment,
    may_create_objective,
    may_manage_objective,
    may_record_progress,
    may_record_reading,
    owners_for,
)
from goals.serializers import (
    CycleCreateSerializer,
    CycleSerializer,
    GoalProblemsSerializer,
    InitiativeCreateSerializer,
    InitiativeSerializer,
    InitiativeUpdateSerializer,
    KeyResultCreateSerializer,
    KeyResultSerializer,
    KeyResultUpdateSerializer,
    KPICreateSerializer,
    KPIReadingCreateSerializer,
    KPIReadingSerializer,
    KPISerializer,
    KPIUpdateSerializer,
    ObjectiveCreateSerializer,
    ObjectiveSerializer,
    ObjectiveStateChangeSerializer,
    ObjectiveUpdateSerializer,
    ProgressSerializer,
)
from goals.validation import GoalValidationError
from okrsignal.models import Role
from okrsignal.permissions import OrganizationViewSet, role_allows

REFUSED_BY_RULES = OpenApiResponse(
    GoalProblemsSerializer,
    description="A rule is broken, or warnings need a written reason: messages keyed by field name, "
    "and the warning codes under 'warnings'.",
)


def goal_problems_body(error: GoalValidationError) -> dict[str, Any]:
    """The 400 body for a service's refusal: messages by field, plus the warnings that need a reason."""
    body: dict[str, Any] = {field: list(messages) for field, messages in error.message_dict.items()}
    if error.warnings:
        body["warnings"] = [
            {"code": problem.code, "field": problem.field, "message": problem.message}
            for problem in error.warnings
        ]
    return body


# --- Filters ----------------------------------------------------------------------------------------


@extend_schema_field(OpenApiTypes.INT)
class IdFilter(django_filters.NumberFilter):
    """An object's id. Ids are only ever compared within the organisation in context."""

    field_class = forms.IntegerField


class ObjectiveFilter(django_filters.FilterSet):
    cycle = IdFilter(field_name="cycle_id")
    level = django_filters.ChoiceFilter(choices=Level.choices)
    owner = IdFilter(field_name="owner_id")
    team = IdFilter(field_name="team_id")
    state = django_filters.ChoiceFilter(choices=ObjectiveState.choices)
    parent = IdFilter(field_name="parent_id")

    class Meta:
        model = Objective
        fields = ["cycle", "level", "owner", "team", "state", "parent"]


class KeyResultFilter(django_filters.FilterSet):
    objective = IdFilter(field_name="objective_id")
    owner = IdFilter(field_name="owner_id")

    class Meta:
        model = KeyResult
        fields = ["objective", "owner"]


class InitiativeFilter(django_filters.FilterSet):
    key_result = IdFilter(field_name="key_result_id")
    owner = IdFilter(field_name="owner_id")

    class Meta:
        model = Initiative
        fields = ["key_result", "owner"]


class KPIFilter(django_filters.FilterSet):
    owner = IdFilter(field_name="owner_id")
    team = IdFilter(field_name="team_id")

    class Meta:
        model = KPI
        fields = ["owner", "team"]


class KPIReadingFilter(django_filters.FilterSet):
    kpi = IdFilter(field_name="kpi_id")

    class Meta:
        model = KPIReading
        fields = ["kpi"]


# --- The viewsets -----------------------------------------------------------------------------------


class GoalViewSet(OrganizationViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin):
    """Lists and details of one kind of goal object; subclasses add the writes they allow.

    Write permission is decided by the helpers below, so that the rule stays in one place (see the
    module docstring). A refusal is a 403 with a message (the caller can already read the object; only
    another organisation's objects are hidden behind 404s) and is written to the audit log.
    """

    model: ClassVar[type[Model]]
    filter_backends = [DjangoFilterBackend]

    def get_queryset(self) -> QuerySet[Any]:
        if getattr(self, "swagger_fake_view", False):
            # Describing the API needs only the model: there is no organisation, and nothing to query.
            return self.model._base_manager.none()
        return self.goal_queryset()

    def goal_queryset(self) -> QuerySet[Any]:
        raise NotImplementedError

    def handle_exception(self, exc: Exception) -> Any:
        if isinstance(exc, GoalValidationError):
            exc = serializers.ValidationError(goal_problems_body(exc))
        return super().handle_exception(exc)

    # Who may write.

    @property
    def manages_goals(self) -> bool:
        return role_allows(self.membership, Role.MANAGER)

    def refuse_write(self, message: str) -> NoReturn:
        self.refused = True  # written to the audit log once the request's transaction is rolled back
        raise PermissionDenied(message)

    def require_goal_manager(self, doing: str) -> None:
        if not self.manages_goals:
            self.refuse_write(f"Only admins and managers may {doing}.")

    def require_manages(self, objective: Objective, doing: str) -> None:
        """The same rule as the pages (goals.permissions.may_manage_objective)."""
        if not may_manage_objective(self.membership, objective):
            self.refuse_write(
                f"Only the objective's owner, their managers, its team's lead or an admin may {doing}."
            )

    # Reading the request and answering.

    def validated(self, serializer_class: type[serializers.Serializer], *, partial: bool = False) -> Any:
        serializer = serializer_class(
            data=self.request.data, partial=partial, context=self.get_serializer_context()
        )
        serializer.is_valid(raise_exception=True)
        return dict(serializer.validated_data)

    def answer(self, instance: Model, *, status_code: int = status.HTTP_200_OK) -> Response:
        """The object as a read returns it (the same query, so the same annotations and prefetches)."""
        fresh = self.get_queryset().get(pk=instance.pk)
        return Response(self.get_serializer(fresh).data, status=status_code)


class CycleViewSet(GoalViewSet):
    """Cycles (quarters) of the organisation, newest first. Admins and managers create them."""

    model = Cycle
    serializer_class = CycleSerializer

    def goal_queryset(self) -> QuerySet[Cycle]:
        return Cycle.objects.order_by("-start", "-pk")

    @extend_schema(request=CycleCreateSerializer, responses={201: CycleSerializer, 400: REFUSED_BY_RULES})
    def create(self, request: Request, org_slug: str) -> Response:
        data = self.validated(CycleCreateSerializer)
        self.require_goal_manager("create cycles")
        cycle = services.cycle_create(**data)
        return self.answer(cycle, status_code=status.HTTP_201_CREATED)


class ObjectiveViewSet(GoalViewSet):
    """Objectives at company, team and individual level.

    Pausing and cancelling (``/state/``) ask for a reason; an objective marked "needs re-alignment" is
    re-confirmed by its owner or an admin (``/confirm-alignment/``). Who may write: see the module.
    """

    model = Objective
    serializer_class = ObjectiveSerializer
    filterset_class = ObjectiveFilter

    def goal_queryset(self) -> QuerySet[Objective]:
        return Objective.objects.select_related("cycle").order_by("pk")

    @extend_schema(
        request=ObjectiveCreateSerializer, responses={201: ObjectiveSerializer, 400: REFUSED_BY_RULES}
    )
    def create(self, request: Request, org_slug: str) -> Response:
        data = self.validated(ObjectiveCreateSerializer)
        if not may_create_objective(self.membership, level=data["level"], owner=data.get("owner")):
            self.refuse_write(
                "Admins set company objectives, managers team ones for their reporting line, "
                "and everyone their own individual objectives."
            )
        objective = services.objective_create(by=self.membership, **data)
        return self.answer(objective, status_code=status.HTTP_201_CREATED)

    @extend_schema(
        request=ObjectiveUpdateSerializer, responses={200: ObjectiveSerializer, 400: REFUSED_BY_RULES}
    )
    def partial_update(self, request: Request, org_slug: str, pk: str) -> Response:
        objective = self.get_object()
        changes = self.validated(ObjectiveUpdateSerializer, partial=True)
        warning_reasons = changes.pop("warning_reasons", None)
        self.require_manages(objective, "change this objective")
        new_owner = changes.get("owner")
        if (
            new_owner is not None
            and not owners_for(self.membership, keep=[objective.owner_id]).filter(pk=new_owner.pk).exists()
        ):
            self.refuse_write("You may hand an objective only to someone in your reporting line.")
        objective = services.objective_update(
            objective=objective, by=self.membership, changes=changes, warning_reasons=warning_reasons
        )
        return self.answer(objective)

    @extend_schema(
        request=ObjectiveStateChangeSerializer, responses={200: ObjectiveSerializer, 400: REFUSED_BY_RULES}
    )
    @action(detail=True, methods=["post"])
    def state(self, request: Request, org_slug: str, pk: str) -> Response:
        """Move the objective to another state; pausing and cancelling need a reason."""
        objective = self.get_object()
        data = self.validated(ObjectiveStateChangeSerializer)
        self.require_manages(objective, "change the state of this objective")
        objective = services.objective_set_state(
            objective=objective, by=self.membership, state=data["state"], reason=data["reason"]
        )
        return self.answer(objective)

    @extend_schema(request=None, responses={200: ObjectiveSerializer})
    @action(detail=True, methods=["post"], url_path="confirm-alignment")
    def confirm_alignment(self, request: Request, org_slug: str, pk: str) -> Response:
        """The owner (or an admin) confirms the objective still serves its parent after a change there."""
        objective = self.get_object()
        if not may_confirm_alignment(self.membership, objective):
            self.refuse_write("Only the objective's owner or an admin may confirm its alignment.")
        objective = services.objective_confirm_alignment(objective=objective, by=self.membership)
        return self.answer(objective)


class KeyResultViewSet(GoalViewSet):
    """Key results, with their contributors.

    Progress (``/progress/``) is kept in the key result's history with its note. Who may write: see the
    module.
    """

    model = KeyResult
    serializer_class = KeyResultSerializer
    filterset_class = KeyResultFilter

    def goal_queryset(self) -> QuerySet[KeyResult]:
        return (
            # The objective chain (individual → team → company) for the line of sight, in the same query.
            KeyResult.objects.select_related(
                "objective__cycle",
                "objective__team",
                "objective__owner__user",
                "objective__parent__team",
                "objective__parent__owner__user",
                "objective__parent__parent__team",
            )
            .prefetch_related("contributor_links")
            .order_by("pk")
        )

    @extend_schema(
        request=KeyResultCreateSerializer, responses={201: KeyResultSerializer, 400: REFUSED_BY_RULES}
    )
    def create(self, request: Request, org_slug: str) -> Response:
        data = self.validated(KeyResultCreateSerializer)
        self.require_manages(data["objective"], "add key results to this objective")
        key_result = services.key_result_create(by=self.membership, **data)
        return self.answer(key_result, status_code=status.HTTP_201_CREATED)

    @extend_schema(
        request=KeyResultUpdateSerializer, responses={200: KeyResultSerializer, 400: REFUSED_BY_RULES}
    )
    def partial_update(self, request: Request, org_slug: str, pk: str) -> Response:
        key_result = self.get_object()
        changes = self.validated(KeyResultUpdateSerializer, partial=True)
        contributors = changes.pop("contributors", None)
        self.require_manages(key_result.objective, "change this key result")
        key_result = services.key_result_update(
            key_result=key_result, by=self.membership, changes=changes, contributors=contributors
        )
        return self.answer(key_result)

    @extend_schema(request=ProgressSerializer, responses={200: KeyResultSerializer, 400: REFUSED_BY_RULES})
    @action(detail=True, methods=["post"])
    def progress(self, request: Request, org_slug: str, pk: str) -> Response:
        """Record the key result's new current value (the only way its progress moves)."""
        key_result = self.get_object()
        data = self.validated(ProgressSerializer)
        if not may_record_progress(self.membership, key_result):
            self.refuse_write(
                "Progress is recorded by the key result's owner, its contributors, admins and managers."
            )
        key_result = services.key_result_record_progress(key_result=key_result, by=self.membership, **data)
        return self.answer(key_result)


class InitiativeViewSet(GoalViewSet):
    """Work planned to move a key result, added by whoever manages its objective."""

    model = Initiative
    serializer_class = InitiativeSerializer
    filterset_class = InitiativeFilter

    def goal_queryset(self) -> QuerySet[Initiative]:
        return Initiative.objects.order_by("pk")

    @extend_schema(
        request=InitiativeCreateSerializer, responses={201: InitiativeSerializer, 400: REFUSED_BY_RULES}
    )
    def create(self, request: Request, org_slug: str) -> Response:
        data = self.validated(InitiativeCreateSerializer)
        self.require_manages(data["key_result"].objective, "add initiatives under this objective")
        initiative = services.initiative_create(by=self.membership, **data)
        return self.answer(initiative, status_code=status.HTTP_201_CREATED)

    @extend_schema(
        request=InitiativeUpdateSerializer, responses={200: InitiativeSerializer, 400: REFUSED_BY_RULES}
    )
    def partial_update(self, request: Request, org_slug: str, pk: str) -> Response:
        initiative = self.get_object()
        changes = self.validated(InitiativeUpdateSerializer, partial=True)
        self.require_manages(initiative.key_result.objective, "change initiatives under this objective")
        initiative = services.initiative_update(initiative=initiative, by=self.membership, changes=changes)
        return self.answer(initiative)


class KPIViewSet(GoalViewSet):
    """KPIs with their latest reading and its status (green, amber or red). Admins and managers add them."""

    model = KPI
    serializer_class = KPISerializer
    filterset_class = KPIFilter

    def goal_queryset(self) -> QuerySet[KPI]:
        latest = KPIReading.objects.filter(kpi=OuterRef("pk")).order_by("-recorded_at", "-pk")
        return (
            KPI.objects.annotate(latest_value=Subquery(latest.values("value")[:1]))
            .prefetch_related("objective_tags")
            .order_by("pk")
        )

    @extend_schema(request=KPICreateSerializer, responses={201: KPISerializer, 400: REFUSED_BY_RULES})
    def create(self, request: Request, org_slug: str) -> Response:
        data = self.validated(KPICreateSerializer)
        self.require_goal_manager("add KPIs")
        kpi = services.kpi_create(by=self.membership, **data)
        return self.answer(kpi, status_code=status.HTTP_201_CREATED)

    @extend_schema(request=KPIUpdateSerializer, responses={200: KPISerializer, 400: REFUSED_BY_RULES})
    def partial_update(self, request: Request, org_slug: str, pk: str) -> Response:
        kpi = self.get_object()
        changes = self.validated(KPIUpdateSerializer, partial=True)
        self.require_goal_manager("change KPIs")
        kpi = services.kpi_update(kpi=kpi, by=self.membership, changes=changes)
        return self.answer(kpi)


class KPIReadingViewSet(GoalViewSet):
    """Readings of KPIs, oldest first. Recorded by admins, managers and the KPI's owner; a reading that
    crosses a threshold or moves a lot needs a note and the objective it concerns."""

    model = KPIReading
    serializer_class = KPIReadingSerializer
    filterset_class = KPIReadingFilter

    def goal_queryset(self) -> QuerySet[KPIReading]:
        return KPIReading.objects.order_by("recorded_at", "pk")

    @extend_schema(
        request=KPIReadingCreateSerializer, responses={201: KPIReadingSerializer, 400: REFUSED_BY_RULES}
    )
    def create(self, request: Request, org_slug: str) -> Response:
        data = self.validated(KPIReadingCreateSerializer)
        if not may_record_reading(self.membership, data["kpi"]):
            self.refuse_write("KPI readings are recorded by the KPI's owner, admins and managers.")
        reading = services.kpi_record_reading(by=self.membership, **data)
        return self.answer(reading, status_code=status.HTTP_201_CREATED)
