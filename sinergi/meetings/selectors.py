"""Reads of meetings and commitments, always inside what the user may see.

A meeting is visible to a user when its region is in the user's subtree or
above it (a village operator sees the rakor of the kabupaten and province);
a commitment when its meeting and its own region are. Nothing is public.
Changing a meeting needs ``meeting.manage`` and the meeting's region inside
the user's own subtree; updating a commitment's progress needs
``commitment.update`` and either that (coordinators) or, for an agency
officer, the commitment owned or supported by the officer's agency.
"""

import datetime

from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from sinergi.accounts import roles
from sinergi.core import access
from sinergi.core.errors import AccessDenied, SinergiError
from sinergi.regions import codes as region_codes

from . import progress
from .models import CANCELLED, DONE, STATUS_CHOICES, BriefJob, Commitment, Meeting

# The board shows at most this many commitments; narrower filters show the rest.
BOARD_MAX = 500


def _check_view(user) -> None:
    if not getattr(user, "is_authenticated", False):
        raise Http404
    access.check_capability(user, "meeting.view")


def meetings_visible(user) -> QuerySet[Meeting]:
    _check_view(user)
    return Meeting.objects.filter(access.visible_region_q(user, "region__code"))


def commitments_visible(user) -> QuerySet[Commitment]:
    _check_view(user)
    return Commitment.objects.filter(access.visible_region_q(user, "meeting__region__code"),
                                     access.visible_region_q(user, "region__code"))


def can_manage(user, meeting: Meeting) -> bool:
    return access.user_can(user, "meeting.manage") and access.in_scope(user, meeting.region_id)


def can_update(user, commitment: Commitment) -> bool:
    if not access.user_can(user, "commitment.update"):
        return False
    if user.role == roles.OFFICER:
        return user.agency_id is not None and (
            commitment.owner_agency_id == user.agency_id
            or commitment.supporting_agencies.filter(pk=user.agency_id).exists())
    return access.in_scope(user, commitment.region_id)


def access_meeting(user, pk, *, for_write: bool = False) -> Meeting:
    try:
        meeting = meetings_visible(user).select_related("region", "host_agency").get(pk=pk)
    except (Meeting.DoesNotExist, ValueError, TypeError):
        raise Http404(_("Meeting not found in your scope.")) from None
    if for_write and not can_manage(user, meeting):
        raise AccessDenied(_("Only a coordinator of %(region)s may change this meeting.")
                           % {"region": meeting.region.name})
    return meeting


def access_commitment(user, pk, *, for_update: bool = False,
                      for_edit: bool = False) -> Commitment:
    try:
        commitment = commitments_visible(user).select_related(
            "meeting", "meeting__region", "owner_agency", "region").get(pk=pk)
    except (Commitment.DoesNotExist, ValueError, TypeError):
        raise Http404(_("Commitment not found in your scope.")) from None
    if for_edit and not can_manage(user, commitment.meeting):
        raise AccessDenied(_("Only a coordinator of %(region)s may change this commitment.")
                           % {"region": commitment.meeting.region.name})
    if for_update and not can_update(user, commitment):
        raise AccessDenied(_("Only the owner or a supporting agency of this commitment, or a "
                             "coordinator of its region, may report progress."))
    return commitment


def access_brief(user, pk) -> BriefJob:
    job = BriefJob.objects.select_related("meeting", "region").filter(pk=pk).first()
    if job is None:
        raise Http404(_("Brief not found."))
    if job.meeting_id:
        access_meeting(user, job.meeting_id)
    else:
        _check_view(user)
        if not access.in_scope(user, job.region_id):
            raise Http404(_("Brief not found."))
    return job


def _month_range(month: str) -> tuple[datetime.date, datetime.date]:
    try:
        start = datetime.date.fromisoformat(month + "-01")
    except ValueError:
        raise SinergiError(_("Due month '%(m)s' is not a month; write it as YYYY-MM, e.g. "
                             "2026-12.") % {"m": month}, field="due") from None
    end = (start.replace(day=28) + datetime.timedelta(days=4)).replace(day=1)
    return start, end


def board(*, user, meeting: int | str | None = None, agency: int | str | None = None,
          region: str | None = None, status: str | None = None, due: str | None = None,
          mine: bool = False, today: datetime.date | None = None):
    """Commitments in scope matching the filters, with their progress, overdue
    first then by due date. Returns (rows, truncated) where rows are
    (commitment, Progress) pairs."""
    qs = commitments_visible(user)
    if meeting not in (None, ""):
        qs = qs.filter(meeting=access_meeting(user, meeting))
    if mine:
        if user.agency_id is None:
            raise SinergiError(_("Your account belongs to no agency; use the other filters."),
                               field="mine")
        agency = user.agency_id
    if agency not in (None, ""):
        try:
            agency_id = int(agency)
        except (TypeError, ValueError):
            raise SinergiError(_("Agency must be an agency id from the list."),
                               field="agency") from None
        access.access_agency(user, agency_id)
        qs = qs.filter(Q(owner_agency_id=agency_id) | Q(supporting_agencies=agency_id))
    if region:
        problem = region_codes.code_problem(region)
        if problem:
            raise SinergiError(problem, field="region")
        access.access_region(user, region)
        qs = qs.filter(region_codes.subtree_q("region__code", region))
    if status and status not in dict(STATUS_CHOICES):
        raise SinergiError(_("Unknown status '%(s)s'; choose one of: %(all)s.")
                           % {"s": status, "all": ", ".join(dict(STATUS_CHOICES))},
                           field="status")
    if due:
        start, end = _month_range(due)
        qs = qs.filter(due_date__gte=start, due_date__lt=end)
    qs = qs.distinct().select_related("meeting", "owner_agency", "region").prefetch_related(
        "supporting_agencies").order_by("due_date", "meeting_id", "number")
    items = list(qs[:BOARD_MAX + 1])
    truncated = len(items) > BOARD_MAX
    items = items[:BOARD_MAX]
    states = progress.progress_of(items, today)
    rows = [(c, states[c.pk]) for c in items if not status or states[c.pk].status == status]
    order = {"late": 0, "in_progress": 1, "not_started": 2, DONE: 3, CANCELLED: 4}
    rows.sort(key=lambda r: (order[r[1].status], r[0].due_date or datetime.date.max))
    return rows, truncated


def overdue(user, *, limit: int = 10, today: datetime.date | None = None):
    """Late commitments in the user's subtree, for the home page."""
    today = today or timezone.localdate()
    qs = (commitments_visible(user).filter(access.scope_q(user, "region__code"),
                                           due_date__lt=today, done_on__isnull=True,
                                           cancelled_on__isnull=True)
          .select_related("meeting", "owner_agency", "region").order_by("due_date")[:200])
    items = list(qs)
    states = progress.progress_of(items, today)
    return [(c, states[c.pk]) for c in items if states[c.pk].status == "late"][:limit]


def upcoming(user, *, limit: int = 5, today: datetime.date | None = None):
    today = today or timezone.localdate()
    return list(meetings_visible(user).filter(starts_on__gte=today)
                .select_related("region").order_by("starts_on")[:limit])
