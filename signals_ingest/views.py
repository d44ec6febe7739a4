"""The integration pages: connecting Jira, Slack and HubSpot, the Slack channels read, mapping rules,
vendor identities, and what was collected about a person.

Everything under ``/o/<org_slug>/integrations/`` is for admins (anyone else gets a 404), except a person's
own privacy page, which every member has. Views stay thin: a form checks the shape, one service (or the
connections module, for calls to a vendor) does the work. Secrets typed into the connection forms are
write-only: no page renders them back, and they are masked in error reports.
"""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.forms import Form
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.utils.text import slugify
from django.views import View
from django.views.decorators.debug import sensitive_post_parameters

from okrsignal.models import Membership, Role
from okrsignal.permissions import OrganizationViewMixin, refuse
from signals_ingest import connections, integration_selectors, oauth, privacy, services
from signals_ingest.forms import (
    CONNECTION_FORMS,
    ChannelSelectionForm,
    DisconnectConfirmationForm,
    EraseConfirmationForm,
    IdentityAssignForm,
    MappingRuleForm,
    match_field_name,
)
from signals_ingest.models import (
    ExecutionSignal,
    ExternalIdentity,
    Integration,
    MappingRule,
    Provider,
    WorkItem,
)

logger = logging.getLogger(__name__)

# The query parameter with which htmx asks a rule form for its preview rather than the page.
PREVIEW_PARAMETER = "preview"
# A person's page lists this many stored texts; the export holds all of them.
TEXTS_SHOWN = 100
SECRET_FIELD_NAMES = (
    "api_token",
    "webhook_secret",
    "bot_token",
    "signing_secret",
    "access_token",
    "client_secret",
)


def _form_errors_from(form: Form, error: ValidationError) -> None:
    """Put a service's ValidationError on the form, on the field it names where the form has one."""
    if hasattr(error, "error_dict"):
        for name, field_errors in error.error_dict.items():
            form.add_error(name if name in form.fields else None, field_errors)
    else:
        form.add_error(None, error)


class IntegrationPage(OrganizationViewMixin, View):
    """An admin page about integrations. ``render_page`` serves a partial of the page to htmx on request."""

    required_role: str | None = Role.ADMIN
    template_name = ""

    def render_page(
        self, context: dict[str, Any], *, partial: str | None = None, status: int = 200
    ) -> HttpResponse:
        name = f"{self.template_name}#{partial}" if partial else self.template_name
        return render(self.request, name, context, status=status)

    def integration(self) -> Integration:
        return get_object_or_404(Integration, pk=self.kwargs["integration_id"])

    def overview_url(self) -> str:
        return reverse("integrations:overview", kwargs={"org_slug": self.organization.slug})

    @property
    def is_htmx(self) -> bool:
        return bool(getattr(self.request, "htmx", False))


# --- The overview and connecting ------------------------------------------------------------------


class IntegrationsOverviewView(IntegrationPage):
    template_name = "signals_ingest/overview.html"

    def get(self, request: HttpRequest, org_slug: str) -> HttpResponse:
        cards = integration_selectors.integration_cards()
        return self.render_page(
            {
                "cards": cards,
                "unmatched_total": sum(card.unmatched_identities for card in cards),
                "connected_count": sum(1 for card in cards if card.connected),
            }
        )


