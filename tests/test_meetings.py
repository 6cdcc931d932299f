"""Meetings and commitments: live progress from the data, status, rights, pages, API."""

import datetime
import html
import json
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from sinergi.agencies.models import Agency
from sinergi.core.errors import AccessDenied, NotInScope, SinergiError
from sinergi.core.models import AuditLog
from sinergi.meetings import progress, selectors, services
from sinergi.meetings.demo import build as demo_build
from sinergi.meetings.models import (
    CANCELLED,
    DONE,
    IN_PROGRESS,
    LATE,
    NOT_STARTED,
    Commitment,
    Meeting,
)
from sinergi.regions.models import Region
from sinergi.registry.models import Household, Person

from .conftest import KAB, agency, api_pages

TODAY = datetime.date(2026, 11, 23)
OUTSIDE = "18.06"


@pytest.fixture(autouse=True)
def frozen_today(monkeypatch):
    """Statuses depend on the date: every "today" in these tests is TODAY."""
    monkeypatch.setattr(timezone, "localdate", lambda *args, **kwargs: TODAY)
    return TODAY




def village_of(world) -> str:
    return world["operator"].region_id


def add_person(village: str, n: int) -> None:
    hh, _ = Household.objects.get_or_create(kk_number=f"19040{n:011d}",
                                            defaults={"village_code": village})
    Person.objects.create(name=f"Warga {n}", sex="P", household=hh, shdk=1,
                          village_code=village, birth_date=datetime.date(1990, 1, n % 28 + 1))


def test_data_bound_commitment_follows_the_registry_without_updates(world, meeting,
                                                                     client_of):
    village = village_of(world)
    c = services.commitment_create(actor=world["coordinator"], meeting=meeting,
        text="Semua warga desa terdata", owner_agency=agency("DP3ACSKB").pk,
        region=village, baseline="0", target="3", unit="jiwa",
        source="registry.persons", due_date="2030-12-31")
    state = progress.progress_of([c])[c.pk]
    assert (state.value, state.status, state.live) == (Decimal(0), NOT_STARTED, True)

    add_person(village, 1)
    add_person(village, 2)
    state = progress.progress_of([c])[c.pk]
    assert (state.value, state.status, state.percent) == (Decimal(2), IN_PROGRESS, 66)
    page = client_of("officer").get(f"/meetings/commitments/{c.pk}/").content.decode()
    assert "in progress" in page and "counted live from the data" in page

    add_person(village, 3)
    api = client_of("coordinator").get(f"/api/v1/commitments/{c.pk}").json()
    assert Decimal(api["value"]) == 3 and api["status"] == DONE and api["percent"] == 100
    assert not c.updates.exists()  # nobody typed anything


def test_live_counts_stay_inside_the_commitment_region(world, meeting):
    village = village_of(world)
    other = Region.objects.filter(code__startswith=KAB + ".", level=4).exclude(
        code=village).order_by("code").first().code
    add_person(village, 4)
    add_person(other, 5)
    c = services.commitment_create(actor=None, meeting=meeting,
        text="x", owner_agency=agency("Dinsos").pk, region=village, target="10",
        source="registry.persons")
    assert progress.progress_of([c])[c.pk].value == Decimal(1)


def _c(**kw) -> Commitment:
    base = {"due_date": None, "baseline": None, "target": None, "done_on": None,
            "cancelled_on": None, "last_update_on": None, "source": "manual"}
    return Commitment(**{**base, **kw})


@pytest.mark.parametrize(("fields", "value", "expected"), [
    ({}, None, NOT_STARTED),
    ({"due_date": datetime.date(2026, 11, 1)}, None, LATE),
    ({"due_date": datetime.date(2026, 11, 23)}, None, NOT_STARTED),  # due today: not late
    ({"last_update_on": TODAY}, None, IN_PROGRESS),
    ({"baseline": Decimal(10), "target": Decimal(20)}, Decimal(10), NOT_STARTED),
    ({"baseline": Decimal(10), "target": Decimal(20)}, Decimal(15), IN_PROGRESS),
    ({"baseline": Decimal(10), "target": Decimal(20),
      "due_date": datetime.date(2026, 1, 1)}, Decimal(20), DONE),
    ({"baseline": Decimal(20), "target": Decimal(14)}, Decimal(14), DONE),  # a decrease
    ({"baseline": Decimal(20), "target": Decimal(14)}, Decimal(16), IN_PROGRESS),
    ({"done_on": TODAY, "due_date": datetime.date(2026, 1, 1)}, None, DONE),
    ({"cancelled_on": TODAY, "done_on": TODAY}, None, CANCELLED),
    # No baseline counts as 0: a live count of 0 has not moved, any other value has.
    ({"target": Decimal(10), "source": "registry.persons"}, Decimal(0), NOT_STARTED),
    ({"target": Decimal(10), "source": "registry.persons"}, Decimal(3), IN_PROGRESS),
])
def test_status_follows_from_the_facts(fields, value, expected):
    assert progress.derive(_c(**fields), value, TODAY) == expected


