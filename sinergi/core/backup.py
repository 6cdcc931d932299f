"""`sinergi backup` and `sinergi restore`: a consistent copy of the database.

Copying the SQLite file while the server runs is not a backup: commits that
are still in the write-ahead log (``-wal``) are missed, and a copy taken
mid-checkpoint can be torn. So:

- SQLite: SQLite's online backup API copies every page from one read
  transaction of a fresh connection, so the copy is the database as of one
  commit (WAL included) while the server goes on writing. The copy is put
  in rollback-journal mode so it is one self-contained file, checked with
  ``PRAGMA integrity_check``, then renamed into place.
- PostgreSQL: ``pg_dump --format=custom`` run on a snapshot exported by a
  repeatable-read transaction, in which the key tables are also counted:
  the counts printed are exactly those in the dump.

A restore replaces the whole configured database with the backup's, in one
transaction, then migrates (a backup of an older version comes up to date)
and writes a ``database.restore`` audit row.
It refuses, before changing anything, a file that is not a Sinergi backup, a
backup of a newer Sinergi, a database another process has open (the server
must be stopped) and, unless confirmed, a database that holds data.

Uploaded files (MEDIA_ROOT) are not in the database; ``with_media`` writes
them to a tar beside the backup. The secret key is in neither.
"""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
import time
from collections.abc import Iterator
from contextlib import closing, suppress
from dataclasses import dataclass
from pathlib import Path

from django.apps import apps
from django.conf import settings
from django.db import DatabaseError, connection, connections, transaction
from django.template.defaultfilters import filesizeformat
from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import gettext as _

from .audit import audit_record
from .errors import SinergiError

# Counted after a backup and a restore, and looked at to decide whether a
# restore would replace data: tables migrations fill on their own (content
# types, permissions, group kinds) are not among them.
KEY_MODELS = (
    "regions.Region", "agencies.Agency", "accounts.User", "registry.Household",
    "registry.Person", "groups.Group", "programs.Program", "programs.Enrollment",
    "meetings.Meeting", "meetings.Commitment", "core.AuditLog",
)
SQLITE_HEADER = b"SQLite format 3\x00"
PGDUMP_HEADER = b"PGDMP"
# SQLite waits this long for a lock (a writer checkpointing) before failing.
SQLITE_TIMEOUT = 30


@dataclass(frozen=True)
class BackupResult:
    """What ``database_backup`` wrote."""

    path: Path
    vendor: str  # "sqlite" or "postgresql"
    size: int  # bytes
    check: str  # the verification passed, in words
    tables: tuple[tuple[str, int | None], ...]  # (plural name, rows); None: no such table
    seconds: float
    media_path: Path | None = None
    media_files: int = 0


@dataclass(frozen=True)
class RestoreResult:
    """What ``database_restore`` put in place."""

    path: Path
    vendor: str
    database: str  # the restored database, as shown to people
    tables: tuple[tuple[str, int | None], ...]
    migrations_applied: tuple[str, ...]  # "app.name" applied after the restore
    seconds: float


# --- backup ------------------------------------------------------------------


def database_backup(*, output: Path | None = None, with_media: bool = False) -> BackupResult:
    """Write a consistent backup of the configured database to ``output``.

    ``output`` is a file that must not exist yet, or a folder to put the
    default name in (default folder: ``<VAR_DIR>/backups``). Safe while the
    server writes. With ``with_media``, MEDIA_ROOT is written to a tar
    beside it (``<name>-media.tar.gz``).
    """
    started = time.monotonic()
    vendor = connection.vendor
    path = _output_path(output, ".sqlite3" if vendor == "sqlite" else ".dump")
    partial = path.with_name(f".{path.name}.partial")
    try:
        _create_private(partial)
        if vendor == "sqlite":
            check, tables = _sqlite_backup(partial)
        elif vendor == "postgresql":
            check, tables = _pg_backup(partial)
        else:
            raise SinergiError(_("Backups support SQLite and PostgreSQL, not %(vendor)s.")
                               % {"vendor": vendor})
        # A name that appeared meanwhile is not overwritten.
        if path.exists():
            raise _exists_error(path)
        os.replace(partial, path)
    finally:
        with suppress(FileNotFoundError):
            partial.unlink()
    media_path, media_files = None, 0
    if with_media:
        # After the database: every file the backup's rows name was written
        # before its row was committed, so it is in the tar too.
        media_path = path.with_name(f"{path.name.rsplit('.', 1)[0]}-media.tar.gz")
        media_files = _media_tar(media_path)
    return BackupResult(path=path, vendor=vendor, size=path.stat().st_size, check=check,
                        tables=tables, seconds=time.monotonic() - started,
                        media_path=media_path, media_files=media_files)


