"""Benchmark: a family-income round import and the impact analysis at province scale.

Scale (the defaults): 200,000 families (about 710,000 persons) over the 393
villages of Bangka Belitung (19), 60,000 of them in Bangka Tengah (19.04,
63 villages in 6 kecamatan), made with numpy and polars and written
set-at-a-time (core.bulk) straight into the registry tables; the province's
regions from the shipped edition (as the tests load them) and its default
agencies. Three locked income rounds of the province (pre-round, baseline,
follow-up a year later) hold the incomes of Bangka Tengah's families (97 %
answer each round), written with core.bulk too. About 2,600 of those families
(poorer ones more often: 9 % of desil 1-3, 5 % of desil 4-5, 1.5 % of the
others, 3 % without a desil) had their head join one of about 125 new UPPKA
groups (25 members each, in every village) between the baseline and the
follow-up (those who joined during the follow-up's fieldwork, about 500,
are left out of the analysis as its rules say); 500 more were members of
older UPPKA groups since before the baseline. Incomes follow the desil, a
village level, a family level and noise; everyone gains between rounds
(3 %, then 6 % more); joining adds PLANTED (Rp 300,000) a month at the
follow-up: the figure the estimate should find.

    .venv/bin/python bench/monitoring.py                      # temporary SQLite file
    .venv/bin/python bench/monitoring.py --keep /tmp/monbench  # keep the database for reruns
    .venv/bin/python bench/monitoring.py --postgres postgres://postgres@127.0.0.1:5432/sinergi_bench
    .venv/bin/python bench/monitoring.py --profile             # cProfile of each timed step

Prints, each with its target (none is asserted: compare figures within one run):

1. import of a 200,000-family income round of the province from a CSV file
   (the template's columns: No KK, Upah/Gaji, Usaha sendiri,
   Pertanian/Perikanan, Bantuan/Kiriman, Lainnya, Pengeluaran, Aset,
   Pencacah, Tanggal; one row in ten writes its wages as "1.500.000" or
   "Rp 1.500.000", a third leave Aset blank) through sheet.income_import, by a
   coordinator of the province, into an open round: seconds and rows/s,
   target at most 5 s on SQLite; the file read alone (readers.read_table);
   the same file again (every family's record replaced); ``--xlsx`` also
   times the same rows as an .xlsx workbook;
2. the impact analysis of UPPKA in Bangka Tengah (about 56,500 families in
   the panel, about 2,000 of them members, 63 villages: clustered errors):
   selectors.subject_of + income_rounds + impact_data (load) and
   analysis.analyse (matching, regression, placebo), apart and together,
   the first run (statsmodels and scipy imported) and the median of three
   more; target at most 3 s together; members, comparison families,
   villages, the estimate with its 95 % interval against the planted
   effect, the placebo, the naive figures and the verdict;
3. the same for one kecamatan (19.04.03, 13 villages: the wild cluster
   bootstrap, 999 draws), and the analysis alone of the Bangka Tengah panel
   forced through the bootstrap (``Thresholds(bootstrap_below=10_000)``).
"""

import argparse
import cProfile
import io
import os
import pstats
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from common import environment_text, report_checkpoint, use_database

PROVINCE = "19"
KAB = "19.04"  # Bangka Tengah: 63 villages
KECAMATAN = "19.04.03"  # 13 villages: fewer than bootstrap_below
FAMILIES, KAB_FAMILIES = 200_000, 60_000
PLANTED = 300_000  # rupiah a month, for the families that joined between the rounds
GROUP_SIZE = 25
OLD_MEMBERS = 500  # families in UPPKA groups since before the baseline
SEED = 20260
IMPORT_ROUND = "Bench: pendapatan keluarga 2026 semester 1"
CSV_NAME = "pendapatan-2026-s1.csv"
NOW = "2026-01-15 08:00:00"
# Rounds written by the generator: (name, starts, ends, growth over the usual income).
ROUNDS = (("Bench: pendapatan keluarga 2024 semester 1", "2024-03-01", "2024-04-30", 1.00),
          ("Bench: pendapatan keluarga 2024 semester 2", "2024-09-01", "2024-10-31", 1.03),
          ("Bench: pendapatan keluarga 2025 semester 2", "2025-09-01", "2025-10-31", 1.09))


