"""Program pages: lists, details, forms, enrollments, rule preview, export."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from sinergi.accounts import access
from sinergi.core.errors import AccessDenied, SinergiError
from sinergi.core.exports import xlsx_response
from sinergi.core.forms import applied, form_page, saved
from sinergi.core.timelimit import RequestTooHeavy, bounded, time_limit
from sinergi.registry import selectors as registry_selectors
from sinergi.registry.selectors import mask_nik

from . import eligibility, forms, selectors, services, transfer
from .models import SERVED, STATUS_CHOICES, TAG_CHOICES, TRANSITIONS, Program

LIST_MAX = selectors.LIST_MAX


@login_required
@require_GET
def program_list(request):
    tag = request.GET.get("tag", "")
    agency = request.GET.get("agency", "").strip()
    # Anything but an id (at most 18 digits, within the database's integers) is no filter.
    programs = selectors.program_list(
        request.user, tag=tag,
        agency=int(agency) if agency.isdigit() and len(agency) <= 18 else None)
    return render(request, "programs/list.html", {
        "programs": programs, "tags": TAG_CHOICES, "tag": tag, "agency": agency,
        "agencies": access.agency_choices(request.user),
        "can_edit": access.user_can(request.user, "program.edit")})


@login_required
@require_http_methods(["GET", "POST"])
def program_create(request):
    access.check_capability(request.user, "program.edit")
    initial = {"year_start": timezone.localdate().year, "is_active": True,
               "owner_agency": request.user.agency_id or ""}
    form = forms.ProgramForm(request.POST or None, user=request.user, initial=initial)
    program = saved(request, form, lambda data: services.program_create(
        actor=request.user, **data), _("The program has been saved."))
    if program:
        return redirect("programs:detail", program_id=program.pk)
    return form_page(request, "programs/form.html", form, {"program": None})


@login_required
@require_http_methods(["GET", "POST"])
def program_edit(request, program_id: int):
    program = selectors.access_program(request.user, program_id, for_write=True)
    initial = {f: getattr(program, f) for f in services.PROGRAM_FIELDS}
    initial["owner_agency"] = program.owner_agency_id
    form = forms.ProgramForm(request.POST or None, user=request.user, initial=initial)
    if saved(request, form, lambda data: services.program_update(
            actor=request.user, program=program, **data), _("The program has been saved.")):
        return redirect("programs:detail", program_id=program.pk)
    return form_page(request, "programs/form.html", form, {"program": program})


def _year_param(request, program: Program) -> int:
    raw = request.GET.get("year", "").strip()
    years = services.program_years(program)
    if raw.isdigit() and int(raw) in years:
        return int(raw)
    return min(max(timezone.localdate().year, years[0]), years[-1])


def _status_param(request) -> str | None:
    """The status the program page filters on (anything else: all statuses)."""
    status = request.GET.get("status", "").strip()
    return status if status in dict(STATUS_CHOICES) else None


@login_required
@require_GET
def program_detail(request, program_id: int):
    user = request.user
    program = selectors.access_program(user, program_id)
    year = _year_param(request, program)
    status = _status_param(request) or ""
    can_view_people = access.user_can(user, "registry.view")
    page = None
    if can_view_people:
        try:
            page = selectors.enrollment_list(
                user, program=program, year=year, cursor=request.GET.get("cursor"),
                status=status or None)
        except AccessDenied:
            raise  # refused (403), not shown as a message above the list
        except SinergiError as exc:
            messages.error(request, exc.message)
    scope = access.scope_root(user)
    served = selectors.enrollments_visible(user).filter(
        program=program, year=year, status__in=SERVED).count() if can_view_people else None
    can_edit = selectors.can_edit_program(user, program)
    context = {
        "program": program, "year": year, "years": services.program_years(program),
        "status": status, "statuses": STATUS_CHOICES, "page": page, "served": served,
        "targets": program.targets.filter(access.visible_region_q(user, "region__code"),
                                          year=year).select_related("region")
        .order_by("region_id")[:LIST_MAX],
        "can_edit": can_edit, "scope": scope or "",
        "can_export": access.user_can(user, "person.export"),
        "transitions": {k: sorted(v) for k, v in TRANSITIONS.items()},
        "mask": mask_nik,
        "key_header": {"person": "NIK", "household": "No KK"}.get(program.unit,
                                                                  "Kode kelompok"),
    }
    if can_edit:
        context.update(target_form=forms.TargetForm(initial={"year": year, "region": scope}),
                       enroll_form=forms.EnrollForm(initial={"year": year}))
    return render(request, "programs/detail.html", context)


@login_required
@require_GET
def rule_preview(request):
    """Eligible counts for a rule typed in the program form (htmx), in scope."""
    access.check_capability(request.user, "program.view")
    rule = request.GET.get("rule", "")
    unit = request.GET.get("unit", "person")
    region = request.GET.get("region", "").strip() or access.scope_root(request.user)
    context, status = {"rule": rule}, 400
    try:
        if unit not in {"person", "household", "group"}:
            raise SinergiError(_("Unknown beneficiary unit."), field="unit")
        if region:
            # Counts by village and sex are about people: only inside the own subtree.
            access.access_subtree(request.user, region)
        elif access.scope_root(request.user) is None:
            raise SinergiError(_("Give a region code to count in, e.g. 19.04."), field="region")
        with bounded():
            context["preview"] = eligibility.eligibility_preview(
                rule, unit, region=region, today=timezone.localdate())
        context["region"] = region
    except eligibility.RuleError as exc:
        context["error"], context["pointer"] = exc.message, exc.pointer()
    except SinergiError as exc:
        context["error"] = exc.message
    except RequestTooHeavy as exc:
        context["error"], status = exc.message, 503
    return render(request, "programs/_preview.html", context,
                  status=status if "error" in context else 200)


@login_required
@require_POST
def target_set(request, program_id: int):
    program = selectors.access_program(request.user, program_id, for_write=True)
    applied(request, forms.TargetForm(request.POST), lambda data: services.target_set(
        actor=request.user, program=program, region=data["region"], year=data["year"],
        count=data["count"], budget=data["budget"]), _("The target has been saved."))
    return redirect(f"/programs/{program.pk}/?year={request.POST.get('year', '')}")


@login_required
@require_POST
def enroll(request, program_id: int):
    program = selectors.access_program(request.user, program_id, for_write=True)
    applied(request, forms.EnrollForm(request.POST), lambda data: services.enrollment_create(
        actor=request.user, program=program, year=data["year"],
        beneficiary=services.find_beneficiary(request.user, program, data["beneficiary"]),
        status=data["status"], benefit_value=data["benefit_value"],
        allow_ineligible=data["allow_ineligible"]), _("Enrolled."))
    return redirect(f"/programs/{program.pk}/?year={request.POST.get('year', '')}")


@login_required
@require_POST
def enrollment_status(request, enrollment_id: int):
    enrollment = selectors.access_enrollment(request.user, enrollment_id, for_write=True)
    try:
        services.enrollment_transition(actor=request.user, enrollment=enrollment,
                                       status=request.POST.get("status", ""),
                                       reason=request.POST.get("reason", ""))
    except SinergiError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("The status has been changed."))
    return redirect(f"/programs/{enrollment.program_id}/?year={enrollment.year}")


@login_required
@require_GET
@time_limit("EXPORT_TIME_LIMIT")
def enrollment_export(request, program_id: int):
    """The program's beneficiaries in the user's scope for a year, under the
    program page's status filter (personal data: audited)."""
    access.check_capability(request.user, "person.export")
    program = selectors.access_program(request.user, program_id)
    export = services.enrollments_export(actor=request.user, program=program,
                                         year=_year_param(request, program),
                                         status=_status_param(request))
    return xlsx_response(export.file_name, export.header, export.rows,
                         text_columns=export.text_columns)


