"""`sinergi backup` and `sinergi restore`: consistent while the server
writes, refusing what would lose data, and bringing old backups up to date.

Like tests/test_registry_kill.py, these run the real command line in child
processes against databases of their own: SQLite files, or scratch
PostgreSQL databases when the suite runs on PostgreSQL. Messages are
translated (Bahasa Indonesia by default), so the tests look at exit codes,
files and rows, and at the words that stay the same in every language
(paths, option names, migration names).
"""

import hashlib
import itertools
import os
import re
import shutil
import sqlite3
import stat
import subprocess
import sys
import tarfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import pytest
from django.db import connection

from sinergi.cli import build_parser

POSTGRES = connection.vendor == "postgresql"
SUFFIX = ".dump" if POSTGRES else ".sqlite3"

# A writer like the server's: one transaction per change through the ORM.
# Each commit adds agency W<i> and sets region 97's name to w<i>, then
# prints i, so a value read from its output was committed before. On SQLite
# its commits stay in the write-ahead log (no automatic checkpoint, as during
# an import: core/bulk.checkpoint_after), where a copy of the file misses them.
WRITER = r"""
import itertools

import django

django.setup()
from django.db import connection, transaction

from sinergi.agencies.models import Agency
from sinergi.regions.models import Region

if connection.vendor == "sqlite":
    connection.cursor().execute("PRAGMA wal_autocheckpoint = 0")
Region.objects.create(code="97", name="w0", kind="provinsi", level=1, edition="test")
for i in itertools.count(1):
    with transaction.atomic():
        Agency.objects.create(name=f"Dinas {i}", short_name=f"W{i}", level="province",
                              region_id="97", sector="other")
        Region.objects.filter(code="97").update(name=f"w{i}")
    print(i, flush=True)
"""


@dataclass
class Db:
    """A database of its own and the environment that points the CLI at it."""

    env: dict
    path: Path | None = None  # SQLite
    url: str | None = None  # PostgreSQL

    def query(self, sql: str) -> list[tuple]:
        if POSTGRES:
            import psycopg

            with psycopg.connect(self.url) as conn:
                return conn.execute(sql).fetchall()
        # closing(): an open connection would make restore see a server.
        with closing(sqlite3.connect(self.path, timeout=30)) as conn:
            return conn.execute(sql).fetchall()

    def execute(self, script: str) -> None:
        """Statements separated by ";", in one transaction."""
        if POSTGRES:
            import psycopg

            with psycopg.connect(self.url) as conn:
                for statement in script.split(";"):
                    conn.execute(statement)
            return
        with closing(sqlite3.connect(self.path, timeout=30)) as conn:
            conn.executescript(f"BEGIN; {script}; COMMIT;")

    def agencies(self) -> set[int]:
        rows = self.query("SELECT short_name FROM agencies_agency WHERE region_id = '97'")
        return {int(name[1:]) for (name,) in rows}

    def state(self) -> tuple:
        """What a refused restore must leave as it was."""
        region = self.query("SELECT name FROM regions_region WHERE code = '97'")
        digest = hashlib.sha256(self.path.read_bytes()).hexdigest() if self.path else None
        return self.agencies(), region, digest


def sinergi(db: Db, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "sinergi.cli", *args], env=env or db.env,
                          capture_output=True, text=True, timeout=300)


def seed(db: Db, count: int) -> None:
    """Region 97 (named w<count>) with agencies W1..W<count>, as the writer
    leaves them, in one transaction."""
    rows = ", ".join(f"('Dinas {i}', 'W{i}', 'province', '97', 'other', TRUE, "
                     "CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)" for i in range(1, count + 1))
    region = ("INSERT INTO regions_region (code, name, kind, level, edition, retired_in) "
              "VALUES ('97', 'w0', 'provinsi', 1, 'test', '')")
    insert = ("INSERT INTO agencies_agency (name, short_name, level, region_id, sector, "
              "is_active, created_at, updated_at) VALUES ")
    name = ("UPDATE regions_region SET name = 'w' || (SELECT COUNT(*) FROM agencies_agency) "
            "WHERE code = '97'")
    db.execute(f"{region}; {insert}{rows}; {name}")


