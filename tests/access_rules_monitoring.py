"""Access rules of the monitoring pages and API, merged into the matrix.

Persona order as in tests/test_access_matrix.py: anonymous, admin (19),
coordinator (19.04), officer (DP3ACSKB of 19.04), operator (a village of
19.04), leader (19), outsider (coordinator of 18.06). Nothing is public;
a village operator records and reads the own village's families only and
sees no analysis; an officer analyses the own agency's groups and
programs; the outsider finds nothing of 19.
"""

import datetime
import io

from sinergi.agencies.models import Agency
from sinergi.groups.models import Group
from sinergi.monitoring.models import BUSINESS, INCOME, Round
from sinergi.programs.models import Program
from sinergi.registry.models import Household, Person

from .access_rules_registry import kab_family
from .conftest import KAB, expect

MON = "/monitoring"
API = "/api/v1/monitoring"
SIGNED = expect(302, 200, 200, 200, 200, 200, 200)
IN_ROUND = expect(302, 200, 200, 200, 200, 200, 404)
ENTER = expect(302, 200, 200, 200, 200, 403, 404)
ANALYSE = expect(302, 200, 200, 200, 403, 200, 404)
OWN_KK = "1904010101260001"


def dp3a() -> Agency:
    return Agency.objects.get(region_id=KAB, short_name="DP3ACSKB")


def income_round(world, name="Putaran uji 2") -> int:
    """An open income round of 19.04 (with a baseline round before it)."""
    Round.objects.get_or_create(name="Putaran uji 1", defaults={
        "kind": INCOME, "starts_on": datetime.date(2025, 3, 1),
        "ends_on": datetime.date(2025, 4, 30), "region_id": KAB, "owner_agency": dp3a()})
    rnd, _ = Round.objects.get_or_create(name=name, defaults={
        "kind": INCOME, "starts_on": datetime.date(2026, 3, 1),
        "ends_on": datetime.date(2026, 4, 30), "region_id": KAB, "owner_agency": dp3a()})
    return rnd.pk


def business_round(world) -> int:
    rnd, _ = Round.objects.get_or_create(name="Usaha uji", defaults={
        "kind": BUSINESS, "starts_on": datetime.date(2026, 3, 1),
        "ends_on": datetime.date(2026, 4, 30), "region_id": KAB, "owner_agency": dp3a()})
    return rnd.pk


def own_family(world) -> Household:
    """A family in the operator's own village."""
    village = world["operator"].region_id
    hh, _ = Household.objects.get_or_create(kk_number=OWN_KK, defaults={"village_code": village})
    Person.objects.get_or_create(nik="1904014101900009", defaults={
        "name": "Probe Ibu", "sex": "P", "household": hh, "shdk": 1, "village_code": village,
        "birth_date": datetime.date(1990, 1, 1)})
    return hh


def kab_group(world, supervised: bool = True) -> int:
    """An UPPKA group in another village of 19.04, supervised by DP3ACSKB or not."""
    village = kab_family(world).village_code
    code = f"UPPKA-PROBE-{'A' if supervised else 'B'}"
    group, made = Group.objects.get_or_create(code=code, defaults={
        "name": code, "kind_id": "UPPKA", "village_code": village})
    if made and supervised:
        group.agencies.add(dp3a())
    return group.pk


def other_program(world) -> int:
    """A program of another agency of 19.04."""
    owner = Agency.objects.get(region_id=KAB, short_name="Dinsos")
    program, _ = Program.objects.get_or_create(code="PROBE-DINSOS", defaults={
        "name": "Probe", "owner_agency": owner, "unit": "household", "year_start": 2025})
    return program.pk


def upload(world):
    own_family(world)
    data = io.BytesIO(f"No KK,Upah/Gaji\n{OWN_KK},1500000\n".encode())
    data.name = "putaran.csv"
    return {"file": data}


def impact_query(world, what: str = "kind=UPPKA&region=19.04") -> str:
    kab_group(world)
    income_round(world)
    return what


