"""Overlap: how many families each pair of programs shares, and how many
programs families get; from the stored rollup, the family masks or live."""

from collections import defaultdict

from django.utils import timezone

from sinergi.programs.models import Program
from sinergi.regions.codes import code_level

from .models import CoverageSummary, MaskCount
from .sql import chosen_programs, fetch, households_qs, query_sql, rollup_layout, served_sql


def overlap(*, region: str, year: int, programs: list[Program] | None = None,
            live: bool = False) -> dict:
    """Families of ``region`` served by both A and B for every pair of programs
    (the diagonal: served by A), and families by number of programs received.

    One pass folds each family's served programs into a bit mask and counts
    families per distinct mask; pair counts and the distribution are sums
    over those masks (a few thousand, not the families). Returns
    ``matrix[a][b]`` (program ids), ``distribution`` {n: families served by
    exactly n} from 0 up to the most, ``at_least`` {n: served by n or more},
    ``families`` and ``programs``; ``source`` ("rollup" / "live") and
    ``computed_at``.

    The rollup (MaskCount, refreshed with coverage) already holds families
    per served mask for every region, so when it holds the region and the
    chosen programs the masks are read, not computed.
    """
    chosen = chosen_programs(programs, year)
    layout = None if live else rollup_layout(region, year, chosen, masks=True)
    if layout is not None:
        return _overlap_result(region, year, chosen, *_overlap_rollup(region, year, chosen,
                                                                      layout["bit"]),
                               source="rollup", computed_at=layout["computed_at"])
    families = households_qs(region).count()
    if len(chosen) > 62:
        matrix, distribution = _overlap_join(region, year, chosen)
    else:
        matrix = {a.id: dict.fromkeys((b.id for b in chosen), 0) for a in chosen}
        distribution = defaultdict(int)
        if chosen:
            h_sql, h_params = query_sql(households_qs(region).values_list("id"))
            s_sql, s_params = served_sql(year, chosen, "h")
            bits = " ".join(f"WHEN {int(p.id)} THEN {1 << i}" for i, p in enumerate(chosen))
            sql = (f"WITH h(id) AS ({h_sql}), sp(hid, pid, r) AS ({s_sql}), "  # noqa: S608
                   "d AS (SELECT DISTINCT hid, pid FROM sp), "
                   f"m AS (SELECT hid, SUM(CASE pid {bits} ELSE 0 END) AS mask, COUNT(*) AS n "
                   "FROM d GROUP BY hid) "
                   "SELECT mask, n, COUNT(*) FROM m GROUP BY mask, n")
            for mask, n, count in fetch(sql, h_params + s_params):
                mask, n, count = int(mask), int(n), int(count)
                members = [p.id for i, p in enumerate(chosen) if mask >> i & 1]
                for a in members:
                    for b in members:
                        matrix[a][b] += count
                distribution[n] += count
    return _overlap_result(region, year, chosen, families, matrix, distribution,
                           source="live", computed_at=timezone.now())


def _overlap_rollup(region: str, year: int, chosen: list[Program], bit: dict):
    """Families, matrix and distribution (n >= 1) of the region: stored by the
    refresh when all its programs are chosen, else folded from its MaskCount
    rows, each served mask narrowed to the chosen programs."""
    if {p.id for p in chosen} == set(bit):
        stored = CoverageSummary.objects.filter(year=year, region_code=region).values_list(
            "overlap", flat=True).first()
        if stored:
            return (stored["families"],
                    {int(a): {int(b): n for b, n in row.items()}
                     for a, row in stored["matrix"].items()},
                    defaultdict(int, {int(n): c for n, c in stored["distribution"].items()}))
    rows = MaskCount.objects.filter(year=year, level=code_level(region),
                                    region_code=region).values_list("served", "families")
    return fold_masks(rows, chosen, bit)


def fold_masks(rows, chosen: list[Program], bit: dict):
    """Families, pair matrix and distribution (n >= 1) from (served mask,
    families) rows."""
    matrix = {a.id: dict.fromkeys((b.id for b in chosen), 0) for a in chosen}
    distribution = defaultdict(int)
    by_mask = defaultdict(int)
    families = 0
    wanted = sum(1 << bit[p.id] for p in chosen)
    for served, count in rows:
        families += count
        by_mask[served & wanted] += count
    program_at = {bit[p.id]: p.id for p in chosen}
    for mask, count in by_mask.items():
        members = []
        while mask:  # the set bits only: a family gets a few programs, not all
            low = mask & -mask
            members.append(program_at[low.bit_length() - 1])
            mask ^= low
        for a in members:
            row = matrix[a]
            for b in members:
                row[b] += count
        if members:
            distribution[len(members)] += count
    return families, matrix, distribution


def _overlap_result(region, year, chosen, families, matrix, distribution, **freshness) -> dict:
    distribution[0] = families - sum(v for k, v in distribution.items() if k)
    dist = {n: distribution.get(n, 0) for n in range(max(distribution) + 1)}
    at_least = {n: sum(c for k, c in dist.items() if k >= n) for n in dist}
    return {"region": region, "year": year, "families": families,
            "programs": [{"id": p.id, "code": p.code, "name": p.name} for p in chosen],
            "matrix": matrix, "distribution": dist, "at_least": at_least, **freshness}


def _overlap_join(region: str, year: int, chosen: list[Program]):
    """Overlap for more than 62 programs (no mask fits): a self-join of pairs."""
    h_sql, h_params = query_sql(households_qs(region).values_list("id"))
    s_sql, s_params = served_sql(year, chosen, "h")
    head = (f"WITH h(id) AS ({h_sql}), sp(hid, pid, r) AS ({s_sql}), "  # noqa: S608
            "d AS (SELECT DISTINCT hid, pid FROM sp) ")
    matrix = {a.id: dict.fromkeys((b.id for b in chosen), 0) for a in chosen}
    for a, b, n in fetch(head + "SELECT x.pid, y.pid, COUNT(*) FROM d x JOIN d y "  # noqa: S608
                          "ON x.hid = y.hid GROUP BY x.pid, y.pid", h_params + s_params):
        matrix[a][b] = int(n)
    distribution = defaultdict(int)
    for n, count in fetch(head + "SELECT n, COUNT(*) FROM (SELECT hid, COUNT(*) AS n FROM d "  # noqa: S608
                           "GROUP BY hid) c GROUP BY n", h_params + s_params):
        distribution[int(n)] = int(count)
    return matrix, distribution
