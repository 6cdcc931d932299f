"""The rakor brief: its content, the PDF made by a job, failures and reaping."""

import datetime
import io
import os
import re
import socket
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from django.template.loader import render_to_string
from django.test import RequestFactory
from django.utils import timezone
from pypdf import PdfReader

from sinergi.agencies.models import Agency
from sinergi.core import jobs
from sinergi.core.models import AuditLog, Job
from sinergi.meetings import briefs, progress, services
from sinergi.meetings.models import (
    BRIEF_DONE,
    BRIEF_FAILED,
    BRIEF_PENDING,
    BRIEF_RUNNING,
    DONE,
    LATE,
    BriefJob,
    Commitment,
    Meeting,
)
from sinergi.regions.models import Region

from .conftest import KAB

TODAY = datetime.date(2026, 11, 23)
TITLE = "Rakor Teknis Perlindungan Anak & Perempuan — Bangka Tengah (Ñ, é, ö)"


@pytest.fixture(autouse=True)
def frozen_today(monkeypatch):
    """Statuses depend on the date: every "today" here (fixtures, brief
    context, the job) is TODAY."""
    monkeypatch.setattr(timezone, "localdate", lambda *args, **kwargs: TODAY)
    return TODAY


def token(i: int) -> str:
    """A word of commitment ``i`` that a PDF line break cannot split."""
    return f"KOMIT{i:03d}"


def run(job: BriefJob) -> BriefJob:
    claimed = briefs.brief_job_claim(job.pk)
    assert claimed is not None and claimed.status == BRIEF_RUNNING
    return briefs.brief_job_run(claimed)


def pdf_text(job: BriefJob) -> str:
    with job.file.open("rb") as f:
        reader = PdfReader(io.BytesIO(f.read()))
    return "\n".join(page.extract_text() for page in reader.pages)


def make_commitments(meeting: Meeting, n: int, *, region: str, today: datetime.date,
                     village: str | None = None, start: int = 1) -> list[Commitment]:
    """``n`` commitments in a mix of states: late, done, in progress with a
    measure, not started, one cancelled, one counted from the registry."""
    agencies = list(Agency.objects.filter(region_id="19.04").order_by("id"))
    made = []
    for i in range(start, start + n):
        kind = i % 5
        c = Commitment(meeting=meeting, number=i, region_id=region,
                       owner_agency=agencies[i % len(agencies)],
                       text=f"{token(i)} menyelesaikan <tindak lanjut> & laporan desa nomor {i}",
                       due_date=today + datetime.timedelta(days=60 + i))
        if kind == 1:  # late
            c.due_date = today - datetime.timedelta(days=10 + i)
        elif kind == 0:  # done, some after their due date
            c.due_date = today - datetime.timedelta(days=i)
            c.done_on = today - datetime.timedelta(days=1)
        elif kind == 2:  # in progress, with a measure
            c.unit, c.baseline, c.target = "desa", Decimal(10), Decimal(50)
            c.value, c.value_date = Decimal(10 + i % 40), today
            c.last_update_on = today
        elif kind == 4 and i == 4:
            c.cancelled_on, c.cancel_reason = today, "digabung"
        made.append(c)
    if village and made:
        bound = made[-2]  # kind 3: not started unless the registry moves it
        bound.region_id, bound.source = village, "registry.persons"
        bound.baseline, bound.target, bound.unit = Decimal(0), Decimal(100), "jiwa"
    Commitment.objects.bulk_create(made)
    return list(Commitment.objects.filter(meeting=meeting, number__gte=start,
                                          number__lt=start + n))


@pytest.fixture
def big_meeting(world):
    coordinator = world["coordinator"]
    today = timezone.localdate()
    host = Agency.objects.get(region_id=KAB, short_name="DP3ACSKB")
    meeting = services.meeting_create(actor=coordinator,
        kind="rakor_teknis", title=TITLE, starts_on=today - datetime.timedelta(days=90),
        region=KAB, place="Aula Koba", chair="Sekda Bangka Tengah",
        host_agency=host.pk)
    for desk, topic in [("Layanan Dasar", "Akta kelahiran anak"),
                        ("Layanan Dasar", "Jaminan kesehatan"),
                        ("Ekonomi Keluarga", "Industri Rumahan")]:
        services.agenda_add(actor=coordinator, meeting=meeting,
                            desk=desk, title=topic)
    services.agenda_add(actor=coordinator, meeting=meeting, title="Lain-lain")
    for short, attended in [("DP3ACSKB", True), ("DPPKB", True), ("Dinsos", False)]:
        services.participant_add(actor=coordinator, meeting=meeting,
                                 agency=Agency.objects.get(region_id=KAB, short_name=short).pk,
                                 attended=attended)
    services.issue_add(actor=coordinator, meeting=meeting,
                       category="violence", region=KAB,
                       description="ISUKEKERASAN 12 kasus kekerasan terhadap anak")
    make_commitments(meeting, 50, region=KAB, today=today,
                     village=world["operator"].region_id)
    return meeting


