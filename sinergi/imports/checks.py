"""The checks of an import's typed rows against the file itself and the registry.

Fields every row needs and the job's region, numbers registered outside the
region, a NIK twice in the file, persons without a NIK (``without_nik``),
new families whose head's row was rejected, and probable duplicates. Each
check returns issues (ISSUE_COLUMNS) that point at a row and at a column by
canonical name; pipeline.py runs the checks and writes their issues.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import polars as pl
from django.db import connection

from sinergi.core.bulk import rows_where_in
from sinergi.regions import codes as region_codes
from sinergi.regions.models import Region
from sinergi.registry import codes, identifiers
from sinergi.registry.models import Household, Person

from . import verivali
from .models import ImportJob

if TYPE_CHECKING:
    from .pipeline import Outcome

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


def as_issues(frame: pl.DataFrame) -> pl.DataFrame:
    """Coerce a findings frame to the issue schema."""
    return frame.select([(pl.col(c) if c in frame.columns else pl.lit(None)).cast(t).alias(c)
                         for c, t in ISSUE_COLUMNS.items()])


def _empty_issues() -> pl.DataFrame:
    return pl.DataFrame(schema=ISSUE_COLUMNS)


def _simple_issue(frame: pl.DataFrame, mask: pl.Expr, column: str, code: str,
                  severity: str = identifiers.ERROR) -> pl.DataFrame:
    value = pl.col(column).cast(pl.String) if column in frame.columns else pl.lit(None,
                                                                                  pl.String)
    return as_issues(frame.filter(mask).select(
        pl.col("__row"), pl.lit(column).alias("column"), value.alias("value"),
        pl.lit(code).alias("code"), pl.lit(severity).alias("severity")))


def column_or_null(df: pl.DataFrame, name: str, dtype=pl.String) -> pl.Expr:
    return pl.col(name) if name in df.columns else pl.lit(None, dtype=dtype).alias(name)


def without_repeats(issues: pl.DataFrame) -> pl.DataFrame:
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


def villages_in_region(typed: pl.DataFrame, job: ImportJob) -> set[str]:
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


def required_and_scope(typed: pl.DataFrame, villages: set[str]) -> pl.DataFrame:
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


def registered_elsewhere(typed: pl.DataFrame, job: ImportJob, outcome: Outcome) -> pl.DataFrame:
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


def duplicates_in_file(typed: pl.DataFrame) -> pl.DataFrame:
    """The same NIK twice in one file: the first row stands, later ones are errors."""
    if "nik" not in typed.columns:
        return _empty_issues()
    later = (typed.lazy().select("__row", "nik")
             .filter(pl.col("nik").is_not_null() & pl.col("nik").is_duplicated())
             .filter(pl.col("__row") != pl.col("__row").min().over("nik")).collect())
    if later.is_empty():
        return _empty_issues()
    return _simple_issue(later, pl.lit(True), "nik", "nik_duplicate_in_file")


def without_nik(typed: pl.DataFrame, outcome: Outcome) -> pl.DataFrame:
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
    (``probable_duplicates`` still flags one in the same village). A row
    that gives a NIK for a person registered without one is a new person
    with a probable-duplicate warning: which of the two is right is the
    operator's call.
    """
    if "nik" not in typed.columns:
        return _empty_issues()
    nikless = typed.filter(pl.col("nik").is_null()).select(
        "__row", column_or_null(typed, "kk_number").alias("kk_number"),
        verivali.name_key(column_or_null(typed, "name")).alias("key_name"),
        column_or_null(typed, "birth_date", pl.Date).alias("birth_date"))
    if nikless.is_empty():
        return _empty_issues()
    keys = ["kk_number", "key_name", "birth_date"]
    comparable = nikless.filter(pl.col("kk_number").is_not_null()
                                & pl.col("key_name").is_not_null())
    repeated = comparable.filter(pl.col("__row") != pl.col("__row").min().over(keys))
    first = comparable.join(repeated, on="__row", how="anti")
    known = verivali.known_without_nik(first, outcome.families_in_region)
    outcome.known_without_nik = dict(known.iter_rows())
    repeats = as_issues(repeated.join(typed.select("__row", "name"), on="__row").select(
        "__row", pl.lit("name").alias("column"), pl.col("name").alias("value"),
        pl.lit("nik_missing_duplicate_in_file").alias("code"),
        pl.lit(identifiers.ERROR).alias("severity"), pl.col("kk_number").alias("arg")))
    is_known = pl.col("__row").is_in(known.get_column("__row").implode())
    # A row without a KK number is refused for that (kk_missing) anyway.
    warned = nikless.filter(pl.col("kk_number").is_not_null())
    warnings = as_issues(warned.join(repeated, on="__row", how="anti").select(
        "__row", pl.lit("nik").alias("column"), pl.lit(None, pl.String).alias("value"),
        pl.when(is_known).then(pl.lit("nik_missing_known")).otherwise(pl.lit("nik_missing"))
        .alias("code"), pl.lit(identifiers.WARNING).alias("severity"),
        pl.col("kk_number").alias("arg")))
    return pl.concat([repeats, warnings])


def families_without_head(typed: pl.DataFrame, issues: pl.DataFrame,
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
    return as_issues(hits.select(
        "__row", pl.lit("kk_number").alias("column"), pl.col("kk_number").alias("value"),
        pl.lit("family_head_rejected").alias("code"), pl.lit(identifiers.WARNING)
        .alias("severity"), pl.col("head_line").cast(pl.String).alias("arg")))


def probable_duplicates(typed: pl.DataFrame, villages: set[str],
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
    nik = column_or_null(typed, "nik")
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
