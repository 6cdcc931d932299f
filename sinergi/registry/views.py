"""Registry pages: search, person, family, NIK reveal, Excel export."""

import datetime

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse
from django.shortcuts import redirect, render
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from sinergi.accounts import access
from sinergi.core.errors import AccessDenied, SinergiError
from sinergi.core.exports import XLSX_CONTENT_TYPE, xlsx_response
from sinergi.core.timelimit import time_limit

from . import codes, selectors, services
from .models import EXPORT_DONE, KKNumberHistory, Membership


@login_required
@require_GET
def search(request):
    q = request.GET.get("q", "").strip()
    region = request.GET.get("region", "").strip()
    error, page, context_count = None, None, {}
    access.check_capability(request.user, "registry.view")
    if q or region or request.GET.get("cursor"):
        try:
            page = selectors.person_search(user=request.user, q=q, region=region or None,
                                           cursor=request.GET.get("cursor"))
            found, more = selectors.found_count(user=request.user, q=q, region=region or None)
            context_count = {"found": found, "found_more": more}
        except SinergiError as exc:
            error = exc.message
    context = {"q": q, "region": region, "page": page, "error": error,
               "mask": selectors.mask_nik,
               "can_export": access.user_can(request.user, "person.export"), **context_count}
    template = "registry/_results.html" if request.htmx else "registry/search.html"
    return render(request, template, context, status=400 if error else 200)


@login_required
@require_GET
def person_detail(request, person_id: int):
    person = selectors.access_person(request.user, person_id)
    memberships = (Membership.objects.filter(person=person).select_related("household")
                   .order_by("-end_date", "-id")[:50])
    return render(request, "registry/person.html", {
        "person": person, "memberships": memberships, "shdk": codes.SHDK,
        "masked": selectors.mask_nik(person.nik),
        "can_reveal": access.user_can(request.user, "person.reveal"),
        "can_edit": access.user_can(request.user, "person.reveal"),
        "statuses": [(k, v) for k, v in codes.LIFE_STATUS.items() if k != codes.ALIVE],
    })


@login_required
@require_POST
def person_reveal(request, person_id: int):
    """Show one full NIK; who looked, and when, goes to the audit log."""
    person = selectors.access_person(request.user, person_id)
    nik = services.person_nik_reveal(actor=request.user, person=person)
    return render(request, "registry/_nik.html", {"nik": nik})


@login_required
@require_GET
def household_detail(request, household_id: int):
    household = selectors.access_household(request.user, household_id)
    return render(request, "registry/household.html", {
        "household": household,
        "members": selectors.household_members(household),
        "history": KKNumberHistory.objects.filter(household=household).order_by("id")[:50],
        "past": Membership.objects.filter(household=household)
        .select_related("person").order_by("-end_date")[:50],
        "mask": selectors.mask_nik,
        "shdk": codes.SHDK,
        "can_edit": access.user_can(request.user, "person.reveal"),
    })


@login_required
@require_GET
@time_limit("EXPORT_TIME_LIMIT")
def export(request):
    """The persons of a region as Excel (full NIK), audited, bounded: those
    the search page finds for its region and query."""
    try:
        export = services.persons_export(
            actor=request.user, region=request.GET.get("region"), q=request.GET.get("q"),
            language=get_language() or settings.LANGUAGE_CODE)
    except AccessDenied:
        raise  # the 403 page says why
    except SinergiError as exc:
        return render(request, "400.html", {"message": exc.message}, status=400)
    if export.job is not None:  # a large one: written in the background
        return redirect("registry:export_job", job_id=export.job.pk)
    return xlsx_response(f"penduduk-{export.region}.xlsx", services.export_header(),
                         export.rows, text_columns=services.EXPORT_TEXT_COLUMNS)


@login_required
@require_GET
def export_job(request, job_id: int):
    """A large export being written: its progress, then its download."""
    job = selectors.access_export_job(request.user, job_id)
    template = "registry/_export_job.html" if request.htmx else "registry/export_job.html"
    return render(request, template, {"job": job})


@login_required
@require_GET
def export_file(request, job_id: int):
    job = selectors.access_export_job(request.user, job_id)
    if job.status != EXPORT_DONE or not job.file:
        return redirect("registry:export_job", job_id=job.pk)
    return FileResponse(job.file.open("rb"), as_attachment=True,
                        filename=f"penduduk-{job.region_code}.xlsx",
                        content_type=XLSX_CONTENT_TYPE)


def _date(value: str):
    try:
        return datetime.date.fromisoformat(value)
    except (TypeError, ValueError):
        raise SinergiError(_("Give the date as YYYY-MM-DD, e.g. 2026-01-31."),
                           field="date") from None


@login_required
@require_POST
def person_event(request, person_id: int):
    """Record a death, a move out, or a move to another family."""
    person = selectors.access_person(request.user, person_id)
    access.check_capability(request.user, "person.reveal")
    kind = request.POST.get("kind", "")
    try:
        if kind == "move":
            kk = "".join(ch for ch in request.POST.get("kk_number", "") if ch.isdigit())
            target = selectors.households_visible(request.user).filter(kk_number=kk).first()
            if target is None:
                raise SinergiError(_("No family with KK number %(kk)s in your region; check "
                                     "the 16 digits.") % {"kk": kk}, field="kk_number")
            shdk = int(request.POST.get("shdk") or 0)
            services.person_move(actor=request.user, person=person, household=target,
                                 shdk=shdk)
        else:
            status = int(request.POST.get("status") or 0)
            services.person_record_status(actor=request.user, person=person, status=status,
                                          on_date=_date(request.POST.get("date", "")))
    except (SinergiError, ValueError) as exc:
        messages.error(request, getattr(exc, "message", _("Check the values entered.")))
    else:
        messages.success(request, _("Saved; the family history keeps the change."))
    return redirect("registry:person", person_id=person.id)


@login_required
@require_POST
def household_event(request, household_id: int):
    """Pecah KK (split) or a new KK number for the whole family."""
    household = selectors.access_household(request.user, household_id)
    access.check_capability(request.user, "person.reveal")
    kk = "".join(ch for ch in request.POST.get("kk_number", "") if ch.isdigit())
    try:
        if request.POST.get("kind") == "split":
            ids = [int(x) for x in request.POST.getlist("members") if x.isdigit()]
            head = int(request.POST.get("head") or 0)
            new = services.household_split(actor=request.user, household=household,
                                           person_ids=ids, new_kk_number=kk, head_id=head)
            messages.success(request, _("The new family has been created."))
            return redirect("registry:household", household_id=new.id)
        services.household_change_kk(actor=request.user, household=household,
                                     new_kk_number=kk,
                                     reason=request.POST.get("reason", "")[:60])
        messages.success(request, _("The KK number has been changed; the old one is kept."))
    except SinergiError as exc:
        messages.error(request, exc.message)
    return redirect("registry:household", household_id=household.id)
