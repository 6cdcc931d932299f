"""Writes to programs, targets and enrollments: checked, atomic, audited."""

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.db.models import OuterRef, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _

from sinergi.accounts import access
from sinergi.agencies.models import Agency
from sinergi.convergence import services as convergence_services
from sinergi.core import changes as data_changes
from sinergi.core import values
from sinergi.core.audit import audit_record, changed_fields, snapshot
from sinergi.core.errors import AccessDenied, SinergiError
from sinergi.core.values import UNSET
from sinergi.groups.models import Group
from sinergi.regions.models import Region
from sinergi.registry import codes as registry_codes
from sinergi.registry import selectors as registry_selectors
from sinergi.registry.models import Household, Person

from . import eligibility, selectors
from .models import (
    BENEFIT_CHOICES,
    EXITED,
    GROUP,
    HOUSEHOLD,
    PERSON,
    REJECTED,
    STATUS_CHOICES,
    TAG_CHOICES,
    TRANSITIONS,
    UNIT_CHOICES,
    Enrollment,
    Program,
    Target,
)

PROGRAM_FIELDS = ("owner_agency", "code", "name", "description", "year_start", "year_end",
                  "tags", "unit", "benefit_type", "benefit_value", "rule", "is_active")
YEAR_MIN, YEAR_MAX = 2000, 2100
MAX_COUNT = 1_000_000_000


def _year(value, field: str, *, required: bool = True) -> int | None:
    if value in (None, ""):
        if required:
            raise SinergiError(_("A year is required, e.g. 2026."), field=field)
        return None
    year = values.as_int(value, field)
    if not YEAR_MIN <= year <= YEAR_MAX:
        raise SinergiError(_("The year must lie between %(a)d and %(b)d.")
                           % {"a": YEAR_MIN, "b": YEAR_MAX}, field=field)
    return year


def money(value, field: str) -> int | None:
    number = values.as_decimal(value, field)
    if number is None:
        return None
    if number < 0:
        raise SinergiError(_("An amount cannot be negative."), field=field)
    return int(number)


def _owner_agency(actor, value) -> Agency:
    agency = access.agency_field(actor, value, "owner_agency")
    if actor is not None and not access.in_scope(actor, agency.region_id):
        raise AccessDenied(_("You may only set up programs of agencies in your own "
                             "region."))
    if actor is not None and actor.agency_id and actor.agency_id != agency.pk \
            and not access.user_can(actor, "agency.edit"):
        raise AccessDenied(_("An agency officer sets up programs of the own agency "
                             "only."))
    return agency


def _tags(value) -> list[str]:
    known = {k for k, _label in TAG_CHOICES}
    tags = [str(t).strip() for t in (value or []) if str(t).strip()]
    unknown = [t for t in tags if t not in known]
    if unknown:
        raise SinergiError(_("Unknown tag %(t)s; choose from: %(all)s.")
                           % {"t": ", ".join(unknown), "all": ", ".join(sorted(known))},
                           field="tags")
    return sorted(set(tags))


def _cleaned(actor, *, current: Program | None = None, owner_agency: Agency | int | str = UNSET,
             code: str = UNSET, name: str = UNSET, description: str | None = UNSET,
             year_start: int | str = UNSET, year_end: int | str | None = UNSET,
             tags: Iterable[str] | None = UNSET, unit: str = UNSET, benefit_type: str = UNSET,
             benefit_value: int | str | None = UNSET, rule: str | None = UNSET,
             is_active: bool | None = UNSET) -> dict:
    """The fields given, parsed and checked in PROGRAM_FIELDS order (the first
    problem reported is the first field of the form), then checked together
    with the ``current`` program's other fields: years in order, a rule that
    compiles for the unit."""
    out: dict = {}
    if owner_agency is not UNSET:
        out["owner_agency"] = _owner_agency(actor, owner_agency)
    if code is not UNSET:
        out["code"] = values.text(code, "code", 30, required=True).upper().replace(" ", "-")
    if name is not UNSET:
        out["name"] = values.text(name, "name", 200, required=True)
    if description is not UNSET:
        out["description"] = values.text(description, "description", None)
    if year_start is not UNSET:
        out["year_start"] = _year(year_start, "year_start")
    if year_end is not UNSET:
        out["year_end"] = _year(year_end, "year_end", required=False)
    if tags is not UNSET:
        out["tags"] = _tags(tags)
    if unit is not UNSET:
        out["unit"] = values.choice(unit, "unit", UNIT_CHOICES)
    if benefit_type is not UNSET:
        out["benefit_type"] = values.choice(benefit_type, "benefit_type", BENEFIT_CHOICES)
    if benefit_value is not UNSET:
        out["benefit_value"] = money(benefit_value, "benefit_value")
    if rule is not UNSET:
        out["rule"] = values.text(rule, "rule", None)
    if is_active is not UNSET:
        out["is_active"] = bool(is_active)
    start = out.get("year_start", current.year_start if current else None)
    end = out.get("year_end", current.year_end if current else None)
    if start and end and end < start:
        raise SinergiError(_("The last year cannot come before the first."), field="year_end")
    eligibility.check(out.get("rule", current.rule if current else ""),
                      out.get("unit", current.unit if current else PERSON))
    return out  # (a RuleError is a SinergiError on field "rule")


