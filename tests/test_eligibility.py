"""Eligibility rules: errors point at the right character, and the SQL the
compiler builds selects exactly what a plain Python reading of the rule does.

The property test draws small registries (families, persons, groups,
memberships, enrollments) and rule trees of its own; it renders each tree as
rule text, runs it through ``eligible_q`` and compares the result with
``evaluate`` below, which reads the same tree over the drawn rows without
using the compiler or its parser.
"""

import datetime
import operator
from decimal import Decimal

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sinergi.agencies.models import Agency
from sinergi.groups.models import Group, GroupKind, GroupMember
from sinergi.programs import eligibility
from sinergi.programs.eligibility import RuleError
from sinergi.programs.models import SERVED, STATUS_CHOICES, Enrollment, Program
from sinergi.regions.models import Region
from sinergi.registry import codes
from sinergi.registry.models import Household, Person

from .conftest import KAB, OUTSIDE_KAB

TODAY = datetime.date(2026, 7, 15)


def _program(code: str, unit: str) -> Program:
    return Program.objects.create(
        owner_agency=Agency.objects.filter(region_id=KAB).order_by("pk").first(), code=code,
        name=code, year_start=2020, unit=unit, benefit_type="cash")


# --- errors ------------------------------------------------------------------------


ERRORS = [
    # rule, unit, position, words of the message
    ("desil <= ", "person", 9, "ends at character 9"),
    ("desil = 4", "person", 6, "write == instead"),
    ('sex == P', "person", 7, 'double quotes ("P")'),
    ('age >= "x"', "person", 7, "must be a number"),
    ("foo > 1", "person", 0, "not a field"),
    ("family.sise > 2", "person", 0, "Did you mean family.size?"),
    ("member_of(UPPKA)", "person", 10, 'member_of("UPPKA")'),
    ('member_of("NOPE")', "person", 10, "UPPKA, KWT"),
    ('enrolled_in("X")', "person", 12, 'no program with code "X"'),
    ("(desil <= 4", "person", 0, "never closed"),
    ('((desil <= 4) and (sex == "P")', "person", 0, "never closed"),
    ("desil <= 4)", "person", 10, "no matching ("),
    ("()", "person", 1, "condition is expected"),
    ("x" * 1001, "person", 1000, "at most 1000 characters"),
    ("not " * 31 + "kb", "person", 120, "at most 30 levels"),
    ("(" * 31 + "kb" + ")" * 31, "person", 30, "at most 30 levels"),
    ('desil <= 4 sex == "P"', "person", 11, 'join conditions with "and" or "or"'),
    ("desil <= 4 && kb", "person", 11, "write and instead"),
    ("desil < true", "person", 8, "must be a number"),
    ('sex < "P"', "person", 4, "does not apply to sex"),
    ('kind >= "UPPKA"', "group", 5, "does not apply to kind"),
    ("kb < 1", "person", 3, "does not apply to kb"),
    ("shdk > 1", "person", 5, "does not apply to shdk"),
    ("kb == 1", "person", 6, "compare it with true or false"),
    ("sex == 1", "person", 7, "write the value at character 7 in double quotes"),
    ('sex == "X"', "person", 7, "not a sex"),
    ("desil", "person", 0, "such as desil <= 4"),
    ("sex", "person", 0, 'such as sex == "P"'),
    ("age >= 18", "household", 0, "rule about families"),
    ('kind == "UPPKA"', "person", 0, "rule about persons"),
    ('member_of("UPPKA")', "group", 0, "rule about groups"),
    ('kind == "nope"', "group", 8, 'no group kind "nope"'),
    ('in_region("19.4")', "person", 10, "not a region code"),
    ("shdk == 12", "person", 8, "codes are 1-11"),
    ("health_insurance in [1, 5]", "person", 24, "codes are 1-3, 99"),
    ("desil == 4.5", "person", 9, "never equals 4.5"),
    ("age >= 200", "person", 7, "between 0 and 150"),
    ("founded_year > 20260", "group", 15, "between 1 and 9999"),
    ("income > 10000000000000000", "person", 9, "too large"),
    ('member_of("UPPKA", "KWT")', "person", 19, "takes one value"),
    ("member_of()", "person", 10, "takes one value"),
    ('foo("x")', "person", 0, "not a function"),
    ('desil("x")', "person", 0, "a field, not a function"),
    ("member_of", "person", 0, "is a function"),
    ("desil in []", "person", 9, "empty"),
    ("desil in [1 2]", "person", 12, "lacks a comma at character 12"),
    ("desil in 1", "person", 9, "square brackets"),
    ("desil not 4", "person", 10, "in is expected"),
    ("18 <= age", "person", 0, "starts with a field"),
    ("sex == 'P'", "person", 7, "single quotes"),
    ('sex == "P', "person", 7, "no closing double quote"),
    ("income > 1.000.000", "person", 9, "without dots"),
    ("desil >= 2 or", "person", 13, "where a condition is expected"),
    ("desil >= 2 and # 1", "person", 15, "character # at character 15"),
    ("age > family.size", "person", 6, "cannot be compared with another field"),
]


