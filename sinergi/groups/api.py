"""API: community groups in the caller's scope, and their members."""

from django.http import HttpRequest
from ninja import Field, Router, Schema
from ninja.responses import Status

from . import selectors, services
from .models import Group

router = Router(tags=["groups"])


# Out schemas read the model themselves (aliases, resolvers). Comments, not
# docstrings: a docstring would become a description in /api/openapi.json.
class GroupOut(Schema):
    id: int
    code: str
    name: str
    kind: str = Field(alias="kind_id")
    village_code: str
    level: str
    agency_ids: list[int]
    members: int
    is_active: bool

    @staticmethod
    def resolve_agency_ids(group: Group) -> list[int]:
        return sorted(a.pk for a in group.agencies.all())

    @staticmethod
    def resolve_members(group: Group) -> int:
        return selectors.members_now(group)


class GroupPage(Schema):
    items: list[GroupOut]
    next_cursor: str | None


class GroupIn(Schema):
    code: str
    name: str
    kind: str
    village_code: str
    agencies: list[int] = []
    founded_on: str | None = None
    sector: str = ""
    products: str = ""
    nib: str = ""
    pirt: str = ""
    halal: str = ""


class MemberIn(Schema):
    nik: str
    role: str = "anggota"
    joined_on: str | None = None


@router.get("", response=GroupPage, summary="Groups in scope")
def group_list(request: HttpRequest, kind: str | None = None, region: str | None = None,
               cursor: str | None = None, limit: int | None = None):
    return selectors.group_list(request.auth, kind=kind, region=region, cursor=cursor,
                                limit=limit, with_members=True)


@router.post("", response={201: GroupOut}, summary="Register a group")
def group_create(request: HttpRequest, payload: GroupIn):
    return Status(201, services.group_create(actor=request.auth, **payload.dict()))


@router.get("/{group_id}", response=GroupOut, summary="One group")
def group_detail(request: HttpRequest, group_id: int):
    return selectors.access_group(request.auth, group_id)


@router.post("/{group_id}/members", response={201: GroupOut},
             summary="Add a registry person to a group")
def group_member_add(request: HttpRequest, group_id: int, payload: MemberIn):
    group = selectors.access_group(request.auth, group_id, for_write=True)
    services.member_add(actor=request.auth, group=group, **payload.dict())
    return Status(201, group)
