"""Execution signals: what the organisation's Jira, Slack and HubSpot say is being worked on.

The flow, and where each step is kept:

    vendor payload ──store──▶ RawEvent ──normalise──▶ WorkItem + ExecutionSignal (+ ExternalIdentity)
                                                         └─ mapping rules ─▶ SignalKeyResult

Every external thing has a natural key ``(organization, provider, external_id)`` with a unique constraint,
and every write is an upsert or an insert that ignores conflicts, so the same delivery stored twice, or
processed twice, or two deliveries carrying the same activity, leave exactly one row. Raw payloads are
stored before they are processed, so nothing accepted is lost and anything can be processed again.

Every table here is a tenant table (row-level security in the migration); every unique constraint and
every index the pipeline leans on starts with ``organization`` (the one index that does not serves the
database's own foreign-key lookups: see ``ExecutionSignal``).

Raw events, work items, signals and their key-result links name their organisation without a database
constraint, which would cost a lookup for every row written. What holds instead: the product writes these
tables only through the pipeline (``signals_ingest.pipeline``), which first takes a key-share lock on its
organisation's row, held until it commits, and stops if the organisation is gone; and
``okrsignal.services.organization_delete`` locks the organisation's row before emptying its tables. So a
deletion waits for the batches already writing and then removes their rows too, and a batch that comes
after it finds no organisation to write for.
"""

from __future__ import annotations

import secrets
from typing import Any

from django.db import models
from django.db.models.fields.json import HasAnyKeys, HasKey, HasKeys
from django.utils import timezone

from okrsignal.tenancy import TenantModel
from signals_ingest import crypto
from signals_ingest.bulk import json_bytes


class JSONTextField(models.JSONField):
    """A JSON document kept as text: PostgreSQL's ``text`` rather than ``jsonb``.

    For raw vendor payloads, which are written once, read back whole and searched only among the few still
    waiting. ``jsonb`` takes a document apart into a binary tree on every write, which was about half the
    cost of storing a raw event; ``json`` still parses it to check it, which was a third of what was left.
    The text written here is always JSON the application has just encoded from a document it parsed (or
    built) itself, so the database has nothing left to check. ``has_key``, ``has_keys`` and
    ``has_any_keys`` (the retry sweep tells HubSpot notifications apart by a key) read the document as
    ``jsonb`` first, PostgreSQL having their operators for ``jsonb`` only; other lookups, comparing values
    under a key for one, would need the same and are not asked of raw payloads. Other databases store it
    as ``JSONField`` does.
    """

    def db_type(self, connection: Any) -> str | None:
        if connection.vendor == "postgresql":
            return "text"
        return super().db_type(connection)

    def get_db_prep_value(self, value: Any, connection: Any, prepared: bool = False) -> Any:
        if connection.vendor != "postgresql":
            return super().get_db_prep_value(value, connection, prepared)
        if not prepared:
            value = self.get_prep_value(value)
        return None if value is None else json_bytes(value).decode()


class _ReadAsJsonb:
    """A key lookup on a ``JSONTextField``: PostgreSQL asks it of the document read as ``jsonb``."""

    def process_lhs(self, compiler: Any, connection: Any, lhs: Any = None) -> tuple[str, Any]:
        sql, params = super().process_lhs(compiler, connection, lhs)  # type: ignore[misc]
        if connection.vendor == "postgresql":
            sql = f"({sql})::jsonb"
        return sql, params


@JSONTextField.register_lookup
class _TextHasKey(_ReadAsJsonb, HasKey):
    pass


@JSONTextField.register_lookup
class _TextHasKeys(_ReadAsJsonb, HasKeys):
    pass


@JSONTextField.register_lookup
class _TextHasAnyKeys(_ReadAsJsonb, HasAnyKeys):
    pass


class Provider(models.TextChoices):
    JIRA = "jira", "Jira"
    SLACK = "slack", "Slack"
    HUBSPOT = "hubspot", "HubSpot"


def _organization_checked_by_the_pipeline() -> models.ForeignKey[Any, Any]:
    """The organisation of an ingestion row, without a database constraint: ingestion holds the
    organisation's row while it writes (see the module docstring). Not indexed on its own: each of these
    tables has an index or unique constraint that starts with the organisation, which serves the same
    lookups."""
    return models.ForeignKey(
        "okrsignal.Organization",
        on_delete=models.CASCADE,
        editable=False,
        db_constraint=False,
        db_index=False,
    )


