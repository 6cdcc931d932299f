"""NIK and KK number rules: one definition for forms, the API and imports.

The rules run on a polars DataFrame so a million rows are checked in one
pass; a single record from a form or the API is checked as a one-row frame
through the same functions.

NIK (16 digits) = PPKKCC DDMMYY SSSS: the kecamatan of first registration,
the birth date with 40 added to the day for women, and a serial from 0001.
No. KK (16 digits) = PPKKCC DDMMYY SSSS: the kecamatan of issue, the issue
date, a serial. Source: Dukcapil; see docs/domain.md of the product.

Findings are rows of (row, column, value, code, severity): an ``error``
rejects the row, a ``warning`` accepts and flags it.
"""

import polars as pl
from django.utils.translation import gettext as _

from sinergi.regions.models import Region

ERROR = "error"
WARNING = "warning"

CODES = {"nik_format", "nik_region", "nik_date", "nik_serial", "nik_sex_mismatch",
         "nik_birth_mismatch", "kk_missing", "kk_format", "kk_region", "kk_date", "kk_serial"}


def known_kecamatan_prefixes() -> pl.Series:
    """The 6-digit prefixes of every kecamatan in any loaded edition."""
    codes = Region.objects.filter(level=3).values_list("code", flat=True)
    return pl.Series("prefix", [c.replace(".", "") for c in codes], dtype=pl.String)


def _date_parts_valid(dd: pl.Expr, mm: pl.Expr, yy: pl.Expr) -> pl.Expr:
    """Whether day/month/2-digit-year make a real date in 19yy or 20yy."""
    day_max = (
        pl.when(mm.is_in([4, 6, 9, 11])).then(30)
        .when(mm == 2).then(pl.when(yy % 4 == 0).then(29).otherwise(28))
        .otherwise(31)
    )
    return (mm >= 1) & (mm <= 12) & (dd >= 1) & (dd <= day_max)


def _structure_rules(df: pl.DataFrame, col: str, prefixes: pl.Series, *, women_offset: bool,
                     kind: str) -> pl.DataFrame:
    """Findings for a 16-digit identifier column (already normalised text)."""
    value = pl.col(col)
    present = value.is_not_null() & (value != "")
    digits16 = value.str.contains(r"^\d{16}$")
    dd = value.str.slice(6, 2).cast(pl.Int32, strict=False)
    mm = value.str.slice(8, 2).cast(pl.Int32, strict=False)
    yy = value.str.slice(10, 2).cast(pl.Int32, strict=False)
    day = pl.when(dd > 40).then(dd - 40).otherwise(dd) if women_offset else dd
    codes = (f"{kind}_format", f"{kind}_region", f"{kind}_date", f"{kind}_serial")
    # Lazy, so the common parts are worked out once; only rows with a finding
    # are kept for the per-code filters.
    checks = df.lazy().select(
        pl.col("__row"),
        value.alias("value"),
        (present & ~digits16).alias(codes[0]),
        (present & digits16 & ~value.str.slice(0, 6).is_in(prefixes.implode())).alias(
            codes[1]),
        (present & digits16 & ~_date_parts_valid(day, mm, yy)).alias(codes[2]),
        (present & digits16 & (value.str.slice(12, 4) == "0000")).alias(codes[3]),
    ).filter(pl.any_horizontal(codes)).collect()
    frames = []
    for code in codes:
        hit = checks.filter(pl.col(code)).select(
            "__row", "value", pl.lit(code).alias("code"), pl.lit(ERROR).alias("severity"),
            pl.lit(col).alias("column"))
        frames.append(hit)
    return pl.concat(frames)


