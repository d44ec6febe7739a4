"""Every write to integrations, mapping rules and identities (the pipeline writes the signals).

All functions act for the organisation in context, take keyword arguments, and refuse objects of
another organisation (``TenantMismatch``). Bad input raises ``ValidationError`` keyed by the field.
Credentials go in and never come back out of here: no return value, log line or error message holds one.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from goals.models import KeyResult
from okrsignal.models import Membership
from okrsignal.tenancy import require_organization_id, require_same_organization
from signals_ingest import mapping, pipeline
from signals_ingest.models import (
    ExternalIdentity,
    Integration,
    MappingRule,
    Provider,
    WorkItem,
    new_webhook_token,
)

LAST_ERROR_MAX_CHARS = 1000
_CUSTOM_FIELD = re.compile(r"^customfield_\d+$")


# --- Integrations -----------------------------------------------------------------------------------


def _clean_settings(provider: str, settings: Any) -> dict[str, Any]:
    """Validate the settings the product reads; keep any others as given (they are ignored)."""
    if settings is None:
        return {}
    if not isinstance(settings, Mapping):
        raise ValidationError({"settings": "Settings must be a JSON object."})
    cleaned = dict(settings)
    for name in ("site", "workspace_url"):
        value = cleaned.get(name)
        if value not in (None, ""):
            if not isinstance(value, str) or not re.match(r"^https?://[^\s/]+", value):
                raise ValidationError({name: f"{name} must be an address starting with https://."})
            cleaned[name] = value.rstrip("/")
    for name in ("story_points_field", "epic_link_field"):
        value = cleaned.get(name)
        if value not in (None, "") and (not isinstance(value, str) or not _CUSTOM_FIELD.match(value)):
            raise ValidationError({name: f"{name} must name a Jira custom field, like customfield_10016."})
    for name in ("portal_id", "team_id", "account_email", "cloud_id"):
        value = cleaned.get(name)
        if value not in (None, ""):
            if not isinstance(value, str | int) or isinstance(value, bool):
                raise ValidationError({name: f"{name} must be text."})
            cleaned[name] = str(value).strip()
    if provider == Provider.SLACK:
        cleaned["channels"] = _clean_channels(cleaned.get("channels"))
    return cleaned


def _clean_channels(channels: Any) -> list[dict[str, Any]]:
    """The Slack channels to read: public ones, and private ones only when selected by name here."""
    if channels in (None, ""):
        return []
    if not isinstance(channels, list):
        raise ValidationError({"channels": "channels must be a list of {id, name, is_private}."})
    cleaned: list[dict[str, Any]] = []
    seen: set[str] = set()
    for channel in channels:
        if not isinstance(channel, Mapping) or not isinstance(channel.get("id"), str) or not channel["id"]:
            raise ValidationError({"channels": "Each channel needs an id (like C07ACTIV)."})
        channel_id = channel["id"].strip()
        if channel_id.startswith("D"):
            raise ValidationError({"channels": f"{channel_id} is a direct message: those are never read."})
        if channel_id in seen:
            continue
        seen.add(channel_id)
        cleaned.append(
            {
                "id": channel_id,
                "name": str(channel.get("name") or channel_id).lstrip("#"),
                "is_private": bool(channel.get("is_private", False)),
            }
        )
    return cleaned


def _clean_credentials(credentials: Any) -> dict[str, Any]:
    if not isinstance(credentials, Mapping) or not credentials:
        raise ValidationError({"credentials": "Give the credentials the vendor issued."})
    return dict(credentials)


@transaction.atomic
def integration_connect(
    *, provider: str, credentials: Mapping[str, Any], settings: Mapping[str, Any] | None = None
) -> Integration:
    """Connect a vendor. A disconnected integration of that provider is reconnected, keeping its history."""
    if provider not in Provider.values:
        raise ValidationError({"provider": f"Choose one of {', '.join(Provider.values)}."})
    cleaned_settings = _clean_settings(provider, settings)
    cleaned_credentials = _clean_credentials(credentials)
    integration = Integration.objects.select_for_update().filter(provider=provider).first()
    now = timezone.now()
    if integration is None:
        integration = Integration(provider=provider, organization_id=require_organization_id())
    elif integration.is_connected:
        raise ValidationError(
            {"provider": f"{Provider(provider).label} is connected already; change its settings instead."}
        )
    integration.settings = cleaned_settings
    integration.set_credentials(cleaned_credentials)
    integration.state = Integration.State.CONNECTED
    integration.connected_at = now
    integration.disconnected_at = None
    integration.auth_method = Integration.AuthMethod.TOKEN
    integration.token_refreshed_at = None
    integration.needs_reconnection = False
    integration.save()
    return integration


@transaction.atomic
def integration_connect_oauth(
    *, provider: str, credentials: Mapping[str, Any], settings: Mapping[str, Any]
) -> Integration:
    """Connect a vendor with tokens granted through its OAuth consent, or renew a connected one's grant.

    A connected integration keeps its history and settings and gets the new credentials in place of its
    old ones (an API token, or a grant that could no longer be renewed).
    """
    if provider not in (Provider.HUBSPOT, Provider.JIRA):
        raise ValidationError({"provider": "Only HubSpot and Jira connect with OAuth here."})
    cleaned_settings = _clean_settings(provider, settings)
    cleaned_credentials = _clean_credentials(credentials)
    integration = Integration.objects.select_for_update().filter(provider=provider).first()
    now = timezone.now()
    if integration is None:
        integration = Integration(provider=provider, organization_id=require_organization_id())
    if not integration.is_connected or integration.pk is None:
        integration.connected_at = now
    integration.settings = cleaned_settings
    integration.set_credentials(cleaned_credentials)
    integration.state = Integration.State.CONNECTED
    integration.disconnected_at = None
    integration.auth_method = Integration.AuthMethod.OAUTH
    integration.token_refreshed_at = now
    integration.needs_reconnection = False
    integration.save()
    return integration


@transaction.atomic
def integration_store_renewed_tokens(
    *, integration: Integration, credentials: Mapping[str, Any]
) -> Integration:
    """Store the access (and, where the vendor rotates it, refresh) token a renewal granted.

    The caller holds the integration's row lock (``oauth``), so that no other renewal interleaves.
    """
    require_same_organization(integration)
    integration.set_credentials(_clean_credentials(credentials))
    integration.token_refreshed_at = timezone.now()
    integration.save(update_fields=["credentials_token", "token_refreshed_at"])
    return integration


@transaction.atomic
def integration_require_reconnection(*, integration: Integration, error: str) -> Integration:
    """The vendor refused to renew the integration's access: say so on its page, and ask it nothing more
    until an admin connects it again."""
    require_same_organization(integration)
    integration.needs_reconnection = True
    integration.last_error_at = timezone.now()
    integration.last_error = redact_credentials(error, integration)[:LAST_ERROR_MAX_CHARS]
    integration.save(update_fields=["needs_reconnection", "last_error_at", "last_error"])
    return integration


@transaction.atomic
def integration_update_credentials(
    *, integration: Integration, changes: Mapping[str, Any], removed: Iterable[str] = ()
) -> Integration:
    """Change some credentials and keep the rest as they are stored now, under the integration's row lock:
    a token renewed meanwhile by a worker is kept, never overwritten with the one read earlier."""
    require_same_organization(integration)
    locked = Integration.objects.select_for_update().get(pk=integration.pk)
    credentials = {**locked.credentials, **changes}
    for key in removed:
        credentials.pop(key, None)
    locked.set_credentials(_clean_credentials({key: value for key, value in credentials.items() if value}))
    locked.save(update_fields=["credentials_token"])
    integration.credentials_token = locked.credentials_token
    return integration


@transaction.atomic
def integration_update_settings(*, integration: Integration, settings: Mapping[str, Any]) -> Integration:
    require_same_organization(integration)
    integration.settings = _clean_settings(integration.provider, settings)
    integration.save(update_fields=["settings"])
    return integration


@transaction.atomic
def integration_set_credentials(*, integration: Integration, credentials: Mapping[str, Any]) -> Integration:
    """Replace an integration's credentials (encrypted with the first configured key)."""
    require_same_organization(integration)
    integration.set_credentials(_clean_credentials(credentials))
    integration.save(update_fields=["credentials_token"])
    return integration


