"""The disaggregations an indicator may allow, and the words for them.

A cell's disaggregation is "" (the total) or "<dimension>:<category>"
("sex:P", "age:balita", "desil:3", "area:desa", "kind:IR"). Each dimension
partitions the total: its categories (with "unknown" where a fact may be
missing) add up to it, so a table by sex or by age group always sums.
"""

from django.utils.translation import gettext_lazy as _

SEX, AGE, AGE_WORK, DESIL, AREA, KIND = "sex", "age", "age_work", "desil", "area", "kind"
UNKNOWN = "unknown"

# Life stages (Kemenkes and UU 13/1998 on the elderly): balita under 5,
# anak 5-17, dewasa 18-59, lansia 60 and over. Bounds are ages in years.
AGE_GROUPS = [("balita", 0, 5), ("anak", 5, 18), ("dewasa", 18, 60), ("lansia", 60, None)]
# BPS's working-age split: 0-14, usia produktif 15-64, 65 and over.
AGE_WORK_GROUPS = [("0-14", 0, 15), ("15-64", 15, 65), ("65+", 65, None)]

DIMENSIONS = {
    SEX: _("sex"),
    AGE: _("age group (balita, anak, dewasa, lansia)"),
    AGE_WORK: _("age group (0-14, 15-64, 65+)"),
    DESIL: _("welfare desil"),
    AREA: _("desa or kelurahan"),
    KIND: _("group kind"),
}

CATEGORY_LABELS = {
    SEX: {"L": _("men"), "P": _("women")},
    AGE: {"balita": _("balita (under 5)"), "anak": _("children (5-17)"),
          "dewasa": _("adults (18-59)"), "lansia": _("elderly (60+)")},
    AGE_WORK: {"0-14": "0-14", "15-64": _("working age (15-64)"), "65+": "65+"},
    AREA: {"desa": _("desa"), "kelurahan": _("kelurahan")},
}


def key(dimension: str, category) -> str:
    return f"{dimension}:{category}"


def split(disaggregation: str) -> tuple[str, str]:
    """("sex", "P") for "sex:P"; ("", "") for the total."""
    if not disaggregation:
        return "", ""
    dimension, _sep, category = disaggregation.partition(":")
    return dimension, category


def label(disaggregation: str) -> str:
    """The words for a disaggregation: "women", "desil 3", "unknown"."""
    dimension, category = split(disaggregation)
    if not dimension:
        return str(_("total"))
    if category == UNKNOWN:
        return str(_("unknown"))
    if dimension == DESIL:
        return str(_("desil %(n)s") % {"n": category})
    found = CATEGORY_LABELS.get(dimension, {}).get(category)
    return str(found) if found is not None else category


def order(disaggregation: str) -> tuple:
    """Categories in their own order: desil 1 to 10, age groups young to
    old, sex L then P; unknown last."""
    dimension, category = split(disaggregation)
    groups = {AGE: [g[0] for g in AGE_GROUPS], AGE_WORK: [g[0] for g in AGE_WORK_GROUPS],
              SEX: ["L", "P"], AREA: ["desa", "kelurahan"]}
    if category == UNKNOWN:
        return (dimension, 1, 0, "")
    if dimension == DESIL and category.isdigit():
        return (dimension, 0, int(category), "")
    known = groups.get(dimension, [])
    return (dimension, 0, known.index(category) if category in known else len(known), category)


def choices() -> list[tuple[str, object]]:
    return list(DIMENSIONS.items())
