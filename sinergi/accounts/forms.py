"""Sign-in and password forms that say "locked, wait" instead of "wrong password"."""

from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm, PasswordChangeForm
from django.core.exceptions import ValidationError

from sinergi.core.errors import SinergiError

from . import services
from .throttle import LOCKED_ATTR, client_ip, locked_message


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


class ThrottledPasswordChangeForm(PasswordChangeForm):
    """Django's password change form; the current password is checked by
    ``services.user_password_check``, throttled like a sign-in."""

    def __init__(self, user, *args, request=None, **kwargs):
        super().__init__(user, *args, **kwargs)
        self.request = request

    def clean_old_password(self):
        password = self.cleaned_data["old_password"]
        try:
            services.user_password_check(user=self.user, password=password,
                                         ip=client_ip(self.request))
        except services.PasswordLocked as exc:
            if self.request is not None:
                setattr(self.request, LOCKED_ATTR, exc.wait)
            raise ValidationError(exc.message, code="locked") from None
        except SinergiError as exc:
            raise ValidationError(exc.message, code="password_incorrect") from None
        return password
