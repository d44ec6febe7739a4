"""Forms of the goal pages. They shape input only: every rule is the services' (``goals.validation``).

A ``GoalForm`` takes the problems a service reports and shows each where the person is looking: an error
on its field, a warning beside its field with a "reason" box named ``reason_<code>`` (inside the form's
prefix). The reasons given are handed back to the service as ``warning_reasons``.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from datetime import date, timedelta
from typing import Any, ClassVar

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Model, Q
from django.forms.models import ModelChoiceIterator

from goals.models import (
    KPI,
    Cycle,
    Direction,
    KeyResult,
    Level,
    Objective,
    ObjectiveState,
    ObjectiveType,
)
from goals.permissions import levels_for, owners_for
from goals.validation import Problem
from okrsignal.models import Membership, Team

REASON_MAX_LENGTH = 100  # history keeps a change's reason in 100 characters


@dataclass
class ShownWarning:
    """A service warning as the form shows it, with the reason box that lets the change through."""

    code: str
    message: str
    field: str | None
    reason: str
    name: str

    memo_name: str = ""

    @property
    def id(self) -> str:
        return f"id_{self.name}"

    @property
    def memo(self) -> str:
        return f"{self.field or ''}|{self.message}"


@dataclass
class FieldRow:
    field: forms.BoundField
    warnings: list[ShownWarning] = dataclass_field(default_factory=list)
    span: int = 6  # of six columns: 6 is a whole row, 3 half, 2 a third


class GoalForm(forms.Form):
    """A form whose problems come from the goal services, shown on the fields they concern."""

    # A service's field name → this form's field name, where they differ.
    field_aliases: ClassVar[dict[str, str]] = {}
    # How many of the form's six columns a field takes on a wide screen (a whole row unless named).
    spans: ClassVar[dict[str, int]] = {}
    required_css_class = "required"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        self.warnings: list[ShownWarning] = []
        self.checked = False

    def _describe_fields(self) -> None:
        """Point each input at its help text and at the feedback beside it (once labels are final)."""
        for name, form_field in self.fields.items():
            bound = self[name]
            described_by = [f"feedback-{bound.html_name}"]
            if form_field.help_text:
                described_by.insert(0, f"{bound.auto_id}_helptext")
            form_field.widget.attrs["aria-describedby"] = " ".join(described_by)

    @property
    def feedback_id(self) -> str:
        return f"feedback-{self.prefix or 'form'}"

    def reason_name(self, code: str) -> str:
        return self.add_prefix(f"reason_{code}")

    def reason_for(self, code: str) -> str:
        if not self.is_bound:
            return ""
        return str(self.data.get(self.reason_name(code)) or "").strip()[:REASON_MAX_LENGTH]

    def add_problems(self, problems: Iterable[Problem]) -> None:
        """Put each problem on its field: errors stop the form; warnings wait for a reason."""
        self.checked = True
        for problem in problems:
            name = self.field_aliases.get(problem.field, problem.field)
            target = name if name in self.fields else None
            if problem.is_warning:
                if all(warning.code != problem.code for warning in self.warnings):
                    self.warnings.append(
                        ShownWarning(
                            code=problem.code,
                            message=problem.message,
                            field=target,
                            reason=self.reason_for(problem.code),
                            name=self.reason_name(problem.code),
                            memo_name=self.add_prefix(f"warning_{problem.code}"),
                        )
                    )
            else:
                self.add_error(target, ValidationError(problem.message, code=problem.code))

    def carry_over_warnings(self) -> None:
        """Keep showing the warnings (and the reasons typed for them) that the page showed last time.

        While a form cannot be checked (a field is still empty or invalid), the warnings it had stay on
        screen, so a reason already written is not lost; the next full check replaces them.
        """
        if not self.is_bound:
            return
        memo_prefix = self.add_prefix("warning_")
        for key in self.data:
            if not key.startswith(memo_prefix):
                continue
            code = key[len(memo_prefix) :]
            field, _, message = str(self.data.get(key) or "").partition("|")
            if not code or not message or any(warning.code == code for warning in self.warnings):
                continue
            self.warnings.append(
                ShownWarning(
                    code=code,
                    message=message,
                    field=field if field in self.fields else None,
                    reason=self.reason_for(code),
                    name=self.reason_name(code),
                    memo_name=key,
                )
            )

    def warning_reasons(self) -> dict[str, str]:
        return {warning.code: warning.reason for warning in self.warnings if warning.reason}

    @property
    def unexplained_warnings(self) -> list[ShownWarning]:
        return [warning for warning in self.warnings if not warning.reason]

    @property
    def ready(self) -> bool:
        return self.is_valid() and not self.unexplained_warnings

    def hide_required_errors(self) -> None:
        """While someone is still typing, an empty field is not yet a mistake."""
        errors = self.errors
        for name in list(errors):
            kept = [error for error in errors[name].as_data() if error.code != "required"]
            if kept:
                errors[name] = self.error_class(kept, renderer=self.renderer)
            else:
                del errors[name]

    @property
    def field_rows(self) -> list[FieldRow]:
        self._describe_fields()
        return [
            FieldRow(
                field=self[name],
                warnings=[w for w in self.warnings if w.field == name],
                span=self.spans.get(name, 6),
            )
            for name in self.fields
            if not self[name].is_hidden
        ]

    @property
    def general_warnings(self) -> list[ShownWarning]:
        return [warning for warning in self.warnings if warning.field is None]

    @property
    def problem_count(self) -> int:
        if not self.is_bound:
            return 0
        return sum(len(errors) for errors in self.errors.values())


class GroupedModelChoiceIterator(ModelChoiceIterator):
    """Choices in ``<optgroup>``s, by the field's ``group_by`` (the queryset is ordered to match)."""

    field: GroupedModelChoiceField

    def __iter__(self) -> Iterator[Any]:
        if self.field.empty_label is not None:
            yield ("", self.field.empty_label)
        for group, objects in itertools.groupby(self.queryset, key=self.field.group_by):
            yield (group, [self.choice(obj) for obj in objects])


