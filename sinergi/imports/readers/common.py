"""What the CSV and XLSX readers share: the Table they return, limits,
header checks, blank cells, cell issues found column by column."""

from __future__ import annotations

import gc
from collections.abc import Callable, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal

import polars as pl
from django.utils.translation import gettext as _

from sinergi.core.errors import DataFileError

MAX_COLUMNS = 200
MAX_CELL_CHARS = 1000
# Excel keeps 15 significant digits of a number typed in: a 16th digit
# becomes 0. An integer above 2**53 is not held exactly by the float a
# number cell is (calamine reads every number cell as one).
TRUSTED_DIGITS = 15
EXACT_FLOAT_LIMIT = 2 ** 53
OPENSID_END_MARK = "###"
OPENSID_LOOKUP_SHEET = "kode data"
# A sheet of an OpenSID workbook holds residents when it has one of these.
OPENSID_KEY_HEADERS = ("nik", "no_kk")

# Where the header row is looked for: the first rows of each sheet (titles,
# a cover note and merged group headers sit above it in files from the field).
HEADER_SCAN_ROWS = 30
# A row is taken as the header when at least this many of its cells are
# known headers; below that the first non-blank row is the header, as before.
MIN_HEADER_SCORE = 2
# A sheet whose header row has this many known headers is the data sheet:
# the sheets after it are not looked at.
STRONG_HEADER_SCORE = 4
# How many cells of a row are known headers (columns.header_score).
HeaderScore = Callable[[list[str]], int]

SEPARATORS = (",", ";", "\t")
SNIFF_BYTES = 64 * 1024
SNIFF_LINES = 50

ZIP_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0"
# Codes of Table.issues; severities and messages are in normalize.py.
CELL_ISSUE_CODES = ("number_16_digits", "formula", "too_long", "extra_fields")
ISSUE_SCHEMA = {"__row": pl.UInt32, "column": pl.String, "value": pl.String, "code": pl.String}
# CSV formula injection (OWASP): a spreadsheet would run these on opening.
_CSV_FORMULA_RE = r"^(?:=.|[+@\-][A-Za-z(])"
BINARY_MAGIC = (b"\x89PNG", b"\xff\xd8\xff", b"GIF8", b"%PDF", b"\x1f\x8b", b"Rar!",
                 b"7z\xbc\xaf")


@dataclass
class Table:
    """The cells of one data file, all text.

    ``df`` has one String column per header (header text stripped, inner
    whitespace collapsed; empty cells null); ``lines`` gives for each row of
    ``df`` the row number the user sees (CSV: physical line, header = 1;
    XLSX: spreadsheet row). ``issues`` lists cell problems: ``__row`` (index
    into ``df``), ``column`` (header), ``value``, ``code``.
    ``row_sheets`` names the sheet of each row when rows came from more than
    one sheet (OpenSID workbooks), else None.
    """

    df: pl.DataFrame
    lines: pl.Series
    issues: pl.DataFrame
    file_name: str
    sheet: str | None
    row_sheets: pl.Series | None = None


