"""The downloadable Sinergi import template (.xlsx).

Two sheets: "Data" (the headers of the sinergi format and two example rows)
and "Petunjuk" (how to fill every column, and every code table). The
template is a document for village operators, so its text is in Bahasa
Indonesia; all of it sits in the data structures at the top of this module,
ready to be moved into the translation catalogue if the template ever needs
a second language. Code tables come from sinergi/registry/codes.py, so the
template always lists the codes the importer accepts.
"""

from __future__ import annotations

import io

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.worksheet.datavalidation import DataValidation

from sinergi.core.exports import BOLD, HEADER_FILL, append_row, help_sheet_head, write_cell
from sinergi.imports.columns import CANONICAL, REQUIRED
from sinergi.registry import codes

DATA_SHEET = "Data"
HELP_SHEET = "Petunjuk"
TEXT_ROWS = 1000  # rows pre-formatted as Text in the Data sheet

TEXT = {
    "title": "Petunjuk pengisian templat impor penduduk Sinergi",
    "intro": (
        "Isi sheet 'Data': satu baris untuk satu orang, mulai baris 2. Jangan mengubah nama "
        "kolom di baris 1; urutan kolom boleh berubah dan kolom yang tidak wajib boleh "
        "dihapus.",
        "Hapus dua baris contoh sebelum mengunggah.",
        "NIK dan No KK harus diketik sebagai teks (kolomnya sudah berformat Teks). Jika angka "
        "16 digit diketik sebagai angka, Excel membulatkan digit terakhir dan menampilkannya "
        "sebagai 5,20114E+15: data seperti itu ditolak.",
        "Tanggal ditulis dengan hari lebih dulu: HH/BB/TTTT, misalnya 14/03/1990, tahun "
        "selalu 4 angka.",
        "Kolom berkode boleh diisi kode angka atau namanya (huruf besar/kecil tidak "
        "berpengaruh); daftar kode ada di bawah.",
        "Jangan memakai rumus: salin sel lalu Tempel Spesial > Nilai.",
        "Simpan sebagai Excel (.xlsx) atau CSV UTF-8.",
    ),
    "columns_heading": "Daftar kolom",
    "column_headers": ("Kolom", "Wajib?", "Arti", "Isian yang diterima", "Contoh"),
    "required": "Wajib",
    "optional": "Tidak wajib",
    "codes_heading": "Tabel kode",
    "code_headers": ("Kode", "Nama"),
}

# canonical column -> (meaning, accepted values) in Bahasa Indonesia.
COLUMN_HELP = {
    "kk_number": ("Nomor Kartu Keluarga (KK).", "16 angka, diketik sebagai teks."),
    "nik": ("Nomor Induk Kependudukan orang ini.",
            "16 angka, diketik sebagai teks. Kosongkan jika belum punya NIK."),
    "name": ("Nama lengkap sesuai KK.", "Teks."),
    "sex": ("Jenis kelamin.", "L (laki-laki) atau P (perempuan); juga Laki-laki/Perempuan, "
                              "1/2."),
    "birth_place": ("Tempat lahir.", "Teks."),
    "birth_date": ("Tanggal lahir.", "HH/BB/TTTT atau HH-BB-TTTT (hari lebih dulu), atau "
                                     "TTTT-BB-HH; tahun 4 angka."),
    "shdk": ("Status hubungan dalam keluarga (SHDK), sesuai KK.",
             "Kode atau nama dari tabel 'Hubungan dalam Keluarga'. Satu orang per KK "
             "berkode 1 (kepala keluarga)."),
    "village_code": ("Kode Kemendagri desa/kelurahan tempat tinggal keluarga.",
                     "PP.KK.CC.DDDD, misalnya 19.04.01.2003; boleh 10 angka tanpa titik."),
    "dusun": ("Nama dusun/lingkungan.", "Teks."),
    "rw": ("Nomor RW.", "Angka, misalnya 1 atau 001."),
    "rt": ("Nomor RT.", "Angka, misalnya 4 atau 004."),
    "address": ("Alamat (jalan, nomor rumah).", "Teks."),
    "religion": ("Agama.", "Kode atau nama dari tabel 'Agama'."),
    "marital_status": ("Status perkawinan.",
                       "Kode atau nama dari tabel 'Status Perkawinan'; juga BK, K, CH, CM."),
    "education": ("Pendidikan terakhir sesuai KK.", "Kode atau nama dari tabel 'Pendidikan'."),
    "occupation": ("Pekerjaan sesuai KK.", "Kode atau nama dari tabel 'Pekerjaan'."),
    "disability": ("Jenis disabilitas.",
                   "Kode atau nama dari tabel 'Disabilitas'; 7 = tidak ada disabilitas."),
    "has_birth_certificate": ("Punya akta kelahiran?", "Ya atau Tidak (juga 1/0)."),
    "has_kia": ("Anak punya Kartu Identitas Anak (KIA)?", "Ya atau Tidak (juga 1/0)."),
    "has_ktp_el": ("Punya KTP elektronik?", "Ya atau Tidak (juga 1/0)."),
    "health_insurance": ("Kepesertaan jaminan kesehatan (JKN).",
                         "Kode atau nama dari tabel 'Jaminan Kesehatan'."),
    "kb_method": ("Metode KB yang dipakai.",
                  "Kode atau nama dari tabel 'Metode KB'; kosongkan jika tidak ber-KB."),
    "monthly_income": ("Penghasilan per bulan, dalam rupiah.",
                       "Angka bulat, misalnya 1500000, 1.500.000 atau 1,5 juta."),
    "life_status": ("Status penduduk (hidup, meninggal, pindah...).",
                    "Kode atau nama dari tabel 'Status Penduduk'; kosong berarti hidup."),
    "desil": ("Desil kesejahteraan keluarga di DTSEN (1 = paling miskin).",
              "Angka bulat 1 sampai 10."),
    "in_dtsen": ("Terdaftar di DTSEN?", "Ya atau Tidak (juga 1/0)."),
}

