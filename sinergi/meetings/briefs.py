"""The rakor brief: what a meeting (or every meeting of a region) agreed and
how far each commitment has come, as a page and as a PDF made in the background
(laid out in brief_pdf.py).

``brief_context`` gathers plain values (no model objects in the rows), so the
page and the PDF show the same thing. A PDF is a job of kind
``meetings.brief`` in the one job runner (core/jobs.py): created and
audited by a page, made by ``sinergi worker``.
"""

import datetime
import logging

from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Count, F, Q
from django.template.defaultfilters import floatformat
from django.utils import timezone, translation
from django.utils.dateformat import format as date_format
from django.utils.translation import gettext as _

from sinergi.accounts import access
from sinergi.core import jobs
from sinergi.core.audit import audit_record
from sinergi.core.errors import SinergiError
from sinergi.core.models import Job
from sinergi.regions.codes import subtree_q

from . import progress, selectors
from .brief_pdf import render_pdf
from .models import (
    BRIEF_DONE,
    BRIEF_FAILED,
    BRIEF_PENDING,
    BRIEF_RUNNING,
    LATE,
    STATUS_CHOICES,
    STATUS_ORDER,
    AgendaItem,
    BriefJob,
    Commitment,
    Desk,
    Meeting,
)

log = logging.getLogger(__name__)
JOB_KIND = "meetings.brief"

# A brief reads at most this many commitments (open ones first); a province
# brief past it says so and the board with filters shows the rest.
MAX_COMMITMENTS = 2000
MAX_ISSUES = 500
MAX_MEETINGS = 200


def _date(value: datetime.date | None) -> str:
    return date_format(value, "d-m-Y") if value else ""


def _num(value) -> str:
    return str(floatformat(value, "-2")) if value is not None else ""


def _progress_text(c: Commitment, state: progress.Progress) -> str:
    """Value / target unit (percent), as on the commitment pages."""
    if state.value is None and c.target is None:
        return ""
    parts = [_num(state.value) if state.value is not None else "—"]
    if c.target is not None:
        parts.append(" / " + _num(c.target))
    if c.unit:
        parts.append(" " + c.unit)
    if state.percent is not None:
        parts.append(f" ({state.percent}%)")
    if state.live:
        parts.append(" · " + _("counted from the data"))
    return "".join(parts)


def _commitment_rows(qs, today) -> tuple[list[dict], bool, int]:
    """Commitments of ``qs`` with their progress, late first then by due date.

    Reads at most MAX_COMMITMENTS, open ones first, so truncation drops the
    finished ones before the ones still owed.
    """
    qs = (qs.select_related("meeting", "owner_agency__region", "region")
          .prefetch_related("supporting_agencies")
          .order_by(F("cancelled_on").asc(nulls_first=True), F("done_on").asc(nulls_first=True),
                    F("due_date").asc(nulls_last=True), "meeting_id", "number"))
    items = list(qs[:MAX_COMMITMENTS + 1])
    truncated = len(items) > MAX_COMMITMENTS
    total = qs.count() if truncated else len(items)
    items = items[:MAX_COMMITMENTS]
    states = progress.progress_of(items, today)
    items.sort(key=lambda c: (selectors.STATUS_RANK[states[c.pk].status],
                              c.due_date or datetime.date.max, c.meeting_id, c.number))
    rows = []
    for c in items:
        state = states[c.pk]
        rows.append({
            "id": c.pk, "meeting_id": c.meeting_id, "meeting_title": c.meeting.title,
            "number": c.number, "text": c.text,
            "owner": c.owner_agency.short_name, "owner_id": c.owner_agency_id,
            "owner_name": c.owner_agency.name, "owner_region": c.owner_agency.region.name,
            "supporting": [a.short_name for a in c.supporting_agencies.all()],
            "region": c.region.name, "region_code": c.region_id,
            "due_date": c.due_date, "due": _date(c.due_date),
            "status": state.status, "status_label": state.status_label,
            "value": state.value, "baseline": c.baseline, "target": c.target, "unit": c.unit,
            "percent": state.percent, "live": state.live,
            "has_measure": c.target is not None, "progress_text": _progress_text(c, state),
        })
    return rows, truncated, total


def _counts(rows: list[dict]) -> tuple[dict, list[dict], list[dict]]:
    """Counts by status, the same as a list for display, and per owner agency."""
    labels = dict(STATUS_CHOICES)
    counts = dict.fromkeys(STATUS_ORDER, 0)
    for row in rows:
        counts[row["status"]] += 1
    total = len(rows) or 1
    status_counts = [{"status": s, "label": str(labels[s]), "count": counts[s],
                      "percent": round(100 * counts[s] / total)} for s in STATUS_ORDER]
    agencies: dict[int, dict] = {}
    for row in rows:
        entry = agencies.setdefault(row["owner_id"], {
            "name": row["owner"], "full_name": row["owner_name"],
            "region": row["owner_region"],
            "counts": dict.fromkeys(STATUS_ORDER, 0), "total": 0})
        entry["counts"][row["status"]] += 1
        entry["total"] += 1
    # Two agencies of different regions may share a short name (Dinsos).
    seen: dict[str, int] = {}
    for entry in agencies.values():
        seen[entry["name"]] = seen.get(entry["name"], 0) + 1
    per_agency = []
    for entry in agencies.values():
        if seen[entry["name"]] > 1:
            entry["name"] = f"{entry['name']} ({entry['region']})"
        entry["cells"] = [entry["counts"][s] for s in STATUS_ORDER]
        per_agency.append(entry)
    per_agency.sort(key=lambda e: (-e["counts"][LATE], -e["total"], e["name"]))
    return counts, status_counts, per_agency


