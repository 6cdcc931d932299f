"""The synthetic registry: structurally valid, true-looking, deterministic, with
exactly the defects it announces."""

import datetime
import re
from functools import cache

import polars as pl

from sinergi.imports import columns, services
from sinergi.imports.models import DONE, ImportIssue
from sinergi.regions.models import Region
from sinergi.registry import identifiers, synthetic

TODAY = datetime.date(2026, 1, 15)
# Real Bangka Belitung codes: kelurahan (1xxx) and desa (2xxx) of four kecamatan.
VILLAGES = ["19.04.01.1001", "19.04.01.2003", "19.04.02.2001", "19.04.02.2002",
            "19.03.01.2001", "19.71.01.1001", "19.71.01.1002", "19.02.03.2004"]
H = synthetic.HEADERS


@cache
def registry(persons=40_000, seed=1, bad_fraction=0.0) -> pl.DataFrame:
    return synthetic.generate(VILLAGES, persons=persons, seed=seed, bad_fraction=bad_fraction,
                              today=TODAY)


def typed(df: pl.DataFrame) -> pl.DataFrame:
    """The columns the identifier rules read, typed as the import types them."""
    return df.select(
        pl.int_range(pl.len(), dtype=pl.UInt32).alias("__row"),
        pl.col(H["nik"]).alias("nik"),
        pl.col(H["kk_number"]).alias("kk_number"),
        pl.col(H["sex"]).alias("sex"),
        pl.col(H["birth_date"]).str.to_date("%d/%m/%Y", strict=False).alias("birth_date"),
        pl.col(H["shdk"]).cast(pl.Int16).alias("shdk"),
        pl.col(H["village_code"]).alias("village"),
        pl.col(H["desil"]).cast(pl.Int16).alias("desil"),
        pl.col(H["monthly_income"]).cast(pl.Int64).alias("income"),
    )


def test_the_file_has_the_sinergi_template_headers():
    df = registry()
    mapping = columns.map_columns(df.columns, "sinergi")
    assert mapping.unknown == [] and mapping.missing_required == []
    assert columns.detect_format(df.columns) == "sinergi"
    assert all(dtype == pl.String for dtype in df.dtypes)
    assert df.height == 40_000


def test_every_nik_and_kk_number_passes_the_identifier_rules(world):
    villages = list(Region.objects.filter(code__startswith="19.", level=4, retired_in="")
                    .values_list("code", flat=True))
    df = typed(synthetic.generate(villages, persons=30_000, seed=7, today=TODAY))
    prefixes = identifiers.known_kecamatan_prefixes()
    findings = pl.concat([identifiers.nik_findings(df, prefixes),
                          identifiers.kk_findings(df, prefixes)])
    # No error, and no warning either: sex and birth date agree with every NIK.
    assert findings.is_empty(), findings.head()


def test_niks_are_unique_and_carry_the_village_kecamatan_sex_and_birth_date():
    df = typed(registry())
    assert df.get_column("nik").n_unique() == df.height
    assert df.select(pl.col("nik").str.contains(r"^\d{16}$").all()).item()
    kec = pl.col("village").str.slice(0, 8).str.replace_all(".", "", literal=True)
    dd = pl.col("nik").str.slice(6, 2).cast(pl.Int32)
    check = df.select(
        (pl.col("nik").str.slice(0, 6) == kec).all().alias("region"),
        ((dd > 40) == (pl.col("sex") == "P")).all().alias("sex"),
        ((dd - pl.when(dd > 40).then(40).otherwise(0)) == pl.col("birth_date").dt.day())
        .all().alias("day"),
        (pl.col("nik").str.slice(8, 2).cast(pl.Int32) == pl.col("birth_date").dt.month())
        .all().alias("month"),
        (pl.col("nik").str.slice(10, 2).cast(pl.Int32) == pl.col("birth_date").dt.year() % 100)
        .all().alias("year"),
    )
    assert check.row(0) == (True,) * 5


def test_kk_numbers_are_issued_after_the_head_turned_17_and_not_in_the_future():
    df = typed(registry())
    heads = df.filter(pl.col("shdk") == 1).with_columns(
        pl.date(2000 + pl.col("kk_number").str.slice(10, 2).cast(pl.Int32),
                pl.col("kk_number").str.slice(8, 2).cast(pl.Int32),
                pl.col("kk_number").str.slice(6, 2).cast(pl.Int32)).alias("issued"))
    assert heads.select(
        (pl.col("issued") >= pl.col("birth_date").dt.offset_by("17y")).all().alias("adult"),
        (pl.col("issued") <= TODAY).all().alias("past")).row(0) == (True, True)
    assert heads.select(pl.col("kk_number").str.slice(0, 6)
                        == pl.col("nik").str.slice(0, 6)).to_series().all()