def test_meeting_brief_pdf_shows_every_commitment_late_first(world, big_meeting):
    job = briefs.brief_job_create(actor=world["coordinator"], meeting=big_meeting,
                                  language="en")
    assert job.status == BRIEF_PENDING
    assert AuditLog.objects.filter(action="brief.create", object_id=str(job.pk)).exists()
    job = run(job)
    assert job.status == BRIEF_DONE, job.message
    assert job.file and job.finished_at and not job.message
    text = pdf_text(job)

    commitments = list(Commitment.objects.filter(meeting=big_meeting))
    states = progress.progress_of(commitments)
    assert len(commitments) == 50
    positions = {}
    for c in commitments:
        assert token(c.number) in text, c.number
        positions[c.pk] = text.index(token(c.number))
    late = [positions[c.pk] for c in commitments if states[c.pk].status == LATE]
    done = [positions[c.pk] for c in commitments if states[c.pk].status == DONE]
    assert late and done and max(late) < min(done)

    counts = {}
    for state in states.values():
        counts[state.status_label] = counts.get(state.status_label, 0) + 1
    for label, n in counts.items():
        assert re.search(rf"{re.escape(label)}\s+{n}\b", text), (label, n)
    assert re.search(r"Total\s+50\b", text)
    # Escaped user text and letters outside ASCII survive the PDF.
    assert "Anak & Perempuan" in text and "(Ñ, é, ö)" in text
    assert "<tindak lanjut>" in text
    assert "ISUKEKERASAN" in text and "Layanan Dasar" in text and "Industri Rumahan" in text
    assert "Page 1 of" in text and "Generated" in text


def test_brief_context_orders_counts_and_groups(world, big_meeting):
    brief = briefs.brief_context(meeting=big_meeting, scope_root=KAB)
    statuses = [row["status"] for row in brief["commitments"]]
    order = briefs.STATUS_ORDER
    assert statuses == sorted(statuses, key=order.index)
    lates = [row["due_date"] for row in brief["commitments"] if row["status"] == LATE]
    assert lates == sorted(lates)
    assert sum(brief["counts"].values()) == 50 == brief["shown_commitments"]
    assert not brief["truncated"]
    assert brief["attendance"] == {"participants": 3, "invited": 3, "attended": 2}
    assert [g["desk"] for g in brief["agenda"]] == ["Layanan Dasar", "Ekonomi Keluarga", ""]
    assert [t["title"] for t in brief["agenda"][0]["topics"]] == ["Akta kelahiran anak",
                                                                  "Jaminan kesehatan"]
    assert brief["meeting"]["host"] and brief["meeting"]["region"] == "Kabupaten Bangka Tengah"
    assert brief["issues"][0]["category_label"] == "Violence against women and children"
    per_agency = {a["name"]: a for a in brief["per_agency"]}
    assert sum(a["total"] for a in per_agency.values()) == 50
    assert all(sum(a["cells"]) == a["total"] for a in per_agency.values())
    live = [row for row in brief["commitments"] if row["live"]]
    assert len(live) == 1 and live[0]["has_measure"]


def test_brief_bounds_the_commitments_read(world, big_meeting, monkeypatch):
    monkeypatch.setattr(briefs, "MAX_COMMITMENTS", 10)
    brief = briefs.brief_context(meeting=big_meeting, scope_root=None)
    assert brief["truncated"] and brief["total_commitments"] == 50
    assert brief["shown_commitments"] == 10
    assert all(not Commitment.objects.get(pk=row["id"]).done_on
               for row in brief["commitments"])  # open ones are kept first
    pdf = briefs.render_pdf(brief)
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages)
    assert "Only the first 10 of 50 commitments" in text