def _output_path(output: Path | None, suffix: str) -> Path:
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M%S")
    name = f"sinergi-{stamp}{suffix}"
    if output is None:
        folder = Path(settings.VAR_DIR) / "backups"
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        path = folder / name
    elif output.is_dir():
        path = output / name
    else:
        path = output
    path = path.resolve()
    if path.exists():
        raise _exists_error(path)
    if not path.parent.is_dir():
        raise SinergiError(_("The folder %(folder)s does not exist; create it or choose another "
                             "--output.") % {"folder": path.parent})
    return path


def _exists_error(path: Path) -> SinergiError:
    return SinergiError(_("%(path)s already exists; a backup never overwrites a file. Choose "
                          "another --output or move that file away.") % {"path": path})


def _create_private(path: Path) -> None:
    """An empty file only its owner may read: a backup holds NIKs and
    password hashes. SQLite, pg_dump and tar write into it and keep the mode."""
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600))
    except OSError as exc:
        raise SinergiError(_("Cannot write %(path)s: %(error)s.")
                           % {"path": path, "error": exc.strerror or exc}) from None


def _sqlite_backup(partial: Path) -> tuple[str, tuple]:
    source_path = Path(connection.settings_dict["NAME"])
    if not source_path.is_file():
        raise SinergiError(_("There is no database at %(path)s; check SINERGI_DATABASE_URL.")
                           % {"path": source_path})
    try:
        with closing(_sqlite_open(source_path, mode="rw")) as source, \
                closing(sqlite3.connect(partial)) as copy:
            # One step (pages=-1): the whole copy is read in one read
            # transaction, a snapshot as of the last commit, WAL included.
            # Step by step, every commit of the server would restart it.
            source.backup(copy, pages=-1)
            # The pages carry the source's WAL flag; rollback-journal mode
            # makes the copy one file that needs no -wal or -shm beside it.
            copy.execute("PRAGMA journal_mode=DELETE")
        with closing(_sqlite_open(partial, mode="ro")) as copy:
            problems = [row[0] for row in copy.execute("PRAGMA integrity_check")]
            if problems != ["ok"]:
                raise SinergiError(_("The backup failed its integrity check (%(problem)s); the "
                                     "database itself may be damaged. Nothing was kept.")
                                   % {"problem": problems[0]})
            if not _sqlite_has_migrations(copy):
                raise _not_migrated_error(str(source_path))
            tables = _key_counts(copy.cursor(), "sqlite")
    except sqlite3.Error as exc:
        raise SinergiError(_("The backup of %(db)s failed: %(error)s.")
                           % {"db": source_path, "error": exc}) from None
    return _("integrity check ok"), tables