def _issue_rows(qs) -> list[dict]:
    return [{"category": i.category, "category_label": i.get_category_display(),
             "region": i.region.name if i.region_id else "", "description": i.description,
             "raised_by": i.raised_by, "meeting_title": i.meeting.title,
             "meeting_id": i.meeting_id}
            for i in qs.select_related("region", "meeting").order_by("meeting_id", "id")
            [:MAX_ISSUES]]


def _meeting_facts(m: Meeting) -> dict:
    return {"id": m.pk, "title": m.title, "kind": m.kind, "kind_label": m.get_kind_display(),
            "theme": m.theme, "starts_on": m.starts_on, "ends_on": m.ends_on,
            "dates": _date(m.starts_on) + (f" – {_date(m.ends_on)}"
                                           if m.ends_on and m.ends_on != m.starts_on else ""),
            "place": m.place, "host": m.host_agency.name if m.host_agency_id else "",
            "host_short": m.host_agency.short_name if m.host_agency_id else "",
            "chair": m.chair, "region": m.region.name, "region_code": m.region_id}


def _agenda(meeting: Meeting) -> list[dict]:
    """Topics grouped by desk in desk order; topics of no desk come last."""
    desks = Desk.objects.filter(meeting=meeting).order_by("position", "id")
    by_desk = {d.pk: {"desk": d.name, "topics": []} for d in desks}
    loose = {"desk": "", "topics": []}
    for item in AgendaItem.objects.filter(meeting=meeting).order_by("position", "id"):
        group = by_desk.get(item.desk_id, loose)
        group["topics"].append({"title": item.title, "description": item.description})
    return [g for g in [*by_desk.values(), loose] if g["topics"]]


def brief_context(*, scope_root: str | None, meeting: Meeting | None = None, region=None,
                  today: datetime.date | None = None) -> dict:
    """Everything the brief shows, for one meeting or for a region's subtree,
    as seen from the scope ``scope_root`` (a region root code; None or "" is
    unscoped): the commitments are those selectors.commitments_visible gives
    a user of that scope, the issues and participants (attendance) those of
    selectors.issues_visible / participants_visible, and a region brief's
    meetings those the scope sees.

    The caller has checked that the user may see the meeting or region;
    labels are translated in the active language.
    """
    scope_root = scope_root or None
    in_scope = selectors.commitments_in_scope_q(scope_root)
    if (meeting is None) == (region is None):
        raise ValueError("a brief is for one meeting or one region")
    today = today or timezone.localdate()
    context = {"today": today, "generated_on": _date(today), "limit": MAX_COMMITMENTS,
               "status_order": STATUS_ORDER, "meeting": None, "region": None,
               "agenda": [], "attendance": None, "meetings": [], "sections": []}
    if meeting is not None:
        meeting = Meeting.objects.select_related("region", "host_agency").get(pk=meeting.pk)
        context["kind"] = "meeting"
        context["title"] = meeting.title
        context["meeting"] = _meeting_facts(meeting)
        context["agenda"] = _agenda(meeting)
        context["attendance"] = selectors.participants_visible(scope_root).filter(
            meeting=meeting).aggregate(
            participants=Count("id"), invited=Count("id", filter=Q(invited=True)),
            attended=Count("id", filter=Q(attended=True)))
        rows, truncated, total = _commitment_rows(
            Commitment.objects.filter(in_scope, meeting=meeting), today)
        context["issues"] = _issue_rows(
            selectors.issues_visible(scope_root).filter(meeting=meeting))
    else:
        code = region.code
        context["kind"] = "region"
        context["title"] = _("Rakor brief of %(region)s") % {"region": region.name}
        context["region"] = {"code": code, "name": region.name,
                             "kind_label": region.get_kind_display()}
        rows, truncated, total = _commitment_rows(
            Commitment.objects.filter(in_scope, subtree_q("region__code", code)), today)
        context["issues"] = _issue_rows(selectors.issues_visible(scope_root).filter(
            subtree_q("meeting__region__code", code),
            selectors.visible_q(scope_root, "meeting__region__code")))
        # Meetings held in the region, and those above it that bound it to a commitment.
        per_meeting: dict[int, int] = {}
        for r in rows:
            per_meeting[r["meeting_id"]] = per_meeting.get(r["meeting_id"], 0) + 1
        meetings = (Meeting.objects.filter(subtree_q("region__code", code)
                                           | Q(pk__in=list(per_meeting)),
                                           selectors.visible_q(scope_root, "region__code"))
                    .select_related("region", "host_agency")
                    .order_by("-starts_on", "-id")[:MAX_MEETINGS])
        context["meetings"] = [{**_meeting_facts(m), "commitments": per_meeting.get(m.pk, 0)}
                               for m in meetings]
        context["sections"] = [s for s in (fn(scope_root, code) for fn in progress.SECTIONS) if s]
    counts, status_counts, per_agency = _counts(rows)
    context.update({"commitments": rows, "truncated": truncated,
                    "total_commitments": total, "shown_commitments": len(rows),
                    "counts": counts, "status_counts": status_counts,
                    "per_agency": per_agency,
                    "status_labels": [str(dict(STATUS_CHOICES)[s]) for s in STATUS_ORDER]})
    return context


