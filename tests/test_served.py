"""The demo as a new user meets it: `sinergi demo` serving over HTTP, with its
gunicorn workers and its job worker, on a database of its own.

An upload through the page finishes (the serving process never forks after
polars has started), its error report downloads, and a job that stops
making progress is failed, while a running one can be cancelled.
"""

import contextlib
import os
import signal
import socket
import time

import pytest

from .processes import Served, big_file, scratch_database

pytestmark = pytest.mark.slow

STALL_SECONDS = 15


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("served")
    with scratch_database(tmp_path) as (env, query):
        env["SINERGI_JOB_STALL_SECONDS"] = str(STALL_SECONDS)
        env["SINERGI_EXPORT_INLINE_MAX"] = "10"  # every persons export goes to the worker
        env["SINERGI_INDICATOR_RECOUNT_DELAY"] = "1"
        server = Served(env)
        try:
            yield server, query, tmp_path
        finally:
            server.stop()


def wait_for(predicate, *, timeout: float, interval: float = 0.2, what: str = ""):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out waiting for {what}")


def upload(browser, path, **fields) -> int:
    status, url, body = browser.post_file("/imports/", {
        "file_format": "sinergi", "on_error": "skip", **fields}, "file", path)
    assert status == 200 and "/imports/" in url, body[:2000]
    return int(url.rstrip("/").rsplit("/", 1)[1])


def import_state(browser, job_id):
    status, data = browser.json(f"/api/v1/imports/{job_id}")
    assert status == 200, data
    return data


def test_an_upload_through_the_page_finishes_and_its_report_downloads(served):
    server, _query, tmp_path = served
    operator = server.client("operator")
    village = "19.04.01.1001"  # the demo operator's village
    path = tmp_path / "desa.csv"
    path.write_text(
        "No KK,NIK,Nama,Jenis Kelamin,Tanggal Lahir,Hubungan dalam Keluarga,Kode Wilayah\n"
        f"1904011203159901,1904010207889901,Budi Uji,L,02/07/1988,1,{village}\n"
        f"1904011203159901,1904015403909901,Ani Uji,P,14/03/1990,3,{village}\n"
        f"1904011203159901,19040154,Nik Pendek,P,14/03/2015,4,{village}\n")
    job_id = upload(operator, path)
    state = wait_for(lambda: (s := import_state(operator, job_id))["status"] in {
        "done", "failed", "review"} and s, timeout=120, what="the import to end")
    assert state["status"] == "done", state
    assert (state["accepted"], state["rejected"], state["persons_added"]) == (2, 1, 2)
    status, data = operator.json("/api/v1/persons?q=Budi%20Uji")
    assert status == 200 and [p["name"] for p in data["items"]] == ["Budi Uji"]
    status, _url, body = operator.get(f"/imports/{job_id}/report.xlsx")
    assert status == 200 and body[:2] == b"PK"


def test_the_worker_recounts_the_indicators_of_the_villages_an_upload_touched(served):
    """An upload into villages of two kabupaten: the worker recounts those
    villages' computed indicators, and each kabupaten's figure follows its
    own persons, as the API serves them."""
    server, query, tmp_path = served
    admin = server.client("admin")  # scope: the province
    villages = [query("SELECT code FROM regions_region WHERE level = 4 AND code LIKE %s "
                      "ORDER BY code LIMIT 1", (f"{kab}.%",))[0][0] for kab in ("19.01", "19.05")]

    def living(code: str) -> int:
        return query("SELECT COUNT(*) FROM registry_person WHERE village_code = %s "
                     "AND life_status = 1", (code,))[0][0]

    def served_value(code: str):
        status, data = admin.json(f"/api/v1/indicators/PENDUDUK/values?region={code}"
                                  "&scope=own")
        assert status == 200, data
        return int(float(data[-1]["value"])) if data else None

    before = {code: living(code) for code in villages}
    rows = ["No KK,NIK,Nama,Jenis Kelamin,Tanggal Lahir,Hubungan dalam Keluarga,Kode Wilayah"]
    for n, code in enumerate(villages):
        kec = code[:8].replace(".", "")
        for m in range(n + 1):  # one person in the first village, two in the second
            rows.append(f"{kec}12031599{n}0,{kec}0207889{n}{m}{m},Warga {n}{m},L,"
                        f"02/07/1988,{1 if m == 0 else 4},{code}")
    path = tmp_path / "dua-kabupaten.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    job_id = upload(admin, path, region="19")
    state = wait_for(lambda: (s := import_state(admin, job_id))["status"] in {
        "done", "failed", "review"} and s, timeout=120, what="the import to end")
    assert state["status"] == "done" and state["persons_added"] == 3, state
    after = {code: living(code) for code in villages}
    assert [after[c] - before[c] for c in villages] == [1, 2]
    wait_for(lambda: all(served_value(c) == after[c] for c in villages), timeout=120,
             what="the worker to recount the villages' indicators")
    for code in villages:  # and the kabupaten above each
        kab = code[:5]
        total = query("SELECT COUNT(*) FROM registry_person WHERE village_code LIKE %s "
                      "AND life_status = 1", (f"{kab}.%",))[0][0]
        assert served_value(kab) == total


