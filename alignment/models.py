"""What the drift engine concluded, kept: findings with their state, invisible contributions, weekly scores.

The engine (``alignment.engine``) is pure; ``alignment.services.recompute`` runs it as of a moment and
stores its conclusions here. A finding's identity is ``(organization, cycle, kind, subject)``: recomputing
updates the one row (its figures, evidence and explanation follow the latest evaluation) and never adds a
second. People act on findings (acknowledge, resolve) through the services, and every change of state,
theirs or the engine's, is kept in ``FindingEvent``.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from alignment.engine.outputs import FindingKind as EngineFindingKind
from okrsignal.tenancy import TenantModel
from signals_ingest.models import JSONTextField

# The kinds come from the engine, so that a kind it learns is a kind the database accepts.
FINDING_KIND_CHOICES = [(kind.value, kind.value.replace("_", " ").capitalize()) for kind in EngineFindingKind]

_ONE_SUBJECT = models.Q(key_result__isnull=False, objective__isnull=True) | models.Q(
    key_result__isnull=True, objective__isnull=False
)


class Finding(TenantModel):
    """A drift the engine reported for one goal: a key result or an objective, never both.

    ``active`` says whether the engine reported it at its latest evaluation. The state is the people's
    view: *open* until someone acknowledges it; *acknowledged* stays while the engine keeps reporting it;
    when its cause goes the engine resolves it (``resolved_by`` empty) and when it comes back it opens
    again. A person may resolve it while the engine still reports it: it then stays resolved until the
    cause has gone and come back.
    """

    class State(models.TextChoices):
        OPEN = "open", "Open"
        ACKNOWLEDGED = "acknowledged", "Acknowledged"
        RESOLVED = "resolved", "Resolved"

    cycle = models.ForeignKey("goals.Cycle", on_delete=models.CASCADE, related_name="findings")
    kind = models.CharField(max_length=32, choices=FINDING_KIND_CHOICES)
    key_result = models.ForeignKey(
        "goals.KeyResult", null=True, blank=True, on_delete=models.CASCADE, related_name="findings"
    )
    objective = models.ForeignKey(
        "goals.Objective", null=True, blank=True, on_delete=models.CASCADE, related_name="findings"
    )
    state = models.CharField(max_length=16, choices=State.choices, default=State.OPEN)
    active = models.BooleanField(default=True)
    # The week the drift began according to the weekly series (not when it was first seen), and that
    # week's first day.
    onset_week = models.SmallIntegerField()
    onset_date = models.DateField()
    severity = models.FloatField()
    explanation = models.TextField()
    # The engine's evidence references ({"kind", "ref", "week", "person_id", ...}): what to click through.
    evidence = models.JSONField(default=list, blank=True)
    # The numbers the explanation quotes, by name.
    figures = models.JSONField(default=dict, blank=True)
    # The evaluation moment (``as_of``) and cycle week at which it was first reported.
    first_detected_at = models.DateTimeField()
    first_detected_week = models.SmallIntegerField()
    last_reported_at = models.DateTimeField()
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        "okrsignal.Membership", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        "okrsignal.Membership", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Why the last person to change its state did so.
    state_note = models.TextField(blank=True)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["cycle", "-severity", "kind", "id"]
        constraints = [
            models.CheckConstraint(condition=_ONE_SUBJECT, name="finding_one_subject"),
            models.UniqueConstraint(
                fields=["organization", "cycle", "kind", "key_result"],
                condition=models.Q(key_result__isnull=False),
                name="finding_key_result_identity",
            ),
            models.UniqueConstraint(
                fields=["organization", "cycle", "kind", "objective"],
                condition=models.Q(objective__isnull=False),
                name="finding_objective_identity",
            ),
        ]
        indexes = [models.Index(fields=["organization", "cycle", "state"], name="finding_state")]

    def __str__(self) -> str:
        subject = (
            f"key result {self.key_result_id}" if self.key_result_id else f"objective {self.objective_id}"
        )
        return f"{self.kind} on {subject} ({self.state})"

    @property
    def subject_kind(self) -> str:
        return "key_result" if self.key_result_id is not None else "objective"

    @property
    def subject_id(self) -> int:
        subject_id = self.key_result_id if self.key_result_id is not None else self.objective_id
        assert subject_id is not None  # the check constraint guarantees one subject
        return subject_id


class FindingEvent(TenantModel):
    """One change of a finding's state: who (nobody for the engine), when, and why."""

    class Action(models.TextChoices):
        DETECTED = "detected", "Detected"
        ACKNOWLEDGED = "acknowledged", "Acknowledged"
        RESOLVED = "resolved", "Resolved"
        REOPENED = "reopened", "Reopened"

    finding = models.ForeignKey(Finding, on_delete=models.CASCADE, related_name="events")
    action = models.CharField(max_length=16, choices=Action.choices)
    by = models.ForeignKey(
        "okrsignal.Membership", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    at = models.DateTimeField()
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["organization", "finding"], name="finding_event_finding")]

    def __str__(self) -> str:
        return f"{self.action} at {self.at:%Y-%m-%d %H:%M}"


