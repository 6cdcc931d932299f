"""Writes to accounts: users, API tokens, login throttling."""

import hashlib
import hmac
import secrets
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from sinergi.agencies.models import Agency
from sinergi.core.audit import audit_record, snapshot
from sinergi.core.errors import SinergiError
from sinergi.regions import codes
from sinergi.regions.models import Region

from . import roles
from .models import ApiToken, LoginFailure, User

_ROLES = {key for key, _label in roles.ROLE_CHOICES}


@transaction.atomic
def user_create(
    *,
    actor,
    username: str,
    password: str,
    role: str,
    region_code: str | None,
    agency_id: int | None = None,
    first_name: str = "",
    last_name: str = "",
    email: str = "",
    position: str = "",
    superuser: bool = False,
) -> User:
    """Create an account with its role and scope, checked before saving."""
    if role not in _ROLES:
        raise SinergiError(
            _("Unknown role '%(role)s'; use one of: %(roles)s.")
            % {"role": role, "roles": ", ".join(sorted(_ROLES))},
            field="role",
        )
    region = None
    if region_code:
        problem = codes.region_code_problem(region_code)
        if problem:
            raise SinergiError(problem, field="region")
        region = Region.objects.get(code=region_code)
    elif role != roles.ADMINISTRATOR:
        raise SinergiError(_("Every account except an administrator needs a region scope."),
                           field="region")
    if role == roles.VILLAGE_OPERATOR and region is not None and region.level != 4:
        raise SinergiError(_("A village operator is scoped to one desa/kelurahan."),
                           field="region")
    agency = None
    if agency_id is not None:
        agency = Agency.objects.filter(pk=agency_id).first()
        if agency is None:
            raise SinergiError(_("Agency %(id)s does not exist.") % {"id": agency_id},
                               field="agency")
    if role == roles.OFFICER and agency is None:
        raise SinergiError(_("An agency officer needs an agency."), field="agency")
    if User.objects.filter(username__iexact=username).exists():
        raise SinergiError(_("The username '%(u)s' is taken.") % {"u": username},
                           field="username")
    user = User(
        username=username,
        role=role,
        region=region,
        agency=agency,
        first_name=first_name,
        last_name=last_name,
        email=email,
        position=position,
        is_staff=role == roles.ADMINISTRATOR,
        is_superuser=superuser and role == roles.ADMINISTRATOR,
    )
    try:
        password_validation.validate_password(password, user)
    except ValidationError as exc:
        raise SinergiError(" ".join(exc.messages), field="password") from None
    user.set_password(password)
    try:
        with transaction.atomic():
            user.save()
    except IntegrityError as exc:
        raise SinergiError(_("The account could not be saved: %(e)s") % {"e": exc}) from None
    audit_record(actor=actor, action="user.create", obj=user, after=snapshot(user))
    return user


@transaction.atomic
def user_set_password(*, actor, user: User, password: str) -> None:
    """Set a new password (validated); the audit row records that, not the hash."""
    try:
        password_validation.validate_password(password, user)
    except ValidationError as exc:
        raise SinergiError(" ".join(exc.messages), field="password") from None
    user.set_password(password)
    user.save(update_fields=["password"])
    audit_record(actor=actor, action="user.set_password", obj=user)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@transaction.atomic
def api_token_create(*, actor, user: User, name: str) -> tuple[ApiToken, str]:
    """Make a token for ``user``; returns the row and the token, shown once."""
    name = " ".join((name or "").split())
    if not name:
        raise SinergiError(_("Give the token a name, e.g. the script that will use it."),
                           field="name")
    if len(name) > 80:
        raise SinergiError(_("At most %(n)d characters, please shorten it.") % {"n": 80},
                           field="name")
    prefix = secrets.token_hex(6)
    token = f"sng_{prefix}_{secrets.token_urlsafe(32)}"
    row = ApiToken.objects.create(user=user, name=name, prefix=prefix, digest=_digest(token))
    audit_record(actor=actor, action="api_token.create", obj=row,
                 after={"name": name, "prefix": prefix, "user": user.pk})
    return row, token


@transaction.atomic
def api_token_revoke(*, actor, token: ApiToken) -> ApiToken:
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        audit_record(actor=actor, action="api_token.revoke", obj=token,
                     after={"revoked_at": token.revoked_at.isoformat()})
    return token


def api_token_authenticate(raw: str) -> User | None:
    """The active user behind a bearer token, or None."""
    parts = (raw or "").split("_")
    if len(parts) < 3 or parts[0] != "sng":
        return None
    row = (
        ApiToken.objects.select_related("user")
        .filter(prefix=parts[1], revoked_at__isnull=True)
        .first()
    )
    if row is None or not hmac.compare_digest(row.digest, _digest(raw)):
        return None
    if not row.user.is_active:
        return None
    now = timezone.now()
    # Touch at most once a minute: a busy script should not write per call.
    if row.last_used_at is None or now - row.last_used_at > timedelta(minutes=1):
        ApiToken.objects.filter(pk=row.pk).update(last_used_at=now)
    return row.user


def login_locked_for(*, username: str, ip: str) -> int:
    """Seconds until sign-in may be tried again for this username/address; 0 if allowed."""
    window = timedelta(seconds=settings.LOGIN_FAILURE_WINDOW)
    since = timezone.now() - window
    limit = settings.LOGIN_FAILURE_LIMIT
    for field, value, factor in (("username", username.lower(), 1), ("ip", ip, 4)):
        if not value:
            continue
        recent = list(
            LoginFailure.objects.filter(**{field: value, "at__gte": since})
            .order_by("-at")
            .values_list("at", flat=True)[: limit * factor]
        )
        # An address gets more tries than one username: several people may
        # sign in from one village office behind the same address.
        if len(recent) >= limit * factor:
            oldest_counted = recent[-1]
            return max(1, int((oldest_counted + window - timezone.now()).total_seconds()))
    return 0


def login_failure_record(*, username: str, ip: str) -> None:
    LoginFailure.objects.create(username=username.lower()[:150], ip=ip[:45])
    # Keep the table small: forget failures older than the window.
    cutoff = timezone.now() - timedelta(seconds=settings.LOGIN_FAILURE_WINDOW)
    LoginFailure.objects.filter(at__lt=cutoff).delete()


def login_failures_clear(*, username: str) -> None:
    LoginFailure.objects.filter(username=username.lower()).delete()
