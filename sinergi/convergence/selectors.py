"""Convergence: which families the programs reach, miss, share, and how far
each program is from its target.

Callers pass a region code the user may see (access checks are theirs).
Every count is an SQL aggregate (GROUP BY on a code prefix, desil, sex);
Python only assembles the aggregated rows.

Definitions, one for every function here:

- the families of a region are its active households (by the household's
  own village code); its persons the alive persons living there;
- the programs of a year (``programs=None``) are those whose years cover it;
- a family is served by a program in a year when an enrollment of that
  program and year with a status in SERVED names the household (person
  enrollments carry the household too), or, for a group program, when an
  alive person of the family is a current member of a served group;
- a family is eligible for a household-unit program when it matches the
  rule, for a person-unit program when at least one alive member does;
  group programs have no eligibility (served counts only, the error columns
  are None);
- exclusion error = eligible and not served; inclusion error = served and
  not eligible. For "all programs together": served = by at least one;
  eligible = for at least one; exclusion = eligible for some program but
  served by none of those it is eligible for (the "tepat sasaran" list);
  inclusion = served by a program with a rule, but eligible for none of the
  programs with a rule that serve it;
- the head of a family is its alive member with SHDK 1 (lowest id).
"""

import operator
from collections import defaultdict
from collections.abc import Iterator
from datetime import date
from functools import reduce

