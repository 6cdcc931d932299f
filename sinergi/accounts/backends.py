from django.contrib.auth.backends import ModelBackend

from . import roles


class RoleBackend(ModelBackend):
    """Administrators hold every model permission, within their scope.

    What an administrator sees in Django admin is still limited to their
    region subtree by each ModelAdmin's get_queryset (the access layer);
    this only spares assigning Django permissions by hand.
    """

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
