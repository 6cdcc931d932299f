"""Excel workbooks (.xlsx), read with python-calamine: every value as
text, formulas and numbers that may have lost digits reported per cell;
OpenSID workbooks sheet by sheet.

Given a header score (columns.header_score), the data sheet and its header
row are found rather than assumed: files from the field carry a cover or
instruction sheet first, title rows and merged group headers above the
real header row. Without one, the header is the first non-blank row of the
first sheet with data."""

from __future__ import annotations

import html
import re
import zipfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import polars as pl
from django.utils.translation import gettext as _
from python_calamine import CalamineError, CalamineWorkbook

from sinergi.core.errors import DataFileError

from .common import (
    HEADER_SCAN_ROWS,
    OPENSID_END_MARK,
    OPENSID_KEY_HEADERS,
    OPENSID_LOOKUP_SHEET,
    STRONG_HEADER_SCORE,
    TRUSTED_DIGITS,
    HeaderScore,
    Table,
    best_header_row,
    cell_text,
    check_headers,
    column_index,
    doubtful_number,
    header_text,
    long_cell_issues,
    no_data_error,
    null_blank,
    sorted_issues,
    where,
)

_SHEET_RE = re.compile(rb"<(?:\w+:)?sheet\b([^>]*)/?>")
_ATTR_RE = re.compile(rb'([\w:]+)="([^"]*)"')
_REL_RE = re.compile(rb"<(?:\w+:)?Relationship\b([^>]*)/?>")
_ROOT_RE = re.compile(rb"<(\w+:)?worksheet[\s>]")
_CELL_REF_RE = re.compile(rb'\br="([A-Z]{1,3})(\d+)"')


def sheet_xml_paths(zf: zipfile.ZipFile) -> dict[str, str]:
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


def formula_cells(zf: zipfile.ZipFile, xml_path: str | None) -> dict[tuple[int, int], str]:
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
                found[(int(ref.group(2)), column_index(ref.group(1).decode()))] = text[:200]
        pos = xml.find(needle, after)
    return found


_LONG_NUMBER = 10 ** TRUSTED_DIGITS  # the smallest number of 16 digits
_EXACT_LIMIT = 2 ** 53


