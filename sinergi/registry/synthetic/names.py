"""The words of the synthetic registry: the template's headers, given
names, Chinese-Indonesian names, streets and towns, and the text columns
made from them."""

from __future__ import annotations

import polars as pl

from .randomness import SeededRandom, U, pick

# Template headers (sinergi/imports/columns.py CANONICAL), in template order.
HEADERS = {
    "kk_number": "No KK",
    "nik": "NIK",
    "name": "Nama",
    "sex": "Jenis Kelamin",
    "birth_place": "Tempat Lahir",
    "birth_date": "Tanggal Lahir",
    "shdk": "Hubungan dalam Keluarga",
    "village_code": "Kode Wilayah",
    "dusun": "Dusun",
    "rw": "RW",
    "rt": "RT",
    "address": "Alamat",
    "religion": "Agama",
    "marital_status": "Status Perkawinan",
    "education": "Pendidikan",
    "occupation": "Pekerjaan",
    "disability": "Disabilitas",
    "has_birth_certificate": "Akta Kelahiran",
    "has_ktp_el": "KTP-el",
    "health_insurance": "Jaminan Kesehatan",
    "kb_method": "Metode KB",
    "monthly_income": "Penghasilan per Bulan",
    "desil": "Desil",
    "in_dtsen": "DTSEN",
}


TEXT_STREAMS = ("name_pattern", "g", "s", "mp", "ms", "fp", "fs", "c1", "c2", "birth_place",
                "migrant", "chinese_name")


MALE_GIVEN = (
    "AHMAD", "MUHAMMAD", "ABDUL", "AGUS", "BUDI", "RUDI", "HENDRA", "DEDI", "EKO", "JOKO",
    "RIZKI", "FAJAR", "ANDI", "YUSUF", "HASAN", "IRWAN", "RAHMAT", "ARIF", "DONI", "FIRMAN",
    "HERU", "IMAM", "JUNAIDI", "LUKMAN", "MAHMUD", "NANANG", "RAMLI", "SAIFUL", "TAUFIK",
    "UMAR", "WAHYU", "YOGA", "ZAINAL", "BAYU", "DIMAS", "GILANG", "ILHAM", "RENDI", "ADITYA",
    "ARYA", "FADLI", "HAFIZ", "IQBAL", "NAUFAL", "RAFI", "SYAHRUL", "ZULKIFLI", "ROSYID",
    "AMIR", "FERRY",
)


MALE_SECOND = (
    "SAPUTRA", "PRATAMA", "HIDAYAT", "KURNIAWAN", "SETIAWAN", "NUGROHO", "SANTOSO", "WIBOWO",
    "RAMADHAN", "FIRMANSYAH", "HAKIM", "RAHMAN", "HALIM", "SYAHPUTRA", "MAULANA",
    "ARDIANSYAH", "GUNAWAN", "HERMAWAN", "SUSANTO", "FAUZI", "EFENDI", "ISKANDAR", "SURYADI",
    "WIJAYA", "AKBAR", "HABIBI", "ANSORI", "MUSTOFA",
)


MALE_PREFIX = ("SU", "HAR", "SUR", "WAR", "SUP", "SUG", "DAR", "SUK", "PAR", "MUL", "SLAM",
               "TUK", "KAS", "RUS")


MALE_SUFFIX = ("YANTO", "YONO", "ADI", "MAN", "DI", "WANTO", "NO", "JONO", "IMAN", "IYANTO",
               "SANTO", "MIN", "TONO", "JO")


FEMALE_GIVEN = (
    "SITI", "NUR", "DEWI", "SRI", "RINA", "YUNI", "FITRI", "AYU", "INDAH", "PUTRI", "RATNA",
    "LINDA", "MAYA", "NOVI", "WULAN", "DIAN", "EKA", "FARAH", "ANISA", "AISYAH", "NURUL",
    "RAHMA", "SALSA", "NABILA", "ZAHRA", "KARTIKA", "MELATI", "YULIA", "HAFSAH", "MARYAM",
    "ROSITA", "SUSI", "TUTI", "ERNA", "HANA", "INTAN", "JULI", "NADIA", "LIA", "RENI",
)


