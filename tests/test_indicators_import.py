"""Indicator values from a table in the BPS layout (regions as rows, periods
as columns), all or nothing, and the same layout for export
(sinergi/indicators/sheet.py)."""

import io
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import Workbook

from sinergi.accounts import roles
from sinergi.accounts.models import User
from sinergi.core.exports import write_xlsx
from sinergi.core.models import AuditLog
from sinergi.indicators import services, sheet
from sinergi.indicators.models import EXCEL, Indicator, Value
from sinergi.regions.models import Region

from .conftest import KAB, OUTSIDE_KAB

TITLE = "Persentase Penduduk Miskin (P0) Menurut Kabupaten/Kota (Persen), 2021-2025"


def xlsx(rows, *, name="p0.xlsx", sheet_name="Tabel", before=()) -> SimpleUploadedFile:
    """A workbook whose sheet ``sheet_name`` holds ``rows`` (after other
    sheets ``before``, each a list of rows)."""
    wb = Workbook()
    wb.remove(wb.active)
    for i, other in enumerate(before):
        ws = wb.create_sheet(f"Catatan {i + 1}")
        for row in other:
            ws.append(row)
    ws = wb.create_sheet(sheet_name)
    for row in rows:
        ws.append(list(row))
    buffer = io.BytesIO()
    wb.save(buffer)
    return SimpleUploadedFile(name, buffer.getvalue())


def p0():
    return Indicator.objects.get(code="P0")


def stored(indicator) -> dict:
    return {(v.region_code, v.period): v.value
            for v in Value.objects.filter(indicator=indicator, disaggregation="")}


def imports_audited() -> int:
    return AuditLog.objects.filter(action="indicator.import").count()


def problem_at(result, row, column):
    found = [p for p in result.problems if p.row == row and p.column == column]
    assert found, f"no problem at row {row}, column {column}: {result.problems}"
    return found[0]


# --- 1. the acceptance case --------------------------------------------------------

def test_a_file_with_problems_is_refused_with_row_and_column_and_nothing_is_written(world):
    before_values, before_audit = Value.objects.count(), AuditLog.objects.count()
    upload = xlsx([
        [TITLE],
        ["Kabupaten/Kota", 2021, 2022, 2023, 2024, 2025],
        ["Bangka", "5,22", "4,91", "4,72", "4,60", "4,35"],
        ["Bangka Tengahh", "5,10", "4,98", "4,80", "4,70", "4,51"],
        ["Belitung", "7,95", "7,70", "dua belas", "7,10", "6,90"],
        ["Kabupaten Bangka", "5,22", "4,91", "4,72", "4,60", "4,35"],
    ])

    result = sheet.values_import(actor=world["admin"], indicator=p0(), upload=upload)

    assert not result.ok and result.created == 0
    unknown = problem_at(result, 4, "Kabupaten/Kota")
    assert unknown.value == "Bangka Tengahh"
    assert "Bangka Tengahh" in unknown.message and "not a province or kabupaten/kota" in \
        unknown.message and "Bangka Tengah" in unknown.message  # the name it may be
    text = problem_at(result, 5, "2023")
    assert text.value == "dua belas"
    assert "'dua belas' is not a number" in text.message and "12,48" in text.message
    duplicate = problem_at(result, 6, "Kabupaten/Kota")
    assert "already in row 3" in duplicate.message
    assert "2021, 2022, 2023, 2024, 2025" in duplicate.message
    assert "19.01" in duplicate.message
    assert {(p.row, p.column) for p in result.problems} == {
        (4, "Kabupaten/Kota"), (5, "2023"), (6, "Kabupaten/Kota")}
    # Nothing at all: the good rows 3 and 5 are not written either.
    assert Value.objects.count() == before_values
    assert AuditLog.objects.count() == before_audit
    assert imports_audited() == 0
    assert result.as_dict()["problems"][0]["row"] == 4


# --- 2. a good BPS file --------------------------------------------------------------------

