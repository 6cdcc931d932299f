from django.urls import path

from . import views

app_name = "programs"
urlpatterns = [
    path("", views.program_list, name="list"),
    path("new/", views.program_create, name="create"),
    path("rule-preview/", views.rule_preview, name="rule_preview"),
    path("<int:program_id>/", views.program_detail, name="detail"),
    path("<int:program_id>/edit/", views.program_edit, name="edit"),
    path("<int:program_id>/targets/", views.target_set, name="target_set"),
    path("<int:program_id>/enroll/", views.enroll, name="enroll"),
    path("<int:program_id>/import/", views.enrollment_import, name="import"),
    path("<int:program_id>/export.xlsx", views.enrollment_export, name="export"),
    path("enrollments/<int:enrollment_id>/status/", views.enrollment_status,
         name="enrollment_status"),
    path("persons/<int:person_id>/", views.person_benefits, name="person_benefits"),
    path("families/<int:household_id>/", views.household_benefits, name="household_benefits"),
]
