"""Pages: the home of each role, regions, agencies, forms with clear errors."""

import re

import pytest

from sinergi.agencies.models import Agency
from sinergi.core.models import AuditLog
from sinergi.regions.models import Region

from .conftest import KAB


def page(client, url, status=200):
    response = client.get(url)
    assert response.status_code == status, (url, response.status_code)
    return response.content.decode()


def test_the_public_sees_counts_and_no_personal_navigation(client_of):
    html = page(client_of("anonymous"), "/")
    assert "/accounts/login/" in html
    assert "/agencies/" not in html and "/audit/" not in html


@pytest.mark.parametrize(
    ("persona", "present", "absent"),
    [
        ("admin", ["/audit/", "/admin/", "Kabupaten Bangka Tengah"], []),
        ("coordinator", ["Koba", "Bangka Tengah"], ["/audit/", "/admin/"]),
        ("officer", ["DP3ACSKB"], ["/audit/", "/admin/"]),
        ("operator", ["Bangka Tengah"], ["/audit/", "/admin/"]),
        ("leader", ["Kabupaten Bangka Tengah"], ["/audit/", "/admin/", "/accounts/tokens/"]),
        ("outsider", ["Tanggamus"], ["Bangka Tengah", "/audit/"]),
    ],
)
def test_each_role_has_its_own_home(client_of, persona, present, absent):
    html = page(client_of(persona), "/")
    for text in present:
        assert text in html, (persona, text)
    for text in absent:
        assert text not in html, (persona, text)


def test_the_region_picker_offers_only_the_scope(client_of, world):
    root = page(client_of("coordinator"), "/regions/picker/")
    assert 'value="19.04"' in root and 'value="19.03"' not in root
    children = page(client_of("coordinator"), f"/regions/picker/?parent={KAB}")
    expected = Region.objects.filter(parent_id=KAB).count()
    assert children.count("<option value=\"19.04.") == expected
    # A village operator sees the kabupaten by name but is offered only the village.
    village = world["operator"].region_id
    offered = page(client_of("operator"), f"/regions/picker/?parent={KAB}.01")
    assert offered.count("<option value=\"19.04.01.") == 1 and village in offered


def test_the_picker_choice_opens_the_deepest_region(client_of):
    response = client_of("coordinator").get(f"/regions/go/?parent=19.04&parent={KAB}.01&parent=")
    assert response.status_code == 302 and response["Location"] == f"/regions/{KAB}.01/"


def test_region_page_lists_children_and_government_agencies(client_of):
    html = page(client_of("coordinator"), f"/regions/{KAB}/")
    assert "Koba" in html and "DP3ACSKB" in html
    assert "/agencies/defaults/" in html  # a coordinator may add the default set
    leader_html = page(client_of("leader"), f"/regions/{KAB}/")
    assert "/agencies/defaults/" not in leader_html


def many_villages(n: int, kec: str = "19.04.98") -> str:
    """A kecamatan of Bangka Tengah with ``n`` villages (more than any real one here)."""
    regions = [Region(code=kec, name="Kecamatan Uji", kind="kecamatan", level=3,
                      parent_id=KAB, edition="uji")]
    regions += [Region(code=f"{kec}.2{i:03d}", name=f"Desa Uji {i:03d}", kind="desa", level=4,
                       parent_id=kec, edition="uji") for i in range(1, n + 1)]
    Region.objects.bulk_create(regions)
    return kec


def child_codes(html: str, parent: str) -> list[str]:
    return re.findall(r"<tr><td>(" + re.escape(parent) + r"\.[\d.]+)</td>", html)


def test_region_children_page_across_the_page_boundary(client_of):
    kec = many_villages(150)
    client = client_of("coordinator")
    first = page(client, f"/regions/{kec}/")
    codes_1 = child_codes(first, kec)
    assert len(codes_1) == 100
    next_url = re.search(r'href="(\?cursor=[^"]+)"', first).group(1)
    second = client.get(f"/regions/{kec}/" + next_url.replace("&amp;", "&"),
                        HTTP_HX_REQUEST="true").content.decode()
    codes_2 = child_codes(second, kec)
    assert len(codes_2) == 50 and "?cursor=" not in second
    expected = list(Region.objects.filter(parent_id=kec).order_by("code")
                    .values_list("code", flat=True))
    assert codes_1 + codes_2 == expected


