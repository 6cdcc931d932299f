"""Reads of meetings and commitments, always inside what the user may see.

A meeting is visible to a user when its region is in the user's subtree or
above it (a village operator sees the rakor of the kabupaten and province);
a commitment when its meeting and its own region are; an issue raised or a
participant likewise when the region it belongs to is (a kabupaten sees the
province rakor, not the issues and delegates of the other kabupaten at it).
Nothing is public.
Changing a meeting needs ``meeting.manage`` and the meeting's region inside
the user's own subtree; updating a commitment's progress needs
``commitment.update`` and either that (coordinators) or, for an agency
officer, the commitment owned or supported by the officer's agency. Marking
done and reopening is for the owner agency's officer and coordinators.
"""

import datetime
import re
from collections.abc import Iterable

from django.db.models import F, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from sinergi.accounts import access, roles
from sinergi.agencies.models import Agency
from sinergi.core.errors import AccessDenied, NotInScope, SinergiError
from sinergi.core.pagination import (
    Page,
    clamp_limit,
    cursor_values,
    decode_cursor,
    encode_cursor,
)
from sinergi.regions import codes as region_codes
from sinergi.regions.models import Region

from . import progress
from .models import (
    CANCELLED,
    DONE,
    KIND_CHOICES,
    LATE,
    STATUS_CHOICES,
    STATUS_ORDER,
    BriefJob,
    Commitment,
    Meeting,
    MeetingIssue,
    Participant,
)

# The board shows at most this many commitments; narrower filters show the rest.
BOARD_MAX = 500
# An API page filtered by status reads at most this many batches of ``limit``
# rows to fill itself (the status is derived, not stored).
API_SCAN_ROUNDS = 5


def meetings_visible(user) -> QuerySet[Meeting]:
    access.check_viewer(user, "meeting.view")
    return Meeting.objects.filter(access.visible_region_q(user, "region__code"))


def visible_q(root: str | None, field: str) -> Q:
    """Rows whose ``field`` (a region code) is in the subtree of ``root`` or
    above it; everything for None. The same rule as access.visible_region_q,
    for a scope given by its root code instead of a user (a brief job)."""
    if root is None:
        return Q()
    return (region_codes.subtree_q(field, root)
            | Q(**{f"{field}__in": region_codes.code_ancestors(root)}))


def commitments_in_scope_q(root: str | None) -> Q:
    """The commitments a user whose scope is ``root`` (None: unscoped) sees:
    both the meeting's region and the commitment's own region visible."""
    return visible_q(root, "meeting__region__code") & visible_q(root, "region__code")


def commitments_visible(user) -> QuerySet[Commitment]:
    access.check_viewer(user, "meeting.view")
    return Commitment.objects.filter(commitments_in_scope_q(access.scope_root(user)))


def _none_or_visible_q(root: str | None, relation: str, field: str) -> Q:
    """``relation`` empty, or its region code ``field`` visible from ``root``."""
    if root is None:
        return Q()
    return Q(**{f"{relation}__isnull": True}) | visible_q(root, field)


def issues_visible(root: str | None) -> QuerySet[MeetingIssue]:
    """The issues raised that a user whose scope is ``root`` (None:
    unscoped) may read, among those of the meetings the user sees: an issue
    of no region (the meeting's own) or of a region in the scope's subtree
    or above its root. The meeting page, the API and the rakor brief all
    read issues through this, so they show the same ones."""
    return MeetingIssue.objects.filter(_none_or_visible_q(root, "region", "region__code"))


def participants_visible(root: str | None) -> QuerySet[Participant]:
    """The participants a user whose scope is ``root`` may read, among those
    of the meetings the user sees: each region a participant names (its own,
    its agency's government) is in the scope's subtree or above its root; a
    representative named alone belongs to the meeting. Page, API and brief
    (its attendance counts too) read participants through this."""
    return Participant.objects.filter(
        _none_or_visible_q(root, "region", "region__code"),
        _none_or_visible_q(root, "agency", "agency__region__code"))


def can_manage(user, meeting: Meeting) -> bool:
    return access.user_can(user, "meeting.manage") and access.in_scope(user, meeting.region_id)


