"""API: programs, groups and enrollments in the caller's scope."""

from django.db.models import Count, Prefetch, Q
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Router, Schema
from ninja.responses import Status

from sinergi.accounts import access
from sinergi.core.errors import NotInScope
from sinergi.core.pagination import keyset_page
from sinergi.groups import services as group_services
from sinergi.regions.codes import village_in_q

from . import eligibility, selectors, services
from .models import Program, Target

programs_router = Router(tags=["programs"])
groups_router = Router(tags=["groups"])
enrollments_router = Router(tags=["enrollments"])


class ProgramOut(Schema):
    id: int
    code: str
    name: str
    owner_agency_id: int
    owner_agency: str
    year_start: int
    year_end: int | None
    tags: list[str]
    unit: str
    benefit_type: str
    benefit_value: int | None
    rule: str
    is_active: bool
    targets: list[dict]


class ProgramIn(Schema):
    owner_agency: int
    code: str
    name: str
    year_start: int
    unit: str
    benefit_type: str
    description: str = ""
    year_end: int | None = None
    tags: list[str] = []
    benefit_value: int | None = None
    rule: str = ""
    is_active: bool = True


class ProgramPatch(Schema):
    name: str | None = None
    description: str | None = None
    year_end: int | None = None
    tags: list[str] | None = None
    benefit_type: str | None = None
    benefit_value: int | None = None
    rule: str | None = None
    is_active: bool | None = None


class TargetIn(Schema):
    region: str
    year: int
    count: int | None
    budget: int | None = None


class VillageCount(Schema):
    village_code: str
    count: int


class PreviewOut(Schema):
    """``by_village`` is a list of objects, not of (code, count) pairs: a
    tuple becomes ``prefixItems`` in the OpenAPI document, which OpenAPI 3.0
    tools and Swagger UI cannot read, and an object names its fields."""

    rule: str
    region: str | None
    total: int
    by_village: list[VillageCount]
    by_sex: dict[str, int]


class GroupOut(Schema):
    id: int
    code: str
    name: str
    kind: str
    village_code: str
    level: str
    agency_ids: list[int]
    members: int
    is_active: bool


class GroupPage(Schema):
    items: list[GroupOut]
    next_cursor: str | None


class GroupIn(Schema):
    code: str
    name: str
    kind: str
    village_code: str
    agencies: list[int] = []
    founded_on: str | None = None
    sector: str = ""
    products: str = ""
    nib: str = ""
    pirt: str = ""
    halal: str = ""


class MemberIn(Schema):
    nik: str
    role: str = "anggota"
    joined_on: str | None = None


class EnrollmentOut(Schema):
    id: int
    program: str
    year: int
    person_id: int | None
    household_id: int | None
    group_id: int | None
    village_code: str
    status: str
    status_reason: str
    benefit_value: int | None


class EnrollmentPage(Schema):
    items: list[EnrollmentOut]
    next_cursor: str | None


class EnrollmentIn(Schema):
    program: int
    year: int
    beneficiary: str
    status: str = "proposed"
    benefit_value: int | None = None
    allow_ineligible: bool = False


class StatusIn(Schema):
    status: str
    reason: str = ""


def _targets(user):
    """Targets of regions the caller may see, a bounded number per program."""
    return Prefetch("targets", queryset=Target.objects.filter(
        access.visible_region_q(user, "region__code")).order_by("year", "region_id"))


def _fresh(user, program) -> dict:
    return _program_out(Program.objects.prefetch_related(_targets(user))
                        .select_related("owner_agency").get(pk=program.pk))


def _program_out(p) -> dict:
    return {"id": p.pk, "code": p.code, "name": p.name, "owner_agency_id": p.owner_agency_id,
            "owner_agency": p.owner_agency.short_name, "year_start": p.year_start,
            "year_end": p.year_end, "tags": p.tags, "unit": p.unit,
            "benefit_type": p.benefit_type, "benefit_value": p.benefit_value, "rule": p.rule,
            "is_active": p.is_active,
            "targets": [{"region": t.region_id, "year": t.year, "count": t.count,
                         "budget": t.budget} for t in list(p.targets.all())[:500]]}


def _group_out(g) -> dict:
    return {"id": g.pk, "code": g.code, "name": g.name, "kind": g.kind_id,
            "village_code": g.village_code, "level": g.level,
            "agency_ids": sorted(a.pk for a in g.agencies.all()),
            "members": g.members_now if hasattr(g, "members_now")
            else g.members.filter(left_on__isnull=True).count(),
            "is_active": g.is_active}


def _enrollment_out(e) -> dict:
    return {"id": e.pk, "program": e.program.code, "year": e.year, "person_id": e.person_id,
            "household_id": e.household_id,
            "group_id": e.group_id, "village_code": e.village_code, "status": e.status,
            "status_reason": e.status_reason, "benefit_value": e.benefit_value}


@programs_router.get("", response=list[ProgramOut], summary="Programs in scope")
def program_list(request: HttpRequest, agency: int | None = None):
    qs = selectors.programs_visible(request.auth).select_related("owner_agency") \
        .prefetch_related(_targets(request.auth))
    if agency and agency < 2 ** 62:
        qs = qs.filter(owner_agency_id=agency)
    return [_program_out(p) for p in qs.order_by("code")[:200]]


@programs_router.post("", response={201: ProgramOut}, summary="Set up a program")
def program_create(request: HttpRequest, payload: ProgramIn):
    return Status(201, _fresh(request.auth, services.program_create(actor=request.auth,
                                                                    data=payload.dict())))