@pytest.mark.parametrize(("rule", "unit", "position", "words"), ERRORS)
def test_errors_name_the_position_and_what_to_write(world, rule, unit, position, words):
    _program("PKH", "household")
    with pytest.raises(RuleError) as caught:
        eligibility.check(rule, unit)
    error = caught.value
    assert error.position == position, error.message
    assert f"at character {position}" in error.message
    assert words in error.message
    assert error.field == "rule"
    line, caret = error.pointer().split("\n")
    assert caret == " " * position + "^" and line == rule


def test_pointer_shows_the_line_of_the_position():
    rule = 'desil <= 4\nand sex = "P"'
    with pytest.raises(RuleError) as caught:
        eligibility.parse(rule)
    assert caught.value.position == 19
    assert caught.value.pointer() == 'and sex = "P"\n        ^'


@pytest.mark.parametrize(("rule", "unit"), [
    ("", "person"), ("   ", "group"),
    ('DESIL <= 4 AND Sex == "p" and NOT kb Or age >= 18', "person"),
    ('desil in [1, 2, 3,] and family.size >= 3 and not member_of("uppka")', "household"),
    ('enrolled_in("pkh") or in_region("19.04.01")', "person"),
    ('kind in ["uppka", "KWT"] and level != "maju" and members >= 5 and founded_year < 2020',
     "group"),
    ("income < 1500000.50 and education >= 5 and has_disability == false", "person"),
    ("age in [17, 18] or age not in [60]", "person"),
])
def test_valid_rules_compile(world, rule, unit):
    _program("PKH", "household")
    eligibility.check(rule, unit)
    assert eligibility.eligible_queryset(rule, unit, today=TODAY, region=KAB).count() == 0


def test_unknown_unit_and_bad_region_are_errors(world):
    with pytest.raises(eligibility.SinergiError) as caught:
        eligibility.check("kb", "village")
    assert caught.value.field == "unit"
    with pytest.raises(eligibility.SinergiError) as caught:
        eligibility.eligible_queryset("kb", "person", today=TODAY, region="19.4")
    assert caught.value.field == "region"


@pytest.mark.parametrize(("today", "born", "age"), [
    # 29 February: a year older on 1 March in other years.
    (datetime.date(2025, 2, 28), datetime.date(2007, 2, 28), 18),
    (datetime.date(2026, 2, 28), datetime.date(2008, 2, 29), 17),
    (datetime.date(2026, 3, 1), datetime.date(2008, 2, 29), 18),
    (datetime.date(2024, 2, 29), datetime.date(2006, 2, 28), 18),
    (datetime.date(2024, 2, 29), datetime.date(2006, 3, 1), 17),
    (datetime.date(2024, 2, 29), datetime.date(2000, 2, 29), 24),
    (datetime.date(2026, 7, 15), datetime.date(2008, 7, 15), 18),
    (datetime.date(2026, 7, 15), datetime.date(2008, 7, 16), 17),
])
def test_age_is_whole_years_on_the_day(world, today, born, age):
    person = Person.objects.create(name="x", sex="P", birth_date=born, village_code="19.04")
    for op, expected in (("==", True), ("!=", False), (">=", True), ("<=", True),
                         (">", False), ("<", False)):
        rule = f"age {op} {age}"
        found = Person.objects.filter(eligibility.eligible_q(rule, "person", today=today),
                                      pk=person.pk).exists()
        assert found is expected, rule
    assert not Person.objects.filter(eligibility.eligible_q(f"age == {age + 1}", "person",
                                                            today=today)).exists()


