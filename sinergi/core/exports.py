"""Excel files: the one cell writer every workbook Sinergi writes goes
through, and the streamed, bounded one-sheet export built on it."""

import datetime
import tempfile
from collections.abc import Iterable, Sequence
from decimal import Decimal

from django.http import FileResponse
from openpyxl import Workbook
from openpyxl.cell import Cell, WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font, PatternFill

EXPORT_MAX_ROWS = 200_000
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# The header rows of exports and templates and their instructions sheets.
BOLD = Font(bold=True)
HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")

# OWASP "CSV injection": a cell typed with one of these first is read as a
# formula by Excel and LibreOffice, also after leading spaces.
FORMULA_TRIGGERS = ("=", "+", "-", "@")
# OWASP lists tab and carriage return too: they can hide a formula that follows.
HIDING_STARTS = ("\t", "\r")
# Kept in a cell as they are: Excel takes them as numbers and dates, never formulas.
TYPED_VALUES = (int, float, Decimal, datetime.date, datetime.time, datetime.timedelta)


def formula_like(text: str) -> bool:
    """Whether a spreadsheet would take ``text``, typed into a cell, as a formula."""
    return text.lstrip()[:1] in FORMULA_TRIGGERS or text[:1] in HIDING_STARTS


def write_cell(cell: Cell, value, *, text: bool = False) -> Cell:
    """Put ``value`` into ``cell``: every workbook Sinergi writes fills its
    cells, headers and instructions included, through this function.

    Numbers, dates and booleans keep their type. Anything else is written as
    a string cell (data type "s") holding exactly its text: openpyxl would
    make a formula of a string starting with "=" and an error value of
    "#N/A", and both come from users (names, addresses, uploaded cells).
    Text a spreadsheet would take as a formula also gets Excel's quote
    prefix, which is what Excel records when someone types '=...: the
    apostrophe is not shown, and editing the cell keeps it text instead of
    running it.

    ``text``: a column whose values must stay as typed (NIK, KK number,
    region codes): every value is written as its text, formatted as Text
    ("@") so Excel keeps 16 digits and leading zeros, empty cells included
    (what a user types there later stays text too).
    """
    if text:
        cell.number_format = "@"
    if value is None:
        cell.value = None
    elif not text and isinstance(value, TYPED_VALUES):  # bool is an int
        cell.value = value
    else:
        # openpyxl refuses control characters that XML cannot hold; a file
        # cell may carry them, and the rest of its text must still be written.
        string = ILLEGAL_CHARACTERS_RE.sub("\ufffd", str(value))
        cell.value = string
        cell.data_type = "s"  # after .value, which may have guessed "f" or "e"
        if formula_like(string):
            cell.quotePrefix = True
    return cell


def append_row(ws, values: Iterable, *, text_columns: Iterable[int] = frozenset(),
               **style) -> list[Cell]:
    """Append a row of ``values`` to ``ws`` (write-only or not) through
    :func:`write_cell`; ``text_columns`` are indexes of text columns, and
    ``style`` (font=, fill=, alignment=) is set on every cell of the row, before
    it is written: a write-only sheet writes the row out at once."""
    text_columns = set(text_columns)
    cells = []
    for index, value in enumerate(values):
        cell = write_cell(WriteOnlyCell(ws), value, text=index in text_columns)
        for name, setting in style.items():
            setattr(cell, name, setting)
        cells.append(cell)
    ws.append(cells)
    return cells


def write_xlsx(target, headers: Sequence[str], rows: Iterable[Sequence], *,
               text_columns: set[int] = frozenset(), sheet: str = "Data",
               every=None, step: int = 5000) -> int:
    """Write a one-sheet workbook to ``target`` (a path or a binary file);
    ``text_columns`` (indexes) keep digits as text; ``every(n)`` is called
    after each ``step`` rows (a job's progress). Returns the rows written."""
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(sheet[:31])
    append_row(ws, headers, font=BOLD)
    written = 0
    for row in rows:
        append_row(ws, row, text_columns=text_columns)
        written += 1
        if every is not None and written % step == 0:
            every(written)
    wb.save(target)
    return written


def xlsx_response(filename: str, headers: Sequence[str], rows: Iterable[Sequence],
                  *, text_columns: set[int] = frozenset(), sheet: str = "Data") -> FileResponse:
    """A workbook with one sheet; ``text_columns`` (indexes) keep digits as text."""
    # Handed to FileResponse, which closes it when the response is sent.
    tmp = tempfile.TemporaryFile()  # noqa: SIM115
    write_xlsx(tmp, headers, rows, text_columns=text_columns, sheet=sheet)
    tmp.seek(0)
    return FileResponse(tmp, as_attachment=True, filename=filename,
                        content_type=XLSX_CONTENT_TYPE)


def help_sheet_head(ws, text: dict) -> None:
    """The top of a template's instructions sheet: ``text["title"]``, the
    lines of ``text["intro"]``, then ``text["columns_heading"]`` and the
    header row (``text["column_headers"]``) of the table of columns, which
    the caller appends below with :func:`append_row`."""
    append_row(ws, [text["title"]], font=Font(bold=True, size=14))
    for line in text["intro"]:
        append_row(ws, [line])
    append_row(ws, [])
    append_row(ws, [text["columns_heading"]], font=BOLD)
    append_row(ws, text["column_headers"], font=BOLD, fill=HEADER_FILL)
