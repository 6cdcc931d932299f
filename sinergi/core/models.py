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


class Job(models.Model):
    """One run of background work, of any kind (core/jobs.py runs them all).

    The domain row the job works on (an import, a brief, a coverage
    request) stays in its app and holds what the user sees (progress,
    report, file); this row holds only the running: who runs it, whether it
    still makes progress, whether someone asked to cancel it.
    """

    PENDING = "pending"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"
    STATUS_CHOICES = [
        (PENDING, _("waiting")),
        (RUNNING, _("running")),
        (DONE, _("done")),
        (FAILED, _("failed")),
        (CANCELLED, _("cancelled")),
    ]

    kind = models.CharField(_("kind"), max_length=40)
    # The id of the domain row (ImportJob, BriefJob, ...); null for kinds
    # that work off a queue of their own (coverage refresh requests).
    ref_id = models.BigIntegerField(null=True, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=STATUS_CHOICES,
                              default=PENDING)
    created_at = models.DateTimeField(auto_now_add=True)
    # Not started before this time: work that many changes ask for (a
    # coverage recomputation) waits a little, so one run serves them all.
    run_after = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # Last sign of progress: a progress report by the job, or its worker
    # seeing it use CPU or run a query. A job whose heartbeat stops is failed.
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    # "host:pid" of the process that runs it.
    worker = models.CharField(max_length=80, blank=True)
    cancel_requested = models.BooleanField(default=False)
    message = models.TextField(blank=True)
    # What a kind without a domain row of its own needs (an index definition).
    payload = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name = _("background job")
        verbose_name_plural = _("background jobs")
        indexes = [
            # The worker's claim and watch: pending oldest first, running.
            models.Index(fields=["status", "id"], name="job_status_id"),
            # A domain row's job (cancel from the import page).
            models.Index(fields=["kind", "ref_id"], name="job_kind_ref"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} #{self.ref_id or self.pk} ({self.status})"
