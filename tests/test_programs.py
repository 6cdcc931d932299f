"""Programs, targets, enrollments and groups: rules, rights, lifecycle, pages, API."""

import datetime
import json

import pytest
from django.utils import timezone

from sinergi.core.errors import AccessDenied, SinergiError
from sinergi.core.models import AuditLog
from sinergi.groups import services as group_services
from sinergi.groups.models import GroupMember
from sinergi.meetings import progress
from sinergi.meetings import services as meeting_services
from sinergi.programs import services
from sinergi.programs.models import Enrollment, Target
from sinergi.regions.models import Region
from sinergi.registry.models import Household, Person

from .conftest import KAB, agency

YEAR = timezone.localdate().year




def village(world) -> str:
    return world["operator"].region_id


def other_village(world) -> str:
    return Region.objects.filter(code__startswith=KAB + ".", level=4).exclude(
        code=village(world)).order_by("code").first().code


def family(village_code: str, n: int, desil: int | None, members=(("P", 1985),)) -> Household:
    hh = Household.objects.create(kk_number=f"1904{n:012d}", village_code=village_code,
                                  desil=desil)
    for i, (sex, year) in enumerate(members):
        Person.objects.create(nik=f"19040{n:05d}{i:06d}", name=f"Warga {n}-{i}", sex=sex,
                              household=hh, shdk=1 if i == 0 else 4, village_code=village_code,
                              birth_date=datetime.date(year, 5, 17))
    return hh


def program(world, code="PKH", owner="Dinsos", unit="household", rule="desil <= 3",
            actor="coordinator"):
    return services.program_create(actor=world[actor] if actor else None, **{
        "owner_agency": agency(owner).pk, "code": code, "name": f"Program {code}",
        "year_start": YEAR - 1, "unit": unit, "benefit_type": "cash", "rule": rule})


def test_program_rules_point_at_the_field(world):
    coord = world["coordinator"]
    base = {"owner_agency": agency("Dinsos").pk, "code": "X1", "name": "X", "year_start": YEAR,
            "unit": "person", "benefit_type": "cash"}
    cases = [
        ({"code": ""}, "code"),
        ({"year_start": 1800}, "year_start"),
        ({"year_end": YEAR - 1}, "year_end"),
        ({"unit": "village"}, "unit"),
        ({"tags": ["nonsense"]}, "tags"),
        ({"rule": "desil <= "}, "rule"),
        ({"benefit_value": "-5"}, "benefit_value"),
    ]
    for extra, field in cases:
        with pytest.raises(SinergiError) as err:
            services.program_create(actor=coord, **{**base, **extra})
        assert err.value.field == field, extra
    program(world, code="PKH")
    with pytest.raises(SinergiError) as err:
        program(world, code="pkh")
    assert err.value.field == "code"  # codes are upper-cased, so this one is taken


def test_officers_change_only_their_own_agency_programs_and_groups(world):
    officer = world["officer"]
    own = program(world, code="IR-LATIH", owner="DP3ACSKB", unit="person", rule="",
                  actor="officer")
    other = program(world, code="PKH")
    services.program_update(actor=officer, program=own, **{"description": "ok"})
    with pytest.raises(AccessDenied):
        services.program_update(actor=officer, program=other, **{"description": "no"})
    with pytest.raises(AccessDenied):
        program(world, code="BPNT", owner="Dinsos", actor="officer")
    hh = family(village(world), 1, 2)
    with pytest.raises(AccessDenied):
        services.enrollment_create(actor=officer, program=other, year=YEAR, beneficiary=hh)
    grp = group_services.group_create(actor=officer, **{
        "code": "IR-1", "name": "IR Mawar", "kind": "IR", "village_code": village(world)})
    assert list(grp.agencies.values_list("short_name", flat=True)) == ["DP3ACSKB"]
    foreign = group_services.group_create(actor=world["coordinator"], **{
        "code": "KWT-1", "name": "KWT Melati", "kind": "KWT", "village_code": village(world)},
        agencies=[agency("Distan").pk])
    with pytest.raises(AccessDenied):
        group_services.group_update(actor=officer, group=foreign, **{"name": "x"})
    with pytest.raises(AccessDenied):
        group_services.group_create(actor=world["leader"], **{
            "code": "X", "name": "X", "kind": "IR", "village_code": village(world)})


