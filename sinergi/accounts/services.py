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

from sinergi.accounts import access
from sinergi.agencies.models import Agency
from sinergi.core.audit import audit_record, snapshot
from sinergi.core.errors import AccessDenied, NotInScope, SinergiError
from sinergi.regions import codes
from sinergi.regions.models import Region

from . import roles
from .models import ApiToken, LoginFailure, User
from .throttle import locked_message

_ROLES = {key for key, _label in roles.ROLE_CHOICES}
# Roles that work for an agency: an officer must have one, a coordinator may
# (the Bappeda or TKPK they sit in); for the others an agency means nothing.
_AGENCY_ROLES = {roles.OFFICER, roles.COORDINATOR}


def _clean_username(username: str) -> str:
    """The username as it will be stored, or a SinergiError saying what is allowed."""
    username = User.normalize_username((username or "").strip())
    if not username:
        raise SinergiError(_("Give a username, e.g. budi.santoso."), field="username")
    limit = User._meta.get_field("username").max_length
    if len(username) > limit:
        raise SinergiError(
            _("A username has at most %(n)d characters; choose a shorter one.") % {"n": limit},
            field="username",
        )
    try:
        User.username_validator(username)
    except ValidationError:
        raise SinergiError(
            _("The username '%(u)s' may contain only letters, digits and the characters "
              "@ . + - _ (no spaces); e.g. budi.santoso.") % {"u": username},
            field="username",
        ) from None
    return username


def _username_taken(username: str) -> bool:
    # Case-insensitive: "Budi" and "budi" would be two people to the eye.
    return User.objects.filter(username__iexact=username).exists()


def _check_role(role: str) -> None:
    if role not in _ROLES:
        raise SinergiError(
            _("Unknown role '%(role)s'; use one of: %(roles)s.")
            % {"role": role, "roles": ", ".join(sorted(_ROLES))},
            field="role",
        )


def _check_actor_scope(actor, region_code: str | None) -> None:
    """A user creating or moving an account must manage accounts and hold its scope.

    A code outside what the actor may see answers 404 like every other
    out-of-scope object; the check runs on the code alone, before the
    database is asked whether the region exists, so nothing leaks.
    """
    if actor is None:
        return
    access.check_capability(actor, "user.manage")
    root = access.scope_root(actor)
    if region_code is None:
        if root is not None:
            raise SinergiError(
                _("Only an administrator of the whole deployment may create an unscoped "
                  "account; give a region inside your scope %(root)s.") % {"root": root},
                field="region",
            )
        return
    if not access.in_scope(actor, region_code):
        if not access.code_visible(actor, region_code):
            raise NotInScope(_("Region %(code)s is not in your scope or does not exist.")
                          % {"code": region_code})
        raise AccessDenied(
            _("Region %(code)s is above your scope %(root)s; give a region inside it, or ask "
              "an administrator of %(code)s.") % {"code": region_code, "root": root}
        )


def user_check_role_scope(
    *, actor, role: str, region: Region | None, agency: Agency | None, superuser: bool = False
) -> None:
    """The rules an account's role, scope and agency must follow together.

    One definition for ``user_create`` (pages, CLI, demo) and for Django
    admin's user form, so an account cannot be made in one place that the
    other would refuse. Raises SinergiError naming the field to fix.
    """
    _check_role(role)
    _check_actor_scope(actor, region.code if region is not None else None)
    if region is None and role != roles.ADMINISTRATOR:
        raise SinergiError(
            _("Every account except an administrator needs a region scope; give a region "
              "code, e.g. 19.04."),
            field="region",
        )
    if role == roles.VILLAGE_OPERATOR and region is not None and region.level != 4:
        raise SinergiError(
            _("A village operator is scoped to one desa/kelurahan; give the village code, "
              "e.g. 19.04.01.2001."),
            field="region",
        )
    if agency is not None and role not in _AGENCY_ROLES:
        raise SinergiError(
            _("Only agency officers and coordinators belong to an agency; leave the agency "
              "out (no --agency) for this role."),
            field="agency",
        )
    if role == roles.OFFICER and agency is None:
        raise SinergiError(
            _("An agency officer needs an agency; pass the agency's id (on the command line "
              "--agency <id>; the agency list shows the ids)."),
            field="agency",
        )
    if agency is not None and region is not None and not codes.code_in_subtree(
        region.code, agency.region_id
    ):
        # An officer works for the government of their region or one above
        # it (a provincial OPD's officer posted in a kabupaten), never for
        # another kabupaten's.
        raise SinergiError(
            _("Agency %(agency)s belongs to the government of %(agency_region)s, which is not "
              "%(region)s or above it; choose an agency of %(region)s or of a government "
              "above it.")
            % {"agency": agency.short_name, "agency_region": agency.region_id,
               "region": region.code},
            field="agency",
        )
    if superuser and role != roles.ADMINISTRATOR:
        raise SinergiError(
            _("Only an administrator can be a superuser; use the role administrator, or "
              "leave out --superuser."),
            field="superuser",
        )


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
    """Create an account with its role and scope, checked before saving.

    ``actor`` None is the operator at the command line (or the demo); a
    user as actor needs the ``user.manage`` capability and may create
    accounts inside their own scope only.
    """
    username = _clean_username(username)
    _check_role(role)
    region = None
    if region_code:
        problem = codes.code_problem(region_code)
        if problem:
            raise SinergiError(problem, field="region")
        _check_actor_scope(actor, region_code)
        problem = codes.region_code_problem(region_code)
        if problem:
            raise SinergiError(problem, field="region")
        region = Region.objects.get(code=region_code)
    agency = None
    if agency_id is not None:
        agencies = Agency.objects.all() if actor is None else access.agencies_visible(actor)
        agency = agencies.filter(pk=agency_id).first()
        if agency is None:
            raise SinergiError(
                _("Agency %(id)s does not exist or is not in your scope; check the id in the "
                  "agency list.") % {"id": agency_id},
                field="agency",
            )
    user_check_role_scope(actor=actor, role=role, region=region, agency=agency,
                          superuser=superuser)
    if _username_taken(username):
        raise SinergiError(_("The username '%(u)s' is taken; choose another.") % {"u": username},
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
        is_superuser=superuser,
    )
    try:
        password_validation.validate_password(password, user)
    except ValidationError as exc:
        raise SinergiError(" ".join(exc.messages), field="password") from None
    user.set_password(password)
    try:
        with transaction.atomic():
            user.save()
    except IntegrityError:
        # Every rule above is checked first, so what is left is a race: the
        # same username created by someone else a moment ago.
        raise SinergiError(
            _("The account '%(u)s' could not be saved: the username was taken a moment ago "
              "or the account conflicts with one being created at the same time. Check the "
              "user list and try again with another username.") % {"u": username},
            field="username",
        ) from None
    audit_record(actor=actor, action="user.create", obj=user, after=snapshot(user))
    return user


