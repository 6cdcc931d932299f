"""A synthetic registry: families and persons that look true, for demos and benchmarks.

``generate(villages, persons=N)`` returns one row per person with the
headers of the Sinergi import template (sinergi/imports/columns.py), every
value as text, so ``df.write_csv(path)`` imports through the real pipeline
with format "sinergi". Nothing here is a real person: names are drawn from
name and syllable lists, identifiers are built from the rules.

What it models (docs/domain.md §2-3):

- families of 1-7 persons (mean about 3.3): a head (SHDK 1; about 15 %
  women), a wife (3) or, in a female-headed family, sometimes a husband (2),
  children (4), sometimes grandchildren (6) or a parent of the head (7);
  every child is 18-45 years younger than its mother (or father), a parent
  of the head 18-45 years older, so ages on one card are consistent;
- an Indonesian-looking age-sex pyramid (wide base, narrowing after 50);
- NIK = kecamatan digits of the village + birth date DDMMYY (day + 40 for
  women) + a serial unique per (kecamatan, date): every NIK is unique;
  No. KK = kecamatan digits + an issue date after the head's 17th birthday
  and after the youngest member's birth (the card is re-issued on a birth)
  + a serial unique per (kecamatan, date);
- a DTSEN welfare desil per family, poorer in some kecamatan than others
  (and varying by village), the DTSEN flag mostly for desil <= 6, PBI health
  insurance mostly for desil <= 4, monthly income per earning adult
  log-normal around a median that rises with the desil;
- education, occupation, marital status, KB method by age and sex;
  religion mostly Islam, with the Buddhist / Khonghucu / Christian minorities
  of Bangka Belitung (more in towns), Chinese-Indonesian names for the
  Buddhist and Khonghucu families.

Defects: with ``bad_fraction`` f, row i (0-based, in output order) is bad
when ``i % round(1/f) == 0``; its defect is ``DEFECTS[(i // round(1/f)) %
len(DEFECTS)]``. ``defect_plan`` lists them, ``REJECTING_DEFECTS`` names the
ones the import rejects (the others are accepted with a warning), so a test
or a benchmark knows exactly how many rejections to expect.

Randomness: every column is a function of (seed, stream name, row or family
index) through a splitmix64 finaliser computed with polars integer
arithmetic, seeded from Python's ``random``; so the whole generation is
vectorised, and the same seed gives the same rows on any machine and polars
version (no ``Expr.hash``, whose values may change between versions).
"""

from __future__ import annotations

import math
import random
import re
from collections.abc import Sequence
from datetime import date

import polars as pl

# Template headers (sinergi/imports/columns.py CANONICAL), in template order.
HEADERS = {
    "kk_number": "No KK",
    "nik": "NIK",
    "name": "Nama",
    "sex": "Jenis Kelamin",
    "birth_place": "Tempat Lahir",
    "birth_date": "Tanggal Lahir",
    "shdk": "Hubungan dalam Keluarga",
    "village_code": "Kode Wilayah",
    "dusun": "Dusun",
    "rw": "RW",
    "rt": "RT",
    "address": "Alamat",
    "religion": "Agama",
    "marital_status": "Status Perkawinan",
    "education": "Pendidikan",
    "occupation": "Pekerjaan",
    "disability": "Disabilitas",
    "has_birth_certificate": "Akta Kelahiran",
    "has_ktp_el": "KTP-el",
    "health_insurance": "Jaminan Kesehatan",
    "kb_method": "Metode KB",
    "monthly_income": "Penghasilan per Bulan",
    "desil": "Desil",
    "in_dtsen": "DTSEN",
}

