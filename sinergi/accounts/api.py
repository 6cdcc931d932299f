"""API: the caller's own API tokens."""

from django.http import HttpRequest
from ninja import Field, Router, Schema
from ninja.responses import Status

from sinergi.accounts import access
from sinergi.core.errors import NotInScope

from . import services
from .models import ApiToken

router = Router(tags=["tokens"])


class TokenOut(Schema):
    """A token as the API shows it (read from the model; never its digest)."""

    id: int
    name: str
    prefix: str
    created_at: str
    last_used_at: str | None
    active: bool = Field(alias="is_active")

    @staticmethod
    def resolve_created_at(row) -> str:
        return row.created_at.isoformat()

    @staticmethod
    def resolve_last_used_at(row) -> str | None:
        return row.last_used_at.isoformat() if row.last_used_at else None


class TokenIn(Schema):
    name: str


class TokenCreated(TokenOut):
    """A new token: the secret itself, shown this once."""

    token: str

    @staticmethod
    def resolve_token(row) -> str:
        return row.secret


@router.get("", response=list[TokenOut], summary="My API tokens")
def token_list(request: HttpRequest):
    # A person holds a handful of tokens; the cap keeps the answer bounded.
    rows = ApiToken.objects.filter(user=request.auth).order_by("-created_at")[:100]
    return list(rows)


@router.post("", response={201: TokenCreated}, summary="Create a token (shown once)")
def token_create(request: HttpRequest, payload: TokenIn):
    access.check_capability(request.auth, "token.own")
    row, token = services.api_token_create(actor=request.auth, user=request.auth,
                                           name=payload.name)
    row.secret = token  # held on this object only, for TokenCreated
    return Status(201, row)


@router.delete("/{token_id}", response=TokenOut, summary="Revoke a token")
def token_revoke(request: HttpRequest, token_id: int):
    row = ApiToken.objects.filter(user=request.auth, pk=token_id).first()
    if row is None:
        raise NotInScope
    return services.api_token_revoke(actor=request.auth, token=row)