@method_decorator(sensitive_post_parameters(*SECRET_FIELD_NAMES), name="dispatch")
class IntegrationConnectView(IntegrationPage):
    """Connect a tool, or change a connected one's settings and replace its secrets.

    After saving, the connection is tested at once, so the admin knows straight away whether it works.
    """

    template_name = "signals_ingest/connect.html"
    provider = ""

    def existing(self) -> Integration | None:
        return Integration.objects.filter(provider=self.provider).first()

    def slack_install_url(self) -> str:
        """The "Add to Slack" link (a new state in this session each time), where the install is offered."""
        if self.provider != Provider.SLACK or not connections.slack_install_offered():
            return ""
        return connections.slack_authorize_url(
            session=self.request.session,
            organization_id=self.organization.pk,
            redirect_uri=settings.SITE_URL
            + reverse("integrations:slack_installed", kwargs={"org_slug": self.organization.slug}),
        )

    def oauth_connect_url(self) -> str:
        """The "Connect with HubSpot / Atlassian" link (a new state in this session each time), where
        OKRSignal's own app for the vendor is set up."""
        if self.provider not in (Provider.HUBSPOT, Provider.JIRA) or not oauth.oauth_offered(self.provider):
            return ""
        return oauth.authorize_url(
            provider=self.provider,
            session=self.request.session,
            organization_id=self.organization.pk,
            organization_slug=self.organization.slug,
            user_id=self.membership.user_id,
            redirect_uri=oauth_redirect_uri(self.provider),
        )

    def respond(
        self,
        form: Form,
        integration: Integration | None,
        *,
        status: int = 200,
        install_problem: str = "",
        oauth_problem: str = "",
    ) -> HttpResponse:
        oauth_url = self.oauth_connect_url()
        response = self.render_page(
            {
                "install_url": self.slack_install_url(),
                "install_problem": install_problem,
                "oauth_url": oauth_url,
                "oauth_button": oauth.button_label(self.provider) if oauth_url or oauth_problem else "",
                "oauth_problem": oauth_problem,
                "form": form,
                "provider": self.provider,
                "label": Provider(self.provider).label,
                "integration": integration if integration is not None and integration.is_connected else None,
                "webhook_url": integration_selectors.webhook_url(integration)
                if integration is not None and integration.is_connected
                else "",
            },
            status=status,
        )
        response["Cache-Control"] = "no-store"
        return response

    def get(self, request: HttpRequest, org_slug: str) -> HttpResponse:
        integration = self.existing()
        return self.respond(CONNECTION_FORMS[self.provider](integration=integration), integration)

    def post(self, request: HttpRequest, org_slug: str) -> HttpResponse:
        integration = self.existing()
        form = CONNECTION_FORMS[self.provider](request.POST, integration=integration)
        if not form.is_valid():
            return self.respond(form, integration, status=400)
        newly_connected = integration is None or not integration.is_connected
        try:
            with transaction.atomic():
                if newly_connected:
                    integration = services.integration_connect(
                        provider=self.provider, credentials=form.credentials(), settings=form.settings()
                    )
                else:
                    assert integration is not None
                    services.integration_update_settings(integration=integration, settings=form.settings())
                    credentials = form.credentials()
                    if credentials != form.stored and integration.auth_method == Integration.AuthMethod.OAUTH:
                        # Only what the admin changed: the tokens may have been renewed since the page read
                        # them, and an old refresh token written back would end the connection.
                        services.integration_update_credentials(
                            integration=integration,
                            changes={
                                key: value
                                for key, value in credentials.items()
                                if form.stored.get(key) != value
                            },
                            removed=[key for key in form.stored if key not in credentials],
                        )
                    elif credentials != form.stored:
                        services.integration_set_credentials(integration=integration, credentials=credentials)
        except ValidationError as error:
            _form_errors_from(form, error)
            return self.respond(form, integration, status=400)
        assert integration is not None
        label = Provider(self.provider).label
        check = connections.integration_test_connection(integration=integration)
        done = f"{label} is connected." if newly_connected else f"Saved the {label} settings."
        if check.ok:
            if self.provider == Provider.SLACK:
                connections.slack_remember_workspace(integration=integration)
            messages.success(request, f"{done} Connection test: {check.message}")
        else:
            messages.warning(
                request, f"{done} But the connection test failed: {check.message} Check the values below."
            )
            return redirect(request.path)
        if self.provider == Provider.SLACK and newly_connected:
            return redirect(
                "integrations:slack_channels", org_slug=org_slug, slack_integration_id=integration.pk
            )
        return redirect(self.overview_url())


