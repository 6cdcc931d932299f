"""Import jobs: an uploaded file, its progress, its row issues, its review.

The job row is the truth about an import: a worker claims it with a
compare-and-swap UPDATE, moves it through its phases, and ends it done,
needing review, or failed. Every row issue points at the file's own row
number and column so the operator can fix the file.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

PENDING = "pending"
RUNNING = "running"
REVIEW = "review"
DONE = "done"
FAILED = "failed"
CANCELLED = "cancelled"
STATUS_CHOICES = [
    (PENDING, _("waiting")),
    (RUNNING, _("running")),
    (REVIEW, _("waiting for review")),
    (DONE, _("done")),
    (FAILED, _("failed")),
    (CANCELLED, _("cancelled")),
]

FORMAT_CHOICES = [
    ("auto", _("detect from the headers")),
    ("sinergi", _("Sinergi template")),
    ("opensid", _("OpenSID penduduk workbook")),
    ("bnba", _("DTSEN / SIKS-NG by-name-by-address list")),
]

ON_ERROR_CHOICES = [
    ("skip", _("skip rows with errors, import the rest")),
    ("block", _("import nothing if any row has an error")),
]


class ImportJob(models.Model):
    """One file imported into the registry, from the web, the API or the CLI."""

    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    # The subtree the job may touch: the importer's scope, or the village
    # chosen for an OpenSID file (which carries no region code).
    region_code = models.CharField(_("region"), max_length=13)
    village_code = models.CharField(_("village for rows without a code"), max_length=13,
                                    blank=True)
    file_path = models.CharField(max_length=300)
    file_name = models.CharField(_("file"), max_length=200)
    file_format = models.CharField(_("format"), max_length=10, choices=FORMAT_CHOICES,
                                   default="auto")
    on_error = models.CharField(_("rows with errors"), max_length=5, choices=ON_ERROR_CHOICES,
                                default="skip")
    # A complete list of its region: persons of the region absent from the
    # file are proposed as gone (verivali round).
    complete_list = models.BooleanField(_("complete list of the region"), default=False)
    status = models.CharField(_("status"), max_length=10, choices=STATUS_CHOICES,
                              default=PENDING)
    phase = models.CharField(_("phase"), max_length=60, blank=True)
    progress = models.PositiveSmallIntegerField(_("progress (%)"), default=0)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    worker = models.CharField(max_length=60, blank=True)
    rows_total = models.PositiveIntegerField(default=0)
    rows_accepted = models.PositiveIntegerField(default=0)
    rows_rejected = models.PositiveIntegerField(default=0)
    rows_warned = models.PositiveIntegerField(default=0)
    persons_added = models.PositiveIntegerField(default=0)
    persons_updated = models.PositiveIntegerField(default=0)
    households_added = models.PositiveIntegerField(default=0)
    changes_proposed = models.PositiveIntegerField(default=0)
    unknown_columns = models.JSONField(default=list, blank=True)
    detected_format = models.CharField(max_length=10, blank=True)
    message = models.TextField(_("message"), blank=True)

    class Meta:
        verbose_name = _("import job")
        verbose_name_plural = _("import jobs")
        indexes = [
            # The worker's claim: oldest pending first.
            models.Index(fields=["status", "id"], name="importjob_status_id"),
            # "My imports" and the scope's imports, newest first.
            models.Index(fields=["region_code", "-id"], name="importjob_region_id"),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.file_name}"

    @property
    def audit_region_code(self) -> str:
        return self.region_code

    @property
    def is_finished(self) -> bool:
        return self.status in {DONE, FAILED, CANCELLED}


class ImportIssue(models.Model):
    """A problem with one cell or row of an imported file."""

    job = models.ForeignKey(ImportJob, on_delete=models.CASCADE, related_name="issues")
    line = models.PositiveIntegerField(_("row"))
    column = models.CharField(_("column"), max_length=100, blank=True)
    value = models.CharField(_("value"), max_length=200, blank=True)
    code = models.CharField(max_length=40)
    severity = models.CharField(max_length=7)
    message = models.TextField(_("message"))

    class Meta:
        indexes = [models.Index(fields=["job", "line"], name="importissue_job_line")]

    def __str__(self) -> str:
        return f"{self.job_id}:{self.line} {self.code}"


class ProposedChange(models.Model):
    """A change a verivali round proposes to an existing person, for review.

    kind: ``update`` (fields differ: ``changes`` maps field to [old, new]),
    ``move`` (the person is listed in another family), ``absent`` (a
    complete list of the region no longer lists the person).
    """

    job = models.ForeignKey(ImportJob, on_delete=models.CASCADE, related_name="changes")
    person = models.ForeignKey("registry.Person", on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=8)
    line = models.PositiveIntegerField(null=True, blank=True)
    changes = models.JSONField(default=dict)
    new_kk_number = models.CharField(max_length=16, blank=True)
    decision = models.CharField(max_length=8, blank=True)  # "", "apply", "reject"

    class Meta:
        indexes = [models.Index(fields=["job", "kind", "id"], name="change_job_kind")]

    def __str__(self) -> str:
        return f"{self.job_id} {self.kind} {self.person_id}"
