"""From vendor payloads to committed rows: store raw events, then process them into signals.

Two steps, each idempotent:

1. ``store_raw_events`` keeps payloads as received (one ``RawEvent`` per dedupe key; storing a key again
   is a no-op), optionally moving a pull cursor in the same transaction.
2. ``process_raw_events`` normalises a batch of stored events and writes, with a handful of queries per
   batch whatever its size: identities (matched to people by e-mail), work items (upserted on
   ``(organization, provider, external_id)``, never overwritten by an older payload), signals (inserted
   with ON CONFLICT DO NOTHING) and their key-result links (from the integration's mapping rules).

Processing the same raw event twice, or two raw events carrying the same activity, leaves exactly one
signal. The raw events of a batch are locked while it is processed, so concurrent workers handed the
same event take turns. A payload that cannot be processed is never lost: its error and attempt count
are recorded on the raw event, with a log line naming the raw event and provider, and the batch goes
on without it.

Every function here acts for the organisation in context (``tenant_context`` or a ``tenant_task``).
"""

from __future__ import annotations

import hashlib
import logging
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar, NamedTuple, Protocol

from django.conf import settings as django_settings
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from alignment import triggers as drift_triggers
from okrsignal.models import Membership, Organization
from okrsignal.tenancy import require_organization_id, require_same_organization
from signals_ingest import activity_changes, bulk, normalisers
from signals_ingest.mapping import Context, RuleSet, work_item_context
from signals_ingest.models import (
    ExecutionSignal,
    ExternalIdentity,
    Integration,
    MappingRule,
    RawEvent,
    SignalKeyResult,
    SyncCursor,
    WorkItem,
)
from signals_ingest.normalisers import IdentitySeen, Normalised, SignalDraft, WorkItemDraft

logger = logging.getLogger(__name__)

DEDUPE_KEY_MAX = 255
_ENGAGEMENT_KINDS = set(normalisers.HUBSPOT_ENGAGEMENT_KINDS.values())


# --- Storing ----------------------------------------------------------------------------------------


def _fitting_dedupe_key(dedupe_key: str) -> str:
    if len(dedupe_key) <= DEDUPE_KEY_MAX:
        return dedupe_key
    return "sha256:" + hashlib.sha256(dedupe_key.encode()).hexdigest()


def _accepted_payloads(
    integration: Integration, origin: str, items: Sequence[tuple[str, Mapping[str, Any]]]
) -> dict[str, Mapping[str, Any]]:
    """The payloads to keep, by the dedupe key they are stored under (the first of a repeated key wins)."""
    require_same_organization(integration)
    if origin not in RawEvent.Origin.values:
        raise ValueError(f"origin must be one of {', '.join(RawEvent.Origin.values)}, not {origin!r}.")
    provider = integration.provider
    payloads: dict[str, Mapping[str, Any]] = {}
    for index, (dedupe_key, payload) in enumerate(items):
        if not dedupe_key:
            raise ValueError(f"Item {index} has no dedupe key ({provider} payload).")
        if not isinstance(payload, Mapping):
            raise ValueError(f"Item {index} ({provider} {dedupe_key}) is not a JSON object.")
        if provider == "slack" and not normalisers.slack_payload_is_read(payload, integration.settings):
            continue
        payloads.setdefault(_fitting_dedupe_key(str(dedupe_key)), payload)
    return payloads


_RAW_EVENT_COLUMNS = [
    "integration_id",
    "provider",
    "origin",
    "dedupe_key",
    "payload",
    "received_at",
    "processed_at",
    "error",
    "attempts",
]


class OrganizationGone(RuntimeError):
    """The organisation in context was deleted: nothing more is written for it."""


def _hold_organization() -> None:
    """Keep the organisation in context from being deleted until this transaction ends, or stop if it is
    gone. Raw events, work items, signals and links name their organisation without a constraint (see
    ``signals_ingest.models``): this one lock per batch stands in for the check the constraint made for
    every row, and ``organization_delete``, which locks the row before emptying its tables, waits for it."""
    organization_id = require_organization_id()
    if not bulk.hold(Organization, [organization_id]):
        raise OrganizationGone(f"Organisation {organization_id} no longer exists: nothing is written for it.")


def _rows_likely_new(origin: str) -> bool:
    """Whether what came in by ``origin`` is new as a rule (see ``bulk.insert_returning``).

    A webhook brings each event once but for a redelivery, and a replay brings what was never taken. A pull
    reads again, on purpose, what the run before it read: an overlap window, the reconciliation's two days.
    """
    return origin != RawEvent.Origin.PULL


def _insert_raw_events(
    integration: Integration, origin: str, rows: Sequence[tuple[Any, ...]]
) -> dict[str, int]:
    """Insert raw event rows (``_RAW_EVENT_COLUMNS`` order); answer the ids of those new, by dedupe key."""
    _hold_organization()
    return dict(
        bulk.insert_returning(
            RawEvent,
            _RAW_EVENT_COLUMNS,
            rows,
            conflict=["organization", "provider", "dedupe_key"],
            returning=["dedupe_key", "id"],
            likely_new=_rows_likely_new(origin),
        )
    )


def _finish_storing(integration: Integration, new_events: int, cursor: tuple[str, str] | None) -> None:
    """Count what was taken and move the cursor: last in the transaction, as the integration's row is
    locked from here until it commits."""
    if new_events:
        Integration.objects.filter(pk=integration.pk).update(items_taken=F("items_taken") + new_events)
    if cursor is not None:
        stream, value = cursor
        moved = {"value": value, "updated_at": timezone.now()}
        SyncCursor.objects.update_or_create(
            integration=integration,
            stream=stream,
            defaults=moved,
            create_defaults={**moved, "organization_id": integration.organization_id},
        )


