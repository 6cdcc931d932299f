"""Imports stay in the uploader's region: matching, adding to a family,
moving, and who sees the job, its problems and its report.

Two regions' registries (Bangka, 19.01, and Pangkal Pinang, 19.71) hold
persons and families that a village operator of Bangka Tengah (19.04)
uploads numbers of; nothing of them may be shown, joined or moved.
"""

import datetime
import io

import pytest
from openpyxl import load_workbook

from sinergi.accounts import roles
from sinergi.core.models import AuditLog
from sinergi.imports import selectors, services
from sinergi.imports.models import DONE, REVIEW, ImportIssue, ProposedChange
from sinergi.registry.models import Household, Person

from .test_registry_import import nik, run, write_csv

BANGKA_VILLAGE = "19.01.01.1002"
PANGKAL_PINANG_VILLAGE = "19.71.01.1006"
BANGKA_KK = "1901011203150001"
PANGKAL_PINANG_KK = "1971011203150001"
OUTSIDER_NIK = nik("190101", 20, 6, 1975, "P", 7)
OUTSIDER_NAME = "Siti Rahasia"
HOME_KK = "1904011203150009"


@pytest.fixture
def two_regions(world):
    """A person of Bangka, a family of Pangkal Pinang, and a family of the
    operator's own village with one member."""
    bangka = Household.objects.create(kk_number=BANGKA_KK, village_code=BANGKA_VILLAGE)
    Person.objects.create(nik=OUTSIDER_NIK, name=OUTSIDER_NAME, sex="P", shdk=1,
                          birth_place="Sungailiat Rahasia", birth_date=datetime.date(1975, 6, 20),
                          monthly_income=4_321_000, household=bangka,
                          village_code=BANGKA_VILLAGE)
    kota = Household.objects.create(kk_number=PANGKAL_PINANG_KK,
                                    village_code=PANGKAL_PINANG_VILLAGE)
    Person.objects.create(nik=nik("197101", 3, 3, 1980, "L", 1), name="Kepala Kota", sex="L",
                          shdk=1, household=kota, village_code=PANGKAL_PINANG_VILLAGE)
    village = world["operator"].region_id
    home = Household.objects.create(kk_number=HOME_KK, village_code=village)
    member = Person.objects.create(nik=nik("190401", 4, 4, 1985, "L", 5), name="Warga Desa",
                                   sex="L", shdk=1, household=home, village_code=village,
                                   birth_date=datetime.date(1985, 4, 4))
    return {"village": village, "member": member, "home": home, "kota": kota}


def operator_upload(world, tmp_path, rows):
    return run(write_csv(tmp_path, rows), actor=world["operator"],
               region=world["operator"].region_id)


def codes_of(job) -> dict[int, set[str]]:
    found: dict[int, set[str]] = {}
    for issue in ImportIssue.objects.filter(job=job):
        found.setdefault(issue.line, set()).add(issue.code)
    return found


def test_a_nik_of_another_region_is_refused_and_nothing_of_that_person_is_shown(
        world, tmp_path, two_regions, client_of):
    village = two_regions["village"]
    job = operator_upload(world, tmp_path, [
        f"{HOME_KK},{OUTSIDER_NIK},Nama Lain,P,Koba,20/06/1975,4,{village},,,,900000"])
    assert job.status == DONE and (job.rows_accepted, job.rows_rejected) == (0, 1)
    assert codes_of(job)[2] == {"nik_registered_elsewhere"}
    assert not ProposedChange.objects.filter(job=job).exists()
    issue = ImportIssue.objects.get(job=job)
    assert "another region" in issue.message
    page = client_of("operator").get(f"/imports/{job.pk}/").content.decode()
    for secret in (OUTSIDER_NAME, "Sungailiat Rahasia", "4321000", "4.321.000",
                   BANGKA_VILLAGE, "1975-06-20"):
        assert secret not in page
    outsider = Person.objects.get(nik=OUTSIDER_NIK)
    assert (outsider.name, outsider.village_code) == (OUTSIDER_NAME, BANGKA_VILLAGE)


