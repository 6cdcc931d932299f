"""API: agencies (OPD) in the caller's scope."""

from django.http import HttpRequest
from ninja import Field, Router, Schema

from sinergi.accounts import access

from . import selectors, services

router = Router(tags=["agencies"])


class AgencyOut(Schema):
    """An agency as the API shows it (read from the model)."""

    id: int
    name: str
    short_name: str
    level: str
    region_code: str = Field(alias="region_id")
    region_name: str = Field(alias="region.name")
    sector: str
    is_active: bool


class AgencyPage(Schema):
    items: list[AgencyOut]
    next_cursor: str | None


class AgencyPatch(Schema):
    name: str | None = None
    short_name: str | None = None
    sector: str | None = None
    is_active: bool | None = None


@router.get("", response=AgencyPage, summary="Agencies in scope")
def agency_list(
    request: HttpRequest,
    region: str | None = None,
    q: str | None = None,
    sector: str | None = None,
    cursor: str | None = None,
    limit: int | None = None,
):
    page = selectors.agency_list(
        user=request.auth, region=region, q=q, sector=sector, cursor=cursor, limit=limit
    )
    return {"items": page.items, "next_cursor": page.next_cursor}


@router.get("/{agency_id}", response=AgencyOut, summary="One agency")
def agency_detail(request: HttpRequest, agency_id: int):
    return access.access_agency(request.auth, agency_id)


@router.patch("/{agency_id}", response=AgencyOut, summary="Change an agency")
def agency_patch(request: HttpRequest, agency_id: int, payload: AgencyPatch):
    agency = access.access_agency(request.auth, agency_id, for_write=True)
    return services.agency_update(actor=request.auth, agency=agency,
                                  **payload.dict(exclude_unset=True))