def test_a_family_flag_is_neither_yes_nor_no_for_a_person_without_a_family(world):
    """Found by the brute-force test below: inside an ``or``, Django built
    ``not family.in_dtsen`` without its NULL guard, and persons without a
    family fell out of both branches."""
    family = Household.objects.create(kk_number="1904011203150009", village_code="19.04",
                                      in_dtsen=True)
    lone = Person.objects.create(name="Sendiri", sex="L", village_code="19.04")
    member = Person.objects.create(name="Anggota", sex="P", village_code="19.04",
                                   household=family)

    def admitted(rule: str) -> set[str]:
        q = eligibility.eligible_q(rule, "person", today=TODAY)
        return set(Person.objects.filter(q, pk__in=[lone.pk, member.pk])
                   .values_list("name", flat=True))

    assert admitted("not family.in_dtsen") == {"Sendiri"}
    assert admitted('sex == "L" and family.in_dtsen or not family.in_dtsen') == {"Sendiri"}
    assert admitted('sex == "P" and family.in_dtsen or not family.in_dtsen') \
        == {"Sendiri", "Anggota"}
    assert admitted("family.in_dtsen == false") == set()  # no family: no answer
    assert admitted("family.in_dtsen != true") == set()


# --- brute force ---------------------------------------------------------------------


def age_on(born: datetime.date | None, today: datetime.date) -> int | None:
    if born is None:
        return None
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


OPS = {"==": operator.eq, "!=": operator.ne, "<": operator.lt, "<=": operator.le,
       ">": operator.gt, ">=": operator.ge}


def _same(a, b) -> bool:
    if isinstance(a, str):
        return a.upper() == b.upper()
    return a == b


def evaluate(node, row: dict, calls) -> bool:
    """The meaning of a rule tree for one row: NULL never matches a condition."""
    kind = node[0]
    if kind == "and":
        return evaluate(node[1], row, calls) and evaluate(node[2], row, calls)
    if kind == "or":
        return evaluate(node[1], row, calls) or evaluate(node[2], row, calls)
    if kind == "not":
        return not evaluate(node[1], row, calls)
    if kind == "call":
        return calls(node[1], node[2])
    if kind == "flag":
        return row[node[1]] is True
    value = row[node[1]]
    if value is None:
        return False
    if kind == "in":
        found = any(_same(value, v) for v in node[2])
        return found != node[3]
    op, literal = node[2], node[3]
    if isinstance(value, str):
        return OPS[op](value.upper(), literal.upper())
    return OPS[op](value, literal)


def render(node, upper: bool, parent: str = "or") -> str:
    """Rule text for a tree, with only the parentheses precedence needs."""
    kw = (lambda w: w.upper()) if upper else (lambda w: w)
    kind = node[0]
    if kind in {"and", "or"}:
        text = f" {kw(kind)} ".join(render(child, upper, kind) for child in node[1:])
        needs = (kind == "or" and parent != "or") or (kind == "and" and parent == "not")
        return f"({text})" if needs else text
    if kind == "not":
        return f"{kw('not')} {render(node[1], upper, 'not')}"
    if kind == "call":
        return f'{node[1]}("{node[2]}")'
    if kind == "flag":
        return node[1]
    if kind == "in":
        values = ", ".join(literal(v) for v in node[2])
        return f"{node[1]} {kw('not in') if node[3] else kw('in')} [{values}]"
    return f"{node[1]} {node[2]} {literal(node[3])}"


