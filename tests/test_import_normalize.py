"""Field normalising, column mapping and the import template.

Each rule of normalize() is checked on the texts people really type; the
date and NIK rules also by property (hypothesis). No database.
"""

import datetime
import io
from pathlib import Path

import openpyxl
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sinergi.imports.columns import (
    CANONICAL,
    CANONICAL_COLUMNS,
    FORMATS,
    OPENSID_COLUMNS,
    REQUIRED,
    detect_format,
    map_columns,
)
from sinergi.imports.normalize import (
    SEVERITY,
    issue_message,
    normalize,
    normalize_village_code,
)
from sinergi.imports.readers import read_table
from sinergi.imports.template import (
    CODE_TABLE_COLUMNS,
    COLUMN_HELP,
    DATA_SHEET,
    HELP_SHEET,
    template_workbook,
)
from sinergi.registry import codes

OPENSID_DIR = Path("/work/shared/fixtures/opensid")
DATA_DIR = Path(__file__).parent / "data" / "imports"
TODAY = datetime.date.today()


def run(column: str, values: list, *, fmt: str = "sinergi", **kwargs):
    """Normalise one column; returns (typed values, issues as tuples)."""
    df = pl.DataFrame({
        "__row": pl.Series(range(len(values)), dtype=pl.UInt32),
        column: pl.Series(values, dtype=pl.String),
    })
    typed, issues = normalize(df, fmt=fmt, **kwargs)
    return typed[column].to_list(), [
        (r["__row"], r["column"], r["value"], r["code"], r["severity"])
        for r in issues.iter_rows(named=True)]


def one(column: str, value, **kwargs):
    """(typed value, issue code or None) for a single cell."""
    typed, issues = run(column, [value], **kwargs)
    return typed[0], (issues[0][3] if issues else None)


# --- NIK and KK number -------------------------------------------------------------


@pytest.mark.parametrize(("text", "expected"), [
    ("5201145003976995", "5201145003976995"),
    (" 5201 1450 0397 6995 ", "5201145003976995"),
    ("'5201145003976995", "5201145003976995"),
    ('"5201145003976995"', "5201145003976995"),
    ("5201.1450.0397.6995", "5201145003976995"),
    ("5201-1450-0397-6995", "5201145003976995"),
    ("5201145003976995.0", "5201145003976995"),
    ("\u20185201145003976995\u2019", "5201145003976995"),
    ("0012345", "0012345"),  # never padded, never stripped of zeros
    ("520114500397699", "520114500397699"),  # wrong length kept for the NIK rules
    ("", None),
    ("-", None),
])
@pytest.mark.parametrize("column", ["nik", "kk_number"])
def test_identifiers_are_cleaned_to_digits(column, text, expected):
    assert one(column, text) == (expected, None)


@pytest.mark.parametrize("text", ["5.20114E+15", "5,20114E+15", "5.20114e15", "5E+15"])
@pytest.mark.parametrize("column", ["nik", "kk_number"])
def test_scientific_notation_is_an_error(column, text):
    typed, issues = run(column, [text])
    assert typed == [None]
    assert issues == [(0, column, text, "scientific_notation", "error")]


def test_opensid_nik_zero_means_no_nik_yet():
    assert run("nik", ["0", "-", "5201145003976995"], fmt="opensid")[0] == [
        None, None, "5201145003976995"]
    assert one("nik", "0", fmt="sinergi") == ("0", None)
    assert one("kk_number", "0", fmt="opensid") == ("0", None)


@given(digits=st.text(alphabet="0123456789", min_size=16, max_size=16),
       before=st.text(alphabet=" '\t\u00a0", max_size=3),
       after=st.text(alphabet=" '\u2019", max_size=3),
       spaced=st.booleans())
@settings(max_examples=200, deadline=None)
def test_any_nik_comes_back_as_its_digits(digits, before, after, spaced):
    text = " ".join([digits[:4], digits[4:8], digits[8:12], digits[12:]]) if spaced else digits
    assert one("nik", before + text + after) == (digits, None)


# --- text ------------------------------------------------------------------------


@pytest.mark.parametrize("column", ["name", "birth_place", "dusun", "address"])
def test_text_is_trimmed_and_collapsed(column):
    assert run(column, ["  SITI \t  AMINAH  ", "", "   ", "-", "A\nB"])[0] == [
        "SITI AMINAH", None, None, None, "A B"]


