"""Writes to meetings and commitments. Every change is checked against the
actor's rights (selectors.can_manage / can_update) and audited in the same
transaction. Values arrive as typed by forms or as text from the API and the
Excel import; ``_clean_*`` turns both into one form or says what is wrong.
"""

import logging
import re
from contextlib import contextmanager

from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from sinergi.accounts import access
from sinergi.agencies.models import Agency
from sinergi.core import values
from sinergi.core.audit import audit_changes, audit_record, snapshot
from sinergi.core.errors import AccessDenied, NotInScope, SinergiError
from sinergi.regions import codes as region_codes
from sinergi.regions.models import Region

from . import progress, selectors
from .models import (
    ISSUE_CATEGORY_CHOICES,
    KIND_CHOICES,
    MANUAL,
    MARK_CANCELLED,
    MARK_DONE,
    PROGRESS,
    REOPEN,
    AgendaItem,
    Attachment,
    Commitment,
    Desk,
    Evidence,
    Meeting,
    MeetingIssue,
    Participant,
    ProgressUpdate,
)

log = logging.getLogger(__name__)

MAX_FILE_BYTES = 20 * 1024 * 1024
MEETING_FIELDS = ("kind", "title", "theme", "starts_on", "ends_on", "place", "region",
                  "host_agency", "chair", "minutes")
COMMITMENT_FIELDS = ("text", "agenda_item", "owner_agency", "supporting_agencies", "region",
                     "due_date", "unit", "baseline", "target", "source", "source_param")


# Shared cleaning (sinergi/core/values.py), under the names used here and by transfer.py.
_text, as_date, as_decimal, _choice = (values.text, values.as_date, values.as_decimal,
                                       values.choice)


def _agency(actor, value, field: str, *, keep: set[int] = frozenset()) -> Agency:
    """An agency the actor may see and still active; one in ``keep`` (the
    value the object has now) may stay even if it has been deactivated since."""
    agency = access.agency_field(actor, value, field)
    if not agency.is_active and agency.pk not in keep:
        raise SinergiError(_("Agency %(a)s is marked inactive; choose an active agency or ask "
                             "a coordinator to reactivate it.") % {"a": agency}, field=field)
    return agency


def _region(actor, value, field: str, *, within: str | None = None) -> Region:
    region = access.region_field(actor, value, field)
    if within and not region_codes.code_in_subtree(region.code, within):
        raise SinergiError(_("Region %(code)s lies outside the meeting's region %(root)s; "
                             "choose a region inside it.") % {"code": region.code,
                                                               "root": within}, field=field)
    return region


def _clean_meeting(actor, data: dict, *, current: Meeting | None = None) -> dict:
    out = {}
    for field in MEETING_FIELDS:
        if field not in data:
            continue
        value = data[field]
        if field == "kind":
            out[field] = _choice(value, field, KIND_CHOICES)
        elif field == "title":
            out[field] = _text(value, field, 200, required=True)
        elif field in {"theme", "place", "chair"}:
            out[field] = _text(value, field, Meeting._meta.get_field(field).max_length)
        elif field == "minutes":
            out[field] = _text(value, field, None)
        elif field in {"starts_on", "ends_on"}:
            out[field] = as_date(value, field, required=field == "starts_on")
        elif field == "region":
            region = _region(actor, value, field)
            if actor is not None and not access.in_scope(actor, region.code):
                raise SinergiError(_("You may only hold meetings of your own region or below "
                                     "it."), field=field)
            out[field] = region
        elif field == "host_agency":
            keep = {current.host_agency_id} if current and current.host_agency_id else set()
            out[field] = _agency(actor, value, field, keep=keep) \
                if value not in (None, "") else None
    starts = out.get("starts_on", current.starts_on if current else None)
    ends = out.get("ends_on", current.ends_on if current else None)
    if starts and ends and ends < starts:
        raise SinergiError(_("The meeting cannot end before it starts."), field="ends_on")
    return out


# --- meetings -----------------------------------------------------------------------------

