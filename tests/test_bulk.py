"""Set-at-a-time writes: what a frame holds is what lands, and a big first load
that rebuilds the indexes leaves them as they were."""

import datetime
import sqlite3
import threading
from contextlib import contextmanager

import polars as pl
import pytest
from django.conf import settings
from django.db import connection, transaction

from sinergi.core import bulk, jobs
from sinergi.core.models import Job
from sinergi.imports.models import FAILED
from sinergi.registry.models import Household, Person

from .test_registry_import import ANI, GOOD_ROWS, KK1, VILLAGE, nik, run, write_csv


def schema_of(*tables) -> set[tuple]:
    """Every index and constraint of ``tables``, with its definition."""
    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            cur.execute("SELECT indexrelid::regclass::text, pg_get_indexdef(indexrelid) "
                        "FROM pg_index WHERE indrelid = ANY(%s::regclass[])", [list(tables)])
            found = set(cur.fetchall())
            cur.execute("SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
                        "WHERE conrelid = ANY(%s::regclass[])", [list(tables)])
            return found | set(cur.fetchall())
        marks = ", ".join(["%s"] * len(tables))
        cur.execute(f"SELECT name, sql FROM sqlite_master WHERE tbl_name IN ({marks})",  # noqa: S608
                    list(tables))
        return set(cur.fetchall())


TABLES = (Person._meta.db_table, Household._meta.db_table)


def trigram_index() -> bool:
    """Whether the persons' name trigram index exists (PostgreSQL with pg_trgm)."""
    if connection.vendor != "postgresql":
        return False
    with connection.cursor() as cur:
        cur.execute("SELECT to_regclass('person_name_trgm') IS NOT NULL")
        return cur.fetchone()[0]


def sample_frame(household_id: int) -> pl.DataFrame:
    now = "2026-01-02 03:04:05"
    return pl.DataFrame({
        "nik": ["1904015403900001", None, "", "1904015403900002"],
        "name": ["O'Brien 100%", "A %s B", "Ani", "Budi"],
        "sex": ["P", "L", "P", "L"],
        "birth_place": ["", "", "", ""],
        "birth_date": ["1990-03-14", None, None, "1990-03-14"],
        "household_id": [household_id] * 4,
        "village_code": ["19.04.01.1002"] * 4,
        "has_kia": [None, None, None, None],
        "has_ktp_el": [True, None, False, True],
        "has_birth_certificate": [True, True, True, True],
        "monthly_income": [0, None, 5_000_000, None],
        "life_status": [1, 1, 1, 1],
        "warning_codes": ["", "nik_sex_mismatch", "", ""],
        "created_at": [now] * 4,
        "updated_at": [now] * 4,
    }, schema_overrides={"has_kia": pl.Boolean, "monthly_income": pl.Int64})


def landed() -> list[tuple]:
    return list(Person.objects.order_by("name").values_list(
        "nik", "name", "birth_date", "has_kia", "has_ktp_el", "has_birth_certificate",
        "monthly_income", "warning_codes"))


DAY = datetime.date(1990, 3, 14)
SAMPLE = [
    (None, "A %s B", None, None, None, True, None, "nik_sex_mismatch"),
    ("", "Ani", None, None, False, True, 5_000_000, ""),
    ("1904015403900002", "Budi", DAY, None, True, True, None, ""),
    ("1904015403900001", "O'Brien 100%", DAY, None, True, True, 0, ""),
]


@pytest.mark.django_db
def test_a_frame_lands_as_it_is_nulls_booleans_constants_and_quotes():
    with transaction.atomic():
        hh = Household.objects.create(kk_number=KK1, village_code="19.04.01.1002")
        bulk.bulk_insert_frame(Person._meta.db_table, sample_frame(hh.pk))
    assert landed() == SAMPLE