@transaction.atomic
def store_raw_events(
    *,
    integration: Integration,
    origin: str,
    items: Sequence[tuple[str, Mapping[str, Any]]],
    cursor: tuple[str, str] | None = None,
    received_at: datetime | None = None,
) -> list[int]:
    """Keep vendor payloads as raw events; return their ids (new or already stored), in ``items`` order.

    ``items`` are ``(dedupe_key, payload)`` pairs (see ``normalisers.dedupe_key_for`` when the transport
    has no delivery id). A dedupe key already stored, or repeated within ``items``, is not stored again.
    Slack payloads from a direct message or a channel the organisation has not selected are not stored
    at all, and have no id in the answer. ``cursor`` (``(stream, value)``) is moved in the same
    transaction, so a pull's position never runs ahead of what it has stored.
    """
    payloads = _accepted_payloads(integration, origin, items)
    keys = list(payloads)
    moment = received_at or timezone.now()
    provider = integration.provider
    stored = _insert_raw_events(
        integration,
        origin,
        [(integration.pk, provider, origin, key, payloads[key], moment, None, "", 0) for key in keys],
    )
    new_events = len(stored)
    already = [key for key in keys if key not in stored]
    if already:
        stored.update(
            bulk.select_by_keys(
                RawEvent, ["dedupe_key", "id"], key="dedupe_key", keys=already, where={"provider": provider}
            )
        )
    _finish_storing(integration, new_events, cursor)
    return [stored[key] for key in keys]


# --- Processing -------------------------------------------------------------------------------------


@dataclass
class ProcessingResult:
    """What a call to ``process_raw_events`` did: the ids processed, and the error of each that failed."""

    processed: list[int] = field(default_factory=list)
    failed: dict[int, str] = field(default_factory=dict)
    skipped: list[int] = field(default_factory=list)


def process_raw_event(*, raw_event_id: int, reprocess: bool = False) -> ProcessingResult:
    """Process one stored raw event (see ``process_raw_events``)."""
    return process_raw_events(raw_event_ids=[raw_event_id], reprocess=reprocess)


@dataclass
class _RawEventRow:
    pk: int
    provider: str
    origin: str
    payload: Any
    integration_id: int
    processed_at: datetime | None


@transaction.atomic
def process_raw_events(*, raw_event_ids: Iterable[int], reprocess: bool = False) -> ProcessingResult:
    """Normalise and write a batch of raw events of the organisation in context.

    Events already processed are skipped unless ``reprocess`` is set (processing again is harmless: it
    changes nothing that is already right). Ids of another organisation are not found, hence ignored.
    """
    # The organisation before the raw events, in the order ``organization_delete`` takes its locks.
    _hold_organization()
    ids = sorted({int(raw_event_id) for raw_event_id in raw_event_ids})
    # Locked in id order: workers handed overlapping batches take turns instead of deadlocking.
    events = [
        _RawEventRow(*row)
        for row in bulk.select_by_keys(
            RawEvent,
            ["id", "provider", "origin", "payload", "integration_id", "processed_at"],
            key="id",
            keys=ids,
            lock=True,
        )
    ]
    return _process(events, reprocess=reprocess)


@transaction.atomic
def store_and_process_raw_events(
    *,
    integration: Integration,
    origin: str,
    items: Sequence[tuple[str, Mapping[str, Any]]],
    cursor: tuple[str, str] | None = None,
) -> ProcessingResult:
    """``store_raw_events`` then ``process_raw_events`` in one transaction, from the payloads in hand.

    For pulls and replays, which have the payloads in memory: they are normalised as given, before
    anything is written, and each new raw event is stored already marked processed (or with the error
    that kept it from being processed), so it is written once and never read back. Events stored
    earlier under the same dedupe key are left as they are if processed, and processed now if not.
    """
    payloads = _accepted_payloads(integration, origin, items)
    provider = integration.provider
    normalised: dict[str, Normalised] = {}
    errors: dict[str, str] = {}
    for dedupe_key, payload in payloads.items():
        try:
            normalised[dedupe_key] = normalisers.normalise(provider, payload, integration.settings)
        except Exception as exc:  # a payload error, or a bug: either way recorded, never lost
            errors[dedupe_key] = _describe(exc)
    now = timezone.now()
    fresh = _insert_raw_events(
        integration,
        origin,
        [
            (
                integration.pk,
                provider,
                origin,
                dedupe_key,
                payload,
                now,
                None if dedupe_key in errors else now,
                errors.get(dedupe_key, ""),
                1,  # this is its first attempt, successful or not
            )
            for dedupe_key, payload in payloads.items()
        ],
    )
    # Stored before, by an earlier delivery or by a worker that got here first: locked, and processed here
    # unless it is already.
    earlier = {
        dedupe_key: (raw_event_id, processed_at)
        for dedupe_key, raw_event_id, processed_at in bulk.select_by_keys(
            RawEvent,
            ["dedupe_key", "id", "processed_at"],
            key="dedupe_key",
            keys=[dedupe_key for dedupe_key in payloads if dedupe_key not in fresh],
            where={"provider": provider},
            lock=True,
        )
    }
    result = ProcessingResult()
    result.skipped = sorted(pk for pk, processed_at in earlier.values() if processed_at is not None)
    waiting = {dedupe_key: pk for dedupe_key, (pk, processed_at) in earlier.items() if processed_at is None}
    ids = {**fresh, **waiting}
    batch = sorted(
        (
            (
                _RawEventRow(ids[dedupe_key], provider, origin, payloads[dedupe_key], integration.pk, None),
                normalised[dedupe_key],
            )
            for dedupe_key in ids
            if dedupe_key in normalised
        ),
        key=lambda item: item[0].pk,
    )
    processed, failed = _write_with_fallback(batch)
    result.processed = processed
    result.failed = {ids[dedupe_key]: error for dedupe_key, error in errors.items() if dedupe_key in ids}
    result.failed.update(failed)
    # Only what differs from how it was stored needs writing: a new event whose writing failed, and the
    # earlier events.
    unwritten = [pk for pk in failed if pk in fresh.values()]
    for pk in unwritten:
        RawEvent.objects.filter(pk=pk).update(processed_at=None, error=failed[pk])
    waiting_ids = set(waiting.values())
    _record_outcome(
        [pk for pk in processed if pk in waiting_ids],
        {pk: error for pk, error in result.failed.items() if pk in waiting_ids},
        now=now,
    )
    _log_failures(result.failed, dict.fromkeys(result.failed, provider))
    _finish_storing(integration, len(fresh), cursor)
    return result


