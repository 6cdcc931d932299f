"""Sign-in, throttling, password change, account creation rules."""

import pytest
from django.db import IntegrityError, transaction
from django.test import Client, override_settings

from sinergi.accounts import roles
from sinergi.accounts.models import User
from sinergi.accounts.services import user_create
from sinergi.agencies.models import Agency
from sinergi.agencies.services import agency_seed_defaults
from sinergi.core.errors import AccessDenied, NotInScope, SinergiError
from sinergi.core.models import AuditLog

from .conftest import KAB, OUTSIDE_KAB, PASSWORD


def test_passwords_are_hashed_with_argon2(world):
    assert world["coordinator"].password.startswith("argon2")


def test_sign_in_with_the_right_password_reaches_the_home_page(world):
    client = Client()
    response = client.post("/accounts/login/", {"username": "leader", "password": PASSWORD})
    assert response.status_code == 302 and response["Location"] == "/"
    assert "Leader" in client.get("/").content.decode()


@override_settings(LOGIN_FAILURE_LIMIT=3)
def test_repeated_failures_lock_the_username_even_with_the_right_password(world):
    client = Client()
    for _ in range(3):
        response = client.post("/accounts/login/", {"username": "leader", "password": "wrong"})
        assert response.status_code == 200
    locked = client.post("/accounts/login/", {"username": "leader", "password": PASSWORD})
    assert locked.status_code == 429
    assert "_auth_user_id" not in client.session
    # Another user from another address is not affected.
    other = Client(REMOTE_ADDR="10.9.9.9")
    assert other.post("/accounts/login/",
                      {"username": "coordinator", "password": PASSWORD}).status_code == 302


@override_settings(LOGIN_FAILURE_LIMIT=3)
def test_wrong_passwords_at_the_admin_login_lock_the_account(world):
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    for _ in range(3):
        response = client.post("/admin/login/?next=/admin/",
                               {"username": "admin", "password": "wrong"})
        assert response.status_code == 200
    locked = client.post("/admin/login/?next=/admin/",
                         {"username": "admin", "password": PASSWORD})
    assert "_auth_user_id" not in client.session
    assert "Too many failed sign-ins" in locked.content.decode()
    # The lock is the account's, whichever door is used next.
    assert Client().post("/accounts/login/",
                         {"username": "admin", "password": PASSWORD}).status_code == 429


@override_settings(LOGIN_FAILURE_LIMIT=3)
def test_spelling_variants_of_a_username_share_one_counter(world):
    client = Client()
    for variant in ("LEADER", "\uff4c\uff45\uff41\uff44\uff45\uff52", " Leader\t"):
        assert client.post("/accounts/login/",
                           {"username": variant, "password": "wrong"}).status_code == 200
    locked = client.post("/accounts/login/", {"username": "leader", "password": PASSWORD})
    assert locked.status_code == 429
    assert "_auth_user_id" not in client.session


@override_settings(LOGIN_FAILURE_LIMIT=1, TRUSTED_PROXIES=["10.0.0.1"])
def test_behind_a_trusted_proxy_each_client_address_is_counted_apart(world):
    """Four failures lock an address (limit 1 x 4); the proxy's own address is not it."""
    via_proxy = {"REMOTE_ADDR": "10.0.0.1"}
    for n in range(4):
        Client(**via_proxy, HTTP_X_FORWARDED_FOR="203.0.113.5").post(
            "/accounts/login/", {"username": f"nobody{n}", "password": "wrong"})
    blocked = Client(**via_proxy, HTTP_X_FORWARDED_FOR="203.0.113.5").post(
        "/accounts/login/", {"username": "leader", "password": PASSWORD})
    assert blocked.status_code == 429
    # Another client behind the same proxy signs in; an address the client
    # wrote itself (left of what the proxy appended) changes nothing.
    other = Client(**via_proxy, HTTP_X_FORWARDED_FOR="203.0.113.5, 198.51.100.7")
    assert other.post("/accounts/login/",
                      {"username": "coordinator", "password": PASSWORD}).status_code == 302
    spoofed = Client(**via_proxy, HTTP_X_FORWARDED_FOR="198.51.100.7, 203.0.113.5")
    assert spoofed.post("/accounts/login/",
                        {"username": "coordinator", "password": PASSWORD}).status_code == 429


@override_settings(LOGIN_FAILURE_LIMIT=1, TRUSTED_PROXIES=["10.0.0.1"])
def test_forwarded_for_from_an_untrusted_address_is_ignored(world):
    direct = {"REMOTE_ADDR": "192.0.2.9"}
    for n in range(4):
        Client(**direct, HTTP_X_FORWARDED_FOR=f"198.51.100.{n}").post(
            "/accounts/login/", {"username": f"nobody{n}", "password": "wrong"})
    again = Client(**direct, HTTP_X_FORWARDED_FOR="198.51.100.99")
    assert again.post("/accounts/login/",
                      {"username": "leader", "password": PASSWORD}).status_code == 429


