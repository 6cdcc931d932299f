"""Benchmark: the served demo under load, with a big import in the middle.

Builds the demo (``sinergi demo --no-serve``, about 30,000 persons) in a
scratch SINERGI_VAR_DIR (and, with ``--db postgres``, a scratch database
``sinergi_load_<pid>`` on postgres://postgres@127.0.0.1:5432, dropped at the
end), serves it with ``sinergi serve`` (its default workers and threads, and
the ``sinergi worker`` it starts), and runs ``--clients`` closed-loop client
threads (no think time) for ``--seconds``, each signed in through the sign-in
page as one of the demo accounts (coordinators, administrators, agency
officers, village operators and leaders), each doing a fixed-weight mix of
about 75 % reads and 25 % writes that its role may do, in its role's scope:

    reads   registry search, person and family pages, convergence coverage
            (rollup and one program, counted live), the unserved list, the
            commitment board, region pages; API lists of programs,
            enrollments, meetings, commitments and persons
    writes  commitment progress (API and page form), enrollments (API and
            page form), person edits (the page's "record a change" form)

At half time one coordinator uploads a 50,000-row import (a synthetic
registry of the demo province, ``--import-rows``) through POST
/api/v1/imports and polls it to its end. Every request has a client timeout
(``--timeout``, counted as an error). At the end, with the server stopped,
every write answered OK is looked up in the database (a unique marker in the
progress narrative, the (program, beneficiary) pair of an enrollment, the
(status, date) written on a person): lost = answered OK - found.

    .venv/bin/python bench/load.py                               # SQLite, 50 clients, 180 s
    .venv/bin/python bench/load.py --db postgres
    .venv/bin/python bench/load.py --clients 10 --seconds 30     # smoke run
    .venv/bin/python bench/load.py --json /tmp/load.json --keep  # keep the scratch dir and logs

Prints one table (per request kind: count, errors, p50/p95/p99 and the same
outside and during the import), the import's time to done and the worker's
jobs (how long each waited for its lane and ran), the lost-write check, the
first error bodies, and the environment (with the commit under test: the work
tree may change while the bench runs). Compare figures as ratios within one run. No
assertion: the exit code is 0 whatever the figures.
"""

import argparse
import base64
import contextlib
import http.client
import itertools
import json
import os
import random
import re
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import uuid
import zlib
from collections import Counter, defaultdict, deque
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from http.cookies import CookieError, SimpleCookie
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PROVINCE = "19"
PG_SERVER = "postgres://postgres@127.0.0.1:5432"
TODAY = datetime.now(ZoneInfo("Asia/Jakarta")).date()  # the server's TIME_ZONE
YEAR = TODAY.year
READ_TARGET_MS = WRITE_TARGET_MS = 1000

# Which demo account each client signs in as, by client index (25 in turn:
# 10 coordinators, 4 administrators, 5 agency officers, 3 village operators,
# 3 leaders); the first ten hold every role, so a smoke run does too.
ACCOUNTS = ["koordinator", "petugas", "operator", "admin", "pimpinan",
            "koordinator", "petugas", "koordinator", "admin", "koordinator",
            "operator", "petugas", "koordinator", "pimpinan", "koordinator",
            "admin", "petugas", "koordinator", "operator", "koordinator",
            "petugas", "admin", "pimpinan", "koordinator", "koordinator"]

# Request kinds and their weights (reads 75, writes 25). A client whose role
# may do only some writes does those more often, so that its writes stay
# WRITE_SHARE of its requests; a leader only reads.
READS = {
    "registry search (page)": 8,
    "person (page)": 7,
    "family (page)": 6,
    "coverage (page)": 6,
    "coverage, one program (page)": 5,
    "unserved list (page)": 5,
    "commitment board (page)": 6,
    "region (page)": 5,
    "programs (API)": 5,
    "enrollments (API)": 6,
    "meetings (API)": 4,
    "commitments (API)": 6,
    "persons (API)": 6,
}
WRITES = {
    "progress update (API)": 5,
    "progress update (page)": 4,
    "enrollment (API)": 5,
    "enrollment (page)": 4,
    "person edit (page)": 7,
}
WRITE_SHARE = 0.28
IMPORT_KINDS = ["import upload (API)", "import status (API)"]
# Written values the lost-write check looks for.
WRITE_GROUPS = {"progress updates": ["progress update (API)", "progress update (page)"],
                "enrollments": ["enrollment (API)", "enrollment (page)"],
                "person edits": ["person edit (page)"]}
MOVED_OUT = 3  # registry LIFE_STATUS "PINDAH"
IMPORT_END = {"done", "failed", "cancelled", "review"}


def say(label, value=""):
    print(f"{label}: {value}" if value != "" else label, flush=True)


