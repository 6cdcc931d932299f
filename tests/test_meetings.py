"""Meetings and commitments: live progress from the data, status, rights, pages, API."""

import datetime
import json
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import Http404
from django.utils import timezone

from sinergi.agencies.models import Agency
from sinergi.core.errors import AccessDenied, SinergiError
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

from .conftest import KAB

TODAY = datetime.date(2026, 11, 23)
OUTSIDE = "18.06"


def agency(short, region=KAB) -> Agency:
    return Agency.objects.get(region_id=region, short_name=short)


@pytest.fixture
def meeting(world):
    return services.meeting_create(actor=world["coordinator"], data={
        "kind": "rakor", "title": "Rakor Bangka Tengah", "starts_on": "2026-02-10",
        "region": KAB})


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
    c = services.commitment_create(actor=world["coordinator"], meeting=meeting, data={
        "text": "Semua warga desa terdata", "owner_agency": agency("DP3ACSKB").pk,
        "region": village, "baseline": "0", "target": "3", "unit": "jiwa",
        "source": "registry.persons", "due_date": "2030-12-31"})
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
    c = services.commitment_create(actor=None, meeting=meeting, data={
        "text": "x", "owner_agency": agency("Dinsos").pk, "region": village, "target": "10",
        "source": "registry.persons"})
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
    own = services.commitment_create(actor=world["coordinator"], meeting=meeting, data={
        "text": "IR baru", "owner_agency": agency("DP3ACSKB").pk})
    other = services.commitment_create(actor=world["coordinator"], meeting=meeting, data={
        "text": "Puskesos", "owner_agency": agency("Dinsos").pk})
    services.progress_report(actor=officer, commitment=own, data={"value": "5",
                                                                  "narrative": "5 IR"})
    with pytest.raises(AccessDenied):
        services.progress_report(actor=officer, commitment=other, data={"narrative": "x"})
    services.commitment_update(actor=world["coordinator"], commitment=other,
                               data={"supporting_agencies": [agency("DP3ACSKB").pk]})
    services.progress_report(actor=officer, commitment=other, data={"narrative": "ikut"})
    # An officer may mark done but never cancel, and never edit the commitment itself.
    with pytest.raises(AccessDenied):
        services.progress_report(actor=officer, commitment=other,
                                 data={"kind": "cancelled", "narrative": "no"})
    with pytest.raises(AccessDenied):
        services.commitment_update(actor=officer, commitment=own, data={"unit": "x"})
    with pytest.raises(AccessDenied):
        services.progress_report(actor=world["leader"], commitment=own, data={"narrative": "x"})
    own.refresh_from_db()
    assert own.value == Decimal(5) and own.last_update_on == timezone.localdate()
    actions = list(AuditLog.objects.filter(object_type="meetings.commitment")
                   .values_list("action", flat=True))
    assert actions.count("commitment.progress") == 2
    assert actions.count("commitment.update") == 1


def test_progress_reports_refuse_what_makes_no_sense(world, meeting):
    coord = world["coordinator"]
    c = services.commitment_create(actor=coord, meeting=meeting, data={
        "text": "x", "owner_agency": agency("DP3ACSKB").pk, "target": "5",
        "source": "registry.persons"})
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
            services.progress_report(actor=coord, commitment=c, data=data)
        assert err.value.field == field, data
    assert not c.updates.exists()
    services.progress_report(actor=coord, commitment=c, data={"kind": "cancelled",
                                                              "narrative": "dialihkan"})
    assert progress.progress_of([c])[c.pk].status == CANCELLED
    services.progress_report(actor=coord, commitment=c, data={"kind": "reopened"})
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
            services.commitment_create(actor=coord, meeting=meeting, data={**base, **extra})
        assert err.value.field == field, extra
    # Regions outside the user's scope are "not found", as everywhere.
    for code in ("18.06", "19.05"):
        with pytest.raises(Http404):
            services.commitment_create(actor=coord, meeting=meeting,
                                       data={**base, "region": code})
    assert not Commitment.objects.filter(meeting=meeting).exists()


def test_board_filters_and_overdue_on_home_pages(world, meeting, client_of):
    coord = world["coordinator"]
    late = services.commitment_create(actor=coord, meeting=meeting, data={
        "text": "Terlambat sekali", "owner_agency": agency("Dinsos").pk,
        "due_date": "2026-01-31"})
    soon = services.commitment_create(actor=coord, meeting=meeting, data={
        "text": "Masih berjalan", "owner_agency": agency("DP3ACSKB").pk,
        "due_date": "2099-06-30"})
    rows, _ = selectors.board(user=coord, status=LATE)
    assert [c.pk for c, _s in rows] == [late.pk]
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
    assert [c["id"] for c in listed] == [body["id"]]
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