# Row defects, in the order they cycle through the bad rows.
DEFECTS = (
    "nik_15_digits",      # a digit lost                       -> nik_format (error)
    "nik_scientific",     # "1.90401E+15", typed as a number   -> error
    "nik_bad_date",       # month 13 in the NIK                -> nik_date (error)
    "sex_mismatch",       # sex column contradicts the NIK     -> warning, accepted
    "bad_date_text",      # "30/02/1985", "00/00/0000", "TIDAK TAHU" -> error
    "name_missing",       # empty name                         -> name_missing (error)
    "duplicate_nik",      # the NIK of the row before          -> nik_duplicate_in_file (error)
    "shdk_unknown",       # SHDK code 12 (there is no 12)      -> error
    "kk_serial_0000",     # KK number ending 0000              -> kk_serial (error)
)
# The defects that make the import reject the row. A duplicate NIK rejects
# only the later row (this one; the earlier row is good and stands); a sex
# that contradicts the NIK is a warning: the person exists, one of the two
# fields was typed wrong.
REJECTING_DEFECTS = frozenset(DEFECTS) - {"sex_mismatch"}

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
TEXT_STREAMS = ("name_pattern", "g", "s", "mp", "ms", "fp", "fs", "c1", "c2", "birth_place",
                "migrant", "chinese_name")

_VILLAGE_RE = re.compile(r"^\d{2}\.\d{2}\.\d{2}\.\d{4}$")
_U64 = pl.UInt64

# Family size 1..7, mean 3.32 (Susenas: about 3.3-3.5 persons per household).
FAMILY_SIZES = [(1, 12), (2, 20), (3, 25), (4, 22), (5, 12), (6, 6), (7, 3)]

# Median monthly income (Rp) of an earner per desil; values spread log-normally
# and are kept within 0.6x-1.6x of the median (desil 1: ~340k-900k, desil 10: ~7.5-20 M).
INCOME_MEDIAN = {1: 560_000, 2: 900_000, 3: 1_300_000, 4: 1_750_000, 5: 2_300_000,
                 6: 3_000_000, 7: 3_900_000, 8: 5_200_000, 9: 7_300_000, 10: 12_500_000}

MALE_GIVEN = (
    "AHMAD", "MUHAMMAD", "ABDUL", "AGUS", "BUDI", "RUDI", "HENDRA", "DEDI", "EKO", "JOKO",
    "RIZKI", "FAJAR", "ANDI", "YUSUF", "HASAN", "IRWAN", "RAHMAT", "ARIF", "DONI", "FIRMAN",
    "HERU", "IMAM", "JUNAIDI", "LUKMAN", "MAHMUD", "NANANG", "RAMLI", "SAIFUL", "TAUFIK",
    "UMAR", "WAHYU", "YOGA", "ZAINAL", "BAYU", "DIMAS", "GILANG", "ILHAM", "RENDI", "ADITYA",
    "ARYA", "FADLI", "HAFIZ", "IQBAL", "NAUFAL", "RAFI", "SYAHRUL", "ZULKIFLI", "ROSYID",
    "AMIR", "FERRY",
)
MALE_SECOND = (
    "SAPUTRA", "PRATAMA", "HIDAYAT", "KURNIAWAN", "SETIAWAN", "NUGROHO", "SANTOSO", "WIBOWO",
    "RAMADHAN", "FIRMANSYAH", "HAKIM", "RAHMAN", "HALIM", "SYAHPUTRA", "MAULANA",
    "ARDIANSYAH", "GUNAWAN", "HERMAWAN", "SUSANTO", "FAUZI", "EFENDI", "ISKANDAR", "SURYADI",
    "WIJAYA", "AKBAR", "HABIBI", "ANSORI", "MUSTOFA",
)
MALE_PREFIX = ("SU", "HAR", "SUR", "WAR", "SUP", "SUG", "DAR", "SUK", "PAR", "MUL", "SLAM",
               "TUK", "KAS", "RUS")
MALE_SUFFIX = ("YANTO", "YONO", "ADI", "MAN", "DI", "WANTO", "NO", "JONO", "IMAN", "IYANTO",
               "SANTO", "MIN", "TONO", "JO")
