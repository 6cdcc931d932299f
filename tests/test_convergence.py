"""Convergence counts against a brute-force count over the objects created.

Hypothesis draws a small registry (families in three villages of Bangka
Tengah over two kecamatan, desil including unknown, persons alive or not,
heads or none), groups with current and past members, four programs of
the three units with simple rules, enrollments of random statuses (some in
another year) and targets at several levels; every number of coverage,
unserved, overlap and target_vs_actual (each live and from the rollup) and
village_profile must equal what plain Python computes from those objects.
"""

import importlib.util
import itertools
from collections import Counter, defaultdict
from datetime import date

import pytest
from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sinergi.agencies.models import Agency
from sinergi.convergence import selectors
from sinergi.convergence.models import RefreshRequest
from sinergi.groups.models import Group, GroupKind, GroupMember
from sinergi.programs.models import SERVED, STATUS_CHOICES, Enrollment, Program, Target
from sinergi.regions.models import Region
from sinergi.registry.models import Household, Person

from .conftest import KAB

YEAR = 2026
TODAY = date(2026, 6, 1)
STATUSES = [s for s, _label in STATUS_CHOICES]
HAS_RULES = importlib.util.find_spec("sinergi.programs.eligibility") is not None

# (code, unit, rule, python predicate on a family / person dict) — rules only
# when the eligibility module exists; "" (everyone alive / active) otherwise.
PROGRAMS = [
    ("T-H1", "household", "desil <= 4", lambda f: f["desil"] is not None and f["desil"] <= 4),
    ("T-P1", "person", 'sex == "P"', lambda p: p["sex"] == "P"),
    ("T-P2", "person", "", lambda p: True),
    ("T-G1", "group", "", None),
]


def _villages():
    kecs = list(Region.objects.filter(parent_id=KAB).order_by("code")
                .values_list("code", flat=True)[:2])
    first = list(Region.objects.filter(parent_id=kecs[0]).order_by("code")
                 .values_list("code", flat=True)[:2])
    second = Region.objects.filter(parent_id=kecs[1]).order_by("code").first().code
    return [*first, second]


def _status(data):
    return data.draw(st.sampled_from([None, None, *STATUSES]))


def _year(data):
    return data.draw(st.sampled_from([YEAR, YEAR, YEAR, YEAR - 1]))


