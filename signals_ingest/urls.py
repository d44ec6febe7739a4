"""The integration pages, under ``/o/<org_slug>/integrations/`` (namespace ``integrations``).

The connection forms have one fixed address per tool (``jira/``, ``slack/``, ``hubspot/``) rather than a
``<provider>`` parameter: which tools exist is not tenant data. Everything about a connected tool goes by
its integration's id, so another organisation's id is a 404.
"""

from django.urls import path

from signals_ingest import views
from signals_ingest.models import Provider

app_name = "integrations"

urlpatterns = [
    path("", views.IntegrationsOverviewView.as_view(), name="overview"),
    *[
        path(
            f"{provider}/",
            views.IntegrationConnectView.as_view(provider=provider),
            name=f"connect_{provider}",
        )
        for provider in Provider.values
    ],
    path("slack/installed/", views.SlackInstalledView.as_view(), name="slack_installed"),
    *[
        path(
            f"{provider}/connected/",
            views.OAuthConnectedView.as_view(provider=provider),
            name=f"{provider}_oauth_connected",
        )
        for provider in (Provider.HUBSPOT, Provider.JIRA)
    ],
    path("jira/site/", views.JiraSiteChoiceView.as_view(), name="jira_oauth_site"),
    path("<int:integration_id>/test/", views.IntegrationTestView.as_view(), name="test"),
    path("<int:integration_id>/sync/", views.IntegrationSyncView.as_view(), name="sync"),
    path("<int:integration_id>/disconnect/", views.IntegrationDisconnectView.as_view(), name="disconnect"),
    path(
        "<int:integration_id>/webhook-address/",
        views.WebhookTokenRotateView.as_view(),
        name="rotate_webhook_token",
    ),
    path("<int:slack_integration_id>/channels/", views.SlackChannelsView.as_view(), name="slack_channels"),
    path("<int:integration_id>/rules/", views.MappingRulesView.as_view(), name="rules"),
    path("<int:integration_id>/rules/<int:rule_id>/", views.MappingRuleEditView.as_view(), name="rule_edit"),
    path(
        "<int:integration_id>/rules/<int:rule_id>/delete/",
        views.MappingRuleDeleteView.as_view(),
        name="rule_delete",
    ),
    path("identities/", views.IdentitiesView.as_view(), name="identities"),
    path(
        "identities/match-by-email/",
        views.IdentitiesMatchByEmailView.as_view(),
        name="identities_match_by_email",
    ),
    path("identities/<int:identity_id>/", views.IdentityAssignView.as_view(), name="identity_assign"),
    path("privacy/", views.PrivacyView.as_view(), name="my_privacy"),
    path("privacy/<int:membership_id>/", views.PrivacyView.as_view(), name="person_privacy"),
    path("privacy/<int:membership_id>/export.json", views.PersonExportView.as_view(), name="person_export"),
    path("privacy/<int:membership_id>/erase/", views.PersonEraseView.as_view(), name="person_erase"),
]