def test_percent_counts_from_the_baseline_in_either_direction():
    assert progress._percent(_c(baseline=Decimal(132), target=Decimal(393)),
                             Decimal(201)) == 26
    assert progress._percent(_c(baseline=Decimal(20), target=Decimal(14)), Decimal(17)) == 50
    assert progress._percent(_c(target=Decimal(10)), Decimal(30)) == 100
    assert progress._percent(_c(target=None), Decimal(3)) is None


def test_officers_update_only_commitments_their_agency_owns_or_supports(world, meeting):
    officer = world["officer"]
    own = services.commitment_create(actor=world["coordinator"], meeting=meeting,
                                     text="IR baru", owner_agency=agency("DP3ACSKB").pk)
    other = services.commitment_create(actor=world["coordinator"], meeting=meeting,
                                       text="Puskesos", owner_agency=agency("Dinsos").pk)
    services.progress_report(actor=officer, commitment=own, value="5",
                                                                  narrative="5 IR")
    with pytest.raises(AccessDenied):
        services.progress_report(actor=officer, commitment=other, narrative="x")
    services.commitment_update(actor=world["coordinator"], commitment=other,
                               supporting_agencies=[agency("DP3ACSKB").pk])
    services.progress_report(actor=officer, commitment=other, narrative="ikut")
    # An officer may mark done but never cancel, and never edit the commitment itself.
    with pytest.raises(AccessDenied):
        services.progress_report(actor=officer, commitment=other,
                                 kind="cancelled", narrative="no")
    with pytest.raises(AccessDenied):
        services.commitment_update(actor=officer, commitment=own, unit="x")
    with pytest.raises(AccessDenied):
        services.progress_report(actor=world["leader"], commitment=own, narrative="x")
    own.refresh_from_db()
    assert own.value == Decimal(5) and own.last_update_on == timezone.localdate()
    actions = list(AuditLog.objects.filter(object_type="meetings.commitment")
                   .values_list("action", flat=True))
    assert actions.count("commitment.progress") == 2
    assert actions.count("commitment.update") == 1


def test_progress_reports_refuse_what_makes_no_sense(world, meeting):
    coord = world["coordinator"]
    c = services.commitment_create(actor=coord, meeting=meeting,
                                   text="x", owner_agency=agency("DP3ACSKB").pk, target="5",
                                   source="registry.persons")
    cases = [
        ({"narrative": "x", "date": "2999-01-01"}, "date"),
        ({"value": "4"}, "value"),  # counted from data: no typed values
        ({}, "value"),  # nothing at all
        ({"kind": "cancelled"}, "narrative"),
        ({"kind": "reopened"}, "kind"),
        ({"kind": "paused", "narrative": "x"}, "kind"),
        ({"narrative": "x", "date": "31/02/2026"}, "date"),
    ]
    for data, field in cases:
        with pytest.raises(SinergiError) as err:
            services.progress_report(actor=coord, commitment=c, **data)
        assert err.value.field == field, data
    assert not c.updates.exists()
    update = services.progress_report(actor=coord, commitment=c,
                                      kind="cancelled", narrative="dialihkan")
    c = update.commitment  # the saved row; ``c`` as loaded above is stale
    assert progress.progress_of([c])[c.pk].status == CANCELLED
    # A cancelled commitment takes no report, not even "done", until reopened.
    for data in ({"narrative": "masih jalan"}, {"kind": "done"}):
        with pytest.raises(SinergiError) as err:
            services.progress_report(actor=coord, commitment=c, **data)
        assert err.value.field == "kind" and "reopen" in err.value.message
    services.progress_report(actor=coord, commitment=c, kind="reopened")
    c.refresh_from_db()
    assert c.cancelled_on is None and c.updates.count() == 2


def test_commitment_rules_point_at_the_field(world, meeting):
    coord = world["coordinator"]
    base = {"text": "x", "owner_agency": agency("DP3ACSKB").pk}
    cases = [
        ({"region": "19"}, "region"),  # visible, but above the meeting's region
        ({"region": "19.04.99"}, "region"),  # no such kecamatan
        ({"target": "banyak"}, "target"),
        ({"due_date": "2026-13-01"}, "due_date"),
        ({"source": "registry.unknown"}, "source"),
        ({"source": "registry.families_desil", "source_param": "11", "target": "3"},
         "source_param"),
        ({"source": "registry.persons"}, "target"),
        ({"owner_agency": agency("DP3ACSKB", OUTSIDE).pk}, "owner_agency"),
        ({"text": "  "}, "text"),
    ]
    for extra, field in cases:
        with pytest.raises(SinergiError) as err:
            services.commitment_create(actor=coord, meeting=meeting, **{**base, **extra})
        assert err.value.field == field, extra
    # Regions outside the user's scope are "not found", as everywhere.
    for code in ("18.06", "19.05"):
        with pytest.raises(NotInScope):
            services.commitment_create(actor=coord, meeting=meeting,
                                       **{**base, "region": code})
    assert not Commitment.objects.filter(meeting=meeting).exists()


