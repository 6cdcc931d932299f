"""Small spreadsheets read as rows of typed cells, for the uploads that check
a file row by row in the request and save all of it or nothing (meetings'
commitment lists, indicators' BPS tables), and the one rule for numbers
typed as text in them.

Numbers typed as text follow one rule, because "1.500" is one thousand five
hundred in Indonesia and one and a half in English:

- digits, optionally with one decimal mark, comma or dot: "12,5", "12.5";
- thousands separators only where the reading is certain: a mark that occurs
  more than once ("1.234.567"), or before the other mark ("1.234,5",
  "1,234.5"), must split groups of three digits;
- one mark followed by exactly three digits ("1.500", "2,250") is ambiguous
  and refused, unless the whole part is zero ("0,125").

Number and date cells of Excel are taken as they are.
"""

from __future__ import annotations

import csv
import datetime
import io
import re
import zipfile
from dataclasses import asdict, dataclass, field
from decimal import Decimal

from django.utils.translation import gettext as _
from python_calamine import CalamineError, CalamineWorkbook

from sinergi.core import values
from sinergi.core.errors import DataFileError, SinergiError

from .common import OLE_MAGIC, ZIP_MAGIC, float_text
from .text import decode, sniff_separator
from .workbook import formula_cells, sheet_xml_paths, unreadable_workbook


def blank(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def shown(value) -> str:
    """A cell as the operator would recognise it in a problem list."""
    if blank(value):
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, datetime.datetime):
        return value.strftime("%d/%m/%Y %H:%M") if value.time() != datetime.time() \
            else value.strftime("%d/%m/%Y")
    if isinstance(value, datetime.date):
        return value.strftime("%d/%m/%Y")
    if isinstance(value, float):
        return float_text(value)
    return " ".join(str(value).split())[:200]


_NUMBER = re.compile(r"([+-]?)(\d[\d.,]*)")


def number(value, field_name: str, *, places: int = 2) -> Decimal | None:
    """A Decimal by the rule in the module docstring (kept to ``places``
    decimals), None for an empty cell; SinergiError on ``field_name`` saying
    what to write instead."""
    if blank(value):
        return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        text = float_text(value) if isinstance(value, float) else str(value)
        return values.as_decimal(text, field_name, places=places)
    if isinstance(value, datetime.date):
        raise SinergiError(_("'%(v)s' is a date, not a number. Format the cell as Number and "
                             "type the number, e.g. 12,48.") % {"v": shown(value)},
                           field=field_name)
    if not isinstance(value, str):
        return values.as_decimal(value, field_name, places=places)  # says it is not a number
    text = value.strip().replace("\u00a0", "").replace(" ", "")
    if text.endswith("%"):
        raise SinergiError(_("Write the number without %%, e.g. %(n)s.") % {"n": text[:-1]},
                           field=field_name)
    m = _NUMBER.fullmatch(text)
    if m is None:
        raise SinergiError(_("'%(v)s' is not a number. Write it with digits and a decimal "
                             "comma or point, e.g. 12,48.") % {"v": shown(value)[:40]},
                           field=field_name)
    sign, body = m.groups()
    marks = [ch for ch in body if ch in ".,"]
    unreadable = SinergiError(
        _("'%(v)s' is not a number Sinergi can read safely; write digits with at most one "
          "decimal mark, e.g. 12,48 or 1500.") % {"v": value.strip()[:40]}, field=field_name)
    if not marks:
        return values.as_decimal(sign + body, field_name, places=places)
    if len(marks) == 1:
        whole, fraction = re.split(r"[.,]", body)
        if not fraction:
            raise unreadable
        if len(fraction) == 3 and whole.strip("0"):
            raise SinergiError(
                _("'%(v)s' is ambiguous: the %(mark)s may separate thousands or decimals. "
                  "Write whole numbers without separators, e.g. %(whole)s; for a decimal, "
                  "use a number cell in Excel.")
                % {"v": value.strip(), "mark": marks[0], "whole": whole + fraction},
                field=field_name)
        return values.as_decimal(f"{sign}{whole}.{fraction}", field_name, places=places)
    thousands = marks[0]
    decimal_mark = marks[-1] if marks[-1] != thousands else None
    whole, fraction = body.rsplit(decimal_mark, 1) if decimal_mark else (body, "")
    groups = whole.split(thousands)
    if (decimal_mark and (not fraction or decimal_mark in whole)) or not (
            1 <= len(groups[0]) <= 3 and all(len(g) == 3 and g.isdigit() for g in groups[1:])):
        raise unreadable
    return values.as_decimal(sign + "".join(groups) + (f".{fraction}" if fraction else ""),
                             field_name, places=places)