def percentile(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


# --- the database, read directly (setup and the lost-write check) -------------------


class Database:
    """A plain connection to the scratch database: sqlite3 or psycopg."""

    def __init__(self, kind: str, target: str):
        self.kind, self.target = kind, target

    def rows(self, sql: str, params=()) -> list[tuple]:
        if self.kind == "sqlite":
            with sqlite3.connect(self.target, timeout=60) as conn:
                return conn.execute(sql.replace("%s", "?"), params).fetchall()
        import psycopg

        with psycopg.connect(self.target) as conn:
            return conn.execute(sql, params).fetchall()


def in_subtree(column: str) -> str:
    """SQL for ``column`` in the subtree of a code given twice as parameters
    (code + '.', code + '/'), or equal to it (third parameter)."""
    return f"(({column} >= %s AND {column} < %s) OR {column} = %s)"


def subtree(code: str) -> tuple:
    return (code + ".", code + "/", code)


# --- what the clients work on ----------------------------------------------------------


@dataclass
class Scope:
    root: str
    levels: list  # [[root], [children], [grandchildren]] that exist
    codes: list   # region pages
    persons: list
    households: list
    names: list


@dataclass
class Client:
    index: int
    username: str
    password: str
    role: str
    scope: Scope
    kinds: list = field(default_factory=list)
    weights: list = field(default_factory=list)
    commitments: list = field(default_factory=list)
    enroll_queue: deque = field(default_factory=deque)
    person_queue: deque = field(default_factory=deque)
    browser: "Browser | None" = None
    exhausted: set = field(default_factory=set)


def capabilities() -> dict:
    """The role table of the code under test (sinergi/accounts/roles.py)."""
    from sinergi.accounts.roles import CAPABILITIES

    return CAPABILITIES


def discover(db: Database, logins: dict, clients: int) -> tuple[list, dict]:
    """The clients, their accounts and what each may read and write, from the database."""
    caps = capabilities()
    rnd = random.Random(7)
    users = {u: (role, region, agency) for u, role, region, agency in db.rows(
        "SELECT username, role, region_id, agency_id FROM accounts_user")}
    regions = db.rows(f"SELECT code, level FROM regions_region WHERE retired_in = '' "
                      f"AND {in_subtree('code')} ORDER BY code", subtree(PROVINCE))
    persons = db.rows(
        f"SELECT id, nik, name, village_code, household_id, life_status FROM registry_person "
        f"WHERE {in_subtree('village_code')} ORDER BY id", subtree(PROVINCE))
    households = db.rows(f"SELECT id, kk_number, village_code FROM registry_household "
                         f"WHERE {in_subtree('village_code')} ORDER BY id", subtree(PROVINCE))
    programs = db.rows("SELECT p.id, p.code, p.unit, p.owner_agency_id, a.region_id "
                       "FROM programs_program p JOIN agencies_agency a "
                       "ON a.id = p.owner_agency_id WHERE p.is_active ORDER BY p.id")
    enrolled = {(prog, "p" if person else "h", person or household)
                for prog, person, household in db.rows(
                    "SELECT program_id, person_id, household_id FROM programs_enrollment "
                    "WHERE year = %s", (YEAR,))}
    commitments = db.rows("SELECT id, owner_agency_id, region_id FROM meetings_commitment "
                          "WHERE cancelled_on IS NULL ORDER BY id")
    supporting = defaultdict(set)
    for commitment, agency in db.rows("SELECT commitment_id, agency_id FROM "
                                      "meetings_commitment_supporting_agencies"):
        supporting[commitment].add(agency)

    def inside(code, root):
        return code == root or code.startswith(root + ".")

    scopes = {}

    def scope_of(root):
        if root in scopes:
            return scopes[root]
        depth = root.count(".")
        by_level = [[c for c, lvl in regions if inside(c, root) and lvl == depth + 1 + k]
                    for k in range(3)]
        levels = [[root]] + [lv for lv in by_level[:2] if lv]
        codes = [root] + [c for lv in by_level for c in lv]
        mine = [p for p in persons if inside(p[3], root)]
        hh = [h for h in households if inside(h[2], root)]
        names = sorted({w for p in mine[:3000] for w in p[2].split() if len(w) >= 4
                        and w.isalpha()})
        scope = Scope(root, levels, codes[:2000],
                      [p[0] for p in rnd.sample(mine, min(3000, len(mine)))],
                      [h[0] for h in rnd.sample(hh, min(3000, len(hh)))],
                      rnd.sample(names, min(300, len(names))))
        scopes[root] = scope
        return scope

    out = []
    for i in range(clients):
        username = ACCOUNTS[i % len(ACCOUNTS)]
        role, region, agency = users[username]
        out.append(Client(i, username, logins[username], role, scope_of(region or PROVINCE)))
        c = out[-1]
        can = caps[role]
        if "commitment.update" in can:
            if role == "officer":
                c.commitments = [cid for cid, owner, _r in commitments
                                 if agency and (owner == agency or agency in supporting[cid])]
            else:
                c.commitments = [cid for cid, _o, r in commitments if inside(r, c.scope.root)]
    # Persons whose status the clients change (a person is changed once, by one
    # client) and persons they enroll are disjoint, so an enrollment never
    # meets a person just recorded as moved out. The operators' village goes
    # to person edits: an operator may not enroll.
    editors = sorted((c for c in out if "person.reveal" in caps[c.role]),
                     key=lambda c: -c.scope.root.count("."))
    op_villages = {c.scope.root for c in out if c.scope.root.count(".") == 3}
    alive = [p for p in persons if p[5] == 1 and p[4] is not None]
    to_edit = [p for p in alive if p[0] % 3 == 0 or p[3] in op_villages]
    to_enroll = [p for p in alive if p[0] % 3 and p[3] not in op_villages and p[1]]
    taken = set()
    for c in editors:
        peers = [e for e in editors if e.scope.root == c.scope.root]
        free = [p[0] for p in to_edit if p[0] not in taken and inside(p[3], c.scope.root)]
        share = free[:len(free) // (len(peers) - peers.index(c))][:400]
        taken.update(share)
        c.person_queue = deque(share)
    # Enrollments: (program, beneficiary) pairs not enrolled this year, each
    # handed to one client; programs the client's role may change (an officer:
    # the own agency's; others: those of agencies in the scope), beneficiaries
    # in its scope.
    pairs = []
    for pid, _code, unit, _a, _r in programs:
        if unit == "person":
            pairs += [(pid, "p", p[0], p[1], p[3]) for p in to_enroll
                      if (pid, "p", p[0]) not in enrolled]
        elif unit == "household":
            pairs += [(pid, "h", h[0], h[1], h[2]) for h in households
                      if (pid, "h", h[0]) not in enrolled]
    rnd.shuffle(pairs)
    given = set()
    for c in out:
        if "program.edit" not in caps[c.role]:
            continue
        agency = users[c.username][2]
        mine = {pid for pid, _code, _u, owner, region in programs
                if (owner == agency if c.role == "officer" else inside(region, c.scope.root))}
        queue = []
        for pair in pairs:
            if pair[0] in mine and pair not in given and inside(pair[4], c.scope.root):
                queue.append(pair)
                given.add(pair)
                if len(queue) == 500:
                    break
        c.enroll_queue = deque(queue)
    for c in out:
        can = caps[c.role]
        writes = {}
        if c.commitments:
            writes.update({k: WRITES[k] for k in WRITE_GROUPS["progress updates"]})
        if c.enroll_queue:
            writes.update({k: WRITES[k] for k in WRITE_GROUPS["enrollments"]})
        if "person.reveal" in can and c.person_queue:
            writes.update({k: WRITES[k] for k in WRITE_GROUPS["person edits"]})
        reads_total = sum(READS.values())
        kinds = dict(READS)
        if writes:
            scale = WRITE_SHARE / (1 - WRITE_SHARE) * reads_total / sum(writes.values())
            kinds.update({k: w * scale for k, w in writes.items()})
        c.kinds, c.weights = list(kinds), list(kinds.values())
    facts = {"programs": [(p[0], p[1]) for p in programs], "persons": len(persons),
             "households": len(households), "commitments": len(commitments)}
    return out, facts


# --- HTTP: one browser per client ------------------------------------------------------


@dataclass
class Answer:
    status: int | None
    body: bytes
    headers: object
    seconds: float
    error: str = ""


class Browser:
    """One kept-alive HTTP connection with its own cookies (sessionid,
    csrftoken, messages), redirects not followed: as a browser tab does."""

    def __init__(self, base: str, timeout: float):
        self.base, self.timeout = base, timeout
        parts = urllib.parse.urlsplit(base)
        self.host, self.port = parts.hostname, parts.port
        self.cookies: dict[str, str] = {}
        self.conn: http.client.HTTPConnection | None = None

    @property
    def csrf(self) -> str:
        return self.cookies.get("csrftoken", "")

    def _drop(self) -> None:
        if self.conn is not None:
            self.conn.close()
        self.conn = None

    def send(self, method: str, path: str, *, form: dict | None = None, payload=None,
             body: bytes | None = None, content_type: str = "") -> Answer:
        headers = {"Accept-Language": "en"}
        data = None
        if form is not None:
            data = urllib.parse.urlencode(form).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        elif payload is not None:
            data = json.dumps(payload).encode()
            headers["Content-Type"] = "application/json"
        elif body is not None:
            data, headers["Content-Type"] = body, content_type
        if method != "GET":
            headers["X-CSRFToken"] = self.csrf
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        started = time.perf_counter()
        status, content, answer_headers, error = None, b"", None, ""
        for attempt in (1, 2):
            reused = self.conn is not None
            if self.conn is None:
                self.conn = http.client.HTTPConnection(self.host, self.port,
                                                       timeout=self.timeout)
            try:
                self.conn.request(method, path, body=data, headers=headers)
                response = self.conn.getresponse()
                status, answer_headers = response.status, response.headers
                content = response.read()
                if response.will_close:
                    self._drop()
                break
            except (http.client.RemoteDisconnected, BrokenPipeError,
                    ConnectionResetError) as exc:
                # A kept-alive connection the server closed while idle: the
                # request never reached it, so sending it again is safe.
                self._drop()
                if attempt == 2 or not reused:
                    error = f"{type(exc).__name__}: {exc}"
                    break
            except TimeoutError:
                self._drop()
                error = "timeout"
                break
            except (OSError, http.client.HTTPException) as exc:
                self._drop()
                error = f"{type(exc).__name__}: {exc}"
                break
        seconds = time.perf_counter() - started
        if seconds > self.timeout and not error:
            error = "timeout"
        if answer_headers is not None:
            for raw in answer_headers.get_all("Set-Cookie") or []:
                self._store(raw)
        return Answer(None if error else status, content, answer_headers, seconds, error)

    def _store(self, raw: str) -> None:
        jar = SimpleCookie()
        try:
            jar.load(raw)
        except CookieError:
            return
        for name, morsel in jar.items():
            if morsel["max-age"] == "0" or not morsel.value or "1970" in morsel["expires"]:
                self.cookies.pop(name, None)
            else:
                self.cookies[name] = morsel.value

    def flash(self) -> tuple[int, str] | None:
        """The last flash message the previous answer left (Django's signed
        ``messages`` cookie, read without checking the signature), and forget it,
        so messages do not pile up."""
        raw = self.cookies.pop("messages", "").strip('"')
        if not raw:
            return None
        value = raw.split(":", 1)[0]  # payload:timestamp:signature
        compressed = value.startswith(".")
        value = value.lstrip(".")
        try:
            data = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
            if compressed:
                data = zlib.decompress(data)
            items = json.loads(data)
        except (ValueError, zlib.error):
            return None
        last = items[-1] if isinstance(items, list) and items else None
        if isinstance(last, list) and len(last) >= 4:
            return int(last[2]), str(last[3])
        return None


def sign_in(browser: Browser, username: str, password: str) -> str:
    """The sign-in page with its CSRF token; '' when signed in, else why not."""
    answer = browser.send("GET", "/accounts/login/")
    if answer.status != 200:
        return f"GET /accounts/login/: {answer.status or answer.error}"
    token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', answer.body)
    if not token:
        return "no CSRF token on the sign-in page"
    answer = browser.send("POST", "/accounts/login/", form={
        "csrfmiddlewaretoken": token.group(1).decode(), "username": username,
        "password": password, "next": "/"})
    if answer.status == 302 and "sessionid" in browser.cookies:
        return ""
    return f"POST /accounts/login/: {answer.status or answer.error} " \
           f"{answer.body[:200].decode(errors='replace')!r}"


# --- the run ---------------------------------------------------------------------------


def excerpt(body: bytes) -> str:
    """The first 200 characters of an answer; of a page, its title and the
    text of its <main> (the page's head and navigation tell nothing)."""
    text = body.decode(errors="replace")
    if "<html" not in text[:500].lower():
        return " ".join(text[:200].split())
    title = re.search(r"<title>(.*?)</title>", text, re.S)
    main = re.search(r"<main[^>]*>(.*?)</main>", text, re.S)
    words = " ".join(re.sub(r"<[^>]+>", " ", main.group(1) if main else text).split())
    return f"[{' '.join(title.group(1).split()) if title else 'page'}] {words[:200]}"



@dataclass
class Sample:
    kind: str
    start: float  # seconds since the clock started
    ms: float
    ok: bool


class Run:
    def __init__(self, args, clients: list, import_csv: bytes, villages: int):
        self.args = args
        self.clients = clients
        self.samples: list[Sample] = []
        self.errors: dict[str, list[str]] = defaultdict(list)
        self.error_count: Counter = Counter()
        self.written: dict[str, set] = defaultdict(set)      # answered OK
        self.attempted: dict[str, set] = defaultdict(set)    # sent, answer not OK
        self.stop = threading.Event()
        self.t0 = 0.0
        self.run_id = f"loadbench-{os.getpid()}-{uuid.uuid4().hex[:6]}"
        self.serial = itertools.count(1)
        self.import_csv = import_csv
        self.import_villages = villages
        self.imp: dict = {"state": "not started"}
        self.lock = threading.Lock()

    def now(self) -> float:
        return time.perf_counter() - self.t0

    def record(self, kind: str, answer: Answer, ok: bool, why: str = "") -> None:
        start = self.now() - answer.seconds
        with self.lock:
            self.samples.append(Sample(kind, start, answer.seconds * 1000, ok))
            if not ok:
                self.error_count[kind] += 1
                if len(self.errors[kind]) < 3:
                    self.errors[kind].append(
                        f"{answer.status or answer.error} {why} {excerpt(answer.body)}".strip())

    # Reads ------------------------------------------------------------------------

    def read(self, c: Client, kind: str, path: str) -> None:
        answer = c.browser.send("GET", path)
        ok = answer.status is not None and 200 <= answer.status < 400
        why = ""
        if ok and answer.status >= 300:
            where = answer.headers.get("Location", "") if answer.headers else ""
            if "/accounts/login/" in where:
                ok, why = False, f"redirected to sign-in ({where})"
        self.record(kind, answer, ok, why)

    def region(self, c: Client, rnd: random.Random) -> str:
        level = rnd.choice(c.scope.levels)
        return rnd.choice(level)

    def do(self, c: Client, kind: str, rnd: random.Random) -> None:
        s = c.scope
        q = f"year={YEAR}"
        if kind == "registry search (page)":
            self.read(c, kind, "/registry/?" + urllib.parse.urlencode({"q": rnd.choice(s.names)}))
        elif kind == "person (page)":
            self.read(c, kind, f"/registry/persons/{rnd.choice(s.persons)}/")
        elif kind == "family (page)":
            self.read(c, kind, f"/registry/families/{rnd.choice(s.households)}/")
        elif kind == "coverage (page)":
            self.read(c, kind, f"/convergence/?region={self.region(c, rnd)}&{q}")
        elif kind == "coverage, one program (page)":
            program = rnd.choice(self.args.program_ids)
            self.read(c, kind, f"/convergence/?region={self.region(c, rnd)}&{q}"
                               f"&program={program}")
        elif kind == "unserved list (page)":
            self.read(c, kind, f"/convergence/unserved/?region={self.region(c, rnd)}&{q}")
        elif kind == "commitment board (page)":
            self.read(c, kind, "/meetings/commitments/")
        elif kind == "region (page)":
            self.read(c, kind, f"/regions/{rnd.choice(s.codes)}/")
        elif kind == "programs (API)":
            self.read(c, kind, "/api/v1/programs")
        elif kind == "enrollments (API)":
            self.read(c, kind, f"/api/v1/enrollments?{q}&region={self.region(c, rnd)}&limit=50")
        elif kind == "meetings (API)":
            self.read(c, kind, "/api/v1/meetings")
        elif kind == "commitments (API)":
            self.read(c, kind, "/api/v1/commitments?limit=50")
        elif kind == "persons (API)":
            self.read(c, kind, "/api/v1/persons?"
                      + urllib.parse.urlencode({"q": rnd.choice(s.names), "limit": 50}))
        elif kind in WRITE_GROUPS["progress updates"]:
            self.progress(c, kind, rnd)
        elif kind in WRITE_GROUPS["enrollments"]:
            self.enroll(c, kind)
        elif kind == "person edit (page)":
            self.person_edit(c, kind)
        else:
            raise ValueError(kind)

    # Writes -----------------------------------------------------------------------

    def page_write(self, c: Client, kind: str, path: str, form: dict, key, group: str):
        """A page form: 302 and a success message is OK; an error message is not."""
        form = {"csrfmiddlewaretoken": c.browser.csrf, **form}
        answer = c.browser.send("POST", path, form=form)
        message = c.browser.flash()
        ok, why = False, ""
        if answer.status == 302:
            where = answer.headers.get("Location", "") if answer.headers else ""
            if message is None:
                why = f"no message; redirected to {where}"
            elif message[0] >= 40:
                why = f"error message: {message[1][:200]}"
            else:
                ok = True
        self.record(kind, answer, ok, why)
        (self.written if ok else self.attempted)[group].add(key)

    def api_write(self, c: Client, kind: str, path: str, payload: dict, key, group: str):
        answer = c.browser.send("POST", path, payload=payload)
        ok = answer.status == 201
        self.record(kind, answer, ok)
        (self.written if ok else self.attempted)[group].add(key)

    def progress(self, c: Client, kind: str, rnd: random.Random) -> None:
        commitment = rnd.choice(c.commitments)
        marker = f"{self.run_id}-{next(self.serial)}"
        narrative = f"Load bench note {marker}"
        if kind.endswith("(API)"):
            self.api_write(c, kind, f"/api/v1/commitments/{commitment}/progress",
                           {"kind": "progress", "narrative": narrative}, marker,
                           "progress updates")
        else:
            self.page_write(c, kind, f"/meetings/commitments/{commitment}/progress/",
                            {"kind": "progress", "date": "", "value": "",
                             "narrative": narrative}, marker, "progress updates")

    def enroll(self, c: Client, kind: str) -> None:
        program, unit, unit_id, key, _village = c.enroll_queue.popleft()
        pair = (program, unit, unit_id)
        if kind.endswith("(API)"):
            self.api_write(c, kind, "/api/v1/enrollments",
                           {"program": program, "year": YEAR, "beneficiary": key,
                            "status": "proposed", "allow_ineligible": True}, pair,
                           "enrollments")
        else:
            self.page_write(c, kind, f"/programs/{program}/enroll/",
                            {"beneficiary": key, "year": YEAR, "status": "proposed",
                             "benefit_value": "", "allow_ineligible": "on"}, pair,
                            "enrollments")

    def person_edit(self, c: Client, kind: str) -> None:
        person = c.person_queue.popleft()
        # A date of its own per edit, so the check finds this write's value.
        when = date(YEAR - 1, 12, 31) - timedelta(days=next(self.serial) % 9000)
        self.page_write(c, kind, f"/registry/persons/{person}/event/",
                        {"kind": "status", "status": MOVED_OUT, "date": when.isoformat()},
                        (person, MOVED_OUT, when.isoformat()), "person edits")

    # The import -------------------------------------------------------------------

    def run_import(self, c: Client) -> None:
        imp = self.imp
        boundary = uuid.uuid4().hex
        parts = []
        for name, value in (("kind", "persons"), ("format", "sinergi"), ("region", PROVINCE),
                            ("on_error", "skip")):
            parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"'
                         f"\r\n\r\n{value}\r\n".encode())
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
                     f'filename="load-{PROVINCE}.csv"\r\nContent-Type: text/csv\r\n\r\n'
                     .encode() + self.import_csv + b"\r\n")
        parts.append(f"--{boundary}--\r\n".encode())
        imp.update(state="uploading", start=self.now())
        answer = c.browser.send("POST", "/api/v1/imports", body=b"".join(parts),
                                content_type=f"multipart/form-data; boundary={boundary}")
        ok = answer.status == 202
        self.record(IMPORT_KINDS[0], answer, ok)
        imp["upload_s"] = answer.seconds
        if not ok:
            imp.update(state="upload failed", end=self.now(),
                       detail=f"{answer.status or answer.error}: "
                              f"{answer.body[:200].decode(errors='replace')}")
            return
        job = json.loads(answer.body)
        imp.update(state=job["status"], job=job["id"], last=job)
        deadline = time.perf_counter() + self.args.import_wait
        while time.perf_counter() < deadline:
            time.sleep(1)
            answer = c.browser.send("GET", f"/api/v1/imports/{job['id']}")
            ok = answer.status == 200
            self.record(IMPORT_KINDS[1], answer, ok)
            if not ok:
                continue
            last = json.loads(answer.body)
            imp.update(state=last["status"], last=last)
            if last["status"] in IMPORT_END:
                imp["end"] = self.now()
                return
        imp["state"] = f"not finished after {self.args.import_wait:.0f} s " \
                       f"(last: {imp['last'].get('status')}, {imp['last'].get('phase')} " \
                       f"{imp['last'].get('progress')} %)"

    # Clients ----------------------------------------------------------------------

    def client(self, c: Client) -> None:
        rnd = random.Random(1000 + c.index)
        half = self.args.seconds / 2
        importer = c.index == self.importer
        while not self.stop.is_set():
            if importer and self.imp["state"] == "not started" and self.now() >= half:
                self.run_import(c)
                continue
            kind = rnd.choices(c.kinds, c.weights)[0]
            if (kind in WRITE_GROUPS["enrollments"] and not c.enroll_queue) or \
                    (kind in WRITE_GROUPS["person edits"] and not c.person_queue):
                c.exhausted.add(kind)
                continue
            self.do(c, kind, rnd)

    def go(self) -> float:
        self.importer = next((c.index for c in self.clients
                              if "registry.import" in capabilities()[c.role]
                              and c.scope.root == PROVINCE), 0)
        threads = [threading.Thread(target=self.client, args=(c,), daemon=True)
                   for c in self.clients]
        self.t0 = time.perf_counter()
        for th in threads:
            th.start()
        while self.now() < self.args.seconds:
            time.sleep(0.2)
        self.stop.set()
        wall = self.now()
        for th in threads:
            th.join()
        return wall