@programs_router.get("/{program_id}", response=ProgramOut, summary="One program")
def program_detail(request: HttpRequest, program_id: int):
    return _fresh(request.auth, selectors.access_program(request.auth, program_id))


@programs_router.patch("/{program_id}", response=ProgramOut, summary="Change a program")
def program_patch(request: HttpRequest, program_id: int, payload: ProgramPatch):
    program = selectors.access_program(request.auth, program_id, for_write=True)
    services.program_update(actor=request.auth, program=program,
                            data=payload.dict(exclude_unset=True))
    return _fresh(request.auth, program)


@programs_router.post("/{program_id}/targets", response=ProgramOut,
                      summary="Set or remove (count null) a target")
def program_target(request: HttpRequest, program_id: int, payload: TargetIn):
    program = selectors.access_program(request.auth, program_id, for_write=True)
    services.target_set(actor=request.auth, program=program, region=payload.region,
                        year=payload.year, count=payload.count, budget=payload.budget)
    return _fresh(request.auth, program)


@programs_router.get("/{program_id}/preview", response=PreviewOut,
                     summary="How many are eligible, by village and sex")
def program_preview(request: HttpRequest, program_id: int, region: str | None = None,
                    rule: str | None = None):
    program = selectors.access_program(request.auth, program_id)
    region = region or access.scope_root(request.auth)
    if region:
        if not access.in_scope(request.auth, region):
            raise NotInScope(_("Region %(code)s is not in your scope or does not exist.")
                          % {"code": region})
        access.access_region(request.auth, region)
    text = program.rule if rule is None else rule
    preview = eligibility.eligibility_preview(text, program.unit, region=region,
                                              today=timezone.localdate())
    return {"rule": text, "region": region, "total": preview["total"],
            "by_village": [{"village_code": code, "count": n} for code, n in preview["by_village"]],
            "by_sex": preview.get("by_sex") or {}}


@groups_router.get("", response=GroupPage, summary="Groups in scope")
def group_list(request: HttpRequest, kind: str | None = None, region: str | None = None,
               cursor: str | None = None, limit: int | None = None):
    qs = selectors.groups_visible(request.auth).select_related("kind")
    if kind:
        qs = qs.filter(kind_id=kind.upper())
    if region:
        access.access_region(request.auth, region)
        qs = qs.filter(village_in_q("village_code", region))
    qs = qs.prefetch_related("agencies").annotate(
        members_now=Count("members", filter=Q(members__left_on__isnull=True)))
    page = keyset_page(qs, ["village_code", "id"], cursor=cursor, limit=limit)
    return {"items": [_group_out(g) for g in page.items], "next_cursor": page.next_cursor}


@groups_router.post("", response={201: GroupOut}, summary="Register a group")
def group_create(request: HttpRequest, payload: GroupIn):
    data = payload.dict()
    agencies = data.pop("agencies")
    group = group_services.group_create(actor=request.auth, data=data, agencies=agencies)
    return Status(201, _group_out(group))


@groups_router.get("/{group_id}", response=GroupOut, summary="One group")
def group_detail(request: HttpRequest, group_id: int):
    return _group_out(selectors.access_group(request.auth, group_id))


@groups_router.post("/{group_id}/members", response={201: GroupOut},
                    summary="Add a registry person to a group")
def group_member_add(request: HttpRequest, group_id: int, payload: MemberIn):
    group = selectors.access_group(request.auth, group_id, for_write=True)
    group_services.member_add(actor=request.auth, group=group, nik=payload.nik,
                              role=payload.role, joined_on=payload.joined_on)
    return Status(201, _group_out(group))


@enrollments_router.get("", response=EnrollmentPage, summary="Enrollments in scope")
def enrollment_list(request: HttpRequest, program: int | None = None, year: int | None = None,
                    status: str | None = None, region: str | None = None,
                    cursor: str | None = None, limit: int | None = None):
    qs = selectors.enrollments_visible(request.auth).select_related("program")
    if program:
        qs = qs.filter(program=selectors.access_program(request.auth, program))
    if year:
        qs = qs.filter(year=year)
    if status:
        qs = qs.filter(status=status)
    if region:
        access.access_region(request.auth, region)
        qs = qs.filter(village_in_q("village_code", region))
    page = keyset_page(qs, ["id"], cursor=cursor, limit=limit)
    return {"items": [_enrollment_out(e) for e in page.items],
            "next_cursor": page.next_cursor}


@enrollments_router.post("", response={201: EnrollmentOut},
                         summary="Enroll a person (NIK), family (KK) or group (code)")
def enrollment_create(request: HttpRequest, payload: EnrollmentIn):
    program = selectors.access_program(request.auth, payload.program, for_write=True)
    beneficiary = services.find_beneficiary(request.auth, program, payload.beneficiary)
    enrollment = services.enrollment_create(
        actor=request.auth, program=program, year=payload.year, beneficiary=beneficiary,
        status=payload.status, benefit_value=payload.benefit_value,
        allow_ineligible=payload.allow_ineligible)
    return Status(201, _enrollment_out(enrollment))


@enrollments_router.patch("/{enrollment_id}", response=EnrollmentOut,
                          summary="Move an enrollment along its lifecycle")
def enrollment_patch(request: HttpRequest, enrollment_id: int, payload: StatusIn):
    enrollment = selectors.access_enrollment(request.auth, enrollment_id, for_write=True)
    return _enrollment_out(services.enrollment_transition(
        actor=request.auth, enrollment=enrollment, status=payload.status,
        reason=payload.reason))

