"""The shipped catalogue: BPS poverty, TPT and IPM, the Bangga Kencana
headline indicators, indicators computed from the registry, groups and
programs, and village facts. Installed after every migration (codes not yet
present only), then editable: a deployment's own changes are never
overwritten. Definitions follow BPS and BKKBN (docs/indicators.md).
"""

from .models import (
    AGENCY,
    BPS,
    COUNT,
    GROUPS,
    HIGHER,
    INDEX,
    LOWER,
    NONE,
    PER_MILLE,
    PERCENT,
    PROGRAMS,
    REGISTRY,
    RUPIAH,
    SUM,
    SURVEY,
    VILLAGE,
    YESNO,
    Indicator,
)

_BPS = "https://www.bps.go.id/id/statistics-table"


def _e(code, name_id, name_en, kind, source, *, unit="", direction=HIGHER, decimals=1,
       rollup=SUM, dims="", measure="", agency="", definition="", formula="",
       numerator="", denominator="", interpretation="", concept="", valid=(None, None),
       reference="", frequency="year"):
    return {"code": code, "name_id": name_id, "name_en": name_en, "kind": kind,
            "source": source, "unit": unit, "direction": direction, "decimals": decimals,
            "rollup": rollup, "disaggregations": dims, "measure": measure, "agency": agency,
            "definition": definition, "formula": formula, "numerator": numerator,
            "denominator": denominator, "interpretation": interpretation, "concept": concept,
            "valid_min": valid[0], "valid_max": valid[1], "reference": reference,
            "frequency": frequency}