class GroupedModelChoiceField(forms.ModelChoiceField):
    iterator = GroupedModelChoiceIterator

    def __init__(self, *args: Any, group_by: Callable[[Any], str], **kwargs: Any) -> None:
        self.group_by = group_by
        super().__init__(*args, **kwargs)


class PersonChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Model) -> str:
        assert isinstance(obj, Membership)
        return obj.user.full_name or obj.user.email


class PeopleChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Model) -> str:
        assert isinstance(obj, Membership)
        return obj.user.full_name or obj.user.email


def _objective_group(objective: Objective) -> str:
    return f"{objective.get_level_display()} objectives"


class ObjectiveForm(GoalForm):
    title = forms.CharField(
        max_length=200,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
        help_text="An outcome worth reaching this cycle, in plain words.",
    )
    description = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Why it matters now and what success looks like.",
    )
    level = forms.ChoiceField(choices=Level.choices)
    parent = GroupedModelChoiceField(
        queryset=None,
        required=False,
        label="Serves",
        empty_label="— Nothing above it —",
        group_by=_objective_group,
        help_text="The objective one level up that this one moves forward.",
    )
    owner = PersonChoiceField(queryset=None)
    team: forms.ModelChoiceField[Team] = forms.ModelChoiceField(
        queryset=None, required=False, empty_label="— No team —"
    )
    type = forms.ChoiceField(
        choices=ObjectiveType.choices,
        initial=ObjectiveType.COMMITTED,
        help_text="Committed objectives should land at 100%; for aspirational ones 70% is a good result.",
    )

    field_order = ["title", "description", "parent", "level", "type", "owner", "team"]
    spans: ClassVar[dict[str, int]] = {"level": 3, "type": 3, "owner": 3, "team": 3}

    def __init__(
        self,
        *args: Any,
        membership: Membership,
        cycle: Cycle,
        objective: Objective | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.objective = objective
        parents = (
            Objective.objects.filter(cycle=cycle, level__in=[Level.COMPANY, Level.TEAM])
            .filter(Q(state=ObjectiveState.ACTIVE) | Q(pk=objective.parent_id if objective else None))
            .order_by("level", "title")
        )
        if objective is not None:
            parents = parents.exclude(pk=objective.pk)
            del self.fields["level"]
        else:
            self.fields["level"].choices = levels_for(membership)  # type: ignore[attr-defined]
        self.fields["parent"].queryset = parents  # type: ignore[attr-defined]
        self.fields["owner"].queryset = owners_for(  # type: ignore[attr-defined]
            membership, keep=[objective.owner_id] if objective else []
        )
        self.fields["team"].queryset = Team.objects.order_by("name")  # type: ignore[attr-defined]


class KeyResultForm(GoalForm):
    title = forms.CharField(
        max_length=200,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
        help_text="A measurable result: from where to where, e.g. “Activation rate from 40% to 55%”.",
    )
    unit = forms.CharField(max_length=30, help_text="What is counted: %, €M, tickets, days…")
    baseline = forms.FloatField(label="Baseline", help_text="Where it stands at the start.")
    target = forms.FloatField(label="Target", help_text="Where it should be at the end of the cycle.")
    direction = forms.ChoiceField(
        choices=[("", "Follows from baseline and target"), *Direction.choices], required=False
    )
    owner = PersonChoiceField(queryset=None, required=False, empty_label="— The objective's owner —")
    contributors = PeopleChoiceField(
        queryset=None,
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 5}),
        help_text="Others expected to move it besides its owner (hold Ctrl or ⌘ to choose several).",
    )
    parent_key_result = GroupedModelChoiceField(
        queryset=None,
        required=False,
        label="Rolls up into",
        empty_label="— Nothing —",
        group_by=lambda key_result: key_result.objective.title,
        help_text="A key result of a higher objective that this one moves.",
    )

    field_aliases: ClassVar[dict[str, str]] = {"parent": "parent_key_result"}
    spans: ClassVar[dict[str, int]] = {"unit": 2, "baseline": 2, "target": 2, "direction": 3, "owner": 3}
    COMPACT_FIELDS = ("title", "unit", "baseline", "target", "parent_key_result")

    def __init__(
        self,
        *args: Any,
        cycle: Cycle,
        objective: Objective | None = None,
        key_result: KeyResult | None = None,
        compact: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        if compact:
            for name in list(self.fields):
                if name not in self.COMPACT_FIELDS:
                    del self.fields[name]
        parents = (
            KeyResult.objects.filter(objective__cycle=cycle)
            .exclude(objective__level=Level.INDIVIDUAL)
            .select_related("objective")
            .order_by("objective__level", "objective__title", "created_at", "pk")
        )
        if objective is not None:
            parents = parents.exclude(objective=objective)
        self.fields["parent_key_result"].queryset = parents  # type: ignore[attr-defined]
        people = Membership.objects.filter(is_active=True).select_related("user").order_by("user__full_name")
        if "owner" in self.fields:
            self.fields["owner"].queryset = people  # type: ignore[attr-defined]
            self.fields["contributors"].queryset = people  # type: ignore[attr-defined]
        self.key_result = key_result

    def has_input(self) -> bool:
        """Whether anything was typed into this (optional, prefixed) form at all."""
        return self.is_bound and any(
            str(self.data.get(self.add_prefix(name)) or "").strip() for name in self.fields
        )


def _quarter_of(day: date) -> tuple[str, date, date]:
    first_month = 3 * ((day.month - 1) // 3) + 1
    start = date(day.year, first_month, 1)
    next_start = date(day.year + (first_month + 3 > 12), (first_month + 2) % 12 + 1, 1)
    return f"{day.year}-Q{(first_month - 1) // 3 + 1}", start, next_start - timedelta(days=1)


class DateInput(forms.DateInput):
    input_type = "date"


class CycleForm(GoalForm):
    spans: ClassVar[dict[str, int]] = {"name": 2, "start": 2, "end": 2}
    name = forms.CharField(max_length=60, help_text="e.g. 2026-Q3")
    start = forms.DateField(widget=DateInput(format="%Y-%m-%d"))
    end = forms.DateField(widget=DateInput(format="%Y-%m-%d"), help_text="The last day of the cycle.")

    @classmethod
    def suggestion(cls, today: date, existing: Iterable[Cycle]) -> dict[str, Any]:
        """The quarter after the latest cycle, or the current quarter when there is none."""
        latest = max(existing, key=lambda cycle: cycle.end, default=None)
        day = latest.end + timedelta(days=1) if latest else today
        name, start, end = _quarter_of(day)
        if latest:
            start = day
        return {"name": name, "start": start, "end": end}


class ObjectiveStateForm(GoalForm):
    state = forms.ChoiceField(choices=ObjectiveState.choices, widget=forms.HiddenInput)
    reason = forms.CharField(
        max_length=REASON_MAX_LENGTH,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Pausing or cancelling asks for a reason; people following the goal will see it.",
    )
    field_aliases: ClassVar[dict[str, str]] = {"state_reason": "reason"}


class ProgressForm(GoalForm):
    spans: ClassVar[dict[str, int]] = {"value": 3, "confidence": 3}
    value = forms.FloatField(label="New value")
    confidence = forms.IntegerField(
        label="Confidence (%)",
        required=False,
        min_value=0,
        max_value=100,
        help_text="How likely the target is now, from 0 to 100.",
    )
    note = forms.CharField(
        required=False,
        max_length=REASON_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="What moved it, in a sentence. Kept in the history.",
    )

    def __init__(self, *args: Any, key_result: KeyResult, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["value"].label = f"New value ({key_result.unit})"
        unit = key_result.unit
        self.fields[
            "value"
        ].help_text = f"Baseline {key_result.baseline:g}, target {key_result.target:g} {unit}."


class KPIReadingForm(GoalForm):
    value = forms.FloatField()
    note = forms.CharField(
        required=False,
        label="Comment",
        widget=forms.Textarea(attrs={"rows": 2, "hx-preserve": "true"}),
        help_text="What happened.",
    )
    objective = GroupedModelChoiceField(
        queryset=None,
        required=False,
        label="Objective it concerns",
        empty_label="— Choose the objective —",
        group_by=lambda objective: objective.cycle.name,
        widget=forms.Select(attrs={"hx-preserve": "true"}),
    )

    def __init__(self, *args: Any, kpi: KPI, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["value"].label = f"Reading ({kpi.unit})"
        self.fields["objective"].queryset = (  # type: ignore[attr-defined]
            Objective.objects.filter(state=ObjectiveState.ACTIVE)
            .select_related("cycle")
            .order_by("-cycle__start", "cycle_id", "level", "title")
        )

    @property
    def asks_for_comment(self) -> bool:
        return any(
            error.code in ("kpi_comment_missing", "kpi_objective_missing")
            for errors in self.errors.values()
            for error in errors.as_data()
        )

    @property
    def shows_objective(self) -> bool:
        return self.asks_for_comment or bool(self.is_bound and self.data.get(self.add_prefix("objective")))


class KPIForm(GoalForm):
    spans: ClassVar[dict[str, int]] = {
        "unit": 2,
        "direction": 4,
        "green": 3,
        "red": 3,
        "owner": 3,
        "team": 3,
    }
    name = forms.CharField(max_length=200, help_text="A lasting measure, e.g. “Monthly logo churn”.")
    unit = forms.CharField(max_length=30)
    direction = forms.ChoiceField(
        choices=[(Direction.INCREASE, "Higher is better"), (Direction.DECREASE, "Lower is better")]
    )
    green = forms.FloatField(label="Green threshold", help_text="At or better than this, all is well.")
    red = forms.FloatField(label="Red threshold", help_text="At or worse than this, act now.")
    owner = PersonChoiceField(queryset=None, required=False, empty_label="— Nobody —")
    team: forms.ModelChoiceField[Team] = forms.ModelChoiceField(
        queryset=None, required=False, empty_label="— No team —"
    )
    objectives: forms.ModelMultipleChoiceField[Objective] = forms.ModelMultipleChoiceField(
        queryset=None,
        required=False,
        label="Guards these objectives",
        widget=forms.SelectMultiple(attrs={"size": 6}),
        help_text="The objectives this KPI must not be sacrificed for.",
    )

    def __init__(self, *args: Any, cycle: Cycle | None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = (  # type: ignore[attr-defined]
            Membership.objects.filter(is_active=True).select_related("user").order_by("user__full_name")
        )
        self.fields["team"].queryset = Team.objects.order_by("name")  # type: ignore[attr-defined]
        objectives = Objective.objects.exclude(state=ObjectiveState.CANCELLED).order_by("level", "title")
        self.fields["objectives"].queryset = (  # type: ignore[attr-defined]
            objectives.filter(cycle=cycle) if cycle is not None else objectives.none()
        )
