"""A killed import leaves the registry as it was, and its job ends failed.

This runs the real command line in child processes against a database of its
own (a SQLite file, or a scratch PostgreSQL database when the suite runs on
PostgreSQL), kills the import with SIGKILL while it writes, and looks at what
is left.
"""

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from .conftest import region_slice_file
from .processes import big_file, scratch_database, sinergi

pytestmark = pytest.mark.slow


@pytest.fixture
def scratch_db(tmp_path):
    with scratch_database(tmp_path) as (env, query):
        yield env, query


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
