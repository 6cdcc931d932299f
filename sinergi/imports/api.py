"""API: start an import with a file, follow it, fetch its report."""

from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext as _
from ninja import Field, File, Form, Router, Schema
from ninja.files import UploadedFile
from ninja.responses import Status

from sinergi.core.errors import SinergiError

from . import services
from .selectors import access_job

router = Router(tags=["imports"])


class ImportOut(Schema):
    """An import job as the API shows it (read from the model)."""

    id: int
    status: str
    phase: str
    progress: int
    file_name: str
    region_code: str
    rows_total: int
    accepted: int = Field(alias="rows_accepted")
    rejected: int = Field(alias="rows_rejected")
    warnings: int = Field(alias="rows_warned")
    persons_added: int
    households_added: int
    changes_proposed: int
    message: str
    report_url: str | None

    @staticmethod
    def resolve_report_url(job) -> str | None:
        return reverse("imports:report", args=[job.id]) \
            if job.rows_rejected or job.rows_warned else None


@router.post("", response={202: ImportOut}, summary="Upload a file to import")
def import_create(request: HttpRequest, file: File[UploadedFile],
                  kind: Form[str] = "persons", format: Form[str] = "auto",
                  region: Form[str | None] = None, village: Form[str] = "",
                  on_error: Form[str] = "skip", complete_list: Form[bool] = False):
    """``kind`` is ``persons`` (the registry); the job runs in the background:
    follow it with GET /api/v1/imports/{id}."""
    if kind != "persons":
        raise SinergiError(_("kind must be 'persons' (the registry); other lists come "
                             "later."), field="kind")
    job = services.import_job_create(
        actor=request.auth, source=file, file_name=file.name, file_format=format,
        region_code=region, village_code=village, on_error=on_error,
        complete_list=complete_list)
    return Status(202, job)


@router.get("/{job_id}", response=ImportOut, summary="Status and counts of an import")
def import_detail(request: HttpRequest, job_id: int):
    return access_job(request.auth, job_id)
