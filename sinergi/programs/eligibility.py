"""Eligibility rules of programs compiled to SQL (the language itself:
programs/rules.py).

Fields by beneficiary unit:

* person: ``sex`` ("L"/"P"), ``age`` (whole years on ``today``), ``income``
  (monthly), the codes ``shdk marital_status education occupation religion
  disability health_insurance kb_method`` (``<`` etc. only on ``education``),
  yes/no ``has_disability kb has_birth_certificate has_kia has_ktp_el``,
  and of the current family ``desil`` (= ``family.desil``),
  ``family.in_dtsen``, ``family.size``;
* household (family): ``desil``/``family.desil``, ``in_dtsen``/
  ``family.in_dtsen``, ``size``/``family.size``;
* group: ``kind`` (group kind code), ``level`` (case-insensitive),
  ``members``, ``founded_year``.

Functions (names and arguments case-insensitive, checked when compiling):
``member_of("UPPKA")``: the person, or any living member of the family, has
an open membership (``left_on`` empty) in an active group of that kind;
``enrolled_in("PKH")``: served by that program (status in ``SERVED``): for
a person its own enrollment or its current family's (one without a person
or group), for a family any enrollment carrying the family, for a group its
own; ``in_region("19.04")``: the village code lies in that region's subtree.

All fields hold whole numbers, so a decimal bound moves to the whole number
it admits (``income > 1500000.5`` is ``income >= 1500001``); equality with
a non-whole decimal is an error.

Meaning of missing data (SQL NULL): a comparison with a field that is empty
never matches, also with ``!=`` and ``not in`` (``desil != 4`` skips families
without a desil). ``not`` negates the whole condition: ``not desil <= 4``
includes families without a desil. Persons without a birth date never match
an ``age`` comparison. Age is ``today.year - birth.year``, minus one before
the birthday; someone born on 29 February gets a year older on 1 March in
other years. ``family.size`` and ``members`` count living persons (and open
memberships); ``has_disability`` means a disability code other than 7
(TIDAK CACAT).

Only living persons and active families and groups are ever eligible.
A rule has at most 1,000 characters and 30 levels of parentheses and ``not``.
"""

from __future__ import annotations

import datetime
import difflib
from dataclasses import dataclass
from decimal import Decimal
from math import ceil, floor

from django.db.models import (
    Count,
    Exists,
    F,
    Func,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
)
from django.db.models import Value as SQLValue
from django.db.models import lookups as L
from django.utils import timezone
from django.utils.translation import gettext as _

from sinergi.core.errors import SinergiError
from sinergi.groups.models import Group, GroupKind, GroupMember
from sinergi.regions.codes import code_problem, village_in_q
from sinergi.registry import codes
from sinergi.registry.models import Household, Person

from .models import GROUP, HOUSEHOLD, PERSON, SERVED, Enrollment, Program
from .rules import (
    EXAMPLES,
    FUNCTIONS,
    MAX_AGE,
    MAX_NUMBER,
    OPERATORS,
    BoolOp,
    Call,
    Compare,
    Flag,
    Not,
    RuleError,
    Value,
    parse,
)

NO_DISABILITY = 7  # DISABILITY code "TIDAK CACAT"
# Conditions that look into another list (a correlated subquery per row:
# member_of, enrolled_in, family or group size) one rule may hold.
MAX_LOOKUPS = 12
NUMBER, CODE, BOOL, SEX, KIND, TEXT, AGE = "number", "code", "bool", "sex", "kind", "text", "age"
LOOKUP = {"==": "exact", "<": "lt", "<=": "lte", ">": "gt", ">=": "gte"}
EXPR_LOOKUP = {"==": L.Exact, "<": L.LessThan, "<=": L.LessThanOrEqual, ">": L.GreaterThan,
               ">=": L.GreaterThanOrEqual}


@dataclass(frozen=True)
class _Field:
    """How a rule field maps to the unit's model.

    ``path`` is an ORM lookup path, or ``count`` names a count subquery;
    ``null`` is the path whose NULL means "no value" (None: never empty).
    Yes/no fields without a column give their true and false filters.
    """

    type: str
    path: str | None = None
    null: str | None = None
    codes: dict | None = None
    ordered: bool = True
    count: str | None = None
    true_q: Q | None = None
    false_q: Q | None = None