def literal(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f'"{value}"'
    return str(value)


# --- strategies ------------------------------------------------------------------------

TODAYS = [datetime.date(2024, 2, 29), datetime.date(2024, 2, 29), datetime.date(2025, 2, 28),
          datetime.date(2025, 3, 1), datetime.date(2024, 3, 1), TODAY]
AGES = [0, 17, 18, 60]
ORDER = ["==", "!=", "<", "<=", ">", ">="]
EQUALITY = ["==", "!="]


def birth_dates(today: datetime.date):
    edges = [datetime.date(y, m, d) for y in (2000, 2004, 2008, 2020)
             for m, d in ((2, 28), (2, 29), (3, 1))]
    for years in sorted({a + d for a in AGES for d in (0, 1)}):
        year = today.year - years
        day = min(today.day, 28) if today.month == 2 and year % 4 else today.day
        anniversary = datetime.date(year, today.month, day)
        edges += [anniversary + datetime.timedelta(days=d) for d in (-1, 0, 1)]
    # Birthdays on and around the cutoffs of the ages in rules, half the time.
    return st.one_of(st.none(), st.sampled_from(edges), st.sampled_from(edges),
                     st.dates(datetime.date(1950, 1, 1), today))


@st.composite
def registries(draw):
    today = draw(st.sampled_from(TODAYS))
    households = [{
        "village": draw(st.integers(0, 2)),
        "desil": draw(st.none() | st.integers(1, 10)),
        "in_dtsen": draw(st.booleans()),
        "active": draw(st.sampled_from([True, True, True, False])),
    } for _ in range(draw(st.integers(1, 7)))]
    persons = []
    for _ in range(draw(st.integers(3, 30))):
        household = draw(st.none() | st.integers(0, len(households) - 1))
        persons.append({
            "household": household,
            "village": (households[household]["village"] if household is not None
                        else draw(st.integers(0, 2))),
            "sex": draw(st.sampled_from("LP")),
            "birth_date": draw(birth_dates(today)),
            "shdk": draw(st.sampled_from([None, 1, 1, 3, 4])),
            "income": draw(st.sampled_from([None, 0, 999_999, 1_000_000, 2_500_000])),
            "kb_method": draw(st.sampled_from([None, None, 1, 3])),
            "has_ktp_el": draw(st.sampled_from([None, True, False])),
            "education": draw(st.none() | st.integers(1, 10)),
            "disability": draw(st.sampled_from([None, None, 1, 7])),
            "alive": draw(st.sampled_from([True, True, True, False])),
        })
    groups = [{
        "kind": draw(st.sampled_from(["UPPKA", "KWT", "IR"])),
        "level": draw(st.sampled_from(["", "Pemula", "Maju"])),
        "active": draw(st.sampled_from([True, True, False])),
        "founded_on": draw(st.none() | st.dates(datetime.date(2015, 1, 1),
                                                datetime.date(2025, 12, 31))),
        "village": draw(st.integers(0, 2)),
    } for _ in range(draw(st.integers(0, 4)))]
    memberships = {}
    if groups:
        for _ in range(draw(st.integers(0, 20))):
            key = (draw(st.integers(0, len(persons) - 1)), draw(st.integers(0, len(groups) - 1)))
            memberships[key] = draw(st.booleans()) or memberships.get(key, False)  # open?
    enrollments = {}
    for _ in range(draw(st.integers(0, 15))):
        program = draw(st.sampled_from(["P1", "H1", "G1"] if groups else ["P1", "H1"]))
        size = {"P1": len(persons), "H1": len(households), "G1": len(groups)}[program]
        key = (program, draw(st.integers(0, size - 1)), draw(st.sampled_from([2025, 2026])))
        enrollments[key] = draw(st.sampled_from([s for s, _ in STATUS_CHOICES]))
    return {"today": today, "households": households, "persons": persons, "groups": groups,
            "memberships": memberships, "enrollments": enrollments}


def _tree(atoms):
    return st.recursive(atoms, lambda inner: st.one_of(
        st.tuples(st.just("not"), inner),
        st.tuples(st.just("and"), inner, inner),
        st.tuples(st.just("or"), inner, inner)), max_leaves=6)


def _cmp(field, ops, values):
    return st.tuples(st.just("cmp"), st.just(field), st.sampled_from(ops), values)


def _in(field, values):
    return st.tuples(st.just("in"), st.just(field), st.lists(values, min_size=1, max_size=3),
                     st.booleans())


def _calls(name, args):
    return st.tuples(st.just("call"), st.just(name), st.sampled_from(args))


REGIONS = ["19.04", "19.04.01", "18"]  # replaced by real codes below
DESIL = st.integers(1, 10)
FAMILY_ATOMS = [
    _cmp("family.desil", ORDER, DESIL), _in("desil", DESIL),
    st.tuples(st.just("flag"), st.just("family.in_dtsen")),
    _cmp("family.in_dtsen", EQUALITY, st.booleans()),
    _cmp("family.size", ORDER, st.integers(0, 5)),
    _calls("member_of", ["UPPKA", "kwt", "IR", "BKB"]),
]
PERSON_RULES = _tree(st.one_of(
    _cmp("sex", EQUALITY, st.sampled_from(["L", "P", "p"])),
    _cmp("age", ORDER, st.sampled_from(AGES)),
    _cmp("age", ["<", ">", "<=", ">="], st.just(Decimal("17.5"))),
    _in("age", st.sampled_from(AGES)),
    _cmp("income", ORDER, st.sampled_from([0, 1_000_000, 2_500_000])),
    _cmp("income", ["<", ">="], st.just(Decimal("999999.5"))),
    _cmp("desil", ORDER, DESIL),
    st.tuples(st.just("flag"), st.sampled_from(["kb", "has_ktp_el", "has_disability"])),
    _cmp("has_ktp_el", EQUALITY, st.booleans()),
    _cmp("kb", EQUALITY, st.booleans()),
    _cmp("education", ORDER, st.integers(1, 10)),
    _in("shdk", st.sampled_from([1, 3, 4])),
    _in("disability", st.sampled_from([1, 7])),
    _calls("enrolled_in", ["P1", "h1"]),
    _calls("in_region", ["V0", "V1", "D0", "KAB"]),
    *FAMILY_ATOMS,
))
HOUSEHOLD_RULES = _tree(st.one_of(
    _cmp("desil", ORDER, DESIL),
    st.tuples(st.just("flag"), st.just("in_dtsen")),
    _cmp("in_dtsen", EQUALITY, st.booleans()),
    _cmp("size", ORDER, st.integers(0, 5)),
    _calls("enrolled_in", ["P1", "H1"]),
    _calls("in_region", ["V0", "D0", "KAB"]),
    *FAMILY_ATOMS,
))
GROUP_RULES = _tree(st.one_of(
    _cmp("kind", EQUALITY, st.sampled_from(["UPPKA", "kwt"])),
    _in("kind", st.sampled_from(["UPPKA", "KWT", "IR"])),
    _cmp("level", EQUALITY, st.sampled_from(["", "pemula", "Maju"])),
    _cmp("members", ORDER, st.integers(0, 3)),
    _cmp("founded_year", ORDER, st.integers(2014, 2026)),
    _calls("enrolled_in", ["G1"]),
    _calls("in_region", ["V0", "D0"]),
))


# --- building the registry and reading it in Python ---------------------------------------


def villages() -> list[str]:
    """Two villages of KAB in different districts and one outside it."""
    inside = list(Region.objects.filter(code__startswith=KAB + ".", level=4)
                  .order_by("code").values_list("code", flat=True))
    first = inside[0]
    second = next(c for c in inside if c.rsplit(".", 1)[0] != first.rsplit(".", 1)[0])
    outside = Region.objects.filter(code__startswith=OUTSIDE_KAB + ".", level=4).order_by(
        "code").values_list("code", flat=True).first()
    return [first, second, outside]


def build(world_spec: dict, codes_of: list[str]) -> dict:
    """Create the drawn rows; return plain dicts keyed by database id."""
    programs = {"P1": _program("P1", "person"), "H1": _program("H1", "household"),
                "G1": _program("G1", "group")}
    households = Household.objects.bulk_create([
        Household(kk_number=f"19040000000{i:05d}", village_code=codes_of[h["village"]],
                  desil=h["desil"], in_dtsen=h["in_dtsen"], is_active=h["active"])
        for i, h in enumerate(world_spec["households"])])
    persons = Person.objects.bulk_create([
        Person(name=f"p{i}", sex=p["sex"], birth_date=p["birth_date"], shdk=p["shdk"],
               household=households[p["household"]] if p["household"] is not None else None,
               village_code=codes_of[p["village"]], monthly_income=p["income"],
               kb_method=p["kb_method"], has_ktp_el=p["has_ktp_el"],
               education=p["education"], disability=p["disability"],
               life_status=codes.ALIVE if p["alive"] else codes.DEAD)
        for i, p in enumerate(world_spec["persons"])])
    kinds = {k.code: k for k in GroupKind.objects.all()}
    groups = Group.objects.bulk_create([
        Group(code=f"G{i}", name=f"g{i}", kind=kinds[g["kind"]], level=g["level"],
              is_active=g["active"], founded_on=g["founded_on"],
              village_code=codes_of[g["village"]])
        for i, g in enumerate(world_spec["groups"])])
    GroupMember.objects.bulk_create([
        GroupMember(person=persons[p], group=groups[g],
                    left_on=None if is_open else datetime.date(2025, 1, 1))
        for (p, g), is_open in world_spec["memberships"].items()])
    rows = []
    for (program, index, year), status in world_spec["enrollments"].items():
        beneficiary = {"P1": persons, "H1": households, "G1": groups}[program][index]
        extra = ({"person": beneficiary, "household_id": beneficiary.household_id}
                 if program == "P1" else
                 {"household": beneficiary} if program == "H1" else {"group": beneficiary})
        rows.append(Enrollment(program=programs[program], year=year, status=status,
                               village_code=beneficiary.village_code, **extra))
    Enrollment.objects.bulk_create(rows)

    spec_h, spec_p, spec_g = (world_spec[k] for k in ("households", "persons", "groups"))
    today = world_spec["today"]
    members = {h.pk: [p.pk for p, s in zip(persons, spec_p, strict=True)
                      if p.household_id == h.pk and s["alive"]] for h in households}
    person_rows = {}
    for p, s in zip(persons, spec_p, strict=True):
        h = spec_h[s["household"]] if s["household"] is not None else None
        person_rows[p.pk] = {
            "alive": s["alive"], "sex": s["sex"], "age": age_on(s["birth_date"], today),
            "income": s["income"], "shdk": s["shdk"], "education": s["education"],
            "kb": s["kb_method"] is not None, "has_ktp_el": s["has_ktp_el"],
            "disability": s["disability"], "has_disability": s["disability"] not in (None, 7),
            "desil": h and h["desil"], "family.desil": h and h["desil"],
            "family.in_dtsen": h and h["in_dtsen"],
            "family.size": len(members[p.household_id]) if h else None,
            "village": p.village_code, "household": p.household_id,
        }
    household_rows = {}
    for h, s in zip(households, spec_h, strict=True):
        size = len(members[h.pk])
        household_rows[h.pk] = {
            "active": s["active"], "desil": s["desil"], "family.desil": s["desil"],
            "in_dtsen": s["in_dtsen"], "family.in_dtsen": s["in_dtsen"], "size": size,
            "family.size": size, "village": h.village_code, "members": members[h.pk]}
    open_members = [(persons[p].pk, groups[g].pk) for (p, g), is_open
                    in world_spec["memberships"].items() if is_open]
    group_rows = {}
    for g, s in zip(groups, spec_g, strict=True):
        group_rows[g.pk] = {
            "active": s["active"], "kind": s["kind"], "level": s["level"],
            "founded_year": s["founded_on"].year if s["founded_on"] else None,
            "members": sum(1 for p, gid in open_members
                           if gid == g.pk and person_rows[p]["alive"]),
            "village": g.village_code}
    served = [(program, e.person_id, e.household_id, e.group_id) for e, (
        (program, _i, _y), status) in zip(rows, world_spec["enrollments"].items(), strict=True)
        if status in SERVED]
    return {"persons": person_rows, "households": household_rows, "groups": group_rows,
            "open_members": open_members, "served": served, "heads": {
                h.pk: next((person_rows[p.pk]["sex"] for p, s in zip(persons, spec_p,
                                                                      strict=True)
                            if p.household_id == h.pk and s["alive"] and s["shdk"] == 1),
                           None) for h in households}}


def brute_force(tree, unit: str, data: dict, regions: dict) -> set[int]:
    """Ids the rule admits, read from the drawn rows in Python."""

    def in_region(row, code):
        code = regions[code]
        return row["village"] == code or row["village"].startswith(code + ".")

    def member_of(person_ids, kind):
        groups = data["groups"]
        return any(p in person_ids and groups[g]["active"] and groups[g]["kind"] == kind.upper()
                   for p, g in data["open_members"])

    out = set()
    if unit == "person":
        for pk, row in data["persons"].items():
            def calls(name, arg, pk=pk, row=row):
                if name == "in_region":
                    return in_region(row, arg)
                if name == "member_of":
                    return member_of({pk}, arg)
                return any(program == arg.upper() and (
                    person == pk or (person is None and group is None
                                     and row["household"] is not None
                                     and household == row["household"]))
                    for program, person, household, group in data["served"])
            if row["alive"] and evaluate(tree, row, calls):
                out.add(pk)
    elif unit == "household":
        for pk, row in data["households"].items():
            def calls(name, arg, pk=pk, row=row):
                if name == "in_region":
                    return in_region(row, arg)
                if name == "member_of":
                    return member_of(set(row["members"]), arg)
                return any(program == arg.upper() and household == pk
                           for program, _p, household, _g in data["served"])
            if row["active"] and evaluate(tree, row, calls):
                out.add(pk)
    else:
        for pk, row in data["groups"].items():
            def calls(name, arg, pk=pk, row=row):
                if name == "in_region":
                    return in_region(row, arg)
                return any(program == arg.upper() and group == pk
                           for program, _p, _h, group in data["served"])
            if row["active"] and evaluate(tree, row, calls):
                out.add(pk)
    return out


def _with_regions(tree, regions: dict):
    """Replace the placeholders V0/V1/D0/KAB of in_region by real codes."""
    if tree[0] == "call" and tree[1] == "in_region":
        return ("call", "in_region", regions[tree[2]])
    if tree[0] in {"and", "or", "not"}:
        return (tree[0], *(_with_regions(child, regions) for child in tree[1:]))
    return tree


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.data_too_large])
@given(spec=registries(), person_rules=st.lists(PERSON_RULES, min_size=3, max_size=3),
       household_rules=st.lists(HOUSEHOLD_RULES, min_size=2, max_size=2),
       group_rules=st.lists(GROUP_RULES, min_size=2, max_size=2), upper=st.booleans())