GOOD = [
    [TITLE],
    [],
    ["Kabupaten/Kota", 2021, 2022.0, "2023", "2024", "2025*)"],
    ["Bangka", "5,22", "4,91", "4,72", "4,60", "4,35"],
    ["Kabupaten Belitung", 7.95, 7.7, 7.31, "-", "…"],
    ["Kab. Bangka Tengah", "5,10", "-", "", "4,70", "..."],
    ["Kota Pangkal Pinang", "4,47", "4,36", "4,20", "4,07", "3,88"],
    ["Kepulauan Bangka Belitung", "4,90", "4,61", "4,52", "4,46", "4,19"],
    [],
    ["Sumber: Badan Pusat Statistik"],
]
EXPECTED = {
    ("19.01", "2021"): "5.22", ("19.01", "2022"): "4.91", ("19.01", "2023"): "4.72",
    ("19.01", "2024"): "4.60", ("19.01", "2025"): "4.35",
    ("19.02", "2021"): "7.95", ("19.02", "2022"): "7.70", ("19.02", "2023"): "7.31",
    ("19.04", "2021"): "5.10", ("19.04", "2024"): "4.70",
    ("19.71", "2021"): "4.47", ("19.71", "2022"): "4.36", ("19.71", "2023"): "4.20",
    ("19.71", "2024"): "4.07", ("19.71", "2025"): "3.88",
    ("19", "2021"): "4.90", ("19", "2022"): "4.61", ("19", "2023"): "4.52",
    ("19", "2024"): "4.46", ("19", "2025"): "4.19",
}


def test_a_bps_table_writes_exactly_its_values_as_drafts(world):
    indicator = p0()
    result = sheet.values_import(actor=world["admin"], indicator=indicator,
                                 upload=xlsx(GOOD), source_note="BPS Babel 2025")

    assert result.ok, result.problems
    assert result.created == len(EXPECTED) == 20
    assert stored(indicator) == {k: Decimal(v) for k, v in EXPECTED.items()}
    rows = Value.objects.filter(indicator=indicator)
    assert {(v.origin, v.status, v.source_note, v.entered_by_id, v.level) for v in rows
            if v.level == 2} == {(EXCEL, "draft", "BPS Babel 2025", world["admin"].pk, 2)}
    # The province's figure is the file's, not one summed from the kabupaten.
    province = rows.get(region_code="19", period="2021")
    assert province.value == Decimal("4.90") and province.origin == EXCEL
    audit = AuditLog.objects.get(action="indicator.import")
    assert audit.after == {"file": "p0.xlsx", "values": 20}
    assert audit.object_id == str(indicator.pk)


def test_the_table_is_found_below_titles_in_any_sheet_and_a_no_column_is_passed_over(world):
    rows = [["Tabel 3.1"], ["", "No", "Kabupaten/Kota", "2024", "2025", "Keterangan"],
            ["", 1, "BANGKA", "4,60", "4,35", "angka sementara"],
            ["", 2, "Pangkalpinang", 4.07, 3.88, ""]]  # a kota's name, as BPS spells it
    result = sheet.values_import(actor=world["admin"], indicator=p0(),
                                 upload=xlsx(rows, before=[[], [["Catatan"], ["Sumber: BPS"]]]))

    assert result.ok, result.problems
    assert stored(p0()) == {("19.01", "2024"): Decimal("4.60"),
                            ("19.01", "2025"): Decimal("4.35"),
                            ("19.71", "2024"): Decimal("4.07"),
                            ("19.71", "2025"): Decimal("3.88")}
    assert any("Keterangan" in w for w in result.warnings)


# --- 3. scope ------------------------------------------------------------------------------

def test_a_region_outside_the_actor_s_area_is_a_row_problem(world):
    upload = xlsx([["Kabupaten/Kota", 2024, 2025],
                   ["Bangka", "4,60", "4,35"],
                   ["Tanggamus", "11,20", "10,90"]])

    result = sheet.values_import(actor=world["admin"], indicator=p0(), upload=upload)

    assert [(p.row, p.column, p.value) for p in result.problems] == [
        (3, "Kabupaten/Kota", "Tanggamus")]
    assert "outside your area" in result.problems[0].message
    assert not Value.objects.filter(indicator=p0()).exists()
    assert imports_audited() == 0


