"""Coverage recomputation touches the smallest subtrees that hold the
changes: an enrollment in one village recomputes its kecamatan and the sums
above it, not the province."""

import datetime

from django.utils import timezone

from sinergi.convergence import selectors
from sinergi.convergence import services as convergence_services
from sinergi.convergence.models import CoverageCell, RefreshRequest
from sinergi.convergence.services import refresh_roots
from sinergi.programs import services as program_services
from sinergi.regions.models import Region

from .conftest import KAB
from .test_programs import YEAR, family, program, village


def test_refresh_roots_merge_parts_into_the_region_above():
    assert refresh_roots({"19.04.01.1001"}) == ["19.04.01"]
    assert refresh_roots({"19.04.01.1001", "19.04.01.1002", "19.04.02.2001"}) == [
        "19.04.01", "19.04.02"]
    assert refresh_roots({"19.04.01.1001", "19.04.02.2001", "19.04.03.2001"}) == ["19.04"]
    assert refresh_roots({"19.04", "19.04.01.1001", "19.01.01.1001"}) == ["19.01.01", "19.04"]
    assert refresh_roots({"19.01.01.1001", "19.04.01.1001", "19.71.01.1004"}) == ["19"]
    assert refresh_roots({"19", "19.04.01.1001"}) == ["19"]
    assert refresh_roots({"19.04.01.1001"}, counted=False) == ["19"]


def test_an_enrollment_recomputes_its_kecamatan_and_the_sums_above(world):
    pkh = program(world)
    hh = family(village(world), 40, 1)
    elsewhere = Region.objects.filter(code__startswith=KAB + ".", level=4).exclude(
        code__startswith=hh.village_code[:8]).order_by("code").first().code
    other = family(elsewhere, 41, 2)
    selectors.refresh(region="19", year=YEAR)
    stamp = timezone.now() - datetime.timedelta(days=1)
    CoverageCell.objects.filter(year=YEAR).update(computed_at=stamp)
    RefreshRequest.objects.all().delete()
    program_services.enrollment_create(actor=world["coordinator"], program=pkh, year=YEAR,
                                       beneficiary=hh)
    program_services.enrollment_transition(
        actor=world["coordinator"], enrollment=pkh.enrollments.get(), status="verified")
    program_services.enrollment_transition(
        actor=world["coordinator"], enrollment=pkh.enrollments.get(), status="active")
    assert convergence_services.refresh_pending() == 1
    cells = CoverageCell.objects.filter(year=YEAR)
    assert cells.filter(region_code__startswith=hh.village_code[:8] + ".",
                        computed_at__gt=stamp).exists()
    assert not cells.filter(region_code__startswith=other.village_code[:8] + ".",
                            computed_at__gt=stamp).exists()
    for region in (KAB, "19"):
        rolled = selectors.coverage(region=region, year=YEAR, today=timezone.localdate())
        live = selectors.coverage(region=region, year=YEAR, today=timezone.localdate(),
                                  live=True)
        assert rolled["source"] == "rollup" and rolled["all"] == live["all"]
        assert rolled["all"]["total"]["served"] == 1
