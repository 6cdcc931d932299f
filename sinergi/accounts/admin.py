"""Django admin for accounts, scoped like every other way in.

A scoped administrator (one with a region) manages the accounts of their
subtree and nothing more: regions and agencies offered are those of the
scope, the privilege fields (superuser, staff, groups, permissions) are
read-only, accounts of superusers cannot be changed, and every save runs
the same role/scope rules as ``services.user_create``. Only an unscoped
administrator (no region: the whole deployment) may grant privileges or
make an account unscoped.
"""

from django.contrib import admin, messages
from django.contrib.auth.admin import GroupAdmin as BaseGroupAdmin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.models import Group
from django.db import transaction
from django.utils.translation import gettext_lazy, ngettext

from sinergi.accounts import access
from sinergi.core.admin_audit import AuditedAdminMixin
from sinergi.core.audit import audit_record, snapshot
from sinergi.core.errors import SinergiError
from sinergi.regions import codes
from sinergi.regions.models import Region

from . import roles, services
from .forms import ThrottledAdminAuthenticationForm
from .models import ApiToken, User

# Django admin's own sign-in form goes through the throttled backend like
# /accounts/login/; this form only says "locked, wait" instead of "wrong".
admin.site.login_form = ThrottledAdminAuthenticationForm

# Fields that grant power beyond a region: only an unscoped administrator
# may change them.
PRIVILEGED_FIELDS = ("is_superuser", "is_staff", "groups", "user_permissions")


def is_unscoped(request) -> bool:
    """An administrator of the whole deployment (the admin's login page asks too)."""
    user = request.user
    return user.is_authenticated and access.scope_root(user) is None


class ScopedUserFormMixin:
    """Runs the account rules of services.user_check_role_scope on the form."""

    actor = None  # set per request by UserAdmin.get_form

    def _value(self, name):
        if name in self.fields:
            return self.cleaned_data.get(name)
        return getattr(self.instance, name)

    def clean(self):
        cleaned = super().clean()
        if any(name in self.errors for name in ("role", "region", "agency")):
            return cleaned
        region = self._value("region")
        if region is not None and region.pk != self.instance.region_id:
            # A new scope must be a current region (not one retired by a
            # later edition), as for user_create.
            problem = codes.region_code_problem(region.code)
            if problem:
                self.add_error("region", problem)
                return cleaned
        try:
            services.user_check_role_scope(
                actor=self.actor,
                role=self._value("role"),
                region=region,
                agency=self._value("agency"),
                superuser=bool(self._value("is_superuser")),
            )
        except SinergiError as exc:
            field = {"superuser": "is_superuser"}.get(exc.field, exc.field)
            self.add_error(field if field in self.fields else None, exc.message)
        return cleaned


