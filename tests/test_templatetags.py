"""The shared template filters print what Django's own would."""

from decimal import Decimal

from django.contrib.humanize.templatetags.humanize import intcomma
from django.template import Context, Template
from django.utils import translation
from hypothesis import given
from hypothesis import strategies as st

from sinergi.core.templatetags.sinergi import num


@given(value=st.one_of(st.integers(min_value=-10**15, max_value=10**15),
                       st.decimals(min_value=-10**9, max_value=10**9, places=2)))
def test_num_prints_what_intcomma_prints(value):
    for language in ("id", "en"):
        with translation.override(language):
            assert num(value) == intcomma(value)


def test_num_separates_thousands_by_language_and_marks_missing_values():
    page = Template("{% load sinergi %}{{ a|num }} {{ b|num }} {{ b|num:'' }}|{{ c|num }}")
    context = Context({"a": 1234567, "b": None, "c": Decimal("2500000")})
    with translation.override("id"):
        assert page.render(context) == "1.234.567 — |2.500.000"
    with translation.override("en"):
        assert page.render(context) == "1,234,567 — |2,500,000"