def test_board_filters_and_overdue_on_home_pages(world, meeting, client_of):
    coord = world["coordinator"]
    late = services.commitment_create(actor=coord, meeting=meeting,
                                      text="Terlambat sekali", owner_agency=agency("Dinsos").pk,
                                      due_date="2026-01-31")
    soon = services.commitment_create(actor=coord, meeting=meeting,
                                      text="Masih berjalan", owner_agency=agency("DP3ACSKB").pk,
                                      due_date="2099-06-30")
    rows, _ = selectors.board(user=coord, status=LATE, today=TODAY)
    assert [c.pk for c, _s in rows] == [late.pk]
    rows, _ = selectors.board(user=coord, status=LATE, today=datetime.date(2026, 1, 1))
    assert rows == []  # the same commitment, not yet due that day
    rows, _ = selectors.board(user=coord, due="2099-06")
    assert [c.pk for c, _s in rows] == [soon.pk]
    rows, _ = selectors.board(user=world["officer"], mine=True)
    assert [c.pk for c, _s in rows] == [soon.pk]
    rows, _ = selectors.board(user=world["outsider"])
    assert rows == []
    response = client_of("coordinator").get("/meetings/commitments/?status=stuck")
    assert response.status_code == 400 and "Unknown status" in response.content.decode()
    response = client_of("coordinator").get("/meetings/commitments/?due=juni")
    assert response.status_code == 400 and "YYYY-MM" in response.content.decode()

    for persona in ("coordinator", "leader"):
        home = client_of(persona).get("/").content.decode()
        assert "Overdue commitments" in home and "Terlambat sekali" in home
    officer_home = client_of("officer").get("/").content.decode()
    assert "Masih berjalan" in officer_home and "Terlambat sekali" not in officer_home
    public = client_of("anonymous").get("/").content.decode()
    assert "Terlambat" not in public and "Rakor Bangka Tengah" not in public
    assert client_of("anonymous").get("/api/v1/commitments").status_code == 401


def test_meeting_pages_record_a_whole_rakor(world, client_of):
    client = client_of("coordinator")
    bad = client.post("/meetings/new/", {"kind": "rakor", "title": "Rakor", "region": KAB,
                                         "starts_on": "2026-03-10", "ends_on": "2026-03-01"})
    assert bad.status_code == 400 and "cannot end before it starts" in bad.content.decode()
    response = client.post("/meetings/new/", {
        "kind": "rakor_teknis", "title": "Rakor Teknis 2026", "region": KAB,
        "starts_on": "2026-03-10", "place": "Koba", "host_agency": agency("Bappeda").pk})
    meeting = Meeting.objects.get(title="Rakor Teknis 2026")
    assert response.status_code == 302
    base = f"/meetings/{meeting.pk}"
    client.post(f"{base}/agenda/", {"a-desk": "Ekonomi", "a-title": "Akses KUR"})
    client.post(f"{base}/agenda/", {"a-desk": "Ekonomi", "a-title": "Industri Rumahan"})
    client.post(f"{base}/participants/", {"p-agency": agency("Dinsos").pk, "p-name": "Ibu Sari",
                                          "p-attended": "on"})
    client.post(f"{base}/issues/", {"i-category": "violence", "i-region": KAB,
                                    "i-description": "Tujuh kasus KDRT dilaporkan"})
    client.post(f"{base}/attachments/", {"f-file": SimpleUploadedFile("notulen.pdf",
                                                                      b"%PDF-1.4 x")})
    item = meeting.agenda.get(title="Akses KUR")
    response = client.post(f"{base}/commitments/new/", {
        "text": "300 usaha mikro perempuan mengakses KUR", "agenda_item": item.pk,
        "owner_agency": agency("Dinkop UKM").pk,
        "supporting_agencies": [agency("DP3ACSKB").pk], "region": KAB,
        "due_date": "2026-12-31", "unit": "usaha", "baseline": "120", "target": "300",
        "source": "manual"})
    assert response.status_code == 302
    page = client.get(f"{base}/").content.decode()
    for text in ("Ekonomi", "Akses KUR", "Industri Rumahan", "Ibu Sari", "Tujuh kasus KDRT",
                 "notulen.pdf", "300 usaha mikro perempuan", "not started"):
        assert text in page, text
    assert meeting.desks.count() == 1
    commitment = meeting.commitments.get()
    assert (commitment.number, commitment.agenda_item_id) == (1, item.pk)
    # Progress with evidence, then the history shows it and the file downloads.
    response = client_of("officer").post(
        f"/meetings/commitments/{commitment.pk}/progress/",
        {"kind": "progress", "date": "2026-06-01", "value": "210", "narrative": "Dua bank",
         "evidence": SimpleUploadedFile("foto.jpg", b"\xff\xd8 jpeg")})
    assert response.status_code == 302
    page = client.get(f"/meetings/commitments/{commitment.pk}/").content.decode()
    assert "Dua bank" in page and "foto.jpg" in page and "in progress" in page
    evidence = commitment.updates.get().evidence.get()
    download = client_of("leader").get(f"/meetings/evidence/{evidence.pk}/")
    assert download.status_code == 200 and b"".join(download.streaming_content) == \
        b"\xff\xd8 jpeg"
    assert client_of("outsider").get(f"/meetings/evidence/{evidence.pk}/").status_code == 404
    issue = meeting.issues.get()
    assert client.post(f"{base}/remove/issue/{issue.pk}/").status_code == 302
    assert not meeting.issues.exists()
    actions = set(AuditLog.objects.filter(region_code__startswith=KAB)
                  .values_list("action", flat=True))
    assert {"meeting.create", "meeting.agenda_add", "meeting.participant_add",
            "meeting.issue_add", "meeting.attachment_add", "commitment.create",
            "commitment.progress", "meeting.issue_remove"} <= actions