def test_sql_equals_brute_force(world, spec, person_rules, household_rules, group_rules,
                                upper):
    codes_of = villages()
    regions = {"V0": codes_of[0], "V1": codes_of[1], "D0": codes_of[0].rsplit(".", 1)[0],
               "KAB": KAB}
    identity = {code: code for code in regions.values()}
    with transaction.atomic():
        data = build(spec, codes_of)
        for unit, rules in (("person", person_rules), ("household", household_rules),
                            ("group", group_rules)):
            model = {"person": Person, "household": Household, "group": Group}[unit]
            ours = set(data[f"{unit}s"])
            for tree in rules:
                tree = _with_regions(tree, regions)
                text = render(tree, upper)
                q = eligibility.eligible_q(text, unit, today=spec["today"])
                found = set(model.objects.filter(q, pk__in=ours).values_list("pk", flat=True))
                assert found == brute_force(tree, unit, data, identity), text
        # The preview over the kabupaten, against the same reading.
        for unit, tree in (("person", person_rules[0]), ("household", household_rules[0])):
            tree = _with_regions(tree, regions)
            preview = eligibility.eligibility_preview(render(tree, upper), unit, region=KAB,
                                                      today=spec["today"])
            rows = data[f"{unit}s"]
            chosen = [pk for pk in brute_force(tree, unit, data, identity)
                      if rows[pk]["village"].startswith(KAB + ".")]
            assert preview["total"] == len(chosen)
            by_village = {}
            for pk in chosen:
                by_village[rows[pk]["village"]] = by_village.get(rows[pk]["village"], 0) + 1
            assert preview["by_village"] == sorted(by_village.items())
            sexes = [rows[pk]["sex"] if unit == "person" else data["heads"][pk]
                     for pk in chosen]
            assert preview["by_sex"] == {"L": sexes.count("L"), "P": sexes.count("P")}
        transaction.set_rollback(True)


