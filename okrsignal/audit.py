"""The append-only audit log: sign-ins, failed sign-ins and refused authorisations."""

from __future__ import annotations

from typing import Any

from axes.helpers import get_client_ip_address
from django.http import HttpRequest

from okrsignal.models import AuditEvent, Organization, normalize_email_address


def login_identifier(request: HttpRequest | None, credentials: dict[str, Any] | None) -> str | None:
    """The e-mail address a sign-in attempt names, normalised, from the credentials or the posted form."""
    source: Any = credentials or (getattr(request, "POST", None) if request is not None else None) or {}
    identifier = source.get("username") or source.get("email")
    return normalize_email_address(str(identifier)) if identifier else None


def audit_event_record(
    *,
    kind: str,
    request: HttpRequest | None,
    actor: Any = None,
    actor_identifier: str = "",
    organization: Organization | None = None,
) -> AuditEvent:
    if actor is not None and not getattr(actor, "is_authenticated", False):
        actor = None
    return AuditEvent.objects.create(
        kind=kind,
        organization=organization,
        actor=actor,
        actor_identifier=(actor_identifier or (actor.email if actor is not None else ""))[:254],
        ip_address=get_client_ip_address(request) if request is not None else None,
        path=request.path[:500] if request is not None else "",
    )


def on_user_logged_in(sender: Any, request: HttpRequest, user: Any, **kwargs: Any) -> None:
    audit_event_record(kind=AuditEvent.Kind.LOGIN, request=request, actor=user)


def on_user_logged_out(sender: Any, request: HttpRequest, user: Any, **kwargs: Any) -> None:
    if user is not None:
        audit_event_record(kind=AuditEvent.Kind.LOGOUT, request=request, actor=user)


def on_user_login_failed(
    sender: Any, credentials: dict[str, Any], request: HttpRequest | None = None, **kwargs: Any
) -> None:
    # Django has already masked the password in ``credentials``; only the identifier is kept.
    identifier = login_identifier(request, credentials) or ""
    audit_event_record(kind=AuditEvent.Kind.LOGIN_FAILED, request=request, actor_identifier=identifier)
