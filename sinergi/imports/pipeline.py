"""The registry import pipeline: read, map, normalise, validate, de-duplicate, write.

Everything before the write works on whole columns with polars; the write
is one transaction of set-at-a-time inserts (COPY on PostgreSQL), so a
failure or a kill leaves the registry as it was. Rows that are accepted
land whole: person, family and membership together.

Existing persons (same NIK, or for a person without a NIK the same name
and birth date in the same family: see ``checks.without_nik``) are never
overwritten here: their differences become ProposedChange rows
(verivali.py) that a person reviews and applies (services.import_job_apply),
which is what a verivali round is.

The checks against the file itself and the registry are checks.py's.
Issues point at a row and at a column by canonical name while the file is
checked; when they are written, the column becomes the file's own header
("No. KK" as the file wrote it), which is what the page, the report and
the messages show.
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from sinergi.core import changes as data_changes
from sinergi.core.audit import audit_record
from sinergi.core.bulk import (
    analyze,
    bulk_insert,
    bulk_insert_frame,
    checkpoint_after,
    rebuilt_indexes,
    stage_ahead,
    staging,
)
from sinergi.core.errors import DataFileError
from sinergi.registry import codes, identifiers
from sinergi.registry.models import Household, Person

from . import columns, normalize, readers, verivali
from .checks import (
    as_issues,
    column_or_null,
    duplicates_in_file,
    families_without_head,
    probable_duplicates,
    registered_elsewhere,
    required_and_scope,
    villages_in_region,
    without_nik,
    without_repeats,
)
from .models import DONE, FAILED, REVIEW, ImportIssue, ImportJob

log = logging.getLogger(__name__)


@dataclass
class Outcome:
    rows_total: int = 0
    rows_accepted: int = 0
    rows_rejected: int = 0
    rows_warned: int = 0
    persons_added: int = 0
    households_added: int = 0
    changes_proposed: int = 0
    unknown_columns: list = field(default_factory=list)
    detected_format: str = ""
    blocked: bool = False
    # Canonical column -> the file's own header for it.
    headers: dict[str, str] = field(default_factory=dict)
    # NIK -> person id and KK number -> family id of the file's numbers
    # already registered inside the job's region (outside it, the rows are
    # refused), found while checking and used by the write.
    persons_in_region: dict[str, int] = field(default_factory=dict, repr=False)
    families_in_region: dict[str, int] = field(default_factory=dict, repr=False)
    # Rows without a NIK that are persons already registered in their family:
    # __row -> person id (see without_nik).
    known_without_nik: dict[int, int] = field(default_factory=dict, repr=False)

def read_and_validate(job: ImportJob, progress: Callable[[str, int], None]) -> tuple[
        pl.DataFrame, pl.DataFrame, Outcome]:
    """Parse and check the whole file. Returns (typed rows, issues, outcome).

    ``typed`` carries ``__row`` (position in the file's data) and ``__line``
    (the row number the user sees); issues point at ``__row``.
    """
    outcome = Outcome()
    opensid_hint = job.file_format == "opensid"
    progress(_("reading the file"), 5)
    table = read_file(job, opensid=opensid_hint)
    headers = table.df.columns
    fmt = job.file_format if job.file_format != "auto" else columns.detect_format(headers)
    if fmt == "opensid" and not opensid_hint:
        table = read_file(job, opensid=True)
        headers = table.df.columns
    outcome.detected_format = fmt
    mapping = columns.map_columns(headers, fmt)
    outcome.unknown_columns = mapping.unknown
    outcome.headers = {canonical: header for header, canonical in mapping.columns.items()}
    if mapping.missing_required:
        raise DataFileError(_missing_columns_message(job, fmt, mapping.missing_required))
    if fmt == "opensid" and not job.village_code:
        raise DataFileError(_("An OpenSID file holds no region code: choose the village "
                              "the file belongs to."))
    df = table.df.select([pl.col(h).alias(c) for h, c in mapping.columns.items()])
    df = df.with_row_index("__row").with_columns(pl.col("__row").cast(pl.UInt32))
    outcome.rows_total = df.height
    progress(_("checking %(n)d rows") % {"n": df.height}, 20)
    typed, issues = normalize.normalize(df, fmt=fmt, default_village=job.village_code or None)
    found = [as_issues(issues)]
    # Cell problems the reader saw (formulas, numbers that lost digits).
    # Cell problems in columns that are not imported do not reject a row.
    cell_issues = table.issues.filter(
        pl.col("column").is_in(list(mapping.columns)) | (pl.col("column") == ""))
    if cell_issues.height:
        found.append(as_issues(cell_issues.with_columns(
            pl.col("column").replace(mapping.columns),
            pl.lit(identifiers.ERROR).alias("severity"))))
    prefixes = identifiers.known_kecamatan_prefixes()
    if "nik" in typed.columns:
        found.append(as_issues(identifiers.nik_findings(typed, prefixes)))
    if "kk_number" in typed.columns:
        found.append(as_issues(identifiers.kk_findings(typed, prefixes)))
    villages = villages_in_region(typed, job)
    found.append(required_and_scope(typed, villages))
    found.append(registered_elsewhere(typed, job, outcome))
    found.append(duplicates_in_file(typed))
    found.append(without_nik(typed, outcome))
    found.append(probable_duplicates(typed, villages, outcome.known_without_nik))
    all_issues = without_repeats(pl.concat(found))
    # The row number the user sees, carried beside every row and issue.
    typed = typed.with_columns(table.lines.gather(typed.get_column("__row")).cast(pl.Int64)
                               .alias("__line"))
    if job.on_error != "block":  # blocked, no family is added at all
        all_issues = pl.concat([all_issues, families_without_head(typed, all_issues, outcome)])
    return typed, all_issues, outcome


def read_file(job: ImportJob, *, opensid: bool) -> readers.Table:
    """The job's file as the import reads it (the report reads it again the
    same way, so its rows are the rows the issues point at): the data sheet
    and header row found by their known headers (columns.header_score)."""
    return readers.read_table(Path(job.file_path), file_name=job.file_name, opensid=opensid,
                              header_score=columns.header_score)


def _missing_columns_message(job: ImportJob, fmt: str, missing: list[str]) -> str:
    names = ", ".join(f"'{columns.header_of(c, fmt)}'" for c in missing)
    if fmt == "opensid":
        return _("File '%(file)s' lacks the required columns %(cols)s, which every OpenSID "
                 "penduduk export has. Export the residents from OpenSID again and upload "
                 "that file with its header row as OpenSID wrote it.") % {
            "file": job.file_name, "cols": names}
    return _("File '%(file)s' lacks the required columns %(cols)s. Add them with these "
             "headers in the header row (the 'Petunjuk' sheet of the Sinergi template lists "
             "every column), or choose the file's format if it was detected wrongly.") % {
        "file": job.file_name, "cols": names}


def _next_id(model) -> int:
    """First free id; the caller holds the write lock (SQLite IMMEDIATE, PG below)."""
    table = connection.ops.quote_name(model._meta.db_table)
    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            cur.execute(f"LOCK TABLE {table} IN SHARE ROW EXCLUSIVE MODE")
    with connection.cursor() as cur:
        cur.execute(f"SELECT COALESCE(MAX(id), 0) + 1 FROM {table}")  # noqa: S608
        return cur.fetchone()[0]


def _fix_sequence(model) -> None:
    """After inserts with explicit ids, move PostgreSQL's sequence past them."""
    if connection.vendor != "postgresql":
        return
    table = model._meta.db_table
    sql = (f"SELECT setval(pg_get_serial_sequence(%s, 'id'), "  # noqa: S608 (model table name)
           f"(SELECT COALESCE(MAX(id), 1) FROM {connection.ops.quote_name(table)}))")
    with connection.cursor() as cur:
        cur.execute(sql, [table])