def build(data):
    """Create a world from hypothesis draws; return plain dicts describing it."""
    villages = _villages()
    agencies = list(Agency.objects.filter(region_id=KAB).order_by("id")[:3])
    kind_ir, _c = GroupKind.objects.get_or_create(code="IR", defaults={"name": "IR"})
    kind_kwt, _c = GroupKind.objects.get_or_create(code="KWT", defaults={"name": "KWT"})
    fams = data.draw(st.lists(st.fixed_dictionaries({
        "village": st.integers(0, 2),
        "desil": st.one_of(st.none(), st.integers(1, 10)),
        "active": st.sampled_from([True, True, True, True, False]),
        "members": st.lists(st.tuples(st.sampled_from("LP"), st.sampled_from([1, 1, 3, 4]),
                                      st.sampled_from([True, True, True, False])), max_size=4),
    }), min_size=1, max_size=25))
    families, persons = [], []
    for i, f in enumerate(fams):
        h = Household.objects.create(kk_number=f"{i:016d}", village_code=villages[f["village"]],
                                     desil=f["desil"], is_active=f["active"],
                                     address=f"Jalan {i}")
        fam = {"id": h.id, "kk": h.kk_number, "village": h.village_code, "desil": f["desil"],
               "active": f["active"], "address": h.address, "members": []}
        for j, (sex, shdk, alive) in enumerate(f["members"]):
            p = Person.objects.create(name=f"P{i}-{j}", sex=sex, household=h, shdk=shdk,
                                      village_code=h.village_code, life_status=1 if alive else 2)
            person = {"id": p.id, "sex": sex, "shdk": shdk, "alive": alive, "family": fam,
                      "name": p.name, "village": h.village_code}
            fam["members"].append(person)
            persons.append(person)
        families.append(fam)
    groups = []
    for k in range(2):
        g = Group.objects.create(code=f"T-G{k}", name=f"Group {k}",
                                 kind=kind_ir if k == 0 else kind_kwt,
                                 village_code=villages[data.draw(st.integers(0, 2))],
                                 level="Pemula" if k == 0 else "",
                                 is_active=data.draw(st.sampled_from([True, True, False])))
        g.agencies.set([agencies[k + 1]])
        members = []
        for p in persons:
            state = data.draw(st.sampled_from([None, None, "open", "left"]))
            if state:
                GroupMember.objects.create(group=g, person_id=p["id"],
                                           left_on=date(2026, 1, 1) if state == "left" else None)
                if state == "open":
                    members.append(p)
        groups.append({"id": g.id, "code": g.code, "village": g.village_code, "obj": g,
                       "members": members, "active": g.is_active})
    programs = []
    for n, (code, unit, rule, pred) in enumerate(PROGRAMS):
        rule = rule if HAS_RULES else ""
        if not HAS_RULES and pred is not None:
            pred = lambda x: True  # noqa: E731
        value = data.draw(st.sampled_from([None, 1000, 250]))
        p = Program.objects.create(owner_agency=agencies[n % 3], code=code, name=code,
                                   year_start=YEAR - 1, unit=unit, benefit_type="cash",
                                   benefit_value=value, rule=rule)
        programs.append({"obj": p, "id": p.id, "unit": unit, "pred": pred, "value": value,
                         "code": code})
    enrollments = []
    for prog in programs:
        if prog["unit"] == "household":
            units = [("household", f, f) for f in families]
        elif prog["unit"] == "person":
            units = [("person", p, p["family"]) for p in persons]
        else:
            units = [("group", g, None) for g in groups]
        for kind, unit, fam in units:
            status = _status(data)
            if status is None:
                continue
            value = data.draw(st.sampled_from([None, 100]))
            e = Enrollment.objects.create(
                program=prog["obj"], year=_year(data), status=status, benefit_value=value,
                person_id=unit["id"] if kind == "person" else None,
                household_id=fam["id"] if fam else None,
                group_id=unit["id"] if kind == "group" else None,
                village_code=unit["village"] if kind != "household" else fam["village"])
            enrollments.append({"program": prog, "year": e.year, "status": status,
                                "kind": kind, "unit": unit, "family": fam,
                                "village": e.village_code, "value": value})
    targets = []
    codes = [KAB, villages[0][:8], villages[2][:8], *villages]
    for prog in programs:
        for code in codes:
            if data.draw(st.booleans()):
                count = data.draw(st.integers(0, 20))
                budget = data.draw(st.sampled_from([None, 5000]))
                Target.objects.create(program=prog["obj"], region_id=code, year=YEAR,
                                      count=count, budget=budget)
                targets.append({"program": prog, "code": code, "count": count,
                                "budget": budget})
    return {"villages": villages, "families": families, "persons": persons, "groups": groups,
            "programs": programs, "enrollments": enrollments, "targets": targets,
            "agencies": agencies}


# --- brute force ---------------------------------------------------------------------


def in_region(code, region):
    return code == region or code.startswith(region + ".")


def served_pairs(w, region):
    """{(family id, program id)} for active families of the region, year YEAR."""
    pairs = set()
    for e in w["enrollments"]:
        if e["year"] != YEAR or e["status"] not in SERVED:
            continue
        if e["kind"] == "group":
            fams = [m["family"] for m in e["unit"]["members"] if m["alive"]]
        else:
            fams = [e["family"]]
        for f in fams:
            if f["active"] and in_region(f["village"], region):
                pairs.add((f["id"], e["program"]["id"]))
    return pairs


def served_persons(w, region):
    out = set()
    for e in w["enrollments"]:
        if e["year"] != YEAR or e["status"] not in SERVED:
            continue
        people = e["unit"]["members"] if e["kind"] == "group" else (
            [e["unit"]] if e["kind"] == "person" else [])
        for p in people:
            if p["alive"] and in_region(p["village"], region):
                out.add((p["id"], e["program"]["id"]))
    return out


def eligible(prog, f):
    if prog["unit"] == "group":
        return None
    if prog["unit"] == "household":
        return f["active"] and prog["pred"](f)
    return any(m["alive"] and prog["pred"](m) for m in f["members"])


def head_sex(f):
    heads = [m for m in f["members"] if m["alive"] and m["shdk"] == 1]
    return min(heads, key=lambda m: m["id"])["sex"] if heads else "unknown"


def head_name(f):
    heads = [m for m in f["members"] if m["alive"] and m["shdk"] == 1]
    return min(heads, key=lambda m: m["id"])["name"] if heads else None


def empty(group):
    return {"total": 0, "served": 0, "eligible": None if group else 0,
            "exclusion": None if group else 0, "inclusion": None if group else 0}


