"""API tokens: per-organisation credentials for the API, besides signing in.

A token is ``oks_`` followed by 43 random URL-safe characters (``secrets.token_urlsafe(32)``). Only its
SHA-256 digest is stored, so the token is shown once, when it is created, and a copy of the database
cannot be used to call the API. A fast digest is enough: the token carries 256 random bits, so there is
nothing to guess that a slow hash would protect.

A token acts as the membership that created it, with that membership's role as it is at the time of the
request: it stops working when its creator is deactivated, and it loses rights when its creator does.
It works only under its own organisation's URLs (anything else is a 404, like any other organisation's
data), and a read-scope token is refused writes with a 403 that says so.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from typing import TYPE_CHECKING

from django.db import transaction
from django.utils import timezone
from rest_framework import authentication, exceptions, permissions
from rest_framework.request import Request

from okrsignal.models import ApiToken, ApiTokenScope, Membership, User
from okrsignal.tenancy import cross_organization, require_same_organization, tenant_context

if TYPE_CHECKING:
    # Authentication classes are imported while DRF is still loading its views: no view imports here.
    from rest_framework.views import APIView

TOKEN_MARKER = "oks_"  # noqa: S105 - the marker that starts every token, not a secret
PREFIX_LENGTH = len(TOKEN_MARKER) + 8
# Recording every single use would turn each API read into a write; a minute is precise enough.
LAST_USED_PRECISION = timedelta(minutes=1)


def _digest(raw_token: str) -> str:
    return hashlib.sha256(raw_token.encode()).hexdigest()


@transaction.atomic
def api_token_create(*, created_by: Membership, name: str, scope: str) -> tuple[ApiToken, str]:
    """A new token for the organisation in context; returns it with the raw token, which is never stored."""
    require_same_organization(created_by)
    raw_token = TOKEN_MARKER + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        name=name.strip(),
        created_by=created_by,
        prefix=raw_token[:PREFIX_LENGTH],
        hashed_secret=_digest(raw_token),
        scope=ApiTokenScope(scope),
    )
    return token, raw_token


@transaction.atomic
def api_token_revoke(*, token: ApiToken) -> ApiToken:
    """Stop the token working, for good. Revoking twice keeps the first time."""
    require_same_organization(token)
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
    return token


def api_token_for(raw_token: str) -> ApiToken | None:
    """The active token whose digest matches, from whichever organisation holds it; None otherwise.

    Looks across organisations by digest only: the digest identifies exactly one token, and the caller
    then acts for that token's organisation alone.
    """
    if not raw_token.startswith(TOKEN_MARKER):
        return None
    with cross_organization():
        token = (
            ApiToken.objects.filter(hashed_secret=_digest(raw_token), revoked_at__isnull=True)
            .select_related("organization", "created_by__user")
            .first()
        )
    if token is None:
        return None
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_PRECISION:
        with tenant_context(token.organization):
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return token


class ApiTokenAuthentication(authentication.BaseAuthentication):
    """``Authorization: Bearer <token>``: the request acts as the membership that created the token."""

    keyword = "Bearer"

    def _bearer_parts(self, request: Request) -> list[bytes] | None:
        """The Authorization header split in words, when it offers a bearer token; None otherwise."""
        parts = authentication.get_authorization_header(request).split()
        if parts and parts[0].decode(errors="replace").lower() == self.keyword.lower():
            return parts
        return None

    def authenticate(self, request: Request) -> tuple[User, ApiToken] | None:
        parts = self._bearer_parts(request)
        if parts is None:
            return None
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed("Send the token as 'Authorization: Bearer <token>'.")
        token = api_token_for(parts[1].decode(errors="replace"))
        if token is None:
            raise exceptions.AuthenticationFailed("The token is not valid, or it has been revoked.")
        user = token.created_by.user
        if not user.is_active:
            raise exceptions.AuthenticationFailed("The token's owner can no longer sign in.")
        return user, token

    def authenticate_header(self, request: Request) -> str | None:
        # A request that offered a token is told how to offer a good one (401); one that offered nothing
        # keeps the answer of session authentication, which has no challenge to give (403).
        return f'{self.keyword} realm="api"' if self._bearer_parts(request) is not None else None


class ApiTokenScopeAllowsMethod(permissions.BasePermission):
    """A read-scope token may only read. Writes with it are refused with a 403 naming the scope.

    Judged only under the token's own organisation: under any other the membership check that follows
    answers 404, as it does for every other organisation's URL.
    """

    message = "This API token has read scope: it cannot change anything. Create a token with write scope."

    def has_permission(self, request: Request, view: APIView) -> bool:
        token = request.auth
        if not isinstance(token, ApiToken) or request.method in permissions.SAFE_METHODS:
            return True
        if view.kwargs.get("org_slug") != token.organization.slug:
            return True
        return token.can_write
