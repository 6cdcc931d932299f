"""Region codes, the edition-aware loader and subtree queries."""

import gzip

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sinergi.core.errors import DataFileError
from sinergi.core.models import AuditLog
from sinergi.regions import codes
from sinergi.regions.models import Region, RegionEdition
from sinergi.regions.services import DEFAULT_FILE, read_region_file, regions_load

from .conftest import KAB


@pytest.mark.parametrize(
    ("code", "kind", "level"),
    [
        ("19", "provinsi", 1),
        ("19.04", "kabupaten", 2),
        ("19.71", "kota", 2),
        ("73.73", "kota", 2),
        ("19.04.01", "kecamatan", 3),
        ("19.71.01.1001", "kelurahan", 4),
        ("19.04.01.2001", "desa", 4),
        ("91.01.01.3001", "desa_adat", 4),
    ],
)
def test_kind_and_level_follow_from_the_code(code, kind, level):
    assert codes.code_problem(code) is None
    assert codes.code_kind(code) == kind
    assert codes.code_level(code) == level


@pytest.mark.parametrize(
    ("code", "fragment"),
    [
        ("1904", "19.04"),
        ("19.4", "19.04"),
        ("19.04.01.201", "19.04.01.2001"),
        ("00", "00"),
        ("19.70", "71-99"),
        ("19.00", "01-69"),
        ("19.04.00", "00"),
        ("19.04.01.4001", "starts with 1"),
        ("", "region code"),
        ("19.04.01.2001 ", "region code"),
    ],
)
def test_it_rejects_malformed_codes_with_a_hint(code, fragment):
    problem = codes.code_problem(code)
    assert problem is not None and fragment in problem


@given(st.from_regex(r"\d{2}(\.\d{2}(\.\d{2}(\.\d{4})?)?)?", fullmatch=True))
def test_ancestors_are_prefixes_and_in_subtree(code):
    ancestors = codes.code_ancestors(code)
    assert len(ancestors) == codes.code_level(code) - 1
    for a in ancestors:
        assert codes.code_in_subtree(code, a)
        assert not codes.code_in_subtree(a, code)
    if ancestors:
        assert codes.code_parent(code) == ancestors[-1]


def write_csv(path, rows):
    path.write_text("code,name\n" + "".join(f"{c},{n}\n" for c, n in rows), encoding="utf-8")
    return path


EDITION_A = [
    ("98", "Provinsi Uji"),
    ("98.01", "Kabupaten Satu"),
    ("98.01.01", "Kecamatan Satu"),
    ("98.01.01.2001", "Desa Lama"),
    ("98.01.01.2002", "Desa Tetap"),
]


def test_loading_the_same_edition_twice_changes_nothing(db, tmp_path):
    path = write_csv(tmp_path / "a.csv", EDITION_A)
    # The test world's regions are not in the file: retiring them all is on purpose.
    first = regions_load(actor=None, path=path, edition="A", allow_mass_retire=True)
    assert (first.added, first.total) == (5, 5)
    audit_rows = AuditLog.objects.filter(action="regions.load").count()
    second = regions_load(actor=None, path=path, edition="A")
    assert not second.changed
    assert AuditLog.objects.filter(action="regions.load").count() == audit_rows
    assert Region.objects.filter(code__startswith="98").count() == 5


def test_a_newer_edition_renames_adds_and_retires_without_deleting(db, tmp_path):
    regions_load(actor=None, path=write_csv(tmp_path / "a.csv", EDITION_A), edition="A",
                 allow_mass_retire=True)
    edition_b = [
        ("98", "Provinsi Uji"),
        ("98.01", "Kabupaten Satu"),
        ("98.01.01", "Kecamatan Satu"),
        ("98.01.01.2002", "Desa Tetap Baru"),  # renamed
        ("98.01.01.2003", "Desa Pemekaran"),  # added; 2001 disappears
    ]
    # One of five villages: above the 10% guard, so said explicitly.
    result = regions_load(actor=None, path=write_csv(tmp_path / "b.csv", edition_b),
                          edition="B", allow_mass_retire=True)
    assert (result.added, result.renamed, result.retired) == (1, 1, 1)
    gone = Region.objects.get(code="98.01.01.2001")
    assert gone.retired_in == "B" and gone.name == "Desa Lama"
    assert Region.objects.get(code="98.01.01.2002").name == "Desa Tetap Baru"
    assert Region.objects.get(code="98.01.01.2003").parent_id == "98.01.01"
    assert RegionEdition.objects.get(name="B").retired == 1
    entry = AuditLog.objects.filter(action="regions.load").order_by("-id").first()
    assert entry.after["retired"] == 1 and entry.actor_label == "system"
    # The code comes back in a later edition: restored, not duplicated.
    result = regions_load(actor=None, path=write_csv(tmp_path / "c.csv", EDITION_A),
                          edition="C", allow_mass_retire=True)
    assert result.restored == 1
    assert Region.objects.get(code="98.01.01.2001").retired_in == ""


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        ("", "header"),
        ("kode,nama\n98,X\n", "header"),
        ("code,name\n98,Uji\n98.1,Salah\n", "row 3, column code"),
        ("code,name\n98,Uji\n98,Lagi\n", "row 3: code 98 appears twice"),
        ("code,name\n98.01,Tanpa Induk\n", "no parent 98"),
        ("code,name\n98,\n", "row 2: a code and a name"),
        ("code,name\n", "holds no regions"),
    ],
)
def test_a_bad_region_file_is_refused_with_its_row_and_nothing_changes(
    db, tmp_path, content, fragment
):
    path = tmp_path / "bad.csv"
    path.write_text(content, encoding="utf-8")
    before = Region.objects.count()
    with pytest.raises(DataFileError) as info:
        regions_load(actor=None, path=path, edition="bad")
    assert fragment in info.value.message
    assert "bad.csv" in info.value.message
    assert Region.objects.count() == before
    assert not RegionEdition.objects.filter(name="bad").exists()