FEMALE_GIVEN = (
    "SITI", "NUR", "DEWI", "SRI", "RINA", "YUNI", "FITRI", "AYU", "INDAH", "PUTRI", "RATNA",
    "LINDA", "MAYA", "NOVI", "WULAN", "DIAN", "EKA", "FARAH", "ANISA", "AISYAH", "NURUL",
    "RAHMA", "SALSA", "NABILA", "ZAHRA", "KARTIKA", "MELATI", "YULIA", "HAFSAH", "MARYAM",
    "ROSITA", "SUSI", "TUTI", "ERNA", "HANA", "INTAN", "JULI", "NADIA", "LIA", "RENI",
)
FEMALE_SECOND = (
    "LESTARI", "RAHAYU", "WULANDARI", "PERMATASARI", "NINGSIH", "SARI", "AMINAH", "FATIMAH",
    "HANDAYANI", "KUSUMAWATI", "PURNAMASARI", "SAFITRI", "RAMADHANI", "OKTAVIANI",
    "ANGGRAINI", "MAHARANI", "PUSPITA", "AULIA", "NURHAYATI", "MARLINA", "SUSANTI",
    "YULIANTI", "KURNIASIH", "HASANAH", "KHOIRIYAH", "MARDIANA",
)
FEMALE_PREFIX = ("SRI", "SU", "TRI", "DWI", "RUS", "MAR", "WID", "YU", "SUM", "PAR", "KAR",
                 "SUL", "NGA", "JUM")
FEMALE_SUFFIX = ("YATI", "WATI", "NI", "YANI", "TINI", "SIH", "NAH", "MI", "ARTI", "IYAH",
                 "INAH", "ANTI", "ASIH", "IYEM")
# Chinese-Indonesian families of Bangka Belitung: a surname and two syllables.
CHINESE_SURNAME = ("LIM", "TAN", "BONG", "LIE", "THAM", "CHANG", "LIU", "WONG", "NG", "KHO",
                   "FU", "HO", "JAP", "TJHIN", "CHIN", "PHANG")
CHINESE_SYLLABLE = ("AH", "KIM", "LIAN", "MEI", "FUNG", "SIN", "HUI", "KIAT", "HONG", "JUN",
                    "LI", "PIN", "MOI", "KUI", "SIONG", "FA", "CHAI", "NYUK")
STREETS = ("MERDEKA", "SUDIRMAN", "PAHLAWAN", "MELATI", "MAWAR", "KENANGA", "MASJID",
           "PANTAI", "KAMPUNG BARU", "RAYA", "SEKOLAH", "PASAR", "KELAPA", "LADA", "TIMAH",
           "BAKTI", "KARYA", "DAMAI", "SEJAHTERA", "PELABUHAN", "KEBUN", "SUNGAI", "BUKIT",
           "SAWAH", "CEMPAKA", "ANGGREK")
ROMAN = ("I", "II", "III", "IV", "V", "VI")
# Towns of birth: the kabupaten/kota's own towns, then where migrants come from.
LOCAL_TOWNS = {
    "19.01": ("SUNGAILIAT", "BELINYU"), "19.02": ("TANJUNG PANDAN", "MEMBALONG"),
    "19.03": ("TOBOALI", "PAYUNG"), "19.04": ("KOBA", "PANGKALAN BARU"),
    "19.05": ("MUNTOK", "JEBUS"), "19.06": ("MANGGAR", "GANTUNG"),
    "19.71": ("PANGKALPINANG", "PANGKALPINANG"),
}
OTHER_TOWNS = ("PALEMBANG", "JAKARTA", "MEDAN", "PONTIANAK", "SEMARANG", "SURABAYA", "PADANG",
               "BANDUNG", "JAMBI", "BANDAR LAMPUNG", "PANGKALPINANG", "YOGYAKARTA")