def running_child(query, job_id: int) -> int:
    """The pid of the process running the import's job, once it runs."""
    rows = query("SELECT j.status, j.worker, i.status FROM core_job j JOIN imports_importjob i "
                 "ON i.id = j.ref_id WHERE j.kind = 'imports.persons' AND j.ref_id = %s",
                 (job_id,))
    if rows and rows[0][0] == "running" and rows[0][1] and rows[0][2] == "running":
        host, _sep, pid = rows[0][1].rpartition(":")
        assert host == socket.gethostname()
        return int(pid)
    return 0


def test_a_job_that_stops_making_progress_is_failed(served):
    server, query, tmp_path = served
    coordinator = server.client("koordinator")
    job_id = upload(coordinator, big_file(tmp_path / "macet.csv", families=20_000),
                    region="19")
    pid = wait_for(lambda: running_child(query, job_id), timeout=120, interval=0.02,
                   what="the job's process")
    os.kill(pid, signal.SIGSTOP)  # alive, but no CPU, no report, no query
    try:
        state = wait_for(lambda: (s := import_state(coordinator, job_id))["status"] != "running"
                         and s, timeout=STALL_SECONDS * 4, what="the stalled job to end")
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGCONT)
    assert state["status"] == "failed", state
    assert str(STALL_SECONDS) in state["message"] and state["persons_added"] == 0
    assert query("SELECT status FROM core_job WHERE kind = 'imports.persons' AND ref_id = %s",
                 (job_id,))[0][0] == "failed"
    assert query("SELECT COUNT(*) FROM registry_person WHERE import_job_id = %s",
                 (job_id,))[0][0] == 0


def test_a_running_job_can_be_cancelled_by_its_uploader(served):
    server, query, tmp_path = served
    coordinator = server.client("koordinator")
    job_id = upload(coordinator, big_file(tmp_path / "batal.csv", families=20_000,
                                          nik_prefix="1904012503"), region="19")
    pid = wait_for(lambda: running_child(query, job_id), timeout=120, interval=0.02,
                   what="the job's process")
    os.kill(pid, signal.SIGSTOP)  # hold it mid-way, so the cancel meets a running job
    page = coordinator.get(f"/imports/{job_id}/")[2].decode()
    assert f"/imports/{job_id}/cancel/" in page
    status, _url, _body = coordinator.post_form(f"/imports/{job_id}/cancel/", {})
    assert status == 200
    state = wait_for(lambda: (s := import_state(coordinator, job_id))["status"] != "running"
                     and s, timeout=STALL_SECONDS - 2, what="the cancel")
    assert state["status"] == "cancelled", state
    assert query("SELECT COUNT(*) FROM registry_person WHERE import_job_id = %s",
                 (job_id,))[0][0] == 0
    # The served process goes on: the next upload runs.
    again = upload(coordinator, big_file(tmp_path / "lagi.csv", families=50,
                                         nik_prefix="1904012603"), region="19")
    state = wait_for(lambda: (s := import_state(coordinator, again))["status"] in {
        "done", "failed", "review"} and s, timeout=120, what="the next import")
    assert state["status"] == "done" and state["persons_added"] == 150, state


