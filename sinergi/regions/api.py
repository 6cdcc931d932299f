"""API: the region hierarchy (GET /api/v1/regions...)."""

from django.http import HttpRequest
from ninja import Field, Router, Schema

from sinergi.accounts import access

from . import selectors

router = Router(tags=["regions"])


class RegionOut(Schema):
    """A region as the API shows it (read from the model)."""

    code: str
    name: str
    kind: str
    level: int
    parent_code: str | None = Field(alias="parent_id")
    retired: bool = Field(alias="is_retired")


class RegionPage(Schema):
    items: list[RegionOut]
    next_cursor: str | None


@router.get("", response=RegionPage, summary="List children of a region, or search by name")
def region_list(
    request: HttpRequest,
    parent: str | None = None,
    q: str | None = None,
    level: int | None = None,
    include_retired: bool = False,
    subtree: bool = False,
    cursor: str | None = None,
    limit: int | None = None,
):
    """Children of ``parent`` (code order), or regions whose name contains ``q``;
    ``subtree``: only the user's own subtree, not the regions above it.

    Keyset-paginated: pass ``next_cursor`` back as ``cursor`` for the next page.
    """
    page = selectors.region_list(
        user=request.auth, parent=parent, q=q, level=level,
        include_retired=include_retired, subtree=subtree, cursor=cursor, limit=limit,
    )
    return {"items": page.items, "next_cursor": page.next_cursor}


@router.get("/{code}", response=RegionOut, summary="One region by its Kemendagri code")
def region_detail(request: HttpRequest, code: str):
    return access.access_region(request.auth, code)
