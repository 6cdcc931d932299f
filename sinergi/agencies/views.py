"""Agency pages: list in scope, detail, create, edit, seed the default set."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from sinergi.accounts import access
from sinergi.core.errors import SinergiError
from sinergi.core.forms import form_page, saved

from . import selectors, services
from .forms import AgencyCreateForm, AgencyForm


@login_required
@require_GET
def agency_list(request):
    region = request.GET.get("region", "").strip() or None
    q = request.GET.get("q", "").strip() or None
    error = None
    try:
        page = selectors.agency_list(
            user=request.user, region=region, q=q, cursor=request.GET.get("cursor")
        )
    except SinergiError as exc:
        page, error = None, exc.message
    context = {
        "page": page,
        "region": region or "",
        "q": q or "",
        "error": error,
        "can_edit": access.user_can(request.user, "agency.edit"),
    }
    template = "agencies/_rows.html" if request.htmx else "agencies/list.html"
    return render(request, template, context, status=400 if error else 200)


@login_required
@require_GET
def agency_detail(request, agency_id: int):
    agency = access.access_agency(request.user, agency_id)
    can_edit = access.user_can(request.user, "agency.edit") and access.in_scope(
        request.user, agency.region_id
    )
    return render(request, "agencies/detail.html", {"agency": agency, "can_edit": can_edit})


@login_required
@require_http_methods(["GET", "POST"])
def agency_edit(request, agency_id: int):
    agency = access.access_agency(request.user, agency_id, for_write=True)
    form = AgencyForm(request.POST or None,
                      initial={f: getattr(agency, f) for f in services.EDITABLE_FIELDS})
    if saved(request, form, lambda data: services.agency_update(
            actor=request.user, agency=agency, **data), _("The agency has been saved.")):
        return redirect("agencies:detail", agency_id=agency.id)
    return form_page(request, "agencies/form.html", form, {"agency": agency})


@login_required
@require_http_methods(["GET", "POST"])
def agency_create(request):
    access.check_capability(request.user, "agency.edit")
    form = AgencyCreateForm(request.POST or None,
                            initial={"region": request.GET.get("region", "")})
    agency = saved(request, form, lambda data: services.agency_create(
        actor=request.user, region_code=data["region"].strip(), name=data["name"],
        short_name=data["short_name"], sector=data["sector"]), _("The agency has been added."))
    if agency:
        return redirect("agencies:detail", agency_id=agency.id)
    return form_page(request, "agencies/form.html", form, {"agency": None})


@login_required
@require_POST
def agency_seed(request):
    """Offer the default agency set to a government in the user's scope."""
    region = request.POST.get("region", "").strip()
    access.access_region(request.user, region)
    access.check_agency_write(request.user, region)
    try:
        created = services.agency_seed_defaults(actor=request.user, region_code=region)
    except SinergiError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request,
            ngettext("%(n)d default agency was added.", "%(n)d default agencies were added.",
                     len(created)) % {"n": len(created)},
        )
    return redirect("regions:region", code=region)
