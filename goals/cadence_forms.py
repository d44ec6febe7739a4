"""Forms of the cadence pages: the check-in schedule and one step of the remediation plan. Shape only; the
rules are ``goals.cadence``'s, and its problems are shown on the fields they name."""

from __future__ import annotations

from typing import Any

from django import forms

from goals.cadence import known_time_zones
from goals.checkin_reminders import WEEKDAY_NAMES
from goals.validation import Problem
from okrsignal.models import Membership


def _time_zone_choices() -> list[tuple[str, str]]:
    # Region/City names and UTC: the legacy aliases (EST5EDT, Etc/GMT+3, ...) only confuse the list.
    zones = sorted(
        zone for zone in known_time_zones() if "/" in zone and not zone.startswith(("Etc/", "SystemV/"))
    )
    return [("UTC", "UTC"), *((zone, zone.replace("_", " ")) for zone in zones)]


class ProblemForm(forms.Form):
    """A form that shows a service's ``Problem``s on its fields (``aliases``: service name → field)."""

    aliases: dict[str, str] = {}

    def add_problems(self, problems: list[Problem], *, prefix: str = "") -> None:
        for problem in problems:
            name = problem.field.removeprefix(prefix)
            name = self.aliases.get(name, name)
            self.add_error(name if name in self.fields else None, problem.message)


class CheckInScheduleForm(ProblemForm):
    weekday = forms.TypedChoiceField(
        label="Check-in day",
        choices=[(str(number), name) for number, name in enumerate(WEEKDAY_NAMES)],
        coerce=int,
        help_text="The day everyone's weekly check-in is due.",
    )
    at_time = forms.TimeField(
        label="Due at",
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        input_formats=["%H:%M", "%H:%M:%S"],
        help_text="Local time in the organisation's time zone, e.g. 10:00.",
    )
    time_zone = forms.ChoiceField(
        label="Time zone",
        choices=_time_zone_choices,
        help_text="Check-in weeks run Monday to Sunday in this time zone, and reminders follow its clock.",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # An organisation created with a zone the list leaves out keeps it as a choice.
        current = self.initial.get("time_zone")
        choices = list(self.fields["time_zone"].choices)  # type: ignore[attr-defined]
        if current and current not in {value for value, _ in choices}:
            self.fields["time_zone"].choices = [(current, current), *choices]  # type: ignore[attr-defined]


class RemediationStepForm(ProblemForm):
    owner: forms.ModelChoiceField[Membership] = forms.ModelChoiceField(
        queryset=None, label="Owner", empty_label=None
    )
    due_on = forms.DateField(label="Due", widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    progress = forms.IntegerField(
        label="Progress (%)",
        min_value=0,
        max_value=100,
        widget=forms.NumberInput(attrs={"step": 5, "inputmode": "numeric"}),
    )
    note = forms.CharField(
        label="Note", required=False, widget=forms.Textarea(attrs={"rows": 2}), max_length=2000
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["owner"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = (
            Membership.objects.filter(is_active=True).select_related("user").order_by("user__full_name")
        )
