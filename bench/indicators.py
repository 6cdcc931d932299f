"""Benchmark: computed indicators, rankings and the indicator pages at full-province scale.

Scale (``--scale 1``): about 1.5 M persons in 450 k families over the 393
villages of Bangka Belitung (19), made by the project's synthetic generator
(sinergi/registry/synthetic/) and imported through the import pipeline one
kabupaten/kota per file, as the full demo does (sinergi.registry.demo); the
demo's agencies, programs with their enrollments and groups
(sinergi.programs.demo), topped up to 2,000 groups with 15 members each;
the whole Kepmendagri 2025 region tree (514 kab/kota); values of the BPS
indicator P0 for every kab/kota in 2024 and 2025.

    .venv/bin/python bench/indicators.py                       # temporary SQLite file
    .venv/bin/python bench/indicators.py --scale 0.1
    .venv/bin/python bench/indicators.py --keep /tmp/indbench   # keep the database for reruns
    .venv/bin/python bench/indicators.py --postgres postgres://postgres@127.0.0.1:5432/sinergi_bench

Prints, each with its target (none is asserted: compare figures within one run):

1. full recomputation of every computed indicator for all persons
   (compute.recompute): seconds and cells written; target at most 15 s on SQLite;
2. incremental recomputation after 10,000 living persons of one kecamatan
   (1,250 in each of 8 villages) lose their NIK (one UPDATE and
   core.changes.changed in one transaction, as imports and services do):
   services.recompute_pending, target at most 1 s;
   cells rewritten against all cells, and whether the NIK share of an
   affected village (and of its kecamatan, kabupaten and province) equals a
   brute-force count; the NIKs are then put back the same way;
3. ranking of the 514 kab/kota on P0 (national peers): selectors.ranked,
   median of 50 runs, target at most 20 ms; ranking.rank alone;
4. the indicator page and the region panels over HTTP (``sinergi serve`` on
   the bench database, a signed-in coordinator of province 19, 10 client
   threads, after a warm-up): p50/p95, target p95 at most 300 ms
   (``--no-http`` skips it; it waits up to 40 minutes for the pages to exist).
"""

import argparse
import gc
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from common import environment_text, use_database
from convergence import percentile, run_clients, say

PROVINCE = "19"
KAB = "19.04"
PERSONS = 1_500_000
GROUPS, MEMBERS = 2_000, 15
CHANGED, SPREAD = 10_000, 8  # persons changed, over this many villages
RANK_PERIODS = ("2024", "2025")
URL_CHECK = ("import django, os; os.environ.setdefault('DJANGO_SETTINGS_MODULE', "
             "'sinergi.settings'); django.setup(); from django.urls import reverse; "
             "print(reverse('indicators:region', args=['19']))")


def timed_median(fn, repeat: int) -> tuple[float, float, object]:
    """(median ms, p95 ms, last result) of ``repeat`` calls."""
    times, result = [], None
    for _ in range(repeat):
        t = time.perf_counter()
        result = fn()
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times), percentile(times, 95), result


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", help="PostgreSQL URL of a scratch database")
    parser.add_argument("--scale", type=float, default=1.0,
                        help="1.0 = 1.5 M persons and 2,000 groups")
    parser.add_argument("--clients", type=int, default=10)
    parser.add_argument("--requests", type=int, default=50, help="per client")
    parser.add_argument("--workers", type=int, help="gunicorn workers for the pages "
                        "(default: what sinergi serve uses)")
    parser.add_argument("--no-http", action="store_true", help="skip the pages over HTTP")
    parser.add_argument("--wait-minutes", type=float, default=40,
                        help="how long to wait for the indicator pages to exist")
    parser.add_argument("--keep", metavar="DIR",
                        help="SQLite only: keep the generated database in DIR and, when DIR "
                             "already holds one, measure it without generating again")
    args = parser.parse_args()

    tmp = tempfile.TemporaryDirectory(prefix="sinergi-ind-")
    var = args.keep or tmp.name
    reuse = bool(args.keep) and not args.postgres and (Path(var) / "bench.sqlite3").exists()
    Path(var).mkdir(parents=True, exist_ok=True)
    os.environ["SINERGI_VAR_DIR"] = var
    use_database(args.postgres, f"{var}/bench.sqlite3")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    if reuse:
        say("generated", f"reusing {var}/bench.sqlite3")
    else:
        generate(args.scale)
    environment()
    measure(args)
    tmp.cleanup()