@pytest.mark.parametrize(("text", "expected"), [
    ("1", "001"), ("04", "004"), ("004", "004"), ("0012", "012"), ("12", "012"),
    ("RT 5", "005"), ("rw.07", "007"), ("3.0", "003"), ("-", None), ("", None),
])
@pytest.mark.parametrize("column", ["rt", "rw"])
def test_rt_rw_get_three_digits(column, text, expected):
    assert one(column, text) == (expected, None)


@pytest.mark.parametrize("text", ["abc", "1234", "5/6"])
def test_unreadable_rt_is_a_warning_and_left_empty(text):
    typed, issues = run("rt", [text])
    assert typed == [None] and issues == [(0, "rt", text, "bad_rt_rw", "warning")]


# --- sex -------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "expected"), [
    ("L", "L"), ("l", "L"), ("LK", "L"), ("Laki-laki", "L"), ("laki laki", "L"),
    ("LAKI - LAKI", "L"), ("Pria", "L"), ("1", "L"), ("male", "L"),
    ("P", "P"), ("pr", "P"), ("Perempuan", "P"), ("WANITA", "P"), ("2", "P"),
    ("FEMALE", "P"), (" p ", "P"), ("02", "P"),
])
def test_sex_is_l_or_p(text, expected):
    assert one("sex", text) == (expected, None)


@pytest.mark.parametrize("text", ["X", "3", "laki2", "banci?"])
def test_unknown_sex_is_an_error(text):
    typed, issues = run("sex", [text, None])
    assert typed == [None, None]
    assert issues == [(0, "sex", text, "bad_sex", "error")]


# --- dates -----------------------------------------------------------------------


@pytest.mark.parametrize(("text", "expected"), [
    ("14/03/1990", datetime.date(1990, 3, 14)),
    ("14-03-1990", datetime.date(1990, 3, 14)),
    ("4/3/1990", datetime.date(1990, 3, 4)),
    ("04.03.1990", datetime.date(1990, 3, 4)),
    ("1990-03-14", datetime.date(1990, 3, 14)),
    ("1990-03-14 00:00:00", datetime.date(1990, 3, 14)),
    ("1990/3/4", datetime.date(1990, 3, 4)),
    ("12/05/1988", datetime.date(1988, 5, 12)),  # always day first
    ("14 Maret 1990", datetime.date(1990, 3, 14)),
    ("1 agt 2001", datetime.date(2001, 8, 1)),
    ("32946", datetime.date(1990, 3, 14)),  # Excel serial
    ("32946.0", datetime.date(1990, 3, 14)),
    ("29/02/2000", datetime.date(2000, 2, 29)),
])
def test_dates_are_read_day_first(text, expected):
    assert one("birth_date", text) == (expected, None)


@pytest.mark.parametrize("text", [
    "31/02/1990", "29/02/2001", "00/01/1990", "13/13/1990", "kemarin", "1990",
    "14/03/2999", "01/01/1850", "99999", "1990-14-03",
])
def test_impossible_dates_are_errors(text):
    typed, issues = run("birth_date", [text])
    assert typed == [None]
    assert issues == [(0, "birth_date", text, "bad_date", "error")]


def test_a_future_date_is_an_error():
    tomorrow = TODAY + datetime.timedelta(days=1)
    assert one("birth_date", tomorrow.strftime("%d/%m/%Y")) == (None, "bad_date")
    assert one("birth_date", TODAY.isoformat()) == (TODAY, None)


@pytest.mark.parametrize("text", ["14/03/90", "1-1-05", "14.03.90"])
def test_two_digit_years_are_ambiguous(text):
    typed, issues = run("birth_date", [text])
    assert typed == [None]
    assert issues == [(0, "birth_date", text, "ambiguous_date", "error")]


@pytest.mark.parametrize("text", ["1970-01-01", "01/01/1970", "25569"])
def test_the_unix_epoch_is_kept_but_flagged(text):
    typed, issues = run("birth_date", [text])
    assert typed == [datetime.date(1970, 1, 1)]
    assert issues == [(0, "birth_date", text, "suspicious_date", "warning")]


@given(st.dates(min_value=datetime.date(1900, 1, 1), max_value=TODAY),
       st.sampled_from(["%d/%m/%Y", "%Y-%m-%d", "%d-%m-%Y"]))