class SlackInstalledView(IntegrationConnectView):
    """Where Slack sends the admin back after "Add to Slack": check the state, exchange the code.

    A refused or abandoned install shows the Slack settings page again with what went wrong (and a new
    "Add to Slack" link); nothing is stored.
    """

    provider = Provider.SLACK
    http_method_names = ["get", "head", "options"]

    def get(self, request: HttpRequest, org_slug: str) -> HttpResponse:
        integration = self.existing()
        try:
            if not connections.slack_install_offered():
                raise connections.InstallRefused("Add to Slack is not set up on this server.")
            denied = request.GET.get("error", "")
            connections.slack_install_check_state(
                session=request.session,
                organization_id=self.organization.pk,
                state=request.GET.get("state", ""),
            )
            if denied:
                raise connections.InstallRefused(
                    f"Slack says the installation did not go ahead ({denied}). Nothing was connected."
                )
            redirect_uri = settings.SITE_URL + reverse(
                "integrations:slack_installed", kwargs={"org_slug": org_slug}
            )
            with transaction.atomic():
                integration = connections.slack_install(
                    code=request.GET.get("code", ""), redirect_uri=redirect_uri
                )
        except connections.InstallRefused as refusal:
            form = CONNECTION_FORMS[self.provider](integration=integration)
            return self.respond(form, integration, install_problem=refusal.message)
        check = connections.integration_test_connection(integration=integration)
        if check.ok:
            connections.slack_remember_workspace(integration=integration)
            messages.success(
                request,
                f"Slack is installed. Connection test: {check.message} Now choose the channels to read.",
            )
        else:
            messages.warning(request, f"Slack is installed, but the connection test failed: {check.message}")
        return redirect("integrations:slack_channels", org_slug=org_slug, slack_integration_id=integration.pk)


def oauth_redirect_uri(provider: str) -> str:
    """The one address per vendor registered with OKRSignal's app, whatever the organisation."""
    return settings.SITE_URL + reverse(f"oauth_{provider}_callback")


class OAuthCallbackView(View):
    """Where HubSpot or Atlassian sends the browser back after consent: on to the page of the organisation
    the connection was started for (in this browser's session), which checks everything. Nothing is
    exchanged or stored here."""

    provider = ""
    http_method_names = ["get", "head", "options"]

    def get(self, request: HttpRequest) -> HttpResponse:
        slug = oauth.pending_organization_slug(provider=self.provider, session=request.session)
        if not slug:
            label = Provider(self.provider).label
            messages.error(
                request,
                f"No {label} connection was started in this browser, so nothing was connected. Start again"
                f" from the {label} settings page.",
            )
            return redirect("home")
        page = reverse(f"integrations:{self.provider}_oauth_connected", kwargs={"org_slug": slug})
        return redirect(f"{page}?{request.GET.urlencode()}")


class OAuthConnectedView(IntegrationConnectView):
    """The organisation's end of "Connect with HubSpot / Atlassian": check the state, exchange the code,
    store the integration. A refused, forged, replayed or abandoned connection shows the settings page
    again with what went wrong (and a new connect button); nothing is stored."""

    http_method_names = ["get", "head", "options"]

    def get(self, request: HttpRequest, org_slug: str) -> HttpResponse:
        integration = self.existing()
        label = Provider(self.provider).label
        try:
            if not oauth.oauth_offered(self.provider):
                raise oauth.ConnectRefused(
                    f"{oauth.button_label(self.provider)} is not set up on this server."
                )
            denied = request.GET.get("error", "")
            oauth.check_state(
                provider=self.provider,
                session=request.session,
                organization_id=self.organization.pk,
                user_id=self.membership.user_id,
                state=request.GET.get("state", ""),
            )
            if denied:
                raise oauth.ConnectRefused(
                    f"{label} says the connection did not go ahead ({denied[:100]}). Nothing was connected."
                )
            code = request.GET.get("code", "")
            if self.provider == Provider.HUBSPOT:
                with transaction.atomic():
                    integration = oauth.hubspot_connect(
                        code=code, redirect_uri=oauth_redirect_uri(self.provider)
                    )
            else:
                grant, sites = oauth.jira_grant(code=code, redirect_uri=oauth_redirect_uri(self.provider))
                if len(sites) > 1:
                    oauth.jira_remember_sites(
                        session=request.session,
                        organization_id=self.organization.pk,
                        user_id=self.membership.user_id,
                        grant=grant,
                        sites=sites,
                    )
                    return redirect("integrations:jira_oauth_site", org_slug=org_slug)
                with transaction.atomic():
                    integration = oauth.jira_connect(grant=grant, site=sites[0])
        except oauth.ConnectRefused as refusal:
            form = CONNECTION_FORMS[self.provider](integration=integration)
            return self.respond(form, integration, oauth_problem=refusal.message)
        return _connected_with_oauth(request, integration, org_slug=org_slug)


