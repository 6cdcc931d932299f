"""Reads of the region hierarchy, within the user's scope."""

import time

from django.utils.translation import gettext as _

from sinergi.accounts import access
from sinergi.core.errors import SinergiError
from sinergi.core.pagination import Page, keyset_page

from . import codes


def region_list(
    *,
    user,
    parent: str | None = None,
    q: str | None = None,
    level: int | None = None,
    include_retired: bool = False,
    subtree: bool = False,
    cursor: str | None = None,
    limit: int | None = None,
) -> Page:
    """Children of ``parent`` or a name search, in code order, paginated.

    With neither, the top of what the user may see: provinces for an
    unscoped user, the scope root itself for a scoped one.
    """
    qs = access.regions_visible(user)
    if subtree:
        qs = qs.filter(access.scope_q(user, "code"))
    if not include_retired:
        qs = qs.filter(retired_in="")
    if parent:
        problem = codes.code_problem(parent)
        if problem:
            raise SinergiError(problem, field="parent")
        access.access_region(user, parent)
        qs = qs.filter(parent_id=parent)
    if q:
        q = q.strip()
        if len(q) < 2:
            raise SinergiError(_("Type at least 2 letters to search by name."), field="q")
        qs = qs.filter(name__icontains=q)
    if level is not None:
        if level not in codes.LEVEL_LENGTH:
            raise SinergiError(_("level must be 1, 2, 3 or 4."), field="level")
        qs = qs.filter(level=level)
    if not parent and not q and level is None:
        root = access.scope_root(user)
        qs = qs.filter(level=1) if root is None else qs.filter(code=root)
    return keyset_page(qs, ["code"], cursor=cursor, limit=limit)


def region_breadcrumbs(code: str) -> list:
    """The region and everything above it, top first (for headings)."""
    from .models import Region

    wanted = [*codes.code_ancestors(code), code]
    found = {r.code: r for r in Region.objects.filter(code__in=wanted)}
    return [found[c] for c in wanted if c in found]


# Region names for pages, read a province at a time and kept a few minutes
# in the process: a page listing hundreds of villages asks the database once
# per province on it (usually one), not once per row. Loading an edition
# forgets them.
NAMES_SECONDS = 600
_names: dict[str, tuple[float, dict[str, str]]] = {}


def _name_batch(code: str) -> str:
    """The group a code's name is read with: its province's kecamatan and
    villages for those, the provinces and kabupaten/kota for the rest."""
    return code[:2] if len(code) > 5 else "top"


def region_name(code: str) -> str | None:
    """The name of the region ``code`` (None for a code no edition holds)."""
    from .models import Region

    if not code:
        return None
    key = _name_batch(code)
    now = time.monotonic()
    entry = _names.get(key)
    if entry is None or now - entry[0] > NAMES_SECONDS:
        qs = (Region.objects.filter(code__startswith=key + ".", level__gte=3)
              if key != "top" else Region.objects.filter(level__lte=2))
        entry = _names[key] = (now, dict(qs.values_list("code", "name")))
    return entry[1].get(code)


def forget_names() -> None:
    """Read names afresh (after an edition is loaded)."""
    _names.clear()