def one_line_error(result: subprocess.CompletedProcess) -> str:
    assert result.returncode == 2, (result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("sinergi: "), result.stderr
    return lines[0]


@pytest.fixture(scope="module")
def scratch(tmp_path_factory):
    """``scratch(migrated=True)``: a new database of its own, migrated (copied
    from a template migrated once) or empty (``migrated=False``)."""
    root = tmp_path_factory.mktemp("backup")
    env = {k: v for k, v in os.environ.items() if not k.startswith("SINERGI_")}
    env["SINERGI_VAR_DIR"] = str(root / "var")
    env["DJANGO_SETTINGS_MODULE"] = "sinergi.settings"
    numbers = itertools.count()
    made: list[str] = []
    if POSTGRES:
        import psycopg

        s = connection.settings_dict
        auth = quote(s["USER"]) + (f":{quote(s['PASSWORD'])}" if s["PASSWORD"] else "")
        base = f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}"
        prefix = f"sinergi_bk_{os.getpid()}"

        def admin(sql: str) -> None:
            with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
                conn.execute(sql)

        def make(template: str | None) -> Db:
            name = f"{prefix}_{next(numbers)}"
            admin(f'DROP DATABASE IF EXISTS "{name}"')
            admin(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))
            made.append(name)
            url = f"{base}/{name}"
            return Db(env={**env, "SINERGI_DATABASE_URL": url}, url=url)

        template = make(None)
        template_ref = made[-1]
    else:
        def make(template: Path | None) -> Db:
            path = root / f"db{next(numbers)}.sqlite3"
            if template is not None:
                path.write_bytes(template.read_bytes())
            return Db(env={**env, "SINERGI_DATABASE_URL": f"sqlite:///{path}"}, path=path)

        template = make(None)
        template_ref = template.path
    result = sinergi(template, "manage", "migrate", "--noinput")
    assert result.returncode == 0, result.stderr

    yield lambda migrated=True: make(template_ref if migrated else None)

    if POSTGRES:
        # Together: each DROP DATABASE waits for a checkpoint, and drops
        # that wait at the same time share one.
        with ThreadPoolExecutor(max_workers=len(made)) as pool:
            list(pool.map(lambda name: admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'),
                          made))


