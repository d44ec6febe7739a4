"""Forms of the integration pages: shape and validation only; the services and connections do the rest.

Secrets are write-only. Their inputs never carry a value back to the page (``render_value=False``, also
when the form comes back with errors); a secret already stored is shown as "set" and is kept when its
input is left empty.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from typing import Any, ClassVar
from urllib.parse import urlparse

from django import forms
from django.core.exceptions import ValidationError

from goals.models import KeyResult
from okrsignal.models import Membership
from signals_ingest import mapping
from signals_ingest.crypto import CredentialsUnreadable
from signals_ingest.models import Integration, Provider

_CUSTOM_FIELD = re.compile(r"^customfield_\d+$")
_NO_SPACES = re.compile(r"^\S+$")


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _secret_input() -> forms.PasswordInput:
    return forms.PasswordInput(render_value=False, attrs={"autocomplete": "off", "spellcheck": "false"})


class ConnectionForm(forms.Form):
    """Connect a tool, or change a connected tool's settings and replace its secrets.

    ``credential_fields`` maps a form field to the credentials key it fills; ``setting_fields`` to the
    settings key. Secrets already stored may be left empty, which keeps them.
    """

    provider: ClassVar[str]
    credential_fields: ClassVar[dict[str, str]]
    setting_fields: ClassVar[dict[str, str]]
    # The fields holding secrets (never shown back), and those that may be absent altogether, with the
    # label of the box that removes a stored one.
    secret_names: ClassVar[tuple[str, ...]] = ()
    optional_secrets: ClassVar[dict[str, str]] = {}
    # The fields of a connection made with pasted credentials, which one made through the vendor's OAuth
    # consent does without (its tokens are granted and renewed, its site or account comes with them).
    token_auth_fields: ClassVar[tuple[str, ...]] = ()

    def __init__(self, *args: Any, integration: Integration | None = None, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        self.integration = integration
        self.stored: dict[str, Any] = {}
        self.credentials_unreadable = False
        if integration is not None and integration.is_connected:
            try:
                self.stored = integration.credentials
            except CredentialsUnreadable:
                self.credentials_unreadable = True
        for name, key in self.secret_fields.items():
            field = self.fields[name]
            field.widget = _secret_input()
            field.strip = True  # type: ignore[attr-defined]
            if self.stored.get(key) or name in self.optional_secrets:
                field.required = False
        for name in self.optional_secrets:
            if self.stored.get(self.credential_fields[name]):
                self.fields[f"remove_{name}"] = forms.BooleanField(
                    label=self.optional_secrets[name], required=False
                )
        if integration is not None:
            # Also for a disconnected tool: reconnecting then needs only the secrets again.
            for name, key in self.setting_fields.items():
                self.fields[name].initial = integration.settings.get(key, self.fields[name].initial)
        if integration is not None and integration.is_connected:
            for name, key in self.credential_fields.items():
                if name not in self.secret_fields:
                    self.fields[name].initial = self.stored.get(key, self.fields[name].initial)
        self.uses_oauth = (
            integration is not None
            and integration.is_connected
            and integration.auth_method == Integration.AuthMethod.OAUTH
        )
        if self.uses_oauth:
            for name in self.token_auth_fields:
                del self.fields[name]

    @property
    def secret_fields(self) -> dict[str, str]:
        return {name: self.credential_fields[name] for name in self.secret_names}

    def secret_is_set(self, name: str) -> bool:
        return bool(self.stored.get(self.credential_fields[name]))

    def secret_rows(self) -> list[tuple[forms.BoundField, bool, forms.BoundField | None]]:
        """Each secret input with whether one is stored and the box that removes it (where there is one)."""
        return [
            (
                self[name],
                self.secret_is_set(name),
                self[f"remove_{name}"] if f"remove_{name}" in self.fields else None,
            )
            for name in self.secret_names
            if name in self.fields
        ]

    def plain_rows(self) -> list[forms.BoundField]:
        return [
            self[name]
            for name in self.fields
            if name not in self.secret_names and not name.startswith("remove_")
        ]

    def credentials(self) -> dict[str, Any]:
        """The credentials to store: what was typed, else what is stored (a removed secret is left out)."""
        credentials = dict(self.stored)
        for name, key in self.credential_fields.items():
            value = self.cleaned_data.get(name)
            if value:
                credentials[key] = value
            if self.cleaned_data.get(f"remove_{name}"):
                credentials.pop(key, None)
        return {key: value for key, value in credentials.items() if value}

    def settings(self) -> dict[str, Any]:
        """The settings to store: those already kept (channels, ids) with this form's on top."""
        kept = dict(self.integration.settings) if self.integration is not None else {}
        for name, key in self.setting_fields.items():
            if name not in self.fields:
                continue
            value = self.cleaned_data.get(name)
            if value in (None, ""):
                kept.pop(key, None)
            else:
                kept[key] = value
        return kept