def _connected_with_oauth(request: HttpRequest, integration: Integration, *, org_slug: str) -> HttpResponse:
    label = integration.get_provider_display()
    check = connections.integration_test_connection(integration=integration)
    if check.ok:
        messages.success(request, f"{label} is connected with OAuth. Connection test: {check.message}")
    else:
        messages.warning(
            request, f"{label} is connected with OAuth, but the connection test failed: {check.message}"
        )
    return redirect("integrations:overview", org_slug=org_slug)


class JiraSiteChoiceView(IntegrationPage):
    """The Atlassian grant reaches several Jira sites: the admin chooses the one to read."""

    template_name = "signals_ingest/jira_site.html"

    def pending(self) -> oauth.PendingJiraGrant | None:
        return oauth.jira_pending_grant(
            session=self.request.session,
            organization_id=self.organization.pk,
            user_id=self.membership.user_id,
        )

    def nothing_pending(self) -> HttpResponse:
        return self.render_page({"sites": [], "problem": ""})

    def get(self, request: HttpRequest, org_slug: str) -> HttpResponse:
        pending = self.pending()
        if pending is None:
            return self.nothing_pending()
        response = self.render_page({"sites": pending.sites, "problem": ""})
        response["Cache-Control"] = "no-store"
        return response

    def post(self, request: HttpRequest, org_slug: str) -> HttpResponse:
        pending = self.pending()
        if pending is None:
            return self.nothing_pending()
        chosen = next((site for site in pending.sites if site.cloud_id == request.POST.get("cloud_id")), None)
        if chosen is None:
            return self.render_page(
                {"sites": pending.sites, "problem": "Choose one of the sites."}, status=400
            )
        try:
            with transaction.atomic():
                integration = oauth.jira_connect(
                    grant=pending.grant, site=chosen, granted_at=pending.granted_at
                )
        except oauth.ConnectRefused as refusal:
            oauth.jira_forget_pending_grant(session=request.session)
            messages.error(request, refusal.message)
            return redirect("integrations:connect_jira", org_slug=org_slug)
        oauth.jira_forget_pending_grant(session=request.session)
        return _connected_with_oauth(request, integration, org_slug=org_slug)


class IntegrationTestView(IntegrationPage):
    """POST: ask the vendor whether the stored credentials work, and say what it answered."""

    template_name = "signals_ingest/_parts.html"

    def post(self, request: HttpRequest, org_slug: str, integration_id: int) -> HttpResponse:
        integration = self.integration()
        check = connections.integration_test_connection(integration=integration)
        if self.is_htmx:
            return self.render_page(
                {"check": check, "integration": integration, "tested_at": timezone.now()},
                partial="test-result",
            )
        label = integration.get_provider_display()
        if check.ok:
            messages.success(request, f"{label}: {check.message}")
        else:
            messages.error(request, f"{label}: {check.message}")
        return redirect(self.overview_url())


class IntegrationSyncView(IntegrationPage):
    """POST: start a pull sync now, in a worker; the overview shows its progress as it goes."""

    def post(self, request: HttpRequest, org_slug: str, integration_id: int) -> HttpResponse:
        integration = self.integration()
        label = integration.get_provider_display()
        if not integration.is_connected:
            messages.error(request, f"{label} is disconnected: connect it again before syncing.")
        else:
            connections.sync_enqueue(integration=integration)
            messages.success(
                request,
                f"A {label} sync has started. Items taken and the last success below update as it goes;"
                " reload to see them.",
            )
        return redirect(self.overview_url())


