from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView
from rest_framework.routers import SimpleRouter

from alignment import views as alignment_views
from goals import api as goals_api
from goals import checkin_api
from okrsignal import api, notification_views, operations, views

api_router = SimpleRouter()
api_router.register("members", api.MembershipViewSet, basename="api-member")
api_router.register("teams", api.TeamViewSet, basename="api-team")
api_router.register("cycles", goals_api.CycleViewSet, basename="api-cycle")
api_router.register("objectives", goals_api.ObjectiveViewSet, basename="api-objective")
api_router.register("key-results", goals_api.KeyResultViewSet, basename="api-key-result")
api_router.register("initiatives", goals_api.InitiativeViewSet, basename="api-initiative")
api_router.register("kpis", goals_api.KPIViewSet, basename="api-kpi")
api_router.register("kpi-readings", goals_api.KPIReadingViewSet, basename="api-kpi-reading")
api_router.register("check-ins", checkin_api.CheckInViewSet, basename="api-check-in")
api_router.register("pulse-answers", checkin_api.PulseAnswerViewSet, basename="api-pulse-answer")

getting_in = [
    path("", views.home, name="home"),
    path("orgs/", views.OrganizationSwitcherView.as_view(), name="organization_switcher"),
    path("signup/", views.SignupView.as_view(), name="signup"),
    path("accounts/login/", views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/password-reset/", auth_views.PasswordResetView.as_view(), name="password_reset"),
    path(
        "accounts/password-reset/sent/",
        auth_views.PasswordResetDoneView.as_view(),
        name="password_reset_done",
    ),
    path(
        "accounts/reset/<uidb64>/<token>/",
        views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "accounts/reset/done/", auth_views.PasswordResetCompleteView.as_view(), name="password_reset_complete"
    ),
]

organization_pages = [
    path("", alignment_views.LeaderDashboardView.as_view(), name="organization_home"),
    path("join/<str:token>/", views.InvitationAcceptView.as_view(), name="invitation_accept"),
    path("people/", views.PeopleView.as_view(), name="people"),
    path("people/invite/", views.InviteView.as_view(), name="invite"),
    path("people/<int:membership_id>/", views.MembershipDetailView.as_view(), name="membership_detail"),
    path("people/<int:membership_id>/edit/", views.MembershipEditView.as_view(), name="membership_edit"),
    path(
        "people/<int:membership_id>/deactivate/",
        views.MembershipActivationView.as_view(activate=False),
        name="membership_deactivate",
    ),
    path(
        "people/<int:membership_id>/reactivate/",
        views.MembershipActivationView.as_view(activate=True),
        name="membership_reactivate",
    ),
    path(
        "invitations/<int:invitation_id>/revoke/",
        views.InvitationRevokeView.as_view(),
        name="invitation_revoke",
    ),
    path("my-team/", views.MyTeamView.as_view(), name="my_team"),
    path("teams/", views.TeamsView.as_view(), name="teams"),
    path("teams/new/", views.TeamFormView.as_view(), name="team_create"),
    path("teams/<int:team_id>/", views.TeamFormView.as_view(), name="team_edit"),
    path("notifications/", notification_views.NotificationsView.as_view(), name="notifications"),
    path(
        "notifications/<int:notification_id>/read/",
        notification_views.NotificationReadView.as_view(),
        name="notification_read",
    ),
    path("settings/api-tokens/", views.ApiTokensView.as_view(), name="api_tokens"),
    path(
        "settings/api-tokens/<int:api_token_id>/revoke/",
        views.ApiTokenRevokeView.as_view(),
        name="api_token_revoke",
    ),
]

urlpatterns = [
    *getting_in,
    path("o/<slug:org_slug>/", include(organization_pages)),
    path("o/<slug:org_slug>/goals/", include("goals.urls")),
    path("o/<slug:org_slug>/drift/", include("alignment.urls")),
    path("o/<slug:org_slug>/integrations/", include("signals_ingest.urls")),
    path("api/v1/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/v1/docs/", api.ApiDocsView.as_view(), name="api-docs"),
    path("api/v1/o/<slug:org_slug>/", include(api_router.urls)),
    path("webhooks/", include("signals_ingest.webhook_urls")),
    path("oauth/", include("signals_ingest.oauth_urls")),
    path("healthz", operations.healthz, name="healthz"),
    path("readyz", operations.readyz, name="readyz"),
]
