"""Writes to what a meeting is made of besides its commitments: who was
invited and came, the agenda (topics grouped in desks), the issues raised,
and removing any of them (or a minutes file) entered by mistake.

The same rules as services.py, whose module re-exports these services so
pages, the API, the demo and tests call every write of the app by one name
(``services.participant_add``): the meeting's coordinators change it, values
are checked here with the field they belong to, and each change is audited
on the meeting in the same transaction.
"""

from django.db import transaction
from django.db.models import Max
from django.utils.translation import gettext as _

from sinergi.agencies.models import Agency
from sinergi.core import values
from sinergi.core.audit import audit_record
from sinergi.core.errors import NotInScope, SinergiError

from . import selectors
from .models import (
    ISSUE_CATEGORY_CHOICES,
    AgendaItem,
    Attachment,
    Desk,
    Meeting,
    MeetingIssue,
    Participant,
)

# The parts meeting_part_remove removes, by the name in its URL.
PARTS = {"participant": Participant, "agenda": AgendaItem, "issue": MeetingIssue,
         "attachment": Attachment}


@transaction.atomic
def participant_add(*, actor, meeting: Meeting, agency: Agency | int | str | None = None,
                    region: str | None = None, name: str = "", position: str = "",
                    invited: bool = True, attended: bool = False) -> Participant:
    """Record an invitee or attendee: an agency, a region's delegation or a
    representative named alone (at least one of the three)."""
    selectors.check_manage(actor, meeting)
    chosen_agency = selectors.active_agency(actor, agency, "agency") if agency else None
    chosen_region = selectors.region_inside(actor, region, "region") if region else None
    name = values.text(name, "name", 120)
    if chosen_agency is None and chosen_region is None and not name:
        raise SinergiError(_("Name an agency, a region or a representative."), field="agency")
    participant = Participant.objects.create(
        meeting=meeting, agency=chosen_agency, region=chosen_region, name=name,
        position=values.text(position, "position", 120), invited=bool(invited),
        attended=bool(attended))
    audit_record(actor=actor, action="meeting.participant_add", obj=meeting,
                 after={"participant": str(participant), "attended": participant.attended})
    return participant


@transaction.atomic
def agenda_add(*, actor, meeting: Meeting, title: str, desk: str = "",
               description: str = "") -> AgendaItem:
    """Add a topic at the end of the agenda, in the named desk (created on
    first use) or in none."""
    selectors.check_manage(actor, meeting)
    title = values.text(title, "title", 300, required=True)
    desk_name = values.text(desk, "desk", 120)
    # Lock the meeting row: SELECT ... FOR UPDATE on an aggregate (Max) locks
    # nothing (Django drops it), so two adds at once would take the same
    # position or both create the desk. The meeting row serialises them.
    meeting = selectors.locked_meeting(meeting.pk)
    chosen_desk = None
    if desk_name:
        chosen_desk = Desk.objects.filter(meeting=meeting, name=desk_name).first()
        if chosen_desk is None:
            last = Desk.objects.filter(meeting=meeting).aggregate(m=Max("position"))["m"]
            chosen_desk = Desk.objects.create(meeting=meeting, name=desk_name,
                                              position=(last or 0) + 1)
    last = AgendaItem.objects.filter(meeting=meeting).aggregate(m=Max("position"))["m"]
    item = AgendaItem.objects.create(
        meeting=meeting, desk=chosen_desk, title=title,
        description=values.text(description, "description", None), position=(last or 0) + 1)
    audit_record(actor=actor, action="meeting.agenda_add", obj=meeting,
                 after={"topic": title, "desk": desk_name})
    return item


@transaction.atomic
def issue_add(*, actor, meeting: Meeting, category: str, description: str,
              region: str | None = None, raised_by: str = "") -> MeetingIssue:
    """Record an issue raised at the meeting, about a region inside the
    meeting's own or (``region`` None) about the meeting's region as a whole."""
    selectors.check_manage(actor, meeting)
    # The meeting's region as it is now, held until the issue is saved (a
    # region change of the meeting checks its issues under the same lock).
    meeting = selectors.locked_meeting(meeting.pk)
    chosen_region = selectors.region_inside(actor, region, "region",
                                            within=meeting.region_id) if region else None
    issue = MeetingIssue.objects.create(
        meeting=meeting, category=values.choice(category, "category", ISSUE_CATEGORY_CHOICES),
        region=chosen_region, description=values.text(description, "description", None,
                                                      required=True),
        raised_by=values.text(raised_by, "raised_by", 120))
    audit_record(actor=actor, action="meeting.issue_add", obj=meeting,
                 after={"category": issue.category, "region": issue.region_id,
                        "description": issue.description[:200]})
    return issue


@transaction.atomic
def meeting_part_remove(*, actor, meeting: Meeting, kind: str, pk: int) -> None:
    """Remove a participant, agenda item, issue or minutes file entered by
    mistake (``kind``: a key of PARTS).

    Commitments of a removed agenda item keep their text and lose the link.
    """
    selectors.check_manage(actor, meeting)
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
