"""API: convergence figures of a region in the caller's scope."""

from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema

from sinergi.accounts import access
from sinergi.core.errors import SinergiError

from . import params, selectors

router = Router(tags=["convergence"])


class Filters(Schema):
    region: str | None = None
    year: int | None = None
    program: list[int] = []


def _resolve(request, filters: Filters) -> dict:
    return params.resolve(request.auth, region=filters.region, year=filters.year,
                          program_ids=filters.program)


@router.get("/coverage", summary="Coverage by desil, sex and child region")
def coverage(request: HttpRequest, filters: Query[Filters]):
    p = _resolve(request, filters)
    data = selectors.coverage(region=p["region"].code, year=p["year"], programs=p["programs"],
                              today=timezone.localdate())
    data["computed_at"] = data["computed_at"].isoformat()
    data["as_of"] = data["as_of"].isoformat()
    return data


@router.get("/unserved", summary="Eligible but unserved families (one page)")
def unserved(request: HttpRequest, filters: Query[Filters], cursor: str | None = None,
             limit: int | None = None):
    access.check_capability(request.auth, "registry.view")
    p = _resolve(request, filters)
    page = selectors.unserved(region=p["region"].code, year=p["year"], programs=p["programs"],
                              today=timezone.localdate(), cursor=cursor, limit=limit)
    return {"items": page.items, "next_cursor": page.next_cursor}


@router.get("/overlap", summary="Families served by both of two programs")
def overlap(request: HttpRequest, filters: Query[Filters]):
    p = _resolve(request, filters)
    data = selectors.overlap(region=p["region"].code, year=p["year"], programs=p["programs"])
    data["matrix"] = {str(a): {str(b): n for b, n in row.items()}
                      for a, row in data["matrix"].items()}
    return data


@router.get("/targets", summary="Target against actual per program and region")
def targets(request: HttpRequest, filters: Query[Filters]):
    p = _resolve(request, filters)
    return selectors.target_vs_actual(region=p["region"].code, year=p["year"],
                                      programs=p["programs"])


@router.get("/villages/{code}", summary="Integrated village profile")
def village(request: HttpRequest, code: str, year: int | None = None):
    p = params.resolve(request.auth, region=code, year=year)
    if len(code) != 13:
        raise SinergiError(_("A village profile needs a village code such as 19.04.01.2001."),
                           field="code")
    return selectors.village_profile(village=code, year=p["year"], today=timezone.localdate())
