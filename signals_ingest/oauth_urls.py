"""Where HubSpot and Atlassian send the browser back after an admin's consent: one fixed address per vendor
(the redirect URL registered with OKRSignal's app for it), which forwards to the page of the organisation
the connection was started for (``signals_ingest.oauth``).
"""

from django.urls import path

from signals_ingest import views
from signals_ingest.models import Provider

urlpatterns = [
    path(
        f"{provider}/callback/",
        views.OAuthCallbackView.as_view(provider=provider),
        name=f"oauth_{provider}_callback",
    )
    for provider in (Provider.HUBSPOT, Provider.JIRA)
]
