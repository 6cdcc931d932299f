"""Villages, families, members and their attributes and identifiers:
the numbers of the synthetic registry, before they become text."""

from __future__ import annotations

import random
from datetime import date

import polars as pl

from .names import LOCAL_TOWNS, OTHER_TOWNS
from .randomness import SeededRandom, U, normal, weighted

YEAR = 365.2425


# Day spans, chosen so calendar arithmetic holds whatever the leap years:
# at least 18 years and a day, at most 45 years less a day (18*365+5 < 6577;
# 45*365+11 > 16429), with a day to spare for the 1970-01-01 shift below.
MIN_GENERATION = 6577
MAX_GENERATION = 16429
AGE_17 = 6212  # >= 17 years and a day
# Family-wide draws used while building the family, and those its members use.
FAMILY_STREAMS = ("head_female", "spouse", "parent", "grand", "n_grand", "age1", "age2",
                  "spouse_age", "desil", "religion", "dtsen", "health")


CARRIED_STREAMS = ("kk_issue", "surname", "dusun", "rw", "rt", "gang", "street", "house")
MEMBER_STREAMS = ("age", "sex")
ATTRIBUTE_STREAMS = ("education", "occupation", "work", "marital", "income1", "income2",
                     "side_job", "kb_on", "kb", "disability", "disability_kind", "akta", "ktp")


# Family size 1..7, mean 3.32 (Susenas: about 3.3-3.5 persons per household).
FAMILY_SIZES = [(1, 12), (2, 20), (3, 25), (4, 22), (5, 12), (6, 6), (7, 3)]


# Median monthly income (Rp) of an earner per desil; values spread log-normally
# and are kept within 0.6x-1.6x of the median (desil 1: ~340k-900k, desil 10: ~7.5-20 M).
INCOME_MEDIAN = {1: 560_000, 2: 900_000, 3: 1_300_000, 4: 1_750_000, 5: 2_300_000,
                 6: 3_000_000, 7: 3_900_000, 8: 5_200_000, 9: 7_300_000, 10: 12_500_000}


def _village_table(villages: list[str], seed: int) -> pl.DataFrame:
    """Per village: share of the families, poverty, towns, dusun/RW/RT counts."""
    rng = random.Random(f"sinergi-synthetic:{seed}:villages")
    kec_poverty: dict[str, float] = {}
    rows = []
    for code in villages:
        kec = code[:8]
        if kec not in kec_poverty:
            # Desil = 1 + floor(10 * u ** p): p > 1 pushes families to the low desil.
            kec_poverty[kec] = rng.uniform(0.75, 1.7)
        urban = code[9] == "1"  # kelurahan
        towns = LOCAL_TOWNS.get(code[:5], (OTHER_TOWNS[0], OTHER_TOWNS[1]))
        rows.append({
            "village_code": code,
            "kec": code[:8].replace(".", ""),
            "weight": rng.lognormvariate(0, 0.45) * (1.8 if urban else 1.0),
            "poverty": kec_poverty[kec] * (0.8 if urban else 1.0) * rng.uniform(0.85, 1.15),
            "urban": urban,
            "town_a": towns[0],
            "town_b": towns[1],
            "n_dusun": rng.randint(2, 6),
            "n_rw": rng.randint(1, 4) if urban else 1,
            "n_rt": rng.randint(3, 15),
        })
    return pl.DataFrame(rows)


