"""Commitments measured by an indicator (meetings.progress): a region's
latest value of an indicator, or how many villages under it have a village
fact ("a Puskesos in every pekon; today 2")."""

from decimal import Decimal

from django.utils.translation import gettext_lazy as _

from sinergi.meetings.progress import Counter, register

from .models import YESNO, Indicator, Value


def _latest(region: str, code: str) -> Value | None:
    return (Value.objects.filter(indicator__code=code.strip().upper(), region_code=region,
                                 disaggregation="").order_by("-period").first())


def indicator_value(region: str, param: str, today) -> Decimal:
    found = _latest(region, param)
    return found.value if found is not None and found.value is not None else Decimal(0)


def villages_with(region: str, param: str, today) -> Decimal:
    found = _latest(region, param)
    return found.numerator if found is not None and found.numerator is not None \
        else Decimal(0)


def _indicator_problem(param: str):
    if not Indicator.objects.filter(code=param.strip().upper(), is_active=True).exists():
        return _("Give an indicator code from the catalogue, e.g. NIK_PCT or P0.")
    return None


def _fact_problem(param: str):
    if not Indicator.objects.filter(code=param.strip().upper(), kind=YESNO,
                                    is_active=True).exists():
        return _("Give a yes/no village indicator code, e.g. F_PUSKESSOS or DESA_BUMDES.")
    return None


register(Counter("indicators.value", _("An indicator's latest value in the region"),
                 _("value"), indicator_value, param_label=_("indicator code"),
                 param_check=_indicator_problem))
register(Counter("indicators.villages_with", _("Villages with a village fact (yes)"),
                 _("villages"), villages_with, param_label=_("indicator code"),
                 param_check=_fact_problem))