FEMALE_SECOND = (
    "LESTARI", "RAHAYU", "WULANDARI", "PERMATASARI", "NINGSIH", "SARI", "AMINAH", "FATIMAH",
    "HANDAYANI", "KUSUMAWATI", "PURNAMASARI", "SAFITRI", "RAMADHANI", "OKTAVIANI",
    "ANGGRAINI", "MAHARANI", "PUSPITA", "AULIA", "NURHAYATI", "MARLINA", "SUSANTI",
    "YULIANTI", "KURNIASIH", "HASANAH", "KHOIRIYAH", "MARDIANA",
)


FEMALE_PREFIX = ("SRI", "SU", "TRI", "DWI", "RUS", "MAR", "WID", "YU", "SUM", "PAR", "KAR",
                 "SUL", "NGA", "JUM")


FEMALE_SUFFIX = ("YATI", "WATI", "NI", "YANI", "TINI", "SIH", "NAH", "MI", "ARTI", "IYAH",
                 "INAH", "ANTI", "ASIH", "IYEM")


# Chinese-Indonesian families of Bangka Belitung: a surname and two syllables.
CHINESE_SURNAME = ("LIM", "TAN", "BONG", "LIE", "THAM", "CHANG", "LIU", "WONG", "NG", "KHO",
                   "FU", "HO", "JAP", "TJHIN", "CHIN", "PHANG")


CHINESE_SYLLABLE = ("AH", "KIM", "LIAN", "MEI", "FUNG", "SIN", "HUI", "KIAT", "HONG", "JUN",
                    "LI", "PIN", "MOI", "KUI", "SIONG", "FA", "CHAI", "NYUK")


STREETS = ("MERDEKA", "SUDIRMAN", "PAHLAWAN", "MELATI", "MAWAR", "KENANGA", "MASJID",
           "PANTAI", "KAMPUNG BARU", "RAYA", "SEKOLAH", "PASAR", "KELAPA", "LADA", "TIMAH",
           "BAKTI", "KARYA", "DAMAI", "SEJAHTERA", "PELABUHAN", "KEBUN", "SUNGAI", "BUKIT",
           "SAWAH", "CEMPAKA", "ANGGREK")


ROMAN = ("I", "II", "III", "IV", "V", "VI")
# Towns of birth: the kabupaten/kota's own towns, then where migrants come from.
LOCAL_TOWNS = {
    "19.01": ("SUNGAILIAT", "BELINYU"), "19.02": ("TANJUNG PANDAN", "MEMBALONG"),
    "19.03": ("TOBOALI", "PAYUNG"), "19.04": ("KOBA", "PANGKALAN BARU"),
    "19.05": ("MUNTOK", "JEBUS"), "19.06": ("MANGGAR", "GANTUNG"),
    "19.71": ("PANGKALPINANG", "PANGKALPINANG"),
}


OTHER_TOWNS = ("PALEMBANG", "JAKARTA", "MEDAN", "PONTIANAK", "SEMARANG", "SURABAYA", "PADANG",
               "BANDUNG", "JAMBI", "BANDAR LAMPUNG", "PANGKALPINANG", "YOGYAKARTA")


