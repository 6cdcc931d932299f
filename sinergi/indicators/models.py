"""Indicators over the region tree: a catalogue, values with their numerator
and denominator, targets, and what waits to be recomputed.

A value is one cell: indicator × region × period × disaggregation. It keeps
the numerator and the denominator it was made of, so a region above is
always the sum of the numerators over the sum of the denominators, never an
average of percentages (docs/indicators.md). Computed indicators are counted
from the registry, groups and programs at village level and summed upwards;
external ones (BPS, an agency, a survey) and village facts are entered or
imported, and summed upwards only where the catalogue says they may be.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import get_language, pgettext_lazy
from django.utils.translation import gettext_lazy as _

# Kinds of figure.
COUNT, PERCENT, PER_MILLE, INDEX, RUPIAH, YESNO = (
    "count", "percent", "per_mille", "index", "rupiah", "yesno")
KIND_CHOICES = [
    (COUNT, _("count")), (PERCENT, _("percent")), (PER_MILLE, _("rate per 1,000")),
    (INDEX, _("index")), (RUPIAH, _("rupiah")), (YESNO, _("yes/no (village fact)")),
]
# The factor a ratio is multiplied by, by kind (counts and index values have none).
FACTOR = {PERCENT: 100, PER_MILLE: 1000, YESNO: 100}

HIGHER, LOWER = "higher", "lower"
DIRECTION_CHOICES = [(HIGHER, _("higher is better")), (LOWER, _("lower is better"))]

SUM, NONE = "sum", "none"
ROLLUP_CHOICES = [
    (SUM, _("sum numerators and denominators, then divide")),
    (NONE, _("no roll-up (each region's own figure)")),
]

# Where values come from.
REGISTRY, PROGRAMS, GROUPS = "registry", "programs", "groups"
BPS, AGENCY, SURVEY, VILLAGE = "bps", "agency", "survey", "village"
COMPUTED_SOURCES = (REGISTRY, PROGRAMS, GROUPS)
SOURCE_CHOICES = [
    (REGISTRY, _("computed from the registry")), (PROGRAMS, _("computed from programs")),
    (GROUPS, _("computed from groups")), (BPS, _("BPS (external)")),
    (AGENCY, _("an agency (external)")), (SURVEY, _("a survey")),
    (VILLAGE, _("village fact, entered by the village")),
]

YEAR, SEMESTER, QUARTER, MONTH = "year", "semester", "quarter", "month"
FREQUENCY_CHOICES = [(YEAR, _("yearly")), (SEMESTER, _("per semester")),
                     (QUARTER, _("per quarter")), (MONTH, _("monthly"))]

DRAFT, VERIFIED = "draft", "verified"
STATUS_CHOICES = [(DRAFT, _("draft")), (VERIFIED, _("verified"))]

# How a value came to be.
COMPUTED, FORM, EXCEL, ROLLED, DEMO = "computed", "form", "excel", "rollup", "demo"
ORIGIN_CHOICES = [(COMPUTED, pgettext_lazy("origin", "computed")), (FORM, _("entered")),
                  (EXCEL, _("Excel import")), (ROLLED, _("summed from the regions below")),
                  (DEMO, _("demo data"))]

DOCUMENT_CHOICES = [("rpjmd", "RPJMD"), ("renstra", "Renstra"), ("rkpd", "RKPD"),
                    ("rakor", _("rakor")), ("other", _("other"))]


class Indicator(models.Model):
    """One indicator of the catalogue, with its definition and how it is
    counted, compared and rolled up. ``version`` rises when the definition
    changes, so values made under an older one can be told apart."""

    code = models.CharField(_("code"), max_length=30, unique=True)
    name_id = models.CharField(_("name (Indonesian)"), max_length=200)
    name_en = models.CharField(_("name (English)"), max_length=200, blank=True)
    definition = models.TextField(_("definition"), blank=True)
    concept = models.TextField(_("concept"), blank=True)
    formula = models.TextField(_("formula in words"), blank=True)
    interpretation = models.TextField(_("interpretation"), blank=True)
    unit = models.CharField(_("unit"), max_length=40, blank=True)
    kind = models.CharField(_("kind"), max_length=10, choices=KIND_CHOICES)
    numerator = models.CharField(_("numerator"), max_length=200, blank=True)
    denominator = models.CharField(_("denominator"), max_length=200, blank=True)
    direction = models.CharField(_("direction"), max_length=6, choices=DIRECTION_CHOICES,
                                 default=HIGHER)
    decimals = models.PositiveSmallIntegerField(_("decimals"), default=1)
    rollup = models.CharField(_("roll-up"), max_length=4, choices=ROLLUP_CHOICES, default=SUM)
    # Comma-separated keys of disaggregations.DIMENSIONS ("sex,age").
    disaggregations = models.CharField(_("disaggregations"), max_length=100, blank=True)
    source = models.CharField(_("source"), max_length=10, choices=SOURCE_CHOICES)
    # For computed indicators: the key of the count in compute.MEASURES.
    measure = models.CharField(_("computed by"), max_length=40, blank=True)
    frequency = models.CharField(_("frequency"), max_length=8, choices=FREQUENCY_CHOICES,
                                 default=YEAR)
    # The agency responsible, by its short name (an OPD exists once per
    # province and kabupaten/kota: "Dinsos", "BPS", "DPPKB").
    agency = models.CharField(_("responsible agency"), max_length=40, blank=True)
    valid_min = models.DecimalField(_("lowest plausible value"), max_digits=20,
                                    decimal_places=4, null=True, blank=True)
    valid_max = models.DecimalField(_("highest plausible value"), max_digits=20,
                                    decimal_places=4, null=True, blank=True)
    version = models.PositiveSmallIntegerField(_("definition version"), default=1)
    reference = models.CharField(_("reference"), max_length=300, blank=True)
    position = models.PositiveSmallIntegerField(default=0)
    is_active = models.BooleanField(_("active"), default=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("indicator")
        verbose_name_plural = _("indicators")
        ordering = ["position", "code"]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    @property
    def name(self) -> str:
        language = (get_language() or "id")[:2]
        return self.name_en if language == "en" and self.name_en else self.name_id

    @property
    def factor(self) -> int:
        return FACTOR.get(self.kind, 1)

    @property
    def is_computed(self) -> bool:
        return self.source in COMPUTED_SOURCES

    @property
    def is_village_fact(self) -> bool:
        return self.source == VILLAGE

    @property
    def dimensions(self) -> list[str]:
        return [d for d in self.disaggregations.split(",") if d]

    @property
    def is_ratio(self) -> bool:
        return self.kind in FACTOR

    @property
    def is_ranked(self) -> bool:
        """Whether regions are ranked by it: not by counts, which grow with
        the size of the region rather than with its performance."""
        return self.kind != COUNT


class Value(models.Model):
    """One cell: the indicator's value in a region, period and
    disaggregation ("" = total, "sex:P", "age:balita", "desil:3", ...),
    with the numerator and denominator it was made of (empty for an external
    figure given as a value only) and an interval where one was published."""

    indicator = models.ForeignKey(Indicator, on_delete=models.CASCADE, related_name="values")
    region_code = models.CharField(_("region code"), max_length=13)
    level = models.PositiveSmallIntegerField(_("level"))
    period = models.CharField(_("period"), max_length=8)
    disaggregation = models.CharField(_("disaggregation"), max_length=30, blank=True,
                                      default="")
    numerator = models.DecimalField(_("numerator"), max_digits=20, decimal_places=4,
                                    null=True, blank=True)
    denominator = models.DecimalField(_("denominator"), max_digits=20, decimal_places=4,
                                      null=True, blank=True)
    value = models.DecimalField(_("value"), max_digits=20, decimal_places=4, null=True,
                                blank=True)
    lower = models.DecimalField(_("interval, lower"), max_digits=20, decimal_places=4,
                                null=True, blank=True)
    upper = models.DecimalField(_("interval, upper"), max_digits=20, decimal_places=4,
                                null=True, blank=True)
    origin = models.CharField(_("origin"), max_length=8, choices=ORIGIN_CHOICES)
    source_note = models.CharField(_("source"), max_length=200, blank=True)
    status = models.CharField(_("status"), max_length=8, choices=STATUS_CHOICES, default=DRAFT)
    # Comma-separated data quality codes (quality.FLAGS) found on entry.
    flags = models.CharField(_("data quality"), max_length=100, blank=True, default="")
    entered_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+",
                                   db_constraint=False)
    entered_at = models.DateTimeField(_("entered"), null=True, blank=True)
    computed_at = models.DateTimeField(_("data as of"))

    class Meta:
        verbose_name = _("indicator value")
        verbose_name_plural = _("indicator values")
        constraints = [
            # One cell per (indicator, region, disaggregation, period); in this
            # order it also serves a region's trend (every period of a cell).
            models.UniqueConstraint(fields=["indicator", "region_code", "disaggregation",
                                            "period"], name="indicatorvalue_cell"),
            models.CheckConstraint(condition=Q(level__gte=1, level__lte=4),
                                   name="indicatorvalue_level_1_4"),
        ]
        indexes = [
            # Rankings and the children of a region: one period and level over a code range.
            models.Index(fields=["indicator", "period", "disaggregation", "level",
                                 "region_code"], name="indicatorvalue_rank"),
            # A region's panel: every indicator's cells of one region.
            models.Index(fields=["region_code", "disaggregation"],
                         name="indicatorvalue_region"),
        ]

    def __str__(self) -> str:
        return f"{self.indicator_id} {self.region_code} {self.period} {self.disaggregation}"

    @property
    def audit_region_code(self) -> str:
        return self.region_code

    @property
    def flag_list(self) -> list[str]:
        return [f for f in self.flags.split(",") if f]


class Target(models.Model):
    """What a region means to reach in a period, from which baseline, and
    the document that says so (RPJMD, Renstra, RKPD, a rakor)."""

    indicator = models.ForeignKey(Indicator, on_delete=models.CASCADE, related_name="targets")
    region_code = models.CharField(_("region code"), max_length=13)
    period = models.CharField(_("target period"), max_length=8)
    target = models.DecimalField(_("target"), max_digits=20, decimal_places=4)
    baseline = models.DecimalField(_("baseline"), max_digits=20, decimal_places=4,
                                   null=True, blank=True)
    baseline_period = models.CharField(_("baseline period"), max_length=8, blank=True)
    document = models.CharField(_("source document"), max_length=10,
                                choices=DOCUMENT_CHOICES, default="rpjmd")
    document_note = models.CharField(_("document"), max_length=200, blank=True)
    entered_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    entered_at = models.DateTimeField(_("entered"), auto_now=True)

    class Meta:
        verbose_name = _("indicator target")
        verbose_name_plural = _("indicator targets")
        constraints = [models.UniqueConstraint(fields=["indicator", "region_code", "period"],
                                               name="indicatortarget_unique")]
        indexes = [
            # A region's targets (its panel).
            models.Index(fields=["region_code", "period"], name="indicatortarget_region"),
        ]

    def __str__(self) -> str:
        return f"{self.indicator_id} {self.region_code} {self.period}"

    @property
    def audit_region_code(self) -> str:
        return self.region_code


class Stale(models.Model):
    """A village whose computed values of one source (registry, groups,
    programs) are older than the data: written in the transaction of the
    change (core.changes), worked off by the recompute job."""

    village_code = models.CharField(max_length=13)
    source = models.CharField(max_length=10)
    requested_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["village_code", "source"],
                                               name="indicatorstale_unique")]

    def __str__(self) -> str:
        return f"{self.village_code}/{self.source}"
