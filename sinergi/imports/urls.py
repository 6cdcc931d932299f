from django.urls import path

from . import views

app_name = "imports"
urlpatterns = [
    path("", views.job_list, name="list"),
    path("template.xlsx", views.template_download, name="template"),
    path("<int:job_id>/", views.job_detail, name="detail"),
    path("<int:job_id>/report.xlsx", views.job_report, name="report"),
    path("<int:job_id>/apply/", views.job_apply, name="apply"),
    path("<int:job_id>/cancel/", views.job_cancel, name="cancel"),
]
