"""The report of an import: the rows with errors (not imported) or warnings
(imported, to check), as they were in the file, plus why."""

import re
from collections import defaultdict

from django.utils.translation import gettext as _

from sinergi.core.errors import DataFileError
from sinergi.core.exports import xlsx_response
from sinergi.registry.selectors import mask_nik

from . import columns
from .models import ImportJob
from .pipeline import read_file

# Header keys (columns.header_key) of identity numbers the mapping does not
# import (OpenSID's parents' NIKs, a KTP number column).
_IDENTITY_PREFIXES = ("nokk", "nkk", "nomorkk", "nokartukeluarga", "nomorkartukeluarga",
                      "noktp", "nomorktp")
# A NIK or KK number inside a message (a family's KK number named beside
# another column's value).
_IDENTITY_NUMBER = re.compile(r"(?<!\d)\d{16}(?!\d)")


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


def issue_masker(fmt: str):
    """``mask(column, value, message) -> (value, message)`` for viewers who
    may not reveal identity numbers: the value of a NIK or KK column (the
    column as the file names it) and every 16-digit number in the message
    come back masked."""
    identity: dict[str, bool] = {}

    def mask(column: str, value: str, message: str) -> tuple[str, str]:
        if column not in identity:
            identity[column] = bool(column and identity_headers([column], fmt))
        if identity[column] and value:
            masked = mask_nik(value)
            message, value = message.replace(value, masked), masked
        return value, _IDENTITY_NUMBER.sub(lambda m: mask_nik(m.group(0)), message)

    return mask


def report_response(job: ImportJob, *, reveal: bool = True):
    """XLSX: the file's own columns for every row with an error or a
    warning, its row number, the errors (the row was not imported) and the
    warnings (it was, but should be checked), each column only when the job
    has such problems, so the operator fixes these rows and uploads them
    again. Without ``reveal`` the NIK and KK numbers (cells and messages)
    are masked."""
    errors: dict[int, list[str]] = defaultdict(list)
    warnings: dict[int, list[str]] = defaultdict(list)
    mask = issue_masker(job.detected_format)
    for line, column, value, message, severity in job.issues.order_by("line", "id").values_list(
            "line", "column", "value", "message", "severity").iterator(chunk_size=5000):
        if not reveal:
            value, message = mask(column, value, message)
        text = f"[{column}] {message}" if column else message
        (errors if severity == "error" else warnings)[line].append(text)
    try:
        table = read_file(job, opensid=job.detected_format == "opensid")
        headers = table.df.columns
        lines = table.lines.to_list()
        data = table.df.rows()
    except (DataFileError, OSError):
        headers, lines, data = [], [], []
    hidden = set() if reveal else identity_headers(headers, job.detected_format)

    def shown(values: tuple) -> list:
        return [mask_nik(str(v)) if i in hidden and v not in (None, "") else v
                for i, v in enumerate(values)]

    # A column for each kind of problem the job has (errors when neither):
    # a column without a single value would only puzzle the reader.
    kinds = [(title, found) for title, found in ((_("Errors"), errors),
                                                  (_("Warnings"), warnings))
             if found] or [(_("Errors"), errors)]

    def problems(line: int) -> list[str]:
        return [" | ".join(found.get(line, ())) for _title, found in kinds]

    rows = (
        (line, *shown(values), *problems(line))
        for line, values in zip(lines, data, strict=True) if line in errors or line in warnings
    )
    if not headers:  # the file itself could not be read: list the problems alone
        rows = ((line, *problems(line)) for line in sorted(errors.keys() | warnings.keys()))
    # The file's cells are text columns: they come back as the operator typed
    # them (16 digits, leading zeros). A cell that reads like a formula comes
    # back as text too: xlsx_response writes every cell through
    # core.exports.write_cell, text columns included.
    return xlsx_response(
        f"laporan-impor-{job.pk}.xlsx",
        [_("Row in file"), *headers, *(title for title, _found in kinds)],
        rows,
        text_columns=set(range(1, len(headers) + 1)),
        sheet=_("Rows to fix"),
    )