@transaction.atomic
def integration_disconnect(*, integration: Integration) -> Integration:
    """Stop taking anything from the vendor and forget the credentials.

    Raw events, work items, signals, identities and mapping rules taken so far all stay: the history
    still counts, and reconnecting picks up where it stopped.
    """
    require_same_organization(integration)
    integration.state = Integration.State.DISCONNECTED
    integration.disconnected_at = timezone.now()
    integration.credentials_token = ""
    integration.save(update_fields=["state", "disconnected_at", "credentials_token"])
    return integration


@transaction.atomic
def integration_rotate_webhook_token(*, integration: Integration) -> Integration:
    """Give the integration a new webhook URL; calls to the old one no longer find the organisation."""
    require_same_organization(integration)
    integration.webhook_token = new_webhook_token()
    integration.save(update_fields=["webhook_token"])
    return integration


def redact_credentials(text: str, integration: Integration) -> str:
    """``text`` without any of the integration's credential values in it (vendor errors can echo them)."""
    try:
        secrets = [str(value) for value in integration.credentials.values() if value]
    except Exception:  # unreadable credentials: nothing to look for, and never a reason to fail here
        secrets = []
    for secret in sorted(secrets, key=len, reverse=True):
        if len(secret) >= 4:
            text = text.replace(secret, "[redacted]")
    return text


