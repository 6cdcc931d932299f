"""Django admin for agencies, scoped: an administrator changes the agencies of
governments inside their subtree and cannot move one outside it."""

from django.contrib import admin

from sinergi.accounts import access
from sinergi.core.admin_audit import AuditedAdminMixin, is_autocomplete
from sinergi.core.errors import SinergiError
from sinergi.regions import codes
from sinergi.regions.models import Region

from .models import Agency
from .services import agency_level_for


class ScopedAgencyFormMixin:
    """The same rules as services.agency_create, on the admin form."""

    actor = None  # set per request by AgencyAdmin.get_form

    def clean(self):
        cleaned = super().clean()
        region = cleaned.get("region")
        if region is None:
            return cleaned
        try:
            if region.pk != self.instance.region_id:
                problem = codes.region_code_problem(region.code, levels=(1, 2))
                if problem:
                    raise SinergiError(problem, field="region")
            access.check_agency_write(self.actor, region.code)
            agency_level_for(region)
        except SinergiError as exc:
            self.add_error("region", exc.message)
        return cleaned


@admin.register(Agency)
class AgencyAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = ["short_name", "name", "region", "level", "sector", "is_active"]
    list_filter = ["level", "sector", "is_active"]
    search_fields = ["name", "short_name", "region__code"]
    # Autocomplete limited to the scope (formfield_for_foreignkey and the
    # Region admin's search), instead of a raw id that accepted any region.
    autocomplete_fields = ["region"]
    # The level follows from the region's kind (set on save).
    readonly_fields = ["level"]

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        if is_autocomplete(request):
            # Choosing an officer's agency: any agency the administrator may
            # see (their subtree's and the governments above it).
            return qs.filter(access.visible_region_q(request.user, "region__code"))
        return qs.filter(access.scope_q(request.user, "region__code"))

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "region":
            kwargs["queryset"] = Region.objects.filter(
                access.scope_q(request.user, "code"), level__lte=2
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        return type(form.__name__, (ScopedAgencyFormMixin, form), {"actor": request.user})

    def save_model(self, request, obj, form, change):
        obj.level = agency_level_for(obj.region)
        super().save_model(request, obj, form, change)
