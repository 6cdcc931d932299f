"""Writes to meetings and commitments. Every change is checked against the
actor's rights (selectors.check_manage / can_update) and audited in the same
transaction. Values arrive as typed by forms (dates, decimals, ids as text)
or as text from the API and the Excel import; each service turns both into
one form (sinergi/core/values.py) or says which field is wrong and why.

An update service takes every field as a keyword defaulting to UNSET and
changes only those given; None is a value ("empty it") where a field may be
empty, and refused with its reason where it may not.
"""

import datetime
import logging
import re
from collections.abc import Iterable
from contextlib import contextmanager
from decimal import Decimal

from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from sinergi.accounts import access
from sinergi.agencies.models import Agency
from sinergi.core import values
from sinergi.core.audit import audit_changes, audit_record, snapshot
from sinergi.core.errors import AccessDenied, SinergiError
from sinergi.core.values import UNSET
from sinergi.regions import codes as region_codes

from . import progress, selectors
from .models import (
    KIND_CHOICES,
    MANUAL,
    MARK_CANCELLED,
    MARK_DONE,
    PROGRESS,
    REOPEN,
    AgendaItem,
    Attachment,
    Commitment,
    Evidence,
    Meeting,
    MeetingIssue,
    ProgressUpdate,
)

# The writes to a meeting's participants, agenda and issues live in parts.py
# (this module would pass 500 lines); they are services of the app like the
# rest, called by this module's name.
from .parts import agenda_add as agenda_add
from .parts import issue_add as issue_add
from .parts import meeting_part_remove as meeting_part_remove
from .parts import participant_add as participant_add

log = logging.getLogger(__name__)

# What callers may pass for a date, an agency and a number: the value itself,
# or the text a person typed (an agency by its id).
DateValue = datetime.date | str | None
AgencyValue = Agency | int | str
NumberValue = Decimal | int | float | str | None

MAX_FILE_BYTES = 20 * 1024 * 1024
MEETING_FIELDS = ("kind", "title", "theme", "starts_on", "ends_on", "place", "region",
                  "host_agency", "chair", "minutes")


def _length(field: str) -> int:
    return Meeting._meta.get_field(field).max_length


def _meeting_fields(actor, *, current: Meeting | None = None, kind=UNSET, title=UNSET,
                    theme=UNSET, starts_on=UNSET, ends_on=UNSET, place=UNSET, region=UNSET,
                    host_agency=UNSET, chair=UNSET, minutes=UNSET) -> dict:
    """The values given (not UNSET) as the meeting's fields, checked in the
    form's order, so the first wrong field is the one named."""
    out: dict = {}
    if kind is not UNSET:
        out["kind"] = values.choice(kind, "kind", KIND_CHOICES)
    if title is not UNSET:
        out["title"] = values.text(title, "title", 200, required=True)
    if theme is not UNSET:
        out["theme"] = values.text(theme, "theme", _length("theme"))
    if starts_on is not UNSET:
        out["starts_on"] = values.as_date(starts_on, "starts_on", required=True)
    if ends_on is not UNSET:
        out["ends_on"] = values.as_date(ends_on, "ends_on")
    if place is not UNSET:
        out["place"] = values.text(place, "place", _length("place"))
    if region is not UNSET:
        chosen = selectors.region_inside(actor, region, "region")
        # Visible is not enough: a kabupaten sees the province but holds no
        # meeting of it.
        if actor is not None and not access.in_scope(actor, chosen.code):
            raise SinergiError(_("You may only hold meetings of your own region or below "
                                 "it."), field="region")
        out["region"] = chosen
    if host_agency is not UNSET:
        if host_agency in (None, ""):
            out["host_agency"] = None
        else:
            keep = {current.host_agency_id} if current and current.host_agency_id else ()
            out["host_agency"] = selectors.active_agency(actor, host_agency, "host_agency",
                                                         keep=keep)
    if chair is not UNSET:
        out["chair"] = values.text(chair, "chair", _length("chair"))
    if minutes is not UNSET:
        out["minutes"] = values.text(minutes, "minutes", None)
    starts = out.get("starts_on", current.starts_on if current else None)
    ends = out.get("ends_on", current.ends_on if current else None)
    if starts and ends and ends < starts:
        raise SinergiError(_("The meeting cannot end before it starts."), field="ends_on")
    return out


# --- meetings -----------------------------------------------------------------------------