@settings(max_examples=300, deadline=None)
def test_any_real_date_normalises_to_itself(day, pattern):
    typed, issues = run("birth_date", [day.strftime(pattern)])
    assert typed == [day]
    assert [i[3] for i in issues] == (["suspicious_date"] if day == datetime.date(1970, 1, 1)
                                      else [])


# --- coded columns ----------------------------------------------------------------------


@pytest.mark.parametrize(("column", "text", "code"), [
    ("shdk", "1", 1), ("shdk", "01", 1), ("shdk", "KEPALA KELUARGA", 1),
    ("shdk", "kepala keluarga", 1), ("shdk", "KK", 1), ("shdk", "Kepala", 1),
    ("shdk", "KRT", 1), ("shdk", "istri", 3), ("shdk", "IST", 3), ("shdk", "ANAK", 4),
    ("shdk", "Famili Lain", 9), ("shdk", "orang tua", 7), ("shdk", "11", 11),
    ("religion", "Islam", 1), ("religion", "KATOLIK", 3), ("religion", "Katholik", 3),
    ("religion", "Buddha", 5), ("religion", "BUDHA", 5), ("religion", "Konghucu", 6),
    ("religion", "KEPERCAYAAN / LAINNYA", 7), ("religion", "kepercayaan", 7),
    ("marital_status", "BK", 1), ("marital_status", "K", 2), ("marital_status", "ch", 3),
    ("marital_status", "CM", 4), ("marital_status", "Belum Kawin", 1),
    ("marital_status", "cerai mati", 4),
    ("education", "SLTA/SEDERAJAT", 5), ("education", "TIDAK / BELUM SEKOLAH", 1),
    ("education", "tamat sd", 3), ("education", "S1", 8), ("education", "SMA", 5),
    ("education", "10", 10), ("education", "AKADEMI/DIPLOMA III/S. MUDA", 7),
    ("occupation", "89", 89), ("occupation", "WIRASWASTA", 88),
    ("occupation", "petani/pekebun", 9), ("occupation", "Petani", 9),
    ("occupation", "PNS", 5), ("occupation", "mahasiswa", 3), ("occupation", "IRT", 2),
    ("occupation", "belum/tidak bekerja", 1),
    ("disability", "7", 7), ("disability", "TIDAK CACAT", 7), ("disability", "Netra", 2),
    ("disability", "CACAT FISIK", 1),
    ("health_insurance", "2", 2), ("health_insurance", "BPJS PBI", 2),
    ("health_insurance", "bpjs non-pbi", 3), ("health_insurance", "99", 99),
    ("kb_method", "Suntik", 3), ("kb_method", "IUD", 2), ("kb_method", "implan", 5),
    ("kb_method", "99", 99),
    ("life_status", "HIDUP", 1), ("life_status", "meninggal", 2), ("life_status", "6", 6),
])
def test_codes_and_labels_are_accepted(column, text, code):
    assert one(column, text) == (code, None)


@pytest.mark.parametrize(("column", "table"), [
    ("shdk", codes.SHDK), ("religion", codes.RELIGION),
    ("marital_status", codes.MARITAL_STATUS), ("education", codes.EDUCATION),
    ("occupation", codes.OCCUPATION), ("disability", codes.DISABILITY),
    ("health_insurance", codes.HEALTH_INSURANCE), ("kb_method", codes.KB_METHOD),
    ("life_status", codes.LIFE_STATUS),
])
def test_every_code_and_label_of_every_table_is_accepted(column, table):
    texts = [str(c) for c in table] + [str(label).lower() for label in table.values()]
    typed, issues = run(column, texts)
    assert typed == list(table) * 2
    assert issues == []


@pytest.mark.parametrize(("column", "text"), [
    ("shdk", "12"), ("shdk", "teman"), ("religion", "0"), ("life_status", "5"),
    ("occupation", "90"), ("education", "SD?x"), ("kb_method", "8"),
])
def test_unknown_codes_are_errors(column, text):
    typed, issues = run(column, [text, "", None])
    assert typed == [None, None, None]
    assert issues == [(0, column, text, "bad_code", "error")]


def test_codes_are_small_integers():
    df = pl.DataFrame({"__row": pl.Series([0], dtype=pl.UInt32), "shdk": ["1"],
                       "religion": ["1"]})
    typed, _ = normalize(df, fmt="sinergi")
    assert typed.schema["shdk"] == pl.Int16 and typed.schema["religion"] == pl.Int16


