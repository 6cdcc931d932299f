"""The file readers: every value as text, exact row numbers, and a clear
message for each kind of file that cannot be used.

No database: read_table only reads bytes.
"""

import datetime
import io
import zipfile
from pathlib import Path

import openpyxl
import polars as pl
import pytest

from sinergi.core.errors import DataFileError
from sinergi.imports import readers
from sinergi.imports.readers import MAX_COLUMNS, read_table

OPENSID_DIR = Path("/work/shared/fixtures/opensid")


def write(tmp_path: Path, data: bytes | str, name: str = "data.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return path


def read(tmp_path: Path, data: bytes | str, **kwargs):
    return read_table(write(tmp_path, data), file_name="upload.csv", **kwargs)


def xlsx(tmp_path: Path, sheets: dict[str, list[list]], name: str = "book.xlsx",
         merges: dict[str, list[str]] | None = None) -> Path:
    """A workbook with the given rows per sheet (None = empty cell);
    ``merges``: sheet -> ranges of merged cells."""
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for title, rows in sheets.items():
        ws = wb.create_sheet(title)
        for row in rows:
            ws.append(row)
        for cells in (merges or {}).get(title, ()):
            ws.merge_cells(cells)
    path = tmp_path / name
    wb.save(path)
    return path


def issues_of(table) -> list[tuple]:
    return [(r["__row"], r["column"], r["value"], r["code"])
            for r in table.issues.iter_rows(named=True)]


def error_of(callable_, *args, **kwargs) -> str:
    with pytest.raises(DataFileError) as info:
        callable_(*args, **kwargs)
    return info.value.message


# --- files that cannot be used -------------------------------------------------


def test_it_rejects_an_empty_file(tmp_path):
    message = error_of(read, tmp_path, b"")
    assert "upload.csv" in message and "empty" in message


def test_it_rejects_a_file_of_blank_lines(tmp_path):
    assert "empty" in error_of(read, tmp_path, "\n  \r\n\t\n")


def test_it_rejects_a_file_of_separators_only(tmp_path):
    assert "empty" in error_of(read, tmp_path, ",,,\n;;\n")


def test_it_rejects_a_header_without_data_rows(tmp_path):
    message = error_of(read, tmp_path, "nik,nama\n\n,\n")
    assert "header row but no data rows" in message


def test_it_rejects_a_picture(tmp_path):
    png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10"
    message = error_of(read, tmp_path, png)
    assert "not a CSV" in message and "binary" in message


def test_it_rejects_binary_bytes_without_a_nul(tmp_path):
    junk = bytes(range(1, 9)) * 400
    assert "binary" in error_of(read, tmp_path, junk)


def test_it_rejects_a_legacy_xls_workbook(tmp_path):
    path = write(tmp_path, b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 512, "old.csv")
    message = error_of(read_table, path, file_name="old.xls")
    assert "old.xls" in message and ".xls" in message and "save it as" in message
    assert ".xlsx" in message


def test_it_reads_utf16_text_with_a_bom(tmp_path):
    # Excel's "Unicode Text": UTF-16 with a BOM, tab-separated.
    table = read(tmp_path, "nik\tnama\n1\tAni\n".encode("utf-16"))
    assert table.df.rows() == [("1", "Ani")]


def test_it_rejects_a_zip_that_is_not_a_workbook(tmp_path):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        zf.writestr("notes.txt", "hello")
    message = error_of(read, tmp_path, buffer.getvalue())
    assert "cannot be opened" in message and ".xlsx" in message


def test_it_rejects_text_in_an_unknown_encoding(tmp_path):
    # 0x81 is invalid UTF-8 and undefined in Windows-1252.
    message = error_of(read, tmp_path, b"nik,nama\n1,A\x81B\n")
    assert "encoding" in message and "line 2" in message and "CSV UTF-8" in message


def test_it_names_duplicate_headers(tmp_path):
    message = error_of(read, tmp_path, "nik,Nama,NIK2, Nama \n1,a,2,b\n")
    assert "'Nama'" in message and "more than one column" in message


def test_it_names_duplicate_headers_in_xlsx(tmp_path):
    path = xlsx(tmp_path, {"Data": [["nik", "nik"], ["1", "2"]]})
    message = error_of(read_table, path, file_name="book.xlsx")
    assert "'nik'" in message and "sheet 'Data'" in message


def test_it_rejects_data_under_an_empty_header(tmp_path):
    message = error_of(read, tmp_path, "nik,,nama\n1,x,a\n")
    assert "column 2" in message and "no header" in message


def test_it_names_the_column_letter_of_an_empty_header_in_xlsx(tmp_path):
    path = xlsx(tmp_path, {"Data": [["nik", None, "nama"], ["1", "x", "a"]]})
    assert "column B" in error_of(read_table, path, file_name="book.xlsx")


def test_it_drops_an_empty_column_without_header(tmp_path):
    table = read(tmp_path, "nik,,nama,\n1,,a,\n")
    assert table.df.columns == ["nik", "nama"]


def test_it_rejects_too_many_columns(tmp_path):
    header = ",".join(f"c{i}" for i in range(MAX_COLUMNS + 1))
    message = error_of(read, tmp_path, header + "\n" + ",".join("1" * (MAX_COLUMNS + 1)) + "\n")
    assert str(MAX_COLUMNS + 1) in message and str(MAX_COLUMNS) in message


def test_it_rejects_a_workbook_without_data(tmp_path):
    path = xlsx(tmp_path, {"Kosong": [], "Juga": [[None]]})
    assert "no sheet with data" in error_of(read_table, path, file_name="book.xlsx")


def test_it_rejects_a_workbook_with_only_headers(tmp_path):
    path = xlsx(tmp_path, {"Data": [["nik", "nama"]]})
    message = error_of(read_table, path, file_name="book.xlsx")
    assert "no data rows" in message and "sheet 'Data'" in message


# --- CSV text ------------------------------------------------------------------


def test_it_keeps_every_value_as_text(tmp_path):
    table = read(tmp_path, "nik,rt,amount\n0012,001,1.500\n")
    assert table.df.row(0) == ("0012", "001", "1.500")
    assert set(table.df.schema.values()) == {table.df.schema["nik"]}
    assert str(table.df.schema["nik"]) == "String"


def test_it_reads_windows_1252(tmp_path):
    table = read(tmp_path, "nama;Désa\nAni;Kurau Désa\n".encode("cp1252"))
    assert table.df.columns == ["nama", "Désa"]
    assert table.df.row(0) == ("Ani", "Kurau Désa")


def test_it_strips_a_utf8_bom(tmp_path):
    table = read(tmp_path, "\ufeffnik,nama\n1,Ani\n".encode())
    assert table.df.columns == ["nik", "nama"]


@pytest.mark.parametrize("sep", [",", ";", "\t"])
def test_it_sniffs_the_separator(tmp_path, sep):
    text = sep.join(["nik", "nama", "alamat"]) + "\n" + sep.join(["1", "Ani", "Jl. A"]) + "\n"
    table = read(tmp_path, text)
    assert table.df.columns == ["nik", "nama", "alamat"]
    assert table.df.row(0) == ("1", "Ani", "Jl. A")


def test_semicolons_win_when_values_hold_commas(tmp_path):
    table = read(tmp_path, "nama;alamat\nAni;Jl. Merdeka, No 5\nBudi;Jl. A, 2\n")
    assert table.df.row(0) == ("Ani", "Jl. Merdeka, No 5")


def test_it_reads_quoted_fields_with_separators_and_quotes(tmp_path):
    table = read(tmp_path, 'nama,alamat\n"Ani, S.Pd","Jl. ""Mawar"", 5"\n')
    assert table.df.row(0) == ("Ani, S.Pd", 'Jl. "Mawar", 5')


def test_it_collapses_header_whitespace(tmp_path):
    table = read(tmp_path, "  Nama   Lengkap ,NIK\nAni,1\n")
    assert table.df.columns == ["Nama Lengkap", "NIK"]


def test_blank_lines_are_skipped_and_line_numbers_kept(tmp_path):
    table = read(tmp_path, "\n\nnik,nama\n1,a\n\n  \n2,b\n,\n3,c\n")
    assert table.df["nik"].to_list() == ["1", "2", "3"]
    assert table.lines.to_list() == [4, 7, 9]
    assert str(table.lines.dtype) == "UInt32"


def test_a_quoted_line_break_shifts_the_line_numbers(tmp_path):
    table = read(tmp_path, 'nik,alamat\n1,"Jl. A\nRT 2"\n2,b\n')
    assert table.df["alamat"].to_list() == ["Jl. A\nRT 2", "b"]
    assert table.lines.to_list() == [2, 4]


def test_crlf_and_old_mac_line_ends(tmp_path):
    assert read(tmp_path, "nik,nama\r\n1,a\r\n").df.row(0) == ("1", "a")
    assert read(tmp_path, "nik,nama\r1,a\r2,b\r").df["nama"].to_list() == ["a", "b"]


def test_whitespace_only_cells_are_null(tmp_path):
    table = read(tmp_path, "nik,nama\n1,   \n")
    assert table.df.row(0) == ("1", None)


def test_a_short_row_gets_nulls(tmp_path):
    table = read(tmp_path, "nik,nama,alamat\n1,a\n")
    assert table.df.row(0) == ("1", "a", None)


def test_a_long_row_is_reported_not_fatal(tmp_path):
    table = read(tmp_path, "nik,nama\n1,a\n\n2,b,Jl. X,RT 1\n3,c\n")
    assert table.df.rows() == [("1", "a"), ("2", "b"), ("3", "c")]
    assert table.lines.to_list() == [2, 4, 5]
    assert issues_of(table) == [(1, "", "Jl. X,RT 1", "extra_fields")]


def test_the_slow_path_keeps_line_numbers_of_a_big_file(tmp_path):
    rows = [f"{i},name {i}" for i in range(3000)]
    rows[1500] += ",oops"
    rows.insert(10, "")
    table = read(tmp_path, "nik,nama\n" + "\n".join(rows) + "\n")
    assert table.df.height == 3000
    assert table.lines[0] == 2 and table.lines[-1] == 3002
    assert issues_of(table) == [(1500, "", "oops", "extra_fields")]
    assert table.lines[1500] == 1503


def test_a_huge_cell_is_reported(tmp_path):
    table = read(tmp_path, "nik,catatan\n1," + "x" * 1001 + "\n2," + "y" * 1000 + "\n")
    found = issues_of(table)
    assert len(found) == 1
    assert found[0][:2] == (0, "catatan") and found[0][3] == "too_long"


@pytest.mark.parametrize(("value", "is_formula"), [
    ('=HYPERLINK("http://x","y")', True),
    ("=1+2", True),
    ("+cmd", True),
    ("@SUM(A1)", True),
    ("-cmd|' /C calc'!A0", True),
    ("+(1)", True),
    ("-", False),
    ("-5", False),
    ("+62812345", False),
    ("=", False),
    ("a=b", False),
])
def test_csv_formula_injection_is_reported(tmp_path, value, is_formula):
    table = read(tmp_path, f'nik,nama\n1,"{value.replace(chr(34), chr(34) * 2)}"\n')
    assert table.df["nama"][0] == value
    assert (issues_of(table) == [(0, "nama", value, "formula")]) is is_formula
    assert bool(issues_of(table)) is is_formula


def test_opensid_end_mark_applies_to_csv_too(tmp_path):
    table = read(tmp_path, "nama,nik\nAni,1\n,###\nlater,2\n", opensid=True)
    assert table.df.rows() == [("Ani", "1")]


# --- XLSX ------------------------------------------------------------------------


def test_xlsx_cells_become_text(tmp_path):
    path = xlsx(tmp_path, {"Data": [
        ["nik", "rt", "jumlah", "tanggal", "waktu", "aktif", "ket"],
        ["0012", 4, 1.5, datetime.date(1990, 3, 14), datetime.datetime(1990, 3, 14, 0, 0),
         True, 0.1],
        ["x", 12.0, 2.25, datetime.datetime(2001, 1, 2, 13, 30), datetime.time(7, 5), False,
         1e-7],
    ]})
    table = read_table(path, file_name="book.xlsx")
    assert table.df.rows() == [
        ("0012", "4", "1.5", "1990-03-14", "1990-03-14", "1", "0.1"),
        ("x", "12", "2.25", "2001-01-02 13:30:00", "07:05:00", "0", "0.0000001"),
    ]
    assert table.sheet == "Data"
    assert table.lines.to_list() == [2, 3]


def test_sixteen_digit_numbers_in_xlsx_are_flagged_only_when_digits_may_be_lost(tmp_path):
    # Excel turns the 16th digit of a typed number into 0: a number ending
    # in 0 may have lost it; one ending in another digit was stored exactly.
    path = xlsx(tmp_path, {"Data": [
        ["nik", "no_kk", "umur"],
        [5201140104126990, "5201140104126994", 40],
        [520114010412699.0, "x", 123456789012345678901234],
        [5201140104126994, "y", 1],
    ]})
    table = read_table(path, file_name="book.xlsx")
    assert table.df["nik"].to_list() == ["5201140104126990", "520114010412699",
                                         "5201140104126994"]
    found = issues_of(table)
    assert (0, "nik", "5201140104126990", "number_16_digits") in found
    assert [f for f in found if f[1] == "umur"][0][3] == "number_16_digits"
    assert not [f for f in found if f[0] == 2 or f[1] == "no_kk" or f[0] == 1 and f[1] == "nik"]


def test_formula_cells_in_xlsx_are_flagged(tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Data"
    ws.append(["nik", "nama", "total"])
    ws.append(["1", "Ani", 3])
    ws.append(["2", "Budi", 4])
    ws["B2"] = '=HYPERLINK("http://x","y")'
    ws["C3"] = "=1+2"
    ws["E1"] = "=NOW()"  # outside the data, in the header row
    path = tmp_path / "f.xlsx"
    wb.save(path)
    table = read_table(path, file_name="f.xlsx")
    assert issues_of(table) == [
        (0, "nama", '=HYPERLINK("http://x","y")', "formula"),
        (1, "total", "=1+2", "formula"),
    ]


def test_xlsx_header_below_blank_rows_keeps_row_numbers(tmp_path):
    path = xlsx(tmp_path, {"Data": [[None], [None, None], ["nik", "nama"], ["1", "a"],
                                    [None, None], ["2", "b"]]})
    table = read_table(path, file_name="book.xlsx")
    assert table.lines.to_list() == [4, 6]
    assert table.df["nik"].to_list() == ["1", "2"]


def test_xlsx_first_sheet_with_data_is_read(tmp_path):
    path = xlsx(tmp_path, {"Kosong": [], "Penduduk": [["nik"], ["1"]], "Lain": [["x"], ["y"]]})
    table = read_table(path, file_name="book.xlsx")
    assert table.sheet == "Penduduk" and table.df.columns == ["nik"]


def test_xlsx_huge_cell_is_reported(tmp_path):
    path = xlsx(tmp_path, {"Data": [["nik", "catatan"], ["1", "z" * 1500]]})
    assert issues_of(read_table(path, file_name="book.xlsx"))[0][3] == "too_long"


def test_the_kind_of_file_is_told_by_content_not_name(tmp_path):
    book = xlsx(tmp_path, {"Data": [["nik"], ["1"]]})
    renamed = tmp_path / "data.csv"
    renamed.write_bytes(book.read_bytes())
    assert read_table(renamed, file_name="data.csv").sheet == "Data"
    text = write(tmp_path, "nik\n1\n", "data.xlsx")
    assert read_table(text, file_name="data.xlsx").sheet is None


# --- OpenSID workbooks ---------------------------------------------------------------


def test_opensid_template_stops_at_the_end_mark():
    table = read_table(OPENSID_DIR / "FormatImporExcel.xlsx",
                       file_name="FormatImporExcel.xlsx", opensid=True)
    assert table.sheet == "Data Penduduk"  # "Kode Data" is not read
    assert table.df.height == 1
    assert table.lines.to_list() == [2]
    assert len(table.df.columns) == 43
    row = table.df.row(0, named=True)
    assert row["nik"] == "8788888888888456" and row["no_kk"] == "6453654545450056"
    assert row["tanggallahir"] == "1978-03-28" and row["sex"] == "2"
    assert row["rw"] == "002" and row["rt"] == "001"


def test_opensid_sample_export_reads_all_rows():
    table = read_table(OPENSID_DIR / "contoh_penduduk.xlsx", file_name="contoh_penduduk.xlsx",
                       opensid=True)
    assert table.df.height == 97
    assert table.lines.to_list() == list(range(2, 99))
    assert table.df["nik"][0] == "5201145003976995"
    assert table.df["nama"][-1] == "WAYAN EKA PRAWATA"
    assert table.issues.is_empty()


def test_opensid_sheets_are_joined_and_the_lookup_sheet_skipped(tmp_path):
    path = xlsx(tmp_path, {
        "Dusun 1": [["nik", "no_kk", "nama"], ["1", "10", "a"], [None, "###"], ["x", "y", "z"]],
        "Kode Data": [["sex", "id"], ["LAKI-LAKI", 1]],
        "Dusun 2": [["no_kk", "nik", "dusun"], [None], ["11", "2", "II"]],
        "Catatan": [["catatan"], ["bukan data penduduk"]],
    })
    table = read_table(path, file_name="book.xlsx", opensid=True)
    assert table.sheet == "Dusun 1, Dusun 2"
    assert table.df.select("nik", "no_kk", "nama", "dusun").rows() == [
        ("1", "10", "a", None), ("2", "11", None, "II")]
    assert table.lines.to_list() == [2, 3]
    assert table.row_sheets.to_list() == ["Dusun 1", "Dusun 2"]


def test_opensid_issues_point_at_rows_of_the_joined_table(tmp_path):
    path = xlsx(tmp_path, {
        "A": [["nik", "no_kk"], ["1", "10"]],
        "B": [["nik", "no_kk"], [5201140104126990, "11"]],
    })
    table = read_table(path, file_name="book.xlsx", opensid=True)
    assert issues_of(table) == [(1, "nik", "5201140104126990", "number_16_digits")]


def test_empty_cells_are_null_on_the_slow_path_too(tmp_path):
    table = read(tmp_path, "nik,nama\n1,\n2,b,extra\n")
    assert table.df.rows() == [("1", None), ("2", "b")]


def test_a_quoted_empty_value_is_null(tmp_path):
    assert read(tmp_path, 'nik,nama\n"1","a"\n"2",""\n').df.rows() == [("1", "a"), ("2", None)]


def test_an_unclosed_quote_is_reported_with_its_line(tmp_path):
    message = error_of(read, tmp_path, 'nik,nama\n1,a\n2,"unclosed\n3,c\n4,d\n')
    assert "line 3" in message and "never closed" in message


def test_a_lone_quote_inside_a_value_is_kept(tmp_path):
    table = read(tmp_path, 'nik,nama\n1,Jl. "Mawar 5\n2,b\n')
    assert table.df.rows() == [("1", 'Jl. "Mawar 5'), ("2", "b")]


def test_the_csv_module_fallback_reads_the_same(tmp_path, monkeypatch):
    """When polars refuses a file, the csv module reads it: same rows, same
    line numbers, same issues."""
    text = '\nnik,nama,alamat\n1,a,"Jl. A\nRT 2"\n\n2,b,Jl. B,RT 3\n3,   ,c\n4\n'
    fast = read(tmp_path, text)

    def refuse(*args, **kwargs):
        raise pl.exceptions.ComputeError("refused")

    monkeypatch.setattr(readers.text, "_csv_polars", refuse)
    slow = read(tmp_path, text)
    for table in (fast, slow):
        assert table.df.rows() == [("1", "a", "Jl. A\nRT 2"), ("2", "b", "Jl. B"),
                                   ("3", None, "c"), ("4", None, None)]
        assert table.lines.to_list() == [3, 6, 7, 8]
        assert issues_of(table) == [(1, "", "RT 3", "extra_fields")]


def test_a_stray_quote_beside_a_multiline_value_is_not_an_error(tmp_path):
    table = read(tmp_path, 'nik,alamat\n1,"Jl. A\nRT 2"\n2,Gang 5"\n3,c\n')
    assert table.df["alamat"].to_list() == ["Jl. A\nRT 2", 'Gang 5"', "c"]