# --- the served demo -----------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def processes_under(pid: int) -> list[tuple[int, str]]:
    """(pid, command line) of every descendant of ``pid``."""
    children = defaultdict(list)
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            cmd = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode().strip()
        except (OSError, ValueError, IndexError):
            continue
        children[ppid].append((int(entry.name), cmd))
    out, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            out.append(child)
            todo.append(child[0])
    return out


def stop_server(server: subprocess.Popen) -> None:
    """SIGTERM to the server's process group (gunicorn, its workers, the
    worker and its job processes), SIGKILL after 30 s."""
    with contextlib.suppress(ProcessLookupError):
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGTERM)
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, signal.SIGKILL)
                server.wait(timeout=30)
    # Stragglers of the group (the worker's job processes).
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(server.pid, signal.SIGKILL)


def build_demo(env: dict, scale: str) -> tuple[dict, list[str], float]:
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "sinergi.cli", "demo", "--no-serve",
                           "--scale", scale], cwd=ROOT, env=env, capture_output=True,
                          text=True)
    took = time.perf_counter() - started
    if done.returncode != 0:
        print(done.stdout[-3000:], done.stderr[-3000:], sep="\n", file=sys.stderr)
        raise SystemExit(f"demo build failed with exit code {done.returncode}")
    logins = {m.group(1): m.group(2) for m in re.finditer(
        r"user:\s*(\S+)\s+password:\s*(\S+)\s+scope:\s*(\S+)", done.stdout)}
    summary = [line.strip() for line in done.stdout.splitlines()
               if line.startswith(("Registry:", "Programs:", "Meetings:"))]
    return logins, summary, took