# --- yes / no ----------------------------------------------------------------------


@pytest.mark.parametrize(("text", "expected"), [
    ("Ya", True), ("y", True), ("YES", True), ("ada", True), ("Punya", True), ("1", True),
    ("true", True), ("Sudah", True), ("KTP-EL", True),
    ("Tidak", False), ("t", False), ("no", False), ("Belum", False), ("0", False),
    ("FALSE", False), ("tidak ada", False),
])
@pytest.mark.parametrize("column", ["has_birth_certificate", "has_kia", "has_ktp_el",
                                    "in_dtsen"])
def test_yes_no_columns(column, text, expected):
    assert one(column, text) == (expected, None)


@pytest.mark.parametrize("text", ["mungkin", "2", "?"])
def test_unknown_yes_no_is_an_error(text):
    typed, issues = run("has_kia", [text])
    assert typed == [None] and issues == [(0, "has_kia", text, "bad_boolean", "error")]


def test_opensid_ktp_el_codes():
    assert run("has_ktp_el", ["1", "2", "BELUM", "KTP-EL", None], fmt="opensid")[0] == [
        False, True, False, True, None]
    assert one("has_ktp_el", "ya", fmt="opensid") == (None, "bad_boolean")


def test_opensid_birth_certificate_number_means_yes():
    typed, issues = run("has_birth_certificate", ["4433/2015", "2015-05-14", "", "-", None],
                        fmt="opensid")
    assert typed == [True, True, None, None, None] and issues == []


# --- money, desil, village ----------------------------------------------------------


@pytest.mark.parametrize(("text", "expected"), [
    ("1500000", 1_500_000), ("1.500.000", 1_500_000), ("1,500,000", 1_500_000),
    ("Rp 1.500.000", 1_500_000), ("Rp. 1.500.000,-", 1_500_000), ("rp1500000", 1_500_000),
    ("1.5 juta", 1_500_000), ("1,5 jt", 1_500_000), ("2 juta", 2_000_000),
    ("750 ribu", 750_000), ("0", 0), ("1.500.000,00", 1_500_000), ("2500000.0", 2_500_000),
    ("1500000/bulan", 1_500_000), ("", None), ("-", None),
])
def test_income_in_rupiah(text, expected):
    typed, issues = run("monthly_income", [text])
    assert typed == [expected] and issues == []


@pytest.mark.parametrize("text", ["-500000", "banyak", "1.50.000", "Rp", "1e6"])
def test_unreadable_income_is_an_error(text):
    typed, issues = run("monthly_income", [text])
    assert typed == [None]
    assert issues == [(0, "monthly_income", text, "bad_number", "error")]


def test_implausible_income_is_a_warning():
    typed, issues = run("monthly_income", ["2.000.000.000", "1.000.000.000"])
    assert typed == [2_000_000_000, 1_000_000_000]
    assert issues == [(0, "monthly_income", "2.000.000.000", "implausible_income", "warning")]


@pytest.mark.parametrize(("text", "expected"), [
    ("1", 1), ("10", 10), ("03", 3), ("Desil 3", 3), ("desil 10", 10), ("4.0", 4)])
def test_desil(text, expected):
    assert one("desil", text) == (expected, None)


@pytest.mark.parametrize("text", ["0", "11", "tiga", "3,5"])
def test_bad_desil(text):
    assert one("desil", text) == (None, "bad_desil")


@pytest.mark.parametrize("text", [
    "19.04.01.2003", "1904012003", "19 04 01 2003", "19-04-01-2003", " 19.04.01.2003 "])
def test_village_codes(text):
    assert one("village_code", text) == ("19.04.01.2003", None)


@pytest.mark.parametrize("text", [
    "19.04.01", "190401200", "00.04.01.2003", "19.70.01.2003", "19.04.00.2003",
    "19.04.01.4003", "Koba", "19.04.01.20033"])
def test_malformed_village_codes(text):
    typed, issues = run("village_code", [text])
    assert typed == [None]
    assert issues == [(0, "village_code", text, "bad_village_code", "error")]


