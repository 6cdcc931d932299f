"""API: meetings and commitments in the caller's scope, and progress reports."""

import datetime
from decimal import Decimal

from django.http import HttpRequest
from ninja import Router, Schema
from ninja.responses import Status

from sinergi.accounts import access
from sinergi.core.pagination import clamp_limit

from . import progress, selectors, services
from .models import Commitment, Meeting

meetings_router = Router(tags=["meetings"])
commitments_router = Router(tags=["commitments"])


class MeetingOut(Schema):
    id: int
    kind: str
    title: str
    theme: str
    starts_on: datetime.date
    ends_on: datetime.date | None
    place: str
    region_code: str
    region_name: str
    host_agency_id: int | None
    chair: str
    minutes: str
    agenda: list[dict]
    participants: list[dict]
    issues: list[dict]
    commitment_ids: list[int]


class MeetingSummary(Schema):
    id: int
    kind: str
    title: str
    starts_on: datetime.date
    region_code: str


class MeetingIn(Schema):
    kind: str
    title: str
    starts_on: str
    region: str
    theme: str = ""
    ends_on: str | None = None
    place: str = ""
    host_agency: int | None = None
    chair: str = ""
    minutes: str = ""


class MeetingPatch(Schema):
    kind: str | None = None
    title: str | None = None
    theme: str | None = None
    starts_on: str | None = None
    ends_on: str | None = None
    place: str | None = None
    host_agency: int | None = None
    chair: str | None = None
    minutes: str | None = None


class CommitmentOut(Schema):
    id: int
    meeting_id: int
    number: int
    text: str
    owner_agency_id: int
    owner_agency: str
    supporting_agency_ids: list[int]
    region_code: str
    due_date: datetime.date | None
    unit: str
    baseline: Decimal | None
    target: Decimal | None
    source: str
    source_param: str
    value: Decimal | None
    value_as_of: datetime.date | None
    live: bool
    percent: int | None
    status: str


class CommitmentPage(Schema):
    items: list[CommitmentOut]
    next_cursor: str | None


class CommitmentIn(Schema):
    text: str
    owner_agency: int
    supporting_agencies: list[int] = []
    region: str | None = None
    agenda_item: int | None = None
    due_date: str | None = None
    unit: str = ""
    baseline: str | None = None
    target: str | None = None
    source: str = "manual"
    source_param: str = ""


class CommitmentPatch(Schema):
    text: str | None = None
    owner_agency: int | None = None
    supporting_agencies: list[int] | None = None
    region: str | None = None
    agenda_item: int | None = None
    due_date: str | None = None
    unit: str | None = None
    baseline: str | None = None
    target: str | None = None
    source: str | None = None
    source_param: str | None = None


class ProgressIn(Schema):
    kind: str = "progress"
    date: str | None = None
    value: str | None = None
    narrative: str = ""


class ProgressOut(Schema):
    id: int
    kind: str
    date: datetime.date
    value: Decimal | None
    narrative: str
    commitment: CommitmentOut


def _meeting_out(m: Meeting, user) -> dict:
    """A meeting as the API shows it to ``user``: its commitments, issues and
    participants are only those the user may see (a kabupaten sees the
    province's for itself, not those of another kabupaten)."""
    root = access.scope_root(user)
    return {
        "id": m.pk, "kind": m.kind, "title": m.title, "theme": m.theme,
        "starts_on": m.starts_on, "ends_on": m.ends_on, "place": m.place,
        "region_code": m.region_id, "region_name": m.region.name,
        "host_agency_id": m.host_agency_id, "chair": m.chair, "minutes": m.minutes,
        "agenda": [{"id": i.pk, "desk": i.desk.name if i.desk_id else "", "title": i.title,
                    "description": i.description}
                   for i in m.agenda.select_related("desk")],
        "participants": [{"agency_id": p.agency_id, "region_code": p.region_id, "name": p.name,
                          "position": p.position, "invited": p.invited,
                          "attended": p.attended}
                         for p in selectors.participants_visible(root).filter(meeting=m)
                         .order_by("id")],
        "issues": [{"category": i.category, "region_code": i.region_id,
                    "description": i.description, "raised_by": i.raised_by}
                   for i in selectors.issues_visible(root).filter(meeting=m).order_by("id")],
        "commitment_ids": list(selectors.commitments_visible(user).filter(meeting=m)
                               .order_by("number").values_list("id", flat=True)),
    }


def _commitment_out(c: Commitment, state: progress.Progress) -> dict:
    return {
        "id": c.pk, "meeting_id": c.meeting_id, "number": c.number, "text": c.text,
        "owner_agency_id": c.owner_agency_id, "owner_agency": c.owner_agency.short_name,
        "supporting_agency_ids": sorted(a.pk for a in c.supporting_agencies.all()),
        "region_code": c.region_id, "due_date": c.due_date, "unit": c.unit,
        "baseline": c.baseline, "target": c.target, "source": c.source,
        "source_param": c.source_param, "value": state.value, "value_as_of": state.as_of,
        "live": state.live, "percent": state.percent, "status": state.status,
    }


