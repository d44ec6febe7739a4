"""Forms of the check-in pages. They shape input only: every rule is ``goals.checkins``'.

A check-in form is made of parts, each a small Django form with its own prefix:

- ``priority-1`` to ``priority-5``: an outcome (``text``) and what it is linked to (``link``: a key result's
  id, ``unlinked``, or nothing yet), chosen among radio buttons the key result search fills;
- ``kr-<key result id>``: the author's word on one of their key results (status, new value, note);
- the three free texts and the pulse, unprefixed.

``CheckInForm.add_problems`` puts each problem the services report (named by path, e.g.
``priorities.1.key_result`` or ``key_result_updates.0.value``) on the field it concerns.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django import forms

from goals.checkin_selectors import KEY_RESULT_CHAIN
from goals.checkins import PRIORITY_TEXT_LENGTH, TEXT_LENGTH, KeyResultUpdateEntry, PriorityEntry
from goals.models import MAX_CHECK_IN_PRIORITIES, KeyResult, KeyResultStatus
from goals.validation import Problem

UNLINKED = "unlinked"
# Rows always on the form: two or three outcomes is what a week should have; two more fold away.
SHOWN_PRIORITY_ROWS = 3
PULSE_QUESTION = "I can explain how my work supports company goals"
PULSE_CHOICES = [
    (1, "Strongly disagree"),
    (2, "Disagree"),
    (3, "Neither"),
    (4, "Agree"),
    (5, "Strongly agree"),
]
MAX_ID_DIGITS = 18


def priority_prefix(position: int) -> str:
    return f"priority-{position}"


def key_result_prefix(key_result: KeyResult) -> str:
    return f"kr-{key_result.pk}"


def linkable_key_result(raw: object) -> KeyResult | None:
    """The key result a submitted id names in the organisation in context, or None."""
    text = str(raw or "").strip()
    if not (text.isascii() and text.isdigit() and len(text) <= MAX_ID_DIGITS):
        return None
    return KeyResult.objects.select_related(*KEY_RESULT_CHAIN).filter(pk=int(text)).first()


class CheckInPartForm(forms.Form):
    """A part of the check-in form; messages from the services land on its fields."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)

    def add_problem(self, field: str | None, message: str) -> None:
        if not hasattr(self, "cleaned_data"):
            self.full_clean()
        self.add_error(field if field in self.fields else None, message)

    def value_of(self, name: str, default: Any = None) -> Any:
        """A field's cleaned value; ``default`` when it did not clean (its error is on the field)."""
        if not self.is_bound:
            return self.initial.get(name, default)
        self.is_valid()
        return self.cleaned_data.get(name, default)


