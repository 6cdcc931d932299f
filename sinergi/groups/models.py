"""Community groups (kelompok): Industri Rumahan, UPPKA, KWT, BUMDes, ... with
their members from the registry, level history and market partners."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

ROLE_CHOICES = [
    ("ketua", _("chair (ketua)")),
    ("sekretaris", _("secretary (sekretaris)")),
    ("bendahara", _("treasurer (bendahara)")),
    ("anggota", _("member (anggota)")),
]

PARTNER_KIND_CHOICES = [
    ("retailer", _("retailer")),
    ("hotel", _("hotel or restaurant")),
    ("cooperative", _("cooperative")),
    ("government", _("government buyer")),
    ("other", _("other")),
]


class GroupKind(models.Model):
    """A kind of group and its level names, in order (a local setting:
    IR Pemula / Berkembang / Maju, UPPKA Dasar / Berkembang / Mandiri, ...)."""

    code = models.CharField(_("code"), max_length=20, primary_key=True)
    name = models.CharField(_("name"), max_length=120)
    levels = models.JSONField(_("level names, lowest first"), default=list, blank=True)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        verbose_name = _("group kind")
        verbose_name_plural = _("group kinds")
        ordering = ["position", "code"]

    def __str__(self) -> str:
        return self.name


class Group(models.Model):
    code = models.CharField(_("group code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=200)
    kind = models.ForeignKey(GroupKind, verbose_name=_("kind"), on_delete=models.PROTECT,
                             related_name="groups")
    village_code = models.CharField(_("village code"), max_length=13)
    agencies = models.ManyToManyField("agencies.Agency", verbose_name=_("supervising agencies"),
                                      blank=True, related_name="groups")
    founded_on = models.DateField(_("founded"), null=True, blank=True)
    sector = models.CharField(_("business sector"), max_length=120, blank=True)
    products = models.CharField(_("products"), max_length=300, blank=True)
    nib = models.CharField(_("NIB (business ID)"), max_length=20, blank=True)
    pirt = models.CharField(_("PIRT permit"), max_length=30, blank=True)
    halal = models.CharField(_("halal certificate"), max_length=40, blank=True)
    level = models.CharField(_("level"), max_length=40, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("group")
        verbose_name_plural = _("groups")
        ordering = ["village_code", "code"]
        indexes = [
            # Groups of a region subtree, by kind (lists, counts, live commitment counts).
            models.Index(fields=["village_code", "kind"], name="group_village_kind"),
            models.Index(fields=["kind", "village_code"], name="group_kind_village"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"

    @property
    def audit_region_code(self) -> str:
        return self.village_code


class GroupLevel(models.Model):
    """A group's level from a date on (history; the latest is Group.level)."""

    group = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="level_history")
    level = models.CharField(_("level"), max_length=40)
    since = models.DateField(_("since"))
    note = models.CharField(_("note"), max_length=300, blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                    on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["group_id", "since", "id"]

    def __str__(self) -> str:
        return f"{self.level} ({self.since})"


class GroupMember(models.Model):
    """A registry person in a group, with role and dates; left_on set = past."""

    group = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="members")
    person = models.ForeignKey("registry.Person", on_delete=models.PROTECT,
                               related_name="group_memberships")
    role = models.CharField(_("role"), max_length=12, choices=ROLE_CHOICES, default="anggota")
    joined_on = models.DateField(_("joined"), null=True, blank=True)
    left_on = models.DateField(_("left"), null=True, blank=True)

    class Meta:
        ordering = ["group_id", "id"]
        indexes = [
            # member_of(): a person's current groups; and members of a group.
            models.Index(fields=["person", "left_on"], name="groupmember_person"),
        ]
        constraints = [
            # One open membership of a person in a group at a time.
            models.UniqueConstraint(fields=["group", "person"], condition=Q(left_on__isnull=True),
                                    name="groupmember_one_open"),
        ]

    def __str__(self) -> str:
        return f"{self.person_id} in {self.group_id}"


class MarketPartner(models.Model):
    """Who buys from the group (a retail chain, a hotel) and what it takes."""

    group = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="partners")
    name = models.CharField(_("partner"), max_length=200)
    kind = models.CharField(_("kind"), max_length=12, choices=PARTNER_KIND_CHOICES)
    takes = models.CharField(_("what it takes"), max_length=300, blank=True)
    since = models.DateField(_("since"), null=True, blank=True)

    class Meta:
        ordering = ["group_id", "name"]

    def __str__(self) -> str:
        return self.name
