"""The goal pages, under ``/o/<org_slug>/goals/`` (namespace ``goals``)."""

from django.urls import path

from goals import cadence_views, checkin_views, cycle_views, views

app_name = "goals"

urlpatterns = [
    path("", views.CycleOverviewView.as_view(), name="overview"),
    path("cycles/new/", views.CycleCreateView.as_view(), name="cycle_create"),
    path("cycles/<int:cycle_id>/", views.CycleOverviewView.as_view(), name="cycle_overview"),
    path("cycles/<int:cycle_id>/close/", cycle_views.CycleClosePage.as_view(), name="cycle_close"),
    path(
        "cycles/<int:cycle_id>/carry-over/", cycle_views.CycleCarryOverPage.as_view(), name="cycle_carry_over"
    ),
    path("cycles/<int:cycle_id>/import/", cycle_views.CycleImportPage.as_view(), name="cycle_import"),
    path("cycles/<int:cycle_id>/export.csv", cycle_views.CycleExportView.as_view(), name="cycle_export"),
    path("import-template.csv", cycle_views.CsvTemplateView.as_view(), name="csv_template"),
    path("tree/", views.TreeView.as_view(), name="tree"),
    path("cycles/<int:cycle_id>/tree/", views.TreeView.as_view(), name="cycle_tree"),
    path(
        "cycles/<int:cycle_id>/objectives/new/",
        views.ObjectiveCreateView.as_view(),
        name="objective_create",
    ),
    path("objectives/<int:objective_id>/", views.ObjectiveDetailView.as_view(), name="objective_detail"),
    path("objectives/<int:objective_id>/edit/", views.ObjectiveEditView.as_view(), name="objective_edit"),
    path("objectives/<int:objective_id>/state/", views.ObjectiveStateView.as_view(), name="objective_state"),
    path(
        "objectives/<int:objective_id>/confirm-alignment/",
        views.ObjectiveConfirmAlignmentView.as_view(),
        name="objective_confirm_alignment",
    ),
    path(
        "objectives/<int:objective_id>/key-results/new/",
        views.KeyResultCreateView.as_view(),
        name="key_result_create",
    ),
    path("key-results/<int:key_result_id>/", views.KeyResultDetailView.as_view(), name="key_result_detail"),
    path("key-results/<int:key_result_id>/edit/", views.KeyResultEditView.as_view(), name="key_result_edit"),
    path(
        "key-results/<int:key_result_id>/progress/",
        views.KeyResultProgressView.as_view(),
        name="key_result_progress",
    ),
    path("mine/", views.MyGoalsView.as_view(), name="my_goals"),
    path("cycles/<int:cycle_id>/mine/", views.MyGoalsView.as_view(), name="cycle_my_goals"),
    path("kpis/", views.KPIBoardView.as_view(), name="kpi_board"),
    path("kpis/new/", views.KPICreateView.as_view(), name="kpi_create"),
    path("kpis/<int:kpi_id>/", views.KPIDetailView.as_view(), name="kpi_detail"),
    path("kpis/<int:kpi_id>/edit/", views.KPIEditView.as_view(), name="kpi_edit"),
    path("kpis/<int:kpi_id>/readings/new/", views.KPIReadingView.as_view(), name="kpi_reading"),
    path("teams/<int:team_id>/alignment/", views.TeamAlignmentView.as_view(), name="team_alignment"),
    # Weekly check-ins
    path("check-in/", checkin_views.MyCheckInView.as_view(), name="check_in"),
    path(
        "check-in/key-results/",
        checkin_views.CheckInKeyResultSearchView.as_view(),
        name="check_in_key_results",
    ),
    path("check-ins/team/", checkin_views.TeamCheckInsView.as_view(), name="team_check_ins"),
    path("check-ins/<int:check_in_id>/", checkin_views.CheckInDetailView.as_view(), name="check_in_detail"),
    path(
        "check-ins/<int:check_in_id>/reply/", checkin_views.CheckInReplyView.as_view(), name="check_in_reply"
    ),
    path(
        "check-ins/<int:check_in_id>/discussed/",
        checkin_views.CheckInDiscussedView.as_view(),
        name="check_in_discussed",
    ),
    path(
        "check-ins/people/<int:membership_id>/agenda/",
        checkin_views.OneOnOneAgendaView.as_view(),
        name="one_on_one_agenda",
    ),
    # Cadence and pulse
    path("cadence/", cadence_views.CadenceReportView.as_view(), name="cadence_report"),
    path("cadence/schedule/", cadence_views.CheckInScheduleView.as_view(), name="check_in_schedule"),
    path("cadence/remediation/", cadence_views.RemediationPlanView.as_view(), name="remediation_plan"),
]
