"""NIK and KK number rules: one definition, checked here row by row and in bulk."""

import datetime

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sinergi.registry import identifiers
from sinergi.registry.services import check_identifiers

PREFIXES = pl.Series("prefix", ["190401", "190402", "180601"], dtype=pl.String)


def findings(nik=None, sex=None, birth=None, kk=None):
    df = pl.DataFrame({"__row": [0], "nik": [nik], "sex": [sex], "birth_date": [birth],
                       "kk_number": [kk]},
                      schema={"__row": pl.UInt32, "nik": pl.String, "sex": pl.String,
                              "birth_date": pl.Date, "kk_number": pl.String})
    frames = []
    if nik is not None:
        frames.append(identifiers.nik_findings(df, PREFIXES))
    if kk is not None:
        frames.append(identifiers.kk_findings(df, PREFIXES))
    return sorted(pl.concat(frames).get_column("code").to_list()) if frames else []


def nik_for(prefix, birth: datetime.date, sex: str, serial=1):
    day = birth.day + (40 if sex == "P" else 0)
    return f"{prefix}{day:02d}{birth.month:02d}{birth.year % 100:02d}{serial:04d}"


def test_a_valid_nik_for_a_woman_has_day_plus_40():
    nik = nik_for("190401", datetime.date(1990, 3, 14), "P")
    assert nik == "1904015403900001"
    assert findings(nik, "P", datetime.date(1990, 3, 14)) == []


@pytest.mark.parametrize(
    ("nik", "code"),
    [
        ("190401540390001", "nik_format"),       # 15 digits: a digit lost
        ("19040154039000010", "nik_format"),     # 17 digits
        ("1904015403900A01", "nik_format"),
        ("9999995403900001", "nik_region"),      # unknown kecamatan
        ("1904013203900001", "nik_date"),        # day 32
        ("1904017203900001", "nik_date"),        # day 72 (women: 41-71)
        ("1904011513900001", "nik_date"),        # month 13
        ("1904013002900001", "nik_date"),        # 30 February
        ("1904015403900000", "nik_serial"),
    ],
)
def test_it_rejects_a_bad_nik(nik, code):
    assert code in findings(nik)


def test_29_february_is_real_only_in_leap_years():
    assert findings("1904012902000001") == []   # 2000 (or 1900) — 00 % 4 == 0
    assert "nik_date" in findings("1904012902010001")


def test_sex_and_birth_date_mismatch_are_warnings_not_errors(world):
    nik = nik_for("190401", datetime.date(1990, 3, 14), "L")
    codes = findings(nik, "P", datetime.date(1991, 3, 14))
    assert codes == ["nik_birth_mismatch", "nik_sex_mismatch"]
    errors, warnings = check_identifiers(nik=nik, sex="P", birth_date=datetime.date(1991, 3, 14))
    assert errors == [] and {c for _f, c, _m in warnings} == set(codes)


@pytest.mark.parametrize(
    ("kk", "code"),
    [("", "kk_missing"), ("19040112031500", "kk_format"), ("9999991203150001", "kk_region"),
     ("1904014203150001", "kk_date"), ("1904011203150000", "kk_serial")],
)
def test_it_rejects_a_bad_kk_number(kk, code):
    assert code in findings(kk=kk)


def test_kk_date_has_no_plus_40():
    assert findings(kk="1904011203150001") == []


@settings(max_examples=200, deadline=None)
@given(
    birth=st.dates(min_value=datetime.date(1920, 1, 1), max_value=datetime.date(2025, 12, 31)),
    sex=st.sampled_from(["L", "P"]),
    serial=st.integers(min_value=1, max_value=9999),
    prefix=st.sampled_from(list(PREFIXES)),
)
def test_every_nik_built_by_the_rules_passes_and_matches(birth, sex, serial, prefix):
    assert findings(nik_for(prefix, birth, sex, serial), sex, birth) == []


def test_bulk_and_single_record_paths_agree(world):
    """The form/API path (check_identifiers) uses the same rules as the import."""
    nik = "1904015403900000"
    errors, _warnings = check_identifiers(nik=nik)
    assert [c for _f, c, _m in errors] == ["nik_serial"]
    assert "0000" in errors[0][2]


def test_messages_say_what_to_do():
    for code in sorted(identifiers.CODES):
        message = identifiers.message_for(code, "123")
        assert any(word in message for word in ("Check", "check", "Type", "fill", "Fill")), code