def tally(cell, served, elig):
    cell["served"] += served
    if cell["eligible"] is not None:
        cell["eligible"] += bool(elig)
        cell["exclusion"] += bool(elig and not served)
        cell["inclusion"] += bool(served and not elig)


def expected_coverage(w, region, child_len):
    fams = [f for f in w["families"] if f["active"] and in_region(f["village"], region)]
    people = [p for p in w["persons"] if p["alive"] and in_region(p["village"], region)]
    pairs = served_pairs(w, region)
    ppairs = served_persons(w, region)
    ruled = [p for p in w["programs"] if p["unit"] != "group"]

    def entry(prog):
        group = prog is not None and prog["unit"] == "group"
        persons_split = prog is not None and prog["unit"] in ("person", "group")
        out = {"by_desil": {d: empty(group) for d in selectors.DESILS}, "total": empty(group),
               "by_sex": {s: empty(group) for s in selectors.SEXES}, "by_region": {}}
        for f in fams:
            if prog is None:
                s = any((f["id"], p["id"]) in pairs for p in w["programs"])
                hits = [p for p in ruled if eligible(p, f) and (f["id"], p["id"]) in pairs]
                e = any(eligible(p, f) for p in ruled)
                s_ruled = any((f["id"], p["id"]) in pairs for p in ruled)
                values = {"served": int(s), "eligible": int(e),
                          "exclusion": int(e and not hits), "inclusion": int(s_ruled and not hits)}
            else:
                s = (f["id"], prog["id"]) in pairs
                e = eligible(prog, f)
                values = None
            cells = [out["by_desil"][f["desil"] or "unknown"], out["total"],
                     out["by_region"].setdefault(f["village"][:child_len], empty(group))]
            if not persons_split:
                cells.append(out["by_sex"][head_sex(f)])
            for cell in cells:
                cell["total"] += 1
                if values:
                    for k, v in values.items():
                        cell[k] += v
                else:
                    tally(cell, int(s), e)
        if persons_split:
            for p in people:
                cell = out["by_sex"][p["sex"]]
                cell["total"] += 1
                e = None if group else (prog["pred"](p))
                tally(cell, int((p["id"], prog["id"]) in ppairs), e)
        names = dict(Region.objects.values_list("code", "name"))
        out["by_region"] = ([{"region": c, "name": names[c], **v}
                             for c, v in sorted(out["by_region"].items())]
                            if len(region) < 13 else [])
        out["by_sex_counts"] = "persons" if persons_split else "families"
        return out

    return {"all": entry(None), "programs": {p["id"]: entry(p) for p in w["programs"]}}


def check_coverage(result, expected):
    got_all = {k: result["all"][k] for k in expected["all"]}
    assert got_all == expected["all"]
    assert sorted(p["program"] for p in result["programs"]) == sorted(expected["programs"])
    for p in result["programs"]:
        assert {k: p[k] for k in expected["programs"][p["program"]]} == \
            expected["programs"][p["program"]], p["code"]


def expected_unserved(w, region, programs):
    pairs = served_pairs(w, region)
    rows = []
    for f in sorted(w["families"], key=lambda f: (f["village"], f["id"])):
        if not (f["active"] and in_region(f["village"], region)):
            continue
        if programs is None:
            if f["desil"] is not None and f["desil"] <= 4 and not any(
                    (f["id"], p["id"]) in pairs for p in w["programs"]):
                rows.append((f["id"], []))
            continue
        ruled = [p for p in programs if p["unit"] != "group"]
        elig = [p for p in ruled if eligible(p, f)]
        if elig and not any((f["id"], p["id"]) in pairs for p in elig):
            rows.append((f["id"], [p["code"] for p in elig]))
    return rows


def expected_overlap(w, region):
    pairs = served_pairs(w, region)
    fams = [f for f in w["families"] if f["active"] and in_region(f["village"], region)]
    matrix = {a["id"]: {b["id"]: sum(1 for f in fams if (f["id"], a["id"]) in pairs
                                     and (f["id"], b["id"]) in pairs)
                        for b in w["programs"]} for a in w["programs"]}
    counts = Counter(sum(1 for p in w["programs"] if (f["id"], p["id"]) in pairs)
                     for f in fams)
    top = max(counts) if counts else 0
    dist = {n: counts.get(n, 0) for n in range(top + 1)}
    return matrix, dist, len(fams)


