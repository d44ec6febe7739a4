"""Forms of the drift pages (shape only: the services decide what is allowed)."""

from __future__ import annotations

from django import forms

NOTE_MAX_LENGTH = 2000


class FindingNoteForm(forms.Form):
    """The note that goes with acknowledging or resolving a finding (resolving requires one)."""

    note = forms.CharField(required=False, max_length=NOTE_MAX_LENGTH, strip=True)