def test_api_meetings_and_commitments(world, client_of):
    client = client_of("coordinator")

    def send(method, url, body):
        return getattr(client, method)(url, data=json.dumps(body),
                                       content_type="application/json")

    bad = send("post", "/api/v1/meetings", {"kind": "rapat", "title": "X",
                                            "starts_on": "2026-01-01", "region": KAB})
    assert bad.status_code == 400
    assert bad.json()["errors"][0]["field"] == "kind"
    made = send("post", "/api/v1/meetings", {"kind": "tkpk", "title": "Rakor TKPK",
                                             "starts_on": "2026-04-02", "region": KAB})
    assert made.status_code == 201
    meeting_id = made.json()["id"]
    created = send("post", f"/api/v1/meetings/{meeting_id}/commitments", {
        "text": "Satu PLKB per dua desa", "owner_agency": agency("DPPKB").pk,
        "baseline": "70", "target": "100", "unit": "PLKB", "due_date": "01/01/2026"})
    assert created.status_code == 201, created.content
    body = created.json()
    assert (body["number"], body["status"], body["baseline"]) == (1, LATE, "70.00")
    reported = send("post", f"/api/v1/commitments/{body['id']}/progress",
                    {"value": "100", "narrative": "Rekrutmen selesai"})
    assert reported.status_code == 201
    assert reported.json()["commitment"]["status"] == DONE
    patched = send("patch", f"/api/v1/commitments/{body['id']}", {"target": "120"})
    assert patched.json()["status"] == LATE  # the target moved beyond the value
    listed = client.get("/api/v1/commitments?status=late").json()
    assert [c["id"] for c in listed["items"]] == [body["id"]]
    assert listed["next_cursor"] is None
    wrong = send("post", f"/api/v1/commitments/{body['id']}/progress", {"date": "kemarin",
                                                                         "narrative": "x"})
    assert wrong.status_code == 400 and wrong.json()["errors"][0]["field"] == "date"


def test_demo_meetings_show_every_status(world, capsys):
    from sinergi.demo import DemoContext

    ctx = DemoContext()
    demo_build(ctx)
    commitments = list(Commitment.objects.filter(meeting__region__code__startswith="19"))
    states = progress.progress_of(commitments)
    seen = {s.status for s in states.values()}
    assert {LATE, DONE, IN_PROGRESS, CANCELLED, NOT_STARTED} <= seen
    teknis = Meeting.objects.get(kind="rakor_teknis", region_id="19")
    assert teknis.agenda.count() == 9 and teknis.desks.count() == 3
    assert any(c.is_data_bound for c in commitments)
    assert Meeting.objects.filter(kind="tkpk").exists()
    demo_build(ctx)  # idempotent
    assert Commitment.objects.filter(meeting__region__code__startswith="19").count() == \
        len(commitments)


# --- review fixes --------------------------------------------------------------------------

def test_an_edit_from_a_stale_copy_keeps_progress_reported_meanwhile(world, meeting):
    coord = world["coordinator"]
    c = services.commitment_create(actor=coord, meeting=meeting,
        text="Desa layak anak", owner_agency=agency("DP3ACSKB").pk, unit="desa")
    stale = Commitment.objects.get(pk=c.pk)  # what the edit form loaded
    services.progress_report(actor=world["officer"], commitment=Commitment.objects.get(pk=c.pk),
                             kind="done", value="7", narrative="tuntas")
    saved = services.commitment_update(actor=coord, commitment=stale, unit="kampung")
    fresh = Commitment.objects.get(pk=c.pk)
    assert (fresh.value, fresh.done_on, fresh.last_update_on, fresh.unit) == (
        Decimal(7), TODAY, TODAY, "kampung")
    assert (saved.value, saved.done_on, saved.unit) == (Decimal(7), TODAY, "kampung")
    entry = AuditLog.objects.get(action="commitment.update", object_id=str(c.pk))
    assert (entry.before, entry.after) == ({"unit": "desa"}, {"unit": "kampung"})

    stale_meeting = Meeting.objects.get(pk=meeting.pk)
    services.meeting_update(actor=coord, meeting=Meeting.objects.get(pk=meeting.pk),
                            place="Koba")
    saved = services.meeting_update(actor=coord, meeting=stale_meeting, chair="Sekda")
    fresh = Meeting.objects.get(pk=meeting.pk)
    assert (fresh.place, fresh.chair) == ("Koba", "Sekda") == (saved.place, saved.chair)
    entry = AuditLog.objects.filter(action="meeting.update").latest("id")
    assert (entry.before, entry.after) == ({"chair": ""}, {"chair": "Sekda"})


