"""Accounts: users with a role and a scope, API tokens, login failures."""

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _

from . import roles


class User(AbstractUser):
    """A person who signs in, scoped to a region subtree (and an agency).

    ``region`` is the root of what the user sees: a province, a kabupaten,
    a kecamatan or one village. Only an administrator may have no region,
    which means the whole deployment. An agency officer works for one
    ``agency``; the database holds both rules as check constraints.
    """

    AUDIT_EXCLUDE = ("password",)

    role = models.CharField(_("role"), max_length=20, choices=roles.ROLE_CHOICES)
    region = models.ForeignKey(
        "regions.Region",
        verbose_name=_("region scope"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    agency = models.ForeignKey(
        "agencies.Agency",
        verbose_name=_("agency"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="users",
    )
    position = models.CharField(_("position"), max_length=120, blank=True)

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(role=roles.ADMINISTRATOR) | models.Q(region__isnull=False),
                name="user_scoped_unless_admin",
            ),
            models.CheckConstraint(
                condition=~models.Q(role=roles.OFFICER) | models.Q(agency__isnull=False),
                name="user_officer_has_agency",
            ),
        ]

    @property
    def audit_region_code(self) -> str:
        return self.region_id or ""


class ApiToken(models.Model):
    """A bearer token for the API. Only a SHA-256 digest is stored.

    The token is shown once when created: ``sng_<prefix>_<secret>``. The
    prefix finds the row; the digest of the whole token is compared in
    constant time.
    """

    user = models.ForeignKey(
        User, verbose_name=_("user"), on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(_("name"), max_length=80)
    prefix = models.CharField(_("prefix"), max_length=12, unique=True)
    digest = models.CharField(_("digest"), max_length=64)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)

    AUDIT_EXCLUDE = ("digest",)

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} (sng_{self.prefix}_…)"

    @property
    def audit_region_code(self) -> str:
        return self.user.region_id or ""

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class LoginFailure(models.Model):
    """A failed sign-in, kept for the throttling window."""

    username = models.CharField(max_length=150)
    ip = models.CharField(max_length=45, blank=True)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [
            # Throttle check: failures for a username / an address since t.
            models.Index(fields=["username", "at"], name="loginfail_user_at"),
            models.Index(fields=["ip", "at"], name="loginfail_ip_at"),
        ]

    def __str__(self) -> str:
        return f"{self.username} {self.ip} {self.at:%Y-%m-%d %H:%M}"
