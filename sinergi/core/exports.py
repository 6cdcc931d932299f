"""Excel exports: streamed with openpyxl's write-only mode, bounded, audited."""

import tempfile
from collections.abc import Iterable, Sequence

from django.http import FileResponse
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font, PatternFill

EXPORT_MAX_ROWS = 200_000
# The header rows of templates and their instructions sheets.
BOLD = Font(bold=True)
HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")


def _safe(value):
    """Text that a spreadsheet would run as a formula is written as plain text."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@"):
        return "'" + value
    return value


def xlsx_response(filename: str, headers: Sequence[str], rows: Iterable[Sequence],
                  *, text_columns: set[int] = frozenset(), sheet: str = "Data") -> FileResponse:
    """A workbook with one sheet; ``text_columns`` (indexes) keep digits as text."""
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(sheet[:31])
    header_cells = []
    for h in headers:
        cell = WriteOnlyCell(ws, value=str(h))
        cell.font = Font(bold=True)
        header_cells.append(cell)
    ws.append(header_cells)
    for row in rows:
        out = []
        for i, value in enumerate(row):
            if i in text_columns and value is not None:
                cell = WriteOnlyCell(ws, value=str(value))
                cell.number_format = "@"
                out.append(cell)
            else:
                out.append(_safe(value))
        ws.append(out)
    # Handed to FileResponse, which closes it when the response is sent.
    tmp = tempfile.TemporaryFile()  # noqa: SIM115
    wb.save(tmp)
    tmp.seek(0)
    return FileResponse(tmp, as_attachment=True, filename=filename,
                        content_type="application/vnd.openxmlformats-officedocument."
                                     "spreadsheetml.sheet")


def help_sheet_head(ws, text: dict) -> None:
    """The top of a template's instructions sheet: ``text["title"]``, the
    lines of ``text["intro"]``, then ``text["columns_heading"]`` and the
    header row (``text["column_headers"]``) of the table of columns, which
    the caller appends below."""
    ws.append([text["title"]])
    ws["A1"].font = Font(bold=True, size=14)
    for line in text["intro"]:
        ws.append([line])
    ws.append([])
    ws.append([text["columns_heading"]])
    ws.cell(row=ws.max_row, column=1).font = BOLD
    ws.append(list(text["column_headers"]))
    for cell in ws[ws.max_row]:
        cell.font, cell.fill = BOLD, HEADER_FILL