class IntegrationDisconnectView(IntegrationPage):
    """GET: what disconnecting does, and a button. POST: disconnect (everything taken so far stays)."""

    template_name = "signals_ingest/disconnect.html"

    def context(self, integration: Integration, form: Form) -> dict[str, Any]:
        return {
            "integration": integration,
            "label": integration.get_provider_display(),
            "form": form,
            "work_item_count": WorkItem.objects.filter(provider=integration.provider).count(),
            "signal_count": ExecutionSignal.objects.filter(provider=integration.provider).count(),
            "rule_count": MappingRule.objects.filter(integration=integration).count(),
            "identity_count": ExternalIdentity.objects.filter(provider=integration.provider).count(),
        }

    def get(self, request: HttpRequest, org_slug: str, integration_id: int) -> HttpResponse:
        integration = self.integration()
        if not integration.is_connected:
            return redirect(self.overview_url())
        return self.render_page(self.context(integration, DisconnectConfirmationForm()))

    def post(self, request: HttpRequest, org_slug: str, integration_id: int) -> HttpResponse:
        integration = self.integration()
        form = DisconnectConfirmationForm(request.POST)
        if not form.is_valid():
            return self.render_page(self.context(integration, form), status=400)
        services.integration_disconnect(integration=integration)
        label = integration.get_provider_display()
        messages.success(
            request,
            f"{label} is disconnected and its credentials are deleted. Everything taken from it so far (work"
            " items, signals, identities and mapping rules) is kept; connecting again carries on from there.",
        )
        return redirect(self.overview_url())


class WebhookTokenRotateView(IntegrationPage):
    """POST: a new webhook address; the old one stops working at once."""

    def post(self, request: HttpRequest, org_slug: str, integration_id: int) -> HttpResponse:
        integration = self.integration()
        services.integration_rotate_webhook_token(integration=integration)
        label = integration.get_provider_display()
        messages.success(
            request,
            f"{label} has a new webhook address (below). Paste it into {label}'s webhook settings: calls to"
            " the old address are no longer accepted.",
        )
        return redirect("integrations:connect_" + integration.provider, org_slug=org_slug)


# --- Slack channels ---------------------------------------------------------------------------------


class SlackChannelsView(IntegrationPage):
    """Which Slack channels are read. Only those ticked here are ever read; direct messages never are."""

    template_name = "signals_ingest/channels.html"

    def slack(self) -> Integration:
        # Named apart from ``integration_id``: only a Slack integration has channels to choose.
        return get_object_or_404(Integration, pk=self.kwargs["slack_integration_id"], provider=Provider.SLACK)

    def respond(
        self, integration: Integration, listing: connections.ChannelListing, form: Form, *, status: int = 200
    ) -> HttpResponse:
        return self.render_page(
            {
                "integration": integration,
                "listing": listing,
                "form": form,
                "selected_count": sum(1 for channel in listing.channels if channel.selected),
            },
            status=status,
        )

    def get(self, request: HttpRequest, org_slug: str, slack_integration_id: int) -> HttpResponse:
        integration = self.slack()
        listing = connections.slack_channel_listing(integration=integration)
        form = ChannelSelectionForm(channel_ids=[channel.id for channel in listing.channels])
        return self.respond(integration, listing, form)

    def post(self, request: HttpRequest, org_slug: str, slack_integration_id: int) -> HttpResponse:
        integration = self.slack()
        listing = connections.slack_channel_listing(integration=integration)
        form = ChannelSelectionForm(request.POST, channel_ids=[channel.id for channel in listing.channels])
        if not form.is_valid():
            return self.respond(integration, listing, form, status=400)
        integration = connections.slack_channels_select(
            integration=integration, listing=listing, channel_ids=form.cleaned_data["channels"]
        )
        chosen = integration.settings.get("channels", [])
        if chosen:
            names = ", ".join(f"#{channel['name']}" for channel in chosen)
            messages.success(
                request, f"Reading {len(chosen)} channel{'s' if len(chosen) != 1 else ''}: {names}."
            )
        else:
            messages.success(request, "No channel is read now. Messages already taken are kept.")
        return redirect(request.path)


# --- Mapping rules ----------------------------------------------------------------------------------


