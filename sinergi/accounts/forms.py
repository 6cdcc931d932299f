"""Sign-in forms that say "locked, wait" instead of "wrong password"."""

from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError

from .throttle import LOCKED_ATTR, locked_message


class ThrottledLoginMixin:
    """The backend refused because of throttling: tell the person so."""

    def get_invalid_login_error(self):
        wait = getattr(self.request, LOCKED_ATTR, 0)
        if wait:
            return ValidationError(locked_message(wait), code="locked")
        return super().get_invalid_login_error()


class ThrottledAuthenticationForm(ThrottledLoginMixin, AuthenticationForm):
    pass


class ThrottledAdminAuthenticationForm(ThrottledLoginMixin, AdminAuthenticationForm):
    pass