# --- preview queries ---------------------------------------------------------------------


@pytest.fixture
def small_registry(world):
    """Two families in two villages of KAB and one outside, and a group."""
    codes_of = villages()
    spec = {
        "today": TODAY,
        "households": [{"village": 0, "desil": 2, "in_dtsen": True, "active": True},
                       {"village": 1, "desil": 3, "in_dtsen": False, "active": True},
                       {"village": 2, "desil": 1, "in_dtsen": True, "active": True}],
        "persons": [
            {"household": h, "village": v, "sex": sex, "birth_date": datetime.date(1990, 1, 1),
             "shdk": shdk, "income": None, "kb_method": None, "has_ktp_el": True,
             "education": None, "disability": None, "alive": True}
            for h, v in ((0, 0), (1, 1), (2, 2)) for sex, shdk in (("L", 1), ("P", 3))],
        "groups": [{"kind": "UPPKA", "level": "", "active": True, "founded_on": None,
                    "village": 0}],
        "memberships": {(1, 0): True},
        "enrollments": {},
    }
    return build(spec, codes_of), codes_of


def test_preview_is_one_grouped_query(small_registry, django_assert_num_queries):
    _data, codes_of = small_registry
    with django_assert_num_queries(1):
        preview = eligibility.eligibility_preview("desil <= 4 and age >= 18", "person",
                                                  region=KAB, today=TODAY)
    assert preview == {"total": 4, "by_village": [(codes_of[0], 2), (codes_of[1], 2)],
                       "by_sex": {"L": 2, "P": 2}}
    with django_assert_num_queries(1):
        preview = eligibility.eligibility_preview("desil >= 2", "household", region=KAB,
                                                  today=TODAY)
    assert preview == {"total": 2, "by_village": [(codes_of[0], 1), (codes_of[1], 1)],
                       "by_sex": {"L": 2, "P": 0}}
    with django_assert_num_queries(1):
        preview = eligibility.eligibility_preview("members >= 1", "group", region=KAB,
                                                  today=TODAY)
    assert preview == {"total": 1, "by_village": [(codes_of[0], 1)], "by_sex": {}}
    # member_of() reads the group kinds once, when compiling.
    with django_assert_num_queries(2):
        preview = eligibility.eligibility_preview('member_of("uppka")', "household",
                                                  region=None, today=TODAY)
    assert preview["total"] == 1 and preview["by_sex"] == {"L": 1, "P": 0}