@transaction.atomic
def user_set_password(*, actor, user: User, password: str,
                      action: str = "user.set_password") -> int:
    """Set a new password (validated); the audit row (``action``: the own
    form writes "user.change_password") records that, not the hash.

    The user's API tokens are revoked with it; returns how many were.
    """
    try:
        password_validation.validate_password(password, user)
    except ValidationError as exc:
        raise SinergiError(" ".join(exc.messages), field="password") from None
    user.set_password(password)
    user.save(update_fields=["password"])
    audit_record(actor=actor, action=action, obj=user)
    return user_password_changed(actor=actor, user=user)


@transaction.atomic
def user_password_changed(*, actor, user: User) -> int:
    """What follows any change of ``user``'s password (own form, Django
    admin's form, ``user_set_password``): every active API token of the user
    is revoked, each with an audit row. A token made under the old password
    would otherwise outlive it, and whoever learnt the old password (the
    reason to change it) would keep the API. Returns how many were revoked.
    """
    revoked = 0
    for token in ApiToken.objects.select_for_update().filter(user=user,
                                                             revoked_at__isnull=True):
        api_token_revoke(actor=actor, token=token, reason="password_change")
        revoked += 1
    return revoked


class PasswordLocked(SinergiError):
    """Too many wrong passwords for this username or address: wait ``wait`` seconds."""

    def __init__(self, message: str, *, wait: int):
        super().__init__(message, field="old_password")
        self.wait = wait


def user_password_check(*, user: User, password: str, ip: str) -> None:
    """Check the current password of a signed-in ``user`` (the password
    change form), throttled as a sign-in is: a wrong one counts as a failed
    sign-in of the username and the address, and while either is locked
    even the right one is refused (PasswordLocked). Otherwise a stolen
    session could guess the password on this form without limit.
    """
    username = user.get_username()
    wait = login_locked_for(username=username, ip=ip)
    if wait:
        raise PasswordLocked(locked_message(wait), wait=wait)
    if not user.check_password(password):
        login_failure_record(username=username, ip=ip)
        raise SinergiError(_("Your current password was entered wrongly; type it again."),
                           field="old_password")
    login_failures_clear(username=username)


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
def api_token_revoke(*, actor, token: ApiToken, reason: str = "") -> ApiToken:
    """Revoke ``token`` (once); ``reason`` goes into the audit row when the
    revocation follows from something else (a password change)."""
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        after = {"revoked_at": token.revoked_at.isoformat()}
        if reason:
            after["reason"] = reason
        audit_record(actor=actor, action="api_token.revoke", obj=token, after=after)
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
    # The role is read on every call: an account demoted to a role without
    # API tokens (a leader) loses the tokens it made before.
    if not access.user_can(row.user, "token.own"):
        return None
    now = timezone.now()
    # Touch at most once a minute: a busy script should not write per call.
    if row.last_used_at is None or now - row.last_used_at > timedelta(minutes=1):
        ApiToken.objects.filter(pk=row.pk).update(last_used_at=now)
    return row.user


def login_username_key(username: str) -> str:
    """The form a username is throttled under: "Leader ", "leader\t" and a
    full-width "ｌｅａｄｅｒ" all count against "leader"."""
    # Cut before normalising: NFKC of a huge string is slow, and no username
    # is longer than the column anyway.
    raw = (username or "").strip()[:200]
    return User.normalize_username(raw).strip().lower()[:150]


def login_locked_for(*, username: str, ip: str) -> int:
    """Seconds until sign-in may be tried again for this username/address; 0 if allowed."""
    window = timedelta(seconds=settings.LOGIN_FAILURE_WINDOW)
    since = timezone.now() - window
    limit = settings.LOGIN_FAILURE_LIMIT
    for field, value, factor in (("username", login_username_key(username), 1), ("ip", ip, 4)):
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
    LoginFailure.objects.create(username=login_username_key(username), ip=(ip or "")[:45])
    # Keep the table small: forget failures older than the window.
    cutoff = timezone.now() - timedelta(seconds=settings.LOGIN_FAILURE_WINDOW)
    LoginFailure.objects.filter(at__lt=cutoff).delete()


def login_failures_clear(*, username: str) -> None:
    LoginFailure.objects.filter(username=login_username_key(username)).delete()