@transaction.atomic
def integration_record_sync(
    *, integration: Integration, error: str | None = None, at: datetime | None = None
) -> Integration:
    """Record the outcome of a sync or a connection test: success, or an error (credentials redacted)."""
    require_same_organization(integration)
    moment = at or timezone.now()
    if error is None:
        integration.last_success_at = moment
        integration.save(update_fields=["last_success_at"])
    else:
        integration.last_error_at = moment
        integration.last_error = redact_credentials(error, integration)[:LAST_ERROR_MAX_CHARS]
        integration.save(update_fields=["last_error_at", "last_error"])
    return integration


# --- Mapping rules ----------------------------------------------------------------------------------


def _clean_match(integration: Integration, match: Any) -> dict[str, str]:
    problems = mapping.match_problems(integration.provider, match)
    if problems:
        raise ValidationError(problems)
    return mapping.normalise_match(match)


def _refuse_duplicate_rule(
    integration: Integration, match: dict[str, str], key_result: KeyResult, rule: MappingRule | None = None
) -> None:
    others = MappingRule.objects.filter(integration=integration, key_result=key_result)
    if rule is not None:
        others = others.exclude(pk=rule.pk)
    if any(mapping.normalise_match(other.match) == match for other in others):
        raise ValidationError({"match": "This rule exists already for that key result."})


def _reapply_after_commit(integration: Integration) -> None:
    from signals_ingest.tasks import reapply_mapping_rules_task

    organization_id, integration_id = integration.organization_id, integration.pk
    transaction.on_commit(lambda: reapply_mapping_rules_task.delay(organization_id, integration_id))


@transaction.atomic
def mapping_rule_create(
    *, integration: Integration, match: Mapping[str, str], key_result: KeyResult
) -> MappingRule:
    """Map work matching ``match`` to ``key_result``; stored work is re-mapped once this commits."""
    require_same_organization(integration, key_result)
    cleaned = _clean_match(integration, match)
    _refuse_duplicate_rule(integration, cleaned, key_result)
    rule = MappingRule.objects.create(integration=integration, match=cleaned, key_result=key_result)
    _reapply_after_commit(integration)
    return rule


