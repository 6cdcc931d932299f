"""Code tables of the registry, as OpenSID and the KK use them.

Numeric codes follow OpenSID's seeders (release v2410.0.0), so an OpenSID
export imports without translation; labels are Indonesian proper terms.
"""

from django.utils.translation import gettext_lazy as _

SEX = {"L": _("Male"), "P": _("Female")}

# SHDK: status hubungan dalam keluarga (relationship to the family head).
SHDK = {
    1: "KEPALA KELUARGA", 2: "SUAMI", 3: "ISTRI", 4: "ANAK", 5: "MENANTU", 6: "CUCU",
    7: "ORANGTUA", 8: "MERTUA", 9: "FAMILI LAIN", 10: "PEMBANTU", 11: "LAINNYA",
}
SHDK_HEAD = 1

RELIGION = {1: "ISLAM", 2: "KRISTEN", 3: "KATHOLIK", 4: "HINDU", 5: "BUDHA",
            6: "KHONGHUCU", 7: "KEPERCAYAAN / LAINNYA"}

MARITAL_STATUS = {1: "BELUM KAWIN", 2: "KAWIN", 3: "CERAI HIDUP", 4: "CERAI MATI"}

EDUCATION = {
    1: "TIDAK/BELUM SEKOLAH", 2: "BELUM TAMAT SD/SEDERAJAT", 3: "TAMAT SD/SEDERAJAT",
    4: "SLTP/SEDERAJAT", 5: "SLTA/SEDERAJAT", 6: "DIPLOMA I/II",
    7: "AKADEMI/DIPLOMA III/S. MUDA", 8: "DIPLOMA IV/STRATA I", 9: "STRATA II",
    10: "STRATA III",
}

DISABILITY = {1: "CACAT FISIK", 2: "CACAT NETRA/BUTA", 3: "CACAT RUNGU/WICARA",
              4: "CACAT MENTAL/JIWA", 5: "CACAT FISIK DAN MENTAL", 6: "CACAT LAINNYA",
              7: "TIDAK CACAT"}

# OpenSID status_dasar.
LIFE_STATUS = {1: "HIDUP", 2: "MATI", 3: "PINDAH", 4: "HILANG", 6: "PERGI", 9: "TIDAK VALID"}
ALIVE, DEAD, MOVED = 1, 2, 3

# OpenSID id_asuransi; PBI = premium paid by the state (penerima bantuan iuran).
HEALTH_INSURANCE = {1: "TIDAK/BELUM PUNYA", 2: "BPJS PBI", 3: "BPJS NON-PBI", 99: "LAINNYA"}

KB_METHOD = {1: "PIL", 2: "IUD", 3: "SUNTIK", 4: "KONDOM", 5: "SUSUK KB",
             6: "STERILISASI WANITA", 7: "STERILISASI PRIA", 99: "LAINNYA"}

# OpenSID pekerjaan_id (Data_awal_seeder.php), all 89.
OCCUPATION = {
    1: "BELUM/TIDAK BEKERJA", 2: "MENGURUS RUMAH TANGGA", 3: "PELAJAR/MAHASISWA",
    4: "PENSIUNAN", 5: "PEGAWAI NEGERI SIPIL (PNS)", 6: "TENTARA NASIONAL INDONESIA (TNI)",
    7: "KEPOLISIAN RI (POLRI)", 8: "PERDAGANGAN", 9: "PETANI/PEKEBUN", 10: "PETERNAK",
    11: "NELAYAN/PERIKANAN", 12: "INDUSTRI", 13: "KONSTRUKSI", 14: "TRANSPORTASI",
    15: "KARYAWAN SWASTA", 16: "KARYAWAN BUMN", 17: "KARYAWAN BUMD", 18: "KARYAWAN HONORER",
    19: "BURUH HARIAN LEPAS", 20: "BURUH TANI/PERKEBUNAN", 21: "BURUH NELAYAN/PERIKANAN",
    22: "BURUH PETERNAKAN", 23: "PEMBANTU RUMAH TANGGA", 24: "TUKANG CUKUR",
    25: "TUKANG LISTRIK", 26: "TUKANG BATU", 27: "TUKANG KAYU", 28: "TUKANG SOL SEPATU",
    29: "TUKANG LAS/PANDAI BESI", 30: "TUKANG JAHIT", 31: "TUKANG GIGI", 32: "PENATA RIAS",
    33: "PENATA BUSANA", 34: "PENATA RAMBUT", 35: "MEKANIK", 36: "SENIMAN", 37: "TABIB",
    38: "PARAJI", 39: "PERANCANG BUSANA", 40: "PENTERJEMAH", 41: "IMAM MASJID",
    42: "PENDETA", 43: "PASTOR", 44: "WARTAWAN", 45: "USTADZ/MUBALIGH", 46: "JURU MASAK",
    47: "PROMOTOR ACARA", 48: "ANGGOTA DPR-RI", 49: "ANGGOTA DPD", 50: "ANGGOTA BPK",
    51: "PRESIDEN", 52: "WAKIL PRESIDEN", 53: "ANGGOTA MAHKAMAH KONSTITUSI",
    54: "ANGGOTA KABINET KEMENTERIAN", 55: "DUTA BESAR", 56: "GUBERNUR",
    57: "WAKIL GUBERNUR", 58: "BUPATI", 59: "WAKIL BUPATI", 60: "WALIKOTA",
    61: "WAKIL WALIKOTA", 62: "ANGGOTA DPRD PROVINSI", 63: "ANGGOTA DPRD KABUPATEN/KOTA",
    64: "DOSEN", 65: "GURU", 66: "PILOT", 67: "PENGACARA", 68: "NOTARIS", 69: "ARSITEK",
    70: "AKUNTAN", 71: "KONSULTAN", 72: "DOKTER", 73: "BIDAN", 74: "PERAWAT",
    75: "APOTEKER", 76: "PSIKIATER/PSIKOLOG", 77: "PENYIAR TELEVISI", 78: "PENYIAR RADIO",
    79: "PELAUT", 80: "PENELITI", 81: "SOPIR", 82: "PIALANG", 83: "PARANORMAL",
    84: "PEDAGANG", 85: "PERANGKAT DESA", 86: "KEPALA DESA", 87: "BIARAWATI",
    88: "WIRASWASTA", 89: "LAINNYA",
}

# Desil 1-4 of DTSEN: the poorest 40 %, the families most programs are for
# ("poor families" on pages, in lists and exports; docs/terms.md).
POOR_DESIL_MAX = 4

# What an accepted-but-suspect person was warned of at import, in words
# (Person.warnings holds the codes the import gave).
WARNING_LABELS = {
    "suspicious_date": _("a date that looks wrong"),
    "implausible_income": _("an income that looks wrong"),
    "bad_rt_rw": _("an RT/RW that looks wrong"),
    "nik_sex_mismatch": _("the NIK says another sex"),
    "nik_birth_mismatch": _("the NIK says another birth date"),
    "probable_duplicate": _("possibly registered twice"),
    "nik_missing": _("no NIK"),
    "nik_missing_known": _("no NIK; matched by name and birth date"),
    "family_head_rejected": _("the family's head was not imported"),
}


def warning_label(code: str) -> str:
    return str(WARNING_LABELS.get(code, code))