class RuleFormPage(IntegrationPage):
    """A page with a mapping-rule form whose preview follows what is typed."""

    def rule_form(self, integration: Integration, data: Any = None, initial: Any = None) -> MappingRuleForm:
        return MappingRuleForm(
            data,
            initial=initial,
            provider=integration.provider,
            key_results=integration_selectors.key_result_choices(),
            channels=integration.settings.get("channels", []),
        )

    def preview(self, integration: Integration, form: MappingRuleForm) -> dict[str, Any]:
        match = form.match()
        if not match:
            return {"preview": None, "preview_problem": ""}
        try:
            return {
                "preview": services.mapping_rule_preview(integration=integration, match=match),
                "preview_problem": "",
            }
        except ValidationError as error:
            return {"preview": None, "preview_problem": " ".join(error.messages)}

    def wants_preview(self) -> bool:
        return self.is_htmx and PREVIEW_PARAMETER in self.request.GET

    def base_context(self, integration: Integration, form: MappingRuleForm) -> dict[str, Any]:
        return {
            "integration": integration,
            "label": integration.get_provider_display(),
            "form": form,
            "suggestions": integration_selectors.match_value_suggestions(integration.provider),
            "preview_url": f"{self.request.path}?{PREVIEW_PARAMETER}=1",
            **self.preview(integration, form),
        }


class MappingRulesView(RuleFormPage):
    template_name = "signals_ingest/rules.html"

    def respond(self, integration: Integration, form: MappingRuleForm, *, status: int = 200) -> HttpResponse:
        context = {
            **self.base_context(integration, form),
            "rules": [
                (rule, _conditions(rule))
                for rule in integration_selectors.mapping_rules_with_key_results(integration)
            ],
        }
        return self.render_page(context, status=status)

    def get(self, request: HttpRequest, org_slug: str, integration_id: int) -> HttpResponse:
        integration = self.integration()
        if self.wants_preview():
            form = self.rule_form(integration, data=request.GET)
            return render(request, "signals_ingest/_parts.html#rule-preview", self.preview(integration, form))
        return self.respond(integration, self.rule_form(integration))

    def post(self, request: HttpRequest, org_slug: str, integration_id: int) -> HttpResponse:
        integration = self.integration()
        form = self.rule_form(integration, data=request.POST)
        if not form.is_valid():
            return self.respond(integration, form, status=400)
        try:
            rule = services.mapping_rule_create(
                integration=integration, match=form.match(), key_result=form.cleaned_data["key_result"]
            )
        except ValidationError as error:
            _form_errors_from(form, error)
            return self.respond(integration, form, status=400)
        messages.success(
            request,
            f"Rule added: work matching {_describe(rule)} counts toward “{rule.key_result.title}”. The work"
            " already stored is being re-mapped now.",
        )
        return redirect(request.path)


def _conditions(rule: MappingRule) -> list[tuple[str, str]]:
    """A rule's conditions as the pages show them: Slack channels by name, the rest as typed."""
    channels = {channel["id"]: channel["name"] for channel in rule.integration.settings.get("channels", [])}
    return [
        (key, f"#{channels.get(value, value)}" if key == "channel" else value)
        for key, value in sorted(rule.match.items())
    ]


def _describe(rule: MappingRule) -> str:
    return " and ".join(f"{key} {value}" for key, value in _conditions(rule))


class MappingRuleEditView(RuleFormPage):
    template_name = "signals_ingest/rule_edit.html"

    def rule(self, integration: Integration) -> MappingRule:
        return get_object_or_404(
            MappingRule.objects.select_related("key_result", "integration"),
            pk=self.kwargs["rule_id"],
            integration=integration,
        )

    def get(self, request: HttpRequest, org_slug: str, integration_id: int, rule_id: int) -> HttpResponse:
        integration = self.integration()
        rule = self.rule(integration)
        if self.wants_preview():
            form = self.rule_form(integration, data=request.GET)
            return render(request, "signals_ingest/_parts.html#rule-preview", self.preview(integration, form))
        initial = {match_field_name(key): value for key, value in rule.match.items()}
        initial["key_result"] = str(rule.key_result_id)
        form = self.rule_form(integration, initial=initial)
        # The preview of the rule as it stands, before anything is changed.
        context = {**self.base_context(integration, form), "rule": rule}
        context.update(self.preview_of_match(integration, rule.match))
        return self.render_page(context)

    def preview_of_match(self, integration: Integration, match: dict[str, str]) -> dict[str, Any]:
        try:
            return {"preview": services.mapping_rule_preview(integration=integration, match=match)}
        except ValidationError as error:
            return {"preview": None, "preview_problem": " ".join(error.messages)}

    def post(self, request: HttpRequest, org_slug: str, integration_id: int, rule_id: int) -> HttpResponse:
        integration = self.integration()
        rule = self.rule(integration)
        form = self.rule_form(integration, data=request.POST)
        if form.is_valid():
            try:
                rule = services.mapping_rule_update(
                    rule=rule, match=form.match(), key_result=form.cleaned_data["key_result"]
                )
            except ValidationError as error:
                _form_errors_from(form, error)
            else:
                messages.success(
                    request,
                    f"Rule saved: work matching {_describe(rule)} counts toward “{rule.key_result.title}”."
                    " The work already stored is being re-mapped now.",
                )
                return redirect("integrations:rules", org_slug=org_slug, integration_id=integration.pk)
        context = {**self.base_context(integration, form), "rule": rule}
        return self.render_page(context, status=400)


