"""Computed indicators: counted from the registry, groups and programs at
village level, then summed up the region tree.

One grouped query per kind of base row (persons, families, covered
families, groups, group members, villages) counts every village asked for
in one pass; each measure turns those base rows into cells (numerator,
denominator per village and disaggregation). Regions above are the sums of
their children's numerators and denominators, and the value is computed
from those sums (``value_of``): a percentage of a kabupaten is never the
average of its kecamatan's percentages.

``recompute(roots, sources)`` recounts only the villages under ``roots``
and only the measures that read ``sources``, then re-sums only the regions
above them: a change to one village rewrites that village's cells and one
row per level above it.
"""

import datetime
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal

from django.db import connection, transaction
from django.db.models import Case, CharField, Count, Exists, OuterRef, Q, Value, When
from django.db.models.functions import Coalesce
from django.utils import timezone

from sinergi.core.changes import GROUPS, PROGRAMS, REGISTRY
from sinergi.groups.models import Group, GroupMember
from sinergi.programs.models import SERVED, Enrollment
from sinergi.regions.codes import LEVEL_LENGTH, code_kind, code_level, code_parent, village_in_q
from sinergi.regions.models import Region
from sinergi.registry.codes import ALIVE
from sinergi.registry.models import Household, Person

from . import dimensions as dims
from .models import COMPUTED, VERIFIED, YESNO, Indicator
from .models import Value as Cell

Q4 = Decimal("0.0001")


def value_of(numerator, denominator, factor: int) -> Decimal | None:
    """The value of a cell from its parts: numerator × factor / denominator,
    or the numerator itself for a count (no denominator)."""
    if numerator is None:
        return None
    numerator = Decimal(numerator)
    if denominator is None:
        return numerator.quantize(Q4)
    denominator = Decimal(denominator)
    if denominator == 0:
        return None
    return (numerator * factor / denominator).quantize(Q4)


# --- base rows --------------------------------------------------------------------------

def _years_before(today: datetime.date, years: int) -> datetime.date:
    try:
        return today.replace(year=today.year - years)
    except ValueError:  # 29 February
        return today.replace(year=today.year - years, day=28)


def _age_case(groups, today: datetime.date) -> Case:
    """The age group of a birth date on ``today``: the person is younger than
    ``upper`` years when born after the date ``upper`` years ago."""
    whens = [When(birth_date__isnull=True, then=Value(dims.UNKNOWN))]
    for name, _lower, upper in groups:
        if upper is not None:
            whens.append(When(birth_date__gt=_years_before(today, upper), then=Value(name)))
    return Case(*whens, default=Value(groups[-1][0]), output_field=CharField())


def _where(field: str, roots: list[str] | None) -> Q:
    if roots is None:
        return Q()
    where = Q(pk__in=[])
    for root in roots:
        where |= village_in_q(field, root)
    return where


def person_rows(roots, today, year):
    """(village, sex, age, age_work, persons, with NIK, with akta, in a KK)."""
    return (Person.objects.filter(_where("village_code", roots), life_status=ALIVE)
            .annotate(age=_age_case(dims.AGE_GROUPS, today),
                      work=_age_case(dims.AGE_WORK_GROUPS, today))
            .values_list("village_code", "sex", "age", "work")
            .annotate(n=Count("id"), nik=Count("nik"),
                      akta=Count("id", filter=Q(has_birth_certificate=True)),
                      kk=Count("household_id"))
            .order_by())


def family_rows(roots, today, year):
    """(village, desil or 0, families)."""
    return (Household.objects.filter(_where("village_code", roots), is_active=True)
            .annotate(d=Coalesce("desil", 0)).values_list("village_code", "d")
            .annotate(n=Count("id")).order_by())


def covered_rows(roots, today, year):
    """(village, desil, families of desil 1-4, of them served by a program this year)."""
    served = Enrollment.objects.filter(household_id=OuterRef("pk"), year=year,
                                       status__in=SERVED)
    return (Household.objects.filter(_where("village_code", roots), is_active=True,
                                     desil__gte=1, desil__lte=4)
            .annotate(s=Exists(served))
            .values_list("village_code", "desil")
            .annotate(n=Count("id"), served=Count("id", filter=Q(s=True))).order_by())


