"""The API base viewset: membership, the tenant transaction, rollback on errors and audited refusals."""

from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.test import APIRequestFactory, force_authenticate

from okrsignal.models import AuditEvent, Team
from okrsignal.permissions import OrganizationViewSet, refuse
from okrsignal.tenancy import tenant_context
from tests.factories import OrgWorld


class _WritesThenFails(OrganizationViewSet):
    def create(self, request, org_slug):  # type: ignore[no-untyped-def]
        Team.objects.create(name="Half-written")
        raise serializers.ValidationError({"name": ["Something about the name is wrong."]})


class _Refuses(OrganizationViewSet):
    def list(self, request, org_slug):  # type: ignore[no-untyped-def]
        refuse()
        return Response([])


def _call(view_class, method: str, world: OrgWorld, user):  # type: ignore[no-untyped-def]
    request = getattr(APIRequestFactory(), method)("/api/v1/o/x/", {}, format="json")
    force_authenticate(request, user=user)
    action = {"post": "create", "get": "list"}[method]
    return view_class.as_view({method: action})(request, org_slug=world.slug)


def test_a_failed_api_request_keeps_nothing_it_wrote(acme: OrgWorld) -> None:
    response = _call(_WritesThenFails, "post", acme, acme.admin.user)
    assert response.status_code == 400
    assert response.data == {"name": ["Something about the name is wrong."]}
    with tenant_context(acme.organization):
        assert not Team.objects.filter(name="Half-written").exists()


def test_a_refusal_in_the_api_is_a_404_and_is_audited(acme: OrgWorld) -> None:
    response = _call(_Refuses, "get", acme, acme.peer.user)
    assert response.status_code == 404
    event = AuditEvent.objects.get(kind=AuditEvent.Kind.AUTHORIZATION_REFUSED)
    assert (event.organization_id, event.actor_id) == (acme.organization.pk, acme.peer.user_id)


def test_a_non_member_gets_404_from_the_api(acme: OrgWorld, globex: OrgWorld) -> None:
    response = _call(_Refuses, "get", acme, globex.admin.user)
    assert response.status_code == 404
    assert AuditEvent.objects.filter(organization=acme.organization, actor=globex.admin.user).exists()