def draw_families(rnd: SeededRandom, villages: list[str], persons: int, seed: int) -> pl.DataFrame:
    """One row per family: size, village and the family-wide draws."""
    n = int(persons / 3.2) + 16
    while True:
        fam = rnd.draw(pl.select(fid=pl.int_range(n, dtype=pl.UInt32)), "fid", "size")
        fam = fam.with_columns(weighted(U("size"), FAMILY_SIZES, pl.Int32).alias("size"))
        fam = fam.with_columns(pl.col("size").cum_sum().alias("end"))
        if fam.get_column("end").item(-1) >= persons:
            break
        n *= 2
    fam = fam.filter(pl.col("end") - pl.col("size") < persons).with_columns(
        pl.when(pl.col("end") > persons).then(pl.col("size") - (pl.col("end") - persons))
        .otherwise(pl.col("size")).alias("size")).drop("end", "_u_size")
    f = fam.height

    # Villages own contiguous runs of families, in proportion to their weight.
    vill = _village_table(villages, seed)
    weights = vill.get_column("weight").to_list()
    total = sum(weights)
    bounds, acc = [], 0.0
    for w in weights:
        acc += w
        bounds.append(min(f, round(f * acc / total)))
    vidx = pl.Series(bounds, dtype=pl.UInt32).search_sorted(fam.get_column("fid"),
                                                            side="right")
    vidx = vidx.clip(0, len(villages) - 1).cast(pl.UInt32)
    fam = fam.with_columns(vill.select(pl.all().gather(vidx)).drop("weight"))

    fam = rnd.draw(fam, "fid", *FAMILY_STREAMS, *CARRIED_STREAMS)
    size = pl.col("size")
    fam = fam.with_columns(
        # Female heads: widows and divorcees; more common among people living alone.
        (U("head_female") < pl.when(size == 1).then(0.35).otherwise(0.12))
        .alias("head_female"),
    ).with_columns(
        ((size >= 2) & (U("spouse") < pl.when(pl.col("head_female")).then(0.15)
                        .otherwise(0.93))).alias("has_spouse"),
    ).with_columns(
        (size - 1 - pl.col("has_spouse").cast(pl.Int32)).alias("others"),
    ).with_columns(
        ((pl.col("others") >= 1) & (U("parent") < 0.07)).alias("has_parent"),
    ).with_columns(
        ((pl.col("others") - pl.col("has_parent").cast(pl.Int32) >= 2)
         & (U("grand") < 0.16)).alias("grand_family"),
    ).with_columns(
        pl.when(pl.col("grand_family"))
        .then(1 + (U("n_grand") < 0.4).cast(pl.Int32)).otherwise(0).alias("n_grand"),
    ).with_columns(
        (pl.col("others") - pl.col("has_parent").cast(pl.Int32) - pl.col("n_grand"))
        .alias("n_child"),
    )
    # Head's age (years): older with more children; 50+ with grandchildren;
    # at most 65 with a parent (who is 18-45 years older and at most 95).
    skew = (((U("age1") + U("age2")) / 2) ** 1.35)
    lo = (pl.when(pl.col("grand_family")).then(50.0)
          .when(pl.col("head_female") & ~pl.col("has_spouse")).then(
              pl.max_horizontal(pl.lit(28.0), 20.0 + 1.5 * pl.col("n_child")))
          .otherwise(20.0 + 1.5 * pl.col("n_child")))
    hi = pl.when(pl.col("has_parent")).then(65.0).when(pl.col("grand_family")).then(80.0) \
        .otherwise(82.0)
    fam = fam.with_columns(((lo + (hi - lo) * skew) * YEAR).cast(pl.Int32).alias("head_days"))
    head = pl.col("head_days")
    fam = fam.with_columns(
        pl.when(~pl.col("has_spouse")).then(None)
        .when(pl.col("head_female"))
        .then(head + (U("spouse_age") * 7 * YEAR).cast(pl.Int32))
        .otherwise(pl.max_horizontal(
            head - (U("spouse_age") * 8 * YEAR).cast(pl.Int32),
            pl.lit(MIN_GENERATION + 30)))
        .alias("spouse_days"),
    ).with_columns(
        # Whose age the children's ages hang on: the wife, else the head.
        pl.when(pl.col("has_spouse") & ~pl.col("head_female")).then(pl.col("spouse_days"))
        .otherwise(head).alias("mother_days"),
        # Desil 1-10: p > 1 (poorer places) puts more families in low desil.
        (1 + (10 * U("desil") ** pl.col("poverty")).floor().cast(pl.Int16))
        .clip(1, 10).alias("desil"),
        _religion(U("religion"), pl.col("urban")).alias("religion"),
    ).with_columns(
        pl.when(pl.col("desil") <= 6).then(U("dtsen") < 0.93)
        .otherwise(U("dtsen") < 0.06).alias("in_dtsen"),
        _health(U("health"), pl.col("desil")).alias("health_insurance"),
        # 0 poor (desil 1-4), 1 middle (5-7), 2 better off (8-10).
        pl.when(pl.col("desil") <= 4).then(0).when(pl.col("desil") <= 7).then(1)
        .otherwise(2).cast(pl.Int8).alias("wealth"),
    )
    return fam.drop(["_u_" + s for s in FAMILY_STREAMS])


def _religion(u: pl.Expr, urban: pl.Expr) -> pl.Expr:
    rural = [(1, 92.0), (5, 3.5), (6, 1.0), (2, 2.0), (3, 1.3), (4, 0.2)]
    town = [(1, 80.0), (5, 9.5), (6, 3.0), (2, 4.0), (3, 3.0), (4, 0.5)]
    return pl.when(urban).then(weighted(u, town)).otherwise(weighted(u, rural))