def _one(c: Commitment) -> dict:
    return _commitment_out(c, progress.progress_of([c])[c.pk])


@meetings_router.get("", response=list[MeetingSummary], summary="Meetings in scope")
def meeting_list(request: HttpRequest, year: int | None = None, kind: str | None = None,
                 limit: int | None = None):
    """The most recent meetings first. ``year``: from 1900 to 2100; ``kind``:
    one of the meeting kinds; ``limit``: 1 to 200 (default 50)."""
    meetings = selectors.meeting_list(request.auth, kind=kind, year=year,
                                      limit=clamp_limit(limit))
    return [{"id": m.pk, "kind": m.kind, "title": m.title, "starts_on": m.starts_on,
             "region_code": m.region_id} for m in meetings]


@meetings_router.post("", response={201: MeetingOut}, summary="Record a meeting")
def meeting_create(request: HttpRequest, payload: MeetingIn):
    meeting = services.meeting_create(actor=request.auth, data=payload.dict())
    return Status(201, _meeting_out(meeting, request.auth))


@meetings_router.get("/{meeting_id}", response=MeetingOut, summary="One meeting")
def meeting_detail(request: HttpRequest, meeting_id: int):
    return _meeting_out(selectors.access_meeting(request.auth, meeting_id), request.auth)


@meetings_router.patch("/{meeting_id}", response=MeetingOut, summary="Change a meeting")
def meeting_patch(request: HttpRequest, meeting_id: int, payload: MeetingPatch):
    meeting = selectors.access_meeting(request.auth, meeting_id, for_write=True)
    meeting = services.meeting_update(actor=request.auth, meeting=meeting,
                                      data=payload.dict(exclude_unset=True))
    return _meeting_out(meeting, request.auth)


@meetings_router.post("/{meeting_id}/commitments", response={201: CommitmentOut},
                      summary="Add a commitment to a meeting")
def commitment_create(request: HttpRequest, meeting_id: int, payload: CommitmentIn):
    meeting = selectors.access_meeting(request.auth, meeting_id, for_write=True)
    data = payload.dict()
    if data["region"] is None:
        data.pop("region")
    commitment = services.commitment_create(actor=request.auth, meeting=meeting, data=data)
    return Status(201, _one(commitment))


@commitments_router.get("", response=CommitmentPage, summary="Commitments in scope")
def commitment_list(request: HttpRequest, meeting: int | None = None,
                    agency: int | None = None, region: str | None = None,
                    status: str | None = None, due: str | None = None, mine: bool = False,
                    limit: int | None = None, cursor: str | None = None):
    """The board's filters, keyset-paginated in id order: pass ``next_cursor``
    back as ``cursor`` for the next page, until it is null. With ``status``
    a page may hold fewer than ``limit`` commitments and still have a next
    one (the status is derived from the data, not stored)."""
    page = selectors.commitments_page(user=request.auth, meeting=meeting, agency=agency,
                                      region=region, status=status, due=due, mine=mine,
                                      limit=limit, cursor=cursor)
    return {"items": [_commitment_out(c, state) for c, state in page.items],
            "next_cursor": page.next_cursor}


@commitments_router.get("/{commitment_id}", response=CommitmentOut, summary="One commitment")
def commitment_detail(request: HttpRequest, commitment_id: int):
    return _one(selectors.access_commitment(request.auth, commitment_id))


@commitments_router.patch("/{commitment_id}", response=CommitmentOut,
                          summary="Change a commitment")
def commitment_patch(request: HttpRequest, commitment_id: int, payload: CommitmentPatch):
    commitment = selectors.access_commitment(request.auth, commitment_id, for_edit=True)
    # "supporting_agencies": null means unchanged, like leaving the key out.
    commitment = services.commitment_update(actor=request.auth, commitment=commitment,
                                            data=payload.dict(exclude_unset=True))
    return _one(commitment)


@commitments_router.post("/{commitment_id}/progress", response={201: ProgressOut},
                         summary="Report progress on a commitment")
def progress_create(request: HttpRequest, commitment_id: int, payload: ProgressIn):
    commitment = selectors.access_commitment(request.auth, commitment_id, for_update=True)
    update = services.progress_report(actor=request.auth, commitment=commitment,
                                      data=payload.dict())
    return Status(201, {"id": update.pk, "kind": update.kind, "date": update.date,
                        "value": update.value, "narrative": update.narrative,
                        "commitment": _one(update.commitment)})