def environment() -> None:
    from sinergi.registry.models import Household, Person

    say("environment", environment_text())
    say("data", f"{Person.objects.count():,} persons in {Household.objects.count():,} "
        f"families")


# --- data ----------------------------------------------------------------------------


def generate(scale: float) -> None:
    """The demo's own builders at the bench's scale (regions, agencies, the
    synthetic registry imported per kabupaten/kota, programs, enrollments and
    groups), then groups topped up to GROUPS x scale."""
    from django.db import transaction

    from sinergi.agencies import demo as agencies_demo
    from sinergi.core.bulk import analyze
    from sinergi.demo import DemoContext
    from sinergi.programs import demo as programs_demo
    from sinergi.regions import demo as regions_demo
    from sinergi.registry import demo as registry_demo

    # The demo's full scale imports one file per kabupaten/kota; its size is ours.
    registry_demo.PERSONS["full"] = round(PERSONS * scale)
    ctx = DemoContext(province=PROVINCE, scale="full")
    started = time.perf_counter()
    for label, module in (("regions", regions_demo), ("agencies", agencies_demo),
                          ("registry", registry_demo), ("programs and groups", programs_demo)):
        t = time.perf_counter()
        with transaction.atomic():
            module.build(ctx)
        say(f"  generated {label}", f"{time.perf_counter() - t:.0f} s")
    t = time.perf_counter()
    added = more_groups(round(GROUPS * scale))
    say("  generated groups", f"{added:,} more with {MEMBERS} members each in "
        f"{time.perf_counter() - t:.0f} s")
    analyze()
    say("generated", f"in {time.perf_counter() - started:.0f} s")


