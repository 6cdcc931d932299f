"""Registry pages and API by persona: search, masking, reveal, export, scope."""

import io
import json

import pytest
from openpyxl import load_workbook

from sinergi.core.models import AuditLog
from sinergi.imports import services
from sinergi.registry.models import Person

from .test_registry_import import GOOD_ROWS, HEADER, KK1, VILLAGE, nik

OPERATOR_KK = "1904011203150077"


@pytest.fixture
def registry(world, tmp_path):
    """Families in two villages of 19.04: the operator's and another."""
    own = world["operator"].region_id
    rows = [*GOOD_ROWS,
            f"{OPERATOR_KK},{nik('190401', 3, 3, 1985, 'L', 7)},Operator Tetangga,L,Koba,"
            f"03/03/1985,1,{own},,,4,1000000"]
    path = tmp_path / "registry.csv"
    path.write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    job = services.import_job_create(actor=None, source=path, file_name=path.name,
                                     region_code="19")
    services.import_job_run(services.import_job_claim(job.pk))
    return {"own": own}


def test_search_by_name_nik_and_kk_stays_in_scope(client_of, registry):
    coordinator = client_of("coordinator")
    assert "Budi Santoso" in coordinator.get("/registry/?q=budi").content.decode()
    by_kk = coordinator.get(f"/registry/?q={KK1}").content.decode()
    assert by_kk.count("/registry/persons/") == 3
    operator = client_of("operator")
    assert "Budi Santoso" not in operator.get("/registry/?q=budi").content.decode()
    assert "Operator Tetangga" in operator.get("/registry/?q=tetangga").content.decode()
    budi = Person.objects.get(name="Budi Santoso")
    assert "Budi" not in operator.get(f"/registry/?q={budi.nik}").content.decode()
    assert operator.get(f"/registry/persons/{budi.id}/").status_code == 404


def test_lists_mask_the_nik_and_reveal_is_audited(client_of, world, registry):
    budi = Person.objects.get(name="Budi Santoso")
    client = client_of("coordinator")
    listing = client.get("/registry/?q=budi").content.decode()
    assert budi.nik not in listing and budi.nik[:6] in listing and budi.nik[-4:] in listing
    page = client.get(f"/registry/persons/{budi.id}/").content.decode()
    assert budi.nik not in page
    revealed = client.post(f"/registry/persons/{budi.id}/reveal/").content.decode()
    assert budi.nik in revealed
    entry = AuditLog.objects.get(action="person.reveal_nik", object_id=str(budi.id))
    assert entry.actor == world["coordinator"]
    assert client_of("leader").post(f"/registry/persons/{budi.id}/reveal/").status_code == 403


def test_export_holds_only_the_scope_and_is_audited(client_of, world, registry):
    response = client_of("operator").get("/registry/export.xlsx")
    assert response.status_code == 200
    ws = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    rows = list(ws.values)[1:]
    assert [r[2] for r in rows] == ["Operator Tetangga"]
    assert all(r[7] == registry["own"] for r in rows)
    entry = AuditLog.objects.get(action="person.export")
    assert entry.actor == world["operator"] and entry.after["rows"] == 1


def test_api_search_masks_and_reveal_needs_the_capability(client_of, registry):
    budi = Person.objects.get(name="Budi Santoso")
    body = client_of("officer").get("/api/v1/persons?q=budi").json()
    assert [p["name"] for p in body["items"]] == ["Budi Santoso"]
    assert body["items"][0]["nik"] != budi.nik and body["items"][0]["nik_masked"]
    full = client_of("officer").get(f"/api/v1/persons/{budi.id}?reveal=true").json()
    assert full["nik"] == budi.nik
    bad = client_of("officer").get("/api/v1/persons?q=12345")
    assert bad.status_code == 400 and bad.json()["errors"][0]["field"] == "q"


def test_api_import_creates_a_job_and_reports_it(client_of, tmp_path):
    from django.core.files.uploadedfile import SimpleUploadedFile

    content = ("\n".join([HEADER, *GOOD_ROWS]) + "\n").encode()
    client = client_of("coordinator")
    created = client.post("/api/v1/imports", data={
        "file": SimpleUploadedFile("keluarga.csv", content), "format": "sinergi"})
    assert created.status_code == 202, created.content
    job_id = created.json()["id"]
    services.import_job_run(services.import_job_claim(job_id))
    status = client.get(f"/api/v1/imports/{job_id}").json()
    assert status["status"] == "done" and status["accepted"] == 4
    assert client_of("outsider").get(f"/api/v1/imports/{job_id}").status_code == 404
    wrong = client.post("/api/v1/imports", data={
        "file": SimpleUploadedFile("x.csv", content), "format": "excel97"})
    assert wrong.status_code == 400 and wrong.json()["errors"][0]["field"] == "format"


def test_upload_page_creates_a_job_and_shows_its_problems(client_of, tmp_path):
    from django.core.files.uploadedfile import SimpleUploadedFile

    rows = [*GOOD_ROWS, f"{KK1},123,Salah,L,Koba,01/01/2000,4,{VILLAGE},,,,"]
    content = ("\n".join([HEADER, *rows]) + "\n").encode()
    client = client_of("coordinator")
    response = client.post("/imports/", {"file": SimpleUploadedFile("k.csv", content),
                                         "file_format": "auto", "region": "19.04",
                                         "on_error": "skip"})
    assert response.status_code == 302
    job_id = int(response["Location"].rstrip("/").split("/")[-1])
    services.import_job_run(services.import_job_claim(job_id))
    page = client.get(f"/imports/{job_id}/").content.decode()
    assert "16 digits" in page and "report.xlsx" in page
    partial = client.get(f"/imports/{job_id}/", HTTP_HX_REQUEST="true").content.decode()
    assert "<html" not in partial
    refused = client.post("/imports/", {"file": SimpleUploadedFile("k.csv", content),
                                        "file_format": "auto", "region": "18.06",
                                        "on_error": "skip"})
    assert refused.status_code == 400
    assert "outside your scope" in json.dumps(refused.context["form"].errors)


def test_person_and_family_pages_have_a_plain_title(client_of, registry):
    budi = Person.objects.get(name="Budi Santoso")
    client = client_of("coordinator")
    for url in (f"/registry/persons/{budi.id}/", f"/registry/families/{budi.household_id}/"):
        html = client.get(url).content.decode()
        title = html.split("<title>", 1)[1].split("</title>", 1)[0]
        assert "<" not in title and "Sinergi" in title
        assert html.count('name="kind"') <= 3  # the change forms appear once, in the page


def test_a_coordinators_lists_read_the_village_index_in_order(world):
    """Persons in scope are one range of village codes (no 'OR code = root'):
    SQLite walks person_village_id in list order and stops at the page
    instead of sorting the whole kabupaten or province first."""
    from django.db import connection

    from sinergi.registry import selectors

    for persona in ("coordinator", "officer", "operator"):
        qs = selectors.persons_visible(world[persona]).order_by("village_code", "id")[:51]
        sql, params = qs.query.sql_with_params()
        assert " OR " not in sql.split(" WHERE ", 1)[1], persona
        if connection.vendor == "sqlite":
            with connection.cursor() as cur:
                cur.execute("EXPLAIN QUERY PLAN " + sql, params)
                plan = " ".join(str(row[-1]) for row in cur.fetchall())
            assert "person_village_id" in plan and "TEMP B-TREE" not in plan, (persona, plan)
