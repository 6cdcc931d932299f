"""The commitment list as a spreadsheet: its columns (headers, the aliases
an import accepts, the help), the template an operator fills in, and the
export of the board. The import itself is transfer.py."""

from __future__ import annotations

import datetime
import io
from collections.abc import Iterable
from dataclasses import dataclass

from django.http import FileResponse
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Alignment

from sinergi.core.exports import (
    BOLD,
    HEADER_FILL,
    append_row,
    help_sheet_head,
    write_cell,
    xlsx_response,
)

from . import progress
from .models import MANUAL, Commitment

DATA_SHEET = "Komitmen"
HELP_SHEET = "Petunjuk"
TEXT_ROWS = 500  # rows of the template's region column pre-formatted as Text


def _source_label(c: Commitment) -> str:
    if c.source == MANUAL:
        return str(_("Manual updates"))
    counter = progress.COUNTERS.get(c.source)
    label = str(counter.label) if counter else c.source
    return f"{label} ({c.source_param})" if c.source_param else label


def commitments_xlsx(rows: Iterable[tuple[Commitment, progress.Progress]],
                     filename: str) -> FileResponse:
    """The board's rows, one commitment a line with its current progress.

    ``rows`` are (commitment, Progress) pairs as ``selectors.board`` returns
    them, with meeting, owner agency, region and supporting agencies loaded.
    """
    headers = [_("Meeting"), _("No."), _("Commitment"), _("Owner agency"),
               _("Supporting agencies"), _("Region code"), _("Region"), _("Due date"),
               _("Unit"), _("Baseline"), _("Target"), _("Current value"), _("Value as of"),
               _("Progress source"), _("Status"), _("Percent")]
    lines = (
        [str(c.meeting), c.number, c.text, c.owner_agency.short_name,
         ", ".join(sorted((a.short_name for a in c.supporting_agencies.all()),
                          key=str.casefold)), c.region_id,
         c.region.name, c.due_date, c.unit, c.baseline, c.target, p.value, p.as_of,
         _source_label(c), p.status_label, p.percent]
        for c, p in rows)
    return xlsx_response(filename, headers, lines, text_columns={5}, sheet=str(_("Commitments")))


@dataclass(frozen=True)
class Column:
    key: str
    header: str  # as the template writes it
    aliases: tuple[str, ...]  # other accepted headers (English first)
    required: bool = False
    field: str | None = None  # the keyword of services.commitment_create it feeds


COLUMNS = (
    Column("no", "No", ("no.", "nomor", "number")),
    Column("text", "Komitmen", ("commitment",), True, "text"),
    Column("agenda", "Agenda", ("topic", "topik"), False, "agenda_item"),
    Column("owner", "OPD penanggung jawab", ("owner agency",), True, "owner_agency"),
    Column("supporting", "OPD pendukung", ("supporting agencies",), False,
           "supporting_agencies"),
    Column("region", "Kode wilayah", ("region code",), False, "region"),
    Column("due", "Tenggat", ("due date",), False, "due_date"),
    Column("unit", "Satuan", ("unit",), False, "unit"),
    Column("baseline", "Baseline", (), False, "baseline"),
    Column("target", "Target", (), False, "target"),
)


BY_KEY = {c.key: c for c in COLUMNS}
BY_FIELD = {c.field: c for c in COLUMNS if c.field}


def header_key(text: str) -> str:
    """Headers match whatever the case and spacing; a trailing * or : is a
    common "required" or label mark and is ignored too."""
    return " ".join(text.split()).rstrip("*: ").strip().casefold()


BY_HEADER = {header_key(h): c for c in COLUMNS for h in (c.header, *c.aliases)}


# Bahasa Indonesia, like the registry's template (a document for operators):
# column key -> (meaning, accepted values, example).
COLUMN_HELP = {
    "no": ("Nomor urut di notulen.",
           "Angka. Tidak dipakai: Sinergi memberi nomor komitmen sendiri, melanjutkan nomor "
           "terakhir rapat ini, mengikuti urutan baris.", "1"),
    "text": ("Bunyi komitmen bersama.", "Teks, paling banyak 2.000 karakter.",
             "Meningkatkan cakupan akta kelahiran anak"),
    "agenda": ("Topik agenda rapat tempat komitmen ini disepakati.",
               "Judul topik persis seperti di agenda rapat di Sinergi (huruf besar/kecil "
               "tidak berpengaruh). Kosongkan jika tidak terkait topik.", ""),
    "owner": ("OPD yang bertanggung jawab atas komitmen.",
              "Singkatan OPD seperti di daftar OPD Sinergi, misalnya DP3ACSKB (huruf "
              "besar/kecil tidak berpengaruh). OPD wilayah rapat didahulukan, lalu OPD "
              "wilayah di atasnya. Jika singkatan sama dipakai beberapa wilayah, tulis kode "
              "wilayahnya dalam kurung: Dinkes (19.04).", "DP3ACSKB"),
    "supporting": ("OPD yang mendukung.",
                   "Singkatan OPD, dipisah koma atau titik koma, aturan sama dengan OPD "
                   "penanggung jawab.", "Dinsos; Dinkes"),
    "region": ("Wilayah tempat komitmen berlaku dan kemajuannya dihitung.",
               "Kode Kemendagri, misalnya 19.04 atau 19.04.01.2003, di dalam wilayah rapat. "
               "Kosong berarti wilayah rapat. Ketik sebagai teks (kolomnya sudah berformat "
               "Teks).", ""),
    "due": ("Tenggat waktu.",
            "HH/BB/TTTT (hari lebih dulu), TTTT-BB-HH, atau sel tanggal Excel. Boleh kosong.",
            "31/12/2026"),
    "unit": ("Satuan ukuran capaian.", "Teks, paling banyak 60 karakter, misalnya persen, "
             "anak, keluarga.", "persen"),
    "baseline": ("Nilai awal sebelum komitmen.", "Angka; lihat aturan angka di atas. Boleh "
                 "kosong.", "85"),
    "target": ("Nilai yang ingin dicapai.", "Angka; lihat aturan angka di atas. Boleh "
               "kosong.", "95"),
}


