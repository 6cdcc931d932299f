"""Person imports of files as they come from the field: NIKs typed as Excel
numbers, persons without a NIK, a family whose head was refused, block
mode, a village as the region, data below titles or on a second sheet, web
pages and UTF-16 text under a spreadsheet's name, one message per problem,
and reports and messages in the file's own words.

Every file is built here, in the shape villages and agencies send it.
"""

import io
from pathlib import Path

import pytest
from openpyxl import load_workbook

from sinergi.cli import main
from sinergi.core.errors import DataFileError
from sinergi.imports import readers
from sinergi.imports.models import DONE, FAILED, REVIEW, ImportIssue, ImportJob, ProposedChange
from sinergi.registry.models import Household, Person

from .test_import_readers import xlsx
from .test_registry_import import ANI, BUDI, CITRA, KK1, KK2, VILLAGE, nik, run

# Headers as a kecamatan's list writes them (BNBA style): not the template's.
FIELD_HEADER = ["No. KK", "NIK", "Nama Lengkap", "L/P", "Tempat Lahir", "Tgl Lahir",
                "Hubungan Keluarga", "Kode Desa"]
KK3 = "1904011203150003"
KK4 = "1904011203150004"
DEDI_EXACT = nik("190401", 9, 9, 1970, "L", 2)


def person_row(kk, number, name, sex, born, shdk, village=VILLAGE, place="Koba"):
    return [kk, number, name, sex, place, born, shdk, village]


def family_rows():
    """A family of three: Budi (head), Ani (wife), Citra (child)."""
    return [person_row(KK1, BUDI, "Budi Santoso", "L", "02/07/1988", "1"),
            person_row(KK1, ANI, "Ani Lestari", "P", "14/03/1990", "3"),
            person_row(KK1, CITRA, "Citra", "P", "05/05/2015", "4")]


def csv_file(tmp_path, rows, *, name="data.csv", header=FIELD_HEADER, sep=",",
             above=()) -> Path:
    lines = [*above, sep.join(header), *(sep.join("" if v is None else str(v) for v in row)
                                         for row in rows)]
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def workbook(tmp_path, sheets: dict[str, list[list]], *, name="data.xlsx", merges=None):
    """An .xlsx with the given rows per sheet; ``merges``: sheet -> ranges."""
    return xlsx(tmp_path, sheets, name=name, merges=merges)


def issues_of(job, **filters) -> list[ImportIssue]:
    return list(ImportIssue.objects.filter(job=job, **filters).order_by("line", "id"))


def report_rows(client, job) -> list[tuple]:
    response = client.get(f"/imports/{job.pk}/report.xlsx")
    assert response.status_code == 200
    return list(load_workbook(io.BytesIO(b"".join(response.streaming_content))).active.values)


# --- 1. NIK and KK numbers stored as Excel numbers ------------------------------------


def test_a_nik_and_kk_stored_exactly_as_excel_numbers_are_accepted(world, tmp_path):
    # Written by a program (or pasted as values): the number cell holds the
    # exact 16 digits, so nothing was lost.
    rows = [person_row(int(KK1), int(BUDI), "Budi Santoso", "L", "02/07/1988", 1),
            person_row(int(KK1), int(ANI), "Ani Lestari", "P", "14/03/1990", 3)]
    job = run(workbook(tmp_path, {"Data": [FIELD_HEADER, *rows]}))
    assert job.status == DONE, job.message
    assert (job.rows_accepted, job.rows_rejected) == (2, 0)
    assert issues_of(job) == []
    assert Person.objects.get(nik=ANI).household.kk_number == KK1