def test_enrollment_checks_eligibility_duplicates_and_lifecycle(world):
    coord = world["coordinator"]
    pkh = program(world)
    poor, rich = family(village(world), 1, 2), family(village(world), 2, 8)
    e = services.enrollment_create(actor=coord, program=pkh, year=YEAR, beneficiary=poor)
    assert (e.status, e.village_code, e.household_id) == ("proposed", poor.village_code,
                                                           poor.pk)
    with pytest.raises(SinergiError) as err:
        services.enrollment_create(actor=coord, program=pkh, year=YEAR, beneficiary=poor)
    assert "Already enrolled" in err.value.message
    with pytest.raises(SinergiError) as err:
        services.enrollment_create(actor=coord, program=pkh, year=YEAR, beneficiary=rich)
    assert err.value.field == "beneficiary" and "Not eligible" in err.value.message
    services.enrollment_create(actor=coord, program=pkh, year=YEAR, beneficiary=rich,
                               allow_ineligible=True)
    with pytest.raises(SinergiError) as err:
        services.enrollment_create(actor=coord, program=pkh, year=YEAR + 9, beneficiary=poor)
    assert err.value.field == "year"
    # Lifecycle: proposed -> verified -> active -> graduated; no jumps; reasons required.
    with pytest.raises(SinergiError):
        services.enrollment_transition(actor=coord, enrollment=e, status="graduated")
    e = services.enrollment_transition(actor=coord, enrollment=e, status="verified")
    e = services.enrollment_transition(actor=coord, enrollment=e, status="active")
    assert e.start_date == timezone.localdate()
    with pytest.raises(SinergiError) as err:
        services.enrollment_transition(actor=coord, enrollment=e, status="exited")
    assert err.value.field == "reason"
    e.refresh_from_db()
    e = services.enrollment_transition(actor=coord, enrollment=e, status="exited",
                                       reason="pindah domisili")
    assert (e.status, e.status_reason, e.end_date) == ("exited", "pindah domisili",
                                                       timezone.localdate())
    actions = list(AuditLog.objects.filter(object_type="programs.enrollment")
                   .values_list("action", flat=True))
    assert actions.count("enrollment.create") == 2 and actions.count("enrollment.status") == 3


def test_find_beneficiary_stays_in_scope(world):
    pkh = program(world)
    hh = family(other_village(world), 3, 1)
    assert services.find_beneficiary(world["coordinator"], pkh, hh.kk_number) == hh
    with pytest.raises(SinergiError):
        services.find_beneficiary(world["operator"], pkh, hh.kk_number)
    with pytest.raises(SinergiError):
        services.find_beneficiary(world["outsider"], pkh, hh.kk_number)


def test_targets_are_set_replaced_and_removed(world):
    pkh = program(world)
    services.target_set(actor=world["coordinator"], program=pkh, region=KAB, year=YEAR,
                        count="120", budget="360000000")
    services.target_set(actor=world["coordinator"], program=pkh, region=KAB, year=YEAR,
                        count=150)
    assert Target.objects.get(program=pkh).count == 150
    with pytest.raises(SinergiError):
        services.target_set(actor=world["coordinator"], program=pkh, region=KAB, year=YEAR,
                            count=-1)
    services.target_set(actor=world["coordinator"], program=pkh, region=KAB, year=YEAR,
                        count=None)
    assert not Target.objects.filter(program=pkh).exists()


def test_group_members_levels_and_partners(world):
    coord = world["coordinator"]
    hh = family(village(world), 4, 3, members=(("P", 1980), ("P", 2001)))
    grp = group_services.group_create(actor=coord, **{
        "code": "uppka-1", "name": "UPPKA Sejahtera", "kind": "uppka",
        "village_code": village(world)})
    assert (grp.code, grp.kind_id) == ("UPPKA-1", "UPPKA")
    head = hh.members.get(shdk=1)
    group_services.member_add(actor=coord, group=grp, nik=head.nik, role="ketua")
    with pytest.raises(SinergiError):
        group_services.member_add(actor=coord, group=grp, nik=head.nik)
    with pytest.raises(SinergiError) as err:
        group_services.member_add(actor=coord, group=grp, nik="1904000000000000")
    assert err.value.field == "nik"
    member = GroupMember.objects.get(group=grp, person=head)
    group_services.member_leave(actor=coord, group=grp, member_id=member.pk)
    group_services.member_add(actor=coord, group=grp, nik=head.nik)  # may join again
    with pytest.raises(SinergiError) as err:
        group_services.level_set(actor=coord, group=grp, level="Maju")
    assert "Dasar" in err.value.message
    group_services.level_set(actor=coord, group=grp, level="Dasar",
                             since=datetime.date(2024, 1, 1))
    group_services.level_set(actor=coord, group=grp, level="Berkembang",
                             since=datetime.date(2025, 6, 1))
    grp.refresh_from_db()
    assert grp.level == "Berkembang" and grp.level_history.count() == 2
    group_services.partner_add(actor=coord, group=grp, **{"name": "Hotel Novilla",
                                                             "kind": "hotel"})
    with pytest.raises(SinergiError):
        group_services.group_create(actor=coord, **{
            "code": "X", "name": "X", "kind": "IR", "village_code": KAB})  # not a village


