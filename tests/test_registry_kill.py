"""A killed import leaves the registry as it was, and its job ends failed.

This runs the real command line in child processes against a database of its
own (a SQLite file, or a scratch PostgreSQL database when the suite runs on
PostgreSQL), kills the import with SIGKILL while it writes, and looks at what
is left.
"""

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import polars as pl
import pytest
from django.db import connection

from .conftest import region_slice_file

pytestmark = pytest.mark.slow


def big_file(path: Path, families: int) -> Path:
    """``families`` families of three in one village, structurally valid: unique KK
    numbers (issue day, month, serial) and NIKs (birth year, serial)."""
    n = families * 3
    df = pl.DataFrame({"i": pl.int_range(0, n, eager=True)}).with_columns(
        (pl.col("i") // 3).alias("fam"))
    df = df.select(
        (pl.lit("190401") + ((pl.col("fam") % 28) + 1).cast(pl.String).str.zfill(2)
         + ((pl.col("fam") // 28 % 12) + 1).cast(pl.String).str.zfill(2) + pl.lit("15")
         + (pl.col("fam") // 336 + 1).cast(pl.String).str.zfill(4)).alias("No KK"),
        (pl.lit("1904011503") + (80 + (pl.col("i") // 9999) % 20).cast(pl.String)
         + (pl.col("i") % 9999 + 1).cast(pl.String).str.zfill(4)).alias("NIK"),
        (pl.lit("Warga ") + pl.col("i").cast(pl.String)).alias("Nama"),
        pl.lit("L").alias("Jenis Kelamin"),
        (pl.lit("15/03/19") + (80 + (pl.col("i") // 9999) % 20).cast(pl.String))
        .alias("Tanggal Lahir"),
        pl.when(pl.col("i") % 3 == 0).then(pl.lit("1")).otherwise(pl.lit("4"))
        .alias("Hubungan dalam Keluarga"),
        pl.lit("19.04.01.1002").alias("Kode Wilayah"),
    )
    df.write_csv(path)
    return path


@pytest.fixture
def scratch_db(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("SINERGI_")}
    env["SINERGI_VAR_DIR"] = str(tmp_path / "var")
    if connection.vendor == "postgresql":
        import psycopg

        settings_dict = connection.settings_dict
        name = f"sinergi_kill_{os.getpid()}"
        base = (f"postgres://{settings_dict['USER']}@{settings_dict['HOST'] or '127.0.0.1'}:"
                f"{settings_dict['PORT'] or 5432}")
        with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
            conn.execute(f'CREATE DATABASE "{name}"')
        env["SINERGI_DATABASE_URL"] = f"{base}/{name}"

        def query(sql):
            with psycopg.connect(f"{base}/{name}") as conn:
                return conn.execute(sql).fetchall()

        yield env, query
        with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    else:
        db = tmp_path / "kill.sqlite3"
        env["SINERGI_DATABASE_URL"] = f"sqlite:///{db}"

        def query(sql):
            with sqlite3.connect(db, timeout=30) as conn:
                return conn.execute(sql).fetchall()

        yield env, query


def sinergi(env, *args, **kwargs):
    return subprocess.run([sys.executable, "-m", "sinergi.cli", *args], env=env,
                          capture_output=True, text=True, timeout=300, **kwargs)


def test_killing_an_import_mid_write_leaves_the_registry_unchanged(scratch_db, tmp_path):
    env, query = scratch_db
    assert sinergi(env, "manage", "migrate", "--noinput").returncode == 0
    regions = region_slice_file(tmp_path, prefixes=("19",))
    assert sinergi(env, "regions", "load", "--file", str(regions)).returncode == 0
    path = big_file(tmp_path / "big.csv", families=60_000)

    child = subprocess.Popen(
        [sys.executable, "-m", "sinergi.cli", "import", "persons", str(path), "--region", "19",
         "--format", "sinergi"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 240
    phase = None
    while time.monotonic() < deadline and child.poll() is None:
        rows = query("SELECT status, progress FROM imports_importjob")
        # Progress 70 is the write phase (the phase text is translated).
        if rows and rows[0][0] == "running" and rows[0][1] >= 70:
            phase = rows[0][1]
            break
        time.sleep(0.01)
    assert phase is not None, "the import never reached its write phase"
    time.sleep(0.3)  # well inside the write transaction
    child.send_signal(signal.SIGKILL)
    child.wait(timeout=30)

    for table in ("registry_person", "registry_household", "registry_membership",
                  "imports_importissue"):
        assert query(f"SELECT COUNT(*) FROM {table}")[0][0] == 0, table  # noqa: S608
    assert query("SELECT status FROM imports_importjob")[0][0] == "running"
    # The next worker pass sees the dead process and ends the job as failed.
    result = sinergi(env, "worker", "--once")
    assert result.returncode == 0, result.stderr
    status, message = query("SELECT status, message FROM imports_importjob")[0]
    assert status == "failed" and message  # says it was interrupted (in Indonesian)
    # and the scratch files of the killed import (SQLite) are gone.
    assert not list(Path(env["SINERGI_VAR_DIR"]).glob("sinergi-stage-*"))
