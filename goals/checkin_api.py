"""The check-in API under ``/api/v1/o/<org_slug>/``: weekly check-ins, replies on them, and pulse answers.

Who sees what follows ``goals.checkin_selectors``: one's own check-ins (drafts included) and the
submitted check-ins of everyone below one in the reporting line; any other check-in is a 404, as if it
did not exist. ``upward_feedback`` is left out of the answer for anyone but the author and the manager it
was written for. Writes:

- ``POST check-ins/`` starts the caller's own draft for a week (this week by default);
- ``PATCH check-ins/<id>/`` saves the author's draft; ``POST check-ins/<id>/submit/`` submits it, with any
  last changes in the same shape. A refused submission is a 400 that changes nothing: the draft stays as
  it was last saved;
- ``POST check-ins/<id>/discussed/`` is for the people the author reports to;
- ``GET``/``POST check-ins/<id>/replies/`` for anyone who may read the check-in;
- ``POST pulse-answers/`` records the caller's own pulse answer for a week.

Someone who may read a check-in but not make a change is answered 403 with the reason (and audited). A
400 names each field by its path, list positions counting from 0:
``{"priorities.1.key_result": ["Link it to a key result, or mark it unlinked."]}``.
"""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import QuerySet
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from goals import checkins
from goals.api import REFUSED_BY_RULES, GoalViewSet, IdFilter, goal_problems_body
from goals.checkin_selectors import (
    check_in_replies,
    may_mark_discussed,
    organization_week,
    visible_check_ins,
)
from goals.checkin_serializers import (
    CheckInChangesSerializer,
    CheckInCreateSerializer,
    CheckInReplyCreateSerializer,
    CheckInReplySerializer,
    CheckInSerializer,
    PulseAnswerCreateSerializer,
    PulseAnswerSerializer,
    check_in_changes,
)
from goals.models import CheckIn, CheckInState, PulseAnswer
from goals.validation import GoalValidationError
from okrsignal.permissions import OrganizationViewSet


def flat_errors(detail: Any, path: str = "") -> dict[str, list[str]]:
    """DRF's nested errors (``{"priorities": [{}, {"text": [...]}]}``) keyed by field path instead
    (``{"priorities.1.text": [...]}``), the way the check-in services name fields."""
    if isinstance(detail, dict):
        found: dict[str, list[str]] = {}
        for key, value in detail.items():
            found.update(flat_errors(value, f"{path}.{key}" if path else str(key)))
        return found
    if isinstance(detail, list):
        if all(not isinstance(item, dict | list) for item in detail):
            return {path or "non_field_errors": [str(item) for item in detail]} if detail else {}
        found = {}
        for index, item in enumerate(detail):
            found.update(flat_errors(item, f"{path}.{index}" if path else str(index)))
        return found
    return {path or "non_field_errors": [str(detail)]}


def _refusal_as_flat_errors(exc: Exception) -> Exception:
    if isinstance(exc, GoalValidationError):
        return serializers.ValidationError(goal_problems_body(exc))
    if isinstance(exc, serializers.ValidationError) and isinstance(exc.detail, dict | list):
        return serializers.ValidationError(flat_errors(exc.detail))
    return exc


class CheckInFilter(django_filters.FilterSet):
    week = django_filters.DateFilter(help_text="The Monday that starts the week.")
    membership = IdFilter(field_name="membership_id")
    state = django_filters.ChoiceFilter(choices=CheckInState.choices)

    class Meta:
        model = CheckIn
        fields = ["week", "membership", "state"]