def _save_program(program: Program) -> None:
    if Program.objects.filter(code=program.code).exclude(pk=program.pk).exists():
        raise SinergiError(_("Program code %(c)s is taken; choose another code.")
                           % {"c": program.code}, field="code")
    try:
        with transaction.atomic():
            program.save()
    except IntegrityError:
        raise SinergiError(_("Program code %(c)s is taken; choose another code.")
                           % {"c": program.code}, field="code") from None


@transaction.atomic
def program_create(*, actor, owner_agency: Agency | int | str, code: str, name: str,
                   year_start: int | str, unit: str, benefit_type: str, description: str = "",
                   year_end: int | str | None = None, tags: Iterable[str] = (),
                   benefit_value: int | str | None = None, rule: str = "",
                   is_active: bool = True) -> Program:
    """Set up a program of ``owner_agency`` (an agency of the actor's region;
    an officer's own agency only), its eligibility rule checked for the unit."""
    if actor is not None:
        access.check_capability(actor, "program.edit")
    required = {"owner_agency": owner_agency, "code": code, "name": name,
                "year_start": year_start, "unit": unit, "benefit_type": benefit_type}
    for field, value in required.items():
        if value in (None, ""):
            raise SinergiError(_("This field is required; fill it in."), field=field)
    program = Program(**_cleaned(actor, **required, description=description, year_end=year_end,
                                 tags=tags, benefit_value=benefit_value, rule=rule,
                                 is_active=is_active))
    _save_program(program)
    audit_record(actor=actor, action="program.create", obj=program, after=snapshot(program))
    return program


@transaction.atomic
def program_update(*, actor, program: Program, owner_agency: Agency | int | str = UNSET,
                   code: str = UNSET, name: str = UNSET, description: str | None = UNSET,
                   year_start: int | str = UNSET, year_end: int | str | None = UNSET,
                   tags: Iterable[str] | None = UNSET, unit: str = UNSET,
                   benefit_type: str = UNSET, benefit_value: int | str | None = UNSET,
                   rule: str | None = UNSET, is_active: bool | None = UNSET) -> Program:
    """Change the fields given (None empties an optional one); the unit stays
    once the program has enrollments. A change to who is eligible or when
    asks for a coverage refresh."""
    if actor is not None and not selectors.can_edit_program(actor, program):
        raise AccessDenied(_("Only %(agency)s or a coordinator of its region may change this "
                             "program.") % {"agency": program.owner_agency.short_name})
    if unit is not UNSET and unit != program.unit and program.enrollments.exists():
        raise SinergiError(_("The beneficiary unit cannot change once the program has "
                             "enrollments."), field="unit")
    before = snapshot(program)
    fields = values.given(owner_agency=owner_agency, code=code, name=name,
                          description=description, year_start=year_start, year_end=year_end,
                          tags=tags, unit=unit, benefit_type=benefit_type,
                          benefit_value=benefit_value, rule=rule, is_active=is_active)
    for field, value in _cleaned(actor, current=program, **fields).items():
        setattr(program, field, value)
    _save_program(program)
    old, new = changed_fields(before, snapshot(program))
    old.pop("updated_at", None)
    new.pop("updated_at", None)
    if new:
        if {"rule", "year_start", "year_end", "is_active"} & new.keys():
            convergence_services.refresh_requested(
                region_code=program.owner_agency.region_id, year=current_year())
        audit_record(actor=actor, action="program.update", obj=program, before=old, after=new)
    return program


