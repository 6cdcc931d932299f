from django.urls import path

from . import views

app_name = "meetings"
urlpatterns = [
    path("", views.meeting_list, name="list"),
    path("new/", views.meeting_create, name="create"),
    path("<int:meeting_id>/", views.meeting_detail, name="detail"),
    path("<int:meeting_id>/edit/", views.meeting_edit, name="edit"),
    path("<int:meeting_id>/participants/", views.participant_add, name="participant_add"),
    path("<int:meeting_id>/agenda/", views.agenda_add, name="agenda_add"),
    path("<int:meeting_id>/issues/", views.issue_add, name="issue_add"),
    path("<int:meeting_id>/attachments/", views.attachment_add, name="attachment_add"),
    path("<int:meeting_id>/attachments/<int:attachment_id>/", views.attachment_download,
         name="attachment"),
    path("<int:meeting_id>/remove/<str:kind>/<int:pk>/", views.part_remove, name="part_remove"),
    path("<int:meeting_id>/commitments/new/", views.commitment_create, name="commitment_create"),
    path("<int:meeting_id>/commitments/import/", views.commitment_import,
         name="commitment_import"),
    path("<int:meeting_id>/brief/", views.meeting_brief, name="meeting_brief"),
    path("commitments/", views.board, name="board"),
    path("commitments/export.xlsx", views.board_export, name="board_export"),
    path("commitments/template.xlsx", views.commitment_template, name="commitment_template"),
    path("commitments/<int:commitment_id>/", views.commitment_detail, name="commitment"),
    path("commitments/<int:commitment_id>/edit/", views.commitment_edit,
         name="commitment_edit"),
    path("commitments/<int:commitment_id>/progress/", views.progress_add, name="progress_add"),
    path("evidence/<int:evidence_id>/", views.evidence_download, name="evidence"),
    path("briefs/", views.brief_generate, name="brief_generate"),
    path("briefs/<int:job_id>/", views.brief_download, name="brief_download"),
    path("briefs/<int:job_id>/status/", views.brief_status, name="brief_status"),
    path("regions/<str:code>/brief/", views.region_brief, name="region_brief"),
]
