from django.contrib import admin

from sinergi.core import access

from .models import Region, RegionEdition


@admin.register(Region)
class RegionAdmin(admin.ModelAdmin):
    """Read-only: regions change only by loading an edition."""

    list_display = ["code", "name", "kind", "level", "retired_in"]
    list_filter = ["level", "kind"]
    search_fields = ["code", "name"]
    show_full_result_count = False

    def get_queryset(self, request):
        return super().get_queryset(request).filter(access.visible_region_q(request.user))

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(RegionEdition)
class RegionEditionAdmin(admin.ModelAdmin):
    list_display = ["name", "source", "loaded_at", "total", "added", "renamed", "retired"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