def _pg_backup(partial: Path) -> tuple[str, tuple]:
    from psycopg import Error as PsycopgError

    pg_dump = _pg_tool("pg_dump")
    try:
        # A connection of its own, outside Django's transaction handling.
        conn = connection.get_new_connection(connection.get_connection_params())
    except PsycopgError as exc:
        raise _pg_error(exc) from None
    try:
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            if not _pg_tables(cur) >= {"django_migrations"}:
                raise _not_migrated_error(_pg_label())
            # pg_dump dumps this transaction's snapshot, so the rows counted
            # here are the rows in the dump.
            cur.execute("SELECT pg_export_snapshot()")
            snapshot = cur.fetchone()[0]
            tables = _key_counts(cur, "postgresql")
            _run([pg_dump, "--format=custom", f"--snapshot={snapshot}", f"--file={partial}"],
                 tool="pg_dump", database=True)
            cur.execute("COMMIT")
    except PsycopgError as exc:
        raise _pg_error(exc) from None
    finally:
        conn.close()
    listing = _run([_pg_tool("pg_restore"), "--list", str(partial)], tool="pg_restore")
    if not _PG_MIGRATIONS_DATA.search(listing):
        raise SinergiError(_("pg_dump wrote %(path)s without the migrations table; nothing was "
                             "kept.") % {"path": partial})
    return _("pg_restore reads it"), tables


def _media_tar(path: Path) -> int:
    """MEDIA_ROOT as ``media/...`` in a gzip tar; returns how many files.
    Files removed while it runs (finished imports' uploads) are left out."""
    root = Path(settings.MEDIA_ROOT)
    if path.exists():
        raise _exists_error(path)
    partial = path.with_name(f".{path.name}.partial")
    count = 0
    try:
        _create_private(partial)
        with open(partial, "wb") as raw, tarfile.open(fileobj=raw, mode="w:gz") as tar:
            for folder, _dirs, files in os.walk(root):
                for name in sorted(files):
                    full = Path(folder, name)
                    with suppress(FileNotFoundError):
                        tar.add(full, arcname=str(Path("media", full.relative_to(root))),
                                recursive=False)
                        count += 1
        os.replace(partial, path)
    except OSError as exc:
        raise SinergiError(_("Cannot write %(path)s: %(error)s.")
                           % {"path": path, "error": exc.strerror or exc}) from None
    finally:
        with suppress(FileNotFoundError):
            partial.unlink()
    return count


# --- restore -----------------------------------------------------------------


def database_restore(*, path: Path, replace: bool = False) -> RestoreResult:
    """Replace the configured database with the backup at ``path``, then
    migrate it to this version.

    Refuses, changing nothing: a file that is not a Sinergi backup for this
    database kind, a backup of a newer Sinergi, a database another process
    has open (stop the server first) and, without ``replace``, a database
    that holds data.
    """
    started = time.monotonic()
    path = path.resolve()
    vendor = connection.vendor
    if not path.is_file():
        raise SinergiError(_("There is no file at %(path)s.") % {"path": path})
    with open(path, "rb") as f:
        header = f.read(len(SQLITE_HEADER))
    if vendor == "sqlite":
        target = Path(connection.settings_dict["NAME"])
        label = str(target)
        _sqlite_check_backup(path, header)
        _sqlite_check_target(target, replace=replace)
        connections.close_all()
        _sqlite_restore(path, target)
    elif vendor == "postgresql":
        label = _pg_label()
        _pg_check_backup(path, header)
        _pg_check_target(label, replace=replace)
        connections.close_all()
        _pg_restore(path)
    else:
        raise SinergiError(_("Backups support SQLite and PostgreSQL, not %(vendor)s.")
                           % {"vendor": vendor})
    applied = _migrate()
    # The restored log says so: rows newer than the backup are gone, and
    # this row tells an administrator why.
    with transaction.atomic():
        audit_record(actor=None, action="database.restore", object_type="database",
                     object_repr=path.name[:200],
                     after={"file": str(path), "migrations_applied": list(applied)})
    with connection.cursor() as cur:
        tables = _key_counts(cur, vendor)
    return RestoreResult(path=path, vendor=vendor, database=label, tables=tables,
                         migrations_applied=applied, seconds=time.monotonic() - started)