@pytest.mark.django_db(transaction=True)
def test_a_staged_frame_lands_the_same_and_leaves_nothing_behind(monkeypatch, tmp_path):
    """SQLite imports stage big frames through ADBC in a scratch database: the
    rows are the same as executemany's, and after the transaction (committed
    or not) no scratch database stays attached or on disk."""
    if connection.vendor != "sqlite":
        with bulk.staging() as staged:
            assert staged is False  # PostgreSQL loads with COPY
        return
    monkeypatch.setattr(bulk, "STAGE_MIN_ROWS", 1)
    monkeypatch.setattr(bulk, "STAGE_CHUNK_ROWS", 3)  # 4 rows: two scratch files
    monkeypatch.setattr(settings, "VAR_DIR", tmp_path)

    with bulk.staging() as staged, transaction.atomic():
        hh = Household.objects.create(kk_number=KK1, village_code="19.04.01.1002")
        bulk.bulk_insert_frame(Person._meta.db_table, sample_frame(hh.pk))
        assert attached() == {"sinergi_stage_1", "sinergi_stage_2"}
    assert staged is True and landed() == SAMPLE
    assert not attached() and not list(tmp_path.iterdir())
    # A failure after staging: nothing of it lands, nothing stays attached.
    more = sample_frame(hh.pk).filter(pl.col("nik") != "").with_columns(
        pl.col("nik").str.replace("^19", "18"), pl.col("name") + " 2")
    with pytest.raises(RuntimeError), bulk.staging(), transaction.atomic():
        bulk.bulk_insert_frame(Person._meta.db_table, more)
        assert Person.objects.count() == 6
        raise RuntimeError("disk full")
    assert landed() == SAMPLE
    assert not attached() and not list(tmp_path.iterdir())
    # Inside a transaction already, it stages nothing (SQLite could not detach).
    with transaction.atomic(), bulk.staging() as staged:
        assert staged is False


def attached() -> set[str]:
    with connection.cursor() as cur:
        cur.execute("PRAGMA database_list")
        return {row[1] for row in cur.fetchall()} - {"main", "temp"}


@pytest.mark.django_db(transaction=True)
def test_frames_staged_ahead_land_whole_even_when_a_scratch_file_fails(monkeypatch,
                                                                       tmp_path):
    """Frames staged ahead are written in the background, chunk by chunk, and
    each copied as it is ready; a chunk that cannot be written (disk full) is
    bound row by row instead, and frames past the attach slots too."""
    if connection.vendor != "sqlite":
        pytest.skip("SQLite's staging; PostgreSQL loads with COPY")
    monkeypatch.setattr(bulk, "STAGE_MIN_ROWS", 1)
    monkeypatch.setattr(bulk, "STAGE_CHUNK_ROWS", 2)
    monkeypatch.setattr(bulk._Stage, "LIMIT", 3)
    monkeypatch.setattr(settings, "VAR_DIR", tmp_path)
    written = []
    ingest = bulk._ingest

    def flaky(path, data):
        written.append(data.get_column("name").to_list())
        if len(written) == 2:
            raise OSError(28, "No space left on device")
        ingest(path, data)

    monkeypatch.setattr(bulk, "_ingest", flaky)
    hh = Household.objects.create(kk_number=KK1, village_code="19.04.01.1002")
    first = sample_frame(hh.pk)
    second, third = (first.filter(pl.col("nik") != "").with_columns(
        pl.col("nik").str.replace("^19", prefix), pl.col("name") + suffix)
        for prefix, suffix in (("18", " 2"), ("17", " 3")))
    with bulk.staging(), transaction.atomic():
        bulk.stage_ahead(first, second, third)
        bulk.bulk_insert_frame(Person._meta.db_table, first)
        bulk.bulk_insert_frame(Person._meta.db_table, second)
        bulk.bulk_insert_frame(Person._meta.db_table, third)
        assert attached() == {"sinergi_stage_1", "sinergi_stage_3"}
    # Chunks of 2 and 2 rows, then 2 in the last slot were handed to the
    # thread; the third frame found no slot and was bound row by row.
    assert written == [["O'Brien 100%", "A %s B"], ["Ani", "Budi"],
                       ["O'Brien 100% 2", "Budi 2"]]
    assert [p for p in landed() if p[1][-2:] not in (" 2", " 3")] == SAMPLE
    assert sorted(Person.objects.filter(name__regex=r" [23]$").values_list("nik", flat=True)) \
        == ["1704015403900001", "1704015403900002", "1804015403900001", "1804015403900002"]
    assert not attached() and not list(tmp_path.iterdir())