@pytest.mark.parametrize(("english", "indonesian"), [
    ('desil <= 4 and sex == "P" and age >= 18 and not enrolled_in("PKH")',
     'desil <= 4 dan jenis_kelamin == "P" dan umur >= 18 dan bukan penerima("PKH")'),
    ('income < 1500000 or (education >= 5 and has_disability == false)',
     'PENDAPATAN < 1500000 atau (pendidikan >= 5 dan penyandang_disabilitas == tidak)'),
    ('family.desil in [1, 2] and family.in_dtsen and not member_of("UPPKA")',
     'keluarga.desil dalam [1, 2] dan keluarga.dtsen dan bukan anggota_kelompok("UPPKA")'),
    ('age not in [60] or in_region("19.04")', 'usia bukan dalam [60] atau di_wilayah("19.04")'),
])
def test_a_rule_written_in_indonesian_means_the_same(english, indonesian):
    from sinergi.programs import rules

    def shape(node):  # the tree without positions, which differ with the words
        if isinstance(node, tuple):
            return tuple(shape(n) for n in node)
        if hasattr(node, "__dataclass_fields__"):
            return (type(node).__name__, *(shape(getattr(node, f)) for f in
                                           node.__dataclass_fields__ if "pos" not in f))
        return node

    assert shape(rules.parse(indonesian)) == shape(rules.parse(english))


def test_a_mistake_in_an_indonesian_rule_quotes_the_author_s_words():
    from sinergi.programs import rules

    with pytest.raises(rules.RuleError) as caught:
        rules.parse('umur >= 18 dan penerima')
    assert "penerima" in caught.value.message