def resolve(code, exact):
    if code in exact:
        return exact[code]
    kids = sorted({c for c in exact if c.startswith(code + ".")
                   and c.count(".") == code.count(".") + 1}
                  | {".".join(c.split(".")[:code.count(".") + 2]) for c in exact
                     if c.startswith(code + ".")})
    values = [v for v in (resolve(k, exact) for k in kids) if v is not None]
    return sum(values) if values else None


def expected_targets(w, region):
    kids = list(Region.objects.filter(parent_id=region, retired_in="").order_by("code")
                .values_list("code", flat=True))
    out = {}
    for prog in w["programs"]:
        counts = {t["code"]: t["count"] for t in w["targets"] if t["program"] is prog}
        budgets = {t["code"]: t["budget"] for t in w["targets"]
                   if t["program"] is prog and t["budget"] is not None}
        rows = []
        for code in [region, *kids]:
            served = [e for e in w["enrollments"] if e["program"] is prog and e["year"] == YEAR
                      and e["status"] in SERVED and in_region(e["village"], code)]
            actual = len(served)
            spent = sum(e["value"] if e["value"] is not None else (prog["value"] or 0)
                        for e in served)
            target, budget = resolve(code, counts), resolve(code, budgets)
            rows.append({"region": code, "target": target, "actual": actual,
                         "achieved_pct": round(100 * actual / target, 1) if target else None,
                         "budget": budget, "spent": spent,
                         "spent_pct": round(100 * spent / budget, 1) if budget else None})
        out[prog["id"]] = rows
    return out


def expected_profile(w, village):
    en = [e for e in w["enrollments"] if e["village"] == village and e["year"] == YEAR]
    programs = {}
    for e in en:
        row = programs.setdefault(e["program"]["code"], {"enrolled": 0, "served": 0})
        row["enrolled"] += 1
        row["served"] += e["status"] in SERVED
    groups = {g["code"]: len(g["members"]) for g in w["groups"]
              if g["village"] == village and g["active"]}
    pairs = served_pairs(w, village)
    desils = {d: {"families": 0, "served_0": 0, "served_1": 0, "served_2plus": 0}
              for d in selectors.DESILS}
    for f in w["families"]:
        if f["active"] and f["village"] == village:
            n = sum(1 for p in w["programs"] if (f["id"], p["id"]) in pairs)
            cell = desils[f["desil"] or "unknown"]
            cell["families"] += 1
            cell[("served_0", "served_1", "served_2plus")[min(n, 2)]] += 1
    agencies = defaultdict(lambda: {"programs": [], "groups": []})
    for e in en:
        codes_ = agencies[e["program"]["obj"].owner_agency_id]["programs"]
        if e["program"]["code"] not in codes_:
            codes_.append(e["program"]["code"])
    for g in w["groups"]:
        if g["village"] == village and g["active"]:
            for a in g["obj"].agencies.all():
                agencies[a.id]["groups"].append(g["code"])
    return programs, groups, desils, {k: {"programs": sorted(v["programs"]),
                                          "groups": sorted(v["groups"])}
                                      for k, v in agencies.items()}


# --- the property ------------------------------------------------------------------------


