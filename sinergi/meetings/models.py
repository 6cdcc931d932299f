"""Coordination meetings (rakor), their agenda, attendance and issues, and the
joint commitments they produce with progress tracked to completion."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

KIND_CHOICES = [
    ("rakor", _("Coordination meeting (rakor)")),
    ("rakor_teknis", _("Technical coordination meeting (rakor teknis)")),
    ("sinergitas", _("Synergy visit (sinergitas)")),
    ("tkpk", _("Poverty reduction meeting (TKPK)")),
    ("other", _("Other")),
]

ISSUE_CATEGORY_CHOICES = [
    ("violence", _("Violence against women and children")),
    ("poverty", _("Poverty")),
    ("stunting", _("Stunting and nutrition")),
    ("data", _("Data and registration")),
    ("infrastructure", _("Infrastructure and access")),
    ("economy", _("Economy and market access")),
    ("other", _("Other")),
]

# Commitment status. Stored facts (cancelled, done, due date, values) decide
# it through status.derive(); it is never typed in.
NOT_STARTED = "not_started"
IN_PROGRESS = "in_progress"
LATE = "late"
DONE = "done"
CANCELLED = "cancelled"
STATUS_CHOICES = [
    (NOT_STARTED, _("not started")),
    (IN_PROGRESS, _("in progress")),
    (LATE, _("late")),
    (DONE, _("done")),
    (CANCELLED, _("cancelled")),
]
# The order commitments are listed in (board, brief, home page): what is owed first.
STATUS_ORDER = [LATE, IN_PROGRESS, NOT_STARTED, DONE, CANCELLED]

MANUAL = "manual"

# Kinds of progress update: a value or narrative, or a change of state.
PROGRESS, MARK_DONE, MARK_CANCELLED, REOPEN = "progress", "done", "cancelled", "reopened"
UPDATE_KIND_CHOICES = [
    (PROGRESS, _("progress")),
    (MARK_DONE, _("marked done")),
    (MARK_CANCELLED, _("cancelled")),
    (REOPEN, _("reopened")),
]


class Meeting(models.Model):
    """One rakor. ``region`` is the government that holds it (its level and
    who sees it: the region's subtree and the regions above)."""

    kind = models.CharField(_("kind"), max_length=20, choices=KIND_CHOICES)
    title = models.CharField(_("title"), max_length=200)
    theme = models.CharField(_("theme"), max_length=300, blank=True)
    starts_on = models.DateField(_("date"))
    ends_on = models.DateField(_("until"), null=True, blank=True)
    place = models.CharField(_("place"), max_length=200, blank=True)
    region = models.ForeignKey("regions.Region", verbose_name=_("region"),
                               on_delete=models.PROTECT, related_name="+")
    host_agency = models.ForeignKey("agencies.Agency", verbose_name=_("host agency"), null=True,
                                    blank=True, on_delete=models.PROTECT, related_name="+")
    chair = models.CharField(_("chair"), max_length=200, blank=True)
    minutes = models.TextField(_("minutes"), blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("meeting")
        verbose_name_plural = _("meetings")
        ordering = ["-starts_on", "-id"]
        indexes = [models.Index(fields=["region", "starts_on"], name="meeting_region_date"),
                   models.Index(fields=["starts_on"], name="meeting_date")]
        constraints = [models.CheckConstraint(
            condition=Q(ends_on__isnull=True) | Q(ends_on__gte=models.F("starts_on")),
            name="meeting_ends_after_start")]

    def __str__(self) -> str:
        return f"{self.title} ({self.starts_on:%Y-%m-%d})"

    @property
    def audit_region_code(self) -> str:
        return self.region_id


class Desk(models.Model):
    """A thematic desk of a rakor teknis, grouping agenda items."""

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="desks")
    name = models.CharField(_("desk"), max_length=120)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]
        constraints = [models.UniqueConstraint(fields=["meeting", "name"],
                                               name="desk_unique_name")]

    def __str__(self) -> str:
        return self.name