def test_default_village_fills_empty_cells_and_missing_column():
    typed, issues = run("village_code", ["", None, "1904012005", "rusak", "-"],
                        default_village="19.04.01.2003")
    assert typed == ["19.04.01.2003", "19.04.01.2003", "19.04.01.2005", None, "19.04.01.2003"]
    assert [i[3] for i in issues] == ["bad_village_code"]
    df = pl.DataFrame({"__row": pl.Series([0, 1], dtype=pl.UInt32), "nik": ["1", "2"]})
    typed, _ = normalize(df, fmt="opensid", default_village="1904012003")
    assert typed["village_code"].to_list() == ["19.04.01.2003"] * 2


def test_a_malformed_default_village_is_a_caller_error():
    df = pl.DataFrame({"__row": pl.Series([0], dtype=pl.UInt32), "nik": ["1"]})
    with pytest.raises(ValueError, match="default_village"):
        normalize(df, fmt="opensid", default_village="19.04")
    assert normalize_village_code("19 04 01 2003") == "19.04.01.2003"


# --- the whole frame -----------------------------------------------------------------


def test_normalize_keeps_rows_types_and_other_columns():
    df = pl.DataFrame({
        "__row": pl.Series([7, 9], dtype=pl.UInt32),
        "nik": ["1904015403900001", "x"], "sex": ["P", "?"],
        "birth_date": ["14/03/1990", "14/03/90"], "monthly_income": ["1", "2"],
        "desil": ["1", "2"], "in_dtsen": ["ya", "tidak"], "extra": ["a", "b"],
    })
    typed, issues = normalize(df, fmt="bnba")
    assert typed.columns == df.columns
    assert typed.schema["birth_date"] == pl.Date
    assert typed.schema["monthly_income"] == pl.Int64
    assert typed.schema["desil"] == pl.Int16
    assert typed.schema["in_dtsen"] == pl.Boolean
    assert typed["extra"].to_list() == ["a", "b"]
    assert issues.schema == {"__row": pl.UInt32, "column": pl.String, "value": pl.String,
                             "code": pl.String, "severity": pl.String}
    assert issues.rows() == [(9, "birth_date", "14/03/90", "ambiguous_date", "error"),
                             (9, "sex", "?", "bad_sex", "error")]


def test_an_empty_frame_and_all_null_columns():
    df = pl.DataFrame({"__row": pl.Series([], dtype=pl.UInt32),
                       "sex": pl.Series([], dtype=pl.String)})
    typed, issues = normalize(df, fmt="sinergi")
    assert typed.height == 0 and issues.height == 0
    typed, issues = run("religion", [None, None])
    assert typed == [None, None] and issues == []


def test_unknown_format_is_a_caller_error():
    df = pl.DataFrame({"__row": pl.Series([0], dtype=pl.UInt32)})
    with pytest.raises(ValueError):
        normalize(df, fmt="excel")


def test_the_opensid_sample_normalises_cleanly():
    table = read_table(OPENSID_DIR / "contoh_penduduk.xlsx", file_name="contoh.xlsx",
                       opensid=True)
    mapping = map_columns(table.df.columns, "opensid")
    df = table.df.select([pl.col(h).alias(c) for h, c in mapping.columns.items()])
    df = df.with_row_index("__row")
    typed, issues = normalize(df, fmt="opensid", default_village="52.01.14.2001")
    assert typed.height == 97
    assert issues.filter(pl.col("severity") == "error").is_empty()
    assert typed["sex"].unique().sort().to_list() == ["L", "P"]
    assert typed["rw"].null_count() == 97  # OpenSID writes "-" for "no RW"
    assert typed["rt"][0] == "004"
    assert typed["birth_date"][0] == datetime.date(1996, 3, 10)
    assert typed["shdk"].filter(typed["kk_number"] == "5201140104126994").to_list()[:2] == [
        4, 1]


# --- messages ---------------------------------------------------------------------------


@pytest.mark.parametrize("code", sorted(SEVERITY))
def test_every_code_has_an_actionable_message(code):
    message = issue_message(code, column="nik", value="abc")
    assert message and "%(" not in message
    assert any(word in message for word in ("Write", "Check", "Format", "Replace", "Use",
                                            "put", "A cell"))
    if code != "extra_fields":
        assert "NIK" in message  # the column by its template header


def test_messages_name_the_value_and_the_place_of_the_codes():
    message = issue_message("bad_code", column="shdk", value="teman")
    assert "'teman'" in message and "Hubungan dalam Keluarga" in message
    assert "Petunjuk" in message
    assert "Catatan" in issue_message("formula", column="Catatan", value="=1+2")