def test_commitment_counts_groups_and_served_beneficiaries_live(world):
    coord = world["coordinator"]
    meeting = meeting_services.meeting_create(actor=coord,
        kind="rakor", title="Rakor", starts_on="2026-01-05", region=KAB)
    c = meeting_services.commitment_create(actor=coord, meeting=meeting,
        text="Dua kelompok UPPKA", owner_agency=agency("DPPKB").pk, target="2",
        source="groups.of_kind", source_param="UPPKA")
    assert progress.progress_of([c])[c.pk].value == 0
    for n in (1, 2):
        group_services.group_create(actor=coord, **{
            "code": f"UPPKA-{n}", "name": "U", "kind": "UPPKA", "village_code": village(world)})
    assert progress.progress_of([c])[c.pk].status == "done"
    pkh = program(world)
    c2 = meeting_services.commitment_create(actor=coord, meeting=meeting,
        text="PKH menjangkau keluarga", owner_agency=agency("Dinsos").pk, target="1",
        source="programs.served", source_param="PKH")
    e = services.enrollment_create(actor=coord, program=pkh, year=YEAR,
                                   beneficiary=family(village(world), 5, 1))
    assert progress.progress_of([c2])[c2.pk].value == 0  # proposed is not served yet
    services.enrollment_transition(actor=coord, enrollment=e, status="verified")
    services.enrollment_transition(actor=coord, enrollment=e, status="active")
    assert progress.progress_of([c2])[c2.pk].status == "done"


def test_pages_and_api(world, client_of):
    pkh = program(world)
    hh = family(village(world), 6, 1)
    client = client_of("coordinator")
    response = client.post(f"/programs/{pkh.pk}/enroll/", {"beneficiary": hh.kk_number,
                                                           "year": YEAR, "status": "proposed"})
    assert response.status_code == 302
    assert Enrollment.objects.filter(program=pkh, household=hh).exists()
    page = client.get(f"/programs/{pkh.pk}/?year={YEAR}").content.decode()
    assert "KK 190400" in page and "proposed" in page
    bad = client.post("/programs/new/", {"owner_agency": agency("Dinsos").pk, "code": "B",
                                         "name": "B", "year_start": YEAR, "unit": "person",
                                         "benefit_type": "cash", "rule": "age >> 3"})
    assert bad.status_code == 400 and "character" in bad.content.decode()
    preview = client.get("/programs/rule-preview/", {"unit": "household", "rule": "desil <= 3",
                                                     "region": KAB})
    assert preview.status_code == 200 and "eligible in" in preview.content.decode()
    wrong = client.get("/programs/rule-preview/", {"unit": "person", "rule": "desil = 3"})
    assert wrong.status_code == 400
    api = client.post("/api/v1/enrollments", data=json.dumps({
        "program": pkh.pk, "year": YEAR, "beneficiary": family(village(world), 7, 2).kk_number}),
        content_type="application/json")
    assert api.status_code == 201 and api.json()["status"] == "proposed"
    listed = client.get(f"/api/v1/enrollments?program={pkh.pk}").json()
    assert len(listed["items"]) == 2
    operator = client_of("operator").get(f"/api/v1/enrollments?program={pkh.pk}").json()
    assert len(operator["items"]) == 2  # both families live in the operator's village
    export = client.get(f"/programs/{pkh.pk}/export.xlsx?year={YEAR}")
    assert export.status_code == 200
    assert AuditLog.objects.filter(action="enrollment.export").exists()