def test_a_binary_file_is_refused_not_crashed_on(db, tmp_path):
    path = tmp_path / "binary.csv"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\xff\xfe\xfd")
    with pytest.raises(DataFileError):
        read_region_file(path)


def test_subtree_filter_matches_prefix_semantics(world):
    codes_19_04 = set(
        Region.objects.filter(codes.subtree_q("code", "19.04")).values_list("code", flat=True)
    )
    brute = {c for c in Region.objects.values_list("code", flat=True)
             if c == "19.04" or c.startswith("19.04.")}
    assert codes_19_04 == brute and len(brute) > 50
    # Without the root; and 19.0 is not a prefix of 19.04 in code terms.
    without = set(Region.objects.filter(codes.subtree_q("code", "19.04", include_root=False))
                  .values_list("code", flat=True))
    assert without == brute - {"19.04"}
    assert not Region.objects.filter(codes.subtree_q("code", "19.0")).exists()



def test_village_filter_matches_prefix_semantics_at_every_level(world):
    """village_in_q drops the 'OR code = root' a village column never needs;
    it must still select exactly the villages under any root, a village included."""
    villages = list(Region.objects.filter(level=4, code__startswith="19.").values_list(
        "code", flat=True))
    for root in ("19", "19.04", villages[0][:8], villages[0]):
        got = set(Region.objects.filter(level=4).filter(codes.village_in_q("code", root))
                  .values_list("code", flat=True))
        assert got == {v for v in villages if v == root or v.startswith(root + ".")}
        assert got
    assert set(Region.objects.filter(codes.subtree_q("code", villages[0])).values_list(
        "code", flat=True)) == {villages[0]}

@pytest.mark.slow
def test_the_shipped_edition_is_the_whole_country(world):
    """Kepmendagri 300.2.2-2138/2025: 38 / 514 / 7,285 / 83,762."""
    with gzip.open(DEFAULT_FILE, "rt", encoding="utf-8") as f:
        assert f.readline().strip() == "code,name"
    already = Region.objects.count()  # the test world's slice of the same edition
    result = regions_load(actor=None)
    assert result.total == 38 + 514 + 7285 + 83762
    assert result.added == result.total - already and result.retired == 0
    by_level = {lvl: Region.objects.filter(level=lvl).count() for lvl in (1, 2, 3, 4)}
    assert by_level == {1: 38, 2: 514, 3: 7285, 4: 83762}
    by_kind = {k: Region.objects.filter(kind=k).count() for k, _ in codes.KIND_CHOICES}
    assert by_kind["kabupaten"] == 416 and by_kind["kota"] == 98
    assert by_kind["kelurahan"] == 8496
    assert by_kind["desa"] + by_kind["desa_adat"] == 75266
    assert Region.objects.get(code="19.04").name == "Kabupaten Bangka Tengah"
    # Every region but a province has its parent loaded.
    orphans = Region.objects.filter(level__gt=1, parent__isnull=True).count()
    assert orphans == 0
    assert regions_load(actor=None).changed is False


def test_region_code_validation_checks_format_level_existence_and_retirement(world, tmp_path):
    from django.core.exceptions import ValidationError

    assert codes.region_code_problem("19.04") is None
    assert "19.04" in codes.region_code_problem("1904")
    assert "not allowed here" in codes.region_code_problem("19.04.01", levels=(1, 2))
    assert "does not exist" in codes.region_code_problem("19.69")
    Region.objects.filter(code="19.04.01").update(retired_in="Kepmendagri 2030")
    assert "Kepmendagri 2030" in codes.region_code_problem("19.04.01")
    with pytest.raises(ValidationError):
        codes.validate_region_code("19.69")