class JiraConnectionForm(ConnectionForm):
    provider = Provider.JIRA
    secret_names = ("api_token", "webhook_secret")
    credential_fields: ClassVar[dict[str, str]] = {
        "account_email": "email",
        "api_token": "api_token",
        "webhook_secret": "webhook_secret",
    }
    setting_fields: ClassVar[dict[str, str]] = {
        "site_url": "site",
        "account_email": "account_email",
        "story_points_field": "story_points_field",
    }
    optional_secrets: ClassVar[dict[str, str]] = {"webhook_secret": "Remove the webhook secret"}
    token_auth_fields = ("site_url", "account_email", "api_token")

    site_url = forms.CharField(
        label="Jira site address",
        max_length=200,
        help_text="The address of your Jira Cloud site, like https://your-team.atlassian.net.",
        widget=forms.URLInput(
            attrs={"placeholder": "https://your-team.atlassian.net", "autocomplete": "url"}
        ),
    )
    account_email = forms.EmailField(
        label="Account e-mail",
        help_text="The Atlassian account the API token belongs to. OKRSignal reads what this account"
        " can see.",
    )
    api_token = forms.CharField(
        label="API token",
        max_length=500,
        help_text="Create one at id.atlassian.com > Security > API tokens.",
    )
    webhook_secret = forms.CharField(
        label="Webhook secret (optional)",
        max_length=500,
        help_text="If your Jira webhook has a secret, Jira signs each call with it and unsigned calls are"
        " refused. Without one, the webhook URL's token alone identifies the calls.",
    )
    story_points_field = forms.CharField(
        label="Story points field (optional)",
        max_length=40,
        required=False,
        help_text="The id of the custom field holding story points on your site, like customfield_10016."
        " Leave empty if you do not estimate in story points.",
    )

    def clean_site_url(self) -> str:
        value = str(self.cleaned_data["site_url"]).strip().rstrip("/")
        parsed = urlparse(value)
        if parsed.scheme not in ("http", "https") or not parsed.hostname:
            raise ValidationError("Enter the site's full address, like https://your-team.atlassian.net.")
        if parsed.scheme != "https" and not _is_loopback(parsed.hostname):
            raise ValidationError(
                "Use the site's https:// address: the API token must not travel unencrypted."
            )
        if parsed.path not in ("", "/") or parsed.query or parsed.fragment:
            raise ValidationError(
                f"Enter the site's address alone, like {parsed.scheme}://{parsed.netloc}, without a page."
            )
        return f"{parsed.scheme}://{parsed.netloc}"

    def clean_story_points_field(self) -> str:
        value = str(self.cleaned_data.get("story_points_field") or "").strip()
        if value and not _CUSTOM_FIELD.match(value):
            raise ValidationError(
                "Give the field's id, like customfield_10016 (Jira > Settings > Issues > Custom fields)."
            )
        return value