def defect_plan(persons: int, bad_fraction: float) -> list[tuple[int, str]]:
    """(row index, defect) of every bad row ``generate`` makes."""
    step = _bad_step(bad_fraction)
    if step is None:
        return []
    return [(i, DEFECTS[(i // step) % len(DEFECTS)]) for i in range(0, persons, step)]


def expected_rejections(persons: int, bad_fraction: float) -> int:
    """How many rows the import rejects in a generated file."""
    return sum(1 for _i, d in defect_plan(persons, bad_fraction) if d in REJECTING_DEFECTS)


def _bad_step(bad_fraction: float) -> int | None:
    if bad_fraction <= 0:
        return None
    if bad_fraction > 0.5:
        raise ValueError("bad_fraction must be at most 0.5 (a bad row copies its good "
                         "neighbour's NIK)")
    return max(2, round(1 / bad_fraction))


# --- randomness ------------------------------------------------------------------------


class _Random:
    """Uniform [0, 1) streams: splitmix64 of a row index, one stream per name.

    ``draw`` adds the streams as columns ``_u_<name>`` once, so expressions
    that use a draw many times (a weighted choice compares it with every
    threshold) read a column instead of recomputing the hash.
    """

    def __init__(self, seed: int):
        self.seed = seed

    def params(self, stream: str) -> tuple[int, int]:
        rng = random.Random(f"sinergi-synthetic:{self.seed}:{stream}")
        return rng.getrandbits(64) | 1, rng.getrandbits(64)

    def expr(self, index: str, stream: str) -> pl.Expr:
        a, b = self.params(stream)
        z = pl.col(index).cast(_U64) * pl.lit(a, _U64) + pl.lit(b, _U64)
        z = (z ^ (z // pl.lit(1 << 30, _U64))) * pl.lit(0xBF58476D1CE4E5B9, _U64)
        z = (z ^ (z // pl.lit(1 << 27, _U64))) * pl.lit(0x94D049BB133111EB, _U64)
        z = z ^ (z // pl.lit(1 << 31, _U64))
        return ((z // pl.lit(1 << 11, _U64)).cast(pl.Float64) * (2.0 ** -53)).alias(
            "_u_" + stream)

    def draw(self, df: pl.DataFrame, index: str, *streams: str) -> pl.DataFrame:
        return df.with_columns([self.expr(index, s) for s in streams])


def U(stream: str) -> pl.Expr:
    """A drawn uniform (see ``_Random.draw``)."""
    return pl.col("_u_" + stream)


def _normal(a: str, b: str) -> pl.Expr:
    """Standard normal from two drawn uniforms (Box-Muller)."""
    return (-2.0 * (1.0 - U(a)).log()).sqrt() * (2 * math.pi * U(b)).cos()


def _choice(u: pl.Expr, options: Sequence[tuple[object, float]],
            dtype: pl.DataType = pl.Int16) -> pl.Expr:
    """A value drawn with the given weights, from one uniform."""
    total = float(sum(w for _v, w in options))
    if len(options) == 1:
        return pl.lit(options[0][0], dtype)
    chain = None
    cum = 0.0
    for value, weight in options[:-1]:
        cum += weight / total
        cond = u < cum
        chain = (pl.when(cond) if chain is None else chain.when(cond)).then(
            pl.lit(value, dtype))
    return chain.otherwise(pl.lit(options[-1][0], dtype))


def _pick(u: pl.Expr, values: Sequence[str]) -> pl.Expr:
    """One of ``values``, uniformly."""
    idx = (u * len(values)).floor().cast(pl.Int32).clip(0, len(values) - 1)
    return pl.lit(pl.Series(values, dtype=pl.String)).gather(idx)


# --- villages --------------------------------------------------------------------------


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


# --- generation ------------------------------------------------------------------------


def generate(villages: list[str], *, persons: int, seed: int = 1, bad_fraction: float = 0.0,
             today: date | None = None) -> pl.DataFrame:
    """``persons`` rows of a synthetic registry over ``villages`` (dotted village codes).

    Returns String columns named as the Sinergi template's headers
    (``HEADERS``), families in village order, members of a family together,
    head first. See the module doc for what is modelled and for defects.
    """
    villages = list(dict.fromkeys(villages))
    if not villages:
        raise ValueError("no villages")
    bad = [v for v in villages if not _VILLAGE_RE.match(v)]
    if bad:
        raise ValueError(f"not a village code: {bad[0]!r} (expected PP.KK.CC.DDDD)")
    if persons <= 0:
        return pl.DataFrame(schema=dict.fromkeys(HEADERS.values(), pl.String))
    step = _bad_step(bad_fraction)
    today = today or date.today()
    rnd = _Random(seed)
    fam = _families(rnd, villages, persons, seed)
    people = _members(rnd, fam, today)
    people = _attributes(rnd, people)
    people = _identifiers(people, today)
    out = _texts(rnd, people)
    if step is not None:
        out = _defects(out, step)
    return out.select([pl.col(c).alias(h) for c, h in HEADERS.items()])


def _families(rnd: _Random, villages: list[str], persons: int, seed: int) -> pl.DataFrame:
    """One row per family: size, village and the family-wide draws."""
    n = int(persons / 3.2) + 16
    while True:
        fam = rnd.draw(pl.select(fid=pl.int_range(n, dtype=pl.UInt32)), "fid", "size")
        fam = fam.with_columns(_choice(U("size"), FAMILY_SIZES, pl.Int32).alias("size"))
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
    return pl.when(urban).then(_choice(u, town)).otherwise(_choice(u, rural))


def _health(u: pl.Expr, desil: pl.Expr) -> pl.Expr:
    return (pl.when(desil <= 4).then(_choice(u, [(2, 82), (3, 8), (1, 10)]))
            .when(desil <= 6).then(_choice(u, [(2, 40), (3, 45), (1, 15)]))
            .otherwise(_choice(u, [(2, 6), (3, 82), (1, 8), (99, 4)])))


def _members(rnd: _Random, fam: pl.DataFrame, today: date) -> pl.DataFrame:
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


def _attributes(rnd: _Random, p: pl.DataFrame) -> pl.DataFrame:
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
        return (pl.when(wealth == 0).then(_choice(ue, table["low"]))
                .when(wealth == 1).then(_choice(ue, table["mid"]))
                .otherwise(_choice(ue, table["high"])))

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
    male_work = _choice(uw, [(9, 22), (11, 10), (19, 14), (15, 14), (88, 12), (84, 7),
                             (20, 5), (81, 3), (26, 3), (12, 2), (14, 2), (1, 6)])
    male_work_hi = _choice(uw, [(5, 25), (65, 15), (15, 25), (88, 12), (16, 5), (72, 2),
                                (74, 3), (64, 2), (70, 3), (18, 8)])
    female_work = _choice(uw, [(2, 45), (84, 10), (9, 8), (15, 8), (88, 7), (19, 4), (30, 3),
                               (1, 10), (65, 3), (18, 2)])
    female_work_hi = _choice(uw, [(65, 25), (5, 15), (15, 20), (74, 8), (73, 7), (2, 15),
                                  (88, 10)])
    old_work = (pl.when((edu >= 5) & (uw < 0.3)).then(4)
                .when(female).then(_choice(uw, [(2, 60), (1, 30), (84, 10)]))
                .otherwise(_choice(uw, [(9, 30), (1, 45), (84, 10), (88, 15)])))
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
            .otherwise(_choice(um, [(4, 50), (3, 30), (1, 20)])))
        .when(role == 7).then(pl.when(um < 0.9).then(4).otherwise(3))
        .when((role == 4) & (age >= 22)).then(pl.when(um < 0.94).then(1).otherwise(3))
        .otherwise(1).cast(pl.Int16).alias("marital_status"),
    )
    # Income: earners only (not children, pupils, housewives, the jobless).
    median = pl.col("desil").replace_strict(INCOME_MEDIAN, return_dtype=pl.Float64)
    spread = (0.35 * _normal("income1", "income2")).exp().clip(0.6, 1.6)
    earner = ~occ.is_in([1, 2, 3]) | ((occ == 3) & (age >= 18) & (U("side_job") < 0.05))
    factor = pl.when(occ == 3).then(0.3).when(occ == 4).then(0.8).otherwise(1.0)
    p = p.with_columns(
        pl.when(earner).then(((median * spread * factor) / 10_000).round(0) * 10_000)
        .cast(pl.Int64).alias("monthly_income"),
        # KB: married women 15-49, about 55 % on a method, mostly injection and pill.
        pl.when(female & (pl.col("marital_status") == 2) & (age >= 15) & (age < 50)
                & (U("kb_on") < 0.55))
        .then(_choice(U("kb"), [(3, 60), (1, 18), (5, 9), (2, 7), (6, 3), (4, 3)]))
        .cast(pl.Int16).alias("kb_method"),
        pl.when(U("disability") < 0.012 + 0.04 * (age >= 65).cast(pl.Float64))
        .then(_choice(U("disability_kind"), [(1, 45), (2, 15), (3, 15), (4, 15),
                                                    (5, 5), (6, 5)]))
        .otherwise(7).cast(pl.Int16).alias("disability"),
        (U("akta") < pl.when(age < 18).then(0.93).when(age < 40).then(0.8)
         .otherwise(0.45)).alias("has_birth_certificate"),
        pl.when(age >= 17).then(U("ktp") < 0.95).alias("has_ktp_el"),
    )
    return p.drop(["_u_" + s for s in ATTRIBUTE_STREAMS])


def _identifiers(p: pl.DataFrame, today: date) -> pl.DataFrame:
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


def _texts(rnd: _Random, p: pl.DataFrame) -> pl.DataFrame:
    """Every output column as text."""
    p = rnd.draw(p, "pid", *TEXT_STREAMS)
    female = pl.col("female")
    chinese = pl.col("religion").is_in([5, 6])

    # A given name and a second name, or a Javanese-style name of two
    # syllables, or a given name and such a name, or a given name alone.
    p = p.with_columns(
        pl.when(female).then(_pick(U("g"), FEMALE_GIVEN))
        .otherwise(_pick(U("g"), MALE_GIVEN)).alias("_given"),
        pl.when(female).then(_pick(U("s"), FEMALE_SECOND))
        .otherwise(_pick(U("s"), MALE_SECOND)).alias("_second"),
        pl.when(female).then(pl.concat_str([_pick(U("fp"), FEMALE_PREFIX),
                                            _pick(U("fs"), FEMALE_SUFFIX)]))
        .otherwise(pl.concat_str([_pick(U("mp"), MALE_PREFIX), _pick(U("ms"), MALE_SUFFIX)]))
        .alias("_syllables"),
    )
    un = U("name_pattern")
    given, second, syllables = pl.col("_given"), pl.col("_second"), pl.col("_syllables")
    plain_name = (pl.when(un < 0.45).then(pl.concat_str([given, second], separator=" "))
                  .when(un < 0.75).then(syllables)
                  .when(un < 0.9).then(pl.concat_str([given, syllables], separator=" "))
                  .otherwise(given))
    chinese_name = pl.concat_str([_pick(U("surname"), CHINESE_SURNAME),
                                  _pick(U("c1"), CHINESE_SYLLABLE),
                                  _pick(U("c2"), CHINESE_SYLLABLE)], separator=" ")
    ub = U("birth_place")
    place = (pl.when(pl.col("age") < 18).then(
        pl.when(ub < 0.8).then(pl.col("town_a")).otherwise(pl.col("town_b")))
        .when(ub < 0.6).then(pl.col("town_a"))
        .when(ub < 0.82).then(pl.col("town_b"))
        .otherwise(_pick(U("migrant"), OTHER_TOWNS)))

    def code(col):
        return pl.col(col).cast(pl.String)

    def yes_no(col):
        return pl.when(pl.col(col)).then(pl.lit("Ya")).when(~pl.col(col)).then(pl.lit("Tidak"))

    def number(expr, width=3):
        return expr.cast(pl.String).str.zfill(width)

    n_dusun, n_rw, n_rt = pl.col("n_dusun"), pl.col("n_rw"), pl.col("n_rt")
    dusun_no = (U("dusun") * n_dusun).floor().cast(pl.Int32).clip(0, len(ROMAN) - 1)
    return p.with_columns(
        pl.when(chinese & (U("chinese_name") < 0.7)).then(chinese_name)
        .otherwise(plain_name).alias("name"),
        pl.when(female).then(pl.lit("P")).otherwise(pl.lit("L")).alias("sex"),
        place.alias("birth_place"),
        pl.col("birth_date").dt.strftime("%d/%m/%Y").alias("birth_date"),
        code("shdk").alias("shdk"),
        pl.concat_str([pl.when(pl.col("urban")).then(pl.lit("LINGKUNGAN"))
                       .otherwise(pl.lit("DUSUN")),
                       dusun_no.replace_strict(dict(enumerate(ROMAN)), return_dtype=pl.String)],
                      separator=" ").alias("dusun"),
        number(1 + (U("rw") * n_rw).floor().cast(pl.Int32)).alias("rw"),
        number(1 + (U("rt") * n_rt).floor().cast(pl.Int32)).alias("rt"),
        pl.concat_str([pl.when(U("gang") < 0.3).then(pl.lit("GG.")).otherwise(
            pl.lit("JL.")), _pick(U("street"), STREETS), pl.lit("NO."),
            (1 + (U("house") * 120).floor().cast(pl.Int32)).cast(pl.String)],
            separator=" ").alias("address"),
        *[code(c).alias(c) for c in ("religion", "marital_status", "education", "occupation",
                                     "disability", "health_insurance", "kb_method",
                                     "monthly_income", "desil")],
        yes_no("has_birth_certificate").alias("has_birth_certificate"),
        yes_no("has_ktp_el").alias("has_ktp_el"),
        yes_no("in_dtsen").alias("in_dtsen"),
    ).select(["pid", *HEADERS])


def _defects(out: pl.DataFrame, step: int) -> pl.DataFrame:
    """Give every ``step``-th row one defect, cycling through ``DEFECTS``."""
    i = pl.col("pid").cast(pl.Int64)
    is_bad = (i % step) == 0
    kind = (i // step) % len(DEFECTS)

    def when(defect: str) -> pl.Expr:
        return is_bad & (kind == DEFECTS.index(defect))

    nik = pl.col("nik")
    decimals = nik.str.slice(1, 5).str.strip_chars_end("0")
    scientific = pl.concat_str([nik.str.slice(0, 1), pl.lit("."), decimals, pl.lit("E+15")])
    bad_dates = ("30/02/", "00/00/", "TIDAK TAHU")
    which_date = (i // (step * len(DEFECTS))) % len(bad_dates)
    year = pl.col("birth_date").str.slice(6, 4)
    bad_date = (pl.when(which_date == 0).then(pl.concat_str([pl.lit(bad_dates[0]), year]))
                .when(which_date == 1).then(pl.lit("00/00/0000"))
                .otherwise(pl.lit(bad_dates[2])))
    return out.with_columns(
        pl.when(when("nik_15_digits")).then(nik.str.slice(0, 15))
        .when(when("nik_scientific")).then(scientific)
        .when(when("nik_bad_date")).then(pl.concat_str([nik.str.slice(0, 8), pl.lit("13"),
                                                        nik.str.slice(10, 6)]))
        .when(when("duplicate_nik")).then(nik.shift(1))
        .otherwise(nik).alias("nik"),
        pl.when(when("sex_mismatch")).then(
            pl.when(pl.col("sex") == "L").then(pl.lit("P")).otherwise(pl.lit("L")))
        .otherwise(pl.col("sex")).alias("sex"),
        pl.when(when("bad_date_text")).then(bad_date).otherwise(pl.col("birth_date"))
        .alias("birth_date"),
        pl.when(when("name_missing")).then(None).otherwise(pl.col("name")).alias("name"),
        pl.when(when("shdk_unknown")).then(pl.lit("12")).otherwise(pl.col("shdk"))
        .alias("shdk"),
        pl.when(when("kk_serial_0000")).then(
            pl.concat_str([pl.col("kk_number").str.slice(0, 12), pl.lit("0000")]))
        .otherwise(pl.col("kk_number")).alias("kk_number"),
    )
