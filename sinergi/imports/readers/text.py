"""CSV files: decoded (UTF-8, with or without BOM, Windows-1252, or UTF-16
as Excel's "Unicode Text" writes it), the separator sniffed, parsed by
polars (the csv module when polars refuses), every value kept as text with
the line the user sees. Web pages saved under a spreadsheet's name are told
apart from text and refused with what to do."""

from __future__ import annotations

import csv
import io
import re

import polars as pl
from django.utils.translation import gettext as _

from sinergi.core.errors import DataFileError

from .common import (
    BINARY_MAGIC,
    HEADER_SCAN_ROWS,
    ISSUE_SCHEMA,
    MIN_HEADER_SCORE,
    OPENSID_END_MARK,
    SEPARATORS,
    SNIFF_BYTES,
    SNIFF_LINES,
    HeaderScore,
    Table,
    check_headers,
    empty_error,
    empty_issues,
    header_text,
    long_cell_issues,
    no_cyclic_gc,
    no_data_error,
    null_blank,
    odd_first_columns,
    sorted_issues,
    where,
)


def decode(data: bytes, *, file_name: str) -> bytes:
    """The file as UTF-8 bytes, BOM removed (Windows-1252 and UTF-16 text
    re-encoded); a web page or an XML spreadsheet is refused."""
    if data.startswith(BINARY_MAGIC):
        raise _binary_error(file_name)
    utf16 = _utf16_encoding(data)
    if utf16:
        try:
            data = data.decode(utf16).lstrip("\ufeff").encode("utf-8")
        except UnicodeDecodeError as exc:
            line = data[:exc.start].decode(utf16, errors="ignore").count("\n") + 1
            raise _unknown_encoding(file_name, line) from None
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    _refuse_markup(data, file_name=file_name)
    if b"\x00" in data or _looks_binary(data[:SNIFF_BYTES]):
        raise _binary_error(file_name)
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
        raise _unknown_encoding(file_name, data.count(b"\n", 0, exc.start) + 1) from None
    return text.encode("utf-8")


def _binary_error(file_name: str) -> DataFileError:
    return DataFileError(_(
        "File '%(file)s' is not a CSV text file or an Excel workbook (.xlsx); it looks "
        "like a picture, a PDF or another binary file. Upload the data as .xlsx or as "
        "CSV UTF-8.") % {"file": file_name})


def _unknown_encoding(file_name: str, line: int) -> DataFileError:
    return DataFileError(_(
        "File '%(file)s' is in a text encoding that cannot be recognised (first unknown "
        "character on line %(line)d). Open it in Excel or LibreOffice and save it as "
        "'CSV UTF-8', then upload it again.") % {"file": file_name, "line": line})


_UTF16_SAMPLE = 4096


def _utf16_encoding(data: bytes) -> str | None:
    """The codec of UTF-16 text (Excel's "Unicode Text", some exports), or None.

    With a BOM that says it; without one, the NUL bytes tell: text that is
    mostly ASCII has a NUL in every other byte, the odd ones in
    little-endian, the even ones in big-endian, while binary files have
    NULs anywhere or none.
    """
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16"
    sample = data[:_UTF16_SAMPLE]
    sample = sample[:len(sample) - len(sample) % 2]
    half = len(sample) // 2
    if half < 4:
        return None
    even, odd = sample[0::2].count(0), sample[1::2].count(0)
    if odd >= 0.4 * half and even <= 0.02 * half:
        return "utf-16-le"
    if even >= 0.4 * half and odd <= 0.02 * half:
        return "utf-16-be"
    return None


_MARKUP_START = re.compile(rb"^\s*<(?:!doctype\s+html|html|head|body|table|meta|style)[\s>]",
                           re.IGNORECASE)


def _refuse_markup(data: bytes, *, file_name: str) -> None:
    """A web page (HTML, MHTML) or an Excel 2003 XML spreadsheet saved
    under a spreadsheet's name: many systems "export to Excel" that way, and
    Excel opens them, so users do not see the difference."""
    head = data[:2048]
    lowered = head.lower()
    xml_workbook = lowered.lstrip().startswith(b"<?xml") and (
        b"urn:schemas-microsoft-com:office:spreadsheet" in lowered
        or b"<workbook" in lowered)
    if xml_workbook:
        raise DataFileError(_(
            "File '%(file)s' is an Excel 2003 XML spreadsheet, not an Excel workbook (.xlsx). "
            "Open it in Excel, save it as Excel Workbook (.xlsx) or as CSV UTF-8, and upload "
            "that file.") % {"file": file_name})
    web_page = (_MARKUP_START.match(head) is not None
                or (lowered.lstrip().startswith(b"<?xml") and b"<html" in lowered)
                or (lowered.startswith(b"mime-version:") and b"text/html" in lowered))
    if web_page:
        raise DataFileError(_(
            "File '%(file)s' is a web page (HTML) saved with a spreadsheet's name, not a real "
            "Excel workbook: many systems export their lists that way. Open it in Excel, save "
            "it as Excel Workbook (.xlsx) or as CSV UTF-8, and upload that file.")
            % {"file": file_name})


