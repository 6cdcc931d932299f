"""Writes to the registry for single records: edits, moves, splits, deaths.

Bulk writes go through sinergi.imports; these are the operator's daily
changes. History is never rewritten: a membership is closed and another
opened, a KK number change is added to the household's history.
"""

import datetime
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass

import polars as pl
from django.conf import settings
from django.db import transaction
from django.db.models import OuterRef, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from sinergi.accounts import access
from sinergi.core import changes as data_changes
from sinergi.core import jobs
from sinergi.core.audit import audit_record, changed_fields, snapshot
from sinergi.core.errors import SinergiError
from sinergi.core.exports import EXPORT_MAX_ROWS, write_xlsx
from sinergi.core.values import UNSET, given
from sinergi.regions.models import Region

from . import codes, identifiers, selectors
from .models import (
    EXPORT_DONE,
    EXPORT_FAILED,
    EXPORT_PENDING,
    EXPORT_RUNNING,
    ExportJob,
    Household,
    KKNumberHistory,
    Membership,
    Person,
)

EDITABLE_PERSON_FIELDS = [
    "name", "sex", "birth_place", "birth_date", "religion", "marital_status", "education",
    "occupation", "disability", "has_birth_certificate", "has_kia", "has_ktp_el",
    "health_insurance", "kb_method", "monthly_income",
]


def check_identifiers(*, nik: str | None = None, kk_number: str | None = None,
                      sex: str | None = None, birth_date=None) -> tuple[list, list]:
    """The import's NIK/KK rules for one record: (errors, warnings), each a list of
    (field, code, message)."""
    prefixes = identifiers.known_kecamatan_prefixes()
    df = pl.DataFrame({"__row": [0], "nik": [nik], "kk_number": [kk_number], "sex": [sex],
                       "birth_date": [birth_date]},
                      schema={"__row": pl.UInt32, "nik": pl.String, "kk_number": pl.String,
                              "sex": pl.String, "birth_date": pl.Date})
    frames = []
    if nik:
        frames.append(identifiers.nik_findings(df, prefixes))
    if kk_number is not None:
        frames.append(identifiers.kk_findings(df, prefixes))
    errors, warnings = [], []
    for frame in frames:
        for rec in frame.iter_rows(named=True):
            item = (rec["column"], rec["code"],
                    identifiers.message_for(rec["code"], rec["value"]))
            (errors if rec["severity"] == identifiers.ERROR else warnings).append(item)
    return errors, warnings


def close_membership(person: Person, on_date, reason: str) -> None:
    """Move the person's current family into the history, ended ``on_date``."""
    if person.household_id is None:
        return
    Membership.objects.create(person=person, household_id=person.household_id,
                              shdk=person.shdk or 11, start_date=person.household_since,
                              end_date=on_date, end_reason=reason[:40])


def _check_write(actor, person: Person) -> None:
    if not access.in_scope(actor, person.village_code):
        raise SinergiError(_("This person is outside your region."))
    access.check_capability(actor, "person.reveal")


@transaction.atomic
def person_update(*, actor, person: Person, name: str = UNSET, sex: str = UNSET,
                  birth_place: str = UNSET, birth_date=UNSET, religion: int | None = UNSET,
                  marital_status: int | None = UNSET, education: int | None = UNSET,
                  occupation: str = UNSET, disability: int | None = UNSET,
                  has_birth_certificate: bool | None = UNSET, has_kia: bool | None = UNSET,
                  has_ktp_el: bool | None = UNSET, health_insurance: int | None = UNSET,
                  kb_method: int | None = UNSET, monthly_income: int | None = UNSET) -> Person:
    """Change the fields given (EDITABLE_PERSON_FIELDS), re-checking the NIK
    rules against sex and birth date."""
    _check_write(actor, person)
    before = snapshot(person)
    changes = given(
        name=name, sex=sex, birth_place=birth_place, birth_date=birth_date, religion=religion,
        marital_status=marital_status, education=education, occupation=occupation,
        disability=disability, has_birth_certificate=has_birth_certificate, has_kia=has_kia,
        has_ktp_el=has_ktp_el, health_insurance=health_insurance, kb_method=kb_method,
        monthly_income=monthly_income)
    for key, value in changes.items():
        setattr(person, key, value)
    if not (person.name or "").strip():
        raise SinergiError(_("The name cannot be empty."), field="name")
    if person.sex not in codes.SEX:
        raise SinergiError(_("Sex must be L or P."), field="sex")
    errors, warnings = check_identifiers(nik=person.nik, sex=person.sex,
                                         birth_date=person.birth_date)
    if errors:
        raise SinergiError(errors[0][2], field=errors[0][0])
    # Re-derive the NIK warnings; keep the others (e.g. probable duplicate).
    keep = [w for w in person.warnings if not w.startswith("nik_")]
    person.warnings = keep + sorted({code for _f, code, _m in warnings})
    person.save()
    old, new = changed_fields(before, snapshot(person))
    new.pop("updated_at", None)
    old.pop("updated_at", None)
    if new:
        audit_record(actor=actor, action="person.update", obj=person, before=old, after=new)
        data_changes.changed(data_changes.REGISTRY, [person.village_code])
    return person


