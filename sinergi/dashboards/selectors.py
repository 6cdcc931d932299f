"""What the home page of each role shows."""

from django.db.models import Q

from sinergi.accounts import access, roles
from sinergi.core.models import AuditLog
from sinergi.imports import selectors as import_selectors
from sinergi.meetings import selectors as meeting_selectors
from sinergi.meetings.models import LATE
from sinergi.regions import selectors as region_selectors
from sinergi.regions.models import Region
from sinergi.registry import codes as registry_codes
from sinergi.registry import selectors as registry_selectors

POOR_DESIL_MAX = registry_codes.POOR_DESIL_MAX

# The home page lists at most this many regions below the scope root, and
# this many overdue commitments.
HOME_CHILDREN_MAX = 100
OVERDUE_MAX = 10


def home(user, edition) -> dict:
    """The context of a signed-in user's home page: the scope, and what the
    role looks at first (regions and agencies below, meetings, overdue
    commitments, the own agency's commitments, recent audit rows)."""
    root = access.scope_root(user)
    context = {
        "role": user.role,
        "roles": roles,
        "scope": region_selectors.region_breadcrumbs(root) if root else [],
        "edition": edition,
    }
    if user.role == roles.OFFICER:
        context["agency"] = user.agency
    if user.role in {roles.ADMINISTRATOR, roles.COORDINATOR, roles.LEADER}:
        context["agency_count"] = access.agencies_visible(user).filter(
            access.scope_q(user, "region__code")
        ).count()
        # Provinces are the regions with no parent; both filters use the
        # (parent, code) index. The count is the true one, the list is capped.
        children = Region.objects.filter(parent_id=root, retired_in="")
        context["children_count"] = children.count()
        context["children"] = children.order_by("code")[:HOME_CHILDREN_MAX]
    if access.user_can(user, "meeting.view"):
        context["upcoming_meetings"] = meeting_selectors.upcoming(user)
        if user.role in {roles.ADMINISTRATOR, roles.COORDINATOR, roles.LEADER}:
            # The subtree's own commitments (not those of the regions above):
            # the late ones asked for as such (the board's SQL keeps only open
            # ones past due), and how all of them stand.
            late, _cut = meeting_selectors.board(user=user, region=root, status=LATE)
            context["overdue"] = late[:OVERDUE_MAX]
            if user.role != roles.ADMINISTRATOR:
                rows, truncated = meeting_selectors.board(user=user, region=root)
                context["commitment_status"] = meeting_selectors.status_summary(rows,
                                                                               truncated)
        if user.role == roles.OFFICER and user.agency_id:
            context["my_commitments"], _truncated = meeting_selectors.board(user=user,
                                                                              mine=True)
    if user.role == roles.VILLAGE_OPERATOR:
        context["village"] = village_summary(user)
    if user.role == roles.ADMINISTRATOR:
        context["recent_audit"] = list(
            AuditLog.objects.filter(access.audit_visible_q(user)).order_by("-id")[:10]
        )
    return context


def village_summary(user) -> dict:
    """The village operator's daily question: how complete is my village's
    registry, and did my last uploads go through? Counts over the operator's
    own subtree (one village, usually) and the operator's recent uploads."""
    # Living persons and active families, as everywhere (docs/terms.md).
    persons = registry_selectors.persons_visible(user).filter(life_status=registry_codes.ALIVE)
    families = registry_selectors.households_visible(user).filter(is_active=True)
    counts = {
        "persons": persons.count(),
        "families": families.count(),
        "without_nik": persons.filter(Q(nik__isnull=True) | Q(nik="")).count(),
        "poor_families": families.filter(desil__lte=POOR_DESIL_MAX).count(),
        "without_desil": families.filter(desil__isnull=True).count(),
    }
    counts["imports"] = list(import_selectors.jobs_visible(user).order_by("-id")[:5])
    counts["poor_desil_max"] = POOR_DESIL_MAX
    return counts
