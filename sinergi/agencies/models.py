"""Agencies (OPD) of the regional governments in the deployment."""

from django.db import models
from django.utils.translation import gettext_lazy as _

PROVINCE = "province"
KABUPATEN = "kabupaten"
KOTA = "kota"
LEVEL_CHOICES = [
    (PROVINCE, _("Province")),
    (KABUPATEN, _("Regency (kabupaten)")),
    (KOTA, _("City (kota)")),
]

SECTOR_CHOICES = [
    ("planning", _("Planning and research")),
    ("women_children", _("Women's empowerment and child protection")),
    ("family_planning", _("Population and family planning")),
    ("social", _("Social affairs")),
    ("economy", _("Cooperatives, SMEs, industry and trade")),
    ("agriculture", _("Agriculture and food")),
    ("village", _("Village community empowerment")),
    ("health", _("Health")),
    ("education", _("Education")),
    ("civil_registry", _("Population and civil registration")),
    ("licensing", _("Investment and licensing")),
    ("other", _("Other")),
]


class Agency(models.Model):
    """An OPD (Organisasi Perangkat Daerah): a Dinas, Badan or Kantor.

    It belongs to the government of one province or kabupaten/kota
    (``region``); its ``level`` follows from that region's kind.
    """

    name = models.CharField(_("name"), max_length=200)
    short_name = models.CharField(_("short name"), max_length=40)
    level = models.CharField(_("level"), max_length=12, choices=LEVEL_CHOICES)
    region = models.ForeignKey(
        "regions.Region",
        verbose_name=_("region"),
        on_delete=models.PROTECT,
        related_name="agencies",
    )
    sector = models.CharField(_("sector"), max_length=20, choices=SECTOR_CHOICES)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("agency")
        verbose_name_plural = _("agencies")
        ordering = ["region_id", "short_name"]
        constraints = [
            models.UniqueConstraint(
                fields=["region", "short_name"], name="agency_unique_short_name_per_region"
            ),
        ]
        indexes = [
            # Agency list: agencies of a region subtree in (region, short name)
            # order, keyset-paginated on id within it.
            models.Index(fields=["region", "short_name", "id"], name="agency_region_short"),
        ]

    def __str__(self) -> str:
        return f"{self.short_name} ({self.region_id})"

    @property
    def audit_region_code(self) -> str:
        return self.region_id