def test_a_coordinator_imports_its_own_kabupaten_only(world):
    upload = xlsx([["Kabupaten/Kota", 2024, 2025], ["Tanggamus", "11,20", "10,90"]])
    result = sheet.values_import(actor=world["outsider"], indicator=p0(), upload=upload)
    assert result.ok, result.problems
    assert stored(p0()) == {(OUTSIDE_KAB, "2024"): Decimal("11.20"),
                            (OUTSIDE_KAB, "2025"): Decimal("10.90")}

    # The province above the coordinator is visible by name, but not theirs to enter.
    upload = xlsx([["Kabupaten/Kota", 2024], ["Lampung", "11,00"]])
    result = sheet.values_import(actor=world["outsider"], indicator=p0(), upload=upload)
    assert [(p.row, p.value) for p in result.problems] == [(2, "Lampung")]
    assert "outside your area" in result.problems[0].message


def test_codes_may_replace_names_and_a_name_of_two_regions_asks_for_the_code(world):
    Region.objects.create(code="52.98", name="Kabupaten Belitung", kind="kabupaten", level=2,
                          parent_id="52", edition="test")
    root = User.objects.create(username="root", role=roles.ADMINISTRATOR, region=None)
    upload = xlsx([["Kabupaten/Kota", 2025], ["Belitung", "6,90"], [19.04, "4,51"]])

    result = sheet.values_import(actor=root, indicator=p0(), upload=upload)
    problem = problem_at(result, 2, "Kabupaten/Kota")
    assert "matches several regions" in problem.message
    assert "19.02" in problem.message and "52.98" in problem.message

    # Among the regions the actor can see, the name is one region only.
    result = sheet.values_import(actor=world["admin"], indicator=p0(), upload=upload)
    assert result.ok, result.problems
    assert stored(p0()) == {("19.02", "2025"): Decimal("6.90"),
                            (KAB, "2025"): Decimal("4.51")}


def test_a_village_code_is_not_a_row_of_this_table(world):
    village = Region.objects.filter(code__startswith=KAB + ".", level=4).first().code
    upload = xlsx([["Wilayah", 2025], [village, "4,51"]])
    result = sheet.values_import(actor=world["admin"], indicator=p0(), upload=upload)
    assert [(p.row, p.value) for p in result.problems] == [(2, village)]
    assert "kecamatan or a village" in result.problems[0].message


# --- 4. the agency that keeps the indicator ------------------------------------------------

def test_an_officer_imports_only_indicators_of_the_own_agency(world):
    upload = xlsx([["Kabupaten/Kota", 2025], ["Bangka Tengah", "4,51"]])
    result = sheet.values_import(actor=world["officer"], indicator=p0(), upload=upload)

    assert len(result.problems) == 1
    problem = result.problems[0]
    assert problem.row is None and "kept by Bappeda" in problem.message
    assert not Value.objects.exists()

    Indicator.objects.filter(code="TFR").update(agency="DP3ACSKB")
    tfr = Indicator.objects.get(code="TFR")
    upload = xlsx([["Kabupaten/Kota", 2024, 2025], ["Bangka Tengah", "2,21", "2,15"]],
                  name="tfr.xlsx")
    result = sheet.values_import(actor=world["officer"], indicator=tfr, upload=upload)
    assert result.ok, result.problems
    assert stored(tfr) == {(KAB, "2024"): Decimal("2.21"), (KAB, "2025"): Decimal("2.15")}


def test_a_role_without_entry_gets_one_problem_for_the_file(world):
    upload = xlsx([["Kabupaten/Kota", 2025], ["Bangka Tengah", "4,51"]])
    for persona in ("leader", "operator"):
        result = sheet.values_import(actor=world[persona], indicator=p0(), upload=upload)
        assert [p.row for p in result.problems] == [None]
        assert "Your role does not allow this" in result.problems[0].message


# --- 5. plausibility -----------------------------------------------------------------------