def _process(events: list[_RawEventRow], *, reprocess: bool) -> ProcessingResult:
    result = ProcessingResult()
    if not reprocess:
        result.skipped = [event.pk for event in events if event.processed_at is not None]
        events = [event for event in events if event.processed_at is None]
    if not events:
        return result
    integrations = {
        integration.pk: integration
        for integration in Integration.objects.filter(pk__in={event.integration_id for event in events})
    }
    prepared: list[tuple[_RawEventRow, Normalised]] = []
    for event in events:
        try:
            integration = integrations[event.integration_id]
            prepared.append(
                (event, normalisers.normalise(event.provider, event.payload, integration.settings))
            )
        except Exception as exc:  # a payload error, or a bug: either way recorded, never lost
            result.failed[event.pk] = _describe(exc)
    processed, failed = _write_with_fallback(prepared)
    result.processed = processed
    result.failed.update(failed)
    _record_outcome(result.processed, result.failed, now=timezone.now())
    _log_failures(result.failed, {event.pk: event.provider for event in events})
    return result


def _write_with_fallback(
    batch: Sequence[tuple[_RawEventRow, Normalised]],
) -> tuple[list[int], dict[int, str]]:
    """Write a normalised batch; answer the ids written and the error of each that could not be."""
    if not batch:
        return [], {}
    try:
        with transaction.atomic():
            _write(batch, likely_new=all(_rows_likely_new(event.origin) for event, _normalised in batch))
        return [event.pk for event, _normalised in batch], {}
    except Exception:
        # Find the culprit: each event on its own, so that one bad payload does not hold back the rest.
        logger.warning("A batch of %d raw events failed; processing them one by one", len(batch))
    processed: list[int] = []
    failed: dict[int, str] = {}
    for event, normalised in batch:
        try:
            # Each event in a savepoint of its own already: its rows go in skipping clashes straight away
            # rather than in a savepoint more each (a long retry would pile up subtransactions).
            with transaction.atomic():
                _write([(event, normalised)], likely_new=False)
            processed.append(event.pk)
        except Exception as exc:
            failed[event.pk] = _describe(exc)
    return processed, failed


def _record_outcome(processed: Sequence[int], failed: Mapping[int, str], *, now: datetime) -> None:
    bulk.update_for_ids(RawEvent, processed, {"processed_at": now, "error": ""}, increment="attempts")
    for raw_event_id, error in failed.items():
        RawEvent.objects.filter(pk=raw_event_id).update(error=error, attempts=F("attempts") + 1)


def _log_failures(failed: Mapping[int, str], providers: Mapping[int, str]) -> None:
    for raw_event_id, error in failed.items():
        logger.error(
            "Raw event %s (%s) could not be processed: %s", raw_event_id, providers[raw_event_id], error
        )


def _describe(exc: Exception) -> str:
    if isinstance(exc, normalisers.PayloadError):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"[:2000]


# --- Writing a batch --------------------------------------------------------------------------------


@dataclass
class _Prepared:
    """A normalised batch, keyed for writing."""

    identities: dict[tuple[str, str], IdentitySeen] = field(default_factory=dict)
    # Per work item: the newest full description, every link change, and whether anything described it.
    work_items: dict[tuple[str, str], WorkItemDraft] = field(default_factory=dict)
    link_changes: dict[tuple[str, str], list[WorkItemDraft]] = field(
        default_factory=lambda: defaultdict(list)
    )
    # Per signal: the draft, the raw event it came in, and its payload's own description of its work item.
    signals: dict[tuple[str, str], tuple[SignalDraft, int, WorkItemDraft | None]] = field(
        default_factory=dict
    )
    redactions: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))


def _newer(draft: WorkItemDraft, than: WorkItemDraft) -> bool:
    if than.reference_only:
        return True
    if draft.reference_only:
        return False
    if draft.updated_at is None or than.updated_at is None:
        return draft.updated_at is not None or than.updated_at is None
    return draft.updated_at >= than.updated_at


def _prepare(batch: Sequence[tuple[_RawEventRow, Normalised]]) -> _Prepared:
    prepared = _Prepared()
    for event, normalised in batch:
        for identity in normalised.identities:
            key = (identity.provider, identity.external_id)
            earlier = prepared.identities.get(key)
            if (
                earlier is None
                or (identity.email and not earlier.email)
                or (identity.display_name and not earlier.display_name)
            ):
                prepared.identities[key] = identity
        own = {draft.external_id: draft for draft in normalised.work_items}
        for draft in normalised.work_items:
            key = (draft.provider, draft.external_id)
            current = prepared.work_items.get(key)
            if current is None or _newer(draft, current):
                prepared.work_items[key] = draft
            if draft.links_added or draft.links_removed:
                prepared.link_changes[key].append(draft)
        for signal in normalised.signals:
            prepared.signals.setdefault(
                (signal.provider, signal.external_id), (signal, event.pk, own.get(signal.work_item_id))
            )
        for external_id in normalised.redact_signal_ids:
            prepared.redactions[event.provider].add(external_id)
    return prepared


def _write(batch: Sequence[tuple[_RawEventRow, Normalised]], *, likely_new: bool) -> None:
    # The organisation is held already: by ``process_raw_events`` before it read the events, or by storing
    # them (``_insert_raw_events``) in ``store_and_process_raw_events``.
    prepared = _prepare(batch)
    identities = _upsert_identities(prepared.identities)
    _resolve_jira_epics(prepared)
    work_items, stage_before = _upsert_work_items(prepared, identities, likely_new=likely_new)
    _write_signals(prepared, identities, work_items, stage_before, likely_new=likely_new)
    _fill_awaited_contexts(work_items)
    for provider, external_ids in prepared.redactions.items():
        ExecutionSignal.objects.filter(provider=provider, external_id__in=external_ids).update(
            text="", text_expires_at=None
        )


