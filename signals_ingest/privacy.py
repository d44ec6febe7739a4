"""What was collected about a person, exporting it, erasing it, and letting stored text expire.

Erasure (``person_erase``) removes what identifies the person in the execution data, and keeps what the
organisation's figures need:

* **Gone:** the text of every signal they were the actor of; the link from those signals to them (the
  signal's actor, and the person on its key-result links); their vendor identities (account id, name,
  e-mail); their assignment on work items; and the free text in the raw payloads those signals came in.
* **Kept:** each signal itself, anonymous: its kind, time, weight, the work item it was on and the key
  results it counts toward. Counts and sums per key result and week are unchanged; they are no longer
  attributed to anyone.

Activity that arrives after an erasure, from the same vendor accounts, creates new unmatched identities
(matched again by e-mail if the vendor gives one, as for anybody).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import transaction

from okrsignal.models import Membership
from okrsignal.tenancy import require_same_organization
from signals_ingest import activity_changes
from signals_ingest.models import ExecutionSignal, ExternalIdentity, RawEvent, SignalKeyResult, WorkItem
from signals_ingest.normalisers import redact_payload_text


@dataclass(frozen=True)
class StoredText:
    occurred_at: datetime
    provider: str
    kind: str
    work_item_key: str
    text: str
    expires_at: datetime | None


@dataclass
class PersonCollectedData:
    """Everything the execution data holds about one person, for the page that shows it to them."""

    identities: list[ExternalIdentity]
    signal_count: int
    signals_by_kind: dict[tuple[str, str], int]
    assigned_work_item_count: int
    texts: list[StoredText] = field(default_factory=list)


def _identities_of(membership: Membership) -> list[ExternalIdentity]:
    return list(ExternalIdentity.objects.filter(membership=membership).order_by("provider", "external_id"))


def person_collected_data(*, membership: Membership) -> PersonCollectedData:
    require_same_organization(membership)
    identities = _identities_of(membership)
    signals = ExecutionSignal.objects.filter(actor__in=identities)
    counts = Counter(signals.values_list("provider", "kind"))
    texts = [
        StoredText(
            occurred_at=occurred_at,
            provider=provider,
            kind=kind,
            work_item_key=key,
            text=text,
            expires_at=expires_at,
        )
        for occurred_at, provider, kind, key, text, expires_at in signals.exclude(text="")
        .order_by("-occurred_at")
        .values_list("occurred_at", "provider", "kind", "work_item__key", "text", "text_expires_at")
    ]
    return PersonCollectedData(
        identities=identities,
        signal_count=sum(counts.values()),
        signals_by_kind=dict(counts),
        assigned_work_item_count=WorkItem.objects.filter(assignee__in=identities).count(),
        texts=texts,
    )


def person_export(*, membership: Membership) -> dict[str, Any]:
    """Everything collected about a person, as plain JSON-able data (times in ISO 8601)."""
    require_same_organization(membership)
    identities = _identities_of(membership)
    links: dict[int, list[int]] = {}
    signals = list(
        ExecutionSignal.objects.filter(actor__in=identities)
        .select_related("work_item")
        .order_by("occurred_at", "id")
    )
    for signal_id, key_result_id in SignalKeyResult.objects.filter(
        signal_id__in=[signal.pk for signal in signals]
    ).values_list("signal_id", "key_result_id"):
        links.setdefault(signal_id, []).append(key_result_id)
    return {
        "person": {"name": membership.user.full_name, "email": membership.user.email},
        "identities": [
            {
                "provider": identity.provider,
                "external_id": identity.external_id,
                "display_name": identity.display_name,
                "email": identity.email,
                "matched_by": identity.matched_by,
            }
            for identity in identities
        ],
        "signals": [
            {
                "provider": signal.provider,
                "external_id": signal.external_id,
                "kind": signal.kind,
                "occurred_at": signal.occurred_at.isoformat(),
                "weight": signal.weight,
                "work_item": {"key": signal.work_item.key, "title": signal.work_item.title},
                "text": signal.text,
                "text_expires_at": signal.text_expires_at.isoformat() if signal.text_expires_at else None,
                "key_result_ids": sorted(links.get(signal.pk, [])),
            }
            for signal in signals
        ],
        "assigned_work_items": [
            {"provider": provider, "key": key, "title": title}
            for provider, key, title in WorkItem.objects.filter(assignee__in=identities)
            .order_by("provider", "key")
            .values_list("provider", "key", "title")
        ],
    }


@dataclass(frozen=True)
class ErasureSummary:
    identities_deleted: int
    signals_anonymised: int
    texts_erased: int
    raw_events_redacted: int


def _redact_raw_events(raw_event_ids: set[int]) -> int:
    events = list(RawEvent.objects.filter(pk__in=raw_event_ids).only("id", "provider", "payload"))
    for event in events:
        event.payload = redact_payload_text(event.provider, event.payload)
    RawEvent.objects.bulk_update(events, ["payload"], batch_size=500)
    return len(events)


@transaction.atomic
def person_erase(*, membership: Membership) -> ErasureSummary:
    """Erase a person's collected execution data, keeping the anonymous counts (see the module docstring)."""
    require_same_organization(membership)
    # Locked first: signals name their actor without a database constraint, and an ingestion batch holds
    # the identities it writes signals for until it commits. So a batch already writing finishes before
    # the signals are read here, and one that comes after finds the identities gone (and is retried).
    identity_ids = list(
        ExternalIdentity.objects.filter(membership=membership)
        .select_for_update()
        .order_by("pk")
        .values_list("id", flat=True)
    )
    signals = ExecutionSignal.objects.filter(actor_id__in=identity_ids)
    raw_event_ids = set(signals.exclude(raw_event=None).values_list("raw_event_id", flat=True))
    texts_erased = signals.exclude(text="").count()
    activity_changes.record_days_of(signals)  # their actor goes, and with it the person they counted for
    signals_anonymised = signals.update(text="", text_expires_at=None, actor=None)
    SignalKeyResult.objects.filter(actor_membership=membership).update(actor_membership=None)
    WorkItem.objects.filter(assignee_id__in=identity_ids).update(assignee=None)
    raw_events_redacted = _redact_raw_events(raw_event_ids)
    identities_deleted, _by_model = ExternalIdentity.objects.filter(pk__in=identity_ids).delete()
    return ErasureSummary(
        identities_deleted=identities_deleted,
        signals_anonymised=signals_anonymised,
        texts_erased=texts_erased,
        raw_events_redacted=raw_events_redacted,
    )


@transaction.atomic
def expire_signal_texts(*, now: datetime) -> int:
    """Blank the stored text of signals past their expiry (and in the payloads they came in); return how many.

    The signals, their weights and their key-result links stay: only the words go.
    """
    expired = ExecutionSignal.objects.filter(text_expires_at__lte=now)
    raw_event_ids = set(expired.exclude(raw_event=None).values_list("raw_event_id", flat=True))
    count = expired.update(text="", text_expires_at=None)
    if raw_event_ids:
        _redact_raw_events(raw_event_ids)
    return count