@pytest.mark.django_db(transaction=True)
def test_staging_keeps_row_counts_and_text_and_survives_a_failed_detach(monkeypatch,
                                                                          tmp_path):
    if connection.vendor != "sqlite":
        pytest.skip("SQLite's staging; PostgreSQL loads with COPY")
    monkeypatch.setattr(bulk, "STAGE_MIN_ROWS", 1)
    monkeypatch.setattr(settings, "VAR_DIR", tmp_path)
    hh = Household.objects.create(kk_number=KK1, village_code="19.04.01.1002")
    now = datetime.datetime(2026, 1, 2, 3, 4, 5)
    # Every column constant: as many rows as the frame, not one.
    same = pl.DataFrame({"name": ["Sama"] * 3, "sex": ["L"] * 3, "birth_place": [""] * 3,
                         "household_id": [hh.pk] * 3, "village_code": ["19.04.01.1002"] * 3,
                         "life_status": [1] * 3, "warning_codes": [""] * 3,
                         "created_at": ["2026-01-02 03:04:05"] * 3,
                         "updated_at": ["2026-01-02 03:04:05"] * 3})
    # A datetime column is bound as Django writes it, not staged as Arrow ISO text.
    dated = same.with_columns(pl.Series("name", ["D1", "D2", "D3"]),
                              pl.Series("created_at", [now] * 3))
    with bulk.staging(), transaction.atomic():
        bulk.bulk_insert_frame(Person._meta.db_table, same)
        bulk.bulk_insert_frame(Person._meta.db_table, dated)
        # A detach that fails after the commit (here: an alias never attached)
        # closes the connection instead of failing what was written.
        bulk._stage.get().attached.append("sinergi_stage_9")
    assert Person.objects.filter(name="Sama").count() == 3
    assert {p.created_at.replace(tzinfo=None) for p in Person.objects.filter(name="D1")} \
        == {now}
    with connection.cursor() as cur:
        cur.execute("SELECT DISTINCT created_at || '' FROM registry_person WHERE name = 'D1'")
        assert cur.fetchall() == [("2026-01-02 03:04:05",)]
    assert not list(tmp_path.iterdir())


@pytest.mark.django_db(transaction=True)
def test_a_big_write_checkpoints_after_its_commit_on_a_thread_of_its_own(monkeypatch):
    """SQLite: the WAL checkpoint of an import is not run inside its commit
    (the automatic checkpoint is off meanwhile) but after it, on another
    thread; not at all after a failure, and nothing changes inside an outer
    transaction or on PostgreSQL."""
    if connection.vendor != "sqlite":
        with bulk.checkpoint_after() as handle:
            pass
        assert handle.thread is None
        return
    # The test database lives in memory (no WAL): act as if it were a file.
    monkeypatch.setattr(connection, "is_in_memory_db", lambda: False)
    ran = []
    monkeypatch.setattr(bulk, "_checkpoint",
                        lambda path: ran.append((threading.current_thread().name, path)))

    def autocheckpoint() -> int:
        with connection.cursor() as cur:
            cur.execute("PRAGMA wal_autocheckpoint")
            return cur.fetchone()[0]

    before = autocheckpoint()
    assert before > 0
    with bulk.checkpoint_after() as handle, transaction.atomic():
        assert autocheckpoint() == 0  # the commit will not checkpoint
        Household.objects.create(kk_number=KK1, village_code="19.04.01.1002")
        assert handle.thread is None
    handle.thread.join(timeout=30)
    assert ran == [("sinergi-checkpoint", connection.settings_dict["NAME"])]
    assert autocheckpoint() == before
    ran.clear()
    with pytest.raises(RuntimeError), bulk.checkpoint_after() as handle, transaction.atomic():
        raise RuntimeError("the job failed")
    assert handle.thread is None and not ran and autocheckpoint() == before
    with transaction.atomic(), bulk.checkpoint_after() as handle:
        assert autocheckpoint() == before
    assert handle.thread is None


