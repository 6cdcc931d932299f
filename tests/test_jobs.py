"""The one job runner: queue, claim, end, reap, cancel, and a worker that
outlives database errors. The served-process tests (test_served.py) drive
the same runner through `sinergi demo`, with real job processes."""

import datetime
import logging
import socket

import pytest
from django.db import OperationalError
from django.utils import timezone

from sinergi.core import jobs
from sinergi.core.models import AuditLog, Job
from sinergi.imports import services as import_services
from sinergi.imports.models import CANCELLED, FAILED, ImportJob

from .conftest import csv_bytes


@pytest.fixture
def queued_import(world, tmp_path):
    path = tmp_path / "one.csv"
    path.write_bytes(csv_bytes(["NIK,Nama", "1,X"]).getvalue())
    return import_services.import_job_create(actor=world["coordinator"], source=path,
                                             file_name="one.csv", region_code="19.04")


def test_a_job_is_queued_with_the_change_that_asks_for_it(queued_import):
    job = jobs.job_of(import_services.JOB_KIND, queued_import.pk)
    assert job is not None and job.status == jobs.PENDING and not job.worker


def test_a_waiting_job_cancelled_ends_at_once_with_its_import(world, queued_import):
    job = jobs.job_of(import_services.JOB_KIND, queued_import.pk)
    import_services.import_job_cancel(actor=world["coordinator"], job=queued_import)
    job.refresh_from_db()
    queued_import.refresh_from_db()
    assert job.status == jobs.CANCELLED and queued_import.status == CANCELLED
    assert "before it started" in queued_import.message
    assert jobs.claim() is None
    assert AuditLog.objects.filter(action="import.cancel",
                                   object_id=str(queued_import.pk)).exists()


def test_a_finished_job_cannot_be_cancelled(world, queued_import):
    import_services.import_job_run(import_services.import_job_claim(queued_import.pk))
    job = jobs.job_of(import_services.JOB_KIND, queued_import.pk)
    assert job.status == jobs.FAILED  # the file lacks the required columns
    with pytest.raises(Exception, match="already finished"):
        jobs.cancel(actor=world["coordinator"], job=job, action="import.cancel",
                    obj=queued_import)


def test_a_job_of_another_host_is_reaped_only_when_its_heartbeat_stops(
        world, queued_import, settings):
    settings.JOB_STALL_SECONDS = 10
    job = jobs.job_of(import_services.JOB_KIND, queued_import.pk)
    ImportJob.objects.filter(pk=queued_import.pk).update(status="running")
    Job.objects.filter(pk=job.pk).update(status=jobs.RUNNING, worker="elsewhere:1",
                                         heartbeat_at=timezone.now())
    assert jobs.reap() == 0
    Job.objects.filter(pk=job.pk).update(
        heartbeat_at=timezone.now() - datetime.timedelta(seconds=31))
    assert jobs.reap() == 1
    job.refresh_from_db()
    queued_import.refresh_from_db()
    assert job.status == jobs.FAILED and queued_import.status == FAILED
    assert "elsewhere:1" in queued_import.message
    assert AuditLog.objects.filter(action="import.fail", object_id=str(queued_import.pk))


def test_ending_a_job_whose_work_already_committed_counts_it_done(world, queued_import):
    """The worker killed the job's process just after its commit: the import
    is done, and stays done."""
    job = jobs.claim(kind=import_services.JOB_KIND, ref_id=queued_import.pk)
    ImportJob.objects.filter(pk=queued_import.pk).update(status="done")
    assert jobs.end(job, jobs.CANCELLED, "too late") == jobs.DONE
    queued_import.refresh_from_db()
    job.refresh_from_db()
    assert queued_import.status == "done" and job.status == jobs.DONE and not job.message


def test_a_job_of_an_unknown_kind_is_failed_by_the_worker(db):
    job = Job.objects.create(kind="nothing.here")
    supervisor = jobs.Supervisor(out=lambda line: None)
    supervisor.start_waiting()
    job.refresh_from_db()
    assert job.status == jobs.FAILED and job.message and not supervisor.children


@pytest.mark.django_db(transaction=True)
def test_the_worker_outlives_database_errors(monkeypatch, caplog, world):
    calls = []
    real_reap = jobs.reap

    def flaky_reap():
        calls.append(1)
        if len(calls) <= 2:
            raise OperationalError("database is locked")
        return real_reap()

    monkeypatch.setattr(jobs, "reap", flaky_reap)
    monkeypatch.setattr(jobs.time, "sleep", lambda seconds: None)
    ran = []
    monkeypatch.setattr(jobs, "_PERIODIC",
                        [jobs._Periodic(every=0, function=lambda: ran.append(1))])
    with caplog.at_level(logging.ERROR, logger="sinergi.core.jobs"):
        jobs.Supervisor(interval=0.01, out=lambda line: None).run_forever(once=True)
    assert len(calls) == 3 and ran == [1]
    assert sum("job worker pass failed" in r.getMessage() for r in caplog.records) == 2


def test_the_runner_names_this_host(db):
    assert jobs.worker_id(123) == f"{socket.gethostname()}:123"


def test_a_delayed_job_waits_for_its_time_and_one_serves_a_burst(db, monkeypatch):
    from sinergi.convergence import services as convergence_services

    for _ in range(3):
        convergence_services.refresh_requested(region_code="19.04", year=2026)
    waiting = Job.objects.filter(kind=convergence_services.JOB_KIND, status=jobs.PENDING)
    assert waiting.count() == 1
    assert jobs.claim() is None  # not before its time
    later = timezone.now() + datetime.timedelta(
        seconds=convergence_services.REFRESH_DELAY_SECONDS + 1)
    monkeypatch.setattr(jobs.timezone, "now", lambda: later)
    assert jobs.claim() is not None