def test_a_percentage_above_100_is_refused_with_its_row_and_column(world):
    upload = xlsx([[TITLE], ["Kabupaten/Kota", 2024, 2025],
                   ["Bangka", "4,60", "4,35"], ["Belitung", "7,10", "112,5"]])
    result = sheet.values_import(actor=world["admin"], indicator=p0(), upload=upload)

    problem = problem_at(result, 4, "2025")
    assert problem.value == "112,5" and "above 100" in problem.message
    assert len(result.problems) == 1
    assert not Value.objects.exists()


@pytest.mark.parametrize(("cell", "words"), [
    ("n/a", "is not a number"),
    ("1.500", "ambiguous"),
    ("12,5%", "without %"),
    ("1,2,3", "not a number Sinergi can read safely"),
])
def test_cells_that_are_not_figures_say_what_to_write(world, cell, words):
    upload = xlsx([["Kabupaten/Kota", "2025"], ["Bangka", cell]])
    result = sheet.values_import(actor=world["admin"], indicator=p0(), upload=upload)
    problem = problem_at(result, 2, "2025")
    assert problem.value == cell and words in problem.message


def test_the_number_rule():
    assert sheet.number("12,48") == Decimal("12.48")
    assert sheet.number("12.48") == Decimal("12.48")
    assert sheet.number("1.234,5") == Decimal("1234.50")
    assert sheet.number("1,234.5") == Decimal("1234.50")
    assert sheet.number("1.234.567") == Decimal("1234567")
    assert sheet.number("0,125") == Decimal("0.125")  # four decimals kept
    assert sheet.number(4.35) == Decimal("4.35")
    assert sheet.number(2025) == Decimal("2025")
    assert sheet.number("-1,5") == Decimal("-1.50")


def test_a_formula_cell_is_refused(world):
    upload = xlsx([["Kabupaten/Kota", 2025], ["Bangka", "4,35"], ["Belitung", "=B2*2"]])
    result = sheet.values_import(actor=world["admin"], indicator=p0(), upload=upload)
    problem = problem_at(result, 3, "2025")
    assert "formula" in problem.message


# --- 6. round trip -------------------------------------------------------------------------

def test_bps_rows_written_to_xlsx_import_back_to_the_same_values(world):
    indicator = p0()
    assert sheet.values_import(actor=world["admin"], indicator=indicator,
                               upload=xlsx(GOOD)).ok
    before = stored(indicator)

    headers, rows = sheet.bps_rows(indicator, Value.objects.filter(indicator=indicator))
    assert headers == ["Kode", "Wilayah", "2021", "2022", "2023", "2024", "2025"]
    assert [r[0] for r in rows] == ["19", "19.01", "19.02", "19.04", "19.71"]
    assert rows[0][1] == "Kepulauan Bangka Belitung"
    assert rows[3][2:] == [Decimal("5.10"), None, None, Decimal("4.70"), None]

    buffer = io.BytesIO()
    write_xlsx(buffer, headers, rows, text_columns={0}, sheet="P0")
    Value.objects.filter(indicator=indicator).delete()
    result = sheet.values_import(actor=world["admin"], indicator=indicator,
                                 upload=SimpleUploadedFile("P0.xlsx", buffer.getvalue()))

    assert result.ok, result.problems
    assert result.created == len(before)
    assert stored(indicator) == before


def test_bps_rows_leave_out_disaggregations_and_other_indicators(world):
    indicator = p0()
    assert sheet.values_import(actor=world["admin"], indicator=indicator,
                               upload=xlsx([["Kabupaten/Kota", 2025], ["Bangka", "4,35"]])).ok
    row = Value.objects.get(indicator=indicator)
    extra = Value(indicator=indicator, region_code="19.01", level=2, period="2025",
                  disaggregation="sex:P", value=Decimal("9"), origin=EXCEL,
                  computed_at=row.computed_at)
    headers, rows = sheet.bps_rows(indicator, [row, extra])
    assert headers == ["Kode", "Wilayah", "2025"]
    assert rows == [["19.01", "Kabupaten Bangka", Decimal("4.3500")]]


# --- 7. CSV --------------------------------------------------------------------------------