def test_a_beneficiary_list_is_matched_row_by_row_and_lands_whole(world, client_of):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from sinergi.programs import transfer

    coord = world["coordinator"]
    pkh = program(world)
    poor = [family(village(world), 10 + i, 2) for i in range(3)]
    rich = family(village(world), 20, 9)
    outsider_family = Household.objects.create(kk_number="1806010101010001",
                                               village_code="18.06.01.2001")
    services.enrollment_create(actor=coord, program=pkh, year=YEAR, beneficiary=poor[2])
    lines = ["No KK;Nama;Nilai manfaat",
             f"{poor[0].kk_number};A;750000",
             f"'{poor[1].kk_number};B;",
             f"{poor[0].kk_number};A again;",
             f"{rich.kk_number};C;",
             f"{poor[2].kk_number};D;",
             f"{outsider_family.kk_number};E;",
             "12345;F;"]
    upload = SimpleUploadedFile("pkh.csv", "\n".join(lines).encode())
    report = transfer.enrollment_import(actor=coord, program=pkh, year=YEAR, upload=upload)
    assert report.counts == {"matched": 2, "duplicate_in_file": 1, "ineligible": 1,
                             "already_enrolled": 1, "not_in_registry": 1, "invalid": 1}
    assert report.created == 2
    outcomes = {line: outcome for line, _key, outcome, _msg in report.rows}
    assert outcomes == {2: "matched", 3: "matched", 4: "duplicate_in_file", 5: "ineligible",
                        6: "already_enrolled", 7: "not_in_registry", 8: "invalid"}
    first = Enrollment.objects.get(program=pkh, household=poor[0])
    assert (first.benefit_value, first.import_line, first.status) == (750000, 2, "proposed")
    assert AuditLog.objects.filter(action="enrollment.import").exists()
    # The same list again changes nothing: all are already enrolled now.
    again = transfer.enrollment_import(actor=coord, program=pkh, year=YEAR,
                                       upload=SimpleUploadedFile("pkh.csv",
                                                                 "\n".join(lines).encode()))
    assert again.created == 0 and again.counts["already_enrolled"] == 3
    # Through the page, with a file missing the key column: a clear message, nothing written.
    before = Enrollment.objects.count()
    response = client_of("coordinator").post(f"/programs/{pkh.pk}/import/", {
        "file": SimpleUploadedFile("x.csv", b"Nama;Alamat\nA;B\n"), "year": YEAR},
        follow=True)
    assert "has no column NO KK" in response.content.decode()
    assert Enrollment.objects.count() == before


def test_changes_ask_for_a_coverage_refresh_that_the_worker_runs(world, client_of):
    from sinergi.convergence import selectors as convergence
    from sinergi.convergence import services as convergence_services
    from sinergi.convergence.models import RefreshRequest

    coord = world["coordinator"]
    pkh = program(world)
    hh = family(village(world), 30, 1)
    family(other_village(world), 31, 2)
    convergence.refresh(region="19", year=YEAR)
    assert not RefreshRequest.objects.exists()
    before = convergence.coverage(region=KAB, year=YEAR, today=timezone.localdate())
    assert before["source"] == "rollup" and before["all"]["total"]["served"] == 0
    e = services.enrollment_create(actor=coord, program=pkh, year=YEAR, beneficiary=hh)
    services.enrollment_transition(actor=coord, enrollment=e, status="verified")
    services.enrollment_transition(actor=coord, enrollment=e, status="active")
    # The enrollment's village asks; its kecamatan is what gets recomputed.
    assert list(RefreshRequest.objects.values_list("region_code", "year")) == [
        (hh.village_code, YEAR)]
    page = client_of("coordinator").get(f"/convergence/?region={KAB}&year={YEAR}")
    assert "Newer changes are being counted" in page.content.decode()
    assert convergence_services.refresh_pending() == 1
    after = convergence.coverage(region=KAB, year=YEAR, today=timezone.localdate())
    assert after["all"]["total"]["served"] == 1 and not RefreshRequest.objects.exists()
    # A program added after the refresh is named as not counted yet, not shown as zeros;
    # renaming a counted program shows at once.
    pkh.name = "Program Keluarga Harapan (baru)"
    pkh.save()
    program(world, code="RTLH", rule="desil <= 2")
    RefreshRequest.objects.all().delete()
    rolled = convergence.coverage(region=KAB, year=YEAR, today=timezone.localdate())
    assert rolled["source"] == "rollup" and rolled["uncounted"] == ["RTLH"]
    assert [(p["code"], p["name"]) for p in rolled["programs"]] == [("PKH", pkh.name)]
    page = client_of("coordinator").get(f"/convergence/?region={KAB}&year={YEAR}")
    assert "Not counted yet (added since the summary was computed): RTLH." \
        in page.content.decode()
    # Refreshing one village later: the village counts RTLH; the kabupaten above
    # still holds its other villages' older sums, so it keeps their date and
    # RTLH stays uncounted there. Region names are read as they are now.
    kec = Region.objects.get(code=village(world)[:8])
    kec.name = "Kecamatan Baru"
    kec.save()
    later = timezone.localdate() + datetime.timedelta(days=3)
    convergence.refresh(region=village(world), year=YEAR, today=later)
    here = convergence.coverage(region=village(world), year=YEAR, today=later)
    assert here["uncounted"] == [] and here["as_of"] == later
    assert [p["code"] for p in here["programs"]] == ["PKH", "RTLH"]
    above = convergence.coverage(region=KAB, year=YEAR, today=later)
    assert above["uncounted"] == ["RTLH"] and above["as_of"] == timezone.localdate()
    assert above["all"]["total"]["served"] == 1
    assert {r["region"]: r["name"] for r in above["all"]["by_region"]}[kec.code] == \
        "Kecamatan Baru"