@login_required
@require_POST
def enrollment_import(request, program_id: int):
    """Match an uploaded beneficiary list and enroll what matches; show every row's outcome."""
    program = selectors.access_program(request.user, program_id, for_write=True)
    upload = request.FILES.get("file")
    if upload is None:
        messages.error(request, _("Choose a CSV or Excel file of beneficiaries first."))
        return redirect("programs:detail", program_id=program.pk)
    try:
        report = transfer.enrollment_import(
            actor=request.user, program=program, year=request.POST.get("year"), upload=upload,
            status=request.POST.get("status") or "proposed",
            allow_ineligible=request.POST.get("allow_ineligible") == "on")
    except SinergiError as exc:
        messages.error(request, exc.message)
        return redirect("programs:detail", program_id=program.pk)
    labels = transfer.outcome_labels()
    return render(request, "programs/import_result.html", {
        "program": program, "report": report,
        "counts": [(labels[k], n) for k, n in report.counts.items()],
        "problems": [(line, key, labels[outcome], message)
                     for line, key, outcome, message in report.problems[:2000]],
        "more": max(0, len(report.problems) - 2000)})


@login_required
@require_GET
def person_benefits(request, person_id: int):
    """The programs and groups of a person, for the person's registry page."""
    person = registry_selectors.access_person(request.user, person_id)
    # The family's own programs reach the person too (PKH for the family).
    return _benefits(request, persons=[person], household=person.household)


@login_required
@require_GET
def household_benefits(request, household_id: int):
    """The programs and groups of a family and its members, for its page."""
    household = registry_selectors.access_household(request.user, household_id)
    return _benefits(request, persons=registry_selectors.household_members(household),
                     household=household)


def _benefits(request, *, persons, household):
    if not access.user_can(request.user, "program.view"):
        return render(request, "programs/_benefits.html", {"hidden": True})
    return render(request, "programs/_benefits.html", {
        **selectors.benefits_of(request.user, persons=persons, household=household),
        "family": household is not None, "alone": len(persons) == 1, "served": SERVED})
