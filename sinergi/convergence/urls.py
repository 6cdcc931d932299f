from django.urls import path

from . import views

app_name = "convergence"
urlpatterns = [
    path("", views.coverage, name="coverage"),
    path("refresh/", views.refresh, name="refresh"),
    path("unserved/", views.unserved, name="unserved"),
    path("unserved.xlsx", views.unserved_export, name="unserved_export"),
    path("overlap/", views.overlap, name="overlap"),
    path("targets/", views.targets, name="targets"),
    path("villages/<str:code>/", views.village, name="village"),
]