@transaction.atomic
def target_set(*, actor, program: Program, region, year, count, budget=None) -> Target | None:
    """Set (or with count empty, remove) the program's target for a region and year."""
    if actor is not None and not selectors.can_edit_program(actor, program):
        raise AccessDenied(_("Only %(agency)s or a coordinator of its region may change this "
                             "program.") % {"agency": program.owner_agency.short_name})
    region_obj = access.region_field(actor, region, "region")
    if actor is not None and not access.in_scope(actor, region_obj.code):
        raise AccessDenied(_("You may set targets only for your own region and the regions "
                             "below it."))
    year = _year(year, "year")
    existing = Target.objects.filter(program=program, region=region_obj, year=year).first()
    if count in (None, ""):
        if existing:
            existing.delete()
            audit_record(actor=actor, action="program.target_remove", obj=program,
                         before={"region": region_obj.code, "year": year,
                                 "count": existing.count})
        return None
    count = values.as_int(count, "count")
    if count < 0:
        raise SinergiError(_("A target cannot be negative."), field="count")
    if count > MAX_COUNT:
        raise SinergiError(_("A target of more than %(max)d is not plausible; check the "
                             "number.") % {"max": MAX_COUNT}, field="count")
    target = existing or Target(program=program, region=region_obj, year=year)
    before = {"count": target.count, "budget": target.budget} if existing else None
    target.count, target.budget = count, money(budget, "budget")
    target.save()
    audit_record(actor=actor, action="program.target_set", obj=program, before=before,
                 after={"region": region_obj.code, "year": year, "count": count,
                        "budget": target.budget})
    return target


# --- enrollments ----------------------------------------------------------------------------

def find_beneficiary(actor, program: Program, key: str):
    """The person (NIK), family (KK number) or group (group code) named by
    ``key``, inside the actor's scope, following the program's unit."""
    key = values.text(key, "beneficiary", 40, required=True).replace(" ", "")
    if program.unit == PERSON:
        qs, label = Person.objects.filter(nik=key), _("No person with NIK %(k)s in your region.")
    elif program.unit == HOUSEHOLD:
        qs, label = Household.objects.filter(kk_number=key), _(
            "No family with KK number %(k)s in your region.")
    else:
        qs, label = Group.objects.filter(code=key), _("No group with code %(k)s in your region.")
    if actor is not None:
        qs = qs.filter(access.village_scope_q(actor, "village_code"))
    found = qs.first()
    if found is None:
        raise SinergiError(label % {"k": key}, field="beneficiary")
    return found


def _beneficiary_fields(program: Program, beneficiary) -> dict:
    if program.unit == PERSON:
        if beneficiary.life_status != registry_codes.ALIVE:
            raise SinergiError(_("%(name)s is not recorded as living in the registry.")
                               % {"name": beneficiary.name}, field="beneficiary")
        return {"person": beneficiary, "household_id": beneficiary.household_id,
                "village_code": beneficiary.village_code}
    if program.unit == HOUSEHOLD:
        return {"household": beneficiary, "village_code": beneficiary.village_code}
    return {"group": beneficiary, "village_code": beneficiary.village_code}


def is_eligible(program: Program, beneficiary, *, today=None) -> bool:
    today = today or timezone.localdate()
    model = type(beneficiary)
    return model.objects.filter(pk=beneficiary.pk).filter(
        eligibility.eligible_q(program.rule, program.unit, today=today)).exists()


def check_year(program: Program, year) -> int:
    """A year the program runs in, and not beyond next year."""
    year = _year(year, "year")
    if year < program.year_start or (program.year_end and year > program.year_end):
        raise SinergiError(_("%(code)s runs from %(a)s to %(b)s; choose a year in that span.")
                           % {"code": program.code, "a": program.year_start,
                              "b": program.year_end or "…"}, field="year")
    if year > current_year() + 1:
        raise SinergiError(_("Enrollments are recorded for this year or the next, not for "
                             "%(year)d.") % {"year": year}, field="year")
    return year