@transaction.atomic
def meeting_create(*, actor, kind: str, title: str, starts_on: DateValue, region: str,
                   theme: str = "", ends_on: DateValue = None, place: str = "",
                   host_agency: AgencyValue | None = None, chair: str = "",
                   minutes: str = "") -> Meeting:
    """Record a meeting held by the government of ``region`` (a code in the
    actor's own subtree); ``actor`` None is the system (demo, commands)."""
    if actor is not None:
        access.check_capability(actor, "meeting.manage")
    for field, value in (("kind", kind), ("title", title), ("starts_on", starts_on),
                         ("region", region)):
        if value in (None, ""):
            raise SinergiError(_("This field is required; fill it in."), field=field)
    meeting = Meeting(created_by=actor if getattr(actor, "pk", None) else None,
                      **_meeting_fields(actor, kind=kind, title=title, theme=theme,
                                        starts_on=starts_on, ends_on=ends_on, place=place,
                                        region=region, host_agency=host_agency, chair=chair,
                                        minutes=minutes))
    meeting.save()
    audit_record(actor=actor, action="meeting.create", obj=meeting, after=snapshot(meeting))
    return meeting


@transaction.atomic
def meeting_update(*, actor, meeting: Meeting, kind: str = UNSET, title: str = UNSET,
                   theme: str | None = UNSET, starts_on: DateValue = UNSET,
                   ends_on: DateValue = UNSET, place: str | None = UNSET,
                   region: str = UNSET, host_agency: AgencyValue | None = UNSET,
                   chair: str | None = UNSET, minutes: str | None = UNSET) -> Meeting:
    """Change the fields given of a meeting; returns the saved row (read
    again under a lock, so a change made meanwhile by someone else is
    neither lost nor audited wrong). A new region must still hold the
    meeting's commitments and issues."""
    meeting = selectors.locked_meeting(meeting.pk)
    selectors.check_manage(actor, meeting)
    before = snapshot(meeting)
    fields = _meeting_fields(actor, current=meeting, **values.given(
        kind=kind, title=title, theme=theme, starts_on=starts_on, ends_on=ends_on, place=place,
        region=region, host_agency=host_agency, chair=chair, minutes=minutes))
    chosen = fields.get("region")
    if chosen is not None and chosen.code != meeting.region_id:
        _check_parts_within(meeting, chosen.code)
    for field, value in fields.items():
        setattr(meeting, field, value)
    meeting.save(update_fields=[*fields, "updated_at"])
    audit_changes(actor, "meeting.update", meeting, before)
    return meeting


def _check_parts_within(meeting: Meeting, code: str) -> None:
    """Refuse a new region that would leave commitments or issues of the
    meeting outside it (they must lie inside the meeting's region)."""
    inside = region_codes.subtree_q("region__code", code)
    outside = (Commitment.objects.filter(meeting=meeting).exclude(inside).count()
               + MeetingIssue.objects.filter(meeting=meeting, region__isnull=False)
               .exclude(inside).count())
    if outside:
        raise SinergiError(ngettext(
            "%(n)d commitment or issue of this meeting lies outside region %(code)s; change "
            "its region first, or choose a region that contains it.",
            "%(n)d commitments or issues of this meeting lie outside region %(code)s; change "
            "their regions first, or choose a region that contains them.", outside)
            % {"n": outside, "code": code}, field="region")


# --- uploaded files -----------------------------------------------------------------------

@contextmanager
def _files_removed_on_error():
    """Collect (storage, name) of files written by a service; if the service
    then fails, its transaction rolls back and the files are removed too."""
    written: list[tuple] = []
    try:
        yield written
    except BaseException:
        for storage, name in written:
            try:
                storage.delete(name)
            except OSError:
                log.warning("could not remove %s after a failed save", name, exc_info=True)
        raise


def upload_name(upload) -> str:
    """A safe file name for an upload: its own name's last part, with
    anything but letters, digits, dots, dashes and spaces replaced."""
    name = re.sub(r"[^\w.\- ]+", "_", str(getattr(upload, "name", "") or "file"))
    return name.rsplit("/", 1)[-1][-120:] or "file"