@transaction.atomic
def meeting_create(*, actor, data: dict) -> Meeting:
    """Record a meeting; ``actor`` None is the system (demo, commands)."""
    if actor is not None:
        access.check_capability(actor, "meeting.manage")
    for required in ("kind", "title", "starts_on", "region"):
        if data.get(required) in (None, ""):
            raise SinergiError(_("This field is required; fill it in."), field=required)
    meeting = Meeting(created_by=actor if getattr(actor, "pk", None) else None,
                      **_clean_meeting(actor, data))
    meeting.save()
    audit_record(actor=actor, action="meeting.create", obj=meeting, after=snapshot(meeting))
    return meeting


@transaction.atomic
def meeting_update(*, actor, meeting: Meeting, data: dict) -> Meeting:
    """Change a meeting; returns the saved row (read again under a lock, so a
    change made meanwhile by someone else is neither lost nor audited wrong)."""
    meeting = _locked_meeting(meeting.pk)
    _check_manage(actor, meeting)
    before = snapshot(meeting)
    fields = _clean_meeting(actor, data, current=meeting)
    region = fields.get("region")
    if region is not None and region.code != meeting.region_id:
        _check_parts_within(meeting, region.code)
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


def _check_manage(actor, meeting: Meeting, *, what: str = "meeting") -> None:
    selectors.check_manage(actor, meeting, what=what)


def _locked_meeting(pk: int) -> Meeting:
    """The meeting's row, read again and locked until the transaction ends.

    What depends on the meeting (next commitment number, agenda position,
    desk, its region for a commitment's or issue's region) is decided under
    this lock, so writers of one meeting go one after the other. A lock on
    ``aggregate(Max(...))`` would not do: Django drops FOR UPDATE there.
    """
    return Meeting.objects.select_for_update().get(pk=pk)


@transaction.atomic
def participant_add(*, actor, meeting: Meeting, data: dict) -> Participant:
    _check_manage(actor, meeting)
    agency = _agency(actor, data["agency"], "agency") if data.get("agency") else None
    region = _region(actor, data["region"], "region") if data.get("region") else None
    name = _text(data.get("name"), "name", 120)
    if agency is None and region is None and not name:
        raise SinergiError(_("Name an agency, a region or a representative."), field="agency")
    participant = Participant.objects.create(
        meeting=meeting, agency=agency, region=region, name=name,
        position=_text(data.get("position"), "position", 120),
        invited=bool(data.get("invited", True)), attended=bool(data.get("attended", False)))
    audit_record(actor=actor, action="meeting.participant_add", obj=meeting,
                 after={"participant": str(participant), "attended": participant.attended})
    return participant


@transaction.atomic
def agenda_add(*, actor, meeting: Meeting, data: dict) -> AgendaItem:
    """Add a topic, in the named desk (created on first use) or none."""
    _check_manage(actor, meeting)
    title = _text(data.get("title"), "title", 300, required=True)
    desk_name = _text(data.get("desk"), "desk", 120)
    # Lock the meeting row: SELECT ... FOR UPDATE on an aggregate (Max) locks
    # nothing (Django drops it), so two adds at once would take the same
    # position or both create the desk. The meeting row serialises them.
    meeting = _locked_meeting(meeting.pk)
    desk = None
    if desk_name:
        desk = Desk.objects.filter(meeting=meeting, name=desk_name).first()
        if desk is None:
            last = Desk.objects.filter(meeting=meeting).aggregate(m=Max("position"))["m"]
            desk = Desk.objects.create(meeting=meeting, name=desk_name,
                                       position=(last or 0) + 1)
    last = AgendaItem.objects.filter(meeting=meeting).aggregate(m=Max("position"))["m"]
    item = AgendaItem.objects.create(meeting=meeting, desk=desk, title=title,
                                     description=_text(data.get("description"), "description",
                                                       None),
                                     position=(last or 0) + 1)
    audit_record(actor=actor, action="meeting.agenda_add", obj=meeting,
                 after={"topic": title, "desk": desk_name})
    return item