class PriorityForm(CheckInPartForm):
    text = forms.CharField(
        required=False,
        max_length=PRIORITY_TEXT_LENGTH,
        label="Outcome",
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    link = forms.CharField(required=False)

    def __init__(self, *args: Any, position: int, **kwargs: Any) -> None:
        super().__init__(*args, prefix=priority_prefix(position), **kwargs)
        self.position = position
        self.fields["text"].widget.attrs["placeholder"] = (
            "e.g. Ship the SAML metadata upload to pilot customers" if position == 1 else ""
        )

    def clean_link(self) -> str:
        link = str(self.cleaned_data.get("link") or "").strip()
        if link in ("", UNLINKED):
            return link
        if linkable_key_result(link) is None:
            raise forms.ValidationError("Choose a key result from the list, or mark the outcome unlinked.")
        return link

    @property
    def key_result(self) -> KeyResult | None:
        """The key result chosen (typed, or as first shown), if any."""
        if not hasattr(self, "_key_result"):
            link = self.value_of("link", "")
            if link in ("", UNLINKED, None):
                self._key_result: KeyResult | None = None
            elif not self.is_bound and isinstance(self.initial.get("key_result"), KeyResult):
                self._key_result = self.initial["key_result"]
            else:
                self._key_result = linkable_key_result(link)
        return self._key_result

    @property
    def link_value(self) -> str:
        """What the radio buttons show as chosen: a key result's id, ``unlinked`` or nothing."""
        if self.is_bound:
            return str(self.data.get(self.add_prefix("link")) or "")
        return str(self.initial.get("link") or "")

    @property
    def is_unlinked(self) -> bool:
        return self.link_value == UNLINKED

    @property
    def is_filled(self) -> bool:
        return bool(str(self.value_of("text", "") or "").strip() or self.link_value)

    def entry(self) -> PriorityEntry:
        return PriorityEntry(
            text=str(self.value_of("text", "") or ""),
            key_result=self.key_result,
            unlinked=self.value_of("link", "") == UNLINKED,
        )


class KeyResultUpdateForm(CheckInPartForm):
    status = forms.ChoiceField(
        choices=KeyResultStatus.choices, required=False, widget=forms.RadioSelect, label="Status"
    )
    value = forms.FloatField(required=False, label="New value")
    note = forms.CharField(
        required=False,
        max_length=TEXT_LENGTH,
        label="Note",
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )

    def __init__(self, *args: Any, key_result: KeyResult, **kwargs: Any) -> None:
        super().__init__(*args, prefix=key_result_prefix(key_result), **kwargs)
        self.key_result = key_result
        self.fields["value"].widget.attrs.update({"step": "any", "inputmode": "decimal"})
        if key_result.current_value is not None:
            self.fields["value"].widget.attrs["placeholder"] = f"{key_result.current_value:g}"

    def entry(self) -> KeyResultUpdateEntry:
        return KeyResultUpdateEntry(
            key_result=self.key_result,
            status=str(self.value_of("status", "") or ""),
            value=self.value_of("value"),
            note=str(self.value_of("note", "") or ""),
        )


class CheckInTextsForm(CheckInPartForm):
    blockers = forms.CharField(
        required=False,
        max_length=TEXT_LENGTH,
        label="Blockers",
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="What stands in your way, and who could clear it. Leave it empty if nothing does.",
    )
    upward_feedback = forms.CharField(
        required=False,
        max_length=TEXT_LENGTH,
        label="Feedback for your manager",
        widget=forms.Textarea(attrs={"rows": 3, "aria-describedby": "feedback-privacy"}),
    )
    next_week_success = forms.CharField(
        required=False,
        max_length=TEXT_LENGTH,
        label="What success looks like by next week",
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="One or two sentences you can check yourself against next week.",
    )
    pulse = forms.TypedChoiceField(
        choices=PULSE_CHOICES,
        coerce=int,
        empty_value=None,
        required=False,
        widget=forms.RadioSelect,
        label=PULSE_QUESTION,
    )

    def texts(self) -> dict[str, str]:
        return {
            name: str(self.value_of(name, "") or "")
            for name in ("blockers", "upward_feedback", "next_week_success")
        }


@dataclass
class ErrorLink:
    """One line of the summary at the top of a refused form, pointing at the field concerned."""

    label: str
    message: str
    anchor: str


class CheckInForm:
    """The whole check-in: its priorities, key result updates, texts and pulse, bound or not."""

    def __init__(
        self,
        data: Any = None,
        *,
        key_results: Sequence[KeyResult],
        initial_priorities: Sequence[dict[str, Any]] = (),
        initial_updates: dict[int, dict[str, Any]] | None = None,
        initial_texts: dict[str, Any] | None = None,
    ) -> None:
        self.is_bound = data is not None
        filled = len(initial_priorities)
        self.priorities = [
            PriorityForm(
                data,
                position=position,
                initial=initial_priorities[position - 1] if position <= filled else None,
            )
            for position in range(1, MAX_CHECK_IN_PRIORITIES + 1)
        ]
        updates = initial_updates or {}
        self.updates = [
            KeyResultUpdateForm(data, key_result=key_result, initial=updates.get(key_result.pk))
            for key_result in key_results
        ]
        self.texts = CheckInTextsForm(data, initial=initial_texts)
        self.general_errors: list[str] = []
        self.priority_errors: list[str] = []

    # --- Reading ------------------------------------------------------------------------------------

    @property
    def parts(self) -> list[CheckInPartForm]:
        return [*self.priorities, *self.updates, self.texts]

    def is_valid(self) -> bool:
        return all(part.is_valid() for part in self.parts) and not (
            self.general_errors or self.priority_errors
        )

    @property
    def shown_priorities(self) -> list[PriorityForm]:
        count = max(
            SHOWN_PRIORITY_ROWS,
            max((form.position for form in self.priorities if form.is_filled or form.errors), default=0),
        )
        return self.priorities[:count]

    @property
    def folded_priorities(self) -> list[PriorityForm]:
        return self.priorities[len(self.shown_priorities) :]

    @property
    def pulse(self) -> int | None:
        value = self.texts.value_of("pulse")
        return value if isinstance(value, int) else None

    def changes(self) -> dict[str, Any]:
        """The form as keyword arguments of ``check_in_save_draft`` and ``check_in_submit``. Fields that
        did not clean count as empty (their messages stay on screen, with what was typed)."""
        return {
            "priorities": [form.entry() for form in self.priorities],
            "key_result_updates": [form.entry() for form in self.updates],
            **self.texts.texts(),
        }

    # --- Problems -----------------------------------------------------------------------------------

    def add_problems(self, problems: Iterable[Problem]) -> None:
        for problem in problems:
            self.add_problem(problem.field, problem.message)

    def add_problem(self, path: str | None, message: str) -> None:
        parts = (path or "").split(".")
        if parts[0] == "priorities" and len(parts) == 1:
            self.priority_errors.append(message)
        elif parts[0] == "priorities" and len(parts) >= 2 and parts[1].isdigit():
            index = int(parts[1])
            if index < len(self.priorities):
                field = "text" if parts[-1] == "text" else "link"
                self.priorities[index].add_problem(field, message)
                return
            self.priority_errors.append(message)
        elif parts[0] == "key_result_updates" and len(parts) >= 2 and parts[1].isdigit():
            index = int(parts[1])
            if index < len(self.updates):
                self.updates[index].add_problem(parts[-1] if len(parts) > 2 else None, message)
            else:
                self.general_errors.append(message)
        elif parts[0] in self.texts.fields:
            self.texts.add_problem(parts[0], message)
        elif parts[0] == "score":
            self.texts.add_problem("pulse", message)
        else:
            self.general_errors.append(message)

    @property
    def error_links(self) -> list[ErrorLink]:
        """Every message, in the order of the form, each linking to its field."""
        if not self.is_bound:
            return []
        links = [ErrorLink("Check-in", message, "checkin-form") for message in self.general_errors]
        links += [ErrorLink("Outcomes", message, "outcomes") for message in self.priority_errors]
        for form in self.priorities:
            for field, errors in form.errors.items():
                anchor = f"id_{form.add_prefix(field)}" if field == "text" else f"{form.prefix}-link"
                links += [ErrorLink(f"Outcome {form.position}", str(e), anchor) for e in errors]
        for update in self.updates:
            for field, errors in update.errors.items():
                anchor = f"{update.prefix}-status" if field in ("status", "__all__") else ""
                anchor = anchor or f"id_{update.add_prefix(field)}"
                links += [ErrorLink(update.key_result.title, str(e), anchor) for e in errors]
        for field, errors in self.texts.errors.items():
            label = str(self.texts.fields[field].label) if field in self.texts.fields else "Check-in"
            anchor = f"id_{field}" if field != "pulse" else "pulse"
            links += [ErrorLink(label, str(e), anchor) for e in errors]
        return links

    @property
    def problem_count(self) -> int:
        return len(self.error_links)