def test_the_checkpoint_copies_the_whole_log_into_the_database_file(tmp_path):
    path = tmp_path / "db.sqlite3"
    writer = sqlite3.connect(path)
    writer.execute("PRAGMA journal_mode=WAL")
    writer.execute("PRAGMA wal_autocheckpoint=0")
    writer.execute("CREATE TABLE t (x)")
    writer.executemany("INSERT INTO t VALUES (?)", [(str(i) * 50,) for i in range(20000)])
    writer.commit()
    size = path.stat().st_size
    busy, frames, copied = bulk._checkpoint(str(path))
    assert busy == 0 and frames > 100 and copied == frames
    assert path.stat().st_size > size + 500_000  # the rows are in the file now
    writer.close()
    assert bulk._checkpoint(str(tmp_path / "missing" / "db.sqlite3")) is None


def test_stale_scratch_folders_of_dead_processes_are_removed(monkeypatch, tmp_path):
    import os
    import subprocess
    import sys

    monkeypatch.setattr(settings, "VAR_DIR", tmp_path)
    dead = subprocess.Popen([sys.executable, "-c", "pass"])  # ended: its pid is free
    dead.wait()
    (tmp_path / f"sinergi-stage-{dead.pid}-x").mkdir()
    (tmp_path / f"sinergi-stage-{dead.pid}-x" / "sinergi_stage_1.sqlite3").write_bytes(b"x")
    (tmp_path / f"sinergi-stage-{os.getpid()}-y").mkdir()
    (tmp_path / "other").mkdir()
    assert bulk.remove_stale_stages() == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["other",
                                                          f"sinergi-stage-{os.getpid()}-y"]


@pytest.mark.django_db(transaction=True)
def test_an_import_stores_the_same_whether_staged_or_bound(world, tmp_path, monkeypatch):
    """The import's own frames (integer and boolean codes, file lines, text
    columns with nulls, all-null columns) land the same, value and SQLite
    type, through the stage in small chunks as bound row by row."""
    if connection.vendor != "sqlite":
        pytest.skip("SQLite's staging; PostgreSQL loads with COPY")
    from sinergi.registry import synthetic

    monkeypatch.setattr(settings, "VAR_DIR", tmp_path / "var")
    path = tmp_path / "persons.csv"
    synthetic.generate([VILLAGE], persons=40, bad_fraction=0.1, seed=3).write_csv(path)
    staged = []
    ingest = bulk._ingest
    monkeypatch.setattr(bulk, "_ingest", lambda p, data: (staged.append(data.height),
                                                          ingest(p, data)))

    def stored() -> dict[str, list]:
        found = {}
        for model in (Household, Person):
            table = model._meta.db_table
            with connection.cursor() as cur:
                cur.execute(f'PRAGMA table_info("{table}")')
                columns = [r[1] for r in cur.fetchall()
                           if r[1] not in ("import_job_id", "created_at", "updated_at")]
                cur.execute(f"SELECT {', '.join(f'typeof({c}), {c}' for c in columns)} "  # noqa: S608
                            f"FROM {table} ORDER BY id")
                found[table] = cur.fetchall()
        return found

    monkeypatch.setattr(bulk, "STAGE_MIN_ROWS", 1)
    monkeypatch.setattr(bulk, "STAGE_CHUNK_ROWS", 7)
    job = run(path)
    through_stage = stored()
    assert job.persons_added > 30 and job.rows_rejected > 0
    assert sum(staged) == job.persons_added + job.households_added and len(staged) > 2
    Person.objects.all().delete()
    Household.objects.all().delete()
    monkeypatch.setattr(bulk, "STAGE_MIN_ROWS", 10**9)
    staged.clear()
    run(path)
    assert not staged and stored() == through_stage