def group_rows(roots, today, year):
    """(village, group kind, active groups)."""
    return (Group.objects.filter(_where("village_code", roots), is_active=True)
            .values_list("village_code", "kind_id").annotate(n=Count("id")).order_by())


def member_rows(roots, today, year):
    """(village of the group, group kind, member's sex, current members)."""
    return (GroupMember.objects.filter(_where("group__village_code", roots),
                                       group__is_active=True, left_on__isnull=True)
            .values_list("group__village_code", "group__kind_id", "person__sex")
            .annotate(n=Count("id")).order_by())


def village_rows(roots, today, year):
    """(village, has an active BUMDes): every current village under the roots."""
    with_bumdes = set(Group.objects.filter(_where("village_code", roots), is_active=True,
                                           kind_id="BUMDES")
                      .values_list("village_code", flat=True).distinct())
    villages = Region.objects.filter(level=4, retired_in="")
    if roots is not None:
        villages = villages.filter(_where("code", roots))
    return [(code, code in with_bumdes) for code in villages.values_list("code", flat=True)]


# --- measures ---------------------------------------------------------------------------

Emit = Callable[[str, str, object, object], None]  # (village, disaggregation, num, den)


@dataclass(frozen=True)
class Measure:
    key: str
    label: str
    rows: Callable  # (roots, today, year) -> iterable of base rows
    cells: Callable[[Iterable, Emit, set], None]  # (base rows, emit, dimensions asked)
    sources: frozenset  # changes (core.changes) that make it stale
    dimensions: tuple = ()


def _by(emit: Emit, village: str, asked: set, parts: dict, num, den) -> None:
    """Emit the total and one cell per asked dimension of ``parts``."""
    emit(village, "", num, den)
    for dimension, category in parts.items():
        if dimension in asked:
            emit(village, dims.key(dimension, category), num, den)


def _persons_share(field: int):
    def cells(rows, emit, asked):
        for village, sex, age, work, n, *counts in rows:
            _by(emit, village, asked, {dims.SEX: sex, dims.AGE: age, dims.AGE_WORK: work},
                counts[field], n)
    return cells


def _persons(rows, emit, asked):
    for village, sex, age, work, n, *_counts in rows:
        _by(emit, village, asked, {dims.SEX: sex, dims.AGE: age, dims.AGE_WORK: work}, n, None)


def _children_akta(rows, emit, asked):
    for village, sex, age, _work, n, _nik, akta, _kk in rows:
        if age in ("balita", "anak"):
            _by(emit, village, asked, {dims.SEX: sex, dims.AGE: age}, akta, n)


def _families(rows, emit, asked):
    for village, desil, n in rows:
        _by(emit, village, asked, {dims.DESIL: desil or dims.UNKNOWN}, n, None)


def _families_desil_1_4(rows, emit, asked):
    for village, desil, n in rows:
        emit(village, "", n if desil and desil <= 4 else 0, n)


def _covered(rows, emit, asked):
    for village, desil, n, served in rows:
        _by(emit, village, asked, {dims.DESIL: desil}, served, n)


def _groups(rows, emit, asked):
    for village, kind, n in rows:
        _by(emit, village, asked, {dims.KIND: kind}, n, None)


def _members(rows, emit, asked):
    for village, kind, sex, n in rows:
        _by(emit, village, asked, {dims.KIND: kind, dims.SEX: sex}, n, None)


def _bumdes(rows, emit, asked):
    for village, has in rows:
        emit(village, "", 1 if has else 0, 1)


