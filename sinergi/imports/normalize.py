"""Typed, validated values from the text cells of an import file.

``normalize`` turns canonical-named text columns (see columns.py) into typed
columns and lists what it could not read as issues (row, column, original
value, code, severity): an ``error`` rejects the row, a ``warning`` keeps it
and flags it. Whether a NIK or KK number is well formed is not checked here
(sinergi/registry/identifiers.py does that); here it is only cleaned.

Everything runs as polars expressions. Columns with few distinct values
(codes, dates, yes/no, RT/RW...) are worked out once per distinct value and
mapped back, which keeps a million-row file to a fraction of a second; only
columns that are different on every row (NIK, KK, name, address) are
processed row by row, still vectorised.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date

import polars as pl
from django.utils import timezone
from django.utils.translation import gettext as _

from sinergi.imports.columns import CANONICAL, CODE_TABLES, FORMATS
from sinergi.registry import codes

ERROR = "error"
WARNING = "warning"

# Every code normalize() or the readers emit, with its severity.
SEVERITY = {
    "scientific_notation": ERROR,
    "bad_sex": ERROR,
    "bad_date": ERROR,
    "ambiguous_date": ERROR,
    "suspicious_date": WARNING,
    "bad_code": ERROR,
    "bad_boolean": ERROR,
    "bad_number": ERROR,
    "implausible_income": WARNING,
    "bad_desil": ERROR,
    "bad_village_code": ERROR,
    "bad_rt_rw": WARNING,
    # Cell problems found while reading the file (the readers package).
    "number_16_digits": ERROR,
    "formula": ERROR,
    "too_long": ERROR,
    "extra_fields": ERROR,
}

ISSUE_SCHEMA = {"__row": pl.UInt32, "column": pl.String, "value": pl.String,
                "code": pl.String, "severity": pl.String}

MAX_INCOME = 1_000_000_000
EXCEL_EPOCH = date(1899, 12, 30)  # serial 1 = 1900-01-01 (the 1900 leap bug ignored)
MAX_SERIAL = 80_000
UNIX_EPOCH = date(1970, 1, 1)  # OpenSID's stand-in for a date it could not read

BOOLEAN_COLUMNS = ("has_birth_certificate", "has_kia", "has_ktp_el", "in_dtsen")


# --- lookup keys -------------------------------------------------------------


def _label_key(label: str) -> str:
    """The comparable form of a label: upper case, letters and digits only."""
    return re.sub(r"[^A-Z0-9]", "", str(label).upper())


def _key_expr(e: pl.Expr) -> pl.Expr:
    """``_label_key`` as an expression, except that a number keeps its value
    ("01" and "1.0" are 1), so codes and labels share one lookup."""
    s = e.str.strip_chars().str.to_uppercase()
    number = s.str.extract(r"^0*(\d+)(?:\.0+)?$", 1)
    return pl.coalesce(number, s.str.replace_all(r"[^A-Z0-9]", ""))


def _lookup(pairs: dict[str, object]) -> dict[str, object]:
    return {_label_key(k) if not str(k).isdigit() else str(int(k)): v for k, v in pairs.items()}


def _code_lookup(table: dict[int, object], extra: dict[str, int]) -> dict[str, int]:
    """Codes, labels, label parts ("PELAJAR/MAHASISWA" -> PELAJAR, MAHASISWA;
    "PEGAWAI NEGERI SIPIL (PNS)" -> PNS) and known short forms -> code."""
    keys: dict[str, int] = {str(code): code for code in table}
    parts: dict[str, set[int]] = {}
    for code, label in table.items():
        text = str(label)
        keys[_label_key(text)] = code
        pieces = re.split(r"/|\(|\)", text)
        for piece in pieces:
            key = _label_key(piece)
            if len(key) >= 3 and key not in _VAGUE_WORDS:
                parts.setdefault(key, set()).add(code)
    for key, found in parts.items():
        if len(found) == 1:
            keys.setdefault(key, next(iter(found)))
    keys.update(_lookup(extra))
    return keys


_VAGUE_WORDS = {"TIDAK", "BELUM", "SEDERAJAT", "LAINNYA", "CACAT"}

# Short forms and spellings met in KK copies and agency lists.
_EXTRA_LABELS: dict[str, dict[str, int]] = {
    "shdk": {"KK": 1, "KEPALA": 1, "KRT": 1, "KEPALA RUMAH TANGGA": 1, "KEP KELUARGA": 1,
             "ISTERI": 3, "IST": 3, "ANAK KANDUNG": 4, "ANAK TIRI": 4, "ANAK ANGKAT": 4,
             "ORANG TUA": 7, "ORTU": 7, "FAMILI": 9, "SAUDARA": 9, "PRT": 10, "LAIN": 11,
             "LAIN-LAIN": 11, "LAINNYA": 11},
    "religion": {"KATOLIK": 3, "KRISTEN KATOLIK": 3, "KRISTEN PROTESTAN": 2, "PROTESTAN": 2,
                 "BUDDHA": 5, "BUDHA": 5, "KONGHUCU": 6, "KONG HU CU": 6, "KHONGHUCHU": 6,
                 "KHONGHUCU": 6, "KEPERCAYAAN": 7, "ALIRAN KEPERCAYAAN": 7, "LAINNYA": 7},
    "marital_status": {"BK": 1, "K": 2, "CH": 3, "CM": 4, "BELUM MENIKAH": 1, "LAJANG": 1,
                       "MENIKAH": 2, "KAWIN TERCATAT": 2, "KAWIN BELUM TERCATAT": 2},
    "education": {"TIDAK SEKOLAH": 1, "BELUM SEKOLAH": 1, "TIDAK/BELUM SEKOLAH": 1,
                  "BELUM TAMAT SD": 2, "TIDAK TAMAT SD": 2, "SD": 3, "TAMAT SD": 3, "SMP": 4,
                  "SLTP": 4, "MTS": 4, "SMA": 5, "SMK": 5, "SLTA": 5, "MA": 5, "D1": 6,
                  "D2": 6, "D3": 7, "D4": 8, "S1": 8, "S2": 9, "S3": 10},
    "occupation": {"IRT": 2, "IBU RUMAH TANGGA": 2, "TIDAK BEKERJA": 1, "BELUM BEKERJA": 1,
                   "PETANI": 9, "PEKEBUN": 9, "NELAYAN": 11, "HONORER": 18, "SUPIR": 81,
                   "LAINNYA": 89},
    "disability": {"FISIK": 1, "NETRA": 2, "BUTA": 2, "TUNANETRA": 2, "RUNGU": 3, "WICARA": 3,
                   "TUNARUNGU": 3, "TUNAWICARA": 3, "MENTAL": 4, "JIWA": 4,
                   "FISIK DAN MENTAL": 5, "LAINNYA": 6, "TIDAK CACAT": 7, "TIDAK ADA": 7,
                   "TIDAK": 7, "NON DISABILITAS": 7, "BUKAN DISABILITAS": 7},
    "health_insurance": {"TIDAK PUNYA": 1, "BELUM PUNYA": 1, "TIDAK ADA": 1, "TIDAK": 1,
                         "PBI": 2, "PBI JK": 2, "KIS": 2, "KIS PBI": 2, "NON PBI": 3,
                         "BPJS MANDIRI": 3, "MANDIRI": 3, "ASURANSI LAIN": 99, "LAINNYA": 99},
    "kb_method": {"SUSUK": 5, "IMPLAN": 5, "IMPLANT": 5, "AKDR": 2, "SPIRAL": 2, "MOW": 6,
                  "TUBEKTOMI": 6, "MOP": 7, "VASEKTOMI": 7, "LAINNYA": 99},
    "life_status": {"MENINGGAL": 2, "MENINGGAL DUNIA": 2, "WAFAT": 2, "ADA": 1},
}

CODE_LOOKUPS: dict[str, dict[str, int]] = {
    column: _code_lookup(getattr(codes, table), _EXTRA_LABELS.get(column, {}))
    for column, table in CODE_TABLES.items()
}

SEX_LOOKUP = _lookup({
    "L": "L", "LK": "L", "LAKI-LAKI": "L", "LAKI": "L", "LELAKI": "L", "PRIA": "L", "MALE": "L",
    "M": "L", "1": "L",
    "P": "P", "PR": "P", "PEREMPUAN": "P", "WANITA": "P", "FEMALE": "P", "F": "P", "W": "P",
    "2": "P",
})

_TRUE = ("YA", "Y", "YES", "ADA", "PUNYA", "1", "TRUE", "SUDAH", "KTP-EL", "MEMILIKI",
         "SUDAH PUNYA", "SUDAH ADA", "BENAR")
_FALSE = ("TIDAK", "T", "TDK", "NO", "N", "BELUM", "BLM", "0", "FALSE", "TIDAK ADA",
          "TIDAK PUNYA", "BELUM PUNYA", "BELUM ADA", "SALAH", "TIDAK MEMILIKI")
BOOLEAN_LOOKUP = _lookup({**dict.fromkeys(_TRUE, True), **dict.fromkeys(_FALSE, False)})
# OpenSID ktp_el: 1 BELUM, 2 KTP-EL.
OPENSID_KTP_EL_LOOKUP = _lookup({"1": False, "2": True, "BELUM": False, "KTP-EL": True})

MONTHS = _lookup({
    "JANUARI": 1, "JAN": 1, "JANUARY": 1, "FEBRUARI": 2, "PEBRUARI": 2, "FEB": 2, "PEB": 2,
    "FEBRUARY": 2, "MARET": 3, "MAR": 3, "MARCH": 3, "APRIL": 4, "APR": 4, "MEI": 5, "MAY": 5,
    "JUNI": 6, "JUN": 6, "JUNE": 6, "JULI": 7, "JUL": 7, "JULY": 7, "AGUSTUS": 8, "AGU": 8,
    "AGT": 8, "AGS": 8, "AUG": 8, "AUGUST": 8, "SEPTEMBER": 9, "SEP": 9, "SEPT": 9,
    "OKTOBER": 10, "OKT": 10, "OCT": 10, "OCTOBER": 10, "NOVEMBER": 11, "NOV": 11, "NOP": 11,
    "DESEMBER": 12, "DES": 12, "DEC": 12, "DECEMBER": 12,
})


# --- rules on one column ------------------------------------------------------
# Each rule maps a text expression to (value, issue code or null).

Rule = Callable[[pl.Expr], tuple[pl.Expr, pl.Expr]]
_NO_ISSUE = pl.lit(None, dtype=pl.String)


def _present(e: pl.Expr) -> pl.Expr:
    return e.is_not_null() & e.str.contains(r"\S")


def _dash_to_null(e: pl.Expr) -> pl.Expr:
    """OpenSID and many lists write "-" for "no value"."""
    return pl.when(e.str.contains(r"^\s*[-\u2013\u2014]+\s*$")).then(None).otherwise(e)


def _clean_text(e: pl.Expr) -> pl.Expr:
    # Same result as replacing every run of \s+ by one space, but the regex
    # finds nothing to do in most cells, which is several times faster.
    text = e.str.replace_all(r"\s{2,}|[^\S ]", " ").str.strip_chars()
    return pl.when((text == "") | (text == "-")).then(None).otherwise(text)


def _identifier(e: pl.Expr, *, zero_is_empty: bool) -> tuple[pl.Expr, pl.Expr]:
    """NIK / KK number: digits only, leading zeros kept, never padded."""
    scientific = e.str.contains(r"^\s*[+-]?\d+(?:[.,]\d+)?[eE][+-]?\d+\s*$")
    cleaned = (e.str.replace(r"^\s*(\d+)\.0+\s*$", "${1}")
               .str.replace_all(r"[\s.\-'\"`\u2018\u2019\u00b4\u200b\ufeff]", ""))
    empty = cleaned == ""
    if zero_is_empty:
        empty = empty | (cleaned == "0")
    value = pl.when(scientific | empty).then(None).otherwise(cleaned)
    code = pl.when(scientific.fill_null(False)).then(pl.lit("scientific_notation"))
    return value, code.otherwise(_NO_ISSUE)


def _mapped(lookup: dict, dtype: pl.DataType, bad: str) -> Rule:
    def rule(e: pl.Expr) -> tuple[pl.Expr, pl.Expr]:
        e = _dash_to_null(e)
        value = _key_expr(e).replace_strict(lookup, default=None, return_dtype=dtype)
        return value, pl.when(_present(e) & value.is_null()).then(pl.lit(bad)).otherwise(
            _NO_ISSUE)
    return rule


def _non_empty_is_true(e: pl.Expr) -> tuple[pl.Expr, pl.Expr]:
    """OpenSID akta_lahir holds the certificate number: any number means yes."""
    e = _dash_to_null(e)
    return pl.when(_present(e)).then(pl.lit(True)).otherwise(None), _NO_ISSUE


def _parts(e: pl.Expr, pattern: str, names: tuple[str, ...]) -> list[pl.Expr]:
    groups = e.str.extract_groups(pattern)
    return [groups.struct.field(n) for n in names]


def _birth_date(e: pl.Expr) -> tuple[pl.Expr, pl.Expr]:
    """Day-first dates, ISO dates, Indonesian month names, Excel serials."""
    s = _dash_to_null(e).str.strip_chars()
    time = r"(?:[ T]\d{1,2}[:.]\d{2}(?:[:.]\d{2}(?:\.\d+)?)?)?"
    iso = _parts(s, rf"^(?<y>\d{{4}})[-/.](?<m>\d{{1,2}})[-/.](?<d>\d{{1,2}}){time}$",
                 ("y", "m", "d"))
    dmy = _parts(s, rf"^(?<d>\d{{1,2}})[-/.](?<m>\d{{1,2}})[-/.](?<y>\d{{4}}){time}$",
                 ("y", "m", "d"))
    named = _parts(s, r"^(?<d>\d{1,2})[\s\-/.]+(?<m>[A-Za-z]+)\.?[\s\-/.]+(?<y>\d{4})$",
                   ("y", "m", "d"))
    named_month = _key_expr(named[1]).replace_strict(MONTHS, default=None,
                                                     return_dtype=pl.String)
    y = pl.coalesce(iso[0], dmy[0], named[0])
    m = pl.coalesce(iso[1], dmy[1], named_month)
    d = pl.coalesce(iso[2], dmy[2], named[2])
    text_date = pl.format("{}-{}-{}", y, m.str.zfill(2), d.str.zfill(2)).str.strptime(
        pl.Date, "%Y-%m-%d", strict=False)
    serial = s.str.extract(r"^(\d{1,5})(?:\.0+)?$", 1).cast(pl.Int32, strict=False)
    # A bare 4-digit year is a year, not day 1990 of the Excel calendar.
    year_only = s.str.contains(r"^(?:19|20)\d{2}$")
    serial_date = pl.when(serial.is_between(1, MAX_SERIAL) & ~year_only).then(
        pl.lit(EXCEL_EPOCH) + pl.duration(days=serial))
    parsed = pl.coalesce(text_date, serial_date)
    ambiguous = s.str.contains(r"^\d{1,2}[-/.]\d{1,2}[-/.]\d{2}$")
    out_of_range = (parsed > pl.lit(timezone.localdate())) | (parsed < pl.lit(date(1900, 1, 1)))
    value = pl.when(out_of_range.fill_null(False) | ambiguous).then(None).otherwise(parsed)
    present = _present(s)
    code = (pl.when(present & ambiguous).then(pl.lit("ambiguous_date"))
            .when(present & value.is_null()).then(pl.lit("bad_date"))
            .when(value == pl.lit(UNIX_EPOCH)).then(pl.lit("suspicious_date"))
            .otherwise(_NO_ISSUE))
    return value, code


def _rt_rw(e: pl.Expr) -> tuple[pl.Expr, pl.Expr]:
    s = _dash_to_null(e).str.strip_chars().str.to_uppercase()
    digits = s.str.extract(r"^(?:R[TW]\.?\s*)?0*(\d{1,3})(?:\.0+)?$", 1)
    value = digits.str.zfill(3)
    return value, pl.when(_present(s) & value.is_null()).then(pl.lit("bad_rt_rw")).otherwise(
        _NO_ISSUE)


def _income(e: pl.Expr) -> tuple[pl.Expr, pl.Expr]:
    """Rupiah per month: 1500000, 1.500.000, 1,500,000, Rp 1.500.000,-, 1,5 juta."""
    given = _dash_to_null(e)
    s = (given.str.strip_chars().str.to_uppercase()
         .str.replace(r"^RP\.?", "").str.replace(r"(?:[.,]-|/\s*(?:BLN|BULAN))$", "")
         .str.replace_all(r"\s", ""))
    unit = _parts(s, r"^(?<n>\d+(?:[.,]\d+)?)(?<u>JUTA|JT|RIBU|RB)$", ("n", "u"))
    factor = unit[1].replace_strict({"JUTA": 1_000_000, "JT": 1_000_000, "RIBU": 1_000,
                                     "RB": 1_000}, default=None, return_dtype=pl.Float64)
    with_unit = unit[0].str.replace(",", ".").cast(pl.Float64, strict=False) * factor
    dotted = s.str.contains(r"^\d{1,3}(?:\.\d{3})+(?:,\d{1,2})?$")
    commas = s.str.contains(r"^\d{1,3}(?:,\d{3})+(?:\.\d{1,2})?$")
    decimal = s.str.contains(r"^\d+[.,]\d{1,2}$")
    plain = (pl.when(dotted).then(s.str.replace(r",\d+$", "").str.replace_all(".", "",
                                                                               literal=True))
             .when(commas).then(s.str.replace(r"\.\d+$", "").str.replace_all(",", "",
                                                                             literal=True))
             .when(decimal).then(s.str.replace(",", ".", literal=True))
             .when(s.str.contains(r"^\d{1,15}$")).then(s))
    amount = pl.coalesce(with_unit, plain.cast(pl.Float64, strict=False)).round(0)
    value = pl.when(amount <= 1e15).then(amount.cast(pl.Int64))
    code = (pl.when(_present(given) & value.is_null()).then(pl.lit("bad_number"))
            .when(value > MAX_INCOME).then(pl.lit("implausible_income"))
            .otherwise(_NO_ISSUE))
    return value, code


def _desil(e: pl.Expr) -> tuple[pl.Expr, pl.Expr]:
    s = _dash_to_null(e).str.strip_chars().str.to_uppercase()
    number = s.str.extract(r"^(?:DESIL)?\s*0*(\d{1,2})(?:\.0+)?$", 1).cast(pl.Int16)
    value = pl.when(number.is_between(1, 10)).then(number)
    return value, pl.when(_present(s) & value.is_null()).then(pl.lit("bad_desil")).otherwise(
        _NO_ISSUE)


def _village(e: pl.Expr) -> tuple[pl.Expr, pl.Expr]:
    """Kemendagri village code PP.KK.CC.XDDD (Permendagri 58/2021), from the
    dotted form, 10 digits, or groups split by spaces or dashes."""
    s = _dash_to_null(e).str.strip_chars()
    p = _parts(s, r"^(?<p>\d{2})[\s.\-]*(?<k>\d{2})[\s.\-]*(?<c>\d{2})[\s.\-]*(?<v>\d{4})$",
               ("p", "k", "c", "v"))
    kab = p[1].cast(pl.Int32, strict=False)
    valid = ((p[0] != "00") & (kab.is_between(1, 69) | kab.is_between(71, 99))
             & (p[2] != "00") & p[3].str.contains(r"^[123]"))
    value = pl.when(valid).then(pl.format("{}.{}.{}.{}", *p))
    return value, pl.when(_present(s) & value.is_null()).then(
        pl.lit("bad_village_code")).otherwise(_NO_ISSUE)


def _rules(fmt: str) -> dict[str, tuple[Rule, pl.DataType]]:
    """Rules of the columns worked out once per distinct value."""
    opensid = fmt == "opensid"
    boolean = _mapped(BOOLEAN_LOOKUP, pl.Boolean, "bad_boolean")
    rules: dict[str, tuple[Rule, pl.DataType]] = {
        "sex": (_mapped(SEX_LOOKUP, pl.String, "bad_sex"), pl.String),
        "birth_date": (_birth_date, pl.Date),
        "rw": (_rt_rw, pl.String),
        "rt": (_rt_rw, pl.String),
        "monthly_income": (_income, pl.Int64),
        "desil": (_desil, pl.Int16),
        "village_code": (_village, pl.String),
        **{c: (boolean, pl.Boolean) for c in BOOLEAN_COLUMNS},
        **{c: (_mapped(CODE_LOOKUPS[c], pl.Int16, "bad_code"), pl.Int16) for c in CODE_TABLES},
        "birth_place": (lambda e: (_clean_text(e), _NO_ISSUE), pl.String),
        "dusun": (lambda e: (_clean_text(e), _NO_ISSUE), pl.String),
    }
    if opensid:
        rules["has_ktp_el"] = (_mapped(OPENSID_KTP_EL_LOOKUP, pl.Boolean, "bad_boolean"),
                               pl.Boolean)
        rules["has_birth_certificate"] = (_non_empty_is_true, pl.Boolean)
    return rules


def _via_distinct(df: pl.DataFrame, column: str, rule: Rule,
                  dtype: pl.DataType) -> tuple[pl.Expr, pl.Expr]:
    """Apply ``rule`` to the distinct values of ``column`` and map back."""
    distinct = df.select(pl.col(column).drop_nulls().unique()).to_series()
    if distinct.is_empty():
        return pl.lit(None, dtype=dtype), _NO_ISSUE
    value, code = rule(pl.col("v"))
    small = pl.DataFrame({"v": distinct}).lazy().select(
        "v", value.cast(dtype).alias("value"), code.alias("code")).collect()
    col = pl.col(column)
    mapped = col.replace_strict(small["v"], small["value"], default=None, return_dtype=dtype)
    with_issue = small.filter(pl.col("code").is_not_null())
    if with_issue.is_empty():
        return mapped, _NO_ISSUE
    issue = col.replace_strict(with_issue["v"], with_issue["code"], default=None,
                               return_dtype=pl.String)
    return mapped, issue


def normalize_village_code(code: str) -> str | None:
    """The dotted form of one village code, or None when it is malformed."""
    value, _code = _village(pl.lit(code, dtype=pl.String))
    return pl.select(value).item()


def normalize(df: pl.DataFrame, *, fmt: str,
              default_village: str | None = None) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Typed columns and issues for the canonical text columns of ``df``.

    ``df`` holds ``__row`` (UInt32) and any subset of the canonical columns
    as text; other columns pass through untouched. ``default_village`` fills
    ``village_code`` where the file has none (OpenSID files never do): a
    caller error, not a user's, when malformed, so it raises ValueError.
    Returns ``(typed, issues)``; issues has ``__row, column, value, code,
    severity`` with ``value`` the original text.
    """
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}; expected one of {FORMATS}")
    default = None
    if default_village is not None:
        default = normalize_village_code(default_village)
        if default is None:
            raise ValueError(f"default_village {default_village!r} is not a village code")
    present = [c for c in df.columns if c in CANONICAL]
    df = df.with_columns(pl.col(c).cast(pl.String) for c in present)
    rules = _rules(fmt)
    exprs: list[pl.Expr] = []
    checked: list[str] = []
    for column in present:
        if column in ("nik", "kk_number"):
            value, code = _identifier(pl.col(column),
                                      zero_is_empty=fmt == "opensid" and column == "nik")
        elif column in ("name", "address"):
            value, code = _clean_text(pl.col(column)), _NO_ISSUE
        else:
            rule, dtype = rules[column]
            value, code = _via_distinct(df, column, rule, dtype)
        if column == "village_code" and default is not None:
            empty = ~_present(_dash_to_null(pl.col(column)))
            value = pl.coalesce(value, pl.when(empty).then(pl.lit(default)))
        exprs.append(value.alias(column))
        if code is not _NO_ISSUE:
            exprs.append(code.alias(f"__issue_{column}"))
            checked.append(column)
    if "village_code" not in df.columns and default is not None:
        exprs.append(pl.lit(default, dtype=pl.String).alias("village_code"))
    out = df.lazy().with_columns(exprs).collect()
    frames = []
    for column in checked:
        mask = out.get_column(f"__issue_{column}").is_not_null()
        if not mask.any():
            continue
        frames.append(pl.DataFrame({
            "__row": df.get_column("__row").filter(mask).cast(pl.UInt32),
            "column": pl.Series([column] * int(mask.sum()), dtype=pl.String),
            "value": df.get_column(column).filter(mask),
            "code": out.get_column(f"__issue_{column}").filter(mask),
        }))
    out = out.drop([f"__issue_{c}" for c in checked])
    if not frames:
        return out, pl.DataFrame(schema=ISSUE_SCHEMA)
    issues = pl.concat(frames).with_columns(
        pl.col("code").replace_strict(SEVERITY, return_dtype=pl.String).alias("severity"))
    return out, issues.sort("__row", "column", maintain_order=True)


