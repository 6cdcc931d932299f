"""Read an uploaded data file (CSV text or .xlsx) into a table of text cells.

Every value comes back as text, exactly as the user typed it: ``0012`` stays
``0012`` and a NIK stored as an Excel number comes back as its digits (flagged
only when it may have lost some: see common.doubtful_number).
Nothing is interpreted here (no dates, no codes): that is normalize.py's job.
What is found while reading is of two kinds:

- a problem with the whole file (empty, binary, unreadable encoding,
  duplicate headers...) raises :class:`DataFileError` with a message that
  names the file and says what to do;
- a problem with one cell (a formula, a number that may have lost digits, a
  huge cell, a row with too many fields) becomes a row of ``Table.issues``,
  so the rest of the file can still be checked and reported in one go.

The kind of file is told by its content, never by its name, because users
rename files (and browsers send whatever name they like).
"""

from __future__ import annotations

from pathlib import Path

from django.utils.translation import gettext as _

from sinergi.core.errors import DataFileError

from .cells import CheckedFile, Problem, Sheet, blank, number, read_sheets, shown
from .common import (
    MAX_COLUMNS,
    OLE_MAGIC,
    ZIP_MAGIC,
    HeaderScore,
    Table,
    column_letter,
    float_text,
    no_cyclic_gc,
)
from .text import decode, read_csv, sniff_separator
from .workbook import formula_cells, read_xlsx, sheet_xml_paths, unreadable_workbook

# The readers' entry point, and the pieces other uploads (meetings' commitment
# lists, indicators' BPS tables) read their own files with.
__all__ = ["MAX_COLUMNS", "OLE_MAGIC", "ZIP_MAGIC", "CheckedFile", "Problem", "Sheet", "Table",
           "blank", "column_letter", "decode", "float_text", "formula_cells", "number",
           "read_csv", "read_sheets", "read_table", "read_xlsx", "sheet_xml_paths", "shown",
           "sniff_separator", "unreadable_workbook"]


def read_table(path: Path, *, file_name: str, opensid: bool = False,
               header_score: HeaderScore | None = None) -> Table:
    """Read ``path`` (CSV or .xlsx, told by content) into a :class:`Table`.

    ``file_name`` is the name the user knows the file by, used in messages.
    ``opensid`` reads an OpenSID resident workbook: every sheet but
    "Kode Data", each one ending at the row whose column B is ``###``.
    ``header_score`` (how many cells of a row are known headers) finds the
    data sheet and its header row below titles and group headers; without
    it the header is the first non-blank row of the first sheet with data.
    """
    path = Path(path)
    with open(path, "rb") as fh:
        head = fh.read(8)
    if head.startswith(ZIP_MAGIC):
        with no_cyclic_gc():
            return read_xlsx(path, file_name=file_name, opensid=opensid, score=header_score)
    if head.startswith(OLE_MAGIC):
        raise DataFileError(_(
            "File '%(file)s' is an old Excel 97-2003 workbook (.xls) or a password-protected "
            "workbook, which cannot be read. Open it in Excel or LibreOffice, remove any "
            "password and save it as an Excel workbook (.xlsx) or as CSV UTF-8, then upload "
            "it again.") % {"file": file_name})
    return read_csv(path.read_bytes(), file_name=file_name, opensid=opensid,
                    score=header_score)
