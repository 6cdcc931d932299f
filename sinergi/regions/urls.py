from django.urls import path

from . import views

app_name = "regions"
urlpatterns = [
    path("picker/", views.region_picker, name="region_picker"),
    path("go/", views.region_go, name="region_go"),
    path("<str:code>/", views.region_detail, name="region"),
]
