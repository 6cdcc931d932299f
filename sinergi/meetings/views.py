"""Meeting pages: list and calendar, meeting page with agenda, attendance,
issues and commitments; the commitment board; progress updates; briefs."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from sinergi.accounts import access
from sinergi.core.errors import NotInScope, SinergiError
from sinergi.core.forms import applied, errors_text, form_page, labelled, saved
from sinergi.core.timelimit import time_limit

from . import briefs, forms, progress, selectors, services, sheet, transfer
from .models import (
    BRIEF_DONE,
    KIND_CHOICES,
    STATUS_CHOICES,
    Attachment,
    Evidence,
    ProgressUpdate,
)

LIST_MAX = 100


def _on_page(form, save):
    """``save`` for a page: a region code outside the user's scope makes the
    services answer 404 (right for the API); on a page the user keeps the
    form and reads why, on the region field. Any other 404 stays one."""
    def run(data):
        try:
            return save(data)
        except NotInScope as exc:
            code = data.get("region") if "region" in form.fields else None
            if not code:
                raise
            raise SinergiError(_("Region %(code)s is not in your scope or does not exist.")
                               % {"code": code}, field="region") from exc
    return run


@login_required
@require_GET
def meeting_list(request):
    kind = request.GET.get("kind", "").strip()
    year = request.GET.get("year", "").strip()
    error, meetings = None, []
    try:
        meetings = selectors.meeting_list(request.user, kind=kind, year=year, limit=LIST_MAX)
    except SinergiError as exc:  # a bad filter: say which, keep the form as typed
        error = exc.message
    context = {
        "meetings": meetings, "error": error,
        "upcoming": selectors.upcoming(request.user),
        "kinds": KIND_CHOICES, "kind": kind, "year": year, "limit": LIST_MAX,
        "can_manage": access.user_can(request.user, "meeting.manage"),
    }
    return render(request, "meetings/list.html", context, status=400 if error else 200)


@login_required
@require_http_methods(["GET", "POST"])
def meeting_create(request):
    access.check_capability(request.user, "meeting.manage")
    form = forms.MeetingForm(request.POST or None, user=request.user,
                             initial={"region": access.scope_root(request.user) or "",
                                      "starts_on": timezone.localdate()})
    meeting = saved(request, form, _on_page(form, lambda data: services.meeting_create(
        actor=request.user, **data)), _("The meeting has been saved."))
    if meeting:
        return redirect("meetings:detail", meeting_id=meeting.pk)
    return form_page(request, "meetings/form.html", form, {"meeting": None})


@login_required
@require_http_methods(["GET", "POST"])
def meeting_edit(request, meeting_id: int):
    meeting = selectors.access_meeting(request.user, meeting_id, for_write=True)
    initial = {f: getattr(meeting, f) for f in services.MEETING_FIELDS}
    initial.update(region=meeting.region_id, host_agency=meeting.host_agency_id or "")
    form = forms.MeetingForm(request.POST or None, user=request.user, initial=initial)
    if saved(request, form, _on_page(form, lambda data: services.meeting_update(
            actor=request.user, meeting=meeting, **data)), _("The meeting has been saved.")):
        return redirect("meetings:detail", meeting_id=meeting.pk)
    return form_page(request, "meetings/form.html", form, {"meeting": meeting})


@login_required
@require_GET
def meeting_detail(request, meeting_id: int):
    user = request.user
    meeting = selectors.access_meeting(user, meeting_id)
    commitments = list(selectors.commitments_visible(user).filter(meeting=meeting)
                       .select_related("owner_agency", "region", "agenda_item")
                       .prefetch_related("supporting_agencies").order_by("number"))
    desks = list(meeting.desks.prefetch_related("items"))
    can_manage = selectors.can_manage(user, meeting)
    root = access.scope_root(user)
    context = {
        "meeting": meeting,
        "desks": desks,
        "loose_items": meeting.agenda.filter(desk__isnull=True),
        "participants": selectors.participants_visible(root).filter(meeting=meeting)
        .select_related("agency", "region").order_by("id"),
        "issues": selectors.issues_visible(root).filter(meeting=meeting)
        .select_related("region").order_by("id"),
        "attachments": meeting.attachments.all(),
        "rows": progress.tracked(commitments),
        "can_manage": can_manage,
    }
    if can_manage:
        context.update(
            participant_form=forms.ParticipantForm(user=user, prefix="p"),
            agenda_form=forms.AgendaForm(prefix="a"),
            issue_form=forms.IssueForm(prefix="i"),
            attachment_form=forms.AttachmentForm(prefix="f"),
        )
    return render(request, "meetings/detail.html", context)


def _meeting_part(request, meeting_id, form_class, prefix, add, **form_kwargs):
    """Add a participant, agenda item, issue or attachment from the meeting page."""
    meeting = selectors.access_meeting(request.user, meeting_id, for_write=True)
    form = form_class(request.POST, request.FILES, prefix=prefix, **form_kwargs)
    applied(request, form, _on_page(form, lambda data: add(meeting, data)), _("Added."),
            _("Not added: %(errors)s"))
    return redirect("meetings:detail", meeting_id=meeting.pk)


@login_required
@require_POST
def participant_add(request, meeting_id: int):
    return _meeting_part(
        request, meeting_id, forms.ParticipantForm, "p",
        lambda m, d: services.participant_add(actor=request.user, meeting=m, **d),
        user=request.user)


@login_required
@require_POST
def agenda_add(request, meeting_id: int):
    return _meeting_part(request, meeting_id, forms.AgendaForm, "a",
                         lambda m, d: services.agenda_add(actor=request.user, meeting=m, **d))


@login_required
@require_POST
def issue_add(request, meeting_id: int):
    return _meeting_part(request, meeting_id, forms.IssueForm, "i",
                         lambda m, d: services.issue_add(actor=request.user, meeting=m, **d))


@login_required
@require_POST
def attachment_add(request, meeting_id: int):
    return _meeting_part(
        request, meeting_id, forms.AttachmentForm, "f",
        lambda m, d: services.attachment_add(actor=request.user, meeting=m, upload=d["file"],
                                             title=d["title"]))


@login_required
@require_POST
def part_remove(request, meeting_id: int, kind: str, pk: int):
    meeting = selectors.access_meeting(request.user, meeting_id, for_write=True)
    services.meeting_part_remove(actor=request.user, meeting=meeting, kind=kind, pk=pk)
    messages.success(request, _("Removed."))
    return redirect("meetings:detail", meeting_id=meeting.pk)


def _file_response(stored, name: str) -> FileResponse:
    try:
        handle = stored.open("rb")
    except (FileNotFoundError, ValueError):
        raise Http404(_("The file is no longer stored; ask the person who uploaded it to "
                        "upload it again.")) from None
    return FileResponse(handle, as_attachment=True, filename=name)


@login_required
@require_GET
def attachment_download(request, meeting_id: int, attachment_id: int):
    meeting = selectors.access_meeting(request.user, meeting_id)
    attachment = Attachment.objects.filter(meeting=meeting, pk=attachment_id).first()
    if attachment is None:
        raise Http404(_("File not found."))
    return _file_response(attachment.file, attachment.file.name.rsplit("/", 1)[-1])


@login_required
@require_GET
def evidence_download(request, evidence_id: int):
    evidence = Evidence.objects.select_related("update").filter(pk=evidence_id).first()
    if evidence is None:
        raise Http404(_("File not found."))
    selectors.access_commitment(request.user, evidence.update.commitment_id)
    return _file_response(evidence.file, evidence.name)


# --- commitments ----------------------------------------------------------------------------

def _commitment_initial(c) -> dict:
    return {
        "text": c.text, "agenda_item": c.agenda_item_id or "",
        "owner_agency": c.owner_agency_id,
        "supporting_agencies": [str(a.pk) for a in c.supporting_agencies.all()],
        "region": c.region_id, "due_date": c.due_date, "unit": c.unit,
        "baseline": c.baseline, "target": c.target, "source": c.source,
        "source_param": c.source_param,
    }


@login_required
@require_http_methods(["GET", "POST"])
def commitment_create(request, meeting_id: int):
    meeting = selectors.access_meeting(request.user, meeting_id, for_write=True)
    form = forms.CommitmentForm(request.POST or None, user=request.user, meeting=meeting,
                                initial={"region": meeting.region_id, "source": "manual"})
    if saved(request, form, _on_page(form, lambda data: services.commitment_create(
            actor=request.user, meeting=meeting, **data)),
            lambda c: _("Commitment %(n)d has been saved.") % {"n": c.number}):
        return redirect("meetings:detail", meeting_id=meeting.pk)
    return form_page(request, "meetings/commitment_form.html", form, {
        "meeting": meeting, "commitment": None, "counters": progress.COUNTERS.values()})


@login_required
@require_http_methods(["GET", "POST"])
def commitment_edit(request, commitment_id: int):
    commitment = selectors.access_commitment(request.user, commitment_id, for_edit=True)
    form = forms.CommitmentForm(request.POST or None, user=request.user,
                                meeting=commitment.meeting,
                                initial=_commitment_initial(commitment))
    if saved(request, form, _on_page(form, lambda data: services.commitment_update(
            actor=request.user, commitment=commitment, **data)),
            _("The commitment has been saved.")):
        return redirect("meetings:commitment", commitment_id=commitment.pk)
    return form_page(request, "meetings/commitment_form.html", form, {
        "meeting": commitment.meeting, "commitment": commitment,
        "counters": progress.COUNTERS.values()})


@login_required
@require_GET
def commitment_detail(request, commitment_id: int):
    user = request.user
    commitment = selectors.access_commitment(user, commitment_id)
    state = progress.progress_of([commitment])[commitment.pk]
    can_update = selectors.can_update(user, commitment)
    can_settle = can_update and selectors.can_settle(user, commitment)
    can_edit = selectors.can_manage(user, commitment.meeting)
    updates = (ProgressUpdate.objects.filter(commitment=commitment)
               .prefetch_related("evidence").order_by("-date", "-id"))
    context = {
        "c": commitment, "state": state, "updates": updates,
        "supporting": commitment.supporting_agencies.all(),
        "counter": progress.COUNTERS.get(commitment.source),
        "can_update": can_update,
        "can_edit": can_edit,
        # A cancelled commitment is reopened by a coordinator of the meeting;
        # a done one by its owner agency or a coordinator.
        "can_reopen": can_edit if commitment.cancelled_on else
        can_settle and commitment.done_on is not None,
        "form": forms.ProgressForm(initial={"date": timezone.localdate()}, settle=can_settle,
                                   cancel=can_edit) if can_update else None,
    }
    return render(request, "meetings/commitment.html", context)


@login_required
@require_POST
def progress_add(request, commitment_id: int):
    commitment = selectors.access_commitment(request.user, commitment_id, for_update=True)
    form = forms.ProgressForm(request.POST)
    if form.is_valid():
        data = dict(form.cleaned_data)
        reopen = request.POST.get("reopen")
        if reopen:
            data["kind"] = "reopened"
        try:
            services.progress_report(actor=request.user, commitment=commitment,
                                     files=request.FILES.getlist("evidence"), **data)
        except SinergiError as exc:
            messages.error(request, _("Not recorded: %(errors)s") % {
                "errors": labelled(form, exc)})
        else:
            messages.success(request, _("The update has been recorded."))
    else:
        messages.error(request, _("Not recorded: %(errors)s") % {
            "errors": errors_text(form)})
    return redirect("meetings:commitment", commitment_id=commitment.pk)


def _board_filters(request) -> dict:
    get = request.GET
    return {"meeting": get.get("meeting", "").strip() or None,
            "agency": get.get("agency", "").strip() or None,
            "region": get.get("region", "").strip() or None,
            "status": get.get("status", "").strip() or None,
            "due": get.get("due", "").strip() or None,
            "mine": get.get("mine") == "1"}


@login_required
@require_GET
def board(request):
    filters = _board_filters(request)
    error, rows, truncated = None, [], False
    try:
        rows, truncated = selectors.board(user=request.user, **filters)
    except SinergiError as exc:
        error = exc.message
    return _board_page(request, filters, rows, truncated, error)


def _board_page(request, filters, rows, truncated, error):
    context = {
        "rows": rows, "truncated": truncated, "limit": selectors.BOARD_MAX, "error": error,
        "filters": filters, "statuses": STATUS_CHOICES,
        "agencies": access.agency_choices(request.user),
        "meetings": selectors.meetings_visible(request.user).order_by("-starts_on")[:100],
        "query": request.GET.urlencode(),
        "has_agency": request.user.agency_id is not None,
    }
    return render(request, "meetings/board.html", context, status=400 if error else 200)


@login_required
@require_GET
@time_limit("EXPORT_TIME_LIMIT")
def board_export(request):
    filters = _board_filters(request)
    try:
        rows = services.commitments_export(actor=request.user, **filters)
    except SinergiError as exc:  # a bad filter: the board page says which, as it does itself
        return _board_page(request, filters, [], False, exc.message)
    return sheet.commitments_xlsx(rows, f"komitmen-{timezone.localdate():%Y%m%d}.xlsx")


@login_required
@require_GET
def commitment_template(request):
    access.check_capability(request.user, "meeting.manage")
    response = HttpResponse(sheet.template_workbook(), content_type=(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))
    response["Content-Disposition"] = 'attachment; filename="template-komitmen.xlsx"'
    return response


@login_required
@require_POST
def commitment_import(request, meeting_id: int):
    meeting = selectors.access_meeting(request.user, meeting_id, for_write=True)
    upload = request.FILES.get("file")
    if upload is None:
        messages.error(request, _("Choose an .xlsx or .csv file of commitments first."))
        return redirect("meetings:detail", meeting_id=meeting.pk)
    result = transfer.commitments_import(actor=request.user, meeting=meeting, upload=upload)
    if result.problems:
        return render(request, "meetings/import_result.html",
                      {"meeting": meeting, "result": result, "file_name": upload.name},
                      status=400)
    messages.success(request, _("%(n)d commitments were imported.") % {"n": result.created})
    for warning in result.warnings:
        messages.warning(request, warning)
    return redirect("meetings:detail", meeting_id=meeting.pk)


# --- briefs -------------------------------------------------------------------------------

def _brief_page(request, *, meeting=None, region=None):
    context = {
        "brief": briefs.brief_context(meeting=meeting, region=region,
                                      scope_root=access.scope_root(request.user)),
        "meeting": meeting, "region": region,
        "job": selectors.latest_brief(request.user, meeting=meeting, region=region),
        "can_generate": access.user_can(request.user, "brief.create"),
    }
    return render(request, "meetings/brief.html", context)


def _brief_region(user, code: str):
    """The region of a region brief: one inside the user's own subtree (a
    brief of a region above it would hold what the user may not see)."""
    selectors.meetings_visible(user)  # the capability check
    return access.access_subtree(user, code)


@login_required
@require_GET
def meeting_brief(request, meeting_id: int):
    return _brief_page(request, meeting=selectors.access_meeting(request.user, meeting_id))


@login_required
@require_GET
def region_brief(request, code: str):
    return _brief_page(request, region=_brief_region(request.user, code))


@login_required
@require_POST
def brief_generate(request):
    meeting_id = request.POST.get("meeting", "").strip()
    code = request.POST.get("region", "").strip()
    if meeting_id:
        meeting, region = selectors.access_meeting(request.user, meeting_id), None
        back = redirect("meetings:meeting_brief", meeting_id=meeting.pk)
    elif code:
        meeting, region = None, _brief_region(request.user, code)
        back = redirect("meetings:region_brief", code=region.code)
    else:
        raise Http404(_("Say which meeting or region the brief is for."))
    briefs.brief_job_create(actor=request.user, meeting=meeting, region=region,
                            language=get_language() or settings.LANGUAGE_CODE)
    messages.success(request, _("The PDF is being made; this page shows it when it is ready."))
    return back


@login_required
@require_GET
def brief_status(request, job_id: int):
    """The brief page's PDF part, asked again every two seconds while the
    PDF is being made: the download button replaces it when it is ready."""
    return render(request, "meetings/_brief_job.html",
                  {"job": selectors.access_brief(request.user, job_id)})


@login_required
@require_GET
def brief_download(request, job_id: int):
    job = selectors.access_brief(request.user, job_id)
    if job.status != BRIEF_DONE or not job.file:
        return render(request, "meetings/brief_wait.html", {"job": job}, status=202)
    return _file_response(job.file, f"brief-rakor-{job.pk}.pdf")