def _stamps(now) -> list[pl.Expr]:
    """created_at / updated_at of bulk-written registry rows. PostgreSQL
    stamps them itself (the columns' database default, see Traced): parsing
    two timestamps per row would cost its COPY a third of its time. SQLite
    gets ``now`` as a literal in the statement (see core.bulk), which costs
    nothing per row, where a default would run a function per row."""
    if connection.vendor == "postgresql":
        return []
    value = connection.ops.adapt_datetimefield_value(now)
    text = value if isinstance(value, str) else now.isoformat()
    return [pl.lit(text).alias("created_at"), pl.lit(text).alias("updated_at")]


def write(job: ImportJob, typed: pl.DataFrame, issues: pl.DataFrame, outcome: Outcome,
          progress: Callable[[str, int], None]) -> Outcome:
    """Write accepted rows, issues and proposed changes in one transaction.

    In block mode (``on_error="block"``) a file with any rejected row writes
    no row: the job ends failed, with its issues kept for the report."""
    errors = issues.filter(pl.col("severity") == identifiers.ERROR)
    rejected = errors.get_column("__row").unique()
    warned = issues.filter(pl.col("severity") == identifiers.WARNING).get_column(
        "__row").unique()
    outcome.rows_rejected = rejected.len()
    blocked = job.on_error == "block" and outcome.rows_rejected > 0
    accepted = typed.filter(~pl.col("__row").is_in(rejected.implode()))
    if blocked:
        accepted = accepted.clear()
    outcome.blocked = blocked
    outcome.rows_accepted = accepted.height
    outcome.rows_warned = warned.filter(~warned.is_in(rejected.implode())).len()

    now = timezone.now()
    issues = issues.join(typed.select("__row", "__line"), on="__row", how="left")
    progress(_("writing to the registry"), 70)
    with checkpoint_after(), staging(), transaction.atomic():
        if accepted.height:
            _write_rows(job, accepted, issues, outcome, now)
            data_changes.changed(data_changes.REGISTRY,
                                 accepted.get_column("village_code").unique().to_list())
        _write_issues(job, issues, outcome)
        audit_record(
            actor=job.created_by, action="import.persons", obj=job,
            after={"rows": outcome.rows_total, "accepted": outcome.rows_accepted,
                   "rejected": outcome.rows_rejected, "persons_added": outcome.persons_added,
                   "households_added": outcome.households_added,
                   "changes_proposed": outcome.changes_proposed, "blocked": blocked},
        )
        ImportJob.objects.filter(pk=job.pk).update(
            status=FAILED if blocked else REVIEW if outcome.changes_proposed else DONE,
            phase="", progress=100, finished_at=timezone.now(),
            rows_total=outcome.rows_total, rows_accepted=outcome.rows_accepted,
            rows_rejected=outcome.rows_rejected, rows_warned=outcome.rows_warned,
            persons_added=outcome.persons_added, households_added=outcome.households_added,
            changes_proposed=outcome.changes_proposed,
            unknown_columns=outcome.unknown_columns,
            detected_format=outcome.detected_format,
            message=_blocked_message(outcome) if blocked else "",
        )
    if outcome.persons_added or outcome.households_added:
        analyze(Person._meta.db_table)
        analyze(Household._meta.db_table)
    return outcome