def test_a_nik_typed_as_a_number_that_may_have_lost_its_last_digit_is_refused(world, tmp_path):
    # Excel keeps 15 digits of a typed number: a NIK ending in 1 typed as a
    # number is stored ending in 0, and so is a KK number.
    typed_kk = int(KK2[:15] + "0")
    lost = nik("190401", 9, 9, 1970, "L", 10)  # really ends in 0: cannot be told apart
    rows = [person_row(typed_kk, int(DEDI_EXACT), "Dedi", "L", "09/09/1970", 1),
            person_row(KK1, int(lost), "Eko", "L", "09/09/1970", 4)]
    path = workbook(tmp_path, {"Data": [FIELD_HEADER, *rows]})
    job = run(path)
    assert (job.rows_accepted, job.rows_rejected) == (0, 2)
    kk_issue, nik_issue = issues_of(job)
    assert (kk_issue.line, kk_issue.column, kk_issue.code) == (2, "No. KK", "number_16_digits")
    assert (nik_issue.line, nik_issue.column, nik_issue.code) == (3, "NIK", "number_16_digits")
    # One message for the cell (not also "ends in 0000"), saying where and what to do.
    assert f"No. KK '{typed_kk}'" in kk_issue.message
    assert "Format the column as Text" in kk_issue.message
    assert "type the number again" in kk_issue.message
    assert "15 digits" in nik_issue.message


def test_a_number_beyond_what_a_float_holds_exactly_is_doubtful(tmp_path):
    # Province 91 (Papua): above 2**53, the float of a number cell may not be
    # the number that was written, whatever its last digit.
    path = workbook(tmp_path, {"Data": [["NIK", "Nama"], [9171012345678901, "A"],
                                        [1904015403900001, "B"]]})
    table = readers.read_table(path, file_name="data.xlsx")
    assert [(i["__row"], i["code"]) for i in table.issues.iter_rows(named=True)] == [
        (0, "number_16_digits")]


# --- 2. persons without a NIK --------------------------------------------------------------


def baby_rows(place="Koba"):
    return [*family_rows(), person_row(KK1, "", "Bayi Santoso", "L", "01/01/2024", "4",
                                       place=place)]


def test_a_person_without_nik_is_imported_with_a_warning_in_the_report(world, tmp_path,
                                                                       client_of):
    job = run(csv_file(tmp_path, baby_rows()), actor=world["coordinator"], region="19.04")
    assert job.status == DONE, job.message
    assert (job.rows_accepted, job.rows_warned, job.persons_added) == (4, 1, 4)
    (issue,) = issues_of(job)
    assert (issue.line, issue.column, issue.code, issue.severity) == (
        5, "NIK", "nik_missing", "warning")
    assert "'NIK' is empty" in issue.message and f"family KK '{KK1}'" in issue.message
    baby = Person.objects.get(name="Bayi Santoso")
    assert baby.nik is None and baby.warnings == ["nik_missing"]
    report = report_rows(client_of("coordinator"), job)
    assert report[0][-1] == "Warnings" and "Errors" not in report[0]  # none to show
    assert len(report) == 2 and report[1][0] == 5 and report[1][3] == "Bayi Santoso"
    assert "[NIK] 'NIK' is empty" in report[1][-1]


def test_importing_the_same_list_again_does_not_add_persons_without_nik_twice(world, tmp_path):
    run(csv_file(tmp_path, baby_rows()))
    before = Person.objects.count()
    again = run(csv_file(tmp_path, baby_rows(), name="again.csv"))
    assert again.status == DONE, again.message
    assert Person.objects.count() == before
    assert (again.persons_added, again.households_added, again.changes_proposed) == (0, 0, 0)
    (issue,) = issues_of(again)
    assert issue.code == "nik_missing_known" and issue.severity == "warning"
    assert "not added again" in issue.message
    # A changed value of that person is proposed for review, like a NIK match.
    changed = run(csv_file(tmp_path, baby_rows(place="Pangkalpinang"), name="changed.csv"))
    assert changed.status == REVIEW and Person.objects.count() == before
    change = ProposedChange.objects.get(job=changed)
    assert change.person.name == "Bayi Santoso" and change.kind == "update"
    assert change.changes == {"birth_place": ["Koba", "Pangkalpinang"]}
    # A complete list that names the person does not propose them as gone.
    complete = run(csv_file(tmp_path, baby_rows(), name="complete.csv"), region=VILLAGE,
                   complete=True)
    assert not ProposedChange.objects.filter(job=complete, kind="absent").exists()