def test_region_children_page_size_follows_limit(client_of):
    client = client_of("coordinator")
    expected = list(Region.objects.filter(parent_id=KAB, retired_in="").order_by("code")
                    .values_list("code", flat=True))
    assert len(expected) > 3
    seen, url, pages = [], f"/regions/{KAB}/?limit=3", 0
    while url:
        html = client.get(url, HTTP_HX_REQUEST="true" if pages else None).content.decode()
        found = child_codes(html, KAB)
        assert len(found) <= 3
        seen += found
        pages += 1
        more = re.search(r'href="(\?cursor=[^"]+)"', html)
        url = f"/regions/{KAB}/" + more.group(1).replace("&amp;", "&") if more else None
    assert seen == expected
    assert pages == (len(expected) + 2) // 3


@pytest.mark.parametrize("limit", ["0", "201", "abc"])
def test_a_bad_region_page_limit_says_the_bounds(client_of, limit):
    response = client_of("coordinator").get(f"/regions/{KAB}/?limit={limit}")
    assert response.status_code == 400
    assert "between 1 and 200" in response.content.decode()


def test_home_shows_the_true_number_of_regions_below_and_lists_at_most_100(world):
    from django.test import Client

    from sinergi.accounts import roles
    from sinergi.accounts.models import User

    kec = many_villages(130)
    camat = User.objects.create(username="camat", role=roles.LEADER, region_id=kec)
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(camat)
    html = page(client, "/")
    assert re.search(r'<div class="num">130</div>\s*regions directly below', html)
    assert html.count(f'<span class="muted">{kec}.') == 100


def test_the_public_home_page_counts_no_regions_per_visit(client_of):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from sinergi.regions.models import RegionEdition

    edition = RegionEdition.objects.order_by("-loaded_at").first()
    client = client_of("anonymous")
    with CaptureQueriesContext(connection) as queries:
        html = page(client, "/")
    assert not [q["sql"] for q in queries if "regions_region\"" in q["sql"]]
    villages = Region.objects.filter(level=4, retired_in="").count()
    assert edition.active_by_level["4"] == villages
    assert f'<div class="num">{villages:,}</div>' in html


@pytest.mark.parametrize("code", ["19.04", "19.69"])
def test_an_outsider_gets_404_for_any_region_outside_its_scope(client_of, code):
    """Existing (19.04) or not (19.69), the answer is the same: nothing leaks."""
    response = client_of("outsider").post("/agencies/new/", {
        "region": code, "name": "Dinas Uji", "short_name": "DU", "sector": "other"})
    assert response.status_code == 404
    assert not Agency.objects.filter(short_name="DU").exists()


def test_agency_create_inside_the_scope_says_why_a_code_cannot_be_used(client_of):
    response = client_of("outsider").post("/agencies/new/", {
        "region": "18.06.99", "name": "Dinas Uji", "short_name": "DU", "sector": "other"})
    assert response.status_code == 400
    assert "use a code at level" in str(response.context["form"].errors["region"])


def test_the_seed_audit_entry_names_the_count_in_the_right_number(client_of):
    Agency.objects.filter(region_id=KAB, short_name="Dinkes").delete()
    client_of("coordinator").post("/agencies/defaults/", {"region": KAB})
    entry = AuditLog.objects.filter(action="agency.seed_defaults").latest("id")
    assert entry.object_repr == "1 agency of 19.04 Kabupaten Bangka Tengah"


def test_agency_list_searches_and_pages_with_htmx(client_of):
    client = client_of("admin")
    html = page(client, "/agencies/?q=sosial")
    assert "Dinsos" in html and "Badan Perencanaan" not in html
    partial = client.get("/agencies/?q=sosial", HTTP_HX_REQUEST="true").content.decode()
    assert "<html" not in partial and "Dinsos" in partial
    bad = client.get("/agencies/?region=1904")
    assert bad.status_code == 400 and "19.04" in bad.content.decode()


