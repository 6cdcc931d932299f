"""Excel exports: streamed with openpyxl's write-only mode, bounded, audited."""

import tempfile
from collections.abc import Iterable, Sequence

from django.http import FileResponse
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font

EXPORT_MAX_ROWS = 200_000


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