class AgendaItem(models.Model):
    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="agenda")
    desk = models.ForeignKey(Desk, null=True, blank=True, on_delete=models.SET_NULL,
                             related_name="items")
    title = models.CharField(_("topic"), max_length=300)
    description = models.TextField(_("description"), blank=True)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.title


class Participant(models.Model):
    """An invited or attending agency or region, with its representative."""

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="participants")
    agency = models.ForeignKey("agencies.Agency", null=True, blank=True,
                               on_delete=models.PROTECT, related_name="+")
    region = models.ForeignKey("regions.Region", null=True, blank=True,
                               on_delete=models.PROTECT, related_name="+")
    name = models.CharField(_("representative"), max_length=120, blank=True)
    position = models.CharField(_("position"), max_length=120, blank=True)
    invited = models.BooleanField(_("invited"), default=True)
    attended = models.BooleanField(_("attended"), default=False)

    class Meta:
        ordering = ["id"]
        constraints = [models.CheckConstraint(
            condition=Q(agency__isnull=False) | Q(region__isnull=False) | ~Q(name=""),
            name="participant_names_someone")]

    def __str__(self) -> str:
        who = self.agency.short_name if self.agency_id else (
            self.region.name if self.region_id else "")
        return " · ".join(p for p in (who, self.name) if p)


class MeetingIssue(models.Model):
    """An issue raised by participants (e.g. violence cases in a district)."""

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="issues")
    category = models.CharField(_("category"), max_length=20, choices=ISSUE_CATEGORY_CHOICES)
    region = models.ForeignKey("regions.Region", verbose_name=_("region"), null=True,
                               blank=True, on_delete=models.PROTECT, related_name="+")
    description = models.TextField(_("description"))
    raised_by = models.CharField(_("raised by"), max_length=120, blank=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.description[:80]


class Attachment(models.Model):
    """A file of the minutes (scan, presentation, attendance list)."""

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="attachments")
    title = models.CharField(_("title"), max_length=200)
    file = models.FileField(upload_to="meetings/%Y/%m/", max_length=300)
    size = models.PositiveIntegerField(default=0)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                    on_delete=models.SET_NULL, related_name="+")
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.title