# --- messages -------------------------------------------------------------------


def issue_message(code: str, *, column: str, value: str | None,
                  templates: dict[str, str] | None = None, header: str | None = None) -> str:
    """What is wrong with one cell and what to do, in the user's language.

    ``header`` is the column as the uploaded file names it; without it a
    canonical ``column`` is shown as its template header, any other as is.
    ``templates`` (from ``issue_messages()``) saves translating them again
    for every cell.
    """
    spec = CANONICAL.get(column)
    shown = header if header is not None else spec.header if spec else column
    params = {"column": shown, "value": (value or "")[:100]}
    templates = templates if templates is not None else issue_messages()
    return templates[code] % params


def issue_messages(fmt: str | None = None) -> dict[str, str]:
    """Every cell issue's message, translated, with ``%(column)s`` and ``%(value)s``.

    An OpenSID export is not filled from Sinergi's template: its messages
    point to OpenSID's own codes (the 'Kode Data' sheet of OpenSID's import
    template) instead.
    """
    messages = _sinergi_messages()
    if fmt == "opensid":
        messages.update({
            "bad_code": _(
                "%(column)s '%(value)s' is not one of OpenSID's codes or names for this "
                "column. Write the code or the name from the '%(column)s' list on the 'Kode "
                "Data' sheet of OpenSID's import template, or correct the resident in OpenSID "
                "and export again."),
            "bad_sex": _(
                "%(column)s '%(value)s' is not a sex. Write 1 (LAKI-LAKI) or 2 (PEREMPUAN) as "
                "OpenSID codes it (L or P are accepted too)."),
            "bad_boolean": _(
                "%(column)s '%(value)s' is not an e-KTP status. Write 2 (KTP-EL) or 1 (BELUM) "
                "as OpenSID codes it."),
        })
    return messages


