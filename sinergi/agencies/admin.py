from django.contrib import admin

from sinergi.core import access
from sinergi.core.admin_audit import AuditedAdminMixin

from .models import Agency


@admin.register(Agency)
class AgencyAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = ["short_name", "name", "region", "level", "sector", "is_active"]
    list_filter = ["level", "sector", "is_active"]
    search_fields = ["name", "short_name", "region__code"]
    raw_id_fields = ["region"]

    def get_queryset(self, request):
        return super().get_queryset(request).filter(access.scope_q(request.user, "region__code"))
