"""The error report of an import: the rejected rows, as they were, plus why."""

from collections import defaultdict
from pathlib import Path

from django.utils.translation import gettext as _

from sinergi.core.errors import DataFileError
from sinergi.core.exports import xlsx_response
from sinergi.registry.selectors import mask_nik

from . import columns, readers
from .models import ImportJob

# Header keys (columns.header_key) of identity numbers the mapping does not
# import (OpenSID's parents' NIKs, a KTP number column).
_IDENTITY_PREFIXES = ("nokk", "nkk", "nomorkk", "nokartukeluarga", "nomorkartukeluarga",
                      "noktp", "nomorktp")


def identity_headers(headers: list[str], fmt: str) -> set[int]:
    """Positions of the headers that hold NIK or KK numbers."""
    mapped = columns.map_columns(headers, fmt or "auto").columns if fmt else {}
    found = set()
    for i, header in enumerate(headers):
        key = columns.header_key(header)
        if mapped.get(header) in {"nik", "kk_number"} or "nik" in key or key == "kk" \
                or key.startswith(_IDENTITY_PREFIXES):
            found.add(i)
    return found


def report_response(job: ImportJob, *, reveal: bool = True):
    """XLSX: the file's own columns for every rejected row, the row number and the errors,
    so the operator fixes these rows and uploads them again. Without ``reveal``
    the NIK and KK numbers (cells and messages) are masked."""
    problems: dict[int, list[str]] = defaultdict(list)
    for line, column, value, message in job.issues.filter(severity="error").order_by(
            "line", "id").values_list("line", "column", "value", "message") \
            .iterator(chunk_size=5000):
        if not reveal and value and column in {"nik", "kk_number"}:
            message = message.replace(value, mask_nik(value))
        problems[line].append(f"[{column}] {message}" if column else message)
    try:
        table = readers.read_table(Path(job.file_path), file_name=job.file_name,
                                   opensid=job.detected_format == "opensid")
        headers = table.df.columns
        lines = table.lines.to_list()
        data = table.df.rows()
    except (DataFileError, OSError):
        headers, lines, data = [], sorted(problems), [() for _ in problems]
    hidden = set() if reveal else identity_headers(headers, job.detected_format)

    def shown(values: tuple) -> list:
        return [mask_nik(str(v)) if i in hidden and v not in (None, "") else v
                for i, v in enumerate(values)]

    rows = (
        (line, *shown(values), " | ".join(problems[line]))
        for line, values in zip(lines, data, strict=True) if line in problems
    )
    if not headers:  # the file itself could not be read: list the problems alone
        rows = ((line, " | ".join(msgs)) for line, msgs in sorted(problems.items()))
    # The file's cells are text columns: they come back as the operator typed
    # them (16 digits, leading zeros). A cell that reads like a formula comes
    # back as text too: xlsx_response writes every cell through
    # core.exports.write_cell, text columns included.
    return xlsx_response(
        f"laporan-impor-{job.pk}.xlsx",
        [_("Row in file"), *headers, _("Errors")],
        rows,
        text_columns=set(range(1, len(headers) + 1)),
        sheet=_("Rows to fix"),
    )