def test_a_large_export_is_written_by_the_worker_within_the_asker_s_region(served):
    """Two regions: the kabupaten officer asks for the whole province and gets
    the own kabupaten only; the province coordinator gets every kabupaten;
    neither sees the other's export."""
    import io
    import re

    from openpyxl import load_workbook

    server, query, _tmp_path = served
    files = {}
    for who in ("petugas", "koordinator"):
        browser = server.client(who)
        status, url, _body = browser.get("/registry/export.xlsx?region=19")
        assert status == 200 and re.search(r"/registry/exports/\d+/$", url), (status, url)
        link = wait_for(lambda b=browser, u=url: re.search(
            r'href="(/registry/exports/\d+/penduduk\.xlsx)"', b.get(u[len(b.base):])[2].decode()),
            timeout=120, what="the export file").group(1)
        status, _url, body = browser.get(link)
        assert status == 200 and body[:2] == b"PK"
        rows = list(load_workbook(io.BytesIO(body), read_only=True).active.values)[1:]
        files[who] = (browser, url[len(browser.base):], {r[7][:5] for r in rows}, len(rows))
    in_kab = query("SELECT COUNT(*) FROM registry_person WHERE village_code LIKE '19.04.%%'")[0][0]
    assert files["petugas"][2] == {"19.04"} and files["petugas"][3] == in_kab
    assert len(files["koordinator"][2]) > 1 and "19.04" in files["koordinator"][2]
    petugas, page, _codes, _n = files["petugas"]
    assert files["koordinator"][0].get(page)[0] == 404



def test_monitoring_over_http_records_in_the_operator_s_village_and_analyses(served):
    """The served demo: the village operator records a family of the own
    village through the page (one of another village is not found), a round
    file of two kabupaten uploaded by the admin lands whole, and the
    coordinator's impact analysis of UPPKA answers with a verdict."""
    server, query, tmp_path = served
    operator, admin = server.client("operator"), server.client("admin")
    own = "19.04.01.1001"  # the demo operator's village
    rnd = query("SELECT id FROM monitoring_round WHERE kind = 'income' AND status = 'open' "
                "ORDER BY id LIMIT 1")[0][0]
    mine = query("SELECT id FROM registry_household WHERE village_code = %s ORDER BY id LIMIT 1",
                 (own,))[0][0]
    other = query("SELECT id FROM registry_household WHERE village_code LIKE %s "
                  "ORDER BY id LIMIT 1", ("19.01.%",))[0][0]
    status, _url, body = operator.post_form(f"/monitoring/rounds/{rnd}/family/{mine}/",
                                            {"wages": "1234000", "farming": "0"})
    assert status == 200 and b"Saved" in body, body[:2000]
    assert query("SELECT total FROM monitoring_incomerecord WHERE round_id = %s AND "
                 "household_id = %s", (rnd, mine))[0][0] == 1_234_000
    assert operator.get(f"/monitoring/rounds/{rnd}/family/{other}/")[0] == 404

    kks = [query("SELECT kk_number FROM registry_household WHERE village_code LIKE %s "
                 "ORDER BY id LIMIT 1", (f"{kab}.%",))[0][0] for kab in ("19.01", "19.05")]
    path = tmp_path / "putaran-dua-kabupaten.csv"
    path.write_text("No KK,Upah/Gaji,Usaha sendiri\n" + "".join(
        f"{kk},2500000,{n}00000\n" for n, kk in enumerate(kks)), encoding="utf-8")
    status, url, body = admin.post_file(f"/monitoring/rounds/{rnd}/import/", {}, "file", path)
    assert status == 200 and f"/monitoring/rounds/{rnd}/" in url, body[:2000]
    totals = query("SELECT h.kk_number, r.total FROM monitoring_incomerecord r JOIN "
                   "registry_household h ON h.id = r.household_id WHERE r.round_id = %s AND "
                   "h.kk_number IN (%s, %s)", (rnd, *kks))
    assert dict(totals) == {kks[0]: 2_500_000, kks[1]: 2_600_000}

    coordinator = server.client("koordinator")
    rounds = [r[0] for r in query("SELECT id FROM monitoring_round WHERE kind = 'income' "
                                  "ORDER BY ends_on")]
    status, data = coordinator.json(f"/api/v1/monitoring/impact?kind=UPPKA&region=19"
                                    f"&baseline={rounds[-2]}&followup={rounds[-1]}")
    assert status == 200, data
    assert data["verdict"] in {"up", "likely_up", "no_difference", "not_enough", "down"}
    assert data["members_total"] > 0 and data["verdict_text"]
    page = coordinator.get("/monitoring/impact/?kind=UPPKA&region=19")
    assert page[0] == 200 and b"Did joining raise income?" in page[2]