class SlackConnectionForm(ConnectionForm):
    provider = Provider.SLACK
    secret_names = ("bot_token", "signing_secret")
    credential_fields: ClassVar[dict[str, str]] = {
        "bot_token": "bot_token",
        "signing_secret": "signing_secret",
    }
    setting_fields: ClassVar[dict[str, str]] = {}

    bot_token = forms.CharField(
        label="Bot token",
        max_length=500,
        help_text="Your Slack app > OAuth & Permissions > Bot User OAuth Token; it starts with xoxb-.",
    )
    signing_secret = forms.CharField(
        label="Signing secret",
        max_length=200,
        help_text="Your Slack app > Basic Information > App Credentials > Signing Secret. Slack signs every"
        " event with it; calls without a valid signature are refused.",
    )

    def settings(self) -> dict[str, Any]:
        kept = super().settings()
        if self.cleaned_data.get("bot_token"):
            # A bot token typed here is an app of the admin's own, not one installed with Add to Slack.
            kept.pop("installed_with", None)
        return kept

    def clean_bot_token(self) -> str:
        value = str(self.cleaned_data.get("bot_token") or "")
        if value and not value.startswith("xoxb-"):
            raise ValidationError(
                "That is not a bot token: bot tokens start with xoxb- (a user token, xoxp-, would read"
                " as you)."
            )
        if value and not _NO_SPACES.match(value):
            raise ValidationError("A bot token has no spaces in it; copy it again.")
        return value

    def clean_signing_secret(self) -> str:
        value = str(self.cleaned_data.get("signing_secret") or "")
        if value and not _NO_SPACES.match(value):
            raise ValidationError("A signing secret has no spaces in it; copy it again.")
        return value


class HubSpotConnectionForm(ConnectionForm):
    provider = Provider.HUBSPOT
    secret_names = ("access_token", "client_secret")
    credential_fields: ClassVar[dict[str, str]] = {
        "access_token": "access_token",
        "client_secret": "client_secret",
    }
    setting_fields: ClassVar[dict[str, str]] = {}
    token_auth_fields = ("access_token", "client_secret")

    access_token = forms.CharField(
        label="Private app access token",
        max_length=500,
        help_text="HubSpot > Settings > Integrations > Private apps > your app > Auth. It needs the CRM read"
        " scopes for deals, owners and engagements.",
    )
    client_secret = forms.CharField(
        label="App client secret",
        max_length=200,
        help_text="On the same Auth tab. HubSpot signs every webhook call with it (signature v3); calls"
        " without a valid signature are refused.",
    )

    def clean_access_token(self) -> str:
        value = str(self.cleaned_data.get("access_token") or "")
        if value and not _NO_SPACES.match(value):
            raise ValidationError("An access token has no spaces in it; copy it again.")
        return value

    def clean_client_secret(self) -> str:
        value = str(self.cleaned_data.get("client_secret") or "")
        if value and not _NO_SPACES.match(value):
            raise ValidationError("A client secret has no spaces in it; copy it again.")
        return value


CONNECTION_FORMS: dict[str, type[ConnectionForm]] = {
    Provider.JIRA: JiraConnectionForm,
    Provider.SLACK: SlackConnectionForm,
    Provider.HUBSPOT: HubSpotConnectionForm,
}


# --- Mapping rules ----------------------------------------------------------------------------------

MATCH_FIELD_LABELS: dict[str, tuple[str, str]] = {
    "project": ("Project key", "Like ONB. Every issue in the project."),
    "epic": ("Epic key", "Like ONB-1. Issues in the epic (and their sub-tasks)."),
    "label": ("Label", "Issues carrying this label."),
    "component": ("Component", "Issues in this component."),
    "channel": ("Channel", "Messages in this channel (only channels chosen to be read are offered)."),
    "pipeline": ("Pipeline", "The pipeline's internal id, like default. Deals in it and their activity."),
    "dealstage": ("Deal stage", "The stage's internal id, like contractsent. Deals in that stage."),
}


def match_field_name(key: str) -> str:
    return f"match_{key}"