@transaction.atomic
def person_move(*, actor, person: Person, household: Household, shdk: int,
                reason: str = "moved") -> Person:
    """Move a person to another family: close the membership, open a new one."""
    _check_write(actor, person)
    if not access.in_scope(actor, household.village_code):
        raise SinergiError(_("The target family is outside your region."))
    if shdk not in codes.SHDK:
        raise SinergiError(_("Choose the relationship in the family (SHDK)."), field="shdk")
    today = timezone.localdate()
    before = {"household_id": person.household_id, "shdk": person.shdk}
    data_changes.changed(data_changes.REGISTRY, [person.village_code, household.village_code])
    close_membership(person, today, reason)
    person.household, person.shdk, person.village_code = household, shdk, household.village_code
    person.household_since = today
    person.save()
    audit_record(actor=actor, action="person.move", obj=person, before=before,
                 after={"household_id": household.id, "shdk": shdk})
    return person


@transaction.atomic
def household_split(*, actor, household: Household, person_ids: list[int],
                    new_kk_number: str, head_id: int) -> Household:
    """Pecah KK: some members leave with a new KK number, the head named."""
    if not access.in_scope(actor, household.village_code):
        raise SinergiError(_("This family is outside your region."))
    errors, _warnings = check_identifiers(kk_number=new_kk_number)
    if errors:
        raise SinergiError(errors[0][2], field="kk_number")
    if Household.objects.filter(kk_number=new_kk_number).exists():
        raise SinergiError(_("KK number %(kk)s is already used by another family.")
                           % {"kk": new_kk_number}, field="kk_number")
    members = list(Person.objects.filter(household=household, id__in=person_ids))
    if not members or len(members) != len(set(person_ids)):
        raise SinergiError(_("Choose members of this family to move to the new KK."),
                           field="members")
    if head_id not in person_ids:
        raise SinergiError(_("The head of the new family must be one of the members moved."),
                           field="head")
    new = Household.objects.create(
        kk_number=new_kk_number, village_code=household.village_code, dusun=household.dusun,
        rw=household.rw, rt=household.rt, address=household.address, desil=household.desil,
        desil_source=household.desil_source, desil_as_of=household.desil_as_of)
    for person in members:
        shdk = codes.SHDK_HEAD if person.id == head_id else (person.shdk or 11)
        person_move(actor=actor, person=person, household=new, shdk=shdk, reason="pecah KK")
    audit_record(actor=actor, action="household.split", obj=new,
                 after={"from": household.id, "members": sorted(person_ids)})
    return new


@transaction.atomic
def household_change_kk(*, actor, household: Household, new_kk_number: str,
                        reason: str) -> Household:
    """A new KK number for the same family, the old one kept in history."""
    if not access.in_scope(actor, household.village_code):
        raise SinergiError(_("This family is outside your region."))
    errors, _warnings = check_identifiers(kk_number=new_kk_number)
    if errors:
        raise SinergiError(errors[0][2], field="kk_number")
    if Household.objects.filter(kk_number=new_kk_number).exclude(pk=household.pk).exists():
        raise SinergiError(_("KK number %(kk)s is already used by another family.")
                           % {"kk": new_kk_number}, field="kk_number")
    old = household.kk_number
    KKNumberHistory.objects.create(household=household, kk_number=old,
                                   valid_to=timezone.localdate(), reason=reason[:60])
    household.kk_number = new_kk_number
    household.save()
    audit_record(actor=actor, action="household.change_kk", obj=household,
                 before={"kk_number": old}, after={"kk_number": new_kk_number,
                                                   "reason": reason})
    return household


