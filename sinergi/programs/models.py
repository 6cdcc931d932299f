"""Programs of the agencies, their targets per region and year, and who is
enrolled (a person, a family or a group) with the enrollment's lifecycle."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

PERSON, HOUSEHOLD, GROUP = "person", "household", "group"
UNIT_CHOICES = [(PERSON, _("person")), (HOUSEHOLD, _("family")), (GROUP, _("group"))]

BENEFIT_CHOICES = [
    ("cash", _("cash")),
    ("in_kind", _("in kind")),
    ("training", _("training")),
    ("credit", _("credit")),
    ("mentoring", _("mentoring")),
]

TAG_CHOICES = [
    ("poverty", _("poverty")),
    ("pug", _("gender mainstreaming (PUG)")),
    ("kla_1", _("KLA cluster 1: civil rights and freedoms")),
    ("kla_2", _("KLA cluster 2: family environment and alternative care")),
    ("kla_3", _("KLA cluster 3: basic health and welfare")),
    ("kla_4", _("KLA cluster 4: education, leisure and culture")),
    ("kla_5", _("KLA cluster 5: special protection")),
    ("bangga_kencana", _("Bangga Kencana (family planning)")),
    ("economy", _("family economy")),
    ("village", _("village development")),
]

# Enrollment lifecycle: usulan -> terverifikasi -> aktif -> selesai / lulus,
# or ditolak / keluar with a reason.
PROPOSED, VERIFIED, ACTIVE = "proposed", "verified", "active"
COMPLETED, GRADUATED, REJECTED, EXITED = "completed", "graduated", "rejected", "exited"
STATUS_CHOICES = [
    (PROPOSED, _("proposed (usulan)")),
    (VERIFIED, _("verified (terverifikasi)")),
    (ACTIVE, _("active (aktif)")),
    (COMPLETED, _("completed (selesai)")),
    (GRADUATED, _("graduated (lulus)")),
    (REJECTED, _("rejected (ditolak)")),
    (EXITED, _("exited (keluar)")),
]
# Statuses that count as "served" in convergence: the benefit reached them.
SERVED = (ACTIVE, COMPLETED, GRADUATED)
# Allowed moves; a reason is required for rejected and exited.
TRANSITIONS = {
    PROPOSED: {VERIFIED, REJECTED},
    VERIFIED: {ACTIVE, REJECTED},
    ACTIVE: {COMPLETED, GRADUATED, EXITED},
    COMPLETED: set(),
    GRADUATED: set(),
    REJECTED: {PROPOSED},
    EXITED: {ACTIVE},
}


class Program(models.Model):
    owner_agency = models.ForeignKey("agencies.Agency", verbose_name=_("owner agency"),
                                     on_delete=models.PROTECT, related_name="programs")
    code = models.CharField(_("code"), max_length=30, unique=True)
    name = models.CharField(_("name"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    year_start = models.PositiveSmallIntegerField(_("first year"))
    year_end = models.PositiveSmallIntegerField(_("last year"), null=True, blank=True)
    tags = models.JSONField(_("sector tags"), default=list, blank=True)
    unit = models.CharField(_("beneficiary unit"), max_length=10, choices=UNIT_CHOICES)
    benefit_type = models.CharField(_("benefit type"), max_length=12, choices=BENEFIT_CHOICES)
    benefit_value = models.PositiveBigIntegerField(_("benefit value (Rp)"), null=True,
                                                   blank=True)
    rule = models.TextField(_("eligibility rule"), blank=True,
                            help_text=_('e.g. desil <= 4 and sex == "P" and age >= 18'))
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("program")
        verbose_name_plural = _("programs")
        ordering = ["code"]
        constraints = [models.CheckConstraint(
            condition=Q(year_end__isnull=True) | Q(year_end__gte=models.F("year_start")),
            name="program_years_in_order")]

    def __str__(self) -> str:
        return f"{self.code} — {self.name}"

    @property
    def audit_region_code(self) -> str:
        return self.owner_agency.region_id


class Target(models.Model):
    """How many beneficiaries (and what budget) a program aims at in a region
    (any level) in a year."""

    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="targets")
    region = models.ForeignKey("regions.Region", on_delete=models.PROTECT, related_name="+")
    year = models.PositiveSmallIntegerField(_("year"))
    count = models.PositiveIntegerField(_("target count"))
    budget = models.PositiveBigIntegerField(_("budget (Rp)"), null=True, blank=True)

    class Meta:
        ordering = ["program_id", "year", "region_id"]
        constraints = [models.UniqueConstraint(fields=["program", "region", "year"],
                                               name="target_unique")]

    def __str__(self) -> str:
        return f"{self.program_id} {self.region_id} {self.year}: {self.count}"


class Enrollment(models.Model):
    """A beneficiary in a program in a year.

    Exactly one of person / household / group is set, following the program's
    unit. ``household`` is also set for a person (the family at enrollment), and
    ``village_code`` always: coverage by family and by region is then a GROUP BY
    on this table alone.
    """

    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="enrollments")
    year = models.PositiveSmallIntegerField(_("year"))
    person = models.ForeignKey("registry.Person", null=True, blank=True,
                               on_delete=models.PROTECT, related_name="enrollments")
    household = models.ForeignKey("registry.Household", null=True, blank=True,
                                  on_delete=models.PROTECT, related_name="enrollments")
    group = models.ForeignKey("groups.Group", null=True, blank=True, on_delete=models.PROTECT,
                              related_name="enrollments")
    village_code = models.CharField(_("village code"), max_length=13)
    status = models.CharField(_("status"), max_length=10, choices=STATUS_CHOICES,
                              default=PROPOSED)
    status_reason = models.CharField(_("reason"), max_length=300, blank=True)
    benefit_value = models.PositiveBigIntegerField(_("benefit value (Rp)"), null=True,
                                                   blank=True)
    start_date = models.DateField(_("start"), null=True, blank=True)
    end_date = models.DateField(_("end"), null=True, blank=True)
    import_job = models.ForeignKey("imports.ImportJob", null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    import_line = models.PositiveIntegerField(null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("enrollment")
        verbose_name_plural = _("enrollments")
        indexes = [
            # Coverage and target-vs-actual by region: program, year, status over a code range.
            models.Index(fields=["program", "year", "village_code", "status"],
                         name="enroll_prog_year_village"),
            # Convergence by family: which programs reach a family (overlap, unserved).
            models.Index(fields=["household", "program", "status"], name="enroll_household"),
            models.Index(fields=["person", "program"], name="enroll_person"),
            models.Index(fields=["group", "program"], name="enroll_group"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["program", "year", "person"],
                                    condition=Q(person__isnull=False),
                                    name="enroll_unique_person"),
            models.UniqueConstraint(fields=["program", "year", "household"],
                                    condition=Q(person__isnull=True, group__isnull=True),
                                    name="enroll_unique_household"),
            models.UniqueConstraint(fields=["program", "year", "group"],
                                    condition=Q(group__isnull=False),
                                    name="enroll_unique_group"),
            models.CheckConstraint(
                condition=Q(person__isnull=False) | Q(household__isnull=False)
                | Q(group__isnull=False), name="enroll_has_beneficiary"),
        ]

    def __str__(self) -> str:
        who = self.person_id or self.household_id or self.group_id
        return f"{self.program_id}/{self.year}: {who}"

    @property
    def audit_region_code(self) -> str:
        return self.village_code
