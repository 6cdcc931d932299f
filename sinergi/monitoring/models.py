"""Monitoring: survey rounds, a family's income in each round, a group's
business in each round. Income is personal data: read in scope, exported
with an audit row, never shown to the public."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

INCOME, BUSINESS = "income", "business"
KIND_CHOICES = [(INCOME, _("family income")), (BUSINESS, _("group business"))]

OPEN, CLOSED, LOCKED = "open", "closed", "locked"
STATUS_CHOICES = [(OPEN, _("open")), (CLOSED, _("closed")), (LOCKED, _("locked"))]

# Income by source, in the order of the form and of the import template.
INCOME_SOURCES = ("wages", "business", "farming", "transfers", "other")

# Flags on a record.
OUTLIER = "outlier"  # far from the village's median; confirmed by who entered it


class Round(models.Model):
    """One survey round: families' income or groups' business in a region
    over a period, owned by an agency; open -> closed -> locked."""

    name = models.CharField(_("name"), max_length=120)
    kind = models.CharField(_("kind"), max_length=10, choices=KIND_CHOICES)
    starts_on = models.DateField(_("period start"))
    ends_on = models.DateField(_("period end"))
    region = models.ForeignKey("regions.Region", verbose_name=_("region"),
                               on_delete=models.PROTECT, related_name="+")
    owner_agency = models.ForeignKey("agencies.Agency", verbose_name=_("owner agency"),
                                     on_delete=models.PROTECT, related_name="+")
    instrument = models.CharField(_("instrument version"), max_length=40, blank=True)
    status = models.CharField(_("status"), max_length=8, choices=STATUS_CHOICES, default=OPEN)
    note = models.CharField(_("note"), max_length=300, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("survey round")
        verbose_name_plural = _("survey rounds")
        ordering = ["kind", "ends_on", "id"]
        indexes = [
            # Rounds of a kind in order (the analysis picks baseline, follow-up, pre-round).
            models.Index(fields=["kind", "ends_on"], name="round_kind_end"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(ends_on__gte=models.F("starts_on")),
                                   name="round_period_order"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def audit_region_code(self) -> str:
        return self.region_id


class IncomeRecord(models.Model):
    """A family's monthly income in one round, by source (rupiah)."""

    round = models.ForeignKey(Round, on_delete=models.PROTECT, related_name="incomes")
    household = models.ForeignKey("registry.Household", verbose_name=_("family"),
                                  on_delete=models.PROTECT, related_name="incomes")
    village_code = models.CharField(_("village code"), max_length=13)
    wages = models.PositiveBigIntegerField(_("wages"), default=0)
    business = models.PositiveBigIntegerField(_("own business"), default=0)
    farming = models.PositiveBigIntegerField(_("farming or fishing"), default=0)
    transfers = models.PositiveBigIntegerField(_("transfers and assistance"), default=0)
    other = models.PositiveBigIntegerField(_("other income"), default=0)
    total = models.PositiveBigIntegerField(_("total monthly income"), default=0)
    expenditure = models.PositiveBigIntegerField(_("monthly expenditure"), null=True, blank=True)
    assets = models.PositiveBigIntegerField(_("assets"), null=True, blank=True)
    enumerator = models.CharField(_("enumerator"), max_length=120, blank=True)
    recorded_on = models.DateField(_("date"), null=True, blank=True)
    flags = models.CharField(_("flags"), max_length=60, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    import_line = models.PositiveIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("family income record")
        verbose_name_plural = _("family income records")
        ordering = ["round_id", "village_code", "household_id"]
        indexes = [
            # A round's records of a region subtree (entry lists, screening, analysis, export).
            models.Index(fields=["round", "village_code"], name="income_round_village"),
            # A family's incomes over rounds (the family page).
            models.Index(fields=["household", "round"], name="income_household_round"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["round", "household"], name="income_one_per_round"),
        ]

    def __str__(self) -> str:
        return f"{self.household_id} @ {self.round_id}"

    @property
    def audit_region_code(self) -> str:
        return self.village_code


class BusinessRecord(models.Model):
    """A group's business in one round (monthly rupiah)."""

    round = models.ForeignKey(Round, on_delete=models.PROTECT, related_name="businesses")
    group = models.ForeignKey("groups.Group", verbose_name=_("group"), on_delete=models.PROTECT,
                              related_name="business_records")
    village_code = models.CharField(_("village code"), max_length=13)
    turnover = models.PositiveBigIntegerField(_("turnover"))
    costs = models.PositiveBigIntegerField(_("costs"))
    profit = models.BigIntegerField(_("profit"))
    members_active = models.PositiveIntegerField(_("active members"), null=True, blank=True)
    members_total = models.PositiveIntegerField(_("members in total"), null=True, blank=True)
    products = models.CharField(_("products"), max_length=300, blank=True)
    partner_sales = models.PositiveBigIntegerField(_("sales to market partners"), null=True,
                                                   blank=True)
    recorded_on = models.DateField(_("date"), null=True, blank=True)
    flags = models.CharField(_("flags"), max_length=60, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("group business record")
        verbose_name_plural = _("group business records")
        ordering = ["round_id", "group_id"]
        indexes = [
            # A round's records of a region subtree; a group's records over rounds.
            models.Index(fields=["round", "village_code"], name="business_round_village"),
            models.Index(fields=["group", "round"], name="business_group_round"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["round", "group"], name="business_one_per_round"),
            models.CheckConstraint(
                condition=Q(members_active__isnull=True) | Q(members_total__isnull=True)
                | Q(members_active__lte=models.F("members_total")),
                name="business_active_le_total"),
        ]

    def __str__(self) -> str:
        return f"{self.group_id} @ {self.round_id}"

    @property
    def audit_region_code(self) -> str:
        return self.village_code