def test_personal_data_and_programs_stay_inside_the_scope(world, client_of):
    from sinergi.convergence import params

    coord = world["coordinator"]
    pkh = program(world)
    hh = family(village(world), 40, 1)
    services.enrollment_create(actor=coord, program=pkh, year=YEAR, beneficiary=hh)
    person_program = program(world, code="PBI", unit="person", rule="")
    head = hh.members.get()
    services.enrollment_create(actor=coord, program=person_program, year=YEAR, beneficiary=head)
    page = client_of("leader").get(f"/programs/{person_program.pk}/?year={YEAR}")
    assert head.name in page.content.decode() and head.nik not in page.content.decode()
    # Counting people above the own subtree is refused, on the page and the API.
    for persona in ("operator", "officer"):
        assert client_of(persona).get("/programs/rule-preview/",
                                      {"rule": "", "unit": "person", "region": "19"}
                                      ).status_code == 404
    assert client_of("operator").get(f"/api/v1/programs/{pkh.pk}/preview?region=19") \
        .status_code == 404
    # The outsider's convergence knows nothing of Bangka Belitung's programs.
    chosen = params.resolve(world["outsider"], region=None, year=YEAR)
    assert chosen["programs"] == [] and chosen["visible"] == []
    coverage = client_of("outsider").get("/api/v1/convergence/coverage").json()
    assert coverage["programs"] == []
    # An officer of 19.04 cannot set the province's target.
    own = program(world, code="IR-X", owner="DP3ACSKB", unit="person", rule="",
                  actor="officer")
    with pytest.raises(AccessDenied):
        services.target_set(actor=world["officer"], program=own, region="19", year=YEAR,
                            count=10)
    # Huge numbers in the query string are answered, not crashed on.
    assert client_of("coordinator").get("/programs/?agency=99999999999999999999999") \
        .status_code == 200
    assert client_of("coordinator").get("/convergence/?program=99999999999999999999"
                                        ).status_code == 200
    assert client_of("coordinator").get(
        f"/convergence/villages/{village(world)}/?year=99999999999").status_code == 400


