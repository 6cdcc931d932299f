"""The registry import pipeline: read, map, normalise, validate, de-duplicate, write.

Everything before the write works on whole columns with polars; the write
is one transaction of set-at-a-time inserts (COPY on PostgreSQL), so a
failure or a kill leaves the registry as it was. Rows that are accepted
land whole: person, family and membership together.

Existing persons (same NIK, or for a person without a NIK the same name
and birth date in the same family: see ``_without_nik``) are never
overwritten here: their differences become ProposedChange rows
(verivali.py) that a person reviews and applies (services.import_job_apply),
which is what a verivali round is.

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
from .models import DONE, FAILED, REVIEW, ImportIssue, ImportJob

log = logging.getLogger(__name__)

# ``arg``: a second value some messages name (the head's row, a KK number).
ISSUE_COLUMNS = {"__row": pl.UInt32, "column": pl.String, "value": pl.String,
                 "code": pl.String, "severity": pl.String, "arg": pl.String}
# Issues that explain everything else wrong with their cell: a number that
# lost digits is also "not 16 digits" or "ends in 0000", which would only
# send the operator after the wrong problem.
ROOT_CODES = ("number_16_digits", "scientific_notation", "formula", "too_long")
# "Empty" findings, which a cell whose value was refused (a sex of "X") also
# triggers once its value is dropped: said only when the cell was empty.
MISSING_CODES = ("name_missing", "sex_missing", "village_missing", "kk_missing",
                 "nik_missing", "nik_missing_known")
# What a NIK says beside its date; meaningless when that date is impossible.
NIK_MISMATCH_CODES = ("nik_birth_mismatch", "nik_sex_mismatch")


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
    # __row -> person id (see _without_nik).
    known_without_nik: dict[int, int] = field(default_factory=dict, repr=False)


def _issues(frame: pl.DataFrame) -> pl.DataFrame:
    """Coerce a findings frame to the issue schema."""
    return frame.select([(pl.col(c) if c in frame.columns else pl.lit(None)).cast(t).alias(c)
                         for c, t in ISSUE_COLUMNS.items()])


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
    found.append(_without_nik(typed, outcome))
    found.append(_probable_duplicates(typed, villages, outcome.known_without_nik))
    all_issues = _without_repeats(pl.concat(found))
    # The row number the user sees, carried beside every row and issue.
    typed = typed.with_columns(table.lines.gather(typed.get_column("__row")).cast(pl.Int64)
                               .alias("__line"))
    if job.on_error != "block":  # blocked, no family is added at all
        all_issues = pl.concat([all_issues, _families_without_head(typed, all_issues, outcome)])
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


def _without_repeats(issues: pl.DataFrame) -> pl.DataFrame:
    """One message per problem: a cell whose value was refused is not also
    reported empty, a cell that lost digits only as that (ROOT_CODES), and a
    NIK with an impossible date not also as disagreeing with the birth date
    or sex columns."""
    if issues.is_empty():
        return issues
    cell = ["__row", "column"]
    code = pl.col("code")
    rooted = code.is_in(ROOT_CODES).any().over(cell)
    explained = (~code.is_in(MISSING_CODES)).any().over(cell)
    bad_nik_date = (code == "nik_date").any().over("__row")
    keep = (pl.when(rooted).then(code.is_in(ROOT_CODES))
            .otherwise(~code.is_in(MISSING_CODES) | ~explained)
            & ~(bad_nik_date & code.is_in(NIK_MISMATCH_CODES)))
    return issues.filter(keep)


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


def _without_nik(typed: pl.DataFrame, outcome: Outcome) -> pl.DataFrame:
    """Persons without a NIK (a newborn waiting for one, a KK copy without
    it, OpenSID's ``0``): accepted, each with a warning, so someone fills in
    the NIK later.

    Without a NIK the registry cannot tell by number a person it already
    has from a new one, so importing the same list again would add them
    twice. What an operator expects is that the same list imported twice
    changes nothing, so within one family (the same KK number) a person
    without a NIK is recognised by name (case and spacing ignored) and birth
    date (two empty dates count as the same):

    - already registered without a NIK in that family (an earlier import of
      the list): the row is that person, not added again; its differences
      are proposed for review like those of a person matched by NIK
      (warning ``nik_missing_known``);
    - more than once in the file: the first row stands and the later ones
      are refused as duplicates (error), as a NIK twice in a file is.

    Never across families: a namesake in another family is another person
    (``_probable_duplicates`` still flags one in the same village). A row
    that gives a NIK for a person registered without one is a new person
    with a probable-duplicate warning: which of the two is right is the
    operator's call.
    """
    if "nik" not in typed.columns:
        return _empty_issues()
    nikless = typed.filter(pl.col("nik").is_null()).select(
        "__row", _col(typed, "kk_number").alias("kk_number"),
        verivali.name_key(_col(typed, "name")).alias("key_name"),
        _col(typed, "birth_date", pl.Date).alias("birth_date"))
    if nikless.is_empty():
        return _empty_issues()
    keys = ["kk_number", "key_name", "birth_date"]
    comparable = nikless.filter(pl.col("kk_number").is_not_null()
                                & pl.col("key_name").is_not_null())
    repeated = comparable.filter(pl.col("__row") != pl.col("__row").min().over(keys))
    first = comparable.join(repeated, on="__row", how="anti")
    known = verivali.known_without_nik(first, outcome.families_in_region)
    outcome.known_without_nik = dict(known.iter_rows())
    repeats = _issues(repeated.join(typed.select("__row", "name"), on="__row").select(
        "__row", pl.lit("name").alias("column"), pl.col("name").alias("value"),
        pl.lit("nik_missing_duplicate_in_file").alias("code"),
        pl.lit(identifiers.ERROR).alias("severity"), pl.col("kk_number").alias("arg")))
    is_known = pl.col("__row").is_in(known.get_column("__row").implode())
    # A row without a KK number is refused for that (kk_missing) anyway.
    warned = nikless.filter(pl.col("kk_number").is_not_null())
    warnings = _issues(warned.join(repeated, on="__row", how="anti").select(
        "__row", pl.lit("nik").alias("column"), pl.lit(None, pl.String).alias("value"),
        pl.when(is_known).then(pl.lit("nik_missing_known")).otherwise(pl.lit("nik_missing"))
        .alias("code"), pl.lit(identifiers.WARNING).alias("severity"),
        pl.col("kk_number").alias("arg")))
    return pl.concat([repeats, warnings])


def _families_without_head(typed: pl.DataFrame, issues: pl.DataFrame,
                           outcome: Outcome) -> pl.DataFrame:
    """A warning on the accepted rows of a new family whose head's row (SHDK
    1) was rejected: the family is added without its head, and the operator
    should know which row to fix. Families already registered keep the
    head they have."""
    if not {"shdk", "kk_number"} <= set(typed.columns):
        return _empty_issues()
    rejected = issues.filter(pl.col("severity") == identifiers.ERROR).get_column("__row")
    known = pl.Series(list(outcome.families_in_region), dtype=pl.String)
    rows = typed.select(
        "__row", "__line", "kk_number",
        (pl.col("shdk") == codes.SHDK_HEAD).fill_null(False).alias("head"),
        pl.col("__row").is_in(rejected.implode()).alias("rejected"),
    ).filter(pl.col("kk_number").is_not_null() & ~pl.col("kk_number").is_in(known.implode()))
    lacking = rows.group_by("kk_number").agg(
        (pl.col("head") & ~pl.col("rejected")).any().alias("has_head"),
        pl.col("__line").filter(pl.col("head") & pl.col("rejected")).min().alias("head_line"),
    ).filter(~pl.col("has_head") & pl.col("head_line").is_not_null())
    if lacking.is_empty():
        return _empty_issues()
    hits = rows.filter(~pl.col("rejected")).join(lacking, on="kk_number", how="inner")
    return _issues(hits.select(
        "__row", pl.lit("kk_number").alias("column"), pl.col("kk_number").alias("value"),
        pl.lit("family_head_rejected").alias("code"), pl.lit(identifiers.WARNING)
        .alias("severity"), pl.col("head_line").cast(pl.String).alias("arg")))


def _probable_duplicates(typed: pl.DataFrame, villages: set[str],
                         known_without_nik: dict[int, int]) -> pl.DataFrame:
    """Same name, birth date and village under another NIK: a warning, since it
    may be one person typed twice (or registered twice), or namesakes. Only
    ``villages`` (those inside the job's region) are compared with the
    registry: the names of other regions are not the uploader's to see. A
    row without a NIK is not compared with the person it was recognised as
    (``known_without_nik``: row -> person id)."""
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
             .values_list("village_code", "name", "birth_date", "nik", "id")
             .iterator(chunk_size=20000)) if villages else [],
        schema={"village_code": pl.String, "key_name": pl.String,
                "birth_date": pl.Date, "other_nik": pl.String, "other_id": pl.Int64},
        orient="row",
    ).with_columns(pl.col("key_name").str.to_uppercase())
    itself = pl.DataFrame({"__row": list(known_without_nik),
                           "__itself": list(known_without_nik.values())},
                          schema={"__row": pl.UInt32, "__itself": pl.Int64})
    in_registry = keyed.join(existing, on=keys, how="inner").join(
        itself, on="__row", how="left").filter(
        (pl.col("other_nik").is_null() | pl.col("nik").is_null()
         | (pl.col("other_nik") != pl.col("nik")))
        & (pl.col("__itself").is_null() | (pl.col("__itself") != pl.col("other_id"))))
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
        *[_col(persons, c) for c in person_cols],
        pl.col("hid").alias("household_id"), "village_code",
        _col(persons, "life_status", pl.Int16).fill_null(codes.ALIVE).alias("life_status"),
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
    """Messages of the checks made here, with ``%(v)s`` (the value),
    ``%(column)s`` (the file's header) and ``%(arg)s`` (see ISSUE_COLUMNS)."""
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
    second value (see ISSUE_COLUMNS)."""
    v = value or ""
    registry = registry if registry is not None else _registry_messages()
    if code in registry:
        shown = header if header is not None else columns.header_of(column, "")
        return registry[code] % {"v": v, "column": shown, "arg": arg or ""}
    if code in identifiers.CODES:
        return identifiers.message_for(code, value, identifier_messages)
    return normalize.issue_message(code, column=column, value=value, templates=cell_messages,
                                   header=header)