class MappingRuleDeleteView(IntegrationPage):
    def post(self, request: HttpRequest, org_slug: str, integration_id: int, rule_id: int) -> HttpResponse:
        integration = self.integration()
        rule = get_object_or_404(
            MappingRule.objects.select_related("key_result", "integration"),
            pk=rule_id,
            integration=integration,
        )
        description, key_result = _describe(rule), rule.key_result.title
        services.mapping_rule_delete(rule=rule)
        messages.success(
            request,
            f"Rule deleted: work matching {description} no longer counts toward “{key_result}” (unless"
            " another rule maps it). The work already stored is being re-mapped now.",
        )
        return redirect("integrations:rules", org_slug=org_slug, integration_id=integration.pk)


# --- Identities -------------------------------------------------------------------------------------


class IdentitiesView(IntegrationPage):
    """Every vendor account and who it is. Unmatched accounts come first; none is ever dropped."""

    template_name = "signals_ingest/identities.html"

    def get(self, request: HttpRequest, org_slug: str) -> HttpResponse:
        rows = list(integration_selectors.identity_rows())
        people = list(integration_selectors.people_to_match())
        return self.render_page(
            {
                "rows": rows,
                "people": people,
                "unmatched_count": sum(1 for row in rows if row.membership_id is None),
                "email_matchable": sum(
                    1 for row in rows if row.membership_id is None and row.email and row.matched_by == "none"
                ),
            }
        )


class IdentityAssignView(IntegrationPage):
    """POST: say by hand who a vendor account is (htmx swaps the row; without it, the page reloads)."""

    template_name = "signals_ingest/_parts.html"

    def post(self, request: HttpRequest, org_slug: str, identity_id: int) -> HttpResponse:
        identity = get_object_or_404(integration_selectors.identity_rows(), pk=identity_id)
        people = list(integration_selectors.people_to_match())
        form = IdentityAssignForm(request.POST, people=people)
        error = ""
        if form.is_valid():
            identity = services.identity_assign(identity=identity, membership=form.cleaned_data["person"])
            identity = integration_selectors.identity_rows().get(pk=identity.pk)
            person = identity.membership.user.full_name if identity.membership else "nobody in OKRSignal"
            done = f"{identity.display_name or identity.external_id} is now {person}."
        else:
            error = " ".join(str(message) for message in form.errors.get("person", ["Choose a person."]))
            done = ""
        if self.is_htmx:
            return self.render_page(
                {"row": identity, "people": people, "row_error": error, "row_done": done},
                partial="identity-row",
            )
        if error:
            messages.error(request, error)
        else:
            messages.success(request, done)
        return redirect("integrations:identities", org_slug=org_slug)


class IdentitiesMatchByEmailView(IntegrationPage):
    def post(self, request: HttpRequest, org_slug: str) -> HttpResponse:
        matched = services.identity_match_by_email()
        if matched:
            messages.success(
                request,
                f"Matched {matched} account{'s' if matched != 1 else ''} to people by e-mail address.",
            )
        else:
            messages.info(
                request,
                "No account could be matched by e-mail: none carries the sign-in address of anyone here."
                " Match the rest by hand.",
            )
        return redirect("integrations:identities", org_slug=org_slug)


# --- What was collected about a person --------------------------------------------------------------