def brief_job_create(*, actor, meeting: Meeting | None = None, region=None,
                     language: str = "id") -> BriefJob:
    """Queue a brief; the caller has checked that ``actor`` may see the
    meeting or region. Asking for one is a write (a job row, a file): it
    needs ``brief.create``, which the read-only leader lacks. ``language``
    is the one the PDF is written in. The job records the actor's scope: the
    PDF shows what that scope sees, and only users of the same scope may
    open it (``actor`` None: unscoped)."""
    from django.conf import settings

    if (meeting is None) == (region is None):
        raise SinergiError(_("Say which meeting or region the brief is for."))
    if actor is not None:
        access.check_capability(actor, "brief.create")
    codes = [code for code, _name in settings.LANGUAGES]
    language = (language or "").lower()
    if language not in codes:
        language = language.split("-")[0] if language.split("-")[0] in codes \
            else settings.LANGUAGE_CODE
    with transaction.atomic():
        scope_root = (access.scope_root(actor) or "") if actor is not None else ""
        job = BriefJob.objects.create(
            meeting=meeting, region=region if meeting is None else None, language=language,
            scope_root=scope_root,
            created_by=actor if getattr(actor, "is_authenticated", False) else None)
        audit_record(actor=actor, action="brief.create", obj=job,
                     after={"meeting": meeting.pk if meeting else None,
                            "region": region.code if region is not None else None,
                            "language": language, "scope_root": scope_root})
        jobs.enqueue(JOB_KIND, job.pk)
    return job


def brief_job_claim(job_id: int | None = None) -> BriefJob | None:
    """Claim the job of brief ``job_id`` (or of the oldest waiting brief) for
    this process, to make it here."""
    task = jobs.claim(kind=JOB_KIND, ref_id=job_id)
    if task is None:
        return None
    _start(task.ref_id)
    return BriefJob.objects.get(pk=task.ref_id)


def brief_job_run(job: BriefJob) -> BriefJob:
    """Make the PDF of a brief claimed by this process."""
    task = Job.objects.get(kind=JOB_KIND, ref_id=job.pk, status=Job.RUNNING,
                           worker=jobs.worker_id())
    jobs.run(task)
    job.refresh_from_db()
    return job


def _start(job_id: int) -> bool:
    return bool(BriefJob.objects.filter(pk=job_id, status=BRIEF_PENDING).update(
        status=BRIEF_RUNNING, started_at=timezone.now(), worker=jobs.worker_id()))


def brief_job_work(job_id: int, context: jobs.Context) -> None:
    """The work of a brief job (run by core.jobs): the PDF, made in memory
    first, so a failure leaves no file behind."""
    _start(job_id)
    job = BriefJob.objects.select_related("meeting", "region").filter(
        pk=job_id, status=BRIEF_RUNNING).first()
    if job is None:  # cancelled or removed with its meeting
        return
    with translation.override(job.language):
        pdf = render_pdf(brief_context(meeting=job.meeting, region=job.region,
                                       scope_root=job.scope_root))
    context.beat()
    job.file.save(f"brief-rakor-{job.pk}.pdf", ContentFile(pdf), save=False)
    stored = job.file.name
    try:
        updated = BriefJob.objects.filter(pk=job.pk, status=BRIEF_RUNNING).update(
            status=BRIEF_DONE, file=stored, message="", finished_at=timezone.now())
    except BaseException:
        job.file.storage.delete(stored)
        raise
    if not updated:  # ended or removed meanwhile: the row no longer wants it
        job.file.storage.delete(stored)


def brief_job_end(job_id: int, status: str, message: str) -> bool:
    """The job runner's end of a brief that could not be made."""
    job = BriefJob.objects.filter(pk=job_id).first()
    if job is None:  # removed with its meeting: nothing left to record
        return True
    with transaction.atomic():
        updated = BriefJob.objects.filter(
            pk=job_id, status__in=[BRIEF_PENDING, BRIEF_RUNNING]).update(
            status=BRIEF_FAILED, message=message, file="", finished_at=timezone.now())
        if updated:
            audit_record(actor=job.created_by, action="brief.fail", obj=job,
                         after={"message": message})
    return bool(updated)