def _not_a_backup(path: Path, header: bytes, vendor: str) -> SinergiError:
    if vendor == "sqlite" and header.startswith(PGDUMP_HEADER):
        return SinergiError(_("%(path)s is a PostgreSQL backup, but the configured database is "
                              "SQLite. Restore it with SINERGI_DATABASE_URL set to a PostgreSQL "
                              "database.") % {"path": path})
    if vendor == "postgresql" and header == SQLITE_HEADER:
        return SinergiError(_("%(path)s is a SQLite backup, but the configured database is "
                              "PostgreSQL. Restore it with SINERGI_DATABASE_URL set to a SQLite "
                              "file.") % {"path": path})
    return SinergiError(_("%(path)s is not a Sinergi backup. Give a file written by `sinergi "
                          "backup`.") % {"path": path})


def _not_sinergi(path: Path) -> SinergiError:
    return SinergiError(_("%(path)s is a database backup but not Sinergi's (it has no Sinergi "
                          "migrations). Give a file written by `sinergi backup`.")
                        % {"path": path})


def _sqlite_check_backup(path: Path, header: bytes) -> None:
    if header != SQLITE_HEADER:
        raise _not_a_backup(path, header, "sqlite")
    try:
        with closing(_sqlite_open(path, mode="ro")) as backup:
            if not _sqlite_has_migrations(backup):
                raise _not_sinergi(path)
            applied = set(backup.execute("SELECT app, name FROM django_migrations"))
            problem = backup.execute("PRAGMA quick_check").fetchone()[0]
    except sqlite3.Error as exc:
        raise _unreadable(path, exc) from None
    if problem != "ok":
        raise SinergiError(_("%(path)s is damaged (%(problem)s); restore an older backup.")
                           % {"path": path, "problem": problem})
    _check_migrations(path, applied)


def _sqlite_check_target(target: Path, *, replace: bool) -> None:
    others = _processes_using([target, Path(f"{target}-wal"), Path(f"{target}-shm")])
    if others:
        raise _in_use_error(str(target), ", ".join(map(str, others)))
    if not target.exists() or replace:
        return
    try:
        with closing(_sqlite_open(target, mode="rw")) as db:
            counts = _key_counts(db.cursor(), "sqlite")
    except sqlite3.Error as exc:
        raise SinergiError(_("%(db)s cannot be read (%(error)s); move it away and restore "
                             "again.") % {"db": target, "error": exc}) from None
    _refuse_if_data(str(target), counts)


def _sqlite_restore(backup_path: Path, target: Path) -> None:
    try:
        with closing(_sqlite_open(backup_path, mode="ro")) as backup, \
                closing(sqlite3.connect(target, timeout=SQLITE_TIMEOUT)) as db:
            # Out of WAL mode first: this checkpoints and removes the -wal
            # file (no stale log can be replayed over the restored pages),
            # lets the page size change, and fails if anyone else has the
            # file open.
            mode = db.execute("PRAGMA journal_mode=DELETE").fetchone()[0]
            if mode.lower() != "delete":
                raise _in_use_error(str(target), "?")
            # One step: one write transaction, rolled back whole by SQLite if
            # anything stops it half-way.
            backup.backup(db, pages=-1)
            db.execute("PRAGMA journal_mode=WAL")
    except sqlite3.OperationalError as exc:
        if "locked" in str(exc) or "busy" in str(exc):
            raise _in_use_error(str(target), "?") from None
        raise SinergiError(_("The restore into %(db)s failed: %(error)s.")
                           % {"db": target, "error": exc}) from None


def _in_use_error(database: str, pids: str) -> SinergiError:
    return SinergiError(_("The database %(db)s is in use by other processes (%(pids)s), such as "
                          "`sinergi serve` or `sinergi worker`. Stop the server and the worker, "
                          "then restore again.") % {"db": database, "pids": pids})


