"""The goal system: cycles, objectives, key results, initiatives and KPIs, each change kept in history."""

from __future__ import annotations

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone

from goals.progress import key_result_progress
from okrsignal.history import tenant_history
from okrsignal.models import Membership, Team
from okrsignal.tenancy import TenantModel


class Cycle(TenantModel):
    """A quarter (or any period) that goals are set for."""

    name = models.CharField(max_length=60)
    start = models.DateField()
    end = models.DateField()
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-start"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "name"], name="cycle_name_unique_per_org"),
            models.CheckConstraint(
                condition=models.Q(end__gt=models.F("start")), name="cycle_ends_after_start"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Level(models.TextChoices):
    COMPANY = "company", "Company"
    TEAM = "team", "Team"
    INDIVIDUAL = "individual", "Individual"


LEVEL_RANK = {Level.COMPANY: 0, Level.TEAM: 1, Level.INDIVIDUAL: 2}


class ObjectiveType(models.TextChoices):
    COMMITTED = "committed", "Committed"
    ASPIRATIONAL = "aspirational", "Aspirational"


class ObjectiveState(models.TextChoices):
    DRAFT = "draft", "Draft"
    ACTIVE = "active", "Active"
    PAUSED = "paused", "Paused"
    CANCELLED = "cancelled", "Cancelled"
    DONE = "done", "Done"


class Direction(models.TextChoices):
    INCREASE = "increase", "Increase"
    DECREASE = "decrease", "Decrease"


class Objective(TenantModel):
    cycle = models.ForeignKey(Cycle, on_delete=models.PROTECT, related_name="objectives")
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    level = models.CharField(max_length=16, choices=Level.choices)
    owner = models.ForeignKey(
        Membership, null=True, blank=True, on_delete=models.PROTECT, related_name="objectives"
    )
    team = models.ForeignKey(Team, null=True, blank=True, on_delete=models.PROTECT, related_name="objectives")
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    type = models.CharField(max_length=16, choices=ObjectiveType.choices, default=ObjectiveType.COMMITTED)
    state = models.CharField(max_length=16, choices=ObjectiveState.choices, default=ObjectiveState.ACTIVE)
    state_reason = models.TextField(blank=True)
    weight = models.FloatField(default=1.0, validators=[MinValueValidator(0)])
    needs_realignment = models.BooleanField(default=False)
    carried_from = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    final_score = models.FloatField(null=True, blank=True)
    # Validation warnings accepted with a written reason, or recorded as given by an import.
    warnings = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    history = tenant_history()

    class Meta:
        ordering = ["cycle", "level", "title"]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(parent=models.F("id")), name="objective_not_own_parent"
            )
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_aspirational(self) -> bool:
        return self.type == ObjectiveType.ASPIRATIONAL


class KeyResult(TenantModel):
    objective = models.ForeignKey(Objective, on_delete=models.PROTECT, related_name="key_results")
    title = models.CharField(max_length=200)
    unit = models.CharField(max_length=30)
    baseline = models.FloatField()
    target = models.FloatField()
    direction = models.CharField(max_length=16, choices=Direction.choices)
    current_value = models.FloatField(null=True, blank=True)
    confidence = models.FloatField(
        null=True, blank=True, validators=[MinValueValidator(0), MaxValueValidator(1)]
    )
    owner = models.ForeignKey(
        Membership, null=True, blank=True, on_delete=models.PROTECT, related_name="key_results"
    )
    parent_key_result = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="child_key_results"
    )
    weight = models.FloatField(default=1.0, validators=[MinValueValidator(0)])
    warnings = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    history = tenant_history()

    class Meta:
        ordering = ["objective", "created_at", "id"]

    def __str__(self) -> str:
        return self.title

    @property
    def progress(self) -> float:
        return key_result_progress(baseline=self.baseline, target=self.target, current=self.current_value)


class KeyResultContributor(TenantModel):
    """Someone expected to work on a key result besides its owner."""

    key_result = models.ForeignKey(KeyResult, on_delete=models.CASCADE, related_name="contributor_links")
    membership = models.ForeignKey(Membership, on_delete=models.PROTECT, related_name="contributions")

    history = tenant_history()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "key_result", "membership"], name="key_result_contributor_unique"
            )
        ]


class Initiative(TenantModel):
    """Work planned to move a key result; it may point at the Jira epic that carries it."""

    key_result = models.ForeignKey(KeyResult, on_delete=models.PROTECT, related_name="initiatives")
    title = models.CharField(max_length=200)
    owner = models.ForeignKey(
        Membership, null=True, blank=True, on_delete=models.PROTECT, related_name="initiatives"
    )
    jira_epic_key = models.CharField(max_length=40, blank=True)
    warnings = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    history = tenant_history()

    class Meta:
        ordering = ["key_result", "title"]

    def __str__(self) -> str:
        return self.title


class KPI(TenantModel):
    """A lasting operational measure with thresholds, guarding the objectives it is tagged to."""

    name = models.CharField(max_length=200)
    unit = models.CharField(max_length=30)
    direction = models.CharField(max_length=16, choices=Direction.choices)
    green = models.FloatField()
    red = models.FloatField()
    owner = models.ForeignKey(
        Membership, null=True, blank=True, on_delete=models.PROTECT, related_name="kpis"
    )
    team = models.ForeignKey(Team, null=True, blank=True, on_delete=models.PROTECT, related_name="kpis")
    created_at = models.DateTimeField(default=timezone.now)

    history = tenant_history()

    class Meta:
        ordering = ["name"]
        verbose_name = "KPI"

    def __str__(self) -> str:
        return self.name


class KPIObjectiveTag(TenantModel):
    kpi = models.ForeignKey(KPI, on_delete=models.CASCADE, related_name="objective_tags")
    objective = models.ForeignKey(Objective, on_delete=models.CASCADE, related_name="kpi_tags")

    history = tenant_history()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "kpi", "objective"], name="kpi_objective_tag_unique"
            )
        ]


class KPIReading(TenantModel):
    kpi = models.ForeignKey(KPI, on_delete=models.CASCADE, related_name="readings")
    value = models.FloatField()
    recorded_at = models.DateTimeField(default=timezone.now)
    recorded_by = models.ForeignKey(
        Membership, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    note = models.TextField(blank=True)
    objective = models.ForeignKey(
        Objective, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["kpi", "recorded_at"]
        indexes = [models.Index(fields=["organization", "kpi", "recorded_at"], name="kpi_reading_series")]
