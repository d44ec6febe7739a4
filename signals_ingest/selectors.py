"""Reads of the ingestion data that views, syncs and the webhook endpoint need."""

from __future__ import annotations

from django.db.models import QuerySet

from okrsignal.tenancy import cross_organization
from signals_ingest.models import ExternalIdentity, Integration, MappingRule, RawEvent, SyncCursor


def integration_by_webhook_token(token: str) -> Integration | None:
    """The integration a webhook URL names, in any organisation (the token is how a call finds it).

    A cross-organisation read by design: the caller has no organisation yet. It filters on the token
    alone, which is unique and unguessable, and returns at most that one row; the caller then works
    inside ``tenant_context(integration.organization_id)``.
    """
    if not token or len(token) > 64:
        return None
    with cross_organization():
        return Integration.objects.filter(webhook_token=token).first()


def integration_for_provider(provider: str) -> Integration | None:
    return Integration.objects.filter(provider=provider).first()


def sync_cursor_value(*, integration: Integration, stream: str) -> str | None:
    """Where a pull stream stopped, or None if it never ran."""
    return (
        SyncCursor.objects.filter(integration=integration, stream=stream)
        .values_list("value", flat=True)
        .first()
    )


def mapping_rules_for(integration: Integration) -> QuerySet[MappingRule]:
    return MappingRule.objects.filter(integration=integration).select_related("key_result")


def unmatched_identities() -> QuerySet[ExternalIdentity]:
    """Vendor accounts nobody is assigned to: listed for an admin to match by hand."""
    return ExternalIdentity.objects.filter(membership__isnull=True).order_by("provider", "display_name")


def raw_events_failed() -> QuerySet[RawEvent]:
    """Raw events whose processing failed and that are still unprocessed, newest first."""
    return RawEvent.objects.filter(processed_at__isnull=True).exclude(error="").order_by("-received_at")