def import_file(db: Database, rows: int) -> tuple[bytes, int]:
    """``rows`` synthetic persons over the province's villages, as the Sinergi
    template CSV. NIK and KK serials (the last four digits) are moved up by
    5,000: the demo's own registry (seed 19) uses low serials of the same
    (kecamatan, date) stems, so the file adds new families instead of
    proposing changes to existing ones."""
    import polars as pl

    from sinergi.registry import synthetic

    villages = [code for (code,) in db.rows(
        f"SELECT code FROM regions_region WHERE level = 4 AND retired_in = '' AND "
        f"{in_subtree('code')} ORDER BY code", subtree(PROVINCE))]
    df = synthetic.generate(villages, persons=rows, seed=2026, bad_fraction=0.0, today=TODAY)
    shift = {"NIK", "No KK"}
    df = df.with_columns([
        (pl.col(h).str.slice(0, 12) + (pl.col(h).str.slice(12, 4).cast(pl.Int64) + 5000)
         .cast(pl.String).str.zfill(4)).alias(h) for h in shift])
    return df.write_csv().encode(), len(villages)


def server_log_summary(path: Path) -> list[str]:
    """Exceptions, worker timeouts and lock errors in the served process's stderr."""
    if not path.exists():
        return []
    lines = path.read_text(errors="replace").splitlines()
    found = Counter()
    for n, line in enumerate(lines):
        if "WORKER TIMEOUT" in line or "database is locked" in line or \
                "Worker exiting" in line or "was sent SIG" in line:
            found[re.sub(r"^\[[^\]]*\] ", "", line.strip())[:160]] += 1
        if line.startswith("Traceback"):
            tail = next((lines[k] for k in range(n + 1, min(n + 200, len(lines)))
                         if lines[k] and not lines[k].startswith((" ", "Traceback"))), "?")
            found["exception: " + tail[:150]] += 1
    return [f"{n} x {what}" for what, n in found.most_common(12)]


