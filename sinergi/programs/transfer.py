"""Bulk enrollment: a beneficiary list (CSV or XLSX, read by the registry's
readers) matched to the registry by NIK, KK number or group code, set at a
time, with a report of every row: matched, not in the registry, ineligible,
already enrolled, duplicate in the file. What is matched lands in one
transaction; nothing else is written.
"""

import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from sinergi.accounts import access
from sinergi.convergence import services as convergence_services
from sinergi.core import changes as data_changes
from sinergi.core.audit import audit_record
from sinergi.core.bulk import analyze, bulk_insert
from sinergi.core.errors import AccessDenied, DataFileError, SinergiError
from sinergi.groups.models import Group
from sinergi.imports.readers import read_table
from sinergi.registry import codes as registry_codes
from sinergi.registry.models import Household, Person

from . import eligibility, selectors, services
from .models import GROUP, HOUSEHOLD, PERSON, Enrollment, Program

MATCHED, NOT_FOUND, INELIGIBLE, ENROLLED, DUPLICATE, INVALID, BAD_VALUE = (
    "matched", "not_in_registry", "ineligible", "already_enrolled", "duplicate_in_file",
    "invalid", "bad_value")


def outcome_labels() -> dict[str, str]:
    return {MATCHED: _("matched and enrolled"), NOT_FOUND: _("not in the registry"),
            INELIGIBLE: _("not eligible"), ENROLLED: _("already enrolled"),
            DUPLICATE: _("duplicate in the file"), INVALID: _("not a valid number"),
            BAD_VALUE: _("benefit value not a number")}
KEY_HEADERS = {
    PERSON: ("nik", "no nik", "nomor nik", "nik penerima"),
    HOUSEHOLD: ("no kk", "nomor kk", "kk", "no. kk", "nomor kartu keluarga", "kk_number"),
    GROUP: ("kode kelompok", "kode", "group code", "code"),
}
VALUE_HEADERS = ("nilai manfaat", "nilai", "benefit value", "benefit_value")
MAX_ROWS = 200_000
BATCH = 5_000


@dataclass
class MatchReport:
    file_name: str
    counts: dict[str, int] = field(default_factory=dict)
    rows: list[tuple[int, str, str, str]] = field(default_factory=list)  # line, key, outcome, msg
    created: int = 0

    @property
    def problems(self) -> list[tuple[int, str, str, str]]:
        return [r for r in self.rows if r[2] != MATCHED]


def _messages() -> dict[str, str]:
    return {
        MATCHED: _("Enrolled."),
        NOT_FOUND: _("Not in the registry of your region; register the person, family or "
                     "group first, or check the number."),
        INELIGIBLE: _("Not eligible under the program's rule; enrolled only if you chose "
                      "'enroll although not eligible'."),
        ENROLLED: _("Already enrolled in this program for this year; nothing changed."),
        DUPLICATE: _("Appears earlier in the file; only the first row was taken."),
        INVALID: _("Not a valid number: a NIK or KK number has 16 digits, written as text."),
    }


def _key_column(df: pl.DataFrame, unit: str) -> str:
    wanted = KEY_HEADERS[unit]
    for name in df.columns:
        if name.strip().lower() in wanted:
            return name
    raise DataFileError(_("The file has no column %(want)s; the header row has: %(found)s. "
                          "Name the column as in the template and upload again.")
                        % {"want": wanted[0].upper(), "found": ", ".join(df.columns[:15])})


def _lookup(unit: str, keys: list[str], actor) -> dict[str, tuple]:
    """key -> (id, village_code, household_id) for the keys found in scope."""
    model, key_field = {PERSON: (Person, "nik"), HOUSEHOLD: (Household, "kk_number"),
                        GROUP: (Group, "code")}[unit]
    extra = ["household_id"] if unit == PERSON else []
    found = {}
    for start in range(0, len(keys), BATCH):
        qs = model.objects.filter(**{f"{key_field}__in": keys[start:start + BATCH]})
        if unit == PERSON:
            qs = qs.filter(life_status=registry_codes.ALIVE)
        if actor is not None:
            qs = qs.filter(access.village_scope_q(actor, "village_code"))
        for row in qs.values_list(key_field, "id", "village_code", *extra):
            found[row[0]] = (row[1], row[2], row[3] if extra else (
                row[1] if unit == HOUSEHOLD else None))
    return found


def _eligible_ids(program: Program, ids: list[int]) -> set[int]:
    if not program.rule:
        return set(ids)
    model = {PERSON: Person, HOUSEHOLD: Household, GROUP: Group}[program.unit]
    q = eligibility.eligible_q(program.rule, program.unit, today=timezone.localdate())
    out = set()
    for start in range(0, len(ids), BATCH):
        out.update(model.objects.filter(pk__in=ids[start:start + BATCH]).filter(q)
                   .values_list("id", flat=True))
    return out


