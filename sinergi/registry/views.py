"""Registry pages: search, person, family, NIK reveal, Excel export."""

from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from sinergi.core import access
from sinergi.core.audit import audit_record
from sinergi.core.errors import SinergiError
from sinergi.core.exports import EXPORT_MAX_ROWS, xlsx_response
from sinergi.regions import codes as region_codes

from . import codes, selectors
from .models import KKNumberHistory, Membership


@login_required
@require_GET
def search(request):
    q = request.GET.get("q", "").strip()
    region = request.GET.get("region", "").strip()
    error, page = None, None
    access.check_capability(request.user, "registry.view")
    if q or region or request.GET.get("cursor"):
        try:
            page = selectors.person_search(user=request.user, q=q, region=region or None,
                                           cursor=request.GET.get("cursor"))
        except SinergiError as exc:
            error = exc.message
    context = {"q": q, "region": region, "page": page, "error": error,
               "mask": selectors.mask_nik,
               "can_export": access.user_can(request.user, "person.export")}
    template = "registry/_results.html" if request.htmx else "registry/search.html"
    return render(request, template, context, status=400 if error else 200)


@login_required
@require_GET
def person_detail(request, person_id: int):
    person = selectors.access_person(request.user, person_id)
    memberships = (Membership.objects.filter(person=person).select_related("household")
                   .order_by("-start_date", "-id")[:50])
    return render(request, "registry/person.html", {
        "person": person, "memberships": memberships, "shdk": codes.SHDK,
        "masked": selectors.mask_nik(person.nik),
        "can_reveal": access.user_can(request.user, "person.reveal"),
    })


@login_required
@require_POST
def person_reveal(request, person_id: int):
    """Show one full NIK; who looked, and when, goes to the audit log."""
    person = selectors.access_person(request.user, person_id)
    access.check_capability(request.user, "person.reveal")
    with transaction.atomic():
        audit_record(actor=request.user, action="person.reveal_nik", obj=person)
    return render(request, "registry/_nik.html", {"nik": person.nik})


@login_required
@require_GET
def household_detail(request, household_id: int):
    household = selectors.access_household(request.user, household_id)
    return render(request, "registry/household.html", {
        "household": household,
        "members": selectors.household_members(household),
        "history": KKNumberHistory.objects.filter(household=household).order_by("id")[:50],
        "past": Membership.objects.filter(household=household, end_date__isnull=False)
        .select_related("person").order_by("-end_date")[:50],
        "mask": selectors.mask_nik,
    })


@login_required
@require_GET
def export(request):
    """The persons of a region as Excel (full NIK), audited, bounded."""
    access.check_capability(request.user, "person.export")
    region = request.GET.get("region", "").strip() or access.scope_root(request.user) or ""
    if not region:
        return render(request, "400.html", {"message": _("Choose a region to export.")},
                      status=400)
    problem = region_codes.code_problem(region)
    if problem:
        return render(request, "400.html", {"message": problem}, status=400)
    access.access_region(request.user, region)
    if not access.in_scope(request.user, region):
        region = access.scope_root(request.user)
    qs = (selectors.persons_visible(request.user)
          .filter(region_codes.subtree_q("village_code", region))
          .select_related("household").order_by("village_code", "id"))
    count = qs.count()
    if count > EXPORT_MAX_ROWS:
        return render(request, "400.html", {"message": _(
            "%(n)d persons are too many for one file (at most %(max)d). Export a smaller "
            "region, e.g. one kecamatan.") % {"n": count, "max": EXPORT_MAX_ROWS}}, status=400)
    with transaction.atomic():
        audit_record(actor=request.user, action="person.export", object_type="registry.person",
                     object_repr=f"{count} persons of {region}", region_code=region,
                     after={"region": region, "rows": count})
    headers = [_("NIK"), _("KK number"), _("Name"), _("Sex"), _("Place of birth"),
               _("Date of birth"), _("SHDK"), _("Village code"), _("RT"), _("RW"),
               _("Desil"), _("Monthly income")]
    rows = ((p.nik, p.household.kk_number if p.household else None, p.name, p.sex,
             p.birth_place, p.birth_date, codes.SHDK.get(p.shdk, ""), p.village_code,
             p.household.rt if p.household else "", p.household.rw if p.household else "",
             p.household.desil if p.household else None, p.monthly_income)
            for p in qs.iterator(chunk_size=5000))
    return xlsx_response(f"penduduk-{region}.xlsx", headers, rows, text_columns={0, 1, 7})