RULES = {
    "monitoring:index": [("get", lambda w: f"{MON}/", None, SIGNED)],
    "monitoring:round_create": [("get", lambda w: f"{MON}/rounds/new/", None,
                                 expect(302, 200, 200, 200, 403, 403, 200))],
    "monitoring:round": [("get", lambda w: f"{MON}/rounds/{income_round(w)}/", None, IN_ROUND)],
    "monitoring:round_status": [
        ("post", lambda w: f"{MON}/rounds/{income_round(w)}/status/", {"status": "closed"},
         expect(302, 302, 302, 302, 403, 403, 404))],
    "monitoring:village": [
        ("get", lambda w: f"{MON}/rounds/{income_round(w)}/village/{w['operator'].region_id}/",
         None, ENTER),
        ("get", lambda w: f"{MON}/rounds/{income_round(w)}/village/"
                          f"{kab_family(w).village_code}/", None,
         expect(302, 200, 200, 200, 404, 403, 404)),
    ],
    "monitoring:family": [
        ("get", lambda w: f"{MON}/rounds/{income_round(w)}/family/{own_family(w).pk}/", None,
         ENTER),
        ("get", lambda w: f"{MON}/rounds/{income_round(w)}/family/{kab_family(w).pk}/", None,
         expect(302, 200, 200, 200, 404, 403, 404)),
        ("post", lambda w: f"{MON}/rounds/{income_round(w)}/family/{own_family(w).pk}/",
         {"wages": "1500000"}, expect(302, 302, 302, 302, 302, 403, 404)),
    ],
    "monitoring:group": [
        ("get", lambda w: f"{MON}/rounds/{business_round(w)}/group/{kab_group(w)}/", None,
         expect(302, 200, 200, 200, 404, 403, 404))],
    "monitoring:import": [("get", lambda w: f"{MON}/rounds/{income_round(w)}/import/", None,
                           ENTER)],
    "monitoring:template": [("get", lambda w: f"{MON}/rounds/{income_round(w)}/template.xlsx",
                             None, IN_ROUND)],
    "monitoring:round_export": [
        ("get", lambda w: f"{MON}/rounds/{income_round(w)}/export.xlsx", None,
         expect(302, 200, 200, 200, 200, 403, 404))],
    "monitoring:family_incomes": [
        ("get", lambda w: f"{MON}/families/{own_family(w).pk}/", None,
         expect(302, 200, 200, 200, 200, 200, 404)),
        ("get", lambda w: f"{MON}/families/{kab_family(w).pk}/", None,
         expect(302, 200, 200, 200, 404, 200, 404)),
    ],
    "monitoring:impact": [
        ("get", lambda w: f"{MON}/impact/?{impact_query(w)}", None, ANALYSE),
        ("get", lambda w: f"{MON}/impact/?group={kab_group(w, supervised=False)}", None,
         expect(302, 200, 200, 403, 403, 200, 404)),
        ("get", lambda w: f"{MON}/impact/?program={other_program(w)}", None,
         expect(302, 200, 200, 403, 403, 200, 404)),
    ],
    "monitoring:impact_export": [
        ("get", lambda w: f"{MON}/impact/inputs.xlsx?{impact_query(w)}", None,
         expect(302, 200, 200, 200, 403, 403, 404))],
    "monitoring:panel": [("get", lambda w: f"{MON}/panel/?region={KAB}", None, ANALYSE)],
    "monitoring:business": [("get", lambda w: f"{MON}/business/?{impact_query(w)}", None,
                             ANALYSE)],
    "GET /api/v1/monitoring/rounds": [("get", lambda w: f"{API}/rounds", None,
                                       expect(401, 200, 200, 200, 200, 200, 200))],
    "POST /api/v1/monitoring/rounds": [
        ("post", lambda w: f"{API}/rounds", lambda w: {
            "name": "Probe", "kind": "income", "starts_on": "2026-01-01",
            "ends_on": "2026-02-01", "region": KAB, "owner_agency": dp3a().pk},
         expect(401, 201, 201, 201, 403, 403, 404))],
    "GET /api/v1/monitoring/rounds/{pk}": [
        ("get", lambda w: f"{API}/rounds/{income_round(w)}", None,
         expect(401, 200, 200, 200, 200, 200, 404))],
    "POST /api/v1/monitoring/rounds/{pk}/status": [
        ("post", lambda w: f"{API}/rounds/{income_round(w)}/status", {"status": "closed"},
         expect(401, 200, 200, 200, 403, 403, 404))],
    "GET /api/v1/monitoring/rounds/{pk}/incomes": [
        ("get", lambda w: f"{API}/rounds/{income_round(w)}/incomes?village="
                          f"{w['operator'].region_id}", None,
         expect(401, 200, 200, 200, 200, 200, 404))],
    "POST /api/v1/monitoring/rounds/{pk}/incomes": [
        ("post", lambda w: f"{API}/rounds/{income_round(w)}/incomes",
         lambda w: {"household": own_family(w).pk, "wages": "1500000"},
         expect(401, 201, 201, 201, 201, 403, 404))],
    "POST /api/v1/monitoring/rounds/{pk}/import": [
        ("post", lambda w: f"{API}/rounds/{income_round(w)}/import", upload,
         expect(401, 200, 200, 200, 200, 403, 404))],
    "POST /api/v1/monitoring/rounds/{pk}/business": [
        ("post", lambda w: f"{API}/rounds/{business_round(w)}/business",
         lambda w: {"group": kab_group(w), "turnover": "5000000", "costs": "3000000"},
         expect(401, 201, 201, 201, 404, 403, 404))],
    "GET /api/v1/monitoring/families/{household_id}/incomes": [
        ("get", lambda w: f"{API}/families/{kab_family(w).pk}/incomes", None,
         expect(401, 200, 200, 200, 404, 200, 404))],
    "GET /api/v1/monitoring/panel": [("get", lambda w: f"{API}/panel?region={KAB}", None,
                                      expect(401, 200, 200, 200, 403, 200, 404))],
    "GET /api/v1/monitoring/impact": [
        ("get", lambda w: f"{API}/impact?{impact_query(w)}&baseline="
                          f"{income_round(w, 'Putaran uji 1')}&followup={income_round(w)}",
         None, expect(401, 200, 200, 200, 403, 200, 404))],
}