@contextmanager
def no_cyclic_gc():
    """Pause the cyclic garbage collector while a sheet becomes millions of
    small Python objects: its passes over them find nothing to free and cost
    a third of the conversion time. Reference counting still frees memory."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def header_text(value) -> str:
    return " ".join(cell_text(value).split()) if value is not None else ""


def doubtful_number(value: int) -> bool:
    """Whether an integer read from a number cell may not be the number the
    person meant: 16 digits or more and either ending in 0 (Excel turns the
    16th digit of a typed number into 0, so a NIK typed as a number loses
    its last digit) or beyond what a float holds exactly. A 16-digit number
    ending in another digit was written exactly (by a program, or pasted as
    a value) and is kept."""
    value = abs(value)
    return value >= 10 ** TRUSTED_DIGITS and (value % 10 == 0 or value > EXACT_FLOAT_LIMIT)


def best_header_row(rows: Sequence[Sequence], score: HeaderScore) -> tuple[int | None, int]:
    """(index, points) of the row among the first HEADER_SCAN_ROWS whose
    cells best match known headers (the earliest on a tie); (None, 0) when
    none scores MIN_HEADER_SCORE."""
    best, best_points = None, 0
    for i, row in enumerate(rows[:HEADER_SCAN_ROWS]):
        cells = [header_text(v) for v in row]
        if not any(cells):
            continue
        points = score(cells)
        if points > best_points:
            best, best_points = i, points
    if best_points < MIN_HEADER_SCORE:
        return None, best_points
    return best, best_points


def column_letter(index: int) -> str:
    """0 -> A, 25 -> Z, 26 -> AA."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def column_index(letters: str) -> int:
    index = 0
    for ch in letters:
        index = index * 26 + (ord(ch) - 64)
    return index - 1


def empty_issues() -> pl.DataFrame:
    return pl.DataFrame(schema=ISSUE_SCHEMA)


def where(file_name: str, sheet: str | None = None) -> str:
    """Where a problem is, as the start of a sentence."""
    if sheet is None:
        return _("File '%(file)s'") % {"file": file_name}
    # Translators: the start of a sentence naming a spreadsheet file and sheet.
    return _("File '%(file)s', sheet '%(sheet)s'") % {"file": file_name, "sheet": sheet}


def check_headers(headers: list[str], has_data: list[bool], *, place: str,
                   xlsx: bool) -> list[int]:
    """The positions of the columns to keep; raise on unusable headers.

    A column with no header and no data is dropped (spreadsheets often carry
    empty trailing columns); with data but no header, nobody can tell what
    it holds.
    """
    keep = []
    for i, name in enumerate(headers):
        if name:
            keep.append(i)
        elif has_data[i]:
            column = (_("column %(letter)s") % {"letter": column_letter(i)} if xlsx
                      else _("column %(number)d") % {"number": i + 1})
            raise DataFileError(_(
                # Translators: %(place)s is "File 'x.csv'" or "File 'x.xlsx', sheet 'Data'".
                "%(place)s: %(column)s has data but no header. Write the column name in the "
                "header row, or delete the column.") % {"place": place, "column": column})
    if len(keep) > MAX_COLUMNS:
        raise DataFileError(_(
            "%(place)s has %(count)d columns; at most %(max)d can be read. Delete the "
            "columns that are not needed and upload it again.")
            % {"place": place, "count": len(keep), "max": MAX_COLUMNS})
    seen: dict[str, int] = {}
    duplicates = []
    for i in keep:
        if headers[i] in seen and headers[i] not in duplicates:
            duplicates.append(headers[i])
        seen.setdefault(headers[i], i)
    if duplicates:
        raise DataFileError(_(
            "%(place)s has more than one column named %(names)s. Give each column a "
            "different name (or delete the copies) and upload it again.")
            % {"place": place, "names": ", ".join(f"'{name}'" for name in duplicates)})
    return keep


def no_data_error(place: str) -> DataFileError:
    return DataFileError(_(
        "%(place)s has a header row but no data rows. Fill in at least one row under the "
        "header and upload it again.") % {"place": place})


def empty_error(file_name: str) -> DataFileError:
    return DataFileError(_(
        "File '%(file)s' is empty. Choose the file that holds the data (a CSV or .xlsx "
        "file with a header row and one row per person) and upload it again.")
        % {"file": file_name})


_SPACE_FIRST = r"^[ \t\r\n\u00a0]"
_FORMULA_FIRST = r"^[=+\-@]"


