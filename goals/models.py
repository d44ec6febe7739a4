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


# --- Weekly check-ins -------------------------------------------------------------------------------
# A check-in belongs to one person and one week: the Monday that starts the week in the organisation's
# time zone (``goals.checkin_weeks``). Its parts are written only through ``goals.checkins``.


class CheckInState(models.TextChoices):
    DRAFT = "draft", "Draft"
    SUBMITTED = "submitted", "Submitted"


class KeyResultStatus(models.TextChoices):
    ON_TRACK = "on_track", "On track"
    AT_RISK = "at_risk", "At risk"
    BLOCKED = "blocked", "Blocked"


class CheckIn(TenantModel):
    """One person's check-in for one week.

    A draft is its author's alone; once submitted it is read by the people the author reports to,
    directly or indirectly. ``manager`` is the author's manager when it was last submitted: the only
    person besides the author who may read ``upward_feedback``. ``submitted_at`` is the first
    submission (the cadence counts it); submitting again changes the content, never the week's count.
    """

    membership = models.ForeignKey(Membership, on_delete=models.PROTECT, related_name="check_ins")
    week = models.DateField(help_text="The Monday that starts the week, in the organisation's time zone.")
    state = models.CharField(max_length=16, choices=CheckInState.choices, default=CheckInState.DRAFT)
    submitted_at = models.DateTimeField(null=True, blank=True)
    blockers = models.TextField(blank=True)
    upward_feedback = models.TextField(blank=True)
    next_week_success = models.TextField(blank=True)
    manager = models.ForeignKey(
        Membership, null=True, blank=True, on_delete=models.SET_NULL, related_name="check_ins_managed"
    )
    discussed_at = models.DateTimeField(null=True, blank=True)
    discussed_by = models.ForeignKey(
        Membership, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    # Kept from the first submission on: what was reported, and every change after. Drafts save
    # themselves every few seconds and are not worth a history row each.
    history = tenant_history()

    class Meta:
        ordering = ["-week", "membership"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "membership", "week"], name="check_in_unique_per_person_week"
            ),
            models.CheckConstraint(
                condition=models.Q(state=CheckInState.DRAFT) | models.Q(submitted_at__isnull=False),
                name="check_in_submitted_has_time",
            ),
        ]
        indexes = [models.Index(fields=["organization", "week"], name="check_in_week")]

    def __str__(self) -> str:
        return f"{self.membership} · week of {self.week:%Y-%m-%d}"

    @property
    def is_submitted(self) -> bool:
        return self.state == CheckInState.SUBMITTED


# More than this, and they are not priorities any more.
MAX_CHECK_IN_PRIORITIES = 5


class CheckInPriority(TenantModel):
    """One of the week's most important outcomes, linked to a key result or explicitly unlinked.

    A draft may leave the choice open (no key result, ``unlinked`` false); a submitted check-in may not:
    each priority then has a key result, or ``unlinked`` says the author chose to link none.
    """

    check_in = models.ForeignKey(CheckIn, on_delete=models.CASCADE, related_name="priorities")
    position = models.PositiveSmallIntegerField()
    text = models.TextField(blank=True)
    key_result = models.ForeignKey(
        KeyResult, null=True, blank=True, on_delete=models.PROTECT, related_name="check_in_priorities"
    )
    unlinked = models.BooleanField(default=False)

    history = tenant_history()

    class Meta:
        ordering = ["check_in", "position"]
        verbose_name_plural = "check-in priorities"
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "check_in", "position"], name="check_in_priority_position_unique"
            ),
            models.CheckConstraint(
                condition=~models.Q(unlinked=True, key_result__isnull=False),
                name="check_in_priority_linked_or_unlinked",
            ),
        ]

    def __str__(self) -> str:
        return self.text


class CheckInKeyResultUpdate(TenantModel):
    """The author's word on one of their key results this week: a status, optionally a value, a note.

    A value reaches the key result through ``goals.services.key_result_record_progress`` when the
    check-in is submitted; ``recorded_value`` is the value last recorded from here, so submitting again
    records only a changed value.
    """

    check_in = models.ForeignKey(CheckIn, on_delete=models.CASCADE, related_name="key_result_updates")
    key_result = models.ForeignKey(KeyResult, on_delete=models.PROTECT, related_name="check_in_updates")
    status = models.CharField(max_length=16, choices=KeyResultStatus.choices, blank=True)
    value = models.FloatField(null=True, blank=True)
    note = models.TextField(blank=True)
    recorded_value = models.FloatField(null=True, blank=True)

    history = tenant_history()

    class Meta:
        ordering = ["check_in", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "check_in", "key_result"], name="check_in_key_result_update_unique"
            )
        ]
        indexes = [
            models.Index(fields=["organization", "key_result", "status"], name="check_in_update_by_kr")
        ]

    def __str__(self) -> str:
        return f"{self.key_result}: {self.get_status_display()}"