def say(label, value) -> None:
    print(f"{label}: {value}", flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", help="PostgreSQL URL of a scratch database")
    parser.add_argument("--keep", metavar="DIR",
                        help="SQLite only: keep the generated database and the CSV in DIR and, "
                             "when DIR already holds them, measure them without generating "
                             "again")
    parser.add_argument("--families", type=int, default=FAMILIES,
                        help="families of the province (the import file's rows)")
    parser.add_argument("--kab-families", type=int, default=KAB_FAMILIES,
                        help=f"of them in {KAB} (the analysis)")
    parser.add_argument("--xlsx", action="store_true",
                        help="also import the same rows from an .xlsx workbook")
    parser.add_argument("--profile", action="store_true",
                        help="print the cProfile of each timed step (top functions)")
    args = parser.parse_args()

    started = time.perf_counter()
    tmp = tempfile.TemporaryDirectory(prefix="sinergi-mon-")
    var = args.keep or tmp.name
    reuse = (bool(args.keep) and not args.postgres and (Path(var) / "bench.sqlite3").exists()
             and (Path(var) / CSV_NAME).exists())
    Path(var).mkdir(parents=True, exist_ok=True)
    os.environ["SINERGI_VAR_DIR"] = var
    use_database(args.postgres, f"{var}/bench.sqlite3")
    import django

    django.setup()
    from django.core.management import call_command
    from django.utils import translation

    translation.activate("en")  # the messages printed, whatever the settings say
    call_command("migrate", verbosity=0)
    if reuse:
        say("generated", f"reusing {var}/bench.sqlite3 and {var}/{CSV_NAME}")
    else:
        generate(args, Path(var))
    environment()
    import_figures(args, Path(var))
    impact_figures(args)
    say("total runtime", f"{time.perf_counter() - started:.0f} s")
    tmp.cleanup()


def environment() -> None:
    from sinergi.monitoring.models import IncomeRecord
    from sinergi.registry.models import Household, Person

    say("environment", environment_text())
    say("data", f"{Person.objects.count():,} persons in {Household.objects.count():,} "
        f"families, {IncomeRecord.objects.count():,} income records")


def profiled(enabled: bool, label: str, fn):
    """fn(), under cProfile when ``enabled`` (the top functions printed after)."""
    if not enabled:
        return fn()
    profile = cProfile.Profile()
    result = profile.runcall(fn)
    out = io.StringIO()
    stats = pstats.Stats(profile, stream=out).strip_dirs()
    stats.sort_stats("cumulative").print_stats(25)
    stats.sort_stats("tottime").print_stats(15)
    print(f"--- profile: {label} ---\n{out.getvalue()}", flush=True)
    return result


# --- data ----------------------------------------------------------------------------


def coordinator():
    """A coordinator of the province (as tests/conftest.py seed_world makes users)."""
    from sinergi.accounts import roles
    from sinergi.accounts.models import User

    user = User.objects.filter(username="benchkoord").first()
    if user is None:
        user = User(username="benchkoord", role=roles.COORDINATOR, region_id=PROVINCE,
                    first_name="Bench")
        user.set_unusable_password()
        user.save()
    return user


def generate(args, var: Path) -> None:
    """Regions, agencies, the coordinator, families and persons, the three
    locked rounds with the kabupaten's incomes, UPPKA groups and members,
    and the CSV of the round to import."""
    import datetime

    import numpy as np
    import polars as pl
    from django.db import transaction

    from sinergi.agencies.models import Agency
    from sinergi.agencies.services import agency_seed_defaults
    from sinergi.core.bulk import analyze
    from sinergi.monitoring.models import INCOME, LOCKED, Round
    from sinergi.regions.models import Region
    from sinergi.regions.services import DEFAULT_FILE, regions_load

    started = time.perf_counter()
    t = time.perf_counter()
    regions_load(actor=None, path=region_slice(var), edition="bench slice 19")
    agency_seed_defaults(actor=None, region_code=PROVINCE)
    coordinator()
    say("  generated regions (province 19 of the shipped edition), agencies, coordinator",
        f"{time.perf_counter() - t:.1f} s ({DEFAULT_FILE.name})")

    rng = np.random.default_rng(SEED)
    villages = list(Region.objects.filter(code__startswith=PROVINCE + ".", level=4,
                                          retired_in="").order_by("code")
                    .values_list("code", flat=True))
    t = time.perf_counter()
    families = make_families(rng, villages, args.families, args.kab_families)
    persons = make_persons(rng, families)
    with transaction.atomic():
        write("registry_household", families.select(
            "id", "kk_number", "village_code", dusun=pl.lit(""), rw=pl.lit(""), rt=pl.lit(""),
            address=pl.lit(""), desil="desil",
            desil_source=pl.when(pl.col("desil").is_null()).then(pl.lit(""))
            .otherwise(pl.lit("DTSEN")),
            in_dtsen=pl.col("desil").is_not_null(), is_active=pl.lit(True),
            created_at=pl.lit(NOW), updated_at=pl.lit(NOW)))
        write("registry_person", persons)
    say(f"  generated {families.height:,} families, {persons.height:,} persons "
        f"({(families['village_code'].str.starts_with(KAB + '.')).sum():,} families in {KAB})",
        f"{time.perf_counter() - t:.1f} s")

    t = time.perf_counter()
    owner = Agency.objects.get(region_id=PROVINCE, short_name="DP3ACSKB")
    day = datetime.date.fromisoformat
    rounds = [Round.objects.create(name=name, kind=INCOME, starts_on=day(start), ends_on=day(end),
                                   region_id=PROVINCE, owner_agency=owner, instrument="v1",
                                   status=LOCKED)
              for name, start, end, _growth in ROUNDS]
    families, groups = add_members(rng, families, persons, rounds[1].ends_on,
                                   rounds[2].ends_on)
    incomes = make_incomes(rng, families, rounds)
    with transaction.atomic():
        write("monitoring_incomerecord", incomes)
    say(f"  generated {len(rounds)} locked rounds with {incomes.height:,} income records of "
        f"{KAB}; {families['joined'].sum():,} families joined {groups[0]} UPPKA groups "
        f"between baseline and follow-up, {OLD_MEMBERS} were members of {groups[1]} older "
        f"ones; planted effect Rp {PLANTED:,}",
        f"{time.perf_counter() - t:.1f} s")

    t = time.perf_counter()
    write_csv(rng, families, var / CSV_NAME)
    say(f"  wrote {var / CSV_NAME}", f"{families.height:,} rows, "
        f"{(var / CSV_NAME).stat().st_size / 1e6:.1f} MB in {time.perf_counter() - t:.1f} s")
    analyze()
    reset_sequences()
    say("generated", f"in {time.perf_counter() - started:.0f} s")


def region_slice(var: Path) -> Path:
    """The shipped edition cut down to the province (as tests/conftest.py does)."""
    import gzip

    from sinergi.regions.services import DEFAULT_FILE

    out = var / "regions-19.csv"
    with gzip.open(DEFAULT_FILE, "rt", encoding="utf-8") as src, open(out, "w") as dst:
        for i, line in enumerate(src):
            if i == 0 or line.split(",", 1)[0].split(".")[0] == PROVINCE:
                dst.write(line)
    return out


def write(table: str, frame) -> None:
    from sinergi.core.bulk import bulk_insert_frame

    bulk_insert_frame(table, frame)


def reset_sequences() -> None:
    """PostgreSQL: the id sequences past the ids written here."""
    from django.core.management.color import no_style
    from django.db import connection

    from sinergi.groups.models import Group, GroupMember
    from sinergi.monitoring.models import IncomeRecord
    from sinergi.registry.models import Household, Person

    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cur:
        for sql in connection.ops.sequence_reset_sql(
                no_style(), [Household, Person, Group, GroupMember, IncomeRecord]):
            cur.execute(sql)


def make_families(rng, villages: list[str], total: int, in_kab: int):
    """id, kk_number, village_code, desil (10 % unknown), the family's usual
    income (desil, village level, family level) and its size."""
    import numpy as np
    import polars as pl

    kab = [v for v in villages if v.startswith(KAB + ".")]
    rest = [v for v in villages if not v.startswith(KAB + ".")]

    def spread(n, codes):
        weights = rng.uniform(0.5, 1.5, len(codes))
        return np.repeat(np.array(codes), rng.multinomial(n, weights / weights.sum()))

    village = np.concatenate([spread(in_kab, kab), spread(total - in_kab, rest)])
    order = np.argsort(village, kind="stable")
    village = village[order]
    n = len(village)
    _, vix = np.unique(village, return_inverse=True)
    village_level = rng.normal(0, 1, vix.max() + 1)[vix]
    desil = rng.integers(1, 11, n)
    known = rng.random(n) >= 0.10
    usual = np.maximum(900_000 + 260_000 * np.where(known, desil, 6)
                       + 150_000 * village_level + 350_000 * rng.normal(0, 1, n), 300_000)
    size = rng.choice(np.arange(1, 7), n, p=[0.08, 0.15, 0.25, 0.27, 0.15, 0.10])
    frame = pl.DataFrame({"id": np.arange(1, n + 1), "village_code": village,
                          "desil": np.where(known, desil, 0), "usual": usual,
                          "village_ix": vix, "size": size})
    return frame.with_columns(
        desil=pl.when(pl.col("desil") > 0).then(pl.col("desil")).otherwise(None),
        kk_number=pl.col("village_code").str.replace_all(".", "", literal=True).str.slice(0, 6)
        + pl.col("id").cast(pl.String).str.zfill(10))


def make_persons(rng, families):
    """Every family's persons: the head first (a woman in 15 % of families),
    the spouse, children; unique 16-digit NIKs."""
    import numpy as np
    import polars as pl

    size = families["size"].to_numpy()
    total = int(size.sum())
    fam = np.repeat(np.arange(families.height), size)
    starts = np.concatenate([[0], np.cumsum(size)[:-1]])
    k = np.arange(total) - np.repeat(starts, size)
    female_head = (rng.random(families.height) < 0.15)[fam]
    shdk = np.where(k == 0, 1, np.where((k == 1) & ~female_head, 3, 4))
    woman = np.where(k == 0, female_head, np.where(shdk == 3, True, rng.random(total) < 0.5))
    frame = pl.DataFrame({"id": np.arange(1, total + 1),
                          "household_id": families["id"].to_numpy()[fam],
                          "village_code": families["village_code"].to_numpy()[fam],
                          "shdk": shdk, "sex": np.where(woman, "P", "L")})
    return frame.select(
        "id",
        nik=pl.col("village_code").str.replace_all(".", "", literal=True).str.slice(0, 6)
        + pl.col("id").cast(pl.String).str.zfill(10),
        name=pl.lit("Warga ") + pl.col("id").cast(pl.String), sex="sex",
        birth_place=pl.lit(""), household_id="household_id", shdk="shdk",
        village_code="village_code", life_status=pl.lit(1), warning_codes=pl.lit(""),
        created_at=pl.lit(NOW), updated_at=pl.lit(NOW))


def add_members(rng, families, persons, after, until):
    """UPPKA groups in every village of KAB with the heads of the families
    that joined between ``after`` and ``until`` (poorer ones more often),
    GROUP_SIZE to a group; older groups whose members joined before the
    baseline. Returns families with ``joined`` (bool), and the number of
    new and of old groups."""
    import datetime

    import numpy as np
    import polars as pl

    in_kab = families["village_code"].str.starts_with(KAB + ".").to_numpy()
    desil = families["desil"].fill_null(0).to_numpy()
    chance = np.select([desil == 0, desil <= 3, desil <= 5], [0.03, 0.09, 0.05], 0.015)
    u = rng.random(families.height)
    joined = in_kab & (u < chance)
    old = in_kab & ~joined & (rng.random(families.height) < 1.3 * OLD_MEMBERS / in_kab.sum())
    old &= np.cumsum(old) <= OLD_MEMBERS
    heads = dict(persons.filter(pl.col("shdk") == 1).select("household_id", "id").iter_rows())
    span = (until - after).days
    frames, groups, first = [], [], 1
    for label, mask, when in (
            ("B", joined, lambda m: [str(after + datetime.timedelta(days=int(d)))
                                     for d in 1 + rng.integers(0, span, m)]),
            ("L", old, lambda m: ["2023-06-01"] * m)):
        members = (families.filter(pl.Series(mask)).select("id", "village_code")
                   .with_columns(g=pl.int_range(pl.len()).over("village_code") // GROUP_SIZE))
        slots = (members.select("village_code", "g").unique().sort("village_code", "g")
                 .with_columns(group_id=pl.int_range(first, first + pl.len())))
        first += slots.height
        groups.append(slots.select(
            id="group_id",
            code=pl.lit(f"UPPKA-{label}-") + pl.col("group_id").cast(pl.String),
            name=pl.lit("UPPKA ") + pl.col("village_code").str.slice(9)
            + pl.lit(f" {label}") + (pl.col("g") + 1).cast(pl.String),
            kind_id=pl.lit("UPPKA"), village_code="village_code",
            founded_on=pl.lit(str(after) if label == "B" else "2023-01-01"),
            sector=pl.lit(""), products=pl.lit(""), nib=pl.lit(""), pirt=pl.lit(""),
            halal=pl.lit(""), level=pl.lit("Dasar"), is_active=pl.lit(True),
            created_at=pl.lit(NOW), updated_at=pl.lit(NOW)))
        members = members.join(slots, on=["village_code", "g"])
        frames.append(members.select(
            "group_id", person_id=pl.col("id").replace_strict(heads, return_dtype=pl.Int64),
            role=pl.lit("anggota"), joined_on=pl.Series(when(members.height))))
    from django.db import transaction

    with transaction.atomic():
        write("groups_group", pl.concat(groups))
        write("groups_groupmember", pl.concat(frames))
    return families.with_columns(joined=pl.Series(joined)), [g.height for g in groups]


def make_incomes(rng, families, rounds):
    """The kabupaten's families in each round (97 % answer): the usual
    income times the round's growth, a village shock, family noise, the
    planted effect at the follow-up for the families that joined; split
    over the five sources."""
    import numpy as np
    import polars as pl

    kab = families.filter(pl.col("village_code").str.starts_with(KAB + "."))
    n = kab.height
    usual = kab["usual"].to_numpy()
    vix = kab["village_ix"].to_numpy()
    joined = kab["joined"].to_numpy()
    shares = rng.dirichlet(np.ones(5), n)
    out = []
    for i, (rnd, (_name, start, _end, growth)) in enumerate(zip(rounds, ROUNDS, strict=True)):
        shock = rng.normal(0, 40_000, vix.max() + 1)[vix]
        total = usual * growth + shock + rng.normal(0, 120_000, n)
        if i == len(rounds) - 1:
            total = total + PLANTED * joined
        total = np.round(np.maximum(total, 0) / 1000) * 1000
        parts = np.floor(shares[:, :4] * total[:, None] / 1000) * 1000
        other = total - parts.sum(axis=1)
        day = np.datetime64(start) + rng.integers(0, 45, n)
        frame = pl.DataFrame({
            "round_id": np.full(n, rnd.pk), "household_id": kab["id"].to_numpy(),
            "village_code": kab["village_code"].to_numpy(),
            "wages": parts[:, 0].astype(np.int64), "business": parts[:, 1].astype(np.int64),
            "farming": parts[:, 2].astype(np.int64), "transfers": parts[:, 3].astype(np.int64),
            "other": other.astype(np.int64), "total": total.astype(np.int64),
            "expenditure": (total * rng.uniform(0.6, 1.0, n)).astype(np.int64),
            "assets": (usual * rng.uniform(2, 20, n)).astype(np.int64),
            "recorded_on": day.astype(str)})
        out.append(frame.filter(pl.Series(rng.random(n) < 0.97)))
    return pl.concat(out).with_columns(
        enumerator=pl.lit("Pencacah ") + pl.col("village_code").str.slice(9),
        flags=pl.lit(""), created_at=pl.lit(NOW), updated_at=pl.lit(NOW))


def write_csv(rng, families, path: Path) -> None:
    """The round to import, as a coordinator gets it back from the
    enumerators: every family of the province, the template's columns."""
    import numpy as np
    import polars as pl

    n = families.height
    usual = families["usual"].to_numpy()
    total = np.maximum(usual * 1.12 + rng.normal(0, 120_000, n)
                       + PLANTED * families["joined"].to_numpy(), 0)
    parts = (np.floor(rng.dirichlet(np.ones(5), n) * total[:, None] / 1000) * 1000
             ).astype(np.int64)
    style = rng.random(n)
    days = rng.integers(1, 29, n)
    months = rng.integers(3, 5, n)
    frame = pl.DataFrame({"kk": families["kk_number"], "wages": parts[:, 0],
                          **{f"p{j}": parts[:, j] for j in range(1, 5)},
                          "spend": (total * rng.uniform(0.6, 1.0, n)).astype(np.int64),
                          "assets": (usual * rng.uniform(2, 20, n)).astype(np.int64),
                          "village": families["village_code"], "style": style,
                          "day": days, "month": months, "blank_assets": rng.random(n) < 0.33})
    grouped = (pl.col("wages").cast(pl.String).str.reverse()
               .str.replace_all(r"(\d{3})", "$1.").str.reverse().str.strip_chars_start("."))
    frame.select(
        pl.col("kk").alias("No KK"),
        pl.when(pl.col("style") < 0.05).then(grouped)
        .when(pl.col("style") < 0.10).then(pl.lit("Rp ") + grouped)
        .otherwise(pl.col("wages").cast(pl.String)).alias("Upah/Gaji"),
        pl.col("p1").alias("Usaha sendiri"), pl.col("p2").alias("Pertanian/Perikanan"),
        pl.col("p3").alias("Bantuan/Kiriman"), pl.col("p4").alias("Lainnya"),
        pl.col("spend").alias("Pengeluaran"),
        pl.when(pl.col("blank_assets")).then(None).otherwise(pl.col("assets")).alias("Aset"),
        (pl.lit("Pencacah ") + pl.col("village").str.slice(9)).alias("Pencacah"),
        (pl.col("day").cast(pl.String).str.zfill(2) + "/"
         + pl.col("month").cast(pl.String).str.zfill(2) + "/2026").alias("Tanggal"),
    ).write_csv(path)


# --- 1. the import -------------------------------------------------------------------


def import_round():
    """A fresh open income round of the province (a rerun on a kept database
    drops the earlier runs' import rounds first)."""
    from django.db import transaction

    from sinergi.agencies.models import Agency
    from sinergi.monitoring.models import INCOME, OPEN, IncomeRecord, Round

    with transaction.atomic():
        IncomeRecord.objects.filter(round__name__startswith=IMPORT_ROUND).delete()
        Round.objects.filter(name__startswith=IMPORT_ROUND).delete()
        return Round.objects.create(
            name=IMPORT_ROUND, kind=INCOME, starts_on="2026-03-01", ends_on="2026-04-30",
            region_id=PROVINCE, status=OPEN, instrument="v1",
            owner_agency=Agency.objects.get(region_id=PROVINCE, short_name="DP3ACSKB"))


def import_once(args, user, rnd, path: Path, label: str):
    from django.core.files import File

    from sinergi.monitoring import sheet

    with open(path, "rb") as fh:
        upload = File(fh, name=path.name)
        t = time.perf_counter()
        result = profiled(args.profile, label, lambda: sheet.income_import(
            actor=user, rnd=rnd, upload=upload))
        seconds = time.perf_counter() - t
    if result.problems:
        first = result.problems[0]
        say(label, f"REFUSED with {len(result.problems)} problems, first: row {first.row} "
            f"{first.column} {first.value!r}: {first.message}")
        return None
    return seconds, result


def import_figures(args, var: Path) -> None:
    from sinergi.imports.readers import read_table
    from sinergi.monitoring import sheet
    from sinergi.monitoring.models import OUTLIER, IncomeRecord

    score = getattr(sheet, "header_score", None)  # what income_import reads the file with

    user = coordinator()
    rnd = import_round()
    path = var / CSV_NAME
    size_mb = path.stat().st_size / 1e6
    t = time.perf_counter()
    table = read_table(path, file_name=path.name, header_score=score)
    read_s = time.perf_counter() - t
    rows = table.df.height
    got = import_once(args, user, rnd, path, "import")
    if got is None:
        return
    seconds, result = got
    flagged = IncomeRecord.objects.filter(round=rnd, flags=OUTLIER).count()
    say(f"1. import of a {rows:,}-family income round of province {PROVINCE} from CSV "
        f"({size_mb:.1f} MB), sheet.income_import by a coordinator of the province, into "
        "an empty open round, target <= 5 s on SQLite",
        f"{seconds:.2f} s, {rows / seconds:,.0f} rows/s; {result.created:,} records written, "
        f"{flagged:,} flagged as outliers; warnings: {len(result.warnings)}")
    say("  the file read alone (readers.read_table)",
        f"{read_s:.2f} s ({100 * read_s / seconds:.0f} % of the import)")
    report_checkpoint(say, "  import")
    got = import_once(args, user, rnd, path, "re-import")
    if got is not None:
        seconds, result = got
        say("  the same file again (every family's record replaced)",
            f"{seconds:.2f} s, {rows / seconds:,.0f} rows/s; {result.created:,} written, "
            f"{result.warnings[0] if result.warnings else ''}")
    if args.xlsx:
        xlsx = var / CSV_NAME.replace(".csv", ".xlsx")
        t = time.perf_counter()
        write_xlsx(table.df, xlsx)
        say(f"  wrote {xlsx.name}", f"{xlsx.stat().st_size / 1e6:.1f} MB in "
            f"{time.perf_counter() - t:.0f} s")
        t = time.perf_counter()
        read_table(xlsx, file_name=xlsx.name, header_score=score)
        read_s = time.perf_counter() - t
        got = import_once(args, user, rnd, xlsx, "xlsx import")
        if got is not None:
            seconds, result = got
            say(f"  the same {rows:,} rows from .xlsx (replacing)",
                f"{seconds:.2f} s, {rows / seconds:,.0f} rows/s; read alone {read_s:.2f} s")


def write_xlsx(df, path: Path) -> None:
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    ws = wb.create_sheet("Data")
    ws.append(df.columns)
    for row in df.iter_rows():
        ws.append(row)  # every cell text, as read from the CSV
    wb.save(path)


# --- 2. and 3. the impact analysis ---------------------------------------------------


def impact_figures(args) -> None:
    import gc

    from sinergi.monitoring import analysis
    from sinergi.monitoring.models import Round

    gc.collect()
    user = coordinator()
    baseline = Round.objects.get(name=ROUNDS[1][0])
    followup = Round.objects.get(name=ROUNDS[2][0])
    say(f"2. impact of UPPKA in {KAB}, baseline '{baseline.name}', follow-up "
        f"'{followup.name}', planted effect", f"Rp {PLANTED:,} a month")
    data, result = impact_run(args, user, KAB, baseline, followup, "target <= 3 s together")
    report_result(data, result)

    say(f"3. impact of UPPKA in kecamatan {KECAMATAN}",
        "fewer villages than bootstrap_below: the wild cluster bootstrap")
    _data, small = impact_run(args, user, KECAMATAN, baseline, followup, "")
    report_result(_data, small)

    th = analysis.Thresholds(bootstrap_below=10_000)
    times = []
    for run in range(3):
        t = time.perf_counter()
        forced = profiled(args.profile and run == 0, "analysis, forced bootstrap",
                          lambda: analysis.analyse(data.panel, th))
        times.append(time.perf_counter() - t)
    say(f"  {KAB} analysis alone forced through the wild bootstrap "
        f"(Thresholds(bootstrap_below=10_000), {th.bootstrap_draws} draws)",
        f"median {statistics.median(times):.2f} s of 3 (first {times[0]:.2f} s)")
    report_result(data, forced, short=True)


def impact_run(args, user, region, baseline, followup, target):
    """Load (subject, rounds, panel) and analysis, timed apart: the first
    run, then the median of three more."""
    from sinergi.monitoring import analysis, selectors

    def load():
        subject = selectors.subject_of(user, kind="UPPKA", region=region)
        rounds = selectors.income_rounds(user, region)
        return selectors.impact_data(rounds, subject, baseline, followup)

    cold = "" if "statsmodels" in sys.modules else ", statsmodels and scipy imported"
    loads, analyses, data, result = [], [], None, None
    for run in range(4):
        prof = args.profile and run == 1
        t = time.perf_counter()
        data = profiled(prof, f"impact_data {region}", load)
        loads.append(time.perf_counter() - t)
        t = time.perf_counter()
        result = profiled(prof, f"analyse {region}",
                          lambda panel=data.panel: analysis.analyse(panel))
        analyses.append(time.perf_counter() - t)
    totals = [a + b for a, b in zip(loads, analyses, strict=True)]
    med = statistics.median
    say(f"  load + analysis{', ' + target if target else ''}",
        f"median {med(totals[1:]):.2f} s of 3 (load {med(loads[1:]):.2f} s: subject_of + "
        f"income_rounds + impact_data; analysis {med(analyses[1:]):.2f} s: analyse); first "
        f"run {totals[0]:.2f} s (load {loads[0]:.2f} s, analysis {analyses[0]:.2f} s"
        f"{cold})")
    return data, result


def report_result(data, result, short: bool = False) -> None:
    import numpy as np

    p, main = data.panel, result.main
    if main is None:
        say("  estimate", f"none (verdict {result.verdict}, {result.reasons})")
        return
    p_value = (f"{main.p_value:.3g}" if main.p_value > 0 or main.method == "cluster"
               else "< 0.001")  # no bootstrap t as far out as the estimate's
    say("  estimate (matched difference-in-differences)",
        f"Rp {main.effect:,.0f} a month, 95 % interval [{main.lower:,.0f}, {main.upper:,.0f}] "
        f"({main.method}, se {main.se:,.0f}, p {p_value}); planted {PLANTED:,}: "
        f"{'inside' if main.lower <= PLANTED <= main.upper else 'OUTSIDE'} the interval; "
        f"verdict {result.verdict}{' ' + ', '.join(result.reasons) if result.reasons else ''}")
    if short:
        return
    say("  panel", f"{len(p.family):,} families with incomes in both rounds in "
        f"{len(np.unique(p.village))} villages; {result.members_total:,} joined between the "
        f"rounds, {result.pool_total:,} never members, {int((p.cohort == -1).sum()):,} set "
        "apart (members before the baseline)")
    say("  matched", f"{main.members:,} members ({main.dropped:,} without a match in the "
        f"caliper), {main.controls:,} distinct comparison families, {main.villages} "
        f"villages; worst |SMD| after matching {main.max_smd:.3f}")
    if result.placebo is not None:
        pl_ = result.placebo
        say("  placebo (pre-round to baseline, should be 0)",
            f"Rp {pl_.effect:,.0f}, 95 % interval [{pl_.lower:,.0f}, {pl_.upper:,.0f}]")
    say("  naive figures", f"members' before/after Rp {result.naive_before_after:,.0f}, "
        f"members minus never-members at follow-up Rp {result.naive_member_gap:,.0f}")


if __name__ == "__main__":
    main()