def _health(u: pl.Expr, desil: pl.Expr) -> pl.Expr:
    return (pl.when(desil <= 4).then(weighted(u, [(2, 82), (3, 8), (1, 10)]))
            .when(desil <= 6).then(weighted(u, [(2, 40), (3, 45), (1, 15)]))
            .otherwise(weighted(u, [(2, 6), (3, 82), (1, 8), (99, 4)])))


def draw_members(rnd: SeededRandom, fam: pl.DataFrame, today: date) -> pl.DataFrame:
    """One row per person: role, sex, age in days, in card order."""
    fid = fam.select(pl.col("fid").repeat_by("size").explode()).get_column("fid")
    k = fam.select(pl.int_ranges(0, pl.col("size"), dtype=pl.Int32).explode()
                   .alias("k")).get_column("k")
    p = fam.select(pl.all().gather(fid)).with_columns(k)
    p = rnd.draw(p.with_row_index("pid"), "pid", *MEMBER_STREAMS)
    spouse = pl.col("has_spouse").cast(pl.Int32)
    j = pl.col("k") - 1 - spouse  # position among the others
    # Role as its SHDK code (a husband is 2, set below).
    p = p.with_columns(
        pl.when(pl.col("k") == 0).then(1)
        .when((pl.col("k") == 1) & pl.col("has_spouse")).then(3)
        .when(j < pl.col("n_child")).then(4)
        .when(j < pl.col("n_child") + pl.col("n_grand")).then(6)
        .otherwise(7).cast(pl.Int16).alias("role"),
    )
    role = pl.col("role")
    mother = pl.col("mother_days")
    head = pl.col("head_days")
    uu = U("age")
    # A child is 18-45 years younger than both parents: at most (mother - 18 y)
    # old (the mother is the younger one), at least (elder parent - 45 y).
    elder = pl.max_horizontal(head, pl.col("spouse_days").fill_null(head))
    child_hi = mother - MIN_GENERATION
    child_lo = (elder - MAX_GENERATION).clip(0)
    parent_hi = pl.min_horizontal(pl.lit(MAX_GENERATION), (95 * YEAR) - head)
    p = p.with_columns(
        pl.when(role == 1).then(head)
        .when(role == 3).then(pl.col("spouse_days"))
        .when(role == 4).then(
            # Gaps skew short (most births to mothers in their twenties).
            child_hi - (uu ** 1.15 * (child_hi - child_lo)).cast(pl.Int32))
        .when(role == 6).then(
            (uu * pl.min_horizontal(pl.lit(12 * YEAR), mother - 2 * MIN_GENERATION)
             .clip(0)).cast(pl.Int32))
        .otherwise(head + MIN_GENERATION + (uu * (parent_hi - MIN_GENERATION)).cast(pl.Int32))
        .cast(pl.Int32).alias("age_days"),
        pl.when(role == 1).then(pl.col("head_female"))
        .when(role == 3).then(~pl.col("head_female"))
        .when(role == 7).then(U("sex") < 0.7)
        .otherwise(U("sex") < 0.49).alias("female"),
        pl.when((role == 3) & pl.col("head_female")).then(pl.lit(2, pl.Int16))
        .otherwise(role).alias("shdk"),
    ).drop(["_u_" + s for s in MEMBER_STREAMS])
    # The card lists the head, the spouse, children eldest first, then the others.
    p = p.sort(["fid", "shdk", "age_days"], descending=[False, False, True],
               maintain_order=True)
    epoch = (today - date(1970, 1, 1)).days
    # 1 January 1970 is what some systems store for an unreadable date, and
    # the import flags it; nobody here is born that day (moved to the 2nd).
    age_days = pl.col("age_days") - (pl.col("age_days") == epoch).cast(pl.Int32)
    return p.with_columns(
        age_days.alias("age_days"),
        (pl.lit(epoch, pl.Int32) - age_days).cast(pl.Date).alias("birth_date"),
        (pl.col("age_days") / YEAR).floor().cast(pl.Int32).alias("age"),
    ).drop("pid").with_row_index("pid")


