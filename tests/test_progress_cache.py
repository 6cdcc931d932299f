"""Live progress counts are made at most once per PROGRESS_CACHE_SECONDS per
process: a board viewed by every desk of a rakor counts the registry once."""

from decimal import Decimal

from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from sinergi.meetings import progress, services

from .conftest import agency
from .test_meetings import add_person, village_of


def test_a_live_count_is_reused_until_it_expires(world, meeting, settings):  # noqa: F811
    settings.PROGRESS_CACHE_SECONDS = 60
    cache.clear()
    village = village_of(world)
    add_person(village, 1)
    c = services.commitment_create(actor=None, meeting=meeting,
        text="x", owner_agency=agency("Dinsos").pk, region=village, target="10",
        source="registry.persons")
    assert progress.progress_of([c])[c.pk].value == Decimal(1)
    add_person(village, 2)
    with CaptureQueriesContext(connection) as queries:
        assert progress.progress_of([c])[c.pk].value == Decimal(1)  # from the cache
    assert not [q for q in queries if "registry_person" in q["sql"]]
    cache.clear()  # as when the 60 seconds have passed
    assert progress.progress_of([c])[c.pk].value == Decimal(2)
    settings.PROGRESS_CACHE_SECONDS = 0
    add_person(village, 3)
    assert progress.progress_of([c])[c.pk].value == Decimal(3)