class MappingRuleForm(forms.Form):
    """Work matching every filled-in condition counts toward the chosen key result."""

    def __init__(
        self,
        *args: Any,
        provider: str,
        key_results: Iterable[KeyResult],
        channels: list[dict[str, Any]] | None = None,
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        self.provider = provider
        self.match_keys = mapping.MATCH_KEYS[provider]
        for key in self.match_keys:
            label, help_text = MATCH_FIELD_LABELS[key]
            if key == "channel":
                choices = [("", "Choose a channel")] + [
                    (
                        channel["id"],
                        f"#{channel['name']}" + (" (private)" if channel.get("is_private") else ""),
                    )
                    for channel in channels or []
                ]
                self.fields[match_field_name(key)] = forms.ChoiceField(
                    label=label, choices=choices, required=False, help_text=help_text
                )
            else:
                self.fields[match_field_name(key)] = forms.CharField(
                    label=label,
                    max_length=200,
                    required=False,
                    help_text=help_text,
                    # Values seen in the stored work are offered as the admin types (a <datalist>).
                    widget=forms.TextInput(attrs={"list": f"suggest-{key}", "autocomplete": "off"}),
                )
        self._key_results = {str(key_result.pk): key_result for key_result in key_results}
        grouped: dict[str, list[tuple[str, str]]] = {}
        for key_result in self._key_results.values():
            objective = key_result.objective
            group = f"{objective.cycle.name} · {objective.title}"
            grouped.setdefault(group, []).append((str(key_result.pk), key_result.title))
        self.fields["key_result"] = forms.ChoiceField(
            label="Counts toward key result",
            choices=[("", "Choose a key result"), *grouped.items()],
            error_messages={"required": "Choose the key result this work counts toward."},
        )

    def match_fields(self) -> list[forms.BoundField]:
        return [self[match_field_name(key)] for key in self.match_keys]

    def match(self) -> dict[str, str]:
        """The conditions typed so far (also from a form that is not valid yet, for the preview)."""
        source = self.cleaned_data if hasattr(self, "cleaned_data") else {}
        conditions: dict[str, str] = {}
        for key in self.match_keys:
            name = match_field_name(key)
            value = source.get(name) if name in source else self.data.get(self.add_prefix(name), "")
            if isinstance(value, str) and value.strip():
                conditions[key] = value.strip()
        return conditions

    def clean_key_result(self) -> KeyResult:
        key_result = self._key_results.get(str(self.cleaned_data.get("key_result") or ""))
        if key_result is None:
            raise ValidationError("Choose the key result this work counts toward.")
        return key_result

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if not self.match():
            names = [MATCH_FIELD_LABELS[key][0].lower() for key in self.match_keys]
            listed = names[0] if len(names) == 1 else f"{', '.join(names[:-1])} or {names[-1]}"
            raise ValidationError(f"Give at least one condition: {listed}.")
        return cleaned


# --- Slack channels, identities, privacy ------------------------------------------------------------


class ChannelSelectionForm(forms.Form):
    channels = forms.MultipleChoiceField(required=False, widget=forms.CheckboxSelectMultiple)

    def __init__(self, *args: Any, channel_ids: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["channels"].choices = [(channel_id, channel_id) for channel_id in channel_ids]  # type: ignore[attr-defined]
        self.fields["channels"].error_messages["invalid_choice"] = (
            "%(value)s is not a channel the bot can read; reload the page to see the current list."
        )


NOBODY = "nobody"


class IdentityAssignForm(forms.Form):
    """Who a vendor account is: a person, or (explicitly) nobody in OKRSignal."""

    person = forms.ChoiceField(
        label="Person", error_messages={"required": "Choose who this account is, or Nobody in OKRSignal."}
    )

    def __init__(self, *args: Any, people: Iterable[Membership], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._people = {str(person.pk): person for person in people}
        self.fields["person"].choices = [  # type: ignore[attr-defined]
            ("", "Choose a person"),
            *[(pk, person.user.full_name) for pk, person in self._people.items()],
            (NOBODY, "Nobody in OKRSignal"),
        ]

    def clean_person(self) -> Membership | None:
        value = str(self.cleaned_data["person"])
        if value == NOBODY:
            return None
        return self._people[value]


class EraseConfirmationForm(forms.Form):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)

    confirm = forms.BooleanField(
        label="I understand that this cannot be undone",
        error_messages={"required": "Tick the box to confirm: erasing cannot be undone."},
    )


class DisconnectConfirmationForm(forms.Form):
    """A button press is the confirmation; the form exists so a stray POST without it does nothing."""

    confirm = forms.CharField(widget=forms.HiddenInput, error_messages={"required": "Confirm on this page."})