def text_columns(rnd: SeededRandom, p: pl.DataFrame) -> pl.DataFrame:
    """Every output column as text."""
    p = rnd.draw(p, "pid", *TEXT_STREAMS)
    female = pl.col("female")
    chinese = pl.col("religion").is_in([5, 6])

    # A given name and a second name, or a Javanese-style name of two
    # syllables, or a given name and such a name, or a given name alone.
    p = p.with_columns(
        pl.when(female).then(pick(U("g"), FEMALE_GIVEN))
        .otherwise(pick(U("g"), MALE_GIVEN)).alias("_given"),
        pl.when(female).then(pick(U("s"), FEMALE_SECOND))
        .otherwise(pick(U("s"), MALE_SECOND)).alias("_second"),
        pl.when(female).then(pl.concat_str([pick(U("fp"), FEMALE_PREFIX),
                                            pick(U("fs"), FEMALE_SUFFIX)]))
        .otherwise(pl.concat_str([pick(U("mp"), MALE_PREFIX), pick(U("ms"), MALE_SUFFIX)]))
        .alias("_syllables"),
    )
    un = U("name_pattern")
    given, second, syllables = pl.col("_given"), pl.col("_second"), pl.col("_syllables")
    plain_name = (pl.when(un < 0.45).then(pl.concat_str([given, second], separator=" "))
                  .when(un < 0.75).then(syllables)
                  .when(un < 0.9).then(pl.concat_str([given, syllables], separator=" "))
                  .otherwise(given))
    chinese_name = pl.concat_str([pick(U("surname"), CHINESE_SURNAME),
                                  pick(U("c1"), CHINESE_SYLLABLE),
                                  pick(U("c2"), CHINESE_SYLLABLE)], separator=" ")
    ub = U("birth_place")
    place = (pl.when(pl.col("age") < 18).then(
        pl.when(ub < 0.8).then(pl.col("town_a")).otherwise(pl.col("town_b")))
        .when(ub < 0.6).then(pl.col("town_a"))
        .when(ub < 0.82).then(pl.col("town_b"))
        .otherwise(pick(U("migrant"), OTHER_TOWNS)))

    def code(col):
        return pl.col(col).cast(pl.String)

    def yes_no(col):
        return pl.when(pl.col(col)).then(pl.lit("Ya")).when(~pl.col(col)).then(pl.lit("Tidak"))

    def number(expr, width=3):
        return expr.cast(pl.String).str.zfill(width)

    n_dusun, n_rw, n_rt = pl.col("n_dusun"), pl.col("n_rw"), pl.col("n_rt")
    dusun_no = (U("dusun") * n_dusun).floor().cast(pl.Int32).clip(0, len(ROMAN) - 1)
    return p.with_columns(
        pl.when(chinese & (U("chinese_name") < 0.7)).then(chinese_name)
        .otherwise(plain_name).alias("name"),
        pl.when(female).then(pl.lit("P")).otherwise(pl.lit("L")).alias("sex"),
        place.alias("birth_place"),
        pl.col("birth_date").dt.strftime("%d/%m/%Y").alias("birth_date"),
        code("shdk").alias("shdk"),
        pl.concat_str([pl.when(pl.col("urban")).then(pl.lit("LINGKUNGAN"))
                       .otherwise(pl.lit("DUSUN")),
                       dusun_no.replace_strict(dict(enumerate(ROMAN)), return_dtype=pl.String)],
                      separator=" ").alias("dusun"),
        number(1 + (U("rw") * n_rw).floor().cast(pl.Int32)).alias("rw"),
        number(1 + (U("rt") * n_rt).floor().cast(pl.Int32)).alias("rt"),
        pl.concat_str([pl.when(U("gang") < 0.3).then(pl.lit("GG.")).otherwise(
            pl.lit("JL.")), pick(U("street"), STREETS), pl.lit("NO."),
            (1 + (U("house") * 120).floor().cast(pl.Int32)).cast(pl.String)],
            separator=" ").alias("address"),
        *[code(c).alias(c) for c in ("religion", "marital_status", "education", "occupation",
                                     "disability", "health_insurance", "kb_method",
                                     "monthly_income", "desil")],
        yes_no("has_birth_certificate").alias("has_birth_certificate"),
        yes_no("has_ktp_el").alias("has_ktp_el"),
        yes_no("in_dtsen").alias("in_dtsen"),
    ).select(["pid", *HEADERS])