@pytest.mark.parametrize(
    ("remote", "forwarded", "client"),
    [
        ("10.0.0.1", "203.0.113.5, 10.2.0.7", "203.0.113.5"),  # two proxies in a row
        ("10.0.0.1", "6.6.6.6, 203.0.113.5", "203.0.113.5"),  # left part written by client
        ("10.0.0.1", "", "10.0.0.1"),  # a proxy that added nothing
        ("10.0.0.1", "not-an-address", "10.0.0.1"),
        ("192.0.2.9", "203.0.113.5", "192.0.2.9"),  # not a proxy: header ignored
    ],
)
def test_the_client_address_is_read_through_trusted_proxies_only(remote, forwarded, client):
    from django.test import RequestFactory

    from sinergi.accounts.throttle import client_ip

    request = RequestFactory().post("/accounts/login/", REMOTE_ADDR=remote,
                                    HTTP_X_FORWARDED_FOR=forwarded)
    with override_settings(TRUSTED_PROXIES=["10.0.0.0/8"]):
        assert client_ip(request) == client


def test_a_successful_sign_in_clears_earlier_failures(world):
    client = Client()
    for _ in range(2):
        client.post("/accounts/login/", {"username": "leader", "password": "wrong"})
    client.post("/accounts/login/", {"username": "leader", "password": PASSWORD})
    from sinergi.accounts.models import LoginFailure

    assert not LoginFailure.objects.filter(username="leader").exists()


def test_password_change_is_audited_without_the_hash(client_of, world):
    client = client_of("officer")
    response = client.post("/accounts/password/", {
        "old_password": PASSWORD,
        "new_password1": "Bangka-Tengah-2027",
        "new_password2": "Bangka-Tengah-2027",
    })
    assert response.status_code == 302
    entry = AuditLog.objects.get(action="user.change_password")
    assert entry.actor == world["officer"] and entry.after is None
    world["officer"].refresh_from_db()
    assert world["officer"].check_password("Bangka-Tengah-2027")


def test_password_change_rejects_a_weak_password_with_a_reason(client_of):
    response = client_of("officer").post("/accounts/password/", {
        "old_password": PASSWORD, "new_password1": "12345678", "new_password2": "12345678"})
    assert response.status_code == 200
    assert response.context["form"].errors["new_password2"]


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"role": "king"}, "role"),
        ({"region_code": None}, "region"),
        ({"region_code": "19.4"}, "region"),
        ({"region_code": "19.99"}, "region"),
        ({"role": roles.VILLAGE_OPERATOR, "region_code": KAB}, "region"),
        ({"role": roles.OFFICER}, "agency"),
        ({"username": "admin"}, "username"),
        ({"username": "ADMIN "}, "username"),
        ({"username": "budi santoso"}, "username"),
        ({"username": "budi/santoso"}, "username"),
        ({"username": "   "}, "username"),
        ({"username": "x" * 151}, "username"),
        ({"password": "short"}, "password"),
        ({"role": roles.LEADER, "agency_id": "own-kab"}, "agency"),
        ({"role": roles.VILLAGE_OPERATOR, "region_code": "first-village",
          "agency_id": "own-kab"}, "agency"),
        ({"role": roles.OFFICER, "agency_id": "other-kab"}, "agency"),
        ({"role": roles.OFFICER, "agency_id": "sibling-kab"}, "agency"),
        ({"role": roles.OFFICER, "agency_id": 999999}, "agency"),
        ({"superuser": True}, "superuser"),
        ({"role": roles.LEADER, "superuser": True}, "superuser"),
    ],
)
def test_account_creation_says_which_field_is_wrong(world, kwargs, field):
    agencies = {
        "own-kab": lambda: Agency.objects.get(region_id=KAB, short_name="DPPKB").id,
        "other-kab": lambda: Agency.objects.get(region_id=OUTSIDE_KAB, short_name="DPPKB").id,
        # Pangkalpinang's government is in Bangka Belitung but not above Bangka Tengah.
        "sibling-kab": lambda: agency_seed_defaults(actor=None, region_code="19.71")[0].id
        if not Agency.objects.filter(region_id="19.71").exists()
        else Agency.objects.filter(region_id="19.71").first().id,
    }
    if kwargs.get("agency_id") in agencies:
        kwargs = {**kwargs, "agency_id": agencies[kwargs["agency_id"]]()}
    if kwargs.get("region_code") == "first-village":
        kwargs = {**kwargs, "region_code": world["operator"].region_id}
    users = User.objects.count()
    args = {"actor": None, "username": "baru", "password": "Cukup-Panjang-2026",
            "role": roles.COORDINATOR, "region_code": KAB, **kwargs}
    with pytest.raises(SinergiError) as info:
        user_create(**args)
    assert info.value.field == field
    assert User.objects.count() == users


