"""API: programs and enrollments in the caller's scope (groups: sinergi.groups.api)."""

from django.http import HttpRequest
from django.utils import timezone
from ninja import Field, Router, Schema
from ninja.responses import Status

from sinergi.accounts import access

from . import eligibility, selectors, services
from .models import Program

programs_router = Router(tags=["programs"])
enrollments_router = Router(tags=["enrollments"])


# Out schemas read the model themselves (aliases, resolvers). Comments, not
# docstrings: a docstring would become a description in /api/openapi.json.
class ProgramOut(Schema):
    id: int
    code: str
    name: str
    owner_agency_id: int
    owner_agency: str = Field(alias="owner_agency.short_name")
    year_start: int
    year_end: int | None
    tags: list[str]
    unit: str
    benefit_type: str
    benefit_value: int | None
    rule: str
    is_active: bool
    targets: list[dict]

    @staticmethod
    def resolve_targets(program: Program, context) -> list[dict]:
        # A list sets visible_targets on all its programs in one query
        # (selectors.with_visible_targets); a single program reads its own here.
        if not hasattr(program, "visible_targets"):
            selectors.with_visible_targets(context["request"].auth, [program])
        return [{"region": t.region_id, "year": t.year, "count": t.count, "budget": t.budget}
                for t in program.visible_targets[:selectors.TARGETS_MAX]]


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


class EnrollmentOut(Schema):
    id: int
    program: str = Field(alias="program.code")
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


@programs_router.get("", response=list[ProgramOut], summary="Programs in scope")
def program_list(request: HttpRequest, agency: int | None = None):
    # 0 or an id beyond the database's integers is no filter, as it always was here.
    programs = selectors.program_list(request.auth,
                                      agency=agency if agency and agency < 2 ** 62 else None)
    return selectors.with_visible_targets(request.auth, programs)


@programs_router.post("", response={201: ProgramOut}, summary="Set up a program")
def program_create(request: HttpRequest, payload: ProgramIn):
    return Status(201, services.program_create(actor=request.auth, **payload.dict()))


@programs_router.get("/{program_id}", response=ProgramOut, summary="One program")
def program_detail(request: HttpRequest, program_id: int):
    return selectors.access_program(request.auth, program_id)


@programs_router.patch("/{program_id}", response=ProgramOut, summary="Change a program")
def program_patch(request: HttpRequest, program_id: int, payload: ProgramPatch):
    program = selectors.access_program(request.auth, program_id, for_write=True)
    return services.program_update(actor=request.auth, program=program,
                                   **payload.dict(exclude_unset=True))


@programs_router.post("/{program_id}/targets", response=ProgramOut,
                      summary="Set or remove (count null) a target")
def program_target(request: HttpRequest, program_id: int, payload: TargetIn):
    program = selectors.access_program(request.auth, program_id, for_write=True)
    services.target_set(actor=request.auth, program=program, **payload.dict())
    return program


@programs_router.get("/{program_id}/preview", response=PreviewOut,
                     summary="How many are eligible, by village and sex")
def program_preview(request: HttpRequest, program_id: int, region: str | None = None,
                    rule: str | None = None):
    program = selectors.access_program(request.auth, program_id)
    region = region or access.scope_root(request.auth)
    if region:
        access.access_subtree(request.auth, region)
    text = program.rule if rule is None else rule
    preview = eligibility.eligibility_preview(text, program.unit, region=region,
                                              today=timezone.localdate())
    return {"rule": text, "region": region, "total": preview["total"],
            "by_village": [{"village_code": code, "count": n} for code, n in preview["by_village"]],
            "by_sex": preview.get("by_sex") or {}}


@enrollments_router.get("", response=EnrollmentPage, summary="Enrollments in scope")
def enrollment_list(request: HttpRequest, program: int | None = None, year: int | None = None,
                    status: str | None = None, region: str | None = None,
                    cursor: str | None = None, limit: int | None = None):
    return selectors.enrollment_list(request.auth, program=program, year=year, status=status,
                                     region=region, cursor=cursor, limit=limit)


@enrollments_router.post("", response={201: EnrollmentOut},
                         summary="Enroll a person (NIK), family (KK) or group (code)")
def enrollment_create(request: HttpRequest, payload: EnrollmentIn):
    program = selectors.access_program(request.auth, payload.program, for_write=True)
    beneficiary = services.find_beneficiary(request.auth, program, payload.beneficiary)
    enrollment = services.enrollment_create(
        actor=request.auth, program=program, year=payload.year, beneficiary=beneficiary,
        status=payload.status, benefit_value=payload.benefit_value,
        allow_ineligible=payload.allow_ineligible)
    return Status(201, enrollment)


@enrollments_router.patch("/{enrollment_id}", response=EnrollmentOut,
                          summary="Move an enrollment along its lifecycle")
def enrollment_patch(request: HttpRequest, enrollment_id: int, payload: StatusIn):
    enrollment = selectors.access_enrollment(request.auth, enrollment_id, for_write=True)
    return services.enrollment_transition(actor=request.auth, enrollment=enrollment,
                                          status=payload.status, reason=payload.reason)