from django.core.exceptions import ImproperlyConfigured
from django.db import connection, transaction
from django.db.models import (
    BigIntegerField,
    BooleanField,
    Case,
    Count,
    Exists,
    F,
    OuterRef,
    Q,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce, Substr
from django.utils import timezone
from django.utils.translation import gettext as _

from sinergi.core.bulk import bulk_insert
from sinergi.core.pagination import Page, keyset_page
from sinergi.groups.models import Group, GroupMember
from sinergi.programs.models import GROUP, HOUSEHOLD, PERSON, SERVED, Enrollment, Program, Target
from sinergi.regions.codes import LEVEL_LENGTH, code_level, subtree_q, village_in_q
from sinergi.regions.models import Region
from sinergi.registry.codes import ALIVE, SHDK_HEAD
from sinergi.registry.models import Household, Person

from .models import (
    FAMILY,
    ActualCell,
    CoverageCell,
    CoverageSummary,
    FamilyMask,
    MaskCount,
    RefreshRequest,
    RollupLayout,
)
from .models import PERSON as PERSON_KIND

DESILS = [*range(1, 11), "unknown"]
SEXES = ["L", "P", "unknown"]
MEASURES = ("total", "served", "eligible", "exclusion", "inclusion")
_NO_PAIRS = "SELECT CAST(NULL AS BIGINT), CAST(NULL AS BIGINT) WHERE 1 = 0"


# --- building blocks ------------------------------------------------------------------


def year_programs(year: int) -> list[Program]:
    """The programs whose years cover ``year``: what "all programs" means."""
    return list(Program.objects.filter(year_start__lte=year)
                .filter(Q(year_end__isnull=True) | Q(year_end__gte=year))
                .select_related("owner_agency").order_by("code"))


def _programs(programs, year) -> list[Program]:
    return year_programs(year) if programs is None else list(programs)


def _eligible_q(rule: str, unit: str, today: date) -> Q:
    """The rule as a filter on the unit's model, always within the living/active."""
    base = Q(life_status=ALIVE) if unit == PERSON else Q(is_active=True)
    try:
        from sinergi.programs import eligibility
    except ImportError:
        eligibility = None
    if eligibility is not None:
        return base & eligibility.eligible_q(rule or "", unit, today=today)
    if (rule or "").strip():
        raise ImproperlyConfigured("sinergi.programs.eligibility is needed to evaluate rules")
    return base


def _head_subquery(field: str):
    return Subquery(Person.objects.filter(household=OuterRef("pk"), shdk=SHDK_HEAD,
                                          life_status=ALIVE).order_by("id").values(field)[:1])


def _sql(qs) -> tuple[str, list]:
    sql, params = qs.query.sql_with_params()
    return sql, list(params)


def _table(model) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def _in(values) -> str:
    """An SQL list of integers (ids, never user text), or NULL for an empty one."""
    return ", ".join(str(int(v)) for v in values) or "NULL"


def _served_sql(year: int, programs: list[Program], households: str) -> tuple[str, list]:
    """SELECT hid, pid, r: the (family, program) pairs served, maybe repeated;
    r = 1 when the program has a rule (not a group program). ``households``
    names a relation with an ``id`` column: the families considered."""
    e, gm, p = _table(Enrollment), _table(GroupMember), _table(Person)
    ruled = _in(x.id for x in programs if x.unit != GROUP)
    ids = _in(x.id for x in programs)
    served = ", ".join(["%s"] * len(SERVED))
    sql = (f"SELECT e.household_id AS hid, e.program_id AS pid, "  # noqa: S608
           f"CASE WHEN e.program_id IN ({ruled}) THEN 1 ELSE 0 END AS r FROM {e} e "
           f"WHERE e.year = %s AND e.status IN ({served}) AND e.program_id IN ({ids}) "
           f"AND e.household_id IN (SELECT id FROM {households})")
    params = [year, *SERVED]
    groups = _in(x.id for x in programs if x.unit == GROUP)
    if groups != "NULL":
        sql += (f" UNION ALL SELECT p.household_id, e.program_id, 0 FROM {e} e "  # noqa: S608
                f"JOIN {gm} gm ON gm.group_id = e.group_id AND gm.left_on IS NULL "
                f"JOIN {p} p ON p.id = gm.person_id "
                f"WHERE e.year = %s AND e.status IN ({served}) AND e.program_id IN ({groups}) "
                f"AND p.life_status = %s AND p.household_id IN (SELECT id FROM {households})")
        params += [year, *SERVED, ALIVE]
    return sql, params


def _households_qs(region: str):
    return Household.objects.filter(village_in_q("village_code", region), is_active=True)


def _persons_qs(region: str):
    return Person.objects.filter(village_in_q("village_code", region), life_status=ALIVE)


def _eligible_households_qs(program: Program, region: str, today: date):
    """(household id, program id) of the families of ``region`` eligible for
    ``program`` (household or person unit; repeated for several members)."""
    pid = Value(program.id, output_field=BigIntegerField())
    if program.unit == HOUSEHOLD:
        return (_households_qs(region).filter(_eligible_q(program.rule, HOUSEHOLD, today))
                .annotate(pid=pid).values_list("id", "pid"))
    return (Person.objects.filter(_eligible_q(program.rule, PERSON, today),
                                  village_in_q("household__village_code", region),
                                  household__is_active=True)
            .annotate(pid=pid).values_list("household_id", "pid"))


def _union(parts: list[tuple[str, list]]) -> tuple[str, list]:
    if not parts:
        return _NO_PAIRS, []
    return (" UNION ALL ".join(f"SELECT * FROM ({sql}) u{i}"  # noqa: S608
                               for i, (sql, _p) in enumerate(parts)),
            [x for _s, params in parts for x in params])


def _fetch(sql: str, params: list) -> list[tuple]:
    with connection.cursor() as cur:
        cur.execute(sql, params)
        return cur.fetchall()


# --- coverage cells -------------------------------------------------------------------


def _cells(region: str, year: int, programs: list[Program], today: date,
           key_len: int) -> list[tuple]:
    """Coverage counts of ``region`` grouped by the first ``key_len`` characters
    of the village code: rows (kind, program_id, code, desil, sex, total,
    served, eligible, exclusion, inclusion); program_id None is the
    all-programs row (family) or the persons of the cell (person).

    One statement per kind: the served and the eligible (family, program)
    pairs are unioned and grouped once into flags per pair, then per family,
    and counted per cell.
    """
    head_sex = Coalesce(_head_subquery("sex"), Value(""))
    h_sql, h_params = _sql(_households_qs(region).annotate(
        d=Coalesce("desil", Value(0)), hs=head_sex).values_list("id", "village_code", "d", "hs"))
    s_sql, s_params = _served_sql(year, programs, "h")
    e_sql, e_params = _union([_sql(_eligible_households_qs(p, region, today))
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
    rows = [(FAMILY, *map(_int, r)) for r in _fetch(family, h_params + s_params + e_params)]

    per_person = [p for p in programs if p.unit in (PERSON, GROUP)]
    if not per_person:
        return rows
    u_sql, u_params = _sql(_persons_qs(region).values_list("id", "village_code", "sex"))
    e, gm = _table(Enrollment), _table(GroupMember)
    served = ", ".join(["%s"] * len(SERVED))
    ps_sql = (f"SELECT e.person_id, e.program_id FROM {e} e WHERE e.year = %s "  # noqa: S608
              f"AND e.status IN ({served}) "
              f"AND e.program_id IN ({_in(p.id for p in per_person if p.unit == PERSON)}) "
              "AND e.person_id IN (SELECT id FROM u) "
              f"UNION ALL SELECT gm.person_id, e.program_id FROM {e} e JOIN {gm} gm "
              "ON gm.group_id = e.group_id AND gm.left_on IS NULL "
              f"WHERE e.year = %s AND e.status IN ({served}) "
              f"AND e.program_id IN ({_in(p.id for p in per_person if p.unit == GROUP)}) "
              "AND gm.person_id IN (SELECT id FROM u)")
    ps_params = [year, *SERVED, year, *SERVED]
    pe_sql, pe_params = _union(
        [_sql(_persons_qs(region).filter(_eligible_q(p.rule, PERSON, today))
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
    rows += [(PERSON_KIND, *map(_int, r))
             for r in _fetch(person, u_params + ps_params + pe_params)]
    return rows


def _int(value):
    """PostgreSQL sums come back as Decimal: make every count an int."""
    return int(value) if value is not None and not isinstance(value, str | int) else value


def _child_len(region: str) -> int:
    return LEVEL_LENGTH[min(code_level(region) + 1, 4)]


def _blank(unit: str | None) -> dict:
    counts = dict.fromkeys(MEASURES, 0)
    if unit == GROUP:
        counts.update(eligible=None, exclusion=None, inclusion=None)
    return counts


def _add(into: dict, row: dict) -> None:
    for m in MEASURES[1:]:
        if into[m] is not None:
            into[m] += row[m]


def _assemble(region: str, programs: list[Program], rows: list[tuple],
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
    chosen = _programs(programs, year)
    if programs is None and not live:
        summary = CoverageSummary.objects.filter(year=year, region_code=region).first()
        if summary is not None:
            result = _unpack(summary.data, chosen)
            result.update(region=region, year=year, source="rollup",
                          computed_at=summary.computed_at, as_of=summary.as_of)
            return result
    rows = _cells(region, year, chosen, today, _child_len(region))
    result = _assemble(region, chosen, rows, rows if code_level(region) < 4 else [])
    result.update(region=region, year=year, source="live", computed_at=timezone.now(),
                  as_of=today, uncounted=[])
    return result


_CELL = ("kind", "program_id", "region_code", "desil", "sex", *MEASURES)
# First key of the advisory lock a refresh takes per province (PostgreSQL).
_REFRESH_LOCK = 0x53696E


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


def _summarize(root: str, year: int, programs: list[Program], as_of, now) -> None:
    """Assemble and store the coverage page (and the overlap of all programs)
    of every region whose cells the refresh of ``root`` rewrote: the regions
    in its subtree, read in one query, and its ancestors (their cells now
    hold its new sums)."""
    level = code_level(root)
    above = [root[:LEVEL_LENGTH[lv]] for lv in range(1, level)]
    CoverageSummary.objects.filter(Q(subtree_q("region_code", root)) | Q(region_code__in=above),
                                   year=year).delete()
    own, kids = defaultdict(list), defaultdict(list)
    for row in CoverageCell.objects.filter(subtree_q("region_code", root), year=year) \
            .values_list(*_CELL).iterator(chunk_size=10_000):
        code = row[2]
        own[code].append(row)
        code_lv = code_level(code)
        if code_lv > level and row[0] == FAMILY:
            kids[code[:LEVEL_LENGTH[code_lv - 1]]].append(row)
    for code in above:
        lv = code_level(code)
        own[code] = list(CoverageCell.objects.filter(year=year, level=lv, region_code=code)
                         .values_list(*_CELL, "computed_at", "as_of"))
        kids[code] = list(CoverageCell.objects.filter(
            subtree_q("region_code", code, include_root=False), year=year, level=lv + 1,
            kind=FAMILY).values_list(*_CELL))
    siblings = {r[2] for code in above for r in kids[code]}
    names = dict(Region.objects.filter(Q(subtree_q("code", root)) | Q(code__in=siblings))
                 .values_list("code", "name"))
    masks = defaultdict(list)
    if len(programs) <= _MAX_BITS:
        for code, served, families in MaskCount.objects.filter(
                Q(subtree_q("region_code", root)) | Q(region_code__in=above), year=year) \
                .values_list("region_code", "served", "families").iterator(chunk_size=10_000):
            masks[code].append((served, families))
    bit = {p.id: i for i, p in enumerate(programs)}
    layouts = [(x.region_code, {int(i) for i in x.programs.split(",") if i})
               for x in RollupLayout.objects.filter(year=year, region_code__startswith=root[:2])]
    summaries = []
    for code, rows in own.items():
        if not rows:
            continue
        counted, stamp = programs, {"as_of": as_of, "computed_at": now}
        if code in above:
            # Older refreshes of its other parts are in these sums too: the
            # oldest date and only the programs every part has counted.
            stamp = {"as_of": min(r[-1] for r in rows), "computed_at": min(r[-2] for r in rows)}
            rows = [r[:-2] for r in rows]
            parts = [ids for c, ids in layouts
                     if c == code or c.startswith(code + ".") or code.startswith(c + ".")]
            every = set.intersection(*parts) if parts else {p.id for p in programs}
            counted = [p for p in programs if p.id in every]
        assembled = _assemble(code, counted, rows, kids.get(code, []), names)
        for entry in assembled["programs"]:
            del entry["code"], entry["name"]  # filled in when read
        overlap = None
        if code in masks:
            families, matrix, distribution = _fold_masks(masks[code], programs, bit)
            overlap = {"families": families, "matrix": matrix, "distribution": distribution}
        summaries.append(CoverageSummary(year=year, region_code=code, data=assembled,
                                         overlap=overlap, **stamp))
    CoverageSummary.objects.bulk_create(summaries, batch_size=500)


def refresh(region: str | None = None, year: int | None = None, *,
            today: date | None = None) -> int:
    """Recompute the coverage rollup of ``region`` (default: every province
    with families) for ``year`` (default: every year with enrollments), then
    the sums of the levels above it. Run after enrollment imports or edits,
    registry imports and program rule changes (a job, not a request: a
    province takes seconds). Returns the number of village cells written.
    """
    today = today or timezone.localdate()
    if year is None:
        years = sorted(set(Enrollment.objects.values_list("year", flat=True).distinct()))
    else:
        years = [year]
    if region is None:
        roots = sorted(set(Household.objects.annotate(p=Substr("village_code", 1, 2))
                           .values_list("p", flat=True).distinct()))
    else:
        roots = [region]
    written = 0
    for y in years:
        programs = year_programs(y)
        for root in roots:
            written += _refresh_one(root, y, programs, today)
    return written


def _refresh_one(root: str, year: int, programs: list[Program], today: date) -> int:
    rows = _cells(root, year, programs, today, LEVEL_LENGTH[4])
    stamp = timezone.now()
    now = connection.ops.adapt_datetimefield_value(stamp)
    as_of = connection.ops.adapt_datefield_value(today)
    table = CoverageCell._meta.db_table
    columns = ["year", "region_code", "level", "kind", "program_id", "desil", "sex",
               *MEASURES, "as_of", "computed_at"]
    cols = ", ".join(connection.ops.quote_name(c) for c in columns)
    qn = connection.ops.quote_name(table)
    with transaction.atomic():
        if connection.vendor == "postgresql":
            # The worker and a serving thread may refresh the same province at
            # once: queue them (SQLite's IMMEDIATE transactions already do).
            _execute("SELECT pg_advisory_xact_lock(%s, %s)", [_REFRESH_LOCK, int(root[:2])])
        CoverageCell.objects.filter(subtree_q("region_code", root), year=year).delete()
        bulk_insert(table, columns, ((year, r[2], 4, r[0], r[1], r[3], r[4], *r[5:], as_of, now)
                                     for r in rows))
        root_level = code_level(root)
        for level in (3, 2, 1):
            # Levels inside root from its own cells; the ancestors from all of theirs.
            scope = root if level >= root_level else root[:LEVEL_LENGTH[level]]
            CoverageCell.objects.filter(subtree_q("region_code", scope), year=year,
                                        level=level).delete()
            n = LEVEL_LENGTH[level]
            src = CoverageCell.objects.filter(subtree_q("region_code", scope), year=year,
                                              level=4)
            sel_sql, sel_params = _sql(src.values_list("id"))
            from_where = sel_sql[sel_sql.index(" FROM "):]
            with connection.cursor() as cur:
                cur.execute(
                    f"INSERT INTO {qn} ({cols}) SELECT year, substr(region_code, 1, {n}), "  # noqa: S608
                    f"{level}, kind, program_id, desil, sex, SUM(total), SUM(served), "
                    "SUM(eligible), SUM(exclusion), SUM(inclusion), MIN(as_of), "
                    f"MIN(computed_at) {from_where} GROUP BY year, substr(region_code, 1, {n}), "
                    "kind, program_id, desil, sex", sel_params)
        _refresh_families(root, year, programs, today)
        _summarize(root, year, programs, today, stamp)
    return len(rows)


# --- family rollups: masks, overlap counts, actuals -----------------------------------
#
# The unserved list, the overlap matrix and target vs actual of a large region
# cost seconds when computed from the families and enrollments (each family
# probed per program, or every enrollment of the province grouped). ``refresh``
# therefore also writes, next to the coverage cells: one row per active family
# with bit masks of the programs serving it and those it is eligible for
# (FamilyMask), families per served mask for every region level (MaskCount),
# and served enrollments and spending per program for every region level
# (ActualCell). RollupLayout says which programs the bits stand for and the
# date eligibility was evaluated on; readers fall back to the live queries
# whenever it does not match what is asked.

_MAX_BITS = 62


def _refresh_families(root: str, year: int, programs: list[Program], today: date) -> None:
    """Rewrite the family rollups of ``root`` for ``year`` (inside refresh's
    transaction), then the sums of the levels above it."""
    masks = len(programs) <= _MAX_BITS
    in_root = Household.objects.filter(village_in_q("village_code", root)).values("id")
    FamilyMask.objects.filter(Q(village_in_q("village_code", root)) | Q(household_id__in=in_root),
                              year=year).delete()
    for model in (MaskCount, ActualCell):
        model.objects.filter(subtree_q("region_code", root), year=year).delete()
    RollupLayout.objects.filter(subtree_q("region_code", root), year=year).delete()
    y, v = int(year), LEVEL_LENGTH[4]
    if masks:
        h_sql, h_params = _sql(_households_qs(root).values_list("id", "village_code"))
        s_sql, s_params = _served_sql(year, programs, "h")
        e_sql, e_params = _union([_sql(_eligible_households_qs(p, root, today))
                                  for p in programs if p.unit != GROUP])
        bits = " ".join(f"WHEN {int(p.id)} THEN {1 << i}" for i, p in enumerate(programs))
        bits = bits or "WHEN 0 THEN 0"  # no programs: every family's masks are 0
        _execute(
            f"INSERT INTO {_table(FamilyMask)} (year, household_id, village_code, served, "  # noqa: S608
            f"eligible) WITH h(id, vc) AS ({h_sql}), sp(hid, pid, r) AS ({s_sql}), "
            f"ep(hid, pid) AS ({e_sql}), "
            "f AS (SELECT hid, pid, MAX(s) AS s, MAX(e) AS e FROM ("
            "SELECT hid, pid, 1 AS s, 0 AS e FROM sp UNION ALL "
            "SELECT hid, pid, 0, 1 FROM ep) x GROUP BY hid, pid), "
            f"m AS (SELECT hid, SUM(s * b) AS s, SUM(e * b) AS e FROM (SELECT hid, s, e, "
            f"CASE pid {bits} ELSE 0 END AS b FROM f) y GROUP BY hid) "
            f"SELECT {y}, h.id, substr(h.vc, 1, {v}), COALESCE(m.s, 0), COALESCE(m.e, 0) "
            "FROM h LEFT JOIN m ON m.hid = h.id", h_params + s_params + e_params)
    m_sql, m_params = _sql(FamilyMask.objects.filter(village_in_q("village_code", root), year=y)
                           .values_list("id"))
    _execute(f"INSERT INTO {_table(MaskCount)} (year, level, region_code, served, families) "  # noqa: S608
             f"SELECT year, 4, village_code, served, COUNT(*) {m_sql[m_sql.index(' FROM '):]} "
             "GROUP BY year, village_code, served", m_params)
    a_sql, a_params = _sql(Enrollment.objects.filter(village_in_q("village_code", root), year=y,
                                                     status__in=SERVED).values_list("id"))
    a_from = a_sql[a_sql.index(" FROM "):]
    _execute(f"INSERT INTO {_table(ActualCell)} (year, level, region_code, program_id, served, "  # noqa: S608
             f"spent_own, unvalued) SELECT year, 4, substr(village_code, 1, {v}), program_id, "
             "COUNT(*), SUM(COALESCE(benefit_value, 0)), "
             f"SUM(CASE WHEN benefit_value IS NULL THEN 1 ELSE 0 END) {a_from} "
             f"GROUP BY year, substr(village_code, 1, {v}), program_id", a_params)
    _sum_levels(MaskCount, root, y, ["served"], ["families"])
    _sum_levels(ActualCell, root, y, ["program_id"], ["served", "spent_own", "unvalued"])
    RollupLayout.objects.create(year=y, region_code=root, masks=masks,
                                programs=",".join(str(p.id) for p in programs),
                                as_of=today, computed_at=timezone.now())


def _sum_levels(model, root: str, year: int, keys: list[str], sums: list[str]) -> None:
    """Levels 3..1 of ``model`` summed from its village rows: inside ``root``
    from its own rows, for the ancestors from all of theirs (as for cells)."""
    qn = connection.ops.quote_name
    root_level = code_level(root)
    cols = ", ".join(qn(c) for c in ["year", "level", "region_code", *keys, *sums])
    key_cols = ", ".join(qn(c) for c in keys)
    sum_cols = ", ".join(f"SUM({qn(c)})" for c in sums)
    for level in (3, 2, 1):
        scope = root if level >= root_level else root[:LEVEL_LENGTH[level]]
        model.objects.filter(subtree_q("region_code", scope), year=year, level=level).delete()
        n = LEVEL_LENGTH[level]
        sel_sql, sel_params = _sql(model.objects.filter(subtree_q("region_code", scope),
                                                        year=year, level=4).values_list("id"))
        _execute(f"INSERT INTO {_table(model)} ({cols}) SELECT year, {level}, "  # noqa: S608
                 f"substr(region_code, 1, {n}), {key_cols}, {sum_cols} "
                 f"{sel_sql[sel_sql.index(' FROM '):]} "
                 f"GROUP BY year, substr(region_code, 1, {n}), {key_cols}", sel_params)


def _execute(sql: str, params: list) -> None:
    with connection.cursor() as cur:
        cur.execute(sql, params)


def _layout(region: str, year: int, chosen: list[Program], *, masks: bool = False,
            today: date | None = None) -> dict | None:
    """Bit of each chosen program and when the family rollups were computed,
    when they hold ``region`` for ``year``: a refresh covered the region (it
    or an ancestor), every refresh in and above it saw the same programs as
    the year has now (and, with ``today``, evaluated eligibility on that
    date), the chosen programs are among them, and no refresh of the
    province is pending (these lists are worked from: a family enrolled a
    minute ago must leave them at once). None otherwise."""
    if RefreshRequest.objects.filter(region_code=region[:2], year=year).exists():
        return None
    above = [region[:LEVEL_LENGTH[lv]] for lv in range(1, code_level(region) + 1)]
    layouts = list(RollupLayout.objects.filter(
        Q(region_code__in=above) | subtree_q("region_code", region, include_root=False),
        year=year))
    if not any(x.region_code in above for x in layouts):
        return None
    ids = list(Program.objects.filter(year_start__lte=year)
               .filter(Q(year_end__isnull=True) | Q(year_end__gte=year))
               .order_by("code").values_list("id", flat=True))  # as year_programs, lighter
    key = ",".join(map(str, ids))
    if any(x.programs != key or (masks and not x.masks)
           or (today is not None and x.as_of != today) for x in layouts):
        return None
    bit = {pid: i for i, pid in enumerate(ids)}
    if any(p.id not in bit for p in chosen):
        return None
    return {"bit": bit, "computed_at": min(x.computed_at for x in layouts)}


# --- unserved ("tepat sasaran") --------------------------------------------------------


def _served_q(year: int, programs: list[Program]) -> Q:
    """Households served by at least one of ``programs`` (direct or through a group)."""
    ids = [p.id for p in programs]
    q = Q(Exists(Enrollment.objects.filter(household=OuterRef("pk"), program_id__in=ids,
                                           year=year, status__in=SERVED)))
    groups = [p.id for p in programs if p.unit == GROUP]
    if groups:
        q |= Q(Exists(Enrollment.objects.filter(
            program_id__in=groups, year=year, status__in=SERVED,
            group__members__left_on__isnull=True,
            group__members__person__life_status=ALIVE,
            group__members__person__household=OuterRef("pk"))))
    return q


def _family_eligible_q(program: Program, today: date) -> Q:
    if program.unit == HOUSEHOLD:
        return _eligible_q(program.rule, HOUSEHOLD, today)
    return Q(Exists(Person.objects.filter(_eligible_q(program.rule, PERSON, today),
                                          household=OuterRef("pk"))))


def _unserved_qs(region: str, year: int, programs: list[Program] | None, today: date,
                 live: bool = False):
    """(households query, ruled programs, bit of each program or None).

    From the family masks when the rollup holds the region, the programs and
    today's eligibility: each family walked costs one indexed probe of its
    mask row. Otherwise live: two EXISTS per program and family.
    """
    qs = _households_qs(region).annotate(head_name=_head_subquery("name"))
    ruled = [p for p in programs if p.unit != GROUP] if programs is not None else []
    if programs is not None and not ruled:
        return qs.none(), [], None
    layout = None if live else _layout(region, year, programs or [], masks=True, today=today)
    if layout is not None:
        mask = FamilyMask.objects.filter(year=year, household_id=OuterRef("pk"))
        if programs is None:
            return qs.filter(desil__lte=4).filter(Exists(mask.filter(served=0))), [], None
        chosen = sum(1 << layout["bit"][p.id] for p in ruled)
        # Eligible for a chosen program, and served by none of the chosen it is
        # eligible for; the programs it misses are then exactly eligible & chosen.
        hit = (mask.annotate(e=F("eligible").bitand(chosen),
                             es=F("eligible").bitand(F("served")).bitand(chosen))
               .filter(es=0).exclude(e=0))
        return (qs.filter(Exists(hit)).annotate(mask=Subquery(mask.values("eligible")[:1])),
                ruled, layout["bit"])
    if programs is None:
        return qs.filter(desil__lte=4).exclude(_served_q(year, year_programs(year))), [], None
    eligible = {p.id: _family_eligible_q(p, today) for p in ruled}
    served = {p.id: _served_q(year, [p]) for p in ruled}
    any_eligible = reduce(operator.or_, eligible.values())
    any_hit = reduce(operator.or_, (eligible[i] & served[i] for i in eligible))
    flags = {f"u{p.id}": Case(When(eligible[p.id] & ~served[p.id], then=Value(True)),
                              default=Value(False), output_field=BooleanField())
             for p in ruled}
    return qs.filter(any_eligible).exclude(any_hit).annotate(**flags), ruled, None


def _unserved_row(h: Household, ruled: list[Program], bit: dict | None) -> dict:
    def missed(p):
        return h.mask >> bit[p.id] & 1 if bit is not None else getattr(h, f"u{p.id}")

    return {"household": h.id, "kk_number": h.kk_number, "village_code": h.village_code,
            "address": h.address, "desil": h.desil, "head_name": h.head_name,
            "programs": [{"id": p.id, "code": p.code, "name": p.name}
                         for p in ruled if missed(p)]}


def unserved(*, region: str, year: int, programs: list[Program] | None, today: date,
             limit: int | None = None, cursor: str | None = None, live: bool = False) -> Page:
    """Eligible-but-unserved families of ``region``, one keyset page by
    (village_code, id); ``Page.items`` are dicts.

    With ``programs``: families eligible for at least one of them and served
    by none of those they are eligible for; each row names the programs it
    is eligible for but not served by. With ``programs=None``: families of
    desil <= 4 served by no program of the year (rows name no program).
    The page walks the (village_code, id) index and tests each family with
    an indexed probe of its FamilyMask row (refreshed with the coverage
    rollup, eligibility as of ``today``), or, when the rollup does not hold
    the region, programs or date (or ``live``), with EXISTS probes per
    program; a first page costs the families read to fill it, not the region.
    """
    qs, ruled, bit = _unserved_qs(region, year, programs, today, live)
    page = keyset_page(qs, ["village_code", "id"], cursor=cursor, limit=limit)
    page.items = [_unserved_row(h, ruled, bit) for h in page.items]
    return page


def unserved_rows(*, region: str, year: int, programs: list[Program] | None, today: date,
                  batch: int = 1000, live: bool = False) -> Iterator[dict]:
    """Every row of ``unserved`` in order, a keyset batch at a time (Excel export)."""
    qs, ruled, bit = _unserved_qs(region, year, programs, today, live)
    qs = qs.order_by("village_code", "id")
    after = None
    while True:
        chunk = qs
        if after:
            chunk = qs.filter(Q(village_code__gt=after[0])
                              | Q(village_code=after[0], id__gt=after[1]))
        items = list(chunk[:batch])
        for h in items:
            yield _unserved_row(h, ruled, bit)
        if len(items) < batch:
            return
        after = (items[-1].village_code, items[-1].id)


# --- overlap -----------------------------------------------------------------------------


def overlap(*, region: str, year: int, programs: list[Program] | None = None,
            live: bool = False) -> dict:
    """Families of ``region`` served by both A and B for every pair of programs
    (the diagonal: served by A), and families by number of programs received.

    One pass folds each family's served programs into a bit mask and counts
    families per distinct mask; pair counts and the distribution are sums
    over those masks (a few thousand, not the families). Returns
    ``matrix[a][b]`` (program ids), ``distribution`` {n: families served by
    exactly n} from 0 up to the most, ``at_least`` {n: served by n or more},
    ``families`` and ``programs``; ``source`` ("rollup" / "live") and
    ``computed_at``.

    The rollup (MaskCount, refreshed with coverage) already holds families
    per served mask for every region, so when it holds the region and the
    chosen programs the masks are read, not computed.
    """
    chosen = _programs(programs, year)
    layout = None if live else _layout(region, year, chosen, masks=True)
    if layout is not None:
        return _overlap_result(region, year, chosen, *_overlap_rollup(region, year, chosen,
                                                                      layout["bit"]),
                               source="rollup", computed_at=layout["computed_at"])
    families = _households_qs(region).count()
    if len(chosen) > 62:
        matrix, distribution = _overlap_join(region, year, chosen)
    else:
        matrix = {a.id: dict.fromkeys((b.id for b in chosen), 0) for a in chosen}
        distribution = defaultdict(int)
        if chosen:
            h_sql, h_params = _sql(_households_qs(region).values_list("id"))
            s_sql, s_params = _served_sql(year, chosen, "h")
            bits = " ".join(f"WHEN {int(p.id)} THEN {1 << i}" for i, p in enumerate(chosen))
            sql = (f"WITH h(id) AS ({h_sql}), sp(hid, pid, r) AS ({s_sql}), "  # noqa: S608
                   "d AS (SELECT DISTINCT hid, pid FROM sp), "
                   f"m AS (SELECT hid, SUM(CASE pid {bits} ELSE 0 END) AS mask, COUNT(*) AS n "
                   "FROM d GROUP BY hid) "
                   "SELECT mask, n, COUNT(*) FROM m GROUP BY mask, n")
            for mask, n, count in _fetch(sql, h_params + s_params):
                mask, n, count = int(mask), int(n), int(count)
                members = [p.id for i, p in enumerate(chosen) if mask >> i & 1]
                for a in members:
                    for b in members:
                        matrix[a][b] += count
                distribution[n] += count
    return _overlap_result(region, year, chosen, families, matrix, distribution,
                           source="live", computed_at=timezone.now())


def _overlap_rollup(region: str, year: int, chosen: list[Program], bit: dict):
    """Families, matrix and distribution (n >= 1) of the region: stored by the
    refresh when all its programs are chosen, else folded from its MaskCount
    rows, each served mask narrowed to the chosen programs."""
    if {p.id for p in chosen} == set(bit):
        stored = CoverageSummary.objects.filter(year=year, region_code=region).values_list(
            "overlap", flat=True).first()
        if stored:
            return (stored["families"],
                    {int(a): {int(b): n for b, n in row.items()}
                     for a, row in stored["matrix"].items()},
                    defaultdict(int, {int(n): c for n, c in stored["distribution"].items()}))
    rows = MaskCount.objects.filter(year=year, level=code_level(region),
                                    region_code=region).values_list("served", "families")
    return _fold_masks(rows, chosen, bit)


def _fold_masks(rows, chosen: list[Program], bit: dict):
    """Families, pair matrix and distribution (n >= 1) from (served mask,
    families) rows."""
    matrix = {a.id: dict.fromkeys((b.id for b in chosen), 0) for a in chosen}
    distribution = defaultdict(int)
    by_mask = defaultdict(int)
    families = 0
    wanted = sum(1 << bit[p.id] for p in chosen)
    for served, count in rows:
        families += count
        by_mask[served & wanted] += count
    program_at = {bit[p.id]: p.id for p in chosen}
    for mask, count in by_mask.items():
        members = []
        while mask:  # the set bits only: a family gets a few programs, not all
            low = mask & -mask
            members.append(program_at[low.bit_length() - 1])
            mask ^= low
        for a in members:
            row = matrix[a]
            for b in members:
                row[b] += count
        if members:
            distribution[len(members)] += count
    return families, matrix, distribution


def _overlap_result(region, year, chosen, families, matrix, distribution, **freshness) -> dict:
    distribution[0] = families - sum(v for k, v in distribution.items() if k)
    dist = {n: distribution.get(n, 0) for n in range(max(distribution) + 1)}
    at_least = {n: sum(c for k, c in dist.items() if k >= n) for n in dist}
    return {"region": region, "year": year, "families": families,
            "programs": [{"id": p.id, "code": p.code, "name": p.name} for p in chosen],
            "matrix": matrix, "distribution": dist, "at_least": at_least, **freshness}


def _overlap_join(region: str, year: int, chosen: list[Program]):
    """Overlap for more than 62 programs (no mask fits): a self-join of pairs."""
    h_sql, h_params = _sql(_households_qs(region).values_list("id"))
    s_sql, s_params = _served_sql(year, chosen, "h")
    head = (f"WITH h(id) AS ({h_sql}), sp(hid, pid, r) AS ({s_sql}), "  # noqa: S608
            "d AS (SELECT DISTINCT hid, pid FROM sp) ")
    matrix = {a.id: dict.fromkeys((b.id for b in chosen), 0) for a in chosen}
    for a, b, n in _fetch(head + "SELECT x.pid, y.pid, COUNT(*) FROM d x JOIN d y "  # noqa: S608
                          "ON x.hid = y.hid GROUP BY x.pid, y.pid", h_params + s_params):
        matrix[a][b] = int(n)
    distribution = defaultdict(int)
    for n, count in _fetch(head + "SELECT n, COUNT(*) FROM (SELECT hid, COUNT(*) AS n FROM d "  # noqa: S608
                           "GROUP BY hid) c GROUP BY n", h_params + s_params):
        distribution[int(n)] = int(count)
    return matrix, distribution


# --- target vs actual -------------------------------------------------------------------


def _resolve(code: str, exact: dict) -> int | None:
    """The target set for ``code``, else the sum of its children's (recursively)."""
    if code in exact:
        return exact[code]
    level = code_level(code)
    if level >= 4:
        return None
    n = LEVEL_LENGTH[level + 1]
    kids = {c[:n] for c in exact if c.startswith(code + ".") and len(c) >= n}
    values = [v for v in (_resolve(k, exact) for k in sorted(kids)) if v is not None]
    return sum(values) if values else None


def _pct(actual, target):
    return round(100 * actual / target, 1) if target else None


def target_vs_actual(*, region: str, year: int, programs: list[Program] | None = None,
                     live: bool = False) -> list:
    """Per program: the region and each child region with target, actual
    (served enrollments in the subtree, in the program's unit) and % achieved,
    and the budget likewise (spent = benefit values of served enrollments,
    the program's value where the enrollment has none).

    A target counts where it is set: a region without its own takes the sum
    of its children's (each resolved the same way); None when none is set
    below either.

    The actuals come from the rollup (ActualCell: the region's own row and
    its children's) when it holds the region and programs, else from the
    enrollments now.
    """
    chosen = _programs(programs, year)
    kids = (list(Region.objects.filter(parent_id=region, retired_in="").order_by("code")
                 .values_list("code", "name")) if code_level(region) < 4 else [])
    own_name = Region.objects.filter(code=region).values_list("name", flat=True).first() or ""
    layout = None if live else _layout(region, year, chosen)
    actual = (_actual_rollup(region, year, chosen) if layout is not None
              else _actual_live(region, year, chosen))
    counts, budgets = defaultdict(dict), defaultdict(dict)
    for pid, code, count, budget in (Target.objects.filter(subtree_q("region__code", region),
                                                           year=year, program__in=chosen)
                                     .values_list("program_id", "region_id", "count", "budget")):
        counts[pid][code] = count
        if budget is not None:
            budgets[pid][code] = budget
    out = []
    for p in chosen:
        rows = []
        for code, name in [(region, own_name), *kids]:
            n, spent = actual[p.id, code]
            target = _resolve(code, counts[p.id])
            budget = _resolve(code, budgets[p.id])
            rows.append({"region": code, "name": name, "level": code_level(code),
                         "target": target, "actual": n, "achieved_pct": _pct(n, target),
                         "budget": budget, "spent": spent, "spent_pct": _pct(spent, budget)})
        out.append({"program": p.id, "code": p.code, "name": p.name, "unit": p.unit,
                    "rows": rows})
    return out


def _actual_live(region: str, year: int, chosen: list[Program]) -> dict:
    """{(program id, region or child code): (served, spent)} from the enrollments."""
    actual = defaultdict(lambda: (0, 0))
    for pid, code, n, spent in (
            Enrollment.objects.filter(village_in_q("village_code", region), year=year,
                                      status__in=SERVED, program__in=chosen)
            .annotate(code=Substr("village_code", 1, _child_len(region)))
            .values_list("program_id", "code")
            .annotate(n=Count("id"), spent=Sum(Coalesce("benefit_value",
                                                        "program__benefit_value")))
            .order_by()):
        actual[pid, code] = (n, int(spent or 0))
        if code != region:
            own = actual[pid, region]
            actual[pid, region] = (own[0] + n, own[1] + int(spent or 0))
    return actual


def _actual_rollup(region: str, year: int, chosen: list[Program]) -> dict:
    """The same from ActualCell; the program's value now prices the
    enrollments without their own."""
    value = {p.id: p.benefit_value or 0 for p in chosen}
    level = code_level(region)
    rows = ActualCell.objects.filter(
        Q(level=level, region_code=region)
        | Q(subtree_q("region_code", region, include_root=False), level=min(level + 1, 4)),
        year=year, program_id__in=list(value))
    actual = defaultdict(lambda: (0, 0))
    for pid, code, n, own, unvalued in rows.values_list("program_id", "region_code", "served",
                                                        "spent_own", "unvalued"):
        actual[pid, code] = (n, int(own) + unvalued * value[pid])
    return actual


# --- village profile ----------------------------------------------------------------------


def village_profile(*, village: str, year: int, today: date) -> dict:
    """A village's programs (enrollments and served), groups by kind with
    members and level, the agencies present (owners of those programs,
    supervisors of those groups), and its families by desil with how many
    are served by 0, 1 and 2+ programs of the year."""
    if code_level(village) != 4:
        raise ValueError(_("A village profile needs a village code."))
    stats = {pid: (n, s) for pid, n, s in
             Enrollment.objects.filter(village_code=village, year=year)
             .values_list("program_id").annotate(n=Count("id"),
                                                 s=Count("id", filter=Q(status__in=SERVED)))
             .order_by()}
    programs = list(Program.objects.filter(id__in=stats).select_related("owner_agency")
                    .order_by("code"))
    groups = list(Group.objects.filter(village_code=village, is_active=True)
                  .select_related("kind").prefetch_related("agencies")
                  .annotate(members_count=Count("members",
                                                filter=Q(members__left_on__isnull=True)))
                  .order_by("kind__position", "kind_id", "code"))
    by_kind = {}
    for g in groups:
        kind = by_kind.setdefault(g.kind_id, {"kind": g.kind_id, "name": g.kind.name,
                                              "groups": []})
        kind["groups"].append({"id": g.id, "code": g.code, "name": g.name, "level": g.level,
                               "members": g.members_count})
    agencies = {}

    def agency(a):
        return agencies.setdefault(a.id, {"id": a.id, "short_name": a.short_name,
                                          "name": a.name, "programs": [], "groups": []})

    for p in programs:
        agency(p.owner_agency)["programs"].append(p.code)
    for g in groups:
        for a in g.agencies.all():
            agency(a)["groups"].append(g.code)

    h_sql, h_params = _sql(_households_qs(village).annotate(d=Coalesce("desil", Value(0)))
                           .values_list("id", "d"))
    s_sql, s_params = _served_sql(year, year_programs(year), "h")
    sql = (f"WITH h(id, desil) AS ({h_sql}), sp(hid, pid, r) AS ({s_sql}), "  # noqa: S608
           "c AS (SELECT hid, COUNT(DISTINCT pid) AS n FROM sp GROUP BY hid) "
           "SELECT h.desil, CASE WHEN c.n IS NULL THEN 0 WHEN c.n = 1 THEN 1 ELSE 2 END AS k, "
           "COUNT(*) FROM h LEFT JOIN c ON c.hid = h.id GROUP BY h.desil, "
           "CASE WHEN c.n IS NULL THEN 0 WHEN c.n = 1 THEN 1 ELSE 2 END")
    desils = {d: {"families": 0, "served_0": 0, "served_1": 0, "served_2plus": 0}
              for d in DESILS}
    for desil, k, count in _fetch(sql, h_params + s_params):
        cell = desils[desil or "unknown"]
        cell["families"] += int(count)
        cell[("served_0", "served_1", "served_2plus")[k]] += int(count)
    return {
        "village": village, "year": year,
        "name": Region.objects.filter(code=village).values_list("name", flat=True).first(),
        "programs": [{"id": p.id, "code": p.code, "name": p.name, "unit": p.unit,
                      "agency": p.owner_agency_id, "enrolled": stats[p.id][0],
                      "served": stats[p.id][1]} for p in programs],
        "groups": list(by_kind.values()),
        "agencies": sorted(agencies.values(), key=lambda a: a["short_name"]),
        "by_desil": desils,
    }