def _code(name: str, table: dict, *, ordered: bool = False) -> _Field:
    return _Field(CODE, name, name, table, ordered)


def _flag(name: str, path: str) -> _Field:
    """A yes/no column. Through a relation (a person's family), both answers
    also require the relation: a person without a family has neither, so
    ``not family.in_dtsen`` admits them. Spelled out rather than left to
    Django, whose negation guard for a NULL join depends on the join type at
    the moment the condition is built, which an ``or`` changes later."""
    true_q, false_q = Q(**{path: True}), Q(**{path: False})
    if "__" in path:
        relation = Q(**{f"{path.split('__', 1)[0]}__isnull": False})
        true_q, false_q = true_q & relation, false_q & relation
    return _Field(BOOL, null=path, true_q=true_q, false_q=false_q)


_FAMILY_OF_PERSON = {
    "desil": _Field(NUMBER, "household__desil", "household__desil"),
    "family.desil": _Field(NUMBER, "household__desil", "household__desil"),
    "family.in_dtsen": _flag("family.in_dtsen", "household__in_dtsen"),
    "family.size": _Field(NUMBER, null="household_id", count="household_id"),
}


FIELDS: dict[str, dict[str, _Field]] = {
    PERSON: {
        "sex": _Field(SEX, "sex", ordered=False),
        "age": _Field(AGE, "birth_date", "birth_date"),
        "income": _Field(NUMBER, "monthly_income", "monthly_income"),
        "shdk": _code("shdk", codes.SHDK),
        "marital_status": _code("marital_status", codes.MARITAL_STATUS),
        "education": _code("education", codes.EDUCATION, ordered=True),
        "occupation": _code("occupation", codes.OCCUPATION),
        "religion": _code("religion", codes.RELIGION),
        "disability": _code("disability", codes.DISABILITY),
        "has_disability": _Field(
            BOOL, true_q=Q(disability__isnull=False) & ~Q(disability=NO_DISABILITY),
            false_q=Q(disability__isnull=True) | Q(disability=NO_DISABILITY)),
        "health_insurance": _code("health_insurance", codes.HEALTH_INSURANCE),
        "kb": _Field(BOOL, true_q=Q(kb_method__isnull=False), false_q=Q(kb_method__isnull=True)),
        "kb_method": _code("kb_method", codes.KB_METHOD),
        "has_birth_certificate": _flag("has_birth_certificate", "has_birth_certificate"),
        "has_kia": _flag("has_kia", "has_kia"),
        "has_ktp_el": _flag("has_ktp_el", "has_ktp_el"),
        **_FAMILY_OF_PERSON,
    },
    HOUSEHOLD: {
        "desil": _Field(NUMBER, "desil", "desil"),
        "family.desil": _Field(NUMBER, "desil", "desil"),
        "in_dtsen": _flag("in_dtsen", "in_dtsen"),
        "family.in_dtsen": _flag("in_dtsen", "in_dtsen"),
        "size": _Field(NUMBER, count="pk"),
        "family.size": _Field(NUMBER, count="pk"),
    },
    GROUP: {
        "kind": _Field(KIND, "kind_id", ordered=False),
        "level": _Field(TEXT, "level", ordered=False),
        "members": _Field(NUMBER, count="members"),
        "founded_year": _Field(NUMBER, "founded_on__year", "founded_on"),
    },
}


UNIT_FUNCTIONS = {PERSON: FUNCTIONS, HOUSEHOLD: FUNCTIONS, GROUP: ("enrolled_in", "in_region")}
MODELS = {PERSON: Person, HOUSEHOLD: Household, GROUP: Group}


def _unit_label(unit: str) -> str:
    return {PERSON: _("persons"), HOUSEHOLD: _("families"), GROUP: _("groups")}[unit]


def _ranges(numbers) -> str:
    """1, 2, 3, 5, 99 -> "1-3, 5, 99": code lists stay short in messages."""
    out: list[list[int]] = []
    for n in sorted(numbers):
        if out and n == out[-1][1] + 1:
            out[-1][1] = n
        else:
            out.append([n, n])
    return ", ".join(str(a) if a == b else f"{a}-{b}" for a, b in out)


def _example(name: str, field: _Field) -> str:
    """A well-typed condition on the field, for messages."""
    if field.type == CODE:
        return f"{name} == {min(field.codes)}"
    return {AGE: "age >= 18", SEX: 'sex == "P"', KIND: 'kind == "UPPKA"',
            TEXT: f'{name} == "Maju"', BOOL: name}.get(field.type, f"{name} <= 4")


