"""Demo groups and programs of Kepulauan Bangka Belitung, with enrollments.

Programs of the domain (IR by DP3ACSKB, UPPKA by DPPKB, PKH / BPNT / PBI by
Dinas Sosial, KUR with Dinas Koperasi & UKM, BUMDes by Dinas PMD, PIP by
Dinas Pendidikan, ...), groups with members and level history, targets per
kabupaten/kota, and enrollments with realistic targeting errors: about one
eligible family in five is missed (exclusion) and a few ineligible ones are
served (inclusion), so the convergence pages show something true about the
data. Everything is chosen set-at-a-time in SQL and written with bulk inserts;
choices are deterministic (by id), so the demo is the same on every run.
"""

import datetime

from django.utils import timezone

from sinergi.agencies.models import Agency
from sinergi.core.bulk import bulk_insert
from sinergi.regions.models import Region
from sinergi.registry import codes as registry_codes
from sinergi.registry.models import Household, Person

from . import eligibility, services
from .models import ACTIVE, GRADUATED, HOUSEHOLD, PERSON, PROPOSED, Enrollment, Program

# (code, owner short name, name, unit, benefit, value, rule, tags, served share %)
PROGRAMS = [
    ("PKH", "Dinsos", "Program Keluarga Harapan", HOUSEHOLD, "cash", 3_000_000,
     "desil <= 3", ["poverty", "kla_3"], 80),
    ("BPNT", "Dinsos", "Bantuan Pangan Non Tunai (Sembako)", HOUSEHOLD, "in_kind", 2_400_000,
     "desil <= 4", ["poverty"], 75),
    ("PBI-JK", "Dinsos", "Penerima Bantuan Iuran Jaminan Kesehatan", PERSON, "in_kind",
     504_000, "desil <= 4", ["poverty", "kla_3"], 70),
    ("PIP", "Disdik", "Program Indonesia Pintar", PERSON, "cash", 450_000,
     "age >= 6 and age <= 18 and desil <= 4", ["poverty", "kla_4"], 60),
    ("PELATIHAN-IR", "DP3ACSKB", "Pelatihan usaha Industri Rumahan bagi perempuan", PERSON,
     "training", 1_500_000, 'sex == "P" and age >= 18 and age <= 60 and desil <= 5',
     ["pug", "economy"], 10),
    ("KUR-MIKRO", "Dinkop UKM", "Pendampingan akses KUR usaha mikro", PERSON, "credit",
     10_000_000, "age >= 21 and age <= 60 and desil >= 3 and desil <= 7", ["economy"], 8),
    ("UPPKA-MODAL", "DPPKB", "Bantuan modal kelompok UPPKA", PERSON, "in_kind", 1_000_000,
     'kb and sex == "P" and desil <= 6', ["bangga_kencana", "economy"], 12),
    ("BUMDES-PENDAMPINGAN", "Dinas PMD", "Pendampingan BUMDes", "group", "mentoring", None,
     'kind == "BUMDES"', ["village"], 100),
    ("IR-PEMBINAAN", "DP3ACSKB", "Pembinaan Industri Rumahan", "group", "mentoring", None,
     'kind == "IR"', ["pug", "economy"], 100),
]

# (kind, groups per kabupaten/kota, member rule, level names to walk through)
GROUPS = [
    ("IR", 6, 'sex == "P" and age >= 18 and age <= 60', ["Pemula", "Berkembang", "Maju"]),
    ("UPPKA", 4, 'kb and sex == "P"', ["Dasar", "Berkembang"]),
    ("KWT", 2, 'sex == "P" and age >= 18', []),
    ("BUMDES", 2, "age >= 25", ["Perintis", "Pemula", "Berkembang"]),
]
MEMBERS = 8


def build(ctx) -> None:
    province = ctx.province
    if Program.objects.filter(owner_agency__region__code__startswith=province).exists():
        ctx.say(f"Programs: already present in province {province}; kept")
        return
    if not Person.objects.filter(village_code__gte=province + ".",
                                 village_code__lt=province + "/").exists():
        ctx.say("Programs: no registry in the demo province; skipped")
        return
    today = timezone.localdate()
    groups = _groups(province, today)
    programs = _programs(province, today)
    enrolled = sum(_enroll(p, province, today) for p in programs)
    from sinergi.convergence.models import RefreshRequest
    from sinergi.convergence.selectors import refresh

    refresh(region=province, year=today.year, today=today)
    RefreshRequest.objects.filter(region_code__startswith=province).delete()  # just done
    ctx.say(f"Programs: {len(programs)} programs, {groups} groups, {enrolled:,} enrollments "
            f"in {today.year} (with planted targeting errors)")


def _agency(province: str, short: str) -> Agency:
    return Agency.objects.get(region_id=province, short_name=short)