def check_manage(user, meeting: Meeting, *, what: str = "meeting") -> None:
    """Refuse (403) unless ``user`` may change ``meeting`` and its parts;
    ``user`` None is the system. ``what`` names the object in the message."""
    if user is None or can_manage(user, meeting):
        return
    if what == "commitment":
        message = _("Only a coordinator of %(region)s may change this commitment.")
    else:
        message = _("Only a coordinator of %(region)s may change this meeting.")
    raise AccessDenied(message % {"region": meeting.region.name})


def can_update(user, commitment: Commitment) -> bool:
    if not access.user_can(user, "commitment.update"):
        return False
    if user.role == roles.OFFICER:
        return user.agency_id is not None and (
            commitment.owner_agency_id == user.agency_id
            or commitment.supporting_agencies.filter(pk=user.agency_id).exists())
    return access.in_scope(user, commitment.region_id)


def can_settle(user, commitment: Commitment) -> bool:
    """Whether ``user`` may mark the commitment done or reopen it: the owner
    agency's officer or a coordinator (in scope, or of the meeting); a
    supporting agency only reports progress."""
    if user.role == roles.OFFICER:
        return (access.user_can(user, "commitment.update") and user.agency_id is not None
                and commitment.owner_agency_id == user.agency_id)
    return can_update(user, commitment) or can_manage(user, commitment.meeting)


def access_meeting(user, pk, *, for_write: bool = False) -> Meeting:
    try:
        meeting = meetings_visible(user).select_related("region", "host_agency").get(pk=pk)
    except (Meeting.DoesNotExist, ValueError, TypeError):
        raise NotInScope(_("Meeting not found in your scope.")) from None
    if for_write:
        check_manage(user, meeting)
    return meeting


def access_commitment(user, pk, *, for_update: bool = False,
                      for_edit: bool = False) -> Commitment:
    try:
        commitment = commitments_visible(user).select_related(
            "meeting", "meeting__region", "owner_agency", "region").get(pk=pk)
    except (Commitment.DoesNotExist, ValueError, TypeError):
        raise NotInScope(_("Commitment not found in your scope.")) from None
    if for_edit:
        check_manage(user, commitment.meeting, what="commitment")
    if for_update and not can_update(user, commitment):
        raise AccessDenied(_("Only the owner or a supporting agency of this commitment, or a "
                             "coordinator of its region, may report progress."))
    return commitment


def locked_meeting(pk: int) -> Meeting:
    """The meeting's row, read again and locked until the transaction ends.

    What depends on the meeting (next commitment number, agenda position,
    desk, its region for a commitment's or issue's region) is decided under
    this lock, so writers of one meeting go one after the other. A lock on
    ``aggregate(Max(...))`` would not do: Django drops FOR UPDATE there.
    """
    return Meeting.objects.select_for_update().get(pk=pk)


# --- agencies and regions chosen in meeting and commitment forms ---------------------------

def active_agency(actor, value, field: str, *, keep: Iterable[int] = frozenset()) -> Agency:
    """An agency the actor may see and still active; one in ``keep`` (the
    value the object has now) may stay even if it has been deactivated since."""
    agency = access.agency_field(actor, value, field)
    if not agency.is_active and agency.pk not in keep:
        raise SinergiError(_("Agency %(a)s is marked inactive; choose an active agency or ask "
                             "a coordinator to reactivate it.") % {"a": agency}, field=field)
    return agency


def region_inside(actor, value, field: str, *, within: str | None = None) -> Region:
    """A region the actor may see (access.region_field), inside ``within``
    (the meeting's region) when given: the commitments and issues of a
    meeting lie in its region."""
    region = access.region_field(actor, value, field)
    if within and not region_codes.code_in_subtree(region.code, within):
        raise SinergiError(_("Region %(code)s lies outside the meeting's region %(root)s; "
                             "choose a region inside it.") % {"code": region.code,
                                                               "root": within}, field=field)
    return region



def _brief_jobs(user):
    """Brief jobs made under exactly the user's scope: a PDF holds what its
    maker's scope sees, so nobody else may see it."""
    access.check_viewer(user, "meeting.view")
    return BriefJob.objects.filter(scope_root=access.scope_root(user) or "")


def access_brief(user, pk) -> BriefJob:
    job = _brief_jobs(user).select_related("meeting", "region").filter(pk=pk).first()
    if job is None:
        raise NotInScope(_("Brief not found."))
    if job.meeting_id:
        access_meeting(user, job.meeting_id)
    elif not access.in_scope(user, job.region_id):
        raise NotInScope(_("Brief not found."))
    return job