def new_webhook_token() -> str:
    """An unguessable token for an integration's webhook URL: the only thing that names the organisation."""
    return secrets.token_urlsafe(32)


class Integration(TenantModel):
    """One organisation's connection to one vendor (at most one per provider).

    ``credentials_token`` holds the credentials as a MultiFernet token (``signals_ingest.crypto``); read
    and write them through ``credentials`` / ``set_credentials``, never the column. ``settings`` holds
    what is not secret: Jira ``site``, ``cloud_id`` (connected with OAuth), ``account_email``,
    ``story_points_field``, ``epic_link_field``;
    Slack ``team_id``, ``workspace_url`` and the selected ``channels`` (``[{"id", "name", "is_private"}]``:
    only these are read); HubSpot ``portal_id``.
    """

    class State(models.TextChoices):
        CONNECTED = "connected", "Connected"
        DISCONNECTED = "disconnected", "Disconnected"

    class AuthMethod(models.TextChoices):
        # Credentials an admin pasted: an API token, a bot token, a private app's token.
        TOKEN = "token", "API token"
        # An access token granted through the vendor's OAuth consent, renewed with a refresh token.
        OAUTH = "oauth", "OAuth"

    provider = models.CharField(max_length=16, choices=Provider.choices)
    state = models.CharField(max_length=16, choices=State.choices, default=State.CONNECTED)
    credentials_token = models.TextField(blank=True, editable=False)
    settings = models.JSONField(default=dict, blank=True)
    webhook_token = models.CharField(max_length=64, unique=True, default=new_webhook_token, editable=False)
    connected_at = models.DateTimeField(default=timezone.now)
    disconnected_at = models.DateTimeField(null=True, blank=True)
    auth_method = models.CharField(max_length=8, choices=AuthMethod.choices, default=AuthMethod.TOKEN)
    # OAuth only: when the access token was last granted or renewed, and whether the vendor refused to
    # renew it (the grant was revoked or expired), so that nothing asks the vendor again until an admin
    # connects once more.
    token_refreshed_at = models.DateTimeField(null=True, blank=True)
    needs_reconnection = models.BooleanField(default=False)
    # Sync state, shown on the integration's page. ``last_error`` never holds credentials.
    last_success_at = models.DateTimeField(null=True, blank=True)
    last_error_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    items_taken = models.BigIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["provider"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "provider"], name="integration_provider_unique")
        ]

    def __str__(self) -> str:
        return f"{self.get_provider_display()} ({self.state})"

    def __repr__(self) -> str:
        # Spelled out so that no future field (or a debugger's default) can put the token into a repr.
        return f"<Integration {self.pk} {self.provider} org={self.organization_id} {self.state}>"

    @property
    def is_connected(self) -> bool:
        return self.state == self.State.CONNECTED

    @property
    def credentials(self) -> dict[str, Any]:
        """The decrypted credentials (a new dict on each access; changing it changes nothing stored)."""
        return crypto.decrypt_credentials(self.credentials_token)

    def set_credentials(self, credentials: dict[str, Any]) -> None:
        """Encrypt ``credentials`` into the token column (saving is the caller's: see the services)."""
        self.credentials_token = crypto.encrypt_credentials(credentials) if credentials else ""


class SyncCursor(TenantModel):
    """How far a pull stream has read (e.g. Jira's ``updated`` watermark, a HubSpot search window).

    A cursor moves only in the transaction that stores the page it covers (``store_raw_events(cursor=…)``),
    so a crash between the two can re-read a page but never skip one.
    """

    integration = models.ForeignKey(Integration, on_delete=models.CASCADE, related_name="cursors")
    stream = models.CharField(max_length=100)
    value = models.TextField(blank=True)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "integration", "stream"], name="sync_cursor_stream_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.stream} = {self.value}"