@dataclass(frozen=True)
class _IdentityRow:
    id: int
    membership_id: int | None


# In the model's field order, which is the order ``Model.from_db`` takes its values in.
_IDENTITY_COLUMNS = [
    field.attname
    for field in ExternalIdentity._meta.concrete_fields
    if field.attname
    in {"id", "provider", "external_id", "display_name", "email", "membership_id", "matched_by"}
]


def _upsert_identities(seen: Mapping[tuple[str, str], IdentitySeen]) -> dict[tuple[str, str], _IdentityRow]:
    """Create the identities not stored yet, complete names and e-mails, match new e-mails to people."""
    if not seen:
        return {}
    by_provider: dict[str, list[str]] = defaultdict(list)
    for provider, external_id in seen:
        by_provider[provider].append(external_id)

    def load() -> dict[tuple[str, str], ExternalIdentity]:
        # Read through each key's own index entry, as work items are: the ORM's ``external_id__in`` has
        # PostgreSQL read the provider's every identity while its statistics lag behind.
        rows: dict[tuple[str, str], ExternalIdentity] = {}
        for provider, external_ids in by_provider.items():
            for values in bulk.select_by_keys(
                ExternalIdentity,
                _IDENTITY_COLUMNS,
                key="external_id",
                keys=external_ids,
                where={"provider": provider},
            ):
                # As the ORM loads a model with some fields deferred: saving it writes only these.
                identity = ExternalIdentity.from_db(connection.alias, _IDENTITY_COLUMNS, values)
                rows[(identity.provider, identity.external_id)] = identity
        return rows

    stored = load()
    organization_id = require_organization_id()
    missing = [
        ExternalIdentity(
            organization_id=organization_id,
            provider=identity.provider,
            external_id=identity.external_id,
            display_name=identity.display_name[:200],
            email=identity.email.strip().lower()[:254],
        )
        for key, identity in seen.items()
        if key not in stored
    ]
    if missing:
        ExternalIdentity.objects.bulk_create(missing, ignore_conflicts=True)
        stored = load()
    changed: list[ExternalIdentity] = []
    for key, identity in seen.items():
        row = stored[key]
        email = identity.email.strip().lower()[:254]
        name = identity.display_name[:200]
        if (name and name != row.display_name) or (email and email != row.email):
            row.display_name = name or row.display_name
            row.email = email or row.email
            changed.append(row)
    if changed:
        ExternalIdentity.objects.bulk_update(changed, ["display_name", "email"])
    # Signals name their actor without a database constraint: the identities are held until the batch
    # commits instead (the lock the constraint's check took on each). One that went between reading and
    # holding (a person's data erased meanwhile) fails the batch, which is processed again later.
    held = bulk.hold(ExternalIdentity, [row.pk for row in stored.values()])
    gone = sorted(key for key, row in stored.items() if row.pk not in held)
    if gone:
        raise RuntimeError(f"External identities {gone} were deleted while the batch was being written.")
    match_identities_by_email(
        [row for row in stored.values() if row.email and row.matched_by == ExternalIdentity.MatchedBy.NONE]
    )
    return {key: _IdentityRow(row.pk, row.membership_id) for key, row in stored.items()}


def match_identities_by_email(identities: Sequence[ExternalIdentity]) -> int:
    """Link unmatched identities to the active member whose sign-in e-mail is theirs; return how many.

    Identities matched by hand are never touched. The signal links of a newly matched identity get its
    person, so the drift engine counts their earlier work too.
    """
    candidates = [
        identity
        for identity in identities
        if identity.email and identity.matched_by == ExternalIdentity.MatchedBy.NONE
    ]
    if not candidates:
        return 0
    emails = {identity.email.lower() for identity in candidates}
    members = {
        email.lower(): membership_id
        for membership_id, email in Membership.objects.filter(
            is_active=True, user__email__in=emails
        ).values_list("id", "user__email")
    }
    matched: list[ExternalIdentity] = []
    for identity in candidates:
        membership_id = members.get(identity.email.lower())
        if membership_id is not None:
            identity.membership_id = membership_id
            identity.matched_by = ExternalIdentity.MatchedBy.EMAIL
            matched.append(identity)
    if matched:
        ExternalIdentity.objects.bulk_update(matched, ["membership", "matched_by"])
        for identity in matched:
            relink_actor_membership(identity_id=identity.pk, membership_id=identity.membership_id)
    return len(matched)


def relink_actor_membership(*, identity_id: int, membership_id: int | None) -> None:
    """Give the key-result links of an identity's signals the person now behind the identity."""
    activity_changes.record_days_of(ExecutionSignal.objects.filter(actor_id=identity_id))
    SignalKeyResult.objects.filter(
        signal_id__in=ExecutionSignal.objects.filter(actor_id=identity_id).values("id")
    ).update(actor_membership_id=membership_id)


def _resolve_jira_epics(prepared: _Prepared) -> None:
    """A sub-task's epic is its parent's: taken from the batch or from the stored parent."""
    waiting = [
        draft
        for (provider, _id), draft in prepared.work_items.items()
        if provider == "jira" and not draft.attributes.get("epic") and draft.attributes.get("parent")
    ]
    if not waiting:
        return
    epics = {
        draft.key: draft.attributes.get("epic")
        for (provider, _id), draft in prepared.work_items.items()
        if provider == "jira" and draft.attributes.get("epic")
    }
    parents = {str(draft.attributes["parent"]) for draft in waiting} - set(epics)
    if parents:
        for key, attributes in WorkItem.objects.filter(provider="jira", key__in=parents).values_list(
            "key", "attributes"
        ):
            if attributes.get("epic"):
                epics[key] = attributes["epic"]
    for draft in waiting:
        draft.attributes["epic"] = epics.get(str(draft.attributes["parent"]))
    # Signals snapshot their work item as their payload showed it: give those drafts the epic too.
    for _signal, _event_id, own in prepared.signals.values():
        if own is not None and own.provider == "jira" and not own.attributes.get("epic"):
            parent = own.attributes.get("parent")
            if parent:
                own.attributes["epic"] = epics.get(str(parent))