def more_groups(total: int) -> int:
    """Groups up to ``total``, each with MEMBERS living women of its village:
    polars frames written set-at-a-time, as bench/convergence.py does."""
    import polars as pl
    from django.db import transaction
    from django.db.models import Max

    from sinergi.core.bulk import analyze, bulk_insert_frame
    from sinergi.groups.models import Group, GroupKind, GroupMember
    from sinergi.regions.models import Region
    from sinergi.registry.codes import ALIVE
    from sinergi.registry.models import Person

    n = total - Group.objects.count()
    if n <= 0:
        return 0
    r = random.Random(3)
    villages = list(Region.objects.filter(code__startswith=PROVINCE + ".", level=4,
                                          retired_in="").order_by("code")
                    .values_list("code", flat=True))
    kinds = list(GroupKind.objects.values_list("code", flat=True))
    first = (Group.objects.aggregate(m=Max("id"))["m"] or 0) + 1
    now = "2026-01-01 00:00:00"
    groups = pl.DataFrame({"id": pl.int_range(first, first + n, eager=True),
                           "kind_id": [r.choice(kinds) for _ in range(n)],
                           "village_code": [r.choice(villages) for _ in range(n)]})
    groups = groups.with_columns(
        code=pl.lit("BENCH-") + pl.col("id").cast(pl.String),
        name=pl.lit("Kelompok ") + pl.col("id").cast(pl.String), sector=pl.lit(""),
        products=pl.lit(""), nib=pl.lit(""), pirt=pl.lit(""), halal=pl.lit(""),
        level=pl.lit(""), is_active=pl.lit(True), created_at=pl.lit(now),
        updated_at=pl.lit(now))
    women = pl.DataFrame(list(Person.objects.filter(sex="P", life_status=ALIVE)
                              .values_list("id", "village_code")),
                         schema=["id", "village_code"], orient="row")
    women = (women.with_columns(u=pl.int_range(pl.len()).shuffle(7)).sort("village_code", "u")
             .with_columns(k=pl.int_range(pl.len()).over("village_code")))
    slots = (groups.select(group_id="id", village_code="village_code")
             .with_columns(g=pl.int_range(pl.len()).over("village_code")))
    members = (women.with_columns(g=pl.col("k") // MEMBERS)
               .join(slots, on=["village_code", "g"])
               .select("group_id", person_id="id", role=pl.lit("anggota"),
                       joined_on=pl.lit("2025-01-01")))
    with transaction.atomic():
        bulk_insert_frame(Group._meta.db_table, groups)
        bulk_insert_frame(GroupMember._meta.db_table, members)
    for model in (Group, GroupMember):
        analyze(model._meta.db_table)
    return n


# --- measurements --------------------------------------------------------------------


def measure(args) -> None:
    from django.utils import timezone

    from sinergi.indicators import compute
    from sinergi.indicators.models import Stale, Value

    today = timezone.localdate()
    period = str(today.year)

    # 1. Full recomputation, on the empty (or kept) cells, then again replacing them.
    for run in (1, 2):
        label = f"run {run}, " + ("into an empty table" if not Value.objects.exists()
                                  else "replacing every cell")
        t = time.perf_counter()
        result = compute.recompute(today=today)
        seconds = time.perf_counter() - t
        levels = result.get("levels", {})
        say(f"full recomputation ({label}), target <= 15 s on SQLite",
            f"{seconds:.1f} s, {result['cells']:,} cells written (level 4 "
            f"{levels.get(4, 0):,}, 3 {levels.get(3, 0):,}, 2 {levels.get(2, 0):,}, 1 "
            f"{levels.get(1, 0):,}) for {result.get('villages', 0):,} villages, "
            f"{len(compute.computed_indicators())} indicators")
    # The marks left by the generation are counted by now.
    marks = Stale.objects.all().delete()[0]
    say("  change marks cleared (the generation's, counted by the full run)", f"{marks:,}")
    say("  cells in the table", f"{Value.objects.count():,}")

    incremental(today, period)
    ranking_figures()
    if args.no_http:
        say("pages over HTTP", "skipped (--no-http)")
    else:
        pages(args)


def incremental(today, period: str) -> None:
    """10,000 living persons (1,250 in each of 8 villages of one kecamatan)
    lose their NIK in one UPDATE, in the transaction that also marks their
    villages; then recompute_pending."""
    from django.db import connection, transaction
    from django.db.models import Count, F, Window
    from django.db.models.functions import RowNumber
    from django.utils import timezone

    from sinergi.core import changes
    from sinergi.indicators import compute, services
    from sinergi.indicators.models import Indicator, Stale, Value
    from sinergi.regions.codes import village_in_q
    from sinergi.registry.codes import ALIVE
    from sinergi.registry.models import Person

    nik = Indicator.objects.get(code="NIK_PCT")
    living = Person.objects.filter(life_status=ALIVE, nik__isnull=False)
    # 1,250 persons (the first by id) in each of the first 8 villages of the first
    # kecamatan of KAB that has 8 villages with so many (at a small scale: fewer).
    per = CHANGED // SPREAD
    sizes = dict(living.filter(village_in_q("village_code", KAB)).values_list("village_code")
                 .annotate(n=Count("id")).order_by())
    kecs = sorted({code[:8] for code in sizes})
    full = [k for k in kecs if sum(1 for v, n in sizes.items() if v[:8] == k and n >= per)
            >= SPREAD]
    kec = full[0] if full else max(kecs, key=lambda k: sum(v[:8] == k for v in sizes))
    villages = sorted(v for v, n in sizes.items() if v[:8] == kec and (n >= per or not full))
    villages = villages[:SPREAD]
    first_ids = (living.filter(village_code__in=villages)
                 .annotate(k=Window(RowNumber(), partition_by=F("village_code"),
                                    order_by=F("id").asc()))
                 .filter(k__lte=per))
    chosen = list(first_ids.values_list("id", "nik", "village_code"))
    village = villages[0]
    regions = [village, village[:8], village[:5], village[:2]]

    def stored(code):
        return Value.objects.filter(indicator=nik, region_code=code, period=period,
                                    disaggregation="").values_list("value", flat=True).first()

    def brute(code):
        persons = Person.objects.filter(village_in_q("village_code", code), life_status=ALIVE)
        return compute.value_of(persons.filter(nik__isnull=False).count(), persons.count(),
                                nik.factor)

    before = {code: stored(code) for code in regions}

    def change(set_nik, codes) -> float:
        t = time.perf_counter()
        with transaction.atomic():
            set_nik()
            changes.changed(changes.REGISTRY, codes)
        return time.perf_counter() - t

    update_s = change(lambda: Person.objects.filter(id__in=first_ids.values("id"))
                      .update(nik=None), villages)
    say(f"incremental: {len(chosen):,} living persons of kecamatan {kec}, the first {per:,} "
        f"of each of {len(villages)} villages, lose their NIK",
        f"UPDATE + change marks in one transaction {update_s:.2f} s, "
        f"{Stale.objects.count()} marks")
    t0 = timezone.now()
    t = time.perf_counter()
    handled = services.recompute_pending(today=today)
    seconds = time.perf_counter() - t
    rewritten = Value.objects.filter(origin="computed", computed_at__gte=t0).count()
    total = Value.objects.count()
    say("incremental recomputation (recompute_pending), target <= 1 s",
        f"{seconds:.2f} s for {handled} marks; {rewritten:,} of {total:,} cells rewritten "
        f"({100 * rewritten / total:.2f} %)")
    for code in regions:
        after, expected = stored(code), brute(code)
        say(f"  NIK_PCT {code}", f"before {before[code]}, after {after}, brute force "
            f"{expected}: changed {'yes' if after != before[code] else 'no'}, equals brute "
            f"force {'yes' if after == expected else 'no'}")

    # Put the NIKs back (the kept database stays as generated), the same way.
    def restore():
        with connection.cursor() as cur:
            cur.executemany(f"UPDATE {Person._meta.db_table} SET nik = %s WHERE id = %s",  # noqa: S608
                            [(row[1], row[0]) for row in chosen])
    restore_s = change(restore, villages)
    t = time.perf_counter()
    services.recompute_pending(today=today)
    seconds = time.perf_counter() - t
    say("  NIKs put back, recompute_pending again",
        f"{seconds:.2f} s (writes {restore_s:.2f} s); NIK_PCT {village} back to "
        f"{'yes' if stored(village) == before[village] else 'no'}")


def coordinator():
    from sinergi.accounts.models import User
    from sinergi.accounts.services import user_create

    return User.objects.filter(username="benchkoord").first() or user_create(
        actor=None, username="benchkoord", password="bench-" + os.urandom(8).hex(),
        role="coordinator", region_code=PROVINCE)


def ranking_figures() -> None:
    """P0 for every current kab/kota in two years, then the national ranking."""
    from django.db.models import Q
    from django.utils import timezone

    from sinergi.indicators import compute, ranking, selectors
    from sinergi.indicators.models import EXCEL, VERIFIED, Indicator, Value
    from sinergi.regions.models import Region

    gc.collect()  # the earlier steps' garbage is not this step's
    p0 = Indicator.objects.get(code="P0")
    kabs = list(Region.objects.filter(level=2, retired_in="").order_by("code")
                .values_list("code", flat=True))
    r = random.Random(5)
    now = timezone.now()
    rows = []
    for period in RANK_PERIODS:
        for code in kabs:
            population = r.randrange(20_000, 3_000_000)
            poor = round(population * r.uniform(0.02, 0.25))
            rows.append(Value(indicator=p0, region_code=code, level=2, period=period,
                              numerator=poor, denominator=population,
                              value=compute.value_of(poor, population, p0.factor),
                              origin=EXCEL,
                              source_note="bench", status=VERIFIED, computed_at=now))
    Value.objects.filter(indicator=p0, level=2).delete()
    Value.objects.bulk_create(rows, batch_size=1000)
    user = coordinator()
    period = RANK_PERIODS[-1]
    med, p95, ranked = timed_median(lambda: selectors.ranked(user, p0, where=Q(), level=2,
                                                             period=period), 50)
    mine = next(row for row in ranked if row.code == KAB)
    say(f"ranking of {len(kabs)} kab/kota on P0 {period}, national peers "
        "(selectors.ranked, with the 2024 ranks), target <= 20 ms",
        f"median {med:.1f} ms, p95 {p95:.1f} ms over 50 runs; {len(ranked)} rows, "
        f"{KAB} ranked {mine.rank} (was {mine.previous_rank})")
    values = {row.code: row.value for row in ranked}
    med, p95, _r = timed_median(lambda: ranking.rank(values, p0.direction), 50)
    say("  ranking.rank alone", f"median {med:.2f} ms, p95 {p95:.2f} ms over 50 runs")
    med, p95, _r = timed_median(lambda: selectors.place(user, p0, KAB, period, "siblings"), 20)
    say(f"  place of {KAB} among its siblings", f"median {med:.1f} ms over 20 runs")
    for code in (PROVINCE, KAB):
        med, p95, panel = timed_median(lambda code=code: selectors.panel(user, code), 20)
        say(f"  region panel {code} in process (selectors.panel)",
            f"median {med:.1f} ms, p95 {p95:.1f} ms over 20 runs; {len(panel)} indicators")


# --- pages over HTTP -----------------------------------------------------------------


def wait_for_pages(minutes: float) -> bool:
    """Whether the indicator pages exist, asking a fresh interpreter every
    2 minutes (this process loaded its URLs once)."""
    deadline = time.monotonic() + minutes * 60
    while True:
        found = subprocess.run([sys.executable, "-c", URL_CHECK],  # noqa: S603
                               capture_output=True, check=False)
        if found.returncode == 0:
            return True
        if time.monotonic() >= deadline:
            return False
        say("pages over HTTP", "the indicator URLs do not exist yet; asking again in 2 minutes")
        time.sleep(120)


def settle() -> None:
    """Work off here what the served process's worker would start on (the
    daily recount requests, the jobs queued by the generation and the steps
    above), so that it sits idle while the clock runs."""
    from collections import Counter

    from sinergi.convergence.services import request_daily_refresh
    from sinergi.core import jobs
    from sinergi.core.models import Job
    from sinergi.indicators.services import request_daily_recompute

    t = time.perf_counter()
    request_daily_refresh()
    request_daily_recompute()
    ran = Counter()
    for pk in Job.objects.filter(status=Job.PENDING).order_by("id").values_list("pk", flat=True):
        job = jobs.run_one(pk)
        if job is not None:
            ran[f"{job.kind} {job.status}"] += 1
    say("pending jobs run here before serving", f"{sum(ran.values())} "
        f"({', '.join(f'{n} {k}' for k, n in ran.items()) or 'none'}) in "
        f"{time.perf_counter() - t:.1f} s")


def pages(args) -> None:
    """The indicator page and the region panels over HTTP, as a browser gets
    them: ``sinergi serve`` on the bench database, a coordinator of the
    province signed in, ``args.clients`` client threads, after a warm-up."""
    import signal
    import socket
    import urllib.error
    import urllib.request

    from django.conf import settings
    from django.db import connection
    from django.test import Client

    if not wait_for_pages(args.wait_minutes):
        say("pages over HTTP", f"skipped: no indicator URLs after {args.wait_minutes:.0f} "
            "minutes")
        return
    settle()
    browser = Client()
    browser.force_login(coordinator())
    cookie = f"{settings.SESSION_COOKIE_NAME}={browser.cookies[settings.SESSION_COOKIE_NAME].value}"
    connection.close()
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
            if response.status != 200 or response.geturl() != base + path:
                raise RuntimeError(f"{path}: {response.status} {response.geturl()}")
            return body

    mix = {
        f"indicator page NIK_PCT, region {PROVINCE}":
            lambda r: get(f"/indicators/NIK_PCT/?region={PROVINCE}"),
        f"region panel {PROVINCE}": lambda r: get(f"/indicators/region/{PROVINCE}/"),
        f"region panel {KAB}": lambda r: get(f"/indicators/region/{KAB}/"),
    }
    try:
        for _ in range(300):
            try:
                get(f"/indicators/region/{PROVINCE}/")
                break
            except urllib.error.HTTPError:
                raise
            except OSError:
                time.sleep(0.1)
        # Steady state: every worker has compiled its templates before the clock runs.
        warm = random.Random(0)
        for fetch in list(mix.values()) * 10:
            fetch(warm)
        run_clients(f"pages over HTTP (sinergi serve): {args.clients} clients x "
                    f"{args.requests} requests, target p95 <= 300 ms", args, mix)
    except (urllib.error.URLError, RuntimeError) as exc:
        say("pages over HTTP", f"failed: {exc}")
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)


if __name__ == "__main__":
    main()
