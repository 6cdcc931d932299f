"""Computed indicators against a brute-force count over the objects created.

Hypothesis draws a small registry over two kabupaten (three villages of
Bangka Tengah in two kecamatan, one of Tanggamus): families with desil or
none, persons alive or not with or without NIK, birth date, birth
certificate and family; groups (IR, BUMDes) with current and past members;
enrollments served or not. Every cell of every computed indicator of the
catalogue, at every level and in every disaggregation, must equal what plain
Python counts from those objects — after a full count, and again after a
change recounted incrementally (only the touched villages).
"""

from collections import defaultdict
from datetime import date
from decimal import Decimal

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sinergi.agencies.models import Agency
from sinergi.core import changes
from sinergi.groups.models import Group, GroupKind, GroupMember
from sinergi.indicators import compute, services
from sinergi.indicators.models import Indicator, Stale, Value
from sinergi.programs.models import Enrollment, Program
from sinergi.regions.models import Region
from sinergi.registry.models import Household, Person

from .conftest import KAB, OUTSIDE_KAB

TODAY = date(2026, 6, 1)
PERIOD = "2026"


def _villages():
    kecs = list(Region.objects.filter(parent_id=KAB).order_by("code")
                .values_list("code", flat=True)[:2])
    first = list(Region.objects.filter(parent_id=kecs[0]).order_by("code")
                 .values_list("code", flat=True)[:2])
    second = Region.objects.filter(parent_id=kecs[1]).order_by("code").first().code
    outside = Region.objects.filter(code__startswith=OUTSIDE_KAB + ".", level=4) \
        .order_by("code").first().code
    return [*first, second, outside]


def age_on(birth: date, today: date) -> int:
    return today.year - birth.year - ((today.month, today.day) < (birth.month, birth.day))


def life_stage(p):
    if p["birth"] is None:
        return "unknown"
    a = age_on(p["birth"], TODAY)
    return "balita" if a < 5 else "anak" if a < 18 else "dewasa" if a < 60 else "lansia"


def work_group(p):
    if p["birth"] is None:
        return "unknown"
    a = age_on(p["birth"], TODAY)
    return "0-14" if a < 15 else "15-64" if a < 65 else "65+"


BIRTHS = st.one_of(st.none(), st.sampled_from([
    date(2026, 5, 31), date(2021, 6, 2), date(2021, 6, 1), date(2015, 1, 1),
    date(2008, 6, 2), date(2008, 6, 1), date(1990, 3, 3), date(1966, 6, 2), date(1961, 6, 1),
    date(1950, 1, 1)]))


