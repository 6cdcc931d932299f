"""Cross-cutting records: the audit log."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class AuditLog(models.Model):
    """One write made through a service: who, when, what, before and after.

    Written in the same transaction as the change it describes, so a change
    without its audit row (or the other way round) cannot exist.
    ``region_code`` is the region the object belongs to, so administrators
    see the log of their own subtree only.
    """

    at = models.DateTimeField(_("time"), auto_now_add=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("actor"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # Kept as text so the log still reads after the account is deleted;
    # "system" for commands run without a user.
    actor_label = models.CharField(_("actor name"), max_length=150)
    action = models.CharField(_("action"), max_length=60)
    object_type = models.CharField(_("object type"), max_length=60)
    object_id = models.CharField(_("object id"), max_length=64, blank=True)
    object_repr = models.CharField(_("object"), max_length=200, blank=True)
    region_code = models.CharField(_("region code"), max_length=13, blank=True, db_index=True)
    before = models.JSONField(_("before"), null=True, blank=True)
    after = models.JSONField(_("after"), null=True, blank=True)

    class Meta:
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit log")
        ordering = ["-id"]
        indexes = [
            # The audit page filters by object type (or action) newest first.
            models.Index(fields=["object_type", "-id"], name="audit_type_id"),
            models.Index(fields=["action", "-id"], name="audit_action_id"),
            # "What did this user do": filter by actor newest first.
            models.Index(fields=["actor", "-id"], name="audit_actor_id"),
            # History of one object.
            models.Index(fields=["object_type", "object_id"], name="audit_object"),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_label} {self.action} {self.object_repr}"
