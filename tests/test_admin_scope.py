"""Django admin stays inside the administrator's scope and is audited.

The persona "admin" administers Kepulauan Bangka Belitung (19). Each test
is one way out of that scope found in review; it must be refused, with the
database unchanged, while an unscoped administrator (the whole deployment)
may still do what only they should.
"""

import pytest
from django.contrib.auth.models import Group, Permission
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from sinergi.accounts import roles
from sinergi.accounts.models import ApiToken, User
from sinergi.accounts.services import api_token_create, api_token_revoke, user_create
from sinergi.agencies.models import Agency
from sinergi.core.models import AuditLog
from sinergi.regions.models import Region

from .conftest import KAB, OUTSIDE_KAB, PASSWORD

NEW_PASSWORD = "Pangkal-Pinang-2031!"


def client_for(user) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    return client


def unscoped_admin() -> User:
    return user_create(actor=None, username="root", password=PASSWORD,
                       role=roles.ADMINISTRATOR, region_code=None)


def user_form(user: User, **changes) -> dict:
    """What the admin's change form posts for ``user``, with ``changes``."""
    joined = timezone.localtime(user.date_joined)
    data = {
        "username": user.username, "first_name": user.first_name,
        "last_name": user.last_name, "email": user.email,
        "is_active": "on" if user.is_active else "",
        "role": user.role, "region": user.region_id or "",
        "agency": user.agency_id or "", "position": user.position,
        "date_joined_0": joined.strftime("%Y-%m-%d"),
        "date_joined_1": joined.strftime("%H:%M:%S"),
        "last_login_0": "", "last_login_1": "",
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def agency_form(agency: Agency, **changes) -> dict:
    data = {"name": agency.name, "short_name": agency.short_name,
            "region": agency.region_id, "sector": agency.sector,
            "is_active": "on" if agency.is_active else ""}
    data.update(changes)
    return data


def state(user: User) -> tuple:
    user.refresh_from_db()
    return (user.role, user.region_id, user.agency_id, user.is_staff, user.is_superuser,
            sorted(user.groups.values_list("name", flat=True)),
            sorted(user.user_permissions.values_list("codename", flat=True)), user.password)


def change_user(client, user, **changes):
    return client.post(f"/admin/accounts/user/{user.id}/change/", user_form(user, **changes))


# --- accounts: region, agency, privileges ------------------------------------


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"region": OUTSIDE_KAB}, "region"),  # another province's kabupaten
        ({"region": ""}, "region"),  # empty means the whole deployment
        ({"region": "99"}, "region"),  # no such region
    ],
    ids=["outside", "unscoped", "missing"],
)
def test_a_scoped_admin_cannot_move_an_account_out_of_the_scope(client_of, world, changes,
                                                                 field):
    target = world["coordinator"]
    before = state(target)
    response = change_user(client_of("admin"), target, **changes)
    assert response.status_code == 200
    assert field in response.context["adminform"].form.errors
    assert state(target) == before


def test_a_scoped_admin_cannot_give_an_officer_an_agency_of_another_kabupaten(client_of, world):
    officer = world["officer"]
    before = state(officer)
    client = client_of("admin")
    tanggamus = Agency.objects.get(region_id=OUTSIDE_KAB, short_name="Dinsos")
    response = change_user(client, officer, agency=tanggamus.id)
    assert response.status_code == 200
    assert "agency" in response.context["adminform"].form.errors
    # In the administrator's scope but not above the officer's kabupaten.
    Agency.objects.create(region_id="19.71", level="kota", name="Dinas Sosial Kota",
                          short_name="Dinsos", sector="social")
    pangkalpinang = Agency.objects.get(region_id="19.71", short_name="Dinsos")
    response = change_user(client, officer, agency=pangkalpinang.id)
    assert response.status_code == 200
    assert "19.71" in str(response.context["adminform"].form.errors["agency"])
    assert state(officer) == before