@pytest.mark.django_db
@settings(max_examples=12, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data())
def test_counts_equal_brute_force(world, data):
    with transaction.atomic():
        w = build(data)
        objs = [p["obj"] for p in w["programs"]]
        kec = w["villages"][0][:8]

        # Coverage, live, at kabupaten, kecamatan and village level.
        for region in (KAB, kec, w["villages"][0]):
            child_len = {5: 8, 8: 13, 13: 13}[len(region)]
            result = selectors.coverage(region=region, year=YEAR, programs=objs, today=TODAY)
            assert result["source"] == "live"
            check_coverage(result, expected_coverage(w, region, child_len))
        # The rollup gives the same numbers, and says when it was computed.
        selectors.refresh(region="19", year=YEAR, today=TODAY)
        for region in (KAB, kec, w["villages"][2]):
            child_len = {5: 8, 8: 13, 13: 13}[len(region)]
            rolled = selectors.coverage(region=region, year=YEAR, today=TODAY)
            expected = expected_coverage(w, region, child_len)
            if rolled["source"] == "rollup":
                assert rolled["computed_at"] and rolled["as_of"] == TODAY
            check_coverage(rolled, expected)
            assert selectors.coverage(region=region, year=YEAR, today=TODAY,
                                      live=True)["all"] == rolled["all"]
        # A refresh of one village keeps the sums above it right.
        selectors.refresh(region=w["villages"][1], year=YEAR, today=TODAY)
        check_coverage(selectors.coverage(region=KAB, year=YEAR, today=TODAY),
                       expected_coverage(w, KAB, 8))
        # Chosen programs, from the rollup's cells and family masks: the same
        # as counted live (programs, the all-programs entry, every breakdown).
        for region in (KAB, kec, w["villages"][0], w["villages"][1]):
            for chosen in (objs, objs[:1], objs[1:2], objs[::-1][:2]):
                if not chosen:
                    continue
                rolled = selectors.coverage(region=region, year=YEAR, programs=chosen,
                                            today=TODAY)
                live = selectors.coverage(region=region, year=YEAR, programs=chosen,
                                          today=TODAY, live=True)
                assert rolled["source"] == "rollup" and live["source"] == "live"
                assert rolled["programs"] == live["programs"]
                assert rolled["all"] == live["all"]

        # Unserved, page by page, and the export iterator: from the family masks
        # of the rollup (refreshed above) and live.
        for (programs, chosen), live in itertools.product(
                ((objs, w["programs"]), (objs[:1], w["programs"][:1]), (objs[1:2], None),
                 (None, None)), (False, True)):
            if programs is not None and chosen is None:
                chosen = [p for p in w["programs"] if p["obj"] in programs]
            want = expected_unserved(w, KAB, chosen)
            got, cursor = [], None
            while True:
                page = selectors.unserved(region=KAB, year=YEAR, programs=programs,
                                          today=TODAY, limit=3, cursor=cursor, live=live)
                got += page.items
                cursor = page.next_cursor
                if not cursor:
                    break
            assert [(r["household"], [p["code"] for p in r["programs"]]) for r in got] == want
            exported = list(selectors.unserved_rows(region=KAB, year=YEAR, programs=programs,
                                                    today=TODAY, batch=2, live=live))
            assert exported == got
            by_id = {f["id"]: f for f in w["families"]}
            for r in got:
                f = by_id[r["household"]]
                assert (r["kk_number"], r["village_code"], r["address"], r["desil"],
                        r["head_name"]) == (f["kk"], f["village"], f["address"], f["desil"],
                                            head_name(f))

        # Overlap, from the rollup's mask counts and live.
        for region, live in itertools.product((KAB, w["villages"][0]), (False, True)):
            result = selectors.overlap(region=region, year=YEAR, programs=objs, live=live)
            assert result["source"] == ("live" if live else "rollup")
            matrix, dist, families = expected_overlap(w, region)
            assert result["matrix"] == matrix
            assert result["distribution"] == dist
            assert result["families"] == families
            assert result["at_least"] == {n: sum(v for k, v in dist.items() if k >= n)
                                          for n in dist}
        # A pending refresh means the rollup is behind the data: computed live.
        pending = RefreshRequest.objects.create(region_code="19", year=YEAR,
                                                requested_at=timezone.now())
        assert selectors.overlap(region=KAB, year=YEAR, programs=objs)["source"] == "live"
        pending.delete()

        # Target vs actual, from the rollup's actuals and live; a changed program
        # value prices the enrollments without their own at once.
        if data.draw(st.booleans()):
            prog = w["programs"][0]
            prog["value"] = (prog["value"] or 0) + 7
            prog["obj"].benefit_value = prog["value"]
            prog["obj"].save(update_fields=["benefit_value"])
        for region, live in itertools.product((KAB, kec, w["villages"][0]), (False, True)):
            result = selectors.target_vs_actual(region=region, year=YEAR, programs=objs,
                                                live=live)
            want = expected_targets(w, region)
            for entry in result:
                rows = [{k: r[k] for k in want[entry["program"]][0]} for r in entry["rows"]]
                assert rows == want[entry["program"]], entry["code"]

        # Village profile.
        village = w["villages"][0]
        profile = selectors.village_profile(village=village, year=YEAR, today=TODAY)
        programs, groups, desils, agencies = expected_profile(w, village)
        assert {p["code"]: {"enrolled": p["enrolled"], "served": p["served"]}
                for p in profile["programs"]} == programs
        assert {g["code"]: g["members"] for k in profile["groups"]
                for g in k["groups"]} == groups
        assert profile["by_desil"] == desils
        assert {a["id"]: {"programs": sorted(a["programs"]), "groups": sorted(a["groups"])}
                for a in profile["agencies"]} == agencies
        transaction.set_rollback(True)
