"""The `sinergi` command: serve, demo, regions, agencies, users, check, manage.

Every subcommand calls the same services as the pages and the API. A
problem the operator can fix prints one line on stderr and exits with 2.
"""

import argparse
import getpass
import os
import sys
import time


def _setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sinergi.settings")
    import django

    django.setup()


def _manage(*args: str) -> None:
    from django.core.management import call_command

    call_command(*args)


def _migrate(verbosity: int = 0) -> None:
    _manage("migrate", "--noinput", f"--verbosity={verbosity}")


def cmd_serve(args) -> None:
    """Migrate, collect static files and serve with gunicorn + whitenoise."""
    if args.prepared:
        _serve(args.host, args.port, args.workers)
        return
    if not args.no_migrate:
        _migrate()
    _manage("collectstatic", "--noinput", "--verbosity=0")
    _exec_server(args.host, args.port, args.workers)


def _exec_server(host: str, port: int, workers: int) -> None:
    """Replace this process by a fresh ``sinergi serve --prepared``.

    gunicorn forks its workers from the serving process. A process that has
    built the demo or migrated has started thread pools (polars, the
    SQLite checkpoint thread) and opened database connections; a fork copies
    the connections and the pools' locks but not their threads, so the
    workers would hang on their first import. A fresh interpreter has
    neither.
    """
    from django.db import connections

    connections.close_all()
    sys.stdout.flush()
    sys.stderr.flush()
    argv = [sys.executable, "-m", "sinergi.cli", "serve", "--prepared", "--host", host,
            "--port", str(port), "--workers", str(workers)]
    os.execv(sys.executable, argv)  # noqa: S606 (our own interpreter and module)