def _show(value) -> str:
    """A literal as written in a rule, for messages."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return f'"{value}"' if isinstance(value, str) else str(value)


def _birth_cutoff(today: datetime.date, years: int) -> datetime.date:
    """The latest birth date of someone at least ``years`` old on ``today``.

    Birth dates compare as (year, month, day) tuples against
    (today.year - years, today.month, today.day); a 29 February that does not
    exist in that year lies between 28 February and 1 March, so 28 February.
    """
    year = today.year - years
    try:
        return today.replace(year=year)
    except ValueError:
        return datetime.date(year, 2, 28)


class _Compiler:
    def __init__(self, rule: str, unit: str, today: datetime.date):
        self.rule, self.unit, self.today = rule, unit, today
        self.fields = FIELDS[unit]
        self.kinds: list[str] | None = None
        self.lookups = 0

    def costly(self, pos: int) -> None:
        """Count one condition that looks into another list (a correlated
        subquery per row): the rule's cost. A rule past MAX_LOOKUPS is
        refused before any query runs, where it would hold a server thread
        for minutes (the time limit stops what the count cannot foresee)."""
        self.lookups += 1
        if self.lookups > MAX_LOOKUPS:
            raise self.error(_(
                "At character %(pos)s: a rule may hold at most %(max)d conditions that look "
                "into other lists (member_of, enrolled_in, family or group size). Simplify "
                "the rule, or split it over two programs.")
                % {"pos": pos, "max": MAX_LOOKUPS}, pos)

    def error(self, message: str, pos: int) -> RuleError:
        return RuleError(message, position=pos, rule=self.rule)

    def q(self, node) -> Q:
        if isinstance(node, BoolOp):
            out = self.q(node.items[0])
            for item in node.items[1:]:
                out = out & self.q(item) if node.op == "and" else out | self.q(item)
            return out
        if isinstance(node, Not):
            return ~self.q(node.operand)
        if isinstance(node, Call):
            return self.call(node)
        if isinstance(node, Flag):
            field = self.field(node.field, node.pos)
            if field.type != BOOL:
                raise self.error(_("%(field)s at character %(pos)s needs a comparison with a "
                                   "value, such as %(example)s.")
                                 % {"field": node.field, "pos": node.pos,
                                    "example": _example(node.field, field)}, node.pos)
            return field.true_q
        return self.compare(node)

    def available(self) -> str:
        return ", ".join([*self.fields, *UNIT_FUNCTIONS[self.unit]])

    def field(self, name: str, pos: int) -> _Field:
        if name in self.fields:
            return self.fields[name]
        if any(name in fields for fields in FIELDS.values()):
            raise self.error(_("%(name)s at character %(pos)s cannot be used in a rule about "
                               "%(unit)s. Use one of: %(fields)s.")
                             % {"name": name, "pos": pos, "unit": _unit_label(self.unit),
                                "fields": self.available()}, pos)
        message = _("%(name)s at character %(pos)s is not a field. Use one of: %(fields)s.") % {
            "name": name, "pos": pos, "fields": self.available()}
        guess = difflib.get_close_matches(name, list(self.fields), n=1)
        if guess:
            message += " " + _("Did you mean %(guess)s?") % {"guess": guess[0]}
        raise self.error(message, pos)

    # Values -------------------------------------------------------------------

    def number(self, name: str, op: str, value: Value) -> tuple[str, int]:
        """(op, whole number): the fields hold whole numbers, so a decimal
        bound moves to the nearest whole one (income > 1.5 is income >= 2)."""
        v = value.value
        if isinstance(v, bool) or not isinstance(v, int | Decimal):
            raise self.error(_("%(field)s is a number, so the value at character %(pos)s must "
                               "be a number written without quotes, e.g. %(field)s %(op)s 4.")
                             % {"field": name, "pos": value.pos,
                                "op": op if op in OPERATORS else "=="}, value.pos)
        if abs(v) > MAX_NUMBER:
            raise self.error(_("The number at character %(pos)s is too large; numbers go up "
                               "to %(max)s.") % {"pos": value.pos, "max": MAX_NUMBER},
                             value.pos)
        if isinstance(v, Decimal):
            if v == v.to_integral_value():
                v = int(v)
            elif op in {">", ">="}:
                op, v = ">=", ceil(v)
            elif op in {"<", "<="}:
                op, v = "<=", floor(v)
            else:
                raise self.error(_("%(field)s holds whole numbers, so it never equals %(value)s "
                                   "(at character %(pos)s); write a whole number.")
                                 % {"field": name, "value": v, "pos": value.pos}, value.pos)
        if name == "founded_year" and not 1 <= v <= 9999:
            raise self.error(_("A year at character %(pos)s must be between 1 and 9999.")
                             % {"pos": value.pos}, value.pos)
        return op, v

    def text(self, name: str, field: _Field, value: Value) -> str:
        v = value.value
        if not isinstance(v, str):
            example = {SEX: 'sex == "P"', KIND: 'kind == "UPPKA"'}.get(field.type,
                                                                        'level == "Maju"')
            raise self.error(_("%(field)s is text; write the value at character %(pos)s in "
                               "double quotes, e.g. %(example)s.")
                             % {"field": name, "pos": value.pos, "example": example}, value.pos)
        if field.type == SEX:
            if v.upper() not in codes.SEX:
                raise self.error(_("The value at character %(pos)s is not a sex; write \"L\" "
                                   "(male) or \"P\" (female).") % {"pos": value.pos}, value.pos)
            return v.upper()
        if field.type == KIND:
            return self.kind(v, value.pos)
        return v

    def kind(self, code: str, pos: int) -> str:
        if self.kinds is None:
            self.kinds = list(GroupKind.objects.order_by("position", "code")
                              .values_list("code", flat=True))
        known = self.kinds
        for k in known:
            if k.upper() == code.upper():
                return k
        raise self.error(_("There is no group kind \"%(value)s\" (at character %(pos)s); the "
                           "kinds are %(kinds)s.")
                         % {"value": code, "pos": pos, "kinds": ", ".join(known)}, pos)

    def code(self, name: str, field: _Field, value: Value) -> int:
        v = value.value
        if isinstance(v, Decimal) and v == v.to_integral_value():
            v = int(v)
        if isinstance(v, bool) or not isinstance(v, int) or v not in field.codes:
            raise self.error(_("%(value)s at character %(pos)s is not a code of %(field)s; the "
                               "codes are %(codes)s.")
                             % {"value": _show(value.value), "pos": value.pos, "field": name,
                                "codes": _ranges(field.codes)}, value.pos)
        return v

    def boolean(self, name: str, value: Value) -> bool:
        if not isinstance(value.value, bool):
            raise self.error(_("%(field)s is yes or no: compare it with true or false at "
                               "character %(pos)s, or write just %(field)s or not %(field)s.")
                             % {"field": name, "pos": value.pos}, value.pos)
        return value.value

    # Conditions ---------------------------------------------------------------

    def compare(self, node: Compare) -> Q:
        field = self.field(node.field, node.field_pos)
        if node.op in {"<", "<=", ">", ">="} and (not field.ordered or field.type == BOOL):
            raise self.error(_("%(op)s at character %(pos)s does not apply to %(field)s; use "
                               "== or != or in [...].")
                             % {"op": node.op, "pos": node.op_pos, "field": node.field},
                             node.op_pos)
        if node.op in {"in", "not in"}:
            parts = [self.equals(node.field, field, v) for v in node.values]
            q = parts[0]
            for part in parts[1:]:
                q |= part
            return q if node.op == "in" else ~q & self.present(field)
        if node.op == "!=" and field.type == BOOL:
            return field.false_q if self.boolean(node.field, node.values[0]) else field.true_q
        if node.op == "!=":
            return ~self.equals(node.field, field, node.values[0]) & self.present(field)
        if node.op == "==":
            return self.equals(node.field, field, node.values[0])
        if field.type == AGE:
            op, years = self.number(node.field, node.op, node.values[0])
            return self.age(op, years, node.values[0].pos)
        op, v = (self.number(node.field, node.op, node.values[0]) if field.type == NUMBER
                 else ("", self.code(node.field, field, node.values[0])))
        return self.order(field, op or node.op, v, node.values[0].pos)

    def present(self, field: _Field) -> Q:
        """True where the field has a value; AND-ed into != and not in."""
        if field.type == BOOL:
            return field.true_q | field.false_q
        if field.type == AGE:
            return Q(birth_date__isnull=False)
        return Q(**{f"{field.null}__isnull": False}) if field.null else Q(pk__isnull=False)

    def equals(self, name: str, field: _Field, value: Value) -> Q:
        if field.type == BOOL:
            return field.true_q if self.boolean(name, value) else field.false_q
        if field.type in {SEX, KIND}:
            return Q(**{field.path: self.text(name, field, value)})
        if field.type == TEXT:
            return Q(**{f"{field.path}__iexact": self.text(name, field, value)})
        if field.type == CODE:
            return Q(**{field.path: self.code(name, field, value)})
        op, v = self.number(name, "==", value)
        if field.type == AGE:
            return self.age(op, v, value.pos)
        return self.order(field, op, v, value.pos)

    def order(self, field: _Field, op: str, v: int, pos: int = 0) -> Q:
        if field.count is None:
            return Q(**{f"{field.path}__{LOOKUP[op]}": v})
        self.costly(pos)
        q = Q(EXPR_LOOKUP[op](self.counter(field.count), v))
        return q & Q(household_id__isnull=False) if field.null else q

    def counter(self, outer: str) -> Subquery:
        """Living members of a family, or open memberships of living persons
        in a group: COUNT without GROUP BY gives 0, not NULL, when none."""
        if outer == "members":
            rows = GroupMember.objects.filter(group_id=OuterRef("pk"), left_on__isnull=True,
                                              person__life_status=codes.ALIVE)
        else:
            rows = Person.objects.filter(household_id=OuterRef(outer),
                                         life_status=codes.ALIVE)
        counted = rows.order_by().annotate(n=Func(F("pk"), function="COUNT")).values("n")
        return Subquery(counted, output_field=IntegerField())

    def age(self, op: str, years: int, pos: int) -> Q:
        """Age conditions as birth-date ranges: age >= n is born on or before
        the n-th birthday cutoff, so the birth_date index serves them."""
        if not 0 <= years <= MAX_AGE:
            raise self.error(_("An age at character %(pos)s must be between 0 and %(max)s "
                               "years.") % {"pos": pos, "max": MAX_AGE}, pos)
        at_least = _birth_cutoff(self.today, years)        # age >= years
        above = _birth_cutoff(self.today, years + 1)       # age >= years + 1
        return {
            ">=": Q(birth_date__lte=at_least),
            ">": Q(birth_date__lte=above),
            "<": Q(birth_date__gt=at_least),
            "<=": Q(birth_date__gt=above),
            "==": Q(birth_date__gt=above, birth_date__lte=at_least),
        }[op]

    def call(self, node: Call) -> Q:
        if node.name not in FUNCTIONS:
            if node.name in self.fields:
                message = _("%(name)s at character %(pos)s is a field, not a function; compare "
                            "it with a value, e.g. %(name)s == 1.")
            else:
                message = _("%(name)s at character %(pos)s is not a function; the functions "
                            "are member_of, enrolled_in and in_region.")
            raise self.error(message % {"name": node.name, "pos": node.pos}, node.pos)
        if node.name not in UNIT_FUNCTIONS[self.unit]:
            raise self.error(_("%(name)s at character %(pos)s cannot be used in a rule about "
                               "%(unit)s. Use one of: %(fields)s.")
                             % {"name": node.name, "pos": node.pos,
                                "unit": _unit_label(self.unit), "fields": self.available()},
                             node.pos)
        if len(node.args) != 1 or not isinstance(node.args[0].value, str):
            pos = node.args[1].pos if len(node.args) > 1 else (
                node.args[0].pos if node.args else node.end_pos)
            raise self.error(_("%(name)s at character %(pos)s takes one value in double "
                               "quotes, e.g. %(example)s.")
                             % {"name": node.name, "pos": pos,
                                "example": EXAMPLES[node.name]}, pos)
        arg, pos = node.args[0].value, node.args[0].pos
        if node.name != "in_region":
            self.costly(node.pos)
        if node.name == "in_region":
            problem = code_problem(arg)
            if problem:
                raise self.error(_("In in_region at character %(pos)s: %(problem)s")
                                 % {"pos": pos, "problem": problem}, pos)
            return village_in_q("village_code", arg)
        if node.name == "member_of":
            kind = self.kind(arg, pos)
            rows = GroupMember.objects.filter(left_on__isnull=True, group__is_active=True,
                                              group__kind_id=kind)
            if self.unit == PERSON:
                rows = rows.filter(person_id=OuterRef("pk"))
            else:
                rows = rows.filter(person__household_id=OuterRef("pk"),
                                   person__life_status=codes.ALIVE)
            return Q(Exists(rows))
        program = self.program(arg, pos)
        rows = Enrollment.objects.filter(program_id=program, status__in=SERVED)
        if self.unit == PERSON:
            # Two EXISTS, each on its own index (enroll_person, enroll_household):
            # one EXISTS with the OR inside scans every enrollment per person.
            own = rows.filter(person_id=OuterRef("pk"))
            family = rows.filter(household_id=OuterRef("household_id"), person__isnull=True,
                                 group__isnull=True)
            return Q(Exists(own)) | Q(Exists(family))
        if self.unit == HOUSEHOLD:
            rows = rows.filter(household_id=OuterRef("pk"))
        else:
            rows = rows.filter(group_id=OuterRef("pk"))
        return Q(Exists(rows))

    def program(self, code: str, pos: int) -> int:
        found = dict(Program.objects.filter(code__iexact=code).values_list("code", "pk"))
        if code in found:
            return found[code]
        if found:
            return found[min(found)]
        raise self.error(_("There is no program with code \"%(value)s\" (at character "
                           "%(pos)s); check the code on the program's page.")
                         % {"value": code, "pos": pos}, pos)


def _unit(unit: str) -> str:
    if unit not in FIELDS:
        raise SinergiError(_("Unknown beneficiary unit %(unit)s; choose person, household or "
                             "group.") % {"unit": unit}, field="unit")
    return unit


def _base_q(unit: str) -> Q:
    """Who can ever be eligible: living persons, active families and groups."""
    return Q(life_status=codes.ALIVE) if unit == PERSON else Q(is_active=True)


def check(rule: str, unit: str) -> None:
    """Raise RuleError when ``rule`` does not compile for ``unit``; an empty
    rule is valid (everyone is eligible)."""
    eligible_q(rule, unit, today=timezone.localdate())


def eligible_q(rule: str, unit: str, *, today: datetime.date) -> Q:
    """The filter on the unit's model (Person, Household, Group) selecting
    who the rule admits on ``today``, living/active rows only."""
    base = _base_q(_unit(unit))
    tree = parse(rule or "")
    return base if tree is None else base & _Compiler(rule, unit, today).q(tree)


def eligible_queryset(rule: str, unit: str, *, today: datetime.date,
                      region: str | None = None) -> QuerySet:
    """The eligible persons, families or groups, optionally in a region subtree."""
    qs = MODELS[_unit(unit)].objects.filter(eligible_q(rule, unit, today=today))
    if region:
        problem = code_problem(region)
        if problem:
            raise SinergiError(problem, field="region")
        qs = qs.filter(village_in_q("village_code", region))
    return qs


def eligibility_preview(rule: str, unit: str, *, region: str | None,
                        today: datetime.date) -> dict:
    """How many the rule admits in a region, by village and by sex: what an
    operator sees before saving a rule, from one grouped query.

    ``by_sex`` counts persons by their sex, families by the sex of their
    living head (SHDK 1; families without one are not in it), and is empty
    for groups.
    """
    qs = eligible_queryset(rule, unit, today=today, region=region).order_by()
    # One GROUP BY (village, sex) gives all three figures: a province-wide
    # preview reads the eligible rows once, not three times.
    if unit == PERSON:
        qs = qs.annotate(sx=F("sex"))
    elif unit == HOUSEHOLD:
        head = Person.objects.filter(household_id=OuterRef("pk"), shdk=codes.SHDK_HEAD,
                                     life_status=codes.ALIVE).order_by("pk").values("sex")[:1]
        qs = qs.annotate(sx=Subquery(head))
    else:
        qs = qs.annotate(sx=SQLValue(""))
    villages: dict[str, int] = {}
    by_sex: dict[str, int] = {"L": 0, "P": 0} if unit in (PERSON, HOUSEHOLD) else {}
    for village, sex, n in qs.values_list("village_code", "sx").annotate(n=Count("pk")):
        villages[village] = villages.get(village, 0) + n
        if sex in by_sex:
            by_sex[sex] += n
    total = sum(villages.values())
    by_village = sorted(villages.items())
    return {"total": total, "by_village": by_village, "by_sex": by_sex}