class Commitment(models.Model):
    """A joint commitment (komitmen bersama) of a meeting.

    Its measure is ``baseline`` → ``target`` in ``unit``. Progress comes from
    manual updates (``source`` = "manual", the latest value in ``value``) or
    from a live count of the data (``source`` names a counter in sources.py,
    ``source_param`` its argument), counted in ``region``'s subtree.
    """

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="commitments")
    agenda_item = models.ForeignKey(AgendaItem, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="commitments", verbose_name=_("agenda item"))
    number = models.PositiveSmallIntegerField(_("number"))
    text = models.TextField(_("commitment"))
    owner_agency = models.ForeignKey("agencies.Agency", verbose_name=_("owner agency"),
                                     on_delete=models.PROTECT, related_name="commitments")
    supporting_agencies = models.ManyToManyField(
        "agencies.Agency", verbose_name=_("supporting agencies"), blank=True,
        related_name="supported_commitments")
    region = models.ForeignKey("regions.Region", verbose_name=_("region"),
                               on_delete=models.PROTECT, related_name="+")
    due_date = models.DateField(_("due date"), null=True, blank=True)
    unit = models.CharField(_("unit"), max_length=60, blank=True)
    baseline = models.DecimalField(_("baseline"), max_digits=14, decimal_places=2, null=True,
                                   blank=True)
    target = models.DecimalField(_("target"), max_digits=14, decimal_places=2, null=True,
                                 blank=True)
    source = models.CharField(_("progress source"), max_length=40, default=MANUAL)
    source_param = models.CharField(_("source parameter"), max_length=60, blank=True)
    # Manual progress: the latest reported value and when; any update at all.
    value = models.DecimalField(_("reported value"), max_digits=14, decimal_places=2,
                                null=True, blank=True)
    value_date = models.DateField(null=True, blank=True)
    last_update_on = models.DateField(null=True, blank=True)
    done_on = models.DateField(_("done on"), null=True, blank=True)
    cancelled_on = models.DateField(_("cancelled on"), null=True, blank=True)
    cancel_reason = models.CharField(_("reason"), max_length=300, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("commitment")
        verbose_name_plural = _("commitments")
        ordering = ["meeting_id", "number"]
        indexes = [
            models.Index(fields=["owner_agency", "due_date"], name="commitment_owner_due"),
            models.Index(fields=["region", "due_date"], name="commitment_region_due"),
            models.Index(fields=["due_date"], name="commitment_due"),
        ]
        constraints = [models.UniqueConstraint(fields=["meeting", "number"],
                                               name="commitment_unique_number")]

    def __str__(self) -> str:
        return f"{self.number}. {self.text[:80]}"

    @property
    def audit_region_code(self) -> str:
        return self.region_id

    @property
    def is_data_bound(self) -> bool:
        return self.source != MANUAL


class ProgressUpdate(models.Model):
    """One report on a commitment; the history is all of them, in order."""

    commitment = models.ForeignKey(Commitment, on_delete=models.CASCADE, related_name="updates")
    kind = models.CharField(_("kind"), max_length=10, choices=UPDATE_KIND_CHOICES,
                            default=PROGRESS)
    date = models.DateField(_("date"))
    value = models.DecimalField(_("value"), max_digits=14, decimal_places=2, null=True,
                                blank=True)
    narrative = models.TextField(_("narrative"), blank=True)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                               on_delete=models.SET_NULL, related_name="+")
    author_label = models.CharField(max_length=150, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["date", "id"]
        indexes = [models.Index(fields=["commitment", "date"], name="progress_commitment_date")]

    def __str__(self) -> str:
        return f"{self.date}: {self.get_kind_display()}"


class Evidence(models.Model):
    """A file attached to a progress update (photo, letter, report)."""

    update = models.ForeignKey(ProgressUpdate, on_delete=models.CASCADE,
                               related_name="evidence")
    name = models.CharField(max_length=200)
    file = models.FileField(upload_to="evidence/%Y/%m/", max_length=300)
    size = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return self.name


BRIEF_PENDING, BRIEF_RUNNING, BRIEF_DONE, BRIEF_FAILED = "pending", "running", "done", "failed"
BRIEF_STATUS_CHOICES = [
    (BRIEF_PENDING, _("waiting")),
    (BRIEF_RUNNING, _("running")),
    (BRIEF_DONE, _("done")),
    (BRIEF_FAILED, _("failed")),
]


class BriefJob(models.Model):
    """A rakor brief PDF being made in the background, for a meeting or a region."""

    meeting = models.ForeignKey(Meeting, null=True, blank=True, on_delete=models.CASCADE,
                                related_name="+")
    region = models.ForeignKey("regions.Region", null=True, blank=True,
                               on_delete=models.PROTECT, related_name="+")
    status = models.CharField(max_length=10, choices=BRIEF_STATUS_CHOICES,
                              default=BRIEF_PENDING)
    language = models.CharField(max_length=10, default="id")
    file = models.FileField(upload_to="briefs/%Y/%m/", max_length=300, blank=True)
    message = models.TextField(blank=True)
    worker = models.CharField(max_length=80, blank=True)
    # The scope (region root code) of the user who asked for it; blank is
    # unscoped. The PDF holds what that scope sees, so only users of the same
    # scope may see the job and download it.
    scope_root = models.CharField(max_length=13, blank=True, default="")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["status", "id"], name="brief_status")]
        constraints = [models.CheckConstraint(
            condition=Q(meeting__isnull=False) | Q(region__isnull=False),
            name="brief_meeting_or_region")]

    def __str__(self) -> str:
        return f"brief {self.pk}"

    @property
    def audit_region_code(self) -> str:
        return self.meeting.region_id if self.meeting_id else self.region_id