def _merge_blockers(
    stored: Any, draft: WorkItemDraft, changes: Sequence[WorkItemDraft]
) -> list[dict[str, str]] | None:
    """The ``blocked_by`` attribute after this batch: each blocker's key and since when it blocks."""
    since: dict[str, str] = {
        str(entry["key"]): str(entry.get("since") or "")
        for entry in (stored if isinstance(stored, list) else [])
        if isinstance(entry, Mapping) and entry.get("key")
    }
    original = dict(since)
    added_at: dict[str, str] = {}
    for change in sorted(changes, key=lambda item: item.updated_at or datetime.min.replace(tzinfo=UTC)):
        for key, moment in change.links_added:
            added_at.setdefault(key, moment.isoformat())
            since.setdefault(key, moment.isoformat())
        for key in change.links_removed:
            since.pop(key, None)
    if draft.blocked_by is not None:
        fallback = (draft.updated_at or timezone.now()).isoformat()
        since = {key: original.get(key) or added_at.get(key) or fallback for key in draft.blocked_by}
    if since == original and not changes and draft.blocked_by is None:
        return None
    return [{"key": key, "since": moment} for key, moment in since.items()]


def _apply_draft(
    row: _WorkItemRow,
    draft: WorkItemDraft,
    changes: Sequence[WorkItemDraft],
    identities: Mapping[tuple[str, str], _IdentityRow],
) -> bool:
    """Bring a stored work item up to ``draft`` unless the draft is older; True when something changed."""
    if draft.reference_only:
        return False
    if row.vendor_updated_at and draft.updated_at and draft.updated_at < row.vendor_updated_at:
        return False
    attributes = {**row.attributes, **draft.attributes}
    if draft.provider == "jira":
        blockers = _merge_blockers(row.attributes.get("blocked_by"), draft, changes)
        if blockers is not None:
            attributes["blocked_by"] = blockers
    assignee_id = row.assignee_id
    if draft.assignee_known:
        identity = identities.get((draft.provider, draft.assignee_id)) if draft.assignee_id else None
        assignee_id = identity.id if identity else None
    values = {
        "key": draft.key,
        "kind": draft.kind,
        "title": draft.title or row.title,
        "status": draft.status,
        "url": draft.url or row.url,
        "attributes": attributes,
        "assignee_id": assignee_id,
        "vendor_updated_at": draft.updated_at or row.vendor_updated_at,
        "archived": draft.archived,
    }
    changed = False
    for name, value in values.items():
        if getattr(row, name) != value:
            setattr(row, name, value)
            changed = True
    return changed


_WORK_ITEM_UPDATE_COLUMNS = [
    "key",
    "kind",
    "title",
    "status",
    "url",
    "attributes",
    "assignee_id",
    "vendor_updated_at",
    "archived",
    "updated_at",
]
# ``created_at`` last: the rows inserted take their other values from ``_WorkItemRow``.
_WORK_ITEM_INSERT_COLUMNS = ["provider", "external_id", *_WORK_ITEM_UPDATE_COLUMNS, "created_at"]


@dataclass(slots=True)
class _WorkItemRow:
    """The columns of a work item that upserting reads and writes (a batch holds thousands: no models)."""

    COLUMNS: ClassVar[list[str]] = [
        "id",
        "provider",
        "external_id",
        "key",
        "kind",
        "title",
        "status",
        "url",
        "attributes",
        "assignee_id",
        "vendor_updated_at",
        "archived",
        "updated_at",
    ]

    pk: int
    provider: str
    external_id: str
    key: str
    kind: str
    title: str
    status: str
    url: str
    attributes: dict[str, Any]
    assignee_id: int | None
    vendor_updated_at: datetime | None
    archived: bool
    updated_at: datetime


def _load_work_items(keys: Iterable[tuple[str, str]]) -> dict[tuple[str, str], _WorkItemRow]:
    """Stored work items by ``(provider, external id)``, locked (in id order) until the transaction ends."""
    by_provider: dict[str, list[str]] = defaultdict(list)
    for provider, external_id in sorted(keys):
        by_provider[provider].append(external_id)
    rows: dict[tuple[str, str], _WorkItemRow] = {}
    for provider, external_ids in by_provider.items():
        for values in bulk.select_by_keys(
            WorkItem,
            _WorkItemRow.COLUMNS,
            key="external_id",
            keys=external_ids,
            where={"provider": provider},
            lock=True,
        ):
            row = _WorkItemRow(*values)
            rows[(row.provider, row.external_id)] = row
    return rows


