"""Read an uploaded data file (CSV text or .xlsx) into a table of text cells.

Every value comes back as text, exactly as the user typed it: ``0012`` stays
``0012`` and a NIK typed as an Excel number comes back as its digits, flagged.
Nothing is interpreted here (no dates, no codes): that is normalize.py's job.
What is found while reading is of two kinds:

- a problem with the whole file (empty, binary, unreadable encoding,
  duplicate headers...) raises :class:`DataFileError` with a message that
  names the file and says what to do;
- a problem with one cell (a formula, a 16-digit number stored as a number, a
  huge cell, a row with too many fields) becomes a row of ``Table.issues``,
  so the rest of the file can still be checked and reported in one go.

The kind of file is told by its content, never by its name, because users
rename files (and browsers send whatever name they like).
"""

from __future__ import annotations

import csv
import gc
import html
import io
import re
import zipfile
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path

import polars as pl
from django.utils.translation import gettext as _
from python_calamine import CalamineError, CalamineWorkbook

from sinergi.core.errors import DataFileError

MAX_COLUMNS = 200
MAX_CELL_CHARS = 1000
# Excel keeps 15 significant digits: a number this long may have lost digits.
TRUSTED_DIGITS = 15
OPENSID_END_MARK = "###"
OPENSID_LOOKUP_SHEET = "kode data"
# A sheet of an OpenSID workbook holds residents when it has one of these.
OPENSID_KEY_HEADERS = ("nik", "no_kk")

SEPARATORS = (",", ";", "\t")
SNIFF_BYTES = 64 * 1024
SNIFF_LINES = 50

