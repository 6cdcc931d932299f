"""API: meetings and commitments in the caller's scope, and progress reports."""

import datetime
from decimal import Decimal

from django.http import HttpRequest
from ninja import Field, Router, Schema
from ninja.responses import Status

from sinergi.accounts import access
from sinergi.core.pagination import clamp_limit

from . import progress, selectors, services

meetings_router = Router(tags=["meetings"])
commitments_router = Router(tags=["commitments"])


class MeetingAgendaItemOut(Schema):
    id: int
    desk: str
    title: str
    description: str

    @staticmethod
    def resolve_desk(item) -> str:
        return item.desk.name if item.desk_id else ""


class MeetingParticipantOut(Schema):
    agency_id: int | None
    region_code: str | None = Field(alias="region_id")
    name: str
    position: str
    invited: bool
    attended: bool


class MeetingIssueOut(Schema):
    category: str
    region_code: str | None = Field(alias="region_id")
    description: str
    raised_by: str


class MeetingOut(Schema):
    """A meeting as the API shows it to the caller (read from the model): its
    participants, issues and commitments are only those the caller may see
    (a kabupaten sees the province's for itself, not another kabupaten's)."""

    id: int
    kind: str
    title: str
    theme: str
    starts_on: datetime.date
    ends_on: datetime.date | None
    place: str
    region_code: str = Field(alias="region_id")
    region_name: str = Field(alias="region.name")
    host_agency_id: int | None
    chair: str
    minutes: str
    agenda: list[MeetingAgendaItemOut]
    participants: list[MeetingParticipantOut]
    issues: list[MeetingIssueOut]
    commitment_ids: list[int]

    @staticmethod
    def resolve_agenda(meeting):
        return meeting.agenda.select_related("desk")

    @staticmethod
    def resolve_participants(meeting, context):
        root = access.scope_root(context["request"].auth)
        return selectors.participants_visible(root).filter(meeting=meeting).order_by("id")

    @staticmethod
    def resolve_issues(meeting, context):
        root = access.scope_root(context["request"].auth)
        return selectors.issues_visible(root).filter(meeting=meeting).order_by("id")

    @staticmethod
    def resolve_commitment_ids(meeting, context):
        return (selectors.commitments_visible(context["request"].auth).filter(meeting=meeting)
                .order_by("number").values_list("id", flat=True))


class MeetingSummary(Schema):
    id: int
    kind: str
    title: str
    starts_on: datetime.date
    region_code: str = Field(alias="region_id")


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
    """A commitment with its progress as read now, from a progress.Tracked
    (the commitment and its Progress): the commitment's terms, then the
    value, its date and the status that follow from the data or the reports."""

    id: int = Field(alias="commitment.id")
    meeting_id: int = Field(alias="commitment.meeting_id")
    number: int = Field(alias="commitment.number")
    text: str = Field(alias="commitment.text")
    owner_agency_id: int = Field(alias="commitment.owner_agency_id")
    owner_agency: str = Field(alias="commitment.owner_agency.short_name")
    supporting_agency_ids: list[int]
    region_code: str = Field(alias="commitment.region_id")
    due_date: datetime.date | None = Field(alias="commitment.due_date")
    unit: str = Field(alias="commitment.unit")
    baseline: Decimal | None = Field(alias="commitment.baseline")
    target: Decimal | None = Field(alias="commitment.target")
    source: str = Field(alias="commitment.source")
    source_param: str = Field(alias="commitment.source_param")
    value: Decimal | None = Field(alias="progress.value")
    value_as_of: datetime.date | None = Field(alias="progress.as_of")
    live: bool = Field(alias="progress.live")
    percent: int | None = Field(alias="progress.percent")
    status: str = Field(alias="progress.status")

    @staticmethod
    def resolve_supporting_agency_ids(row: progress.Tracked) -> list[int]:
        # .all(), not values_list: a list's rows come with them prefetched.
        return sorted(a.pk for a in row.commitment.supporting_agencies.all())


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

    @staticmethod
    def resolve_commitment(update) -> progress.Tracked:
        return progress.tracked_one(update.commitment)


