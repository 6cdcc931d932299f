"""The JSON API: one NinjaAPI mounting each app's router under /api/v1.

Every error answers in one shape::

    {"detail": "what is wrong and what to do",
     "errors": [{"field": "limit", "message": "..."}]}
"""

import json

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import OperationalError
from django.http import Http404
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.parser import Parser
from ninja.security import APIKeyCookie, HttpBearer

from sinergi.accounts.services import api_token_authenticate
from sinergi.core import timelimit
from sinergi.core.errors import AccessDenied, NotInScope, SinergiError
from sinergi.core.timelimit import RequestTooHeavy


def sends_bearer_token(request) -> bool:
    """Whether the request says who it is with ``Authorization: Bearer ...``."""
    scheme = request.headers.get("Authorization", "").strip().split(" ", 1)[0]
    return scheme.lower() == "bearer"


class TokenAuth(HttpBearer):
    """``Authorization: Bearer sng_...`` with a token made on the tokens page."""

    def authenticate(self, request, token):
        user = api_token_authenticate(token)
        if user is not None:
            request.user = user
        return user


class SessionAuth(APIKeyCookie):
    """The browser's session; unsafe methods need the CSRF token as usual.

    A request that sends a bearer token is judged by the token alone: a bad
    or revoked one answers 401, never falls through to the session (whose
    CSRF check would answer a script 403 "CSRF check Failed", and whose
    cookie, sent beside a token, would stand in for it).
    """

    param_name = settings.SESSION_COOKIE_NAME

    def __call__(self, request):
        if sends_bearer_token(request):
            return None
        return super().__call__(request)

    def authenticate(self, request, key):
        user = getattr(request, "user", None)
        return user if user is not None and user.is_authenticated else None


class BodyNotAnObject(ValueError):
    """A JSON body that is a list, a string, a number or null."""


class ObjectBodyParser(Parser):
    """Every JSON body of this API is an object of named fields.

    Without this, ninja's schemas read a list or a string through attribute
    lookups: ``[]`` became an empty patch answered 200, and the string
    ``"s"`` even set a meeting's title to ``"S"`` (``str.title``). Ninja
    turns any parser error into a 400 "Cannot parse request body" raised
    from it; ``_http_error`` below answers this one 422 with its message.
    """

    def parse_body(self, request):
        data = json.loads(request.body)
        # ninja also parses each part of a multipart body through a bare
        # HttpRequest with no method; those parts are single values.
        if request.method and not isinstance(data, dict):
            raise BodyNotAnObject(request.method)
        return data


def _body_not_an_object_message(method: str) -> str:
    if method == "PATCH":
        return _("The body must be a JSON object with the fields to change; a list, a "
                 "string, a number or null is not one.")
    return _("The body must be a JSON object with the fields this operation takes (see "
             "/api/docs); a list, a string, a number or null is not one.")


api = NinjaAPI(
    title="Sinergi API",
    version="1",
    description="Regions, agencies and (as they arrive) the registry, programs and "
    "commitments of a regional government, within the caller's scope.",
    auth=[TokenAuth(), SessionAuth()],
    parser=ObjectBodyParser(),
    urls_namespace="api",
    docs_url="/docs",
    openapi_url="/openapi.json",
)


def error_response(request, status: int, detail: str, errors: list[dict] | None = None):
    return api.create_response(request, {"detail": detail, "errors": errors or []}, status=status)


@api.exception_handler(SinergiError)
def _sinergi_error(request, exc: SinergiError):
    status = 403 if isinstance(exc, AccessDenied) else 400
    errors = [{"field": exc.field, "message": exc.message}] if exc.field else []
    return error_response(request, status, exc.message, errors)


@api.exception_handler(RequestTooHeavy)
def _too_heavy(request, exc: RequestTooHeavy):
    return error_response(request, 503, exc.message)


@api.exception_handler(OperationalError)
def _database_error(request, exc: OperationalError):
    if not timelimit.is_timeout(exc):
        raise exc
    return error_response(request, 503, timelimit.too_heavy_for(exc).message)


@api.exception_handler(ValidationError)
def _validation_error(request, exc: ValidationError):
    errors = []
    for err in exc.errors:
        loc = [str(part) for part in err.get("loc", ())]
        # loc is (source, [schema name], field...): report the field path.
        field = ".".join(loc[2:] if len(loc) > 2 and loc[0] == "body" else loc[1:]) or None
        errors.append({"field": field, "message": err.get("msg", "")})
    return error_response(
        request, 422, _("Some values are not valid; see errors for each field."), errors
    )


@api.exception_handler(AuthenticationError)
def _auth_error(request, exc):
    return error_response(
        request, 401, _("Sign in, or send an API token as 'Authorization: Bearer <token>'.")
    )


@api.exception_handler(NotInScope)
def _not_in_scope(request, exc: NotInScope):
    return error_response(request, 404, exc.message or _("Not found, or not in your scope."))


@api.exception_handler(Http404)
def _not_found(request, exc):
    message = str(exc) if exc.args else _("Not found, or not in your scope.")
    return error_response(request, 404, message)


@api.exception_handler(PermissionDenied)
def _forbidden(request, exc):
    return error_response(request, 403, str(exc) or _("Your role does not allow this."))


@api.exception_handler(HttpError)
def _http_error(request, exc: HttpError):
    if isinstance(exc.__cause__, BodyNotAnObject):
        message = _body_not_an_object_message(str(exc.__cause__))
        return error_response(request, 422, message)
    return error_response(request, exc.status_code, str(exc))


api.add_router("/v1/regions", "sinergi.regions.api.router")
api.add_router("/v1/agencies", "sinergi.agencies.api.router")
api.add_router("/v1/tokens", "sinergi.accounts.api.router")
api.add_router("/v1", "sinergi.registry.api.router")
api.add_router("/v1/imports", "sinergi.imports.api.router")
api.add_router("/v1/meetings", "sinergi.meetings.api.meetings_router")
api.add_router("/v1/commitments", "sinergi.meetings.api.commitments_router")
api.add_router("/v1/programs", "sinergi.programs.api.programs_router")
api.add_router("/v1/groups", "sinergi.groups.api.router")
api.add_router("/v1/enrollments", "sinergi.programs.api.enrollments_router")
api.add_router("/v1/convergence", "sinergi.convergence.api.router")
api.add_router("/v1/indicators", "sinergi.indicators.api.router")
api.add_router("/v1/monitoring", "sinergi.monitoring.api.router")