# Two members of one family in Koba, Bangka Tengah (19.04.01): the NIKs are
# structurally valid (kecamatan 190401, birth date with day + 40 for the
# woman, serial), the KK number was issued 15-02-2015.
EXAMPLE_ROWS = (
    {"kk_number": "1904011502150001", "nik": "1904011205880003", "name": "BUDI SANTOSO",
     "sex": "L", "birth_place": "KOBA", "birth_date": "12/05/1988", "shdk": "1",
     "village_code": "19.04.01.2003", "dusun": "DUSUN I", "rw": "001", "rt": "002",
     "address": "JL. MERDEKA NO. 5", "religion": "1", "marital_status": "2",
     "education": "5", "occupation": "88", "disability": "7", "has_birth_certificate": "Ya",
     "has_kia": "Tidak", "has_ktp_el": "Ya", "health_insurance": "2", "kb_method": "",
     "monthly_income": "2500000", "life_status": "1", "desil": "3", "in_dtsen": "Ya"},
    {"kk_number": "1904011502150001", "nik": "1904015403900001", "name": "SITI AMINAH",
     "sex": "P", "birth_place": "KOBA", "birth_date": "14/03/1990", "shdk": "3",
     "village_code": "19.04.01.2003", "dusun": "DUSUN I", "rw": "001", "rt": "002",
     "address": "JL. MERDEKA NO. 5", "religion": "1", "marital_status": "2",
     "education": "5", "occupation": "2", "disability": "7", "has_birth_certificate": "Ya",
     "has_kia": "Tidak", "has_ktp_el": "Ya", "health_insurance": "2", "kb_method": "3",
     "monthly_income": "0", "life_status": "1", "desil": "3", "in_dtsen": "Ya"},
)

# Columns Excel must keep as typed (leading zeros, 16 digits, day-first dates).
TEXT_COLUMNS = ("kk_number", "nik", "birth_date", "village_code", "rw", "rt")

# Code tables listed on the Petunjuk sheet, titled by their column header.
CODE_TABLE_COLUMNS = ("shdk", "religion", "education", "occupation", "marital_status",
                      "disability", "health_insurance", "kb_method", "life_status")
EXTRA_TABLES = {
    "sex": {"L": "LAKI-LAKI", "P": "PEREMPUAN"},
}



def template_workbook() -> bytes:
    """The Sinergi import template as .xlsx bytes."""
    wb = Workbook()
    _data_sheet(wb.active)
    _help_sheet(wb.create_sheet(HELP_SHEET))
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _data_sheet(ws) -> None:
    ws.title = DATA_SHEET
    columns = list(CANONICAL)
    for index, name in enumerate(columns, start=1):
        text = name in TEXT_COLUMNS
        cell = write_cell(ws.cell(row=1, column=index), CANONICAL[name].header)
        cell.font, cell.fill = BOLD, HEADER_FILL
        letter = cell.column_letter
        ws.column_dimensions[letter].width = max(12, len(CANONICAL[name].header) + 4)
        if text:
            ws.column_dimensions[letter].number_format = "@"
            ws.column_dimensions[letter].width = 20
        for row_index, example in enumerate(EXAMPLE_ROWS, start=2):
            write_cell(ws.cell(row=row_index, column=index), example.get(name) or None,
                       text=text)
        if text:
            # Excel applies a column's format to new cells only sometimes;
            # formatting the (empty) cells themselves is what makes it keep digits.
            for row_index in range(len(EXAMPLE_ROWS) + 2, TEXT_ROWS + 2):
                write_cell(ws.cell(row=row_index, column=index), None, text=True)
    ws.freeze_panes = "A2"
    choices = {"sex": '"L,P"'}
    yes_no = '"Ya,Tidak"'
    for index, name in enumerate(columns, start=1):
        formula = choices.get(name) or (yes_no if name in (
            "has_birth_certificate", "has_kia", "has_ktp_el", "in_dtsen") else None)
        if formula:
            validation = DataValidation(type="list", formula1=formula, allow_blank=True)
            letter = ws.cell(row=1, column=index).column_letter
            validation.add(f"{letter}2:{letter}{TEXT_ROWS + 1}")
            ws.add_data_validation(validation)


def _help_sheet(ws) -> None:
    wrap = Alignment(wrap_text=True, vertical="top")
    help_sheet_head(ws, TEXT)
    required = set(REQUIRED["sinergi"])
    for name, spec in CANONICAL.items():
        meaning, accepted = COLUMN_HELP[name]
        append_row(ws, [spec.header, TEXT["required"] if name in required else TEXT["optional"],
                        meaning, accepted, spec.example], alignment=wrap)
    append_row(ws, [])
    append_row(ws, [TEXT["codes_heading"]], font=Font(bold=True, size=12))
    tables = {name: EXTRA_TABLES[name] for name in EXTRA_TABLES}
    tables.update({name: getattr(codes, CANONICAL[name].code_table)
                   for name in CODE_TABLE_COLUMNS})
    for name, table in tables.items():
        append_row(ws, [])
        append_row(ws, [CANONICAL[name].header], font=BOLD)
        append_row(ws, TEXT["code_headers"], font=BOLD, fill=HEADER_FILL)
        for code, label in table.items():
            append_row(ws, [str(code), str(label)])
    for letter, width in zip("ABCDE", (26, 12, 45, 55, 20), strict=True):
        ws.column_dimensions[letter].width = width
