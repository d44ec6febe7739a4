"""The drift pages, under ``/o/<org_slug>/drift/`` (namespace ``alignment``). The leader dashboard itself is
the organisation's home page, ``/o/<org_slug>/`` (``okrsignal/urls.py``)."""

from django.urls import path

from alignment import review_views, views
from alignment.dashboard import OBJECTIVE

app_name = "alignment"

urlpatterns = [
    path("key-results/<int:key_result_id>/", views.GoalDriftView.as_view(), name="key_result_drift"),
    path(
        "objectives/<int:objective_id>/",
        views.GoalDriftView.as_view(subject=OBJECTIVE),
        name="objective_drift",
    ),
    path(
        "findings/<int:finding_id>/acknowledge/",
        views.FindingActionView.as_view(action="acknowledge"),
        name="finding_acknowledge",
    ),
    path(
        "findings/<int:finding_id>/resolve/",
        views.FindingActionView.as_view(action="resolve"),
        name="finding_resolve",
    ),
    # The review pages: each takes ``?cycle=<id>`` (default: the current cycle).
    path("cascade/", review_views.CascadeView.as_view(), name="cascade"),
    path("team/", review_views.TeamView.as_view(), name="team"),
    path("kpis/", review_views.KPIGuardrailsView.as_view(), name="kpi_guardrails"),
    path("review/", review_views.QuarterReviewView.as_view(), name="quarter_review"),
]
