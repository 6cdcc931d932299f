"""Every request's database work is bounded in time, and says so clearly.

A rule preview built to be slow (a registry of 30,000 persons and a rule
with a dozen correlated lookups) meets a real limit: SQLite's progress
handler or PostgreSQL's statement_timeout stops it, and the preview shows
"too heavy" in place. A write request that runs past its deadline changes
nothing. The clock is the only thing mocked, in the tests that need the
deadline to pass at one exact statement.
"""

import datetime

import pytest
from django.db import connection
from django.utils import timezone

from sinergi.core import timelimit
from sinergi.core.models import AuditLog
from sinergi.imports import services as import_services
from sinergi.regions.models import Region
from sinergi.registry import synthetic
from sinergi.registry.models import Household, Person

from .conftest import KAB

# A dozen correlated counts per person; no group kinds needed (a
# transactional test elsewhere may have flushed the shipped ones).
SLOW_RULE = " or ".join(f"family.size >= {i}" for i in range(20, 32))


@pytest.fixture
def big_registry(world, tmp_path):
    villages = list(Region.objects.filter(code__startswith=KAB + ".", level=4)
                    .order_by("code").values_list("code", flat=True)[:40])
    path = tmp_path / "besar.csv"
    synthetic.generate(villages, persons=30_000, seed=7,
                       today=timezone.localdate()).write_csv(path)
    job = import_services.import_job_create(actor=None, source=path, file_name=path.name,
                                            file_format="sinergi", region_code=KAB)
    job = import_services.import_job_run(import_services.import_job_claim(job.pk))
    assert job.persons_added > 25_000, job.message
    return job


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)  # requests in autocommit, as when served
def test_a_rule_preview_built_to_be_slow_answers_too_heavy(big_registry, client_of, settings):
    client = client_of("coordinator")
    url = "/programs/rule-preview/"
    params = {"unit": "person", "region": KAB, "rule": SLOW_RULE}
    settings.REQUEST_TIME_LIMIT = 60
    fine = client.get(url, params)
    assert fine.status_code == 200, fine.content.decode()[:500]
    settings.REQUEST_TIME_LIMIT = 0.05
    heavy = client.get(url, params)
    assert heavy.status_code == 503
    text = heavy.content.decode()
    assert "too heavy to answer within 0.05 seconds" in text and "Narrow it" in text
    # The connection is usable again for the next request.
    settings.REQUEST_TIME_LIMIT = 60
    assert client.get(url, {**params, "rule": "age >= 60"}).status_code == 200


def test_a_rule_with_too_many_lookups_is_refused_before_any_query(world, client_of):
    rule = " or ".join(f"family.size >= {i}" for i in range(13))
    response = client_of("coordinator").get("/programs/rule-preview/", {
        "unit": "person", "region": KAB, "rule": rule})
    assert response.status_code == 400
    assert "at most 12 conditions that look into other lists" in response.content.decode()


@pytest.fixture
def clock(monkeypatch):
    """The request's clock, moved on by the test at a chosen statement."""
    state = {"offset": 0.0}
    real = timelimit.time.monotonic
    monkeypatch.setattr(timelimit.time, "monotonic", lambda: real() + state["offset"])
    return state


def test_a_write_whose_deadline_passes_mid_way_changes_nothing(world, client_of, clock):
    village = world["operator"].region_id
    family = Household.objects.create(kk_number="1904011203150055", village_code=village)
    person = Person.objects.create(nik="1904010101900055", name="Tetap", sex="L", shdk=1,
                                   household=family, village_code=village,
                                   birth_date=datetime.date(1990, 1, 1))

    def late_after_update(execute, sql, params, many, context):
        result = execute(sql, params, many, context)
        if sql.lstrip().upper().startswith("UPDATE") and "registry_person" in sql:
            clock["offset"] = 10_000.0  # the deadline passes right after the write
        return result

    audits = AuditLog.objects.count()
    with connection.execute_wrapper(late_after_update):
        response = client_of("operator").post(
            f"/registry/persons/{person.id}/event/",
            {"kind": "status", "status": "2", "date": "2026-11-01"})
    clock["offset"] = 0.0
    assert response.status_code == 503
    assert "too heavy" in response.content.decode()
    person.refresh_from_db()
    assert person.life_status == 1 and person.status_date is None
    assert AuditLog.objects.count() == audits


def late_at_coverage(clock):
    """A statement wrapper that moves the clock past the deadline when the
    coverage query (or the programs it reads) runs."""
    def late(execute, sql, params, many, context):
        if "convergence_" in sql or "programs_program" in sql:
            clock["offset"] = 10_000.0
        return execute(sql, params, many, context)

    return late


def test_a_page_past_its_deadline_answers_503_with_the_reason(world, client_of, clock):
    with connection.execute_wrapper(late_at_coverage(clock)):
        response = client_of("coordinator").get("/convergence/", {"region": KAB})
    clock["offset"] = 0.0
    assert response.status_code == 503
    assert "too heavy to answer within" in response.content.decode()


def test_requests_without_a_deadline_outside_the_web(db):
    """Jobs and commands run in other processes: no deadline is set there."""
    assert timelimit._deadline() is None
    with connection.cursor() as cur:
        cur.execute("SELECT 1")
        assert cur.fetchone()[0] == 1


def test_an_api_call_past_its_deadline_answers_503_in_the_api_shape(world, client_of, clock):
    with connection.execute_wrapper(late_at_coverage(clock)):
        response = client_of("coordinator").get("/api/v1/convergence/coverage",
                                                {"region": KAB})
    clock["offset"] = 0.0
    assert response.status_code == 503
    body = response.json()
    assert "too heavy to answer within" in body["detail"] and body["errors"] == []


def test_excel_exports_have_the_longer_export_limit(world, client_of, clock, settings):
    """A page and an export each read past 10 s of (mocked) time: the page is
    too heavy under the request limit, the export within its own."""
    settings.REQUEST_TIME_LIMIT, settings.EXPORT_TIME_LIMIT = 5, 1000

    def slow(execute, sql, params, many, context):
        if "registry_person" in sql:
            clock["offset"] += 10.0
        return execute(sql, params, many, context)

    client = client_of("coordinator")
    with connection.execute_wrapper(slow):
        export = client.get("/registry/export.xlsx", {"region": KAB})
        clock["offset"] = 0.0
        page = client.get("/registry/", {"q": "Budi", "region": KAB})
    clock["offset"] = 0.0
    assert export.status_code == 200 and export["Content-Type"].startswith(
        "application/vnd.openxmlformats")
    assert page.status_code == 503