def _looks_binary(sample: bytes) -> bool:
    """Control characters other than tab/newline/CR/FF are not in text files."""
    if not sample:
        return False
    controls = sum(sample.count(bytes([b])) for b in range(32) if b not in (9, 10, 12, 13))
    return controls > max(8, len(sample) // 100)


def sniff_separator(text: str, *, skip_titles: bool = False) -> str:
    """The separator that splits the header into >1 columns and agrees best
    with the next lines; ties go to the one giving more columns.
    ``skip_titles``: lines it does not split (a title above the header) are
    passed over before the header is looked for."""
    lines = [line for line in text.splitlines() if line.strip()][:SNIFF_LINES]
    best, best_score = ",", None
    for sep in SEPARATORS:
        try:
            rows = list(csv.reader(lines, delimiter=sep))
        except csv.Error:
            continue
        if skip_titles:
            rows = rows[next((i for i, r in enumerate(rows) if len(r) > 1), len(rows)):]
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


def _header_offset(sample: str, *, sep: str, score: HeaderScore) -> int:
    """How many lines lie above the header row: the record among the first
    HEADER_SCAN_ROWS whose cells best match known headers (titles above
    it are passed over); 0 when none is clearly a header."""
    reader = csv.reader(io.StringIO(sample, newline=""), delimiter=sep)
    best, best_points, start = 0, 0, 0
    try:
        for i, row in enumerate(reader):
            if i >= HEADER_SCAN_ROWS:
                break
            points = score([header_text(cell) for cell in row])
            if points > best_points:
                best, best_points = start, points
            start = reader.line_num
    except csv.Error:
        pass
    return best if best_points >= MIN_HEADER_SCORE else 0


def _skip_lines(data: bytes, count: int) -> bytes:
    pos = 0
    for _line in range(count):
        pos = data.index(b"\n", pos) + 1
    return data[pos:]


def read_csv(data: bytes, *, file_name: str, opensid: bool,
             score: HeaderScore | None = None) -> Table:
    if not data or data.isspace():  # (not strip(): no copy of the whole file)
        raise empty_error(file_name)
    data = decode(data, file_name=file_name)
    if b"\n" not in data and b"\r" in data:
        data = data.replace(b"\r", b"\n")  # old Mac line ends
    body, skipped = _skip_leading_blank_lines(data)
    if _ONLY_SEPARATORS.match(body):
        raise empty_error(file_name)
    sample = body[:SNIFF_BYTES].decode("utf-8", errors="ignore")
    sep = sniff_separator(sample, skip_titles=score is not None)
    if score is not None:
        titles = _header_offset(sample, sep=sep, score=score)
        if titles:
            body, skipped = _skip_lines(body, titles), skipped + titles
            sample = body[:SNIFF_BYTES].decode("utf-8", errors="ignore")
            sep = sniff_separator(sample)
    try:
        raw, lines = _csv_polars(body, sep=sep, first_line=skipped + 1)
        extra = empty_issues()
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
            "again.") % {"place": where(file_name), "line": lines[-1]})


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
    with no_cyclic_gc():
        try:
            for row in reader:
                records.append(row)
                ends.append(reader.line_num)
        except csv.Error as exc:
            raise DataFileError(_(
                "%(place)s, line %(line)d cannot be read (%(error)s). Check for a quote mark "
                "(\") that is opened and never closed, fix it and upload again.")
                % {"place": where(file_name), "line": reader.line_num + first_line - 1,
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
                         schema=ISSUE_SCHEMA)
    return raw, lines.rename("line"), extra


def _finish_csv(raw: pl.DataFrame, lines: pl.Series, extra: pl.DataFrame, *, file_name: str,
                opensid: bool) -> Table:
    """Header checks, blank rows dropped, cell issues; ``extra.__row``
    indexes the data records (header excluded) before blank rows go."""
    spaced, formulas = odd_first_columns(raw)
    raw = null_blank(raw, spaced)
    headers = [header_text(v) for v in raw.row(0)]
    data = raw.slice(1)
    data_lines = lines.slice(1)
    if opensid and data.width > 1:
        marks = data.get_column(data.columns[1]).str.strip_chars() == OPENSID_END_MARK
        stop = marks.arg_true()
        if len(stop):
            data, data_lines = data.slice(0, stop[0]), data_lines.slice(0, stop[0])
    has_data = [data.get_column(c).null_count() < data.height for c in data.columns]
    keep = check_headers(headers, has_data, place=where(file_name), xlsx=False)
    # A CSV has no formulas, but Excel runs a cell written like one when the
    # file is opened: such cells are reported (a cell of the header row only
    # makes its column looked at).
    formula_columns = [headers[i] for i in keep if data.columns[i] in formulas]
    data = data.select([pl.col(data.columns[i]).alias(headers[i]) for i in keep])
    nonblank = data.select(pl.any_horizontal(pl.all().is_not_null()).alias("k"))["k"]
    if data.width == 0 or not nonblank.any():
        raise no_data_error(where(file_name))
    positions = nonblank.arg_true().cast(pl.UInt32)
    if len(positions) < data.height:
        data, data_lines = data.filter(nonblank), data_lines.filter(nonblank)
    issues = long_cell_issues(data, formula_columns=formula_columns)
    if extra.height:
        # Re-index to rows of the final frame; the extra fields of a row cut
        # off by "###" or dropped as blank are not reported.
        remap = pl.DataFrame({"old": positions, "__new": pl.int_range(
            len(positions), dtype=pl.UInt32, eager=True)})
        extra = extra.join(remap, left_on="__row", right_on="old", how="inner").select(
            pl.col("__new").alias("__row"), "column", "value", "code")
        issues = pl.concat([extra, issues])
    return Table(df=data, lines=data_lines.rename("line"), issues=sorted_issues(issues),
                 file_name=file_name, sheet=None)