def test_officer_edits_keep_the_own_agency_and_lists_match_group_codes(world):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from sinergi.programs import transfer

    officer = world["officer"]
    grp = group_services.group_create(actor=officer, **{
        "code": "IR-19.04-01", "name": "IR", "kind": "IR", "village_code": village(world)})
    group_services.group_update(actor=officer, group=grp,
                                agencies=[agency("Dinsos").pk])
    assert set(grp.agencies.values_list("short_name", flat=True)) == {"Dinsos", "DP3ACSKB"}
    log = AuditLog.objects.filter(action="group.update").latest("id")
    assert log.after["agencies"] and log.before["agencies"]
    mentoring = program(world, code="IR-BINA", owner="DP3ACSKB", unit="group",
                        rule='kind == "IR"', actor="officer")
    report = transfer.enrollment_import(
        actor=officer, program=mentoring, year=YEAR, upload=SimpleUploadedFile(
            "ir.csv", b"Kode kelompok;Nilai manfaat\nir-19.04-01;abc\n IR-19.04-01 ;0\n"))
    # The first row names the group (case and spaces aside) but its value is bad;
    # the second is then a repeat of it: the operator fixes the first and uploads again.
    assert [r[2] for r in report.rows] == ["bad_value", "duplicate_in_file"]
    report = transfer.enrollment_import(
        actor=officer, program=mentoring, year=YEAR, upload=SimpleUploadedFile(
            "ir.csv", b"Kode kelompok;Nilai manfaat\n ir-19.04-01 ;0\n"))
    assert [r[2] for r in report.rows] == ["matched"]
    assert Enrollment.objects.get(program=mentoring, group=grp).benefit_value == 0


def test_a_person_s_and_a_family_s_page_show_their_programs_and_groups(world, client_of):
    from sinergi.groups.models import Group, GroupKind
    from sinergi.programs.models import Program

    coordinator = world["coordinator"]
    code = village(world)
    family = Household.objects.create(kk_number="1904010101019999", village_code=code)
    mother = Person.objects.create(nik="1904014101909999", name="IBU SARI", sex="P",
                                   household=family, village_code=code)
    child = Person.objects.create(nik="1904011101159999", name="ANAK SARI", sex="L",
                                  household=family, village_code=code)
    pkh = Program.objects.create(code="PKH", name="Program Keluarga Harapan", unit="household",
                                 owner_agency=agency("Dinsos"), year_start=2026)
    pip = Program.objects.create(code="PIP", name="Program Indonesia Pintar", unit="person",
                                 owner_agency=agency("Dinsos"), year_start=2026)
    services.enrollment_create(actor=coordinator, program=pkh, year=2026, beneficiary=family,
                               status="active")
    services.enrollment_create(actor=coordinator, program=pip, year=2026, beneficiary=child,
                               status="active")
    kind = GroupKind.objects.first() or GroupKind.objects.create(code="IR", name="Industri Rumahan")
    group = Group.objects.create(code="IR-9999", name="IR Melati", kind=kind, village_code=code)
    GroupMember.objects.create(group=group, person=mother, role="ketua")
    client = client_of("coordinator")
    assert f"/programs/persons/{mother.pk}/" in client.get(f"/registry/persons/{mother.pk}/")\
        .content.decode()
    own = client.get(f"/programs/persons/{mother.pk}/").content.decode()
    assert "IR Melati" in own and "PIP" not in own  # the child's program is not hers
    assert "PKH" in own  # the family's is
    theirs = client.get(f"/programs/families/{family.pk}/").content.decode()
    assert "PKH" in theirs and "PIP" in theirs and "ANAK SARI" in theirs
    assert "IR Melati" in theirs and "IBU SARI" in theirs
    # Outside the scope, nothing is said.
    assert client_of("outsider").get(f"/programs/families/{family.pk}/").status_code == 404


def test_family_beneficiaries_are_listed_by_their_head_and_links_fit_the_role(world,
                                                                            client_of):
    from sinergi.programs.models import Program

    code = village(world)
    family = Household.objects.create(kk_number="1904010101018888", village_code=code)
    Person.objects.create(nik="1904014101908888", name="KEPALA KELUARGA", sex="L", shdk=1,
                          household=family, village_code=code)
    headless = Household.objects.create(kk_number="1904010101017777", village_code=code)
    pkh = Program.objects.create(code="PKH", name="Program Keluarga Harapan", unit="household",
                                 owner_agency=agency("Dinsos"), year_start=2026)
    for hh in (family, headless):
        services.enrollment_create(actor=world["coordinator"], program=pkh, year=2026,
                                   beneficiary=hh, status="active")
    page = client_of("coordinator").get(f"/programs/{pkh.pk}/?year=2026").content.decode()
    assert "family of KEPALA KELUARGA" in page and "family without a head" in page
    assert f"/programs/{pkh.pk}/export.xlsx" in page
    # The leader may not export personal data: no link that would answer 403.
    leader = client_of("leader").get(f"/programs/{pkh.pk}/?year=2026").content.decode()
    assert f"/programs/{pkh.pk}/export.xlsx" not in leader
