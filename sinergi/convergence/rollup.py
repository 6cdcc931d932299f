"""The stored rollup: ``refresh`` recounts a province and year in one
transaction (coverage cells, family masks, actuals, summaries), so pages
read a few rows instead of counting the registry.

The unserved list, the overlap matrix and target vs actual of a large region
cost seconds when computed from the families and enrollments (each family
probed per program, or every enrollment of the province grouped). ``refresh``
therefore also writes, next to the coverage cells: one row per active family
with bit masks of the programs serving it and those it is eligible for
(FamilyMask), families per served mask for every region level (MaskCount),
and served enrollments and spending per program for every region level
(ActualCell). RollupLayout says which programs the bits stand for and the
date eligibility was evaluated on; readers fall back to the live queries
whenever it does not match what is asked."""

from collections import defaultdict
from datetime import date

from django.db import connection, transaction
from django.db.models import Q, Value
from django.db.models.functions import Coalesce, Substr
from django.utils import timezone

from sinergi.core.bulk import bulk_insert
from sinergi.programs.models import GROUP, SERVED, Enrollment, Program
from sinergi.regions.codes import LEVEL_LENGTH, code_level, subtree_q, village_in_q
from sinergi.regions.models import Region
from sinergi.registry.models import Household

from .cells import assemble, count_cells
from .models import (
    FAMILY,
    ActualCell,
    CoverageCell,
    CoverageSummary,
    FamilyMask,
    MaskCount,
    RollupLayout,
)
from .overlap import fold_masks
from .sql import (
    MEASURES,
    eligible_households_qs,
    execute,
    head_subquery,
    households_qs,
    query_sql,
    served_sql,
    table_name,
    union_sql,
    year_programs,
)

_CELL = ("kind", "program_id", "region_code", "desil", "sex", *MEASURES)


# First key of the advisory lock a refresh takes per province (PostgreSQL).
_REFRESH_LOCK = 0x53696E


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
        assembled = assemble(code, counted, rows, kids.get(code, []), names)
        for entry in assembled["programs"]:
            del entry["code"], entry["name"]  # filled in when read
        overlap = None
        if code in masks:
            families, matrix, distribution = fold_masks(masks[code], programs, bit)
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
    rows = count_cells(root, year, programs, today, LEVEL_LENGTH[4])
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
            execute("SELECT pg_advisory_xact_lock(%s, %s)", [_REFRESH_LOCK, int(root[:2])])
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
            sel_sql, sel_params = query_sql(src.values_list("id"))
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
        h_sql, h_params = query_sql(households_qs(root).annotate(
            d=Coalesce("desil", Value(0)), hs=Coalesce(head_subquery("sex"), Value("")))
            .values_list("id", "village_code", "d", "hs"))
        s_sql, s_params = served_sql(year, programs, "h")
        e_sql, e_params = union_sql([query_sql(eligible_households_qs(p, root, today))
                                  for p in programs if p.unit != GROUP])
        bits = " ".join(f"WHEN {int(p.id)} THEN {1 << i}" for i, p in enumerate(programs))
        bits = bits or "WHEN 0 THEN 0"  # no programs: every family's masks are 0
        execute(
            f"INSERT INTO {table_name(FamilyMask)} (year, household_id, village_code, served, "  # noqa: S608
            f"eligible, desil, head_sex) WITH h(id, vc, desil, sex) AS ({h_sql}), "
            f"sp(hid, pid, r) AS ({s_sql}), "
            f"ep(hid, pid) AS ({e_sql}), "
            "f AS (SELECT hid, pid, MAX(s) AS s, MAX(e) AS e FROM ("
            "SELECT hid, pid, 1 AS s, 0 AS e FROM sp UNION ALL "
            "SELECT hid, pid, 0, 1 FROM ep) x GROUP BY hid, pid), "
            f"m AS (SELECT hid, SUM(s * b) AS s, SUM(e * b) AS e FROM (SELECT hid, s, e, "
            f"CASE pid {bits} ELSE 0 END AS b FROM f) y GROUP BY hid) "
            f"SELECT {y}, h.id, substr(h.vc, 1, {v}), COALESCE(m.s, 0), COALESCE(m.e, 0), "
            "h.desil, h.sex "
            "FROM h LEFT JOIN m ON m.hid = h.id", h_params + s_params + e_params)
    m_sql, m_params = query_sql(FamilyMask.objects.filter(
        village_in_q("village_code", root), year=y).values_list("id"))
    execute(f"INSERT INTO {table_name(MaskCount)} (year, level, region_code, served, families) "  # noqa: S608
             f"SELECT year, 4, village_code, served, COUNT(*) {m_sql[m_sql.index(' FROM '):]} "
             "GROUP BY year, village_code, served", m_params)
    a_sql, a_params = query_sql(Enrollment.objects.filter(
        village_in_q("village_code", root), year=y, status__in=SERVED).values_list("id"))
    a_from = a_sql[a_sql.index(" FROM "):]
    execute(f"INSERT INTO {table_name(ActualCell)} (year, level, region_code, program_id, served, "  # noqa: S608
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
        sel_sql, sel_params = query_sql(model.objects.filter(subtree_q("region_code", scope),
                                                        year=year, level=4).values_list("id"))
        execute(f"INSERT INTO {table_name(model)} ({cols}) SELECT year, {level}, "  # noqa: S608
                 f"substr(region_code, 1, {n}), {key_cols}, {sum_cols} "
                 f"{sel_sql[sel_sql.index(' FROM '):]} "
                 f"GROUP BY year, substr(region_code, 1, {n}), {key_cols}", sel_params)