def test_severities_are_error_or_warning():
    assert set(SEVERITY.values()) == {"error", "warning"}
    assert {c for c, s in SEVERITY.items() if s == "warning"} == {
        "suspicious_date", "implausible_income", "bad_rt_rw"}


# --- column mapping ------------------------------------------------------------------------


@pytest.mark.parametrize("header", ["No. KK", "NO_KK", "nomor kk", "No KK", " no  kk ",
                                    "Nomor Kartu Keluarga"])
@pytest.mark.parametrize("fmt", ["sinergi", "bnba"])
def test_kk_number_aliases(fmt, header):
    assert map_columns([header], fmt).columns == {header: "kk_number"}


@pytest.mark.parametrize(("header", "canonical"), [
    ("NOKK", "kk_number"), ("No Kartu Keluarga", "kk_number"), ("NIK ART", "nik"),
    ("Nama ART", "name"), ("JK", "sex"), ("Jenis Kelamin", "sex"), ("Tgl Lahir", "birth_date"),
    ("Tgl. Lahir", "birth_date"), ("Tanggal Lahir", "birth_date"), ("Hub. KRT", "shdk"),
    ("Hubungan Dengan Kepala Keluarga", "shdk"), ("Status Hubungan", "shdk"),
    ("SHDK", "shdk"), ("Kode Wilayah", "village_code"), ("Kode Desa", "village_code"),
    ("KDDESA", "village_code"), ("Alamat", "address"), ("Desil", "desil"),
    ("Peringkat Kesejahteraan", "desil"), ("Desil Nasional", "desil"),
    ("Penghasilan", "monthly_income"), ("Status Penduduk", "life_status"),
    ("Penghasilan per Bulan", "monthly_income"), ("KTP-el", "has_ktp_el"),
])
def test_bnba_aliases(header, canonical):
    assert map_columns([header], "bnba").columns == {header: canonical}


def test_place_and_date_of_birth_in_one_column_is_not_supported():
    mapping = map_columns(["NIK", "Tempat Tgl Lahir", "TTL"], "bnba")
    assert mapping.unknown == ["Tempat Tgl Lahir", "TTL"]


def test_missing_required_and_unknown_columns():
    mapping = map_columns(["NIK", "Nama", "Warna Favorit"], "bnba")
    assert mapping.columns == {"NIK": "nik", "Nama": "name"}
    assert mapping.unknown == ["Warna Favorit"]
    assert mapping.missing_required == ["kk_number", "village_code"]
    assert map_columns(["NIK"], "sinergi").missing_required == [
        "kk_number", "name", "sex", "shdk", "village_code"]


def test_a_second_header_for_the_same_column_is_a_duplicate():
    mapping = map_columns(["Desil", "Desil Nasional"], "bnba")
    assert mapping.columns == {"Desil": "desil"}
    assert mapping.duplicates == ["Desil Nasional"]


def test_opensid_headers_map_and_the_rest_are_known_but_ignored():
    mapping = map_columns(list(OPENSID_COLUMNS) + ["kolom_baru"], "opensid")
    assert set(mapping.columns.values()) == {
        "nik", "kk_number", "name", "sex", "birth_place", "birth_date", "shdk", "religion",
        "education", "occupation", "marital_status", "disability", "kb_method",
        "has_ktp_el", "has_birth_certificate", "health_insurance", "life_status", "address",
        "dusun", "rw", "rt"}
    assert mapping.unknown == ["kolom_baru"]
    assert len(mapping.ignored) == 43 - 21 and "pendidikan_sedang_id" in mapping.ignored
    assert mapping.missing_required == []
    assert map_columns(["nama"], "opensid").missing_required == ["nik", "kk_number"]


def test_opensid_headers_match_whatever_the_case():
    assert map_columns(["NO_KK", "Nik"], "opensid").columns == {"NO_KK": "kk_number",
                                                                "Nik": "nik"}


def test_detect_format():
    table = read_table(OPENSID_DIR / "FormatImporExcel.xlsx", file_name="f.xlsx", opensid=True)
    assert detect_format(table.df.columns) == "opensid"
    template = [spec.header for spec in CANONICAL.values()]
    assert detect_format(template) == "sinergi"
    assert detect_format(["No KK", "NIK", "Nama", "Jenis Kelamin", "Kode Wilayah",
                          "Hubungan dalam Keluarga"]) == "sinergi"
    assert detect_format(["NOKK", "NIK ART", "Nama ART", "JK", "Hub. KRT", "KDDESA"]) == "bnba"
    # Template headers plus a BNBA-only alias: BNBA maps more.
    assert detect_format(template[:6] + ["Desil Nasional", "NIK ART"]) == "bnba"