def test_a_big_first_load_rebuilds_the_indexes_as_they_were(world, tmp_path, monkeypatch):
    before, had_trigram = schema_of(*TABLES), trigram_index()
    monkeypatch.setattr(bulk, "REBUILD_MIN_ROWS", 2)
    rebuilt = []
    original = bulk.rebuilt_indexes

    @contextmanager
    def spy(table, rows):
        with original(table, rows) as rebuilds:
            rebuilt.append((table, rebuilds))
            yield rebuilds

    monkeypatch.setattr("sinergi.imports.pipeline.rebuilt_indexes", spy)
    job = run(write_csv(tmp_path, GOOD_ROWS))
    assert (job.persons_added, job.households_added) == (4, 2)
    rebuilds = connection.vendor == "postgresql"
    assert rebuilt == [(Household._meta.db_table, rebuilds), (Person._meta.db_table, rebuilds)]
    # The trigram index of names is built again after the load, by a job.
    deferred = Job.objects.filter(kind=jobs.INDEX_BUILD, status=jobs.PENDING)
    assert deferred.count() == (1 if rebuilds and had_trigram else 0)
    jobs.run_pending()
    assert schema_of(*TABLES) == before
    ani = Person.objects.get(nik=ANI)
    assert ani.household.kk_number == KK1 and ani.import_line == 3
    # Now the tables hold more than a small load adds: no rebuild.
    rebuilt.clear()
    eko = nik("190401", 3, 4, 1985, "L", 1)
    row = f"1904011203150003,{eko},Eko,L,Koba,03/04/1985,1,{VILLAGE},001,002,3,"
    job = run(write_csv(tmp_path, [row], name="more.csv"))
    assert job.persons_added == 1
    assert rebuilt == [(Household._meta.db_table, False), (Person._meta.db_table, False)]
    assert schema_of(*TABLES) == before


def test_a_failure_after_the_indexes_are_dropped_changes_nothing(world, tmp_path,
                                                                 monkeypatch):
    before = schema_of(*TABLES)
    monkeypatch.setattr(bulk, "REBUILD_MIN_ROWS", 2)

    def broken(table, frame):
        if table == Person._meta.db_table:
            raise RuntimeError("disk full")
        return original(table, frame)

    original = bulk.bulk_insert_frame
    monkeypatch.setattr("sinergi.imports.pipeline.bulk_insert_frame", broken)
    job = run(write_csv(tmp_path, GOOD_ROWS))
    assert job.status == FAILED
    assert not Person.objects.exists() and not Household.objects.exists()
    assert schema_of(*TABLES) == before


@pytest.mark.django_db
def test_codes_and_identifiers_compare_byte_by_byte_on_postgresql():
    """Village codes, NIKs and KK numbers use collation "C" on PostgreSQL
    (migrations registry 0002 and 0004): prefix filters can use the B-tree,
    and sorts and unique checks skip the language collation."""
    if connection.vendor != "postgresql":
        pytest.skip("collations are PostgreSQL's; SQLite compares bytes")
    with connection.cursor() as cur:
        cur.execute("SELECT table_name, column_name, collation_name FROM "
                    "information_schema.columns WHERE table_name LIKE 'registry_%%' AND "
                    "column_name IN ('village_code', 'nik', 'kk_number') ORDER BY 1, 2")
        found = cur.fetchall()
    assert found == [("registry_household", "kk_number", "C"),
                     ("registry_household", "village_code", "C"),
                     ("registry_kknumberhistory", "kk_number", "C"),
                     ("registry_person", "nik", "C"),
                     ("registry_person", "village_code", "C")]


@pytest.mark.skipif(settings.DATABASES["default"]["ENGINE"].endswith("sqlite3"),
                    reason="a PostgreSQL index (pg_trgm); SQLite searches names by a scan")
def test_a_name_search_uses_the_trigram_index(world):
    assert trigram_index()
    with connection.cursor() as cur:
        cur.execute("SET LOCAL enable_seqscan = off")
        cur.execute("EXPLAIN SELECT id FROM registry_person WHERE "
                    "UPPER(name::text) LIKE UPPER(%s)", ["%siti%"])
        plan = " ".join(row[0] for row in cur.fetchall())
    assert "person_name_trgm" in plan