def test_agency_edit_form_shows_errors_at_the_field_and_saves(client_of):
    agency = Agency.objects.get(region_id=KAB, short_name="Disperindag")
    client = client_of("coordinator")
    taken = client.post(f"/agencies/{agency.id}/edit/", {
        "name": "Dinas Perdagangan", "short_name": "Bappeda", "sector": "economy",
        "is_active": "on"})
    assert taken.status_code == 400
    assert "Bappeda" in str(taken.context["form"].errors["short_name"])
    saved = client.post(f"/agencies/{agency.id}/edit/", {
        "name": "Dinas Perdagangan", "short_name": "Disdag", "sector": "economy",
        "is_active": "on"})
    assert saved.status_code == 302
    agency.refresh_from_db()
    assert (agency.name, agency.short_name) == ("Dinas Perdagangan", "Disdag")


def test_agency_create_refuses_a_village_as_government(client_of, world):
    village = world["operator"].region_id
    response = client_of("coordinator").post("/agencies/new/", {
        "region": village[:13], "name": "Dinas Desa", "short_name": "DD", "sector": "village"})
    assert response.status_code == 400
    assert "use a code at level: Province, Regency/city" in str(
        response.context["form"].errors["region"])


def test_seeding_default_agencies_is_idempotent_and_audited(client_of):
    Agency.objects.filter(region_id=KAB, short_name__in=["Dinkes", "Disdik"]).delete()
    client = client_of("coordinator")
    seeded = AuditLog.objects.filter(action="agency.seed_defaults")
    before = seeded.count()
    client.post("/agencies/defaults/", {"region": KAB})
    assert Agency.objects.filter(region_id=KAB, short_name__in=["Dinkes", "Disdik"]).count() == 2
    entry = AuditLog.objects.filter(action="agency.seed_defaults").latest("id")
    assert sorted(entry.after["created"]) == ["Dinkes", "Disdik"]
    client.post("/agencies/defaults/", {"region": KAB})
    assert seeded.count() == before + 1


def test_api_tokens_page_shows_a_new_token_once(client_of):
    client = client_of("coordinator")
    created = client.post("/accounts/tokens/", {"name": "laporan bulanan"}).content.decode()
    assert "sng_" in created
    again = page(client, "/accounts/tokens/")
    assert "laporan bulanan" in again and again.count("sng_") == 1  # only the prefix form


def test_pages_load_no_asset_from_another_host(client_of):
    html = page(client_of("admin"), "/")
    assert "http://" not in html.replace("http://testserver", "")
    assert "https://" not in html


def test_every_asset_the_layout_links_is_found(client_of):
    from django.contrib.staticfiles import finders

    html = page(client_of("coordinator"), "/")
    assets = re.findall(r'(?:href|src)="/static/([^"]+)"', html)
    assert {"sinergi/app.css", "sinergi/favicon.svg", "django_htmx/htmx-2.min.js"} <= set(assets)
    for asset in assets:
        assert finders.find(asset), f"{asset} is linked but no static finder has it"


def test_the_village_operator_s_home_answers_how_complete_the_village_is(client_of, world):
    from sinergi.registry.models import Household, Person

    village = world["operator"].region_id
    elsewhere = Region.objects.filter(code__startswith=KAB + ".", level=4).exclude(
        code=village).first().code
    poor = Household.objects.create(kk_number="1904010101010001", village_code=village, desil=2)
    Household.objects.create(kk_number="1904010101010002", village_code=village)
    Household.objects.create(kk_number="1904010101010003", village_code=elsewhere, desil=1)
    Person.objects.create(nik="1904014101900001", name="ADA NIK", household=poor, sex="P",
                          village_code=village)
    Person.objects.create(nik=None, name="TANPA NIK", household=poor, sex="L",
                          village_code=village)
    html = page(client_of("operator"), "/")
    cards = {text.split(" (")[0]: number for number, text in
             re.findall(r'<div class="num">([\d.,]+)</div>([^<]+)', html)}
    assert cards["families registered"] == "2" and cards["persons registered"] == "2"
    # One poor family here; the one of the other village is not counted.
    assert cards["families in desil 1–4"] == "1"
    assert "families in desil 1–4 (50.0 % of families)" in html
    assert "persons without a NIK (50.0 % of persons)" in html
    assert "families without a desil (50.0 % of families)" in html
    assert "No uploads yet" in html and "/imports/template.xlsx" in html


