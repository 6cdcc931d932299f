"""Reads of programs, groups and enrollments, inside what the user may see.

Programs belong to an agency: visible when the agency is (its government in
the user's subtree or above it). Groups and enrollments sit in a village:
visible when the village is in the user's subtree (personal data: members
and beneficiaries are registry persons). Changing needs ``program.edit``;
an agency officer changes only the own agency's programs and their
enrollments, and the groups the own agency supervises; coordinators change
what lies in their subtree.
"""

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from sinergi.accounts import access, roles
from sinergi.core.errors import AccessDenied, NotInScope
from sinergi.groups.models import Group

from .models import Enrollment, Program


def programs_visible(user) -> QuerySet[Program]:
    access.check_viewer(user, "program.view")
    return Program.objects.filter(access.visible_region_q(user, "owner_agency__region__code"))


def can_edit_program(user, program: Program) -> bool:
    if not access.user_can(user, "program.edit"):
        return False
    if user.role == roles.OFFICER:
        return program.owner_agency_id == user.agency_id
    return access.in_scope(user, program.owner_agency.region_id)


def access_program(user, pk, *, for_write: bool = False) -> Program:
    try:
        program = programs_visible(user).select_related("owner_agency",
                                                        "owner_agency__region").get(pk=pk)
    except (Program.DoesNotExist, ValueError, TypeError):
        raise NotInScope(_("Program not found in your scope.")) from None
    if for_write and not can_edit_program(user, program):
        raise AccessDenied(_("Only %(agency)s or a coordinator of its region may change this "
                             "program.") % {"agency": program.owner_agency.short_name})
    return program


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


def enrollments_visible(user) -> QuerySet[Enrollment]:
    access.check_viewer(user, "program.view")
    access.check_capability(user, "registry.view")
    return Enrollment.objects.filter(access.village_scope_q(user, "village_code"))


def access_enrollment(user, pk, *, for_write: bool = False) -> Enrollment:
    try:
        enrollment = enrollments_visible(user).select_related(
            "program", "program__owner_agency", "person", "household", "group").get(pk=pk)
    except (Enrollment.DoesNotExist, ValueError, TypeError):
        raise NotInScope(_("Enrollment not found in your scope.")) from None
    if for_write and not can_edit_program(user, enrollment.program):
        raise AccessDenied(_("Only %(agency)s or a coordinator of its region may change this "
                             "program's beneficiaries.")
                           % {"agency": enrollment.program.owner_agency.short_name})
    return enrollment
