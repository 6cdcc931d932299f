"""Access rules of the program, group and enrollment endpoints, merged into the matrix.

Persona order as in tests/test_access_matrix.py: anonymous, admin,
coordinator, officer (DP3ACSKB of 19.04), operator (a village of 19.04),
leader (19), outsider (coordinator of 18.06). The probe group and
enrollment sit in a village of 19.04 that is not the operator's.
"""

from sinergi.agencies.models import Agency
from sinergi.groups.models import Group
from sinergi.programs.models import Enrollment, Program

from .access_rules_registry import kab_family, kab_person
from .conftest import KAB, expect


def _program(code: str, owner: str, unit: str = "person") -> Program:
    program, _ = Program.objects.get_or_create(code=code, defaults={
        "owner_agency": Agency.objects.get(region_id=KAB, short_name=owner), "name": code,
        "year_start": 2024, "unit": unit, "benefit_type": "cash"})
    return program


def own_program(world) -> int:
    """Owned by the officer's agency."""
    return _program("PROBE-OWN", "DP3ACSKB").pk


def other_program(world) -> int:
    return _program("PROBE-OTHER", "Dinsos").pk


def group(world) -> int:
    village = kab_family(world).village_code
    found, created = Group.objects.get_or_create(code="PROBE-IR", defaults={
        "name": "Probe IR", "kind_id": "IR", "village_code": village})
    if created:
        found.agencies.set([Agency.objects.get(region_id=KAB, short_name="DP3ACSKB")])
    return found.pk


def enrollment(world) -> int:
    person_id = kab_person(world)
    found, _ = Enrollment.objects.get_or_create(
        program_id=own_program(world), year=2026, person_id=person_id,
        defaults={"household": kab_family(world), "village_code": kab_family(world).village_code,
                  "status": "proposed"})
    return found.pk


P, G = "/programs", "/groups"
ALL = expect(302, 200, 200, 200, 200, 200, 200)
SEE_PROGRAM = expect(302, 200, 200, 200, 200, 200, 404)
EDIT_PAGE = expect(302, 200, 200, 200, 403, 403, 404)
EDIT_POST = expect(302, 302, 302, 302, 403, 403, 404)
GROUP_POST = expect(302, 302, 302, 302, 404, 403, 404)
CREATE_PAGE = expect(302, 200, 200, 200, 403, 403, 200)