def test_every_family_has_one_head_and_about_three_persons():
    df = typed(registry())
    families = df.group_by("kk_number").agg(
        (pl.col("shdk") == 1).sum().alias("heads"), pl.len().alias("size"),
        pl.col("village").n_unique().alias("villages"))
    assert families.get_column("heads").eq(1).all()
    assert families.get_column("villages").eq(1).all()
    assert families.get_column("size").is_between(1, 7).all()
    assert 3.0 <= df.height / families.height <= 3.6
    # Head first, then the others, members of a family together.
    assert df.filter(pl.col("kk_number") != pl.col("kk_number").shift(1)).get_column(
        "shdk").eq(1).all()


def test_ages_on_a_card_are_consistent():
    df = typed(registry())
    heads = df.filter(pl.col("shdk") == 1).select("kk_number", pl.col("birth_date").alias("h"),
                                                  pl.col("sex").alias("hs"))
    spouses = df.filter(pl.col("shdk").is_in([2, 3])).select(
        "kk_number", pl.col("birth_date").alias("s"))
    assert spouses.get_column("kk_number").n_unique() == spouses.height
    fam = df.join(heads, on="kk_number").join(spouses, on="kk_number", how="left")
    children = fam.filter(pl.col("shdk") == 4)
    for parent in ("h", "s"):
        gap = children.filter(pl.col(parent).is_not_null())
        assert gap.select(
            (pl.col("birth_date") >= pl.col(parent).dt.offset_by("18y")).all().alias("min"),
            (pl.col("birth_date") <= pl.col(parent).dt.offset_by("45y")).all().alias("max"),
        ).row(0) == (True, True)
    parents = fam.filter(pl.col("shdk") == 7)
    assert parents.select(
        (pl.col("h") >= pl.col("birth_date").dt.offset_by("18y")).all().alias("min"),
        (pl.col("h") <= pl.col("birth_date").dt.offset_by("45y")).all().alias("max"),
    ).row(0) == (True, True)
    grandchildren = fam.filter(pl.col("shdk") == 6)
    assert (grandchildren.get_column("birth_date")
            >= grandchildren.get_column("h").dt.offset_by("36y")).all()


def test_heads_are_mostly_men_and_the_population_a_pyramid():
    df = typed(registry())
    heads = df.filter(pl.col("shdk") == 1)
    assert 0.10 <= heads.get_column("sex").eq("P").mean() <= 0.20
    assert 0.47 <= df.get_column("sex").eq("P").mean() <= 0.53
    husbands = df.filter(pl.col("shdk") == 2).join(heads, on="kk_number")
    assert husbands.get_column("sex_right").eq("P").all()
    age = (pl.lit(TODAY) - pl.col("birth_date")).dt.total_days() / 365.2425
    share = df.select((age < 15).mean().alias("young"), (age >= 65).mean().alias("old"),
                      age.is_between(50, 55, closed="left").mean().alias("fifties"),
                      age.is_between(5, 10, closed="left").mean().alias("five"))
    young, old, fifties, five = share.row(0)
    assert 0.18 <= young <= 0.32 and 0.03 <= old <= 0.10
    assert five > fifties  # wide base, narrowing after 50


def test_income_rises_with_the_desil_and_children_have_none():
    df = typed(registry())
    means = (df.filter(pl.col("income").is_not_null()).group_by("desil")
             .agg(pl.col("income").mean()).sort("desil").get_column("income").to_list())
    assert len(means) == 10
    assert means == sorted(means)
    assert 300_000 <= means[0] <= 900_000 and 8_000_000 <= means[-1] <= 20_000_000
    age = (pl.lit(TODAY) - pl.col("birth_date")).dt.total_days() / 365.2425
    assert df.filter(age < 15).get_column("income").is_null().all()
    # One desil per family; DTSEN mostly for desil <= 6.
    raw = registry()
    per_family = raw.group_by(H["kk_number"]).agg(pl.col(H["desil"]).n_unique(),
                                                  pl.col(H["in_dtsen"]).first())
    assert per_family.get_column(H["desil"]).eq(1).all()
    dtsen = raw.group_by(pl.col(H["desil"]).cast(pl.Int16) <= 6).agg(
        pl.col(H["in_dtsen"]).eq("Ya").mean()).sort(H["desil"])
    assert dtsen.row(0)[1] < 0.2 and dtsen.row(1)[1] > 0.8