def test_the_leader_s_home_says_how_the_commitments_stand(client_of, world, meeting):
    import datetime

    from sinergi.meetings import services

    from .conftest import agency

    for due in ("2020-01-01", "2020-02-01", "2099-01-01"):
        services.commitment_create(actor=world["coordinator"], meeting=meeting,
                                   text=f"due {due}", owner_agency=agency("Dinsos").pk,
                                   due_date=datetime.date.fromisoformat(due))
    html = page(client_of("leader"), "/")
    assert "How the commitments stand" in html
    summary = html.split("How the commitments stand")[1].split("</table>")[0]
    rows = dict(re.findall(r'>(late|not started|done)</a></td><td class="num">(\d+)</td>'
                           r'<td class="num">[\d.]+ %', summary))
    assert rows == {"late": "2", "not started": "1", "done": "0"}
    assert "66.7 %" in summary and "33.3 %" in summary


def test_the_home_lists_late_commitments_beyond_the_board_s_window(client_of, world, meeting,
                                                                   monkeypatch):
    import datetime

    from sinergi.meetings import selectors as meeting_selectors
    from sinergi.meetings import services
    from sinergi.meetings.models import Commitment

    from .conftest import agency

    for n in range(3):  # done long ago, due before the late one
        services.commitment_create(actor=world["coordinator"], meeting=meeting,
                                   text=f"selesai {n}", owner_agency=agency("Dinsos").pk,
                                   due_date=datetime.date(2020, 1, 1))
    Commitment.objects.update(done_on=datetime.date(2020, 1, 1))
    services.commitment_create(actor=world["coordinator"], meeting=meeting,
                               text="masih terlambat", owner_agency=agency("Dinsos").pk,
                               due_date=datetime.date(2021, 1, 1))
    monkeypatch.setattr(meeting_selectors, "BOARD_MAX", 3)
    html = page(client_of("coordinator"), "/")
    assert "masih terlambat" in html.split("Overdue commitments")[1]


def test_the_village_home_counts_living_persons_and_active_families(client_of, world):
    from sinergi.registry.models import Household, Person

    village = world["operator"].region_id
    family = Household.objects.create(kk_number="1904010101016666", village_code=village)
    Household.objects.create(kk_number="1904010101015555", village_code=village, is_active=False)
    Person.objects.create(nik="1904014101906666", name="HIDUP", sex="P", household=family,
                          village_code=village)
    Person.objects.create(nik="1904014101905555", name="WAFAT", sex="L", household=family,
                          village_code=village, life_status=2)
    html = page(client_of("operator"), "/")
    cards = {text.split(" (")[0]: number for number, text in
             re.findall(r'<div class="num">([\d.,]+)</div>([^<]+)', html)}
    assert cards["families registered"] == "1" and cards["persons registered"] == "1"


def test_an_htmx_request_after_the_session_ended_goes_to_the_sign_in_page(client_of):
    anonymous = client_of("anonymous")
    response = anonymous.get("/registry/", {"q": "siti"}, HTTP_HX_REQUEST="true",
                             HTTP_HX_CURRENT_URL="http://testserver/registry/?q=sit")
    assert response.status_code == 204
    assert response["HX-Redirect"] == "/accounts/login/?next=%2Fregistry%2F%3Fq%3Dsit"
    # A plain request is redirected as before.
    plain = anonymous.get("/registry/", {"q": "siti"})
    assert plain.status_code == 302 and plain["Location"].startswith("/accounts/login/")
