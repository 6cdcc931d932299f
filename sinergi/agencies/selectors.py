"""Reads of agencies, always within the user's scope."""

from django.db.models import Q

from sinergi.accounts import access
from sinergi.core.pagination import Page, keyset_page
from sinergi.regions import codes


def agency_list(
    *,
    user,
    region: str | None = None,
    q: str | None = None,
    sector: str | None = None,
    cursor: str | None = None,
    limit: int | None = None,
) -> Page:
    """Agencies the user may see, optionally within a region subtree."""
    qs = access.agencies_visible(user).select_related("region")
    if region:
        access.region_filter(user, region)
        qs = qs.filter(codes.subtree_q("region__code", region))
    if q:
        qs = qs.filter(Q(name__icontains=q) | Q(short_name__icontains=q))
    if sector:
        qs = qs.filter(sector=sector)
    return keyset_page(qs, ["region_id", "short_name", "id"], cursor=cursor, limit=limit)