def build(data):
    villages = _villages()
    agency = Agency.objects.filter(region_id=KAB).first()
    program = Program.objects.create(owner_agency=agency, code="T-COV", name="T",
                                     year_start=2025, unit="household", benefit_type="cash")
    fams = data.draw(st.lists(st.fixed_dictionaries({
        "village": st.integers(0, 3), "desil": st.one_of(st.none(), st.integers(1, 10)),
        "active": st.sampled_from([True, True, True, False]),
        "served": st.sampled_from([None, "active", "proposed", "active-2025"]),
        "members": st.lists(st.fixed_dictionaries({
            "sex": st.sampled_from("LP"), "alive": st.sampled_from([True, True, True, False]),
            "nik": st.booleans(), "akta": st.sampled_from([None, True, False]),
            "birth": BIRTHS, "in_kk": st.sampled_from([True, True, False])}), max_size=4),
    }), min_size=1, max_size=14))
    persons, families = [], []
    serial = 0
    for i, f in enumerate(fams):
        h = Household.objects.create(kk_number=f"{i:016d}", village_code=villages[f["village"]],
                                     desil=f["desil"], is_active=f["active"])
        fam = {"id": h.id, "village": h.village_code, "desil": f["desil"],
               "active": f["active"], "served": f["served"] == "active"}
        families.append(fam)
        if f["served"]:
            status, year = ("active", 2025) if f["served"] == "active-2025" else \
                (f["served"], 2026)
            Enrollment.objects.create(program=program, year=year, status=status,
                                      household_id=h.id, village_code=h.village_code)
        for m in f["members"]:
            serial += 1
            p = Person.objects.create(
                name=f"P{serial}", sex=m["sex"], household=h if m["in_kk"] else None,
                village_code=h.village_code, life_status=1 if m["alive"] else 2,
                nik=f"{serial:016d}" if m["nik"] else None, birth_date=m["birth"],
                has_birth_certificate=m["akta"])
            persons.append({"id": p.id, "sex": m["sex"], "alive": m["alive"],
                            "nik": m["nik"], "akta": m["akta"], "birth": m["birth"],
                            "in_kk": m["in_kk"], "village": h.village_code})
    groups = []
    kinds = {k: GroupKind.objects.get_or_create(code=k, defaults={"name": k})[0]
             for k in ("IR", "BUMDES")}
    for k in range(data.draw(st.integers(0, 3))):
        kind = data.draw(st.sampled_from(["IR", "BUMDES"]))
        g = Group.objects.create(code=f"T-G{k}", name=f"G{k}", kind=kinds[kind],
                                 village_code=villages[data.draw(st.integers(0, 3))],
                                 is_active=data.draw(st.sampled_from([True, True, False])))
        members = []
        for p in persons:
            state = data.draw(st.sampled_from([None, None, "open", "left"]))
            if state:
                GroupMember.objects.create(group=g, person_id=p["id"],
                                           left_on=date(2026, 1, 1) if state == "left" else None)
                if state == "open":
                    members.append(p)
        groups.append({"kind": kind, "village": g.village_code, "active": g.is_active,
                       "members": members})
    return {"villages": villages, "persons": persons, "families": families, "groups": groups}


def expected_cells(w) -> dict:
    """{(indicator code, region, disaggregation): (numerator, denominator)}."""
    kinds = dict(Region.objects.filter(level=4).values_list("code", "kind"))
    out = defaultdict(lambda: [Decimal(0), None])

    def add(code, village, disaggregation, num, den):
        for region in (village[:2], village[:5], village[:8], village):
            cell = out[(code, region, disaggregation)]
            cell[0] += num
            if den is not None:
                cell[1] = (cell[1] or Decimal(0)) + den

    def by(code, village, parts, num, den, area=True):
        add(code, village, "", num, den)
        for dim, cat in parts.items():
            add(code, village, f"{dim}:{cat}", num, den)
        if area:
            add(code, village, f"area:{kinds[village]}", num, den)

    for p in w["persons"]:
        if not p["alive"]:
            continue
        v = p["village"]
        sex, age, work = p["sex"], life_stage(p), work_group(p)
        by("PENDUDUK", v, {"sex": sex, "age": age, "age_work": work}, 1, None)
        by("NIK_PCT", v, {"sex": sex, "age": age}, int(p["nik"]), 1)
        by("KK_PCT", v, {"sex": sex}, int(p["in_kk"]), 1)
        if age in ("balita", "anak"):
            by("AKTA_ANAK", v, {"sex": sex, "age": age}, int(p["akta"] is True), 1)
    for f in w["families"]:
        if not f["active"]:
            continue
        v, desil = f["village"], f["desil"]
        by("KELUARGA", v, {"desil": desil or "unknown"}, 1, None)
        by("DESIL14_PCT", v, {}, int(bool(desil) and desil <= 4), 1)
        if desil and desil <= 4:
            by("CAKUPAN_D14", v, {"desil": desil}, int(f["served"]), 1)
    for g in w["groups"]:
        if not g["active"]:
            continue
        by("KELOMPOK", g["village"], {"kind": g["kind"]}, 1, None)
        for m in g["members"]:
            by("ANGGOTA_KELOMPOK", g["village"], {"kind": g["kind"], "sex": m["sex"]}, 1,
               None)
    provinces = {f["village"][:2] for f in w["families"]} | {g["village"][:2]
                                                             for g in w["groups"]}
    bumdes = {g["village"] for g in w["groups"] if g["active"] and g["kind"] == "BUMDES"}
    for code in Region.objects.filter(level=4, retired_in="").values_list("code", flat=True):
        if code[:2] in provinces:
            by("DESA_BUMDES", code, {}, int(code in bumdes), 1)
    return out