def test_numbering_locks_the_meeting_row(world, meeting):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        services.commitment_create(actor=world["coordinator"], meeting=meeting,
                                   text="x", owner_agency=agency("Dinsos").pk)
        services.agenda_add(actor=world["coordinator"], meeting=meeting,
                            desk="Ekonomi", title="KUR")
    if connection.features.has_select_for_update:
        locks = [q["sql"] for q in queries.captured_queries
                 if "FOR UPDATE" in q["sql"] and "meetings_meeting" in q["sql"]]
        assert len(locks) == 2, locks


def test_moving_a_meeting_refuses_to_strand_its_commitments_and_issues(world):
    admin = world["admin"]
    others = list(Region.objects.filter(code__startswith="19.", level=2).exclude(code=KAB)
                  .order_by("code").values_list("code", flat=True)[:2])
    m = services.meeting_create(actor=admin, kind="rakor", title="Rakor Babel",
                                                   starts_on="2026-02-10", region="19")
    services.commitment_create(actor=admin, meeting=m,
                               text="x", owner_agency=agency("Dinsos").pk, region=KAB)
    services.issue_add(actor=admin, meeting=m, category="poverty", region=others[0],
                                                     description="y")
    for code, n in ((KAB, "1 commitment or issue"), (others[1], "2 commitments or issues")):
        with pytest.raises(SinergiError) as err:
            services.meeting_update(actor=admin, meeting=m, region=code)
        assert err.value.field == "region" and n in err.value.message, code
    assert Meeting.objects.get(pk=m.pk).region_id == "19"
    services.meeting_update(actor=admin, meeting=m, region="19", place="Pangkal")


def test_issues_lie_inside_the_meeting_region_and_page_messages_name_the_field(
        world, meeting, client_of):
    client = client_of("coordinator")
    base = f"/meetings/{meeting.pk}"
    page = client.post(f"{base}/issues/", {"i-category": "poverty", "i-region": "19",
                                           "i-description": "di provinsi"}, follow=True)
    assert "Region code: Region 19 lies outside the meeting" in page.content.decode()
    page = client.post(f"{base}/participants/", {"p-region": OUTSIDE, "p-name": "X"},
                       follow=True)
    assert f"Region code: Region {OUTSIDE} is not in your scope or does not exist" in \
        page.content.decode()
    assert page.status_code == 200 and not meeting.issues.exists()
    assert not meeting.participants.exists()
    c = services.commitment_create(actor=world["coordinator"], meeting=meeting,
                                   text="x", owner_agency=agency("DP3ACSKB").pk)
    page = client.post(f"/meetings/commitments/{c.pk}/progress/",
                       {"kind": "progress", "date": "2999-01-01", "narrative": "x"},
                       follow=True)
    assert "Date: The date of an update cannot be in the future" in page.content.decode()


def test_a_region_outside_the_scope_stays_on_the_form(world, client_of):
    response = client_of("coordinator").post("/meetings/new/", {
        "kind": "rakor", "title": "Rakor luar", "region": OUTSIDE, "starts_on": "2026-03-10"})
    page = response.content.decode()
    assert response.status_code == 400
    assert f"Region {OUTSIDE} is not in your scope or does not exist." in page
    assert 'value="Rakor luar"' in page  # the form keeps what was typed
    assert not Meeting.objects.filter(title="Rakor luar").exists()


def test_board_export_refuses_bad_filters_with_400(world, client_of):
    response = client_of("coordinator").get("/meetings/commitments/export.xlsx?status=stuck")
    assert response.status_code == 400 and "Unknown status" in response.content.decode()
    response = client_of("coordinator").get("/meetings/commitments/export.xlsx?due=juni")
    assert response.status_code == 400 and "YYYY-MM" in response.content.decode()
    assert not AuditLog.objects.filter(action="commitment.export").exists()


def test_only_the_owner_or_a_coordinator_marks_done_or_reopens(world, meeting):
    coord, officer = world["coordinator"], world["officer"]
    supported = services.commitment_create(actor=coord, meeting=meeting,
                                           text="Puskesos", owner_agency=agency("Dinsos").pk,
                                           supporting_agencies=[agency("DP3ACSKB").pk])
    owned = services.commitment_create(actor=coord, meeting=meeting,
                                       text="IR baru", owner_agency=agency("DP3ACSKB").pk)
    services.progress_report(actor=officer, commitment=supported, narrative="ikut")
    with pytest.raises(AccessDenied):
        services.progress_report(actor=officer, commitment=supported, kind="done")
    services.progress_report(actor=coord, commitment=supported, kind="done")
    with pytest.raises(AccessDenied):
        services.progress_report(actor=officer, commitment=supported, kind="reopened")
    services.progress_report(actor=coord, commitment=supported, kind="reopened")
    services.progress_report(actor=officer, commitment=owned, kind="done")
    services.progress_report(actor=officer, commitment=owned, kind="reopened")
    services.progress_report(actor=coord, commitment=owned,
                             kind="cancelled", narrative="digabung")
    with pytest.raises(AccessDenied):  # a cancelled one is reopened by a coordinator only
        services.progress_report(actor=officer, commitment=owned, kind="reopened")
    kinds = list(owned.updates.order_by("id").values_list("kind", flat=True))
    assert kinds == ["done", "reopened", "cancelled"]
    assert selectors.can_settle(officer, owned) and not selectors.can_settle(officer, supported)


