from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.utils.translation import gettext_lazy as _

from sinergi.core import access
from sinergi.core.admin_audit import AuditedAdminMixin
from sinergi.core.models import AuditLog

from .models import ApiToken, User


@admin.register(User)
class UserAdmin(AuditedAdminMixin, BaseUserAdmin):
    list_display = ["username", "first_name", "last_name", "role", "region", "agency",
                    "is_active"]
    list_filter = ["role", "is_active"]
    raw_id_fields = ["region", "agency"]
    fieldsets = (
        *BaseUserAdmin.fieldsets,
        (_("Sinergi scope"), {"fields": ("role", "region", "agency", "position")}),
    )
    add_fieldsets = (
        *BaseUserAdmin.add_fieldsets,
        (_("Sinergi scope"), {"fields": ("role", "region", "agency", "position")}),
    )

    def get_queryset(self, request):
        return super().get_queryset(request).filter(access.scope_q(request.user, "region__code"))


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ["name", "user", "prefix", "created_at", "last_used_at", "revoked_at"]
    readonly_fields = ["user", "name", "prefix", "digest", "created_at", "last_used_at"]

    def get_queryset(self, request):
        return super().get_queryset(request).filter(
            access.scope_q(request.user, "user__region__code")
        )

    def has_add_permission(self, request):
        return False


@admin.register(AuditLog)
class AuditLogAdmin(admin.ModelAdmin):
    """Read-only: the log is written by services only."""

    list_display = ["at", "actor_label", "action", "object_type", "object_repr", "region_code"]
    list_filter = ["action", "object_type"]
    search_fields = ["actor_label", "object_repr", "object_id", "region_code"]
    show_full_result_count = False

    def get_queryset(self, request):
        return super().get_queryset(request).filter(access.audit_visible_q(request.user))

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
