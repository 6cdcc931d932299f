"""A large persons export is written in the background, with its progress
on a page, and only the user who asked for it downloads it."""

import io

import pytest
from openpyxl import load_workbook

from sinergi.core import jobs
from sinergi.core.models import AuditLog
from sinergi.registry import services
from sinergi.registry.models import EXPORT_DONE, EXPORT_FAILED, ExportJob, Household, Person

from .conftest import OUTSIDE_KAB
from .test_registry_pages import registry  # noqa: F401 (fixture: families of 19.04)


@pytest.fixture
def outside(world):
    """A family of another kabupaten (18.06), which no 19.04 export may hold."""
    from sinergi.regions.models import Region

    village = Region.objects.filter(code__startswith=OUTSIDE_KAB + ".", level=4).first().code
    family = Household.objects.create(kk_number="1806010101010001", village_code=village)
    Person.objects.create(nik="1806014101900001", name="ORANG TANGGAMUS", sex="P",
                          household=family, village_code=village)


def run_export(job: ExportJob) -> ExportJob:
    task = jobs.claim(kind=services.EXPORT_JOB_KIND, ref_id=job.pk)
    assert task is not None
    jobs.run(task)
    job.refresh_from_db()
    return job


def test_a_large_export_is_written_in_the_background_and_only_its_owner_gets_it(
        client_of, world, registry, outside, monkeypatch):  # noqa: F811
    monkeypatch.setattr(services, "EXPORT_INLINE_MAX", 2)
    coordinator = client_of("coordinator")
    expected = Person.objects.filter(village_code__startswith="19.04.").count()
    assert expected > 2
    # Asked for the whole province: the coordinator gets the own kabupaten.
    response = coordinator.get("/registry/export.xlsx", {"region": "19"})
    job = ExportJob.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/registry/exports/{job.pk}/"
    assert job.rows_total == expected and job.region_code == "19.04"
    entry = AuditLog.objects.get(action="person.export")
    assert entry.after["job"] == job.pk and entry.after["rows"] == expected

    waiting = coordinator.get(f"/registry/exports/{job.pk}/").content.decode()
    assert f'hx-get="/registry/exports/{job.pk}/" hx-trigger="every 2s"' in waiting
    assert f"/registry/exports/{job.pk}/penduduk.xlsx" not in waiting
    # The file is not there yet: its link leads back to the progress page.
    early = coordinator.get(f"/registry/exports/{job.pk}/penduduk.xlsx")
    assert early.status_code == 302

    job = run_export(job)
    assert job.status == EXPORT_DONE and job.rows_done == expected
    ready = coordinator.get(f"/registry/exports/{job.pk}/", HTTP_HX_REQUEST="true")
    page = ready.content.decode()
    assert "hx-trigger" not in page and f"/registry/exports/{job.pk}/penduduk.xlsx" in page
    download = coordinator.get(f"/registry/exports/{job.pk}/penduduk.xlsx")
    rows = list(load_workbook(io.BytesIO(b"".join(download.streaming_content))).active.values)
    assert len(rows) == expected + 1 and rows[0][0] == "NIK"
    assert all(r[7].startswith("19.04.") for r in rows[1:])
    assert "ORANG TANGGAMUS" not in {r[2] for r in rows}
    # Nobody else sees it, not even an administrator of the province.
    for persona in ("admin", "officer", "outsider"):
        assert client_of(persona).get(f"/registry/exports/{job.pk}/").status_code == 404
        assert client_of(persona).get(
            f"/registry/exports/{job.pk}/penduduk.xlsx").status_code == 404


def test_a_small_export_is_sent_at_once(client_of, registry):  # noqa: F811
    response = client_of("coordinator").get("/registry/export.xlsx", {"region": "19.04"})
    assert response.status_code == 200 and not ExportJob.objects.exists()


def test_an_export_that_fails_says_so_and_keeps_no_file(client_of, world, registry,  # noqa: F811
                                                        monkeypatch):
    monkeypatch.setattr(services, "EXPORT_INLINE_MAX", 2)
    client = client_of("coordinator")
    client.get("/registry/export.xlsx", {"region": "19.04"})
    job = ExportJob.objects.get()

    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(services, "write_xlsx", broken)
    job = run_export(job)
    assert job.status == EXPORT_FAILED and not job.file
    assert "internal error" in job.message and "Try again" in job.message
    page = client.get(f"/registry/exports/{job.pk}/").content.decode()
    assert "could not be written" in page and "Try again" in page