def _sinergi_messages() -> dict[str, str]:
    return {
        "scientific_notation": _(
            "%(column)s '%(value)s' is written in scientific notation: Excel has already "
            "dropped its last digits and they cannot be recovered. Format the column as Text "
            "and type the full 16-digit number again."),
        "bad_sex": _(
            "%(column)s '%(value)s' is not a sex. Write L (male) or P (female)."),
        "bad_date": _(
            "%(column)s '%(value)s' is not a possible date (unreadable, a day that does not "
            "exist, in the future or before 1900). Write the date day first as DD/MM/YYYY, "
            "for example 14/03/1990."),
        "ambiguous_date": _(
            "%(column)s '%(value)s' has a 2-digit year, so the century is unknown. Write the "
            "year in 4 digits, for example 14/03/1990."),
        "suspicious_date": _(
            "%(column)s is 1 January 1970, the date some systems (OpenSID among them) store "
            "when the real date could not be read. Check the date against the family card."),
        "bad_code": _(
            "%(column)s '%(value)s' is not one of the accepted codes or names. Use a code "
            "from the '%(column)s' table on the 'Petunjuk' sheet of the Sinergi template "
            "(download it from the import page)."),
        "bad_boolean": _(
            "%(column)s '%(value)s' is not a yes/no answer. Write Ya or Tidak (or 1 for yes, "
            "0 for no)."),
        "bad_number": _(
            "%(column)s '%(value)s' is not an amount of rupiah. Write a whole number that is "
            "not negative, for example 1500000 or 1.500.000."),
        "implausible_income": _(
            "%(column)s '%(value)s' is more than one billion rupiah a month. Check it for "
            "extra zeros."),
        "bad_desil": _(
            "%(column)s '%(value)s' is not a decile. Write a whole number from 1 to 10."),
        "bad_village_code": _(
            "%(column)s '%(value)s' is not a village code. Write the Kemendagri code of the "
            "desa/kelurahan, for example 19.04.01.2003 (or 1904012003)."),
        "bad_rt_rw": _(
            "%(column)s '%(value)s' is not an RT/RW number and was left empty. Write a number "
            "of up to 3 digits, for example 004."),
        "number_16_digits": _(
            "%(column)s '%(value)s' is stored as an Excel number that may have lost its last "
            "digit: Excel keeps only 15 digits of a number typed in, and turns the 16th into "
            "0. Format the column as Text, type the number again from the family card (KK) "
            "and upload again."),
        "formula": _(
            "%(column)s holds a formula (%(value)s). Replace formulas with their values (copy "
            "the cells, then Paste Special > Values), or remove them, and upload again."),
        "too_long": _(
            "%(column)s holds more than 1,000 characters. A cell must hold one value: check "
            "that no text or whole row was pasted into it."),
        "extra_fields": _(
            "This row has more values than the header has columns (extra: '%(value)s'). A "
            "value probably contains the separator (comma or semicolon): put that value in "
            "double quotes, or save the file again from Excel as CSV UTF-8."),
    }
