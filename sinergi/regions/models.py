"""The Kemendagri region hierarchy, as loaded from a Kepmendagri edition."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from . import codes


class Region(models.Model):
    """A province, kabupaten/kota, kecamatan or desa/kelurahan.

    The primary key is the Kemendagri code itself, so any table that carries
    a region code can be filtered by subtree with a prefix range on its own
    index, with no join and no recursion. Regions are never deleted: a code
    that an edition no longer lists is marked retired, so older records that
    point at it keep their meaning.
    """

    code = models.CharField(_("code"), max_length=13, primary_key=True)
    name = models.CharField(_("name"), max_length=120)
    kind = models.CharField(_("kind"), max_length=12, choices=codes.KIND_CHOICES)
    level = models.PositiveSmallIntegerField(_("level"), choices=codes.LEVEL_CHOICES)
    # db_constraint off: the loader writes a whole edition set-at-a-time and
    # a parent always exists by construction (codes are validated first).
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
        db_constraint=False,
    )
    edition = models.CharField(_("edition"), max_length=60)
    retired_in = models.CharField(
        _("retired in edition"), max_length=60, blank=True, default=""
    )

    class Meta:
        verbose_name = _("region")
        verbose_name_plural = _("regions")
        ordering = ["code"]
        indexes = [
            # Children of a region in code order: the region picker and
            # GET /api/v1/regions?parent=.
            models.Index(fields=["parent", "code"], name="region_parent_code"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(level__gte=1, level__lte=4), name="region_level_1_4"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    @property
    def parent_code(self) -> str | None:
        return codes.code_parent(self.code)

    @property
    def is_retired(self) -> bool:
        return bool(self.retired_in)


class RegionEdition(models.Model):
    """A Kepmendagri edition that has been loaded, with what it changed."""

    name = models.CharField(_("edition"), max_length=60, unique=True)
    source = models.CharField(_("source"), max_length=200)
    loaded_at = models.DateTimeField(_("loaded at"), auto_now=True)
    added = models.PositiveIntegerField(_("added"), default=0)
    renamed = models.PositiveIntegerField(_("renamed"), default=0)
    retired = models.PositiveIntegerField(_("retired"), default=0)
    total = models.PositiveIntegerField(_("total"), default=0)
    # Current (not retired) regions per level after this load, {"1": 38, ...}:
    # the public home page reads these instead of counting 90,000 rows.
    active_by_level = models.JSONField(_("current regions by level"), default=dict, blank=True)

    class Meta:
        verbose_name = _("region edition")
        verbose_name_plural = _("region editions")
        ordering = ["-loaded_at"]

    def __str__(self) -> str:
        return self.name