class CheckInViewSet(GoalViewSet):
    """Weekly check-ins the caller may read, newest week first. See the module for who may do what."""

    model = CheckIn
    serializer_class = CheckInSerializer
    filterset_class = CheckInFilter

    def goal_queryset(self) -> QuerySet[CheckIn]:
        return visible_check_ins(self.membership)

    def handle_exception(self, exc: Exception) -> Any:
        return super().handle_exception(_refusal_as_flat_errors(exc))

    def require_author(self, check_in: CheckIn, doing: str) -> None:
        if check_in.membership_id != self.membership.pk:
            self.refuse_write(f"Only its author may {doing} a check-in.")

    @extend_schema(request=CheckInCreateSerializer, responses={201: CheckInSerializer, 400: REFUSED_BY_RULES})
    def create(self, request: Request, org_slug: str) -> Response:
        """Start the caller's own check-in for a week, as a draft, with whatever parts are given."""
        data = self.validated(CheckInCreateSerializer)
        week = data.pop("week", None) or organization_week(self.membership)
        if CheckIn.objects.filter(membership=self.membership, week=week).exists():
            raise serializers.ValidationError(
                {"week": [f"You have a check-in for the week of {week:%d %b %Y} already: change that one."]}
            )
        check_in = checkins.check_in_save_draft(author=self.membership, week=week, **check_in_changes(data))
        return self.answer(check_in, status_code=status.HTTP_201_CREATED)

    @extend_schema(
        request=CheckInChangesSerializer, responses={200: CheckInSerializer, 400: REFUSED_BY_RULES}
    )
    def partial_update(self, request: Request, org_slug: str, pk: str) -> Response:
        """Save the author's draft: only the parts sent change. A submitted check-in changes by submitting."""
        check_in = self.get_object()
        self.require_author(check_in, "change")
        changes = check_in_changes(self.validated(CheckInChangesSerializer))
        check_in = checkins.check_in_save_draft(author=self.membership, week=check_in.week, **changes)
        return self.answer(check_in)

    @extend_schema(
        request=CheckInChangesSerializer, responses={200: CheckInSerializer, 400: REFUSED_BY_RULES}
    )
    @action(detail=True, methods=["post"])
    def submit(self, request: Request, org_slug: str, pk: str) -> Response:
        """Submit the check-in (again, to change a submitted one), with any last changes."""
        check_in = self.get_object()
        self.require_author(check_in, "submit")
        changes = check_in_changes(self.validated(CheckInChangesSerializer))
        check_in = checkins.check_in_submit(author=self.membership, week=check_in.week, **changes)
        return self.answer(check_in)

    @extend_schema(request=None, responses={200: CheckInSerializer, 400: REFUSED_BY_RULES})
    @action(detail=True, methods=["post"])
    def discussed(self, request: Request, org_slug: str, pk: str) -> Response:
        """Mark the check-in discussed; for the people its author reports to."""
        check_in = self.get_object()
        if not may_mark_discussed(self.membership, check_in):
            self.refuse_write("Only the people the author reports to mark a check-in discussed.")
        checkins.check_in_mark_discussed(check_in=check_in, by=self.membership)
        return self.answer(check_in)

    @extend_schema(methods=["GET"], request=None, responses={200: CheckInReplySerializer(many=True)})
    @extend_schema(
        methods=["POST"],
        request=CheckInReplyCreateSerializer,
        responses={201: CheckInReplySerializer, 400: REFUSED_BY_RULES},
    )
    @action(detail=True, methods=["get", "post"])
    def replies(self, request: Request, org_slug: str, pk: str) -> Response:
        """Replies on the check-in, oldest first; anyone who may read it may reply."""
        check_in = self.get_object()
        if request.method == "POST":
            data = self.validated(CheckInReplyCreateSerializer)
            reply = checkins.check_in_reply(check_in=check_in, by=self.membership, text=data["text"])
            return Response(CheckInReplySerializer(reply).data, status=status.HTTP_201_CREATED)
        return Response(CheckInReplySerializer(check_in_replies(check_in), many=True).data)


class PulseAnswerViewSet(OrganizationViewSet):
    """The caller's own pulse answer for a week. Answers are reported as team figures, never one by one."""

    serializer_class = PulseAnswerSerializer
    filter_backends = [DjangoFilterBackend]

    def get_queryset(self) -> QuerySet[PulseAnswer]:
        if getattr(self, "swagger_fake_view", False):
            return PulseAnswer._base_manager.none()
        return PulseAnswer.objects.filter(membership=self.membership)

    def handle_exception(self, exc: Exception) -> Any:
        return super().handle_exception(_refusal_as_flat_errors(exc))

    @extend_schema(
        request=PulseAnswerCreateSerializer,
        responses={200: PulseAnswerSerializer, 201: PulseAnswerSerializer, 400: REFUSED_BY_RULES},
    )
    def create(self, request: Request, org_slug: str) -> Response:
        """Answer "I can explain how my work supports company goals" (1 to 5) for a week (this week by
        default). Answering again in the same week changes the answer (200)."""
        serializer = PulseAnswerCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        week = serializer.validated_data.get("week") or organization_week(self.membership)
        existed = self.get_queryset().filter(week=week).exists()
        answer = checkins.pulse_answer_record(
            membership=self.membership, score=serializer.validated_data["score"], week=week
        )
        return Response(
            PulseAnswerSerializer(answer).data,
            status=status.HTTP_200_OK if existed else status.HTTP_201_CREATED,
        )
