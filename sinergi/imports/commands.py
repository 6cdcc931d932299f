"""`sinergi import persons`: the CLI side of import jobs.

Nothing heavy is imported at module level: the serving process builds the
same argument parser before gunicorn forks (see cli._exec_server).
"""

import sys
import time

from django.utils.translation import gettext as _


def add_parsers(sub) -> None:
    """Register the subcommands on the `sinergi` argument parser."""
    imp = sub.add_parser("import", help="import files into the registry",
                         description="Import lists into Sinergi.")
    isub = imp.add_subparsers(dest="import_command", required=True, metavar="WHAT")
    p = isub.add_parser(
        "persons", help="import families and persons from a CSV or XLSX file",
        description="Import a Sinergi template, OpenSID penduduk workbook or DTSEN/SIKS-NG "
        "by-name-by-address list through the same checks as the upload page. Prints the "
        "counts and where the report of errors and warnings is; exit code 0 when the job "
        "ended, 1 when the file was refused or, with --on-error block, nothing was "
        "imported because some rows have errors.")
    p.add_argument("file", help="the .csv or .xlsx file")
    p.add_argument("--format", default="auto", choices=["auto", "sinergi", "opensid", "bnba"])
    p.add_argument("--region", required=True,
                   help="region the list belongs to (limits where rows may land), e.g. 19.04; "
                   "a village code (19.04.01.2003 or 1904012003) is also the village of "
                   "rows without a code")
    p.add_argument("--village", default="",
                   help="village for rows without a code (OpenSID), when --region is wider "
                   "than a village")
    p.add_argument("--on-error", default="skip", choices=["skip", "block"],
                   help="skip rows with errors (default) or import nothing if any row fails")
    p.add_argument("--complete-list", action="store_true",
                   help="the file lists everyone in the region: propose the absent as gone")
    p.set_defaults(func=cmd_import_persons)


def cmd_import_persons(args) -> int:
    from . import services
    from .models import DONE, FAILED, REVIEW

    job = services.import_job_create(
        actor=None, source=args.file, file_name=args.file.rsplit("/", 1)[-1],
        file_format=args.format, region_code=args.region, village_code=args.village,
        on_error=args.on_error, complete_list=args.complete_list)
    started = time.perf_counter()
    claimed = services.import_job_claim(job.pk)
    job = services.import_job_run(claimed)
    took = time.perf_counter() - started
    print(f"job {job.pk}: {job.status}; rows {job.rows_total:,}, accepted {job.rows_accepted:,}, "
          f"rejected {job.rows_rejected:,}, warnings {job.rows_warned:,}; "
          f"new persons {job.persons_added:,}, new families {job.households_added:,}, "
          f"changes to review {job.changes_proposed:,} ({took:.1f} s)")
    if job.message:
        print(job.message, file=sys.stderr if job.status == FAILED else sys.stdout)
    if job.rows_rejected or job.rows_warned:
        print(_("Report of errors and warnings: /imports/%(id)d/report.xlsx") % {"id": job.pk})
    return 0 if job.status in {DONE, REVIEW} else 1