def _column_texts(values: tuple, *, col: int, numbers: list[tuple[int, int, str]]) -> pl.Series:
    """One column of calamine cells as text; numbers that may have lost
    digits (common.doubtful_number) noted in ``numbers`` as (position,
    column index, text).

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
        size = as_int.abs()
        doubtful = (size >= _LONG_NUMBER) & ((size % 10 == 0) | (size > _EXACT_LIMIT))
        for pos in pl.select(doubtful.fill_null(False)).to_series().arg_true():
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
            text = cell_text(value)
            kind = type(value)
            if ((kind is float and value.is_integer()) or kind is int) \
                    and doubtful_number(int(value)):
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


def unreadable_workbook(file_name: str, exc: Exception) -> DataFileError:
    """The error for a zip that calamine cannot open as a workbook."""
    return DataFileError(_(
        "File '%(file)s' looks like an Excel workbook but cannot be opened (%(error)s). "
        "Open it in Excel or LibreOffice, save it again as .xlsx and upload it again.")
        % {"file": file_name, "error": exc})


def read_xlsx(path: Path, *, file_name: str, opensid: bool,
              score: HeaderScore | None = None) -> Table:
    try:
        workbook = CalamineWorkbook.from_path(str(path))
        names = list(workbook.sheet_names)
    except (CalamineError, OSError, ValueError) as exc:
        raise unreadable_workbook(file_name, exc) from None
    if opensid:
        names = [n for n in names if n.strip().lower() != OPENSID_LOOKUP_SHEET]
    try:
        zf = zipfile.ZipFile(path)
    except zipfile.BadZipFile:
        zf = None
    # The formula scan inflates the sheet XML (zlib releases the GIL) while
    # calamine parses the same sheet: on two cores that hides its cost.
    scanner = ThreadPoolExecutor(max_workers=1)
    try:
        xml_paths = sheet_xml_paths(zf) if zf else {}

        def read(name: str, loaded=None, header_at: int | None = None) -> _Sheet | None:
            scan = scanner.submit(formula_cells, zf, xml_paths.get(name)) if zf else None
            sheet = loaded if loaded is not None else _load_sheet(workbook, name, file_name)
            rows = _sheet_rows(sheet, name, file_name)
            if header_at is None and score is not None:
                header_at = best_header_row(rows, score)[0]
            return _read_sheet(rows, name=name, file_name=file_name, opensid=opensid,
                               formulas=scan.result() if scan else {}, header_at=header_at)

        found = None if opensid or score is None else _data_sheet(workbook, names, score,
                                                                   file_name)
        if found is not None:
            name, loaded, header_at = found
            sheet = read(name, loaded, header_at)
            if sheet is None or sheet.df.height == 0:
                raise no_data_error(where(file_name, name))
            return _combine([sheet], file_name=file_name)
        sheets: list[_Sheet] = []
        header_only = None
        for name in names:
            sheet = read(name)
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
            raise no_data_error(where(file_name, header_only))
        raise DataFileError(_(
            "File '%(file)s' has no sheet with data. Put a header row and one row per person "
            "in the first sheet and upload it again.") % {"file": file_name})
    if opensid:
        residents = [s for s in sheets if any(
            h.lower() in OPENSID_KEY_HEADERS for h in s.df.columns)]
        sheets = residents or sheets[:1]
    return _combine(sheets, file_name=file_name)


def _sheet_error(file_name: str, name: str, exc: Exception) -> DataFileError:
    return DataFileError(_(
        "File '%(file)s', sheet '%(sheet)s' cannot be read (%(error)s). Save the "
        "workbook again as .xlsx and upload it again.")
        % {"file": file_name, "sheet": name, "error": exc})


def _load_sheet(workbook: CalamineWorkbook, name: str, file_name: str):
    try:
        return workbook.get_sheet_by_name(name)
    except CalamineError as exc:
        raise _sheet_error(file_name, name, exc) from None


def _sheet_rows(sheet, name: str, file_name: str, nrows: int | None = None) -> list[list]:
    try:
        return sheet.to_python(skip_empty_area=False, nrows=nrows)
    except CalamineError as exc:
        raise _sheet_error(file_name, name, exc) from None


def _data_sheet(workbook: CalamineWorkbook, names: list[str], score: HeaderScore,
                file_name: str):
    """(name, loaded sheet, header row index) of the sheet whose header row
    best matches known headers, or None when no sheet has such a row.

    Only the first rows of each sheet are looked at, and the sheets after
    one with a clear header row (STRONG_HEADER_SCORE) not at all, so a
    workbook of several big sheets is not converted whole to find its data.
    """
    best, best_points = None, 0
    for name in names:
        sheet = _load_sheet(workbook, name, file_name)
        at, points = best_header_row(_sheet_rows(sheet, name, file_name, HEADER_SCAN_ROWS),
                                     score)
        if at is not None and points > best_points:
            best, best_points = (name, sheet, at), points
            if points >= STRONG_HEADER_SCORE:
                break
    return best


def _blank_row(cells) -> bool:
    return all(v is None or (type(v) is str and not v.strip()) for v in cells)


def _read_sheet(rows: list[list], *, name: str, file_name: str, opensid: bool,
                formulas: dict[tuple[int, int], str],
                header_at: int | None = None) -> _Sheet | None:
    """A sheet's cells as text, or None when the sheet holds nothing.

    ``header_at`` is the index of the header row (rows above it are titles
    and group headers, not data); by default the first non-blank row.
    """
    if header_at is None:
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
    headers = [header_text(v) for v in rows[header_at]] + [""] * (width - len(rows[header_at]))
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
    df = null_blank(df)
    has_data = [df.get_column(c).null_count() < df.height for c in df.columns]
    keep = check_headers(headers, has_data, place=where(file_name, name), xlsx=True)
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
                text = cell_text(body[pos][col]) or text
            raw_issues.append((pos, col, text, "formula"))
    issues = long_cell_issues(df)
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
        return Table(df=s.df, lines=s.lines, issues=sorted_issues(s.issues), file_name=file_name,
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
    return Table(df=df, lines=pl.concat([s.lines for s in sheets]), issues=sorted_issues(issues),
                 file_name=file_name, sheet=", ".join(s.name for s in sheets),
                 row_sheets=row_sheets)
