"""Reads behind the integration pages: each tool's state, identities, mapping choices and what was
collected about a person. Every function reads the organisation in context, in a fixed number of queries.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Case, Count, IntegerField, Max, Min, Q, QuerySet, Value, When
from django.db.models.functions import TruncWeek
from django.utils import timezone

from goals.models import KeyResult
from okrsignal.models import Membership
from signals_ingest import mapping
from signals_ingest.models import (
    ExecutionSignal,
    ExternalIdentity,
    Integration,
    MappingRule,
    Provider,
    RawEvent,
    WorkItem,
)

# A sync that has not succeeded for this long is shown as behind.
SYNC_LAG_WARNING = timedelta(hours=2)
SUGGESTIONS_PER_KEY = 50


# What each tool brings, and what connecting it takes, in the words of the overview.
TOOL_DESCRIPTIONS: dict[str, tuple[str, str]] = {
    Provider.JIRA: (
        "Issues, status transitions, comments and blockers.",
        "To connect it you need your Jira Cloud site address, an account e-mail and an API token.",
    ),
    Provider.SLACK: (
        "Messages in the channels you choose. Never direct messages.",
        "To connect it you need a Slack app's bot token and signing secret.",
    ),
    Provider.HUBSPOT: (
        "Deals, stage changes, and the calls, meetings, notes, e-mails and tasks on them.",
        "To connect it you need a HubSpot private app's access token and client secret.",
    ),
}


def webhook_url(integration: Integration) -> str:
    """The full address the vendor calls: the token in it is how a call finds its organisation."""
    return f"{settings.SITE_URL}/webhooks/{integration.provider}/{integration.webhook_token}/"


@dataclass(frozen=True)
class IntegrationCard:
    """One tool on the overview: connected or not, and how its syncing goes."""

    provider: str
    label: str
    integration: Integration | None
    webhook_url: str = ""
    rule_count: int = 0
    waiting_events: int = 0
    oldest_waiting_at: datetime | None = None
    failed_events: int = 0
    work_item_count: int = 0
    signal_count: int = 0
    unmatched_identities: int = 0
    channel_count: int = 0

    @property
    def description(self) -> str:
        return TOOL_DESCRIPTIONS[self.provider][0]

    @property
    def needs(self) -> str:
        return TOOL_DESCRIPTIONS[self.provider][1]

    @property
    def connected(self) -> bool:
        return self.integration is not None and self.integration.is_connected

    @property
    def lag(self) -> timedelta | None:
        """How long since everything the vendor held was last known to be taken: the last successful sync
        (as ``sync.sync_state`` has it); None before the first."""
        if self.integration is None or self.integration.last_success_at is None:
            return None
        return max(timezone.now() - self.integration.last_success_at, timedelta(0))

    @property
    def is_behind(self) -> bool:
        lag = self.lag
        return self.connected and lag is not None and lag > SYNC_LAG_WARNING

    @property
    def oldest_waiting_for(self) -> timedelta | None:
        """How long the oldest event taken in has waited to be processed (None when nothing waits)."""
        if self.oldest_waiting_at is None:
            return None
        return max(timezone.now() - self.oldest_waiting_at, timedelta(0))

    @property
    def error_is_current(self) -> bool:
        """The last error came after the last success: the tool is failing now."""
        integration = self.integration
        if integration is None or integration.last_error_at is None or not integration.last_error:
            return False
        return integration.last_success_at is None or integration.last_error_at > integration.last_success_at


def _counts_by(queryset: QuerySet[Any], column: str) -> dict[str, int]:
    return {row[column]: row["n"] for row in queryset.order_by().values(column).annotate(n=Count("id"))}


def integration_cards() -> list[IntegrationCard]:
    """The three tools in a fixed order, each with its integration (if ever connected) and its figures."""
    integrations = {integration.provider: integration for integration in Integration.objects.all()}
    rules = _counts_by(MappingRule.objects.all(), "integration__provider")
    waiting: dict[str, dict[str, Any]] = {
        row["provider"]: dict(row)
        for row in RawEvent.objects.filter(processed_at__isnull=True)
        .order_by()
        .values("provider")
        .annotate(
            n=Count("id"),
            oldest=Min("received_at"),
            failed=Count("id", filter=~Q(error="")),
        )
    }
    work_items = _counts_by(WorkItem.objects.all(), "provider")
    signals = _counts_by(ExecutionSignal.objects.all(), "provider")
    unmatched = _counts_by(ExternalIdentity.objects.filter(membership__isnull=True), "provider")
    cards = []
    for provider in Provider:
        integration = integrations.get(provider.value)
        pending = waiting.get(provider.value, {})
        cards.append(
            IntegrationCard(
                provider=provider.value,
                label=provider.label,
                integration=integration,
                webhook_url=webhook_url(integration) if integration is not None else "",
                rule_count=rules.get(provider.value, 0),
                waiting_events=pending.get("n", 0),
                oldest_waiting_at=pending.get("oldest"),
                failed_events=pending.get("failed", 0),
                work_item_count=work_items.get(provider.value, 0),
                signal_count=signals.get(provider.value, 0),
                unmatched_identities=unmatched.get(provider.value, 0),
                channel_count=len((integration.settings or {}).get("channels", [])) if integration else 0,
            )
        )
    return cards


# --- Mapping rules ----------------------------------------------------------------------------------


def mapping_rules_with_key_results(integration: Integration) -> list[MappingRule]:
    return list(
        MappingRule.objects.filter(integration=integration)
        .select_related("integration", "key_result__objective__cycle")
        .order_by("created_at", "id")
    )


def key_result_choices() -> QuerySet[KeyResult]:
    """Key results a rule can point at: newest cycle first, then by objective."""
    return KeyResult.objects.select_related("objective__cycle").order_by(
        "-objective__cycle__start", "objective__title", "objective_id", "created_at", "id"
    )


def match_value_suggestions(provider: str) -> dict[str, list[str]]:
    """Values seen in the stored work for each match key, most used first (the rule form suggests them)."""
    counts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    items = (
        WorkItem.objects.filter(provider=provider)
        .exclude(kind=WorkItem.Kind.ENGAGEMENT)
        .order_by("-vendor_updated_at", "-id")
        .values_list("attributes", flat=True)[:5000]
    )
    for attributes in items:
        for key, values in mapping.work_item_context(provider, attributes or {}).items():
            for value in values:
                counts[key][value] += 1
    return {
        key: [value for value, _n in sorted(seen.items(), key=lambda pair: (-pair[1], pair[0]))][
            :SUGGESTIONS_PER_KEY
        ]
        for key, seen in counts.items()
    }


# --- Identities -------------------------------------------------------------------------------------


def identity_rows() -> QuerySet[ExternalIdentity]:
    """Every vendor account, unmatched ones first, each with its person and how many signals it made."""
    return (
        ExternalIdentity.objects.select_related("membership__user")
        .annotate(
            signal_count=Count("signals", distinct=True),
            unmatched_first=Case(
                When(membership__isnull=True, then=Value(0)), default=Value(1), output_field=IntegerField()
            ),
        )
        .order_by("unmatched_first", "provider", "display_name", "external_id")
    )


def people_to_match() -> QuerySet[Membership]:
    return Membership.objects.filter(is_active=True).select_related("user").order_by("user__full_name")


# --- What was collected about a person --------------------------------------------------------------


@dataclass
class WeekRow:
    week: date
    counts: dict[str, int] = field(default_factory=dict)
    # The counts in the order of ``SignalWeeks.providers``, for a table's columns.
    cells: list[int] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(self.counts.values())


@dataclass
class SignalWeeks:
    """A person's signals counted by week (Monday, in the organisation's time zone) and source."""

    providers: list[tuple[str, str]]
    weeks: list[WeekRow]
    totals: dict[str, int]
    total_cells: list[int]
    first_at: datetime | None
    last_at: datetime | None

    @property
    def total(self) -> int:
        return sum(self.totals.values())


def person_signal_weeks(*, membership: Membership, time_zone: str) -> SignalWeeks:
    signals = ExecutionSignal.objects.filter(actor__membership=membership)
    rows = (
        signals.annotate(week=TruncWeek("occurred_at", tzinfo=ZoneInfo(time_zone)))
        .values("week", "provider")
        .annotate(n=Count("id"))
        .order_by("-week", "provider")
    )
    weeks: dict[date, WeekRow] = {}
    totals: dict[str, int] = defaultdict(int)
    for row in rows:
        week = row["week"].date() if isinstance(row["week"], datetime) else row["week"]
        weeks.setdefault(week, WeekRow(week=week)).counts[row["provider"]] = row["n"]
        totals[row["provider"]] += row["n"]
    span = signals.aggregate(first=Min("occurred_at"), last=Max("occurred_at"))
    providers = [(provider.value, provider.label) for provider in Provider if provider.value in totals]
    for week_row in weeks.values():
        week_row.cells = [week_row.counts.get(provider, 0) for provider, _label in providers]
    return SignalWeeks(
        providers=providers,
        weeks=list(weeks.values()),
        totals=dict(totals),
        total_cells=[totals[provider] for provider, _label in providers],
        first_at=span["first"],
        last_at=span["last"],
    )