def check(w):
    factors = {i.pk: (i.code, i.factor) for i in Indicator.objects.all()}
    got = {(factors[iid][0], code, d): (num, den, value) for iid, code, d, num, den, value in
           Value.objects.filter(period=PERIOD, origin="computed").values_list(
               "indicator_id", "region_code", "disaggregation", "numerator", "denominator",
               "value")}
    want = expected_cells(w)
    assert set(got) == set(want), (sorted(set(want) - set(got))[:5],
                                   sorted(set(got) - set(want))[:5])
    code_factor = {c: f for c, f in factors.values()}
    for key, (num, den) in want.items():
        g_num, g_den, g_value = got[key]
        assert (g_num, g_den) == (num, den), key
        factor = code_factor[key[0]]
        if den is None:
            assert g_value == num, key
        elif den == 0:
            assert g_value is None, key
        else:
            assert g_value == (num * factor / den).quantize(Decimal("0.0001")), key


@pytest.mark.django_db
@settings(max_examples=10, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data())
def test_computed_values_equal_brute_force(world, data):
    with transaction.atomic():
        w = build(data)
        compute.recompute(today=TODAY)
        check(w)
        # A change in one village: its marks are written in the change's
        # transaction and the recount touches only that village's cells
        # (and one row per level above it).
        village = w["villages"][1]
        alive = [p for p in w["persons"] if p["village"] == village and p["alive"]]
        for p in alive[:2]:
            Person.objects.filter(pk=p["id"]).update(nik=None, has_birth_certificate=True)
            p["nik"], p["akta"] = False, True
        changes.changed(changes.REGISTRY, [village])
        assert set(Stale.objects.values_list("village_code", "source")) == {
            (village, "registry")}
        untouched = {(v.region_code, v.disaggregation, v.indicator_id): v.computed_at
                     for v in Value.objects.filter(level=4).exclude(region_code=village)}
        assert services.recompute_pending(today=TODAY) == 1
        assert not Stale.objects.exists()
        check(w)
        after = {(v.region_code, v.disaggregation, v.indicator_id): v.computed_at
                 for v in Value.objects.filter(level=4).exclude(region_code=village)}
        assert after == untouched
        transaction.set_rollback(True)


@pytest.mark.django_db
def test_rollups_sum_parts_and_never_average_percentages(world):
    """Two villages with unequal denominators: 1 of 1 person with a NIK
    (100 %) and 1 of 9 (11.1 %). The kecamatan is 2 of 10 = 20 %, not the
    average of 100 % and 11.1 % (55.6 %)."""
    kec = Region.objects.filter(parent_id=KAB).order_by("code").first().code
    a, b = Region.objects.filter(parent_id=kec).order_by("code")[:2]
    Person.objects.create(name="A0", sex="L", village_code=a.code, nik="1" * 16)
    for i in range(9):
        Person.objects.create(name=f"B{i}", sex="P", village_code=b.code,
                              nik="2" * 15 + str(i) if i == 0 else None)
    compute.recompute(today=TODAY)
    nik = Indicator.objects.get(code="NIK_PCT")
    values = dict(Value.objects.filter(indicator=nik, period=PERIOD, disaggregation="")
                  .values_list("region_code", "value"))
    assert values[a.code] == Decimal("100")
    assert values[b.code] == Decimal("11.1111")
    assert values[kec] == Decimal("20")
    assert values[KAB] == Decimal("20")
    cell = Value.objects.get(indicator=nik, period=PERIOD, disaggregation="", region_code=kec)
    assert (cell.numerator, cell.denominator) == (2, 10)
