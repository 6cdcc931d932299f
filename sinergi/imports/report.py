"""The error report of an import: the rejected rows, as they were, plus why."""

from collections import defaultdict
from pathlib import Path

from django.utils.translation import gettext as _

from sinergi.core.errors import DataFileError
from sinergi.core.exports import xlsx_response

from . import readers
from .models import ImportJob


def report_response(job: ImportJob):
    """XLSX: the file's own columns for every rejected row, the row number and the errors,
    so the operator fixes these rows and uploads them again."""
    problems: dict[int, list[str]] = defaultdict(list)
    for line, column, message in job.issues.filter(severity="error").order_by(
            "line", "id").values_list("line", "column", "message").iterator(chunk_size=5000):
        problems[line].append(f"[{column}] {message}" if column else message)
    try:
        table = readers.read_table(Path(job.file_path), file_name=job.file_name,
                                   opensid=job.detected_format == "opensid")
        headers = table.df.columns
        lines = table.lines.to_list()
        data = table.df.rows()
    except (DataFileError, OSError):
        headers, lines, data = [], sorted(problems), [() for _ in problems]
    rows = (
        (line, *values, " | ".join(problems[line]))
        for line, values in zip(lines, data, strict=True) if line in problems
    )
    if not headers:  # the file itself could not be read: list the problems alone
        rows = ((line, " | ".join(msgs)) for line, msgs in sorted(problems.items()))
    return xlsx_response(
        f"laporan-impor-{job.pk}.xlsx",
        [_("Row in file"), *headers, _("Errors")],
        rows,
        text_columns=set(range(1, len(headers) + 1)),
        sheet=_("Rows to fix"),
    )