TEXT = {
    "title": "Petunjuk pengisian templat komitmen rapat",
    "intro": (
        "Isi sheet 'Komitmen': satu baris untuk satu komitmen, mulai baris 2. Jangan "
        "mengubah nama kolom di baris 1; urutan kolom boleh berubah dan kolom yang tidak "
        "wajib boleh dihapus. Nama kolom dalam bahasa Inggris (lihat kolom 'Nama lain') "
        "juga diterima.",
        "Hapus baris contoh sebelum mengunggah. Baris kosong dilewati.",
        "Semua baris diperiksa dulu. Jika ada satu saja yang salah, tidak ada komitmen yang "
        "disimpan: Sinergi menampilkan daftar baris, kolom dan isian yang harus diperbaiki.",
        "Angka: tulis tanpa pemisah ribuan (1500) dan pakai koma atau titik sebagai tanda "
        "desimal (12,5 atau 12.5). Pemisah ribuan hanya diterima jika tidak membingungkan "
        "(1.234.567 atau 1.234,5). Satu titik atau koma yang diikuti tepat tiga angka, "
        "misalnya 1.500, bisa berarti seribu lima ratus atau satu setengah, sehingga "
        "ditolak. Sel angka Excel selalu diterima.",
        "Jangan memakai rumus: salin sel lalu Tempel Spesial > Nilai.",
        "Paling banyak 500 komitmen per berkas. Simpan sebagai Excel (.xlsx) atau CSV "
        "(pemisah koma atau titik koma).",
    ),
    "columns_heading": "Daftar kolom",
    "column_headers": ("Kolom", "Nama lain", "Wajib?", "Arti", "Isian yang diterima",
                       "Contoh"),
    "required": "Wajib",
    "optional": "Tidak wajib",
}


EXAMPLE = {"no": 1, "text": "Meningkatkan cakupan akta kelahiran anak usia 0-18 tahun",
           "agenda": None, "owner": "DP3ACSKB", "supporting": "Dinsos; Dinkes", "region": None,
           "due": datetime.date(2026, 12, 31), "unit": "persen", "baseline": 85, "target": 95}




def template_workbook() -> bytes:
    """The commitment import template as .xlsx bytes: headers and one example
    row on "Komitmen", every column explained on "Petunjuk"."""
    wb = Workbook()
    ws = wb.active
    ws.title = DATA_SHEET
    for index, column in enumerate(COLUMNS, start=1):
        cell = write_cell(ws.cell(row=1, column=index), column.header)
        cell.font, cell.fill = BOLD, HEADER_FILL
        # Excel would read 19.10 as the number 19.1: the region column keeps what is typed.
        text = column.key == "region"
        example = write_cell(ws.cell(row=2, column=index), EXAMPLE[column.key], text=text)
        letter = cell.column_letter
        ws.column_dimensions[letter].width = {"text": 50, "owner": 22, "supporting": 22}.get(
            column.key, max(10, len(column.header) + 4))
        if column.key == "due":
            example.number_format = "DD/MM/YYYY"
        if text:
            for row in range(3, TEXT_ROWS + 2):
                write_cell(ws.cell(row=row, column=index), None, text=True)
    ws.freeze_panes = "A2"

    help_ws = wb.create_sheet(HELP_SHEET)
    wrap = Alignment(wrap_text=True, vertical="top")
    help_sheet_head(help_ws, TEXT)
    for column in COLUMNS:
        meaning, accepted, example = COLUMN_HELP[column.key]
        english = column.aliases[0] if column.aliases else column.header
        append_row(help_ws, [column.header, english[:1].upper() + english[1:],
                             TEXT["required"] if column.required else TEXT["optional"],
                             meaning, accepted, example], alignment=wrap)
    for letter, width in zip("ABCDEF", (22, 20, 12, 40, 60, 30), strict=True):
        help_ws.column_dimensions[letter].width = width
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