@transaction.atomic
def person_record_status(*, actor, person: Person, status: int, on_date) -> Person:
    """Death (MATI), moving out (PINDAH) and the like: the membership ends."""
    _check_write(actor, person)
    if status not in codes.LIFE_STATUS or status == codes.ALIVE:
        raise SinergiError(_("Choose what happened: died, moved out, missing or left."),
                           field="status")
    before = {"life_status": person.life_status, "household_id": person.household_id}
    data_changes.changed(data_changes.REGISTRY, [person.village_code])
    close_membership(person, on_date, codes.LIFE_STATUS[status].lower())
    person.household = None
    person.life_status = status
    person.status_date = on_date
    person.save()
    audit_record(actor=actor, action="person.status", obj=person, before=before,
                 after={"life_status": status, "status_date": str(on_date)})
    return person


@transaction.atomic
def person_nik_reveal(*, actor, person: Person) -> str:
    """One person's full NIK, for a role that may reveal it; who looked, and
    when, goes to the audit log (page and API alike)."""
    access.check_capability(actor, "person.reveal")
    audit_record(actor=actor, action="person.reveal_nik", obj=person)
    return person.nik or ""


# A persons export of more rows than this is written in the background (the
# job runner) with its progress on a page; a smaller one is sent at once.
EXPORT_INLINE_MAX = settings.EXPORT_INLINE_MAX
EXPORT_JOB_KIND = "registry.export"
# A written export file (full NIKs) is kept this long, then deleted.
EXPORT_KEEP_HOURS = 24
EXPORT_FOLDER = "exports"


@dataclass
class PersonsExport:
    """What persons_export decided: the rows to send now (``rows``), or the
    background job that writes them (``job``)."""

    region: str
    count: int
    rows: Iterator[tuple] | None = None
    job: ExportJob | None = None


def export_header() -> list[str]:
    """The columns of a persons export (page and background alike)."""
    return [_("NIK"), _("KK number"), _("Name"), _("Sex"), _("Place of birth"),
            _("Date of birth"), _("SHDK"), _("Village code"), _("Village"), _("RT"),
            _("RW"), _("Desil"), _("Monthly income")]


EXPORT_TEXT_COLUMNS = {0, 1, 7}


def _export_rows(qs) -> Iterator[tuple]:
    qs = (qs.select_related("household")
          .annotate(village_name=Subquery(Region.objects.filter(
              code=OuterRef("village_code")).values("name")[:1]))
          .order_by("village_code", "id"))
    for p in qs.iterator(chunk_size=5000):
        h = p.household
        yield (p.nik, h.kk_number if h else None, p.name, p.sex, p.birth_place, p.birth_date,
               codes.SHDK.get(p.shdk, ""), p.village_code, p.village_name,
               h.rt if h else "", h.rw if h else "", h.desil if h else None, p.monthly_income)


def persons_export(*, actor, region: str | None, q: str | None = None,
                   language: str = "id") -> PersonsExport:
    """The persons of ``region`` (default: the actor's scope) that the search
    page finds for ``q`` (NIK, KK number or name; all when empty), for an
    Excel export with full NIKs. Up to EXPORT_INLINE_MAX rows come back to
    be sent at once; more are queued as an ExportJob written in the
    background (in ``language``), which only the actor may download.
    Bounded by EXPORT_MAX_ROWS; audited before anything is read out."""
    access.check_capability(actor, "person.export")
    region = access.region_or_root(actor, region, missing=_("Choose a region to export."))
    access.access_region(actor, region)
    if not access.in_scope(actor, region):
        # A region above the scope root: export the part the actor holds.
        region = access.scope_root(actor)
    q = (q or "").strip()
    qs = selectors.persons_found(user=actor, q=q, region=region)
    count = qs.count()
    if count > EXPORT_MAX_ROWS:
        raise SinergiError(_(
            "%(n)d persons are too many for one file (at most %(max)d). Export a smaller "
            "region, e.g. one kecamatan.") % {"n": count, "max": EXPORT_MAX_ROWS},
            field="region")
    background = count > EXPORT_INLINE_MAX
    if background:
        # The same export still being written (a second click, a reload): follow it.
        same = ExportJob.objects.filter(created_by=actor, region_code=region, q=q,
                                        status__in=[EXPORT_PENDING, EXPORT_RUNNING]).first()
        if same is not None:
            return PersonsExport(region=region, count=count, job=same)
    with transaction.atomic():
        job = ExportJob.objects.create(created_by=actor, region_code=region, q=q,
                                       language=language, rows_total=count) \
            if background else None
        audit_record(actor=actor, action="person.export", object_type="registry.person",
                     object_repr=ngettext("%(n)d person of %(region)s",
                                          "%(n)d persons of %(region)s", count)
                     % {"n": count, "region": region}, region_code=region,
                     after={"region": region, "rows": count, **({"q": q} if q else {}),
                            **({"job": job.pk} if job else {})})
        if job is not None:
            jobs.enqueue(EXPORT_JOB_KIND, job.pk)
            return PersonsExport(region=region, count=count, job=job)
    return PersonsExport(region=region, count=count, rows=_export_rows(qs))


