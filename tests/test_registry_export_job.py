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


def test_an_export_is_followed_not_repeated_and_closes_when_the_scope_changes(
        client_of, world, registry, monkeypatch):  # noqa: F811
    monkeypatch.setattr(services, "EXPORT_INLINE_MAX", 2)
    client = client_of("coordinator")
    first = client.get("/registry/export.xlsx", {"region": "19.04"})
    again = client.get("/registry/export.xlsx", {"region": "19.04"})  # a second click
    assert ExportJob.objects.count() == 1 and first["Location"] == again["Location"]
    job = run_export(ExportJob.objects.get())
    assert client.get(f"/registry/exports/{job.pk}/penduduk.xlsx").status_code == 200
    coordinator = world["coordinator"]
    coordinator.region_id = OUTSIDE_KAB  # moved to another kabupaten
    coordinator.save(update_fields=["region"])
    assert client.get(f"/registry/exports/{job.pk}/").status_code == 404
    assert client.get(f"/registry/exports/{job.pk}/penduduk.xlsx").status_code == 404


def test_export_files_are_deleted_after_a_day_and_strays_after_an_hour(
        client_of, registry, monkeypatch, settings):  # noqa: F811
    import datetime
    import os
    import time
    from pathlib import Path

    from django.utils import timezone

    monkeypatch.setattr(services, "EXPORT_INLINE_MAX", 2)
    client = client_of("coordinator")
    client.get("/registry/export.xlsx", {"region": "19.04"})
    job = run_export(ExportJob.objects.get())
    kept = Path(settings.MEDIA_ROOT) / job.file.name
    stray = kept.with_name("penduduk-19.04-999.xlsx")  # a job stopped before recording it
    stray.write_bytes(b"partial")
    fresh_stray = kept.with_name("penduduk-19.04-998.xlsx")
    fresh_stray.write_bytes(b"being written")
    hour_ago = time.time() - 2 * 3600
    os.utime(stray, (hour_ago, hour_ago))
    services.export_files_cleanup()
    assert kept.exists() and not stray.exists() and fresh_stray.exists()
    ExportJob.objects.filter(pk=job.pk).update(
        finished_at=timezone.now() - datetime.timedelta(hours=services.EXPORT_KEEP_HOURS + 1))
    services.export_files_cleanup()
    job.refresh_from_db()
    assert not kept.exists() and not job.file
    page = client.get(f"/registry/exports/{job.pk}/").content.decode()
    assert "was deleted a day after" in page
    assert client.get(f"/registry/exports/{job.pk}/penduduk.xlsx").status_code == 302


def test_a_search_longer_than_the_field_is_refused(client_of, registry):  # noqa: F811
    response = client_of("coordinator").get("/registry/", {"q": "a" * 101})
    assert response.status_code == 400 and "at most 100 characters" in response.content.decode()