def test_a_kk_of_another_region_gets_no_new_member(world, tmp_path, two_regions):
    village = two_regions["village"]
    newcomer = nik("190401", 11, 11, 2001, "L", 8)
    job = operator_upload(world, tmp_path, [
        f"{PANGKAL_PINANG_KK},{newcomer},Anak Baru,L,Koba,11/11/2001,4,{village},,,,"])
    assert (job.rows_accepted, job.rows_rejected) == (0, 1)
    assert codes_of(job)[2] == {"kk_registered_elsewhere"}
    assert not Person.objects.filter(nik=newcomer).exists()
    assert two_regions["kota"].members.count() == 1


def test_an_in_scope_person_listed_in_another_regions_family_is_not_moved(
        world, tmp_path, two_regions):
    village = two_regions["village"]
    member = two_regions["member"]
    job = operator_upload(world, tmp_path, [
        f"{PANGKAL_PINANG_KK},{member.nik},Warga Desa,L,Koba,04/04/1985,1,{village},,,,"])
    assert job.rows_rejected == 1 and codes_of(job)[2] == {"kk_registered_elsewhere"}
    assert job.status == DONE and not ProposedChange.objects.filter(job=job).exists()
    member.refresh_from_db()
    assert member.household_id == two_regions["home"].id and member.village_code == village


def test_a_move_whose_family_appeared_elsewhere_meanwhile_is_not_applied(
        world, tmp_path, two_regions):
    """Between the round and its review, the new KK number was registered in
    another region: applying must not move the person there."""
    village = two_regions["village"]
    member = two_regions["member"]
    new_kk = "1904011203150077"
    job = operator_upload(world, tmp_path, [
        f"{new_kk},{member.nik},Warga Desa,L,Koba,04/04/1985,1,{village},,,,"])
    assert job.status == REVIEW
    assert ProposedChange.objects.get(job=job).kind == "move"
    elsewhere = Household.objects.create(kk_number=new_kk, village_code=BANGKA_VILLAGE)
    applied = services.import_job_apply(actor=world["operator"], job=job)
    assert applied == 0
    member.refresh_from_db()
    assert member.household_id == two_regions["home"].id
    assert not elsewhere.members.exists()
    job.refresh_from_db()
    assert job.status == DONE and "another region" not in job.message
    assert "outside this import" in job.message
    assert ProposedChange.objects.get(job=job).decision == "reject"


def test_a_move_inside_the_region_is_proposed_and_applied(world, tmp_path, two_regions):
    village = two_regions["village"]
    member = two_regions["member"]
    new_kk = "1904011203150078"
    job = operator_upload(world, tmp_path, [
        f"{new_kk},{member.nik},Warga Desa,L,Koba,04/04/1985,1,{village},,,,"])
    assert services.import_job_apply(actor=world["operator"], job=job) == 1
    member.refresh_from_db()
    assert member.household.kk_number == new_kk and member.village_code == village


def test_probable_duplicates_are_looked_for_only_inside_the_region(
        world, tmp_path, two_regions):
    """A row naming a Bangka village with a Bangka person's name and birth
    date is refused for its village, and says nothing of that person."""
    row = (f"{BANGKA_KK[:-1]}8,{nik('190101', 20, 6, 1975, 'P', 9)},{OUTSIDER_NAME},P,"
           f"Sungailiat,20/06/1975,1,{BANGKA_VILLAGE},,,,")
    job = run(write_csv(tmp_path, [row]), actor=world["coordinator"], region="19.04")
    assert codes_of(job)[2] == {"village_out_of_scope"}


def test_a_coordinator_of_both_regions_still_imports_into_the_named_region_only(
        world, tmp_path, two_regions):
    """The admin's scope holds the whole province, but an import for 19.04
    matches only 19.04: another kabupaten's person is refused, not proposed."""
    village = two_regions["village"]
    job = run(write_csv(tmp_path, [
        f"{HOME_KK},{OUTSIDER_NIK},Nama Lain,P,Koba,20/06/1975,4,{village},,,,"]),
        actor=world["admin"], region="19.04")
    assert codes_of(job)[2] == {"nik_registered_elsewhere"}
    assert not ProposedChange.objects.filter(job=job).exists()


# --- who sees a job ------------------------------------------------------


@pytest.fixture
def operator_job(world, tmp_path, two_regions):
    village = two_regions["village"]
    rows = [f"{HOME_KK},190401999,Nik Pendek,L,Koba,01/01/1990,4,{village},,,,"]
    return operator_upload(world, tmp_path, rows)


@pytest.mark.parametrize(("persona", "status"), [
    ("anonymous", 302), ("admin", 200), ("coordinator", 200), ("officer", 403),
    ("operator", 200), ("leader", 403), ("outsider", 404)])
