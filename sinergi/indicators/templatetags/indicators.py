"""Indicator figures on pages: a value at the indicator's precision, a village
fact as yes/no, a region's rank and its move."""

from django import template
from django.utils.translation import gettext as _

from sinergi.core.charts import figure as chart_figure
from sinergi.indicators.models import YESNO

register = template.Library()


def shown(value, decimals: int) -> str:
    return "—" if value is None else chart_figure(value, decimals)


@register.filter
def figure(value, indicator) -> str:
    """``value`` at ``indicator``'s decimals ("12,48"); "—" for none."""
    return shown(value, indicator.decimals)


@register.filter
def cell(row, indicator) -> str:
    """A cell as read: suppressed, a village's yes/no, or the figure."""
    if getattr(row, "suppressed", False):
        return _("< %(n)d (hidden)") % {"n": 10}
    if row is None or row.value is None:
        return "—"
    if indicator.kind == YESNO and getattr(row, "level", None) == 4:
        return _("yes") if row.value else _("no")
    return shown(row.value, indicator.decimals)


@register.filter
def parts(row, indicator) -> str:
    """"n of N" for a cell made of a numerator and a denominator."""
    if row is None or getattr(row, "suppressed", False) or row.numerator is None:
        return ""
    if row.denominator is None:
        return ""
    return _("%(n)s of %(d)s") % {"n": shown(row.numerator, 0), "d": shown(row.denominator, 0)}


@register.filter
def rank_move(change) -> str:
    """The move in rank since the period before: ▲2, ▼1, = or nothing."""
    if change is None:
        return ""
    if change > 0:
        return f"▲{change}"
    if change < 0:
        return f"▼{-change}"
    return "="
