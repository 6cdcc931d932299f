"""Coverage: families by program, desil, sex and child region, total,
served, eligible and both targeting errors; counted live (``count_cells``) or
read from the summary a refresh stored (``coverage``)."""

from datetime import date

from django.db.models import BigIntegerField, Q, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from sinergi.groups.models import GroupMember
from sinergi.programs.models import GROUP, PERSON, SERVED, Enrollment, Program
from sinergi.regions.codes import code_level, subtree_q, village_in_q
from sinergi.regions.models import Region

from .models import FAMILY, CoverageCell, CoverageSummary, FamilyMask
from .models import PERSON as PERSON_KIND
from .sql import (
    DESILS,
    MEASURES,
    SEXES,
    as_int,
    child_len,
    chosen_programs,
    eligible_households_qs,
    eligible_q,
    fetch,
    head_subquery,
    households_qs,
    int_list,
    persons_qs,
    query_sql,
    rollup_layout,
    served_sql,
    table_name,
    union_sql,
)


def count_cells(region: str, year: int, programs: list[Program], today: date,
           key_len: int) -> list[tuple]:
    """Coverage counts of ``region`` grouped by the first ``key_len`` characters
    of the village code: rows (kind, program_id, code, desil, sex, total,
    served, eligible, exclusion, inclusion); program_id None is the
    all-programs row (family) or the persons of the cell (person).

    One statement per kind: the served and the eligible (family, program)
    pairs are unioned and grouped once into flags per pair, then per family,
    and counted per cell.
    """
    head_sex = Coalesce(head_subquery("sex"), Value(""))
    h_sql, h_params = query_sql(households_qs(region).annotate(
        d=Coalesce("desil", Value(0)), hs=head_sex).values_list("id", "village_code", "d", "hs"))
    s_sql, s_params = served_sql(year, programs, "h")
    e_sql, e_params = union_sql([query_sql(eligible_households_qs(p, region, today))
                              for p in programs if p.unit != GROUP])
    k = int(key_len)
    bigint = "CAST(NULL AS BIGINT)"
    family = (
        f"WITH h(id, vc, desil, sex) AS ({h_sql}), "  # noqa: S608
        f"sp(hid, pid, r) AS ({s_sql}), ep(hid, pid) AS ({e_sql}), "
        "f AS (SELECT hid, pid, MAX(s) AS s, MAX(e) AS e, MAX(r) AS r FROM ("
        "SELECT hid, pid, 1 AS s, 0 AS e, r FROM sp UNION ALL "
        "SELECT hid, pid, 0, 1, 1 FROM ep) x GROUP BY hid, pid), "
        "g AS (SELECT hid, MAX(s) AS s, MAX(e) AS e, MAX(s * e) AS es, MAX(s * r) AS sr "
        "FROM f GROUP BY hid) "
        f"SELECT f.pid, substr(h.vc, 1, {k}), h.desil, h.sex, 0, SUM(f.s), SUM(f.e), "
        "SUM(CASE WHEN f.e = 1 AND f.s = 0 THEN 1 ELSE 0 END), "
        "SUM(CASE WHEN f.s = 1 AND f.e = 0 THEN 1 ELSE 0 END) "
        f"FROM f JOIN h ON h.id = f.hid GROUP BY f.pid, substr(h.vc, 1, {k}), h.desil, h.sex "
        f"UNION ALL SELECT {bigint}, substr(h.vc, 1, {k}), h.desil, h.sex, COUNT(*), "
        "SUM(COALESCE(g.s, 0)), SUM(COALESCE(g.e, 0)), "
        "SUM(CASE WHEN g.e = 1 AND g.es = 0 THEN 1 ELSE 0 END), "
        "SUM(CASE WHEN g.sr = 1 AND g.es = 0 THEN 1 ELSE 0 END) "
        f"FROM h LEFT JOIN g ON g.hid = h.id GROUP BY substr(h.vc, 1, {k}), h.desil, h.sex")
    rows = [(FAMILY, *map(as_int, r)) for r in fetch(family, h_params + s_params + e_params)]

    per_person = [p for p in programs if p.unit in (PERSON, GROUP)]
    if not per_person:
        return rows
    u_sql, u_params = query_sql(persons_qs(region).values_list("id", "village_code", "sex"))
    e, gm = table_name(Enrollment), table_name(GroupMember)
    served = ", ".join(["%s"] * len(SERVED))
    ps_sql = (f"SELECT e.person_id, e.program_id FROM {e} e WHERE e.year = %s "  # noqa: S608
              f"AND e.status IN ({served}) "
              f"AND e.program_id IN ({int_list(p.id for p in per_person if p.unit == PERSON)}) "
              "AND e.person_id IN (SELECT id FROM u) "
              f"UNION ALL SELECT gm.person_id, e.program_id FROM {e} e JOIN {gm} gm "
              "ON gm.group_id = e.group_id AND gm.left_on IS NULL "
              f"WHERE e.year = %s AND e.status IN ({served}) "
              f"AND e.program_id IN ({int_list(p.id for p in per_person if p.unit == GROUP)}) "
              "AND gm.person_id IN (SELECT id FROM u)")
    ps_params = [year, *SERVED, year, *SERVED]
    pe_sql, pe_params = union_sql(
        [query_sql(persons_qs(region).filter(eligible_q(p.rule, PERSON, today))
              .annotate(pid=Value(p.id, output_field=BigIntegerField())).values_list("id", "pid"))
         for p in per_person if p.unit == PERSON])
    person = (
        f"WITH u(id, vc, sex) AS ({u_sql}), ps(id, pid) AS ({ps_sql}), "  # noqa: S608
        f"pe(id, pid) AS ({pe_sql}), "
        "f AS (SELECT id, pid, MAX(s) AS s, MAX(e) AS e FROM ("
        "SELECT id, pid, 1 AS s, 0 AS e FROM ps UNION ALL SELECT id, pid, 0, 1 FROM pe) x "
        "GROUP BY id, pid) "
        f"SELECT f.pid, substr(u.vc, 1, {k}), 0, u.sex, 0, SUM(f.s), SUM(f.e), "
        "SUM(CASE WHEN f.e = 1 AND f.s = 0 THEN 1 ELSE 0 END), "
        "SUM(CASE WHEN f.s = 1 AND f.e = 0 THEN 1 ELSE 0 END) "
        f"FROM f JOIN u ON u.id = f.id GROUP BY f.pid, substr(u.vc, 1, {k}), u.sex "
        f"UNION ALL SELECT {bigint}, substr(u.vc, 1, {k}), 0, u.sex, COUNT(*), 0, 0, 0, 0 "
        f"FROM u GROUP BY substr(u.vc, 1, {k}), u.sex")
    rows += [(PERSON_KIND, *map(as_int, r))
             for r in fetch(person, u_params + ps_params + pe_params)]
    return rows