def check_status(status) -> str:
    return values.choice(status, "status", STATUS_CHOICES)


def _villages_of(enrollment: Enrollment) -> list[str]:
    """The villages whose figures an enrollment counts in: its own, and its
    family's now (they differ once the family has moved)."""
    family = enrollment.household.village_code if enrollment.household_id else None
    return [enrollment.village_code, family]


@transaction.atomic
def enrollment_create(*, actor, program: Program, year, beneficiary, status: str = "proposed",
                      benefit_value=None, start_date=None, allow_ineligible: bool = False,
                      job=None, line=None) -> Enrollment:
    """Enroll one beneficiary; an ineligible one only when the actor says so
    (the inclusion error is then on record, visible in convergence)."""
    if actor is not None and not selectors.can_edit_program(actor, program):
        raise AccessDenied(_("Only %(agency)s or a coordinator of its region may change this "
                             "program's beneficiaries.")
                           % {"agency": program.owner_agency.short_name})
    year = check_year(program, year)
    status = check_status(status)
    fields = _beneficiary_fields(program, beneficiary)
    if not allow_ineligible and program.rule and not is_eligible(program, beneficiary):
        raise SinergiError(_("Not eligible under the program's rule (%(rule)s). Tick 'enroll "
                             "although not eligible' if the agency decided so.")
                           % {"rule": program.rule}, field="beneficiary")
    duplicate = Enrollment.objects.filter(program=program, year=year, **{
        k: v for k, v in fields.items() if k in {"person", "group"}
        or (k == "household" and program.unit == HOUSEHOLD)})
    if duplicate.exists():
        raise SinergiError(_("Already enrolled in %(code)s for %(year)d.")
                           % {"code": program.code, "year": year}, field="beneficiary")
    benefit = money(benefit_value, "benefit_value")
    try:
        with transaction.atomic():
            enrollment = Enrollment.objects.create(
                program=program, year=year, status=status,
                benefit_value=program.benefit_value if benefit is None else benefit,
                start_date=values.as_date(start_date, "start_date"),
                created_by=actor if getattr(actor, "pk", None) else None,
                import_job=job, import_line=line, **fields)
    except IntegrityError:  # enrolled by someone else between the check and the insert
        raise SinergiError(_("Already enrolled in %(code)s for %(year)d.")
                           % {"code": program.code, "year": year},
                           field="beneficiary") from None
    convergence_services.refresh_requested(region_code=enrollment.village_code, year=year)
    data_changes.changed(data_changes.PROGRAMS, _villages_of(enrollment))
    audit_record(actor=actor, action="enrollment.create", obj=enrollment,
                 after={"program": program.code, "year": year, "status": status,
                        "beneficiary": str(beneficiary.pk)})
    return enrollment


@transaction.atomic
def enrollment_transition(*, actor, enrollment: Enrollment, status: str, reason: str = "",
                          date=None) -> Enrollment:
    """Move an enrollment along its lifecycle; rejected and exited need a reason."""
    if actor is not None and not selectors.can_edit_program(actor, enrollment.program):
        raise AccessDenied(_("Only %(agency)s or a coordinator of its region may change this "
                             "program's beneficiaries.")
                           % {"agency": enrollment.program.owner_agency.short_name})
    status = values.choice(status, "status", STATUS_CHOICES)
    # Lock the row: two people moving the same enrollment at once see each other.
    enrollment = Enrollment.objects.select_for_update().select_related(
        "program", "program__owner_agency").get(pk=enrollment.pk)
    allowed = TRANSITIONS[enrollment.status]
    if status not in allowed:
        labels = dict(STATUS_CHOICES)
        raise SinergiError(_("An enrollment that is %(now)s cannot become %(new)s; it can "
                             "become: %(allowed)s.")
                           % {"now": labels[enrollment.status], "new": labels[status],
                              "allowed": ", ".join(str(labels[s]) for s in sorted(allowed))
                              or "—"}, field="status")
    reason = values.text(reason, "reason", 300)
    if status in {REJECTED, EXITED} and not reason:
        raise SinergiError(_("Say why (the reason is kept with the enrollment)."),
                           field="reason")
    when = values.as_date(date, "date") or timezone.localdate()
    before = {"status": enrollment.status}
    enrollment.status, enrollment.status_reason = status, reason
    if status == "active":
        enrollment.start_date = enrollment.start_date or when
        enrollment.end_date = None  # back from exited: running again
    if status in {"completed", "graduated", EXITED}:
        enrollment.end_date = when
    enrollment.save()
    convergence_services.refresh_requested(region_code=enrollment.village_code,
                                           year=enrollment.year)
    data_changes.changed(data_changes.PROGRAMS, _villages_of(enrollment))
    audit_record(actor=actor, action="enrollment.status", obj=enrollment, before=before,
                 after={"status": status, "reason": reason})
    return enrollment


