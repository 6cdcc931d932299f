"""Import jobs: create, run, cancel, review and apply.

Pages, the API and the CLI create jobs through ``import_job_create``, which
queues a ``core.Job`` of kind ``imports.persons`` in the same transaction;
the job runner (core/jobs.py: ``sinergi worker``, or the CLI in its own
process) runs ``import_job_work``: one code path.
"""

import logging
import shutil
import uuid
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from sinergi.accounts import access
from sinergi.convergence import services as convergence_services
from sinergi.core import changes as data_changes
from sinergi.core import jobs
from sinergi.core.audit import audit_record
from sinergi.core.errors import SinergiError
from sinergi.core.models import Job
from sinergi.regions import codes as region_codes
from sinergi.registry.models import Household, Person
from sinergi.registry.services import close_membership

from . import pipeline, report
from .models import (
    CANCELLED,
    DONE,
    FAILED,
    FORMAT_CHOICES,
    PENDING,
    REVIEW,
    RUNNING,
    ImportJob,
    ProposedChange,
)

log = logging.getLogger(__name__)

JOB_KIND = "imports.persons"
MAX_UPLOAD_BYTES = 200 * 1024 * 1024
_FORMATS = {key for key, _label in FORMAT_CHOICES}


def upload_dir() -> Path:
    return Path(settings.MEDIA_ROOT) / "imports"