def test_region_brief_covers_the_subtree_only(world, big_meeting):
    today = timezone.localdate()
    other_kab = Region.objects.filter(code__startswith="19.", level=2).exclude(
        code=KAB).order_by("code").first()
    province = Meeting.objects.create(kind="rakor", title="Rakor Provinsi Babel",
                                      starts_on=today, region_id="19")
    make_commitments(province, 3, region=KAB, today=today, start=101)
    make_commitments(province, 2, region=other_kab.code, today=today, start=201)
    elsewhere = Meeting.objects.create(kind="rakor", title="Rakor Tanggamus",
                                       starts_on=today, region_id="18.06")
    Commitment.objects.create(meeting=elsewhere, number=1, region_id="18.06",
                              owner_agency=Agency.objects.get(region_id="18.06",
                                                              short_name="Dinsos"),
                              text=f"{token(301)} di luar")

    region = Region.objects.get(code=KAB)
    job = run(briefs.brief_job_create(actor=world["admin"], region=region, language="en"))
    assert job.status == BRIEF_DONE, job.message
    assert job.meeting_id is None and job.region_id == KAB
    text = pdf_text(job)
    for i in [*range(1, 51), 101, 102, 103]:
        assert token(i) in text, i
    for i in (201, 202, 301):
        assert token(i) not in text
    assert "Rakor brief of Kabupaten Bangka Tengah" in text
    assert "Rakor Provinsi Babel" in text and "Rakor Tanggamus" not in text
    assert "ISUKEKERASAN" in text

    brief = briefs.brief_context(region=region, scope_root="19")
    assert brief["shown_commitments"] == 53
    titles = {m["title"]: m["commitments"] for m in brief["meetings"]}
    assert titles == {TITLE: 50, "Rakor Provinsi Babel": 3}


def test_brief_page_template_renders(world, big_meeting):
    request = RequestFactory().get("/")
    request.user = world["coordinator"]
    brief = briefs.brief_context(meeting=big_meeting, scope_root=KAB)
    page = render_to_string("meetings/brief.html", {
        "brief": brief, "meeting": big_meeting, "region": None, "job": None,
        "can_generate": True}, request=request)
    assert token(1) in page and "&lt;tindak lanjut&gt;" in page
    assert page.index(f"{token(1)} ") < page.index(f"{token(5)} ")  # late before done
    assert 'name="meeting"' in page and "status-late" in page and "<script>" not in page
    job = run(briefs.brief_job_create(actor=world["coordinator"], meeting=big_meeting,
                                      language="en"))
    page = render_to_string("meetings/brief.html", {
        "brief": brief, "meeting": big_meeting, "region": None, "job": job,
        "can_generate": False}, request=request)
    assert f"/meetings/briefs/{job.pk}/" in page and 'name="meeting"' not in page
    region = Region.objects.get(code=KAB)
    page = render_to_string("meetings/brief.html", {
        "brief": briefs.brief_context(region=region, scope_root=KAB), "meeting": None,
        "region": region, "job": None, "can_generate": True}, request=request)
    assert f'value="{KAB}"' in page and TITLE.split(" —")[0].replace("&", "&amp;") in page


def test_failed_render_leaves_a_message_and_no_file(world, big_meeting, monkeypatch, settings):
    def broken(context):
        raise RuntimeError("boom")

    monkeypatch.setattr(briefs, "render_pdf", broken)
    job = run(briefs.brief_job_create(actor=world["coordinator"], meeting=big_meeting,
                                      language="en"))
    assert job.status == BRIEF_FAILED and job.finished_at
    assert "internal error" in job.message and "RuntimeError" in job.message
    assert not job.file
    assert not list((Path(settings.MEDIA_ROOT) / "briefs").rglob("*.pdf"))
    assert AuditLog.objects.filter(action="brief.fail", object_id=str(job.pk)).exists()


def test_claim_is_taken_once(world, big_meeting):
    job = briefs.brief_job_create(actor=None, meeting=big_meeting)
    assert job.language == "id"
    assert briefs.brief_job_claim(job.pk) is not None
    assert briefs.brief_job_claim(job.pk) is None
    assert briefs.brief_job_claim() is None


def test_reap_fails_running_jobs_of_dead_processes(world, big_meeting):
    """The runner's reaper ends the brief whose process died, through the
    brief's own end: failed, with a message and no file."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    host = socket.gethostname()
    dead = briefs.brief_job_create(actor=None, meeting=big_meeting)
    alive = briefs.brief_job_create(actor=None, meeting=big_meeting)
    other_host = briefs.brief_job_create(actor=None, meeting=big_meeting)
    for brief_job, worker in ((dead, f"{host}:{child.pid}"), (alive, f"{host}:{os.getpid()}"),
                              (other_host, f"{host}-elsewhere:{child.pid}")):
        BriefJob.objects.filter(pk=brief_job.pk).update(status=BRIEF_RUNNING, worker=worker)
        Job.objects.filter(kind=briefs.JOB_KIND, ref_id=brief_job.pk).update(
            status=Job.RUNNING, worker=worker, heartbeat_at=timezone.now())
    assert jobs.reap() == 1
    dead.refresh_from_db()
    alive.refresh_from_db()
    other_host.refresh_from_db()
    assert dead.status == BRIEF_FAILED and dead.message and not dead.file
    assert alive.status == BRIEF_RUNNING and other_host.status == BRIEF_RUNNING


def test_the_runner_claims_and_runs_a_queued_brief(world, big_meeting):
    """What the worker's process for the job does, run here; the language is
    the job's, Bahasa Indonesia by default."""
    job = briefs.brief_job_create(actor=world["officer"], meeting=big_meeting)
    assert jobs.run_pending() == 1
    job.refresh_from_db()
    assert job.status == BRIEF_DONE and job.language == "id" and job.worker
    assert token(1) in pdf_text(job)


