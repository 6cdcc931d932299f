"""Demo monitoring: three family-income rounds for the demo registry, UPPKA
groups that recruit poorer families between the second and the third
round, a planted effect, and two group-business rounds.

DEMO DATA, made up deterministically from the family's id: incomes follow
the family's desil, a village level and noise; every family gains a little
between rounds (a good year for all); the families that joined an UPPKA
group after the second round gain PLANTED_EFFECT more by the third. So the
impact page shows the naive before/after overstating the effect, members
against all non-members understating it (they were poorer to begin with),
and the matched difference-in-differences finding the planted figure.
"""

import datetime
import hashlib
import math

from django.utils import timezone

from sinergi.agencies.models import Agency
from sinergi.core.bulk import bulk_insert
from sinergi.groups import services as group_services
from sinergi.groups.models import Group, GroupKind, GroupMember
from sinergi.regions.codes import village_in_q
from sinergi.regions.models import Region
from sinergi.registry import codes as registry_codes
from sinergi.registry.models import Household, Person

from .models import BUSINESS, INCOME, LOCKED, OPEN, BusinessRecord, IncomeRecord, Round

PLANTED_EFFECT = 350_000  # rupiah per month, for families that joined after round 2
VILLAGES_PER_KAB = 8  # villages per kabupaten/kota with a new UPPKA group
OWNER = "DP3ACSKB"  # family planning sits here in Bangka Belitung


def _noise(*parts) -> float:
    """A standard-normal-ish number fixed by ``parts`` (Box-Muller of two hashes)."""
    digest = hashlib.sha256("|".join(map(str, parts)).encode()).digest()
    u1 = (int.from_bytes(digest[:4], "big") + 1) / (2**32 + 1)
    u2 = int.from_bytes(digest[4:8], "big") / 2**32
    return math.sqrt(-2 * math.log(u1)) * math.cos(2 * math.pi * u2)


def _share(*parts) -> float:
    digest = hashlib.sha256("|".join(map(str, parts)).encode()).digest()
    return int.from_bytes(digest[:4], "big") / 2**32


def build(ctx) -> None:
    province = ctx.province
    if Round.objects.filter(region_id=province).exists():
        ctx.say(f"Monitoring: rounds already present in province {province}; kept")
        return
    try:
        owner = Agency.objects.get(region_id=province, short_name=OWNER)
        region = Region.objects.get(code=province)
    except (Agency.DoesNotExist, Region.DoesNotExist):
        ctx.say("Monitoring: no demo province or agency; skipped")
        return
    families = list(Household.objects.filter(village_in_q("village_code", province),
                                             is_active=True)
                    .values_list("id", "village_code", "desil"))
    if not families:
        ctx.say("Monitoring: no registry in the demo province; skipped")
        return
    year = timezone.localdate().year
    d = datetime.date
    rounds = [
        Round.objects.create(name=f"Pendapatan keluarga {year - 1} semester 1", kind=INCOME,
                             starts_on=d(year - 1, 3, 1), ends_on=d(year - 1, 4, 30),
                             region=region, owner_agency=owner, instrument="v1",
                             status=LOCKED),
        Round.objects.create(name=f"Pendapatan keluarga {year - 1} semester 2", kind=INCOME,
                             starts_on=d(year - 1, 9, 1), ends_on=d(year - 1, 10, 31),
                             region=region, owner_agency=owner, instrument="v1",
                             status=LOCKED),
        Round.objects.create(name=f"Pendapatan keluarga {year}", kind=INCOME,
                             starts_on=d(year, 9, 1), ends_on=d(year, 10, 31), region=region,
                             owner_agency=owner, instrument="v1", status=OPEN),
    ]
    _recruit(province, owner, rounds[1].ends_on, rounds[2].starts_on)
    # Every family with a woman who joined an UPPKA group after round 2 and
    # before round 3's fieldwork gains (the programs' demo founds some groups in that span too).
    members = set(GroupMember.objects.filter(
        group__kind="UPPKA", joined_on__gt=rounds[1].ends_on,
        joined_on__lte=rounds[2].starts_on).values_list("person__household_id", flat=True))
    _incomes(rounds, families, members)
    business = [
        Round.objects.create(name=f"Usaha kelompok {year - 1}", kind=BUSINESS,
                             starts_on=d(year - 1, 10, 1), ends_on=d(year - 1, 10, 31),
                             region=region, owner_agency=owner, status=LOCKED),
        Round.objects.create(name=f"Usaha kelompok {year}", kind=BUSINESS,
                             starts_on=d(year, 10, 1), ends_on=d(year, 10, 31), region=region,
                             owner_agency=owner, status=OPEN),
    ]
    moved = _business(province, business)
    ctx.say(f"Monitoring: 3 income rounds of {len(families):,} families, {len(members):,} "
            f"families joined UPPKA after round 2 (planted effect Rp {PLANTED_EFFECT:,} a "
            f"month), 2 business rounds, {moved} groups moved up a level")