def _upsert_work_items(
    prepared: _Prepared, identities: Mapping[tuple[str, str], _IdentityRow], *, likely_new: bool
) -> tuple[dict[tuple[str, str], _WorkItemRow], dict[tuple[str, str], Any]]:
    """Upsert the batch's work items; return them by key, and each deal's stage before this batch."""
    rows = _load_work_items(prepared.work_items)
    stage_before = {
        key: row.attributes.get("dealstage") for key, row in rows.items() if row.provider == "hubspot"
    }
    now = timezone.now()
    changed: dict[tuple[str, str], _WorkItemRow] = {}
    for key, row in rows.items():
        if _apply_draft(row, prepared.work_items[key], prepared.link_changes.get(key, ()), identities):
            row.updated_at = now
            changed[key] = row
    # New ones in key order, so that two workers inserting the same new work items take their locks in
    # the same order and never deadlock.
    missing = sorted(key for key in prepared.work_items if key not in rows)
    if missing:
        fresh: dict[tuple[str, str], _WorkItemRow] = {}
        for key in missing:
            draft = prepared.work_items[key]
            row = _WorkItemRow(
                pk=0,
                provider=draft.provider,
                external_id=draft.external_id,
                key=draft.key,
                kind=draft.kind,
                title="",
                status="",
                url=draft.url,
                attributes={},
                assignee_id=None,
                vendor_updated_at=None,
                archived=False,
                updated_at=now,
            )
            _apply_draft(row, draft, prepared.link_changes.get(key, ()), identities)
            fresh[key] = row
        for provider, external_id, pk in bulk.insert_returning(
            WorkItem,
            _WORK_ITEM_INSERT_COLUMNS,
            [
                (*(getattr(row, column) for column in _WORK_ITEM_INSERT_COLUMNS[:-1]), now)
                for row in fresh.values()
            ],
            conflict=["organization", "provider", "external_id"],
            returning=["provider", "external_id", "id"],
            likely_new=likely_new,
        ):
            row = fresh.pop((provider, external_id))
            row.pk = pk
            rows[(provider, external_id)] = row
        # What is left was inserted by another worker meanwhile: it gets this batch's description merged
        # in like any stored row.
        inserted = _load_work_items(fresh)
        for key, row in inserted.items():
            if _apply_draft(row, prepared.work_items[key], prepared.link_changes.get(key, ()), identities):
                row.updated_at = now
                changed[key] = row
        rows.update(inserted)
    bulk.update_by_id(
        WorkItem,
        _WORK_ITEM_UPDATE_COLUMNS,
        [
            (row.pk, *(getattr(row, column) for column in _WORK_ITEM_UPDATE_COLUMNS))
            for row in changed.values()
        ],
    )
    return rows, stage_before


def _text_and_expiry(
    text: str, occurred_at: datetime, now: datetime, retention: timedelta, limit: int
) -> tuple[str, datetime | None]:
    if not text:
        return "", None
    expires_at = occurred_at + retention
    if expires_at <= now:
        return "", None  # already past its retention: never stored
    if len(text) > limit:
        text = text[: max(limit - 1, 0)].rstrip() + "…"
    return text, expires_at


def _deal_context(row: _WorkItemRow | WorkItem | None) -> dict[str, list[str]] | None:
    if row is None or not row.attributes.get("pipeline"):
        return None
    return work_item_context("hubspot", row.attributes)


class _Contexts:
    """The contexts mapping rules see for each signal of a batch, and the key results they map to.

    Signals whose contexts are alike share one list of them, worked out once per piece of work and kept
    once per content (a handful of fields, project, epic, labels, channel, stage..., so many pieces of work
    have the same): the rules are evaluated, and the contexts encoded for the database, once for each.
    """

    def __init__(self, work_items: Mapping[tuple[str, str], _WorkItemRow], rule_sets: Mapping[str, RuleSet]):
        self._work_items = work_items
        self._rule_sets = rule_sets
        self._of_draft: dict[int, list[dict[str, list[str]]]] = {}
        self._of_row: dict[tuple[str, str], list[dict[str, list[str]]]] = {}
        self._by_content: dict[tuple[Any, ...], list[dict[str, list[str]]]] = {}
        # By the identity of the shared list, which each entry holds so that its id stays its own.
        self._key_results: dict[tuple[str, int], tuple[list[dict[str, list[str]]], list[int]]] = {}

    def _shared(self, provider: str, contexts: list[dict[str, list[str]]]) -> list[dict[str, list[str]]]:
        try:
            content = (
                provider,
                tuple(tuple((k, tuple(v)) for k, v in context.items()) for context in contexts),
            )
            return self._by_content.setdefault(content, contexts)
        except TypeError:  # something unhashable in a context: kept on its own
            return contexts

    def of(self, signal: SignalDraft, own: WorkItemDraft | None) -> tuple[list[dict[str, list[str]]], bool]:
        """A signal's contexts, and whether some are still unknown (an engagement's deal not stored yet)."""
        if signal.context_deals:
            contexts: list[dict[str, list[str]]] = []
            awaiting = False
            for deal_id in signal.context_deals:
                context = _deal_context(self._work_items.get(("hubspot", deal_id)))
                if context is None:
                    awaiting = True
                else:
                    contexts.append(context)
            return self._shared(signal.provider, contexts), awaiting
        if signal.match_context is not None:
            return self._shared(signal.provider, signal.match_context), False
        if own is not None:
            found = self._of_draft.get(id(own))
            if found is None:
                found = self._of_draft[id(own)] = self._shared(
                    signal.provider, [work_item_context(signal.provider, own.attributes)]
                )
            return found, False
        key = (signal.provider, signal.work_item_id)
        found = self._of_row.get(key)
        if found is None:
            row = self._work_items.get(key)
            found = self._of_row[key] = self._shared(
                signal.provider, [work_item_context(signal.provider, row.attributes)] if row else []
            )
        return found, False

    def key_results(self, provider: str, contexts: list[dict[str, list[str]]]) -> list[int]:
        rule_set = self._rule_sets.get(provider)
        if not rule_set:
            return []
        known = self._key_results.get((provider, id(contexts)))
        if known is not None and known[0] is contexts:
            return known[1]
        found = sorted(rule_set.key_results_for(contexts))
        self._key_results[(provider, id(contexts))] = (contexts, found)
        return found


def _rule_sets(providers: Iterable[str]) -> dict[str, RuleSet]:
    rules: dict[str, list[tuple[dict[str, str], int]]] = defaultdict(list)
    # Unordered: a rule set's answer does not depend on its rules' order, and the model's default ordering
    # (by integration, then by creation) cost more to compile than the rest of the query.
    for provider, match, key_result_id in (
        MappingRule.objects.filter(integration__provider__in=set(providers))
        .order_by()
        .values_list("integration__provider", "match", "key_result_id")
    ):
        rules[provider].append((match, key_result_id))
    return {provider: RuleSet(rules.get(provider, [])) for provider in set(providers)}


