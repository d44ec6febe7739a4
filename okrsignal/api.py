"""The platform's API: people and teams of an organisation, under ``/api/v1/o/<org_slug>/``, and its docs."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.plumbing import build_bearer_security_scheme_object
from drf_spectacular.views import SpectacularSwaggerSplitView
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


class ApiDocsView(SpectacularSwaggerSplitView):
    """Interactive API docs (Swagger UI) at ``/api/v1/docs/``, readable without signing in.

    Swagger UI comes from our own static files (drf-spectacular-sidecar), and its start-up script is
    served as a file of its own (``?script``) from a template with no inline style, so the page works
    under the site's Content-Security-Policy, which forbids inline scripts and styles.
    """

    template_name = "okrsignal/api_docs.html"
    url_name = "api-schema"


class ApiTokenScheme(OpenApiAuthenticationExtension):
    """Describes API token authentication (``okrsignal.api_tokens``) in the OpenAPI document."""

    target_class = "okrsignal.api_tokens.ApiTokenAuthentication"
    name = "apiToken"

    def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
        return {
            **build_bearer_security_scheme_object(header_name="Authorization", token_prefix="Bearer"),  # noqa: S106
            "description": "An API token of the organisation, created by an admin under Settings, "
            "API tokens. Read-scope tokens may only read.",
        }