def test_api_pages_commitments_and_shows_only_visible_ones(world, client_of):
    admin = world["admin"]
    other = Region.objects.filter(code__startswith="19.", level=2).exclude(code=KAB)\
        .order_by("code").first().code
    m = services.meeting_create(actor=admin, kind="rakor", title="Rakor Babel",
                                                   starts_on="2026-02-10", region="19")
    ours = [services.commitment_create(actor=admin, meeting=m,
        text=f"Untuk Bangka Tengah {i}", owner_agency=agency("Dinsos").pk,
        region=KAB, due_date="2026-01-31" if i % 2 else "2099-01-31").pk
        for i in range(5)]
    theirs = services.commitment_create(actor=admin, meeting=m,
        text="Untuk kabupaten lain", owner_agency=agency("Dinsos").pk,
        region=other).pk
    client = client_of("coordinator")
    assert client.get(f"/api/v1/meetings/{m.pk}").json()["commitment_ids"] == ours
    assert client_of("admin").get(f"/api/v1/meetings/{m.pk}").json()["commitment_ids"] == \
        [*ours, theirs]

    def all_pages(query):
        seen, sizes = api_pages(client, f"/api/v1/commitments?{query}")
        return seen, len(sizes)

    assert all_pages("limit=2") == (ours, 3)
    assert all_pages(f"limit=2&meeting={m.pk}&status=late") == ([ours[1], ours[3]], 1)
    assert all_pages("limit=1&status=late")[0] == [ours[1], ours[3]]
    bad = client.get("/api/v1/commitments?cursor=bm9wZQ")
    assert bad.status_code == 400 and bad.json()["errors"][0]["field"] == "cursor"
    assert client.get("/api/v1/commitments?limit=0").status_code == 400


def test_api_patch_keeps_supporting_agencies_on_null_and_refuses_inactive_agencies(
        world, meeting, client_of):
    client = client_of("coordinator")

    def send(method, url, body):
        return getattr(client, method)(url, data=json.dumps(body),
                                       content_type="application/json")

    c = services.commitment_create(actor=world["coordinator"], meeting=meeting,
                                   text="x", owner_agency=agency("DP3ACSKB").pk,
                                   supporting_agencies=[agency("Dinsos").pk])
    patched = send("patch", f"/api/v1/commitments/{c.pk}",
                   {"supporting_agencies": None, "unit": "desa"})
    assert patched.status_code == 200, patched.content
    assert patched.json()["supporting_agency_ids"] == [agency("Dinsos").pk]
    assert patched.json()["unit"] == "desa"
    cleared = send("patch", f"/api/v1/commitments/{c.pk}", {"supporting_agencies": []})
    assert cleared.json()["supporting_agency_ids"] == []

    Agency.objects.filter(pk=agency("Bappeda").pk).update(is_active=False)
    for body, field in (({"owner_agency": agency("Bappeda").pk}, "owner_agency"),
                        ({"supporting_agencies": [agency("Bappeda").pk]},
                         "supporting_agencies")):
        refused = send("patch", f"/api/v1/commitments/{c.pk}", body)
        assert refused.status_code == 400, body
        error = refused.json()["errors"][0]
        assert error["field"] == field and "inactive" in error["message"]
    refused = send("post", "/api/v1/meetings", {
        "kind": "rakor", "title": "X", "starts_on": "2026-01-01", "region": KAB,
        "host_agency": agency("Bappeda").pk})
    assert refused.status_code == 400
    assert refused.json()["errors"][0]["field"] == "host_agency"
    # An agency deactivated after it was chosen stays where it is.
    Agency.objects.filter(pk=agency("DP3ACSKB").pk).update(is_active=False)
    kept = send("patch", f"/api/v1/commitments/{c.pk}",
                {"owner_agency": agency("DP3ACSKB").pk, "unit": "kampung"})
    assert kept.status_code == 200 and kept.json()["unit"] == "kampung"


def _late_rows(meeting, n: int, start: int) -> None:
    agencies = [agency("Dinsos"), agency("DPPKB")]
    for i in range(start, start + n):
        c = Commitment.objects.create(meeting=meeting, number=i, region_id=KAB,
                                      owner_agency=agencies[0], text=f"Terlambat {i}",
                                      due_date=datetime.date(2026, 1, 1))
        c.supporting_agencies.set(agencies[1:])


