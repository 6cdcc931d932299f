"""The region, year and programs a convergence page or API call works on,
checked against the user's scope (pages and API share it)."""

from django.utils import timezone
from django.utils.translation import gettext as _

from sinergi.accounts import access
from sinergi.core.errors import SinergiError
from sinergi.programs import selectors as program_selectors

from . import selectors


def resolve(user, *, region: str | None, year: str | int | None,
            program_ids: list[str | int] = ()) -> dict:
    """Region (default: the user's root) inside the user's subtree, year
    (default: this year) and the chosen programs (None: all of the year)."""
    access.check_capability(user, "program.view")
    region = access.region_or_root(user, region,
                                   missing=_("Choose a region, e.g. 19 for the province."))
    region_obj = access.access_subtree(user, region)
    text = str(year or "").strip()
    if text and not (text.isdigit() and 2000 <= int(text) <= 2100):
        raise SinergiError(_("The year must be written like 2026."), field="year")
    year = int(text) if text else timezone.localdate().year
    # Only the programs the user may see count: all of them in the year means
    # the rollup (programs=None), fewer means counting these live.
    everyone = selectors.year_programs(year)
    visible_ids = set(program_selectors.programs_visible(user).filter(
        id__in=[p.id for p in everyone]).values_list("id", flat=True))
    visible = [p for p in everyone if p.id in visible_ids]
    ids = {int(v) for v in program_ids if str(v).isdigit() and len(str(v)) <= 18}
    if ids:
        programs = [p for p in visible if p.id in ids]
        if len(programs) != len(ids):
            raise SinergiError(_("Some chosen programs are not in your scope."),
                               field="program")
    else:
        programs = None if len(visible) == len(everyone) else visible
    return {"region": region_obj, "year": year, "programs": programs, "visible": visible}
