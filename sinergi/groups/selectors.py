"""Reads of groups, inside what the user may see.

A group sits in a village: visible when the village is in the user's
subtree (its members are registry persons, personal data). Changing needs
``program.edit``; an agency officer changes only the groups the own agency
supervises, coordinators what lies in their subtree.
"""

from django.db.models import Count, Q, QuerySet
from django.utils.translation import gettext as _

from sinergi.accounts import access, roles
from sinergi.core.errors import AccessDenied, NotInScope
from sinergi.core.pagination import Page, keyset_page
from sinergi.regions.codes import village_in_q

from .models import Group


def groups_visible(user) -> QuerySet[Group]:
    access.check_viewer(user, "program.view")
    return Group.objects.filter(access.village_scope_q(user, "village_code"))


def can_edit_group(user, group: Group) -> bool:
    if not access.user_can(user, "program.edit") or not access.in_scope(user,
                                                                        group.village_code):
        return False
    if user.role == roles.OFFICER:
        return group.agencies.filter(pk=user.agency_id).exists()
    return True


def access_group(user, pk, *, for_write: bool = False) -> Group:
    try:
        group = groups_visible(user).select_related("kind").get(pk=pk)
    except (Group.DoesNotExist, ValueError, TypeError):
        raise NotInScope(_("Group not found in your scope.")) from None
    if for_write and not can_edit_group(user, group):
        raise AccessDenied(_("Only a supervising agency of this group or a coordinator of its "
                             "region may change it."))
    return group


def group_list(user, *, kind: str | None = None, region: str | None = None,
               cursor: str | None = None, limit: int | None = None,
               with_members: bool = False) -> Page:
    """One page of the groups in scope, by village then id (the group list page
    and ``GET /api/v1/groups``): of a kind (its code, in any case) and in a
    region the user may see (its subtree), each when given. ``with_members``
    also fetches each group's agencies and counts its open memberships
    (``members_now``), in the page's own query, for the API."""
    qs = groups_visible(user).select_related("kind")
    if kind:
        qs = qs.filter(kind_id=kind.upper())
    if region:
        access.access_region(user, region)
        qs = qs.filter(village_in_q("village_code", region))
    if with_members:
        qs = qs.prefetch_related("agencies").annotate(
            members_now=Count("members", filter=Q(members__left_on__isnull=True)))
    return keyset_page(qs, ["village_code", "id"], cursor=cursor, limit=limit)


def members_now(group: Group) -> int:
    """The group's open memberships (counted with the page by ``group_list``)."""
    counted = getattr(group, "members_now", None)
    return counted if counted is not None else group.members.filter(
        left_on__isnull=True).count()
