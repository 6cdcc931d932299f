"""The registry import pipeline: read, map, normalise, validate, de-duplicate, write.

Everything before the write works on whole columns with polars; the write
is one transaction of set-at-a-time inserts (COPY on PostgreSQL), so a
failure or a kill leaves the registry as it was. Rows that are accepted
land whole: person, family and membership together.

Existing persons (same NIK) are never overwritten here: their differences
become ProposedChange rows (verivali.py) that a person reviews and applies
(services.import_job_apply), which is what a verivali round is.
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from sinergi.core.audit import audit_record
from sinergi.core.bulk import (
    analyze,
    bulk_insert,
    bulk_insert_frame,
    checkpoint_after,
    rebuilt_indexes,
    rows_where_in,
    stage_ahead,
    staging,
)
from sinergi.core.errors import DataFileError
from sinergi.regions import codes as region_codes
from sinergi.regions.models import Region
from sinergi.registry import codes, identifiers
from sinergi.registry.models import Household, Person

from . import columns, normalize, readers, verivali
from .models import DONE, REVIEW, ImportIssue, ImportJob

log = logging.getLogger(__name__)

ISSUE_COLUMNS = {"__row": pl.UInt32, "column": pl.String, "value": pl.String,
                 "code": pl.String, "severity": pl.String}



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
    # NIK -> person id and KK number -> family id of the file's numbers
    # already registered inside the job's region (outside it, the rows are
    # refused), found while checking and used by the write.
    persons_in_region: dict[str, int] = field(default_factory=dict, repr=False)
    families_in_region: dict[str, int] = field(default_factory=dict, repr=False)


def _issues(frame: pl.DataFrame) -> pl.DataFrame:
    """Coerce a findings frame to the issue schema."""
    return frame.select([pl.col(c).cast(t) for c, t in ISSUE_COLUMNS.items()])


def _empty_issues() -> pl.DataFrame:
    return pl.DataFrame(schema=ISSUE_COLUMNS)


def _simple_issue(frame: pl.DataFrame, mask: pl.Expr, column: str, code: str,
                  severity: str = identifiers.ERROR) -> pl.DataFrame:
    value = pl.col(column).cast(pl.String) if column in frame.columns else pl.lit(None,
                                                                                  pl.String)
    return _issues(frame.filter(mask).select(
        pl.col("__row"), pl.lit(column).alias("column"), value.alias("value"),
        pl.lit(code).alias("code"), pl.lit(severity).alias("severity")))


def read_and_validate(job: ImportJob, progress: Callable[[str, int], None]) -> tuple[
        pl.DataFrame, pl.DataFrame, Outcome]:
    """Parse and check the whole file. Returns (typed rows, issues, outcome).

    ``typed`` carries ``__row`` (position in the file's data) and ``__line``
    (the row number the user sees); issues point at ``__row``.
    """
    outcome = Outcome()
    opensid_hint = job.file_format == "opensid"
    progress(_("reading the file"), 5)
    table = readers.read_table(Path(job.file_path), file_name=job.file_name,
                               opensid=opensid_hint)
    headers = table.df.columns
    fmt = job.file_format if job.file_format != "auto" else columns.detect_format(headers)
    if fmt == "opensid" and not opensid_hint:
        table = readers.read_table(Path(job.file_path), file_name=job.file_name, opensid=True)
        headers = table.df.columns
    outcome.detected_format = fmt
    mapping = columns.map_columns(headers, fmt)
    outcome.unknown_columns = mapping.unknown
    if mapping.missing_required:
        raise DataFileError(
            _("%(file)s lacks the required columns: %(cols)s. Add them (see the template's "
              "instructions sheet) or choose the right format.")
            % {"file": job.file_name, "cols": ", ".join(mapping.missing_required)})
    if fmt == "opensid" and not job.village_code:
        raise DataFileError(_("An OpenSID file holds no region code: choose the village "
                              "the file belongs to."))
    df = table.df.select([pl.col(h).alias(c) for h, c in mapping.columns.items()])
    df = df.with_row_index("__row").with_columns(pl.col("__row").cast(pl.UInt32))
    outcome.rows_total = df.height
    progress(_("checking %(n)d rows") % {"n": df.height}, 20)
    typed, issues = normalize.normalize(df, fmt=fmt, default_village=job.village_code or None)
    found = [_issues(issues)]
    # Cell problems the reader saw (formulas, numbers that lost digits).
    # Cell problems in columns that are not imported do not reject a row.
    cell_issues = table.issues.filter(
        pl.col("column").is_in(list(mapping.columns)) | (pl.col("column") == ""))
    if cell_issues.height:
        found.append(_issues(cell_issues.with_columns(
            pl.col("column").replace(mapping.columns),
            pl.lit(identifiers.ERROR).alias("severity"))))
    prefixes = identifiers.known_kecamatan_prefixes()
    if "nik" in typed.columns:
        found.append(_issues(identifiers.nik_findings(typed, prefixes)))
    if "kk_number" in typed.columns:
        found.append(_issues(identifiers.kk_findings(typed, prefixes)))
    villages = _villages_in_region(typed, job)
    found.append(_required_and_scope(typed, villages))
    found.append(_registered_elsewhere(typed, job, outcome))
    found.append(_duplicates_in_file(typed))
    found.append(_probable_duplicates(typed, villages))
    all_issues = pl.concat(found)
    # The row number the user sees, carried beside every row and issue.
    typed = typed.with_columns(table.lines.gather(typed.get_column("__row")).cast(pl.Int64)
                               .alias("__line"))
    return typed, all_issues, outcome


def _villages_in_region(typed: pl.DataFrame, job: ImportJob) -> set[str]:
    """The file's village codes that exist (current edition) inside the job's region."""
    if "village_code" not in typed.columns:
        return set()
    villages = typed.get_column("village_code").drop_nulls().unique().to_list()
    if not villages:
        return set()
    return set(
        Region.objects.filter(code__in=villages, level=4, retired_in="")
        .filter(region_codes.subtree_q("code", job.region_code))
        .values_list("code", flat=True))


def _required_and_scope(typed: pl.DataFrame, villages: set[str]) -> pl.DataFrame:
    """Fields every row needs, and villages that exist inside the job's region."""
    frames = []
    for column, code in (("name", "name_missing"), ("sex", "sex_missing"),
                         ("village_code", "village_missing")):
        if column in typed.columns:
            frames.append(_simple_issue(typed, pl.col(column).is_null(), column, code))
        else:
            frames.append(_simple_issue(typed, pl.lit(True), column, code))
    if "village_code" in typed.columns:
        outside = pl.col("village_code").is_not_null() & ~pl.col("village_code").is_in(
            pl.Series(sorted(villages), dtype=pl.String).implode())
        frames.append(_simple_issue(typed, outside, "village_code", "village_out_of_scope"))
    return pl.concat(frames) if frames else _empty_issues()


def _registered_elsewhere(typed: pl.DataFrame, job: ImportJob, outcome: Outcome) -> pl.DataFrame:
    """NIK and KK numbers already registered outside the job's region.

    A person or a family belongs to one region; moving it out of there is
    that region's operator's or a coordinator's decision (the move form), so
    such a row is refused, and nothing of the other record is shown: the
    message says only that the number is registered elsewhere. Numbers
    registered inside the region are kept for the write (``outcome``).
    """
    frames = []
    for column, model, code, target in (
            ("nik", Person, "nik_registered_elsewhere", "persons_in_region"),
            ("kk_number", Household, "kk_registered_elsewhere", "families_in_region")):
        if column not in typed.columns:
            continue
        inside, outside = _registered(model, column, typed.get_column(column).drop_nulls()
                                      .unique(), job.region_code)
        setattr(outcome, target, inside)
        if outside:
            frames.append(_simple_issue(typed, pl.col(column).is_in(
                pl.Series(sorted(outside), dtype=pl.String).implode()).fill_null(False),
                column, code))
    return pl.concat(frames) if frames else _empty_issues()


def _duplicates_in_file(typed: pl.DataFrame) -> pl.DataFrame:
    """The same NIK twice in one file: the first row stands, later ones are errors."""
    if "nik" not in typed.columns:
        return _empty_issues()
    later = (typed.lazy().select("__row", "nik")
             .filter(pl.col("nik").is_not_null() & pl.col("nik").is_duplicated())
             .filter(pl.col("__row") != pl.col("__row").min().over("nik")).collect())
    if later.is_empty():
        return _empty_issues()
    return _simple_issue(later, pl.lit(True), "nik", "nik_duplicate_in_file")


def _probable_duplicates(typed: pl.DataFrame, villages: set[str]) -> pl.DataFrame:
    """Same name, birth date and village under another NIK: a warning, since it
    may be one person typed twice (or registered twice), or namesakes. Only
    ``villages`` (those inside the job's region) are compared with the
    registry: the names of other regions are not the uploader's to see."""
    needed = {"name", "birth_date", "village_code"}
    if not needed <= set(typed.columns):
        return _empty_issues()
    nik = _col(typed, "nik")
    keyed = typed.select("__row", pl.col("village_code"),
                         pl.col("name").str.to_uppercase().alias("key_name"),
                         pl.col("birth_date"), nik.alias("nik")).drop_nulls(
        ["village_code", "key_name", "birth_date"])
    keys = ["village_code", "key_name", "birth_date"]
    in_file = keyed.filter(
        (pl.col("nik").n_unique().over(keys) > 1)
        & (pl.col("__row") != pl.col("__row").min().over(keys)))
    villages = sorted(villages & set(keyed.get_column("village_code").unique().to_list()))
    existing = pl.DataFrame(
        list(Person.objects.filter(village_code__in=villages)
             .values_list("village_code", "name", "birth_date", "nik")
             .iterator(chunk_size=20000)) if villages else [],
        schema={"village_code": pl.String, "key_name": pl.String,
                "birth_date": pl.Date, "other_nik": pl.String}, orient="row",
    ).with_columns(pl.col("key_name").str.to_uppercase())
    in_registry = keyed.join(existing, on=keys, how="inner").filter(
        pl.col("other_nik").is_null() | pl.col("nik").is_null()
        | (pl.col("other_nik") != pl.col("nik")))
    rows = pl.concat([in_file.select("__row"), in_registry.select("__row")]).unique()
    hits = typed.select("__row", "name").join(rows, on="__row", how="semi")
    return _simple_issue(hits, pl.lit(True), "name", "probable_duplicate",
                         identifiers.WARNING)


def _registered(model, column: str, series: pl.Series, region: str) -> tuple[
        dict[str, int], set[str]]:
    """The values of ``series`` already in ``model``'s unique ``column``:
    value -> id of those whose village is inside ``region``, and the set of
    those outside it.

    Raw batched IN queries on the unique index: the ORM's query building
    costs more than the lookups themselves at a million values.
    """
    inside: dict[str, int] = {}
    outside: set[str] = set()
    if series.is_empty() or not model.objects.exists():
        return inside, outside
    values = series.to_list()
    table = connection.ops.quote_name(model._meta.db_table)
    col = connection.ops.quote_name(column)
    query = f"SELECT {col}, id, village_code FROM {table} WHERE {col}"  # noqa: S608
    for value, pk, village in rows_where_in(query, values):
        if region_codes.code_in_subtree(village, region):
            inside[value] = pk
        else:
            outside.add(value)
    return inside, outside


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


def _col(df: pl.DataFrame, name: str, dtype=pl.String) -> pl.Expr:
    return pl.col(name) if name in df.columns else pl.lit(None, dtype=dtype).alias(name)


def write(job: ImportJob, typed: pl.DataFrame, issues: pl.DataFrame, outcome: Outcome,
          progress: Callable[[str, int], None]) -> Outcome:
    """Write accepted rows, issues and proposed changes in one transaction."""
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
        _write_issues(job, issues)
        audit_record(
            actor=job.created_by, action="import.persons", obj=job,
            after={"rows": outcome.rows_total, "accepted": outcome.rows_accepted,
                   "rejected": outcome.rows_rejected, "persons_added": outcome.persons_added,
                   "households_added": outcome.households_added,
                   "changes_proposed": outcome.changes_proposed, "blocked": blocked},
        )
        ImportJob.objects.filter(pk=job.pk).update(
            status=REVIEW if outcome.changes_proposed else DONE,
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
    if existing:
        is_existing = pl.col("nik").is_in(pl.Series(list(existing), dtype=pl.String)
                                          .implode()).fill_null(False)
        new_rows, old_rows = accepted.filter(~is_existing), accepted.filter(is_existing)
    else:
        new_rows, old_rows = accepted, accepted.clear()

    # Families: one per KK number among new rows; head row (SHDK 1) gives the address.
    family_cols = [c for c in ("kk_number", "village_code", "dusun", "rw", "rt", "address",
                               "desil", "in_dtsen", "__row", "__line") if c in new_rows.columns]
    families = new_rows.select(
        *family_cols, (_col(new_rows, "shdk", pl.Int16) != codes.SHDK_HEAD).fill_null(True)
        .alias("__not_head"),
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
        _col(new_families, "dusun").fill_null(""), _col(new_families, "rw").fill_null(""),
        _col(new_families, "rt").fill_null(""), _col(new_families, "address").fill_null(""),
        _col(new_families, "desil", pl.Int16),
        pl.when(_col(new_families, "desil", pl.Int16).is_not_null())
        .then(pl.lit(job.file_name[:60])).otherwise(pl.lit("")).alias("desil_source"),
        pl.when(_col(new_families, "desil", pl.Int16).is_not_null())
        .then(pl.lit(now.date())).otherwise(pl.lit(None, pl.Date)).alias("desil_as_of"),
        _col(new_families, "in_dtsen", pl.Boolean).fill_null(False),
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
        outcome.changes_proposed += verivali.propose_changes(job, old_rows, existing)
    if job.complete_list:
        outcome.changes_proposed += verivali.propose_absent(job, accepted)


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
        *[_col(persons, c) for c in person_cols],
        pl.col("hid").alias("household_id"), "village_code",
        _col(persons, "life_status", pl.Int16).fill_null(codes.ALIVE).alias("life_status"),
        pl.col("warn_codes").alias("warning_codes"),
        pl.lit(job.pk).alias("import_job_id"), pl.col("__line").alias("import_line"),
        *_stamps(now),
    ).with_columns(pl.col("birth_place").fill_null(""), pl.col("birth_date").cast(pl.String))


def _write_issues(job, issues: pl.DataFrame) -> None:
    if not issues.height:
        return
    # Translated once, not per issue row.
    messages = (_registry_messages(), identifiers.messages(), normalize.issue_messages())
    rows = issues.sort(["__row", "column"]).select(
        "__line", "column", "value", "code", "severity").iter_rows()
    bulk_insert(
        ImportIssue._meta.db_table,
        ["job_id", "line", "column", "value", "code", "severity", "message"],
        ((job.pk, line, col or "", (val or "")[:200], code, sev,
          issue_text(code, col or "", val, *messages))
         for line, col, val, code, sev in rows),
    )


def _registry_messages() -> dict[str, str]:
    return {
        "name_missing": _("The name is empty. Fill in the full name as on the KK."),
        "sex_missing": _("The sex is empty. Fill in L (male) or P (female)."),
        "village_missing": _("No village code. Fill in the 10-digit Kemendagri village code "
                             "or choose the village when uploading."),
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
    }


def issue_text(code: str, column: str, value: str | None,
               registry: dict[str, str] | None = None,
               identifier_messages: dict[str, str] | None = None,
               cell_messages: dict[str, str] | None = None) -> str:
    """The message for any issue code, whichever layer found it (the message
    tables, when given, are those of each layer, translated beforehand)."""
    v = value or ""
    registry = registry if registry is not None else _registry_messages()
    if code in registry:
        return registry[code] % {"v": v} if "%(v)s" in registry[code] else registry[code]
    if code in identifiers.CODES:
        return identifiers.message_for(code, value, identifier_messages)
    return normalize.issue_message(code, column=column, value=value, templates=cell_messages)
