"""Shared test world: a slice of the real hierarchy, agencies and personas.

The slice is Kepulauan Bangka Belitung (19), Lampung (18) and Nusa
Tenggara Barat (52, home of OpenSID's sample village) from the shipped
Kepmendagri file. Personas cover every role and scope, plus an
outsider (a coordinator of Tanggamus, 18.06) who must see nothing of 19.
"""

import gzip
import io
from pathlib import Path

import pytest
from django.test import Client
from django.utils import translation

from sinergi.accounts import roles
from sinergi.accounts.models import User
from sinergi.agencies.models import Agency
from sinergi.agencies.services import agency_seed_defaults
from sinergi.regions.models import Region
from sinergi.regions.services import DEFAULT_FILE, regions_load

PASSWORD = "uji-Sinergi-2026!"
KAB = "19.04"  # Bangka Tengah
OUTSIDE_KAB = "18.06"  # Tanggamus

PERSONAS = ["anonymous", "admin", "coordinator", "officer", "operator", "leader", "outsider"]


def expect(anonymous, admin, coordinator, officer, operator, leader, outsider) -> dict:
    """Expected HTTP status per persona, in PERSONAS order (access rules)."""
    return dict(zip(PERSONAS, (anonymous, admin, coordinator, officer, operator, leader,
                               outsider), strict=True))


def region_slice_file(tmp_dir: Path, prefixes=("18", "19", "52")) -> Path:
    """The shipped edition cut down to some provinces, as a code,name CSV."""
    out = tmp_dir / "regions-slice.csv"
    with gzip.open(DEFAULT_FILE, "rt", encoding="utf-8") as src, open(out, "w") as dst:
        for i, line in enumerate(src):
            if i == 0 or line.split(",", 1)[0].split(".")[0] in prefixes:
                dst.write(line)
    return out


def seed_world(tmp_dir: Path) -> None:
    """Regions, agencies and persona accounts; idempotent."""
    if not Region.objects.filter(code=KAB).exists():
        regions_load(actor=None, path=region_slice_file(tmp_dir), edition="test slice")
    for code in ("19", KAB, "18", OUTSIDE_KAB):
        agency_seed_defaults(actor=None, region_code=code)
    village = Region.objects.filter(code__startswith=KAB + ".", level=4).order_by("code").first()
    dp3a = Agency.objects.get(region_id=KAB, short_name="DP3ACSKB")
    spec = {
        "admin": (roles.ADMINISTRATOR, "19", None),
        "coordinator": (roles.COORDINATOR, KAB, None),
        "officer": (roles.OFFICER, KAB, dp3a),
        "operator": (roles.VILLAGE_OPERATOR, village.code, None),
        "leader": (roles.LEADER, "19", None),
        "outsider": (roles.COORDINATOR, OUTSIDE_KAB, None),
    }
    for name, (role, region, agency) in spec.items():
        if User.objects.filter(username=name).exists():
            continue
        user = User(username=name, role=role, region_id=region, agency=agency,
                    is_staff=role == roles.ADMINISTRATOR, first_name=name.title())
        user.set_password(PASSWORD)
        user.save()


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker, tmp_path_factory):
    with django_db_blocker.unblock():
        seed_world(tmp_path_factory.mktemp("world"))


@pytest.fixture
def world(db, tmp_path):
    """The seeded world, re-seeded if a transactional test flushed it."""
    seed_world(tmp_path)
    return {name: User.objects.get(username=name) for name in PERSONAS if name != "anonymous"}


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    """Uploads go to a temporary folder (jobs wait in the queue until a test
    runs them: no worker runs beside the tests)."""
    settings.MEDIA_ROOT = str(tmp_path / "media")
    # Live progress counts follow each test's data at once (the cache is
    # tested on its own in tests/test_meetings.py).
    settings.PROGRESS_CACHE_SECONDS = 0


@pytest.fixture(autouse=True)
def fresh_region_names():
    """Region names kept per process (regions.selectors) start afresh in
    each test: tests make and rename regions without loading an edition."""
    from sinergi.regions import selectors

    selectors.forget_names()


@pytest.fixture(autouse=True)
def english():
    """Tests read messages in English (the msgids); tests/test_i18n.py checks
    that Bahasa Indonesia, the default, is complete and served."""
    with translation.override("en"):
        yield


@pytest.fixture
def user_of(world):
    return lambda persona: world.get(persona)


@pytest.fixture
def client_of(world):
    """A logged-in test client per persona ("anonymous" is not logged in)."""

    def make(persona: str) -> Client:
        client = Client(HTTP_ACCEPT_LANGUAGE="en")
        if persona != "anonymous":
            client.force_login(world[persona])
        return client

    return make


def csv_bytes(rows: list[str]) -> io.BytesIO:
    return io.BytesIO("\n".join(rows).encode())


def agency(short: str, region: str = KAB) -> Agency:
    """A seeded agency by its short name (of the kabupaten unless told)."""
    return Agency.objects.get(region_id=region, short_name=short)


@pytest.fixture
def meeting(world):
    """A rakor of the kabupaten, recorded by its coordinator."""
    from sinergi.meetings import services

    return services.meeting_create(actor=world["coordinator"], kind="rakor",
                                   title="Rakor Bangka Tengah", starts_on="2026-02-10",
                                   region=KAB)


def api_pages(client, url: str, key: str = "id") -> tuple[list, list[int]]:
    """Walk a keyset-paginated API list from its first page, passing
    ``next_cursor`` back until it is null: the ``key`` of every item in
    order, and the size of each page."""
    seen, sizes, cursor = [], [], None
    while True:
        joiner = "&" if "?" in url else "?"
        body = client.get(url + (f"{joiner}cursor={cursor}" if cursor else "")).json()
        seen += [item[key] for item in body["items"]]
        sizes.append(len(body["items"]))
        cursor = body["next_cursor"]
        if not cursor:
            return seen, sizes
