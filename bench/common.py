"""What the benchmarks share: a fresh database to measure on, and the wait
for SQLite's WAL checkpoint after a job."""

import os
import threading
import time


def use_database(postgres_url: str | None, sqlite_path: str | None = None) -> None:
    """Point Sinergi at a new, empty database for this run (before
    django.setup()): the PostgreSQL database ``postgres_url`` names, dropped
    and created anew, or the SQLite file ``sqlite_path`` (None: the one
    SINERGI_DATABASE_URL already names)."""
    if postgres_url:
        import psycopg

        name = postgres_url.rsplit("/", 1)[1]
        admin_url = postgres_url.rsplit("/", 1)[0] + "/postgres"
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
            conn.execute(f'CREATE DATABASE "{name}"')
        os.environ["SINERGI_DATABASE_URL"] = postgres_url
    elif sqlite_path:
        os.environ["SINERGI_DATABASE_URL"] = f"sqlite:///{sqlite_path}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sinergi.settings")


def report_checkpoint(say, label: str) -> None:
    """SQLite: the WAL checkpoint runs after the commit on its own thread
    (core.bulk.checkpoint_after); say how much longer the process is busy
    with it."""
    t = time.perf_counter()
    waited = [th.join() for th in threading.enumerate() if th.name == "sinergi-checkpoint"]
    if waited:
        say(f"{label} WAL checkpoint after the job (own thread)",
            f"{time.perf_counter() - t:.1f} s more")


def environment_text() -> str:
    """The database, cores, load, Python and Django of this run (after
    django.setup()), for the "environment" line every benchmark prints."""
    import sys

    import django
    from django.db import connection

    if connection.vendor == "sqlite":
        import sqlite3

        with connection.cursor() as cur:
            mode = cur.execute("PRAGMA journal_mode").fetchone()[0]
        db = f"SQLite {sqlite3.sqlite_version} (journal {mode})"
    else:
        v = connection.pg_version
        db = f"PostgreSQL {v // 10000}.{v % 10000}"
    return (f"{db}, {os.cpu_count()} cores (load average {os.getloadavg()[0]:.1f}), "
            f"Python {sys.version.split()[0]}, Django {django.get_version()}")