def test_account_rules_of_user_create_hold_in_the_admin(client_of, world):
    leader = world["leader"]
    before = state(leader)
    client = client_of("admin")
    dinsos = Agency.objects.get(region_id=KAB, short_name="Dinsos")
    # A leader with an agency; a village operator scoped to a kabupaten.
    response = change_user(client, leader, region=KAB, agency=dinsos.id)
    assert "agency" in response.context["adminform"].form.errors
    response = change_user(client, leader, role=roles.VILLAGE_OPERATOR, region=KAB)
    assert "19.04.01.2001" in str(response.context["adminform"].form.errors["region"])
    assert state(leader) == before


def test_a_scoped_admin_cannot_grant_privileges(client_of, world):
    target = world["leader"]
    group = Group.objects.create(name="penuh")
    perm = Permission.objects.get(codename="change_user")
    before = state(target)
    response = change_user(client_of("admin"), target, is_superuser="on", is_staff="on",
                           groups=[group.id], user_permissions=[perm.id])
    assert response.status_code == 302  # the rest saved; the privilege fields are read-only
    assert state(target) == before


def test_an_unscoped_admin_may_grant_privileges_and_it_is_audited(world):
    root = unscoped_admin()
    target = world["leader"]
    group = Group.objects.create(name="penuh")
    response = change_user(client_for(root), target, role=roles.ADMINISTRATOR,
                           is_staff="on", is_superuser="on", groups=[group.id])
    assert response.status_code == 302
    target.refresh_from_db()
    assert target.is_superuser and list(target.groups.all()) == [group]
    related = AuditLog.objects.get(action="user.update_related.admin", object_id=str(target.id))
    assert related.after == {"groups": ["penuh"]} and related.actor == root


def test_only_an_administrator_can_be_made_superuser(world):
    target = world["leader"]
    before = state(target)
    response = change_user(client_for(unscoped_admin()), target, is_superuser="on")
    assert response.status_code == 200
    assert "is_superuser" in response.context["adminform"].form.errors
    assert state(target) == before


def test_a_scoped_admin_cannot_take_over_a_superuser_in_the_scope(client_of, world):
    boss = user_create(actor=None, username="boss", password=PASSWORD,
                       role=roles.ADMINISTRATOR, region_code=KAB, superuser=True)
    before = state(boss)
    client = client_of("admin")
    response = client.post(f"/admin/accounts/user/{boss.id}/password/", {
        "password1": NEW_PASSWORD, "password2": NEW_PASSWORD, "usable_password": "true"})
    assert response.status_code == 403
    assert change_user(client, boss, first_name="X").status_code == 403
    assert client.post(f"/admin/accounts/user/{boss.id}/delete/",
                       {"post": "yes"}).status_code == 403
    assert state(boss) == before


def test_a_scoped_admin_cannot_open_or_change_groups(client_of, world):
    client = client_of("admin")
    assert client.get("/admin/auth/group/").status_code == 403
    assert client.post("/admin/auth/group/add/", {"name": "penuh"}).status_code == 403
    assert not Group.objects.filter(name="penuh").exists()
    assert client_for(unscoped_admin()).get("/admin/auth/group/").status_code == 200


def test_a_scoped_admin_creates_accounts_inside_the_scope_only(client_of, world):
    client = client_of("admin")
    form = {"username": "baru", "usable_password": "true", "password1": NEW_PASSWORD,
            "password2": NEW_PASSWORD, "role": roles.ADMINISTRATOR, "region": "",
            "agency": "", "position": ""}
    for region in ("", OUTSIDE_KAB):
        response = client.post("/admin/accounts/user/add/", {**form, "region": region})
        assert response.status_code == 200
        assert "region" in response.context["adminform"].form.errors
    assert not User.objects.filter(username="baru").exists()
    response = client.post("/admin/accounts/user/add/", {**form, "region": KAB})
    assert response.status_code == 302
    created = User.objects.get(username="baru")
    # As with user_create: an administrator may use Django admin, no more.
    assert (created.region_id, created.is_staff, created.is_superuser) == (KAB, True, False)