def test_a_csv_with_semicolons_and_decimal_commas(world):
    text = "\n".join([
        TITLE,
        "Kabupaten/Kota;2023;2024;2025",
        "Bangka;4,72;4,60;4,35",
        "Kota Pangkal Pinang;4,20;-;3,88",
        "Kepulauan Bangka Belitung;4,52;4,46;4,19",
    ])
    upload = SimpleUploadedFile("p0.csv", text.encode("utf-8"))
    result = sheet.values_import(actor=world["admin"], indicator=p0(), upload=upload)

    assert result.ok, result.problems
    assert stored(p0()) == {
        ("19.01", "2023"): Decimal("4.72"), ("19.01", "2024"): Decimal("4.60"),
        ("19.01", "2025"): Decimal("4.35"), ("19.71", "2023"): Decimal("4.20"),
        ("19.71", "2025"): Decimal("3.88"), ("19", "2023"): Decimal("4.52"),
        ("19", "2024"): Decimal("4.46"), ("19", "2025"): Decimal("4.19")}


def test_a_csv_row_problem_names_its_line(world):
    text = "Kabupaten/Kota;2025\nBangka;4,35\nBelitung;n/a\n"
    result = sheet.values_import(actor=world["admin"], indicator=p0(),
                                 upload=SimpleUploadedFile("p0.csv", text.encode()))
    assert [(p.row, p.column, p.value) for p in result.problems] == [(3, "2025", "n/a")]


# --- the file as a whole -------------------------------------------------------------------

@pytest.mark.parametrize(("content", "words"), [
    (b"", "is empty"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100, "Excel 97-2003"),
    (b"Kabupaten/Kota;Tahun\nBangka;4,35\n", "no header row with periods of P0"),
    (b"Kabupaten/Kota;2025\nSumber: BPS\n", "no figures below its header row"),
])
def test_files_that_cannot_be_used_say_why(world, content, words):
    result = sheet.values_import(actor=world["admin"], indicator=p0(),
                                 upload=SimpleUploadedFile("p0.csv", content))
    assert len(result.problems) == 1 and result.problems[0].row in (None, 1)
    assert words in result.problems[0].message
    assert not Value.objects.exists()


def test_limits_of_size_and_rows(world, monkeypatch):
    monkeypatch.setattr(sheet, "MAX_UPLOAD_BYTES", 100)
    result = sheet.values_import(actor=world["admin"], indicator=p0(),
                                 upload=SimpleUploadedFile("p0.csv", b"x;2025\n" * 50))
    assert "larger than" in result.problems[0].message

    monkeypatch.setattr(sheet, "MAX_UPLOAD_BYTES", 5 * 1024 * 1024)
    monkeypatch.setattr(sheet, "MAX_ROWS", 3)
    rows = "\n".join(["Kabupaten/Kota;2025"] + ["Bangka;4,35"] * 4)
    result = sheet.values_import(actor=world["admin"], indicator=p0(),
                                 upload=SimpleUploadedFile("p0.csv", rows.encode()))
    assert "at most 3" in result.problems[0].message
    assert not Value.objects.exists()


def test_two_columns_of_one_period_are_a_header_problem(world):
    upload = xlsx([["Kabupaten/Kota", 2024, "2024*)"], ["Bangka", "4,60", "4,61"]])
    result = sheet.values_import(actor=world["admin"], indicator=p0(), upload=upload)
    problem = problem_at(result, 1, "2024*)")
    assert "both the period 2024" in problem.message


# --- 8. village facts from a table of villages ---------------------------------------------

NIBUNG, AIR_MESU = "19.04.01.2003", "19.04.02.2004"  # villages of two kecamatan of 19.04


def facts_stored(period="2026") -> dict:
    """{(fact code, region code): (numerator, denominator)} of every level."""
    return {(v.indicator.code, v.region_code): (v.numerator, v.denominator)
            for v in Value.objects.filter(indicator__source="village", period=period)
            .select_related("indicator")}


def villages_below(code: str) -> int:
    return Region.objects.filter(code__startswith=code + ".", level=4, retired_in="").count()


