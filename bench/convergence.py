"""Benchmark: convergence queries at full-province scale.

Scale (``--scale 1``): about 1.5 M persons in 450 k families over the 393
villages of Bangka Belitung (19), 20 programs of the three units with
realistic rules, about 2 M enrollments of one year with targeting errors
(some eligible left out, some ineligible served, statuses of the whole
lifecycle), 2,000 groups with members, targets per kabupaten and kecamatan.
Rows are made with polars and written set-at-a-time (bulk_insert_frame).

    .venv/bin/python bench/convergence.py                 # temporary SQLite file
    .venv/bin/python bench/convergence.py --scale 0.1
    .venv/bin/python bench/convergence.py --postgres postgres://postgres@127.0.0.1:5432/sinergi_bench

With --postgres the named database is dropped and created again. Prints the
time of: eligibility preview of a rule, coverage of the province computed
live and read from the rollup (and the rollup refresh), the unserved list's
first page for one kabupaten, the overlap matrix, target vs actual (the last
three from the rollup, and once live for comparison), the village profile;
then p50/p95 latency of a mix of convergence queries under 10 concurrent
clients (threads, each its own connection), and of the convergence pages
over HTTP: ``sinergi serve`` (gunicorn) on the bench database, a signed-in
coordinator of the province, 10 client threads, after a warm-up of 50
requests so that every worker has compiled its templates. No assertion on
timings: compare figures within one run.

    .venv/bin/python bench/convergence.py --keep /tmp/convbench   # keep the database
    .venv/bin/python bench/convergence.py --keep /tmp/convbench --pages-only
"""

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from common import use_database

PROVINCE = "19"
KAB = "19.04"
YEAR = 2026
# The served pages evaluate eligibility on the real date: so does the bench, or
# every page would fall back to live queries (and the worker would refresh).
TODAY = date.today()

# code, unit, rule, polars predicate (for who is likely enrolled), coverage, error rate
PROGRAMS = [
    ("PKH", "household", "desil <= 3", 0.75, 0.03),
    ("BPNT", "household", "desil <= 4", 0.7, 0.05),
    ("PBI-JK", "person", "desil <= 4", 0.8, 0.04),
    ("PIP", "person", "age >= 6 and age <= 21 and desil <= 4", 0.6, 0.03),
    ("KIP-K", "person", "age >= 18 and age <= 24 and desil <= 3", 0.3, 0.01),
    ("RTLH", "household", "desil <= 2", 0.2, 0.005),
    ("PMT-BALITA", "person", "age <= 5 and desil <= 5", 0.5, 0.02),
    ("LANSIA", "person", "age >= 60 and desil <= 4", 0.5, 0.02),
    ("IR", "person", 'sex == "P" and age >= 18 and desil <= 5', 0.1, 0.005),
    ("PEKKA", "person", 'sex == "P" and shdk == 1 and desil <= 4', 0.4, 0.005),
    ("KUR", "person", "age >= 21 and desil >= 3 and desil <= 7", 0.08, 0.01),
    ("JAMBAN", "household", "desil <= 5", 0.15, 0.01),
    ("AIR-BERSIH", "household", "desil <= 4", 0.2, 0.01),
    ("BEASISWA", "person", "age >= 13 and age <= 18 and desil <= 3", 0.35, 0.01),
    ("KB-GRATIS", "person", 'sex == "P" and age >= 15 and age <= 49 and desil <= 5', 0.3, 0.02),
    ("STUNTING", "person", "age <= 2 and desil <= 6", 0.6, 0.02),
    ("UPPKA", "group", "", 0.5, 0.0),
    ("BUMDES", "group", "", 0.6, 0.0),
    ("KWT", "group", "", 0.4, 0.0),
    ("PATBM", "group", "", 0.3, 0.0),
]


def say(label, value):
    print(f"{label}: {value}", flush=True)


