"""Monitoring on the database: rounds and their status, recording a family's
income (with screening), the round import (all or nothing, with row and
column), scope for every persona, panels, business progress, the rakor
brief's section and audited exports. The statistics are tested on their
own in test_monitoring_impact.py."""

import datetime
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import Workbook

from sinergi.core.errors import AccessDenied, NotInScope, SinergiError
from sinergi.core.models import AuditLog
from sinergi.groups.models import Group, GroupLevel, GroupMember
from sinergi.monitoring import selectors, services, sheet
from sinergi.monitoring.models import BUSINESS, INCOME, OUTLIER, IncomeRecord, Round
from sinergi.regions.models import Region
from sinergi.registry.models import Household, Person

from .conftest import KAB, OUTSIDE_KAB, agency


def village_of(world) -> str:
    return world["operator"].region_id


def other_village(exclude: str, root: str = KAB) -> str:
    return (Region.objects.filter(code__startswith=root + ".", level=4)
            .exclude(code=exclude).order_by("code").first().code)


def family(village: str, n: int, *, desil: int | None = 3, sex: str = "P") -> Household:
    prefix = village.replace(".", "")[:6]
    hh = Household.objects.create(kk_number=f"{prefix}{n:010d}", village_code=village,
                                  desil=desil, address=f"Jalan {n}", rt="001", rw="002")
    Person.objects.create(nik=f"{prefix}{n:010d}",
                          name=f"Kepala {n}", sex=sex, household=hh, shdk=1,
                          village_code=village, birth_date=datetime.date(1985, 1, 1))
    return hh


def a_round(kind=INCOME, *, region=KAB, name="Putaran", ends=datetime.date(2026, 4, 30),
            owner="DP3ACSKB") -> Round:
    return Round.objects.create(name=name, kind=kind, region_id=region,
                                owner_agency=agency(owner, region if len(region) == 5 else KAB),
                                starts_on=ends - datetime.timedelta(days=60), ends_on=ends)