@transaction.atomic
def issue_add(*, actor, meeting: Meeting, data: dict) -> MeetingIssue:
    _check_manage(actor, meeting)
    # The meeting's region as it is now, held until the issue is saved (a
    # region change of the meeting checks its issues under the same lock).
    meeting = _locked_meeting(meeting.pk)
    region = _region(actor, data["region"], "region", within=meeting.region_id) \
        if data.get("region") else None
    issue = MeetingIssue.objects.create(
        meeting=meeting, category=_choice(data.get("category"), "category",
                                          ISSUE_CATEGORY_CHOICES),
        region=region, description=_text(data.get("description"), "description", None,
                                         required=True),
        raised_by=_text(data.get("raised_by"), "raised_by", 120))
    audit_record(actor=actor, action="meeting.issue_add", obj=meeting,
                 after={"category": issue.category, "region": issue.region_id,
                        "description": issue.description[:200]})
    return issue


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


def _file_name(upload) -> str:
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
    _check_manage(actor, meeting)
    _check_file(upload, "file")
    name = _file_name(upload)
    attachment = Attachment(meeting=meeting, title=_text(title, "title", 200) or name,
                            size=upload.size, uploaded_by=actor if getattr(actor, "pk", None)
                            else None)
    with _files_removed_on_error() as written:
        attachment.file.save(name, upload, save=False)
        written.append((attachment.file.storage, attachment.file.name))
        attachment.save()
        audit_record(actor=actor, action="meeting.attachment_add", obj=meeting,
                     after={"title": attachment.title, "size": attachment.size})
    return attachment


PARTS = {"participant": Participant, "agenda": AgendaItem, "issue": MeetingIssue,
         "attachment": Attachment}


@transaction.atomic
def meeting_part_remove(*, actor, meeting: Meeting, kind: str, pk: int) -> None:
    """Remove a participant, agenda item, issue or minutes file entered by mistake.

    Commitments of a removed agenda item keep their text and lose the link.
    """
    _check_manage(actor, meeting)
    model = PARTS.get(kind)
    obj = model.objects.filter(meeting=meeting, pk=pk).first() if model else None
    if obj is None:
        raise NotInScope(_("Not found in this meeting."))
    label = str(obj)
    if kind == "attachment" and obj.file:
        # Only once the removal is committed: a rollback keeps row and file.
        storage, name = obj.file.storage, obj.file.name
        transaction.on_commit(lambda: storage.delete(name))
    obj.delete()
    if kind == "agenda":
        Desk.objects.filter(meeting=meeting, items__isnull=True).delete()
    audit_record(actor=actor, action=f"meeting.{kind}_remove", obj=meeting,
                 before={kind: label[:200]})


# --- commitments --------------------------------------------------------------------------

def _clean_commitment(actor, meeting: Meeting, data: dict, *,
                      current: Commitment | None = None) -> tuple[dict, list[Agency] | None]:
    out: dict = {}
    supporting = None
    for field in COMMITMENT_FIELDS:
        if field not in data:
            continue
        value = data[field]
        if field == "text":
            out[field] = _text(value, field, 2000, required=True)
        elif field == "agenda_item":
            if value in (None, ""):
                out[field] = None
            else:
                item = AgendaItem.objects.filter(meeting=meeting,
                                                 pk=values.as_int(value, field)).first()
                if item is None:
                    raise SinergiError(_("That agenda item is not one of this meeting's."),
                                       field=field)
                out[field] = item
        elif field == "owner_agency":
            if value in (None, ""):
                raise SinergiError(_("Name the agency that owns the commitment."), field=field)
            out[field] = _agency(actor, value, field, keep={current.owner_agency_id}
                                 if current else set())
        elif field == "supporting_agencies":
            if value is None:  # "not given": the supporting agencies stay as they are
                continue
            keep = set(current.supporting_agencies.values_list("id", flat=True)) \
                if current else set()
            supporting = [_agency(actor, v, field, keep=keep) for v in value]
        elif field == "region":
            out[field] = _region(actor, value, field, within=meeting.region_id)
        elif field == "due_date":
            out[field] = as_date(value, field)
        elif field == "unit":
            out[field] = _text(value, field, 60)
        elif field in {"baseline", "target"}:
            out[field] = as_decimal(value, field)
        elif field == "source":
            out[field] = _text(value, field, 40) or MANUAL
        elif field == "source_param":
            out[field] = _text(value, field, 60)
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
def commitment_create(*, actor, meeting: Meeting, data: dict) -> Commitment:
    _check_manage(actor, meeting)
    # Numbering under a lock of the meeting row: SELECT ... FOR UPDATE on an
    # aggregate (Max) locks nothing (Django drops it), so two creations at
    # once would both take the same next number. The meeting row serialises them.
    meeting = _locked_meeting(meeting.pk)
    data = {"region": meeting.region_id, **data}
    if not data.get("text"):
        raise SinergiError(_("This field is required; fill it in."), field="text")
    if not data.get("owner_agency"):
        raise SinergiError(_("Name the agency that owns the commitment."), field="owner_agency")
    fields, supporting = _clean_commitment(actor, meeting, data)
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
def commitment_update(*, actor, commitment: Commitment, data: dict) -> Commitment:
    """Change a commitment's terms; returns the saved row. The row is read
    again under a lock and only the changed fields are written, so progress
    reported meanwhile (value, done, cancelled) is kept."""
    commitment = Commitment.objects.select_for_update().get(pk=commitment.pk)
    meeting = commitment.meeting = _locked_meeting(commitment.meeting_id)
    _check_manage(actor, meeting, what="commitment")
    before = _commitment_snapshot(commitment)
    fields, supporting = _clean_commitment(actor, meeting, data, current=commitment)
    for field, value in fields.items():
        setattr(commitment, field, value)
    commitment.save(update_fields=[*fields, "updated_at"])
    if supporting is not None:
        commitment.supporting_agencies.set(supporting)
    audit_changes(actor, "commitment.update", commitment, before,
                  _commitment_snapshot(commitment))
    return commitment