MEASURES = {m.key: m for m in [
    Measure("persons", "living persons", person_rows, _persons, frozenset({REGISTRY}),
            (dims.SEX, dims.AGE, dims.AGE_WORK)),
    Measure("persons_with_nik", "living persons with a NIK / living persons", person_rows,
            _persons_share(0), frozenset({REGISTRY}), (dims.SEX, dims.AGE, dims.AGE_WORK)),
    Measure("persons_in_kk", "living persons on a family card / living persons", person_rows,
            _persons_share(2), frozenset({REGISTRY}), (dims.SEX, dims.AGE, dims.AGE_WORK)),
    Measure("children_with_akta", "children (0-17) with a birth certificate / children",
            person_rows, _children_akta, frozenset({REGISTRY}), (dims.SEX, dims.AGE)),
    Measure("families", "active families", family_rows, _families, frozenset({REGISTRY}),
            (dims.DESIL,)),
    Measure("families_desil_1_4", "families in desil 1-4 / active families", family_rows,
            _families_desil_1_4, frozenset({REGISTRY})),
    Measure("coverage_desil_1_4", "families of desil 1-4 served by a program this year / "
            "families of desil 1-4", covered_rows, _covered, frozenset({REGISTRY, PROGRAMS}),
            (dims.DESIL,)),
    Measure("groups", "active groups", group_rows, _groups, frozenset({GROUPS}), (dims.KIND,)),
    Measure("group_members", "current members of active groups", member_rows, _members,
            frozenset({GROUPS, REGISTRY}), (dims.KIND, dims.SEX)),
    Measure("villages_with_bumdes", "villages with an active BUMDes / villages", village_rows,
            _bumdes, frozenset({GROUPS})),
]}


# --- counting and summing ---------------------------------------------------------------

def computed_indicators(sources: Iterable[str] | None = None) -> list[Indicator]:
    wanted = set(sources) if sources is not None else None
    out = []
    for indicator in Indicator.objects.filter(is_active=True, source__in=(
            "registry", "programs", "groups")).exclude(measure=""):
        measure = MEASURES.get(indicator.measure)
        if measure and (wanted is None or measure.sources & wanted):
            out.append(indicator)
    return out


def village_cells(indicators: list[Indicator], roots: list[str] | None, today, year) -> dict:
    """{(indicator id, village, disaggregation): [numerator, denominator]}
    for the villages under ``roots`` (None: everywhere), each base query run once."""
    cells: dict = {}
    base: dict = {}
    for indicator in indicators:
        measure = MEASURES[indicator.measure]
        if measure.rows not in base:
            base[measure.rows] = list(measure.rows(roots, today, year))
        asked = set(indicator.dimensions) & set(measure.dimensions)
        iid = indicator.pk

        def emit(village, disaggregation, num, den, iid=iid):
            _add(cells, (iid, village, disaggregation), num, den)

        measure.cells(base[measure.rows], emit, asked)
        if dims.AREA in indicator.dimensions:
            for (iid_, village, disaggregation), (num, den) in list(cells.items()):
                if iid_ == iid and disaggregation == "":
                    emit(village, dims.key(dims.AREA, code_kind(village)), num, den)
    return cells


def sum_up(rows: Iterable[tuple], level: int) -> dict:
    """Children's cells summed into their parents at ``level``: rows of
    (indicator id, region code, disaggregation, numerator, denominator)."""
    n = LEVEL_LENGTH[level]
    out: dict = {}
    for iid, code, disaggregation, num, den in rows:
        _add(out, (iid, code[:n], disaggregation), num, den)
    return out


def _add(cells: dict, key: tuple, num, den) -> None:
    """Add a numerator and a denominator (None: a count has none) to a cell."""
    cell = cells.get(key)
    if cell is None:
        cells[key] = [num, den]
        return
    cell[0] += num
    if den is not None:
        cell[1] = (cell[1] or 0) + den


_COLUMNS = ["indicator_id", "region_code", "level", "period", "disaggregation", "numerator",
            "denominator", "value", "origin", "source_note", "status", "flags", "computed_at"]


def _write(cells: dict, level: int, period: str, factors: dict, now) -> int:
    # Imported here: core.bulk loads polars, whose threads must not start in
    # the serving process before gunicorn forks (apps.ready imports this module).
    from sinergi.core.bulk import bulk_insert  # noqa: PLC0415

    adapt = connection.ops.adapt_decimalfield_value
    stamp = connection.ops.adapt_datetimefield_value(now)

    def rows():
        for (iid, code, disaggregation), (num, den) in cells.items():
            value = value_of(num, den, factors[iid])
            yield (iid, code, level, period, disaggregation, adapt(Decimal(num), 20, 4),
                   None if den is None else adapt(Decimal(den), 20, 4),
                   None if value is None else adapt(value, 20, 4), COMPUTED, "", VERIFIED,
                   "", stamp)
    return bulk_insert(Cell._meta.db_table, _COLUMNS, rows()) or len(cells)