def draw_attributes(rnd: SeededRandom, p: pl.DataFrame) -> pl.DataFrame:
    """Education, occupation, marital status, income, documents, KB, disability."""
    p = rnd.draw(p, "pid", *ATTRIBUTE_STREAMS)
    age = pl.col("age")
    female = pl.col("female")
    wealth = pl.col("wealth")
    ue = U("education")
    adult_edu = {
        "low": [(1, 3), (2, 12), (3, 35), (4, 25), (5, 22), (8, 3)],
        "mid": [(2, 5), (3, 20), (4, 22), (5, 38), (6, 3), (7, 4), (8, 8)],
        "high": [(3, 5), (4, 8), (5, 37), (6, 4), (7, 8), (8, 33), (9, 4), (10, 1)],
    }
    young_edu = {
        "low": [(3, 20), (4, 30), (5, 47), (8, 3)],
        "mid": [(3, 10), (4, 20), (5, 58), (7, 4), (8, 8)],
        "high": [(4, 5), (5, 55), (7, 10), (8, 30)],
    }
    old_edu = {
        "low": [(1, 20), (2, 35), (3, 35), (4, 7), (5, 3)],
        "mid": [(1, 10), (2, 25), (3, 35), (4, 15), (5, 13), (8, 2)],
        "high": [(2, 10), (3, 25), (4, 20), (5, 30), (8, 15)],
    }

    def by_wealth(table):
        return (pl.when(wealth == 0).then(weighted(ue, table["low"]))
                .when(wealth == 1).then(weighted(ue, table["mid"]))
                .otherwise(weighted(ue, table["high"])))

    p = p.with_columns(
        pl.when(age < 5).then(1)
        .when(age < 7).then(pl.when(ue < 0.5).then(1).otherwise(2))
        .when(age < 13).then(2)
        .when(age < 16).then(pl.when(ue < 0.9).then(3).otherwise(2))
        .when(age < 19).then(pl.when(ue < 0.85).then(4).otherwise(3))
        .when(age < 25).then(by_wealth(young_edu))
        .when(age < 60).then(by_wealth(adult_edu))
        .otherwise(by_wealth(old_edu)).cast(pl.Int16).alias("education"),
    )
    edu = pl.col("education")
    uo = U("occupation")
    studying = (
        pl.when(age < 5).then(False)
        .when(age < 16).then(True)
        .when(age < 19).then(uo < 0.8)
        .when(age < 24).then((edu >= 5) & (uo < pl.when(wealth == 2).then(0.5)
                                           .when(wealth == 1).then(0.3).otherwise(0.15)))
        .otherwise(False)
    )
    uw = U("work")
    male_work = weighted(uw, [(9, 22), (11, 10), (19, 14), (15, 14), (88, 12), (84, 7),
                             (20, 5), (81, 3), (26, 3), (12, 2), (14, 2), (1, 6)])
    male_work_hi = weighted(uw, [(5, 25), (65, 15), (15, 25), (88, 12), (16, 5), (72, 2),
                                (74, 3), (64, 2), (70, 3), (18, 8)])
    female_work = weighted(uw, [(2, 45), (84, 10), (9, 8), (15, 8), (88, 7), (19, 4), (30, 3),
                               (1, 10), (65, 3), (18, 2)])
    female_work_hi = weighted(uw, [(65, 25), (5, 15), (15, 20), (74, 8), (73, 7), (2, 15),
                                  (88, 10)])
    old_work = (pl.when((edu >= 5) & (uw < 0.3)).then(4)
                .when(female).then(weighted(uw, [(2, 60), (1, 30), (84, 10)]))
                .otherwise(weighted(uw, [(9, 30), (1, 45), (84, 10), (88, 15)])))
    p = p.with_columns(
        pl.when(age < 5).then(1)
        .when(studying).then(3)
        .when(age < 19).then(pl.when(female).then(1).otherwise(19))
        .when(age >= 65).then(old_work)
        .when(female & (edu >= 8)).then(female_work_hi)
        .when(female).then(female_work)
        .when(edu >= 8).then(male_work_hi)
        .otherwise(male_work).cast(pl.Int16).alias("occupation"),
    )
    occ = pl.col("occupation")
    um = U("marital")
    role = pl.col("role")
    p = p.with_columns(
        pl.when(pl.col("has_spouse") & role.is_in([1, 3])).then(2)
        .when(role == 1).then(
            pl.when(age < 30).then(pl.when(um < 0.7).then(1).otherwise(3))
            .when(female & (age >= 50)).then(pl.when(um < 0.75).then(4).otherwise(3))
            .when(female).then(pl.when(um < 0.6).then(3).otherwise(4))
            .when(age < 35).then(pl.when(um < 0.6).then(1).otherwise(3))
            .otherwise(weighted(um, [(4, 50), (3, 30), (1, 20)])))
        .when(role == 7).then(pl.when(um < 0.9).then(4).otherwise(3))
        .when((role == 4) & (age >= 22)).then(pl.when(um < 0.94).then(1).otherwise(3))
        .otherwise(1).cast(pl.Int16).alias("marital_status"),
    )
    # Income: earners only (not children, pupils, housewives, the jobless).
    median = pl.col("desil").replace_strict(INCOME_MEDIAN, return_dtype=pl.Float64)
    spread = (0.35 * normal("income1", "income2")).exp().clip(0.6, 1.6)
    earner = ~occ.is_in([1, 2, 3]) | ((occ == 3) & (age >= 18) & (U("side_job") < 0.05))
    factor = pl.when(occ == 3).then(0.3).when(occ == 4).then(0.8).otherwise(1.0)
    p = p.with_columns(
        pl.when(earner).then(((median * spread * factor) / 10_000).round(0) * 10_000)
        .cast(pl.Int64).alias("monthly_income"),
        # KB: married women 15-49, about 55 % on a method, mostly injection and pill.
        pl.when(female & (pl.col("marital_status") == 2) & (age >= 15) & (age < 50)
                & (U("kb_on") < 0.55))
        .then(weighted(U("kb"), [(3, 60), (1, 18), (5, 9), (2, 7), (6, 3), (4, 3)]))
        .cast(pl.Int16).alias("kb_method"),
        pl.when(U("disability") < 0.012 + 0.04 * (age >= 65).cast(pl.Float64))
        .then(weighted(U("disability_kind"), [(1, 45), (2, 15), (3, 15), (4, 15),
                                                    (5, 5), (6, 5)]))
        .otherwise(7).cast(pl.Int16).alias("disability"),
        (U("akta") < pl.when(age < 18).then(0.93).when(age < 40).then(0.8)
         .otherwise(0.45)).alias("has_birth_certificate"),
        pl.when(age >= 17).then(U("ktp") < 0.95).alias("has_ktp_el"),
    )
    return p.drop(["_u_" + s for s in ATTRIBUTE_STREAMS])