def _recruit(province: str, owner: Agency, after: datetime.date,
             before: datetime.date) -> None:
    """New UPPKA groups in VILLAGES_PER_KAB villages of every kab/kota; each
    recruits a woman of about a third of the village's poorer families (desil
    1-4) and a tenth of the others."""
    kind = GroupKind.objects.get(code="UPPKA")
    already = set(GroupMember.objects.filter(group__kind=kind)
                  .values_list("person__household_id", flat=True))
    span = (before - after).days - 2
    for kab in Region.objects.filter(parent_id=province, retired_in="").order_by("code"):
        villages = list(Region.objects.filter(code__startswith=kab.code + ".", level=4,
                                              retired_in="").order_by("code")
                        .values_list("code", flat=True))
        step = max(len(villages) // VILLAGES_PER_KAB, 1)
        for n, village in enumerate(villages[::step][:VILLAGES_PER_KAB]):
            group = None
            women = (Person.objects.filter(village_code=village, sex="P",
                                           life_status=registry_codes.ALIVE,
                                           nik__isnull=False, household__isnull=False)
                     .select_related("household").order_by("household_id", "id"))
            seen = set()
            for person in women:
                hh = person.household
                if hh.pk in seen or hh.pk in already:
                    continue
                seen.add(hh.pk)
                chance = 0.35 if (hh.desil or 6) <= 4 else 0.10
                if _share("join", hh.pk) >= chance:
                    continue
                if group is None:
                    group = group_services.group_create(
                        actor=None, code=f"UPPKA-{village}-B{n + 1:02d}",
                        name=f"UPPKA Baru {village[-4:]}", kind="UPPKA",
                        village_code=village, founded_on=after + datetime.timedelta(days=1),
                        agencies=[owner.pk])
                joined = after + datetime.timedelta(days=1 + int(_share("day", hh.pk) * span))
                group_services.member_add(actor=None, group=group, nik=person.nik,
                                          joined_on=joined)


def _incomes(rounds: list[Round], families, members: set[int]) -> None:
    now = timezone.now()
    rows = []
    for n, rnd in enumerate(rounds):
        growth = (1.0, 1.03, 1.09)[n]
        for hh, village, desil in families:
            level = 900_000 + 260_000 * (desil or 6) + 150_000 * _noise("village", village)
            usual = max(level + 350_000 * _noise("family", hh), 300_000)
            total = usual * growth + 120_000 * _noise("round", n, hh)
            if n == 2:
                total += 80_000 * _noise("shock", village)
                if hh in members:
                    total += PLANTED_EFFECT
            total = int(max(total, 100_000) // 1000 * 1000)
            farming = int(total * 0.4 // 1000 * 1000) if int(village[-4:]) % 3 == 0 else 0
            transfers = 200_000 if (desil or 6) <= 2 else 0
            wages = max(total - farming - transfers, 0)
            rows.append((rnd.pk, hh, village, wages, 0, farming, transfers, 0,
                         wages + farming + transfers, None, None, "Kader demo",
                         rnd.ends_on, "", now, now))
    bulk_insert(IncomeRecord._meta.db_table,
                ["round_id", "household_id", "village_code", "wages", "business", "farming",
                 "transfers", "other", "total", "expenditure", "assets", "enumerator",
                 "recorded_on", "flags", "created_at", "updated_at"], rows)


def _business(province: str, rounds: list[Round]) -> int:
    """Two business rounds for every group; a third of the IR groups move up
    a level between them and their business grows with it."""
    now = timezone.now()
    rows, moved = [], 0
    groups = list(Group.objects.filter(village_in_q("village_code", province))
                  .select_related("kind").order_by("pk"))
    between = rounds[0].ends_on + datetime.timedelta(days=150)
    for g in groups:
        levels = list(g.kind.levels or [])
        climbs = g.kind.code == "IR" and g.pk % 3 == 1 and g.level in levels[:-1]
        if climbs:
            group_services.level_set(actor=None, group=g, level=levels[levels.index(g.level) + 1],
                                     since=between, note="Data demo")
            moved += 1
        base = {"IR": 6_000_000, "UPPKA": 3_000_000, "KWT": 2_500_000,
                "BUMDES": 15_000_000}.get(g.kind.code, 3_000_000)
        for n, rnd in enumerate(rounds):
            growth = 1.0 + n * (0.45 if climbs else 0.06)
            turnover = int(base * growth * (1 + 0.2 * _noise("turnover", g.pk, n)) // 1000
                           * 1000)
            turnover = max(turnover, 500_000)
            costs = int(turnover * (0.62 - 0.04 * n * climbs) // 1000 * 1000)
            members = 8
            rows.append((rnd.pk, g.pk, g.village_code, turnover, costs, turnover - costs,
                         members - (n == 0 and g.pk % 4 == 0), members, g.products,
                         turnover // 5 if g.kind.code == "IR" else None, rnd.ends_on, "",
                         now, now))
    bulk_insert(BusinessRecord._meta.db_table,
                ["round_id", "group_id", "village_code", "turnover", "costs", "profit",
                 "members_active", "members_total", "products", "partner_sales",
                 "recorded_on", "flags", "created_at", "updated_at"], rows)
    return moved