@pytest.mark.slow
def test_a_backup_taken_while_the_server_writes_holds_every_commit_before_it(
        scratch, tmp_path):
    source, fresh = scratch(), scratch(migrated=False)
    writer = subprocess.Popen([sys.executable, "-c", WRITER], env=source.env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    committed: list[int] = []
    reader = threading.Thread(target=lambda: committed.extend(map(int, writer.stdout)),
                              daemon=True)
    reader.start()

    def wait_for(count: int) -> None:
        deadline = time.monotonic() + 120
        while len(committed) < count and writer.poll() is None:
            assert time.monotonic() < deadline, "the writer stopped committing"
            time.sleep(0.01)
        assert writer.poll() is None, writer.stderr.read()

    try:
        wait_for(300)
        before = committed[-1]  # committed before the backup started
        backup = tmp_path / f"mid{SUFFIX}"
        result = sinergi(source, "backup", "--output", str(backup))
        backup_output = result.stdout
        after_backup = len(committed)
        wait_for(after_backup + 50)  # and the writer went on meanwhile and after
    finally:
        writer.terminate()
        writer.wait(timeout=30)
    assert result.returncode == 0, result.stderr
    assert str(backup) in result.stdout
    if not POSTGRES:
        # One self-contained file: nothing beside it, not in WAL mode.
        assert sorted(p.name for p in tmp_path.iterdir()) == [backup.name]
        assert backup.read_bytes()[18:20] == b"\x01\x01"

    result = sinergi(fresh, "restore", str(backup))
    assert result.returncode == 0, result.stderr
    restored = fresh.agencies()
    missing = set(range(1, before + 1)) - restored
    assert not missing, f"commits made before the backup are missing: {sorted(missing)[:10]}"
    # One consistent snapshot: no gap, and the region row of the same commit.
    top = max(restored)
    assert restored == set(range(1, top + 1))
    assert fresh.query("SELECT name FROM regions_region WHERE code = '97'") == [(f"w{top}",)]
    assert top <= committed[-1] + 1  # (the last commit may not have been printed)
    # The backup printed its own rows: as many agencies as it holds.
    assert re.search(rf"\s{top:,}\n", backup_output), (top, backup_output)

    if POSTGRES:
        assert fresh.query("SELECT COUNT(*) FROM pg_constraint WHERE NOT convalidated") == [(0,)]
    else:
        assert fresh.query("PRAGMA integrity_check") == [("ok",)]
        assert fresh.query("PRAGMA foreign_key_check") == []
    assert sinergi(fresh, "manage", "migrate", "--check").returncode == 0
    # and the restored audit log says it was restored.
    assert fresh.query("SELECT object_repr FROM core_auditlog "
                       "WHERE action = 'database.restore'") == [(backup.name,)]


def test_restore_refuses_files_that_are_not_sinergi_backups_and_changes_nothing(
        scratch, tmp_path):
    target = scratch()
    seed(target, 3)
    before = target.state()
    not_backups = {"text": tmp_path / "notes.txt", "other-kind": tmp_path / f"other{SUFFIX}"}
    not_backups["text"].write_text("this is not a backup\n")
    if POSTGRES:
        # A SQLite database given to a PostgreSQL installation.
        with closing(sqlite3.connect(not_backups["other-kind"])) as db:
            db.execute("CREATE TABLE django_migrations (app, name)")
            db.commit()
    else:
        not_backups["other-kind"].write_bytes(b"PGDMP\x01\x0e\x00" + b"\x00" * 100)
        # A SQLite database, but not Sinergi's.
        not_backups["foreign"] = tmp_path / "foreign.sqlite3"
        with closing(sqlite3.connect(not_backups["foreign"])) as db:
            db.execute("CREATE TABLE notes (text)")
            db.commit()
    # A real backup, cut short (a copy that did not finish).
    source = scratch()
    seed(source, 3000)
    whole = tmp_path / f"whole{SUFFIX}"
    assert sinergi(source, "backup", "--output", str(whole)).returncode == 0
    data = whole.read_bytes()
    not_backups["cut"] = tmp_path / f"cut{SUFFIX}"
    if POSTGRES:
        # Only the last data block is cut: the archive's table of contents and
        # its migrations still read, so the damage shows in the middle of the
        # restore, whose transaction must then roll back whole.
        not_backups["cut"].write_bytes(data[:-64])
        pg_restore = shutil.which("pg_restore")
        for args, code in (([], 1), (["--table=django_migrations"], 0)):
            read = subprocess.run([pg_restore, *args, "--file=/dev/null", not_backups["cut"]],
                                  capture_output=True, timeout=60)
            assert read.returncode == code, read.stderr
    else:
        not_backups["cut"].write_bytes(data[: len(data) // 2])

    for kind, path in not_backups.items():
        # --yes: only the file's check stands in the way.
        line = one_line_error(sinergi(target, "restore", str(path), "--yes"))
        assert str(path) in line, kind
        assert target.state() == before, kind


@pytest.mark.skipif(not POSTGRES, reason="PostgreSQL only: roles and privileges")
def test_a_restore_that_fails_half_way_changes_nothing(scratch, tmp_path):
    """A backup of a server with a reporting role, restored on one without
    it: its GRANT, among the last statements, fails after every table was
    dropped and reloaded. All of it must roll back."""
    source, target = scratch(), scratch()
    seed(source, 20)
    seed(target, 3)
    role = f"sinergi_bk_reader_{os.getpid()}"
    source.execute(f'CREATE ROLE "{role}"; GRANT SELECT ON agencies_agency TO "{role}"')
    try:
        backup = tmp_path / "granted.dump"
        assert sinergi(source, "backup", "--output", str(backup)).returncode == 0
    finally:
        source.execute(f'DROP OWNED BY "{role}"; DROP ROLE "{role}"')
    before = target.state()

    line = one_line_error(sinergi(target, "restore", str(backup), "--yes"))
    assert role in line
    assert target.state() == before


def test_restore_asks_for_yes_before_replacing_data(scratch, tmp_path):
    source, target = scratch(), scratch()
    seed(source, 5)
    seed(target, 3)
    backup = tmp_path / f"five{SUFFIX}"
    assert sinergi(source, "backup", "--output", str(backup)).returncode == 0
    before = target.state()

    line = one_line_error(sinergi(target, "restore", str(backup)))
    assert "--yes" in line
    assert target.state() == before

    result = sinergi(target, "restore", str(backup), "--yes")
    assert result.returncode == 0, result.stderr
    assert target.agencies() == {1, 2, 3, 4, 5}


def test_restore_refuses_a_database_another_process_has_open(scratch, tmp_path):
    source, target = scratch(), scratch()
    seed(source, 2)
    backup = tmp_path / f"two{SUFFIX}"
    assert sinergi(source, "backup", "--output", str(backup)).returncode == 0
    before = target.state()
    # This test process stands for the running server.
    if POSTGRES:
        import psycopg

        server = psycopg.connect(target.url)
    else:
        server = sqlite3.connect(target.path)
        server.execute("SELECT COUNT(*) FROM agencies_agency").fetchall()
    try:
        line = one_line_error(sinergi(target, "restore", str(backup), "--yes"))
    finally:
        server.close()
    assert str(os.getpid()) in line
    assert target.state() == before
    # Stopped, it goes through.
    assert sinergi(target, "restore", str(backup), "--yes").returncode == 0
    assert target.agencies() == {1, 2}


@pytest.mark.slow
def test_a_backup_of_an_older_version_is_migrated_after_restore(scratch, tmp_path):
    source, target = scratch(), scratch()
    assert sinergi(source, "manage", "migrate", "meetings", "0001").returncode == 0
    seed(source, 4)
    backup = tmp_path / f"old{SUFFIX}"
    assert sinergi(source, "backup", "--output", str(backup)).returncode == 0

    # The target has the current schema (one column more in meetings).
    result = sinergi(target, "restore", str(backup))
    assert result.returncode == 0, result.stderr
    assert "meetings.0002_briefjob_scope_root" in result.stdout
    assert sinergi(target, "manage", "migrate", "--check").returncode == 0
    assert target.agencies() == {1, 2, 3, 4}


def test_restore_refuses_a_backup_of_a_newer_sinergi(scratch, tmp_path):
    source, target = scratch(), scratch()
    seed(source, 2)
    source.execute("INSERT INTO django_migrations (app, name, applied) "
                   "VALUES ('meetings', '0999_from_the_future', CURRENT_TIMESTAMP)")
    backup = tmp_path / f"new{SUFFIX}"
    assert sinergi(source, "backup", "--output", str(backup)).returncode == 0
    before = target.state()

    line = one_line_error(sinergi(target, "restore", str(backup), "--yes"))
    assert "meetings.0999_from_the_future" in line
    assert target.state() == before


def test_backup_names_its_file_and_exits_2_when_it_cannot_write(scratch, tmp_path):
    db = scratch()
    seed(db, 7)
    env = {**db.env, "SINERGI_VAR_DIR": str(tmp_path / "var")}
    result = sinergi(db, "backup", env=env)
    assert result.returncode == 0, result.stderr
    made = list((tmp_path / "var" / "backups").iterdir())
    assert len(made) == 1
    assert re.fullmatch(rf"sinergi-\d{{8}}-\d{{6}}{re.escape(SUFFIX)}", made[0].name)
    assert str(made[0]) in result.stdout
    assert stat.S_IMODE(made[0].stat().st_mode) == 0o600  # NIKs inside
    assert re.search(r"\s7\n", result.stdout)  # the agencies it holds

    # Never over an existing file.
    content = made[0].read_bytes()
    line = one_line_error(sinergi(db, "backup", "--output", str(made[0]), env=env))
    assert str(made[0]) in line
    assert made[0].read_bytes() == content
    # A folder gets the default name; a missing folder is an error.
    folder = tmp_path / "elsewhere"
    folder.mkdir()
    assert sinergi(db, "backup", "--output", str(folder)).returncode == 0
    assert len(list(folder.glob(f"sinergi-*{SUFFIX}"))) == 1
    line = one_line_error(sinergi(db, "backup", "--output", str(tmp_path / "no" / "x")))
    assert str(tmp_path / "no") in line
    # A database with no Sinergi tables: an error, and no file left behind.
    empty_out = tmp_path / "empty"
    empty_out.mkdir()
    one_line_error(sinergi(scratch(migrated=False), "backup", "--output", str(empty_out)))
    assert list(empty_out.iterdir()) == []


def test_backup_with_media_writes_the_uploaded_files_beside_it(scratch, tmp_path):
    db = scratch()
    env = {**db.env, "SINERGI_VAR_DIR": str(tmp_path / "var")}
    upload = tmp_path / "var" / "media" / "meetings" / "2026" / "05" / "notulen.pdf"
    upload.parent.mkdir(parents=True)
    upload.write_bytes(b"%PDF-1.4 minutes")
    out = tmp_path / f"b{SUFFIX}"
    result = sinergi(db, "backup", "--output", str(out), "--with-media", env=env)
    assert result.returncode == 0, result.stderr
    media = tmp_path / "b-media.tar.gz"
    assert str(media) in result.stdout
    with tarfile.open(media) as tar:
        assert tar.getnames() == ["media/meetings/2026/05/notulen.pdf"]
        assert tar.extractfile("media/meetings/2026/05/notulen.pdf").read() == upload.read_bytes()


@pytest.mark.parametrize("command", ["backup", "restore"])
def test_backup_and_restore_have_help(command, capsys):
    with pytest.raises(SystemExit) as info:
        build_parser().parse_args([command, "--help"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith(f"usage: sinergi {command}")
    assert ("--with-media" if command == "backup" else "--yes") in out
