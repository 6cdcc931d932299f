from django.urls import path

from . import views

app_name = "indicators"
urlpatterns = [
    path("", views.catalogue, name="catalogue"),
    path("indikator.xlsx", views.catalogue, {"as_xlsx": True}, name="catalogue_export"),
    path("new/", views.create, name="create"),
    path("facts/", views.facts, name="facts"),
    path("facts/import/", views.facts_import, name="facts_import"),
    path("quality/", views.quality_list, name="quality"),
    path("quality/export.xlsx", views.quality_list, {"as_xlsx": True}, name="quality_export"),
    path("region/<str:code>/", views.region_panel, name="region"),
    path("region/<str:code>/export.xlsx", views.region_panel, {"as_xlsx": True},
         name="region_export"),
    path("<str:code>/", views.detail, name="detail"),
    path("<str:code>/table.xlsx", views.detail, {"as_xlsx": True}, name="detail_export"),
    path("<str:code>/edit/", views.edit, name="edit"),
    path("<str:code>/values/", views.enter, name="enter"),
    path("<str:code>/import/", views.values_import, name="import"),
    path("<str:code>/export/", views.export_bps, name="export"),
    path("<str:code>/targets/", views.targets, name="targets"),
    path("<str:code>/verify/", views.verify, name="verify"),
]
