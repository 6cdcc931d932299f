"""Region names beside codes on pages: ``{{ code|region }}`` shows
"Desa Padang Mulia 19.04.01.2001" (the code muted), never a bare code
(names read by regions.selectors.region_name, a kabupaten at a time)."""

from django import template
from django.utils.html import format_html

from sinergi.regions.selectors import region_name

register = template.Library()

@register.filter
def region(code: str) -> str:
    """A region's name with its code beside it, muted; the code alone when
    no loaded edition knows it."""
    name = region_name(code or "")
    if name is None:
        return code or ""
    return format_html('{} <span class="muted">{}</span>', name, code)