class MappingRule(TenantModel):
    """Work matching ``match`` counts toward ``key_result``.

    Match keys by provider (all keys of one rule must hold; values compare without regard to case):
    Jira ``project``, ``epic``, ``label``, ``component``; Slack ``channel``; HubSpot ``pipeline``,
    ``dealstage``. HubSpot engagements take the rules of the deals they are associated with. Work that
    several rules match counts in full toward each of their key results.
    """

    integration = models.ForeignKey(Integration, on_delete=models.CASCADE, related_name="mapping_rules")
    match = models.JSONField()
    key_result = models.ForeignKey("goals.KeyResult", on_delete=models.CASCADE, related_name="mapping_rules")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["integration", "created_at", "id"]
        indexes = [models.Index(fields=["organization", "integration"], name="mapping_rule_integration")]

    def __str__(self) -> str:
        conditions = ", ".join(f"{key}={value}" for key, value in sorted(self.match.items()))
        return f"{conditions} → key result {self.key_result_id}"


class ExternalIdentity(TenantModel):
    """A vendor account (Atlassian account id, Slack user id, HubSpot owner id) and who it is, if known.

    Unmatched identities are kept: their work is still counted, and someone can be assigned later.
    """

    class MatchedBy(models.TextChoices):
        EMAIL = "email", "E-mail address"
        MANUAL = "manual", "By hand"
        NONE = "none", "Not matched"

    provider = models.CharField(max_length=16, choices=Provider.choices)
    external_id = models.CharField(max_length=128)
    display_name = models.CharField(max_length=200, blank=True)
    email = models.EmailField(blank=True)
    membership = models.ForeignKey(
        "okrsignal.Membership",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="external_identities",
        db_index=False,
    )
    matched_by = models.CharField(max_length=8, choices=MatchedBy.choices, default=MatchedBy.NONE)
    first_seen_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["provider", "display_name", "external_id"]
        verbose_name_plural = "external identities"
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "provider", "external_id"], name="external_identity_unique"
            )
        ]
        indexes = [models.Index(fields=["organization", "membership"], name="external_identity_membership")]

    def __str__(self) -> str:
        return f"{self.display_name or self.external_id} ({self.provider})"


class RawEvent(TenantModel):
    """A vendor payload exactly as received (webhook), fetched (pull) or replayed, before processing.

    ``dedupe_key`` is the vendor's own id for the delivery or the state it carries (Jira
    ``X-Atlassian-Webhook-Identifier`` or issue id + updated; Slack ``event_id``; HubSpot ``eventId`` or
    object id + ``updatedAt``): storing the same one twice is a no-op. ``processed_at`` is set once its
    work items and signals are written; a failure leaves it empty and records ``error`` and ``attempts``.
    """

    class Origin(models.TextChoices):
        WEBHOOK = "webhook", "Webhook"
        PULL = "pull", "Pull"
        REPLAY = "replay", "Replay"

    # The organisation and the integration without database constraints, checked by the pipeline rather
    # than once for every payload: see the module docstring. An integration is never deleted but with
    # its organisation (and the ORM refuses to delete one that has raw events); the pipeline writes raw
    # events only for the integration it was handed, whose row it updates in the same transaction.
    organization = _organization_checked_by_the_pipeline()
    integration = models.ForeignKey(
        Integration, on_delete=models.PROTECT, related_name="raw_events", db_index=False, db_constraint=False
    )
    provider = models.CharField(max_length=16, choices=Provider.choices)
    origin = models.CharField(max_length=8, choices=Origin.choices)
    dedupe_key = models.CharField(max_length=255)
    payload = JSONTextField()
    received_at = models.DateTimeField(default=timezone.now)
    processed_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)
    attempts = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["received_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "provider", "dedupe_key"], name="raw_event_dedupe_unique"
            )
        ]
        indexes = [
            # The retry sweep reads only what is still waiting.
            models.Index(
                fields=["organization", "received_at"],
                condition=models.Q(processed_at__isnull=True),
                name="raw_event_unprocessed",
            )
        ]

    def __str__(self) -> str:
        return f"{self.provider} {self.origin} {self.dedupe_key}"