RULES = {
    "programs:list": [("get", lambda w: f"{P}/", None, ALL)],
    "programs:create": [("get", lambda w: f"{P}/new/", None, CREATE_PAGE)],
    "programs:rule_preview": [("get", lambda w: f"{P}/rule-preview/?unit=person&rule=", None,
                               ALL)],
    "programs:detail": [("get", lambda w: f"{P}/{own_program(w)}/", None, SEE_PROGRAM)],
    "programs:edit": [
        ("get", lambda w: f"{P}/{own_program(w)}/edit/", None, EDIT_PAGE),
        ("get", lambda w: f"{P}/{other_program(w)}/edit/", None,
         expect(302, 200, 200, 403, 403, 403, 404)),
    ],
    "programs:target_set": [("post", lambda w: f"{P}/{own_program(w)}/targets/",
                             {"region": KAB, "year": 2026, "count": 5}, EDIT_POST)],
    "programs:enroll": [("post", lambda w: f"{P}/{own_program(w)}/enroll/",
                         {"beneficiary": "1904025403900001", "year": 2026,
                          "status": "proposed"}, EDIT_POST)],
    "programs:enrollment_status": [("post", lambda w: f"{P}/enrollments/{enrollment(w)}/"
                                    "status/", {"status": "verified"},
                                    expect(302, 302, 302, 302, 404, 403, 404))],
    # A person's or a family's programs and groups: those who see the person.
    "programs:person_benefits": [("get", lambda w: f"{P}/persons/{kab_person(w)}/", None,
                                  expect(302, 200, 200, 200, 404, 200, 404))],
    "programs:household_benefits": [("get", lambda w: f"{P}/families/{kab_family(w).id}/",
                                     None, expect(302, 200, 200, 200, 404, 200, 404))],
    "programs:export": [("get", lambda w: f"{P}/{own_program(w)}/export.xlsx", None,
                         expect(302, 200, 200, 200, 200, 403, 404))],
    "groups:list": [("get", lambda w: f"{G}/", None, ALL)],
    "groups:create": [("get", lambda w: f"{G}/new/", None, CREATE_PAGE)],
    "groups:detail": [("get", lambda w: f"{G}/{group(w)}/", None,
                       expect(302, 200, 200, 200, 404, 200, 404))],
    "groups:edit": [("get", lambda w: f"{G}/{group(w)}/edit/", None,
                     expect(302, 200, 200, 200, 404, 403, 404))],
    "groups:member_add": [("post", lambda w: f"{G}/{group(w)}/members/", {"m-nik": "0"},
                           GROUP_POST)],
    "groups:member_leave": [("post", lambda w: f"{G}/{group(w)}/members/0/leave/", {},
                             GROUP_POST)],
    "groups:level": [("post", lambda w: f"{G}/{group(w)}/level/", {"l-level": "Pemula"},
                      GROUP_POST)],
    "groups:partner_add": [("post", lambda w: f"{G}/{group(w)}/partners/",
                            {"p-name": "Hotel", "p-kind": "hotel"}, GROUP_POST)],
    "GET /api/v1/programs": [("get", lambda w: "/api/v1/programs", None,
                              expect(401, 200, 200, 200, 200, 200, 200))],
    # Agency 0 exists nowhere: those who may set up programs get a 400 naming the field.
    "POST /api/v1/programs": [("post", lambda w: "/api/v1/programs",
                               {"owner_agency": 0, "code": "X", "name": "X", "year_start": 2026,
                                "unit": "person", "benefit_type": "cash"},
                               expect(401, 400, 400, 400, 403, 403, 400))],
    "GET /api/v1/programs/{program_id}": [
        ("get", lambda w: f"/api/v1/programs/{own_program(w)}", None,
         expect(401, 200, 200, 200, 200, 200, 404))],
    "PATCH /api/v1/programs/{program_id}": [
        ("patch", lambda w: f"/api/v1/programs/{own_program(w)}", {"description": "x"},
         expect(401, 200, 200, 200, 403, 403, 404)),
        ("patch", lambda w: f"/api/v1/programs/{other_program(w)}", {"description": "x"},
         expect(401, 200, 200, 403, 403, 403, 404)),
    ],
    "POST /api/v1/programs/{program_id}/targets": [
        ("post", lambda w: f"/api/v1/programs/{own_program(w)}/targets",
         {"region": KAB, "year": 2026, "count": 3}, expect(401, 200, 200, 200, 403, 403, 404))],
    "GET /api/v1/programs/{program_id}/preview": [
        ("get", lambda w: f"/api/v1/programs/{own_program(w)}/preview", None,
         expect(401, 200, 200, 200, 200, 200, 404))],
    "GET /api/v1/groups": [("get", lambda w: "/api/v1/groups", None,
                            expect(401, 200, 200, 200, 200, 200, 200))],
    "POST /api/v1/groups": [("post", lambda w: "/api/v1/groups",
                             {"code": "X", "name": "X", "kind": "NOPE", "village_code": KAB},
                             expect(401, 400, 400, 400, 403, 403, 400))],
    "GET /api/v1/groups/{group_id}": [("get", lambda w: f"/api/v1/groups/{group(w)}", None,
                                       expect(401, 200, 200, 200, 404, 200, 404))],
    "POST /api/v1/groups/{group_id}/members": [
        ("post", lambda w: f"/api/v1/groups/{group(w)}/members", {"nik": "0"},
         expect(401, 400, 400, 400, 404, 403, 404))],
    "GET /api/v1/enrollments": [("get", lambda w: "/api/v1/enrollments", None,
                                 expect(401, 200, 200, 200, 200, 200, 200))],
    "POST /api/v1/enrollments": [("post", lambda w: "/api/v1/enrollments",
                                  {"program": 0, "year": 2026, "beneficiary": "1"},
                                  expect(401, 404, 404, 404, 404, 404, 404))],
    "PATCH /api/v1/enrollments/{enrollment_id}": [
        ("patch", lambda w: f"/api/v1/enrollments/{enrollment(w)}", {"status": "nope"},
         expect(401, 400, 400, 400, 404, 403, 404))],
}


def other_village(world) -> str:
    return kab_family(world).village_code


C = "/convergence"
IN_KAB = expect(302, 200, 200, 200, 404, 200, 404)
API_IN_KAB = expect(401, 200, 200, 200, 404, 200, 404)

RULES.update({
    "convergence:coverage": [
        ("get", lambda w: f"{C}/?region={KAB}", None, IN_KAB),
        ("get", lambda w: f"{C}/", None, ALL),  # each in the own region
    ],
    "convergence:refresh": [("post", lambda w: f"{C}/refresh/", {"region": KAB, "year": 2026},
                             expect(302, 302, 302, 302, 403, 403, 404))],
    "convergence:unserved": [("get", lambda w: f"{C}/unserved/?region={KAB}", None, IN_KAB)],
    "convergence:unserved_export": [("get", lambda w: f"{C}/unserved.xlsx?region={KAB}", None,
                                     expect(302, 200, 200, 200, 404, 403, 404))],
    "convergence:overlap": [("get", lambda w: f"{C}/overlap/?region={KAB}", None, IN_KAB)],
    "convergence:targets": [("get", lambda w: f"{C}/targets/?region={KAB}", None, IN_KAB)],
    "convergence:village": [("get", lambda w: f"{C}/villages/{other_village(w)}/", None,
                             IN_KAB)],
    "GET /api/v1/convergence/coverage": [
        ("get", lambda w: f"/api/v1/convergence/coverage?region={KAB}", None, API_IN_KAB)],
    "GET /api/v1/convergence/unserved": [
        ("get", lambda w: f"/api/v1/convergence/unserved?region={KAB}", None, API_IN_KAB)],
    "GET /api/v1/convergence/overlap": [
        ("get", lambda w: f"/api/v1/convergence/overlap?region={KAB}", None, API_IN_KAB)],
    "GET /api/v1/convergence/targets": [
        ("get", lambda w: f"/api/v1/convergence/targets?region={KAB}", None, API_IN_KAB)],
    "GET /api/v1/convergence/villages/{code}": [
        ("get", lambda w: f"/api/v1/convergence/villages/{other_village(w)}", None,
         API_IN_KAB)],
})

RULES["programs:import"] = [("post", lambda w: f"{P}/{own_program(w)}/import/", {}, EDIT_POST)]