def import_job_create(*, actor, source, file_name: str, file_format: str = "auto",
                      region_code: str | None = None, village_code: str = "",
                      on_error: str = "skip", complete_list: bool = False) -> ImportJob:
    """Store an uploaded file and queue its job.

    ``source`` is a path or a binary file object. The job's region is the
    actor's scope unless a narrower region inside it is named; codes may be
    written without dots (1904012003). An OpenSID file needs
    ``village_code``, which a region that is itself a village gives.
    """
    if file_format not in _FORMATS:
        raise SinergiError(_("Unknown format '%(f)s'; use one of: %(all)s.")
                           % {"f": file_format, "all": ", ".join(sorted(_FORMATS))},
                           field="format")
    if on_error not in {"skip", "block"}:
        raise SinergiError(_("on_error must be 'skip' or 'block'."), field="on_error")
    root = access.scope_root(actor) if actor is not None else None
    region = _dotted(region_code) or root or ""
    village_code = _dotted(village_code)
    if not region:
        raise SinergiError(_("Name the region the file belongs to."), field="region")
    problem = region_codes.region_code_problem(region)
    if problem:
        raise SinergiError(problem, field="region")
    if actor is not None and not access.in_scope(actor, region):
        raise SinergiError(_("Region %(code)s is outside your scope; you may import only "
                             "into %(root)s.") % {"code": region, "root": root},
                           field="region")
    if not village_code and region_codes.code_level(region) == 4:
        village_code = region  # a village's own list: its rows land there
    if village_code:
        problem = region_codes.region_code_problem(village_code, levels=(4,))
        if problem:
            raise SinergiError(problem, field="village")
        if not region_codes.code_in_subtree(village_code, region):
            raise SinergiError(_("Village %(v)s is not inside %(r)s.")
                               % {"v": village_code, "r": region}, field="village")
    if actor is not None:
        access.check_capability(actor, "registry.import")
    folder = upload_dir() / uuid.uuid4().hex
    folder.mkdir(parents=True, exist_ok=True)
    safe_name = Path(file_name).name[:150] or "upload"
    target = folder / safe_name
    size = 0
    with open(target, "wb") as out:
        if isinstance(source, (str, Path)):
            with open(source, "rb") as src:
                shutil.copyfileobj(src, out, 1024 * 1024)
        else:
            for chunk in (source.chunks() if hasattr(source, "chunks") else iter(
                    lambda: source.read(1024 * 1024), b"")):
                size += len(chunk)
                if size > MAX_UPLOAD_BYTES:
                    break
                out.write(chunk)
    if target.stat().st_size > MAX_UPLOAD_BYTES or size > MAX_UPLOAD_BYTES:
        shutil.rmtree(folder, ignore_errors=True)
        raise SinergiError(_("The file is larger than %(mb)d MB; split it by kecamatan and "
                             "upload the parts.") % {"mb": MAX_UPLOAD_BYTES // 1024 // 1024},
                           field="file")
    with transaction.atomic():
        job = ImportJob.objects.create(
            created_by=actor if actor is not None and actor.is_authenticated else None,
            region_code=region, village_code=village_code, file_path=str(target),
            file_name=safe_name, file_format=file_format, on_error=on_error,
            complete_list=complete_list,
        )
        audit_record(actor=actor, action="import.create", obj=job,
                     after={"file": safe_name, "format": file_format, "region": region})
        jobs.enqueue(JOB_KIND, job.pk)
    return job


def _dotted(code: str | None) -> str:
    """A region code written as digits only (1904012003) in its dotted form
    (19.04.01.2003); any other text as given, for the code rules to judge."""
    code = (code or "").strip()
    if code.isdigit() and len(code) in (4, 6, 10):
        return ".".join(part for part in (code[:2], code[2:4], code[4:6], code[6:]) if part)
    return code


def import_job_claim(job_id: int | None = None) -> ImportJob | None:
    """Claim the job of import ``job_id`` (or of the oldest waiting import)
    for this process, to run it here (the command line, the demo)."""
    task = jobs.claim(kind=JOB_KIND, ref_id=job_id)
    return ImportJob.objects.get(pk=task.ref_id) if task is not None else None


def import_job_run(job: ImportJob) -> ImportJob:
    """Run an import claimed by this process to its end: done, waiting for
    review, or failed."""
    task = Job.objects.get(kind=JOB_KIND, ref_id=job.pk, status=Job.RUNNING,
                           worker=jobs.worker_id())
    jobs.run(task)
    job.refresh_from_db()
    return job


def import_job_work(job_id: int, context: jobs.Context) -> None:
    """The work of an import job (run by core.jobs): read, check, write."""
    started = ImportJob.objects.filter(pk=job_id, status=PENDING).update(
        status=RUNNING, started_at=timezone.now(), worker=jobs.worker_id(),
        phase=_("starting"), progress=1)
    if not started:  # cancelled (or removed) before it could start
        return
    job = ImportJob.objects.select_related("created_by").get(pk=job_id)

    def report(phase: str, percent: int) -> None:
        # Its own short transaction, so a page polling the job sees it.
        ImportJob.objects.filter(pk=job.pk).update(phase=phase[:60], progress=percent)
        context.beat()

    typed, issues, outcome = pipeline.read_and_validate(job, report)
    pipeline.write(job, typed, issues, outcome, report)
    if outcome.persons_added or outcome.households_added:
        # New families change coverage; the rollup is recomputed off the request.
        convergence_services.refresh_requested(region_code=job.region_code,
                                               year=timezone.localdate().year)


def import_job_end(job_id: int, status: str, message: str) -> bool:
    """The job runner's end of an import that could not finish: failed or
    cancelled, with the message the page shows."""
    job = ImportJob.objects.filter(pk=job_id).first()
    if job is None:
        return True
    with transaction.atomic():
        updated = ImportJob.objects.filter(pk=job_id, status__in=[PENDING, RUNNING]).update(
            status=CANCELLED if status == Job.CANCELLED else FAILED, message=message,
            phase="", finished_at=timezone.now())
        if updated and status != Job.CANCELLED:
            audit_record(actor=job.created_by, action="import.fail", obj=job,
                         after={"message": message})
    return bool(updated)


def import_job_report(*, actor, job: ImportJob):
    """The error report of an import (an Excel download of the rows to fix),
    audited; identity numbers masked unless ``actor`` may reveal them."""
    reveal = actor is None or access.user_can(actor, "person.reveal")
    with transaction.atomic():
        audit_record(actor=actor, action="import.report", obj=job,
                     after={"rows_rejected": job.rows_rejected, "masked": not reveal})
    return report.report_response(job, reveal=reveal)


def import_job_cancelling(job: ImportJob) -> bool:
    """Whether the running import's cancellation was asked and is under way."""
    if job.status != RUNNING:
        return False
    task = jobs.job_of(JOB_KIND, job.pk)
    return task is not None and task.cancel_requested and task.status in jobs.ACTIVE


def import_job_cancel(*, actor, job: ImportJob) -> ImportJob:
    """Cancel a waiting or running import (nothing of it is written), or
    drop the changes of one waiting for review."""
    if job.status in {PENDING, RUNNING}:
        task = jobs.job_of(JOB_KIND, job.pk)
        if task is not None and task.status in jobs.ACTIVE:
            jobs.cancel(actor=actor, job=task, action="import.cancel", obj=job)
            job.refresh_from_db()
            return job
    with transaction.atomic():
        updated = ImportJob.objects.filter(pk=job.pk, status=REVIEW).update(
            status=CANCELLED, finished_at=timezone.now())
        if not updated:
            raise SinergiError(_("Only a waiting or running job, or one waiting for review, "
                                 "can be cancelled."))
        audit_record(actor=actor, action="import.cancel", obj=job)
    job.refresh_from_db()
    return job


@transaction.atomic
def import_job_apply(*, actor, job: ImportJob, reject_ids: set[int] | None = None) -> int:
    """Apply the reviewed changes of a verivali round; rejected ones are kept as rejected.

    Updates change fields in place, a move closes the old membership and
    opens one in the family of the new KK number (created if new), an
    absent person is marked gone (PERGI) and leaves the family. Every
    applied change writes an audit row with before and after.
    """
    locked = ImportJob.objects.select_for_update().get(pk=job.pk)
    if locked.status != REVIEW:
        raise SinergiError(_("This import has no changes waiting for review."))
    reject_ids = reject_ids or set()
    today = timezone.localdate()
    applied = skipped = 0
    changes = ProposedChange.objects.filter(job=locked, decision="").select_related(
        "person", "person__household")
    for change in changes.iterator(chunk_size=2000):
        if change.id in reject_ids:
            change.decision = "reject"
            change.save(update_fields=["decision"])
            continue
        person = change.person
        if not _may_land(actor, locked, person.village_code):
            continue
        if not _targets_in_region(actor, locked, change):
            # The same rule as the move form: a person or family is moved
            # into or out of the region only by someone whose scope holds both.
            change.decision = "reject"
            change.save(update_fields=["decision"])
            skipped += 1
            continue
        before = {"household_id": person.household_id, "life_status": person.life_status}
        was_in = {person.village_code,
                  person.household.village_code if person.household_id else None}
        _apply_fields(person, change.changes)
        if change.kind == "move":
            _move(person, change.new_kk_number, today, job=locked)
        elif change.kind == "absent":
            person.life_status = 6  # PERGI: no longer on the list
            person.status_date = today
            close_membership(person, today, "absent in verivali")
            person.household = None
        person.save()
        # The village the person (or the family) left is recounted too.
        data_changes.changed(data_changes.REGISTRY, [*was_in, person.village_code])
        change.decision = "apply"
        change.save(update_fields=["decision"])
        audit_record(actor=actor, action=f"person.verivali.{change.kind}", obj=person,
                     before={**before, **{k: v[0] for k, v in change.changes.items()}},
                     after={"household_id": person.household_id,
                            "life_status": person.life_status,
                            **{k: v[1] for k, v in change.changes.items()}})
        applied += 1
    locked.status = DONE
    locked.persons_updated = applied
    if skipped:
        locked.message = _(
            "%(n)d changes were not applied: they would move a person or family into a "
            "region outside this import's (the KK number is now registered there). Ask "
            "that region's operator or a coordinator to move them.") % {"n": skipped}
    locked.save(update_fields=["status", "persons_updated", "message"])
    return applied


def _may_land(actor, job: ImportJob, code: str | None) -> bool:
    """Whether a row of ``job`` may be written at region ``code``: inside the
    job's region, and inside the scope of whoever applies it."""
    if not code or not region_codes.code_in_subtree(code, job.region_code):
        return False
    return actor is None or access.in_scope(actor, code)


def _targets_in_region(actor, job: ImportJob, change: ProposedChange) -> bool:
    """A proposed change's destinations (a new village, the family of a new
    KK number) lie where the job and the actor may write."""
    village = change.changes.get("household.village_code")
    if village and not _may_land(actor, job, village[1]):
        return False
    if change.kind == "move":
        target = Household.objects.filter(kk_number=change.new_kk_number).values_list(
            "village_code", flat=True).first()
        if target is not None and not _may_land(actor, job, target):
            return False
    return True


def _apply_fields(person: Person, changes: dict) -> None:
    household_changes = {}
    for key, (_old, new) in changes.items():
        if key.startswith("household."):
            household_changes[key.split(".", 1)[1]] = new
        else:
            field = Person._meta.get_field(key)
            setattr(person, key, field.to_python(new))
    if household_changes and person.household_id:
        hh = person.household
        for key, new in household_changes.items():
            setattr(hh, key, Household._meta.get_field(key).to_python(new))
        if "desil" in household_changes:
            hh.desil_as_of = timezone.localdate()
        hh.save()
        if "village_code" in household_changes:
            person.village_code = hh.village_code


def _move(person: Person, kk_number: str, today, *, job) -> None:
    """Close the current membership and join the family of ``kk_number``."""
    target = Household.objects.filter(kk_number=kk_number).first()
    if target is None:
        source = person.household
        target = Household.objects.create(
            kk_number=kk_number, village_code=person.village_code,
            dusun=source.dusun if source else "", rw=source.rw if source else "",
            rt=source.rt if source else "", address=source.address if source else "",
            import_job=job)
    close_membership(person, today, "moved")
    person.household = target
    person.household_since = today
    person.village_code = target.village_code

