"""The coverage rollup: coverage counts per region and year, precomputed.

Computing coverage for a whole province means evaluating every program's
eligibility rule over every person; that takes seconds on SQLite, so pages
read these cells instead and show when they were computed. Cells exist at
every region level (village rows summed up to kecamatan, kabupaten and
province), so any page reads a few hundred rows by an index range.
``selectors.refresh`` rewrites them; it must run after anything that changes
what they count (enrollment imports and edits, registry imports, program
rule changes). The same refresh writes the family rollups below (program
masks per family, families per mask, actuals per program) that serve the
unserved list, the overlap matrix and target vs actual of large regions.
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
    """A region and year whose coverage rollup is older than the data (and so
    are the sums of every region above it).

    Written in the same transaction as the change: an enrollment names its
    village, a registry import its region, a program rule its province. The
    worker recomputes the smallest subtrees that hold the requests of a
    province (services.refresh_roots) and removes them. Pages show that
    newer figures are coming.
    """

    region_code = models.CharField(max_length=13)
    year = models.PositiveSmallIntegerField()
    requested_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["region_code", "year"],
                                               name="refreshrequest_unique")]

    def __str__(self) -> str:
        return f"{self.region_code}/{self.year}"


class RollupLayout(models.Model):
    """What one ``refresh`` of a region wrote besides the coverage cells.

    ``programs``: the ids of the year's programs at refresh time, comma
    separated, in the order of the bits of ``FamilyMask``; ``as_of``: the
    date eligibility was evaluated on. Readers use the family rollups only
    when every layout above and below the region agrees with the programs
    of the year now (and, for eligibility, with the date asked for).
    """

    year = models.PositiveSmallIntegerField()
    region_code = models.CharField(max_length=13)
    programs = models.TextField(blank=True)
    masks = models.BooleanField(default=True)
    as_of = models.DateField()
    computed_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["year", "region_code"], name="rolluplayout_year_code")]

    def __str__(self) -> str:
        return f"{self.year} {self.region_code}"


class FamilyMask(models.Model):
    """One active family in a year: bit i set in ``served`` / ``eligible``
    when it is served by / eligible for program i of its ``RollupLayout``.

    The unserved list probes this row (one indexed lookup) instead of two
    EXISTS per program and family.
    """

    year = models.PositiveSmallIntegerField()
    household_id = models.BigIntegerField()
    village_code = models.CharField(max_length=13)
    served = models.BigIntegerField(default=0)
    eligible = models.BigIntegerField(default=0)
    # The family's desil (0: unknown) and its head's sex ("": no head) at the
    # refresh: coverage of chosen programs groups on them without a join.
    desil = models.PositiveSmallIntegerField(default=0)
    head_sex = models.CharField(max_length=1, blank=True, default="")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["year", "household_id"],
                                               name="familymask_unique")]
        indexes = [models.Index(fields=["year", "village_code"], name="familymask_year_village")]

    def __str__(self) -> str:
        return f"{self.year} {self.household_id}"


class MaskCount(models.Model):
    """Families of a region (every level) per distinct ``served`` mask: the
    overlap matrix and distribution are sums over these rows."""

    year = models.PositiveSmallIntegerField()
    level = models.PositiveSmallIntegerField()
    region_code = models.CharField(max_length=13)
    served = models.BigIntegerField()
    families = models.PositiveIntegerField()

    class Meta:
        indexes = [models.Index(fields=["year", "level", "region_code"],
                                name="maskcount_year_level")]

    def __str__(self) -> str:
        return f"{self.year} {self.region_code} {self.served}"


class ActualCell(models.Model):
    """Served enrollments of a program in a region (every level) and year:
    ``served`` counted, ``spent_own`` the sum of their own benefit values and
    ``unvalued`` how many have none (they take the program's value when read,
    so a changed program value needs no refresh)."""

    year = models.PositiveSmallIntegerField()
    level = models.PositiveSmallIntegerField()
    region_code = models.CharField(max_length=13)
    program_id = models.BigIntegerField()
    served = models.PositiveIntegerField()
    spent_own = models.BigIntegerField()
    unvalued = models.PositiveIntegerField()

    class Meta:
        indexes = [models.Index(fields=["year", "level", "region_code"],
                                name="actualcell_year_level")]

    def __str__(self) -> str:
        return f"{self.year} {self.region_code} {self.program_id}"


class CoverageSummary(models.Model):
    """The coverage page of one region and year, assembled from the cells.

    ``refresh`` writes one per region it touched, in the same transaction as
    the cells, so a page is one indexed row and a JSON decode instead of
    summing a thousand cells per request. ``data`` holds per program (by id)
    and for all programs the counts by desil, by sex and by child region;
    names and codes of programs are filled in when read. ``overlap`` holds
    the overlap matrix of all programs, read when all are chosen.
    """

    year = models.PositiveSmallIntegerField()
    region_code = models.CharField(max_length=13)
    data = models.JSONField()
    # Families, pair matrix and distribution over all the year's programs
    # (None when they are too many for the masks).
    overlap = models.JSONField(null=True)
    as_of = models.DateField()
    computed_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["year", "region_code"],
                                               name="coveragesummary_unique")]

    def __str__(self) -> str:
        return f"{self.year} {self.region_code}"