def _blank(unit: str | None) -> dict:
    counts = dict.fromkeys(MEASURES, 0)
    if unit == GROUP:
        counts.update(eligible=None, exclusion=None, inclusion=None)
    return counts


def _add(into: dict, row: dict) -> None:
    for m in MEASURES[1:]:
        if into[m] is not None:
            into[m] += row[m]


def assemble(region: str, programs: list[Program], rows: list[tuple],
              child_rows: list[tuple], names: dict | None = None) -> dict:
    """Coverage dict from cell rows: ``rows`` for the region's totals,
    ``child_rows`` (code = a child region) for the rollup by region.

    One pass over the rows: a program's row goes to that program's entry
    only, an all-programs row (the totals) to every entry. Pages under load
    spend their time here, so it is linear in the rows, not rows x programs.
    """
    def as_dict(r):
        return dict(zip(("kind", "program", "code", "desil", "sex", *MEASURES), r, strict=True))

    entries = [(None, None), *((p.id, p) for p in programs)]
    units = {pid: program.unit if program else None for pid, program in entries}
    persons = {pid: unit in (PERSON, GROUP) for pid, unit in units.items()}
    out = {pid: {"by_desil": {d: _blank(unit) for d in DESILS}, "total": _blank(unit),
                 "by_sex": {s: _blank(unit) for s in SEXES},
                 "by_sex_counts": "persons" if persons[pid] else "families", "by_region": {}}
           for pid, unit in units.items()}

    def add(entry, pid, r, desil, sex):
        _add(entry["by_desil"][desil], r)
        _add(entry["total"], r)
        if not persons[pid]:
            _add(entry["by_sex"][sex], r)

    for r in map(as_dict, rows):
        desil = r["desil"] or "unknown"
        sex = r["sex"] or "unknown"
        if r["program"] is None:
            for pid, entry in out.items():
                if r["kind"] == FAMILY:
                    entry["by_desil"][desil]["total"] += r["total"]
                    entry["total"]["total"] += r["total"]
                    if not persons[pid]:
                        entry["by_sex"][sex]["total"] += r["total"]
                elif persons[pid]:
                    entry["by_sex"][sex]["total"] += r["total"]
            if r["kind"] == FAMILY:
                add(out[None], None, r, desil, sex)
        elif r["program"] in out:
            pid = r["program"]
            if r["kind"] == FAMILY:
                add(out[pid], pid, r, desil, sex)
            elif persons[pid]:
                _add(out[pid]["by_sex"][sex], r)
    if names is None:
        names = dict(Region.objects.filter(code__in={r[2] for r in child_rows} - {region})
                     .values_list("code", "name"))
    def region_cell(pid, code):
        cells = out[pid]["by_region"]
        if code not in cells:
            cells[code] = _blank(units[pid])
        return cells[code]

    for r in child_rows:
        kind, program, code = r[0], r[1], r[2]
        if kind != FAMILY or code == region:
            continue
        if program is None:
            for pid in out:
                region_cell(pid, code)["total"] += r[5]
            _add(out[None]["by_region"][code], as_dict(r))
        elif program in out:
            _add(region_cell(program, code), as_dict(r))
    for entry in out.values():
        entry["by_region"] = [{"region": code, "name": names.get(code, ""), **counts}
                              for code, counts in sorted(entry["by_region"].items())]
    return {"programs": [{"program": p.id, "code": p.code, "name": p.name, "unit": p.unit,
                          **out[p.id]} for p in programs],
            "all": {"program": None, **out[None]}}


