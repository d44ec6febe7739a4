"""Webhook URLs, one per integration: the token names the integration (and so the organisation).

They carry no organisation in the path and no session: a call is authenticated by the unguessable token
and the vendor's signature (``signals_ingest.webhooks``).
"""

from django.urls import path

from signals_ingest import webhooks

urlpatterns = [
    path("jira/<str:webhook_token>/", webhooks.jira_webhook, name="webhook_jira"),
    path("slack/<str:webhook_token>/", webhooks.slack_webhook, name="webhook_slack"),
    path("hubspot/<str:webhook_token>/", webhooks.hubspot_webhook, name="webhook_hubspot"),
]
