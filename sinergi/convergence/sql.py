"""Building blocks of the convergence counts: the year's programs, the
families and persons of a region, eligibility and "served" as SQL, and the
rollup layouts (see selectors for the definitions they implement)."""

from datetime import date

from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.db.models import BigIntegerField, OuterRef, Q, Value

from sinergi.groups.models import GroupMember
from sinergi.programs.models import GROUP, HOUSEHOLD, PERSON, SERVED, Enrollment, Program
from sinergi.regions.codes import (
    LEVEL_LENGTH,
    code_ancestors,
    code_level,
    subtree_q,
    village_in_q,
)
from sinergi.registry.codes import ALIVE
from sinergi.registry.models import Household, Person
from sinergi.registry.selectors import head_of

from .models import RefreshRequest, RollupLayout

DESILS = [*range(1, 11), "unknown"]
SEXES = ["L", "P", "unknown"]
MEASURES = ("total", "served", "eligible", "exclusion", "inclusion")
_NO_PAIRS = "SELECT CAST(NULL AS BIGINT), CAST(NULL AS BIGINT) WHERE 1 = 0"


def year_programs(year: int) -> list[Program]:
    """The programs whose years cover ``year``: what "all programs" means."""
    return list(Program.objects.filter(year_start__lte=year)
                .filter(Q(year_end__isnull=True) | Q(year_end__gte=year))
                .select_related("owner_agency").order_by("code"))


def chosen_programs(programs, year) -> list[Program]:
    return year_programs(year) if programs is None else list(programs)


def eligible_q(rule: str, unit: str, today: date) -> Q:
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


def head_subquery(field: str):
    """A field of the head of the family of the row (registry.selectors.head_of)."""
    return head_of(OuterRef("pk"), field)


def query_sql(qs) -> tuple[str, list]:
    sql, params = qs.query.sql_with_params()
    return sql, list(params)


def table_name(model) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def int_list(values) -> str:
    """An SQL list of integers (ids, never user text), or NULL for an empty one."""
    return ", ".join(str(int(v)) for v in values) or "NULL"


def served_sql(year: int, programs: list[Program], households: str) -> tuple[str, list]:
    """SELECT hid, pid, r: the (family, program) pairs served, maybe repeated;
    r = 1 when the program has a rule (not a group program). ``households``
    names a relation with an ``id`` column: the families considered."""
    e, gm, p = table_name(Enrollment), table_name(GroupMember), table_name(Person)
    ruled = int_list(x.id for x in programs if x.unit != GROUP)
    ids = int_list(x.id for x in programs)
    served = ", ".join(["%s"] * len(SERVED))
    sql = (f"SELECT e.household_id AS hid, e.program_id AS pid, "  # noqa: S608
           f"CASE WHEN e.program_id IN ({ruled}) THEN 1 ELSE 0 END AS r FROM {e} e "
           f"WHERE e.year = %s AND e.status IN ({served}) AND e.program_id IN ({ids}) "
           f"AND e.household_id IN (SELECT id FROM {households})")
    params = [year, *SERVED]
    groups = int_list(x.id for x in programs if x.unit == GROUP)
    if groups != "NULL":
        sql += (f" UNION ALL SELECT p.household_id, e.program_id, 0 FROM {e} e "  # noqa: S608
                f"JOIN {gm} gm ON gm.group_id = e.group_id AND gm.left_on IS NULL "
                f"JOIN {p} p ON p.id = gm.person_id "
                f"WHERE e.year = %s AND e.status IN ({served}) AND e.program_id IN ({groups}) "
                f"AND p.life_status = %s AND p.household_id IN (SELECT id FROM {households})")
        params += [year, *SERVED, ALIVE]
    return sql, params


def households_qs(region: str):
    return Household.objects.filter(village_in_q("village_code", region), is_active=True)


def persons_qs(region: str):
    return Person.objects.filter(village_in_q("village_code", region), life_status=ALIVE)


def eligible_households_qs(program: Program, region: str, today: date):
    """(household id, program id) of the families of ``region`` eligible for
    ``program`` (household or person unit; repeated for several members)."""
    pid = Value(program.id, output_field=BigIntegerField())
    if program.unit == HOUSEHOLD:
        return (households_qs(region).filter(eligible_q(program.rule, HOUSEHOLD, today))
                .annotate(pid=pid).values_list("id", "pid"))
    return (Person.objects.filter(eligible_q(program.rule, PERSON, today),
                                  village_in_q("household__village_code", region),
                                  household__is_active=True)
            .annotate(pid=pid).values_list("household_id", "pid"))


def union_sql(parts: list[tuple[str, list]]) -> tuple[str, list]:
    if not parts:
        return _NO_PAIRS, []
    return (" UNION ALL ".join(f"SELECT * FROM ({sql}) u{i}"  # noqa: S608
                               for i, (sql, _p) in enumerate(parts)),
            [x for _s, params in parts for x in params])


def fetch(sql: str, params: list) -> list[tuple]:
    with connection.cursor() as cur:
        cur.execute(sql, params)
        return cur.fetchall()


def as_int(value):
    """PostgreSQL sums come back as Decimal: make every count an int."""
    return int(value) if value is not None and not isinstance(value, str | int) else value


def child_len(region: str) -> int:
    return LEVEL_LENGTH[min(code_level(region) + 1, 4)]


def execute(sql: str, params: list) -> None:
    with connection.cursor() as cur:
        cur.execute(sql, params)


def pending_q(region: str) -> Q:
    """Refresh requests that make ``region``'s rollup stale: for the region,
    a region above it (whose recomputation rewrites it) or one inside it."""
    return Q(region_code__in=[region, *code_ancestors(region)]) | subtree_q(
        "region_code", region, include_root=False)


def rollup_layout(region: str, year: int, chosen: list[Program], *, masks: bool = False,
                  today: date | None = None, fresh: bool = True) -> dict | None:
    """Bit of each chosen program and when the family rollups were computed,
    when they hold ``region`` for ``year``: a refresh covered the region (it
    or an ancestor), every refresh in and above it saw the same programs as
    the year has now (and, with ``today``, evaluated eligibility on that
    date), the chosen programs are among them, and no refresh of the
    province is pending (these lists are worked from: a family enrolled a
    minute ago must leave them at once; ``fresh=False`` for counts, which
    say "newer figures are coming" instead). None otherwise."""
    if fresh and RefreshRequest.objects.filter(pending_q(region), year=year).exists():
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
    return {"bit": bit, "computed_at": min(x.computed_at for x in layouts),
            "as_of": min(x.as_of for x in layouts)}
