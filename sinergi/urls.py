from django.contrib import admin
from django.urls import include, path

from .accounts import urls as accounts_urls
from .api import api

admin.site.site_header = "Sinergi"
admin.site.site_title = "Sinergi"

urlpatterns = [
    path("", include("sinergi.dashboards.urls")),
    path("", include("sinergi.core.urls")),
    path("regions/", include("sinergi.regions.urls")),
    path("audit/", include(accounts_urls.audit_patterns)),
    path("accounts/", include("sinergi.accounts.urls")),
    path("agencies/", include("sinergi.agencies.urls")),
    path("registry/", include("sinergi.registry.urls")),
    path("imports/", include("sinergi.imports.urls")),
    path("meetings/", include("sinergi.meetings.urls")),
    path("programs/", include("sinergi.programs.urls")),
    path("groups/", include("sinergi.groups.urls")),
    path("convergence/", include("sinergi.convergence.urls")),
    path("indicators/", include("sinergi.indicators.urls")),
    path("monitoring/", include("sinergi.monitoring.urls")),

    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("api/", api.urls),
]