def _enrolled_ids(program: Program, year: int, ids: list[int]) -> set[int]:
    column = {PERSON: "person_id", HOUSEHOLD: "household_id", GROUP: "group_id"}[program.unit]
    qs = Enrollment.objects.filter(program=program, year=year)
    if program.unit == HOUSEHOLD:
        qs = qs.filter(person__isnull=True, group__isnull=True)
    out = set()
    for start in range(0, len(ids), BATCH):
        out.update(qs.filter(**{f"{column}__in": ids[start:start + BATCH]})
                   .values_list(column, flat=True))
    return out


def enrollment_import(*, actor, program: Program, year, upload, status: str = "proposed",
                      allow_ineligible: bool = False) -> MatchReport:
    """Match a beneficiary list and enroll what matches, in one transaction."""
    if actor is not None and not selectors.can_edit_program(actor, program):
        raise AccessDenied(_("Only %(agency)s or a coordinator of its region may change this "
                             "program's beneficiaries.")
                           % {"agency": program.owner_agency.short_name})
    year = services.check_year(program, year)
    status = services.check_status(status)
    name = str(getattr(upload, "name", "file"))[-120:]
    with tempfile.NamedTemporaryFile(suffix=Path(name).suffix) as tmp:
        for chunk in upload.chunks() if hasattr(upload, "chunks") else [upload.read()]:
            tmp.write(chunk)
        tmp.flush()
        table = read_table(Path(tmp.name), file_name=name)
    df = table.df
    if df.height > MAX_ROWS:
        raise DataFileError(_("File '%(file)s' has %(n)d rows; at most %(max)d can be matched "
                              "at once. Split the file.")
                            % {"file": name, "n": df.height, "max": MAX_ROWS})
    key_col = _key_column(df, program.unit)
    value_col = next((c for c in df.columns if c.strip().lower() in VALUE_HEADERS), None)
    raw = df.get_column(key_col).fill_null("")
    if program.unit == GROUP:
        # Group codes hold dots and dashes (IR-19.04.01.2001-01): strip only spaces, quotes.
        keys = raw.str.replace_all(r"[\s'`’]", "").str.to_uppercase()
        valid = keys.str.len_chars() > 0
    else:
        keys = raw.str.replace_all(r"[\s'`’.-]", "")
        valid = keys.str.contains(r"^\d{16}$")
    frame = pl.DataFrame({"line": table.lines, "key": keys, "valid": valid,
                          "value": df.get_column(value_col) if value_col else
                          pl.Series([None] * df.height, dtype=pl.String)})
    frame = frame.with_columns(first=pl.col("key").is_first_distinct())
    found = _lookup(program.unit, frame.filter(pl.col("valid"))
                    .get_column("key").unique().to_list(), actor)
    ids = [v[0] for v in found.values()]
    eligible = _eligible_ids(program, ids)
    enrolled = _enrolled_ids(program, year, ids)
    report = MatchReport(file_name=name)
    messages = _messages()
    now = timezone.now()
    to_insert = []
    for line, key, ok, value, first in frame.iter_rows():
        if not ok:
            outcome = INVALID
        elif not first:
            outcome = DUPLICATE
        elif key not in found:
            outcome = NOT_FOUND
        elif found[key][0] in enrolled:
            outcome = ENROLLED
        elif found[key][0] not in eligible and not allow_ineligible:
            outcome = INELIGIBLE
        else:
            try:
                benefit = services.money(value, "benefit_value") if value else None
            except SinergiError as exc:
                outcome = BAD_VALUE
                report.counts[outcome] = report.counts.get(outcome, 0) + 1
                report.rows.append((line, key, outcome, exc.message))
                continue
            outcome = MATCHED
            pk, village, household = found[key]
            to_insert.append((
                program.pk, year, pk if program.unit == PERSON else None,
                household if program.unit in (PERSON, HOUSEHOLD) else None,
                pk if program.unit == GROUP else None, village, status, "",
                program.benefit_value if benefit is None else benefit, now, now,
                actor.pk if getattr(actor, "pk", None) else None, line))
        report.counts[outcome] = report.counts.get(outcome, 0) + 1
        report.rows.append((line, key, outcome, messages[outcome]))
    with transaction.atomic():
        bulk_insert(Enrollment._meta.db_table,
                    ["program_id", "year", "person_id", "household_id", "group_id",
                     "village_code", "status", "status_reason", "benefit_value", "created_at",
                     "updated_at", "created_by_id", "import_line"], to_insert)
        if to_insert:
            convergence_services.refresh_requested(region_code=program.owner_agency.region_id,
                                                   year=year)
            data_changes.changed(data_changes.PROGRAMS, {row[5] for row in to_insert})
        audit_record(actor=actor, action="enrollment.import", obj=program,
                     after={"file": name, "year": year, **report.counts})
    if to_insert:
        analyze(Enrollment._meta.db_table)
    report.created = len(to_insert)
    return report

