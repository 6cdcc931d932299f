"""Reads of import jobs: who may see which, and their problems as the viewer
may see them.

An import holds personal data of its file (NIKs, names, incomes), so it
follows the registry's rules: a job is seen by its uploader and by those
who oversee the imports of its region (``import.oversee``: coordinators
and administrators), never by the rest of the scope; full NIK and KK
numbers only by roles that may reveal them (``person.reveal``).
"""

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from sinergi.accounts import access
from sinergi.core.errors import AccessDenied, NotInScope

from .models import REVIEW, ImportJob
from .report import issue_masker


def may_see_imports(user) -> bool:
    return access.user_can(user, "registry.import") or access.user_can(user, "import.oversee")


def jobs_visible(user) -> QuerySet[ImportJob]:
    """The imports ``user`` may see: their own uploads inside their scope,
    or with ``import.oversee`` every import of the scope."""
    if not may_see_imports(user):
        access.check_viewer(user, "registry.view")  # anonymous: 404, nothing said
        raise AccessDenied(_("Your role does not upload lists, so it has no imports to "
                             "follow. Ask your coordinator."))
    qs = ImportJob.objects.filter(access.scope_q(user, "region_code"))
    if not access.user_can(user, "import.oversee"):
        qs = qs.filter(created_by=user)
    return qs


def access_job(user, pk) -> ImportJob:
    try:
        return jobs_visible(user).get(pk=pk)
    except (ImportJob.DoesNotExist, ValueError, TypeError):
        raise NotInScope(_("Import not found among your imports.")) from None


def job_issues(user, job: ImportJob, *, limit: int = 200) -> list:
    """The first ``limit`` problems of ``job`` in row order; identity numbers
    masked (in the value and the message) unless ``user`` may reveal them."""
    issues = list(job.issues.order_by("line", "id")[:limit])
    if not access.user_can(user, "person.reveal"):
        mask = issue_masker(job.detected_format)
        for issue in issues:
            issue.value, issue.message = mask(issue.column, issue.value, issue.message)
    return issues


def job_changes(job: ImportJob, *, limit: int = 500) -> list:
    """The changes of a verivali round waiting for review (persons of the
    job's region only, by construction of the round)."""
    if job.status != REVIEW:
        return []
    return list(job.changes.select_related("person").order_by("kind", "id")[:limit])