def _refuse_if_data(database: str, counts: tuple) -> None:
    held = [f"{n:,} {name.lower()}" for name, n in counts if n]
    if held:
        raise SinergiError(_("The database %(db)s already holds data (%(held)s). A restore "
                             "replaces all of it: add --yes to go ahead.")
                           % {"db": database, "held": ", ".join(held)})


def _check_migrations(path: Path, applied: set[tuple[str, str]]) -> None:
    """A Sinergi backup has Sinergi's migrations, and none this version lacks
    (a newer schema would be used by older code: refuse)."""
    from django.db.migrations.loader import MigrationLoader

    if not any(app == "regions" for app, _name in applied):
        raise _not_sinergi(path)
    loader = MigrationLoader(None, ignore_no_migrations=True)
    known = set(loader.disk_migrations)
    for migration in loader.replacements.values():
        known.update(migration.replaces)
    unknown = sorted(f"{app}.{name}" for app, name in applied
                     if app in loader.migrated_apps and (app, name) not in known)
    if unknown:
        raise SinergiError(_("%(path)s comes from a newer Sinergi: this version does not know "
                             "its migration %(migration)s. Install the newer Sinergi, then "
                             "restore again.") % {"path": path, "migration": unknown[0]})


def _migrate() -> tuple[str, ...]:
    from django.core.management import call_command
    from django.db.migrations.recorder import MigrationRecorder

    def applied() -> set[tuple[str, str]]:
        return set(MigrationRecorder(connection).applied_migrations())

    before = applied()
    call_command("migrate", "--noinput", verbosity=0)
    return tuple(sorted(f"{app}.{name}" for app, name in applied() - before))


# --- PostgreSQL ----------------------------------------------------------------

_PG_MIGRATIONS_DATA = re.compile(r"\bTABLE DATA \S+ django_migrations\b")


def _pg_check_backup(path: Path, header: bytes) -> None:
    if not header.startswith(PGDUMP_HEADER):
        raise _not_a_backup(path, header, "postgresql")
    pg_restore = _pg_tool("pg_restore")
    listing = _run([pg_restore, "--list", str(path)], tool="pg_restore", unreadable=path)
    if not _PG_MIGRATIONS_DATA.search(listing):
        raise _not_sinergi(path)
    script = _run([pg_restore, "--data-only", "--table=django_migrations", "--file=-",
                   str(path)], tool="pg_restore", unreadable=path)
    _check_migrations(path, _copy_rows(script, "app", "name"))


def _copy_rows(script: str, *columns: str) -> set[tuple[str, ...]]:
    """The given columns of the rows of the COPY in a pg_restore script."""
    rows: set[tuple[str, ...]] = set()
    header = None
    for line in script.splitlines():
        if header is None:
            match = re.match(r"COPY \S+ \((.*)\) FROM stdin;$", line)
            if match:
                header = [c.strip().strip('"') for c in match.group(1).split(",")]
                index = [header.index(c) for c in columns]
        elif line == "\\.":
            break
        else:
            values = line.split("\t")
            rows.add(tuple(values[i] for i in index))
    return rows


def _pg_check_target(label: str, *, replace: bool) -> None:
    try:
        with connection.cursor() as cur:
            cur.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                "AND pid <> pg_backend_pid() AND backend_type = 'client backend' ORDER BY pid")
            others = [row[0] for row in cur.fetchall()]
            if others:
                raise _in_use_error(label, ", ".join(map(str, others)))
            if not replace:
                _refuse_if_data(label, _key_counts(cur, "postgresql"))
    except DatabaseError as exc:
        raise _pg_error(exc) from None