def test_region_autocomplete_offers_only_current_regions_of_the_scope(world):
    kab_admin = user_create(actor=None, username="admin.bateng", password=PASSWORD,
                            role=roles.ADMINISTRATOR, region_code=KAB)
    client = client_for(kab_admin)
    response = client.get("/admin/autocomplete/", {
        "app_label": "accounts", "model_name": "user", "field_name": "region",
        "term": "Bangka"})
    assert response.status_code == 200
    found = [item["id"] for item in response.json()["results"]]
    assert KAB in found
    # The province above is visible by name, never offered as a scope.
    assert "19" not in found and "19.01" not in found
    assert all(code == KAB or code.startswith(KAB + ".") for code in found)
    agency_regions = client.get("/admin/autocomplete/", {
        "app_label": "agencies", "model_name": "agency", "field_name": "region",
        "term": ""}).json()["results"]
    assert [item["id"] for item in agency_regions] == [KAB]


def test_moving_an_account_is_audited_under_the_old_and_the_new_region(client_of, world):
    target = world["coordinator"]
    response = change_user(client_of("admin"), target, region="19.71")
    assert response.status_code == 302
    rows = AuditLog.objects.filter(action="user.update.admin", object_id=str(target.id))
    assert sorted(rows.values_list("region_code", flat=True)) == ["19.04", "19.71"]
    assert {(r.before["region_id"], r.after["region_id"]) for r in rows} == {("19.04", "19.71")}
    # The administrator of Bangka Tengah sees that the account left.
    kab_admin = user_create(actor=None, username="admin.bateng", password=PASSWORD,
                            role=roles.ADMINISTRATOR, region_code=KAB)
    page = client_for(kab_admin).get("/audit/?action=user.update.admin").content.decode()
    assert "19.71" in page


# --- agencies ----------------------------------------------------------------


@pytest.mark.parametrize("region", [OUTSIDE_KAB, "18", "19.04.01"],
                         ids=["other-kab", "other-province", "kecamatan"])
def test_a_scoped_admin_cannot_move_an_agency_out_of_the_scope(client_of, world, region):
    agency = Agency.objects.get(region_id=KAB, short_name="Disdik")
    response = client_of("admin").post(f"/admin/agencies/agency/{agency.id}/change/",
                                       agency_form(agency, region=region))
    assert response.status_code == 200
    assert "region" in response.context["adminform"].form.errors
    agency.refresh_from_db()
    assert agency.region_id == KAB


def test_an_agency_level_follows_its_region_in_the_admin(client_of, world):
    agency = Agency.objects.get(region_id=KAB, short_name="Disdik")
    response = client_of("admin").post(f"/admin/agencies/agency/{agency.id}/change/",
                                       agency_form(agency, region="19.71", level="province"))
    assert response.status_code == 302
    agency.refresh_from_db()
    assert (agency.region_id, agency.level) == ("19.71", "kota")


# --- API tokens --------------------------------------------------------------


def test_a_revoked_token_cannot_be_switched_back_on_in_the_admin(client_of, world):
    row, _token = api_token_create(actor=world["officer"], user=world["officer"], name="hp")
    api_token_revoke(actor=world["officer"], token=row)
    row.refresh_from_db()
    revoked_at = row.revoked_at
    client = client_of("admin")
    response = client.post(f"/admin/accounts/apitoken/{row.id}/change/", {
        "name": "hp", "revoked_at_0": "", "revoked_at_1": ""})
    assert response.status_code == 403
    row.refresh_from_db()
    assert row.revoked_at == revoked_at
    assert not AuditLog.objects.filter(action__startswith="api_token.update").exists()
    # Viewing still works, without the digest.
    view = client.get(f"/admin/accounts/apitoken/{row.id}/change/")
    assert view.status_code == 200 and row.digest not in view.content.decode()
    assert client.get("/admin/accounts/apitoken/add/").status_code == 403


def test_deleting_a_token_in_the_admin_is_audited(client_of, world):
    row, _token = api_token_create(actor=world["officer"], user=world["officer"], name="hp")
    response = client_of("admin").post(f"/admin/accounts/apitoken/{row.id}/delete/",
                                       {"post": "yes"})
    assert response.status_code == 302
    assert not ApiToken.objects.filter(pk=row.pk).exists()
    entry = AuditLog.objects.get(action="api_token.delete.admin", object_id=str(row.id))
    assert entry.actor == world["admin"] and entry.before["name"] == "hp"
    assert "digest" not in entry.before and entry.region_code == KAB