class ContributionCredit(TenantModel):
    """Someone who moved a key result through work nothing credits them for (not its owner, not a
    contributor, not in their own goals), as the latest evaluation of its cycle saw it."""

    cycle = models.ForeignKey("goals.Cycle", on_delete=models.CASCADE, related_name="contribution_credits")
    person = models.ForeignKey(
        "okrsignal.Membership", on_delete=models.CASCADE, related_name="contribution_credits"
    )
    key_result = models.ForeignKey(
        "goals.KeyResult", on_delete=models.CASCADE, related_name="contribution_credits"
    )
    weight = models.FloatField()
    share = models.FloatField()
    weeks = models.JSONField(default=list, blank=True)
    explanation = models.TextField()
    first_credited_at = models.DateTimeField()
    last_credited_at = models.DateTimeField()

    class Meta:
        ordering = ["key_result", "-share"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "key_result", "person"], name="contribution_credit_unique"
            )
        ]
        indexes = [models.Index(fields=["organization", "cycle"], name="contribution_credit_cycle")]

    def __str__(self) -> str:
        return f"person {self.person_id} on key result {self.key_result_id} ({self.share:.0%})"


class DriftScore(TenantModel):
    """A goal's drift score (0 healthy to 100) after one cycle week, with its named components: the
    weekly series that trends are drawn from."""

    cycle = models.ForeignKey("goals.Cycle", on_delete=models.CASCADE, related_name="drift_scores")
    week = models.SmallIntegerField()
    key_result = models.ForeignKey(
        "goals.KeyResult", null=True, blank=True, on_delete=models.CASCADE, related_name="drift_scores"
    )
    objective = models.ForeignKey(
        "goals.Objective", null=True, blank=True, on_delete=models.CASCADE, related_name="drift_scores"
    )
    score = models.SmallIntegerField()
    # [{"name", "value", "points", "detail"}]
    components = models.JSONField(default=list, blank=True)
    computed_at = models.DateTimeField()

    class Meta:
        ordering = ["cycle", "week", "id"]
        constraints = [
            models.CheckConstraint(condition=_ONE_SUBJECT, name="drift_score_one_subject"),
            models.UniqueConstraint(
                fields=["organization", "cycle", "week", "key_result"],
                condition=models.Q(key_result__isnull=False),
                name="drift_score_key_result_week",
            ),
            models.UniqueConstraint(
                fields=["organization", "cycle", "week", "objective"],
                condition=models.Q(objective__isnull=False),
                name="drift_score_objective_week",
            ),
        ]
        # A cycle's scores by week: the dashboard's latest two weeks and its scoring stamp.
        indexes = [models.Index(fields=["organization", "cycle", "week"], name="drift_score_week")]

    def __str__(self) -> str:
        subject = (
            f"key result {self.key_result_id}" if self.key_result_id else f"objective {self.objective_id}"
        )
        return f"{subject} week {self.week}: {self.score}"


class EffortWeek(TenantModel):
    """One person's effort in one ended cycle week, as the latest recompute read it: the weight of all
    their signals and of the part counted toward a key result. The pages add these up rather than the
    signals themselves, which a large organisation has millions of."""

    cycle = models.ForeignKey("goals.Cycle", on_delete=models.CASCADE, related_name="effort_weeks")
    person = models.ForeignKey("okrsignal.Membership", on_delete=models.CASCADE, related_name="effort_weeks")
    week = models.SmallIntegerField()
    linked_weight = models.FloatField()
    total_weight = models.FloatField()

    class Meta:
        ordering = ["cycle", "week", "person"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "cycle", "week", "person"], name="effort_week_person"
            ),
        ]

    def __str__(self) -> str:
        return f"person {self.person_id} week {self.week}: {self.linked_weight:g} of {self.total_weight:g}"


class ActivityWeek(TenantModel):
    """One week of the organisation's signals summed as the drift engine reads them, kept between
    recomputes so that each sums again only the weeks whose signals changed (``alignment.activity_weeks``
    says how, and what ``sums`` holds)."""

    starts_on = models.DateField()  # the week is the seven UTC days from this one
    # Signals counted toward key results created before this moment were linked work in these sums.
    summed_as_of = models.DateTimeField()
    # The arrays of ``alignment.activity_weeks.WeekSums``, as bytes, and its themes.
    key_results = models.BinaryField()
    actors = models.BinaryField()
    unlinked = models.BinaryField()
    themes = JSONTextField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "starts_on"], name="activity_week_start")
        ]

    def __str__(self) -> str:
        return f"activity of the week from {self.starts_on.isoformat()}"