def test_a_person_without_nik_twice_in_a_family_is_refused_as_a_duplicate(world, tmp_path):
    rows = [*baby_rows(), person_row(KK1, "", "BAYI  SANTOSO", "L", "01/01/2024", "4")]
    job = run(csv_file(tmp_path, rows))
    assert (job.rows_accepted, job.rows_rejected, job.persons_added) == (4, 1, 4)
    (duplicate,) = issues_of(job, severity="error")
    assert (duplicate.line, duplicate.column, duplicate.code) == (
        6, "Nama Lengkap", "nik_missing_duplicate_in_file")
    assert "appears more than once in family KK" in duplicate.message
    # The same name without a NIK in another family is another person.
    other = [person_row(KK2, DEDI_EXACT, "Dedi", "L", "09/09/1970", "1"),
             person_row(KK2, "", "Bayi Santoso", "L", "01/01/2024", "4")]
    job = run(csv_file(tmp_path, other, name="other.csv"))
    assert job.persons_added == 2 and job.rows_rejected == 0


# --- 3. a family whose head was refused ----------------------------------------------------


def test_the_other_rows_of_a_family_whose_head_was_refused_say_so(world, tmp_path):
    rows = [person_row(KK3, "190401020788001", "Kepala Pendek", "L", "02/07/1988", "1"),
            person_row(KK3, nik("190401", 14, 3, 1990, "P", 5), "Istri", "P", "14/03/1990",
                       "3"),
            person_row(KK3, nik("190401", 5, 5, 2015, "P", 5), "Anak", "P", "05/05/2015", "4"),
            person_row(KK4, nik("190401", 1, 1, 1980, "L", 6), "Kepala Baik", "L",
                       "01/01/1980", "1")]
    job = run(csv_file(tmp_path, rows))
    assert (job.rows_accepted, job.rows_rejected, job.rows_warned) == (3, 1, 2)
    headless = issues_of(job, code="family_head_rejected")
    assert [(i.line, i.column, i.value) for i in headless] == [(3, "No. KK", KK3),
                                                                (4, "No. KK", KK3)]
    assert (f"Family KK '{KK3}' has no head: row 2 (the head) was rejected"
            in headless[0].message)
    assert "Fix that row" in headless[0].message
    assert Household.objects.get(kk_number=KK3).members.count() == 2


# --- 4. block mode ---------------------------------------------------------------------------


def test_block_mode_with_an_error_fails_and_the_command_exits_non_zero(world, tmp_path,
                                                                       capsys):
    rows = [*family_rows(), person_row(KK2, "1904010909700000", "Nol", "L", "09/09/1970", "1")]
    path = csv_file(tmp_path, rows)
    before = Person.objects.count()
    code = main(["import", "persons", str(path), "--region", "19", "--on-error", "block"])
    assert code == 1
    out = capsys.readouterr()
    assert ": failed;" in out.out and "report.xlsx" in out.out
    assert "Nothing was imported" in out.err
    assert Person.objects.count() == before
    job = ImportJob.objects.latest("id")
    assert job.status == FAILED and job.rows_rejected == 1
    assert ImportIssue.objects.filter(job=job, code="nik_serial").exists()


def test_block_mode_without_errors_imports(world, tmp_path, capsys):
    code = main(["import", "persons", str(csv_file(tmp_path, family_rows())), "--region", "19",
                 "--on-error", "block"])
    assert code == 0 and Person.objects.filter(nik=ANI).exists()


# --- 5. a village as the region ------------------------------------------------------------