def _blocked_message(outcome: Outcome) -> str:
    return _("Nothing was imported: %(n)d rows have errors and you chose to import only a "
             "file without errors. Download the report, fix the rows and upload again.") % {
        "n": outcome.rows_rejected}


def _write_rows(job, accepted, issues, outcome, now) -> None:
    listed = set(accepted.get_column("nik").drop_nulls().to_list()) \
        if "nik" in accepted.columns and outcome.persons_in_region else set()
    existing = {nik: pk for nik, pk in outcome.persons_in_region.items() if nik in listed}
    known = outcome.known_without_nik
    if existing or known:
        by_nik = pl.col("nik").replace_strict(existing, default=None, return_dtype=pl.Int64) \
            if existing else pl.lit(None, pl.Int64)
        by_row = pl.col("__row").replace_strict(known, default=None, return_dtype=pl.Int64) \
            if known else pl.lit(None, pl.Int64)
        marked = accepted.with_columns(pl.coalesce(by_nik, by_row).alias("__pid"))
        is_existing = pl.col("__pid").is_not_null()
        new_rows = marked.filter(~is_existing).drop("__pid")
        old_rows = marked.filter(is_existing)
    else:
        new_rows, old_rows = accepted, accepted.clear()

    # Families: one per KK number among new rows; head row (SHDK 1) gives the address.
    family_cols = [c for c in ("kk_number", "village_code", "dusun", "rw", "rt", "address",
                               "desil", "in_dtsen", "__row", "__line") if c in new_rows.columns]
    families = new_rows.select(
        *family_cols, (column_or_null(new_rows, "shdk", pl.Int16) != codes.SHDK_HEAD)
        .fill_null(True).alias("__not_head"),
    ).sort(["kk_number", "__not_head", "__row"]).unique(
        subset=["kk_number"], keep="first", maintain_order=True)
    family_kks = set(families.get_column("kk_number").to_list()) \
        if outcome.families_in_region else set()
    known_kk = {kk: pk for kk, pk in outcome.families_in_region.items() if kk in family_kks}
    new_families = families.filter(~pl.col("kk_number").is_in(pl.Series(list(known_kk),
                                                             dtype=pl.String).implode()))
    first_hh = _next_id(Household)
    new_families = new_families.with_row_index("hid", offset=first_hh)
    hh_ids = pl.concat([
        pl.DataFrame({"kk_number": list(known_kk), "hid": list(known_kk.values())},
                     schema={"kk_number": pl.String, "hid": pl.Int64}),
        new_families.select("kk_number", pl.col("hid").cast(pl.Int64)),
    ])
    hh = new_families.select(
        pl.col("hid").alias("id"), "kk_number", "village_code",
        column_or_null(new_families, "dusun").fill_null(""),
        column_or_null(new_families, "rw").fill_null(""),
        column_or_null(new_families, "rt").fill_null(""),
        column_or_null(new_families, "address").fill_null(""),
        column_or_null(new_families, "desil", pl.Int16),
        pl.when(column_or_null(new_families, "desil", pl.Int16).is_not_null())
        .then(pl.lit(job.file_name[:60])).otherwise(pl.lit("")).alias("desil_source"),
        pl.when(column_or_null(new_families, "desil", pl.Int16).is_not_null())
        .then(pl.lit(now.date())).otherwise(pl.lit(None, pl.Date)).alias("desil_as_of"),
        column_or_null(new_families, "in_dtsen", pl.Boolean).fill_null(False),
        pl.lit(True).alias("is_active"), pl.lit(job.pk).alias("import_job_id"),
        pl.col("__line").alias("import_line"), *_stamps(now),
    ).with_columns(pl.col("desil_as_of").cast(pl.String))

    # SQLite holds one lock on the whole database for the job, so the persons'
    # frame is made first and its scratch files written while the families
    # are copied. PostgreSQL locks table by table: the persons' ids are taken
    # (locking their table) only once the families are in, as a transaction
    # that reads families and then writes a person would lock them.
    rows = _person_rows(job, new_rows, issues, hh_ids, now) if connection.vendor == "sqlite" \
        else None
    stage_ahead(hh, rows)
    _insert(Household, hh)
    if rows is None:
        rows = _person_rows(job, new_rows, issues, hh_ids, now)
    _insert(Person, rows)
    outcome.households_added = hh.height
    outcome.persons_added = rows.height

    if old_rows.height:
        outcome.changes_proposed += verivali.propose_changes(job, old_rows)
    if job.complete_list:
        listed_ids = set(old_rows.get_column("__pid").to_list()) if old_rows.height else set()
        outcome.changes_proposed += verivali.propose_absent(job, accepted, listed_ids)