FACTS_GOOD = [
    ["Rekap fakta desa Kabupaten Bangka Tengah 2026"],
    ["No", "Kecamatan", "Desa", "F_PUSKESSOS", "Jumlah posyandu", "villages with a website",
     "Keterangan"],
    [1, "Koba", NIBUNG, "Ya", 3, "y", "lengkap"],
    [2, "Pangkalan Baru", "desa AIR MESU", "tidak", "2", "", ""],
]


def test_the_facts_of_two_villages_are_written_and_rolled_up_as_n_of_n(world):
    coordinator = world["coordinator"]
    # An answer the file leaves empty stays as it was.
    services.facts_set(actor=coordinator, village_code=AIR_MESU, year="2026",
                       facts={"F_WEBSITE": "1"})

    result = sheet.facts_import(actor=coordinator, year="2026",
                                upload=xlsx(FACTS_GOOD, name="fakta.xlsx"))

    assert result.ok, result.problems
    assert result.created == 5
    found = facts_stored()
    assert found[("F_PUSKESSOS", NIBUNG)] == (1, 1)
    assert found[("F_PUSKESSOS", AIR_MESU)] == (0, 1)
    assert found[("F_POSYANDU", NIBUNG)] == (3, None)
    assert found[("F_POSYANDU", AIR_MESU)] == (2, None)
    assert found[("F_WEBSITE", NIBUNG)] == (1, 1)
    assert found[("F_WEBSITE", AIR_MESU)] == (1, 1)  # empty in the file: unchanged
    # Regions above: villages with X, n of all N villages; counts summed.
    assert found[("F_PUSKESSOS", "19.04.01")] == (1, villages_below("19.04.01"))
    assert found[("F_PUSKESSOS", "19.04.02")] == (0, villages_below("19.04.02"))
    assert found[("F_PUSKESSOS", KAB)] == (1, villages_below(KAB))
    assert found[("F_WEBSITE", KAB)] == (2, villages_below(KAB))
    assert found[("F_POSYANDU", "19.04.01")] == (3, None)
    assert found[("F_POSYANDU", KAB)] == (5, None)
    assert found[("F_POSYANDU", "19")] == (5, None)
    kab = Value.objects.get(indicator__code="F_PUSKESSOS", region_code=KAB, period="2026")
    assert kab.value == (Decimal(100) / villages_below(KAB)).quantize(Decimal("0.0001"))
    # As the form writes them: drafts entered by the coordinator.
    assert {(v.status, v.entered_by_id) for v in Value.objects.filter(
        indicator__source="village", level=4)} == {("draft", coordinator.pk)}
    audit = AuditLog.objects.get(action="indicator.import")
    assert audit.after == {"file": "fakta.xlsx", "villages": 2, "answers": 5, "year": "2026"}
    assert audit.object_id == str(Indicator.objects.get(code="F_PUSKESSOS").pk)
    # The "Keterangan" column right of the facts was not read: said, not refused.
    assert any("Keterangan" in w for w in result.warnings)


def test_a_facts_file_with_problems_is_refused_with_row_and_column(world):
    before_values, before_audit = Value.objects.count(), AuditLog.objects.count()
    upload = xlsx([
        ["Desa", "F_PUSKESSOS", "Jumlah Posyandu"],
        ["Desa Antah Berantah", "ya", 1],
        ["Nibung", "mungkin", 2],
        ["Air Mesu", "tidak", "-3"],
        [NIBUNG, "ya", ""],
    ])

    result = sheet.facts_import(actor=world["coordinator"], year="2026", upload=upload)

    assert not result.ok and result.created == 0
    assert {(p.row, p.column, p.value) for p in result.problems} == {
        (2, "Desa", "Desa Antah Berantah"), (3, "F_PUSKESSOS", "mungkin"),
        (4, "Jumlah Posyandu", "-3"), (5, "Desa", NIBUNG)}
    assert "not a village in your area" in problem_at(result, 2, "Desa").message
    maybe = problem_at(result, 3, "F_PUSKESSOS").message
    assert "'mungkin' is not an answer" in maybe and "ya or tidak" in maybe
    assert "whole number, 0 or more" in problem_at(result, 4, "Jumlah Posyandu").message
    assert "already in row 3" in problem_at(result, 5, "Desa").message
    assert Value.objects.count() == before_values
    assert AuditLog.objects.count() == before_audit