def test_a_region_name_longer_than_the_column_is_refused_with_its_row(db, tmp_path):
    path = write_csv(tmp_path / "long.csv", [("98", "Provinsi Uji"), ("98.01", "K" * 121)])
    with pytest.raises(DataFileError) as info:
        regions_load(actor=None, path=path, edition="long")
    assert "long.csv row 3, column name" in info.value.message
    assert "120" in info.value.message
    assert not Region.objects.filter(code__startswith="98").exists()
    # 120 characters exactly is fine.
    write_csv(path, [("98", "P" * 120)])
    assert read_region_file(path) == {"98": "P" * 120}


def test_an_edition_name_longer_than_the_column_is_refused_before_writing(db, tmp_path):
    path = write_csv(tmp_path / "a.csv", EDITION_A)
    with pytest.raises(DataFileError) as info:
        regions_load(actor=None, path=path, edition="E" * 61, allow_mass_retire=True)
    assert "--edition" in info.value.message and "60" in info.value.message
    assert not Region.objects.filter(code__startswith="98").exists()
    assert not RegionEdition.objects.filter(name__startswith="EEE").exists()


def test_a_partial_file_does_not_retire_the_rest_of_the_country(world, tmp_path):
    """A file of one kabupaten looks like an edition that abolished everything else."""
    active = Region.objects.filter(retired_in="").count()
    rows = list(Region.objects.filter(codes.subtree_q("code", "19")).filter(retired_in="")
                .values_list("code", "name"))
    path = write_csv(tmp_path / "babel.csv", rows)
    with pytest.raises(DataFileError) as info:
        regions_load(actor=None, path=path, edition="partial")
    message = info.value.message
    assert "babel.csv" in message and "--allow-retire-many" in message
    assert f"of the {active} current regions" in message
    assert Region.objects.filter(retired_in="").count() == active
    assert not RegionEdition.objects.filter(name="partial").exists()
    # Said explicitly, the same file retires the rest.
    result = regions_load(actor=None, path=path, edition="partial", allow_mass_retire=True)
    assert result.retired == active - len(rows)
    assert Region.objects.get(code="18.06").retired_in == "partial"


def test_retiring_a_few_regions_needs_no_flag(world, tmp_path):
    rows = list(Region.objects.filter(retired_in="").values_list("code", "name"))
    villages = [code for code, _name in rows if code.startswith("19.04.01.")]
    kept = [(c, n) for c, n in rows if c != villages[-1]]
    result = regions_load(actor=None, path=write_csv(tmp_path / "few.csv", kept),
                          edition="few")
    assert result.retired == 1
    assert Region.objects.get(code=villages[-1]).retired_in == "few"


def test_a_load_holds_the_loader_lock_until_its_transaction_ends(world, tmp_path):
    """On PostgreSQL a second load waits on this advisory lock instead of
    colliding on the same new codes."""
    from django.db import connection

    from sinergi.regions.services import LOAD_LOCK_KEY

    if connection.vendor != "postgresql":
        pytest.skip("SQLite's IMMEDIATE transactions serialise writers; no advisory lock")
    regions_load(actor=None, path=write_csv(tmp_path / "a.csv", EDITION_A), edition="lock",
                 allow_mass_retire=True)
    # The test's own transaction is still open, so a transaction-level lock
    # taken by the load is still held by this connection.
    with connection.cursor() as cur:
        cur.execute(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' "
            "AND pid = pg_backend_pid() AND granted "
            "AND ((classid::bigint << 32) | objid::bigint) = %s",
            [LOAD_LOCK_KEY],
        )
        assert cur.fetchone()[0] == 1


def test_a_load_stores_the_current_regions_per_level(world, tmp_path):
    path = write_csv(tmp_path / "a.csv", EDITION_A)
    regions_load(actor=None, path=path, edition="A", allow_mass_retire=True)
    assert RegionEdition.objects.get(name="A").active_by_level == {"1": 1, "2": 1, "3": 1,
                                                                   "4": 2}


def test_pages_show_a_region_s_name_beside_its_code_reading_names_once_per_province(
        world, django_assert_num_queries):
    from sinergi.regions import selectors
    from sinergi.regions.templatetags import regions as tags

    selectors.forget_names()
    villages = list(Region.objects.filter(code__startswith=KAB + ".", level=4)
                    .order_by("code")[:30])
    assert len(villages) == 30
    with django_assert_num_queries(1):  # one province: one read, whatever the rows
        shown = [tags.region(v.code) for v in villages]
    assert shown[0] == f'{villages[0].name} <span class="muted">{villages[0].code}</span>'
    kab, province = Region.objects.get(code=KAB).name, Region.objects.get(code="19").name
    with django_assert_num_queries(1):  # provinces and kabupaten/kota: one read
        assert tags.region(KAB).startswith(kab) and tags.region("19").startswith(province)
    assert tags.region("19.99.99.9999") == "19.99.99.9999"  # no edition knows it
    assert tags.region("") == ""
