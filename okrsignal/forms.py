from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth import password_validation
from django.contrib.auth.forms import AuthenticationForm

from okrsignal.models import ApiTokenScope, Membership, Role, Team, normalize_email_address


class EmailAuthenticationForm(AuthenticationForm):
    username = forms.EmailField(
        label="E-mail", widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "email"})
    )


class PasswordFields(forms.Form):
    password = forms.CharField(
        label="Password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text="At least 8 characters, not entirely numeric, not a common password.",
    )

    def clean_password(self) -> str:
        password = self.cleaned_data["password"]
        password_validation.validate_password(password)
        return password


class SignupForm(PasswordFields):
    full_name = forms.CharField(label="Your name", max_length=150)
    email = forms.EmailField(label="Work e-mail")
    organization_name = forms.CharField(label="Organisation name", max_length=120)
    organization_slug = forms.SlugField(
        label="Address",
        max_length=50,
        required=False,
        help_text="The web address of your pages, as in /o/acme/. Leave empty to derive it from the name.",
    )

    field_order = ["full_name", "email", "password", "organization_name", "organization_slug"]

    def clean_email(self) -> str:
        return normalize_email_address(self.cleaned_data["email"])


class AcceptInvitationForm(PasswordFields):
    full_name = forms.CharField(label="Your name", max_length=150)
    field_order = ["full_name", "password"]


class _OrganizationChoices(forms.Form):
    """Team and manager choices limited to the organisation in context."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if "team" in self.fields:
            self.fields["team"].queryset = Team.objects.all()  # type: ignore[attr-defined]
        if "manager" in self.fields:
            self.fields["manager"].queryset = (  # type: ignore[attr-defined]
                Membership.objects.filter(is_active=True).select_related("user").order_by("user__full_name")
            )


class InvitationForm(_OrganizationChoices):
    email = forms.EmailField(label="E-mail")
    role = forms.ChoiceField(choices=Role.choices, initial=Role.EMPLOYEE)
    team: forms.ModelChoiceField[Team] = forms.ModelChoiceField(queryset=None, required=False)
    manager: forms.ModelChoiceField[Membership] = forms.ModelChoiceField(queryset=None, required=False)


class MembershipForm(_OrganizationChoices):
    title = forms.CharField(label="Job title", max_length=120, required=False)
    role = forms.ChoiceField(choices=Role.choices)
    team: forms.ModelChoiceField[Team] = forms.ModelChoiceField(queryset=None, required=False)
    manager: forms.ModelChoiceField[Membership] = forms.ModelChoiceField(queryset=None, required=False)


class TeamForm(forms.Form):
    name = forms.CharField(max_length=120)
    parent: forms.ModelChoiceField[Team] = forms.ModelChoiceField(
        queryset=None, required=False, label="Part of"
    )
    lead: forms.ModelChoiceField[Membership] = forms.ModelChoiceField(queryset=None, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["parent"].queryset = Team.objects.all()  # type: ignore[attr-defined]
        self.fields["lead"].queryset = (  # type: ignore[attr-defined]
            Membership.objects.filter(is_active=True).select_related("user").order_by("user__full_name")
        )


class ApiTokenForm(forms.Form):
    name = forms.CharField(
        label="Name",
        max_length=100,
        help_text="What the token is for, so you can tell it apart later: “Weekly board report”.",
    )
    scope = forms.ChoiceField(
        label="Scope",
        choices=ApiTokenScope.choices,
        initial=ApiTokenScope.READ,
        widget=forms.RadioSelect,
        help_text="Read tokens can only read. Write tokens can also change goals, as the person who "
        "created them could.",
    )
