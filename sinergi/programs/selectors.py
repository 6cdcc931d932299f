"""Reads of programs, targets and enrollments, inside what the user may see.

Programs belong to an agency: visible when the agency is (its government in
the user's subtree or above it). Enrollments sit in a village: visible when
the village is in the user's subtree (personal data: beneficiaries are
registry persons). Changing needs ``program.edit``; an agency officer
changes only the own agency's programs and their enrollments;
coordinators change what lies in their subtree. Groups are read through
sinergi.groups.selectors.
"""

from django.db.models import OuterRef, Prefetch, QuerySet, prefetch_related_objects
from django.utils.translation import gettext as _

from sinergi.accounts import access, roles
from sinergi.core.errors import AccessDenied, NotInScope
from sinergi.core.pagination import Page, keyset_page
from sinergi.regions.codes import village_in_q
from sinergi.registry import selectors as registry_selectors

from .models import Enrollment, Program, Target

LIST_MAX = 200  # programs on one list: a region has dozens
TARGETS_MAX = 500  # targets shown with one program in the API


def programs_visible(user) -> QuerySet[Program]:
    access.check_viewer(user, "program.view")
    return Program.objects.filter(access.visible_region_q(user, "owner_agency__region__code"))


def can_edit_program(user, program: Program) -> bool:
    if not access.user_can(user, "program.edit"):
        return False
    if user.role == roles.OFFICER:
        return program.owner_agency_id == user.agency_id
    return access.in_scope(user, program.owner_agency.region_id)


def program_list(user, *, agency: int | None = None, tag: str = "") -> list[Program]:
    """The programs in scope by code, at most LIST_MAX (the program list page
    and ``GET /api/v1/programs``): of one agency (by id) when given, with a
    sector tag when given."""
    qs = programs_visible(user).select_related("owner_agency").order_by("code")
    if agency is not None:
        qs = qs.filter(owner_agency_id=agency)
    if not tag:
        return list(qs[:LIST_MAX])
    # Tags are a JSON list (no portable index); a region has dozens of programs.
    return [p for p in qs if tag in p.tags][:LIST_MAX]


def with_visible_targets(user, programs: list[Program]) -> list[Program]:
    """Set ``visible_targets`` on each program: its targets in regions the
    user may see (subtree or above), by year and region, in one query for
    all the programs (a province's targets are not shown to a village)."""
    prefetch_related_objects(programs, Prefetch(
        "targets", to_attr="visible_targets",
        queryset=Target.objects.filter(access.visible_region_q(user, "region__code"))
        .order_by("year", "region_id")))
    return programs


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


def enrollment_list(user, *, program: Program | int | None = None, year: int | None = None,
                    status: str | None = None, region: str | None = None,
                    cursor: str | None = None, limit: int | None = None) -> Page:
    """One page of the enrollments in scope, by id (the program page's
    beneficiaries and ``GET /api/v1/enrollments``): of a program (or a
    program id the user may see), a year, a status and a region the user
    may see, each when given."""
    qs = enrollments_filtered(user, program=program, year=year, status=status, region=region)
    qs = qs.annotate(head_name=registry_selectors.head_of(OuterRef("household_id"), "name"))
    return keyset_page(qs.select_related("program", "person", "household", "group"), ["id"],
                       cursor=cursor, limit=limit)


def enrollments_filtered(user, *, program: Program | int | None = None, year: int | None = None,
                         status: str | None = None,
                         region: str | None = None) -> QuerySet[Enrollment]:
    """The enrollments in scope under the list filters (the program page, its
    export and ``GET /api/v1/enrollments`` share them): of a program (or a
    program id the user may see), a year, a status and a region the user may
    see, each when given."""
    qs = enrollments_visible(user)
    if program:
        if not isinstance(program, Program):
            program = access_program(user, program)
        qs = qs.filter(program=program)
    if year:
        qs = qs.filter(year=year)
    if status:
        qs = qs.filter(status=status)
    if region:
        access.access_region(user, region)
        qs = qs.filter(village_in_q("village_code", region))
    return qs


BENEFITS_MAX = 50


def benefits_of(user, *, persons: list, household=None) -> dict:
    """What a person, or a family and its members, receives: the enrollments
    of the persons, of the family and of the groups they are in now, newest
    year first; and their group memberships, current first. At most
    BENEFITS_MAX of each (a family has a handful)."""
    from django.db.models import F, Q

    from sinergi.groups.models import GroupMember

    person_ids = [p.pk for p in persons]
    memberships = list(
        GroupMember.objects.filter(person_id__in=person_ids)
        .filter(access.village_scope_q(user, "group__village_code"))
        .select_related("group", "group__kind", "person")
        .order_by(F("left_on").desc(nulls_first=True), "-joined_on", "id")[:BENEFITS_MAX])
    current_groups = {m.group_id for m in memberships if m.left_on is None}
    which = Q(person_id__in=person_ids) | Q(group_id__in=current_groups)
    if household is not None:  # the family's own (a person's enrollment names it too)
        which |= Q(household=household, person__isnull=True, group__isnull=True)
    enrollments = list(enrollments_visible(user).filter(which)
                       .select_related("program", "person", "group")
                       .order_by("-year", "program__code", "id")[:BENEFITS_MAX])
    return {"enrollments": enrollments, "memberships": memberships}