def _insert(model, frame: pl.DataFrame) -> None:
    if frame.height:
        with rebuilt_indexes(model._meta.db_table, frame.height):
            bulk_insert_frame(model._meta.db_table, frame)
        _fix_sequence(model)


def _person_rows(job, new_rows: pl.DataFrame, issues: pl.DataFrame, hh_ids: pl.DataFrame,
                 now) -> pl.DataFrame:
    """New persons with ids allocated here, in the file's order, and their
    family's id and warning codes."""
    warnings = (issues.filter(pl.col("severity") == identifiers.WARNING)
                .group_by("__row").agg(pl.col("code").unique().sort().alias("codes")))
    first_person = _next_id(Person)
    persons = (new_rows.join(warnings, on="__row", how="left", maintain_order="left")
               .with_row_index("pid", offset=first_person)
               .join(hh_ids, on="kk_number", how="left", maintain_order="left"))
    persons = persons.with_columns(
        pl.col("codes").list.join(",").fill_null("").alias("warn_codes")
        if warnings.height else pl.lit("").alias("warn_codes"),
    )
    person_cols = ["nik", "name", "sex", "birth_place", "birth_date", "shdk",
                   "religion", "marital_status", "education", "occupation", "disability",
                   "has_birth_certificate", "has_kia", "has_ktp_el", "health_insurance",
                   "kb_method", "monthly_income"]
    return persons.select(
        pl.col("pid").alias("id"),
        *[column_or_null(persons, c) for c in person_cols],
        pl.col("hid").alias("household_id"), "village_code",
        column_or_null(persons, "life_status", pl.Int16).fill_null(codes.ALIVE)
        .alias("life_status"),
        pl.col("warn_codes").alias("warning_codes"),
        pl.lit(job.pk).alias("import_job_id"), pl.col("__line").alias("import_line"),
        *_stamps(now),
    ).with_columns(pl.col("birth_place").fill_null(""), pl.col("birth_date").cast(pl.String))


