"""Verivali rounds: what a new version of a list would change in the
registry, as ProposedChange rows a person reviews before anything is
applied (services.import_job_apply). Persons are matched by NIK, or, for a
person without one, by name and birth date within the family
(``known_without_nik``); field differences become updates, a different KK
number a move, and, when the file is the complete list of its region,
persons it no longer names become "absent"."""

import polars as pl
from django.db import connection

from sinergi.core.audit import plain
from sinergi.core.bulk import rows_where_in
from sinergi.regions import codes as region_codes
from sinergi.registry import codes
from sinergi.registry.models import Household, Person

from .models import ProposedChange

# Person fields compared between the file and the registry in a verivali round.
PERSON_FIELDS = ["name", "sex", "birth_place", "birth_date", "shdk", "religion",
                 "marital_status", "education", "occupation", "disability",
                 "has_birth_certificate", "has_kia", "has_ktp_el", "health_insurance",
                 "kb_method", "monthly_income", "life_status"]
HOUSEHOLD_FIELDS = ["village_code", "dusun", "rw", "rt", "address", "desil", "in_dtsen"]


def _current_state(ids: list[int]) -> pl.DataFrame:
    """The registry's current values of these persons and their families."""
    person_cols = ["id", "nik", *PERSON_FIELDS]
    select = ", ".join([*(f"p.{connection.ops.quote_name(c)}" for c in person_cols),
                        "h.kk_number",
                        *(f"h.{connection.ops.quote_name(c)}" for c in HOUSEHOLD_FIELDS)])
    names = [*person_cols, "kk_number", *(f"household.{c}" for c in HOUSEHOLD_FIELDS)]
    person_table = connection.ops.quote_name(Person._meta.db_table)
    household_table = connection.ops.quote_name(Household._meta.db_table)
    rows = list(rows_where_in(f"SELECT {select} FROM {person_table} p "  # noqa: S608
                              f"LEFT JOIN {household_table} h ON h.id = p.household_id "
                              "WHERE p.id", ids))
    return pl.DataFrame(rows, schema=names, orient="row", infer_schema_length=None)


def name_key(name: pl.Expr) -> pl.Expr:
    """A name as compared between a file and the registry: case and spacing ignored."""
    return name.str.to_uppercase().str.replace_all(r"\s+", " ").str.strip_chars()


def known_without_nik(rows: pl.DataFrame, families: dict[str, int]) -> pl.DataFrame:
    """The rows without a NIK that are persons already registered without
    one in the same family: ``__row`` -> ``__pid`` (person id).

    ``rows`` has ``__row``, ``kk_number``, ``key_name`` (``name_key``) and
    ``birth_date``; ``families`` maps the file's KK numbers registered in
    the job's region to their family id. Two empty birth dates match; when
    the registry holds the same person twice, the older record is taken.
    """
    empty = pl.DataFrame(schema={"__row": pl.UInt32, "__pid": pl.Int64})
    kks = rows.get_column("kk_number").unique().to_list() if families else []
    family_ids = [families[kk] for kk in kks if kk in families]
    if not family_ids:
        return empty
    found = []
    for start in range(0, len(family_ids), 5000):
        found += Person.objects.filter(
            household_id__in=family_ids[start:start + 5000], nik__isnull=True,
        ).values_list("id", "household_id", "name", "birth_date")
    if not found:
        return empty
    kk_of = {pk: kk for kk, pk in families.items()}
    registered = pl.DataFrame(
        [(pid, kk_of.get(hid), name, born) for pid, hid, name, born in found],
        schema={"__pid": pl.Int64, "kk_number": pl.String, "name": pl.String,
                "birth_date": pl.Date}, orient="row",
    ).select("__pid", "kk_number", name_key(pl.col("name")).alias("key_name"), "birth_date")
    keys = ["kk_number", "key_name", "birth_date"]
    registered = registered.group_by(keys).agg(pl.col("__pid").min())
    return rows.join(registered, on=keys, how="inner", nulls_equal=True).select(
        pl.col("__row").cast(pl.UInt32), "__pid")


def propose_changes(job, old_rows: pl.DataFrame) -> int:
    """Compare listed persons (``old_rows``, with the registered person's id
    in ``__pid``) with the registry, column by column; only the rows that
    differ (or moved to another KK) become ProposedChange rows for review."""
    ids = old_rows.get_column("__pid").unique().to_list()
    current = _current_state(ids).rename(lambda c: f"cur.{c}")
    joined = old_rows.join(current, left_on="__pid", right_on="cur.id", how="inner",
                           coalesce=False)
    compared = [f for f in PERSON_FIELDS if f in joined.columns] + [
        f for f in HOUSEHOLD_FIELDS if f in joined.columns]
    diff_cols = []
    for f in compared:
        cur_name = f"cur.{f}" if f in PERSON_FIELDS else f"cur.household.{f}"
        new_val = pl.col(f)
        cur_val = pl.col(cur_name).cast(joined.schema[f], strict=False)
        diff_cols.append((new_val.is_not_null() & (cur_val.is_null() | (new_val != cur_val)))
                         .fill_null(False).alias(f"diff.{f}"))
    moved = (pl.col("cur.kk_number").is_null()
             | (pl.col("kk_number") != pl.col("cur.kk_number"))).alias("moved")
    flagged = joined.with_columns(*diff_cols, moved)
    any_diff = pl.any_horizontal([pl.col(c.meta.output_name()) for c in diff_cols]) \
        if diff_cols else pl.lit(False)
    changed = flagged.filter(any_diff | pl.col("moved"))
    proposals = []
    for rec in changed.iter_rows(named=True):
        changes = {}
        for f in compared:
            if rec[f"diff.{f}"]:
                key = f if f in PERSON_FIELDS else f"household.{f}"
                changes[key] = [plain(rec[f"cur.{key}"]), plain(rec[f])]
        if rec["moved"]:
            proposals.append(ProposedChange(job=job, person_id=rec["cur.id"], kind="move",
                                            line=rec["__line"], changes=changes,
                                            new_kk_number=rec["kk_number"]))
        else:
            proposals.append(ProposedChange(job=job, person_id=rec["cur.id"], kind="update",
                                            line=rec["__line"], changes=changes))
    ProposedChange.objects.bulk_create(proposals, batch_size=2000)
    return len(proposals)


def propose_absent(job, accepted: pl.DataFrame, listed_ids: set[int] = frozenset()) -> int:
    """Persons alive in the job's region that a complete list no longer
    names: by NIK, or, for a person without one, by the person ids of the
    rows recognised as them (``listed_ids``)."""
    listed = set(accepted.get_column("nik").drop_nulls().to_list()) if "nik" in \
        accepted.columns else set()
    absent = [
        ProposedChange(job=job, person_id=pid, kind="absent")
        for pid, nik in Person.objects.filter(
            region_codes.village_in_q("village_code", job.region_code),
            life_status=codes.ALIVE,
        ).values_list("id", "nik").iterator(chunk_size=20000)
        if (pid not in listed_ids if nik is None else nik not in listed)
    ]
    ProposedChange.objects.bulk_create(absent, batch_size=2000)
    return len(absent)
