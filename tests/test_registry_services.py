"""Daily changes to the registry keep history: moves, splits, deaths, edits."""

import datetime

import pytest

from sinergi.core.errors import SinergiError
from sinergi.core.models import AuditLog
from sinergi.imports import services as import_services
from sinergi.registry import codes, services
from sinergi.registry.models import Household, KKNumberHistory, Membership, Person

from .test_registry_import import ANI, BUDI, CITRA, DEDI, GOOD_ROWS, HEADER, KK1, KK2


@pytest.fixture
def families(world, tmp_path):
    path = tmp_path / "f.csv"
    path.write_text("\n".join([HEADER, *GOOD_ROWS]) + "\n", encoding="utf-8")
    job = import_services.import_job_create(actor=None, source=path, file_name="f.csv",
                                            region_code="19")
    import_services.import_job_run(import_services.import_job_claim(job.pk))
    return {p.nik: p for p in Person.objects.filter(import_job=job)}


def test_moving_a_person_closes_one_membership_and_opens_another(world, families):
    citra = families[CITRA]
    target = Household.objects.get(kk_number=KK2)
    services.person_move(actor=world["coordinator"], person=citra, household=target, shdk=6)
    citra.refresh_from_db()
    assert (citra.household_id, citra.shdk) == (target.id, 6)
    past = Membership.objects.get(person=citra)
    assert past.household.kk_number == KK1 and past.shdk == 4 and past.end_date is not None
    assert citra.household_since == past.end_date
    assert AuditLog.objects.filter(action="person.move", object_id=str(citra.id)).exists()


def test_pecah_kk_moves_members_to_a_new_family_with_a_head(world, families):
    old = Household.objects.get(kk_number=KK1)
    ani, citra = families[ANI], families[CITRA]
    new = services.household_split(actor=world["coordinator"], household=old,
                                   person_ids=[ani.id, citra.id],
                                   new_kk_number="1904011203160001", head_id=ani.id)
    ani.refresh_from_db()
    citra.refresh_from_db()
    assert ani.household_id == new.id and ani.shdk == codes.SHDK_HEAD
    assert citra.household_id == new.id and citra.shdk == 4
    assert Person.objects.filter(household=old).count() == 1
    with pytest.raises(SinergiError) as info:
        services.household_split(actor=world["coordinator"], household=old,
                                 person_ids=[families[BUDI].id],
                                 new_kk_number="1904011203160000", head_id=families[BUDI].id)
    assert info.value.field == "kk_number"


def test_a_new_kk_number_keeps_the_old_one_searchable(world, families, client_of):
    household = Household.objects.get(kk_number=KK2)
    services.household_change_kk(actor=world["coordinator"], household=household,
                                 new_kk_number="1904011203170001", reason="pindah alamat")
    assert KKNumberHistory.objects.get(household=household).kk_number == KK2
    found = client_of("coordinator").get(f"/registry/?q={KK2}").content.decode()
    assert "Dedi" in found


def test_a_death_ends_the_membership_and_is_audited(world, families):
    dedi = families[DEDI]
    services.person_record_status(actor=world["coordinator"], person=dedi,
                                  status=codes.DEAD, on_date=datetime.date(2026, 1, 5))
    dedi.refresh_from_db()
    assert dedi.life_status == codes.DEAD
    assert Membership.objects.get(person=dedi).end_date == datetime.date(2026, 1, 5)
    assert dedi.household is None
    assert AuditLog.objects.get(action="person.status", object_id=str(dedi.id)).after[
        "life_status"] == codes.DEAD


def test_an_edit_rechecks_the_nik_and_refreshes_warnings(world, families):
    ani = families[ANI]
    services.person_update(actor=world["coordinator"], person=ani, **{"sex": "L"})
    ani.refresh_from_db()
    assert ani.warnings == ["nik_sex_mismatch"]
    services.person_update(actor=world["coordinator"], person=ani, **{"sex": "P"})
    ani.refresh_from_db()
    assert ani.warnings == []
    entries = AuditLog.objects.filter(action="person.update", object_id=str(ani.id))
    assert entries.count() == 2 and entries.first().after == {"sex": "P",
                                                               "warning_codes": ""}


def test_changes_outside_the_users_village_are_refused(world, families):
    with pytest.raises(SinergiError):
        services.person_record_status(actor=world["operator"], person=families[DEDI],
                                      status=codes.DEAD, on_date=datetime.date(2026, 1, 5))
    assert Person.objects.get(nik=DEDI).life_status == codes.ALIVE


def test_the_person_page_records_a_death_and_reports_a_bad_date(world, families, client_of):
    dedi = families[DEDI]
    client = client_of("coordinator")
    bad = client.post(f"/registry/persons/{dedi.id}/event/",
                      {"kind": "status", "status": str(codes.DEAD), "date": "5/1/2026"},
                      follow=True)
    assert "YYYY-MM-DD" in bad.content.decode()
    client.post(f"/registry/persons/{dedi.id}/event/",
                {"kind": "status", "status": str(codes.DEAD), "date": "2026-01-05"})
    dedi.refresh_from_db()
    assert dedi.life_status == codes.DEAD


def test_the_family_page_splits_a_family(world, families, client_of):
    old = Household.objects.get(kk_number=KK1)
    ani, citra = families[ANI], families[CITRA]
    response = client_of("coordinator").post(
        f"/registry/families/{old.id}/event/",
        {"kind": "split", "members": [ani.id, citra.id], "head": ani.id,
         "kk_number": "1904011203160002"})
    assert response.status_code == 302
    new = Household.objects.get(kk_number="1904011203160002")
    assert response["Location"] == f"/registry/families/{new.id}/"
    assert set(Person.objects.filter(household=new).values_list("nik", flat=True)) == {
        ANI, CITRA}
