"""Benchmark: loading the whole region hierarchy, and subtree queries.

Scale: the shipped Kepmendagri 300.2.2-2138/2025 edition (91,599 regions,
83,762 villages), loaded into a fresh database.

    .venv/bin/python bench/regions.py                 # temporary SQLite file
    .venv/bin/python bench/regions.py --postgres postgres://postgres@127.0.0.1:5432/sinergi_bench

With --postgres the named database is dropped and created again. Prints the
load time, a second (idempotent) load, and latency percentiles of subtree
queries for a kabupaten, with the ratio to two naive ways of asking the same.
"""

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from common import use_database


def percentile(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def timed(fn, repeat):
    times = []
    result = None
    for _ in range(repeat):
        t = time.perf_counter()
        result = fn()
        times.append((time.perf_counter() - t) * 1000)
    return result, times


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", help="PostgreSQL URL of a scratch database")
    parser.add_argument("--repeat", type=int, default=200)
    args = parser.parse_args()

    tmp = tempfile.TemporaryDirectory()
    os.environ["SINERGI_VAR_DIR"] = tmp.name
    use_database(args.postgres, f"{tmp.name}/bench.sqlite3")

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from sinergi.regions import codes
    from sinergi.regions.models import Region
    from sinergi.regions.services import regions_load

    call_command("migrate", verbosity=0)
    print(f"database: {connection.vendor}")

    t = time.perf_counter()
    result = regions_load(actor=None)
    load_s = time.perf_counter() - t
    villages = Region.objects.filter(level=4).count()
    print(f"load: {result.total:,} regions ({villages:,} villages) in {load_s:.2f} s "
          f"({result.total / load_s:,.0f} rows/s)")
    t = time.perf_counter()
    again = regions_load(actor=None)
    print(f"second load (no change: {not again.changed}): {time.perf_counter() - t:.2f} s")

    kab = "19.04"

    def subtree_villages():
        return list(Region.objects.filter(codes.subtree_q("code", kab), level=4)
                    .values_list("code", flat=True))

    def subtree_count():
        return Region.objects.filter(codes.subtree_q("code", kab)).count()

    def naive_like():  # case-insensitive LIKE: a full scan on SQLite
        return list(Region.objects.filter(code__istartswith=kab + ".", level=4)
                    .values_list("code", flat=True))

    def recursive_walk():  # parent by parent, as a tree without prefix codes would
        frontier, out = [kab], []
        while frontier:
            children = list(Region.objects.filter(parent_id__in=frontier)
                            .values_list("code", "level"))
            out += [c for c, lvl in children if lvl == 4]
            frontier = [c for c, lvl in children if lvl < 4]
        return out

    rows, fast = timed(subtree_villages, args.repeat)
    _, count_times = timed(subtree_count, args.repeat)
    naive_rows, naive = timed(naive_like, max(20, args.repeat // 10))
    walk_rows, walk = timed(recursive_walk, max(20, args.repeat // 10))
    assert sorted(rows) == sorted(naive_rows) == sorted(walk_rows)
    p50, p95 = percentile(fast, 50), percentile(fast, 95)
    print(f"subtree villages of {kab} ({len(rows)} rows): p50 {p50:.2f} ms, p95 {p95:.2f} ms")
    print(f"subtree count of {kab}: p50 {statistics.median(count_times):.2f} ms")
    print(f"naive case-insensitive LIKE: p50 {statistics.median(naive):.2f} ms "
          f"({statistics.median(naive) / p50:.1f}x slower)")
    print(f"level-by-level walk: p50 {statistics.median(walk):.2f} ms "
          f"({statistics.median(walk) / p50:.1f}x slower)")
    with connection.cursor() as cur:
        sql, params = (Region.objects.filter(codes.subtree_q("code", kab), level=4)
                       .values_list("code").query.sql_with_params())
        explain = "EXPLAIN QUERY PLAN " if connection.vendor == "sqlite" else "EXPLAIN "
        cur.execute(explain + sql, params)
        print("plan:", " | ".join(str(r[-1]) for r in cur.fetchall()))
    tmp.cleanup()


if __name__ == "__main__":
    main()