@pytest.mark.parametrize(("cell", "answer"), [
    ("Ya", 1), ("TIDAK", 0), ("yes", 1), ("No", 0), ("y", 1), ("t", 0), (1, 1), (0, 0),
    ("1", 1), ("0", 0), (True, 1), (False, 0), ("TRUE", 1), ("false", 0),
])
def test_yes_no_answers(world, cell, answer):
    # The village code as a number, as Excel keeps 1904012003 typed without dots.
    result = sheet.facts_import(actor=world["coordinator"], year=2026,
                                upload=xlsx([["Kode desa", "f_puskessos"], [1904012003, cell]]))
    assert result.ok, result.problems
    assert facts_stored()[("F_PUSKESSOS", NIBUNG)] == (answer, 1)


@pytest.mark.parametrize(("cell", "words"), [
    ("2,5", "whole number"), ("-", "whole number"), ("ada", "whole number"),
    ("1.500", "ambiguous"), (True, "whole number"), (2, None), ("12", None),
])
def test_count_answers(world, cell, words):
    result = sheet.facts_import(actor=world["coordinator"], year="2026",
                                upload=xlsx([["Desa", "F_POSYANDU"], ["Nibung", cell]]))
    if words is None:
        assert result.ok, result.problems
        assert facts_stored()[("F_POSYANDU", NIBUNG)][0] == int(cell)
    else:
        assert words in problem_at(result, 2, "F_POSYANDU").message
        assert not Value.objects.filter(indicator__source="village").exists()


def test_a_village_operator_imports_the_own_village_only(world):
    operator = world["operator"]
    own = operator.region_id
    other = Region.objects.filter(parent_id=own[:8], level=4).exclude(code=own).first()
    upload = xlsx([["Desa", "F_PUSKESSOS"], [own, "ya"], [other.name, "ya"]])

    result = sheet.facts_import(actor=operator, year="2026", upload=upload)
    assert [(p.row, p.column, p.value) for p in result.problems] == [(3, "Desa", other.name)]
    assert "outside your area" in result.problems[0].message
    assert not Value.objects.filter(indicator__source="village").exists()

    upload = xlsx([["Desa", "F_PUSKESSOS"], [other.code, "ya"]])
    result = sheet.facts_import(actor=operator, year="2026", upload=upload)
    assert [(p.row, p.value) for p in result.problems] == [(2, other.code)]
    assert "outside your area" in result.problems[0].message

    upload = xlsx([["Desa", "F_PUSKESSOS"], [own, "ya"]])
    result = sheet.facts_import(actor=operator, year="2026", upload=upload)
    assert result.ok, result.problems
    assert facts_stored()[("F_PUSKESSOS", own)] == (1, 1)


def test_an_officer_gets_one_problem_for_the_file(world):
    upload = xlsx([["Desa", "F_PUSKESSOS"], [NIBUNG, "ya"]])
    result = sheet.facts_import(actor=world["officer"], year="2026", upload=upload)
    assert [(p.row, p.column) for p in result.problems] == [(None, "")]
    assert "Your role does not allow this" in result.problems[0].message
    assert not Value.objects.filter(indicator__source="village").exists()


def test_a_village_of_another_province_is_a_row_problem_and_a_shared_name_asks_for_the_code(
        world):
    tanggamus = Region.objects.filter(code__startswith=OUTSIDE_KAB + ".", level=4).first()
    upload = xlsx([["Desa", "F_PUSKESSOS"], [NIBUNG, "ya"], [tanggamus.code, "ya"],
                   [tanggamus.name, "tidak"]])
    result = sheet.facts_import(actor=world["admin"], year="2026", upload=upload)
    assert [(p.row, p.value) for p in result.problems] == [
        (3, tanggamus.code), (4, tanggamus.name)]
    assert all("outside your area" in p.message for p in result.problems)
    assert not Value.objects.filter(indicator__source="village").exists()

    # Two villages of the province are called Nibung: the code says which.
    upload = xlsx([["Desa", "F_PUSKESSOS"], ["Nibung", "ya"]])
    result = sheet.facts_import(actor=world["admin"], year="2026", upload=upload)
    problem = problem_at(result, 2, "Desa")
    assert "matches several villages" in problem.message
    assert "19.01.08.2003" in problem.message and NIBUNG in problem.message