def _os_threads() -> int:
    """Threads of this process as the kernel counts them (Python's count
    misses threads started by native libraries)."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("Threads:"):
                    return int(line.split()[1])
    except OSError:
        pass
    import threading

    return threading.active_count()


def _start_worker():
    """`sinergi worker` beside the web server: runs every background job."""
    import atexit
    import subprocess

    child = subprocess.Popen([sys.executable, "-m", "sinergi.cli", "worker"])  # noqa: S603
    atexit.register(child.terminate)
    return child


def _serve(host: str, port: int, workers: int) -> None:
    from django.db import connections
    from gunicorn.app.base import BaseApplication

    from sinergi.wsgi import application

    # gunicorn forks its workers from this process: it must hold no thread
    # (see _exec_server) and no database connection.
    if _os_threads() > 1:
        print("sinergi: warning: serving from a process with threads running; its workers "
              "may hang", file=sys.stderr, flush=True)
    connections.close_all()

    class Server(BaseApplication):
        def load_config(self):
            self.cfg.set("bind", f"{host}:{port}")
            self.cfg.set("workers", workers)
            self.cfg.set("worker_class", "gthread")
            self.cfg.set("threads", 4)
            self.cfg.set("timeout", 120)
            self.cfg.set("accesslog", "-")

        def load(self):
            return application

    print(f"Sinergi serving on http://{host}:{port}  (Ctrl+C to stop)", flush=True)
    _start_worker()
    Server().run()


def cmd_demo(args) -> None:
    """Build the demo (idempotent), print the logins, then serve."""
    from sinergi.demo import DemoContext, demo_build

    started = time.perf_counter()
    print("Preparing the Sinergi demo database…", flush=True)
    _migrate()
    ctx = demo_build(DemoContext(scale=args.scale))
    print(f"Demo ready in {time.perf_counter() - started:.0f} s.\n")
    url = f"http://{args.host}:{args.port}/"
    print(f"Open {url} and sign in with one of these demo accounts:")
    width = max(len(label) for label, *_ in ctx.logins)
    for label, username, password, scope in ctx.logins:
        print(f"  {label:<{width}}  user: {username:<12} password: {password:<18} scope: {scope}")
    print(flush=True)
    if args.no_serve:
        return
    _manage("collectstatic", "--noinput", "--verbosity=0")
    _exec_server(args.host, args.port, args.workers)


def cmd_regions_load(args) -> None:
    from pathlib import Path

    from sinergi.regions import services

    started = time.perf_counter()
    result = services.regions_load(
        actor=None,
        path=Path(args.file) if args.file else services.DEFAULT_FILE,
        edition=args.edition or services.DEFAULT_EDITION,
        source=args.source or services.DEFAULT_SOURCE,
        allow_mass_retire=args.allow_retire_many,
    )
    print(
        f"{result.edition}: {result.total:,} regions; added {result.added:,}, renamed "
        f"{result.renamed:,}, retired {result.retired:,}, restored {result.restored:,} "
        f"({time.perf_counter() - started:.1f} s)"
    )


def cmd_agencies_seed(args) -> None:
    from sinergi.agencies.services import agency_seed_defaults

    created = agency_seed_defaults(actor=None, region_code=args.region)
    print(f"{len(created)} agencies added to {args.region}: "
          + (", ".join(a.short_name for a in created) or "none (all present)"))


def cmd_users_create(args) -> None:
    from sinergi.accounts.services import user_create

    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    elif sys.stdin.isatty():
        password = getpass.getpass("Password: ")
        if password != getpass.getpass("Password (again): "):
            raise SystemExit("sinergi: the two passwords differ; nothing was created.")
    else:
        raise SystemExit("sinergi: give the password with --password-stdin or run in a terminal.")
    user = user_create(
        actor=None,
        username=args.username,
        password=password,
        role=args.role,
        region_code=args.region,
        agency_id=args.agency,
        first_name=args.first_name or "",
        last_name=args.last_name or "",
        email=args.email or "",
        superuser=args.superuser,
    )
    print(f"Created {user.username} ({user.role}, scope {user.region_id or 'all'}).")


def cmd_check(args) -> None:
    extra = ["--deploy"] if not args.no_deploy else []
    _manage("check", *extra, "--fail-level", "WARNING")


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


def cmd_manage(args) -> None:
    from django.core.management import execute_from_command_line

    execute_from_command_line(["sinergi manage", *args.rest])


def build_parser() -> argparse.ArgumentParser:
    from sinergi.accounts.roles import ROLE_CHOICES

    parser = argparse.ArgumentParser(
        prog="sinergi",
        description="Sinergi: regional program coordination. Settings come from SINERGI_* "
        "environment variables (docs/configuration.md).",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add_server_args(p, *, workers: int = 2):
        p.add_argument("--host", default="127.0.0.1", help="address to listen on")
        p.add_argument("--port", type=int, default=8000, help="port to listen on")
        p.add_argument("--workers", type=int, default=workers, help="worker processes")

    p = sub.add_parser("serve", help="run the production web server (gunicorn + whitenoise)",
                       description="Apply migrations, collect static files and serve.")
    add_server_args(p)
    p.add_argument("--no-migrate", action="store_true", help="do not apply migrations first")
    # Internal: the fresh process that `serve` and `demo` hand over to.
    p.add_argument("--prepared", action="store_true", help=argparse.SUPPRESS)
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("demo", help="build the demo database and serve it",
                       description="Build the demo region (Kepulauan Bangka Belitung) in the "
                       "configured database, print one login per role, then serve.")
    add_server_args(p)
    p.add_argument("--scale", choices=["small", "default", "full"], default="default",
                   help="demo data size: small (a few thousand persons, for tests), default "
                   "(about 30,000) or full (province scale)")
    p.add_argument("--no-serve", action="store_true", help="build the data and stop")
    p.set_defaults(func=cmd_demo)

    regions = sub.add_parser("regions", help="the Kemendagri region hierarchy",
                             description="Manage the region hierarchy.")
    rsub = regions.add_subparsers(dest="regions_command", required=True, metavar="ACTION")
    p = rsub.add_parser("load", help="load (or update to) a Kepmendagri edition",
                        description="Load the shipped edition, or a code,name CSV file. "
                        "Idempotent; codes no longer listed are marked retired, never deleted.")
    p.add_argument("--file", help="CSV (or .csv.gz) with columns code,name; default: shipped")
    p.add_argument("--edition", help="edition name, e.g. 'Kepmendagri 300.2.2-2138/2025'")
    p.add_argument("--source", help="where the file comes from, for the record")
    p.add_argument("--allow-retire-many", action="store_true",
                   help="allow the load to retire more than 10%% of the current regions "
                   "(only for a file that really is the whole new edition)")
    p.set_defaults(func=cmd_regions_load)

    agencies = sub.add_parser("agencies", help="agencies (OPD)",
                              description="Manage agencies.")
    asub = agencies.add_subparsers(dest="agencies_command", required=True, metavar="ACTION")
    p = asub.add_parser("seed", help="add the default agency set to a government",
                        description="Add the default OPD set to a province or kabupaten/kota; "
                        "existing short names are left alone.")
    p.add_argument("--region", required=True, help="province or kabupaten/kota code, e.g. 19.04")
    p.set_defaults(func=cmd_agencies_seed)

    users = sub.add_parser("users", help="user accounts", description="Manage accounts.")
    usub = users.add_subparsers(dest="users_command", required=True, metavar="ACTION")
    p = usub.add_parser("create", help="create an account",
                        description="Create an account with a role and a region scope. The "
                        "password is asked for, or read from stdin with --password-stdin.")
    p.add_argument("--username", required=True)
    p.add_argument("--role", required=True, choices=[key for key, _ in ROLE_CHOICES])
    p.add_argument("--region", help="root of the user's scope, e.g. 19.04; required except "
                   "for an unscoped administrator")
    p.add_argument("--agency", type=int, help="agency id (required for an officer)")
    p.add_argument("--first-name")
    p.add_argument("--last-name")
    p.add_argument("--email")
    p.add_argument("--superuser", action="store_true",
                   help="administrator with every Django admin permission")
    p.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    p.set_defaults(func=cmd_users_create)

    p = sub.add_parser("check", help="run Django's system and deployment checks",
                       description="Run the system checks, with the deployment checks unless "
                       "--no-deploy; exits non-zero on any warning.")
    p.add_argument("--no-deploy", action="store_true", help="skip the deployment checks")
    p.set_defaults(func=cmd_check)

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

    p = sub.add_parser("manage", help="any Django management command (migrate, shell, …)",
                       description="Pass the rest of the line to Django's manage.py.")
    p.add_argument("rest", nargs=argparse.REMAINDER)
    p.set_defaults(func=cmd_manage)

    from sinergi.imports.commands import add_parsers as add_import_parsers

    add_import_parsers(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    from django.core.exceptions import ImproperlyConfigured

    try:
        _setup_django()
    except ImproperlyConfigured as exc:
        print(f"sinergi: configuration problem: {exc}", file=sys.stderr)
        return 2
    from django.core.management.base import CommandError

    from sinergi.core.errors import SinergiError

    args = build_parser().parse_args(argv)
    try:
        code = args.func(args)
    except SinergiError as exc:
        print(f"sinergi: {exc.message}", file=sys.stderr)
        return 2
    except ImproperlyConfigured as exc:
        print(f"sinergi: configuration problem: {exc}", file=sys.stderr)
        return 2
    except CommandError as exc:
        print(f"sinergi: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    return code or 0


if __name__ == "__main__":
    sys.exit(main())