def test_an_opensid_file_imports_into_the_village_named_as_region(world, tmp_path, capsys):
    header = ["nama", "no_kk", "nik", "sex", "tanggallahir", "kk_level", "dusun", "rw", "rt"]
    rows = [["BUDI", KK1, BUDI, "1", "1988-07-02", "1", "I", "-", "001"],
            ["ANI", KK1, ANI, "2", "1990-03-14", "3", "I", "-", "001"]]
    path = workbook(tmp_path, {"Data Penduduk": [header, *rows]}, name="opensid.xlsx")
    code = main(["import", "persons", str(path), "--format", "opensid",
                 "--region", VILLAGE.replace(".", "")])  # 10 digits, no --village
    assert code == 0, capsys.readouterr()
    job = ImportJob.objects.latest("id")
    assert (job.region_code, job.village_code, job.status) == (VILLAGE, VILLAGE, DONE)
    assert set(Person.objects.filter(import_job=job).values_list("village_code", flat=True)) \
        == {VILLAGE}


# --- 6. where the data is ------------------------------------------------------------------


def test_data_on_a_second_sheet_below_titles_and_group_headers_is_found(world, tmp_path):
    cover = [["PETUNJUK PENGISIAN"], ["Isi satu baris untuk satu orang."],
             ["Kolom", "Isi"], ["NIK", "16 angka"], ["Nama Lengkap", "sesuai KK"]]
    data = [["DAFTAR PENDUDUK DESA KOBA"], ["Tahun 2025"], [None],
            ["IDENTITAS", None, None, "KELAHIRAN", None, None, None, "WILAYAH"],
            FIELD_HEADER, *family_rows()]
    path = workbook(tmp_path, {"Petunjuk": cover, "Data": data},
                    merges={"Data": ["A1:H1", "A4:C4", "D4:G4"]})
    job = run(path)
    assert job.status == DONE, job.message
    assert (job.rows_total, job.rows_accepted) == (3, 3)
    assert Person.objects.get(nik=BUDI).import_line == 6  # spreadsheet row
    assert Person.objects.get(nik=CITRA).import_line == 8


def test_a_csv_with_title_lines_above_its_header_is_read(world, tmp_path):
    path = csv_file(tmp_path, family_rows(), sep=";",
                    above=["DAFTAR PENDUDUK DESA KOBA", "Dicetak 01/02/2025", ""])
    job = run(path)
    assert job.status == DONE, job.message
    assert job.rows_accepted == 3
    assert Person.objects.get(nik=ANI).import_line == 6


def test_a_web_page_saved_as_xlsx_fails_with_what_to_do(world, tmp_path):
    page = ("<html><head><meta charset='utf-8'></head><body><table><tr><td>No. KK</td>"
            "<td>NIK</td></tr></table></body></html>")
    path = tmp_path / "penduduk.xlsx"
    path.write_text(page, encoding="utf-8")
    job = run(path)
    assert job.status == FAILED
    assert "File 'penduduk.xlsx' is a web page (HTML)" in job.message
    assert "save it as Excel Workbook (.xlsx) or as CSV UTF-8" in job.message


def test_utf16_text_without_a_bom_is_read(world, tmp_path):
    lines = ["\t".join(FIELD_HEADER), *("\t".join(row) for row in family_rows())]
    path = tmp_path / "penduduk.txt"
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode("utf-16-le"))
    job = run(path)
    assert job.status == DONE, job.message
    assert job.rows_accepted == 3 and Person.objects.get(nik=CITRA).name == "Citra"


def test_an_excel_2003_xml_file_and_big_endian_utf16_are_told_apart(tmp_path):
    xml = tmp_path / "penduduk.xlsx"
    xml.write_text('<?xml version="1.0"?>\n<Workbook xmlns="urn:schemas-microsoft-com:office:'
                   'spreadsheet"><Worksheet/></Workbook>', encoding="utf-8")
    with pytest.raises(DataFileError) as info:
        readers.read_table(xml, file_name="penduduk.xlsx")
    assert "File 'penduduk.xlsx' is an Excel 2003 XML spreadsheet" in info.value.message
    text = tmp_path / "penduduk.csv"
    text.write_bytes("NIK;Nama\n1904015403900001;Siti\n".encode("utf-16-be"))
    table = readers.read_table(text, file_name="penduduk.csv")
    assert table.df.rows() == [("1904015403900001", "Siti")]


