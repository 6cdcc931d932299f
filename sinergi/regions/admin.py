from django.contrib import admin
from django.core.paginator import Paginator
from django.utils.functional import cached_property

from sinergi.accounts import access
from sinergi.core.admin_audit import is_autocomplete

from .models import Region, RegionEdition


class NoCountPaginator(Paginator):
    """Pages without COUNT(*): counts only as far as the row after this page.

    The admin's changelist asks for the total before it asks for a page; on
    90,000 regions that is a full count per click. Here the "count" is the
    rows before this page plus up to one page and one row more, so the admin
    shows the pages so far and a next page when there is one.
    """

    def __init__(self, object_list, per_page, orphans=0, allow_empty_first_page=True,
                 *, page_number: int = 1):
        super().__init__(object_list, per_page, 0, allow_empty_first_page)
        self.page_number = max(1, page_number)

    @cached_property
    def count(self) -> int:
        offset = (self.page_number - 1) * self.per_page
        window = self.object_list[offset: offset + self.per_page + 1]
        return offset + len(window.values_list("pk", flat=True))


class ReadOnly:
    """Regions and editions change only by loading a Kepmendagri edition
    (`sinergi regions load`), never by hand in the admin."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Region)
class RegionAdmin(ReadOnly, admin.ModelAdmin):
    """Read-only: regions change only by loading an edition."""

    list_display = ["code", "name", "kind", "level", "retired_in"]
    list_filter = ["level", "kind"]
    # Also what the autocomplete of a user's or an agency's region searches.
    search_fields = ["code", "name"]
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER
    list_per_page = 100
    # "Show all" would load every region of the scope in one page.
    list_max_show_all = 0

    def get_paginator(self, request, queryset, per_page, orphans=0,
                      allow_empty_first_page=True):
        try:
            page_number = int(request.GET.get("p", 1))
        except ValueError:
            page_number = 1
        return NoCountPaginator(queryset, per_page, orphans, allow_empty_first_page,
                                page_number=page_number)

    def get_queryset(self, request):
        return super().get_queryset(request).filter(access.visible_region_q(request.user))

    def get_search_results(self, request, queryset, search_term):
        qs, distinct = super().get_search_results(request, queryset, search_term)
        if is_autocomplete(request):
            # Choosing a region for an account or an agency: only current
            # regions inside the scope (not the ones above it, seen by name),
            # and for an agency only a government's (province, kabupaten/kota).
            qs = qs.filter(access.scope_q(request.user, "code"), retired_in="")
            if request.GET.get("model_name") == "agency":
                qs = qs.filter(level__lte=2)
        return qs, distinct


@admin.register(RegionEdition)
class RegionEditionAdmin(ReadOnly, admin.ModelAdmin):
    list_display = ["name", "source", "loaded_at", "total", "added", "renamed", "retired"]
