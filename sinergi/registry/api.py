"""API: persons and families in the caller's scope (NIK masked unless revealed)."""

import datetime

from django.http import HttpRequest
from ninja import Router, Schema

from . import selectors, services

router = Router(tags=["registry"])


class PersonOut(Schema):
    id: int
    nik: str | None
    nik_masked: bool
    name: str
    sex: str
    birth_place: str
    birth_date: datetime.date | None
    shdk: int | None
    family_id: int | None
    village_code: str
    life_status: int
    monthly_income: int | None
    warnings: list[str]


class PersonPage(Schema):
    items: list[PersonOut]
    next_cursor: str | None


class FamilyOut(Schema):
    id: int
    kk_number: str
    village_code: str
    dusun: str
    rt: str
    rw: str
    address: str
    desil: int | None
    desil_source: str
    desil_as_of: datetime.date | None
    in_dtsen: bool
    members: list[PersonOut]


def _person(p, *, reveal: bool = False) -> dict:
    return {
        "id": p.id, "nik": p.nik if reveal else selectors.mask_nik(p.nik) or None,
        "nik_masked": not reveal, "name": p.name, "sex": p.sex, "birth_place": p.birth_place,
        "birth_date": p.birth_date, "shdk": p.shdk, "family_id": p.household_id,
        "village_code": p.village_code, "life_status": p.life_status,
        "monthly_income": p.monthly_income, "warnings": p.warnings or [],
    }


@router.get("/persons", response=PersonPage, summary="Search persons in scope")
def person_list(request: HttpRequest, q: str | None = None, region: str | None = None,
                cursor: str | None = None, limit: int | None = None):
    """By exact NIK or KK number (16 digits) or by name (3+ letters), within ``region``.
    NIKs come masked; ask one person with ``reveal=true`` (audited) for the full NIK."""
    page = selectors.person_search(user=request.auth, q=q, region=region, cursor=cursor,
                                   limit=limit)
    return {"items": [_person(p) for p in page.items], "next_cursor": page.next_cursor}


@router.get("/persons/{person_id}", response=PersonOut, summary="One person")
def person_detail(request: HttpRequest, person_id: int, reveal: bool = False):
    person = selectors.access_person(request.auth, person_id)
    if reveal:
        services.person_nik_reveal(actor=request.auth, person=person)
    return _person(person, reveal=reveal)


@router.get("/families/{family_id}", response=FamilyOut, summary="One family with members")
def family_detail(request: HttpRequest, family_id: int):
    hh = selectors.access_household(request.auth, family_id)
    return {
        "id": hh.id, "kk_number": selectors.mask_nik(hh.kk_number),
        "village_code": hh.village_code, "dusun": hh.dusun, "rt": hh.rt, "rw": hh.rw,
        "address": hh.address, "desil": hh.desil, "desil_source": hh.desil_source,
        "desil_as_of": hh.desil_as_of, "in_dtsen": hh.in_dtsen,
        "members": [_person(p) for p in selectors.household_members(hh)],
    }