def odd_first_columns(df: pl.DataFrame) -> tuple[set[str], set[str]]:
    """The columns where some cell starts with white space, and those where
    some cell starts as a formula would (= + - @).

    One anchored regex over every cell first (only its first character is
    looked at); most files have no such cell, and only the columns that do
    are looked at again, so the checks below run only where needed.
    """
    if df.width == 0 or df.height == 0:
        return set(), set()
    either = rf"{_SPACE_FIRST}|{_FORMULA_FIRST}"
    hits = df.lazy().select(pl.col(c).str.contains(either).any() for c in df.columns
                            ).collect().row(0)
    odd = [c for c, hit in zip(df.columns, hits, strict=True) if hit]
    if not odd:
        return set(), set()
    found = df.lazy().select(
        *(pl.col(c).str.contains(_SPACE_FIRST).any().alias(f"s{i}") for i, c in enumerate(odd)),
        *(pl.col(c).str.contains(_FORMULA_FIRST).any().alias(f"f{i}")
          for i, c in enumerate(odd))).collect().row(0)
    return ({c for c, hit in zip(odd, found[:len(odd)], strict=True) if hit},
            {c for c, hit in zip(odd, found[len(odd):], strict=True) if hit})


def null_blank(df: pl.DataFrame, spaced: set[str] | None = None) -> pl.DataFrame:
    """Empty and whitespace-only cells become null (a cell is empty or not).
    ``spaced``: the columns with a cell starting with white space, when known."""
    if spaced is None:
        spaced = odd_first_columns(df)[0]
    return df.with_columns(
        (pl.when(pl.col(c).str.contains(r"\S")) if c in spaced
         else pl.when(pl.col(c).str.len_bytes() > 0)).then(pl.col(c)).alias(c)
        for c in df.columns)


def long_cell_issues(df: pl.DataFrame, *, formula_columns=()) -> pl.DataFrame:
    """too_long (and, in ``formula_columns``, formula) issues, found in one
    vectorised pass.

    Rows with any problem are picked first, so the per-column work runs on a
    handful of rows, not on the whole file.
    """
    if df.width == 0 or df.height == 0:
        return empty_issues()
    checks = {c: [pl.col(c).str.len_chars() > MAX_CELL_CHARS] for c in df.columns}
    # Bytes are never fewer than characters, and much cheaper to count.
    quick = [pl.col(c).str.len_bytes() > MAX_CELL_CHARS for c in df.columns]
    for c in formula_columns:
        checks[c].append(pl.col(c).str.contains(_CSV_FORMULA_RE))
        quick.append(checks[c][-1])
    flag = pl.any_horizontal(quick).fill_null(False)
    hits = df.with_row_index("__row").filter(flag)
    if hits.is_empty():
        return empty_issues()
    frames = []
    for c in df.columns:
        for code, expr in zip(("too_long", "formula"), checks[c], strict=False):
            found = hits.filter(expr.fill_null(False))
            if not found.is_empty():
                frames.append(found.select(
                    pl.col("__row").cast(pl.UInt32), pl.lit(c).alias("column"),
                    pl.col(c).str.slice(0, 200).alias("value"), pl.lit(code).alias("code")))
    return pl.concat(frames) if frames else empty_issues()


def float_text(value: float) -> str:
    if value.is_integer():
        return str(int(value))
    text = repr(value)
    if "e" in text or "E" in text:
        text = format(Decimal(text), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def cell_text(value) -> str:
    """Text of a calamine cell: integral floats as digits, dates in ISO."""
    kind = type(value)
    if kind is str:
        return value
    if kind is float:
        return float_text(value)
    if kind is bool:
        return "1" if value else "0"
    if kind is int:
        return str(value)
    if kind is datetime:
        if value.time() == time(0, 0):
            return value.date().isoformat()
        return value.isoformat(sep=" ")
    if kind is date or kind is time:
        return value.isoformat()
    if kind is timedelta:
        return str(value)
    return "" if value is None else str(value)


def sorted_issues(issues: pl.DataFrame) -> pl.DataFrame:
    return issues.sort("__row", "column", maintain_order=True)
