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

from django.db.models import (
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
from django.utils.translation import gettext as _

from sinergi.core.pagination import Page, keyset_page
from sinergi.groups.models import Group
from sinergi.programs.models import GROUP, HOUSEHOLD, PERSON, SERVED, Enrollment, Program, Target
from sinergi.regions.codes import LEVEL_LENGTH, code_level, subtree_q, village_in_q
from sinergi.regions.models import Region
from sinergi.registry.codes import ALIVE, POOR_DESIL_MAX
from sinergi.registry.models import Household, Person

from .cells import coverage
from .models import ActualCell, FamilyMask
from .overlap import overlap
from .rollup import refresh
from .sql import (
    DESILS,
    MEASURES,
    SEXES,
    child_len,
    chosen_programs,
    eligible_q,
    fetch,
    head_subquery,
    households_qs,
    query_sql,
    rollup_layout,
    served_sql,
    year_programs,
)

# What pages, the API, services and the benchmark read through this module.
__all__ = ["DESILS", "MEASURES", "SEXES", "coverage", "overlap", "refresh", "target_vs_actual",
           "unserved", "unserved_rows", "village_profile", "year_programs"]


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
        return eligible_q(program.rule, HOUSEHOLD, today)
    return Q(Exists(Person.objects.filter(eligible_q(program.rule, PERSON, today),
                                          household=OuterRef("pk"))))


def _unserved_qs(region: str, year: int, programs: list[Program] | None, today: date,
                 live: bool = False):
    """(households query, ruled programs, bit of each program or None).

    From the family masks when the rollup holds the region, the programs and
    today's eligibility: each family walked costs one indexed probe of its
    mask row. Otherwise live: two EXISTS per program and family.
    """
    qs = households_qs(region).annotate(
        head_name=head_subquery("name"),
        village_name=Subquery(Region.objects.filter(code=OuterRef("village_code"))
                              .values("name")[:1]))
    ruled = [p for p in programs if p.unit != GROUP] if programs is not None else []
    if programs is not None and not ruled:
        return qs.none(), [], None
    layout = None if live else rollup_layout(region, year, programs or [], masks=True, today=today)
    if layout is not None:
        mask = FamilyMask.objects.filter(year=year, household_id=OuterRef("pk"))
        if programs is None:
            poor = qs.filter(desil__lte=POOR_DESIL_MAX)
            return poor.filter(Exists(mask.filter(served=0))), [], None
        chosen = sum(1 << layout["bit"][p.id] for p in ruled)
        # Eligible for a chosen program, and served by none of the chosen it is
        # eligible for; the programs it misses are then exactly eligible & chosen.
        hit = (mask.annotate(e=F("eligible").bitand(chosen),
                             es=F("eligible").bitand(F("served")).bitand(chosen))
               .filter(es=0).exclude(e=0))
        return (qs.filter(Exists(hit)).annotate(mask=Subquery(mask.values("eligible")[:1])),
                ruled, layout["bit"])
    if programs is None:
        poor = qs.filter(desil__lte=POOR_DESIL_MAX)
        return poor.exclude(_served_q(year, year_programs(year))), [], None
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
            "village_name": h.village_name or "", "address": h.address, "desil": h.desil,
            "head_name": h.head_name,
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
    chosen = chosen_programs(programs, year)
    kids = (list(Region.objects.filter(parent_id=region, retired_in="").order_by("code")
                 .values_list("code", "name")) if code_level(region) < 4 else [])
    own_name = Region.objects.filter(code=region).values_list("name", flat=True).first() or ""
    layout = None if live else rollup_layout(region, year, chosen)
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
            .annotate(code=Substr("village_code", 1, child_len(region)))
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

    h_sql, h_params = query_sql(households_qs(village).annotate(d=Coalesce("desil", Value(0)))
                           .values_list("id", "d"))
    s_sql, s_params = served_sql(year, year_programs(year), "h")
    sql = (f"WITH h(id, desil) AS ({h_sql}), sp(hid, pid, r) AS ({s_sql}), "  # noqa: S608
           "c AS (SELECT hid, COUNT(DISTINCT pid) AS n FROM sp GROUP BY hid) "
           "SELECT h.desil, CASE WHEN c.n IS NULL THEN 0 WHEN c.n = 1 THEN 1 ELSE 2 END AS k, "
           "COUNT(*) FROM h LEFT JOIN c ON c.hid = h.id GROUP BY h.desil, "
           "CASE WHEN c.n IS NULL THEN 0 WHEN c.n = 1 THEN 1 ELSE 2 END")
    desils = {d: {"families": 0, "served_0": 0, "served_1": 0, "served_2plus": 0}
              for d in DESILS}
    for desil, k, count in fetch(sql, h_params + s_params):
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