def test_the_same_seed_gives_the_same_rows():
    a = synthetic.generate(VILLAGES, persons=5_000, seed=3, today=TODAY, bad_fraction=0.01)
    b = synthetic.generate(VILLAGES, persons=5_000, seed=3, today=TODAY, bad_fraction=0.01)
    c = synthetic.generate(VILLAGES, persons=5_000, seed=4, today=TODAY, bad_fraction=0.01)
    assert a.equals(b)
    assert not a.equals(c)


def test_bad_rows_are_the_announced_ones():
    clean, bad = registry(20_000), registry(20_000, bad_fraction=0.01)
    plan = synthetic.defect_plan(20_000, 0.01)
    assert len(plan) == 200 and {d for _i, d in plan} == set(synthetic.DEFECTS)
    assert synthetic.expected_rejections(20_000, 0.01) == sum(
        1 for _i, d in plan if d != "sex_mismatch")
    changed = clean.with_row_index("i").join(bad.with_row_index("i"), on="i", suffix="_bad")
    differs = pl.any_horizontal([
        pl.col(c).ne_missing(pl.col(c + "_bad")) for c in clean.columns])
    assert changed.filter(differs).get_column("i").to_list() == [i for i, _d in plan]
    rows = dict(plan)
    sample = {d: i for i, d in reversed(plan)}  # first row of each defect
    nik = bad.get_column(H["nik"])
    assert len(nik[sample["nik_15_digits"]]) == 15
    assert nik[sample["nik_scientific"]].endswith("E+15")
    assert nik[sample["nik_bad_date"]][8:10] == "13"
    assert nik[sample["duplicate_nik"]] == nik[sample["duplicate_nik"] - 1]
    assert bad.get_column(H["name"])[sample["name_missing"]] is None
    assert bad.get_column(H["shdk"])[sample["shdk_unknown"]] == "12"
    assert bad.get_column(H["kk_number"])[sample["kk_serial_0000"]].endswith("0000")
    assert rows[0] == "nik_15_digits"


def test_a_generated_file_imports_with_exactly_the_expected_rejections(world, tmp_path,
                                                                       settings):
    settings.MEDIA_ROOT = tmp_path / "media"
    villages = list(Region.objects.filter(code__startswith="19.04.", level=4, retired_in="")
                    .values_list("code", flat=True))
    persons, fraction = 3_000, 0.01
    df = synthetic.generate(villages, persons=persons, seed=5, bad_fraction=fraction)
    path = tmp_path / "synthetic.csv"
    df.write_csv(path)
    job = services.import_job_create(actor=None, source=path, file_name=path.name,
                                     file_format="sinergi", region_code="19")
    job = services.import_job_run(services.import_job_claim(job.pk))
    assert job.status == DONE, job.message
    expected = synthetic.expected_rejections(persons, fraction)
    plan = synthetic.defect_plan(persons, fraction)
    assert job.rows_total == persons
    assert job.rows_rejected == expected
    assert job.rows_accepted == job.persons_added == persons - expected
    assert job.unknown_columns == []
    # The accepted rows with a warning: exactly the sex-mismatch defects, plus
    # any chance namesakes born the same day in one village (probable_duplicate)
    # and the other members of a family whose head's row was refused.
    issues = ImportIssue.objects.filter(job=job)
    rejected_lines = set(issues.filter(severity="error").values_list("line", flat=True))
    warned = {}
    for line, code in issues.filter(severity="warning").values_list("line", "code"):
        if line not in rejected_lines:
            warned.setdefault(line, set()).add(code)
    assert len(warned) == job.rows_warned
    sex = [line for line, found in warned.items() if "nik_sex_mismatch" in found]
    assert len(sex) == sum(1 for _i, d in plan if d == "sex_mismatch")
    assert set().union(*warned.values()) <= {"nik_sex_mismatch", "probable_duplicate",
                                             "family_head_rejected"}
    for message in issues.filter(code="family_head_rejected").values_list("message", flat=True):
        head = int(re.search(r"row (\d+) \(the head\) was rejected", message).group(1))
        assert head in rejected_lines