@dataclass(frozen=True)
class Problem:
    """One thing to fix in an uploaded file. ``row`` is the spreadsheet row
    (None for the file as a whole), ``column`` the header as written in the
    file, ``value`` the cell as read."""

    row: int | None
    column: str
    value: str
    message: str


@dataclass
class CheckedFile:
    """What a file import did: with any ``problems`` nothing was saved;
    otherwise ``created`` rows. ``warnings`` never block."""

    file_name: str
    created: int = 0
    problems: list[Problem] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def as_dict(self) -> dict:
        """For the API: counts, problems and warnings, JSON-safe."""
        return {"file": self.file_name, "created": self.created,
                "problems": [asdict(p) for p in self.problems], "warnings": self.warnings}


@dataclass
class Sheet:
    name: str  # "" for a CSV file
    rows: list[tuple[int, list]]  # (spreadsheet row, cells)
    longer: bool = False  # more rows than were read
    # (row, column index) -> formula text: a formula saved without its
    # result reads as empty, so its text is put in the cell, to be reported.
    formulas: dict[tuple[int, int], str] = field(default_factory=dict)


def read_sheets(upload, name: str, *, max_bytes: int, too_large: str, empty: str,
                max_rows: int, skip_titles: bool = False) -> list[Sheet]:
    """The sheets of an uploaded file (one for a CSV), at most ``max_rows``
    rows each, with their formula cells. The kind of file is told by its
    content, never by its name. ``too_large`` and ``empty`` are the messages
    for those cases (with %(file)s and %(mb)d)."""
    if hasattr(upload, "seek"):
        upload.seek(0)
    data = upload.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise DataFileError(too_large % {"file": name, "mb": max_bytes // 1024 // 1024})
    if not data.strip():
        raise DataFileError(empty % {"file": name})
    if data.startswith(OLE_MAGIC):
        raise DataFileError(_(
            "File '%(file)s' is an old Excel 97-2003 workbook (.xls) or a password-protected "
            "workbook, which cannot be read. Open it in Excel or LibreOffice, remove any "
            "password and save it as an Excel workbook (.xlsx) or as CSV UTF-8, then upload "
            "it again.") % {"file": name})
    if not data.startswith(ZIP_MAGIC):
        return [_read_csv(data, name, max_rows, skip_titles)]
    try:
        workbook = CalamineWorkbook.from_filelike(io.BytesIO(data))
        sheets = []
        for sheet_name in workbook.sheet_names:
            sheet = workbook.get_sheet_by_name(sheet_name)
            cells = sheet.to_python(skip_empty_area=False, nrows=max_rows)
            longer = sheet.end is not None and sheet.end[0] + 1 > max_rows
            sheets.append(Sheet(sheet_name, [(i, list(row)) for i, row in
                                             enumerate(cells, start=1)], longer))
    except (CalamineError, OSError, ValueError) as exc:
        raise unreadable_workbook(name, exc) from None
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            paths = sheet_xml_paths(zf)
            for sheet in sheets:
                sheet.formulas = formula_cells(zf, paths.get(sheet.name))
    except zipfile.BadZipFile:
        return sheets
    for sheet in sheets:
        for (r, c), text in sheet.formulas.items():
            if r <= max_rows:
                sheet.rows.extend((n, []) for n in range(len(sheet.rows) + 1, r + 1))
                cells = sheet.rows[r - 1][1]
                cells.extend([None] * (c + 1 - len(cells)))
                if blank(cells[c]):
                    cells[c] = text
    return sheets


def _read_csv(data: bytes, name: str, max_rows: int, skip_titles: bool) -> Sheet:
    text = decode(data, file_name=name).decode("utf-8")
    separator = sniff_separator(text, skip_titles=skip_titles)
    rows, longer = [], False
    try:
        for i, row in enumerate(csv.reader(io.StringIO(text, newline=""),
                                           delimiter=separator), start=1):
            if i > max_rows:
                longer = True
                break
            rows.append((i, row))
    except csv.Error as exc:
        raise DataFileError(_("File '%(file)s' cannot be read as CSV (%(error)s). Save it "
                              "again from Excel as .xlsx or 'CSV UTF-8' and upload it again.")
                            % {"file": name, "error": exc}) from None
    # A CSV cell starting with "=" is a formula that was never computed.
    formulas = {(r, c): v.strip() for r, row in rows for c, v in enumerate(row)
                if v.strip().startswith("=") and len(v.strip()) > 1}
    return Sheet("", rows, longer, formulas)
