"""The defects a synthetic file carries on purpose, which rows get them,
and how many the import must reject."""

from __future__ import annotations

import polars as pl

# Row defects, in the order they cycle through the bad rows.
DEFECTS = (
    "nik_15_digits",      # a digit lost                       -> nik_format (error)
    "nik_scientific",     # "1.90401E+15", typed as a number   -> error
    "nik_bad_date",       # month 13 in the NIK                -> nik_date (error)
    "sex_mismatch",       # sex column contradicts the NIK     -> warning, accepted
    "bad_date_text",      # "30/02/1985", "00/00/0000", "TIDAK TAHU" -> error
    "name_missing",       # empty name                         -> name_missing (error)
    "duplicate_nik",      # the NIK of the row before          -> nik_duplicate_in_file (error)
    "shdk_unknown",       # SHDK code 12 (there is no 12)      -> error
    "kk_serial_0000",     # KK number ending 0000              -> kk_serial (error)
)


# The defects that make the import reject the row. A duplicate NIK rejects
# only the later row (this one; the earlier row is good and stands); a sex
# that contradicts the NIK is a warning: the person exists, one of the two
# fields was typed wrong.
REJECTING_DEFECTS = frozenset(DEFECTS) - {"sex_mismatch"}


def defect_plan(persons: int, bad_fraction: float) -> list[tuple[int, str]]:
    """(row index, defect) of every bad row ``generate`` makes."""
    step = bad_step(bad_fraction)
    if step is None:
        return []
    return [(i, DEFECTS[(i // step) % len(DEFECTS)]) for i in range(0, persons, step)]


def expected_rejections(persons: int, bad_fraction: float) -> int:
    """How many rows the import rejects in a generated file."""
    return sum(1 for _i, d in defect_plan(persons, bad_fraction) if d in REJECTING_DEFECTS)


def bad_step(bad_fraction: float) -> int | None:
    if bad_fraction <= 0:
        return None
    if bad_fraction > 0.5:
        raise ValueError("bad_fraction must be at most 0.5 (a bad row copies its good "
                         "neighbour's NIK)")
    return max(2, round(1 / bad_fraction))


def plant_defects(out: pl.DataFrame, step: int) -> pl.DataFrame:
    """Give every ``step``-th row one defect, cycling through ``DEFECTS``."""
    i = pl.col("pid").cast(pl.Int64)
    is_bad = (i % step) == 0
    kind = (i // step) % len(DEFECTS)

    def when(defect: str) -> pl.Expr:
        return is_bad & (kind == DEFECTS.index(defect))

    nik = pl.col("nik")
    decimals = nik.str.slice(1, 5).str.strip_chars_end("0")
    scientific = pl.concat_str([nik.str.slice(0, 1), pl.lit("."), decimals, pl.lit("E+15")])
    bad_dates = ("30/02/", "00/00/", "TIDAK TAHU")
    which_date = (i // (step * len(DEFECTS))) % len(bad_dates)
    year = pl.col("birth_date").str.slice(6, 4)
    bad_date = (pl.when(which_date == 0).then(pl.concat_str([pl.lit(bad_dates[0]), year]))
                .when(which_date == 1).then(pl.lit("00/00/0000"))
                .otherwise(pl.lit(bad_dates[2])))
    return out.with_columns(
        pl.when(when("nik_15_digits")).then(nik.str.slice(0, 15))
        .when(when("nik_scientific")).then(scientific)
        .when(when("nik_bad_date")).then(pl.concat_str([nik.str.slice(0, 8), pl.lit("13"),
                                                        nik.str.slice(10, 6)]))
        .when(when("duplicate_nik")).then(nik.shift(1))
        .otherwise(nik).alias("nik"),
        pl.when(when("sex_mismatch")).then(
            pl.when(pl.col("sex") == "L").then(pl.lit("P")).otherwise(pl.lit("L")))
        .otherwise(pl.col("sex")).alias("sex"),
        pl.when(when("bad_date_text")).then(bad_date).otherwise(pl.col("birth_date"))
        .alias("birth_date"),
        pl.when(when("name_missing")).then(None).otherwise(pl.col("name")).alias("name"),
        pl.when(when("shdk_unknown")).then(pl.lit("12")).otherwise(pl.col("shdk"))
        .alias("shdk"),
        pl.when(when("kk_serial_0000")).then(
            pl.concat_str([pl.col("kk_number").str.slice(0, 12), pl.lit("0000")]))
        .otherwise(pl.col("kk_number")).alias("kk_number"),
    )