def test_the_facts_file_as_a_whole(world):
    coordinator = world["coordinator"]
    result = sheet.facts_import(actor=coordinator, year="tahun ini",
                                upload=xlsx([["Desa", "F_PUSKESSOS"], [NIBUNG, "ya"]]))
    assert [p.row for p in result.problems] == [None]
    assert "'tahun ini' is not a period" in result.problems[0].message

    result = sheet.facts_import(actor=coordinator, year="2026",
                                upload=xlsx([["Desa", "Puskesos?"], [NIBUNG, "ya"]]))
    assert "no header row naming a village fact" in result.problems[0].message
    assert "F_POSYANDU" in result.problems[0].message

    result = sheet.facts_import(actor=coordinator, year="2026",
                                upload=xlsx([["F_PUSKESSOS", "Desa"], ["ya", NIBUNG]]))
    assert "no column of villages left of the first fact" in result.problems[0].message

    result = sheet.facts_import(
        actor=coordinator, year="2026",
        upload=xlsx([["Desa", "F_POSYANDU", "Jumlah posyandu"], [NIBUNG, 1, 1]]))
    assert "both the fact F_POSYANDU" in problem_at(result, 1, "Jumlah posyandu").message

    result = sheet.facts_import(actor=coordinator, year="2026",
                                upload=xlsx([["Desa", "F_POSYANDU"], [NIBUNG, None]]))
    assert "no answers below its header row" in result.problems[0].message
    assert not Value.objects.filter(indicator__source="village").exists()


def test_a_facts_csv_with_a_total_row(world):
    text = "\n".join(["No;Kode desa;Nama desa;F_POSYANDU;F_INTERNET",
                      f"1;{NIBUNG};Nibung;4;ya",
                      "2;1904022004;Air Mesu;1;tidak",  # a code written without dots
                      ";;Jumlah;5;1"])
    result = sheet.facts_import(actor=world["coordinator"], year="2026",
                                upload=SimpleUploadedFile("fakta.csv", text.encode()))
    assert result.ok, result.problems
    assert result.created == 4
    found = facts_stored()
    assert found[("F_POSYANDU", KAB)] == (5, None)
    assert found[("F_INTERNET", AIR_MESU)] == (0, 1)
    assert any("Row 4" in w for w in result.warnings)


def test_the_facts_import_page(world, client_of):
    client = client_of("coordinator")
    page = client.get("/indicators/facts/")
    assert "/indicators/facts/import/" in page.content.decode()
    page = client.get("/indicators/facts/import/")
    html = page.content.decode()
    # Each fact by its code and by its name in the page's language.
    assert page.status_code == 200 and "F_PUSKESSOS" in html
    assert "Posyandu (integrated health posts)" in html

    upload = xlsx([["Desa", "F_PUSKESSOS", "Jumlah posyandu"], ["Nibung", "mungkin", 3]])
    response = client.post("/indicators/facts/import/", {"file": upload, "year": "2026"})
    assert response.status_code == 400
    assert "mungkin" in response.content.decode()

    upload = xlsx(FACTS_GOOD, name="fakta.xlsx")
    response = client.post("/indicators/facts/import/", {"file": upload, "year": "2026"})
    assert response.status_code == 302
    assert response["Location"] == "/indicators/facts/?year=2026"
    page = client.get(response["Location"])
    assert "5 answers of village facts for 2026 imported" in page.content.decode()
    form = client.get(f"/indicators/facts/?village={NIBUNG}&year=2026").context["form"]
    assert (form.initial["F_PUSKESSOS"], form.initial["F_POSYANDU"]) == ("1", 3)