def export_job_work(job_id: int, context: jobs.Context) -> None:
    """Write a queued persons export (run by core.jobs): the rows its owner
    may see now, into a file kept only once it is whole."""
    from django.core.files import File
    from django.utils import translation

    job = ExportJob.objects.select_related("created_by").filter(
        pk=job_id, status__in=[EXPORT_PENDING, EXPORT_RUNNING]).first()
    if job is None:
        return
    ExportJob.objects.filter(pk=job.pk).update(status=EXPORT_RUNNING)
    qs = selectors.persons_found(user=job.created_by, q=job.q, region=job.region_code)

    def progressed(n: int) -> None:
        ExportJob.objects.filter(pk=job.pk).update(rows_done=n)
        context.beat()

    with tempfile.TemporaryFile() as tmp:
        with translation.override(job.language):
            written = write_xlsx(tmp, export_header(), _export_rows(qs),
                                 text_columns=EXPORT_TEXT_COLUMNS, every=progressed)
        tmp.seek(0)
        try:
            job.file.save(f"penduduk-{job.region_code}-{job.pk}.xlsx", File(tmp), save=False)
        except BaseException:
            if job.file.name:
                job.file.storage.delete(job.file.name)
            raise  # a partial file without a name is swept by export_files_cleanup
    stored = job.file.name
    try:
        updated = ExportJob.objects.filter(pk=job.pk, status=EXPORT_RUNNING).update(
            status=EXPORT_DONE, file=stored, rows_done=written, rows_total=written,
            finished_at=timezone.now())
    except BaseException:
        job.file.storage.delete(stored)
        raise
    if not updated:
        job.file.storage.delete(stored)


def export_files_cleanup() -> None:
    """Delete export files past EXPORT_KEEP_HOURS, and files no export points
    to (a job stopped between writing its file and recording it): they hold
    full NIKs. Run by the job worker every ten minutes (registry/jobs.py)."""
    from pathlib import Path

    cutoff = timezone.now() - datetime.timedelta(hours=EXPORT_KEEP_HOURS)
    for job in ExportJob.objects.filter(finished_at__lt=cutoff).exclude(file=""):
        job.file.storage.delete(job.file.name)
        ExportJob.objects.filter(pk=job.pk).update(file="")
    folder = Path(settings.MEDIA_ROOT) / EXPORT_FOLDER
    if not folder.is_dir():
        return
    kept = set(ExportJob.objects.exclude(file="").values_list("file", flat=True))
    stale = (timezone.now() - datetime.timedelta(hours=1)).timestamp()
    for path in folder.rglob("*"):
        name = path.relative_to(settings.MEDIA_ROOT).as_posix()
        if path.is_file() and name not in kept and path.stat().st_mtime < stale:
            path.unlink(missing_ok=True)


def export_job_end(job_id: int, status: str, message: str) -> bool:
    """The job runner's end of an export that could not be written."""
    return bool(ExportJob.objects.filter(
        pk=job_id, status__in=[EXPORT_PENDING, EXPORT_RUNNING]).update(
        status=EXPORT_FAILED, message=message, finished_at=timezone.now()))