# --- the end: lost writes, the table --------------------------------------------------


def lost_writes(db: Database, run: Run) -> dict:
    found: dict[str, set] = {}
    notes = {r[0] for r in db.rows("SELECT narrative FROM meetings_progressupdate "
                                   "WHERE narrative LIKE %s", (f"%{run.run_id}-%",))}
    found["progress updates"] = {n.rsplit(" ", 1)[1] for n in notes}
    found["enrollments"] = {(prog, "p" if person else "h", person or household)
                            for prog, person, household in db.rows(
                                "SELECT program_id, person_id, household_id FROM "
                                "programs_enrollment WHERE year = %s", (YEAR,))}
    found["person edits"] = {(pid, status, str(day)) for pid, status, day in db.rows(
        "SELECT id, life_status, status_date FROM registry_person WHERE status_date IS NOT NULL")}
    out = {}
    for group in WRITE_GROUPS:
        ok = run.written[group]
        out[group] = {"ok": len(ok), "found": len(ok & found[group]),
                      "lost": len(ok - found[group]),
                      "lost_examples": [str(x) for x in sorted(ok - found[group],
                                                               key=str)[:5]],
                      "not_ok_but_found": len(run.attempted[group] & found[group]),
                      "not_ok": len(run.attempted[group])}
    return out


