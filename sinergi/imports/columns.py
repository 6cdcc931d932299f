"""Which column of an uploaded file holds what: header names -> canonical columns.

Three kinds of file arrive (docs/formats.md):

- ``sinergi``: our own template (template.py), human Indonesian headers;
- ``opensid``: the OpenSID resident workbook, 43 lowercase internal names;
- ``bnba``: by-name-by-address family lists from DTSEN / SIKS-NG style
  systems, whose headers vary from file to file, so they are matched through
  generous aliases (and the user confirms an uncertain mapping).

Headers match whatever their case, spacing and punctuation: "No. KK",
"NO_KK" and "nomor kk" are the same header.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

FORMATS = ("sinergi", "opensid", "bnba")

CANONICAL_COLUMNS = (
    "kk_number", "nik", "name", "sex", "birth_place", "birth_date", "shdk", "village_code",
    "dusun", "rw", "rt", "address", "religion", "marital_status", "education", "occupation",
    "disability", "has_birth_certificate", "has_kia", "has_ktp_el", "health_insurance",
    "kb_method", "monthly_income", "life_status", "desil", "in_dtsen",
)

# Which code table of sinergi/registry/codes.py each coded column uses.
CODE_TABLES = {
    "shdk": "SHDK", "religion": "RELIGION", "marital_status": "MARITAL_STATUS",
    "education": "EDUCATION", "occupation": "OCCUPATION", "disability": "DISABILITY",
    "health_insurance": "HEALTH_INSURANCE", "kb_method": "KB_METHOD",
    "life_status": "LIFE_STATUS",
}


@dataclass(frozen=True)
class ColumnSpec:
    """One canonical column: its template header, meaning, values, example."""

    name: str
    header: str                 # header in the Sinergi template
    description: Promise        # one line, translated (gettext_lazy)
    values: Promise             # what may be written in it
    example: str
    code_table: str | None = None   # name of the table in registry/codes.py


def _spec(name, header, description, values, example):
    return ColumnSpec(name, header, description, values, example, CODE_TABLES.get(name))


CANONICAL: dict[str, ColumnSpec] = {s.name: s for s in (
    _spec("kk_number", "No KK", _("Number of the family card (Kartu Keluarga), 16 digits."),
          _("16 digits, typed as text."), "1904011502150001"),
    _spec("nik", "NIK", _("The person's NIK (Nomor Induk Kependudukan), 16 digits."),
          _("16 digits, typed as text; empty when the person has no NIK yet."),
          "1904015403900001"),
    _spec("name", "Nama", _("Full name as written on the family card."),
          _("Text."), "SITI AMINAH"),
    _spec("sex", "Jenis Kelamin", _("Sex."),
          _("L (male) or P (female); also Laki-laki / Perempuan, 1 / 2."), "P"),
    _spec("birth_place", "Tempat Lahir", _("Place of birth."), _("Text."), "KOBA"),
    _spec("birth_date", "Tanggal Lahir", _("Date of birth."),
          _("Day first: DD/MM/YYYY or DD-MM-YYYY, or YYYY-MM-DD; the year in 4 digits."),
          "14/03/1990"),
    _spec("shdk", "Hubungan dalam Keluarga",
          _("Relationship to the head of the family (SHDK) as on the family card."),
          _("A code or its name from the SHDK table."), "3"),
    _spec("village_code", "Kode Wilayah",
          _("Kemendagri code of the village (desa/kelurahan) where the family lives."),
          _("PP.KK.CC.DDDD, e.g. 19.04.01.2003; also 10 digits without dots."),
          "19.04.01.2003"),
    _spec("dusun", "Dusun", _("Hamlet (dusun / lingkungan) within the village."),
          _("Text."), "DUSUN I"),
    _spec("rw", "RW", _("RW number (rukun warga)."), _("A number, e.g. 1 or 001."), "001"),
    _spec("rt", "RT", _("RT number (rukun tetangga)."), _("A number, e.g. 4 or 004."), "004"),
    _spec("address", "Alamat", _("Street address."), _("Text."), "JL. MERDEKA NO. 5"),
    _spec("religion", "Agama", _("Religion."), _("A code or its name from the religion table."),
          "1"),
    _spec("marital_status", "Status Perkawinan", _("Marital status."),
          _("A code or its name; also BK, K, CH, CM."), "2"),
    _spec("education", "Pendidikan", _("Highest education, as on the family card."),
          _("A code or its name from the education table."), "5"),
    _spec("occupation", "Pekerjaan", _("Occupation, as on the family card."),
          _("A code or its name from the occupation table (89 entries)."), "2"),
    _spec("disability", "Disabilitas", _("Disability, if any."),
          _("A code or its name from the disability table; 7 = none."), "7"),
    _spec("has_birth_certificate", "Akta Kelahiran", _("Whether the person has a birth "
          "certificate."), _("Ya / Tidak (also 1 / 0)."), "Ya"),
    _spec("has_kia", "KIA", _("Whether the child has a child identity card (KIA)."),
          _("Ya / Tidak (also 1 / 0)."), "Tidak"),
    _spec("has_ktp_el", "KTP-el", _("Whether the person has an electronic ID card (KTP-el)."),
          _("Ya / Tidak (also 1 / 0)."), "Ya"),
    _spec("health_insurance", "Jaminan Kesehatan", _("Health insurance (JKN) membership."),
          _("A code or its name from the health insurance table."), "2"),
    _spec("kb_method", "Metode KB", _("Family planning (KB) method in use."),
          _("A code or its name from the KB method table; empty when none."), "3"),
    _spec("monthly_income", "Penghasilan per Bulan", _("Income per month, in rupiah."),
          _("A whole number of rupiah, e.g. 1500000 or 1.500.000 or 1,5 juta."), "1500000"),
    _spec("life_status", "Status Penduduk",
          _("Whether the person is alive, dead, moved away, missing..."),
          _("A code or its name from the status table; empty means alive."), "1"),
    _spec("desil", "Desil", _("Welfare decile of the family in DTSEN (1 = poorest)."),
          _("A whole number from 1 to 10."), "3"),
    _spec("in_dtsen", "DTSEN", _("Whether the person is listed in DTSEN."),
          _("Ya / Tidak (also 1 / 0)."), "Ya"),
)}

REQUIRED = {
    "sinergi": ("kk_number", "nik", "name", "sex", "shdk", "village_code"),
    "opensid": ("nik", "kk_number"),
    "bnba": ("kk_number", "nik", "name", "village_code"),
}

# OpenSID's 43 internal names in template order (docs/formats.md).
OPENSID_COLUMNS = (
    "alamat", "dusun", "rw", "rt", "nama", "no_kk", "nik", "sex", "tempatlahir",
    "tanggallahir", "agama_id", "pendidikan_kk_id", "pendidikan_sedang_id", "pekerjaan_id",
    "status_kawin", "kk_level", "warganegara_id", "ayah_nik", "nama_ayah", "ibu_nik",
    "nama_ibu", "golongan_darah_id", "akta_lahir", "dokumen_pasport", "tanggal_akhir_paspor",
    "dokumen_kitas", "akta_perkawinan", "tanggalperkawinan", "akta_perceraian",
    "tanggalperceraian", "cacat_id", "cara_kb_id", "hamil", "ktp_el", "status_rekam",
    "alamat_sekarang", "status_dasar", "suku", "tag_id_card", "id_asuransi", "no_asuransi",
    "lat", "lng",
)
OPENSID_MAP = {
    "nik": "nik", "no_kk": "kk_number", "nama": "name", "sex": "sex",
    "tempatlahir": "birth_place", "tanggallahir": "birth_date", "kk_level": "shdk",
    "agama_id": "religion", "pendidikan_kk_id": "education", "pekerjaan_id": "occupation",
    "status_kawin": "marital_status", "cacat_id": "disability", "cara_kb_id": "kb_method",
    "ktp_el": "has_ktp_el", "akta_lahir": "has_birth_certificate",
    "id_asuransi": "health_insurance", "status_dasar": "life_status", "alamat": "address",
    "dusun": "dusun", "rw": "rw", "rt": "rt",
}

# Extra names people give the template's columns (all formats but OpenSID).
_SINERGI_ALIASES = {
    "kk_number": ("No KK", "Nomor Kartu Keluarga", "No Kartu Keluarga"),
    "nik": ("NIK", "Nomor Induk Kependudukan"),
    "name": ("Nama", "Nama Lengkap"),
    "sex": ("Jenis Kelamin", "L/P"),
    "birth_place": ("Tempat Lahir",),
    "birth_date": ("Tanggal Lahir", "Tgl Lahir"),
    "shdk": ("Hubungan dalam Keluarga", "SHDK", "Status Hubungan dalam Keluarga"),
    "village_code": ("Kode Wilayah", "Kode Desa"),
    "dusun": ("Dusun",),
    "rw": ("RW",),
    "rt": ("RT",),
    "address": ("Alamat",),
    "religion": ("Agama",),
    "marital_status": ("Status Perkawinan", "Status Kawin"),
    "education": ("Pendidikan", "Pendidikan Terakhir"),
    "occupation": ("Pekerjaan",),
    "disability": ("Disabilitas", "Penyandang Disabilitas"),
    "has_birth_certificate": ("Akta Kelahiran", "Akta Lahir"),
    "has_kia": ("KIA", "Kartu Identitas Anak"),
    "has_ktp_el": ("KTP-el", "KTP Elektronik", "E-KTP"),
    "health_insurance": ("Jaminan Kesehatan", "JKN"),
    "kb_method": ("Metode KB", "Cara KB"),
    "monthly_income": ("Penghasilan per Bulan", "Penghasilan"),
    "life_status": ("Status Penduduk", "Status Hidup", "Status Dasar"),
    "desil": ("Desil",),
    "in_dtsen": ("DTSEN", "Terdaftar DTSEN"),
}

# By-name-by-address lists. "Tempat Tgl Lahir" (place and date in one cell)
# is deliberately absent: it cannot be split reliably, so it stays unknown.
_BNBA_ALIASES = {
    "kk_number": ("NOKK", "No KK", "Nomor KK", "KK", "NKK", "No Kartu Keluarga",
                  "Nomor Kartu Keluarga", "No KK KRT"),
    "nik": ("NIK", "NIK ART", "No NIK", "NIK Anggota", "NIK Penerima", "NIK KTP", "No KTP",
            "Nomor Induk Kependudukan"),
    "name": ("Nama", "Nama ART", "Nama Lengkap", "Nama Anggota", "Nama Anggota Keluarga",
             "Nama Penerima", "Nama Individu", "Nama Penduduk"),
    "sex": ("JK", "Jenis Kelamin", "Kelamin", "L/P", "Jns Kelamin", "Jenkel", "Sex", "Gender"),
    "birth_place": ("Tempat Lahir", "Tmp Lahir", "Tmpt Lahir"),
    "birth_date": ("Tgl Lahir", "Tanggal Lahir", "Tgl Lhr", "Tanggal Lhr"),
    "shdk": ("Hub. KRT", "Hub KK", "Hubungan Dengan Kepala Keluarga",
             "Hubungan Dengan Kepala Rumah Tangga", "Hubungan Dengan KRT",
             "Hubungan Keluarga", "Hubungan dalam Keluarga", "Status Hubungan",
             "Status Hubungan dalam Keluarga", "SHDK", "Hub Keluarga"),
    "village_code": ("Kode Wilayah", "Kode Desa", "KDDESA", "Kode Kelurahan",
                     "Kode Desa/Kelurahan", "Kode Wil", "Kd Desa", "Kode Kemendagri",
                     "Kode Desa Kemendagri"),
    "dusun": ("Dusun", "Dusun/Lingkungan", "Lingkungan", "Nama Dusun"),
    "rw": ("RW", "No RW"),
    "rt": ("RT", "No RT"),
    "address": ("Alamat", "Alamat Lengkap", "Alamat Rumah", "Alamat KK", "Jalan"),
    "religion": ("Agama",),
    "marital_status": ("Status Perkawinan", "Status Kawin", "Sts Kawin", "Status Pernikahan"),
    "education": ("Pendidikan", "Pendidikan Terakhir", "Pendidikan Tertinggi",
                  "Ijazah Tertinggi"),
    "occupation": ("Pekerjaan", "Pekerjaan Utama", "Jenis Pekerjaan"),
    "disability": ("Disabilitas", "Jenis Disabilitas", "Penyandang Disabilitas", "Cacat",
                   "Jenis Cacat", "Kecacatan"),
    "has_birth_certificate": ("Akta Kelahiran", "Akta Lahir", "Punya Akta Kelahiran",
                              "Kepemilikan Akta Kelahiran"),
    "has_kia": ("KIA", "Kartu Identitas Anak", "Punya KIA"),
    "has_ktp_el": ("KTP-el", "KTP el", "E-KTP", "KTP Elektronik", "Punya KTP-el"),
    "health_insurance": ("Jaminan Kesehatan", "Asuransi Kesehatan", "Jamkes", "JKN",
                         "Kepesertaan JKN", "Status JKN", "BPJS Kesehatan"),
    "kb_method": ("Metode KB", "Alat KB", "Cara KB", "Alat Kontrasepsi", "Jenis KB"),
    "monthly_income": ("Penghasilan", "Penghasilan per Bulan", "Penghasilan Sebulan",
                       "Pendapatan", "Pendapatan per Bulan", "Pendapatan Bulanan"),
    "life_status": ("Status Penduduk", "Status Hidup", "Status Keberadaan", "Keberadaan",
                    "Status Dasar"),
    "desil": ("Desil", "Peringkat Kesejahteraan", "Desil Nasional", "Desil Kesejahteraan",
              "Peringkat Desil", "Desil DTSEN"),
    "in_dtsen": ("DTSEN", "Terdaftar DTSEN", "Status DTSEN", "Masuk DTSEN", "DTKS",
                 "Terdaftar DTKS"),
}

# Words that mean the same in headers: "Nomor KK" = "No KK", "Tgl" = "Tanggal".
_WORD_SYNONYMS = {"nomor": "no", "nomer": "no", "number": "no", "num": "no", "tgl": "tanggal",
                  "tmp": "tempat", "tmpt": "tempat", "hub": "hubungan"}


def header_key(header: str) -> str:
    """The comparable form of a header: case, spaces, punctuation ignored."""
    words = re.split(r"[^0-9a-z]+", header.lower())
    return "".join(_WORD_SYNONYMS.get(w, w) for w in words if w)


def _alias_table(*tables: dict[str, tuple[str, ...]]) -> dict[str, str]:
    keys: dict[str, str] = {}
    for table in tables:
        for canonical, aliases in table.items():
            for alias in aliases:
                keys.setdefault(header_key(alias), canonical)
    return keys


_SINERGI_KEYS = _alias_table({c: (s.header,) for c, s in CANONICAL.items()}, _SINERGI_ALIASES)
_BNBA_KEYS = _alias_table(_BNBA_ALIASES, {c: (s.header,) for c, s in CANONICAL.items()},
                          _SINERGI_ALIASES)
_OPENSID_KEYS = {header_key(n): OPENSID_MAP.get(n) for n in OPENSID_COLUMNS}
_TEMPLATE_KEYS = {header_key(s.header) for s in CANONICAL.values()}
# OpenSID names that are also plain words of our template: they say nothing
# about which format a file is in.
_OPENSID_DISTINCT = {n for n in OPENSID_COLUMNS if header_key(n) not in _TEMPLATE_KEYS}
# Every header any format knows: what tells the header row from a title above it.
_KNOWN_KEYS = frozenset(_SINERGI_KEYS) | frozenset(_BNBA_KEYS) | frozenset(_OPENSID_KEYS)
# Canonical column -> OpenSID's name for it.
_OPENSID_NAMES = {canonical: name for name, canonical in OPENSID_MAP.items()}


def header_score(cells: list[str]) -> int:
    """How many different known headers a row holds: the header row of a
    file scores high, a title, a group header or a data row low (readers
    use it to find the header row and the data sheet)."""
    return len({header_key(c) for c in cells if c} & _KNOWN_KEYS)


def header_of(canonical: str, fmt: str, file_headers: dict[str, str] | None = None) -> str:
    """The header a canonical column is shown under in messages: the
    file's own header when it has the column, else the name the file's
    format gives it (OpenSID's internal name, or the Sinergi template's)."""
    if file_headers and canonical in file_headers:
        return file_headers[canonical]
    if fmt == "opensid" and canonical in _OPENSID_NAMES:
        return _OPENSID_NAMES[canonical]
    spec = CANONICAL.get(canonical)
    return spec.header if spec else canonical


@dataclass
class Mapping:
    """How a file's headers map to canonical columns.

    ``ignored`` lists headers that are known but not imported (the OpenSID
    columns Sinergi does not keep); ``duplicates`` lists headers that map to
    a canonical column an earlier header already took (the first one wins).
    """

    columns: dict[str, str]
    unknown: list[str]
    missing_required: list[str]
    ignored: list[str] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)


def _keys_for(fmt: str) -> dict[str, str | None]:
    if fmt == "opensid":
        return _OPENSID_KEYS
    if fmt == "sinergi":
        return _SINERGI_KEYS
    if fmt == "bnba":
        return _BNBA_KEYS
    raise ValueError(f"unknown format {fmt!r}; expected one of {FORMATS}")


def map_columns(headers: list[str], fmt: str) -> Mapping:
    """Map the file's ``headers`` to canonical names for format ``fmt``."""
    keys = _keys_for(fmt)
    columns: dict[str, str] = {}
    unknown, ignored, duplicates = [], [], []
    taken: set[str] = set()
    for header in headers:
        key = header_key(header)
        if key not in keys:
            unknown.append(header)
            continue
        canonical = keys[key]
        if canonical is None:
            ignored.append(header)
        elif canonical in taken:
            duplicates.append(header)
        else:
            columns[header] = canonical
            taken.add(canonical)
    missing = [c for c in REQUIRED[fmt] if c not in taken]
    return Mapping(columns=columns, unknown=unknown, missing_required=missing, ignored=ignored,
                   duplicates=duplicates)


def detect_format(headers: list[str]) -> str:
    """Best guess of a file's format from its headers.

    OpenSID when at least 5 headers are OpenSID internal names (names like
    "nik" or "dusun" that our template also uses do not count); Sinergi when
    at least 5 headers are template headers and the wider BNBA aliases would
    map nothing more; otherwise BNBA, whose aliases include the template's.
    """
    names = {h.strip().lower() for h in headers}
    if len(names & _OPENSID_DISTINCT) >= 5:
        return "opensid"
    keys = [header_key(h) for h in headers]
    template_hits = sum(1 for k in keys if k in _TEMPLATE_KEYS)
    if template_hits >= 5:
        sinergi = map_columns(headers, "sinergi")
        bnba = map_columns(headers, "bnba")
        if len(bnba.columns) <= len(sinergi.columns):
            return "sinergi"
    return "bnba"