def test_briefs_show_and_serve_only_what_the_reader_s_scope_sees(world, client_of):
    """A province rakor binds two kabupaten: the Bangka Tengah coordinator's
    brief (page and PDF) holds its own commitment and not the other's, and
    the PDF made by the province's administrator is not the coordinator's."""
    admin = world["admin"]
    other = Region.objects.get(code="19.01")
    meeting = services.meeting_create(actor=admin,
        kind="rakor", title="Rakor Provinsi Babel", starts_on="2026-10-01",
        region="19")
    dinsos = Agency.objects.get(region_id="19", short_name="Dinsos")
    for number, code in ((1, KAB), (2, other.code)):
        services.commitment_create(actor=admin, meeting=meeting,
                                   text=f"{token(number)} untuk {code}", owner_agency=dinsos.pk,
                                   region=code)
    client = client_of("coordinator")
    page = client.get(f"/meetings/{meeting.pk}/brief/").content.decode()
    assert token(1) in page and token(2) not in page

    assert client.post("/meetings/briefs/", {"meeting": meeting.pk}).status_code == 302
    job = BriefJob.objects.get(meeting=meeting)
    assert job.scope_root == KAB
    job = run(job)
    text = pdf_text(job)
    assert token(1) in text and token(2) not in text
    assert client.get(f"/meetings/briefs/{job.pk}/").status_code == 200

    admin_job = run(briefs.brief_job_create(actor=admin, meeting=meeting, language="en"))
    assert admin_job.scope_root == "19"
    admin_text = pdf_text(admin_job)
    assert token(1) in admin_text and token(2) in admin_text
    assert client.get(f"/meetings/briefs/{admin_job.pk}/").status_code == 404
    assert client_of("admin").get(f"/meetings/briefs/{admin_job.pk}/").status_code == 200
    assert client_of("admin").get(f"/meetings/briefs/{job.pk}/").status_code == 404
    # The page links the newest PDF of the reader's own scope, never another's.
    page = client.get(f"/meetings/{meeting.pk}/brief/").content.decode()
    assert f"/meetings/briefs/{job.pk}/" in page
    assert f"/meetings/briefs/{admin_job.pk}/" not in page


def test_region_brief_keeps_to_the_scope_it_was_made_under(world, client_of):
    admin = world["admin"]
    meeting = services.meeting_create(actor=admin,
        kind="rakor", title="Rakor Provinsi Babel", starts_on="2026-10-01",
        region="19")
    dinsos = Agency.objects.get(region_id="19", short_name="Dinsos")
    services.commitment_create(actor=admin, meeting=meeting,
        text=f"{token(1)} untuk provinsi", owner_agency=dinsos.pk, region="19")
    services.commitment_create(actor=admin, meeting=meeting,
        text=f"{token(2)} untuk Bangka Tengah", owner_agency=dinsos.pk, region=KAB)
    region = Region.objects.get(code=KAB)
    # A commitment for the province as a whole is not in a kabupaten's brief.
    brief = briefs.brief_context(region=region, scope_root=KAB)
    assert [row["text"].split()[0] for row in brief["commitments"]] == [token(2)]
    assert [m["title"] for m in brief["meetings"]] == ["Rakor Provinsi Babel"]
    assert client_of("outsider").get(f"/meetings/regions/{KAB}/brief/").status_code == 404
    job = briefs.brief_job_create(actor=world["coordinator"], region=region)
    assert client_of("leader").get(f"/meetings/briefs/{job.pk}/").status_code == 404
    assert client_of("coordinator").get(f"/meetings/briefs/{job.pk}/").status_code == 202


def test_the_brief_page_shows_the_pdf_when_it_is_ready_without_a_reload(world, meeting,
                                                                       client_of):
    client = client_of("coordinator")
    assert client.post("/meetings/briefs/", {"meeting": meeting.pk}).status_code == 302
    job = BriefJob.objects.get(meeting=meeting)
    page = client.get(f"/meetings/{meeting.pk}/brief/").content.decode()
    status_url = f"/meetings/briefs/{job.pk}/status/"
    assert f'hx-get="{status_url}" hx-trigger="every 2s"' in page  # it asks again
    waiting = client.get(status_url).content.decode()
    assert "every 2s" in waiting and "Download the PDF" not in waiting
    run(job)
    ready = client.get(status_url).content.decode()
    assert "Download the PDF" in ready and f"/meetings/briefs/{job.pk}/" in ready
    assert "hx-trigger" not in ready  # and stops asking
    assert client_of("outsider").get(status_url).status_code == 404
