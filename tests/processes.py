"""Running Sinergi the way it runs: the real command line in child processes,
against a database of their own, and a client that speaks HTTP to the
served process like a browser does (session, CSRF token, multipart upload).

The scratch database is a SQLite file, or a scratch PostgreSQL database
when the suite runs on PostgreSQL, so every process test covers both.
"""

import http.cookiejar
import json
import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from contextlib import contextmanager, suppress
from pathlib import Path

import polars as pl
from django.db import connection


@contextmanager
def scratch_database(tmp_path: Path):
    """(environment for child processes, query function) on a database of
    their own, dropped afterwards."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SINERGI_")}
    env["SINERGI_VAR_DIR"] = str(tmp_path / "var")
    if connection.vendor == "postgresql":
        import psycopg

        settings_dict = connection.settings_dict
        name = f"sinergi_proc_{os.getpid()}_{uuid.uuid4().hex[:6]}"
        base = (f"postgres://{settings_dict['USER']}@{settings_dict['HOST'] or '127.0.0.1'}:"
                f"{settings_dict['PORT'] or 5432}")
        with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
            conn.execute(f'CREATE DATABASE "{name}"')
        env["SINERGI_DATABASE_URL"] = f"{base}/{name}"

        def query(sql, params=()):
            with psycopg.connect(f"{base}/{name}") as conn:
                return conn.execute(sql, params).fetchall()

        try:
            yield env, query
        finally:
            with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    else:
        db = tmp_path / "scratch.sqlite3"
        env["SINERGI_DATABASE_URL"] = f"sqlite:///{db}"

        def query(sql, params=()):
            with sqlite3.connect(db, timeout=30) as conn:
                return conn.execute(sql.replace("%s", "?"), params).fetchall()

        yield env, query


def sinergi(env, *args, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "sinergi.cli", *args], env=env,
                          capture_output=True, text=True, timeout=300, **kwargs)


def big_file(path: Path, families: int, *, village: str = "19.04.01.1002",
             nik_prefix: str = "1904011503") -> Path:
    """``families`` families of three in one village, structurally valid: unique KK
    numbers (issue day, month, serial) and NIKs (birth year, serial)."""
    n = families * 3
    df = pl.DataFrame({"i": pl.int_range(0, n, eager=True)}).with_columns(
        (pl.col("i") // 3).alias("fam"))
    df = df.select(
        (pl.lit(nik_prefix[:6]) + ((pl.col("fam") % 28) + 1).cast(pl.String).str.zfill(2)
         + ((pl.col("fam") // 28 % 12) + 1).cast(pl.String).str.zfill(2) + pl.lit("15")
         + (pl.col("fam") // 336 + 1).cast(pl.String).str.zfill(4)).alias("No KK"),
        (pl.lit(nik_prefix) + (80 + (pl.col("i") // 9999) % 20).cast(pl.String)
         + (pl.col("i") % 9999 + 1).cast(pl.String).str.zfill(4)).alias("NIK"),
        (pl.lit("Warga ") + pl.col("i").cast(pl.String)).alias("Nama"),
        pl.lit("L").alias("Jenis Kelamin"),
        (pl.lit("15/03/19") + (80 + (pl.col("i") // 9999) % 20).cast(pl.String))
        .alias("Tanggal Lahir"),
        pl.when(pl.col("i") % 3 == 0).then(pl.lit("1")).otherwise(pl.lit("4"))
        .alias("Hubungan dalam Keluarga"),
        pl.lit(village).alias("Kode Wilayah"),
    )
    df.write_csv(path)
    return path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Served:
    """The demo served by `sinergi demo`, in a process group of its own."""

    def __init__(self, env: dict, *, scale: str = "small", timeout: float = 600):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.logins: dict[str, str] = {}
        self.output: list[str] = []
        self.process = subprocess.Popen(
            [sys.executable, "-m", "sinergi.cli", "demo", "--scale", scale, "--port",
             str(self.port)], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            text=True, start_new_session=True)
        deadline = time.monotonic() + timeout
        for line in self.process.stdout:
            self.output.append(line)
            found = re.search(r"user: (\S+)\s+password: (\S+)", line)
            if found:
                self.logins[found.group(1)] = found.group(2)
            if "Sinergi serving on" in line or time.monotonic() > deadline:
                break
        os.set_blocking(self.process.stdout.fileno(), False)
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return
            except OSError:
                if self.process.poll() is not None:
                    break
                time.sleep(0.2)
        self.stop()
        raise RuntimeError("the demo did not start:\n" + "".join(self.output)[-4000:])

    def log(self) -> str:
        with suppress(OSError, TypeError):
            self.output.append(self.process.stdout.read() or "")
        return "".join(self.output)

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=30)
        # The worker's job processes are in the same group.
        with suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)

    def client(self, username: str) -> "Browser":
        browser = Browser(self.base)
        browser.login(username, self.logins[username])
        return browser


class Browser:
    """Cookies, the CSRF token and forms, as a browser sends them."""

    def __init__(self, base: str):
        self.base = base
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))

    def _csrf(self) -> str:
        return next((c.value for c in self.jar if c.name == "csrftoken"), "")

    def request(self, method: str, path: str, *, data: bytes | None = None,
                headers: dict | None = None, timeout: float = 60):
        headers = {"Accept-Language": "en", **(headers or {})}
        if method != "GET":
            headers.setdefault("X-CSRFToken", self._csrf())
            headers.setdefault("Referer", self.base + path)
        req = urllib.request.Request(self.base + path, data=data, method=method,  # noqa: S310
                                     headers=headers)
        try:
            with self.opener.open(req, timeout=timeout) as response:
                return response.status, response.geturl(), response.read()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.geturl(), exc.read()

    def get(self, path: str, **kwargs):
        return self.request("GET", path, **kwargs)

    def post_form(self, path: str, fields: dict, **kwargs):
        self.get(path)  # the form's page sets the CSRF cookie
        body = urllib.parse.urlencode({**fields, "csrfmiddlewaretoken": self._csrf()}).encode()
        return self.request("POST", path, data=body, headers={
            "Content-Type": "application/x-www-form-urlencoded"}, **kwargs)

    def post_file(self, path: str, fields: dict, file_field: str, file_path: Path, **kwargs):
        self.get(path)
        boundary = uuid.uuid4().hex
        parts = []
        for key, value in {**fields, "csrfmiddlewaretoken": self._csrf()}.items():
            parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{key}"'
                         f"\r\n\r\n{value}\r\n".encode())
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{file_field}"; '
                     f'filename="{file_path.name}"\r\nContent-Type: text/csv\r\n\r\n'.encode()
                     + file_path.read_bytes() + b"\r\n")
        parts.append(f"--{boundary}--\r\n".encode())
        return self.request("POST", path, data=b"".join(parts), headers={
            "Content-Type": f"multipart/form-data; boundary={boundary}"}, **kwargs)

    def login(self, username: str, password: str) -> None:
        status, url, _body = self.post_form("/accounts/login/", {
            "username": username, "password": password})
        if "/accounts/login/" in url:
            raise AssertionError(f"could not sign in as {username} ({status})")

    def json(self, path: str):
        status, _url, body = self.get(path)
        return status, json.loads(body) if body else None