def test_account_creation_strips_the_username(world):
    user = user_create(actor=None, username="  budi.santoso\t", password="Cukup-Panjang-2026",
                       role=roles.LEADER, region_code=KAB)
    assert user.username == "budi.santoso"


def test_a_bad_username_message_says_which_characters_are_allowed(world):
    with pytest.raises(SinergiError) as info:
        user_create(actor=None, username="budi santoso", password="Cukup-Panjang-2026",
                    role=roles.LEADER, region_code=KAB)
    assert "@ . + - _" in info.value.message and "budi.santoso" in info.value.message


def test_scope_and_agency_messages_say_what_to_pass(world):
    args = {"actor": None, "username": "baru", "password": "Cukup-Panjang-2026"}
    with pytest.raises(SinergiError) as info:
        user_create(**args, role=roles.VILLAGE_OPERATOR, region_code=KAB)
    assert "e.g. 19.04.01.2001" in info.value.message
    with pytest.raises(SinergiError) as info:
        user_create(**args, role=roles.OFFICER, region_code=KAB)
    assert "--agency <id>" in info.value.message
    other = Agency.objects.get(region_id=OUTSIDE_KAB, short_name="DPPKB")
    with pytest.raises(SinergiError) as info:
        user_create(**args, role=roles.OFFICER, region_code=KAB, agency_id=other.id)
    assert OUTSIDE_KAB in info.value.message and KAB in info.value.message


def test_an_officer_may_work_for_the_province_above_the_scope(world):
    provincial = Agency.objects.get(region_id="19", short_name="Dinsos")
    user = user_create(actor=None, username="dinsos.prov", password="Cukup-Panjang-2026",
                       role=roles.OFFICER, region_code=KAB, agency_id=provincial.id)
    assert user.agency == provincial


def test_a_user_as_actor_needs_user_manage_and_creates_inside_the_scope_only(world):
    args = {"username": "baru", "password": "Cukup-Panjang-2026", "role": roles.LEADER}
    with pytest.raises(AccessDenied):
        user_create(actor=world["coordinator"], region_code=KAB, **args)
    # The Bangka Belitung administrator: Tanggamus is not theirs (404, existing
    # or not), and an unscoped account is not theirs to make.
    for code in (OUTSIDE_KAB, "18.69"):
        with pytest.raises(NotInScope):
            user_create(actor=world["admin"], region_code=code, **args)
    with pytest.raises(SinergiError) as info:
        user_create(actor=world["admin"], region_code=None,
                    **{**args, "role": roles.ADMINISTRATOR})
    assert info.value.field == "region"
    assert not User.objects.filter(username="baru").exists()
    user = user_create(actor=world["admin"], region_code=KAB, **args)
    assert user.region_id == KAB


def test_a_username_taken_at_the_same_moment_gets_an_actionable_message(world, monkeypatch):
    """Another writer takes the name between the check and the insert (a race)."""
    from sinergi.accounts import services

    monkeypatch.setattr(services, "_username_taken", lambda username: False)
    with pytest.raises(SinergiError) as info:
        user_create(actor=None, username="leader", password="Cukup-Panjang-2026",
                    role=roles.LEADER, region_code=KAB)
    assert info.value.field == "username"
    assert "another username" in info.value.message
    assert "UNIQUE" not in info.value.message and "duplicate key" not in info.value.message


def test_account_creation_records_the_scope_and_is_audited(world):
    agency = Agency.objects.get(region_id=KAB, short_name="DPPKB")
    user = user_create(actor=world["admin"], username="plkb", password="Cukup-Panjang-2026",
                       role=roles.OFFICER, region_code=KAB, agency_id=agency.id)
    assert (user.region_id, user.agency_id, user.is_staff) == (KAB, agency.id, False)
    entry = AuditLog.objects.get(action="user.create", object_id=str(user.id))
    assert "password" not in entry.after and entry.after["role"] == roles.OFFICER


def test_the_database_refuses_an_unscoped_officer(world):
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.create(username="x", role=roles.OFFICER, region_id=KAB, agency=None)
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.create(username="y", role=roles.COORDINATOR, region=None)