def test_an_upload_is_seen_by_its_uploader_and_the_region_s_coordinators(
        client_of, operator_job, persona, status):
    for url in (f"/imports/{operator_job.pk}/", f"/imports/{operator_job.pk}/report.xlsx"):
        assert client_of(persona).get(url).status_code == status, url
    api = client_of(persona).get(f"/api/v1/imports/{operator_job.pk}")
    assert api.status_code == {302: 401}.get(status, status)


def test_an_upload_of_the_coordinator_is_not_the_operator_s(world, tmp_path, client_of):
    village = world["operator"].region_id
    job = run(write_csv(tmp_path, [f"{HOME_KK},1,X,L,Koba,01/01/1990,1,{village},,,,"]),
              actor=world["coordinator"], region=village)
    assert client_of("operator").get(f"/imports/{job.pk}/").status_code == 404
    listing = client_of("operator").get("/imports/").content.decode()
    assert f'href="/imports/{job.pk}/"' not in listing
    assert f'href="/imports/{job.pk}/"' in client_of("coordinator").get(
        "/imports/").content.decode()


def test_the_report_download_is_audited(world, client_of, operator_job):
    response = client_of("coordinator").get(f"/imports/{operator_job.pk}/report.xlsx")
    assert response.status_code == 200
    assert AuditLog.objects.filter(action="import.report", object_id=str(operator_job.pk),
                                   actor=world["coordinator"]).exists()


def test_identity_numbers_are_masked_for_a_role_that_may_not_reveal_them(
        world, tmp_path, two_regions, client_of, monkeypatch):
    village = two_regions["village"]
    full = nik("190401", 1, 1, 1990, "L", 3)
    job = run(write_csv(tmp_path, [f"{HOME_KK},{full},,L,Koba,01/01/1990,4,{village},,,,",
                                   f"{HOME_KK},{full},Dua Kali,L,Koba,01/01/1990,4,"
                                   f"{village},,,,"]),
              actor=world["coordinator"], region="19.04")
    assert ImportIssue.objects.filter(job=job, code="nik_duplicate_in_file").exists()
    seen = client_of("coordinator").get(f"/imports/{job.pk}/").content.decode()
    assert full in seen
    monkeypatch.setitem(roles.CAPABILITIES, roles.COORDINATOR,
                        roles.CAPABILITIES[roles.COORDINATOR] - {"person.reveal"})
    masked = client_of("coordinator").get(f"/imports/{job.pk}/").content.decode()
    assert full not in masked and full[:6] + "••••••" + full[-4:] in masked
    issues = selectors.job_issues(world["coordinator"], job)
    assert all(full not in i.message and full not in i.value for i in issues)
    report = client_of("coordinator").get(f"/imports/{job.pk}/report.xlsx")
    sheet = load_workbook(io.BytesIO(b"".join(report.streaming_content))).active
    cells = [str(c) for row in sheet.iter_rows(values_only=True) for c in row if c]
    assert cells and not [c for c in cells if full in c]
    assert full[:6] + "••••••" + full[-4:] in cells  # the NIK column, masked
    assert any("appears more than once" in c and "••••••" in c for c in cells)


def test_a_running_import_can_be_cancelled_by_its_uploader(world, tmp_path, two_regions):
    from sinergi.core import jobs

    village = two_regions["village"]
    job = services.import_job_create(
        actor=world["operator"], source=write_csv(tmp_path, [
            f"{HOME_KK},{nik('190401', 2, 2, 1992, 'L', 4)},Dua,L,Koba,02/02/1992,4,"
            f"{village},,,,"]),
        file_name="data.csv", region_code=village)
    claimed = services.import_job_claim(job.pk)
    services.import_job_cancel(actor=world["operator"], job=claimed)
    task = jobs.job_of(services.JOB_KIND, job.pk)
    assert task.cancel_requested and task.status == jobs.RUNNING
    job = services.import_job_run(claimed)  # stops at its first progress report
    assert job.status == "cancelled" and job.persons_added == 0
    assert not Person.objects.filter(name="Dua").exists()
    assert jobs.job_of(services.JOB_KIND, job.pk).status == jobs.CANCELLED
    assert AuditLog.objects.filter(action="import.cancel", object_id=str(job.pk)).exists()
