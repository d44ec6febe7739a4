"""Who may do what, decided in one place.

Every page and API endpoint under ``/o/<org_slug>/`` passes through ``resolve_membership``: the
organisation comes from the URL, the caller must hold an active membership in it, and the view's
required role must be met. Anything else is a 404 (never a 403: another organisation's existence is not
confirmed) and is written to the audit log. The view then runs inside ``tenant_context``.
"""

from __future__ import annotations

from contextlib import ExitStack
from typing import Any

from django.contrib.auth.mixins import LoginRequiredMixin
from django.db import transaction
from django.http import Http404, HttpRequest
from django.http.response import HttpResponseBase
from rest_framework import viewsets
from rest_framework.exceptions import NotFound
from rest_framework.request import Request

from okrsignal.audit import audit_event_record
from okrsignal.models import AuditEvent, Membership, Organization, Role
from okrsignal.tenancy import tenant_context

ROLE_RANK = {Role.EMPLOYEE: 0, Role.MANAGER: 1, Role.ADMIN: 2}


class AccessRefused(Http404):
    """Raised by ``refuse``: the caller is denied, and the denial is audited."""


def role_allows(membership: Membership, required_role: str | None) -> bool:
    if required_role is None:
        return True
    return ROLE_RANK[Role(membership.role)] >= ROLE_RANK[Role(required_role)]


def resolve_membership(request: HttpRequest, org_slug: str, required_role: str | None) -> Membership:
    """The caller's active membership in the organisation named by the URL, or ``AccessRefused``."""
    organization = Organization.objects.filter(slug=org_slug).first()
    if organization is None:
        raise Http404("No such organisation.")
    membership = None
    if request.user.is_authenticated:
        with tenant_context(organization):
            membership = (
                Membership.objects.filter(user=request.user, is_active=True)
                .select_related("team", "user")
                .first()
            )
    # A credential issued by one organisation (an API token) opens that organisation only, even when
    # the person behind it also belongs to the one the URL names.
    issued_by = getattr(getattr(request, "auth", None), "organization_id", organization.pk)
    if membership is None or issued_by != organization.pk or not role_allows(membership, required_role):
        audit_event_record(
            kind=AuditEvent.Kind.AUTHORIZATION_REFUSED,
            request=request,
            actor=request.user,
            organization=organization,
        )
        raise AccessRefused("No such page.")
    membership.organization = organization
    return membership


def report_ids(membership: Membership) -> set[int]:
    """Ids of everyone who reports to ``membership``, directly or indirectly (one query)."""
    children: dict[int, list[int]] = {}
    for member_id, manager_id in Membership.objects.order_by().values_list("id", "manager_id"):
        if manager_id is not None:
            children.setdefault(manager_id, []).append(member_id)
    found: set[int] = set()
    frontier = [membership.pk]
    while frontier:
        next_frontier = []
        for manager_id in frontier:
            for member_id in children.get(manager_id, []):
                if member_id not in found and member_id != membership.pk:
                    found.add(member_id)
                    next_frontier.append(member_id)
        frontier = next_frontier
    return found


def visible_membership_ids(membership: Membership) -> set[int] | None:
    """Memberships whose personal data the caller may see: None means everyone (admins)."""
    if membership.is_admin:
        return None
    return report_ids(membership) | {membership.pk}


def would_create_reporting_loop(*, member: Membership, manager: Membership | None) -> bool:
    if manager is None:
        return False
    return manager.pk == member.pk or manager.pk in report_ids(member)


class OrganizationViewMixin(LoginRequiredMixin):
    """For pages under ``/o/<org_slug>/``: membership checked, organisation in context, role enforced.

    The response is rendered inside the tenant context, so templates can follow relations safely;
    the context is reset as soon as the response is ready.
    """

    required_role: str | None = None
    request: HttpRequest

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        membership = resolve_membership(request, kwargs["org_slug"], self.required_role)
        request.organization = membership.organization  # type: ignore[attr-defined]
        request.membership = membership  # type: ignore[attr-defined]
        self.organization = membership.organization
        self.membership = membership
        try:
            with tenant_context(membership.organization):
                response = super().dispatch(request, *args, **kwargs)
                if hasattr(response, "render") and not getattr(response, "is_rendered", True):
                    response.render()
        except AccessRefused:
            audit_event_record(
                kind=AuditEvent.Kind.AUTHORIZATION_REFUSED,
                request=request,
                actor=request.user,
                organization=membership.organization,
            )
            raise
        return response


def refuse() -> None:
    """Deny the current request with a 404 that is audited by the view mixin."""
    raise AccessRefused("No such page.")


class OrganizationViewSet(viewsets.GenericViewSet):
    """Base of every API viewset under ``/api/v1/o/<org_slug>/``: the same rules as the pages."""

    required_role: str | None = None
    write_role: str | None = None
    # Objects are looked up by integer primary key. Saying so in the URL pattern also types the path
    # parameter in the API schema, which cannot read the model from a tenant-scoped queryset.
    lookup_value_regex = "[0-9]+"
    _tenant_scope: ExitStack

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        required = self.required_role
        if request.method not in ("GET", "HEAD", "OPTIONS") and self.write_role is not None:
            required = self.write_role
        try:
            membership = resolve_membership(request, kwargs["org_slug"], required)
        except Http404 as exc:
            raise NotFound() from exc
        request.organization = membership.organization  # type: ignore[attr-defined]
        request.membership = membership  # type: ignore[attr-defined]
        self.organization = membership.organization
        self.membership = membership
        self._tenant_scope.enter_context(tenant_context(membership.organization))
        self.in_tenant_transaction = True

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        self.in_tenant_transaction = False
        self.refused = False
        with ExitStack() as self._tenant_scope:
            response = super().dispatch(request, *args, **kwargs)
            if hasattr(response, "render") and not getattr(response, "is_rendered", True):
                response.render()
            if response.status_code >= 400 and self.in_tenant_transaction:
                # DRF turned an exception into a response: nothing the request wrote may be kept.
                transaction.set_rollback(True)
        if self.refused:
            # Written after the tenant transaction, which has just been rolled back.
            audit_event_record(
                kind=AuditEvent.Kind.AUTHORIZATION_REFUSED,
                request=request,
                actor=request.user,
                organization=getattr(self, "organization", None),
            )
        return response

    def handle_exception(self, exc: Exception) -> Any:
        if isinstance(exc, AccessRefused):
            self.refused = True
            exc = NotFound()
        return super().handle_exception(exc)