class WorkItem(TenantModel):
    """A unit of work at a vendor: a Jira issue, a HubSpot deal, a Slack thread.

    ``attributes`` holds what mapping and the drift engine read: Jira ``project``, ``epic``, ``parent``,
    ``labels``, ``components``, ``issue_type``, ``status_category``, ``story_points``, ``blocked_by``
    (``[{"key", "since"}]``); Slack ``channel``, ``thread_ts``; HubSpot ``pipeline``, ``dealstage``,
    ``amount``, ``is_closed``. ``vendor_updated_at`` is the vendor's time of the state stored: an older
    payload never overwrites a newer one.
    """

    class Kind(models.TextChoices):
        ISSUE = "issue", "Issue"
        DEAL = "deal", "Deal"
        THREAD = "thread", "Thread"
        ENGAGEMENT = "engagement", "Engagement"

    # Without a database constraint: see the module docstring.
    organization = _organization_checked_by_the_pipeline()
    provider = models.CharField(max_length=16, choices=Provider.choices)
    external_id = models.CharField(max_length=128)
    key = models.CharField(max_length=128)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    title = models.CharField(max_length=500, blank=True)
    status = models.CharField(max_length=100, blank=True)
    url = models.URLField(max_length=500, blank=True)
    attributes = models.JSONField(default=dict, blank=True)
    assignee = models.ForeignKey(
        ExternalIdentity,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="assigned_work_items",
        db_index=False,
    )
    vendor_updated_at = models.DateTimeField(null=True, blank=True)
    archived = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["provider", "key"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "provider", "external_id"], name="work_item_external_unique"
            )
        ]
        indexes = [
            models.Index(fields=["organization", "provider", "key"], name="work_item_key"),
            models.Index(fields=["organization", "assignee"], name="work_item_assignee"),
        ]

    def __str__(self) -> str:
        return f"{self.key} {self.title}".strip()


class SignalKind(models.TextChoices):
    # Jira
    ISSUE_CREATED = "issue_created", "Issue created"
    TRANSITION = "transition", "Status transition"
    COMMENT = "comment", "Comment"
    ASSIGNMENT = "assignment", "Assignment"
    LINK = "link", "Issue link"
    FIELD_CHANGE = "field_change", "Field change"
    # Slack
    MESSAGE = "message", "Message"
    # HubSpot
    STAGE_CHANGE = "stage_change", "Deal stage change"
    NOTE = "note", "Note"
    CALL = "call", "Call"
    MEETING = "meeting", "Meeting"
    EMAIL = "email", "E-mail"
    TASK = "task", "Task"