ZIP_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0"
# Codes of Table.issues; severities and messages are in normalize.py.
CELL_ISSUE_CODES = ("number_16_digits", "formula", "too_long", "extra_fields")
_ISSUE_SCHEMA = {"__row": pl.UInt32, "column": pl.String, "value": pl.String, "code": pl.String}
# CSV formula injection (OWASP): a spreadsheet would run these on opening.
_CSV_FORMULA_RE = r"^(?:=.|[+@\-][A-Za-z(])"
_BINARY_MAGIC = (b"\x89PNG", b"\xff\xd8\xff", b"GIF8", b"%PDF", b"\x1f\x8b", b"Rar!",
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


def read_table(path: Path, *, file_name: str, opensid: bool = False) -> Table:
    """Read ``path`` (CSV or .xlsx, told by content) into a :class:`Table`.

    ``file_name`` is the name the user knows the file by, used in messages.
    ``opensid`` reads an OpenSID resident workbook: every sheet but
    "Kode Data", each one ending at the row whose column B is ``###``.
    """
    path = Path(path)
    with open(path, "rb") as fh:
        head = fh.read(8)
    if head.startswith(ZIP_MAGIC):
        with _no_cyclic_gc():
            return _read_xlsx(path, file_name=file_name, opensid=opensid)
    if head.startswith(OLE_MAGIC):
        raise DataFileError(_(
            "File '%(file)s' is an old Excel 97-2003 workbook (.xls) or a password-protected "
            "workbook, which cannot be read. Open it in Excel or LibreOffice, remove any "
            "password and save it as an Excel workbook (.xlsx) or as CSV UTF-8, then upload "
            "it again.") % {"file": file_name})
    return _read_csv(path.read_bytes(), file_name=file_name, opensid=opensid)


# --- shared helpers -----------------------------------------------------------


@contextmanager
def _no_cyclic_gc():
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


def _header_text(value) -> str:
    return " ".join(_cell_text(value).split()) if value is not None else ""


def _column_letter(index: int) -> str:
    """0 -> A, 25 -> Z, 26 -> AA."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _column_index(letters: str) -> int:
    index = 0
    for ch in letters:
        index = index * 26 + (ord(ch) - 64)
    return index - 1


def _empty_issues() -> pl.DataFrame:
    return pl.DataFrame(schema=_ISSUE_SCHEMA)


def _place(file_name: str, sheet: str | None = None) -> str:
    """Where a problem is, as the start of a sentence."""
    if sheet is None:
        return _("File '%(file)s'") % {"file": file_name}
    # Translators: the start of a sentence naming a spreadsheet file and sheet.
    return _("File '%(file)s', sheet '%(sheet)s'") % {"file": file_name, "sheet": sheet}


def _check_headers(headers: list[str], has_data: list[bool], *, place: str,
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
            column = (_("column %(letter)s") % {"letter": _column_letter(i)} if xlsx
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


def _no_data_error(place: str) -> DataFileError:
    return DataFileError(_(
        "%(place)s has a header row but no data rows. Fill in at least one row under the "
        "header and upload it again.") % {"place": place})


def _empty_error(file_name: str) -> DataFileError:
    return DataFileError(_(
        "File '%(file)s' is empty. Choose the file that holds the data (a CSV or .xlsx "
        "file with a header row and one row per person) and upload it again.")
        % {"file": file_name})


_SPACE_FIRST = r"^[ \t\r\n\u00a0]"
_FORMULA_FIRST = r"^[=+\-@]"


def _odd_first_columns(df: pl.DataFrame) -> tuple[set[str], set[str]]:
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


def _null_blank(df: pl.DataFrame, spaced: set[str] | None = None) -> pl.DataFrame:
    """Empty and whitespace-only cells become null (a cell is empty or not).
    ``spaced``: the columns with a cell starting with white space, when known."""
    if spaced is None:
        spaced = _odd_first_columns(df)[0]
    return df.with_columns(
        (pl.when(pl.col(c).str.contains(r"\S")) if c in spaced
         else pl.when(pl.col(c).str.len_bytes() > 0)).then(pl.col(c)).alias(c)
        for c in df.columns)


def _long_cell_issues(df: pl.DataFrame, *, formula_columns=()) -> pl.DataFrame:
    """too_long (and, in ``formula_columns``, formula) issues, found in one
    vectorised pass.

    Rows with any problem are picked first, so the per-column work runs on a
    handful of rows, not on the whole file.
    """
    if df.width == 0 or df.height == 0:
        return _empty_issues()
    checks = {c: [pl.col(c).str.len_chars() > MAX_CELL_CHARS] for c in df.columns}
    # Bytes are never fewer than characters, and much cheaper to count.
    quick = [pl.col(c).str.len_bytes() > MAX_CELL_CHARS for c in df.columns]
    for c in formula_columns:
        checks[c].append(pl.col(c).str.contains(_CSV_FORMULA_RE))
        quick.append(checks[c][-1])
    flag = pl.any_horizontal(quick).fill_null(False)
    hits = df.with_row_index("__row").filter(flag)
    if hits.is_empty():
        return _empty_issues()
    frames = []
    for c in df.columns:
        for code, expr in zip(("too_long", "formula"), checks[c], strict=False):
            found = hits.filter(expr.fill_null(False))
            if not found.is_empty():
                frames.append(found.select(
                    pl.col("__row").cast(pl.UInt32), pl.lit(c).alias("column"),
                    pl.col(c).str.slice(0, 200).alias("value"), pl.lit(code).alias("code")))
    return pl.concat(frames) if frames else _empty_issues()


# --- CSV --------------------------------------------------------------------


def _decode(data: bytes, *, file_name: str) -> bytes:
    """The file as UTF-8 bytes, BOM removed (Windows-1252 text re-encoded)."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise DataFileError(_(
            "File '%(file)s' is saved as Unicode text (UTF-16), which cannot be read. Open it "
            "in Excel or LibreOffice and save it as 'CSV UTF-8', then upload it again.")
            % {"file": file_name})
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    if b"\x00" in data or data.startswith(_BINARY_MAGIC) or _looks_binary(data[:SNIFF_BYTES]):
        raise DataFileError(_(
            "File '%(file)s' is not a CSV text file or an Excel workbook (.xlsx); it looks "
            "like a picture, a PDF or another binary file. Upload the data as .xlsx or as "
            "CSV UTF-8.") % {"file": file_name})
    if data.isascii():
        return data
    try:
        data.decode("utf-8")
        return data
    except UnicodeDecodeError:
        pass
    try:
        text = data.decode("cp1252")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise DataFileError(_(
            "File '%(file)s' is in a text encoding that cannot be recognised (first unknown "
            "character on line %(line)d). Open it in Excel or LibreOffice and save it as "
            "'CSV UTF-8', then upload it again.") % {"file": file_name, "line": line}) from None
    return text.encode("utf-8")


