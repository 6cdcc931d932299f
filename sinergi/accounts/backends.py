from asgiref.sync import sync_to_async
from django.contrib.auth.backends import ModelBackend

from . import roles, services
from .throttle import LOCKED_ATTR, client_ip


class RoleBackend(ModelBackend):
    """Sign-in with throttling; administrators hold every model permission.

    Throttling lives here, not in a view, so that every way of signing in
    (the Sinergi page, Django admin's own login form, anything else calling
    ``authenticate``) counts failures and refuses a locked username or
    address, even with the right password.

    What an administrator sees in Django admin is still limited to their
    region subtree by each ModelAdmin's get_queryset (the access layer);
    the permissions only spare assigning Django permissions by hand.
    """

    def authenticate(self, request, username=None, password=None, **kwargs):
        if username is None:
            username = kwargs.get(self._username_field())
        if username is None or password is None:
            return None
        ip = client_ip(request)
        wait = services.login_locked_for(username=username, ip=ip)
        if wait:
            if request is not None:
                setattr(request, LOCKED_ATTR, wait)
            return None
        user = super().authenticate(request, username=username, password=password, **kwargs)
        if user is None:
            services.login_failure_record(username=username, ip=ip)
        else:
            services.login_failures_clear(username=username)
        return user

    async def aauthenticate(self, request, username=None, password=None, **kwargs):
        # ModelBackend's async path checks the password itself; route it
        # through the throttled one instead of leaving a door without it.
        return await sync_to_async(self.authenticate)(
            request, username=username, password=password, **kwargs
        )

    @staticmethod
    def _username_field() -> str:
        from django.contrib.auth import get_user_model

        return get_user_model().USERNAME_FIELD

    def _is_admin(self, user_obj) -> bool:
        return (
            user_obj.is_active
            and getattr(user_obj, "role", None) == roles.ADMINISTRATOR
            and user_obj.is_staff
        )

    def has_perm(self, user_obj, perm, obj=None):
        return self._is_admin(user_obj) or super().has_perm(user_obj, perm, obj)

    def has_module_perms(self, user_obj, app_label):
        return self._is_admin(user_obj) or super().has_module_perms(user_obj, app_label)
