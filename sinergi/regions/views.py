"""Region pages: where a region sits, its children, its agencies; the picker."""

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET

from sinergi.accounts import access
from sinergi.agencies.models import Agency
from sinergi.core.errors import SinergiError
from sinergi.core.pagination import clamp_limit

from . import codes, selectors
from .models import Region

# Children of a region per page on the region page, unless ?limit= says otherwise.
REGION_CHILDREN_PAGE = 100


def _limit_param(request, *, default: int) -> int:
    """``?limit=`` as a page size within 1..PAGE_SIZE_MAX, or a 400 saying so."""
    raw = request.GET.get("limit", "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        value = 0  # clamp_limit says what is allowed
    return clamp_limit(value)


@login_required
@require_GET
def region_detail(request, code: str):
    """A region: where it sits, its children, its government's agencies."""
    region = access.access_region(request.user, code)
    try:
        limit = _limit_param(request, default=REGION_CHILDREN_PAGE)
        page = selectors.region_list(
            user=request.user,
            parent=region.code,
            cursor=request.GET.get("cursor"),
            limit=limit,
        )
    except SinergiError as exc:
        return render(request, "400.html", {"message": exc.message}, status=400)
    agencies = []
    if region.level <= 2:
        agencies = list(Agency.objects.filter(region=region).order_by("short_name")[:200])
    context = {
        "region": region,
        "limit_param": "" if limit == REGION_CHILDREN_PAGE else f"&limit={limit}",
        "crumbs": selectors.region_breadcrumbs(region.code),
        "page": page,
        "agencies": agencies,
        "can_edit_agencies": access.user_can(request.user, "agency.edit")
        and access.in_scope(request.user, region.code),
    }
    if request.htmx:
        return render(request, "regions/_region_children.html", context)
    return render(request, "regions/region_detail.html", context)


@login_required
@require_GET
def region_picker(request):
    """One level of the region picker: the children of ``parent`` as a select.

    The picker only offers regions in the user's scope; choosing one loads
    the next level with htmx.
    """
    parent = request.GET.get("parent") or None
    user = request.user
    if parent and codes.code_problem(parent):
        return HttpResponse("")
    if parent:
        region = access.access_region(user, parent)
        if region.level >= 4:
            return HttpResponse("")
        options = Region.objects.filter(
            access.scope_q(user, "code"), parent_id=parent, retired_in=""
        ).order_by("code")[:500]
    else:
        root = access.scope_root(user)
        options = (
            Region.objects.filter(level=1, retired_in="").order_by("code")
            if root is None
            else Region.objects.filter(code=root)
        )
    return render(request, "regions/_region_picker.html", {"options": options})


@login_required
@require_GET
def region_go(request):
    """Open the deepest region chosen in the picker (works without JavaScript too)."""
    chosen = [c for c in request.GET.getlist("parent") if c]
    if not chosen:
        return redirect("dashboards:home")
    region = access.access_region(request.user, max(chosen, key=len))
    return redirect("regions:region", code=region.code)


