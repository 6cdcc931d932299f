from django.urls import path

from . import views

app_name = "monitoring"
urlpatterns = [
    path("", views.index, name="index"),
    path("rounds/new/", views.round_create, name="round_create"),
    path("rounds/<int:pk>/", views.round_detail, name="round"),
    path("rounds/<int:pk>/status/", views.round_status, name="round_status"),
    path("rounds/<int:pk>/village/<str:code>/", views.village_entry, name="village"),
    path("rounds/<int:pk>/family/<int:household_id>/", views.family_record, name="family"),
    path("rounds/<int:pk>/group/<int:group_id>/", views.group_record, name="group"),
    path("rounds/<int:pk>/import/", views.round_import, name="import"),
    path("rounds/<int:pk>/template.xlsx", views.round_template, name="template"),
    path("rounds/<int:pk>/export.xlsx", views.round_export, name="round_export"),
    path("families/<int:household_id>/", views.family_incomes, name="family_incomes"),
    path("impact/", views.impact, name="impact"),
    path("impact/inputs.xlsx", views.impact_inputs, name="impact_export"),
    path("panel/", views.panel, name="panel"),
    path("business/", views.business, name="business"),
]