class _NewSignal(NamedTuple):
    """A signal row to insert, its fields in ``_SIGNAL_INSERT_COLUMNS`` order (a tuple: it is the row)."""

    provider: str
    external_id: str
    work_item_id: int
    actor_id: int | None
    occurred_at: datetime
    kind: str
    weight: float
    text: str
    text_expires_at: datetime | None
    attributes: dict[str, Any]
    match_context: list[dict[str, list[str]]]
    awaits_context: bool
    raw_event_id: int
    created_at: datetime


_SIGNAL_INSERT_COLUMNS = list(_NewSignal._fields)


@dataclass
class StoredSignal:
    """The columns of a stored signal that linking and refreshing need, read without building models."""

    COLUMNS: ClassVar[list[str]] = [
        "id",
        "provider",
        "external_id",
        "kind",
        "work_item_id",
        "actor_id",
        "occurred_at",
        "weight",
        "attributes",
        "match_context",
        "awaits_context",
    ]

    pk: int
    provider: str
    external_id: str
    kind: str
    work_item_id: int
    actor_id: int | None
    occurred_at: datetime
    weight: float
    attributes: dict[str, Any]
    match_context: list[dict[str, list[str]]]
    awaits_context: bool


class LinkableSignal(Protocol):
    pk: int
    provider: str
    actor_id: int | None
    occurred_at: datetime
    weight: float
    match_context: Any


def _write_signals(
    prepared: _Prepared,
    identities: Mapping[tuple[str, str], _IdentityRow],
    work_items: Mapping[tuple[str, str], _WorkItemRow],
    stage_before: Mapping[tuple[str, str], Any],
    *,
    likely_new: bool,
) -> None:
    if not prepared.signals:
        return
    now = timezone.now()
    retention = timedelta(days=django_settings.SIGNAL_TEXT_RETENTION_DAYS)
    limit = django_settings.SIGNAL_TEXT_MAX_CHARS
    rule_sets = _rule_sets({provider for provider, _external_id in prepared.signals})
    contexts = _Contexts(work_items, rule_sets)
    # A deal payload without stage-entry times shows a stage change only when its stage differs from the
    # one stored before it (walked in the vendor's time order, so a batch with several updates of one
    # deal keeps each real change).
    current_stage = dict(stage_before)
    wanted: dict[tuple[str, str], _NewSignal] = {}
    for key, (draft, raw_event_id, own) in sorted(
        prepared.signals.items(), key=lambda item: item[1][0].occurred_at
    ):
        if draft.kind == "stage_change":
            deal_key = ("hubspot", draft.work_item_id)
            stage = draft.attributes.get("stage")
            if not draft.stage_entry_known and current_stage.get(deal_key) == stage:
                continue
            current_stage[deal_key] = stage
        actor = identities.get((draft.provider, draft.actor_id)) if draft.actor_id else None
        match_context, awaiting = contexts.of(draft, own)
        text, expires_at = _text_and_expiry(draft.text, draft.occurred_at, now, retention, limit)
        wanted[key] = _NewSignal(
            provider=draft.provider,
            external_id=draft.external_id,
            work_item_id=work_items[(draft.provider, draft.work_item_id)].pk,
            actor_id=actor.id if actor else None,
            occurred_at=draft.occurred_at,
            kind=draft.kind,
            weight=draft.weight,
            text=text,
            text_expires_at=expires_at,
            attributes=draft.attributes,
            match_context=match_context,
            awaits_context=awaiting,
            raw_event_id=raw_event_id,
            created_at=now,
        )
    if not wanted:
        return
    # Inserted in key order, so that two workers writing the same activities never deadlock.
    ordered = sorted(wanted)
    inserted = {
        (provider, external_id): pk
        for provider, external_id, pk in bulk.insert_returning(
            ExecutionSignal,
            _SIGNAL_INSERT_COLUMNS,
            [wanted[key] for key in ordered],
            conflict=["organization", "provider", "external_id"],
            returning=["provider", "external_id", "id"],
            likely_new=likely_new,
        )
    }
    # A signal just inserted has no links yet, and is stored exactly as wanted: its links follow from the
    # rules alone, with the person behind its actor as this batch's identities say.
    people = {identity.id: identity.membership_id for identity in identities.values()}
    links: list[tuple[Any, ...]] = []
    for key, pk in inserted.items():
        signal = wanted[key]
        key_results = contexts.key_results(signal.provider, signal.match_context)
        if key_results:
            membership_id = people.get(signal.actor_id) if signal.actor_id else None
            links += [
                (pk, key_result_id, signal.occurred_at, signal.weight, membership_id)
                for key_result_id in key_results
            ]
    # A plain INSERT: no other transaction can have linked a signal this one has just made, and each
    # signal's key results are distinct, so nothing can clash (skipping ON CONFLICT's speculative insertion
    # made writing links about a quarter cheaper).
    bulk.insert(
        SignalKeyResult,
        ["signal_id", "key_result_id", "occurred_at", "weight", "actor_membership_id"],
        links,
    )
    activity_changes.record_days(wanted[key].occurred_at for key in inserted)
    drift_triggers.key_results_changed({link[1] for link in links})
    earlier = [key for key in ordered if key not in inserted]
    if earlier:
        _refresh_stored_signals({key: wanted[key] for key in earlier}, rule_sets)


