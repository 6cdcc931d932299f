"""API: persons and families in the caller's scope (NIK masked unless revealed)."""

import datetime

from django.http import HttpRequest
from ninja import Field, Router, Schema

from . import selectors, services

router = Router(tags=["registry"])


class PersonOut(Schema):
    """A person as the API shows it (read from the model): the NIK masked,
    unless the endpoint revealed it (``services.person_nik_reveal``, audited)
    and marked the object so."""

    id: int
    nik: str | None
    nik_masked: bool
    name: str
    sex: str
    birth_place: str
    birth_date: datetime.date | None
    shdk: int | None
    family_id: int | None = Field(alias="household_id")
    village_code: str
    life_status: int
    monthly_income: int | None
    warnings: list[str]

    @staticmethod
    def resolve_nik(p) -> str | None:
        return p.nik if getattr(p, "nik_revealed", False) else selectors.mask_nik(p.nik) or None

    @staticmethod
    def resolve_nik_masked(p) -> bool:
        return not getattr(p, "nik_revealed", False)

    @staticmethod
    def resolve_warnings(p) -> list[str]:
        return p.warnings or []


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

    @staticmethod
    def resolve_kk_number(hh) -> str:
        return selectors.mask_nik(hh.kk_number)

    @staticmethod
    def resolve_members(hh) -> list:
        return selectors.household_members(hh)


@router.get("/persons", response=PersonPage, summary="Search persons in scope")
def person_list(request: HttpRequest, q: str | None = None, region: str | None = None,
                cursor: str | None = None, limit: int | None = None):
    """By exact NIK or KK number (16 digits) or by name (3+ letters), within ``region``.
    NIKs come masked; ask one person with ``reveal=true`` (audited) for the full NIK."""
    page = selectors.person_search(user=request.auth, q=q, region=region, cursor=cursor,
                                   limit=limit)
    return {"items": page.items, "next_cursor": page.next_cursor}


@router.get("/persons/{person_id}", response=PersonOut, summary="One person")
def person_detail(request: HttpRequest, person_id: int, reveal: bool = False):
    person = selectors.access_person(request.auth, person_id)
    if reveal:
        services.person_nik_reveal(actor=request.auth, person=person)
        person.nik_revealed = True
    return person


@router.get("/families/{family_id}", response=FamilyOut, summary="One family with members")
def family_detail(request: HttpRequest, family_id: int):
    return selectors.access_household(request.auth, family_id)