# --- 7. one message per problem ------------------------------------------------------------


def test_a_sex_of_x_is_reported_once(world, tmp_path):
    rows = [person_row(KK2, DEDI_EXACT, "Dedi", "X", "09/09/1970", "1")]
    job = run(csv_file(tmp_path, rows))
    (issue,) = issues_of(job)
    assert (issue.column, issue.code) == ("L/P", "bad_sex")
    assert "L/P 'X' is not a sex" in issue.message


def test_a_nik_with_an_impossible_date_gets_only_the_nik_message(world, tmp_path):
    impossible = "1904013207880001"  # day 32
    rows = [person_row(KK2, impossible, "Dedi", "P", "02/07/1988", "1")]
    job = run(csv_file(tmp_path, rows))
    assert [i.code for i in issues_of(job)] == ["nik_date"]


# --- 8. messages and reports in the file's own words ---------------------------------------


def test_messages_name_columns_by_the_files_own_headers(world, tmp_path, client_of):
    rows = [person_row(KK2, DEDI_EXACT, "Dedi", "L", "31/02/1970", "1"),
            person_row("", nik("190401", 1, 1, 2000, "L", 3), "", "L", "01/01/2000", "4"),
            person_row(KK2, "", "Anak Dedi", "L", "01/01/2010", "4")]
    job = run(csv_file(tmp_path, rows), actor=world["coordinator"], region="19.04")
    found = {(i.line, i.column, i.code): i.message for i in issues_of(job)}
    assert "Tgl Lahir '31/02/1970' is not a possible date" in found[(2, "Tgl Lahir", "bad_date")]
    assert "'Nama Lengkap' is empty" in found[(3, "Nama Lengkap", "name_missing")]
    assert (3, "No. KK", "kk_missing") in found
    for message in found.values():
        assert "birth_date" not in message and "kk_number" not in message
    page = client_of("coordinator").get(f"/imports/{job.pk}/").content.decode()
    assert "<td>Tgl Lahir</td>" in page and "birth_date" not in page
    assert (4, "No. KK", "family_head_rejected") in found
    report = report_rows(client_of("coordinator"), job)
    assert report[0][-2:] == ("Errors", "Warnings")
    assert "[Tgl Lahir] Tgl Lahir '31/02/1970'" in report[1][-2] and report[1][-1] is None
    assert report[3][0] == 4 and report[3][-2] is None
    assert "[No. KK] Family KK" in report[3][-1] and "[NIK] 'NIK' is empty" in report[3][-1]


def test_opensid_code_messages_point_to_opensids_codes(world, tmp_path):
    header = ["nama", "no_kk", "nik", "sex", "tanggallahir", "kk_level", "agama_id"]
    rows = [["BUDI", KK1, BUDI, "1", "1988-07-02", "1", "99"]]
    path = workbook(tmp_path, {"Data Penduduk": [header, *rows]}, name="opensid.xlsx")
    job = run(path, fmt="opensid", region=VILLAGE)
    (issue,) = issues_of(job)
    assert (issue.column, issue.code) == ("agama_id", "bad_code")
    assert "agama_id '99' is not one of OpenSID's codes" in issue.message
    assert "'Kode Data' sheet of OpenSID's import template" in issue.message
    assert "Petunjuk" not in issue.message and "Sinergi template" not in issue.message


@pytest.mark.parametrize(("fmt", "names"), [("opensid", "'no_kk'"), ("bnba", "'No KK'")])
def test_missing_columns_are_named_as_the_format_names_them(world, tmp_path, fmt, names):
    path = csv_file(tmp_path, [["Budi", BUDI]], header=["nama", "nik"])
    job = run(path, fmt=fmt, region=VILLAGE)
    assert job.status == FAILED
    assert f"lacks the required columns {names}" in job.message
    assert "kk_number" not in job.message