def _groups(province: str, today: datetime.date) -> int:
    from sinergi.groups import services as group_services
    from sinergi.groups.models import GroupKind

    made = 0
    kabs = list(Region.objects.filter(parent_id=province, retired_in="").order_by("code"))
    supervisors = {"IR": "DP3ACSKB", "UPPKA": "DPPKB", "KWT": "Distan", "BUMDES": "Dinas PMD"}
    for kind_code, per_kab, member_rule, levels in GROUPS:
        kind = GroupKind.objects.get(code=kind_code)
        for kab in kabs:
            villages = list(Region.objects.filter(code__startswith=kab.code + ".", level=4,
                                                  retired_in="").order_by("code")
                            .values_list("code", flat=True))
            for i in range(per_kab):
                village = villages[(i * 7 + len(kind_code)) % len(villages)]
                group = group_services.group_create(
                    actor=None, code=f"{kind_code}-{village}-{i + 1:02d}",
                    name=f"{kind.name} {village[-4:]}-{i + 1}", kind=kind_code,
                    village_code=village,
                    founded_on=today.replace(year=today.year - 1 - i % 4, day=1),
                    sector="pangan olahan" if kind_code == "IR" else "",
                    products="kerupuk, kemplang, getas" if kind_code == "IR" else "",
                    pirt=f"P-IRT {village[-4:]}{i}" if kind_code == "IR" and i % 2 else "",
                    agencies=[_agency(province, supervisors[kind_code]).pk])
                made += 1
                members = eligibility.eligible_queryset(member_rule, PERSON, today=today,
                                                        region=village)
                people = members.filter(nik__isnull=False).order_by("id")[:MEMBERS]
                for n, person in enumerate(people):
                    group_services.member_add(
                        actor=None, group=group, nik=person.nik,
                        role=["ketua", "sekretaris", "bendahara"][n] if n < 3 else "anggota",
                        joined_on=group.founded_on)
                for step, level in enumerate(levels[: 1 + i % len(levels)] if levels else []):
                    group_services.level_set(actor=None, group=group, level=level,
                                             since=group.founded_on.replace(
                                                 year=group.founded_on.year + step))
                if kind_code == "IR" and i % 3 == 0:
                    group_services.partner_add(
                        actor=None, group=group,
                        name="Swalayan Puncak" if i % 2 else "Hotel Novilla",
                        kind="retailer" if i % 2 else "hotel",
                        takes="kemplang dan kerupuk ikan, 200 bungkus per bulan")
    return made


def _programs(province: str, today: datetime.date) -> list[Program]:
    programs = []
    kabs = list(Region.objects.filter(parent_id=province, retired_in="").order_by("code"))
    for code, owner, name, unit, benefit, value, rule, tags, _share in PROGRAMS:
        program = services.program_create(
            actor=None, owner_agency=_agency(province, owner).pk, code=code, name=name,
            year_start=today.year - 2, unit=unit, benefit_type=benefit, benefit_value=value,
            rule=rule, tags=tags)
        eligible = eligibility.eligible_queryset(rule, unit, today=today, region=province)
        for kab in kabs:
            n = eligible.filter(village_code__gte=kab.code + ".",
                                village_code__lt=kab.code + "/").count()
            if n:
                services.target_set(actor=None, program=program, region=kab.code,
                                    year=today.year, count=max(1, n * 9 // 10),
                                    budget=(value or 0) * max(1, n * 9 // 10) or None)
        programs.append(program)
    return programs


def _enroll(program: Program, province: str, today: datetime.date) -> int:
    """Serve about ``share`` % of the eligible (by id, deterministic), plus a few
    of the ineligible (one in 40, the planted inclusion errors)."""
    share = next(p[8] for p in PROGRAMS if p[0] == program.code)
    model = {PERSON: Person, HOUSEHOLD: Household}.get(program.unit)
    if model is None:
        from sinergi.groups.models import Group
        model = Group
    eligible_q = eligibility.eligible_q(program.rule, program.unit, today=today)
    base = model.objects.filter(village_code__gte=province + ".",
                                village_code__lt=province + "/")
    if program.unit == PERSON:
        base = base.filter(life_status=registry_codes.ALIVE)
    chosen = list(base.filter(eligible_q).values_list("id", "village_code",
                                                      *(["household_id"] if program.unit
                                                        == PERSON else [])))
    chosen = [row for row in chosen if (row[0] * 37) % 100 < share]
    if program.unit in (PERSON, HOUSEHOLD):
        extra = base.exclude(eligible_q).values_list(
            "id", "village_code", *(["household_id"] if program.unit == PERSON else []))
        chosen += [row for row in extra if row[0] % 40 == 0]
    now = timezone.now()
    rows = []
    for row in chosen:
        pid, village = row[0], row[1]
        status = ACTIVE if pid % 11 else (PROPOSED if pid % 2 else GRADUATED)
        person = pid if program.unit == PERSON else None
        household = row[2] if program.unit == PERSON else (
            pid if program.unit == HOUSEHOLD else None)
        group = pid if program.unit not in (PERSON, HOUSEHOLD) else None
        rows.append((program.pk, today.year, person, household, group, village, status, "",
                     program.benefit_value, today.replace(month=1, day=1), now, now))
    bulk_insert(Enrollment._meta.db_table,
                ["program_id", "year", "person_id", "household_id", "group_id", "village_code",
                 "status", "status_reason", "benefit_value", "start_date", "created_at",
                 "updated_at"], rows)
    return len(rows)
