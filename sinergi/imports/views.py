"""Import pages: upload, job status with progress, issues, report, review."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from sinergi.accounts import access
from sinergi.core.errors import SinergiError

from . import selectors, services, template
from .forms import UploadForm
from .selectors import access_job, jobs_visible


@login_required
@require_http_methods(["GET", "POST"])
def job_list(request):
    jobs = jobs_visible(request.user).order_by("-id")[:50]
    can_import = access.user_can(request.user, "registry.import")
    form = UploadForm(request.POST or None, request.FILES or None,
                      initial={"region": access.scope_root(request.user) or ""})
    if request.method == "POST":
        access.check_capability(request.user, "registry.import")
        if form.is_valid():
            data = form.cleaned_data
            try:
                job = services.import_job_create(
                    actor=request.user, source=data["file"], file_name=data["file"].name,
                    file_format=data["file_format"], region_code=data["region"] or None,
                    village_code=data["village"] or "", on_error=data["on_error"],
                    complete_list=data["complete_list"])
            except SinergiError as exc:
                field = {"region": "region", "village": "village", "format": "file_format",
                         "file": "file"}.get(exc.field)
                form.add_error(field, exc.message)
            else:
                return redirect("imports:detail", job_id=job.pk)
    return render(request, "imports/list.html", {"jobs": jobs, "form": form,
                                                 "can_import": can_import},
                  status=400 if form.errors else 200)


@login_required
@require_GET
def job_detail(request, job_id: int):
    job = access_job(request.user, job_id)
    context = {
        "job": job,
        "issues": selectors.job_issues(request.user, job),
        "changes": selectors.job_changes(job),
        "can_apply": access.user_can(request.user, "registry.import"),
        "cancelling": services.import_job_cancelling(job),
    }
    if request.htmx:
        return render(request, "imports/_status.html", context)
    return render(request, "imports/detail.html", context)


@login_required
@require_GET
def job_report(request, job_id: int):
    job = access_job(request.user, job_id)
    return services.import_job_report(actor=request.user, job=job)


@login_required
@require_POST
def job_apply(request, job_id: int):
    job = access_job(request.user, job_id)
    access.check_capability(request.user, "registry.import")
    rejected = {int(x) for x in request.POST.getlist("reject") if x.isdigit()}
    try:
        applied = services.import_job_apply(actor=request.user, job=job, reject_ids=rejected)
    except SinergiError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("%(n)d changes were applied.") % {"n": applied})
    return redirect("imports:detail", job_id=job.pk)


@login_required
@require_POST
def job_cancel(request, job_id: int):
    job = access_job(request.user, job_id)
    access.check_capability(request.user, "registry.import")
    try:
        services.import_job_cancel(actor=request.user, job=job)
    except SinergiError as exc:
        messages.error(request, exc.message)
    return redirect("imports:detail", job_id=job.pk)


@login_required
@require_GET
def template_download(request):
    response = HttpResponse(template.template_workbook(), content_type=(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))
    response["Content-Disposition"] = 'attachment; filename="template-sinergi-penduduk.xlsx"'
    return response