def test_a_bnba_sample_file_end_to_end():
    table = read_table(DATA_DIR / "bnba_dtsen.csv", file_name="bnba_dtsen.csv")
    fmt = detect_format(table.df.columns)
    assert fmt == "bnba"
    mapping = map_columns(table.df.columns, fmt)
    assert mapping.missing_required == [] and mapping.unknown == ["No", "Tempat Tgl Lahir"]
    df = table.df.select([pl.col(h).alias(c) for h, c in mapping.columns.items()])
    typed, issues = normalize(df.with_row_index("__row"), fmt=fmt)
    assert typed["village_code"].to_list() == ["19.04.01.2003"] * 3
    assert typed["desil"].to_list() == [2, 2, 2]
    assert typed["sex"].to_list() == ["L", "P", "L"]
    assert typed["shdk"].to_list() == [1, 3, 4]
    assert typed["nik"][2] is None
    assert issues.select("__row", "column", "code").rows() == [
        (2, "nik", "scientific_notation")]
    assert table.lines.to_list() == [2, 3, 4]


def test_formats_and_required_columns_are_consistent():
    assert FORMATS == ("sinergi", "opensid", "bnba")
    assert tuple(CANONICAL) == CANONICAL_COLUMNS
    for fmt in FORMATS:
        assert set(REQUIRED[fmt]) <= set(CANONICAL_COLUMNS)


# --- template ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def template():
    return openpyxl.load_workbook(io.BytesIO(template_workbook()))


def test_template_has_both_sheets(template):
    assert template.sheetnames == [DATA_SHEET, HELP_SHEET] == ["Data", "Petunjuk"]


def test_template_headers_map_back_to_every_canonical_column(template):
    headers = [c.value for c in template["Data"][1]]
    assert detect_format(headers) == "sinergi"
    mapping = map_columns(headers, "sinergi")
    assert list(mapping.columns.values()) == list(CANONICAL_COLUMNS)
    assert mapping.unknown == [] and mapping.missing_required == []


def test_template_identifier_columns_are_text(template):
    ws = template["Data"]
    headers = {c.value: c.column_letter for c in ws[1]}
    for header in ("No KK", "NIK", "Tanggal Lahir", "RT", "RW", "Kode Wilayah"):
        letter = headers[header]
        assert ws[f"{letter}2"].number_format == "@"
        assert ws[f"{letter}500"].number_format == "@"
    assert ws[f"{headers['NIK']}3"].value == "1904015403900001"


def test_template_examples_import_cleanly(tmp_path):
    path = tmp_path / "template.xlsx"
    path.write_bytes(template_workbook())
    table = read_table(path, file_name="template.xlsx")
    mapping = map_columns(table.df.columns, "sinergi")
    df = table.df.select([pl.col(h).alias(c) for h, c in mapping.columns.items()])
    typed, issues = normalize(df.with_row_index("__row"), fmt="sinergi")
    assert issues.is_empty()
    woman = typed.row(1, named=True)
    assert woman["sex"] == "P" and woman["birth_date"] == datetime.date(1990, 3, 14)
    assert woman["nik"][6:8] == "54"  # day 14 + 40 for women
    assert woman["village_code"] == "19.04.01.2003" and woman["shdk"] == 3


def test_template_explains_every_column_and_every_code(template):
    ws = template["Petunjuk"]
    cells = [str(c.value) for row in ws.iter_rows() for c in row if c.value is not None]
    text = "\n".join(cells)
    assert set(COLUMN_HELP) == set(CANONICAL)
    for spec in CANONICAL.values():
        assert spec.header in cells
    for column in CODE_TABLE_COLUMNS:
        table = getattr(codes, CANONICAL[column].code_table)
        for label in table.values():
            assert str(label) in text
    assert "LAINNYA" in text and "WIRASWASTA" in text
    occupation_rows = [row for row in ws.iter_rows(values_only=True)
                       if row[1] in codes.OCCUPATION.values()]
    assert len(occupation_rows) >= 89