@admin.register(User)
class UserAdmin(AuditedAdminMixin, BaseUserAdmin):
    list_display = ["username", "first_name", "last_name", "role", "region", "agency",
                    "is_active"]
    list_filter = ["role", "is_active"]
    # Autocomplete, not raw ids: the choices (and what the form accepts) are
    # limited to the administrator's scope below.
    autocomplete_fields = ["region", "agency"]
    fieldsets = (
        *BaseUserAdmin.fieldsets,
        (gettext_lazy("Sinergi scope"), {"fields": ("role", "region", "agency", "position")}),
    )
    add_fieldsets = (
        *BaseUserAdmin.add_fieldsets,
        (gettext_lazy("Sinergi scope"), {"fields": ("role", "region", "agency", "position")}),
    )
    audit_m2m_fields = ("groups", "user_permissions")

    def get_queryset(self, request):
        return super().get_queryset(request).filter(access.scope_q(request.user, "region__code"))

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if not is_unscoped(request):
            fields += [f for f in PRIVILEGED_FIELDS if f not in fields]
        return fields

    def has_change_permission(self, request, obj=None):
        # A superuser's account (password included) is not a scoped
        # administrator's to change: taking it over would leave the scope.
        if obj is not None and obj.is_superuser and not is_unscoped(request):
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        if obj is not None and obj.is_superuser and not is_unscoped(request):
            return False
        return super().has_delete_permission(request, obj)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "region":
            kwargs["queryset"] = Region.objects.filter(access.scope_q(request.user, "code"))
            # Empty means the whole deployment: not a scoped administrator's to give.
            kwargs["required"] = not is_unscoped(request)
        elif db_field.name == "agency":
            kwargs["queryset"] = access.agencies_visible(request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        return type(form.__name__, (ScopedUserFormMixin, form), {"actor": request.user})

    def save_model(self, request, obj, form, change):
        # As in user_create: Django admin is for administrators. Only an
        # unscoped administrator sets is_staff by hand on an existing account.
        if not change or not is_unscoped(request):
            obj.is_staff = obj.role == roles.ADMINISTRATOR
        super().save_model(request, obj, form, change)

    def delete_model(self, request, obj):
        with transaction.atomic():
            # The account's API tokens go with it (on_delete CASCADE): record them.
            token_admin = self.admin_site._registry[ApiToken]
            for token in obj.api_tokens.all():
                audit_record(actor=request.user, action=token_admin._action(token, "delete"),
                             obj=token, region_code=obj.region_id or "",
                             before=snapshot(token))
            super().delete_model(request, obj)

    def user_change_password(self, request, id, form_url=""):
        # The password form saves on its own path (not save_model); run it in
        # one transaction with its audit row, written from log_change below.
        with transaction.atomic():
            request._sinergi_password_view = True
            return super().user_change_password(request, id, form_url)

    def log_change(self, request, obj, message):
        if getattr(request, "_sinergi_password_view", False):
            audit_record(actor=request.user, action="user.set_password.admin", obj=obj,
                         after={"usable_password": obj.has_usable_password()})
            revoked = services.user_password_changed(actor=request.user, user=obj)
            if revoked:
                self.message_user(request, ngettext(
                    "%(n)d API token of this account was revoked with the old password.",
                    "%(n)d API tokens of this account were revoked with the old password.",
                    revoked) % {"n": revoked}, messages.WARNING)
        return super().log_change(request, obj, message)


@admin.register(ApiToken)
class ApiTokenAdmin(AuditedAdminMixin, admin.ModelAdmin):
    """Read-only; the one change is to revoke, through the audited service.

    Deleting stays possible (an account's tokens go when the account is
    deleted) and is audited with what the token was.
    """

    audit_name = "api_token"

    list_display = ["name", "user", "prefix", "created_at", "last_used_at", "revoked_at"]
    readonly_fields = ["user", "name", "prefix", "created_at", "last_used_at", "revoked_at"]
    exclude = ["digest"]
    actions = ["revoke"]

    def get_queryset(self, request):
        return super().get_queryset(request).filter(
            access.scope_q(request.user, "user__region__code")
        )

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_revoke_permission(self, request):
        return self.has_view_permission(request)

    @admin.action(description=gettext_lazy("Revoke the selected tokens"),
                  permissions=["revoke"])
    def revoke(self, request, queryset):
        revoked = 0
        for token in queryset.select_related("user").filter(revoked_at__isnull=True):
            services.api_token_revoke(actor=request.user, token=token)
            revoked += 1
        self.message_user(
            request,
            ngettext("%(n)d token was revoked.", "%(n)d tokens were revoked.", revoked)
            % {"n": revoked},
            messages.SUCCESS,
        )


admin.site.unregister(Group)


@admin.register(Group)
class GroupAdmin(AuditedAdminMixin, BaseGroupAdmin):
    """Groups grant Django permissions across the deployment: unscoped administrators only."""

    audit_m2m_fields = ("permissions",)

    def has_module_permission(self, request):
        return is_unscoped(request) and super().has_module_permission(request)

    def has_view_permission(self, request, obj=None):
        return is_unscoped(request) and super().has_view_permission(request, obj)

    def has_add_permission(self, request):
        return is_unscoped(request) and super().has_add_permission(request)

    def has_change_permission(self, request, obj=None):
        return is_unscoped(request) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return is_unscoped(request) and super().has_delete_permission(request, obj)

