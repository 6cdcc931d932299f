"""The registry: families (KK), persons (NIK) and who belongs where, over time.

Person and household rows carry their village code (denormalised from the
region tree), so an aggregate at any level is a GROUP BY on a code prefix
and the tables can be distributed by province later. There is no foreign
key to Region on these hot tables for the same reason; services validate
the code instead.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Now
from django.utils.translation import gettext_lazy as _

from . import codes

SEX_CHOICES = list(codes.SEX.items())


class Traced(models.Model):
    """Where a row came from and when it changed: every imported row keeps its
    job and file row. Not indexed: looked up from the row, rarely by job.

    The timestamps also have a database default, so a PostgreSQL bulk load
    leaves them out of its COPY: parsing a million timestamps twice costs
    the server more than a third of the load."""

    import_job = models.ForeignKey("imports.ImportJob", null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+",
                                   db_constraint=False, db_index=False)
    import_line = models.PositiveIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True, db_default=Now())
    updated_at = models.DateTimeField(_("updated"), auto_now=True, db_default=Now())

    class Meta:
        abstract = True


class Household(Traced):
    """A family (keluarga) as on one Kartu Keluarga.

    The KK number changes on moving, the head's death, divorce or a split
    (pecah KK); the household keeps its identity and the numbers live in
    ``KKNumberHistory`` once replaced. Welfare desil (1-10, DTSEN ranking) is a dated
    value with its source.
    """

    # Unique through Meta.constraints: a plain unique index, without the extra
    # LIKE index PostgreSQL would get for unique=True (KK numbers match exactly).
    kk_number = models.CharField(_("KK number"), max_length=16)
    village_code = models.CharField(_("village code"), max_length=13)
    dusun = models.CharField(_("dusun"), max_length=60, blank=True)
    rw = models.CharField(_("RW"), max_length=4, blank=True)
    rt = models.CharField(_("RT"), max_length=4, blank=True)
    address = models.CharField(_("address"), max_length=200, blank=True)
    desil = models.PositiveSmallIntegerField(_("desil"), null=True, blank=True)
    desil_source = models.CharField(_("desil source"), max_length=60, blank=True)
    desil_as_of = models.DateField(_("desil as of"), null=True, blank=True)
    in_dtsen = models.BooleanField(_("in DTSEN"), default=False)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("family")
        verbose_name_plural = _("families")
        indexes = [
            # Families of a village (or any subtree: a prefix range), keyset on id.
            models.Index(fields=["village_code", "id"], name="household_village_id"),
            # Coverage by desil within a subtree.
            models.Index(fields=["village_code", "desil"], name="household_village_desil"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["kk_number"], name="household_kk_unique"),
            models.CheckConstraint(condition=Q(desil__isnull=True) | Q(desil__gte=1, desil__lte=10),
                                   name="household_desil_1_10"),
        ]

    def __str__(self) -> str:
        return f"KK {self.kk_number}"

    @property
    def audit_region_code(self) -> str:
        return self.village_code


class KKNumberHistory(models.Model):
    """The KK numbers a household had before its current one, with when and
    why each was replaced (the current number is Household.kk_number)."""

    household = models.ForeignKey(Household, on_delete=models.CASCADE,
                                  related_name="kk_history")
    kk_number = models.CharField(_("KK number"), max_length=16)
    valid_from = models.DateField(_("from"), null=True, blank=True)
    valid_to = models.DateField(_("until"), null=True, blank=True)
    reason = models.CharField(_("reason"), max_length=60, blank=True)

    class Meta:
        verbose_name = _("KK number history")
        verbose_name_plural = _("KK number history")
        indexes = [
            # Search by an old KK number.
            models.Index(fields=["kk_number"], name="kkhistory_number"),
        ]

    def __str__(self) -> str:
        return self.kk_number


class Person(Traced):
    """A person, identified by NIK when there is one.

    NIK is unique when present; persons without a NIK are allowed (new-born,
    not yet registered) and show as flagged. ``household`` and ``shdk`` are
    the current membership, kept beside the membership history for fast
    lists. ``warnings`` holds the accepted-but-suspect findings of the
    identifier rules (sex or birth date not matching the NIK, a probable
    duplicate) as a list of codes.
    """

    nik = models.CharField(_("NIK"), max_length=16, null=True, blank=True)
    name = models.CharField(_("name"), max_length=120)
    sex = models.CharField(_("sex"), max_length=1, choices=SEX_CHOICES)
    birth_place = models.CharField(_("place of birth"), max_length=80, blank=True)
    birth_date = models.DateField(_("date of birth"), null=True, blank=True)
    # Indexed by person_household_shdk below, not by a separate FK index.
    household = models.ForeignKey(Household, verbose_name=_("family"), null=True, blank=True,
                                  on_delete=models.PROTECT, related_name="members",
                                  db_index=False)
    shdk = models.PositiveSmallIntegerField(_("relationship in family (SHDK)"), null=True,
                                            blank=True, choices=list(codes.SHDK.items()))
    # When the person joined the current family (empty: since first registered).
    household_since = models.DateField(_("in this family since"), null=True, blank=True)
    village_code = models.CharField(_("village code"), max_length=13)
    religion = models.PositiveSmallIntegerField(_("religion"), null=True, blank=True,
                                                choices=list(codes.RELIGION.items()))
    marital_status = models.PositiveSmallIntegerField(
        _("marital status"), null=True, blank=True, choices=list(codes.MARITAL_STATUS.items()))
    education = models.PositiveSmallIntegerField(_("education"), null=True, blank=True,
                                                 choices=list(codes.EDUCATION.items()))
    occupation = models.PositiveSmallIntegerField(_("occupation"), null=True, blank=True,
                                                  choices=list(codes.OCCUPATION.items()))
    disability = models.PositiveSmallIntegerField(_("disability"), null=True, blank=True,
                                                  choices=list(codes.DISABILITY.items()))
    has_birth_certificate = models.BooleanField(_("birth certificate (akta)"), null=True,
                                                blank=True)
    has_kia = models.BooleanField(_("child ID card (KIA)"), null=True, blank=True)
    has_ktp_el = models.BooleanField(_("electronic ID card (KTP-el)"), null=True, blank=True)
    health_insurance = models.PositiveSmallIntegerField(
        _("health insurance"), null=True, blank=True,
        choices=list(codes.HEALTH_INSURANCE.items()))
    kb_method = models.PositiveSmallIntegerField(_("family planning method"), null=True,
                                                 blank=True, choices=list(codes.KB_METHOD.items()))
    monthly_income = models.PositiveBigIntegerField(_("monthly income (Rp)"), null=True,
                                                    blank=True)
    life_status = models.PositiveSmallIntegerField(_("status"), default=codes.ALIVE,
                                                   choices=list(codes.LIFE_STATUS.items()))
    status_date = models.DateField(_("status date"), null=True, blank=True)
    # Comma-separated warning codes: a short list, cheaper to write in bulk
    # than a JSON column (SQLite checks JSON on every insert).
    warning_codes = models.CharField(_("warnings"), max_length=200, blank=True, default="")

    class Meta:
        verbose_name = _("person")
        verbose_name_plural = _("persons")
        indexes = [
            # Persons of a subtree in (village, id) order: keyset lists and exports.
            models.Index(fields=["village_code", "id"], name="person_village_id"),
            # Members of a family (also serves the household foreign key).
            models.Index(fields=["household", "shdk"], name="person_household_shdk"),
        ]
        constraints = [
            # Unique when present (NULLs never collide): see Household.kk_number.
            models.UniqueConstraint(fields=["nik"], name="person_nik_unique"),
            models.CheckConstraint(condition=Q(sex__in=["L", "P"]), name="person_sex_l_p"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def warnings(self) -> list[str]:
        return [c for c in self.warning_codes.split(",") if c]

    @warnings.setter
    def warnings(self, codes_: list[str]) -> None:
        self.warning_codes = ",".join(sorted(set(codes_)))

    @property
    def warning_labels(self) -> list[str]:
        """The warnings in words (codes.WARNING_LABELS)."""
        from .codes import warning_label

        return [warning_label(c) for c in self.warnings]

    @property
    def audit_region_code(self) -> str:
        return self.village_code


class Membership(models.Model):
    """A past membership of a person in a family, with SHDK and dates.

    The current membership is the person's ``household``, ``shdk`` and
    ``household_since``; a move, split, death or moving out closes it into
    a Membership row here. History is never rewritten. (Keeping only closed
    periods here spares a million redundant rows on a province's import.)
    """

    # Both keys are served by the composite indexes below.
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="memberships",
                               db_index=False)
    household = models.ForeignKey(Household, on_delete=models.CASCADE,
                                  related_name="memberships", db_index=False)
    shdk = models.PositiveSmallIntegerField(_("SHDK"), choices=list(codes.SHDK.items()))
    start_date = models.DateField(_("from"), null=True, blank=True)
    end_date = models.DateField(_("until"))
    end_reason = models.CharField(_("reason"), max_length=40, blank=True)

    class Meta:
        verbose_name = _("family membership")
        verbose_name_plural = _("family memberships")
        indexes = [
            # A family's members over time, and a person's families over time.
            models.Index(fields=["household", "end_date"], name="membership_household"),
            models.Index(fields=["person", "end_date"], name="membership_person"),
        ]

    def __str__(self) -> str:
        return f"{self.person_id} in {self.household_id}"


EXPORT_PENDING, EXPORT_RUNNING, EXPORT_DONE, EXPORT_FAILED = "pending", "running", "done", "failed"
EXPORT_STATUS_CHOICES = [(EXPORT_PENDING, _("waiting")), (EXPORT_RUNNING, _("being written")),
                         (EXPORT_DONE, _("ready")), (EXPORT_FAILED, _("failed"))]


class ExportJob(models.Model):
    """A large persons export written in the background (the job runner),
    with its progress; small ones are sent at once. Only the user who asked
    for it sees it and downloads the file: it holds full NIKs."""

    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                                   related_name="+")
    region_code = models.CharField(_("region"), max_length=13)
    q = models.CharField(_("search"), max_length=100, blank=True)
    language = models.CharField(max_length=10, default="id")
    status = models.CharField(_("status"), max_length=10, choices=EXPORT_STATUS_CHOICES,
                              default=EXPORT_PENDING)
    rows_total = models.PositiveIntegerField(default=0)
    rows_done = models.PositiveIntegerField(default=0)
    file = models.FileField(upload_to="exports/%Y/%m/", max_length=300, blank=True)
    message = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("persons export")
        verbose_name_plural = _("persons exports")
        # A user's exports, newest first.
        indexes = [models.Index(fields=["created_by", "-id"], name="export_user_id")]

    def __str__(self) -> str:
        return f"export {self.pk} {self.region_code}"

    @property
    def audit_region_code(self) -> str:
        return self.region_code

    @property
    def progress(self) -> int:
        return round(100 * self.rows_done / self.rows_total) if self.rows_total else 0