def _write_issues(job, issues: pl.DataFrame, outcome: Outcome) -> None:
    """The issues, each under the file's own header for its column and with
    its message (translated once per code, not per issue row)."""
    if not issues.height:
        return
    fmt = outcome.detected_format
    messages = (_registry_messages(), identifiers.messages(), normalize.issue_messages(fmt))
    shown = {c: columns.header_of(c, fmt, outcome.headers) if c else ""
             for c in issues.get_column("column").unique().to_list()}
    rows = issues.sort(["__row", "column"]).select(
        "__line", "column", "value", "code", "severity", "arg").iter_rows()
    bulk_insert(
        ImportIssue._meta.db_table,
        ["job_id", "line", "column", "value", "code", "severity", "message"],
        ((job.pk, line, shown[col][:100], (val or "")[:200], code, sev,
          issue_text(code, col or "", val, *messages, header=shown[col], arg=arg))
         for line, col, val, code, sev, arg in rows),
    )


def _registry_messages() -> dict[str, str]:
    """Messages of the checks in checks.py, with ``%(v)s`` (the value),
    ``%(column)s`` (the file's header) and ``%(arg)s`` (see checks.ISSUE_COLUMNS)."""
    return {
        "name_missing": _("'%(column)s' is empty. Fill in the full name as on the family "
                          "card (KK)."),
        "sex_missing": _("'%(column)s' is empty. Fill in L (male) or P (female)."),
        "village_missing": _("'%(column)s' is empty. Fill in the 10-digit Kemendagri "
                             "village code, or choose the village when uploading."),
        "village_out_of_scope": _("Village '%(v)s' does not exist or is outside the region "
                                  "you may import into. Check the code or ask a "
                                  "coordinator."),
        "nik_registered_elsewhere": _(
            "NIK '%(v)s' is already registered in another region. Ask that region's "
            "operator or a coordinator to move the person; this row was not imported."),
        "kk_registered_elsewhere": _(
            "KK number '%(v)s' is already registered in another region. Ask that region's "
            "operator or a coordinator to move the family; this row was not imported."),
        "nik_duplicate_in_file": _("NIK '%(v)s' appears more than once in the file; only its "
                                   "first row was taken. Remove the repeated row."),
        "probable_duplicate": _("'%(v)s' has the same name, birth date and village as "
                                "another person under a different NIK. Check whether it is "
                                "one person registered twice."),
        "nik_missing": _(
            "'%(column)s' is empty: the person was imported without a NIK. Fill in the "
            "16-digit NIK from the family card (KK) when the person has one; until then, "
            "importing the list again recognises the person by name and birth date within "
            "family KK '%(arg)s'."),
        "nik_missing_known": _(
            "'%(column)s' is empty, and a person of the same name and birth date without a "
            "NIK is already registered in family KK '%(arg)s': the row was taken as that "
            "person and not added again (differences are proposed for review). Fill in the "
            "NIK from the family card (KK) when the person has one."),
        "nik_missing_duplicate_in_file": _(
            "'%(v)s' appears more than once in family KK '%(arg)s' with the same birth date "
            "and no NIK; only the first row was taken. Remove the repeated row, or fill in "
            "each person's NIK if they are different people."),
        "family_head_rejected": _(
            "Family KK '%(v)s' has no head: row %(arg)s (the head) was rejected, so the "
            "family was added without its head. Fix that row and upload it again."),
    }


def issue_text(code: str, column: str, value: str | None,
               registry: dict[str, str] | None = None,
               identifier_messages: dict[str, str] | None = None,
               cell_messages: dict[str, str] | None = None, *,
               header: str | None = None, arg: str | None = None) -> str:
    """The message for any issue code, whichever layer found it (the message
    tables, when given, are those of each layer, translated beforehand).
    ``header`` names the column as the file does; ``arg`` is the issue's
    second value (see checks.ISSUE_COLUMNS)."""
    v = value or ""
    registry = registry if registry is not None else _registry_messages()
    if code in registry:
        shown = header if header is not None else columns.header_of(column, "")
        return registry[code] % {"v": v, "column": shown, "arg": arg or ""}
    if code in identifiers.CODES:
        return identifiers.message_for(code, value, identifier_messages)
    return normalize.issue_message(code, column=column, value=value, templates=cell_messages,
                                   header=header)
