"""Set-at-a-time writes for bulk paths (loaders, imports).

PostgreSQL gets COPY, SQLite one prepared statement run over all rows
(executemany), or, for big frames inside ``staging``, Arrow through ADBC
into scratch databases and an INSERT … SELECT from each. All run inside the
caller's transaction, so a failed load leaves nothing behind.
"""

import contextvars
import io
import logging
import os
import shutil
import sqlite3
import tempfile
import threading
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path

import polars as pl
from django.conf import settings
from django.db import connection

# Rows turned into Python tuples at a time on SQLite: bounds the memory.
SQLITE_CHUNK = 50_000
# SQLite frames of at least this many rows go through the stage (see staging),
# in chunks of about this many: ADBC writes the next while SQLite copies one.
STAGE_MIN_ROWS = 20_000
STAGE_CHUNK_ROWS = 250_000
_STAGE_ALIAS = "sinergi_stage"
_STAGE_PREFIX = "sinergi-stage-"
log = logging.getLogger(__name__)
_stage: contextvars.ContextVar = contextvars.ContextVar("sinergi_stage", default=None)
# A PostgreSQL load of at least this many rows that at least doubles its
# table rebuilds the table's secondary indexes and foreign keys (rebuilt_indexes).
REBUILD_MIN_ROWS = 200_000