@override_settings(LOGIN_FAILURE_LIMIT=2)
def test_the_async_sign_in_path_is_throttled_too(world):
    from asgiref.sync import async_to_sync
    from django.contrib.auth import aauthenticate

    for _ in range(2):
        assert async_to_sync(aauthenticate)(None, username="leader", password="wrong") is None
    assert async_to_sync(aauthenticate)(None, username="leader", password=PASSWORD) is None


NEW_PASSWORD = "Bangka-Tengah-2027"


def _change_own_password(client, old: str, new: str = NEW_PASSWORD):
    return client.post("/accounts/password/", {
        "old_password": old, "new_password1": new, "new_password2": new})


@override_settings(LOGIN_FAILURE_LIMIT=3)
def test_wrong_current_passwords_on_the_password_form_are_throttled_like_sign_in(
        client_of, world):
    client = client_of("officer")
    for _ in range(3):
        response = _change_own_password(client, "tebakan")
        assert response.status_code == 200
        assert response.context["form"].errors["old_password"] == [
            "Your current password was entered wrongly; type it again."]
    locked = _change_own_password(client, PASSWORD)
    assert locked.status_code == 429
    assert "Too many failed sign-ins" in locked.context["form"].errors["old_password"][0]
    world["officer"].refresh_from_db()
    assert world["officer"].check_password(PASSWORD)
    assert not AuditLog.objects.filter(action="user.change_password").exists()
    # One counter for the account, whichever door the guesses came through.
    assert Client().post("/accounts/login/",
                         {"username": "officer", "password": PASSWORD}).status_code == 429


def test_a_right_current_password_clears_the_failures_like_a_sign_in(client_of, world):
    from sinergi.accounts.models import LoginFailure

    client = client_of("officer")
    _change_own_password(client, "tebakan")
    assert LoginFailure.objects.filter(username="officer").count() == 1
    assert _change_own_password(client, PASSWORD).status_code == 302
    assert not LoginFailure.objects.filter(username="officer").exists()


def _token_works(token: str) -> bool:
    return Client().get(f"/api/v1/regions/{KAB}",
                        HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 200


def test_changing_the_own_password_revokes_the_api_tokens_and_says_so(client_of, world):
    from sinergi.accounts.models import ApiToken
    from sinergi.accounts.services import api_token_create, api_token_revoke

    officer = world["officer"]
    rows = [api_token_create(actor=officer, user=officer, name=n) for n in ("hp", "skrip")]
    api_token_revoke(actor=officer, token=rows[0][0])  # already revoked: not counted again
    _other, others_token = api_token_create(actor=world["operator"], user=world["operator"],
                                            name="desa")
    assert _token_works(rows[1][1])
    client = client_of("officer")
    form = client.get("/accounts/password/").content.decode()
    assert "Changing your password also revokes your API tokens" in form
    response = _change_own_password(client, PASSWORD)
    assert response.status_code == 302
    page = client.get(response["Location"]).content.decode()
    assert "Your password has been changed." in page
    assert "1 API token made before the change was revoked" in page
    assert not _token_works(rows[1][1])
    assert _token_works(others_token)  # another person's token is not touched
    assert not ApiToken.objects.filter(user=officer, revoked_at__isnull=True).exists()
    entry = AuditLog.objects.get(action="api_token.revoke", object_id=str(rows[1][0].pk))
    assert entry.actor == officer and entry.after["reason"] == "password_change"
    # This session stays signed in with the new password.
    assert client.get("/accounts/password/").status_code == 200


def test_an_administrator_setting_a_password_revokes_the_tokens(client_of, world):
    from sinergi.accounts.services import api_token_create

    officer = world["officer"]
    _row, token = api_token_create(actor=officer, user=officer, name="skrip")
    response = client_of("admin").post(
        f"/admin/accounts/user/{officer.id}/password/",
        {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD, "usable_password": "true"},
        follow=True)
    assert response.status_code == 200
    assert "1 API token of this account was revoked" in response.content.decode()
    assert not _token_works(token)
    entry = AuditLog.objects.get(action="api_token.revoke", object_id=str(_row.pk))
    assert entry.actor == world["admin"] and entry.after["reason"] == "password_change"


def test_every_service_that_sets_a_password_revokes_the_tokens(world):
    from sinergi.accounts.services import api_token_create, user_set_password

    officer = world["officer"]
    tokens = [api_token_create(actor=None, user=officer, name=n)[1] for n in ("a", "b")]
    assert user_set_password(actor=None, user=officer, password=NEW_PASSWORD) == 2
    assert not any(_token_works(t) for t in tokens)
    assert AuditLog.objects.filter(action="api_token.revoke").count() == 2
    assert user_set_password(actor=None, user=officer, password=PASSWORD + "x") == 0