@dataclass
class EnrollmentExport:
    """What a beneficiary export writes: the file name, the header, the rows
    (read from the database as the workbook is written) and the columns
    kept as text (NIK and KK numbers are digits, not numbers)."""

    file_name: str
    header: list[str]
    rows: Iterator[tuple]
    text_columns: set[int]


def enrollments_export(*, actor, program: Program, year: int,
                       status: str | None = None) -> EnrollmentExport:
    """The program's beneficiaries in the actor's scope for a year (and a
    status, when given: the program page's filters), for a workbook.

    Each row names its beneficiary as the unit has it: a person by NIK, name
    and KK number; a family by KK number and its head's NIK and name (the
    alive member with SHDK 1, lowest id, as convergence counts it); a group
    by code and name. Every row has its village's code and name. Read in one
    query (the head and the village name are subqueries of it), streamed.
    Personal data: the export is audited (program, year, status, number of
    rows) and committed before a row is read, so a failed download still
    shows in the log."""
    access.check_capability(actor, "person.export")
    status = check_status(status) if status else None
    rows = selectors.enrollments_filtered(actor, program=program, year=year, status=status)
    with transaction.atomic():
        audit_record(actor=actor, action="enrollment.export", obj=program,
                     region_code=access.scope_root(actor) or "",
                     after={"year": year, "rows": rows.count(),
                            **({"status": status} if status else {})})
    rows = (rows.select_related("person", "household", "group")
            .annotate(village_name=Subquery(Region.objects.filter(
                code=OuterRef("village_code")).values("name")[:1]))
            .order_by("village_code", "id"))
    if program.unit == HOUSEHOLD:
        family = OuterRef("household_id")
        rows = rows.annotate(head_nik=registry_selectors.head_of(family, "nik"),
                             head_name=registry_selectors.head_of(family, "name"))
    labels = dict(STATUS_CHOICES)
    head = [_("Village code"), _("Village")]
    tail = [_("Status"), _("Reason"), _("Benefit value (Rp)"), _("Start"), _("End")]
    if program.unit == GROUP:
        header, text_columns = [*head, _("Group code"), _("Name"), *tail], {0, 2}

        def who(e):
            return ((e.group.code, e.group.name) if e.group_id else ("", ""))
    else:
        name = _("Head of family") if program.unit == HOUSEHOLD else _("Name")
        header, text_columns = [*head, "NIK", name, _("KK number"), *tail], {0, 2, 4}

        def who(e):
            kk = e.household.kk_number if e.household_id else ""
            if e.person_id:
                return e.person.nik or "", e.person.name, kk
            return getattr(e, "head_nik", None) or "", getattr(e, "head_name", None) or "", kk
    return EnrollmentExport(
        file_name=f"penerima-{program.code}-{year}{f'-{status}' if status else ''}.xlsx",
        header=header,
        rows=((e.village_code, e.village_name or "", *who(e), str(labels[e.status]),
               e.status_reason, e.benefit_value, e.start_date, e.end_date)
              for e in rows.iterator(chunk_size=5000)),
        text_columns=text_columns)


def current_year() -> int:
    return timezone.localdate().year


def program_years(program: Program) -> list[int]:
    last = program.year_end or max(program.year_start, current_year())
    return list(range(program.year_start, last + 1))