def nik_findings(df: pl.DataFrame, prefixes: pl.Series, *, nik="nik", sex="sex",
                 birth_date="birth_date") -> pl.DataFrame:
    """Errors and warnings for the NIK column of ``df`` (which has ``__row``).

    ``sex`` holds L/P and ``birth_date`` a Date (either may be null). An
    impossible NIK date is an error; a NIK that disagrees with the person's
    sex or birth date is a warning: one of the two was typed wrong, and the
    operator should look, but the person exists.
    """
    structure = _structure_rules(df, nik, prefixes, women_offset=True, kind="nik")
    value = pl.col(nik)
    ok = value.str.contains(r"^\d{16}$").fill_null(False)
    dd = value.str.slice(6, 2).cast(pl.Int32, strict=False)
    mm = value.str.slice(8, 2).cast(pl.Int32, strict=False)
    yy = value.str.slice(10, 2).cast(pl.Int32, strict=False)
    nik_sex = pl.when(dd > 40).then(pl.lit("P")).otherwise(pl.lit("L"))
    nik_day = pl.when(dd > 40).then(dd - 40).otherwise(dd)
    cols = df.columns
    sex_expr = pl.col(sex) if sex in cols else pl.lit(None, dtype=pl.String)
    birth_expr = pl.col(birth_date) if birth_date in cols else pl.lit(None, dtype=pl.Date)
    mismatch = df.lazy().select(
        pl.col("__row"),
        value.alias("value"),
        (ok & sex_expr.is_not_null() & (sex_expr != nik_sex)).fill_null(False).alias("sex"),
        (ok & birth_expr.is_not_null() & (
            (birth_expr.dt.day() != nik_day) | (birth_expr.dt.month() != mm)
            | ((birth_expr.dt.year() % 100) != yy)
        )).fill_null(False).alias("birth"),
    ).filter(pl.col("sex") | pl.col("birth")).collect()
    warns = [
        mismatch.filter(pl.col("sex")).select(
            "__row", "value", pl.lit("nik_sex_mismatch").alias("code"),
            pl.lit(WARNING).alias("severity"), pl.lit(nik).alias("column")),
        mismatch.filter(pl.col("birth")).select(
            "__row", "value", pl.lit("nik_birth_mismatch").alias("code"),
            pl.lit(WARNING).alias("severity"), pl.lit(nik).alias("column")),
    ]
    return pl.concat([structure, *warns])


def kk_findings(df: pl.DataFrame, prefixes: pl.Series, *, kk="kk_number") -> pl.DataFrame:
    """Errors for the KK number column: 16 digits, a known kecamatan, a real
    issue date, a serial that is not 0000. A KK number is required."""
    structure = _structure_rules(df, kk, prefixes, women_offset=False, kind="kk")
    missing = df.filter(pl.col(kk).is_null() | (pl.col(kk) == "")).select(
        "__row", pl.col(kk).alias("value"), pl.lit("kk_missing").alias("code"),
        pl.lit(ERROR).alias("severity"), pl.lit(kk).alias("column"))
    return pl.concat([structure, missing])


def message_for(code: str, value: str | None, templates: dict[str, str] | None = None) -> str:
    """The message for a finding: what is wrong and what to do. ``templates``
    (from ``messages()``) saves translating them again for every finding."""
    templates = templates if templates is not None else messages()
    return templates[code] % {"v": value or ""}


def messages() -> dict[str, str]:
    """Every finding's message, translated, with ``%(v)s`` for the value."""
    return {
        "nik_format": _("NIK '%(v)s' is not 16 digits. Type it as text (in Excel, format the "
                        "column as Text before typing) and check no digit is missing."),
        "nik_region": _("NIK '%(v)s' does not start with a known kecamatan code (first 6 "
                        "digits). Check the NIK against the KK."),
        "nik_date": _("NIK '%(v)s' holds no real birth date (digits 7-12, DDMMYY, day + 40 "
                      "for women). Check the NIK against the KK."),
        "nik_serial": _("NIK '%(v)s' ends in 0000, which is never issued. Check the NIK "
                        "against the KK."),
        "nik_sex_mismatch": _("NIK '%(v)s' says a different sex than the sex column (day + 40 "
                              "means female). One of the two is wrong; please check."),
        "nik_birth_mismatch": _("NIK '%(v)s' holds a different birth date than the date of "
                                "birth column. One of the two is wrong; please check."),
        "kk_missing": _("The KK number is empty. Every person must belong to a family: fill "
                        "in the 16-digit number from the Kartu Keluarga."),
        "kk_format": _("KK number '%(v)s' is not 16 digits. Type it as text and check no "
                       "digit is missing."),
        "kk_region": _("KK number '%(v)s' does not start with a known kecamatan code. Check "
                       "it against the Kartu Keluarga."),
        "kk_date": _("KK number '%(v)s' holds no real issue date (digits 7-12, DDMMYY). "
                     "Check it against the Kartu Keluarga."),
        "kk_serial": _("KK number '%(v)s' ends in 0000, which is never issued. Check it "
                       "against the Kartu Keluarga."),
    }
