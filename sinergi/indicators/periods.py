"""Periods of indicator values: "2025" (a year), "2025-S1" (a semester),
"2025-Q3" (a quarter), "2025-03" (a month). The text sorts in time order
within one frequency, which is how an indicator's values are kept."""

import re

from django.utils.formats import date_format
from django.utils.translation import gettext as _

from .models import MONTH, QUARTER, SEMESTER, YEAR

_PATTERNS = {
    YEAR: re.compile(r"^(\d{4})$"),
    SEMESTER: re.compile(r"^(\d{4})-S([12])$"),
    QUARTER: re.compile(r"^(\d{4})-Q([1-4])$"),
    MONTH: re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$"),
}
_PER_YEAR = {YEAR: 1, SEMESTER: 2, QUARTER: 4, MONTH: 12}
EXAMPLES = {YEAR: "2025", SEMESTER: "2025-S1", QUARTER: "2025-Q3", MONTH: "2025-03"}


def frequency_of(period: str) -> str | None:
    for frequency, pattern in _PATTERNS.items():
        if pattern.match(period or ""):
            return frequency
    return None


def normalize(value, frequency: str) -> str | None:
    """The period written as the indicator keeps it, or None when it is not
    one of its frequency ("2025.0" from a spreadsheet is the year 2025)."""
    text = str(value if value is not None else "").strip().upper().replace(" ", "")
    if re.match(r"^\d{4}\.0+$", text):
        text = text.split(".")[0]
    if re.match(r"^\d{4}-\d$", text) and frequency == MONTH:
        text = f"{text[:5]}0{text[5]}"
    pattern = _PATTERNS.get(frequency)
    if pattern is None or not pattern.match(text):
        return None
    year = int(text[:4])
    return text if 1990 <= year <= 2100 else None


def problem(value, frequency: str) -> str | None:
    if normalize(value, frequency) is None:
        return _("'%(value)s' is not a period of this indicator: write it like %(example)s.") % {
            "value": value, "example": EXAMPLES.get(frequency, "2025")}
    return None


def year_of(period: str) -> int:
    return int(period[:4])


def position(period: str) -> float:
    """The period's start as a fraction of years (2025-Q3 -> 2025.5), to
    compare periods of different frequencies (a yearly target, a monthly value)."""
    frequency = frequency_of(period) or YEAR
    if frequency == YEAR:
        return float(year_of(period))
    index = int(period[6:] if frequency in (SEMESTER, QUARTER) else period[5:])
    return year_of(period) + (index - 1) / _PER_YEAR[frequency]


def end_position(period: str) -> float:
    """Where the period ends (2025 -> 2026.0; 2025-S1 -> 2025.5)."""
    frequency = frequency_of(period) or YEAR
    return position(period) + 1 / _PER_YEAR[frequency]


def current(frequency: str, today) -> str:
    if frequency == SEMESTER:
        return f"{today.year}-S{1 if today.month <= 6 else 2}"
    if frequency == QUARTER:
        return f"{today.year}-Q{(today.month - 1) // 3 + 1}"
    if frequency == MONTH:
        return f"{today.year}-{today.month:02d}"
    return str(today.year)


def label(period: str) -> str:
    frequency = frequency_of(period)
    if frequency == SEMESTER:
        return _("Semester %(n)s %(year)s") % {"n": period[6], "year": period[:4]}
    if frequency == QUARTER:
        return _("Quarter %(n)s %(year)s") % {"n": period[6], "year": period[:4]}
    if frequency == MONTH:
        import datetime

        return date_format(datetime.date(year_of(period), int(period[5:]), 1), "F Y")
    return period
