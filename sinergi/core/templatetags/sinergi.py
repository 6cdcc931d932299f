"""Template filters shared by Sinergi's pages."""

from django import template
from django.contrib.humanize.templatetags.humanize import intcomma
from django.utils.formats import get_format
from django.utils.translation import get_language

register = template.Library()

# Thousands separator per language, looked up once per process.
_separators: dict[str | None, str] = {}


@register.filter(is_safe=True)
def num(value, blank="—"):
    """A count or an amount with the language's thousands separator
    (12.345 in Indonesian, 12,345 in English), ``blank`` for None.

    What humanize's intcomma prints for whole numbers, at a fraction of its
    cost: the convergence pages print thousands of figures per request.
    Anything but an int goes to intcomma.
    """
    if value is None:
        return blank
    if type(value) is not int:
        return intcomma(value)
    language = get_language()
    separator = _separators.get(language)
    if separator is None:
        separator = _separators[language] = get_format("THOUSAND_SEPARATOR", language)
    return f"{value:,}".replace(",", separator)


@register.filter
def action_label(code: str) -> str:
    """An audited action's name for people (core.audit.ACTION_LABELS)."""
    from sinergi.core.audit import action_label as label

    return label(code)


@register.filter
def changes(before, after) -> list[tuple[str, object, object]]:
    """An audit row's before/after as (field, old, new) rows to read, instead
    of two raw dictionaries; a value only after (a creation) has old None."""
    before = before if isinstance(before, dict) else {}
    after = after if isinstance(after, dict) else {}
    return [(key, before.get(key), after.get(key)) for key in dict.fromkeys([*before, *after])]


@register.filter
def pct(part, whole) -> str:
    """``part`` as a percentage of ``whole`` with one decimal in the
    language's notation ("12,3 %" in Indonesian), "—" without a denominator."""
    from django.utils.formats import number_format

    if part is None or not whole:
        return "—"
    # Rounded here: number_format cuts a float's digits (66.66 -> 66.6).
    return f"{number_format(round(100 * part / whole, 1), 1)} %"


@register.filter
def get(mapping, key):
    """``mapping[key]`` in a template (None when absent)."""
    return mapping.get(key) if hasattr(mapping, "get") else None