def percentile(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def timed(label, fn, repeat=1):
    times, result = [], None
    for _ in range(repeat):
        t = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t)
    say(label, f"{min(times):.3f} s" + (f" (best of {repeat}; first {times[0]:.3f} s)"
                                          if repeat > 1 else ""))
    return result, min(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", help="PostgreSQL URL of a scratch database")
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--clients", type=int, default=10)
    parser.add_argument("--requests", type=int, default=50, help="per client")
    parser.add_argument("--workers", type=int, help="gunicorn workers for the pages "
                        "(default: what sinergi serve uses)")
    parser.add_argument("--pages-only", action="store_true",
                        help="only the pages over HTTP (refreshing the rollup first if needed)")
    parser.add_argument("--keep", metavar="DIR",
                        help="SQLite only: keep the generated database in DIR and, when DIR "
                             "already holds one, measure it without generating again")
    args = parser.parse_args()

    tmp = tempfile.TemporaryDirectory(prefix="sinergi-conv-")
    var = args.keep or tmp.name
    reuse = bool(args.keep) and not args.postgres and (Path(var) / "bench.sqlite3").exists()
    Path(var).mkdir(parents=True, exist_ok=True)
    os.environ["SINERGI_VAR_DIR"] = var
    use_database(args.postgres, f"{var}/bench.sqlite3")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from sinergi.regions.services import regions_load

    call_command("migrate", verbosity=0)
    say("database", connection.vendor)
    if reuse:
        say("generated", f"reusing {var}/bench.sqlite3")
    else:
        regions_load(actor=None)
        t = time.perf_counter()
        counts = generate(args.scale)
        say("generated", ", ".join(f"{v:,} {k}" for k, v in counts.items())
            + f" in {time.perf_counter() - t:.0f} s")
    measure(args)
    tmp.cleanup()


# --- data ----------------------------------------------------------------------------


def generate(scale: float) -> dict:
    """Write the registry, groups, programs, enrollments and targets; no numpy:
    random columns come from Python's random, the rest is polars arithmetic."""
    import random

    import polars as pl
    from django.db import transaction

    from sinergi.agencies.models import Agency
    from sinergi.agencies.services import agency_seed_defaults
    from sinergi.core.bulk import analyze, bulk_insert_frame
    from sinergi.groups.models import Group, GroupKind, GroupMember
    from sinergi.programs.models import Enrollment, Program, Target
    from sinergi.regions.models import Region
    from sinergi.registry.models import Household, Person

    r = random.Random(1)

    def uniform(n):
        return pl.Series([r.random() for _ in range(n)])

    def ints(a, b, n):
        return pl.Series([r.randrange(a, b) for _ in range(n)], dtype=pl.Int64)

    villages = list(Region.objects.filter(code__startswith=PROVINCE + ".", level=4,
                                          retired_in="").order_by("code")
                    .values_list("code", flat=True))
    n_h = int(450_000 * scale)
    now = "2026-06-01 00:00:00"
    # Poorer and richer villages: a desil shift per village.
    shift = pl.DataFrame({"v": range(len(villages)), "village_code": villages,
                          "shift": ints(-2, 3, len(villages))})
    hh = (pl.DataFrame({"v": ints(0, len(villages), n_h).sort(), "raw": ints(1, 11, n_h),
                        "u": uniform(n_h), "a": uniform(n_h), "t": uniform(n_h)})
          .join(shift, on="v", how="left", maintain_order="left")
          .with_row_index("id", offset=1))
    hh = hh.select(
        pl.col("id").cast(pl.Int64), kk_number=pl.col("id").cast(pl.String).str.zfill(16),
        village_code="village_code", dusun=pl.lit(""), rw=pl.lit(""), rt=pl.lit(""),
        address=pl.lit(""),
        desil=pl.when(pl.col("u") < 0.05).then(None)
        .otherwise((pl.col("raw") + pl.col("shift")).clip(1, 10)),
        desil_source=pl.lit(""), in_dtsen=pl.col("t") < 0.6, is_active=pl.col("a") > 0.01,
        created_at=pl.lit(now), updated_at=pl.lit(now))
    # Family sizes 1-7 (mean about 3.3); the head (SHDK 1) first, 15 % women.
    sizes = pl.Series([min(7, 1 + sum(r.random() < 0.38 for _ in range(6)))
                       for _ in range(n_h)], dtype=pl.Int64)
    people = (hh.select(household_id="id", village_code="village_code", n=sizes)
              .with_columns(pos=pl.int_ranges(0, "n")).explode("pos").drop("n")
              .with_row_index("id", offset=1))
    n_p = people.height
    people = people.with_columns(u=uniform(n_p), w=uniform(n_p), age0=ints(0, 30, n_p),
                                 age1=ints(20, 80, n_p), dead=uniform(n_p))
    people = people.select(
        pl.col("id").cast(pl.Int64), name=pl.lit("P") + pl.col("id").cast(pl.String),
        sex=pl.when(pl.col("pos") == 0).then(pl.when(pl.col("u") < 0.15).then(pl.lit("P"))
                                             .otherwise(pl.lit("L")))
        .when(pl.col("pos") == 1).then(pl.lit("P"))
        .otherwise(pl.when(pl.col("u") < 0.5).then(pl.lit("L")).otherwise(pl.lit("P"))),
        birth_place=pl.lit(""),
        birth_date=(pl.lit(TODAY.year) - pl.when(pl.col("pos") <= 1).then("age1")
                    .otherwise("age0")).cast(pl.String) + "-03-15",
        household_id="household_id",
        shdk=pl.when(pl.col("pos") == 0).then(1).when(pl.col("pos") == 1).then(3).otherwise(4),
        village_code="village_code",
        life_status=pl.when(pl.col("dead") < 0.02).then(2).otherwise(1),
        warning_codes=pl.lit(""), created_at=pl.lit(now), updated_at=pl.lit(now))

    with transaction.atomic():
        agency_seed_defaults(actor=None, region_code=PROVINCE)
        bulk_insert_frame(Household._meta.db_table, hh)
        bulk_insert_frame(Person._meta.db_table, people)
    agencies = list(Agency.objects.filter(region_id=PROVINCE).order_by("id"))

    # Groups: 2,000 at scale 1, 15 current members each (women of the village).
    kinds = list(GroupKind.objects.values_list("code", flat=True)) or ["OTHER"]
    n_g = max(20, int(2000 * scale))
    groups = pl.DataFrame({
        "id": pl.int_range(1, n_g + 1, eager=True),
        "kind_id": [r.choice(kinds) for _ in range(n_g)],
        "village_code": [r.choice(villages) for _ in range(n_g)]})
    groups = groups.with_columns(
        code=pl.lit("G") + pl.col("id").cast(pl.String),
        name=pl.lit("Kelompok ") + pl.col("id").cast(pl.String), sector=pl.lit(""),
        products=pl.lit(""), nib=pl.lit(""), pirt=pl.lit(""), halal=pl.lit(""),
        level=pl.lit(""), is_active=pl.lit(True), created_at=pl.lit(now),
        updated_at=pl.lit(now))
    women = (people.filter(pl.col("sex") == "P", pl.col("life_status") == 1)
             .select("id", "village_code").with_columns(u=pl.int_range(pl.len()).shuffle(7))
             .sort("village_code", "u")
             .with_columns(k=pl.int_range(pl.len()).over("village_code")))
    slots = (groups.select(group_id="id", village_code="village_code")
             .with_columns(g=pl.int_range(pl.len()).over("village_code")))
    members = (women.with_columns(g=pl.col("k") // 15).filter(pl.col("k") < 15 * 40)
               .join(slots, on=["village_code", "g"])
               .select("group_id", person_id="id", role=pl.lit("anggota")))

    person_fields = {"desil": pl.col("d"), "age": pl.col("age"), "sex": pl.col("sex"),
                     "shdk": pl.col("shdk")}

    def mask(rule: str, unit: str) -> pl.Expr:
        """The rule, written again in polars, for who the program aims at."""
        expr = pl.col("is_active") & (pl.col("life_status") == 1)
        for part in rule.split(" and "):
            field, op, value = part.split(" ", 2)
            col = person_fields[field]
            value = value.strip('"') if field == "sex" else int(value)
            expr &= {"<=": col <= value, ">=": col >= value, "==": col == value}[op]
        return expr

    pframe = (people.join(hh.select(pl.col("id").alias("household_id"), "desil",
                                    "is_active"), on="household_id")
              .with_columns(age=pl.lit(TODAY.year)
                            - pl.col("birth_date").str.slice(0, 4).cast(pl.Int64),
                            d=pl.col("desil").fill_null(99)))
    heads = pframe.filter(pl.col("shdk") == 1)
    statuses = ["active"] * 60 + ["completed"] * 12 + ["graduated"] * 6 + ["proposed"] * 8 \
        + ["verified"] * 6 + ["rejected"] * 4 + ["exited"] * 4
    prog_rows, enroll, targets = [], [], []
    kabs = sorted({v[:5] for v in villages})
    kecs = sorted({v[:8] for v in villages})
    for n, (code, unit, rule, cov, err) in enumerate(PROGRAMS, 1):
        prog_rows.append({"id": n, "owner_agency_id": agencies[n % len(agencies)].id,
                          "code": code, "name": code, "description": "",
                          "year_start": YEAR - 1, "tags": "[]", "unit": unit,
                          "benefit_type": "cash", "benefit_value": 100_000 * n, "rule": rule,
                          "is_active": True, "created_at": now, "updated_at": now})
        if unit == "group":
            frame = (groups.with_columns(u=uniform(n_g)).filter(pl.col("u") < cov)
                     .select(person_id=pl.lit(None, pl.Int64), household_id=pl.lit(None, pl.Int64),
                             village_code="village_code", group_id="id"))
        else:
            base = heads if unit == "household" else pframe
            base = base.with_columns(u=uniform(base.height), ok=mask(rule, unit))
            frame = base.filter(pl.when(pl.col("ok")).then(pl.col("u") < cov)
                                .otherwise(pl.col("u") < err))
            frame = frame.select(
                person_id=pl.col("id") if unit == "person" else pl.lit(None, pl.Int64),
                household_id="household_id", village_code="village_code",
                group_id=pl.lit(None, pl.Int64))
        k = frame.height
        frame = frame.with_columns(
            program_id=pl.lit(n, pl.Int64), year=pl.lit(YEAR, pl.Int64),
            status=pl.Series([r.choice(statuses) for _ in range(k)], dtype=pl.String),
            status_reason=pl.lit(""),
            benefit_value=pl.when(uniform(k) < 0.5).then(None).otherwise(50_000),
            created_at=pl.lit(now), updated_at=pl.lit(now))
        enroll.append(frame.select("program_id", "year", "person_id", "household_id",
                                   "group_id", "village_code", "status", "status_reason",
                                   "benefit_value", "created_at", "updated_at"))
        for kab in kabs:
            targets.append((n, kab, int(r.randrange(100, 5000) * scale) + 1,
                            r.randrange(1, 50) * 10_000_000))
        for kec in kecs[n % 3::3]:
            targets.append((n, kec, int(r.randrange(10, 800) * scale) + 1, None))
    enrollments = pl.concat(enroll)
    with transaction.atomic():
        bulk_insert_frame(Group._meta.db_table, groups)
        bulk_insert_frame(GroupMember._meta.db_table, members)
        bulk_insert_frame(Program._meta.db_table, pl.DataFrame(prog_rows))
        bulk_insert_frame(Enrollment._meta.db_table, enrollments)
        bulk_insert_frame(Target._meta.db_table, pl.DataFrame(
            targets, schema=["program_id", "region_id", "count", "budget"], orient="row")
            .with_columns(year=pl.lit(YEAR)))
    for model in (Household, Person, Enrollment, Group, GroupMember):
        analyze(model._meta.db_table)
    return {"families": n_h, "persons": n_p, "groups": n_g, "group members": members.height,
            "programs": len(PROGRAMS), "enrollments": enrollments.height}


# --- measurements --------------------------------------------------------------------


def measure(args) -> None:

    from django.db import connection

    from sinergi.convergence import selectors
    from sinergi.regions.models import Region

    if args.pages_only:
        from sinergi.convergence.models import CoverageSummary

        if not CoverageSummary.objects.filter(year=YEAR, region_code=PROVINCE,
                                              as_of=TODAY).exists():
            timed("rollup refresh, whole province",
                  lambda: selectors.refresh(region=PROVINCE, year=YEAR, today=TODAY))
        pages(args, *regions())
        return
    try:
        from sinergi.programs import eligibility
    except ImportError:
        eligibility = None
    if eligibility is not None:
        rule = 'sex == "P" and age >= 18 and desil <= 4'
        prev, _s = timed(f"eligibility preview, province, person rule '{rule}'",
                         lambda: eligibility.eligibility_preview(rule, "person", region=PROVINCE,
                                                                 today=TODAY), repeat=3)
        say("  eligible persons", f"{prev['total']:,}")
        timed("eligibility preview, province, household rule 'desil <= 4'",
              lambda: eligibility.eligibility_preview("desil <= 4", "household",
                                                      region=PROVINCE, today=TODAY), repeat=3)
    else:
        say("eligibility preview", "skipped (sinergi.programs.eligibility missing)")

    live, live_s = timed("coverage, province, computed live (20 programs)",
                         lambda: selectors.coverage(region=PROVINCE, year=YEAR, today=TODAY,
                                                    live=True))
    a = live["all"]["total"]
    say("  all programs", f"{a['total']:,} families, served {a['served']:,}, eligible "
        f"{a['eligible']:,}, exclusion {a['exclusion']:,}, inclusion {a['inclusion']:,}")
    _r, refresh_s = timed("rollup refresh, whole province",
                          lambda: selectors.refresh(region=PROVINCE, year=YEAR, today=TODAY))
    rolled, rolled_s = timed("coverage, province, from the rollup",
                             lambda: selectors.coverage(region=PROVINCE, year=YEAR,
                                                        today=TODAY), repeat=5)
    say("  rollup equals live", rolled["all"] == live["all"]
        and rolled["programs"] == live["programs"])
    say("  live / rollup time ratio", f"{live_s / rolled_s:,.0f}x")
    timed(f"coverage, kabupaten {KAB}, computed live",
          lambda: selectors.coverage(region=KAB, year=YEAR, today=TODAY, live=True))
    page, _s = timed(f"unserved, kabupaten {KAB}, first page (50), 20 programs",
                     lambda: selectors.unserved(region=KAB, year=YEAR, today=TODAY,
                                                programs=selectors.year_programs(YEAR),
                                                limit=50), repeat=3)
    say("  rows on page", len(page.items))
    timed(f"unserved, kabupaten {KAB}, first page (50), 20 programs, live",
          lambda: selectors.unserved(region=KAB, year=YEAR, today=TODAY,
                                     programs=selectors.year_programs(YEAR), limit=50,
                                     live=True))
    timed(f"unserved, kabupaten {KAB}, second page",
          lambda: selectors.unserved(region=KAB, year=YEAR, today=TODAY,
                                     programs=selectors.year_programs(YEAR), limit=50,
                                     cursor=page.next_cursor), repeat=3)
    timed(f"unserved, kabupaten {KAB}, first page, desil <= 4 served by none",
          lambda: selectors.unserved(region=KAB, year=YEAR, today=TODAY, programs=None,
                                     limit=50), repeat=3)
    ov, _s = timed("overlap matrix, province", lambda: selectors.overlap(region=PROVINCE,
                                                                         year=YEAR))
    say("  families by number of programs", ", ".join(f"{k}: {v:,}" for k, v in
                                                       ov["distribution"].items()))
    say("  source", ov.get("source", "live"))
    timed("overlap matrix, province, live", lambda: selectors.overlap(
        region=PROVINCE, year=YEAR, live=True))
    timed(f"overlap matrix, kabupaten {KAB}",
          lambda: selectors.overlap(region=KAB, year=YEAR), repeat=3)
    timed("target vs actual, province", lambda: selectors.target_vs_actual(
        region=PROVINCE, year=YEAR), repeat=3)
    timed("target vs actual, province, live", lambda: selectors.target_vs_actual(
        region=PROVINCE, year=YEAR, live=True))
    village = Region.objects.filter(code__startswith=KAB + ".", level=4).order_by("code") \
        .first().code
    timed(f"village profile, {village}", lambda: selectors.village_profile(
        village=village, year=YEAR, today=TODAY), repeat=3)

    # Concurrency: a page mix, 10 clients, each thread its own connection.
    kabs, kecs, villages = regions()
    programs = selectors.year_programs(YEAR)
    mix = {
        "coverage (rollup)": lambda r: selectors.coverage(
            region=r.choice([PROVINCE, *kabs, *kecs]), year=YEAR, today=TODAY),
        "unserved page": lambda r: selectors.unserved(
            region=r.choice(kecs), year=YEAR, today=TODAY, programs=programs, limit=50),
        "overlap (kecamatan)": lambda r: selectors.overlap(region=r.choice(kecs), year=YEAR),
        "target vs actual": lambda r: selectors.target_vs_actual(
            region=r.choice([PROVINCE, *kabs]), year=YEAR),
        "village profile": lambda r: selectors.village_profile(
            village=r.choice(villages), year=YEAR, today=TODAY),
    }
    run_clients(f"queries in one process: {args.clients} clients x {args.requests} requests",
                args, mix, done=lambda: connection.close())
    pages(args, kabs, kecs, villages)


def regions():
    from sinergi.regions.models import Region

    def level(n):
        return list(Region.objects.filter(code__startswith=PROVINCE + ".", level=n,
                                          retired_in="").values_list("code", flat=True))
    return level(2), level(3), level(4)


def run_clients(label, args, mix, done=None) -> None:
    """``args.clients`` threads, each making ``args.requests`` calls of the mix
    in turn; prints p50/p95 over all and per kind. ``done`` runs at the end
    of each thread (closing its database connection)."""
    import random

    latencies = {name: [] for name in mix}
    lock = threading.Lock()

    def client(seed):
        r = random.Random(seed)
        names = list(mix)
        try:
            for i in range(args.requests):
                name = names[(seed + i) % len(names)]
                t = time.perf_counter()
                mix[name](r)
                ms = (time.perf_counter() - t) * 1000
                with lock:
                    latencies[name].append(ms)
        finally:
            if done is not None:
                done()

    threads = [threading.Thread(target=client, args=(i,)) for i in range(args.clients)]
    t = time.perf_counter()
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    wall = time.perf_counter() - t
    every = [x for v in latencies.values() for x in v]
    say(label, f"{len(every)} in {wall:.1f} s ({len(every) / wall:.1f} req/s); "
        f"p50 {statistics.median(every):.0f} ms, p95 {percentile(every, 95):.0f} ms")
    for name, values in latencies.items():
        say(f"  {name}", f"p50 {statistics.median(values):.0f} ms, "
            f"p95 {percentile(values, 95):.0f} ms ({len(values)} requests)")


def pages(args, kabs, kecs, villages) -> None:
    """The convergence pages over HTTP, as a browser gets them: ``sinergi
    serve`` (gunicorn, its default workers and threads) on the bench
    database, a coordinator of the province signed in, 10 client threads."""
    import random
    import signal
    import socket
    import subprocess
    import urllib.request

    from django.conf import settings
    from django.test import Client

    from sinergi.accounts.models import User
    from sinergi.accounts.services import user_create

    user = User.objects.filter(username="benchkoord").first() or user_create(
        actor=None, username="benchkoord", password="bench-" + os.urandom(8).hex(),
        role="coordinator", region_code=PROVINCE)
    browser = Client()
    browser.force_login(user)
    cookie = f"{settings.SESSION_COOKIE_NAME}={browser.cookies[settings.SESSION_COOKIE_NAME].value}"
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = subprocess.Popen(  # noqa: S603
        [sys.executable, "-m", "sinergi.cli", "serve", "--no-migrate", "--port", str(port),
         *(["--workers", str(args.workers)] if args.workers else [])],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    base = f"http://127.0.0.1:{port}"

    def get(path):
        request = urllib.request.Request(base + path, headers={"Cookie": cookie})
        with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310
            body = response.read()
            if response.status != 200:
                raise RuntimeError(f"{path}: {response.status}")
            return body

    try:
        for _ in range(300):
            try:
                get(f"/convergence/?region={PROVINCE}&year={YEAR}")
                break
            except OSError:
                time.sleep(0.1)
        q = f"year={YEAR}"
        mix = {
            "coverage page": lambda r: get(
                f"/convergence/?region={r.choice([PROVINCE, *kabs, *kecs])}&{q}"),
            "unserved page": lambda r: get(f"/convergence/unserved/?region={r.choice(kecs)}&{q}"),
            "overlap page (kecamatan)": lambda r: get(
                f"/convergence/overlap/?region={r.choice(kecs)}&{q}"),
            "target vs actual page": lambda r: get(
                f"/convergence/targets/?region={r.choice([PROVINCE, *kabs])}&{q}"),
            "village profile page": lambda r: get(
                f"/convergence/villages/{r.choice(villages)}/?{q}"),
        }
        # Steady state, not start-up: each worker has compiled its templates
        # and loaded its catalogues before the clock runs.
        warm = random.Random(0)
        for fetch in list(mix.values()) * 10:
            fetch(warm)
        run_clients(f"pages over HTTP (sinergi serve): {args.clients} clients x "
                    f"{args.requests} requests", args, mix)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)


if __name__ == "__main__":
    main()
