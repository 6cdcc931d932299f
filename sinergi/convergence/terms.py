"""The words of convergence figures, written once (docs/terms.md): pages,
exports and the API's descriptions use these, so the same figure has the
same name and unit everywhere."""

from django.utils.translation import gettext_lazy as _

from sinergi.registry.codes import POOR_DESIL_MAX

FAMILIES = _("Families")
FAMILIES_SERVED = _("Families served")
FAMILIES_ELIGIBLE = _("Eligible families")
EXCLUSION = _("Exclusion error (families)")
INCLUSION = _("Inclusion error (families)")
COVERAGE = _("Coverage (share of families, %)")
EXCLUSION_RATE = _("Exclusion rate (share of eligible, %)")
INCLUSION_RATE = _("Inclusion rate (share of served, %)")
UNKNOWN = _("unknown")
SEX_LABELS = {"L": _("men"), "P": _("women"), "unknown": _("sex not recorded")}

ELIGIBLE_UNSERVED = _("Eligible but not served")
NOT_SERVED_BY = _("Eligible but not served by")


def poor_label() -> str:
    """The name of the 'poor family with no program' figure and list."""
    return _("Poor families (desil 1–%(n)d) served by no program") % {"n": POOR_DESIL_MAX}


def sex_label(code: str) -> str:
    return str(SEX_LABELS.get(code or "unknown", code))