def csv_upload(rows: list[str], name: str = "putaran.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, "\n".join(rows).encode())


# --- rounds ---------------------------------------------------------------------------


def test_a_round_goes_open_closed_locked_and_a_locked_round_never_changes(world):
    coordinator = world["coordinator"]
    rnd = services.round_create(actor=coordinator, name="Pendapatan 2026", kind=INCOME,
                                starts_on="2026-03-01", ends_on="2026-04-30", region=KAB,
                                owner_agency=agency("DP3ACSKB").pk)
    with pytest.raises(SinergiError) as exc:
        services.round_update(actor=coordinator, rnd=rnd, status="locked")
    assert exc.value.field == "status"
    rnd = services.round_update(actor=coordinator, rnd=rnd, status="closed")
    rnd = services.round_update(actor=coordinator, rnd=rnd, status="open")
    rnd = services.round_update(actor=coordinator, rnd=rnd, status="closed")
    rnd = services.round_update(actor=coordinator, rnd=rnd, status="locked")
    with pytest.raises(SinergiError, match="locked"):
        services.round_update(actor=coordinator, rnd=rnd, name="Renamed")
    assert Round.objects.get(pk=rnd.pk).name == "Pendapatan 2026"
    assert AuditLog.objects.filter(action="round.update", object_id=str(rnd.pk)).count() == 4


def test_rounds_refuse_a_backwards_period_and_an_officer_of_another_agency(world):
    with pytest.raises(SinergiError) as exc:
        services.round_create(actor=world["coordinator"], name="X", kind=INCOME,
                              starts_on="2026-05-01", ends_on="2026-04-30", region=KAB,
                              owner_agency=agency("DP3ACSKB").pk)
    assert exc.value.field == "ends_on"
    with pytest.raises(AccessDenied):
        services.round_create(actor=world["officer"], name="X", kind=INCOME,
                              starts_on="2026-03-01", ends_on="2026-04-30", region=KAB,
                              owner_agency=agency("Dinsos").pk)
    other = a_round(owner="Dinsos")
    with pytest.raises(AccessDenied):
        services.round_update(actor=world["officer"], rnd=other, status="closed")


# --- recording a family's income ----------------------------------------------------------


def test_recording_sums_the_sources_corrects_in_place_and_is_audited(world):
    operator, rnd = world["operator"], a_round()
    hh = family(village_of(world), 1)
    rec = services.income_record_save(actor=operator, rnd=rnd, household=hh,
                                      wages="1.500.000", farming="Rp 250.000", transfers=0)
    assert (rec.wages, rec.farming, rec.total, rec.village_code) == (
        1_500_000, 250_000, 1_750_000, hh.village_code)
    rec = services.income_record_save(actor=operator, rnd=rnd, household=hh, wages=1_000_000)
    assert IncomeRecord.objects.filter(round=rnd, household=hh).count() == 1
    assert IncomeRecord.objects.get(round=rnd, household=hh).total == 1_000_000
    assert AuditLog.objects.filter(action="income.record").count() == 2


@pytest.mark.parametrize(("field", "value", "words"), [
    ("wages", "-5000", "negative"), ("business", "satu juta", "not a number"),
    ("farming", "1500,50", "whole rupiah")])
def test_a_bad_amount_names_its_field(world, field, value, words):
    rnd, hh = a_round(), family(village_of(world), 2)
    with pytest.raises(SinergiError, match=words) as exc:
        services.income_record_save(actor=world["operator"], rnd=rnd, household=hh,
                                    **{field: value})
    assert exc.value.field == field
    assert not IncomeRecord.objects.exists()


def test_a_village_operator_records_only_the_own_village_and_an_open_round(world):
    operator, rnd = world["operator"], a_round()
    elsewhere = family(other_village(village_of(world)), 3)
    with pytest.raises(NotInScope):
        services.income_record_save(actor=operator, rnd=rnd, household=elsewhere, wages=1)
    # The coordinator of the kabupaten may; a family outside the round's region may not.
    services.income_record_save(actor=world["coordinator"], rnd=rnd, household=elsewhere,
                                wages=1)
    narrow = a_round(region=village_of(world), name="Desa saja")
    with pytest.raises(SinergiError, match="outside the round's region"):
        services.income_record_save(actor=world["coordinator"], rnd=narrow,
                                    household=elsewhere, wages=1)
    rnd.status = "closed"
    rnd.save()
    with pytest.raises(SinergiError, match="only while it is open"):
        services.income_record_save(actor=world["coordinator"], rnd=rnd, household=elsewhere,
                                    wages=2)
    assert IncomeRecord.objects.get(household=elsewhere, round=rnd).total == 1


def test_a_total_far_from_the_village_asks_for_confirmation_then_is_flagged(world):
    operator, rnd, village = world["operator"], a_round(), village_of(world)
    for n in range(6):
        services.income_record_save(actor=operator, rnd=rnd, household=family(village, 10 + n),
                                    wages=1_500_000 + n * 50_000)
    odd = family(village, 20)
    with pytest.raises(services.NeedsConfirmation):
        services.income_record_save(actor=operator, rnd=rnd, household=odd, wages=45_000_000)
    assert not IncomeRecord.objects.filter(household=odd).exists()
    rec = services.income_record_save(actor=operator, rnd=rnd, household=odd,
                                      wages=45_000_000, confirm=True)
    assert rec.flags == OUTLIER
    usual = services.income_record_save(actor=operator, rnd=rnd, household=family(village, 21),
                                        wages=1_600_000)
    assert usual.flags == ""


def test_the_entry_page_lists_missing_families_first_and_walks_to_the_next(world, client_of):
    operator, rnd, village = world["operator"], a_round(), village_of(world)
    first, second, third = (family(village, n) for n in (31, 32, 33))
    services.income_record_save(actor=operator, rnd=rnd, household=first, wages=1_000_000)
    rows, missing = selectors.entry_list(operator, rnd, village)
    assert missing == 2 and [r.household for r in rows] == [second, third, first]
    client = client_of("operator")
    response = client.post(f"/monitoring/rounds/{rnd.pk}/family/{second.pk}/",
                           {"wages": "1200000", "next": "1"})
    assert response.status_code == 302
    assert response["Location"] == f"/monitoring/rounds/{rnd.pk}/family/{third.pk}/"
    page = client.get(f"/monitoring/rounds/{rnd.pk}/village/{village}/")
    assert page.status_code == 200 and "1 family still has no income" in page.content.decode()
    refused = client.post(f"/monitoring/rounds/{rnd.pk}/family/{third.pk}/",
                          {"wages": "-1"})
    assert refused.status_code == 400 and "cannot be negative" in refused.content.decode()


# --- the round import -----------------------------------------------------------------------


HEADER = "No KK,Upah/Gaji,Usaha sendiri,Pertanian/Perikanan,Bantuan/Kiriman,Lainnya,Tanggal"


def test_a_round_file_lands_whole_and_replaces_earlier_records(world):
    coordinator, rnd, village = world["coordinator"], a_round(), village_of(world)
    a, b = family(village, 41), family(other_village(village), 42)
    services.income_record_save(actor=coordinator, rnd=rnd, household=a, wages=1)
    result = sheet.income_import(actor=coordinator, rnd=rnd, upload=csv_upload([
        HEADER, f"{a.kk_number},1.500.000,0,250000,,0,15/03/2026",
        f"'{b.kk_number},900000,100000,0,0,0,"]))
    assert result.ok, result.problems
    assert result.created == 2
    got = {r.household_id: r for r in IncomeRecord.objects.filter(round=rnd)}
    assert (got[a.pk].total, got[a.pk].recorded_on, got[a.pk].import_line) == (
        1_750_000, datetime.date(2026, 3, 15), 2)
    assert (got[b.pk].total, got[b.pk].village_code) == (1_000_000, b.village_code)
    assert any("already recorded" in w for w in result.warnings)
    assert AuditLog.objects.filter(action="income.import").count() == 1


def test_a_bad_round_file_is_refused_whole_with_row_and_column(world):
    """A family outside the uploader's village, a negative income, text in a
    rupiah cell and a family twice: every problem listed, nothing written."""
    operator, rnd, village = world["operator"], a_round(), village_of(world)
    own, own2 = family(village, 51), family(village, 52)
    outside = family(other_village(village), 53)
    services.income_record_save(actor=operator, rnd=rnd, household=own, wages=777_000)
    before = list(IncomeRecord.objects.values_list("household_id", "total"))
    result = sheet.income_import(actor=operator, rnd=rnd, upload=csv_upload([
        HEADER,
        f"{own.kk_number},1500000,0,0,0,0,",
        f"{outside.kk_number},1500000,0,0,0,0,",
        f"{own2.kk_number},-250000,0,0,0,0,",
        f"{own2.kk_number},1000000,sejuta,0,0,0,",
        "12345,1000000,0,0,0,0,",
    ]))
    assert not result.ok and result.created == 0
    where = {(p.row, p.column): p for p in result.problems}
    assert "No family with this KK number in your area" in where[(3, "No KK")].message
    assert "cannot be negative" in where[(4, "Upah/Gaji")].message
    assert where[(4, "Upah/Gaji")].value == "-250000"
    assert "Not a rupiah amount" in where[(5, "Usaha sendiri")].message
    assert "appears earlier in the file (row 4)" in where[(5, "No KK")].message
    assert "16 digits" in where[(6, "No KK")].message
    assert list(IncomeRecord.objects.values_list("household_id", "total")) == before
    assert not AuditLog.objects.filter(action="income.import").exists()


def test_an_xlsx_round_file_of_two_regions_keeps_the_scope(world):
    """The coordinator of 19.04 imports a workbook holding a family of 18.06:
    refused; without it, the 19.04 families land and 18.06 stays untouched."""
    coordinator, village = world["coordinator"], village_of(world)
    rnd = a_round(region="19", name="Provinsi")
    own = family(village, 61)
    foreign = family(Region.objects.filter(code__startswith=OUTSIDE_KAB + ".", level=4)
                     .order_by("code").first().code, 62)

    def workbook(families):
        wb = Workbook()
        ws = wb.active
        ws.append(["Daftar pendapatan keluarga"])  # a title row above the header
        ws.append(["No KK", "Upah/Gaji", "Pertanian/Perikanan", "Pencacah"])
        for hh in families:
            ws.append([hh.kk_number, 1_250_000, 300_000.0, "Kader Melati"])
        buffer = io.BytesIO()
        wb.save(buffer)
        return SimpleUploadedFile("putaran.xlsx", buffer.getvalue())

    refused = sheet.income_import(actor=coordinator, rnd=rnd, upload=workbook([own, foreign]))
    assert [(p.column, "in your area" in p.message) for p in refused.problems] == [
        ("No KK", True)]
    assert not IncomeRecord.objects.exists()
    landed = sheet.income_import(actor=coordinator, rnd=rnd, upload=workbook([own]))
    assert landed.ok and landed.created == 1
    rec = IncomeRecord.objects.get()
    assert (rec.household_id, rec.total, rec.enumerator) == (own.pk, 1_550_000, "Kader Melati")


def test_the_api_import_answers_problems_with_400(world, client_of):
    rnd, village = a_round(), village_of(world)
    own = family(village, 71)
    client = client_of("operator")
    bad = client.post(f"/api/v1/monitoring/rounds/{rnd.pk}/import",
                      {"file": csv_upload([HEADER, f"{own.kk_number},abc,0,0,0,0,"])})
    assert bad.status_code == 400
    body = bad.json()
    assert body["created"] == 0 and body["problems"][0]["row"] == 2
    assert body["problems"][0]["column"] == "Upah/Gaji"
    good = client.post(f"/api/v1/monitoring/rounds/{rnd.pk}/import",
                       {"file": csv_upload([HEADER, f"{own.kk_number},100000,0,0,0,0,"])})
    assert good.status_code == 200 and good.json()["created"] == 1


# --- reading in scope --------------------------------------------------------------------------


def test_family_incomes_are_read_in_scope_only(world, client_of):
    rnd, village = a_round(), village_of(world)
    own, other = family(village, 81), family(other_village(village), 82)
    for hh in (own, other):
        services.income_record_save(actor=world["coordinator"], rnd=rnd, household=hh,
                                    wages=2_000_000)
    operator = client_of("operator")
    assert operator.get(f"/monitoring/families/{own.pk}/").status_code == 200
    assert operator.get(f"/monitoring/families/{other.pk}/").status_code == 404
    listed = operator.get(f"/api/v1/monitoring/rounds/{rnd.pk}/incomes?village="
                          f"{other.village_code}")
    assert listed.status_code == 200 and listed.json() == []
    mine = operator.get(f"/api/v1/monitoring/rounds/{rnd.pk}/incomes?village={village}")
    assert [r["household_id"] for r in mine.json()] == [own.pk]
    assert client_of("anonymous").get("/monitoring/").status_code == 302
    assert client_of("anonymous").get("/api/v1/monitoring/rounds").status_code == 401
    assert client_of("outsider").get(f"/api/v1/monitoring/families/{own.pk}/incomes") \
        .status_code == 404


def test_a_panel_hides_medians_of_fewer_than_five_families(world):
    coordinator, village = world["coordinator"], village_of(world)
    early = a_round(name="Awal", ends=datetime.date(2025, 4, 30))
    late = a_round(name="Akhir", ends=datetime.date(2026, 4, 30))
    group = Group.objects.create(code="UPPKA-T1", name="UPPKA Mawar", kind_id="UPPKA",
                                 village_code=village)
    group.agencies.add(agency("DP3ACSKB"))
    families = [family(village, 90 + n) for n in range(6)]
    for n, hh in enumerate(families):
        GroupMember.objects.create(group=group, person=hh.members.get(),
                                   joined_on=datetime.date(2025, 1, 1) if n < 3
                                   else datetime.date(2025, 8, 1))
        services.income_record_save(actor=coordinator, rnd=early, household=hh,
                                    wages=1_000_000 + n * 100_000)
        services.income_record_save(actor=coordinator, rnd=late, household=hh,
                                    wages=2_000_000 + n * 100_000)
    subject = selectors.subject_of(coordinator, group=group.pk)
    points = selectors.panel_of(coordinator, subject)
    assert [(p.round.name, p.families) for p in points] == [("Awal", 3), ("Akhir", 6)]
    assert points[0].median is None and points[0].mean is None  # 3 families: hidden
    assert points[1].median == 2_250_000 and points[1].mean == 2_250_000
    with pytest.raises(AccessDenied):
        selectors.subject_of(world["officer"], group=Group.objects.create(
            code="UPPKA-T2", name="Lain", kind_id="UPPKA", village_code=village).pk)


# --- group business ----------------------------------------------------------------------------


def test_business_records_and_the_groups_that_moved_up(world, client_of):
    coordinator, village = world["coordinator"], village_of(world)
    first = a_round(BUSINESS, name="Usaha 2025", ends=datetime.date(2025, 10, 31))
    second = a_round(BUSINESS, name="Usaha 2026", ends=datetime.date(2026, 10, 31))
    ir = Group.objects.create(code="IR-T1", name="IR Melati", kind_id="IR", village_code=village,
                              level="Berkembang")
    GroupLevel.objects.create(group=ir, level="Pemula", since=datetime.date(2024, 1, 1))
    GroupLevel.objects.create(group=ir, level="Berkembang", since=datetime.date(2026, 2, 1))
    rec = services.business_record_save(actor=coordinator, rnd=first, group=ir,
                                        turnover="5.000.000", costs="3.500.000",
                                        members_active=6, members_total=8)
    assert rec.profit == 1_500_000
    services.business_record_save(actor=coordinator, rnd=second, group=ir, turnover=9_000_000,
                                  costs=5_000_000)
    with pytest.raises(SinergiError) as exc:
        services.business_record_save(actor=coordinator, rnd=second, group=ir, turnover=1,
                                      costs=1, members_active=9, members_total=8)
    assert exc.value.field == "members_active"
    with pytest.raises(SinergiError, match="collects group business, not family income"):
        services.income_record_save(actor=coordinator, rnd=first, household=family(village, 99),
                                    wages=1)
    subject = selectors.subject_of(coordinator, kind="IR", region=KAB)
    progress = selectors.business_progress(coordinator, subject)
    moved = [p for p in progress if p.moves]
    assert [(p.group, p.before.profit, p.after.profit) for p in moved] == [
        (ir, 1_500_000, 4_000_000)]
    page = client_of("coordinator").get(f"/monitoring/business/?kind=IR&region={KAB}")
    assert page.status_code == 200 and "IR Melati" in page.content.decode()


# --- exports, the brief ----------------------------------------------------------------------


def test_exports_of_incomes_are_audited(world, client_of):
    rnd, village = a_round(), village_of(world)
    services.income_record_save(actor=world["operator"], rnd=rnd,
                                household=family(village, 101), wages=1_000_000)
    response = client_of("operator").get(f"/monitoring/rounds/{rnd.pk}/export.xlsx")
    assert response.status_code == 200
    log = AuditLog.objects.get(action="round.export")
    assert log.after == {"rows": 1} and log.actor_id == world["operator"].pk


def test_the_region_brief_has_a_monitoring_section(world):
    from sinergi.meetings.briefs import brief_context

    coordinator, village = world["coordinator"], village_of(world)
    rnd = a_round()
    for n in range(5):
        services.income_record_save(actor=coordinator, rnd=rnd,
                                    household=family(village, 110 + n), wages=1_000_000 + n)
    context = brief_context(scope_root=KAB, region=Region.objects.get(code=KAB))
    section = next(s for s in context["sections"] if "did joining" in s["title"])
    assert any("5 families recorded, median income Rp 1,000,002" in line
               for line in section["lines"])


@pytest.mark.slow
def test_the_demo_s_verdict_is_the_planted_effect(world, capsys):
    """The default demo plants Rp 350.000 a month for families that joined
    UPPKA after the second round, recruiting poorer families: the analysis
    finds it (the interval covers it, the verdict says it rose), the naive
    before/after overstates it and the page says so in words."""
    from django.test import Client

    from sinergi.accounts.models import User
    from sinergi.demo import DemoContext, demo_build
    from sinergi.monitoring.demo import PLANTED_EFFECT

    demo_build(DemoContext())
    capsys.readouterr()
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(User.objects.get(username="koordinator"))
    rounds = list(Round.objects.filter(kind=INCOME, region_id="19").order_by("ends_on"))
    response = client.get(f"/api/v1/monitoring/impact?kind=UPPKA&region=19"
                          f"&baseline={rounds[1].pk}&followup={rounds[2].pk}")
    assert response.status_code == 200
    body = response.json()
    main = body["main"]
    assert body["verdict"] == "up", body["reasons"]
    assert main["lower"] <= PLANTED_EFFECT <= main["upper"]
    assert body["naive_before_after"] > main["upper"]
    assert body["placebo"] is not None and body["placebo"]["lower"] <= 0 <= \
        body["placebo"]["upper"]
    page = client.get(f"/monitoring/impact/?kind=UPPKA&region=19&baseline={rounds[1].pk}"
                      f"&followup={rounds[2].pk}").content.decode()
    assert "Income rose clearly" in page and "Both mislead" in page


def test_a_kk_stored_as_an_excel_number_or_two_columns_of_one_source_are_refused(world):
    """Excel keeps 15 digits of a number: a KK typed as a number may end in a
    0 that is another family's; two columns of the same income are not
    silently dropped."""
    coordinator, rnd, village = world["coordinator"], a_round(), village_of(world)
    own = family(village, 120)  # its KK ends in 0: as a number, it may be a rounded one
    wb = Workbook()
    ws = wb.active
    ws.append(["No KK", "Upah/Gaji"])
    ws.append([int(own.kk_number), 1_000_000])
    buffer = io.BytesIO()
    wb.save(buffer)
    result = sheet.income_import(actor=coordinator, rnd=rnd,
                                 upload=SimpleUploadedFile("angka.xlsx", buffer.getvalue()))
    assert not result.ok and not IncomeRecord.objects.exists()
    assert [(p.row, p.column) for p in result.problems] == [(2, "No KK")]
    assert "15 digits" in result.problems[0].message
    with pytest.raises(SinergiError, match="'Upah', 'Gaji' hold the same kind of income"):
        sheet.income_import(actor=coordinator, rnd=rnd, upload=csv_upload([
            "No KK,Upah,Gaji", f"{own.kk_number},100000,200000"]))


def test_an_officer_s_kind_analysis_counts_the_own_agency_s_groups_only(world):
    """The officer of DP3ACSKB analyses UPPKA of 19.04: the members of a
    group another agency supervises are not counted as members, and stay out
    of the comparison (they are no never-members either)."""
    village = village_of(world)
    base = a_round(name="Awal", ends=datetime.date(2025, 4, 30))
    follow = a_round(name="Akhir", ends=datetime.date(2026, 4, 30))
    own_group = Group.objects.create(code="UPPKA-O", name="Own", kind_id="UPPKA",
                                     village_code=village)
    own_group.agencies.add(agency("DP3ACSKB"))
    other_group = Group.objects.create(code="UPPKA-X", name="Other", kind_id="UPPKA",
                                       village_code=village)
    other_group.agencies.add(agency("Dinsos"))
    mine, theirs, never = family(village, 131), family(village, 132), family(village, 133)
    joined = datetime.date(2025, 8, 1)
    GroupMember.objects.create(group=own_group, person=mine.members.get(), joined_on=joined)
    GroupMember.objects.create(group=other_group, person=theirs.members.get(),
                               joined_on=joined)
    for rnd in (base, follow):
        for hh in (mine, theirs, never):
            IncomeRecord.objects.create(round=rnd, household=hh, village_code=village,
                                        wages=1_000_000, total=1_000_000)
    officer = world["officer"]
    subject = selectors.subject_of(officer, kind="UPPKA", region=KAB)
    data = selectors.impact_data(selectors.income_rounds(officer, KAB), subject, base, follow)
    status = dict(zip(data.panel.family.tolist(), zip(
        data.panel.treated.tolist(), data.panel.cohort.tolist(), strict=True), strict=True))
    assert status == {mine.pk: (True, 1), theirs.pk: (False, -1), never.pk: (False, 0)}
    coordinator = selectors.subject_of(world["coordinator"], kind="UPPKA", region=KAB)
    data = selectors.impact_data(selectors.income_rounds(officer, KAB), coordinator, base,
                                 follow)
    assert int(data.panel.treated.sum()) == 2


def test_a_program_s_members_are_the_families_its_served_enrollments_reached(world):
    """Served enrollments of families and of groups (their members'
    families) count; a proposed one is neither member nor comparison; a
    member who joined during the follow-up's fieldwork is left out."""
    from sinergi.programs.models import Enrollment, Program

    village = village_of(world)
    base = a_round(name="Awal", ends=datetime.date(2025, 4, 30))
    follow = a_round(name="Akhir", ends=datetime.date(2026, 4, 30))  # fieldwork from 1 March
    program = Program.objects.create(owner_agency=agency("Dinsos"), code="KUBE-T", name="KUBE",
                                     year_start=2025, unit="household")
    served, proposed, grouped, late, never = (family(village, 140 + n) for n in range(5))
    Enrollment.objects.create(program=program, year=2025, household=served, status="active",
                              village_code=village, start_date=datetime.date(2025, 7, 1))
    Enrollment.objects.create(program=program, year=2025, household=proposed,
                              status="proposed", village_code=village,
                              start_date=datetime.date(2025, 7, 1))
    group = Group.objects.create(code="KUBE-G1", name="KUBE", kind_id="IR", village_code=village)
    Enrollment.objects.create(program=program, year=2025, group=group, status="active",
                              village_code=village, start_date=datetime.date(2025, 6, 1))
    GroupMember.objects.create(group=group, person=grouped.members.get(),
                               joined_on=datetime.date(2025, 9, 1))
    GroupMember.objects.create(group=group, person=late.members.get(),
                               joined_on=datetime.date(2026, 3, 15))
    for rnd in (base, follow):
        for hh in (served, proposed, grouped, late, never):
            IncomeRecord.objects.create(round=rnd, household=hh, village_code=village,
                                        wages=1_000_000, total=1_000_000)
    coordinator = world["coordinator"]
    subject = selectors.subject_of(coordinator, program=program.pk, region=KAB)
    data = selectors.impact_data(selectors.income_rounds(coordinator, KAB), subject, base,
                                 follow)
    status = dict(zip(data.panel.family.tolist(), data.panel.cohort.tolist(), strict=True))
    assert status == {served.pk: 1, proposed.pk: -1, grouped.pk: 1, late.pk: -1, never.pk: 0}


def test_save_and_next_follows_the_list_s_order_and_the_api_refuses_negative_members(
        world, client_of):
    operator, rnd, village = world["operator"], a_round(), village_of(world)
    first, second, third = (family(village, n) for n in (151, 152, 153))
    Household.objects.filter(pk=first.pk).update(rt="002")
    Household.objects.filter(pk=second.pk).update(rt="003")
    Household.objects.filter(pk=third.pk).update(rt="001")
    order = [r.household.pk for r in selectors.entry_list(operator, rnd, village)[0]]
    assert order[:3] == [third.pk, first.pk, second.pk]
    following = selectors.next_missing(rnd, village, Household.objects.get(pk=third.pk))
    assert following.pk == first.pk
    group = Group.objects.create(code="IR-N", name="IR", kind_id="IR", village_code=village)
    business = a_round(BUSINESS, name="Usaha")
    response = client_of("operator").post(
        f"/api/v1/monitoring/rounds/{business.pk}/business",
        data={"group": group.pk, "turnover": "1000", "costs": "10", "members_active": -1},
        content_type="application/json")
    assert response.status_code == 400
    assert "cannot be negative" in response.content.decode()


def test_a_total_confirmed_far_from_its_village_stays_on_record_but_out_of_the_analysis(world):
    village = village_of(world)
    base = a_round(name="Awal", ends=datetime.date(2025, 4, 30))
    follow = a_round(name="Akhir", ends=datetime.date(2026, 4, 30))
    usual, odd = family(village, 161), family(village, 162)
    for rnd in (base, follow):
        IncomeRecord.objects.create(round=rnd, household=usual, village_code=village,
                                    wages=1_000_000, total=1_000_000)
    IncomeRecord.objects.create(round=base, household=odd, village_code=village,
                                wages=1_000_000, total=1_000_000)
    IncomeRecord.objects.create(round=follow, household=odd, village_code=village,
                                wages=90_000_000, total=90_000_000, flags=OUTLIER)
    coordinator = world["coordinator"]
    subject = selectors.subject_of(coordinator, kind="UPPKA", region=KAB)
    data = selectors.impact_data(selectors.income_rounds(coordinator, KAB), subject, base,
                                 follow)
    assert data.panel.family.tolist() == [usual.pk] and data.flagged == 1
    from sinergi.monitoring import analysis, verdicts

    result = analysis.analyse(data.panel)
    caveats = verdicts.caveats(result, analysis.Thresholds(), has_pre=False, flagged=1)
    assert any("1 family is left out" in c for c in caveats)


def test_tiny_samples_say_not_enough_data_instead_of_failing():
    """As many families as coefficients (or fewer) cannot be estimated: the
    verdict says so, for small groups on every page that analyses them."""
    import numpy as np

    from sinergi.monitoring import analysis

    rng = np.random.default_rng(3)
    for n in range(3, 12):
        village = np.array([f"19.04.01.200{i % 2}" for i in range(n)], dtype=object)
        treated = np.arange(n) % 3 == 0
        panel = analysis.Panel(
            family=np.arange(n), village=village,
            kecamatan=np.array(["19.04.01"] * n, dtype=object), treated=treated,
            cohort=treated.astype(int), y0=rng.normal(1000, 100, n),
            y1=rng.normal(1100, 100, n), ypre=rng.normal(900, 100, n),
            desil=rng.integers(1, 11, n).astype(float),
            family_size=rng.integers(1, 6, n).astype(float),
            female_head=(rng.random(n) < 0.5).astype(float))
        result = analysis.analyse(panel, analysis.Thresholds())
        assert result.verdict == analysis.NOT_ENOUGH, n
        assert result.reasons


def test_family_facts_read_by_id_or_over_the_region_agree(world, monkeypatch):
    """A kabupaten's panel reads its families' desil, size and head in one
    pass over the region; a small one by id: the same facts either way."""
    village = village_of(world)
    small = family(village, 171, desil=2)
    big = family(village, 172, desil=None, sex="L")
    Person.objects.create(nik="1904010000001799", name="Anak", sex="L", household=big, shdk=4,
                          village_code=village, birth_date=datetime.date(2010, 1, 1))
    family(other_village(village), 173)  # in the region, not asked
    by_id = selectors._families([small.pk, big.pk], KAB)
    monkeypatch.setattr(selectors, "FAMILIES_BY_ID", 0)
    over_region = selectors._families([small.pk, big.pk], KAB)
    assert by_id == over_region == {small.pk: [2, 1, 1], big.pk: [None, 2, 0]}