def recompute(roots: list[str] | None = None, sources: Iterable[str] | None = None, *,
              today: datetime.date | None = None) -> dict:
    """Recount the computed indicators reading ``sources`` (default: all) in
    the villages under ``roots`` (default: every province with persons) for
    the current year, and re-sum the regions above them. Returns figures:
    villages, cells written per level."""
    today = today or timezone.localdate()
    period = str(today.year)
    indicators = computed_indicators(sources)
    if not indicators:
        return {"cells": 0}
    if roots is None:
        roots = provinces_with_data()
    roots = sorted(set(roots))
    ids = [i.pk for i in indicators]
    factors = {i.pk: (i.factor if i.kind != YESNO else 100) for i in indicators}
    cells = village_cells(indicators, roots, today, int(period))
    now = timezone.now()
    written = {}
    with transaction.atomic():
        # The villages under the roots: their old cells go, the new ones come.
        Cell.objects.filter(_where("region_code", roots), indicator_id__in=ids, period=period,
                            level=4).delete()
        written[4] = _write(cells, 4, period, factors, now)
        for level in (3, 2, 1):
            # Every region at this level that holds a recounted village.
            targets = _parents_at(roots, level)
            Cell.objects.filter(indicator_id__in=ids, period=period, level=level,
                                region_code__in=sorted(targets)).delete()
            children = (Cell.objects.filter(_children_q(targets, level), indicator_id__in=ids,
                                            period=period, level=level + 1)
                        .values_list("indicator_id", "region_code", "disaggregation",
                                     "numerator", "denominator"))
            summed = sum_up(children.iterator(chunk_size=20_000), level)
            summed = {k: v for k, v in summed.items() if k[1] in targets}
            written[level] = _write(summed, level, period, factors, now)
    return {"cells": sum(written.values()), "villages": len({k[1] for k in cells}),
            "levels": written}


def provinces_with_data() -> list[str]:
    """Provinces with persons, families or groups: an index probe per province."""
    return [code for code in Region.objects.filter(level=1).values_list("code", flat=True)
            if any(model.objects.filter(village_in_q("village_code", code)).exists()
                   for model in (Person, Household, Group))]


def _parents_at(roots: list[str], level: int) -> set[str]:
    """The regions at ``level`` whose sums change when villages under
    ``roots`` are recounted: the root's ancestor at that level, or every
    region at that level inside a root above it."""
    n = LEVEL_LENGTH[level]
    out = set()
    for root in roots:
        if code_level(root) >= level:
            out.add(root[:n])
        else:
            out |= set(Region.objects.filter(village_in_q("code", root), level=level)
                       .values_list("code", flat=True))
    return out


def _children_q(parents: set[str], level: int) -> Q:
    # A few parents: their own ranges; many (a province or more): the ranges
    # of their provinces.
    ranges = parents if len(parents) <= 200 else {code[:LEVEL_LENGTH[1]] for code in parents}
    where = Q(pk__in=[])
    for code in ranges:
        where |= village_in_q("region_code", code)
    return where


def stale_roots(codes: Iterable[str], most: int = 100) -> list[str]:
    """The fewest region codes that hold ``codes`` (a code inside another one
    asked for is dropped); past ``most`` of them, the deepest are replaced by
    the region above them, so a recount filters on a bounded number of code
    ranges (SQLite allows an expression a thousand terms deep)."""
    def minimal(found) -> list[str]:
        out: list[str] = []
        for code in sorted(set(found), key=len):
            if not any(code == r or code.startswith(r + ".") for r in out):
                out.append(code)
        return sorted(out)

    roots = minimal(codes)
    while len(roots) > most:
        deepest = max(len(r) for r in roots)
        if deepest <= LEVEL_LENGTH[1]:
            break
        roots = minimal(code_parent(r) if len(r) == deepest else r for r in roots)
    return roots


def by_source(pairs: Iterable[tuple[str, str]]) -> dict[frozenset, list[str]]:
    """Stale (village, source) pairs grouped into runs: each set of sources
    with the villages that asked for exactly it."""
    sources_of: dict[str, set] = defaultdict(set)
    for village, source in pairs:
        sources_of[village].add(source)
    runs: dict[frozenset, list[str]] = defaultdict(list)
    for village, sources in sources_of.items():
        runs[frozenset(sources)].append(village)
    return runs