@transaction.atomic
def progress_report(*, actor, commitment: Commitment, data: dict,
                    files=()) -> ProgressUpdate:
    """Record one progress update: a value and/or narrative, or a change of
    state (done, cancelled, reopened). Progress is for anyone who may report;
    done and reopen for the owner agency and coordinators; cancelling (and
    reopening a cancelled one) for the meeting's coordinators. A cancelled
    commitment takes no report until it is reopened.

    The commitment is read again under a lock: two reports at once, or a
    report and an edit, apply one after the other. ``update.commitment`` is
    the saved row."""
    commitment = Commitment.objects.select_for_update().get(pk=commitment.pk)
    commitment.meeting = Meeting.objects.select_related("region").get(pk=commitment.meeting_id)
    if actor is not None and not selectors.can_update(actor, commitment):
        raise AccessDenied(_("Only the owner or a supporting agency of this commitment, or a "
                             "coordinator of its region, may report progress."))
    kind = _choice(data.get("kind") or PROGRESS, "kind",
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
    date = as_date(data.get("date"), "date") or today
    if date > today:
        raise SinergiError(_("The date of an update cannot be in the future."), field="date")
    value = as_decimal(data.get("value"), "value")
    narrative = _text(data.get("narrative"), "narrative", None)
    if value is not None and commitment.is_data_bound:
        raise SinergiError(_("This commitment's value is counted from the data; write a "
                             "narrative instead of a value."), field="value")
    if kind == PROGRESS and value is None and not narrative and not files:
        raise SinergiError(_("Give a value, a narrative or an evidence file."), field="value")
    if kind == MARK_CANCELLED:
        _check_manage(actor, commitment.meeting, what="commitment")
        if not narrative:
            raise SinergiError(_("Say why the commitment is cancelled."), field="narrative")
    if kind == REOPEN and not (commitment.done_on or commitment.cancelled_on):
        raise SinergiError(_("Only a commitment marked done or cancelled can be reopened."),
                           field="kind")
    if kind == REOPEN and commitment.cancelled_on:
        _check_manage(actor, commitment.meeting, what="commitment")
    for upload in files:
        _check_file(upload, "evidence")
    before = snapshot(commitment)
    with _files_removed_on_error() as written:
        update = ProgressUpdate.objects.create(
            commitment=commitment, kind=kind, date=date, value=value, narrative=narrative,
            author=actor if getattr(actor, "pk", None) else None,
            author_label=actor.get_username() if getattr(actor, "pk", None) else "system")
        for upload in files:
            evidence = Evidence(update=update, name=_file_name(upload), size=upload.size)
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