def background_jobs(db: Database) -> list[str]:
    """The worker's jobs (core.Job): how long each waited for its lane and ran.
    An import queues behind whatever holds its lane."""
    def when(value):
        if value is None or isinstance(value, datetime):
            return value.replace(tzinfo=None) if value is not None else None
        return datetime.fromisoformat(str(value)).replace(tzinfo=None)

    try:
        jobs = db.rows("SELECT id, kind, status, created_at, started_at, finished_at "
                       "FROM core_job ORDER BY id")
    except Exception as exc:  # older code, without the job runner
        return [f"(no job table: {exc})"]
    out = []
    for job_id, kind, status, created, started, finished in jobs[-15:]:
        created, started, finished = when(created), when(started), when(finished)
        waited = f"waited {(started - created).total_seconds():.1f} s" if started else \
            "never started"
        ran = f", ran {(finished - started).total_seconds():.1f} s" if started and finished \
            else ""
        out.append(f"#{job_id} {kind} {status}: {waited}{ran}")
    return out


def stats(values: list[float]) -> dict:
    if not values:
        return {"n": 0}
    return {"n": len(values), "p50": statistics.median(values), "p95": percentile(values, 95),
            "p99": percentile(values, 99), "max": max(values)}


def figures(run: Run, wall: float) -> dict:
    imp = run.imp
    w0 = imp.get("start", float("inf"))
    w1 = min(imp.get("end", wall), wall)

    def during(s):
        return w0 <= s.start <= w1

    kinds = list(READS) + list(WRITES) + IMPORT_KINDS
    rows = {}
    groups = {"all reads": set(READS), "all writes": set(WRITES)}
    for kind in kinds + list(groups):
        members = groups.get(kind, {kind})
        mine = [s for s in run.samples if s.kind in members]
        if not mine and kind in IMPORT_KINDS:
            continue
        rows[kind] = {**stats([s.ms for s in mine]),
                      "errors": sum(not s.ok for s in mine),
                      "outside": stats([s.ms for s in mine if not during(s)]),
                      "during": stats([s.ms for s in mine if during(s)])}
    return rows


def fmt(x) -> str:
    return "-" if x is None else f"{x:,.0f}"