def _looks_binary(sample: bytes) -> bool:
    """Control characters other than tab/newline/CR/FF are not in text files."""
    if not sample:
        return False
    controls = sum(sample.count(bytes([b])) for b in range(32) if b not in (9, 10, 12, 13))
    return controls > max(8, len(sample) // 100)


def _sniff_separator(text: str) -> str:
    """The separator that splits the header into >1 columns and agrees best
    with the next lines; ties go to the one giving more columns."""
    lines = [line for line in text.splitlines() if line.strip()][:SNIFF_LINES]
    best, best_score = ",", None
    for sep in SEPARATORS:
        try:
            rows = list(csv.reader(lines, delimiter=sep))
        except csv.Error:
            continue
        if not rows or len(rows[0]) < 2:
            continue
        width = len(rows[0])
        same = sum(1 for r in rows[1:] if len(r) == width)
        longer = sum(1 for r in rows[1:] if len(r) > width)
        score = (same - longer, width)
        if best_score is None or score > best_score:
            best, best_score = sep, score
    return best


_BLANK_LINE_RE = re.compile(rb"[ \t,;\r]*\n")
_ONLY_SEPARATORS = re.compile(rb"[ \t\r\n,;]*\Z")


def _skip_leading_blank_lines(data: bytes) -> tuple[bytes, int]:
    skipped, pos = 0, 0
    while True:
        m = _BLANK_LINE_RE.match(data, pos)
        if not m:
            return data[pos:], skipped
        pos = m.end()
        skipped += 1


def _read_csv(data: bytes, *, file_name: str, opensid: bool) -> Table:
    if not data or data.isspace():  # (not strip(): no copy of the whole file)
        raise _empty_error(file_name)
    data = _decode(data, file_name=file_name)
    if b"\n" not in data and b"\r" in data:
        data = data.replace(b"\r", b"\n")  # old Mac line ends
    body, skipped = _skip_leading_blank_lines(data)
    if _ONLY_SEPARATORS.match(body):
        raise _empty_error(file_name)
    sample = body[:SNIFF_BYTES].decode("utf-8", errors="ignore")
    sep = _sniff_separator(sample)
    try:
        raw, lines = _csv_polars(body, sep=sep, first_line=skipped + 1)
        extra = _empty_issues()
    except (pl.exceptions.ComputeError, pl.exceptions.NoDataError):
        # Some row has more fields than the header: read again with room for
        # the extra fields, which become ``extra_fields`` issues.
        try:
            width = len(next(csv.reader(io.StringIO(sample, newline=""), delimiter=sep)))
            raw, lines = _csv_polars(body, sep=sep, first_line=skipped + 1, width=width)
            raw, extra = _split_extra_fields(raw, width=width, sep=sep)
        except (pl.exceptions.PolarsError, csv.Error, StopIteration):
            # Whatever polars refuses, the csv module reads (slowly: ~20 MB/s).
            raw, lines, extra = _csv_python(body.decode("utf-8"), sep=sep,
                                            first_line=skipped + 1, file_name=file_name)
    if b'"' in body and body.count(b'"') % 2:
        _check_unclosed_quote(raw, lines, file_name=file_name)
    return _finish_csv(raw, lines, extra, file_name=file_name, opensid=opensid)


def _check_unclosed_quote(raw: pl.DataFrame, lines: pl.Series, *, file_name: str) -> None:
    """A quote opened and never closed swallows the rest of the file into
    one cell of the last record. An odd number of quote marks alone proves
    nothing (a quote inside an unquoted value, as in 5", is kept as text), so
    the sign is both: an odd count and a last record spanning lines."""
    if raw.height == 0:
        return
    last = raw.tail(1).select(pl.any_horizontal(
        pl.all().str.contains("\n", literal=True)).fill_null(False))
    if last.item():
        raise DataFileError(_(
            "%(place)s, line %(line)d: a quote mark (\") is opened and never closed, so the "
            "rest of the file reads as one cell. Close or remove the quote mark and upload "
            "again.") % {"place": _place(file_name), "line": lines[-1]})


EXTRA_FIELDS_KEPT = 20  # fields past the header's width kept to show in the issue


def _csv_polars(body: bytes, *, sep: str, first_line: int,
                width: int | None = None) -> tuple[pl.DataFrame, pl.Series]:
    """Fast path: polars parses, every column text. Returns all records
    (header included) and the physical line of each. With ``width`` (the
    header's field count), rows may be longer: up to EXTRA_FIELDS_KEPT more
    fields land in extra columns."""
    if width is None:
        options = {"truncate_ragged_lines": False}
    else:
        options = {"truncate_ragged_lines": True, "missing_columns": "insert", "schema": {
            f"column_{i + 1}": pl.String for i in range(width + EXTRA_FIELDS_KEPT)}}
    raw = pl.read_csv(io.BytesIO(body), has_header=False, separator=sep, quote_char='"',
                      infer_schema=False, raise_if_empty=False, **options)
    n = raw.height
    if b'"' in body and n:
        # A quoted value may span lines: shift each record by the line breaks
        # inside the records before it.
        breaks = raw.select(pl.sum_horizontal(
            pl.col(c).str.count_matches("\n", literal=True).fill_null(0) for c in raw.columns
        ).cast(pl.UInt32).alias("b"))["b"]
        before = breaks.cum_sum().shift(1, fill_value=0)
        lines = (pl.int_range(n, dtype=pl.UInt32, eager=True) + first_line + before)
    else:
        lines = pl.int_range(first_line, first_line + n, dtype=pl.UInt32, eager=True)
    return raw, lines.cast(pl.UInt32).rename("line")


def _split_extra_fields(raw: pl.DataFrame, *, width: int,
                        sep: str) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The first ``width`` columns, and an ``extra_fields`` issue for each
    data row with a value past them (``__row`` indexes data rows, header
    excluded, as _finish_csv expects)."""
    extras = raw.columns[width:]
    found = raw.with_row_index("__i").filter(
        pl.any_horizontal(pl.col(c).str.contains(r"\S") for c in extras).fill_null(False)
        & (pl.col("__i") > 0))
    extra = found.select(
        (pl.col("__i") - 1).cast(pl.UInt32).alias("__row"), pl.lit("").alias("column"),
        pl.concat_str(extras, separator=sep, ignore_nulls=True).str.slice(0, 200)
        .alias("value"), pl.lit("extra_fields").alias("code"))
    return raw.select(raw.columns[:width]), extra


def _csv_python(text: str, *, sep: str, first_line: int,
                file_name: str) -> tuple[pl.DataFrame, pl.Series, pl.DataFrame]:
    """Slow, forgiving path: the csv module; rows longer than the header are
    cut to the header's width and reported as ``extra_fields``. Blank rows
    are kept here (as empty rows) and dropped with the others later."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sep)
    records: list[list[str]] = []
    ends: list[int] = []  # physical line where each record ends
    with _no_cyclic_gc():
        try:
            for row in reader:
                records.append(row)
                ends.append(reader.line_num)
        except csv.Error as exc:
            raise DataFileError(_(
                "%(place)s, line %(line)d cannot be read (%(error)s). Check for a quote mark "
                "(\") that is opened and never closed, fix it and upload again.")
                % {"place": _place(file_name), "line": reader.line_num + first_line - 1,
                   "error": exc}) from None
        width = len(records[0])
        lengths = pl.Series(list(map(len, records)), dtype=pl.UInt32)
        extra_rows, extra_values = [], []
        for i in (lengths != width).arg_true():
            row = records[i]
            if len(row) > width:
                if any(cell.strip() for cell in row[width:]):
                    extra_rows.append(i - 1)  # index among data rows (header is record 0)
                    extra_values.append(sep.join(row[width:])[:200])
                del row[width:]
            else:
                row.extend([None] * (width - len(row)))
        columns = list(zip(*records, strict=True))
        raw = pl.DataFrame({f"column_{i + 1}": pl.Series(col, dtype=pl.String)
                            for i, col in enumerate(columns)})
    # A record starts on the line after the previous one ended.
    lines = pl.Series(ends, dtype=pl.UInt32).shift(1, fill_value=0) + first_line
    extra = pl.DataFrame({"__row": extra_rows, "column": [""] * len(extra_rows),
                          "value": extra_values, "code": ["extra_fields"] * len(extra_rows)},
                         schema=_ISSUE_SCHEMA)
    return raw, lines.rename("line"), extra


def _finish_csv(raw: pl.DataFrame, lines: pl.Series, extra: pl.DataFrame, *, file_name: str,
                opensid: bool) -> Table:
    """Header checks, blank rows dropped, cell issues; ``extra.__row``
    indexes the data records (header excluded) before blank rows go."""
    spaced, formulas = _odd_first_columns(raw)
    raw = _null_blank(raw, spaced)
    headers = [_header_text(v) for v in raw.row(0)]
    data = raw.slice(1)
    data_lines = lines.slice(1)
    if opensid and data.width > 1:
        marks = data.get_column(data.columns[1]).str.strip_chars() == OPENSID_END_MARK
        stop = marks.arg_true()
        if len(stop):
            data, data_lines = data.slice(0, stop[0]), data_lines.slice(0, stop[0])
    has_data = [data.get_column(c).null_count() < data.height for c in data.columns]
    keep = _check_headers(headers, has_data, place=_place(file_name), xlsx=False)
    # A CSV has no formulas, but Excel runs a cell written like one when the
    # file is opened: such cells are reported (a cell of the header row only
    # makes its column looked at).
    formula_columns = [headers[i] for i in keep if data.columns[i] in formulas]
    data = data.select([pl.col(data.columns[i]).alias(headers[i]) for i in keep])
    nonblank = data.select(pl.any_horizontal(pl.all().is_not_null()).alias("k"))["k"]
    if data.width == 0 or not nonblank.any():
        raise _no_data_error(_place(file_name))
    positions = nonblank.arg_true().cast(pl.UInt32)
    if len(positions) < data.height:
        data, data_lines = data.filter(nonblank), data_lines.filter(nonblank)
    issues = _long_cell_issues(data, formula_columns=formula_columns)
    if extra.height:
        # Re-index to rows of the final frame; the extra fields of a row cut
        # off by "###" or dropped as blank are not reported.
        remap = pl.DataFrame({"old": positions, "__new": pl.int_range(
            len(positions), dtype=pl.UInt32, eager=True)})
        extra = extra.join(remap, left_on="__row", right_on="old", how="inner").select(
            pl.col("__new").alias("__row"), "column", "value", "code")
        issues = pl.concat([extra, issues])
    return Table(df=data, lines=data_lines.rename("line"), issues=_sorted(issues),
                 file_name=file_name, sheet=None)


def _sorted(issues: pl.DataFrame) -> pl.DataFrame:
    return issues.sort("__row", "column", maintain_order=True)


# --- XLSX -------------------------------------------------------------------


_SHEET_RE = re.compile(rb"<(?:\w+:)?sheet\b([^>]*)/?>")
_ATTR_RE = re.compile(rb'([\w:]+)="([^"]*)"')
_REL_RE = re.compile(rb"<(?:\w+:)?Relationship\b([^>]*)/?>")
_ROOT_RE = re.compile(rb"<(\w+:)?worksheet[\s>]")
_CELL_REF_RE = re.compile(rb'\br="([A-Z]{1,3})(\d+)"')


def _sheet_xml_paths(zf: zipfile.ZipFile) -> dict[str, str]:
    """Sheet name -> path of its XML inside the workbook zip."""
    try:
        workbook = zf.read("xl/workbook.xml")
        rels = zf.read("xl/_rels/workbook.xml.rels")
    except KeyError:
        return {}
    targets = {}
    for m in _REL_RE.finditer(rels):
        attrs = dict(_ATTR_RE.findall(m.group(1)))
        if b"Id" in attrs and b"Target" in attrs:
            target = attrs[b"Target"].decode()
            targets[attrs[b"Id"]] = target.lstrip("/") if target.startswith("/") \
                else "xl/" + target
    paths = {}
    for m in _SHEET_RE.finditer(workbook):
        attrs = dict(_ATTR_RE.findall(m.group(1)))
        rel = next((v for k, v in attrs.items() if k.endswith(b":id")), None)
        name = attrs.get(b"name")
        if name is not None and rel in targets:
            paths[html.unescape(name.decode("utf-8"))] = targets[rel]
    return paths


def _formula_cells(zf: zipfile.ZipFile, xml_path: str | None) -> dict[tuple[int, int], str]:
    """(row number, column index) -> formula text of every formula cell.

    Formulas are rare, so instead of parsing the XML the scan jumps from one
    ``<f`` to the next (a C-speed ``bytes.find``) and looks back only from a
    hit for the reference of its cell (``<c r="B5" ...><f>...</f>``).
    """
    if not xml_path:
        return {}
    try:
        xml = zf.read(xml_path)
    except KeyError:
        return {}
    root = _ROOT_RE.search(xml, 0, 4096)
    prefix = (root.group(1) or b"") if root else b""
    needle, cell_open, close = b"<" + prefix + b"f", b"<" + prefix + b"c ", b"</" + prefix + b"f>"
    found = {}
    pos = xml.find(needle)
    while pos >= 0:
        after = pos + len(needle)
        if xml[after:after + 1] in (b" ", b">", b"/", b"\t", b"\n", b"\r"):
            start = xml.rfind(cell_open, 0, pos)
            ref = _CELL_REF_RE.search(xml, start, pos) if start >= 0 else None
            tag_end = xml.find(b">", after)
            if ref and tag_end > 0:
                body = b""
                if xml[tag_end - 1:tag_end] != b"/":  # <f/> follows a shared formula
                    body_end = xml.find(close, tag_end)
                    body = xml[tag_end + 1:body_end if body_end > 0 else tag_end + 1][:400]
                text = "=" + html.unescape(body.decode("utf-8", errors="replace"))
                found[(int(ref.group(2)), _column_index(ref.group(1).decode()))] = text[:200]
        pos = xml.find(needle, after)
    return found


def _float_text(value: float) -> str:
    if value.is_integer():
        return str(int(value))
    text = repr(value)
    if "e" in text or "E" in text:
        text = format(Decimal(text), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def _cell_text(value) -> str:
    """Text of a calamine cell: integral floats as digits, dates in ISO."""
    kind = type(value)
    if kind is str:
        return value
    if kind is float:
        return _float_text(value)
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


def _digit_count(text: str) -> int:
    return len(text.lstrip("-").replace(".", "").lstrip("0"))


_LONG_NUMBER = 10 ** (TRUSTED_DIGITS - 1)  # the smallest number of 15 digits


def _column_texts(values: tuple, *, col: int, numbers: list[tuple[int, int, str]]) -> pl.Series:
    """One column of calamine cells as text; long numbers noted in ``numbers``
    as (position, column index, text).

    Text cells pass through; number and date cells, which can fill whole
    columns, are converted by polars; the rare others (booleans, times,
    integral floats beyond Int64) cell by cell.
    """
    kinds = set(map(type, values))
    if kinds <= {str}:
        return pl.Series(values=values, dtype=pl.String)
    parts = []
    if str in kinds:
        parts.append(pl.Series([v if type(v) is str else None for v in values], dtype=pl.String))
    if float in kinds:
        floats = pl.Series(values if kinds == {float} else
                           [v if type(v) is float else None for v in values], dtype=pl.Float64)
        integral = floats.is_not_null() & (floats == floats.floor()) & (floats.abs() < 9e18)
        as_int = pl.when(integral).then(floats).cast(pl.Int64, strict=False)
        parts.append(pl.select(as_int.cast(pl.String)).to_series())
        for pos in pl.select(as_int.abs() >= _LONG_NUMBER).to_series().arg_true():
            numbers.append((pos, col, str(int(values[pos]))))
    if date in kinds:
        dates = pl.Series(values if kinds == {date} else
                          [v if type(v) is date else None for v in values], dtype=pl.Date)
        parts.append(dates.dt.to_string("%Y-%m-%d"))
    # Everything not handled above, one by one: rare in practice.
    if not parts:
        done = pl.Series([None] * len(values), dtype=pl.String)
    elif len(parts) == 1:
        done = parts[0]
    else:
        done = pl.select(pl.coalesce(parts)).to_series()
    rest = done.is_null().arg_true()
    if len(rest):
        texts = done.to_list()
        for pos in rest:
            value = values[pos]
            text = _cell_text(value)
            kind = type(value)
            if (kind is float or kind is int) and _digit_count(text) >= TRUSTED_DIGITS:
                numbers.append((pos, col, text))
            texts[pos] = text
        done = pl.Series(texts, dtype=pl.String)
    return done


@dataclass
class _Sheet:
    name: str
    df: pl.DataFrame          # header-named text columns, blank rows dropped
    lines: pl.Series          # spreadsheet row numbers
    issues: pl.DataFrame      # __row indexes this sheet's df


def _read_xlsx(path: Path, *, file_name: str, opensid: bool) -> Table:
    try:
        workbook = CalamineWorkbook.from_path(str(path))
        names = list(workbook.sheet_names)
    except (CalamineError, OSError, ValueError) as exc:
        raise DataFileError(_(
            "File '%(file)s' looks like an Excel workbook but cannot be opened (%(error)s). "
            "Open it in Excel or LibreOffice, save it again as .xlsx and upload it again.")
            % {"file": file_name, "error": exc}) from None
    try:
        zf = zipfile.ZipFile(path)
    except zipfile.BadZipFile:
        zf = None
    # The formula scan inflates the sheet XML (zlib releases the GIL) while
    # calamine parses the same sheet: on two cores that hides its cost.
    scanner = ThreadPoolExecutor(max_workers=1)
    try:
        xml_paths = _sheet_xml_paths(zf) if zf else {}
        sheets: list[_Sheet] = []
        header_only = None
        for name in names:
            if opensid and name.strip().lower() == OPENSID_LOOKUP_SHEET:
                continue
            scan = scanner.submit(_formula_cells, zf, xml_paths.get(name)) if zf else None
            try:
                rows = workbook.get_sheet_by_name(name).to_python(skip_empty_area=False)
            except CalamineError as exc:
                raise DataFileError(_(
                    "File '%(file)s', sheet '%(sheet)s' cannot be read (%(error)s). Save the "
                    "workbook again as .xlsx and upload it again.")
                    % {"file": file_name, "sheet": name, "error": exc}) from None
            formulas = scan.result() if scan else {}
            sheet = _read_sheet(rows, name=name, file_name=file_name, opensid=opensid,
                                formulas=formulas)
            if sheet is None:
                continue
            if sheet.df.height == 0:
                header_only = header_only or name
                continue
            sheets.append(sheet)
            if not opensid:
                break
    finally:
        scanner.shutdown(wait=True)
        if zf:
            zf.close()
    if not sheets:
        if header_only:
            raise _no_data_error(_place(file_name, header_only))
        raise DataFileError(_(
            "File '%(file)s' has no sheet with data. Put a header row and one row per person "
            "in the first sheet and upload it again.") % {"file": file_name})
    if opensid:
        residents = [s for s in sheets if any(
            h.lower() in OPENSID_KEY_HEADERS for h in s.df.columns)]
        sheets = residents or sheets[:1]
    return _combine(sheets, file_name=file_name)


def _blank_row(cells) -> bool:
    return all(v is None or (type(v) is str and not v.strip()) for v in cells)


def _read_sheet(rows: list[list], *, name: str, file_name: str, opensid: bool,
                formulas: dict[tuple[int, int], str]) -> _Sheet | None:
    """A sheet's cells as text, or None when the sheet holds nothing."""
    header_at = next((i for i, row in enumerate(rows) if not _blank_row(row)), None)
    if header_at is None:
        return None
    end = len(rows)
    if opensid:
        end = next((i for i in range(header_at + 1, len(rows))
                    if len(rows[i]) > 1 and isinstance(rows[i][1], str)
                    and rows[i][1].strip() == OPENSID_END_MARK), end)
    body = rows[header_at + 1:end]
    lengths = set(map(len, body)) | {len(rows[header_at])}  # calamine's rows are even
    width = max(lengths)
    headers = [_header_text(v) for v in rows[header_at]] + [""] * (width - len(rows[header_at]))
    if len(lengths) > 1:
        body = [list(r) + [""] * (width - len(r)) for r in body]
    first_row = header_at + 2  # spreadsheet row of body[0]
    for (row_number, col), text in formulas.items():
        # A formula saved without its result (files written by scripts) shows
        # as empty: keep its text so the row and its issue are not lost.
        pos = row_number - first_row
        if 0 <= pos < len(body) and col < width and body[pos][col] == "":
            body[pos][col] = text
    columns = list(zip(*body, strict=True)) if body else [()] * width
    numbers: list[tuple[int, int, str]] = []
    df = pl.DataFrame({f"c{i}": _column_texts(col, col=i, numbers=numbers)
                       for i, col in enumerate(columns)})
    df = _null_blank(df)
    has_data = [df.get_column(c).null_count() < df.height for c in df.columns]
    keep = _check_headers(headers, has_data, place=_place(file_name, name), xlsx=True)
    df = df.select([pl.col(f"c{i}").alias(headers[i]) for i in keep])
    lines = pl.int_range(first_row, first_row + len(body), dtype=pl.UInt32, eager=True)
    nonblank = (df.select(pl.any_horizontal(pl.all().is_not_null()).alias("k"))["k"]
                if df.width else pl.Series([False] * len(body)))
    positions = nonblank.arg_true().cast(pl.UInt32)
    df, lines = df.filter(nonblank), lines.filter(nonblank)
    # Cell issues found by position -> rows of the filtered frame.
    raw_issues = [(pos, col, text, "number_16_digits") for pos, col, text in numbers]
    for (row_number, col), text in formulas.items():
        pos = row_number - first_row
        if 0 <= pos < len(body) and col < width:
            if text == "=":  # a copy of a shared formula: show the value instead
                text = _cell_text(body[pos][col]) or text
            raw_issues.append((pos, col, text, "formula"))
    issues = _long_cell_issues(df)
    if raw_issues:
        kept = set(keep)
        raw_issues = [r for r in raw_issues if r[1] in kept]
        found = pl.DataFrame(
            {"pos": [r[0] for r in raw_issues],
             "column": [headers[r[1]] for r in raw_issues],
             "value": [r[2] for r in raw_issues], "code": [r[3] for r in raw_issues]},
            schema={"pos": pl.UInt32, "column": pl.String, "value": pl.String,
                    "code": pl.String})
        remap = pl.DataFrame({"pos": positions, "__row": pl.int_range(
            len(positions), dtype=pl.UInt32, eager=True)})
        found = found.join(remap, on="pos", how="inner").select(
            "__row", "column", "value", "code")
        issues = pl.concat([found, issues])
    return _Sheet(name=name, df=df, lines=lines.rename("line"), issues=issues)


def _combine(sheets: list[_Sheet], *, file_name: str) -> Table:
    if len(sheets) == 1:
        s = sheets[0]
        return Table(df=s.df, lines=s.lines, issues=_sorted(s.issues), file_name=file_name,
                     sheet=s.name)
    offsets, offset = [], 0
    for s in sheets:
        offsets.append(offset)
        offset += s.df.height
    df = pl.concat([s.df for s in sheets], how="diagonal")
    issues = pl.concat([s.issues.with_columns((pl.col("__row") + off).cast(pl.UInt32))
                        for s, off in zip(sheets, offsets, strict=True)])
    row_sheets = pl.concat([pl.Series("sheet", [s.name] * s.df.height, dtype=pl.String)
                            for s in sheets])
    return Table(df=df, lines=pl.concat([s.lines for s in sheets]), issues=_sorted(issues),
                 file_name=file_name, sheet=", ".join(s.name for s in sheets),
                 row_sheets=row_sheets)