@transaction.atomic
def mapping_rule_update(*, rule: MappingRule, match: Mapping[str, str], key_result: KeyResult) -> MappingRule:
    require_same_organization(rule, key_result)
    integration = rule.integration
    cleaned = _clean_match(integration, match)
    _refuse_duplicate_rule(integration, cleaned, key_result, rule)
    rule.match, rule.key_result = cleaned, key_result
    rule.save(update_fields=["match", "key_result"])
    _reapply_after_commit(integration)
    return rule


@transaction.atomic
def mapping_rule_delete(*, rule: MappingRule) -> None:
    require_same_organization(rule)
    integration = rule.integration
    rule.delete()
    _reapply_after_commit(integration)


@dataclass(frozen=True)
class RulePreviewExample:
    key: str
    title: str
    url: str


@dataclass(frozen=True)
class RulePreview:
    """What a rule would match among the stored work: how many work items, and a few of them."""

    work_item_count: int
    examples: list[RulePreviewExample]


def mapping_rule_preview(
    *, integration: Integration, match: Mapping[str, str], limit: int = 5
) -> RulePreview:
    """The stored work items ``match`` would map (most recently updated first), without saving anything."""
    require_same_organization(integration)
    cleaned = _clean_match(integration, match)
    items = (
        WorkItem.objects.filter(provider=integration.provider)
        .exclude(kind=WorkItem.Kind.ENGAGEMENT)
        .order_by("-vendor_updated_at", "-id")
        .values_list("key", "title", "url", "attributes")
    )
    count = 0
    examples: list[RulePreviewExample] = []
    for key, title, url, attributes in items.iterator(chunk_size=2000):
        if mapping.rule_holds(cleaned, mapping.work_item_context(integration.provider, attributes)):
            count += 1
            if len(examples) < limit:
                examples.append(RulePreviewExample(key=key, title=title, url=url))
    return RulePreview(work_item_count=count, examples=examples)


# --- Identities -------------------------------------------------------------------------------------


@transaction.atomic
def identity_assign(*, identity: ExternalIdentity, membership: Membership | None) -> ExternalIdentity:
    """Say by hand who a vendor account is (or, with ``None``, that it is nobody known).

    A manual choice is final: matching by e-mail never overrides it. Signals already taken from the
    account count for the person from now on.
    """
    require_same_organization(identity, membership)
    identity.membership = membership
    identity.matched_by = ExternalIdentity.MatchedBy.MANUAL
    identity.save(update_fields=["membership", "matched_by"])
    pipeline.relink_actor_membership(
        identity_id=identity.pk, membership_id=membership.pk if membership else None
    )
    return identity


@transaction.atomic
def identity_match_by_email(*, identities: list[ExternalIdentity] | None = None) -> int:
    """Match unmatched identities (all of them, or those given) to people by e-mail; return how many."""
    require_same_organization(*(identities or []))
    if identities is None:
        identities = list(
            ExternalIdentity.objects.filter(matched_by=ExternalIdentity.MatchedBy.NONE).exclude(email="")
        )
    return pipeline.match_identities_by_email(identities)


@transaction.atomic
def identity_link_account(
    *, provider: str, external_id: str, membership: Membership, display_name: str = ""
) -> ExternalIdentity:
    """Say who a vendor account is before (or after) any of its activity arrives."""
    require_same_organization(membership)
    if provider not in Provider.values:
        raise ValidationError({"provider": f"Choose one of {', '.join(Provider.values)}."})
    if not external_id.strip():
        raise ValidationError({"external_id": "Give the vendor's account id."})
    identity, _created = ExternalIdentity.objects.get_or_create(
        provider=provider,
        external_id=external_id.strip(),
        defaults={"display_name": display_name[:200], "organization_id": require_organization_id()},
    )
    return identity_assign(identity=identity, membership=membership)