class ExecutionSignal(TenantModel):
    """One unit of activity: a transition, a comment, a message, a logged call, a stage change.

    ``external_id`` is stable for the activity whichever way it arrives (webhook, pull, replay): Jira
    ``<issue id>:changelog:<history id>:<field>``, ``<issue id>:comment:<comment id>``,
    ``<issue id>:created``; Slack ``<channel>:<ts>``; HubSpot ``<kind>:<object id>`` and
    ``deal:<id>:stage:<stage>:<entered, epoch ms>``. ``occurred_at`` is the vendor's own time.
    ``weight`` comes from ``normalisers.SIGNAL_WEIGHTS``. ``text`` is short (``SIGNAL_TEXT_MAX_CHARS``) and
    blanked at ``text_expires_at``. ``match_context`` is what mapping rules are evaluated against: one
    dict per piece of work the activity belongs to, as it stood when the activity happened.
    """

    # The organisation, the work item and the actor without database constraints, which would cost every
    # signal three lookups at commit: the pipeline that writes signals holds each row they name until it
    # commits. The organisation: see the module docstring. The work item: locked by the batch
    # (``FOR UPDATE``) or inserted by it, and never deleted but with its organisation (the ORM's cascade
    # takes its signals with it). The actor: held by the batch (``FOR KEY SHARE``, as the constraint's own
    # check would), and erasing a person locks their identities before touching their signals, so one
    # waits for the other (``privacy.person_erase``).
    organization = _organization_checked_by_the_pipeline()
    provider = models.CharField(max_length=16, choices=Provider.choices)
    external_id = models.CharField(max_length=255)
    work_item = models.ForeignKey(
        WorkItem, on_delete=models.CASCADE, related_name="signals", db_index=False, db_constraint=False
    )
    actor = models.ForeignKey(
        ExternalIdentity,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="signals",
        db_index=False,
        db_constraint=False,
    )
    occurred_at = models.DateTimeField()
    kind = models.CharField(max_length=16, choices=SignalKind.choices)
    weight = models.FloatField()
    text = models.TextField(blank=True)
    text_expires_at = models.DateTimeField(null=True, blank=True)
    attributes = models.JSONField(default=dict, blank=True)
    match_context = models.JSONField(default=list, blank=True)
    # True while the context names work not stored yet (an engagement's deal): filled in when it arrives.
    awaits_context = models.BooleanField(default=False)
    # Which raw event the signal came in, kept to find the payloads to redact when its text goes. Not a
    # database constraint: raw events are deleted only with their organisation, and checking every signal
    # against its raw event would cost ingestion a lookup per signal, and deleting raw events a scan of
    # the signal table each.
    raw_event = models.ForeignKey(
        RawEvent,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="signals",
        db_index=False,
        db_constraint=False,
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["occurred_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "provider", "external_id"], name="execution_signal_external_unique"
            )
        ]
        indexes = [
            # By work item first: it is also how the database finds a deleted work item's signals, which
            # deleting an organisation asks of every work item it has.
            models.Index(fields=["work_item"], name="signal_work_item"),
            models.Index(fields=["organization", "actor"], name="signal_actor"),
            models.Index(
                fields=["organization", "text_expires_at"],
                condition=models.Q(text_expires_at__isnull=False),
                name="signal_text_expiry",
            ),
            models.Index(
                fields=["organization", "provider"],
                condition=models.Q(awaits_context=True),
                name="signal_awaiting_context",
            ),
            # The drift engine sums a week's signals by actor from this index alone, without reading the
            # table (``alignment.activity_weeks``).
            models.Index(
                fields=["organization", "occurred_at"], include=["actor", "weight"], name="signal_time"
            ),
            # The drift engine rebuilds which issue blocked which from these few among millions.
            models.Index(
                fields=["organization", "occurred_at"],
                condition=models.Q(kind="link"),
                name="signal_issue_links",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.external_id} at {self.occurred_at:%Y-%m-%d %H:%M}"


class SignalKeyResult(TenantModel):
    """A signal counted toward a key result (in full: a signal several rules map counts for each).

    ``occurred_at``, ``weight`` and ``actor_membership`` are copied from the signal and its actor's
    identity so that the drift engine's aggregate (key result, person, week, sum of weight, count) reads
    this table alone.
    """

    # No foreign key here is a database constraint: each would cost ingestion a lookup per link at commit.
    # The organisation: see the module docstring (links are written by the pipeline too). The signal:
    # links are written from signals read or inserted in the same transaction, and a signal is deleted
    # only by the ORM's cascade, which takes its links with it, or with its whole organisation (the
    # constraint would also cost deleting signals a scan of this table each: no index starts with
    # ``signal``). The key result and the person: neither is ever deleted but with its organisation (key
    # results are kept by their objectives, objectives by their cycles, and people leave an organisation
    # by being deactivated), which the pipeline holds while it writes; the ORM's cascade still takes the
    # links of one deleted some other way.
    organization = _organization_checked_by_the_pipeline()
    signal = models.ForeignKey(
        ExecutionSignal,
        on_delete=models.CASCADE,
        related_name="key_result_links",
        db_index=False,
        db_constraint=False,
    )
    key_result = models.ForeignKey(
        "goals.KeyResult",
        on_delete=models.CASCADE,
        related_name="signal_links",
        db_index=False,
        db_constraint=False,
    )
    occurred_at = models.DateTimeField()
    weight = models.FloatField()
    actor_membership = models.ForeignKey(
        "okrsignal.Membership",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="signal_links",
        db_index=False,
        db_constraint=False,
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "signal", "key_result"], name="signal_key_result_unique"
            )
        ]
        indexes = [
            models.Index(fields=["organization", "key_result", "occurred_at"], name="signal_link_key_result"),
            models.Index(
                fields=["organization", "actor_membership", "occurred_at"], name="signal_link_actor"
            ),
        ]

    def __str__(self) -> str:
        return f"signal {self.signal_id} → key result {self.key_result_id}"


class ChangedActivityDay(TenantModel):
    """A day (in UTC) whose signals or key-result links changed since the drift engine last summed them.

    The engine keeps each ended week's sums between recomputes (``alignment.activity_weeks``) and sums
    again only the weeks holding such a day. Every write to signals or their links records its days here
    (``signals_ingest.activity_changes``) in its own transaction, so the record and the change commit
    together.
    """

    organization = _organization_checked_by_the_pipeline()
    day = models.DateField()

    class Meta:
        # Not unique: two writers recording the same new day would then wait for each other (and could
        # deadlock, each holding what the other writes next). A day recorded twice is summed once.
        indexes = [models.Index(fields=["organization", "day"], name="changed_activity_day")]

    def __str__(self) -> str:
        return f"activity of {self.day.isoformat()} changed"