def test_the_admin_revokes_tokens_through_the_audited_service(client_of, world):
    row, _token = api_token_create(actor=world["officer"], user=world["officer"], name="hp")
    outside, _t = api_token_create(actor=world["outsider"], user=world["outsider"], name="x")
    response = client_of("admin").post("/admin/accounts/apitoken/", {
        "action": "revoke", "_selected_action": [row.id, outside.id]})
    assert response.status_code == 302
    row.refresh_from_db()
    outside.refresh_from_db()
    assert row.revoked_at is not None
    assert outside.revoked_at is None  # not in the administrator's scope
    entry = AuditLog.objects.get(action="api_token.revoke", object_id=str(row.id))
    assert entry.actor == world["admin"] and entry.region_code == KAB


# --- the password form and deletes -------------------------------------------


def test_setting_a_password_in_the_admin_is_audited_without_the_hash(client_of, world):
    target = world["leader"]
    response = client_of("admin").post(f"/admin/accounts/user/{target.id}/password/", {
        "password1": NEW_PASSWORD, "password2": NEW_PASSWORD, "usable_password": "true"})
    assert response.status_code == 302
    target.refresh_from_db()
    assert target.check_password(NEW_PASSWORD)
    entry = AuditLog.objects.get(action="user.set_password.admin", object_id=str(target.id))
    assert entry.actor == world["admin"] and entry.region_code == "19"
    assert target.password not in str(entry.before) + str(entry.after)


def test_deleting_an_account_records_the_tokens_that_go_with_it(client_of, world):
    target = world["leader"]
    target.role = roles.OFFICER  # give it a role that holds tokens
    target.agency = Agency.objects.get(region_id="19", short_name="Dinsos")
    target.save()
    row, _token = api_token_create(actor=target, user=target, name="hp")
    response = client_of("admin").post(f"/admin/accounts/user/{target.id}/delete/",
                                       {"post": "yes"})
    assert response.status_code == 302
    assert not ApiToken.objects.filter(pk=row.pk).exists()
    entry = AuditLog.objects.get(action="api_token.delete.admin", object_id=str(row.id))
    assert entry.before["prefix"] == row.prefix and "digest" not in entry.before
    assert entry.region_code == "19"


# --- the audit log and the region list in the admin --------------------------


def test_the_audit_log_is_not_in_the_admin(client_of, world):
    assert client_of("admin").get("/admin/core/auditlog/").status_code == 404


def test_the_region_admin_list_pages_without_counting(world):
    client = client_for(unscoped_admin())
    with CaptureQueriesContext(connection) as queries:
        first = client.get("/admin/regions/region/")
    assert first.status_code == 200
    counts = [q["sql"] for q in queries
              if "COUNT(" in q["sql"].upper() and "regions_region" in q["sql"]]
    assert not counts, counts
    expected = list(Region.objects.order_by("code").values_list("code", flat=True)[:200])
    listed = first.context["cl"].result_list
    assert [r.code for r in listed] == expected[:100]
    second = client.get("/admin/regions/region/?p=2")
    assert [r.code for r in second.context["cl"].result_list] == expected[100:200]


def test_the_admin_forms_open_for_a_scoped_administrator(client_of, world):
    client = client_of("admin")
    agency = Agency.objects.get(region_id=KAB, short_name="Disdik")
    for url in (f"/admin/accounts/user/{world['officer'].id}/change/",
                "/admin/accounts/user/add/",
                f"/admin/accounts/user/{world['officer'].id}/password/",
                f"/admin/agencies/agency/{agency.id}/change/",
                "/admin/agencies/agency/add/",
                "/admin/regions/region/?q=koba"):
        assert client.get(url).status_code == 200, url
    html = client.get(f"/admin/accounts/user/{world['officer'].id}/change/").content.decode()
    assert 'name="is_superuser"' not in html and 'name="groups"' not in html
    assert 'name="region"' in html
