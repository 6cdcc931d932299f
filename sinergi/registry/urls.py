from django.urls import path

from . import views

app_name = "registry"
urlpatterns = [
    path("", views.search, name="search"),
    path("export.xlsx", views.export, name="export"),
    path("exports/<int:job_id>/", views.export_job, name="export_job"),
    path("exports/<int:job_id>/penduduk.xlsx", views.export_file, name="export_file"),
    path("persons/<int:person_id>/", views.person_detail, name="person"),
    path("persons/<int:person_id>/reveal/", views.person_reveal, name="reveal"),
    path("persons/<int:person_id>/event/", views.person_event, name="person_event"),
    path("families/<int:household_id>/", views.household_detail, name="household"),
    path("families/<int:household_id>/event/", views.household_event,
         name="household_event"),
]