@meetings_router.get("", response=list[MeetingSummary], summary="Meetings in scope")
def meeting_list(request: HttpRequest, year: int | None = None, kind: str | None = None,
                 limit: int | None = None):
    """The most recent meetings first. ``year``: from 1900 to 2100; ``kind``:
    one of the meeting kinds; ``limit``: 1 to 200 (default 50)."""
    return selectors.meeting_list(request.auth, kind=kind, year=year, limit=clamp_limit(limit))


@meetings_router.post("", response={201: MeetingOut}, summary="Record a meeting")
def meeting_create(request: HttpRequest, payload: MeetingIn):
    return Status(201, services.meeting_create(actor=request.auth, **payload.dict()))


@meetings_router.get("/{meeting_id}", response=MeetingOut, summary="One meeting")
def meeting_detail(request: HttpRequest, meeting_id: int):
    return selectors.access_meeting(request.auth, meeting_id)


@meetings_router.patch("/{meeting_id}", response=MeetingOut, summary="Change a meeting")
def meeting_patch(request: HttpRequest, meeting_id: int, payload: MeetingPatch):
    meeting = selectors.access_meeting(request.auth, meeting_id, for_write=True)
    return services.meeting_update(actor=request.auth, meeting=meeting,
                                   **payload.dict(exclude_unset=True))


@meetings_router.post("/{meeting_id}/commitments", response={201: CommitmentOut},
                      summary="Add a commitment to a meeting")
def commitment_create(request: HttpRequest, meeting_id: int, payload: CommitmentIn):
    """``region`` left out or null: the meeting's own region."""
    meeting = selectors.access_meeting(request.auth, meeting_id, for_write=True)
    commitment = services.commitment_create(actor=request.auth, meeting=meeting,
                                            **payload.dict())
    return Status(201, progress.tracked_one(commitment))


@commitments_router.get("", response=CommitmentPage, summary="Commitments in scope")
def commitment_list(request: HttpRequest, meeting: int | None = None,
                    agency: int | None = None, region: str | None = None,
                    status: str | None = None, due: str | None = None, mine: bool = False,
                    limit: int | None = None, cursor: str | None = None):
    """The board's filters, keyset-paginated in id order: pass ``next_cursor``
    back as ``cursor`` for the next page, until it is null. With ``status``
    a page may hold fewer than ``limit`` commitments and still have a next
    one (the status is derived from the data, not stored)."""
    return selectors.commitments_page(user=request.auth, meeting=meeting, agency=agency,
                                      region=region, status=status, due=due, mine=mine,
                                      limit=limit, cursor=cursor)


@commitments_router.get("/{commitment_id}", response=CommitmentOut, summary="One commitment")
def commitment_detail(request: HttpRequest, commitment_id: int):
    return progress.tracked_one(selectors.access_commitment(request.auth, commitment_id))


@commitments_router.patch("/{commitment_id}", response=CommitmentOut,
                          summary="Change a commitment")
def commitment_patch(request: HttpRequest, commitment_id: int, payload: CommitmentPatch):
    """Only the fields sent change; ``supporting_agencies`` null leaves them
    as they are, like leaving the key out."""
    commitment = selectors.access_commitment(request.auth, commitment_id, for_edit=True)
    commitment = services.commitment_update(actor=request.auth, commitment=commitment,
                                            **payload.dict(exclude_unset=True))
    return progress.tracked_one(commitment)


@commitments_router.post("/{commitment_id}/progress", response={201: ProgressOut},
                         summary="Report progress on a commitment")
def progress_create(request: HttpRequest, commitment_id: int, payload: ProgressIn):
    commitment = selectors.access_commitment(request.auth, commitment_id, for_update=True)
    return Status(201, services.progress_report(actor=request.auth, commitment=commitment,
                                                **payload.dict()))