def draw_identifiers(p: pl.DataFrame, today: date) -> pl.DataFrame:
    """NIK and KK numbers, unique by construction.

    Both are built as integers (kecamatan * 10^10 + DDMMYY * 10^4 + serial):
    a province code never starts with 0, so the text is always 16 digits.
    """
    kec = pl.col("kec").cast(pl.Int64)

    def ddmmyy(d: pl.Expr, day_offset: pl.Expr | int = 0) -> pl.Expr:
        return ((d.dt.day().cast(pl.Int64) + day_offset) * 10_000
                + d.dt.month().cast(pl.Int64) * 100 + d.dt.year().cast(pl.Int64) % 100)

    women = pl.when(pl.col("female")).then(40).otherwise(0)
    p = p.with_columns((kec * 1_000_000 + ddmmyy(pl.col("birth_date"), women)).alias("_stem"))
    p = p.with_columns(
        (pl.col("_stem") * 10_000 + pl.int_range(1, pl.len() + 1, dtype=pl.Int64).over("_stem"))
        .cast(pl.String).alias("nik"),
    ).drop("_stem")
    # KK issue: after the head turned 17 and after the youngest member's
    # birth, within the last 20 years (one draw per family). Heads are the
    # first row of each family and families are numbered 0.. in row order.
    epoch = (today - date(1970, 1, 1)).days
    youngest = p.group_by("fid").agg(pl.col("age_days").min().alias("youngest")).sort("fid")
    heads = p.filter(pl.col("shdk") == 1).select("fid", "kec", "head_days", "_u_kk_issue")
    heads = heads.with_columns(youngest.get_column("youngest"))
    span = pl.min_horizontal(pl.col("head_days") - AGE_17, pl.col("youngest"),
                             pl.lit(int(20 * YEAR)))
    issued = (pl.lit(epoch, pl.Int32) - (U("kk_issue") * span).cast(pl.Int32)).cast(pl.Date)
    heads = heads.with_columns((kec * 1_000_000 + ddmmyy(issued)).alias("_stem"))
    kk = heads.select(
        (pl.col("_stem") * 10_000 + pl.int_range(1, pl.len() + 1, dtype=pl.Int64)
         .over("_stem")).cast(pl.String).alias("kk_number"))
    return p.with_columns(kk.get_column("kk_number").gather(p.get_column("fid")))
