"""API: the caller's own API tokens."""

from django.http import HttpRequest
from ninja import Router, Schema
from ninja.responses import Status

from sinergi.accounts import access
from sinergi.core.errors import NotInScope

from . import services
from .models import ApiToken

router = Router(tags=["tokens"])


class TokenOut(Schema):
    id: int
    name: str
    prefix: str
    created_at: str
    last_used_at: str | None
    active: bool


class TokenIn(Schema):
    name: str


class TokenCreated(TokenOut):
    token: str


def _out(row: ApiToken) -> dict:
    return {
        "id": row.id,
        "name": row.name,
        "prefix": row.prefix,
        "created_at": row.created_at.isoformat(),
        "last_used_at": row.last_used_at.isoformat() if row.last_used_at else None,
        "active": row.is_active,
    }


@router.get("", response=list[TokenOut], summary="My API tokens")
def token_list(request: HttpRequest):
    # A person holds a handful of tokens; the cap keeps the answer bounded.
    rows = ApiToken.objects.filter(user=request.auth).order_by("-created_at")[:100]
    return [_out(r) for r in rows]


@router.post("", response={201: TokenCreated}, summary="Create a token (shown once)")
def token_create(request: HttpRequest, payload: TokenIn):
    access.check_capability(request.auth, "token.own")
    row, token = services.api_token_create(actor=request.auth, user=request.auth,
                                           name=payload.name)
    return Status(201, {**_out(row), "token": token})


@router.delete("/{token_id}", response=TokenOut, summary="Revoke a token")
def token_revoke(request: HttpRequest, token_id: int):
    row = ApiToken.objects.filter(user=request.auth, pk=token_id).first()
    if row is None:
        raise NotInScope
    return _out(services.api_token_revoke(actor=request.auth, token=row))