def test_home_and_board_queries_do_not_grow_with_rows(world, meeting, client_of,
                                                      django_assert_max_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = client_of("coordinator")
    _late_rows(meeting, 2, 1)
    counts = {}
    for url in ("/", "/meetings/commitments/"):
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        counts[url] = len(queries)
    _late_rows(meeting, 8, 3)
    for url, n in counts.items():
        with django_assert_max_num_queries(n):
            page = client.get(url).content.decode()
        assert "Terlambat 10" in page and "DPPKB" in page


def test_board_status_filter_reaches_past_the_cut(world, meeting, monkeypatch):
    coord = world["coordinator"]
    for i in range(3):  # done, due earlier than the late one
        services.commitment_create(actor=coord, meeting=meeting,
                                   text=f"selesai {i}", owner_agency=agency("Dinsos").pk,
                                   due_date="2026-01-01")
    Commitment.objects.filter(meeting=meeting).update(done_on=datetime.date(2026, 2, 1))
    late = services.commitment_create(actor=coord, meeting=meeting,
        text="terlambat", owner_agency=agency("Dinsos").pk, due_date="2026-06-01")
    undated = services.commitment_create(actor=coord, meeting=meeting,
                                         text="tanpa tenggat", owner_agency=agency("Dinsos").pk)
    dated = services.commitment_create(actor=coord, meeting=meeting,
        text="bertenggat", owner_agency=agency("Dinsos").pk, due_date="2099-01-01")
    monkeypatch.setattr(selectors, "BOARD_MAX", 2)
    rows, truncated = selectors.board(user=coord, status=LATE, today=TODAY)
    assert [c.pk for c, _s in rows] == [late.pk] and not truncated
    rows, _ = selectors.board(user=coord, status=NOT_STARTED, today=TODAY)
    assert [c.pk for c, _s in rows] == [dated.pk, undated.pk]  # no due date last
    rows, _ = selectors.board(user=coord, status=DONE, today=TODAY)
    assert len(rows) == 2  # the cut, among the done ones only


def test_removed_minutes_file_goes_only_when_the_removal_commits(
        world, meeting, settings, django_capture_on_commit_callbacks):
    from pathlib import Path

    coord = world["coordinator"]
    a = services.attachment_add(actor=coord, meeting=meeting,
                                upload=SimpleUploadedFile("notulen.pdf", b"%PDF-1.4 x"))
    path = Path(a.file.path)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        services.meeting_part_remove(actor=coord, meeting=meeting, kind="attachment", pk=a.pk)
    assert path.exists() and len(callbacks) == 1  # a rollback would keep it
    callbacks[0]()
    assert not path.exists()


def test_files_of_a_failed_save_are_removed(world, meeting, settings, monkeypatch):
    from pathlib import Path

    def broken(**kwargs):
        raise RuntimeError("audit down")

    monkeypatch.setattr(services, "audit_record", broken)
    monkeypatch.setattr(services, "audit_changes", lambda *a, **k: broken())
    with pytest.raises(RuntimeError):
        services.attachment_add(actor=world["coordinator"], meeting=meeting,
                                upload=SimpleUploadedFile("notulen.pdf", b"%PDF-1.4 x"))
    c = Commitment.objects.create(meeting=meeting, number=1, region_id=KAB, text="x",
                                  owner_agency=agency("DP3ACSKB"))
    with pytest.raises(RuntimeError):
        services.progress_report(actor=world["coordinator"], commitment=c,
                                 narrative="x",
                                 files=[SimpleUploadedFile("foto.jpg", b"\xff\xd8 jpeg")])
    assert not [p for p in Path(settings.MEDIA_ROOT).rglob("*") if p.is_file()]


def test_issues_and_participants_show_only_to_users_whose_scope_covers_their_region(
        world, client_of):
    """A province rakor is seen in every kabupaten below it; what was raised
    about, and who came from, another kabupaten is not."""
    from sinergi.agencies.services import agency_seed_defaults
    from sinergi.meetings import briefs

    admin = world["admin"]  # the province, 19
    other_kab = Region.objects.filter(code__startswith="19.", level=2).exclude(code=KAB) \
        .order_by("code").first().code
    agency_seed_defaults(actor=None, region_code=other_kab)
    m = services.meeting_create(actor=admin,
        kind="rakor", title="Rakor Provinsi", starts_on="2026-03-02", region="19")
    for category, region, text in [("violence", other_kab, "ISU-LAIN kasus di kabupaten lain"),
                                   ("poverty", KAB, "ISU-KAB kemiskinan ekstrem"),
                                   ("data", None, "ISU-PROV data se-provinsi")]:
        services.issue_add(actor=admin, meeting=m,
                           category=category, region=region, description=text)
    for data in [{"region": other_kab, "name": "DELEGASI-LAIN"},
                 {"agency": agency("Bappeda", other_kab).pk, "name": "UTUSAN-BAPPEDA-LAIN"},
                 {"region": KAB, "name": "DELEGASI-KAB", "attended": True},
                 {"agency": agency("Dinsos", "19").pk, "name": "DELEGASI-PROV"}]:
        services.participant_add(actor=admin, meeting=m, **data)
    hidden = ["ISU-LAIN", "DELEGASI-LAIN", "UTUSAN-BAPPEDA-LAIN"]
    shown = ["ISU-KAB", "ISU-PROV", "DELEGASI-KAB", "DELEGASI-PROV"]

    for persona in ("coordinator", "operator", "officer"):
        client = client_of(persona)
        texts = [client.get(f"/meetings/{m.pk}/").content.decode(),
                 client.get(f"/api/v1/meetings/{m.pk}").content.decode(),
                 client.get(f"/meetings/{m.pk}/brief/").content.decode()]
        for where, text in zip(("page", "api", "brief"), texts, strict=True):
            assert all(s in text for s in shown if where != "brief" or "ISU" in s), \
                (persona, where)
            assert not any(h in text for h in hidden), (persona, where)
    body = client_of("coordinator").get(f"/api/v1/meetings/{m.pk}").json()
    assert [i["region_code"] for i in body["issues"]] == [KAB, None]
    assert [p["name"] for p in body["participants"]] == ["DELEGASI-KAB", "DELEGASI-PROV"]

    # The brief (page and PDF read the same context) counts only those it may show.
    brief = briefs.brief_context(meeting=m, scope_root=KAB)
    assert [i["description"][:7] for i in brief["issues"]] == ["ISU-KAB", "ISU-PRO"]
    assert brief["attendance"] == {"participants": 2, "invited": 2, "attended": 1}
    whole = briefs.brief_context(meeting=m, scope_root="19")
    assert len(whole["issues"]) == 3 and whole["attendance"]["participants"] == 4
    page = client_of("admin").get(f"/meetings/{m.pk}/").content.decode()
    assert all(s in page for s in hidden + shown)


def test_only_roles_that_may_write_ask_for_a_brief_pdf(world, meeting, client_of):
    from sinergi.meetings import briefs
    from sinergi.meetings.models import BriefJob

    with pytest.raises(AccessDenied):
        briefs.brief_job_create(actor=world["leader"], meeting=meeting)
    leader = client_of("leader")
    page = leader.get(f"/meetings/{meeting.pk}/brief/").content.decode()
    assert 'action="/meetings/briefs/"' not in page and "does not make PDFs" in page
    assert leader.post("/meetings/briefs/", {"meeting": meeting.pk}).status_code == 403
    assert leader.post("/meetings/briefs/", {"region": KAB}).status_code == 403
    assert not BriefJob.objects.exists()
    for persona in ("coordinator", "officer", "operator"):
        client = client_of(persona)
        page = client.get(f"/meetings/{meeting.pk}/brief/").content.decode()
        assert 'action="/meetings/briefs/"' in page, persona
        assert client.post("/meetings/briefs/", {"meeting": meeting.pk}).status_code == 302
    assert BriefJob.objects.count() == 3
    assert AuditLog.objects.filter(action="brief.create").count() == 3


@pytest.mark.parametrize(("url", "field", "says"), [
    ("/api/v1/meetings?year=-1", "year", "from 1900 to 2100"),
    ("/api/v1/meetings?year=0", "year", "from 1900 to 2100"),
    ("/api/v1/meetings?year=10000", "year", "from 1900 to 2100"),
    ("/api/v1/meetings?year=abc", "year", ""),
    ("/api/v1/meetings?kind=rapat", "kind", "choose one of: rakor"),
    ("/api/v1/meetings?limit=0", "limit", "between 1 and 200"),
    ("/api/v1/commitments?due=9999-12", "due", "from 1900-01 to 2100-12"),
    ("/api/v1/commitments?due=0000-01", "due", "from 1900-01 to 2100-12"),
    ("/api/v1/commitments?due=2026-13", "due", "YYYY-MM"),
    ("/api/v1/commitments?due=2026-W01", "due", "YYYY-MM"),
    ("/api/v1/commitments?meeting=abc", "meeting", ""),
    ("/api/v1/commitments?status=stuck", "status", "choose one of"),
])
def test_bad_list_filters_of_the_api_name_the_field_instead_of_a_500(client_of, url, field,
                                                                     says):
    response = client_of("coordinator").get(url)
    assert response.status_code in (400, 422), response.content
    body = response.json()
    assert [e["field"] for e in body["errors"]] == [field]
    assert says in body["detail"] + body["errors"][0]["message"]


@pytest.mark.parametrize(("url", "says"), [
    ("/meetings/?year=-1", "Year '-1' is not one Sinergi can list; give a year from 1900"),
    ("/meetings/?year=0000", "give a year from 1900 to 2100"),
    ("/meetings/?year=dua", "give a year from 1900 to 2100"),
    ("/meetings/?kind=rapat", "Unknown kind 'rapat'; choose one of: rakor"),
    ("/meetings/commitments/?due=9999-12", "give a month from 1900-01 to 2100-12"),
    ("/meetings/commitments/export.xlsx?due=9999-12", "give a month from 1900-01 to 2100-12"),
    ("/meetings/commitments/?meeting=abc", "Meeting must be a meeting id from the list"),
])
def test_bad_list_filters_of_the_pages_answer_400_saying_what_is_allowed(client_of, url, says):
    response = client_of("coordinator").get(url)
    assert response.status_code == 400
    assert says in html.unescape(response.content.decode())


def test_the_year_filter_still_finds_the_meetings_of_that_year(world, meeting, client_of):
    client = client_of("coordinator")
    assert "Rakor Bangka Tengah" in client.get("/meetings/?year=2026").content.decode()
    assert "Rakor Bangka Tengah" not in client.get("/meetings/?year=2025").content.decode()
    listed = client.get("/api/v1/meetings?year=2026&kind=rakor").json()
    assert [m["id"] for m in listed] == [meeting.pk]
    assert client.get("/api/v1/meetings?year=2025").json() == []