CATALOGUE = [
    # --- BPS: poverty, unemployment, human development (external, per kab/kota) ---
    _e("P0", "Persentase penduduk miskin (P0)", "Poverty headcount rate (P0)", PERCENT, BPS,
       unit="%", direction=LOWER, decimals=2, agency="Bappeda", valid=(0, 60),
       definition="Persentase penduduk yang berada di bawah garis kemiskinan.",
       concept="Kemiskinan dipandang sebagai ketidakmampuan memenuhi kebutuhan dasar makanan "
               "dan bukan makanan, diukur dari pengeluaran (Susenas Maret).",
       formula="Jumlah penduduk miskin dibagi jumlah penduduk, dikali 100.",
       numerator="penduduk miskin", denominator="penduduk",
       interpretation="Makin rendah makin baik. Angka kabupaten dijumlahkan ke provinsi hanya "
                      "bila pembilang dan penyebutnya diisi.", reference=_BPS),
    _e("P1", "Indeks kedalaman kemiskinan (P1)", "Poverty gap index (P1)", INDEX, BPS,
       direction=LOWER, decimals=2, rollup=NONE, agency="Bappeda", valid=(0, 20),
       definition="Rata-rata kesenjangan pengeluaran penduduk miskin terhadap garis "
                  "kemiskinan (Foster-Greer-Thorbecke, alfa = 1).",
       interpretation="Makin tinggi, makin jauh rata-rata pengeluaran penduduk miskin dari "
                      "garis kemiskinan.", reference=_BPS),
    _e("P2", "Indeks keparahan kemiskinan (P2)", "Poverty severity index (P2)", INDEX, BPS,
       direction=LOWER, decimals=2, rollup=NONE, agency="Bappeda", valid=(0, 10),
       definition="Sebaran pengeluaran di antara penduduk miskin (Foster-Greer-Thorbecke, "
                  "alfa = 2).",
       interpretation="Makin tinggi, makin timpang pengeluaran di antara penduduk miskin.",
       reference=_BPS),
    _e("MISKIN", "Jumlah penduduk miskin", "Number of poor people", COUNT, BPS,
       unit="ribu jiwa", direction=LOWER, decimals=2, agency="Bappeda",
       definition="Banyaknya penduduk dengan pengeluaran per kapita di bawah garis kemiskinan, "
                  "dalam ribu jiwa.", reference=_BPS),
    _e("TPT", "Tingkat pengangguran terbuka (TPT)", "Open unemployment rate", PERCENT, BPS,
       unit="%", direction=LOWER, decimals=2, rollup=NONE, agency="Bappeda", valid=(0, 30),
       definition="Persentase pengangguran terhadap angkatan kerja (Sakernas Agustus).",
       formula="Pengangguran dibagi angkatan kerja, dikali 100.",
       numerator="pengangguran", denominator="angkatan kerja", reference=_BPS),
    _e("IPM", "Indeks Pembangunan Manusia (IPM)", "Human Development Index", INDEX, BPS,
       decimals=2, rollup=NONE, agency="Bappeda", valid=(30, 90),
       definition="Rata-rata geometrik indeks kesehatan, pendidikan dan pengeluaran.",
       interpretation="Di bawah 60 rendah, 60-70 sedang, 70-80 tinggi, 80 ke atas sangat "
                      "tinggi.", reference=_BPS),
    _e("IPM_UHH", "Umur harapan hidup saat lahir", "Life expectancy at birth", INDEX, BPS,
       unit="tahun", decimals=2, rollup=NONE, agency="Bappeda", valid=(50, 85),
       definition="Rata-rata tahun hidup yang akan dijalani bayi yang baru lahir (komponen "
                  "kesehatan IPM).", reference=_BPS),
    _e("IPM_HLS", "Harapan lama sekolah", "Expected years of schooling", INDEX, BPS,
       unit="tahun", decimals=2, rollup=NONE, agency="Bappeda", valid=(5, 18),
       definition="Lamanya sekolah yang diharapkan dirasakan anak umur 7 tahun (komponen "
                  "pendidikan IPM).", reference=_BPS),
    _e("IPM_RLS", "Rata-rata lama sekolah", "Mean years of schooling", INDEX, BPS,
       unit="tahun", decimals=2, rollup=NONE, agency="Bappeda", valid=(2, 15),
       definition="Rata-rata tahun sekolah penduduk umur 25 tahun ke atas (komponen "
                  "pendidikan IPM).", reference=_BPS),
    _e("IPM_PPK", "Pengeluaran per kapita disesuaikan", "Adjusted per capita expenditure",
       RUPIAH, BPS, unit="ribu rupiah/orang/tahun", decimals=0, rollup=NONE,
       agency="Bappeda", valid=(4000, 25000),
       definition="Pengeluaran riil per kapita setahun, disesuaikan daya beli (komponen "
                  "standar hidup layak IPM).", reference=_BPS),
    # --- Bangga Kencana headline indicators (BKKBN) ---
    _e("TFR", "Angka kelahiran total (TFR)", "Total fertility rate", INDEX, SURVEY,
       unit="anak per perempuan", direction=LOWER, decimals=2, rollup=NONE, agency="DPPKB",
       valid=(1, 5), definition="Rata-rata anak yang dilahirkan seorang perempuan selama masa "
                                "reproduksinya (15-49 tahun).",
       interpretation="Sasaran nasional 2,1 (penduduk tumbuh seimbang)."),
    _e("MCPR", "Prevalensi kontrasepsi modern (mCPR)", "Modern contraceptive prevalence rate",
       PERCENT, SURVEY, unit="%", decimals=2, rollup=NONE, agency="DPPKB", valid=(20, 80),
       definition="Persentase pasangan usia subur yang memakai alat/cara KB modern.",
       numerator="PUS peserta KB modern", denominator="pasangan usia subur"),
    _e("UNMET", "Kebutuhan ber-KB tidak terpenuhi (unmet need)", "Unmet need for family "
       "planning", PERCENT, SURVEY, unit="%", direction=LOWER, decimals=2, rollup=NONE,
       agency="DPPKB", valid=(0, 40),
       definition="Persentase PUS yang tidak ingin anak lagi atau ingin menunda, tetapi tidak "
                  "memakai kontrasepsi."),
    _e("ASFR1519", "Angka kelahiran menurut umur 15-19 tahun (ASFR 15-19)", "Adolescent "
       "birth rate (15-19)", PER_MILLE, SURVEY, unit="per 1.000 perempuan", direction=LOWER,
       decimals=1, rollup=NONE, agency="DPPKB", valid=(0, 150),
       definition="Kelahiran per 1.000 perempuan umur 15-19 tahun setahun."),
    _e("IBANGGA", "Indeks Pembangunan Keluarga (iBangga)", "Family Development Index", INDEX,
       AGENCY, decimals=2, rollup=NONE, agency="DPPKB", valid=(0, 100),
       definition="Indeks ketenteraman, kemandirian dan kebahagiaan keluarga.",
       interpretation="Di bawah 40 rentan, 40-70 berkembang, di atas 70 tangguh."),
    _e("MUKP", "Median usia kawin pertama perempuan (MUKP)", "Median age at first marriage, "
       "women", INDEX, SURVEY, unit="tahun", decimals=1, rollup=NONE, agency="DPPKB",
       valid=(15, 30), definition="Umur saat separuh perempuan 25-49 tahun sudah menikah "
                                  "pertama kali."),
    # --- computed from the registry, groups and programs ---
    _e("PENDUDUK", "Jumlah penduduk (registri)", "Population (registry)", COUNT, REGISTRY,
       unit="jiwa", decimals=0, dims="sex,age,age_work,area", measure="persons",
       agency="Disdukcapil", definition="Penduduk hidup yang tercatat di registri Sinergi."),
    _e("NIK_PCT", "Penduduk yang memiliki NIK", "Persons with a NIK", PERCENT, REGISTRY,
       unit="%", decimals=1, dims="sex,age,area", measure="persons_with_nik",
       agency="Disdukcapil", numerator="penduduk hidup ber-NIK", denominator="penduduk hidup",
       definition="Kepemilikan dokumen kependudukan: persentase penduduk hidup yang "
                  "tercatat dengan NIK.", formula="Penduduk hidup ber-NIK dibagi penduduk "
                                                 "hidup, dikali 100."),
    _e("KK_PCT", "Penduduk yang tercantum dalam Kartu Keluarga", "Persons on a family card",
       PERCENT, REGISTRY, unit="%", decimals=1, dims="sex,area", measure="persons_in_kk",
       agency="Disdukcapil", numerator="penduduk hidup dalam KK", denominator="penduduk hidup",
       definition="Kepemilikan dokumen kependudukan: persentase penduduk hidup yang menjadi "
                  "anggota sebuah keluarga ber-KK."),
    _e("AKTA_ANAK", "Anak (0-17 tahun) yang memiliki akta kelahiran", "Children (0-17) with "
       "a birth certificate", PERCENT, REGISTRY, unit="%", decimals=1, dims="sex,age,area",
       measure="children_with_akta", agency="Disdukcapil", numerator="anak berakta",
       denominator="anak 0-17 tahun",
       definition="Persentase anak hidup umur 0-17 tahun yang tercatat memiliki akta "
                  "kelahiran (kolom akta_lahir OpenSID, atau isian 'Akta Kelahiran').",
       interpretation="Indikator KLA klaster hak sipil."),
    _e("KELUARGA", "Jumlah keluarga (registri)", "Families (registry)", COUNT, REGISTRY,
       unit="keluarga", decimals=0, dims="desil,area", measure="families", agency="Dinsos",
       definition="Keluarga aktif yang tercatat di registri, menurut desil DTSEN."),
    _e("DESIL14_PCT", "Keluarga desil 1-4", "Families in desil 1-4", PERCENT, REGISTRY,
       unit="%", direction=LOWER, decimals=1, dims="area", measure="families_desil_1_4",
       agency="Dinsos", numerator="keluarga desil 1-4", denominator="keluarga aktif",
       definition="Persentase keluarga aktif yang berada di desil 1-4 DTSEN."),
    _e("CAKUPAN_D14", "Cakupan program bagi keluarga desil 1-4", "Program coverage of desil "
       "1-4 families", PERCENT, PROGRAMS, unit="%", decimals=1, dims="desil,area",
       measure="coverage_desil_1_4", agency="Bappeda",
       numerator="keluarga desil 1-4 yang menerima program tahun ini",
       denominator="keluarga desil 1-4",
       definition="Persentase keluarga desil 1-4 yang tahun ini menerima sedikitnya satu "
                  "program (sebagai keluarga atau lewat anggotanya)."),
    _e("KELOMPOK", "Jumlah kelompok aktif", "Active groups", COUNT, GROUPS, unit="kelompok",
       decimals=0, dims="kind,area", measure="groups", agency="Bappeda",
       definition="Kelompok aktif menurut jenis (IR, UPPKA, KWT, BUMDes, ...)."),
    _e("ANGGOTA_KELOMPOK", "Anggota kelompok aktif", "Members of active groups", COUNT, GROUPS,
       unit="orang", decimals=0, dims="kind,sex,area", measure="group_members",
       agency="Bappeda", definition="Anggota yang saat ini tercatat pada kelompok aktif."),
    _e("DESA_BUMDES", "Desa dengan BUMDes aktif", "Villages with an active BUMDes", YESNO,
       GROUPS, unit="% desa", decimals=1, dims="area", measure="villages_with_bumdes",
       agency="Dinas PMD", numerator="desa dengan BUMDes aktif", denominator="desa/kelurahan",
       definition="Desa/kelurahan yang memiliki kelompok BUMDes aktif di registri kelompok."),
    # --- village facts, entered yearly by the village ---
    _e("F_PUSKESSOS", "Desa dengan Puskesos", "Villages with a Puskesos", YESNO, VILLAGE,
       unit="% desa", agency="Dinsos", numerator="desa dengan Puskesos",
       denominator="desa/kelurahan", definition="Pusat Kesejahteraan Sosial aktif di desa."),
    _e("F_SIKSNG", "Desa dengan operator SIKS-NG", "Villages with a SIKS-NG operator", YESNO,
       VILLAGE, unit="% desa", agency="Dinsos", numerator="desa dengan operator SIKS-NG",
       denominator="desa/kelurahan",
       definition="Desa yang memiliki operator SIKS-NG untuk pemutakhiran data kesejahteraan."),
    _e("F_INTERNET", "Desa dengan akses internet", "Villages with internet access", YESNO,
       VILLAGE, unit="% desa", agency="Bappeda", numerator="desa dengan akses internet",
       denominator="desa/kelurahan",
       definition="Kantor desa terhubung internet yang dapat dipakai untuk layanan."),
    _e("F_WEBSITE", "Desa dengan website", "Villages with a website", YESNO, VILLAGE,
       unit="% desa", agency="Bappeda", numerator="desa dengan website",
       denominator="desa/kelurahan", definition="Desa yang memiliki website aktif."),
    _e("F_PLKB", "Desa dengan PLKB/PKB", "Villages with a family planning field officer",
       YESNO, VILLAGE, unit="% desa", agency="DPPKB", numerator="desa dengan PLKB/PKB",
       denominator="desa/kelurahan",
       definition="Desa yang dilayani Penyuluh KB (PKB/PLKB)."),
    _e("F_POSYANDU", "Jumlah posyandu", "Posyandu (integrated health posts)", COUNT, VILLAGE,
       unit="posyandu", decimals=0, agency="Dinkes",
       definition="Posyandu aktif di desa/kelurahan."),
]


def install() -> int:
    """Create the catalogue's indicators that do not exist yet (by code);
    existing ones keep their (maybe edited) definitions. Returns how many."""
    have = set(Indicator.objects.values_list("code", flat=True))
    new = [Indicator(position=i, **entry) for i, entry in enumerate(CATALOGUE)
           if entry["code"] not in have]
    Indicator.objects.bulk_create(new)
    return len(new)