def _refresh_stored_signals(
    wanted: Mapping[tuple[str, str], _NewSignal], rule_sets: Mapping[str, RuleSet]
) -> None:
    """Signals that were stored already (another delivery of the same activity): relink, and move
    engagements that now belong to another deal."""
    by_provider: dict[str, list[str]] = defaultdict(list)
    for provider, external_id in wanted:
        by_provider[provider].append(external_id)
    stored: dict[tuple[str, str], StoredSignal] = {}
    for provider, external_ids in by_provider.items():
        for values in bulk.select_by_keys(
            ExecutionSignal,
            StoredSignal.COLUMNS,
            key="external_id",
            keys=external_ids,
            where={"provider": provider},
        ):
            row = StoredSignal(*values)
            stored[(row.provider, row.external_id)] = row

    # An engagement stored before may belong elsewhere now (associated with another deal). Other signals
    # keep the context they were stored with: it is the work as it stood when the activity happened. No
    # signal's text or actor is touched again: expired or erased text must stay gone.
    refreshed: list[StoredSignal] = []
    for key, signal in wanted.items():
        row = stored[key]
        if signal.kind not in _ENGAGEMENT_KINDS:
            continue
        if (row.work_item_id, row.attributes, row.match_context, row.awaits_context) != (
            signal.work_item_id,
            signal.attributes,
            signal.match_context,
            signal.awaits_context,
        ):
            row.work_item_id = signal.work_item_id
            row.attributes = signal.attributes
            row.match_context = signal.match_context
            row.awaits_context = signal.awaits_context
            refreshed.append(row)
    activity_changes.record_days(row.occurred_at for row in refreshed)
    bulk.update_by_id(
        ExecutionSignal,
        ["work_item_id", "attributes", "match_context", "awaits_context"],
        [
            (row.pk, row.work_item_id, row.attributes, row.match_context, row.awaits_context)
            for row in refreshed
        ],
    )
    link_signals(list(stored.values()), rule_sets)


def link_signals(signals: Sequence[LinkableSignal], rule_sets: Mapping[str, RuleSet]) -> int:
    """Make the key-result links of ``signals`` what the rules say; return how many links changed.

    Each signal counts in full toward every key result a rule maps any of its contexts to.
    """
    if not signals:
        return 0
    _hold_organization()  # links name it without a database constraint (reapplying rules writes them too)
    existing: dict[int, dict[int, int]] = defaultdict(dict)
    for link_id, signal_id, key_result_id in bulk.select_by_keys(
        SignalKeyResult, ["id", "signal_id", "key_result_id"], key="signal_id", keys=[s.pk for s in signals]
    ):
        existing[signal_id][key_result_id] = link_id
    actor_ids = {signal.actor_id for signal in signals if signal.actor_id}
    memberships: dict[int, int | None] = (
        dict(ExternalIdentity.objects.filter(pk__in=actor_ids).values_list("id", "membership_id"))
        if actor_ids
        else {}
    )
    fresh: list[tuple[Any, ...]] = []
    stale: list[int] = []
    relinked: set[int] = set()
    changed_at: list[datetime] = []
    for signal in signals:
        rule_set = rule_sets.get(signal.provider)
        contexts: list[Context] = signal.match_context if isinstance(signal.match_context, list) else []
        wanted = rule_set.key_results_for(contexts) if rule_set else set()
        have = existing.get(signal.pk, {})
        stale += [link_id for key_result_id, link_id in have.items() if key_result_id not in wanted]
        relinked |= set(have) ^ wanted
        actor_membership_id = memberships.get(signal.actor_id) if signal.actor_id else None
        fresh += [
            (signal.pk, key_result_id, signal.occurred_at, signal.weight, actor_membership_id)
            for key_result_id in wanted - set(have)
        ]
        if set(have) != wanted:
            changed_at.append(signal.occurred_at)
    activity_changes.record_days(changed_at)
    drift_triggers.key_results_changed(relinked)
    if stale:
        SignalKeyResult.objects.filter(pk__in=stale).delete()
    bulk.insert_ignoring_conflicts(
        SignalKeyResult,
        ["signal_id", "key_result_id", "occurred_at", "weight", "actor_membership_id"],
        fresh,
        conflict=["organization", "signal", "key_result"],
    )
    return len(stale) + len(fresh)


def _fill_awaited_contexts(work_items: Mapping[tuple[str, str], _WorkItemRow]) -> None:
    """Engagements stored before their deal was described take the deal's mapping once it is."""
    described = {
        external_id
        for (provider, external_id), row in work_items.items()
        if provider == "hubspot" and row.kind == WorkItem.Kind.DEAL and row.attributes.get("pipeline")
    }
    if not described:
        return
    waiting = [
        signal
        for signal in ExecutionSignal.objects.filter(provider="hubspot", awaits_context=True)
        if described & set(signal.attributes.get("deal_ids") or [])
    ]
    if not waiting:
        return
    deal_ids = {deal_id for signal in waiting for deal_id in signal.attributes.get("deal_ids") or []}
    deals = {
        row.external_id: row for row in WorkItem.objects.filter(provider="hubspot", external_id__in=deal_ids)
    }
    for signal in waiting:
        contexts = []
        awaiting = False
        for deal_id in signal.attributes.get("deal_ids") or []:
            context = _deal_context(deals.get(deal_id))
            if context is None:
                awaiting = True
            else:
                contexts.append(context)
        signal.match_context, signal.awaits_context = contexts, awaiting
    activity_changes.record_days(signal.occurred_at for signal in waiting)
    ExecutionSignal.objects.bulk_update(waiting, ["match_context", "awaits_context"])
    link_signals(waiting, _rule_sets(["hubspot"]))


# --- Re-applying rules ------------------------------------------------------------------------------

REAPPLY_CHUNK = 2000


def reapply_mapping_rules(*, integration_id: int) -> int:
    """Recompute every stored signal's key-result links for one integration; return how many changed.

    Runs in chunks of signals, each evaluated against the contexts stored with it, so it touches only
    links whose rules changed and can run on an integration of any size.
    """
    integration = Integration.objects.get(pk=integration_id)
    rule_sets = _rule_sets([integration.provider])
    changed = 0
    last_id = 0
    while True:
        with transaction.atomic():
            chunk = list(
                ExecutionSignal.objects.filter(provider=integration.provider, pk__gt=last_id)
                .order_by("pk")
                .only("id", "provider", "actor_id", "occurred_at", "weight", "match_context")[:REAPPLY_CHUNK]
            )
            if not chunk:
                return changed
            changed += link_signals(chunk, rule_sets)
        last_id = chunk[-1].pk