def bulk_insert(table: str, columns: Sequence[str], rows: Iterable[Sequence]) -> None:
    """Insert ``rows`` into ``table`` (a model's own table name), set-at-a-time."""
    qn = connection.ops.quote_name
    cols = ", ".join(qn(c) for c in columns)
    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            with cur.cursor.copy(f"COPY {qn(table)} ({cols}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            marks = ", ".join(["%s"] * len(columns))
            cur.executemany(f"INSERT INTO {qn(table)} ({cols}) VALUES ({marks})", rows)  # noqa: S608


def rows_where_in(query: str, values: Sequence, batch: int = 5000) -> Iterator[tuple]:
    """The rows of ``query`` (a SELECT ending in ``WHERE <column>``) for
    every value, asked ``IN (...)`` a batch at a time: raw lookups on an
    index, cheaper than the ORM's query building at a million values, and
    within every database's limit of parameters."""
    with connection.cursor() as cur:
        for start in range(0, len(values), batch):
            chunk = list(values[start:start + batch])
            cur.execute(f"{query} IN ({', '.join(['%s'] * len(chunk))})", chunk)
            yield from cur.fetchall()


def bulk_insert_frame(table: str, frame: pl.DataFrame) -> None:
    """Insert a polars frame whose columns are named like the table's.

    On PostgreSQL the frame goes to COPY as CSV written by polars (no Python
    work per row); on SQLite, inside ``staging`` and when big, through the
    stage's scratch files (see ``staging``), else rows of one prepared
    INSERT, a chunk at a time. Text values must be final (dates as
    YYYY-MM-DD).
    """
    if connection.vendor != "postgresql":
        stage = _stage.get()
        plan = stage and (stage.take(frame) or stage.plan(frame))
        if plan:
            _copy_staged(stage, table, plan)
        else:
            _sqlite_insert_frame(table, frame)
        return
    qn = connection.ops.quote_name
    cols = ", ".join(qn(c) for c in frame.columns)
    sql = f"COPY {qn(table)} ({cols}) FROM STDIN WITH (FORMAT csv, NULL '\\N')"
    from psycopg.copy import QueuedLibpqWriter

    with connection.cursor() as cur, cur.cursor.copy(
            sql, writer=QueuedLibpqWriter(cur.cursor)) as copy:
        for start in range(0, frame.height, 100_000):
            buffer = io.BytesIO()
            frame.slice(start, 100_000).write_csv(buffer, include_header=False,
                                                  null_value="\\N")
            copy.write(buffer.getvalue())


def _sqlite_insert_frame(table: str, frame: pl.DataFrame) -> None:
    """executemany, with the fewest and cheapest parameters per row.

    Python's sqlite3 binds an int or a str quickly, but None and bool go
    through its adapter lookup, several times slower: booleans are bound as
    0/1, nulls as a sentinel that NULLIF turns back into NULL, and a column
    with one value on every row (job, timestamps, all null...) is written
    into the statement instead of bound a million times.
    """
    if not frame.height:
        return
    qn = connection.ops.quote_name
    values, bound = [], []
    for name, dtype in frame.schema.items():
        column = frame.get_column(name)
        if dtype == pl.Boolean:
            column = column.cast(pl.Int8)
        literal = _constant(column)
        if literal is not None:
            values.append(literal)
            continue
        expr = pl.col(name).cast(column.dtype)
        if not column.null_count():
            values.append("%s")
        elif column.dtype.is_integer() and column.min() >= 0:
            values.append("NULLIF(%s, -1)")
            expr = expr.cast(pl.Int64).fill_null(-1)
        elif column.dtype == pl.String and not (column == "").any():
            values.append("NULLIF(%s, '')")
            expr = expr.fill_null("")
        else:
            values.append("%s")
        bound.append(expr)
    sql = (f"INSERT INTO {qn(table)} ({', '.join(qn(c) for c in frame.columns)}) "  # noqa: S608
           f"VALUES ({', '.join(values)})")
    with connection.cursor() as cur:
        if not bound:
            cur.executemany(sql, ((),) * frame.height)
            return
        for start in range(0, frame.height, SQLITE_CHUNK):
            cur.executemany(sql, frame.slice(start, SQLITE_CHUNK).select(bound).rows())


class _Stage:
    """The scratch databases of one ``staging`` block: a file per chunk of a
    frame (a transaction that has read an attached file does not see tables
    added to it later, nor may another connection write to it meanwhile),
    attached as sinergi_stage_1, _2, … (SQLite allows ten). One background
    thread writes them in order; the folder is made with the first."""

    LIMIT = 8

    def __init__(self):
        self.folder: str | None = None
        self.files = 0
        self.attached: list[str] = []
        self.pool: ThreadPoolExecutor | None = None
        self.ahead: list[_Plan] = []

    def free(self) -> int:
        return self.LIMIT - self.files

    def path(self, alias: str) -> str:
        if self.folder is None:
            # In VAR_DIR, the application's data folder, not /tmp (maybe a small
            # tmpfs): a million persons take a few hundred megabytes for a moment.
            # The pid in the name lets remove_stale_stages clear what a killed
            # process left.
            root = Path(settings.VAR_DIR)
            root.mkdir(parents=True, exist_ok=True)
            self.folder = tempfile.mkdtemp(prefix=f"{_STAGE_PREFIX}{os.getpid()}-", dir=root)
        return os.path.join(self.folder, f"{alias}.sqlite3")

    def plan(self, frame: pl.DataFrame) -> "_Plan | None":
        """Start writing ``frame``'s scratch files in the background; None
        (nothing started) when it had better be bound row by row: columns
        ADBC would write otherwise, every column constant, no attach slot
        left, or no room for the scratch files."""
        if frame.height < STAGE_MIN_ROWS or self.free() < 1 or not _stageable(frame):
            return None
        qn = connection.ops.quote_name
        values, bound = [], []
        for name, dtype in frame.schema.items():
            column = frame.get_column(name)
            literal = _constant(column)
            if literal is not None:
                values.append(literal)
            elif dtype == pl.Boolean:
                values.append(qn(name))
                bound.append(pl.col(name).cast(pl.Int8))
            else:
                values.append(qn(name))
                bound.append(pl.col(name))
        if not bound:
            return None
        chunks = min(self.free(), -(-frame.height // STAGE_CHUNK_ROWS))
        size = -(-frame.height // chunks)
        chunks = -(-frame.height // size)  # none left empty
        aliases = [f"{_STAGE_ALIAS}_{self.files + i + 1}" for i in range(chunks)]
        try:
            paths = [self.path(alias) for alias in aliases]
        except OSError:
            log.warning("no room for an import scratch database; binding rows instead",
                        exc_info=True)
            return None
        self.files += chunks
        if self.pool is None:
            self.pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sinergi-stage")
        data = frame.select(bound)
        plan = _Plan(frame=frame, values=values, parts=[])
        for i, (alias, path) in enumerate(zip(aliases, paths, strict=True)):
            plan.parts.append((alias, i * size, size,
                               self.pool.submit(_ingest, path, data.slice(i * size, size))))
        return plan

    def take(self, frame: pl.DataFrame) -> "_Plan | None":
        """The plan ``stage_ahead`` started for this very frame, if any."""
        for i, plan in enumerate(self.ahead):
            if plan.frame is frame:
                return self.ahead.pop(i)
        return None

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)
        self.ahead.clear()


@dataclass
class _Plan:
    frame: pl.DataFrame
    values: list[str]  # the SELECT list: staged columns by name, constants as literals
    parts: list[tuple[str, int, int, Future]]  # alias, first row, rows, file written


def _ingest(path: str, data: pl.DataFrame) -> None:
    """Write ``data`` as table ``rows`` of a new scratch database (background thread)."""
    import adbc_driver_sqlite.dbapi as adbc

    with adbc.connect(path, autocommit=True) as conn, conn.cursor() as cur:
        # A scratch file: no journal, no sync; it is removed after the job.
        cur.execute("PRAGMA journal_mode=OFF")
        cur.execute("PRAGMA synchronous=OFF")
        cur.adbc_ingest("rows", data, mode="create")


def _copy_staged(stage: _Stage, table: str, plan: _Plan) -> None:
    """Copy each chunk as soon as its file is written, while the thread writes
    the next one. A chunk whose file could not be written (disk full, or
    anything else ADBC refused) is bound row by row instead: slower, the
    same rows."""
    qn = connection.ops.quote_name
    columns = ", ".join(qn(c) for c in plan.frame.columns)
    for alias, first, rows, written in plan.parts:
        try:
            written.result()
        except Exception:
            log.warning("an import scratch database could not be written; binding its rows "
                        "instead", exc_info=True)
            _sqlite_insert_frame(table, plan.frame.slice(first, rows))
            continue
        with connection.cursor() as cur:
            # Allowed inside a transaction; DETACH waits until it has ended.
            cur.execute(f"ATTACH DATABASE %s AS {alias}", [stage.path(alias)])
            stage.attached.append(alias)
            # With (empty) parameters, so the doubled % of the literals is undone.
            cur.execute(f"INSERT INTO {qn(table)} ({columns}) "  # noqa: S608
                        f"SELECT {', '.join(plan.values)} FROM {alias}.rows", [])


def stage_ahead(*frames: pl.DataFrame | None) -> None:
    """Inside ``staging`` on SQLite, start writing the scratch files of frames
    that ``bulk_insert_frame`` will get later (the very same objects), so
    they are ready when it does; elsewhere nothing."""
    stage = _stage.get()
    if stage is None or connection.vendor != "sqlite":
        return
    for frame in frames:
        plan = stage.plan(frame) if frame is not None else None
        if plan is not None:
            stage.ahead.append(plan)


@contextmanager
def staging() -> Iterator[bool]:
    """Around a transaction of big SQLite loads (an import): frames of
    STAGE_MIN_ROWS or more that ``bulk_insert_frame`` gets inside it are
    written by ADBC (Arrow to SQLite in C, no Python work per value) into
    scratch database files, a chunk each, by a background thread; each
    chunk is copied with one ``INSERT … SELECT`` on the caller's connection,
    inside the caller's transaction, while the thread writes the next (both
    run outside the GIL, on two cores). A failure or a kill still leaves the
    database as it was. Python's sqlite3 spends about ten times longer
    binding a million rows than SQLite spends storing them.

    Enter it outside any transaction: SQLite detaches a scratch database
    only once the transaction that read it has ended, which this does on the
    way out before removing the files. Elsewhere (PostgreSQL, or already
    inside a transaction) it changes nothing. Yields whether it stages.
    """
    if connection.vendor != "sqlite" or connection.in_atomic_block:
        yield False
        return
    stage = _Stage()
    token = _stage.set(stage)
    try:
        yield True
    finally:
        _stage.reset(token)
        try:
            stage.close()
        finally:
            try:
                _detach(stage)
            finally:
                if stage.folder:
                    shutil.rmtree(stage.folder, ignore_errors=True)


@dataclass
class _Checkpoint:
    thread: threading.Thread | None = None


@contextmanager
def checkpoint_after() -> Iterator[_Checkpoint]:
    """Around a big SQLite write transaction (an import): its WAL checkpoint,
    which copies the pages it wrote from the write-ahead log into the
    database file (about a second for a million persons), runs after the
    commit on a thread of its own instead of inside the commit, which is
    where SQLite's automatic checkpoint would run it. The job is done, and
    shown so, as soon as its transaction is; the worker's next job (or the
    rest of this one) overlaps the copy. A request that commits meanwhile
    does not wait for it either: its own automatic checkpoint finds this
    one running and skips.

    Enter it outside any transaction; elsewhere (PostgreSQL, an in-memory
    database) it changes nothing. Yields a handle whose ``thread`` is the
    checkpoint's once started (after a block that raised, none is).
    """
    handle = _Checkpoint()
    if (connection.vendor != "sqlite" or connection.in_atomic_block
            or connection.is_in_memory_db()):
        yield handle
        return
    with connection.cursor() as cur:
        cur.execute("PRAGMA wal_autocheckpoint")
        pages = int(cur.fetchone()[0])
        cur.execute("PRAGMA wal_autocheckpoint = 0")
    try:
        yield handle
    except BaseException:
        _autocheckpoint(pages)
        raise
    _autocheckpoint(pages)
    if pages:
        handle.thread = threading.Thread(target=_checkpoint, name="sinergi-checkpoint",
                                         args=(connection.settings_dict["NAME"],))
        handle.thread.start()


def _autocheckpoint(pages: int) -> None:
    """Set the automatic checkpoint back; a failure is logged, not raised
    (it must not hide the error of the job, and the connection is then
    unusable anyway: Django opens a new one, with the default)."""
    try:
        with connection.cursor() as cur:
            cur.execute(f"PRAGMA wal_autocheckpoint = {int(pages)}")
    except Exception:
        log.warning("could not restore wal_autocheckpoint", exc_info=True)


def _checkpoint(path: str) -> tuple[int, int, int] | None:
    """A passive WAL checkpoint of the database at ``path``, on a connection
    of its own; returns SQLite's (busy, frames in the log, frames copied)."""
    try:
        with closing(sqlite3.connect(path, timeout=20)) as conn:
            return conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
    except sqlite3.Error:  # the next automatic checkpoint does it instead
        log.warning("WAL checkpoint after an import failed", exc_info=True)
        return None


def _detach(stage: _Stage) -> None:
    """Detach the scratch databases; should that fail (a connection left
    broken by the error being raised), close the connection instead, which
    drops them too, rather than hide that error behind this one."""
    try:
        with connection.cursor() as cur:
            for alias in stage.attached:
                cur.execute(f"DETACH DATABASE {alias}")
    except Exception:
        log.warning("could not detach the import's scratch databases; closing the connection",
                    exc_info=True)
        try:
            connection.close()
        except Exception:
            log.warning("could not close the connection either", exc_info=True)


def remove_stale_stages() -> int:
    """Remove the scratch folders of processes that are gone (killed during
    an import); the worker calls it with its reaping. Returns how many."""
    root = Path(settings.VAR_DIR)
    removed = 0
    for folder in root.glob(f"{_STAGE_PREFIX}*") if root.is_dir() else ():
        pid = folder.name[len(_STAGE_PREFIX):].split("-", 1)[0]
        if not pid.isdigit() or process_alive(int(pid)):
            continue
        shutil.rmtree(folder, ignore_errors=True)
        removed += 1
    return removed


def process_alive(pid: int) -> bool:
    """Whether a process of this host still has ``pid`` (one of another user
    counts as alive: it may not be reaped by us)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _stageable(frame: pl.DataFrame) -> bool:
    """Frames whose every column lands the same through ADBC as through
    executemany: text, numbers, booleans, nulls (datetimes are passed as
    text by the callers; Arrow would write them ISO with a "T")."""
    return all(dtype.is_integer() or dtype.is_float() or dtype in (pl.String, pl.Boolean, pl.Null)
               for dtype in frame.schema.values())


def _constant(column: pl.Series) -> str | None:
    """The SQL literal of a column holding one value on every row (the job,
    timestamps, all null...), written into the statement instead of bound
    or staged a million times; None otherwise."""
    if column.dtype.is_nested():
        return None
    if column.len() > 1 and column[0] != column[-1]:
        return None  # most columns differ at the ends: no hashing of a million values
    return _sql_literal(column[0]) if column.n_unique() == 1 else None


def _sql_literal(value) -> str | None:
    """``value`` as an SQL literal for a statement that goes through Django's
    cursor (``%`` doubled); None when it had better be bound."""
    if value is None:
        return "NULL"
    if type(value) is int:
        return str(value)
    if type(value) is str and "\x00" not in value:
        return "'" + value.replace("'", "''").replace("%", "%%") + "'"
    return None


@contextmanager
def rebuilt_indexes(table: str, rows: int) -> Iterator[bool]:
    """Around a PostgreSQL load of ``rows`` into ``table``: when the load is big
    (REBUILD_MIN_ROWS) and at least doubles the table, drop the table's
    secondary indexes, unique constraints and foreign keys first and create
    them again, as they were, after. One sort per index costs far less than
    a million index insertions, and one join per foreign key less than a
    trigger per row. It holds an ACCESS EXCLUSIVE lock on the table until
    the transaction ends, hence only for big loads (a first load); unique
    duplicates must be kept out by the caller: re-creating fails otherwise.
    The primary key stays. Runs inside the caller's transaction, so a
    failure restores everything. Yields whether it rebuilds.

    GIN indexes (the trigram index of names) take seconds to build at a
    million rows: they are dropped too, but built again after the commit,
    CONCURRENTLY, by a job (``core.index_build``), so the load is done and
    its rows searchable (by a scan) while the index is made.
    """
    if connection.vendor != "postgresql" or rows < REBUILD_MIN_ROWS or _has_rows(table, rows):
        yield False
        return
    qn = connection.ops.quote_name
    with connection.cursor() as cur:
        # Unique constraints that a foreign key refers to stay.
        cur.execute(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint c "
            "WHERE conrelid = %s::regclass AND (contype = 'f' OR contype = 'u' AND NOT EXISTS ("
            "SELECT 1 FROM pg_constraint r WHERE r.contype = 'f' AND r.conindid = c.conindid)) "
            "ORDER BY conname", [qn(table)])
        constraints = cur.fetchall()
        cur.execute(
            "SELECT indexrelid::regclass::text, pg_get_indexdef(indexrelid) FROM pg_index i "
            "WHERE indrelid = %s::regclass AND NOT indisprimary AND NOT EXISTS ("
            "SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid) "
            "ORDER BY 1", [qn(table)])
        indexes = cur.fetchall()
        for name, _definition in constraints:
            cur.execute(f"ALTER TABLE {qn(table)} DROP CONSTRAINT {qn(name)}")
        for name, _definition in indexes:
            cur.execute(f"DROP INDEX {name}")
    yield True
    later = [(name, d) for name, d in indexes if " USING gin " in d]
    with connection.cursor() as cur:
        # One sort per index, in memory where it fits (the default spills to
        # disk from 64 MB); SET LOCAL ends with the transaction.
        cur.execute("SET LOCAL maintenance_work_mem = '512MB'")
        for name, definition in indexes:
            if (name, definition) not in later:
                cur.execute(definition)
        for name, definition in constraints:
            cur.execute(f"ALTER TABLE {qn(table)} ADD CONSTRAINT {qn(name)} {definition}")
    if later:
        from . import jobs  # jobs imports this module

        for name, definition in later:
            jobs.enqueue(jobs.INDEX_BUILD, payload={"name": name, "definition": definition})


def index_build(name: str, definition: str) -> None:
    """Build an index dropped for a big load, without blocking writers
    (CONCURRENTLY, so outside any transaction). A build that was
    interrupted leaves an invalid index of that name: it is dropped first."""
    with connection.cursor() as cur:
        cur.execute("SELECT NOT i.indisvalid FROM pg_index i WHERE i.indexrelid = "
                    "to_regclass(%s)", [name])
        row = cur.fetchone()
        # CONCURRENTLY cannot run inside a transaction (a job run by a test).
        how = "" if connection.in_atomic_block else "CONCURRENTLY "
        if row and row[0]:
            cur.execute(f"DROP INDEX {how}IF EXISTS {name}")
        cur.execute(definition.replace("CREATE INDEX ", f"CREATE INDEX {how}IF NOT EXISTS ", 1))


def _has_rows(table: str, rows: int) -> bool:
    """Whether ``table`` holds at least ``rows`` rows (reads at most that many)."""
    qn = connection.ops.quote_name
    with connection.cursor() as cur:
        cur.execute(f"SELECT count(*) FROM (SELECT 1 FROM {qn(table)} LIMIT %s) t",  # noqa: S608
                    [rows])
        return cur.fetchone()[0] >= rows


def analyze(table: str | None = None) -> None:
    """Refresh planner statistics after a bulk change (of ``table``, or of
    the whole database), so plans stay right: a planner that still believes
    a freshly loaded table is empty picks nested loops over it (a coverage
    page ran minutes on never-analysed tables). PostgreSQL samples; SQLite
    is told to sample too (analysis_limit), so either costs well under a
    second at a million rows."""
    qn = connection.ops.quote_name
    with connection.cursor() as cur:
        if connection.vendor == "sqlite":
            cur.execute("PRAGMA analysis_limit = 1000")
        cur.execute(f"ANALYZE {qn(table)}" if table else "ANALYZE")
