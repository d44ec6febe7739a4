"""The platform's API: people and teams of an organisation, under ``/api/v1/o/<org_slug>/``."""

from __future__ import annotations

from django.db.models import QuerySet
from rest_framework import mixins, serializers

from okrsignal import selectors
from okrsignal.models import Membership, Team
from okrsignal.permissions import OrganizationViewSet, visible_membership_ids


class MembershipSerializer(serializers.ModelSerializer):
    email = serializers.EmailField(source="user.email", read_only=True)
    full_name = serializers.CharField(source="user.full_name", read_only=True)

    class Meta:
        model = Membership
        fields = ["id", "full_name", "email", "title", "role", "team", "manager", "is_active", "joined_at"]
        read_only_fields = fields


class TeamSerializer(serializers.ModelSerializer):
    class Meta:
        model = Team
        fields = ["id", "name", "parent", "lead"]
        read_only_fields = fields


class MembershipViewSet(OrganizationViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin):
    """People of the organisation. E-mail addresses are shown only for the people the caller may see."""

    serializer_class = MembershipSerializer

    def get_queryset(self) -> QuerySet[Membership]:
        queryset = selectors.member_list().filter(is_active=True)
        visible = visible_membership_ids(self.membership)
        return queryset if visible is None else queryset.filter(pk__in=visible)


class TeamViewSet(OrganizationViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin):
    serializer_class = TeamSerializer

    def get_queryset(self) -> QuerySet[Team]:
        return Team.objects.order_by("name")