# Everything in the schema goes first, inside the restore's transaction:
# pg_restore --clean only drops what the dump holds, and a table a newer
# migration added would keep its foreign keys into the dropped tables.
_PG_DROP_ALL = """
DO $$DECLARE r record; BEGIN
  FOR r IN SELECT format('%I.%I', n.nspname, c.relname) AS name, c.relkind
           FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
           WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p', 'f', 'v', 'm', 'S')
           ORDER BY position(c.relkind::text IN 'rpfvmS') LOOP
    -- Tables first; what their CASCADE took along is skipped (IF EXISTS).
    EXECUTE format('DROP %s IF EXISTS %s CASCADE', CASE r.relkind
      WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW' WHEN 'S' THEN 'SEQUENCE'
      WHEN 'f' THEN 'FOREIGN TABLE' ELSE 'TABLE' END, r.name);
  END LOOP;
END$$;
"""


def _pg_restore(path: Path) -> None:
    """pg_restore --clean --if-exists --no-owner, run by psql in one
    transaction that also drops what is there first: it commits only when
    pg_restore read the whole archive and every statement succeeded, so a
    failed restore leaves the database as it was."""
    pg_restore, psql = _pg_tool("pg_restore"), _pg_tool("psql")
    args, env = _pg_command(psql, ["--no-psqlrc", "--quiet", "--no-password",
                                   "--set=ON_ERROR_STOP=1"])
    env["PGOPTIONS"] = "-c client_min_messages=warning"
    with tempfile.TemporaryFile() as restore_err, tempfile.TemporaryFile() as psql_err:
        reader = subprocess.Popen(  # noqa: S603 (a tool found on PATH, arguments of ours)
            [pg_restore, "--clean", "--if-exists", "--no-owner", "--file=-", str(path)],
            stdout=subprocess.PIPE, stderr=restore_err)
        writer = subprocess.Popen(args, env=env, stdin=subprocess.PIPE,  # noqa: S603
                                  stdout=subprocess.DEVNULL, stderr=psql_err)
        psql_stopped = False
        try:
            writer.stdin.write(b"BEGIN;\n" + _PG_DROP_ALL.encode() + b"\n")
            shutil.copyfileobj(reader.stdout, writer.stdin, 1 << 20)
            if reader.wait() == 0:
                writer.stdin.write(b"COMMIT;\n")
        except BrokenPipeError:  # psql stopped on an error
            psql_stopped = True
        finally:
            if reader.poll() is None:
                reader.kill()
            reader.wait()
            reader.stdout.close()
        if not psql_stopped and reader.returncode != 0:
            # psql ends without COMMIT: the transaction is rolled back.
            writer.kill()
            writer.wait()
            raise SinergiError(_("pg_restore could not read %(path)s (%(error)s); nothing was "
                                 "changed.") % {"path": path, "error": _last_line(restore_err)})
        with suppress(BrokenPipeError):
            writer.stdin.close()
        if writer.wait() != 0:
            raise SinergiError(_("The restore failed and was rolled back; nothing was changed. "
                                 "psql said: %(error)s") % {"error": _last_line(psql_err)})


def _last_line(file) -> str:
    file.seek(0)
    lines = [line.strip() for line in file.read().decode(errors="replace").splitlines()]
    return next((line for line in reversed(lines) if line), "?")


def _pg_tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise SinergiError(_("%(tool)s was not found on PATH. Install the PostgreSQL client "
                             "programs (Debian: apt install postgresql-client), of the server's "
                             "version or newer.") % {"tool": name})
    return found


def _pg_command(tool: str, parameters: list[str]) -> tuple[list[str], dict[str, str]]:
    """The tool's command line and environment for the configured database:
    Django's own psql mapping (host, port, user, name on the line; password
    and SSL settings in PG* variables, never on the command line)."""
    from django.db.backends.postgresql.client import DatabaseClient

    args, extra = DatabaseClient.settings_to_cmd_args_env(connection.settings_dict, parameters)
    env = {**os.environ, **(extra or {}), "PGAPPNAME": "sinergi-backup"}
    return [tool, *args[1:]], env


def _unreadable(path: Path, error) -> SinergiError:
    return SinergiError(_("%(path)s cannot be read as a Sinergi backup: %(error)s.")
                        % {"path": path, "error": error})