def coverage(*, region: str, year: int, programs: list[Program] | None = None,
             today: date, live: bool = False) -> dict:
    """Coverage by desil, by sex and by child region, per program and for all
    programs together.

    With ``programs=None`` it reads the rollup (``refresh``) when the rollup
    holds the year and region, so a province page costs a few hundred rows;
    otherwise (a chosen set of programs, no rollup yet, or ``live``) it is
    computed now. ``source`` ("rollup" / "live"), ``computed_at`` and
    ``as_of`` (the date eligibility was evaluated on) let the page show
    freshness.
    """
    chosen = chosen_programs(programs, year)
    if programs is None and not live:
        summary = CoverageSummary.objects.filter(year=year, region_code=region).first()
        if summary is not None:
            result = _unpack(summary.data, chosen)
            result.update(region=region, year=year, source="rollup",
                          computed_at=summary.computed_at, as_of=summary.as_of)
            return result
    if programs is not None and not live:
        layout = rollup_layout(region, year, chosen, masks=True, fresh=False)
        if layout is not None:
            rows = _chosen_cells(region, year, chosen, layout)
            result = assemble(region, chosen, rows, rows if code_level(region) < 4 else [])
            result.update(region=region, year=year, source="rollup",
                          computed_at=layout["computed_at"], as_of=layout["as_of"],
                          uncounted=[])
            return result
    rows = count_cells(region, year, chosen, today, child_len(region))
    result = assemble(region, chosen, rows, rows if code_level(region) < 4 else [])
    result.update(region=region, year=year, source="live", computed_at=timezone.now(),
                  as_of=today, uncounted=[])
    return result


