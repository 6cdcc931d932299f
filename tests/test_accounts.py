"""Sign-in, throttling, password change, account creation rules."""

import pytest
from django.db import IntegrityError, transaction
from django.test import Client, override_settings

from sinergi.accounts import roles
from sinergi.accounts.models import User
from sinergi.accounts.services import user_create
from sinergi.agencies.models import Agency
from sinergi.core.errors import SinergiError
from sinergi.core.models import AuditLog

from .conftest import KAB, PASSWORD


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
        ({"password": "short"}, "password"),
    ],
)
def test_account_creation_says_which_field_is_wrong(world, kwargs, field):
    args = {"actor": None, "username": "baru", "password": "Cukup-Panjang-2026",
            "role": roles.COORDINATOR, "region_code": KAB, **kwargs}
    with pytest.raises(SinergiError) as info:
        user_create(**args)
    assert info.value.field == field
    assert not User.objects.filter(username="baru").exists()


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