def _check_file(upload, field: str) -> None:
    size = getattr(upload, "size", 0) or 0
    if size == 0:
        raise SinergiError(_("The file is empty; choose the file again."), field=field)
    if size > MAX_FILE_BYTES:
        raise SinergiError(_("The file is larger than %(mb)d MB; send a smaller scan or "
                             "split it.") % {"mb": MAX_FILE_BYTES // 1024 // 1024},
                           field=field)


@transaction.atomic
def attachment_add(*, actor, meeting: Meeting, upload, title: str = "") -> Attachment:
    """Keep a file of the meeting (signed minutes, attendance list, slides);
    the file is removed again if the save fails."""
    selectors.check_manage(actor, meeting)
    _check_file(upload, "file")
    name = upload_name(upload)
    attachment = Attachment(meeting=meeting, title=values.text(title, "title", 200) or name,
                            size=upload.size, uploaded_by=actor if getattr(actor, "pk", None)
                            else None)
    with _files_removed_on_error() as written:
        attachment.file.save(name, upload, save=False)
        written.append((attachment.file.storage, attachment.file.name))
        attachment.save()
        audit_record(actor=actor, action="meeting.attachment_add", obj=meeting,
                     after={"title": attachment.title, "size": attachment.size})
    return attachment


# --- commitments --------------------------------------------------------------------------

def _agenda_item(meeting: Meeting, value) -> AgendaItem | None:
    if value in (None, ""):
        return None
    item = AgendaItem.objects.filter(meeting=meeting,
                                     pk=values.as_int(value, "agenda_item")).first()
    if item is None:
        raise SinergiError(_("That agenda item is not one of this meeting's."),
                           field="agenda_item")
    return item


def _commitment_fields(actor, meeting: Meeting, *, current: Commitment | None = None,
                       text=UNSET, agenda_item=UNSET, owner_agency=UNSET,
                       supporting_agencies=UNSET, region=UNSET, due_date=UNSET, unit=UNSET,
                       baseline=UNSET, target=UNSET, source=UNSET,
                       source_param=UNSET) -> tuple[dict, list[Agency] | None]:
    """The values given (not UNSET) as the commitment's fields, checked in
    the form's order, and its supporting agencies (None: unchanged)."""
    out: dict = {}
    supporting = None
    if text is not UNSET:
        out["text"] = values.text(text, "text", 2000, required=True)
    if agenda_item is not UNSET:
        out["agenda_item"] = _agenda_item(meeting, agenda_item)
    if owner_agency is not UNSET:
        if owner_agency in (None, ""):
            raise SinergiError(_("Name the agency that owns the commitment."),
                               field="owner_agency")
        keep = {current.owner_agency_id} if current else ()
        out["owner_agency"] = selectors.active_agency(actor, owner_agency, "owner_agency",
                                                      keep=keep)
    # None is "not given" here, as the API documents: the supporting agencies
    # stay as they are; an empty list removes them all.
    if supporting_agencies is not UNSET and supporting_agencies is not None:
        keep = set(current.supporting_agencies.values_list("id", flat=True)) \
            if current else set()
        supporting = [selectors.active_agency(actor, v, "supporting_agencies", keep=keep)
                      for v in supporting_agencies]
    if region is not UNSET:
        out["region"] = selectors.region_inside(actor, region, "region",
                                                within=meeting.region_id)
    if due_date is not UNSET:
        out["due_date"] = values.as_date(due_date, "due_date")
    if unit is not UNSET:
        out["unit"] = values.text(unit, "unit", 60)
    for field, value in (("baseline", baseline), ("target", target)):
        if value is not UNSET:
            out[field] = values.as_decimal(value, field)
    if source is not UNSET:
        out["source"] = values.text(source, "source", 40) or MANUAL
    if source_param is not UNSET:
        out["source_param"] = values.text(source_param, "source_param", 60)
    source = out.get("source", current.source if current else MANUAL)
    param = out.get("source_param", current.source_param if current else "")
    problem = progress.counter_problem(source, param)
    if problem:
        raise SinergiError(problem, field="source_param" if source in progress.COUNTERS
                           else "source")
    if source != MANUAL and out.get("target", current.target if current else None) is None:
        raise SinergiError(_("A commitment measured from the data needs a target."),
                           field="target")
    return out, supporting


def _commitment_snapshot(c: Commitment) -> dict:
    data = snapshot(c)
    data["supporting_agencies"] = sorted(c.supporting_agencies.values_list("id", flat=True))
    return data


@transaction.atomic
def commitment_create(*, actor, meeting: Meeting, text: str, owner_agency: AgencyValue,
                      supporting_agencies: Iterable[AgencyValue] = (),
                      region: str | None = None, agenda_item: int | str | None = None,
                      due_date: DateValue = None, unit: str = "",
                      baseline: NumberValue = None, target: NumberValue = None,
                      source: str = MANUAL, source_param: str = "") -> Commitment:
    """Add the next numbered commitment to a meeting. ``region`` None is the
    meeting's own; ``source`` names a counter (progress.COUNTERS) when the
    progress is counted from the data, which then needs a ``target``."""
    selectors.check_manage(actor, meeting)
    # Numbering under a lock of the meeting row: SELECT ... FOR UPDATE on an
    # aggregate (Max) locks nothing (Django drops it), so two creations at
    # once would both take the same next number. The meeting row serialises them.
    meeting = selectors.locked_meeting(meeting.pk)
    if not text:
        raise SinergiError(_("This field is required; fill it in."), field="text")
    if not owner_agency:
        raise SinergiError(_("Name the agency that owns the commitment."), field="owner_agency")
    fields, supporting = _commitment_fields(
        actor, meeting, text=text, agenda_item=agenda_item, owner_agency=owner_agency,
        supporting_agencies=supporting_agencies,
        region=meeting.region_id if region is None else region, due_date=due_date, unit=unit,
        baseline=baseline, target=target, source=source, source_param=source_param)
    last = Commitment.objects.filter(meeting=meeting).aggregate(m=Max("number"))["m"]
    commitment = Commitment.objects.create(
        meeting=meeting, number=(last or 0) + 1,
        created_by=actor if getattr(actor, "pk", None) else None, **fields)
    if supporting:
        commitment.supporting_agencies.set(supporting)
    audit_record(actor=actor, action="commitment.create", obj=commitment,
                 after=_commitment_snapshot(commitment))
    return commitment


@transaction.atomic
def commitment_update(*, actor, commitment: Commitment, text: str = UNSET,
                      agenda_item: int | str | None = UNSET,
                      owner_agency: AgencyValue = UNSET,
                      supporting_agencies: Iterable[AgencyValue] | None = UNSET,
                      region: str = UNSET, due_date: DateValue = UNSET,
                      unit: str | None = UNSET, baseline: NumberValue = UNSET,
                      target: NumberValue = UNSET, source: str | None = UNSET,
                      source_param: str | None = UNSET) -> Commitment:
    """Change the terms given of a commitment; returns the saved row. The row
    is read again under a lock and only the changed fields are written, so
    progress reported meanwhile (value, done, cancelled) is kept.
    ``supporting_agencies`` None leaves them as they are."""
    commitment = Commitment.objects.select_for_update().get(pk=commitment.pk)
    meeting = commitment.meeting = selectors.locked_meeting(commitment.meeting_id)
    selectors.check_manage(actor, meeting, what="commitment")
    before = _commitment_snapshot(commitment)
    fields, supporting = _commitment_fields(actor, meeting, current=commitment, **values.given(
        text=text, agenda_item=agenda_item, owner_agency=owner_agency,
        supporting_agencies=supporting_agencies, region=region, due_date=due_date, unit=unit,
        baseline=baseline, target=target, source=source, source_param=source_param))
    for field, value in fields.items():
        setattr(commitment, field, value)
    commitment.save(update_fields=[*fields, "updated_at"])
    if supporting is not None:
        commitment.supporting_agencies.set(supporting)
    audit_changes(actor, "commitment.update", commitment, before,
                  _commitment_snapshot(commitment))
    return commitment


@transaction.atomic
def progress_report(*, actor, commitment: Commitment, kind: str = PROGRESS,
                    date: DateValue = None, value: NumberValue = None, narrative: str = "",
                    files=()) -> ProgressUpdate:
    """Record one progress update: a value and/or narrative, or a change of
    state (done, cancelled, reopened). Progress is for anyone who may report;
    done and reopen for the owner agency and coordinators; cancelling (and
    reopening a cancelled one) for the meeting's coordinators. A cancelled
    commitment takes no report until it is reopened. ``date`` None is today;
    ``files`` are evidence uploads.

    The commitment is read again under a lock: two reports at once, or a
    report and an edit, apply one after the other. ``update.commitment`` is
    the saved row."""
    commitment = Commitment.objects.select_for_update().get(pk=commitment.pk)
    commitment.meeting = Meeting.objects.select_related("region").get(pk=commitment.meeting_id)
    if actor is not None and not selectors.can_update(actor, commitment):
        raise AccessDenied(_("Only the owner or a supporting agency of this commitment, or a "
                             "coordinator of its region, may report progress."))
    kind = values.choice(kind or PROGRESS, "kind",
                         [(PROGRESS, ""), (MARK_DONE, ""), (MARK_CANCELLED, ""), (REOPEN, "")])
    if commitment.cancelled_on and kind != REOPEN:
        raise SinergiError(_("This commitment is cancelled; reopen it before reporting on "
                             "it."), field="kind")
    if kind in (MARK_DONE, REOPEN) and actor is not None and \
            not selectors.can_settle(actor, commitment):
        raise AccessDenied(_("Only the owner agency of this commitment or a coordinator may "
                             "mark it done or reopen it; a supporting agency reports "
                             "progress."))
    today = timezone.localdate()
    date = values.as_date(date, "date") or today
    if date > today:
        raise SinergiError(_("The date of an update cannot be in the future."), field="date")
    value = values.as_decimal(value, "value")
    narrative = values.text(narrative, "narrative", None)
    if value is not None and commitment.is_data_bound:
        raise SinergiError(_("This commitment's value is counted from the data; write a "
                             "narrative instead of a value."), field="value")
    if kind == PROGRESS and value is None and not narrative and not files:
        raise SinergiError(_("Give a value, a narrative or an evidence file."), field="value")
    if kind == MARK_CANCELLED:
        selectors.check_manage(actor, commitment.meeting, what="commitment")
        if not narrative:
            raise SinergiError(_("Say why the commitment is cancelled."), field="narrative")
    if kind == REOPEN and not (commitment.done_on or commitment.cancelled_on):
        raise SinergiError(_("Only a commitment marked done or cancelled can be reopened."),
                           field="kind")
    if kind == REOPEN and commitment.cancelled_on:
        selectors.check_manage(actor, commitment.meeting, what="commitment")
    for upload in files:
        _check_file(upload, "evidence")
    before = snapshot(commitment)
    with _files_removed_on_error() as written:
        update = ProgressUpdate.objects.create(
            commitment=commitment, kind=kind, date=date, value=value, narrative=narrative,
            author=actor if getattr(actor, "pk", None) else None,
            author_label=actor.get_username() if getattr(actor, "pk", None) else "system")
        for upload in files:
            evidence = Evidence(update=update, name=upload_name(upload), size=upload.size)
            evidence.file.save(evidence.name, upload, save=False)
            written.append((evidence.file.storage, evidence.file.name))
            evidence.save()
        changed = ["last_update_on"]
        if value is not None and (commitment.value_date is None
                                  or date >= commitment.value_date):
            commitment.value, commitment.value_date = value, date
            changed += ["value", "value_date"]
        commitment.last_update_on = max(filter(None, [commitment.last_update_on, date]))
        if kind == MARK_DONE:
            commitment.done_on = date
            changed.append("done_on")
        elif kind == MARK_CANCELLED:
            commitment.cancelled_on, commitment.cancel_reason = date, narrative[:300]
            changed += ["cancelled_on", "cancel_reason"]
        elif kind == REOPEN:
            commitment.done_on = commitment.cancelled_on = None
            commitment.cancel_reason = ""
            changed += ["done_on", "cancelled_on", "cancel_reason"]
        commitment.save(update_fields=[*changed, "updated_at"])
        audit_changes(actor, f"commitment.{kind}", commitment, before,
                      extra={"update_id": update.pk, "kind": kind,
                             "narrative": narrative[:200], "evidence": len(files)})
    return update


def commitments_export(*, actor, meeting: int | str | None = None,
                       agency: int | str | None = None, region: str | None = None,
                       status: str | None = None, due: str | None = None,
                       mine: bool = False) -> list[progress.Tracked]:
    """The board's commitments under its filters (selectors.board), for a
    spreadsheet, with the export audited: who read out how many, under which
    filters. A filter that makes no sense is a SinergiError before anything
    is audited."""
    filters = {"meeting": meeting, "agency": agency, "region": region, "status": status,
               "due": due, "mine": mine}
    rows, _truncated = selectors.board(user=actor, **filters)
    # Read first, audit after in a short transaction of its own: on SQLite a
    # transaction holds the write lock, which a province's board read would
    # keep from every other writer.
    with transaction.atomic():
        audit_record(actor=actor, action="commitment.export",
                     object_type="meetings.commitment", object_repr=ngettext(
                         "%(n)d commitment", "%(n)d commitments", len(rows)) % {"n": len(rows)},
                     region_code=access.scope_root(actor) or "",
                     after={"filters": {k: v for k, v in filters.items() if v}})
    return rows