def _chosen_cells(region: str, year: int, chosen: list[Program], layout: dict) -> list[tuple]:
    """The rows ``count_cells`` would count for some of the programs, read from the
    rollup instead: each program's own cells as stored, the persons' totals
    (the same for any programs), and the all-programs row of the chosen ones
    from the family masks (served / eligible bits of each family, ANDed with
    the chosen programs' bits), so nothing evaluates a rule or scans the
    enrollments on a request."""
    key_len = child_len(region)
    level = code_level(region) if key_len == len(region) else code_level(region) + 1
    ids = [p.id for p in chosen]
    stored = CoverageCell.objects.filter(subtree_q("region_code", region), year=year,
                                         level=level)
    rows = [tuple(map(as_int, r)) for r in stored.filter(
        Q(program_id__in=ids) | Q(kind=PERSON_KIND, program_id__isnull=True))
        .values_list("kind", "program_id", "region_code", "desil", "sex", *MEASURES)]
    bit = layout["bit"]
    chosen_bits = sum(1 << bit[p.id] for p in chosen)
    ruled_bits = sum(1 << bit[p.id] for p in chosen if p.unit != GROUP)
    m_sql, m_params = query_sql(FamilyMask.objects.filter(village_in_q("village_code", region),
                                                     year=year).values_list(
        "village_code", "desil", "head_sex", "served", "eligible"))
    k = int(key_len)
    s_, e_ = f"(m.served & {chosen_bits})", f"(m.eligible & {chosen_bits})"
    es, sr = f"(m.served & m.eligible & {chosen_bits})", f"(m.served & {ruled_bits})"
    sql = (
        f"SELECT substr(m.village_code, 1, {k}), m.desil, m.head_sex, COUNT(*), "  # noqa: S608
        f"SUM(CASE WHEN {s_} <> 0 THEN 1 ELSE 0 END), "
        f"SUM(CASE WHEN {e_} <> 0 THEN 1 ELSE 0 END), "
        f"SUM(CASE WHEN {e_} <> 0 AND {es} = 0 THEN 1 ELSE 0 END), "
        f"SUM(CASE WHEN {sr} <> 0 AND {es} = 0 THEN 1 ELSE 0 END) "
        f"FROM ({m_sql}) m "
        f"GROUP BY substr(m.village_code, 1, {k}), m.desil, m.head_sex")
    rows += [(FAMILY, None, *map(as_int, r)) for r in fetch(sql, m_params)]
    return rows


def _unpack(data: dict, chosen: list[Program]) -> dict:
    """A stored summary as ``coverage`` returns it, for the programs of now:
    codes and names as they are now; a program the summary does not hold
    (added since the refresh, or not yet counted in every part of the
    region) is listed in ``uncounted`` until the next refresh."""
    codes = [r["region"] for r in data["all"]["by_region"]]
    names = dict(Region.objects.filter(code__in=codes).values_list("code", "name")) \
        if codes else {}

    def restore(entry):
        # JSON keys are text: desil 1..10 come back as "1".."10". Region names
        # as they are now (an edition may rename).
        return {**entry, "by_desil": {d: entry["by_desil"][str(d)] for d in DESILS},
                "by_region": [{**r, "name": names.get(r["region"], r["name"])}
                              for r in entry["by_region"]]}

    stored = {e["program"]: e for e in data["programs"]}
    return {"programs": [{**restore(stored[p.id]), "code": p.code, "name": p.name}
                         for p in chosen if p.id in stored],
            "all": restore(data["all"]),
            "uncounted": [p.code for p in chosen if p.id not in stored]}
