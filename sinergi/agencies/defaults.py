"""The default set of agencies offered for a new regional government.

Names follow common nomenclature; the actual set and names vary by region
(a **local setting**), so every agency created from here is editable. In
Kepulauan Bangka Belitung women's empowerment, child protection, civil
registry and family planning sit in one body, DP3ACSKB; elsewhere they
are split across DP3A, DPPKB and Disdukcapil.
"""

# (short name, name, sector)
DEFAULT_AGENCIES: list[tuple[str, str, str]] = [
    ("Bappeda", "Badan Perencanaan Pembangunan Daerah", "planning"),
    (
        "DP3ACSKB",
        "Dinas Pemberdayaan Perempuan, Perlindungan Anak, Kependudukan, Catatan Sipil "
        "dan Keluarga Berencana",
        "women_children",
    ),
    ("DPPKB", "Dinas Pengendalian Penduduk dan Keluarga Berencana", "family_planning"),
    ("Dinsos", "Dinas Sosial", "social"),
    ("Dinkop UKM", "Dinas Koperasi dan Usaha Kecil Menengah", "economy"),
    ("Disperindag", "Dinas Perindustrian dan Perdagangan", "economy"),
    ("Distan", "Dinas Pertanian", "agriculture"),
    ("DKP", "Dinas Ketahanan Pangan", "agriculture"),
    ("Dinas PMD", "Dinas Pemberdayaan Masyarakat dan Desa", "village"),
    ("Dinkes", "Dinas Kesehatan", "health"),
    ("Disdik", "Dinas Pendidikan", "education"),
    ("Disdukcapil", "Dinas Kependudukan dan Pencatatan Sipil", "civil_registry"),
    ("DPMPTSP", "Dinas Penanaman Modal dan Pelayanan Terpadu Satu Pintu", "licensing"),
]
