"""The coverage rollup: coverage counts per region and year, precomputed.

Computing coverage for a whole province means evaluating every program's
eligibility rule over every person; that takes seconds on SQLite, so pages
read these cells instead and show when they were computed. Cells exist at
every region level (village rows summed up to kecamatan, kabupaten and
province), so any page reads a few hundred rows by an index range.
``selectors.refresh`` rewrites them; it must run after anything that changes
what they count (enrollment imports and edits, registry imports, program
rule changes).
"""

from django.db import models
from django.utils.translation import gettext_lazy as _

FAMILY, PERSON = "family", "person"
KIND_CHOICES = [(FAMILY, _("families")), (PERSON, _("persons"))]


class CoverageCell(models.Model):
    """Counts for one (year, region, program or all programs, desil, sex).

    kind "family": desil (0 = unknown) and sex of the family head ("" =
    none); the all-programs row (program empty) carries ``total``, the
    families of the cell. kind "person" (person- and group-unit programs,
    desil 0): sex of the person; the row with program empty holds the
    persons of the cell in ``total``.
    """

    year = models.PositiveSmallIntegerField(_("year"))
    region_code = models.CharField(_("region code"), max_length=13)
    level = models.PositiveSmallIntegerField(_("level"))
    kind = models.CharField(_("counted"), max_length=6, choices=KIND_CHOICES)
    program = models.ForeignKey("programs.Program", null=True, blank=True,
                                on_delete=models.CASCADE, related_name="+",
                                db_constraint=False, db_index=False)
    desil = models.PositiveSmallIntegerField(_("desil"), default=0)
    sex = models.CharField(_("sex"), max_length=1, blank=True)
    total = models.PositiveIntegerField(default=0)
    served = models.PositiveIntegerField(default=0)
    eligible = models.PositiveIntegerField(default=0)
    exclusion = models.PositiveIntegerField(default=0)
    inclusion = models.PositiveIntegerField(default=0)
    as_of = models.DateField(_("eligibility as of"))
    computed_at = models.DateTimeField(_("computed"))

    class Meta:
        verbose_name = _("coverage cell")
        verbose_name_plural = _("coverage cells")
        indexes = [
            # A region's own cells, and its children's: one level over a code range.
            models.Index(fields=["year", "level", "region_code"], name="coveragecell_year_level"),
        ]

    def __str__(self) -> str:
        return f"{self.year} {self.region_code} {self.program_id or '*'}"


class RefreshRequest(models.Model):
    """A province and year whose coverage rollup is older than the data.

    Written in the same transaction as the change (an enrollment, a program
    rule, a registry import); the worker (or the serving process's thread)
    recomputes and removes it. Pages show that newer figures are coming.
    """

    region_code = models.CharField(max_length=2)
    year = models.PositiveSmallIntegerField()
    requested_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["region_code", "year"],
                                               name="refreshrequest_unique")]

    def __str__(self) -> str:
        return f"{self.region_code}/{self.year}"
