from django.urls import path

from . import views

app_name = "core"
urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("regions/picker/", views.region_picker, name="region_picker"),
    path("regions/go/", views.region_go, name="region_go"),
    path("regions/<str:code>/", views.region_detail, name="region"),
    path("audit/", views.audit_list, name="audit"),
]
