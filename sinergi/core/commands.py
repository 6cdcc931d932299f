"""`sinergi worker` (the job runner), `sinergi backup` and `sinergi restore`."""

import argparse
import os


def cmd_worker(args) -> int:
    """Run background jobs: a supervisor starting one process per job, or,
    with --run-job, that one job's process."""
    from sinergi.core import jobs

    if args.run_job is not None:
        # Background work yields the processor to the people waiting on pages.
        os.nice(10)
        jobs.run_one(args.run_job)
        return 0
    print(f"Sinergi worker {jobs.worker_id()}: running background jobs", flush=True)

    def say(line: str) -> None:
        print(line, flush=True)

    jobs.Supervisor(interval=args.interval, out=say).run_forever(once=args.once)
    return 0


def cmd_backup(args) -> None:
    """Write a consistent backup of the database (safe while the server runs)."""
    from pathlib import Path

    from django.utils.translation import gettext as _
    from django.utils.translation import ngettext

    from sinergi.core.backup import database_backup, human_size

    result = database_backup(output=Path(args.output) if args.output else None,
                             with_media=args.with_media)
    print(_("Backup written: %(path)s (%(size)s, %(seconds).1f s); %(check)s.")
          % {"path": result.path, "size": human_size(result.size), "seconds": result.seconds,
             "check": result.check})
    _print_counts(result.tables)
    if result.media_path is not None:
        print(ngettext("Uploaded files: %(path)s (%(count)d file).",
                       "Uploaded files: %(path)s (%(count)d files).", result.media_files)
              % {"path": result.media_path, "count": result.media_files})
    else:
        print(_("Not in this backup: the uploaded files (add --with-media) and the secret key; "
                "see README.md, \"Backup and restore\"."))


def cmd_restore(args) -> None:
    """Replace the database with a backup, then migrate it (server stopped)."""
    from pathlib import Path

    from django.utils.translation import gettext as _

    from sinergi.core.backup import database_restore

    result = database_restore(path=Path(args.path), replace=args.yes)
    print(_("Restored %(path)s into %(db)s (%(seconds).1f s).")
          % {"path": result.path, "db": result.database, "seconds": result.seconds})
    if result.migrations_applied:
        print(_("Migrations applied to bring it up to date: %(names)s.")
              % {"names": ", ".join(result.migrations_applied)})
    else:
        print(_("Its schema was already up to date."))
    _print_counts(result.tables)


def _print_counts(tables) -> None:
    from django.utils.translation import gettext as _

    width = max(len(name) for name, _rows in tables)
    for name, rows in tables:
        print(f"  {name:<{width}}  " + (_("no such table") if rows is None else f"{rows:,}"))


def add_parsers(sub) -> None:
    """Register this app's subcommands on the `sinergi` parser."""
    p = sub.add_parser("worker", help="run background jobs (imports, briefs, coverage)",
                       description="Run queued background jobs (imports, rakor brief PDFs, "
                       "coverage recomputations), each in a process of its own; stop a job "
                       "that makes no progress or whose cancellation was asked; mark jobs of "
                       "processes that died as failed. `sinergi serve` starts one. Stops "
                       "after --once or on Ctrl+C.")
    p.add_argument("--once", action="store_true", help="run what is waiting, then stop")
    p.add_argument("--interval", type=float, default=1.0, help="seconds between passes")
    p.add_argument("--run-job", type=int, help=argparse.SUPPRESS)
    p.set_defaults(func=cmd_worker)

    p = sub.add_parser("backup", help="write a consistent backup of the database",
                       description="Write a consistent backup of the configured database, "
                       "safe while the server runs: SQLite through its online backup API into "
                       "one self-contained .sqlite3 file, checked with PRAGMA integrity_check; "
                       "PostgreSQL with pg_dump --format=custom. Prints the rows of key tables "
                       "in the backup. Default file: <SINERGI_VAR_DIR>/backups/"
                       "sinergi-<YYYYmmdd-HHMMSS>.sqlite3 (or .dump). Not in it: the uploaded "
                       "files (see --with-media) and the secret key. Exit code 2 on failure.")
    p.add_argument("--output", help="the file to write (must not exist yet), or a folder to "
                   "write it in")
    p.add_argument("--with-media", action="store_true",
                   help="also write the uploaded files (MEDIA_ROOT: imports, meeting "
                   "attachments, evidence, briefs) to <backup name>-media.tar.gz beside it")
    p.set_defaults(func=cmd_backup)

    p = sub.add_parser("restore", help="replace the database with a backup (server stopped)",
                       description="Replace the configured database with a file written by "
                       "`sinergi backup`, then apply migrations, so a backup of an older "
                       "version comes up to date. Stop `sinergi serve` and `sinergi worker` "
                       "first: a database another process has open is refused. Also refused, "
                       "with exit code 2 and nothing changed: a file that is not a Sinergi "
                       "backup, a backup of a newer Sinergi and, without --yes, a database "
                       "that holds data. Uploaded files are put back by hand (README.md, "
                       "\"Backup and restore\").")
    p.add_argument("path", help="the backup (.sqlite3 for SQLite, .dump for PostgreSQL)")
    p.add_argument("--yes", action="store_true",
                   help="replace the data the database holds now")
    p.set_defaults(func=cmd_restore)