def _run(argv: list[str], *, tool: str, database: bool = False,
         unreadable: Path | None = None) -> str:
    """Run a PostgreSQL tool; its output, or a SinergiError with its last
    line of complaint (about the backup ``unreadable``, when given)."""
    env = dict(os.environ)
    if database:
        argv, env = _pg_command(argv[0], ["--no-password", *argv[1:]])
    result = subprocess.run(argv, env=env, capture_output=True, text=True,  # noqa: S603
                            errors="replace", check=False)
    if result.returncode != 0:
        said = next((line for line in reversed(result.stderr.splitlines()) if line.strip()), "?")
        if unreadable is not None:
            raise _unreadable(unreadable, said)
        raise SinergiError(_("%(tool)s failed: %(error)s") % {"tool": tool, "error": said})
    return result.stdout


def _pg_label() -> str:
    s = connection.settings_dict
    return f"{s['NAME']} ({s['HOST'] or 'localhost'}:{s['PORT'] or 5432})"


def _pg_error(exc: Exception) -> SinergiError:
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return SinergiError(_("PostgreSQL database %(db)s: %(error)s")
                        % {"db": _pg_label(), "error": first})


def _pg_tables(cursor) -> set[str]:
    cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")
    return {row[0] for row in cursor.fetchall()}


# --- shared --------------------------------------------------------------------


def _sqlite_open(path: Path, *, mode: str) -> sqlite3.Connection:
    """A connection that never creates the file. A live database is opened
    "rw" even to read it: the last connection to close removes the -wal and
    -shm files, which a read-only one would leave behind, owned by whoever
    ran the command (root's would lock the server's user out)."""
    return sqlite3.connect(f"{path.resolve().as_uri()}?mode={mode}", uri=True,
                           timeout=SQLITE_TIMEOUT)


def _sqlite_has_migrations(db: sqlite3.Connection) -> bool:
    return db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' "
                      "AND name = 'django_migrations'").fetchone() is not None


def _not_migrated_error(database: str) -> SinergiError:
    return SinergiError(_("The database %(db)s has no Sinergi tables yet; there is nothing to "
                          "back up (`sinergi manage migrate` creates them).") % {"db": database})


def _key_counts(cursor, vendor: str) -> tuple[tuple[str, int | None], ...]:
    """Rows in each of KEY_MODELS' tables (None: the table does not exist,
    a backup of an older version), by the cursor given (DB-API)."""
    if vendor == "sqlite":
        cursor.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        present = {row[0] for row in cursor.fetchall()}
    else:
        present = _pg_tables(cursor)
    counts = []
    for label in KEY_MODELS:
        meta = apps.get_model(label)._meta
        rows = None
        if meta.db_table in present:
            cursor.execute(f'SELECT COUNT(*) FROM "{meta.db_table}"')  # noqa: S608 (our table)
            rows = int(cursor.fetchone()[0])
        counts.append((str(capfirst(meta.verbose_name_plural)), rows))
    return tuple(counts)


def _processes_using(paths: list[Path]) -> list[int]:
    """Other processes that have one of ``paths`` open (Linux, processes this
    user may look at; elsewhere none are found). A running server's worker
    always holds its SQLite database open."""
    wanted = {str(p.resolve()) for p in paths}
    found = []
    me = os.getpid()
    with suppress(OSError), os.scandir("/proc") as entries:
        for entry in entries:
            if not entry.name.isdigit() or int(entry.name) == me:
                continue
            if any(link in wanted for link in _open_files(entry.name)):
                found.append(int(entry.name))
    return sorted(found)


def _open_files(pid: str) -> Iterator[str]:
    try:
        with os.scandir(f"/proc/{pid}/fd") as fds:
            for fd in fds:
                with suppress(OSError):
                    yield os.readlink(fd.path)
    except OSError:  # gone, or another user's
        return


def human_size(size: int) -> str:
    """A size for people (``12.3 MB``), in the active language."""
    return str(filesizeformat(size))
