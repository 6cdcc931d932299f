"""Data quality of indicator values: impossible values are refused on entry;
values outside the plausible range and outliers among their peers are
flagged on entry and listed for the responsible agency; missing periods are
found when the list is read.

Outliers use the median and the median absolute deviation (MAD) of the
values of the same indicator, period and level: a value whose robust
z-score 0.6745 × |x − median| / MAD exceeds 3.5 is flagged (Iglewicz and
Hoaglin), with at least five values and a MAD of at least 5 % of the
median (a handful of regions close together would otherwise flag their
ordinary spread).
"""

from decimal import Decimal
from statistics import median

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .models import COUNT, PER_MILLE, PERCENT, RUPIAH, YESNO

RANGE, OUTLIER, MISSING, IMPOSSIBLE = "range", "outlier", "missing", "impossible"
FLAG_LABELS = {
    RANGE: gettext_lazy("outside the plausible range"),
    OUTLIER: gettext_lazy("far from the other regions (outlier)"),
    MISSING: gettext_lazy("missing for the latest period"),
    IMPOSSIBLE: gettext_lazy("impossible value"),
}
Z_LIMIT = Decimal("3.5")
MAD_FLOOR = Decimal("0.05")


def problems(indicator, *, value, numerator, denominator) -> list[tuple[str, str]]:
    """Why a value cannot be true, as (field, message): refused on entry."""
    found = []
    for field, number in (("value", value), ("numerator", numerator),
                          ("denominator", denominator)):
        if number is not None and number < 0 and indicator.kind in (COUNT, PERCENT, PER_MILLE,
                                                                     RUPIAH, YESNO):
            found.append((field, _("A %(kind)s cannot be negative.") % {
                "kind": indicator.get_kind_display()}))
    if numerator is not None and denominator is not None and indicator.is_ratio \
            and numerator > denominator:
        found.append(("numerator", _("The numerator (%(n)s) is larger than the denominator "
                                     "(%(d)s): check both numbers.") % {
            "n": numerator, "d": denominator}))
    ceiling = {PERCENT: 100, PER_MILLE: 1000}.get(indicator.kind)
    if ceiling is not None and value is not None and value > ceiling:
        found.append(("value", _("A %(kind)s cannot be above %(max)s; write it as a number "
                                 "like 12.48 (not 1248).") % {
            "kind": indicator.get_kind_display(), "max": ceiling}))
    if indicator.kind == YESNO and value is not None and value not in (0, 1):
        found.append(("value", _("Write 1 (yes) or 0 (no).")))
    return found


def out_of_range(indicator, value) -> bool:
    if value is None:
        return False
    return ((indicator.valid_min is not None and value < indicator.valid_min)
            or (indicator.valid_max is not None and value > indicator.valid_max))


def outliers(values: dict[str, Decimal | None]) -> set[str]:
    """The keys whose values lie far from the median of all (robust z > 3.5)."""
    present = {k: Decimal(v) for k, v in values.items() if v is not None}
    if len(present) < 5:
        return set()
    middle = median(present.values())
    # A few regions close together make a tiny MAD that would flag ordinary
    # spread: the spread counted is at least 5 % of the median.
    mad = max(median(abs(v - middle) for v in present.values()), abs(middle) * MAD_FLOOR)
    if mad == 0:
        return set()
    return {k for k, v in present.items()
            if Decimal("0.6745") * abs(v - middle) / mad > Z_LIMIT}


def flag_label(code: str) -> str:
    return str(FLAG_LABELS.get(code, code))