def latest_brief(user, *, meeting: Meeting | None = None, region=None) -> BriefJob | None:
    """The newest brief job of the meeting or region the user may open."""
    jobs = _brief_jobs(user)
    jobs = jobs.filter(meeting=meeting) if meeting is not None else \
        jobs.filter(region=region, meeting__isnull=True)
    return jobs.order_by("-id").first()


# The years a list filter accepts: any date of a meeting or a due date in
# practice, and far from the ends of Python's dates (year 1 and 9999), where
# the first day of the next month, or of the year after, does not exist.
YEAR_MIN, YEAR_MAX = 1900, 2100
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


def _year(value, field: str = "year") -> int | None:
    """A filter's year (int or text), or a SinergiError saying what is allowed."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    raw = str(value).strip()
    year = int(raw) if re.fullmatch(r"-?\d{1,9}", raw) else None
    if year is None or not YEAR_MIN <= year <= YEAR_MAX:
        raise SinergiError(_("Year '%(v)s' is not one Sinergi can list; give a year from "
                             "%(min)d to %(max)d, e.g. 2026.")
                           % {"v": raw[:20], "min": YEAR_MIN, "max": YEAR_MAX}, field=field)
    return year


def _month_range(month: str) -> tuple[datetime.date, datetime.date]:
    m = _MONTH.match(month.strip())
    if m is None or not 1 <= int(m.group(2)) <= 12:
        raise SinergiError(_("Due month '%(m)s' is not a month; write it as YYYY-MM, e.g. "
                           "2026-12.") % {"m": month[:20]}, field="due")
    year = int(m.group(1))
    if not YEAR_MIN <= year <= YEAR_MAX:
        raise SinergiError(_("Due month '%(m)s' is out of range; give a month from "
                             "%(min)d-01 to %(max)d-12.")
                           % {"m": month[:20], "min": YEAR_MIN, "max": YEAR_MAX}, field="due")
    start = datetime.date(year, int(m.group(2)), 1)
    end = (start.replace(day=28) + datetime.timedelta(days=4)).replace(day=1)
    return start, end


def meeting_list(user, *, kind: str | None = None, year: int | str | None = None,
                 limit: int = 100) -> list[Meeting]:
    """The most recent ``limit`` meetings in scope, of one kind and year if
    given; a filter that makes no sense is a SinergiError naming it (400),
    never a 500 from the database or an empty list that hides the typo."""
    qs = meetings_visible(user)
    if kind:
        if kind not in dict(KIND_CHOICES):
            raise SinergiError(_("Unknown kind '%(k)s'; choose one of: %(all)s.")
                               % {"k": kind[:40], "all": ", ".join(dict(KIND_CHOICES))},
                               field="kind")
        qs = qs.filter(kind=kind)
    year = _year(year)
    if year is not None:
        qs = qs.filter(starts_on__year=year)
    return list(qs.select_related("region", "host_agency").order_by("-starts_on", "-id")[:limit])


def _status_q(status: str, today: datetime.date) -> Q:
    """What the database can tell of a derived status (progress.derive):
    a necessary condition, so the rows kept still need their status read."""
    if status == CANCELLED:
        return Q(cancelled_on__isnull=False)
    still_open = Q(cancelled_on__isnull=True)
    if status == DONE:  # marked done, or the target reached: only the value tells
        return still_open
    still_open &= Q(done_on__isnull=True)
    if status == LATE:
        return still_open & Q(due_date__lt=today)
    return still_open & (Q(due_date__isnull=True) | Q(due_date__gte=today))


def _board_qs(user, *, meeting, agency, region, status, due, mine,
              today: datetime.date) -> QuerySet[Commitment]:
    """The commitments in scope matching the filters, as far as SQL can
    match them (the status is confirmed per row after)."""
    qs = commitments_visible(user)
    if meeting not in (None, ""):
        try:
            meeting_id = int(meeting)
        except (TypeError, ValueError):
            raise SinergiError(_("Meeting must be a meeting id from the list."),
                               field="meeting") from None
        qs = qs.filter(meeting=access_meeting(user, meeting_id))
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
        # A subquery, not a join: no duplicate rows and no DISTINCT to sort around.
        supported = Commitment.supporting_agencies.through.objects.filter(
            agency_id=agency_id).values("commitment_id")
        qs = qs.filter(Q(owner_agency_id=agency_id) | Q(pk__in=supported))
    if region:
        access.region_filter(user, region)
        qs = qs.filter(region_codes.subtree_q("region__code", region))
    if status:
        if status not in dict(STATUS_CHOICES):
            raise SinergiError(_("Unknown status '%(s)s'; choose one of: %(all)s.")
                               % {"s": status, "all": ", ".join(dict(STATUS_CHOICES))},
                               field="status")
        qs = qs.filter(_status_q(status, today))
    if due:
        start, end = _month_range(due)
        qs = qs.filter(due_date__gte=start, due_date__lt=end)
    return qs.select_related("meeting", "owner_agency", "region").prefetch_related(
        "supporting_agencies")


STATUS_RANK = {s: i for i, s in enumerate(STATUS_ORDER)}


def board(*, user, meeting: int | str | None = None, agency: int | str | None = None,
          region: str | None = None, status: str | None = None, due: str | None = None,
          mine: bool = False, today: datetime.date | None = None):
    """Commitments in scope matching the filters, with their progress, overdue
    first then by due date. Returns (rows, truncated) where rows are
    progress.Tracked (commitment, Progress) pairs. The board page, its export
    and the home page read this; the API's pages (commitments_page) the same
    filters (_board_qs)."""
    today = today or timezone.localdate()
    qs = _board_qs(user, meeting=meeting, agency=agency, region=region, status=status,
                   due=due, mine=mine, today=today).order_by(
        F("due_date").asc(nulls_last=True), "meeting_id", "number")
    items = list(qs[:BOARD_MAX + 1])
    truncated = len(items) > BOARD_MAX
    rows = [row for row in progress.tracked(items[:BOARD_MAX], today)
            if not status or row.progress.status == status]
    # Stable: rows of one status keep the database's order (due date, meeting, number).
    rows.sort(key=lambda row: STATUS_RANK[row.progress.status])
    return rows, truncated


def commitments_page(*, user, cursor: str | None = None, limit: int | None = None,
                     meeting: int | str | None = None, agency: int | str | None = None,
                     region: str | None = None, status: str | None = None,
                     due: str | None = None, mine: bool = False,
                     today: datetime.date | None = None) -> Page:
    """One page of progress.Tracked (commitment, Progress) pairs for the API:
    the board's filters, keyset-paged in id order (stable while rows are added).

    With a status filter the status is derived per row, so a page is filled
    from at most API_SCAN_ROUNDS batches; it may then hold fewer than
    ``limit`` rows and still have a ``next_cursor``: follow it until None.
    """
    today = today or timezone.localdate()
    limit = clamp_limit(limit)
    qs = _board_qs(user, meeting=meeting, agency=agency, region=region, status=status,
                   due=due, mine=mine, today=today).order_by("id")
    if cursor:
        (after,) = cursor_values(Commitment, ["id"], decode_cursor(cursor, 1))
        qs = qs.filter(id__gt=after)
    rows, last = [], None
    for _round in range(API_SCAN_ROUNDS if status else 1):
        batch = list((qs if last is None else qs.filter(id__gt=last))[:limit])
        for row in progress.tracked(batch, today):
            if len(rows) == limit:
                break
            last = row.commitment.pk
            if not status or row.progress.status == status:
                rows.append(row)
        if len(rows) == limit or len(batch) < limit:
            break
    more = last is not None and qs.filter(id__gt=last).exists()
    return Page(items=rows, next_cursor=encode_cursor([last]) if more else None, limit=limit)


def status_summary(rows: list, truncated: bool) -> dict:
    """How the board's ``rows`` (board(), at most BOARD_MAX; ``truncated``
    when there were more) stand: per status, in STATUS_ORDER, the count and
    its share of all."""
    total = len(rows)
    counts = {status: 0 for status in STATUS_ORDER}
    for row in rows:
        counts[row.progress.status] += 1
    labels = dict(STATUS_CHOICES)
    return {"total": total, "truncated": truncated, "limit": BOARD_MAX,
            "rows": [{"status": s, "label": labels[s], "count": n} for s, n in counts.items()]}


def upcoming(user, *, limit: int = 5, today: datetime.date | None = None):
    today = today or timezone.localdate()
    return list(meetings_visible(user).filter(starts_on__gte=today)
                .select_related("region").order_by("starts_on")[:limit])