class PrivacyView(OrganizationViewMixin, View):
    """ "What OKRSignal collected about me": every member's own page; admins may open anyone's."""

    template_name = "signals_ingest/privacy.html"

    def person(self) -> Membership:
        membership_id = self.kwargs.get("membership_id")
        if membership_id is None or membership_id == self.membership.pk:
            return Membership.objects.select_related("user").get(pk=self.membership.pk)
        if not self.membership.is_admin:
            refuse()
        return get_object_or_404(Membership.objects.select_related("user"), pk=membership_id)

    def get(self, request: HttpRequest, org_slug: str, membership_id: int | None = None) -> HttpResponse:
        chosen = request.GET.get("person", "")
        if self.membership.is_admin and chosen.isdigit():
            return redirect("integrations:person_privacy", org_slug=org_slug, membership_id=int(chosen))
        person = self.person()
        collected = privacy.person_collected_data(membership=person)
        weeks = integration_selectors.person_signal_weeks(
            membership=person, time_zone=self.organization.time_zone
        )
        return render(
            request,
            self.template_name,
            {
                "person": person,
                "is_self": person.pk == self.membership.pk,
                "collected": collected,
                "weeks": weeks,
                "texts": collected.texts[:TEXTS_SHOWN],
                "texts_hidden": max(len(collected.texts) - TEXTS_SHOWN, 0),
                "people": integration_selectors.people_to_match() if self.membership.is_admin else [],
                "text_max_chars": settings.SIGNAL_TEXT_MAX_CHARS,
                "retention_days": settings.SIGNAL_TEXT_RETENTION_DAYS,
            },
        )


class PersonExportView(IntegrationPage):
    """GET: one person's collected data as a JSON download (admins only)."""

    def get(self, request: HttpRequest, org_slug: str, membership_id: int) -> HttpResponse:
        person = get_object_or_404(Membership.objects.select_related("user"), pk=membership_id)
        data = {
            "organization": self.organization.name,
            "exported_at": timezone.now().isoformat(),
            **privacy.person_export(membership=person),
        }
        logger.info(
            "Collected data of membership %s exported by membership %s", person.pk, self.membership.pk
        )
        response = JsonResponse(data, json_dumps_params={"indent": 2, "ensure_ascii": False})
        name = slugify(person.user.full_name) or f"person-{person.pk}"
        response["Content-Disposition"] = f'attachment; filename="okrsignal-collected-data-{name}.json"'
        response["Cache-Control"] = "no-store"
        return response


class PersonEraseView(IntegrationPage):
    """GET: what erasing removes and what stays. POST: erase (admins only; asks for a tick first)."""

    template_name = "signals_ingest/erase.html"

    def person(self) -> Membership:
        return get_object_or_404(Membership.objects.select_related("user"), pk=self.kwargs["membership_id"])

    def respond(self, person: Membership, form: Form, *, status: int = 200) -> HttpResponse:
        collected = privacy.person_collected_data(membership=person)
        return self.render_page(
            {
                "person": person,
                "collected": collected,
                "text_count": len(collected.texts),
                "is_self": person.pk == self.membership.pk,
                "form": form,
            },
            status=status,
        )

    def get(self, request: HttpRequest, org_slug: str, membership_id: int) -> HttpResponse:
        return self.respond(self.person(), EraseConfirmationForm())

    def post(self, request: HttpRequest, org_slug: str, membership_id: int) -> HttpResponse:
        person = self.person()
        form = EraseConfirmationForm(request.POST)
        if not form.is_valid():
            return self.respond(person, form, status=400)
        summary = privacy.person_erase(membership=person)
        logger.info("Collected data of membership %s erased by membership %s", person.pk, self.membership.pk)
        messages.success(
            request,
            f"Erased what was collected about {person.user.full_name}: {summary.identities_deleted} vendor"
            f" account{'s' if summary.identities_deleted != 1 else ''} and {summary.texts_erased} stored"
            f" text{'s' if summary.texts_erased != 1 else ''} are gone. {summary.signals_anonymised}"
            f" signal{'s' if summary.signals_anonymised != 1 else ''} stay without a name, so the counts per"
            " key result and week are unchanged.",
        )
        return redirect("integrations:person_privacy", org_slug=org_slug, membership_id=person.pk)