class CheckInReply(TenantModel):
    """Feedback on a submitted check-in, from someone above its author in the reporting line (or the
    author answering it)."""

    check_in = models.ForeignKey(CheckIn, on_delete=models.CASCADE, related_name="replies")
    author = models.ForeignKey(Membership, on_delete=models.PROTECT, related_name="check_in_replies")
    text = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["check_in", "created_at", "id"]
        verbose_name_plural = "check-in replies"

    def __str__(self) -> str:
        return f"Reply by {self.author} on {self.check_in}"


class PulseAnswer(TenantModel):
    """The pulse, "I can explain how my work supports company goals", 1 to 5, once per person per week.

    ``team`` is the person's team when they answered, so per-team figures over time stay true to the
    team as it was, whoever has moved since.
    """

    membership = models.ForeignKey(Membership, on_delete=models.PROTECT, related_name="pulse_answers")
    week = models.DateField(help_text="The Monday that starts the week, in the organisation's time zone.")
    score = models.PositiveSmallIntegerField(validators=[MinValueValidator(1), MaxValueValidator(5)])
    team = models.ForeignKey(Team, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    check_in = models.ForeignKey(
        CheckIn, null=True, blank=True, on_delete=models.SET_NULL, related_name="pulse_answers"
    )
    answered_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-week", "membership"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "membership", "week"], name="pulse_answer_unique_per_person_week"
            ),
            models.CheckConstraint(condition=models.Q(score__gte=1, score__lte=5), name="pulse_score_1_to_5"),
        ]
        indexes = [models.Index(fields=["organization", "week", "team"], name="pulse_answer_week_team")]

    def __str__(self) -> str:
        return f"{self.membership} · week of {self.week:%Y-%m-%d}: {self.score}"


class ReminderKind(models.TextChoices):
    BEFORE = "before", "Before the check-in day"
    AFTER = "after", "After the check-in day"


class ReminderChannel(models.TextChoices):
    EMAIL = "email", "E-mail"
    SLACK = "slack", "Slack direct message"


class CheckInReminder(TenantModel):
    """A check-in reminder that went out; the unique constraint lets each one go out only once."""

    membership = models.ForeignKey(Membership, on_delete=models.CASCADE, related_name="check_in_reminders")
    week = models.DateField()
    kind = models.CharField(max_length=16, choices=ReminderKind.choices)
    channel = models.CharField(max_length=16, choices=ReminderChannel.choices)
    sent_at = models.DateTimeField(default=timezone.now)
    # Set by the send task (``goals.checkin_reminders.check_in_reminder_deliver``): when the message left,
    # or why it never will (the person checked in meanwhile, Slack was disconnected or refused it).
    delivered_at = models.DateTimeField(null=True, blank=True)
    not_sent_reason = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-week", "membership", "kind", "channel"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "membership", "week", "kind", "channel"],
                name="check_in_reminder_sent_once",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} reminder to {self.membership} by {self.get_channel_display()}"


# --- The pulse remediation plan ---------------------------------------------------------------------
# When too few people can explain how their work supports company goals (``goals.checkin_reports``), admins
# run a 90-day plan of four steps. Written only through ``goals.cadence``.


class RemediationStepKind(models.TextChoices):
    AUDIT = "audit", "Audit the goals"
    MANAGER_TRAINING = "manager_training", "Train the managers"
    CADENCE = "cadence", "Restore the check-in cadence"
    RECALIBRATION = "recalibration", "Recalibrate the goals"


class RemediationPlan(TenantModel):
    """A 90-day plan to restore line of sight. An organisation has at most one open plan at a time; it is
    complete (``completed_at``) once every step is done, and then only read."""

    started_on = models.DateField()
    started_by = models.ForeignKey(
        Membership, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # The organisation's pulse when the plan began: the week and its share of answers of 4 or 5.
    trigger_week = models.DateField(null=True, blank=True)
    trigger_share = models.FloatField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-started_on", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization"],
                condition=models.Q(completed_at__isnull=True),
                name="remediation_plan_one_open_per_org",
            )
        ]

    def __str__(self) -> str:
        return f"90-day plan from {self.started_on:%Y-%m-%d}"


class RemediationStep(TenantModel):
    """One step of a remediation plan: who owns it, when it is due, how far it has come (0 to 100%)."""

    plan = models.ForeignKey(RemediationPlan, on_delete=models.CASCADE, related_name="steps")
    kind = models.CharField(max_length=32, choices=RemediationStepKind.choices)
    position = models.PositiveSmallIntegerField()
    owner = models.ForeignKey(
        Membership, null=True, blank=True, on_delete=models.SET_NULL, related_name="remediation_steps"
    )
    due_on = models.DateField()
    progress = models.PositiveSmallIntegerField(
        default=0, validators=[MinValueValidator(0), MaxValueValidator(100)]
    )
    note = models.TextField(blank=True)
    updated_at = models.DateTimeField(default=timezone.now)
    updated_by = models.ForeignKey(
        Membership, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["plan", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "plan", "kind"], name="remediation_step_kind_unique_per_plan"
            ),
            models.CheckConstraint(
                condition=models.Q(progress__gte=0, progress__lte=100),
                name="remediation_step_progress_0_to_100",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.progress}%)"

    @property
    def is_done(self) -> bool:
        return self.progress >= 100
