"""The JSON the API answers with, field by field, for the schemas that read
their models themselves: persons (NIK masked unless revealed), families,
imports, regions, agencies and tokens."""

import datetime

from sinergi.accounts import services as account_services
from sinergi.imports import services as import_services
from sinergi.registry.models import Household, Person

from .conftest import csv_bytes


def test_a_person_comes_masked_and_revealed_only_on_request(world, client_of):
    village = world["operator"].region_id
    family = Household.objects.create(kk_number="1904011203150061", village_code=village,
                                      desil=3, rt="001")
    person = Person.objects.create(
        nik="1904014403900061", name="Rina", sex="P", shdk=1, household=family,
        village_code=village, birth_place="Koba", birth_date=datetime.date(1990, 3, 4),
        monthly_income=750000)
    client = client_of("coordinator")
    masked = client.get(f"/api/v1/persons/{person.id}").json()
    assert masked == {
        "id": person.id, "nik": "190401••••••0061", "nik_masked": True, "name": "Rina",
        "sex": "P", "birth_place": "Koba", "birth_date": "1990-03-04", "shdk": 1,
        "family_id": family.id, "village_code": village, "life_status": 1,
        "monthly_income": 750000, "warnings": []}
    revealed = client.get(f"/api/v1/persons/{person.id}?reveal=true").json()
    assert (revealed["nik"], revealed["nik_masked"]) == ("1904014403900061", False)
    found = client.get("/api/v1/persons?q=Rina").json()
    assert found["items"] == [masked] and found["next_cursor"] is None
    family_json = client.get(f"/api/v1/families/{family.id}").json()
    assert family_json == {
        "id": family.id, "kk_number": "190401••••••0061", "village_code": village,
        "dusun": "", "rt": "001", "rw": "", "address": "", "desil": 3, "desil_source": "",
        "desil_as_of": None, "in_dtsen": False, "members": [masked]}


def test_an_import_job_as_the_api_shows_it(world, client_of, tmp_path):
    path = tmp_path / "x.csv"
    path.write_bytes(csv_bytes(["NIK,Nama", "1,X"]).getvalue())
    job = import_services.import_job_create(actor=world["coordinator"], source=path,
                                            file_name="x.csv", region_code="19.04")
    body = client_of("coordinator").get(f"/api/v1/imports/{job.pk}").json()
    assert body == {
        "id": job.pk, "status": "pending", "phase": "", "progress": 0, "file_name": "x.csv",
        "region_code": "19.04", "rows_total": 0, "accepted": 0, "rejected": 0,
        "warnings": 0, "persons_added": 0, "households_added": 0, "changes_proposed": 0,
        "message": "", "report_url": None}


def test_regions_agencies_and_tokens_as_the_api_shows_them(world, client_of):
    client = client_of("coordinator")
    assert client.get("/api/v1/regions/19.04").json() == {
        "code": "19.04", "name": "Kabupaten Bangka Tengah", "kind": "kabupaten", "level": 2,
        "parent_code": "19", "retired": False}
    agencies = client.get("/api/v1/agencies?region=19.04&limit=1").json()["items"]
    assert set(agencies[0]) == {"id", "name", "short_name", "level", "region_code",
                                "region_name", "sector", "is_active"}
    assert (agencies[0]["region_code"], agencies[0]["region_name"]) == (
        "19.04", "Kabupaten Bangka Tengah")
    created = client.post("/api/v1/tokens", {"name": "skrip"},
                          content_type="application/json").json()
    assert set(created) == {"id", "name", "prefix", "created_at", "last_used_at", "active",
                            "token"}
    assert created["active"] and created["prefix"] in created["token"]
    assert account_services.api_token_authenticate(created["token"]) == world["coordinator"]
    listed = client.get("/api/v1/tokens").json()
    assert [t["id"] for t in listed] == [created["id"]] and "token" not in listed[0]
    assert datetime.datetime.fromisoformat(listed[0]["created_at"])