def print_table(rows: dict) -> None:
    head = (f"{'request kind':<30} {'n':>6} {'err':>4} {'p50':>7} {'p95':>7} {'p99':>7} "
            f"{'max':>7} | {'n':>5} {'p50':>7} {'p95':>7} | {'n':>5} {'p50':>7} {'p95':>7}")
    print(f"{'':<30} {'':>6} {'':>4} {'all, ms':>7} {'':>7} {'':>7} {'':>7} | "
          f"{'outside the import, ms':>21} | {'during the import, ms':>21}")
    print(head)
    print("-" * len(head))
    for kind, r in rows.items():
        if kind in ("all reads", IMPORT_KINDS[0]):
            print("-" * len(head))
        o, d = r["outside"], r["during"]
        print(f"{kind:<30} {r['n']:>6} {r['errors']:>4} {fmt(r.get('p50')):>7} "
              f"{fmt(r.get('p95')):>7} {fmt(r.get('p99')):>7} {fmt(r.get('max')):>7} | "
              f"{o['n']:>5} {fmt(o.get('p50')):>7} {fmt(o.get('p95')):>7} | "
              f"{d['n']:>5} {fmt(d.get('p50')):>7} {fmt(d.get('p95')):>7}")


def code_state() -> str:
    """The commit and how many files differ from it: the work tree may be
    changing while the bench runs."""
    def git(*args):
        done = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True)
        return done.stdout.strip() if done.returncode == 0 else ""

    commit = git("rev-parse", "--short", "HEAD") or "unknown"
    changed = [line for line in git("status", "--porcelain").splitlines()
               if not line.endswith("bench/load.py") and not line.endswith("bench/README.md")]
    return f"commit {commit}" + (f" + {len(changed)} files changed or added in the work "
                                 f"tree" if changed else "")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=180)
    parser.add_argument("--timeout", type=float, default=60, help="client timeout per request")
    parser.add_argument("--import-rows", type=int, default=50_000)
    parser.add_argument("--import-wait", type=float, default=900,
                        help="give up polling the import this long after its upload")
    parser.add_argument("--scale", choices=["small", "default", "full"], default="default",
                        help="demo scale (sinergi demo --scale)")
    parser.add_argument("--json", metavar="PATH", help="save the figures as JSON")
    parser.add_argument("--keep", action="store_true",
                        help="keep the scratch directory (database file, server logs)")
    args = parser.parse_args()

    scratch = Path(tempfile.mkdtemp(prefix="sinergi-load-"))
    env = {**os.environ, "SINERGI_VAR_DIR": str(scratch), "PYTHONUNBUFFERED": "1"}
    env.pop("SINERGI_DEBUG", None)
    pg_name = f"sinergi_load_{os.getpid()}"
    if args.db == "postgres":
        import psycopg

        with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{pg_name}"')
            conn.execute(f'CREATE DATABASE "{pg_name}"')
        env["SINERGI_DATABASE_URL"] = f"{PG_SERVER}/{pg_name}"
        db = Database("postgres", f"{PG_SERVER}/{pg_name}")
    else:
        env["SINERGI_DATABASE_URL"] = f"sqlite:///{scratch / 'sinergi.sqlite3'}"
        db = Database("sqlite", str(scratch / "sinergi.sqlite3"))
    server = None
    try:
        say("scratch", f"{scratch}" + (f", PostgreSQL database {pg_name}"
                                       if args.db == "postgres" else ""))
        logins, summary, took = build_demo(env, args.scale)
        say("demo", f"built in {took:.0f} s ({args.scale} scale)")
        for line in summary:
            say("  " + line)
        clients, facts = discover(db, logins, args.clients)
        args.program_ids = [p[0] for p in facts["programs"]]
        t = time.perf_counter()
        csv, villages = import_file(db, args.import_rows)
        say("import file", f"{args.import_rows:,} rows over {villages} villages, "
            f"{len(csv) / 1e6:.1f} MB, generated in {time.perf_counter() - t:.1f} s")

        port = free_port()
        out_log, err_log = scratch / "server.out", scratch / "server.err"
        with open(out_log, "wb") as out, open(err_log, "wb") as err:
            server = subprocess.Popen(
                [sys.executable, "-m", "sinergi.cli", "serve", "--port", str(port)],
                cwd=ROOT, env=env, stdout=out, stderr=err, start_new_session=True)
        base = f"http://127.0.0.1:{port}"
        probe = Browser(base, 5)
        for _ in range(600):
            if probe.send("GET", "/healthz").status == 200:
                break
            if server.poll() is not None:
                raise SystemExit(f"sinergi serve exited with {server.returncode}; see "
                                 f"{err_log}:\n" + err_log.read_text()[-3000:])
            time.sleep(0.2)
        else:
            raise SystemExit("sinergi serve did not answer /healthz within 120 s")
        tree = processes_under(server.pid)
        workers = sum(" serve " in cmd for _pid, cmd in tree)
        job_runners = sum(" worker" in cmd and "--run-job" not in cmd for _pid, cmd in tree)
        threads = re.search(r'"threads",\s*(\d+)', (ROOT / "sinergi/cli.py").read_text())
        threads = int(threads.group(1)) if threads else None

        # Sign in every client (not timed with the run: password hashing).
        t = time.perf_counter()
        failed = []

        def login(c):
            c.browser = Browser(base, args.timeout)
            for _attempt in range(3):
                why = sign_in(c.browser, c.username, c.password)
                if not why:
                    return
            failed.append((c.index, f"client {c.index} ({c.username}): {why}"))

        signers = [threading.Thread(target=login, args=(c,)) for c in clients]
        for th in signers:
            th.start()
        for th in signers:
            th.join()
        accounts = Counter(c.username for c in clients)
        say("signed in", f"{len(clients) - len(failed)} of {len(clients)} clients in "
            f"{time.perf_counter() - t:.1f} s ("
            + ", ".join(f"{n} {u}" for u, n in accounts.items()) + ")")
        for _index, line in failed:
            say("  sign-in failed", line)
        clients = [c for c in clients if c.index not in {i for i, _l in failed}]

        run = Run(args, clients, csv, villages)
        code = code_state()
        say("running", f"{len(clients)} clients for {args.seconds:.0f} s, import at "
            f"{args.seconds / 2:.0f} s; code under test: {code}")
        load_before = os.getloadavg()[0]
        wall = run.go()
        load_after = os.getloadavg()[0]
        imp = run.imp
        if imp["state"] in {"uploading", "pending", "running"}:
            say("import", "still running after the load; waiting for its end")
        # The importer thread is joined in go(): its polling ends with the import.
        stop_server(server)
        rows = figures(run, wall)
        lost = lost_writes(db, run)
        jobs = background_jobs(db)
    finally:
        if server is not None:
            stop_server(server)
        if args.db == "postgres":
            import psycopg

            with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{pg_name}" WITH (FORCE)')
        if not args.keep:
            shutil.rmtree(scratch, ignore_errors=True)

    # The report ---------------------------------------------------------------------
    total = sum(r["n"] for k, r in rows.items() if k in READS or k in WRITES)
    writes = rows["all writes"]["n"]
    print()
    say("environment", f"database {args.db}{' (WAL)' if args.db == 'sqlite' else ''}, "
        f"{len(clients)} clients, {args.seconds:.0f} s, gunicorn {workers} workers x "
        f"{threads} threads (gthread), {job_runners} sinergi worker, "
        f"{os.cpu_count()} cores (load average {load_before:.1f} before the run, "
        f"{load_after:.1f} at its end), Python {sys.version.split()[0]}, demo of "
        f"{facts['persons']:,} persons in {facts['households']:,} families, {code}")
    say("throughput", f"{total:,} requests in {wall:.0f} s ({total / wall:.1f} req/s), "
        f"writes {100 * writes / max(total, 1):.0f} %")
    buckets = Counter(int(s.start // 15) for s in run.samples)
    say("completed per 15 s", " ".join(str(buckets.get(i, 0))
                                        for i in range(int(wall // 15) + 1)))
    if "start" in imp:
        end = imp.get("end")
        last = imp.get("last", {})
        say("import", f"{args.import_rows:,} rows, status {imp['state']}, time to done "
            + (f"{end - imp['start']:.1f} s" if end else "-")
            + f" (upload {imp.get('upload_s', 0):.1f} s; started at {imp['start']:.0f} s"
            f"{f', ended at {end:.0f} s' if end else ''}); accepted {last.get('accepted', '-')}"
            f", rejected {last.get('rejected', '-')}, persons added "
            f"{last.get('persons_added', '-')}, families added "
            f"{last.get('households_added', '-')}, changes proposed "
            f"{last.get('changes_proposed', '-')}"
            + (f"; message: {last.get('message')}" if last.get("message") else "")
            + (f"; {imp['detail']}" if imp.get("detail") else ""))
    else:
        say("import", "not started (the run ended first)")
    say("background jobs (sinergi worker)", "; ".join(jobs))
    print()
    print_table(rows)
    print()
    print(f"{'lost writes':<20} {'answered OK':>12} {'rows found':>11} {'lost':>5}   "
          f"{'not OK':>6} {'(of which written)':>19}")
    for group, r in lost.items():
        print(f"{group:<20} {r['ok']:>12} {r['found']:>11} {r['lost']:>5}   "
              f"{r['not_ok']:>6} {r['not_ok_but_found']:>19}")
        if r["lost_examples"]:
            print(f"  lost, e.g. {', '.join(r['lost_examples'])}")
    exhausted = sorted({k for c in clients for k in c.exhausted})
    if exhausted:
        say("pools used up by some clients (kind then skipped)", ", ".join(exhausted))
    if run.errors:
        print()
        say("errors (first bodies, 200 characters)")
        for kind, bodies in run.errors.items():
            say(f"  {kind}", f"{run.error_count[kind]} errors")
            for body in bodies:
                print(f"    {body}")
    log = server_log_summary(err_log)
    if log:
        print()
        say("served process stderr", ("kept in " + str(err_log)) if args.keep else "")
        for line in log:
            print(f"  {line}")
    print()
    outside = {k: rows[k]["outside"].get("p95") for k in ("all reads", "all writes")}
    n_errors = sum(r["errors"] for k, r in rows.items() if k in READS or k in WRITES
                   or k in IMPORT_KINDS)
    n_lost = sum(r["lost"] for r in lost.values())
    verdict = [f"errors {n_errors} ({'met' if not n_errors else 'NOT met'})",
               f"lost writes {n_lost} ({'met' if not n_lost else 'NOT met'})"]
    for k, target in (("all reads", READ_TARGET_MS), ("all writes", WRITE_TARGET_MS)):
        p = outside[k]
        verdict.append(f"{k.split()[1]} p95 outside the import {fmt(p)} ms "
                       f"({'met' if p is not None and p <= target else 'NOT met'}, "
                       f"target {target} ms)")
    say("targets", "; ".join(verdict))
    if args.keep:
        say("kept", str(scratch))
    if args.json:
        Path(args.json).write_text(json.dumps({
            "environment": {"database": args.db, "clients": len(clients),
                            "seconds": args.seconds, "workers": workers, "threads": threads,
                            "job_workers": job_runners, "cores": os.cpu_count(),
                            "load_average": [load_before, load_after], "code": code,
                            "persons": facts["persons"], "households": facts["households"]},
            "wall_seconds": wall, "requests": total, "write_share": writes / max(total, 1),
            "import": {k: v for k, v in imp.items()}, "kinds": rows, "lost_writes": lost,
            "errors": {k: {"count": run.error_count[k], "first": v}
                       for k, v in run.errors.items()},
            "server_stderr": log, "exhausted": exhausted, "jobs": jobs,
        }, indent=2, default=str))
        say("saved", args.json)


if __name__ == "__main__":
    main()
